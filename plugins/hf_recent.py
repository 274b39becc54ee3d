"""Hugging Face importers for recent Llama-shaped decoders (RMSNorm, RoPE, GQA): glm, glm4, helium, smollm3,
exaone4, ernie4_5, hunyuan_v1_dense, seed_oss, arcee, apertus, olmo3, and the mixtures of experts gpt_oss,
glm4_moe, ernie4_5_moe. Field defaults: transformers 5.24's config classes (an absent head_dim or
num_key_value_heads takes the class's default, which is not always hidden_size // num_attention_heads or one
per query head).
"""

from fractions import Fraction

from acct import Importer, hookimpl

from .hf_helpers import no_null_head_dim, null_head_dim_derived
from .hf_common import top_k_within
from .hf_common import (ATTENTION_ROWS, DROPOUT, alias, EPS, ROPE, ROPE_MAPS, basic, biases, gated_ffn, heads, layer_types,
                        norm, partial_rotary, rope, tied, windowed)

MAPS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
        "intermediate_size", "max_position_embeddings", "tie_word_embeddings", "hidden_act") + ROPE_MAPS
IGNORES = DROPOUT + ROPE + EPS + ("pretraining_tp",)


def _decoder(c, tie_default, head_dim_default=None, kv_default=None, fraction=None, fraction_source="", where=None):
    """vocab, layers, widths, heads, the head, rotary positions in every layer; returns (num_layers, d_head).
    `where`: the attention class that cannot use head_dim = null (None: null means the default)."""
    if where:
        no_null_head_dim(c, where)
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, head_dim_default=head_dim_default, kv_default=kv_default)
    tied(c, tie_default)
    rope(c, d_head, fraction, fraction_source) if fraction is not None else rope(c, d_head)
    return c.get("num_hidden_layers"), d_head


def _flag(c, name, default, nullable=False):
    value = c.flag(name, default, nullable)
    return value, f"{name} = {str(value).lower()}" if c.get(name, None) is not None else \
        f"{name} (absent: {str(default).lower()})"


def _full(c):
    c.choose("attention", "dot_product", "full causal attention in every layer")


def _relu2_ffn(c, default="relu2"):
    act = c.get("hidden_act", default)
    if act != "relu2":
        raise c.unsupported("hidden_act", act, "is an MLP activation without an acct variant beside relu2")
    c.set("d_ff", c.integer("intermediate_size"), "intermediate_size")
    c.choose("ffn", "relu2", "hidden_act = \"relu2\": up and down projections, squared ReLU")


def glm(c, sandwich=False):
    fraction, source = partial_rotary(c, default=Fraction(1, 2))
    _decoder(c, False, head_dim_default=128, kv_default=2, fraction=fraction, fraction_source=source,
             where="Glm4Attention" if sandwich else "GlmAttention")
    bias, source = _flag(c, "attention_bias", True)
    if bias:
        biases(c, ("q_proj", "k_proj", "v_proj"), f"{source} (q, k, v projections; o_proj never)")
    if sandwich:
        norm(c, "rmsnorm", "RMSNorm (gain)", 4, "Glm4DecoderLayer: input, post-attention, post-self-attention and "
             "post-MLP norms")
    else:
        norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)  # fused gate_up_proj: the same count as two matrices
    _full(c)


def glm4(c):
    glm(c, sandwich=True)


def helium(c):
    d_model = c.integer("hidden_size")
    _, d_head = _decoder(c, False, head_dim_default=128, kv_default=20, where="HeliumAttention")
    heads_ = c.integer("num_attention_heads")
    if heads_ * d_head != d_model:
        raise c.unsupported("head_dim", d_head, f"× num_attention_heads ({heads_}) differs from hidden_size "
                            f"({d_model}): HeliumAttention's o_proj is hidden_size × hidden_size, so transformers "
                            "cannot run it")
    bias, source = _flag(c, "attention_bias", False)
    if bias:
        biases(c, ("q_proj", "k_proj", "v_proj"), f"{source} (q, k, v projections; o_proj never)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)
    if c.flag("mlp_bias", False):
        biases(c, ("FFN",), "mlp_bias = true")
    _full(c)


def smollm3(c):
    no_null_head_dim(c, "SmolLM3Attention")
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, kv_default=4)  # SmolLM3Config's default, absent
    num_layers = c.get("num_hidden_layers")
    tied(c, True)
    bias, source = _flag(c, "attention_bias", False)
    if bias:
        biases(c, ATTENTION_ROWS, f"{source} (q, k, v and o projections)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)
    if c.flag("mlp_bias", False):
        biases(c, ("FFN",), "mlp_bias = true")
    flags = c.get("no_rope_layers", None)
    if flags is None:
        interval = c.integer("no_rope_layer_interval", 4)
        flags = [int((i + 1) % interval != 0) for i in range(num_layers)]
        source = f"no_rope_layer_interval = {interval}: every {interval}th layer has no rotary positions"
    else:
        if not isinstance(flags, list) or len(flags) != num_layers or any(
                flag not in (0, 1) or isinstance(flag, bool) for flag in flags):
            raise c.bad("no_rope_layers", flags, f"{num_layers} entries, each 1 (rotary) or 0 (none)")
        source = "no_rope_layers"
    rotary = sum(flags)
    if rotary == num_layers:
        rope(c, d_head)
    elif rotary == 0:
        c.choose("position", "none", f"{source}: no layer rotates (NoPE)")
    else:
        fraction, field = partial_rotary(c)
        if fraction is not None and fraction != 1:
            raise c.unsupported(field, float(fraction), "(SmolLM3 rotates whole heads)")
        c.choose("position", "rope_some_layers", f"{source}: rotary positions in some layers, none in the others")
        c.set("rotary_layers", rotary, f"{source}: {rotary} of {num_layers} layers rotate")
    kinds = layer_types(c, num_layers)
    if not c.flag("use_sliding_window", False) or c.get("sliding_window", None) is None:
        _full(c)
        return
    if kinds is None:  # SmolLM3Config: the layers without rotary positions slide
        count, where = num_layers - rotary, f"use_sliding_window = true: the {num_layers - rotary} layers without rotary"
    else:
        count, where = kinds, "use_sliding_window = true, layer_types"
    windowed(c, count, num_layers, where)


def exaone4(c):
    no_null_head_dim(c, "Exaone4Attention")
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, kv_default=32)
    num_layers = c.get("num_hidden_layers")
    tied(c, False)
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block, after attention and after the MLP (inside the residual)")
    c.choose("qk_norm", "head", "Exaone4Attention q_norm, k_norm: RMSNorm over head_dim")
    gated_ffn(c)
    window = c.get("sliding_window", 4096)
    count = layer_types(c, num_layers)
    source = "layer_types"
    if count is None:
        if window is None:
            raise c.unsupported("sliding_window", None, "without layer_types makes Exaone4Config divide by a "
                                "sliding_window_pattern of 0; list the layers in layer_types")
        pattern = c.get("sliding_window_pattern", 4)
        if isinstance(pattern, str) and pattern and set(pattern) <= {"L", "G"}:
            # "LLLG" means a window of len(pattern): every len-th layer full (the config's documented alias)
            pattern = len(pattern)
        if isinstance(pattern, bool) or not isinstance(pattern, int) or pattern < 1:
            raise c.bad("sliding_window_pattern", c.get("sliding_window_pattern"), "a whole number of at least 1 "
                        "or a string of L and G")
        count = sum(1 for i in range(num_layers) if (i + 1) % pattern)
        source = f"sliding_window_pattern = {pattern}: every {pattern}th layer full"
    if window is None:
        count = 0  # no window: every layer attends to all keys and rotates
    windowed(c, count, num_layers, source) if count else _full(c)
    if window is None or count == num_layers:
        rope(c, d_head)
        return
    fraction, field = partial_rotary(c)
    if fraction is not None and fraction != 1:
        raise c.unsupported(field, float(fraction), "(EXAONE-4 rotates whole heads)")
    if count == 0:
        c.choose("position", "none", f"{source}: no sliding layer, and only sliding layers rotate (NoPE)")
        return
    c.choose("position", "rope_some_layers", "Exaone4Attention: with a sliding window set, rotary positions in the "
             "sliding layers only")
    c.set("rotary_layers", count, f"{source}: the {count} sliding layers")


def ernie4_5(c):
    _decoder(c, True, head_dim_default=null_head_dim_derived(c, 128), kv_default=2)
    bias, source = _flag(c, "use_bias", False, nullable=True)  # Ernie4_5Config: bool | None
    if bias:
        biases(c, ATTENTION_ROWS + ("FFN",), f"{source} (q, k, v, o, gate, up and down projections)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)
    _full(c)


def hunyuan_v1_dense(c):
    if c.get("head_dim", None) is None:  # HunYuanDenseV1Config's default is None, which its attention cannot use
        raise c.bad("head_dim", c.get("head_dim", None), "a whole number (HunYuanDenseV1Attention reads it; "
                    "absent or null, transformers fails)")
    _decoder(c, False)
    bias, source = _flag(c, "attention_bias", False)
    if bias:
        biases(c, ATTENTION_ROWS, f"{source} (q, k, v and o projections)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    c.choose("qk_norm", "head", "HunYuanDenseV1Attention query_layernorm, key_layernorm: RMSNorm over head_dim")
    gated_ffn(c)
    _full(c)


def seed_oss(c):
    _decoder(c, False, head_dim_default=null_head_dim_derived(c, 128), kv_default=8)
    bias, source = _flag(c, "attention_bias", True)
    if bias:
        biases(c, ("q_proj", "k_proj", "v_proj"), f"{source} (q, k, v projections)")
    out, source = _flag(c, "attention_out_bias", False)
    if out:
        biases(c, ("out_proj",), f"{source} (o_proj)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)
    if c.flag("mlp_bias", False):
        biases(c, ("FFN",), "mlp_bias = true")
    _full(c)


def arcee(c):
    _decoder(c, False)
    bias, source = _flag(c, "attention_bias", False)
    if bias:
        biases(c, ATTENTION_ROWS, f"{source} (q, k, v and o projections)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    _relu2_ffn(c)
    if c.flag("mlp_bias", False):
        biases(c, ("FFN",), "mlp_bias = true (up and down projections)")
    _full(c)


def apertus(c):
    _decoder(c, False, where="ApertusAttention")
    bias, source = _flag(c, "attention_bias", False)
    if bias:
        biases(c, ATTENTION_ROWS, f"{source} (q, k, v and o projections)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block (attention_layernorm, feedforward_layernorm)")
    c.choose("qk_norm", "head", "ApertusAttention q_norm, k_norm: RMSNorm over head_dim")
    act = c.get("hidden_act", "xielu")
    if act != "xielu":
        raise c.unsupported("hidden_act", act, "is an MLP activation without an acct variant beside xielu")
    c.set("d_ff", c.integer("intermediate_size"), "intermediate_size")
    c.choose("ffn", "xielu", "hidden_act = \"xielu\": up and down projections, xIELU with two trainable scalars")
    _full(c)


def olmo3(c):
    no_null_head_dim(c, "Olmo3Attention")
    num_layers, _ = _decoder(c, False)
    bias, source = _flag(c, "attention_bias", False)
    if bias:
        biases(c, ATTENTION_ROWS, f"{source} (q, k, v and o projections)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block, after attention and after the MLP (inside the residual)")
    c.choose("qk_norm", "proj", "Olmo3Attention q_norm, k_norm: RMSNorm over the whole projection")
    gated_ffn(c)
    count = layer_types(c, num_layers)
    source = "layer_types"
    if count is None:  # Olmo3Config: every 4th layer full
        count, source = sum(1 for i in range(num_layers) if (i + 1) % 4), "layer_types (absent: every 4th layer full)"
    if c.get("sliding_window", 4096) is None:
        count = 0  # the sliding layers get no window
    windowed(c, count, num_layers, source) if count else _full(c)


def gpt_oss(c):
    d_model, num_heads = basic(c)
    # GptOssConfig: head_dim 64 when absent, hidden_size // num_attention_heads when null
    d_head, _ = heads(c, d_model, num_heads, head_dim_default=null_head_dim_derived(c, 64), kv_default=8)
    num_layers = c.get("num_hidden_layers")
    tied(c, False)
    rope(c, d_head)
    bias, source = _flag(c, "attention_bias", True)
    if bias:
        biases(c, ATTENTION_ROWS, f"{source} (q, k, v and o projections)")
    c.choose("attention_sinks", "per_head", "GptOssAttention.sinks: a learned logit per query head")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    field = alias(c, "num_local_experts", "num_experts")  # GptOssConfig's attribute_map
    experts = c.integer(field, 128)
    c.choose("ffn", "moe", "GptOssMLP: a biased router and num_local_experts clamped-SwiGLU experts in every layer")
    c.set("num_experts", experts, field if c.get(field, None) is not None
          else f"{field} (absent: the config class's default 128)")
    per_token = c.integer("num_experts_per_tok", 4)
    c.set("experts_per_token", per_token, "num_experts_per_tok" if c.get("num_experts_per_tok", None) is not None
          else "num_experts_per_tok (absent: the config class's default 4)")
    width = c.integer("intermediate_size")
    top_k_within(c)
    c.set("d_ff_expert", width, "intermediate_size (each expert's width)")
    c.set("d_ff", width, "intermediate_size (every layer is MoE: the ×0 dense rows read it)")
    biases(c, ("router",), "GptOssTopKRouter: Linear(hidden_size, num_local_experts) with a bias")
    c.choose("expert_biases", "routed", "GptOssExperts.gate_up_proj_bias and down_proj_bias")
    count = layer_types(c, num_layers)
    source = "layer_types"
    if count is None:  # GptOssConfig: even layers slide
        count, source = (num_layers + 1) // 2, "layer_types (absent: layers 0, 2, 4, ... slide)"
    if c.get("sliding_window", 128) is None:
        count = 0
    windowed(c, count, num_layers, source) if count else _full(c)


def glm4_moe(c):
    no_null_head_dim(c, "Glm4MoeAttention")
    fraction, source = partial_rotary(c, default=Fraction(1, 2))
    num_layers, _ = _decoder(c, False, kv_default=8, fraction=fraction, fraction_source=source)
    bias, source = _flag(c, "attention_bias", False)
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
    _full(c)
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


def ernie4_5_moe(c):
    no_null_head_dim(c, "Ernie4_5_MoeAttention")
    num_layers, _ = _decoder(c, True, kv_default=4)
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    _full(c)
    defaults = {"moe_num_experts": 64, "moe_k": 6, "moe_intermediate_size": 1536, "moe_num_shared_experts": 2,
                "moe_layer_start_index": 1, "moe_layer_end_index": -1, "moe_layer_interval": 1}  # the class's

    def read(name, field, minimum=1):
        value = c.integer(field, defaults[name], minimum=minimum)
        return value, field if c.get(field, None) is not None else f"{field} (absent: the config class's default " \
            f"{defaults[name]})"

    start, _ = read("moe_layer_start_index", "moe_layer_start_index", minimum=0)
    end = c.get("moe_layer_end_index", -1)
    if end is None or end == -1:
        end = num_layers - 1
    else:
        end, _ = read("moe_layer_end_index", "moe_layer_end_index", minimum=0)
    interval, _ = read("moe_layer_interval", "moe_layer_interval")
    experts_field = alias(c, "moe_num_experts", "num_experts")  # Ernie4_5_MoeConfig's attribute_map
    # at least 1: with 0, transformers still builds the MoE layers' blocks without routed experts
    experts, experts_source = read("moe_num_experts", experts_field, minimum=1)
    moe_layers = sum(1 for i in range(num_layers) if (i + 1) % interval == 0 and start <= i <= end) if experts else 0
    c.set("d_ff", c.integer("intermediate_size"), "intermediate_size (the dense layers' MLP)")
    if not moe_layers:
        c.choose("ffn", "swiglu", "no MoE layer: a gated MLP in every layer")
        return
    rule = f"moe_layer_start_index = {start}, moe_layer_end_index = {end}, moe_layer_interval = {interval}"
    c.choose("ffn", "moe", f"Ernie4_5_MoeSparseMoeBlock: routed and shared SwiGLU experts in layers {rule}")
    c.set("num_experts", experts, experts_source)
    c.set("experts_per_token", *read("moe_k", alias(c, "moe_k", "num_experts_per_tok")))
    top_k_within(c)
    c.set("d_ff_expert", *read("moe_intermediate_size", "moe_intermediate_size"))
    if moe_layers != num_layers:
        c.set("moe_layers", moe_layers, f"{rule}: {moe_layers} of {num_layers} layers")
    shared, shared_source = read("moe_num_shared_experts", "moe_num_shared_experts", minimum=0)
    if shared:
        c.set("num_shared_experts", shared, f"{shared_source}: one gated MLP of moe_num_shared_experts × "
              "moe_intermediate_size")
    # Ernie4_5_MoeStatics holds it as an nn.Parameter (requires_grad=False), so parameters() counts it
    biases(c, ("router",), "Ernie4_5_MoeStatics.e_score_correction_bias: a parameter (frozen) of one value per "
           "routed expert")


IMPORTERS = (
    Importer("glm", "GLM-4 (the -hf conversions): partial rotary, q/k/v biases, fused gate_up", glm,
             maps=MAPS + ("attention_bias",), ignores=IGNORES),
    Importer("glm4", "GLM-4-0414: glm with four norms per block", glm4,
             maps=MAPS + ("attention_bias",), ignores=IGNORES),
    Importer("helium", "Kyutai Helium: Llama's shape, head_dim 128", helium,
             maps=MAPS + ("attention_bias", "mlp_bias"), ignores=IGNORES),
    Importer("smollm3", "SmolLM3: GQA, no rotary positions in every 4th layer, tied", smollm3,
             maps=MAPS + ("attention_bias", "mlp_bias", "no_rope_layers", "no_rope_layer_interval",
                          "use_sliding_window", "sliding_window", "layer_types"),
             ignores=IGNORES + ("max_window_layers",)),  # not read by SmolLM3
    Importer("exaone4", "EXAONE-4: norms after each sublayer, q/k RMSNorm, sliding and full layers", exaone4,
             maps=MAPS + ("sliding_window", "sliding_window_pattern", "layer_types"), ignores=IGNORES),
    Importer("ernie4_5", "ERNIE-4.5 (dense): GQA, head_dim 128, optional biases everywhere, tied", ernie4_5,
             maps=MAPS + ("use_bias",), ignores=IGNORES),
    Importer("hunyuan_v1_dense", "Hunyuan (dense): GQA, per-head q/k RMSNorm", hunyuan_v1_dense,
             maps=MAPS + ("attention_bias",), ignores=IGNORES + ("eod_token_id",),
             # not HunYuanDenseV1Config fields: transformers builds the MLP without bias and RMSNorm whatever
             # they say, so only the values it builds are accepted
             fixed={"mlp_bias": False, "norm_type": "rms", "use_qk_norm": True}),
    Importer("seed_oss", "Seed-OSS: GQA, q/k/v biases, head_dim 128", seed_oss,
             maps=MAPS + ("attention_bias", "attention_out_bias", "mlp_bias"), ignores=IGNORES),
    Importer("arcee", "Arcee AFM: Llama's attention, squared-ReLU up/down MLP", arcee,
             maps=MAPS + ("attention_bias", "mlp_bias"), ignores=IGNORES),
    Importer("olmo3", "OLMo-3: OLMo-2's norms, 3 sliding : 1 full layers", olmo3,
             maps=MAPS + ("attention_bias", "sliding_window", "layer_types"), ignores=IGNORES),
    Importer("gpt_oss", "GPT-OSS: attention sinks, biased router and experts, alternating sliding layers", gpt_oss,
             maps=MAPS + ("attention_bias", "sliding_window", "layer_types", "num_local_experts", "num_experts",
                          "num_experts_per_tok"),
             ignores=IGNORES + ("swiglu_limit", "swiglu_alpha", "router_aux_loss_coef", "output_router_logits",
                                # OpenAI's own names, which GptOssConfig does not read (it reads num_experts_per_tok
                                # and max_position_embeddings); mxfp4 scales live in the checkpoint
                                "experts_per_token", "initial_context_length", "quantization_config")),
    Importer("glm4_moe", "GLM-4.5: dense layers first, then routed + shared experts; partial rotary", glm4_moe,
             maps=MAPS + ("attention_bias", "use_qk_norm", "moe_intermediate_size", "num_experts_per_tok",
                          "n_shared_experts", "n_routed_experts", "num_local_experts", "first_k_dense_replace"),
             ignores=IGNORES + ("routed_scaling_factor", "n_group", "topk_group", "norm_topk_prob",
                                "output_router_logits", "router_aux_loss_coef",
                                # the multi-token-prediction layers are not part of the causal LM (transformers
                                # does not build them); acct counts the main model, as for DeepSeek-V3
                                "num_nextn_predict_layers", "num_mtp_layers")),
    Importer("ernie4_5_moe", "ERNIE-4.5 MoE: routed + shared experts from moe_layer_start_index on, tied", ernie4_5_moe,
             maps=MAPS + ("moe_num_experts", "num_experts", "moe_k", "num_experts_per_tok", "moe_intermediate_size",
                          "moe_num_shared_experts", "moe_layer_start_index", "moe_layer_end_index",
                          "moe_layer_interval"),
             ignores=IGNORES + ("moe_norm_min", "output_router_logits", "router_aux_loss_coef",
                                # Baidu's own routing settings, which transformers does not read
                                "moe_gate", "moe_capacity", "moe_use_aux_free"),
             # biases on the dense and shared MLPs and the attention: not mapped, so only false is accepted
             fixed={"use_bias": False}),
    Importer("apertus", "Apertus: q/k RMSNorm, xIELU up/down MLP (two trainable scalars per layer)", apertus,
             maps=MAPS + ("attention_bias",), ignores=IGNORES,
             # not ApertusConfig fields: its layers always have q/k norms, pre-norms and a bias-free MLP
             fixed={"qk_norm": True, "post_norm": False, "mlp_bias": False}),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
