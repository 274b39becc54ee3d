"""Component plugins, the model's rows by slot and variant: add one as a new module here, listed in COMPONENT_PLUGINS.

A module per family of rows: transformer inputs, token embedding, position, Q/K/V projections
(and MLA, QK-norm), attention products, attention output, FFN, mixture of experts, norms, LM head,
training inputs and activation conventions, and the variants only imported models use
(`extra_variants`). A third party's component is the same module outside acct, loaded with
`-p FILE` or an entry point (README, "Writing a component plugin").
"""
