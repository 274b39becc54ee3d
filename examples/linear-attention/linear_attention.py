"""Linear attention (Katharopoulos et al. 2020): φ(Q)·(φ(K)ᵀ·V), linear in T, no T×T scores."""

import acct


@acct.hookimpl
def acct_register_inputs(register):
    register(acct.Input("feature_dim", "width of the feature map φ", symbol="d_φ", default="d_head"))


@acct.hookimpl
def acct_register_components(register):
    for name, shape in (("kv_state", ("feature_dim", "context_length", "d_head_v")),
                        ("attn_linear", ("context_length", "feature_dim", "d_head_v"))):
        register(acct.Component(
            name=name, slot="attention", variant="linear",
            group="attention scores and values", params=0, per_layer=True,
            flops="2 * context_length * num_heads * feature_dim * d_head_v",
            shape=shape, batch="num_heads",
            flops_decode="2 * num_heads * feature_dim * d_head_v",
            kv_cache="num_heads * feature_dim * d_head_v" if name == "kv_state" else 0))
