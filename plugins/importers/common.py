"""What the Hugging Face importers share: field lists and the conversions their families repeat.

Not a plugin itself: each family's module imports it. Each function reads config fields through
the Conversion (so each read is a declared field) and sets inputs and variants with the fields
they came from.
"""

from fractions import Fraction

# Fields no count depends on, in many families (each importer lists the ones its type has).
DROPOUT = ("attention_dropout", "hidden_dropout", "resid_pdrop", "embd_pdrop", "attn_pdrop", "residual_dropout",
           "embedding_dropout", "classifier_dropout",
           # BERT's names, found in GPT-NeoX-20B's config.json; no decoder here reads them
           "attention_probs_dropout_prob", "hidden_dropout_prob")
# rope_parameters and rope_scaling are mapped where RoPE is: transformers folds a partial_rotary_factor
# found in either into the rotary width (the rest of them, scaling types and thetas, change no count)
ROPE = ("rope_theta", "rotary_emb_base", "original_max_position_embeddings", "rope_local_base_freq")
ROPE_MAPS = ("rope_parameters", "rope_scaling", "partial_rotary_factor")
EPS = ("rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon", "norm_epsilon")
ROUTING = ("norm_topk_prob", "output_router_logits", "router_aux_loss_coef", "router_jitter_noise")

# config classes whose validate_architecture refuses a hidden_size that num_attention_heads does not divide,
# head_dim or not (transformers 5.24: LlamaConfig, ArceeConfig, DeepseekV2Config, Gemma2Config,
# Gemma3TextConfig, GPTNeoXConfig)
HIDDEN_DIVISIBLE = {"llama", "arcee", "deepseek_v2", "gemma2", "gemma3_text", "gpt_neox"}

# model types whose num_key_value_heads cannot be null (transformers 5.24): the config class declares it `int`,
# or (Qwen2-MoE) `int | None` without filling null in, so that the attention divides by None
KV_NOT_NULL = dict.fromkeys(("mistral", "mixtral", "phimoe", "stablelm", "starcoder2", "qwen3_moe", "gemma2",
                             "gemma3_text", "helium", "exaone4", "glm4", "glm4_moe", "gpt_oss"),
                            "the config class takes no null here")
KV_NOT_NULL["qwen2_moe"] = "Qwen2MoeConfig leaves null as it is and Qwen2MoeAttention divides by it"

# the most layers a config may have: importers walk the layers to apply sliding patterns and MoE intervals
MAX_LAYERS = 1_000_000

SILU = ("silu", "swish")
GELU = ("gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_accurate", "gelu_python", "gelu_10")
RELU = ("relu",)


def alias(c, name, other):
    """Which of two names for one attribute to read (a config class's attribute_map: GPT-2's hidden_size
    is n_embd, Qwen3-MoE saves num_experts as num_local_experts): `name`, or `other` when only it is
    given; both, with different values, is an error."""
    if name in c and other in c and c.get(name) != c.get(other):
        raise c.bad(other, c.get(other), f"{name} ({c.get(name)}), which it aliases")
    return other if other in c and name not in c else name


def basic(c, context="max_position_embeddings", context_default=None, hidden="hidden_size",
          layers="num_hidden_layers", heads="num_attention_heads"):
    """vocab_size, context_length, num_layers, d_model, num_heads; returns (d_model, num_heads)."""
    c.set("vocab_size", c.integer("vocab_size"), "vocab_size")
    if context_default is None:
        c.set("context_length", c.integer(context), context)
    else:
        length = c.integer(context, context_default)
        c.set("context_length", length, context if context in c else f"{context} (absent: {context_default})")
    num_layers = c.integer(layers)
    if num_layers > MAX_LAYERS:  # the layer rules go layer by layer: bounded work, never a hang
        raise c.bad(layers, num_layers, f"a whole number of at most {MAX_LAYERS:,}")
    c.set("num_layers", num_layers, layers)
    d_model = c.integer(hidden)
    c.set("d_model", d_model, hidden)
    num_heads = c.integer(heads)
    c.set("num_heads", num_heads, heads)
    if c.model_type in HIDDEN_DIVISIBLE and d_model % num_heads:  # even where head_dim is set
        raise c.bad(hidden, d_model, f"a multiple of {heads} ({num_heads}), as the config class's "
                    "validate_architecture requires")
    return d_model, num_heads


def heads(c, d_model, num_heads, kv_field="num_key_value_heads", head_dim="head_dim", head_dim_default=None,
          kv_heads=None, kv_source=None, names=("hidden_size", "num_attention_heads"), kv_default=None):
    """num_kv_heads (and the qkv variant), d_head; returns (d_head, num_kv_heads).

    `head_dim` is honoured wherever transformers reads it (getattr with a fallback of
    hidden_size // num_attention_heads, or the class's declared default). An absent `kv_field`
    takes the config class's default `kv_default` (Mistral's 8, Qwen2's 32: not one per query
    head), when the class declares one; null means one per query head, as the classes that
    accept null make it."""
    if head_dim is not None and (head_dim in c and c.get(head_dim) is not None):
        d_head = c.integer(head_dim)
        source = head_dim
    elif head_dim_default is not None:
        d_head = head_dim_default
        source = f"{head_dim} (absent: the config class's default {head_dim_default})"
    else:
        if d_model % num_heads:
            raise c.bad(names[0], d_model, f"a multiple of {names[1]} ({num_heads})")
        d_head = d_model // num_heads
        source = None
    if Fraction(d_model, num_heads) != d_head:
        c.set("d_head", d_head, source)
    elif source:
        c.note(f"d_head = {d_head} ({source}) is d_model / num_heads, the default")
    if kv_heads is None and not kv_field:
        kv_heads, kv_source = num_heads, ""
    elif kv_heads is None and kv_field in c and c.get(kv_field) is not None:
        kv_heads, kv_source = c.integer(kv_field), kv_field
    elif kv_heads is None and kv_field in c and c.model_type in KV_NOT_NULL:
        raise c.bad(kv_field, None, f"a whole number ({KV_NOT_NULL[c.model_type]})")
    elif kv_heads is None and kv_field in c:
        kv_heads, kv_source = num_heads, f"{kv_field} (null: num_attention_heads)"
    elif kv_heads is None and kv_default is not None:
        kv_heads, kv_source = kv_default, f"{kv_field} (absent: the config class's default {kv_default})"
    elif kv_heads is None:
        kv_heads, kv_source = num_heads, f"{kv_field} (absent: num_attention_heads)"
    if kv_heads == num_heads:
        c.choose("qkv", "mha", f"{kv_source} = {kv_heads} = num_attention_heads: multi-head attention"
                 if kv_source else "multi-head attention")
    else:
        if num_heads % kv_heads:
            raise c.bad(kv_field or "num_kv_heads", kv_heads, f"a divisor of num_attention_heads ({num_heads})")
        c.set("num_kv_heads", kv_heads, kv_source)
        c.choose("qkv", "gqa", f"{kv_source} = {kv_heads} < num_attention_heads = {num_heads}")
    return d_head, kv_heads


def tied(c, default, field="tie_word_embeddings"):
    """The lm_head variant from tie_word_embeddings (default: the config class's)."""
    value = c.flag(field, default)
    source = field if c.get(field, None) is not None else f"{field} (absent: {str(default).lower()})"
    c.choose("lm_head", "tied" if value else "untied", f"{source} = {str(value).lower()}")


def _ffn_variant(c, act_field, default, variants, kind):
    """The FFN variant an activation names, from `variants` (activation names -> variant); an
    activation without one stops the import, naming the field."""
    act = c.get(act_field, default)
    for names, variant in variants:
        if act in names:
            return act, variant
    known = ", ".join(variant for _, variant in variants)
    raise c.unsupported(act_field, act, f"is {kind} activation without an acct variant ({known})")


def gated_ffn(c, act_field="hidden_act", default="silu", width="intermediate_size"):
    """A gate/up/down MLP: swiglu for SiLU, geglu for a GELU."""
    act, variant = _ffn_variant(c, act_field, default, ((SILU, "swiglu"), (GELU, "geglu")), "a gated MLP")
    c.set("d_ff", c.integer(width), width)
    c.choose("ffn", variant, f"{act_field} = \"{act}\": gate, up and down projections")


def plain_ffn(c, act_field, default, width=None, width_value=None, width_source=None):
    """An up/down MLP: gelu or relu."""
    act, variant = _ffn_variant(c, act_field, default, ((GELU, "gelu"), (RELU, "relu")), "an MLP")
    if width_value is None:
        width_value, width_source = c.integer(width), width
    c.set("d_ff", width_value, width_source)
    c.choose("ffn", variant, f"{act_field} = \"{act}\": two matrices, up and down")


def norm(c, kind, source, per_block=2, per_block_source=""):
    c.choose("norm", kind, source)
    if per_block != 2:
        c.set("norms_per_block", per_block, per_block_source)
    elif per_block_source:
        c.note(f"norms_per_block = 2 ({per_block_source}) is the default")


def rope(c, d_head, fraction=None, source=""):
    """Rotary positions; a partial rotary factor, as transformers rounds it (int(d_head·factor)
    dims rotate), sets rotary_fraction."""
    c.choose("position", "rope", "rotary position embedding (no parameters)")
    if fraction is None:
        fraction, source = partial_rotary(c)
    if d_head > 4 and d_head % 2 and int(d_head * (1 if fraction is None else fraction)) == d_head:
        # transformers' validate_rope refuses a fully rotated odd head (RoPE rotates pairs of dims; heads of
        # at most 4 dims, its test fixtures', are allowed)
        field = "head_dim" if c.config.get("head_dim") is not None else "hidden_size"
        raise c.bad(field, c.config.get(field), f"an even head size for RoPE to rotate in pairs (the head is "
                    f"{d_head} dims, all of them rotated)")
    rotated = d_head if fraction is None else int(d_head * fraction)
    for field in ("rope_scaling", "rope_parameters"):  # LongRoPE rescales each rotated pair by its own factor
        params = c.config.get(field)
        if isinstance(params, dict) and params.get("rope_type", params.get("type")) == "longrope":
            for key in ("short_factor", "long_factor"):
                factors = params.get(key)
                if isinstance(factors, list) and len(factors) != rotated // 2:
                    raise c.bad(f"len({field}.{key})", len(factors), f"{rotated // 2}, one per pair of the {rotated} "
                                "rotated head dims (transformers builds no model otherwise)")
    if fraction is not None and fraction != 1:
        c.set("rotary_fraction", Fraction(rotated, d_head), f"{source}: int({d_head}·{float(fraction):g}) = "
              f"{rotated} of {d_head} head dims rotate")


def partial_rotary(c, default=None, legacy=None):
    """The partial rotary factor: partial_rotary_factor, rope_parameters' or a legacy key."""
    found = {}
    for table in ("rope_parameters", "rope_scaling"):
        parameters = c.get(table, None) if c.declares(table) else None
        if parameters is None:
            continue
        if not isinstance(parameters, dict):  # transformers' strict config refuses it
            raise c.bad(table, parameters, "an object or null")
        # one table, or one per attention kind (Gemma-3: full_attention, sliding_attention)
        nested = {f"{table}.{kind}": value for kind, value in parameters.items() if isinstance(value, dict)}
        for where, entries in [(table, parameters)] + list(nested.items()):
            if "partial_rotary_factor" in entries:
                found[f"{where}.partial_rotary_factor"] = entries["partial_rotary_factor"]
    for where, value in found.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise c.bad(where, value, "a number above 0 and at most 1")
    if len(set(found.values())) > 1:
        raise c.unsupported(" and ".join(found), list(found.values()), "rotate different shares of the heads "
                            "in different layers, which acct's single rotary_fraction cannot say")
    if found:
        where, value = next(iter(found.items()))
        return Fraction(repr(value)) if isinstance(value, float) else Fraction(value), where
    for name in ("partial_rotary_factor",) + ((legacy,) if legacy else ()):
        if c.declares(name) and c.get(name, None) is not None:
            value = c.fraction(name)
            if not 0 < value <= 1:
                raise c.bad(name, c.get(name), "a number above 0 and at most 1")
            return value, name
    if default is not None:
        return default, f"partial_rotary_factor (absent: the config class's default {float(default):g})"
    return None, ""


def windowed(c, local_layers, num_layers, source):
    """Sliding-window attention over `local_layers` of the layers (0: every layer full)."""
    if local_layers == 0:
        c.choose("attention", "dot_product", f"{source}: no layer slides")
        return
    window = c.integer("sliding_window")
    c.choose("attention", "sliding_window", f"{source}: {local_layers} of {num_layers} layers slide")
    c.set("sliding_window", window, "sliding_window")
    if local_layers != num_layers:
        c.set("local_layers", local_layers, source)


def every_layer_windowed(c, num_layers):
    """sliding_window set (not null): every layer slides (mistral, mixtral, phi3, starcoder2)."""
    if c.get("sliding_window", None) is None:
        c.choose("attention", "dot_product", "sliding_window = null: full attention")
    else:
        windowed(c, num_layers, num_layers, "sliding_window set")


def layer_types(c, num_layers):
    """The count of "sliding_attention" layers in layer_types, or None when absent."""
    kinds = c.get("layer_types", None)
    if kinds is None:
        return None
    if not isinstance(kinds, list) or len(kinds) != num_layers or not all(
            kind in ("sliding_attention", "full_attention") for kind in kinds):
        raise c.bad("layer_types", kinds, f"{num_layers} entries, each \"sliding_attention\" or \"full_attention\"")
    return sum(kind == "sliding_attention" for kind in kinds)


def not_null(c, fields, why="the config class takes no null here"):
    """Fields transformers builds nothing from when null (a strict `int`, or null kept and then used), where
    `integer` would take null as absent and count the class's default."""
    for field in fields:
        if field in c and c.get(field) is None:
            raise c.bad(field, None, f"a whole number ({why})")


def top_k_within(c):
    """A router's top-k of at most its experts: transformers builds a block whose top-k exceeds them (torch.topk
    fails only when it runs); the sheet's idle_experts refused it without naming a config field."""
    experts, per_token = c.inputs.get("num_experts"), c.inputs.get("experts_per_token")
    if isinstance(experts, int) and isinstance(per_token, int) and per_token > experts:
        field, experts_field = (c.comments[("model", name)].split(" ")[0] for name in ("experts_per_token",
                                                                                          "num_experts"))
        raise c.bad(field, per_token, f"at most {experts_field} ({experts}): the router picks its top "
                    f"{per_token} among them")


def biases(c, targets, source):
    for target in targets:
        c.bias(target, source)


ATTENTION_ROWS = ("q_proj", "k_proj", "v_proj", "out_proj")


# The fields a Llama-shaped decoder maps and ignores (LLAMA_*); the same without head_dim and
# pretraining_tp (DECODER_*), for the families that map head_dim themselves; GPT-2's names (GPT_*).
LLAMA_MAPS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
              "head_dim", "intermediate_size", "max_position_embeddings", "tie_word_embeddings",
              "hidden_act") + ROPE_MAPS
LLAMA_IGNORES = DROPOUT + ROPE + EPS + ("pretraining_tp",)
DECODER_MAPS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                "intermediate_size", "max_position_embeddings", "tie_word_embeddings", "hidden_act") + ROPE_MAPS
DECODER_IGNORES = DROPOUT + ROPE + EPS
SUMMARY = ("summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels",
           "summary_first_dropout")
GPT_ALIASES = ("max_position_embeddings", "hidden_size", "num_hidden_layers", "num_attention_heads")
GPT_IGNORES = DROPOUT + EPS + SUMMARY + ("n_ctx", "scale_attn_weights")


def no_null_head_dim(c, where):
    """head_dim = null: most attention classes read it with getattr and cannot use None (transformers fails)."""
    if "head_dim" in c and c.get("head_dim") is None:
        raise c.bad("head_dim", None, f"a whole number ({where} reads it and cannot use null)")


def null_head_dim_derived(c, default):
    """The head_dim default of config classes whose __post_init__ fills null with hidden_size //
    num_attention_heads but keep their declared default when the field is absent (ERNIE-4.5, Seed-OSS)."""
    return None if "head_dim" in c and c.get("head_dim") is None else default


def qkv_bias(c, field, default=False, rows=ATTENTION_ROWS):
    """Biases on `rows` when the flag `field` (absent: `default`) is true."""
    if c.flag(field, default):
        source = f"{field} = true" if c.get(field, None) is not None else f"{field} (absent: true)"
        biases(c, rows, source)


def decoder(c, tie_default, head_dim_default=None, kv_default=None, fraction=None, fraction_source="", where=None):
    """vocab, layers, widths, heads, the head, rotary positions in every layer; returns (num_layers, d_head).
    `where`: the attention class that cannot use head_dim = null (None: null means the default)."""
    if where:
        no_null_head_dim(c, where)
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, head_dim_default=head_dim_default, kv_default=kv_default)
    tied(c, tie_default)
    rope(c, d_head, fraction, fraction_source) if fraction is not None else rope(c, d_head)
    return c.get("num_hidden_layers"), d_head


def with_default(c, name, defaults):
    """A whole-number field and its source; absent (or null), the config class's default from
    `defaults`, when it has one."""
    if c.get(name, None) is None and name in defaults:
        return defaults[name], f"{name} (absent: the config class's default {defaults[name]})"
    return c.integer(name), name


def routed_experts(c, num_layers, moe_layers, layers_source, experts, per_token="num_experts_per_tok",
                   width="moe_intermediate_size", dense_width="intermediate_size", defaults=None):
    """Routed experts (SwiGLU) in `moe_layers` of the layers; the others dense of `dense_width`.
    `defaults`: the config class's values of fields a config may leave out."""
    defaults = dict(defaults or {})
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    if moe_layers == 0:
        gated_ffn(c, width=dense_width)
        return
    c.choose("ffn", "moe", f"{experts}: routed experts with a router, {layers_source}")
    c.set("num_experts", *with_default(c, experts, defaults))
    c.set("experts_per_token", *with_default(c, per_token, defaults))
    top_k_within(c)
    c.set("d_ff_expert", *with_default(c, width, defaults))
    if moe_layers != num_layers:
        c.set("moe_layers", moe_layers, layers_source)
    # the moe variant's dense rows read d_ff even when no layer is dense (they are then ×0)
    c.set("d_ff", c.integer(dense_width), f"{dense_width} (the dense layers' MLP)" if dense_width != width
          else f"{dense_width} (every layer is MoE: the ×0 dense rows read it)")


def flag(c, name, default, nullable=False):
    """A true/false field and the source to write beside what it sets."""
    value = c.flag(name, default, nullable)
    return value, f"{name} = {str(value).lower()}" if c.get(name, None) is not None else \
        f"{name} (absent: {str(default).lower()})"


def flag_source(c, name, default):
    """The source of a flag read as true: its field, or its absence and the default."""
    return f"{name} = true" if c.get(name, None) is not None else f"{name} (absent: {str(default).lower()})"


def full_attention(c):
    """Full causal attention in every layer (no sliding window)."""
    c.choose("attention", "dot_product", "full causal attention in every layer")


def learned_positions(c, field, rows, extra=0, why=""):
    """A learned position table of `rows` rows, read from `field` (plus `extra`, for `why`)."""
    c.choose("position", "learned", f"a learned table of {field}" + (f" + {extra} rows" if extra else "") +
             (f" ({why})" if why else ""))
    c.set("max_positions", rows, field if not extra else f"{field} + {extra} ({why})")


def gpt_names(c):
    """GPT-2's and GPT-J's field names, or the attribute_map's aliases where a config uses those:
    (n_positions, n_embd, n_layer, n_head)."""
    return tuple(alias(c, name, other) for name, other in (
        ("n_positions", "max_position_embeddings"), ("n_embd", "hidden_size"), ("n_layer", "num_hidden_layers"),
        ("n_head", "num_attention_heads")))
