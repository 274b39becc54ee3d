"""An importer plugin for IBM Granite (model_type "granite"): Llama's shape, with multipliers that scale
activations and logits but hold no parameter and multiply no matrix."""

import acct

ATTENTION = ("q_proj", "k_proj", "v_proj", "out_proj")


def convert(c):
    c.set("vocab_size", c.integer("vocab_size"), "vocab_size")
    c.set("context_length", c.integer("max_position_embeddings", 2048), "max_position_embeddings")
    c.set("num_layers", c.integer("num_hidden_layers"), "num_hidden_layers")
    c.set("d_model", c.integer("hidden_size"), "hidden_size")
    heads = c.integer("num_attention_heads")
    kv_heads = c.integer("num_key_value_heads", heads)  # null or absent: one per query head
    c.set("num_heads", heads, "num_attention_heads")
    if kv_heads != heads:
        c.set("num_kv_heads", kv_heads, "num_key_value_heads")
        c.choose("qkv", "gqa", f"num_key_value_heads = {kv_heads} < num_attention_heads = {heads}")
    if c.get("hidden_act", "silu") != "silu":
        raise c.unsupported("hidden_act", c.get("hidden_act"), "is not SwiGLU's gate")
    c.set("d_ff", c.integer("intermediate_size"), "intermediate_size")
    c.choose("ffn", "swiglu", "GraniteMLP: gate, up and down projections")
    tied = c.flag("tie_word_embeddings", False)
    c.choose("lm_head", "tied" if tied else "untied", f"tie_word_embeddings = {str(tied).lower()}")
    if c.flag("attention_bias", False):
        for row in ATTENTION:
            c.bias(row, "attention_bias = true")


@acct.hookimpl
def acct_register_importers(register):
    register(acct.Importer(
        model_type="granite",
        description="IBM Granite: Llama's shape with scaling multipliers",
        convert=convert,
        maps=("vocab_size", "max_position_embeddings", "num_hidden_layers", "hidden_size", "num_attention_heads",
              "num_key_value_heads", "hidden_act", "intermediate_size", "tie_word_embeddings", "attention_bias"),
        ignores=("rms_norm_eps", "rope_theta", "rope_scaling", "attention_dropout", "embedding_multiplier",
                 "residual_multiplier", "attention_multiplier", "logits_scaling"),
        fixed={"mlp_bias": False},  # biases on the MLP: not mapped here, so only false is accepted
    ))
