"""Query, key and value projections: D→H·d_k for the queries, D→H_kv·d_k and D→H_kv·d_v for keys and values."""

from acct import Component, Input, hookimpl

GQA_NOTE = (
    "grouped-query attention: K and V project to num_kv_heads·d_k and each is shared by "
    "num_heads/num_kv_heads query heads; QKᵀ and attention·V are counted over all num_heads "
    "query heads, as the model runs"
)

# the output widths of the three projections: H·d_k queries, H_kv·d_k keys, H_kv·d_v values
WIDTHS = {
    "q_proj": "num_heads * d_head",
    "k_proj": "num_kv_heads * d_head",
    "v_proj": "num_kv_heads * d_head_v",
}


@hookimpl
def acct_register_inputs(register):
    register(Input("num_heads", "attention heads", symbol="H"))
    # settable: Gemma (d_k = 256 with H·d_k = D at 2B, ≠ D at 7B) and Qwen3 have H·d_k ≠ D
    register(Input("d_head", "width of one attention head", symbol="d_k",
                   default="d_model / num_heads"))
    # MLA's v_head_dim differs from its query/key width
    register(Input("d_head_v", "width of one value head", symbol="d_v", default="d_head"))
    register(
        Input(
            "num_kv_heads",
            "key/value heads (grouped-query attention; 1 is multi-query)",
            symbol="H_kv",
            default="num_heads",
        )
    )
    register(
        Input(
            "queries_per_kv",
            "query heads per key/value head (num_heads must divide by num_kv_heads)",
            symbol="G",
            default="num_heads / num_kv_heads",
            settable=False,
        )
    )


def _activations(name, width):
    """Bytes kept for the backward pass. cs336: the projection's output. Korthikanti
    et al.: the shared input (2sbh, kept with Q) and Q, K, V themselves."""
    output = f"activation_bytes * context_length * {width}"
    if name == "q_proj":
        korthikanti = f"activation_bytes * context_length * (d_model + {width})"
    else:
        korthikanti = output
    # PyTorch (eager, sdpa): the input is the norm's output, kept there; under autocast each projection
    # keeps its own bf16 copy of it (autocast caches only the weights' casts)
    cast = "autocast * activation_bytes * context_length * d_model"
    return {"cs336": output, "korthikanti": korthikanti, "korthikanti_recompute": 0, "eager": cast, "sdpa": cast}


def _projection(name, variant, what, default=False, note=""):
    """A D→width projection over T tokens; biased, its bias has `width` entries.
    Both variants read num_kv_heads and check that it divides num_heads: `mha` is `gqa` at
    its default H_kv = H, so a preset that sets num_kv_heads under `mha` is still checked."""
    width = WIDTHS[name]
    return Component(
        name=name,
        slot="qkv",
        variant=variant,
        group="attention projections",
        params=f"d_model * {width}",
        flops=f"2 * context_length * d_model * {width}",
        per_layer=True,
        shape=("context_length", "d_model", width),
        bias=width,
        description=f"{what} projection W_{name[0].upper()}",
        default=default,
        note=note,
        requires=("queries_per_kv",),
        activations=_activations(name, width),
    )


@hookimpl
def acct_register_components(register):
    for variant in ("mha", "gqa"):
        for name, what in (("q_proj", "query"), ("k_proj", "key"), ("v_proj", "value")):
            note = GQA_NOTE if variant == "gqa" and name == "k_proj" else ""
            register(_projection(name, variant, what, default=variant == "mha", note=note))
