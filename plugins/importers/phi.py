"""Hugging Face importers for Microsoft's Phi (1, 1.5, 2), Phi-3 and Phi-3.5-MoE: phi, phi3, phimoe.
Field defaults: transformers 5.24's config classes."""

from fractions import Fraction

from acct import Importer, hookimpl

from .common import (ATTENTION_ROWS, DECODER_IGNORES, DECODER_MAPS, DROPOUT, EPS, LLAMA_IGNORES, LLAMA_MAPS, ROPE,
                     ROPE_MAPS, ROUTING, basic, biases, decoder, every_layer_windowed, full_attention, gated_ffn, heads,
                     no_null_head_dim, norm, not_null, partial_rotary, plain_ffn, rope, tied, top_k_within)


def phi(c):
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads)
    tied(c, False)
    fraction, source = partial_rotary(c, default=Fraction(1, 2))
    rope(c, d_head, fraction, source)
    norm(c, "layernorm", "PhiDecoderLayer: one LayerNorm feeds attention and MLP in parallel", 1,
         "PhiDecoderLayer: input_layernorm only, attention and MLP in parallel")
    plain_ffn(c, "hidden_act", "gelu_new", "intermediate_size")
    biases(c, ATTENTION_ROWS + ("FFN", "lm_head"), "Phi: q, k, v, dense, fc1, fc2 and lm_head all carry biases")
    c.choose("attention", "dot_product", "full causal attention in every layer")


def phi3(c):
    num_layers, _ = decoder(c, tie_default=False)
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)  # fused gate_up_proj: the same count as two matrices
    every_layer_windowed(c, num_layers)


def phimoe(c):
    not_null(c, ("num_local_experts", "num_experts_per_tok"))  # PhimoeConfig: int
    no_null_head_dim(c, "PhimoeAttention")
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, kv_default=8)  # PhimoeConfig's default
    num_layers = c.get("num_hidden_layers")
    tied(c, False)
    rope(c, d_head)
    if c.flag("attention_bias", False):
        biases(c, ATTENTION_ROWS, "attention_bias = true (q, k, v and o projections)")
    if c.flag("lm_head_bias", False):
        biases(c, ("lm_head",), "lm_head_bias = true")
    norm(c, "layernorm", "nn.LayerNorm (weight and bias), 2 per block")
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    c.choose("ffn", "moe", "PhimoeSparseMoeBlock: a router (no bias) and num_local_experts SwiGLU experts in every "
             "layer")
    for name, field, default in (("num_experts", "num_local_experts", 16), ("experts_per_token", "num_experts_per_tok",
                                                                            2)):
        c.set(name, c.integer(field, default), field if c.get(field, None) is not None
              else f"{field} (absent: the config class's default {default})")
    width = c.integer("intermediate_size")
    top_k_within(c)
    c.set("d_ff_expert", width, "intermediate_size (each expert's width)")
    c.set("d_ff", width, "intermediate_size (every layer is MoE: the ×0 dense rows read it)")
    if c.get("sliding_window", None) is None:
        full_attention(c)
    else:
        c.choose("attention", "sliding_window", "sliding_window set: every layer slides")
        c.set("sliding_window", c.integer("sliding_window"), "sliding_window")
    del num_layers


IMPORTERS = (
    Importer("phi", "Phi (1, 1.5, 2): parallel block with one LayerNorm, partial rotary, biases", phi,
             maps=("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                   "head_dim", "intermediate_size", "max_position_embeddings", "tie_word_embeddings",
                   "hidden_act") + ROPE_MAPS,
             ignores=DROPOUT + ROPE + EPS,
             # q_layernorm/k_layernorm would be LayerNorm(d_head) with bias: no acct variant yet
             fixed={"qk_layernorm": False}),
    Importer("phi3", "Phi-3: fused qkv and gate_up projections, RMSNorm", phi3,
             maps=LLAMA_MAPS + ("sliding_window",),
             # attention_bias: not a field, Phi-3 has no biases; interpolate_factor (Phi-4-mini): a RoPE setting
             ignores=LLAMA_IGNORES + ("attention_bias", "interpolate_factor"),
             # Phi-4-mini's remote-code fields, which Phi3Config does not read: only their no-op values are
             # accepted (a bias in the checkpoint that transformers drops has no one right count)
             fixed={"lm_head_bias": False, "mlp_bias": False, "full_attn_mod": 1}),
    Importer("phimoe", "Phi-3.5-MoE: LayerNorm, biased attention and head, 16 routed SwiGLU experts", phimoe,
             maps=DECODER_MAPS + ("head_dim", "attention_bias", "lm_head_bias", "num_local_experts",
                                  "num_experts_per_tok", "sliding_window"),
             ignores=DECODER_IGNORES + ROUTING + ("input_jitter_noise",)),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
