"""Hugging Face importers for Alibaba's Qwen2, Qwen2-MoE, Qwen3 and Qwen3-MoE: qwen2, qwen2_moe, qwen3, qwen3_moe.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import (LLAMA_IGNORES, LLAMA_MAPS, ROUTING, alias, biases, decoder, gated_ffn, layer_types,
                     no_null_head_dim, norm, not_null, qkv_bias, routed_experts, windowed)

SLIDING = ("sliding_window", "use_sliding_window", "max_window_layers", "layer_types")
MOE = ("num_experts", "num_experts_per_tok", "moe_intermediate_size", "decoder_sparse_step", "mlp_only_layers")


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


def qwen2(c):
    num_layers, _ = decoder(c, tie_default=False, kv_default=32)
    biases(c, ("q_proj", "k_proj", "v_proj"), "Qwen2Attention: q, k, v always biased, o_proj never")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)
    _qwen_window(c, num_layers, lambda layers, limit: max(0, layers - limit))


def qwen2_moe(c):
    not_null(c, ("num_experts", "num_experts_per_tok", "moe_intermediate_size", "shared_expert_intermediate_size",
                 "decoder_sparse_step"))  # Qwen2MoeConfig: int
    num_layers, _ = decoder(c, tie_default=False, kv_default=16)
    qkv_bias(c, "qkv_bias", default=True, rows=("q_proj", "k_proj", "v_proj"))
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    count, source = _sparse_layers(c, num_layers) if c.integer("num_experts", 60, minimum=0) else (
        0, "num_experts = 0")
    routed_experts(c, num_layers, count, source, "num_experts",
                   # Qwen2MoeConfig's defaults
                   defaults={"num_experts": 60, "num_experts_per_tok": 4, "moe_intermediate_size": 1408})
    if count:
        shared = c.integer("shared_expert_intermediate_size", 5632)
        c.set("num_shared_experts", 1, "shared_expert_intermediate_size: one shared expert")
        c.set("d_ff_shared", shared, "shared_expert_intermediate_size")
        c.set("shared_expert_gate", 1, "Qwen2MoeSparseMoeBlock.shared_expert_gate: Linear(hidden_size, 1)")
    _qwen_window(c, num_layers, lambda layers, limit: sum(1 for i in range(min(layers, limit)) if i % 2 == 0))


def qwen3(c):
    no_null_head_dim(c, "Qwen3Attention")  # Qwen3Config: head_dim: int
    num_layers, _ = decoder(c, tie_default=False, head_dim_default=128, kv_default=32)
    qkv_bias(c, "attention_bias")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    c.choose("qk_norm", "head", "Qwen3Attention q_norm, k_norm: RMSNorm over head_dim")
    gated_ffn(c)
    _qwen_window(c, num_layers, lambda layers, limit: max(0, layers - limit))


def qwen3_moe(c):
    no_null_head_dim(c, "Qwen3MoeAttention")
    not_null(c, ("num_experts", "num_local_experts", "num_experts_per_tok", "moe_intermediate_size",
                 "decoder_sparse_step"))  # Qwen3MoeConfig: int
    num_layers, _ = decoder(c, tie_default=False, kv_default=4)
    qkv_bias(c, "attention_bias")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    c.choose("qk_norm", "head", "Qwen3MoeAttention q_norm, k_norm: RMSNorm over head_dim")
    experts = alias(c, "num_experts", "num_local_experts")  # transformers 5 saves num_local_experts
    count, source = _sparse_layers(c, num_layers) if c.integer(experts, 128, minimum=0) else (
        0, f"{experts} = 0")
    routed_experts(c, num_layers, count, source, experts,
                   defaults={experts: 128, "num_experts_per_tok": 8, "moe_intermediate_size": 768})  # Qwen3MoeConfig's
    if not c.flag("use_sliding_window", False) or c.get("sliding_window", None) is None:
        c.choose("attention", "dot_product", "use_sliding_window = false: full attention")
    else:
        windowed(c, num_layers, num_layers, "use_sliding_window = true")


IMPORTERS = (
    Importer("qwen2", "Qwen2: Llama with q, k, v biases", qwen2,
             maps=LLAMA_MAPS + SLIDING,
             # attention_bias: not a field, q, k, v biases are hard-coded; use_mrope (Qwen2.5's configs): the
             # multimodal rotary split of Qwen2-VL, which Qwen2's text model never reads
             ignores=LLAMA_IGNORES + ("attention_bias", "use_mrope")),
    Importer("qwen2_moe", "Qwen2-MoE: routed experts, one gated shared expert", qwen2_moe,
             maps=LLAMA_MAPS + SLIDING + MOE + ("qkv_bias", "shared_expert_intermediate_size"),
             ignores=LLAMA_IGNORES + ROUTING),
    Importer("qwen3", "Qwen3: GQA, per-head q/k RMSNorm, head_dim 128", qwen3,
             maps=LLAMA_MAPS + SLIDING + ("attention_bias",), ignores=LLAMA_IGNORES),
    Importer("qwen3_moe", "Qwen3-MoE: routed experts, per-head q/k RMSNorm", qwen3_moe,
             maps=LLAMA_MAPS + MOE + ("attention_bias", "sliding_window", "use_sliding_window", "num_local_experts"),
             ignores=LLAMA_IGNORES + ROUTING + ("max_window_layers",)),  # not read by Qwen3-MoE,
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
