"""Importer plugins, a config.json to a preset by model_type: add a family as a new module here, listed in
IMPORTER_PLUGINS and, with the model_types it registers, in MODEL_TYPES below.

A module per model family, named for the family it reads (llama, qwen, gemma, gpt2, deepseek, ...),
each registering an acct.Importer per model_type; `common` holds the field lists and conversions
the families share. Field defaults are those of transformers 5.24's config classes; where the
modeling code reads a key its config class does not declare (head_dim, through getattr), the
importer honours it too. They are imported only when a config.json is read or the plugins are
listed (acct.model.registry's deferred loading), and named `hf_` + the module (`hf_granite`).
A third party's importer is the same module outside acct (README, "Writing an importer").
"""

# model_type -> the builtin module that registers its importer: reading a config.json imports that
# module alone, not every family's (tests/test_startup.py checks each module registers these)
MODEL_TYPES = {
    model_type: f"acct.plugins.importers.{module}"
    for module, model_types in {
        "apertus": ("apertus",), "arcee": ("arcee",), "bigcode": ("gpt_bigcode", "starcoder2"),
        "cohere": ("cohere", "cohere2"), "deepseek": ("deepseek_v2", "deepseek_v3"),
        "ernie": ("ernie4_5", "ernie4_5_moe"), "exaone": ("exaone4",), "falcon": ("falcon",),
        "gemma": ("gemma", "gemma2", "gemma3_text"), "glm": ("glm", "glm4", "glm4_moe"), "gpt2": ("gpt2",),
        "gpt_neo": ("gpt_neo", "gpt_neox", "gptj"), "gpt_oss": ("gpt_oss",),
        "granite": ("granite", "granitemoe", "granitemoeshared"), "helium": ("helium",),
        "hunyuan": ("hunyuan_v1_dense",), "llama": ("llama",), "mistral": ("mistral", "mixtral"),
        "nemotron": ("nemotron",), "olmo": ("olmo", "olmo2", "olmo3", "olmoe"), "opt": ("opt",),
        "phi": ("phi", "phi3", "phimoe"), "qwen": ("qwen2", "qwen2_moe", "qwen3", "qwen3_moe"),
        "seed_oss": ("seed_oss",), "smollm3": ("smollm3",), "stablelm": ("stablelm",),
    }.items()
    for model_type in model_types
}
