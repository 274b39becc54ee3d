"""acct's builtin component plugins, one module per family; loaded before any other plugin."""

DEFAULT_PLUGINS = (
    "acct.plugins.transformer",
    "acct.plugins.embedding",
    "acct.plugins.position",
    "acct.plugins.qkv",
    "acct.plugins.qk_norm",
    "acct.plugins.mla",
    "acct.plugins.attention",
    "acct.plugins.attention_output",
    "acct.plugins.ffn",
    "acct.plugins.moe",
    "acct.plugins.norms",
    "acct.plugins.head",
    "acct.plugins.training",
    "acct.plugins.hardware",
    "acct.plugins.conventions",
    "acct.plugins.extra_variants",
)

# Hugging Face config.json importers (acct_register_importers alone), by model_type. They are
# discovered the same way, through pluggy, but imported only when a config.json is read or the
# plugins are listed: a preset never pays for them.
IMPORTER_PLUGINS = (
    "acct.plugins.hf_llama",
    "acct.plugins.hf_gpt",
    "acct.plugins.hf_deepseek",
    "acct.plugins.hf_granite",
    "acct.plugins.hf_more",
    "acct.plugins.hf_recent",
)
