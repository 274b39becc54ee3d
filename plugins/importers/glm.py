"""Hugging Face importers for Zhipu's GLM-4 (glm), GLM-4-0414 (glm4) and GLM-4.5 (glm4_moe): glm, glm4, glm4_moe.
Field defaults: transformers 5.24's config classes."""

from fractions import Fraction

from acct import Importer, hookimpl

from .common import (LLAMA_IGNORES, LLAMA_MAPS, alias, biases, decoder, flag, full_attention, gated_ffn,
                     no_null_head_dim, norm, partial_rotary, top_k_within)


def glm(c, sandwich=False):
    fraction, source = partial_rotary(c, default=Fraction(1, 2))
    decoder(c, False, head_dim_default=128, kv_default=2, fraction=fraction, fraction_source=source,
            where="Glm4Attention" if sandwich else "GlmAttention")
    bias, source = flag(c, "attention_bias", True)
    if bias:
        biases(c, ("q_proj", "k_proj", "v_proj"), f"{source} (q, k, v projections; o_proj never)")
    if sandwich:
        norm(c, "rmsnorm", "RMSNorm (gain)", 4, "Glm4DecoderLayer: input, post-attention, post-self-attention and "
             "post-MLP norms")
    else:
        norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)  # fused gate_up_proj: the same count as two matrices
    full_attention(c)


def glm4(c):
    glm(c, sandwich=True)


def glm4_moe(c):
    no_null_head_dim(c, "Glm4MoeAttention")
    fraction, source = partial_rotary(c, default=Fraction(1, 2))
    num_layers, _ = decoder(c, False, kv_default=8, fraction=fraction, fraction_source=source)
    bias, source = flag(c, "attention_bias", False)
    if bias:
        biases(c, ("q_proj", "k_proj", "v_proj"), f"{source} (q, k, v projections; o_proj never)")
    if c.flag("use_qk_norm", False):
        c.choose("qk_norm", "head", "use_qk_norm = true: q_norm, k_norm RMSNorm over head_dim")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    defaults = {"intermediate_size": 10944, "moe_intermediate_size": 1408, "num_experts_per_tok": 8,
                "n_shared_experts": 1, "n_routed_experts": 128, "first_k_dense_replace": 1}  # Glm4MoeConfig's

    def read(name, field=None, minimum=1):
        field = field or name
        value = c.integer(field, defaults[name], minimum=minimum)
        return value, field if c.get(field, None) is not None else f"{field} (absent: the config class's default " \
            f"{defaults[name]})"

    dense, dense_source = read("first_k_dense_replace", minimum=0)
    c.set("d_ff", *read("intermediate_size"))
    moe_layers = max(0, num_layers - dense)
    full_attention(c)
    if not moe_layers:
        c.choose("ffn", "swiglu", f"{dense_source} = {dense}: a gated MLP in every layer")
        return
    routed = alias(c, "n_routed_experts", "num_local_experts")  # Glm4MoeConfig's attribute_map
    c.choose("ffn", "moe", "Glm4MoeMoE: routed and shared SwiGLU experts in every layer from first_k_dense_replace on")
    experts, experts_source = read("n_routed_experts", routed)
    c.set("num_experts", experts, experts_source)
    c.set("experts_per_token", *read("num_experts_per_tok"))
    top_k_within(c)
    c.set("d_ff_expert", *read("moe_intermediate_size"))
    if moe_layers != num_layers:
        c.set("moe_layers", moe_layers, f"num_hidden_layers - first_k_dense_replace = {num_layers} - {dense}")
    shared, shared_source = read("n_shared_experts", minimum=0)
    if shared:
        c.set("num_shared_experts", shared, f"{shared_source}: one gated MLP of n_shared_experts × "
              "moe_intermediate_size")
    c.note("router: Glm4MoeTopkRouter.e_score_correction_bias (one value per routed expert per MoE layer) is a "
           "buffer, not a trainable parameter, so it is not counted; add it with biases = [\"router\"] to count "
           "the checkpoint's values")


IMPORTERS = (
    Importer("glm", "GLM-4 (the -hf conversions): partial rotary, q/k/v biases, fused gate_up", glm,
             maps=LLAMA_MAPS + ("attention_bias",), ignores=LLAMA_IGNORES),
    Importer("glm4", "GLM-4-0414: glm with four norms per block", glm4,
             maps=LLAMA_MAPS + ("attention_bias",), ignores=LLAMA_IGNORES),
    Importer("glm4_moe", "GLM-4.5: dense layers first, then routed + shared experts; partial rotary", glm4_moe,
             maps=LLAMA_MAPS + ("attention_bias", "use_qk_norm", "moe_intermediate_size", "num_experts_per_tok",
                                "n_shared_experts", "n_routed_experts", "num_local_experts", "first_k_dense_replace"),
             ignores=LLAMA_IGNORES + ("routed_scaling_factor", "n_group", "topk_group", "norm_topk_prob",
                                      "output_router_logits", "router_aux_loss_coef",
                                      # the multi-token-prediction layers are not part of the causal LM (transformers
                                      # does not build them); acct counts the main model, as for DeepSeek-V3
                                      "num_nextn_predict_layers", "num_mtp_layers")),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
