"""Hugging Face importers for Llama: llama.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import LLAMA_IGNORES, LLAMA_MAPS, biases, decoder, gated_ffn, norm, qkv_bias


def llama(c):
    num_layers, _ = decoder(c, tie_default=False)
    qkv_bias(c, "attention_bias")
    if c.flag("mlp_bias", False):
        biases(c, ("FFN",), "mlp_bias = true")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block, before attention and MLP")
    gated_ffn(c)
    c.choose("attention", "dot_product", "full causal attention in every layer")


IMPORTERS = (
    Importer("llama", "Llama: GQA, SwiGLU, RMSNorm, RoPE", llama,
             maps=LLAMA_MAPS + ("attention_bias", "mlp_bias"),
             # max_sequence_length: LLaMA-1 conversions' copy of max_position_embeddings, read by no LlamaConfig
             ignores=LLAMA_IGNORES + ("max_sequence_length",)),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
