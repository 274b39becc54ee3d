"""Hugging Face importers for Arcee's AFM: arcee.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import ATTENTION_ROWS, LLAMA_IGNORES, LLAMA_MAPS, biases, decoder, flag, full_attention, norm


def _relu2_ffn(c, default="relu2"):
    act = c.get("hidden_act", default)
    if act != "relu2":
        raise c.unsupported("hidden_act", act, "is an MLP activation without an acct variant beside relu2")
    c.set("d_ff", c.integer("intermediate_size"), "intermediate_size")
    c.choose("ffn", "relu2", "hidden_act = \"relu2\": up and down projections, squared ReLU")


def arcee(c):
    decoder(c, False)
    bias, source = flag(c, "attention_bias", False)
    if bias:
        biases(c, ATTENTION_ROWS, f"{source} (q, k, v and o projections)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    _relu2_ffn(c)
    if c.flag("mlp_bias", False):
        biases(c, ("FFN",), "mlp_bias = true (up and down projections)")
    full_attention(c)


IMPORTERS = (
    Importer("arcee", "Arcee AFM: Llama's attention, squared-ReLU up/down MLP", arcee,
             maps=LLAMA_MAPS + ("attention_bias", "mlp_bias"), ignores=LLAMA_IGNORES),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
