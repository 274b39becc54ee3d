"""Hugging Face importers for EleutherAI's GPT-Neo, GPT-J and GPT-NeoX (Pythia): gpt_neo, gptj, gpt_neox.
Field defaults: transformers 5.24's config classes."""

from fractions import Fraction

from acct import Importer, hookimpl

from .common import (ATTENTION_ROWS, DROPOUT, EPS, GPT_ALIASES, GPT_IGNORES, ROPE, ROPE_MAPS, alias, basic, biases,
                     gpt_names, heads, learned_positions, norm, partial_rotary, plain_ffn, rope, tied)


def _neo_layers(c, types):
    """GPTNeoConfig.expand_attention_types_params: [[kinds, repeat], ...] -> one kind per layer."""
    layers = []
    expected = "a list of [[\"global\" or \"local\", ...], count] pairs"
    if not isinstance(types, list):
        raise c.bad("attention_types", types, expected)
    for item in types:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], list) and isinstance(item[1], int)
                and not isinstance(item[1], bool) and 0 <= item[1] <= 100_000
                and all(kind in ("global", "local") for kind in item[0])):
            raise c.bad("attention_types", types, expected)
        layers.extend(item[0] * item[1])
        if len(layers) > 1_000_000:
            raise c.bad("attention_types", types, "at most 1,000,000 layers")
    return layers


def gpt_neo(c):
    layers = alias(c, "num_layers", "num_hidden_layers")
    head_field = alias(c, "num_heads", "num_attention_heads")
    d_model, num_heads = basic(c, layers=layers, heads=head_field)
    heads(c, d_model, num_heads, kv_field=None, head_dim=None, names=("hidden_size", head_field))
    num_layers = c.get(layers)
    learned_positions(c, "max_position_embeddings", c.integer("max_position_embeddings"))
    tied(c, True)
    norm(c, "layernorm", "LayerNorm (weight and bias), 2 per block")
    inner = c.get("intermediate_size", None)
    plain_ffn(c, "activation_function", "gelu_new", width_value=c.integer("intermediate_size") if inner is not None
              else 4 * d_model, width_source="intermediate_size" if inner is not None
              else "intermediate_size (null: 4 * hidden_size)")
    biases(c, ("out_proj", "FFN"), "GPT-Neo: q, k, v unbiased; out_proj, c_fc and c_proj biased")
    kinds = _neo_layers(c, c.get("attention_types", [[["global", "local"], 12]]))
    if len(kinds) != num_layers:
        raise c.bad("attention_types", c.get("attention_types", None), f"{num_layers} layers in all ({layers})")
    saved = c.get("attention_layers", None)
    if saved is not None and saved != kinds:
        raise c.unsupported("attention_layers", saved, "differs from what attention_types expands to, which "
                            "transformers reads instead")
    local = kinds.count("local")
    if not local:
        c.choose("attention", "dot_product", "attention_types: every layer global")
        return
    c.choose("attention", "sliding_window", f"attention_types: {local} of {num_layers} layers local")
    c.set("sliding_window", c.integer("window_size", 256), "window_size" if c.get("window_size", None) is not None
          else "window_size (absent: 256)")
    if local != num_layers:
        c.set("local_layers", local, "attention_types")


def gptj(c):
    positions_field, hidden, layers, head_field = gpt_names(c)
    d_model, num_heads = basic(c, context=positions_field, hidden=hidden, layers=layers, heads=head_field)
    d_head, _ = heads(c, d_model, num_heads, kv_field=None, head_dim=None, names=(hidden, head_field))
    tied(c, False)
    rotary = c.get("rotary_dim", 64)
    if rotary is None:
        rope(c, d_head, Fraction(1), "rotary_dim = null: the whole head")
    else:
        dims = c.integer("rotary_dim")
        if dims > d_head:
            raise c.bad("rotary_dim", dims, f"at most the head width {d_head}")
        rope(c, d_head, Fraction(dims, d_head), "rotary_dim")
    norm(c, "layernorm", "GPTJBlock: one LayerNorm (ln_1) feeds attention and MLP in parallel", 1,
         "GPTJBlock: ln_1 only, attention and MLP in parallel")
    inner = c.get("n_inner", None)
    plain_ffn(c, "activation_function", "gelu_new", width_value=c.integer("n_inner") if inner is not None
              else 4 * d_model, width_source="n_inner" if inner is not None else "n_inner (null: 4 * n_embd)")
    biases(c, ("FFN", "lm_head"), "GPT-J: fc_in, fc_out and lm_head carry biases, attention none")
    c.choose("attention", "dot_product", "full causal attention in every layer")


def gpt_neox(c):
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, kv_field=None, head_dim=None)
    tied(c, False)
    fraction, source = partial_rotary(c, default=Fraction(1, 4), legacy="rotary_pct")
    rope(c, d_head, fraction, source)
    # two LayerNorms per block, in parallel (use_parallel_residual) or in sequence: the same count
    norm(c, "layernorm", "LayerNorm (weight and bias), 2 per block")
    plain_ffn(c, "hidden_act", "gelu", "intermediate_size")
    if c.flag("attention_bias", True):
        biases(c, ATTENTION_ROWS, "attention_bias = true (query_key_value and dense)"
               if c.get("attention_bias", None) is not None else "attention_bias (absent: true)")
    biases(c, ("FFN",), "GPTNeoXMLP: dense_h_to_4h and dense_4h_to_h always carry biases")
    c.choose("attention", "dot_product", "full causal attention in every layer")


IMPORTERS = (
    Importer("gpt_neo", "GPT-Neo: learned positions, alternating global and local (windowed) attention", gpt_neo,
             maps=("vocab_size", "max_position_embeddings", "hidden_size", "num_layers", "num_hidden_layers",
                   "num_heads", "num_attention_heads", "intermediate_size", "activation_function",
                   "tie_word_embeddings", "attention_types", "attention_layers", "window_size"),
             ignores=DROPOUT + EPS + ("resid_dropout", "embed_dropout", "summary_type", "summary_use_proj",
                                      "summary_activation", "summary_proj_to_labels", "summary_first_dropout")),
    Importer("gptj", "GPT-J: one LayerNorm, parallel attention and MLP, partial rotary, lm_head bias", gptj,
             maps=("vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner", "activation_function",
                   "tie_word_embeddings", "rotary_dim") + GPT_ALIASES,
             ignores=GPT_IGNORES + ("rotary", "gradient_checkpointing")),
    Importer("gpt_neox", "GPT-NeoX / Pythia: partial rotary, two LayerNorms, parallel residual", gpt_neox,
             maps=("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                   "max_position_embeddings", "tie_word_embeddings", "hidden_act", "attention_bias",
                   "rotary_pct") + ROPE_MAPS,
             ignores=DROPOUT + ROPE + EPS + ("use_parallel_residual", "is_decoder")),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
