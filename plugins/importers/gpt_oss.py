"""Hugging Face importers for OpenAI's GPT-OSS: gpt_oss.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import (ATTENTION_ROWS, LLAMA_IGNORES, LLAMA_MAPS, alias, basic, biases, flag, full_attention, heads,
                     layer_types, norm, null_head_dim_derived, rope, tied, top_k_within, windowed)


def gpt_oss(c):
    d_model, num_heads = basic(c)
    # GptOssConfig: head_dim 64 when absent, hidden_size // num_attention_heads when null
    d_head, _ = heads(c, d_model, num_heads, head_dim_default=null_head_dim_derived(c, 64), kv_default=8)
    num_layers = c.get("num_hidden_layers")
    tied(c, False)
    rope(c, d_head)
    bias, source = flag(c, "attention_bias", True)
    if bias:
        biases(c, ATTENTION_ROWS, f"{source} (q, k, v and o projections)")
    c.choose("attention_sinks", "per_head", "GptOssAttention.sinks: a learned logit per query head")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    field = alias(c, "num_local_experts", "num_experts")  # GptOssConfig's attribute_map
    experts = c.integer(field, 128)
    c.choose("ffn", "moe", "GptOssMLP: a biased router and num_local_experts clamped-SwiGLU experts in every layer")
    c.set("num_experts", experts, field if c.get(field, None) is not None
          else f"{field} (absent: the config class's default 128)")
    per_token = c.integer("num_experts_per_tok", 4)
    c.set("experts_per_token", per_token, "num_experts_per_tok" if c.get("num_experts_per_tok", None) is not None
          else "num_experts_per_tok (absent: the config class's default 4)")
    width = c.integer("intermediate_size")
    top_k_within(c)
    c.set("d_ff_expert", width, "intermediate_size (each expert's width)")
    c.set("d_ff", width, "intermediate_size (every layer is MoE: the ×0 dense rows read it)")
    biases(c, ("router",), "GptOssTopKRouter: Linear(hidden_size, num_local_experts) with a bias")
    c.choose("expert_biases", "routed", "GptOssExperts.gate_up_proj_bias and down_proj_bias")
    count = layer_types(c, num_layers)
    source = "layer_types"
    if count is None:  # GptOssConfig: even layers slide
        count, source = (num_layers + 1) // 2, "layer_types (absent: layers 0, 2, 4, ... slide)"
    if c.get("sliding_window", 128) is None:
        count = 0
    windowed(c, count, num_layers, source) if count else full_attention(c)


IMPORTERS = (
    Importer("gpt_oss", "GPT-OSS: attention sinks, biased router and experts, alternating sliding layers", gpt_oss,
             maps=LLAMA_MAPS + ("attention_bias", "sliding_window", "layer_types", "num_local_experts", "num_experts",
                                "num_experts_per_tok"),
             ignores=LLAMA_IGNORES + ("swiglu_limit", "swiglu_alpha", "router_aux_loss_coef", "output_router_logits",
                                      # OpenAI's own names, which GptOssConfig does not read (it reads
                                      # num_experts_per_tok and max_position_embeddings); mxfp4 scales live in
                                      # the checkpoint
                                      "experts_per_token", "initial_context_length", "quantization_config")),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
