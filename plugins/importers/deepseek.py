"""Hugging Face importers for DeepSeek-V2 and V3: multi-head latent attention (MLA), dense layers first,
then routed and shared experts (field defaults: transformers 5.24's config classes)."""

from fractions import Fraction

from acct import Importer, hookimpl

from .common import DROPOUT, EPS, ROPE, alias, basic, norm, tied, top_k_within


def _deepseek(c, defaults, v3):
    d_model, num_heads = basic(c)
    num_layers = c.get("num_hidden_layers")
    tied(c, False)
    _mla(c, defaults)
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    dense = c.integer("first_k_dense_replace", defaults["first_k_dense_replace"], minimum=0)
    routed = alias(c, "n_routed_experts", "num_local_experts" if v3 else "num_experts")  # the attribute_map's
    # at least 1: with 0, transformers still builds every layer's MoE block (its gate and shared experts,
    # no routed ones), which no dense variant counts
    experts = c.integer(routed, defaults["n_routed_experts"], minimum=1)
    moe_layers = max(0, num_layers - dense) if experts else 0
    c.set("d_ff", c.integer("intermediate_size", defaults["intermediate_size"]),
          "intermediate_size (the dense layers' MLP)")
    if not moe_layers:
        c.choose("ffn", "swiglu", "no routed experts: gated MLP in every layer")
        # unread by any layer here, but transformers' strict config still refuses a value of the wrong type
        for name in ("num_experts_per_tok", "moe_intermediate_size", "n_shared_experts"):
            if c.get(name, None) is not None:
                c.integer(name, minimum=0)
        return
    c.choose("ffn", "moe", "n_routed_experts: routed experts in every layer from first_k_dense_replace on")
    c.set("num_experts", experts, routed)
    if c.get("num_experts_per_tok", defaults["num_experts_per_tok"]) is None:  # V2's class default is null
        raise c.unsupported("num_experts_per_tok", None, "(absent or null: DeepseekV2Config's default) routes to "
                            "no number of experts; name it")
    c.set("experts_per_token", c.integer("num_experts_per_tok", defaults["num_experts_per_tok"]),
          "num_experts_per_tok")
    top_k_within(c)
    c.set("d_ff_expert", c.integer("moe_intermediate_size", defaults["moe_intermediate_size"]),
          "moe_intermediate_size")
    if moe_layers != num_layers:
        c.set("moe_layers", moe_layers, f"num_hidden_layers - first_k_dense_replace = {num_layers} - {dense}")
    # null means no shared experts (transformers builds them only when it is not None)
    shared = c.get("n_shared_experts", defaults["n_shared_experts"])
    shared = 0 if shared is None else c.integer("n_shared_experts", minimum=0)
    if shared:
        c.set("num_shared_experts", shared, "n_shared_experts: one gated MLP of n_shared_experts × "
              "moe_intermediate_size")
    if v3:
        # acct counts trainable parameters, as PyTorch's parameters() does: the correction bias is set by
        # a load-balancing rule, not by gradients, and transformers holds it as a buffer
        c.note("router: DeepseekV3TopkRouter.e_score_correction_bias (one value per routed expert per MoE "
               "layer) is a buffer, not a trainable parameter, so it is not counted; add it with "
               "biases = [\"router\"] to count the checkpoint's values")


def _mla(c, defaults):
    """Multi-head latent attention: the heads' widths, the low-rank key/value (and query) projections,
    RoPE on the rope part of each head, and the projections' biases."""
    nope = c.integer("qk_nope_head_dim", defaults["qk_nope_head_dim"])
    rope_dims = c.integer("qk_rope_head_dim", defaults["qk_rope_head_dim"])
    value = c.integer("v_head_dim", defaults["v_head_dim"])
    # qk_head_dim: what transformers 5 saves, always recomputed as nope + rope; another value says two things
    if c.get("qk_head_dim", None) not in (None, nope + rope_dims):
        raise c.bad("qk_head_dim", c.get("qk_head_dim"), f"qk_nope_head_dim + qk_rope_head_dim = {nope + rope_dims}, "
                    "which transformers computes it as")
    c.set("d_head", nope + rope_dims, "qk_nope_head_dim + qk_rope_head_dim")
    c.set("d_head_v", value, "v_head_dim")
    c.set("kv_lora_rank", c.integer("kv_lora_rank", defaults["kv_lora_rank"]), "kv_lora_rank")
    c.set("qk_rope_head_dim", rope_dims, "qk_rope_head_dim")
    q_rank = c.get("q_lora_rank", defaults["q_lora_rank"])
    if q_rank is None:
        c.choose("qkv", "mla", "q_lora_rank = null: q_proj straight from hidden_size")
    else:
        c.set("q_lora_rank", c.integer("q_lora_rank", defaults["q_lora_rank"]), "q_lora_rank")
        c.choose("qkv", "mla_lora", "q_lora_rank set: q_a_proj, q_a_layernorm, q_b_proj")
    c.choose("attention", "mla", "multi-head latent attention (kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj)")
    c.choose("position", "rope", "rotary on the qk_rope_head_dim part (no parameters)")
    c.set("rotary_fraction", Fraction(rope_dims, nope + rope_dims),
          "qk_rope_head_dim / (qk_nope_head_dim + qk_rope_head_dim): RoPE rotates the rope part of each head")
    if c.flag("attention_bias", False):
        rows = ("kv_a_proj", "out_proj") + (("q_a_proj",) if q_rank is not None else ())
        for row in rows:
            c.bias(row, "attention_bias = true (q_a_proj, kv_a_proj_with_mqa, o_proj)")


V2_DEFAULTS = dict(qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, kv_lora_rank=512, q_lora_rank=1536,
                   first_k_dense_replace=0, n_routed_experts=64, num_experts_per_tok=None, intermediate_size=11008,
                   moe_intermediate_size=1407, n_shared_experts=2)
V3_DEFAULTS = dict(V2_DEFAULTS, first_k_dense_replace=3, n_routed_experts=256, num_experts_per_tok=8,
                   intermediate_size=18432, moe_intermediate_size=2048, n_shared_experts=1)

MAPS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "max_position_embeddings",
        "tie_word_embeddings", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "kv_lora_rank", "q_lora_rank",
        "attention_bias", "hidden_act", "first_k_dense_replace", "n_routed_experts", "num_experts_per_tok",
        "intermediate_size", "moe_intermediate_size", "n_shared_experts", "qk_head_dim")
IGNORES = DROPOUT + ROPE + EPS + (
    # the rotary width is qk_rope_head_dim; rope_scaling and rope_parameters hold yarn's factors
    "pretraining_tp", "rope_parameters", "rope_scaling", "rope_interleave",
    # MLA's shapes read none of these: every head has its own query and the latent KV
    "num_key_value_heads", "head_dim",
    # routing: which experts, with what weights, never how many parameters
    "n_group", "topk_group", "topk_method", "routed_scaling_factor", "norm_topk_prob", "scoring_func",
    "output_router_logits", "aux_loss_alpha", "seq_aux", "ep_size",
    # fp8 block scales live in the checkpoint; acct's precision is its own choice
    "quantization_config",
)


def deepseek_v2(c):
    _deepseek(c, V2_DEFAULTS, v3=False)


def deepseek_v3(c):
    _deepseek(c, V3_DEFAULTS, v3=True)


IMPORTERS = (
    Importer("deepseek_v2", "DeepSeek-V2: MLA, dense layers then routed + shared experts", deepseek_v2,
             maps=MAPS + ("num_experts",), ignores=IGNORES,
             # moe_layer_freq is not read by transformers (every layer from first_k_dense_replace is MoE), but
             # DeepSeek's own code reads it: only 1 means the same in both
             fixed={"moe_layer_freq": 1, "mlp_bias": False}),
    Importer("deepseek_v3", "DeepSeek-V3 / R1: MLA, routed + shared experts (the router correction bias is a buffer)", deepseek_v3,
             maps=MAPS + ("num_local_experts",), ignores=IGNORES + (
                 # the multi-token-prediction module is not part of the causal LM (transformers builds it
                 # only for speculative decoding); acct counts the main model
                 "num_nextn_predict_layers", "num_mtp_layers"),
             fixed={"moe_layer_freq": 1}),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
