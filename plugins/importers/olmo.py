"""Hugging Face importers for AI2's OLMo, OLMo-2, OLMo-3 and OLMoE: olmo, olmo2, olmo3, olmoe.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import (ATTENTION_ROWS, DECODER_IGNORES, DECODER_MAPS, LLAMA_IGNORES, LLAMA_MAPS, ROUTING, alias, basic,
                     biases, decoder, flag, full_attention, gated_ffn, heads, layer_types, no_null_head_dim, norm,
                     not_null, qkv_bias, rope, tied, top_k_within, windowed)


def olmo(c):
    decoder(c, tie_default=False)
    qkv_bias(c, "attention_bias")
    norm(c, "nonparametric", "OlmoLayerNorm: LayerNorm without weight or bias, 2 per block")
    gated_ffn(c)
    c.choose("attention", "dot_product", "full causal attention in every layer")


def olmo2(c):
    decoder(c, tie_default=False)
    qkv_bias(c, "attention_bias")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block, after attention and after the MLP (inside the residual)")
    c.choose("qk_norm", "proj", "Olmo2Attention q_norm, k_norm: RMSNorm over the whole projection")
    gated_ffn(c)
    c.choose("attention", "dot_product", "full causal attention in every layer")


def olmo3(c):
    no_null_head_dim(c, "Olmo3Attention")
    num_layers, _ = decoder(c, False)
    bias, source = flag(c, "attention_bias", False)
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
    windowed(c, count, num_layers, source) if count else full_attention(c)


def olmoe(c):
    not_null(c, ("num_experts", "num_local_experts", "num_experts_per_tok"))  # OlmoeConfig: int
    no_null_head_dim(c, "OlmoeAttention")
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads)
    tied(c, False)
    rope(c, d_head)
    if c.flag("attention_bias", False):
        biases(c, ATTENTION_ROWS, "attention_bias = true (q, k, v and o projections)")
    norm(c, "rmsnorm", "OlmoeRMSNorm (gain), 2 per block")
    c.choose("qk_norm", "proj", "OlmoeAttention q_norm, k_norm: RMSNorm over the whole projection")
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    experts = alias(c, "num_experts", "num_local_experts")  # OlmoeConfig's attribute_map
    c.choose("ffn", "moe", "OlmoeSparseMoeBlock: a router (no bias) and routed SwiGLU experts in every layer")
    for name, field, default in (("num_experts", experts, 64), ("experts_per_token", "num_experts_per_tok", 8)):
        value = c.integer(field, default)
        c.set(name, value, field if c.get(field, None) is not None else f"{field} (absent: the config class's "
              f"default {default})")
    width = c.integer("intermediate_size")
    top_k_within(c)
    c.set("d_ff_expert", width, "intermediate_size (each expert's width)")
    c.set("d_ff", width, "intermediate_size (every layer is MoE: the ×0 dense rows read it)")
    full_attention(c)


IMPORTERS = (
    Importer("olmo", "OLMo: non-parametric LayerNorm", olmo,
             maps=LLAMA_MAPS + ("attention_bias",), ignores=LLAMA_IGNORES + ("clip_qkv",)),
    Importer("olmo2", "OLMo-2: norms after each sublayer, q/k RMSNorm over the projection", olmo2,
             maps=LLAMA_MAPS + ("attention_bias",), ignores=LLAMA_IGNORES),
    Importer("olmo3", "OLMo-3: OLMo-2's norms, 3 sliding : 1 full layers", olmo3,
             maps=LLAMA_MAPS + ("attention_bias", "sliding_window", "layer_types"), ignores=LLAMA_IGNORES),
    Importer("olmoe", "OLMoE: routed SwiGLU experts in every layer, q/k RMSNorm over the projection", olmoe,
             maps=DECODER_MAPS + ("head_dim", "attention_bias", "num_experts", "num_local_experts",
                                  "num_experts_per_tok"),
             ignores=DECODER_IGNORES + ROUTING + ("clip_qkv",)),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
