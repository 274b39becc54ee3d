"""Hugging Face importers for Baidu's ERNIE-4.5, dense and MoE: ernie4_5, ernie4_5_moe.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import (ATTENTION_ROWS, LLAMA_IGNORES, LLAMA_MAPS, alias, biases, decoder, flag, full_attention, gated_ffn,
                     no_null_head_dim, norm, null_head_dim_derived, top_k_within)


def ernie4_5(c):
    decoder(c, True, head_dim_default=null_head_dim_derived(c, 128), kv_default=2)
    bias, source = flag(c, "use_bias", False, nullable=True)  # Ernie4_5Config: bool | None
    if bias:
        biases(c, ATTENTION_ROWS + ("FFN",), f"{source} (q, k, v, o, gate, up and down projections)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)
    full_attention(c)


def ernie4_5_moe(c):
    no_null_head_dim(c, "Ernie4_5_MoeAttention")
    num_layers, _ = decoder(c, True, kv_default=4)
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    full_attention(c)
    defaults = {"moe_num_experts": 64, "moe_k": 6, "moe_intermediate_size": 1536, "moe_num_shared_experts": 2,
                "moe_layer_start_index": 1, "moe_layer_end_index": -1, "moe_layer_interval": 1}  # the class's

    def read(name, field, minimum=1):
        value = c.integer(field, defaults[name], minimum=minimum)
        return value, field if c.get(field, None) is not None else f"{field} (absent: the config class's default " \
            f"{defaults[name]})"

    start, _ = read("moe_layer_start_index", "moe_layer_start_index", minimum=0)
    end = c.get("moe_layer_end_index", -1)
    if end is None or end == -1:
        end = num_layers - 1
    else:
        end, _ = read("moe_layer_end_index", "moe_layer_end_index", minimum=0)
    interval, _ = read("moe_layer_interval", "moe_layer_interval")
    experts_field = alias(c, "moe_num_experts", "num_experts")  # Ernie4_5_MoeConfig's attribute_map
    # at least 1: with 0, transformers still builds the MoE layers' blocks without routed experts
    experts, experts_source = read("moe_num_experts", experts_field, minimum=1)
    moe_layers = sum(1 for i in range(num_layers) if (i + 1) % interval == 0 and start <= i <= end) if experts else 0
    c.set("d_ff", c.integer("intermediate_size"), "intermediate_size (the dense layers' MLP)")
    if not moe_layers:
        c.choose("ffn", "swiglu", "no MoE layer: a gated MLP in every layer")
        return
    rule = f"moe_layer_start_index = {start}, moe_layer_end_index = {end}, moe_layer_interval = {interval}"
    c.choose("ffn", "moe", f"Ernie4_5_MoeSparseMoeBlock: routed and shared SwiGLU experts in layers {rule}")
    c.set("num_experts", experts, experts_source)
    c.set("experts_per_token", *read("moe_k", alias(c, "moe_k", "num_experts_per_tok")))
    top_k_within(c)
    c.set("d_ff_expert", *read("moe_intermediate_size", "moe_intermediate_size"))
    if moe_layers != num_layers:
        c.set("moe_layers", moe_layers, f"{rule}: {moe_layers} of {num_layers} layers")
    shared, shared_source = read("moe_num_shared_experts", "moe_num_shared_experts", minimum=0)
    if shared:
        c.set("num_shared_experts", shared, f"{shared_source}: one gated MLP of moe_num_shared_experts × "
              "moe_intermediate_size")
    # Ernie4_5_MoeStatics holds it as an nn.Parameter (requires_grad=False), so parameters() counts it
    biases(c, ("router",), "Ernie4_5_MoeStatics.e_score_correction_bias: a parameter (frozen) of one value per "
           "routed expert")


IMPORTERS = (
    Importer("ernie4_5", "ERNIE-4.5 (dense): GQA, head_dim 128, optional biases everywhere, tied", ernie4_5,
             maps=LLAMA_MAPS + ("use_bias",), ignores=LLAMA_IGNORES),
    Importer("ernie4_5_moe", "ERNIE-4.5 MoE: routed + shared experts from moe_layer_start_index on, tied", ernie4_5_moe,
             maps=LLAMA_MAPS + ("moe_num_experts", "num_experts", "moe_k", "num_experts_per_tok",
                                "moe_intermediate_size", "moe_num_shared_experts", "moe_layer_start_index",
                                "moe_layer_end_index", "moe_layer_interval"),
             ignores=LLAMA_IGNORES + ("moe_norm_min", "output_router_logits", "router_aux_loss_coef",
                                      # Baidu's own routing settings, which transformers does not read
                                      "moe_gate", "moe_capacity", "moe_use_aux_free"),
             # biases on the dense and shared MLPs and the attention: not mapped, so only false is accepted
             fixed={"use_bias": False}),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
