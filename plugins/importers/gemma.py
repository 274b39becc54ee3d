"""Hugging Face importers for Google's Gemma, Gemma-2 and Gemma-3 (text): gemma, gemma2, gemma3_text.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import LLAMA_IGNORES, LLAMA_MAPS, decoder, gated_ffn, layer_types, norm, qkv_bias, windowed

# Gemma-2/3's MLP reads hidden_activation; a hidden_act key there is inert
GEMMA_MAPS = tuple(name for name in LLAMA_MAPS if name != "hidden_act")
GEMMA_IGNORES = ("query_pre_attn_scalar", "final_logit_softcapping", "attn_logit_softcapping",
                 "cache_implementation")


def _gemma_sandwich(c, head_dim_default=256):
    num_layers, _ = decoder(c, tie_default=True, head_dim_default=head_dim_default, kv_default=4)
    qkv_bias(c, "attention_bias")
    norm(c, "rmsnorm", "(1 + w) RMSNorm", 4, "input, post-attention, pre- and post-feedforward norms")
    gated_ffn(c, act_field="hidden_activation", default="gelu_pytorch_tanh")
    return num_layers


def gemma(c):
    decoder(c, tie_default=True, head_dim_default=256, kv_default=16)
    qkv_bias(c, "attention_bias")
    norm(c, "rmsnorm", "GemmaRMSNorm (one weight, as (1 + w)), 2 per block")
    gated_ffn(c, default="gelu_pytorch_tanh")
    c.choose("attention", "dot_product", "full causal attention in every layer")


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


IMPORTERS = (
    Importer("gemma", "Gemma: GeGLU, head_dim 256, tied", gemma,
             maps=LLAMA_MAPS + ("attention_bias",),
             ignores=LLAMA_IGNORES + ("hidden_activation",),  # not a GemmaConfig field: the MLP reads hidden_act
             fixed={"use_bidirectional_attention": False}),
    Importer("gemma2", "Gemma-2: sandwich norms, alternating sliding and full layers", gemma2,
             maps=GEMMA_MAPS + ("attention_bias", "hidden_activation", "sliding_window", "layer_types"),
             # sliding_window_size: an early Gemma-2 config key (gemma-2-9b, 27b), read by no Gemma2Config
             ignores=LLAMA_IGNORES + GEMMA_IGNORES + ("hidden_act", "sliding_window_size"),
             fixed={"use_bidirectional_attention": False}),
    Importer("gemma3_text", "Gemma-3 (text): sandwich norms, q/k norm, 5 sliding : 1 full", gemma3_text,
             maps=GEMMA_MAPS + ("attention_bias", "hidden_activation", "sliding_window", "layer_types",
                                "sliding_window_pattern", "_sliding_window_pattern"),
             ignores=LLAMA_IGNORES + GEMMA_IGNORES + ("hidden_act",), fixed={"use_bidirectional_attention": False}),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
