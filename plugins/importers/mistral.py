"""Hugging Face importers for Mistral AI's Mistral and Mixtral: mistral, mixtral.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import (LLAMA_IGNORES, LLAMA_MAPS, ROUTING, alias, decoder, every_layer_windowed, gated_ffn, norm,
                     not_null, routed_experts)


def mistral(c):
    num_layers, _ = decoder(c, tie_default=False, kv_default=8)
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)
    every_layer_windowed(c, num_layers)


def mixtral(c):
    not_null(c, ("num_local_experts", "num_experts", "num_experts_per_tok"))  # MixtralConfig: int
    num_layers, _ = decoder(c, tie_default=False, kv_default=8)
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    experts = alias(c, "num_local_experts", "num_experts")
    routed_experts(c, num_layers, num_layers, "every layer", experts, width="intermediate_size",
                   defaults={experts: 8, "num_experts_per_tok": 2})  # MixtralConfig's
    every_layer_windowed(c, num_layers)


IMPORTERS = (
    Importer("mistral", "Mistral: Llama with a sliding window in every layer", mistral,
             maps=LLAMA_MAPS + ("sliding_window",),
             # MistralConfig has no bias fields: every Linear is bias=False; layer_types only warns
             ignores=LLAMA_IGNORES + ("attention_bias", "mlp_bias", "layer_types")),
    Importer("mixtral", "Mixtral: Mistral with top-k routed SwiGLU experts in every layer", mixtral,
             maps=LLAMA_MAPS + ("sliding_window", "num_local_experts", "num_experts", "num_experts_per_tok"),
             ignores=LLAMA_IGNORES + ROUTING),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
