"""Hugging Face importers for the Llama-shaped decoders: gated MLP, RMSNorm, RoPE.

llama, mistral, mixtral, qwen2, qwen2_moe, qwen3, qwen3_moe, phi3, olmo, olmo2,
gemma, gemma2, gemma3_text. Field defaults are those of transformers 5.24's
config classes; where the modeling code reads a key the config class does not
declare (head_dim, via getattr), the importer honours it too.
"""

from acct import Importer, hookimpl

from .hf_common import not_null, top_k_within
from .hf_helpers import no_null_head_dim
from .hf_common import (ATTENTION_ROWS, alias, DROPOUT, EPS, ROPE, ROPE_MAPS, ROUTING, basic, biases, every_layer_windowed,
                        gated_ffn, heads, layer_types, norm, rope, tied, windowed)

COMMON_MAPS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
               "head_dim", "intermediate_size", "max_position_embeddings", "tie_word_embeddings",
               "hidden_act") + ROPE_MAPS
COMMON_IGNORES = DROPOUT + ROPE + EPS + ("pretraining_tp",)
# Gemma-2/3's MLP reads hidden_activation; a hidden_act key there is inert
GEMMA_MAPS = tuple(name for name in COMMON_MAPS if name != "hidden_act")


def _qkv_bias(c, field, default=False, rows=ATTENTION_ROWS):
    if c.flag(field, default):
        source = f"{field} = true" if c.get(field, None) is not None else f"{field} (absent: true)"
        biases(c, rows, source)


def _decoder(c, tie_default, head_dim_default=None, kv_default=None):
    """The shape every family here shares: returns (num_layers, d_head). `kv_default`: the config
    class's num_key_value_heads when the field is absent (None: one per query head)."""
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, head_dim_default=head_dim_default, kv_default=kv_default)
    tied(c, tie_default)
    rope(c, d_head)
    return c.get("num_hidden_layers"), d_head


def _with_default(c, name, defaults):
    """A whole-number field and its source; absent (or null), the config class's default from
    `defaults`, when it has one."""
    if c.get(name, None) is None and name in defaults:
        return defaults[name], f"{name} (absent: the config class's default {defaults[name]})"
    return c.integer(name), name


def _moe(c, num_layers, moe_layers, layers_source, experts, per_token="num_experts_per_tok",
         width="moe_intermediate_size", dense_width="intermediate_size", defaults=None):
    """Routed experts (SwiGLU) in `moe_layers` of the layers; the others dense of `dense_width`.
    `defaults`: the config class's values of fields a config may leave out."""
    defaults = dict(defaults or {})
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    if moe_layers == 0:
        gated_ffn(c, width=dense_width)
        return
    c.choose("ffn", "moe", f"{experts}: routed experts with a router, {layers_source}")
    c.set("num_experts", *_with_default(c, experts, defaults))
    c.set("experts_per_token", *_with_default(c, per_token, defaults))
    top_k_within(c)
    c.set("d_ff_expert", *_with_default(c, width, defaults))
    if moe_layers != num_layers:
        c.set("moe_layers", moe_layers, layers_source)
    # the moe variant's dense rows read d_ff even when no layer is dense (they are then ×0)
    c.set("d_ff", c.integer(dense_width), f"{dense_width} (the dense layers' MLP)" if dense_width != width
          else f"{dense_width} (every layer is MoE: the ×0 dense rows read it)")


def _sparse_layers(c, num_layers):
    """Qwen-MoE's rule: layer i is MoE unless in mlp_only_layers, when num_experts > 0 and
    (i + 1) % decoder_sparse_step == 0."""
    step = c.integer("decoder_sparse_step", 1)
    only = c.get("mlp_only_layers", None)
    only = [] if only is None else only  # false or 0 is no list (the config class refuses it)
    if not isinstance(only, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in only):
        raise c.bad("mlp_only_layers", only, "a list of layer indices")
    count = sum(1 for i in range(num_layers) if i not in only and (i + 1) % step == 0)
    return count, f"decoder_sparse_step = {step}, mlp_only_layers = {only}: {count} of {num_layers} layers"


def _qwen_window(c, num_layers, rule):
    """Qwen's sliding window: only with use_sliding_window; which layers by layer_types or `rule`."""
    if not c.flag("use_sliding_window", False) or c.get("sliding_window", None) in (None, 0):
        c.choose("attention", "dot_product", "use_sliding_window = false: full attention")
        return
    count = layer_types(c, num_layers)
    source = "layer_types"
    if count is None:
        limit = c.integer("max_window_layers", 28, minimum=0)
        count, source = rule(num_layers, limit), f"max_window_layers = {limit}"
    windowed(c, count, num_layers, f"use_sliding_window = true, {source}")


# -- the families ----------------------------------------------------------------


def llama(c):
    num_layers, _ = _decoder(c, tie_default=False)
    _qkv_bias(c, "attention_bias")
    if c.flag("mlp_bias", False):
        biases(c, ("FFN",), "mlp_bias = true")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block, before attention and MLP")
    gated_ffn(c)
    c.choose("attention", "dot_product", "full causal attention in every layer")


def mistral(c):
    num_layers, _ = _decoder(c, tie_default=False, kv_default=8)
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)
    every_layer_windowed(c, num_layers)


def mixtral(c):
    not_null(c, ("num_local_experts", "num_experts", "num_experts_per_tok"))  # MixtralConfig: int
    num_layers, _ = _decoder(c, tie_default=False, kv_default=8)
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    experts = alias(c, "num_local_experts", "num_experts")
    _moe(c, num_layers, num_layers, "every layer", experts, width="intermediate_size",
         defaults={experts: 8, "num_experts_per_tok": 2})  # MixtralConfig's
    every_layer_windowed(c, num_layers)


def qwen2(c):
    num_layers, _ = _decoder(c, tie_default=False, kv_default=32)
    biases(c, ("q_proj", "k_proj", "v_proj"), "Qwen2Attention: q, k, v always biased, o_proj never")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)
    _qwen_window(c, num_layers, lambda layers, limit: max(0, layers - limit))


def qwen2_moe(c):
    not_null(c, ("num_experts", "num_experts_per_tok", "moe_intermediate_size", "shared_expert_intermediate_size",
                 "decoder_sparse_step"))  # Qwen2MoeConfig: int
    num_layers, _ = _decoder(c, tie_default=False, kv_default=16)
    _qkv_bias(c, "qkv_bias", default=True, rows=("q_proj", "k_proj", "v_proj"))
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    count, source = _sparse_layers(c, num_layers) if c.integer("num_experts", 60, minimum=0) else (
        0, "num_experts = 0")
    _moe(c, num_layers, count, source, "num_experts",
         defaults={"num_experts": 60, "num_experts_per_tok": 4, "moe_intermediate_size": 1408})  # Qwen2MoeConfig's
    if count:
        shared = c.integer("shared_expert_intermediate_size", 5632)
        c.set("num_shared_experts", 1, "shared_expert_intermediate_size: one shared expert")
        c.set("d_ff_shared", shared, "shared_expert_intermediate_size")
        c.set("shared_expert_gate", 1, "Qwen2MoeSparseMoeBlock.shared_expert_gate: Linear(hidden_size, 1)")
    _qwen_window(c, num_layers, lambda layers, limit: sum(1 for i in range(min(layers, limit)) if i % 2 == 0))


def qwen3(c):
    no_null_head_dim(c, "Qwen3Attention")  # Qwen3Config: head_dim: int
    num_layers, _ = _decoder(c, tie_default=False, head_dim_default=128, kv_default=32)
    _qkv_bias(c, "attention_bias")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    c.choose("qk_norm", "head", "Qwen3Attention q_norm, k_norm: RMSNorm over head_dim")
    gated_ffn(c)
    _qwen_window(c, num_layers, lambda layers, limit: max(0, layers - limit))


def qwen3_moe(c):
    no_null_head_dim(c, "Qwen3MoeAttention")
    not_null(c, ("num_experts", "num_local_experts", "num_experts_per_tok", "moe_intermediate_size",
                 "decoder_sparse_step"))  # Qwen3MoeConfig: int
    num_layers, _ = _decoder(c, tie_default=False, kv_default=4)
    _qkv_bias(c, "attention_bias")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    c.choose("qk_norm", "head", "Qwen3MoeAttention q_norm, k_norm: RMSNorm over head_dim")
    experts = alias(c, "num_experts", "num_local_experts")  # transformers 5 saves num_local_experts
    count, source = _sparse_layers(c, num_layers) if c.integer(experts, 128, minimum=0) else (
        0, f"{experts} = 0")
    _moe(c, num_layers, count, source, experts,
         defaults={experts: 128, "num_experts_per_tok": 8, "moe_intermediate_size": 768})  # Qwen3MoeConfig's
    if not c.flag("use_sliding_window", False) or c.get("sliding_window", None) is None:
        c.choose("attention", "dot_product", "use_sliding_window = false: full attention")
    else:
        windowed(c, num_layers, num_layers, "use_sliding_window = true")


def phi3(c):
    num_layers, _ = _decoder(c, tie_default=False)
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)  # fused gate_up_proj: the same count as two matrices
    every_layer_windowed(c, num_layers)


def olmo(c):
    _decoder(c, tie_default=False)
    _qkv_bias(c, "attention_bias")
    norm(c, "nonparametric", "OlmoLayerNorm: LayerNorm without weight or bias, 2 per block")
    gated_ffn(c)
    c.choose("attention", "dot_product", "full causal attention in every layer")


def olmo2(c):
    _decoder(c, tie_default=False)
    _qkv_bias(c, "attention_bias")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block, after attention and after the MLP (inside the residual)")
    c.choose("qk_norm", "proj", "Olmo2Attention q_norm, k_norm: RMSNorm over the whole projection")
    gated_ffn(c)
    c.choose("attention", "dot_product", "full causal attention in every layer")


def gemma(c):
    _decoder(c, tie_default=True, head_dim_default=256, kv_default=16)
    _qkv_bias(c, "attention_bias")
    norm(c, "rmsnorm", "GemmaRMSNorm (one weight, as (1 + w)), 2 per block")
    gated_ffn(c, default="gelu_pytorch_tanh")
    c.choose("attention", "dot_product", "full causal attention in every layer")


def _gemma_sandwich(c, head_dim_default=256):
    num_layers, _ = _decoder(c, tie_default=True, head_dim_default=head_dim_default, kv_default=4)
    _qkv_bias(c, "attention_bias")
    norm(c, "rmsnorm", "(1 + w) RMSNorm", 4, "input, post-attention, pre- and post-feedforward norms")
    gated_ffn(c, act_field="hidden_activation", default="gelu_pytorch_tanh")
    return num_layers


def gemma2(c):
    num_layers = _gemma_sandwich(c)
    count = layer_types(c, num_layers)
    source = "layer_types"
    if count is None:
        count, source = (num_layers + 1) // 2, "Gemma2: layers 0, 2, 4, ... slide"
    if c.get("sliding_window", 4096) is None:
        count = 0
    windowed(c, count, num_layers, source) if count else c.choose(
        "attention", "dot_product", "no sliding layers")


def gemma3_text(c):
    num_layers = _gemma_sandwich(c)
    c.choose("qk_norm", "head", "Gemma3Attention q_norm, k_norm: (1 + w) RMSNorm over head_dim")
    count = layer_types(c, num_layers)
    source = "layer_types"
    if count is None:
        pattern = c.integer("sliding_window_pattern", 6)
        count = num_layers - num_layers // pattern
        source = f"sliding_window_pattern = {pattern}: every {pattern}th layer full"
        # _sliding_window_pattern is what transformers saves beside layer_types (gemma-3-270m); it reads
        # layer_types or sliding_window_pattern, never this, so alone and different it says two things
        saved = c.get("_sliding_window_pattern", None)
        if saved is not None and saved != pattern:
            raise c.unsupported("_sliding_window_pattern", saved, f"differs from sliding_window_pattern ({pattern}), "
                                "which transformers reads instead; say which layers slide with layer_types")
    if c.get("sliding_window", 4096) is None:
        count = 0
    windowed(c, count, num_layers, source) if count else c.choose(
        "attention", "dot_product", "no sliding layers")


SLIDING = ("sliding_window", "use_sliding_window", "max_window_layers", "layer_types")
MOE = ("num_experts", "num_experts_per_tok", "moe_intermediate_size", "decoder_sparse_step", "mlp_only_layers")
GEMMA_IGNORES = ("query_pre_attn_scalar", "final_logit_softcapping", "attn_logit_softcapping",
                 "cache_implementation")

IMPORTERS = (
    Importer("llama", "Llama: GQA, SwiGLU, RMSNorm, RoPE", llama,
             maps=COMMON_MAPS + ("attention_bias", "mlp_bias"),
             # max_sequence_length: LLaMA-1 conversions' copy of max_position_embeddings, read by no LlamaConfig
             ignores=COMMON_IGNORES + ("max_sequence_length",)),
    Importer("mistral", "Mistral: Llama with a sliding window in every layer", mistral,
             maps=COMMON_MAPS + ("sliding_window",),
             # MistralConfig has no bias fields: every Linear is bias=False; layer_types only warns
             ignores=COMMON_IGNORES + ("attention_bias", "mlp_bias", "layer_types")),
    Importer("mixtral", "Mixtral: Mistral with top-k routed SwiGLU experts in every layer", mixtral,
             maps=COMMON_MAPS + ("sliding_window", "num_local_experts", "num_experts", "num_experts_per_tok"),
             ignores=COMMON_IGNORES + ROUTING),
    Importer("qwen2", "Qwen2: Llama with q, k, v biases", qwen2,
             maps=COMMON_MAPS + SLIDING,
             # attention_bias: not a field, q, k, v biases are hard-coded; use_mrope (Qwen2.5's configs): the
             # multimodal rotary split of Qwen2-VL, which Qwen2's text model never reads
             ignores=COMMON_IGNORES + ("attention_bias", "use_mrope")),
    Importer("qwen2_moe", "Qwen2-MoE: routed experts, one gated shared expert", qwen2_moe,
             maps=COMMON_MAPS + SLIDING + MOE + ("qkv_bias", "shared_expert_intermediate_size"),
             ignores=COMMON_IGNORES + ROUTING),
    Importer("qwen3", "Qwen3: GQA, per-head q/k RMSNorm, head_dim 128", qwen3,
             maps=COMMON_MAPS + SLIDING + ("attention_bias",), ignores=COMMON_IGNORES),
    Importer("qwen3_moe", "Qwen3-MoE: routed experts, per-head q/k RMSNorm", qwen3_moe,
             maps=COMMON_MAPS + MOE + ("attention_bias", "sliding_window", "use_sliding_window", "num_local_experts"),
             ignores=COMMON_IGNORES + ROUTING + ("max_window_layers",)),  # not read by Qwen3-MoE
    Importer("phi3", "Phi-3: fused qkv and gate_up projections, RMSNorm", phi3,
             maps=COMMON_MAPS + ("sliding_window",),
             # attention_bias: not a field, Phi-3 has no biases; interpolate_factor (Phi-4-mini): a RoPE setting
             ignores=COMMON_IGNORES + ("attention_bias", "interpolate_factor"),
             # Phi-4-mini's remote-code fields, which Phi3Config does not read: only their no-op values are
             # accepted (a bias in the checkpoint that transformers drops has no one right count)
             fixed={"lm_head_bias": False, "mlp_bias": False, "full_attn_mod": 1}),
    Importer("olmo", "OLMo: non-parametric LayerNorm", olmo,
             maps=COMMON_MAPS + ("attention_bias",), ignores=COMMON_IGNORES + ("clip_qkv",)),
    Importer("olmo2", "OLMo-2: norms after each sublayer, q/k RMSNorm over the projection", olmo2,
             maps=COMMON_MAPS + ("attention_bias",), ignores=COMMON_IGNORES),
    Importer("gemma", "Gemma: GeGLU, head_dim 256, tied", gemma,
             maps=COMMON_MAPS + ("attention_bias",),
             ignores=COMMON_IGNORES + ("hidden_activation",),  # not a GemmaConfig field: the MLP reads hidden_act
             fixed={"use_bidirectional_attention": False}),
    Importer("gemma2", "Gemma-2: sandwich norms, alternating sliding and full layers", gemma2,
             maps=GEMMA_MAPS + ("attention_bias", "hidden_activation", "sliding_window", "layer_types"),
             # sliding_window_size: an early Gemma-2 config key (gemma-2-9b, 27b), read by no Gemma2Config
             ignores=COMMON_IGNORES + GEMMA_IGNORES + ("hidden_act", "sliding_window_size"),
             fixed={"use_bidirectional_attention": False}),
    Importer("gemma3_text", "Gemma-3 (text): sandwich norms, q/k norm, 5 sliding : 1 full", gemma3_text,
             maps=GEMMA_MAPS + ("attention_bias", "hidden_activation", "sliding_window", "layer_types",
                                "sliding_window_pattern", "_sliding_window_pattern"),
             ignores=COMMON_IGNORES + GEMMA_IGNORES + ("hidden_act",), fixed={"use_bidirectional_attention": False}),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
