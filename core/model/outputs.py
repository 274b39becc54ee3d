"""Training and inference accounting: precisions, activation conventions, and the sheet cells they add.

Everything here is a cell of the model's sheet, so a sweep or a goal seek can
vary any input and read any of these outputs. The per-component columns
(backward FLOPs, activations, decode FLOPs, KV cache) come from the component
plugins, and the activation conventions from `acct_register_activations`;
this module only sums them and multiplies by the run's sizes.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Collection, Dict, Optional, Tuple

from acct import hookimpl
from acct.components import Input
from acct.engine.formula import Formula, dotted

# Bytes per value for each precision (Rajbhandari et al. 2020, ZeRO, §3.1: mixed-precision
# Adam keeps fp16/bf16 weights and gradients, and fp32 master weights and moments:
# 2 + 2 + 4 + 8 = 16 bytes per parameter).
PRECISIONS: Dict[str, Dict[str, int]] = {
    "fp32": {"weight_bytes": 4, "master_bytes": 0, "grad_bytes": 4, "moment_bytes": 8, "activation_bytes": 4},
    "mixed": {"weight_bytes": 2, "master_bytes": 4, "grad_bytes": 2, "moment_bytes": 8, "activation_bytes": 2},
    # pure bf16: weights, gradients and AdamW's two moments in bf16, no fp32 master copy: 2 + 2 + 4 = 8
    "bf16": {"weight_bytes": 2, "master_bytes": 0, "grad_bytes": 2, "moment_bytes": 4, "activation_bytes": 2},
    # PyTorch's automatic mixed precision: fp32 weights, gradients and moments, the products in bf16
    # under torch.autocast, which keeps a bf16 copy of each linear layer's weight for backward
    "amp": {"weight_bytes": 4, "master_bytes": 0, "grad_bytes": 4, "moment_bytes": 8, "activation_bytes": 2,
            "autocast": 1},
}
PRECISION_DTYPE = {"fp32": "fp32", "mixed": "bf16", "bf16": "bf16", "amp": "bf16"}
# what each precision keeps in which dtype, for the report's first lines
PRECISION_TEXT = {
    "fp32": "fp32 weights, gradients, AdamW moments and activations",
    "mixed": "bf16 weights, gradients and activations; fp32 master weights and AdamW moments (Megatron-style)",
    "bf16": "the whole model cast to bf16: weights, gradients, AdamW moments and activations",
    "amp": "fp32 weights, gradients and AdamW moments; bf16 products under torch.autocast (PyTorch AMP)",
}  # whose peak FLOP/s a training step runs at


BACKWARD_CONVENTION = (
    "backward = 2 × forward for every matrix multiply (one product for the input's gradient, one for the "
    "weight's; Kaplan et al. 2020, Hoffmann et al. 2022)"
)
OPTIMIZER_CONVENTION = (
    "AdamW, per parameter per step: m ← β₁m + (1−β₁)g (3 FLOPs), v ← β₂v + (1−β₂)g² (4), decoupled weight "
    "decay θ ← θ − ηλθ (2), θ ← θ − η·m̂/(√v̂ + ε) (5): 14; the bias corrections are per-step scalars"
)

# output cells: name -> formula over other cells (all sums and products, exact)
OUTPUTS: Tuple[Tuple[str, str], ...] = (
    ("train.flops_forward", "total.flops_forward * batch_size"),
    ("train.flops_backward", "total.flops_backward * batch_size"),
    ("train.flops_model", "train.flops_forward + train.flops_backward"),
    ("train.flops_optimizer", "total.params * optimizer_flops"),
    ("train.flops_step", "train.flops_model + train.flops_optimizer"),
    ("train.tokens_per_step", "batch_size * context_length"),
    ("train.tokens", "train.tokens_per_step * steps"),
    ("train.flops_run", "train.flops_step * steps"),
    ("memory.weights", "total.params * weight_bytes"),
    ("memory.master", "total.params * master_bytes"),
    ("memory.gradients", "total.params * grad_bytes"),
    ("memory.optimizer", "total.params * moment_bytes"),
    ("memory.fixed", "memory.weights + memory.master + memory.gradients + memory.optimizer"),
    ("kv_cache.bytes_per_sequence", "total.kv_cache * kv_bytes"),
    ("kv_cache.bytes", "kv_cache.bytes_per_sequence * batch_size"),
    ("kv_cache.bytes_per_token", "kv_cache.bytes_per_sequence / context_length"),
    ("infer.flops_prefill", "total.flops_forward * batch_size"),
    ("infer.flops_decode", "total.flops_decode * batch_size"),
)
ACTIVATION_OUTPUTS: Tuple[Tuple[str, str], ...] = (
    ("memory.activations", "total.activations * batch_size"),
    ("memory.peak", "memory.fixed + memory.activations"),
)


@hookimpl
def acct_register_inputs(register):
    """The inputs acct's own outputs read (a run's sizes and bytes per value): core registers them
    itself, as the plugin `core`, so no plugin can take away what core's formulas need."""
    register(Input("batch_size", "sequences per training step (or per inference batch)", symbol="B", default=1))
    register(Input("steps", "training steps", symbol="S", default=1))
    # bytes per value; `--precision fp32|mixed` sets them (see PRECISIONS)
    register(Input("weight_bytes", "bytes per weight", default=4))
    register(Input("master_bytes", "bytes per master-weight copy (mixed precision)", default=0, minimum=0))
    register(Input("grad_bytes", "bytes per gradient", default=4))
    register(Input("moment_bytes", "bytes per parameter for AdamW's two moments", default=8))
    # AdamW per parameter: m (3), v (4), decoupled weight decay (2), update m/(√v+ε)·lr (5)
    register(Input("optimizer_flops", "optimizer FLOPs per parameter per step (AdamW: 14)", default=14, minimum=0))
    register(Input("kv_bytes", "bytes per KV-cache value", default=2))
    # the phase model's (acct.model.phases): autocast's weight copies, and how the optimizer steps
    register(Input("autocast", "1: products under torch.autocast, which keeps a low-precision copy of each linear "
                   "layer's weight (--precision amp)", default=0, minimum=0))
    register(Input("optimizer_impl", "how AdamW steps: 0 one tensor at a time (forloop), 1 all at once (foreach), "
                   "2 fused (--optimizer-impl)", default=0, minimum=0))
    register(Input("autocast_left", "autocast is 0 or 1", default="1 - autocast", minimum=0, settable=False,
                   message="autocast is 0 (off) or 1 (on: --precision amp), got {autocast}"))
    register(Input("optimizer_impl_left", "optimizer_impl is 0, 1 or 2", default="2 - optimizer_impl", minimum=0,
                   settable=False, message="the optimizer implementation is 0 (forloop), 1 (foreach) or 2 (fused), "
                                           "got {optimizer_impl}"))
    # the devices a run is on: `--hardware NAME` sets these from the hardware's numbers (see
    # hardware_inputs); --set overrides any of them, and sweep and solve can vary them
    register(Input("gpus", "devices the work is spread over", symbol="N_gpu", default=1))
    for name, description in HARDWARE_INPUTS.items():
        register(Input(name, description, default=HARDWARE_DEFAULTS.get(name), minimum=None,
                       integer=name == "gpus_per_node"))
    # training at scale: the parallel layout, and the checks that refuse one that does not divide
    for name, (description, symbol, default, minimum, integer) in LAYOUT_INPUTS.items():
        register(Input(name, description, symbol=symbol, default=default, minimum=minimum, integer=integer,
                       message=LAYOUT_MESSAGES.get(name)))
    # fine-tuning (acct.model.finetune): LoRA's rank and the frozen base's bytes per weight
    register(Input("lora_rank", "LoRA rank r: r·(d_in + d_out) trainable parameters per adapted matrix (default 8, "
                   "PEFT's)", symbol="r", default=8, minimum=1))
    register(Input("frozen_bytes", "bytes per frozen base weight that is not quantized (default 2: bf16)",
                   default=2, minimum=None, integer=False))
    register(Input("quantized_bytes", "bytes per frozen weight of the blocks' linear layers (NF4: 2113/4096)",
                   default="frozen_bytes", minimum=None, integer=False))
    for checks in (LAYOUT_CHECKS, SHAPE_CHECKS, EXPERT_CHECKS, DENSE_CHECKS):
        for name, (formula, description, minimum_or_needs, message) in checks.items():
            minimum = minimum_or_needs if isinstance(minimum_or_needs, int) else 1
            register(Input(name, description, default=formula, minimum=minimum, settable=False, message=message))
    register_inference_inputs(register)


# -- training at scale (acct.model.parallel makes the gpu.* cells that read these) ----------

# name -> description; the layout inputs core registers (outputs.py reads this)
LAYOUT_INPUTS = {
    "dp": ("data-parallel replicas (default 1)", "d", 1, 1, True),
    "tp": ("tensor-parallel ranks (default 1)", "t", 1, 1, True),
    "pp": ("pipeline stages (default 1)", "p", 1, 1, True),
    "cp": ("context-parallel ranks: the sequence split over them (default 1)", "c", 1, 1, True),
    "ep": ("expert-parallel ranks, within the data-parallel ones (default 1)", "e", 1, 1, True),
    "virtual_stages": ("model chunks per pipeline stage: v > 1 is Megatron's interleaved 1F1B", "v", 1, 1, True),
    "micro_batch": ("sequences per micro-batch (default: batch_size / dp, one micro-batch per step)", "b",
                    "batch_size / dp", 1, True),
    "zero_stage": ("ZeRO stage 0-3: shard optimizer states (1), + gradients (2), + weights (3) over dp·cp", "z",
                   0, 0, True),
    "sequence_parallel": ("1: Megatron's sequence parallelism beside tp (norms and dropout split too)", "sp",
                          0, 0, True),
    "recompute": ("activation recomputation: 0 none, 1 selective (attention scores), 2 full (layer inputs)",
                  "r", 0, 0, True),
    "overlap": ("the fraction of communication time hidden behind compute (default 0)", None, 0, 0, False),
}
# What a layout value that does not divide means, in the words of the options: `{name}` is that
# input's value (acct.engine.sheet.explain). The error names the options the values came from.
LAYOUT_MESSAGES = {
    "micro_batch": "a global batch of {batch_size} does not split over dp = {dp} data-parallel replicas "
                   "({batch_size} ÷ {dp} = {value} sequences each); give a global batch that dp divides "
                   "(--global-batch)",
    "dp": "{gpus} GPUs do not split into groups of tp·pp·cp = {tp}·{pp}·{cp} (data parallelism dp = gpus ÷ "
          "(tp·pp·cp) = {value}); give a number of GPUs that tp·pp·cp divides",
}
# derived inputs that must come out whole (and at least their minimum): how a bad layout is refused;
# name -> (formula, description, minimum, message in the user's words)
LAYOUT_CHECKS = {
    "replicas": ("gpus / (dp * tp * pp * cp)", "gpus ÷ (dp·tp·pp·cp): 1, every GPU in the layout", 1,
                 "{gpus} GPUs are not dp·tp·pp·cp = {dp}·{tp}·{pp}·{cp}; give dp·tp·pp·cp GPUs, or leave dp "
                 "unset and data parallelism takes the GPUs that tp·pp·cp leave"),
    "replicas_left": ("1 - gpus / (dp * tp * pp * cp)", "gpus is no more than dp·tp·pp·cp", 0,
                      "{gpus} GPUs are not dp·tp·pp·cp = {dp}·{tp}·{pp}·{cp}; give dp·tp·pp·cp GPUs, or leave "
                      "dp unset and data parallelism takes the GPUs that tp·pp·cp leave"),
    "micro_batches": ("batch_size / (dp * micro_batch)", "micro-batches per step: batch_size ÷ (dp · micro_batch)",
                      1, "a global batch of {batch_size} does not split into dp = {dp} replicas × micro-batches "
                         "of {micro_batch} ({value} micro-batches each)"),
    "zero_stage_left": ("3 - zero_stage", "zero_stage is at most 3", 0,
                        "the ZeRO stage is 0, 1, 2 or 3, got {zero_stage}"),
    "sequence_parallel_left": ("1 - sequence_parallel", "sequence_parallel is 0 or 1", 0,
                               "sequence_parallel is 0 (off) or 1 (on), got {sequence_parallel}"),
    "recompute_left": ("2 - recompute", "recompute is 0, 1 or 2", 0,
                       "recompute is 0 (none), 1 (selective) or 2 (full), got {recompute}"),
}
# checks that read a plugin's input: made only when a loaded plugin registers it (the third field)
SHAPE_CHECKS = {
    "heads_per_tp": ("num_heads / tp", "attention heads per tensor-parallel rank: num_heads ÷ tp", "num_heads",
                     "tp = {tp} does not divide the {num_heads} attention heads"),
    "layers_per_stage": ("num_layers / (pp * virtual_stages)",
                         "layers per pipeline chunk: num_layers ÷ (pp · virtual_stages)", "num_layers",
                         "pp·virtual_stages = {pp}·{virtual_stages} does not divide the {num_layers} layers"),
    # the sequence is split over cp ranks: a context that cp does not divide gave fractional bytes
    "tokens_per_cp": ("context_length / cp", "tokens per context-parallel rank: context_length ÷ cp",
                      "context_length", "cp = {cp} does not divide the context of {context_length} tokens"),
}
# made for a model without routed experts, where ep divides nothing (the third field: no plugin input)
DENSE_CHECKS = {
    "ep_without_experts": ("1 - ep", "ep is 1 without routed experts", 0,
                           "expert parallelism splits routed experts, and this model has none; ep = {ep} must be 1"),
}
EXPERT_CHECKS = {
    "experts_per_ep": ("num_experts / ep", "routed experts per expert-parallel rank: num_experts ÷ ep", "num_experts",
                       "ep = {ep} does not divide the {num_experts} routed experts"),
    "dp_per_ep": ("dp / ep", "expert-parallel groups sit within data parallelism: dp ÷ ep", "dp",
                  "ep = {ep} does not divide dp = {dp} (expert parallelism sits within data parallelism)"),
}
# the checks whose failure an error names first, when several fail at once (acct.engine.sheet)
CHECK_PRECEDENCE = {name: i for i, name in enumerate((
    "zero_stage_left", "sequence_parallel_left", "recompute_left", "replicas", "replicas_left", "dp",
    "heads_per_tp", "layers_per_stage", "tokens_per_cp", "experts_per_ep", "dp_per_ep", "ep_without_experts",
    "micro_batch",
    "micro_batches"))}
# gpus and dp follow each other, whichever the user gives (acct.model.model.InputCells)
GPUS_FROM_LAYOUT = "dp * tp * pp * cp"
DP_FROM_GPUS = "gpus / (tp * pp * cp)"


def layout_defaults(explicit: Collection[str]) -> Dict[str, Tuple[str, str]]:
    """How `gpus` and `dp` follow each other, whichever way each was given (a flag, --set, --vary,
    a solve, the API, a preset): with gpus and not dp, data parallelism takes the GPUs that
    tp·pp·cp leave (`--gpus 8` alone is dp = 8); otherwise gpus = dp·tp·pp·cp (one device when no
    layout is given). With both, the `replicas` checks hold them equal. name -> (where, formula)."""
    if "gpus" in explicit and "dp" not in explicit:
        return {"dp": ("dp = gpus / (tp·pp·cp)", DP_FROM_GPUS)}
    if "gpus" not in explicit:
        return {"gpus": ("gpus = dp·tp·pp·cp", GPUS_FROM_LAYOUT)}
    return {}


# -- inference (acct.model.roofline makes the infer.* cells that read these) --------------

ROOFLINE_INPUTS = ("peak_flops", "memory_bandwidth")
COST_INPUTS = ("price_per_hour",)
FITS_INPUTS = ("device_memory",)
# every input the inference cells may read besides the rows' own (for the message when one is set unread)
INFERENCE_INPUTS = ("generate", "infer_weight_bits", "infer_group_size", "infer_scale_bytes",
                    "infer_activation_bytes", "attention_fused", "kv_bytes", "batch_size", "gpus", "mfu", "bandwidth_efficiency",
                    *ROOFLINE_INPUTS, *FITS_INPUTS, *COST_INPUTS)


# name -> description; `None` default: a report that reads one needs --hardware (or --set)
HARDWARE_INPUTS: Dict[str, str] = {
    "peak_flops": "peak dense FLOP/s of one device at the compute dtype (set by --hardware)",
    "mfu": "model FLOPs utilization: the fraction of peak_flops achieved (default 1)",
    "device_memory": "bytes of memory on one device (set by --hardware)",
    "memory_bandwidth": "bytes/s between one device's memory and its cores (set by --hardware)",
    "bandwidth_efficiency": "the fraction of memory_bandwidth achieved (default 1)",
    "link_bandwidth": "bytes/s one way from a device to another in its node, e.g. NVLink (set by --hardware)",
    "network_bandwidth": "bytes/s one way from a device to another node (set by --hardware)",
    "gpus_per_node": "devices per node (set by --hardware)",
    "price_per_hour": "dollars per device-hour (set by --hardware or --price-per-hour)",
}
HARDWARE_DEFAULTS: Dict[str, int] = {"mfu": 1, "bandwidth_efficiency": 1}


def hardware_inputs(device, dtype: str, where: str) -> Dict[str, Tuple[str, str]]:
    """The input values a RegisteredHardware gives, at the dtype a run computes in: name ->
    (where, exact value as formula text). Values the hardware does not state are left out."""
    if dtype not in device.flops:
        from acct.errors import ConfigError

        raise ConfigError(f"{where}: no peak FLOP/s for {dtype} (it gives {', '.join(device.flops)})")
    values = {
        "peak_flops": device.flops[dtype], "device_memory": device.memory, "memory_bandwidth": device.bandwidth,
        "link_bandwidth": device.link_bandwidth, "network_bandwidth": device.network_bandwidth,
        "gpus_per_node": device.gpus_per_node, "price_per_hour": device.price_per_hour,
    }
    return {name: (where, _exact_text(value)) for name, value in values.items() if value is not None}


def _exact_text(value) -> str:
    """An int or Fraction as formula text: 39/2 as '39 / 2' (formulas take no decimal point)."""
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator} / {value.denominator}"


def output_formula(text: str) -> Formula:
    """Parse an output's formula, whose names may contain dots (cells of the engine's own)."""
    return dotted(text)


def activation_formula(formulas: Dict[str, Formula], convention: str) -> Optional[Formula]:
    return formulas.get(convention) or formulas.get("*")


# -- inference: the weight and KV-cache dtypes, and the inputs of acct.model.roofline's cells ------

# weight dtype -> (bits per quantized weight, activation bytes, group size, scale + zero-point bytes
# per group). The quantized rows are the linear layers (acct.model.roofline.quantized); the others
# (lookup tables, norms) keep the activation dtype. int4: groups of 128 with an fp16 scale, as GPTQ
# and AWQ checkpoints store them: 4 + 16/128 = 4.125 bits per weight. fp8 and int8 scale per tensor
# or per channel, which acct leaves out unless --group-size and --scale-bytes say otherwise.
WEIGHT_DTYPES: Dict[str, Tuple[int, int, int, int]] = {
    "fp32": (32, 4, 1, 0), "bf16": (16, 2, 1, 0), "fp16": (16, 2, 1, 0),
    "fp8": (8, 2, 1, 0), "int8": (8, 2, 1, 0), "int4": (4, 2, 128, 2),
}
KV_DTYPES: Dict[str, int] = {"fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1}  # bytes per value


def compute_dtype(weights: str) -> str:
    """Whose peak FLOP/s the products run at: fp32 for fp32 weights, else bf16 (weight-only
    quantization dequantizes to bf16 before each product)."""
    return "fp32" if weights == "fp32" else "bf16"


def register_inference_inputs(register) -> None:
    register(Input("generate", "tokens generated per sequence after the prompt (decode steps)", symbol="G",
                   default=1))
    register(Input("infer_weight_bits", "bits of each weight of the quantized (linear) rows (--weights)",
                   symbol="b_w", default=16))
    register(Input("infer_group_size", "weights sharing one scale and zero point (--group-size)", default=1))
    register(Input("infer_scale_bytes", "bytes of each group's scale and zero point (--scale-bytes)", default=0,
                   minimum=0))
    register(Input("infer_activation_bytes", "bytes per activation value in inference, and per weight of the "
                   "rows not quantized", symbol="b_a", default=2))
    # the attention kernel: a plain input, so that whatever counts attention's traffic or memory reads the
    # same choice (acct infer --attention sdpa|eager sets it; acct.model.roofline reads it)
    register(Input("attention_fused", "1: a fused attention kernel (SDPA/FlashAttention) keeps the T×T scores on "
                   "chip; 0: unfused (PyTorch eager) writes and reads them", default=1, minimum=0))
    register(Input("attention_unfused", "1 - attention_fused (attention_fused is 0 or 1)",
                   default="1 - attention_fused", minimum=0, settable=False,
                   message="attention_fused is 1 (a fused kernel: --attention sdpa) or 0 (--attention eager), "
                           "got {attention_fused}"))


def weight_scheme_text(bits: int, group: int, scale_bytes: int) -> str:
    """`int4, groups of 128 with 2 bytes of scale: 4 + 16/128 = 4.125 bits per weight`."""
    total = Fraction(bits) + Fraction(8 * scale_bytes, group)
    name = next((dtype for dtype, spec in WEIGHT_DTYPES.items() if spec[0] == bits), f"{bits}-bit")
    if bits == 16:
        name = "bf16/fp16"
    if scale_bytes == 0:
        return f"{name}, {bits} bits per weight"
    return (f"{name} in groups of {group:,} with {scale_bytes} bytes of scale and zero point each: "
            f"{bits} + {8 * scale_bytes}/{group:,} = {_exact_text(total).replace(' ', '')} bits per weight")
