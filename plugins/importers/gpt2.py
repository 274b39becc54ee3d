"""Hugging Face importers for OpenAI's GPT-2: gpt2.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import GPT_ALIASES, GPT_IGNORES, basic, biases, gpt_names, heads, norm, plain_ffn, tied


def gpt2(c):
    positions_field, hidden, layers, head_field = gpt_names(c)
    d_model, num_heads = basic(c, context=positions_field, hidden=hidden, layers=layers, heads=head_field)
    heads(c, d_model, num_heads, kv_field=None, head_dim=None, names=(hidden, head_field))
    positions = c.integer(positions_field)
    c.choose("position", "learned", f"GPT2Model.wpe: a learned table of {positions_field}")
    c.set("max_positions", positions, positions_field)
    tied(c, True)
    norm(c, "layernorm", "LayerNorm (weight and bias), 2 per block")
    inner = c.get("n_inner", None)
    plain_ffn(c, "activation_function", "gelu_new", width_value=c.integer("n_inner") if inner is not None
              else 4 * d_model, width_source="n_inner" if inner is not None else "n_inner (null: 4 * n_embd)")
    biases(c, ("attention projections", "FFN"), "GPT-2's Conv1D layers (c_attn, c_proj, c_fc) all carry biases")
    c.choose("attention", "dot_product", "full causal attention in every layer")


IMPORTERS = (
    Importer("gpt2", "GPT-2: learned positions, LayerNorm, GELU MLP, biases everywhere, tied", gpt2,
             maps=("vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner", "activation_function",
                   "tie_word_embeddings") + GPT_ALIASES,
             # n_special, predict_special_tokens: OpenAI GPT's fields, left in gpt2-medium's and gpt2-large's
             # config.json; GPT2Config does not read them (no extra embedding rows)
             ignores=GPT_IGNORES + ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "n_special",
                                    "predict_special_tokens", "gradient_checkpointing"),
             fixed={"add_cross_attention": False}),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
