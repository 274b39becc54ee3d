"""acct's builtin plugins, a folder per kind of extension: components/, importers/, conventions/, hardware/.

Each module in those folders is a plugin (a module of acct_register_* hooks), listed below in the
order acct loads them, before any other plugin; a module named `common` holds what its folder's
plugins share and is not one. A builtin plugin is named for its module (`ffn`, `flops`, `nvidia`),
an importer plugin `hf_` and its module's name (`hf_llama`): the names `acct plugins` lists and
`--disable` takes.
"""

COMPONENT_PLUGINS = (
    "acct.plugins.components.transformer",
    "acct.plugins.components.embedding",
    "acct.plugins.components.position",
    "acct.plugins.components.qkv",
    "acct.plugins.components.qk_norm",
    "acct.plugins.components.mla",
    "acct.plugins.components.attention",
    "acct.plugins.components.attention_output",
    "acct.plugins.components.ffn",
    "acct.plugins.components.moe",
    "acct.plugins.components.norms",
    "acct.plugins.components.head",
    "acct.plugins.components.training",
    "acct.plugins.components.extra_variants",
)

HARDWARE_PLUGINS = (
    "acct.plugins.hardware.nvidia",
)

CONVENTION_PLUGINS = (
    "acct.plugins.conventions.flops",
)

DEFAULT_PLUGINS = COMPONENT_PLUGINS + HARDWARE_PLUGINS + CONVENTION_PLUGINS

# Hugging Face config.json importers (acct_register_importers alone), a module per model family. They
# are discovered the same way, through pluggy, but imported only when a config.json is read or the
# plugins are listed: a preset never pays for them.
IMPORTER_PLUGINS = (
    "acct.plugins.importers.llama",
    "acct.plugins.importers.mistral",
    "acct.plugins.importers.qwen",
    "acct.plugins.importers.phi",
    "acct.plugins.importers.olmo",
    "acct.plugins.importers.gemma",
    "acct.plugins.importers.granite",
    "acct.plugins.importers.glm",
    "acct.plugins.importers.helium",
    "acct.plugins.importers.smollm3",
    "acct.plugins.importers.exaone",
    "acct.plugins.importers.ernie",
    "acct.plugins.importers.hunyuan",
    "acct.plugins.importers.seed_oss",
    "acct.plugins.importers.arcee",
    "acct.plugins.importers.apertus",
    "acct.plugins.importers.cohere",
    "acct.plugins.importers.stablelm",
    "acct.plugins.importers.nemotron",
    "acct.plugins.importers.gpt2",
    "acct.plugins.importers.gpt_neo",
    "acct.plugins.importers.bigcode",
    "acct.plugins.importers.falcon",
    "acct.plugins.importers.opt",
    "acct.plugins.importers.deepseek",
    "acct.plugins.importers.gpt_oss",
)

IMPORTER_PREFIX = "hf_"  # an importer plugin's name: hf_llama, never a bare llama a user's llama.py would take


def plugin_name(module_name: str) -> str:
    """The name a builtin plugin module goes by: its module's name, an importer's with the prefix."""
    stem = module_name.rsplit(".", 1)[-1]
    return IMPORTER_PREFIX + stem if module_name.startswith("acct.plugins.importers.") else stem
