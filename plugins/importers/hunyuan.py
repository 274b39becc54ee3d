"""Hugging Face importers for Tencent's Hunyuan (dense): hunyuan_v1_dense.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import ATTENTION_ROWS, LLAMA_IGNORES, LLAMA_MAPS, biases, decoder, flag, full_attention, gated_ffn, norm


def hunyuan_v1_dense(c):
    if c.get("head_dim", None) is None:  # HunYuanDenseV1Config's default is None, which its attention cannot use
        raise c.bad("head_dim", c.get("head_dim", None), "a whole number (HunYuanDenseV1Attention reads it; "
                    "absent or null, transformers fails)")
    decoder(c, False)
    bias, source = flag(c, "attention_bias", False)
    if bias:
        biases(c, ATTENTION_ROWS, f"{source} (q, k, v and o projections)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    c.choose("qk_norm", "head", "HunYuanDenseV1Attention query_layernorm, key_layernorm: RMSNorm over head_dim")
    gated_ffn(c)
    full_attention(c)


IMPORTERS = (
    Importer("hunyuan_v1_dense", "Hunyuan (dense): GQA, per-head q/k RMSNorm", hunyuan_v1_dense,
             maps=LLAMA_MAPS + ("attention_bias",), ignores=LLAMA_IGNORES + ("eod_token_id",),
             # not HunYuanDenseV1Config fields: transformers builds the MLP without bias and RMSNorm whatever
             # they say, so only the values it builds are accepted
             fixed={"mlp_bias": False, "norm_type": "rms", "use_qk_norm": True}),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
