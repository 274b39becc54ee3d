"""What the importers of hf_granite, hf_more and hf_recent share beyond hf_common (not a plugin itself)."""


def no_null_head_dim(c, where):
    """head_dim = null: most attention classes read it with getattr and cannot use None (transformers fails)."""
    if "head_dim" in c and c.get("head_dim") is None:
        raise c.bad("head_dim", None, f"a whole number ({where} reads it and cannot use null)")


def null_head_dim_derived(c, default):
    """The head_dim default of config classes whose __post_init__ fills null with hidden_size //
    num_attention_heads but keep their declared default when the field is absent (ERNIE-4.5, Seed-OSS)."""
    return None if "head_dim" in c and c.get("head_dim") is None else default
