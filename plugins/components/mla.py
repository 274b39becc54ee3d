"""Multi-head latent attention's projections (DeepSeek-V2/V3): keys and values through a shared low-rank latent.

qkv variants `mla` (the query directly, q_proj D→H·d_k) and `mla_lora` (the query through
q_lora_rank: q_a_proj, its RMSNorm, q_b_proj). Both project D to the latent and the shared
rotary key (kv_a_proj, D→r_kv + d_r), normalize the latent (kv_a_norm) and up-project it to
every head's non-rotary key and value (kv_b_proj, r_kv→H·((d_k − d_r) + d_v)). d_k is the
query/key head width qk_nope + qk_rope, d_v the value head width; the output projection
(H·d_v→D) is acct.plugins.components.attention_output's, the products `attention = "mla"`
(acct.plugins.components.attention), whose KV cache holds the latent and the rotary key.

Biases follow transformers' `attention_bias`: q_a_proj, kv_a_proj and out_proj carry one;
q_proj, q_b_proj and kv_b_proj never do.
"""

from acct import Component, Input, hookimpl


@hookimpl
def acct_register_inputs(register):
    register(Input("kv_lora_rank", "width of MLA's compressed key/value latent", symbol="r_kv"))
    register(Input("q_lora_rank", "width of MLA's compressed query (mla_lora)", symbol="r_q"))
    register(Input("qk_rope_head_dim", "rotary part of each query/key head (MLA), shared by the heads' keys",
                   symbol="d_r"))


# Activations: cs336 keeps each row's output. Korthikanti et al. (by analogy with their
# multi-head count): the shared input once (with the query's first projection), each
# up-projection's input, Q, and the keys and values QKᵀ and attention·V read.
def _linear(name, k, n, description, variant, korthikanti, bias=None, flops_decode=None, tensor_parallel=None):
    return Component(
        name=name,
        slot="qkv",
        variant=variant,
        group="attention projections",
        params=f"{k} * {n}",
        flops=f"2 * context_length * {k} * {n}",
        per_layer=True,
        shape=("context_length", k, n),
        bias=bias,
        tensor_parallel=tensor_parallel,
        description=description,
        flops_decode=flops_decode,
        requires_variants={"attention": ("mla",)},
        default=False,
        activations={"cs336": f"activation_bytes * context_length * {n}",
                     "korthikanti": f"activation_bytes * context_length * {korthikanti}",
                     "korthikanti_recompute": 0},
    )


def _norm(name, width, description, variant):
    """An RMSNorm gain inside the projections: no matmul, 4 FLOPs per element (as acct.plugins.components.norms)."""
    kept = f"activation_bytes * context_length * {width}"
    return Component(
        name=name,
        slot="qkv",
        variant=variant,
        group="norms",
        params=width,
        flops=0,
        per_layer=True,
        description=description,
        activations={"cs336": kept, "korthikanti": kept, "korthikanti_recompute": 0},
        flops_other=f"4 * context_length * {width}",
        requires_variants={"attention": ("mla",)},
    )


QUERY = "num_heads * d_head"
# Megatron's multi-latent attention builds its down-projections (linear_q_down_proj,
# linear_kv_down_proj) as TELinear with parallel_mode="duplicated": whole on every tensor-parallel
# rank; the up-projections are column-parallel, the output projection row-parallel
DUPLICATED = "replicated"
LATENT = "kv_lora_rank + qk_rope_head_dim"
UP = "num_heads * (d_head - qk_rope_head_dim + d_head_v)"


@hookimpl
def acct_register_components(register):
    for variant in ("mla", "mla_lora"):
        if variant == "mla":
            register(_linear("q_proj", "d_model", QUERY, "query projection W_Q: D→H·d_k", variant,
                             korthikanti=f"(d_model + {QUERY})"))
        else:
            register(_linear("q_a_proj", "d_model", "q_lora_rank", "query down-projection: D→r_q", variant,
                             korthikanti="d_model", bias="q_lora_rank", tensor_parallel=DUPLICATED))
            register(_norm("q_a_norm", "q_lora_rank", "RMSNorm of the compressed query (gain only)", variant))
            register(_linear("q_b_proj", "q_lora_rank", QUERY, "query up-projection: r_q→H·d_k", variant,
                             korthikanti=f"(q_lora_rank + {QUERY})"))
        register(_linear("kv_a_proj", "d_model", f"({LATENT})",
                         "key/value down-projection to the latent and the rotary key: D→r_kv + d_r", variant,
                         korthikanti=f"({LATENT})", bias=LATENT, tensor_parallel=DUPLICATED))
        register(_norm("kv_a_norm", "kv_lora_rank", "RMSNorm of the key/value latent (gain only)", variant))
        # decoding from the latent cache up-projects every cached token's latent again, t of them
        # at position t (as transformers' DeepSeek forward does; absorbing W_UK into the query
        # would trade this for other products, which acct does not assume)
        register(_linear("kv_b_proj", "kv_lora_rank", UP,
                         "key/value up-projection: r_kv→H·((d_k − d_r) + d_v), the non-rotary keys and the values",
                         variant, korthikanti=UP, flops_decode=f"2 * decode_position * kv_lora_rank * {UP}"))
