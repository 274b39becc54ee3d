"""Hugging Face importers for ByteDance's Seed-OSS: seed_oss.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import (LLAMA_IGNORES, LLAMA_MAPS, biases, decoder, flag, full_attention, gated_ffn, norm,
                     null_head_dim_derived)


def seed_oss(c):
    decoder(c, False, head_dim_default=null_head_dim_derived(c, 128), kv_default=8)
    bias, source = flag(c, "attention_bias", True)
    if bias:
        biases(c, ("q_proj", "k_proj", "v_proj"), f"{source} (q, k, v projections)")
    out, source = flag(c, "attention_out_bias", False)
    if out:
        biases(c, ("out_proj",), f"{source} (o_proj)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)
    if c.flag("mlp_bias", False):
        biases(c, ("FFN",), "mlp_bias = true")
    full_attention(c)


IMPORTERS = (
    Importer("seed_oss", "Seed-OSS: GQA, q/k/v biases, head_dim 128", seed_oss,
             maps=LLAMA_MAPS + ("attention_bias", "attention_out_bias", "mlp_bias"), ignores=LLAMA_IGNORES),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
