"""Hugging Face importers for Swiss AI's Apertus: apertus.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import ATTENTION_ROWS, LLAMA_IGNORES, LLAMA_MAPS, biases, decoder, flag, full_attention, norm


def apertus(c):
    decoder(c, False, where="ApertusAttention")
    bias, source = flag(c, "attention_bias", False)
    if bias:
        biases(c, ATTENTION_ROWS, f"{source} (q, k, v and o projections)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block (attention_layernorm, feedforward_layernorm)")
    c.choose("qk_norm", "head", "ApertusAttention q_norm, k_norm: RMSNorm over head_dim")
    act = c.get("hidden_act", "xielu")
    if act != "xielu":
        raise c.unsupported("hidden_act", act, "is an MLP activation without an acct variant beside xielu")
    c.set("d_ff", c.integer("intermediate_size"), "intermediate_size")
    c.choose("ffn", "xielu", "hidden_act = \"xielu\": up and down projections, xIELU with two trainable scalars")
    full_attention(c)


IMPORTERS = (
    Importer("apertus", "Apertus: q/k RMSNorm, xIELU up/down MLP (two trainable scalars per layer)", apertus,
             maps=LLAMA_MAPS + ("attention_bias",), ignores=LLAMA_IGNORES,
             # not ApertusConfig fields: its layers always have q/k norms, pre-norms and a bias-free MLP
             fixed={"qk_norm": True, "post_norm": False, "mlp_bias": False}),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
