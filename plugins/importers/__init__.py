"""Importer plugins, a config.json to a preset by model_type: add a family as a new module here, listed in IMPORTER_PLUGINS.

A module per model family, named for the family it reads (llama, qwen, gemma, gpt2, deepseek, ...),
each registering an acct.Importer per model_type; `common` holds the field lists and conversions
the families share. Field defaults are those of transformers 5.24's config classes; where the
modeling code reads a key its config class does not declare (head_dim, through getattr), the
importer honours it too. They are imported only when a config.json is read or the plugins are
listed (acct.model.registry's deferred loading), and named `hf_` + the module (`hf_granite`).
A third party's importer is the same module outside acct (README, "Writing an importer").
"""
