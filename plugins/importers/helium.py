"""Hugging Face importers for Kyutai's Helium: helium.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import LLAMA_IGNORES, LLAMA_MAPS, biases, decoder, flag, full_attention, gated_ffn, norm


def helium(c):
    d_model = c.integer("hidden_size")
    _, d_head = decoder(c, False, head_dim_default=128, kv_default=20, where="HeliumAttention")
    heads_ = c.integer("num_attention_heads")
    if heads_ * d_head != d_model:
        raise c.unsupported("head_dim", d_head, f"× num_attention_heads ({heads_}) differs from hidden_size "
                            f"({d_model}): HeliumAttention's o_proj is hidden_size × hidden_size, so transformers "
                            "cannot run it")
    bias, source = flag(c, "attention_bias", False)
    if bias:
        biases(c, ("q_proj", "k_proj", "v_proj"), f"{source} (q, k, v projections; o_proj never)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)
    if c.flag("mlp_bias", False):
        biases(c, ("FFN",), "mlp_bias = true")
    full_attention(c)


IMPORTERS = (
    Importer("helium", "Kyutai Helium: Llama's shape, head_dim 128", helium,
             maps=LLAMA_MAPS + ("attention_bias", "mlp_bias"), ignores=LLAMA_IGNORES),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
