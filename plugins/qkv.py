"""Query, key and value projections: multi-head (three D×D matrices) or grouped-query attention."""

from acct import Component, Input, hookimpl

GQA_NOTE = (
    "grouped-query attention: K and V project to num_kv_heads·d_k and each is shared by "
    "num_heads/num_kv_heads query heads; QKᵀ and attention·V are counted over all num_heads "
    "query heads, as the model runs"
)


@hookimpl
def acct_register_inputs(register):
    register(Input("num_heads", "attention heads", symbol="H"))
    register(
        Input(
            "d_head",
            "width of one attention head",
            symbol="d_k",
            default="d_model / num_heads",
            settable=False,
        )
    )
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
    return {"cs336": output, "korthikanti": korthikanti, "korthikanti_recompute": 0}


def _projection(name, variant, width, what, default=False, note=""):
    """A D→width projection over T tokens; biased, its bias has `width` entries;
    the attention products hold K and V in the KV cache."""
    return Component(
        name=name,
        slot="qkv",
        variant=variant,
        group="attention projections",
        params=f"d_model * {width}" if width != "d_model" else "d_model ** 2",
        flops=f"2 * context_length * d_model * {width}" if width != "d_model" else "2 * context_length * d_model ** 2",
        per_layer=True,
        shape=("context_length", "d_model", width),
        bias=width,
        description=f"{what} projection W_{name[0].upper()}",
        default=default,
        note=note,
        requires=("queries_per_kv",) if variant == "gqa" else (),
        activations=_activations(name, width),
    )


@hookimpl
def acct_register_components(register):
    for name, what in (("q_proj", "query"), ("k_proj", "key"), ("v_proj", "value")):
        register(_projection(name, "mha", "d_model", what, default=True))
    register(_projection("q_proj", "gqa", "d_model", "query"))
    register(_projection("k_proj", "gqa", "num_kv_heads * d_head", "key", note=GQA_NOTE))
    register(_projection("v_proj", "gqa", "num_kv_heads * d_head", "value"))
