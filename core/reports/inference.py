"""The inference report: what `acct infer` prints. The KV cache and the FLOPs of prefill and of a decode
step; with inference options, what fits (weights at their quantized widths, the KV cache, a workspace);
with hardware, the roofline (per row and per phase: FLOPs, bytes, intensity, bound, time), the headline
figures and the cost. Every number is a cell of the model's sheet (acct.model.roofline); this module
reads them and names the bound, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Dict, List, Optional

from acct.engine.formula import Number
from acct.model.outputs import WEIGHT_DTYPES
from acct.model.roofline import GENERATION_CHECK

KERNEL_NAMES = {1: "sdpa", 0: "eager"}  # attention_fused -> the --attention that sets it
# the bytes a product over the sequence moves under each kernel (acct.model.roofline.attention), with
# their sources: m query rows (T in the prefill, 1 in a decode step), keys = T, t or the window
ATTENTION_TRAFFIC = {
    "sdpa": "attention kernel: fused (--attention sdpa, attention_fused = 1, the default: PyTorch's SDPA with "
            "FlashAttention, Dao et al. 2022, Algorithm 1): the m×keys scores and probabilities stay on chip; "
            "QKᵀ reads Q (B·H·m·d_k values) and writes the softmax's log-sum-exp (B·H·m, fp32: 4 bytes each), "
            "attention·V writes O (B·H·m·d_v), and K and V are read once from the cache: Q, K, V read once, "
            "O and the LSE written once, the compulsory traffic (m = T in the prefill, 1 in a decode step); "
            "--attention eager counts an unfused kernel's",
    "eager": "attention kernel: unfused (--attention eager, attention_fused = 0: PyTorch's eager attention): "
             "QKᵀ reads Q (B·H·m·d_k values) and writes the scores (B·H·m·keys), attention·V reads the "
             "probabilities (B·H·m·keys) and writes O (B·H·m·d_v), at the activation dtype, and K and V are "
             "read from the cache (m = T in the prefill, 1 in a decode step; keys = T, t or the window); the "
             "softmax between them, which reads the scores and writes the probabilities (LLM-Viewer's "
             "softmax layer), is elementwise and moves nothing here; --attention sdpa counts a fused kernel's",
}

PHASE_LABELS = {
    "prefill": "prefill (P tokens)",
    "decode_first": "decode, first step (t = P + 1)",
    "decode_last": "decode, last step (t = P + G)",
    "decode": "decode, all G steps",
}


@dataclass(eq=False)
class DecodeRow:
    name: str
    flops_decode: int  # per generated token, × batch_size
    display: str
    kv_cache: int  # elements for one sequence of T tokens, all the row's instances


@dataclass(eq=False)
class Phase:
    """A row's (or the model's) prefill, decode step, or the G decode steps together."""

    flops: int
    bytes: int
    kv_bytes: int  # of `bytes`, the KV cache read
    intensity: Optional[Number]  # FLOPs per byte; None for a row that is no matrix multiply
    time: Number  # seconds
    bound: str  # "compute", "memory", or "" for a row that does nothing in the phase


@dataclass(eq=False)
class RooflineRow:
    name: str
    quantized: bool
    phases: Dict[str, Phase]


@dataclass(eq=False)
class Roofline:
    hardware: str
    description: str
    dtype: str  # whose peak FLOP/s
    peak_flops: Number
    mfu: Number
    memory_bandwidth: Number
    bandwidth_efficiency: Number
    gpus: int
    ridge: Number  # FLOPs per byte where compute time equals memory time
    phases: Dict[str, Phase]
    rows: List[RooflineRow]
    ttft: Number
    time_per_token: Number
    latency: Number
    tokens_per_s_per_sequence: Number
    tokens_per_s: Number
    weight_floor: Number  # seconds to read every weight once
    one_bound: bool  # every row has the same bound at the first and the last decode step: the sum is exact
    attention: str  # the kernel whose traffic the products over the sequence move: "sdpa" or "eager"
    device_memory: Optional[Number] = None
    memory_free: Optional[Number] = None
    price_per_hour: Optional[Number] = None
    usd_per_million_tokens: Optional[Number] = None


@dataclass(eq=False)
class Fits:
    scheme: str  # the weights' dtype in words
    bits_per_weight: Number
    activation_bytes: int
    quantized_rows: List[str]
    weights: int  # bytes
    kv_cache: int  # bytes after P + G tokens, all B sequences
    workspace: int
    total: int
    gpus: int
    per_device: Number


@dataclass(eq=False)
class InferenceReport:
    name: str
    batch_size: int
    context_length: int
    position: Optional[int]  # None when no chosen row reads decode_position
    kv_bytes: int
    kv_per_token: Number  # bytes per token of one sequence (a fraction when windowed layers cache fewer)
    kv_per_sequence: int  # bytes, one sequence of T tokens
    kv_display: str
    kv_total: int  # bytes, batch × context
    flops_prefill: int
    flops_decode: int
    rows: List[DecodeRow]
    generate: Optional[int] = None  # G, with the inference options
    fits: Optional[Fits] = None
    roofline: Optional[Roofline] = None
    conventions: List[str] = field(default_factory=list)
    # the rows' length constraints checked again at P + G − 1 positions (acct.model.roofline.generation_checks)
    checked_at_longest_forward: List[str] = field(default_factory=list)


def make_inference_report(model, values, detailed: bool = False, hardware: str = "", description: str = "",
                          dtype: str = "") -> InferenceReport:
    from acct.model.model import cell_name

    symbols = model.symbols
    batch = values["batch_size"]
    rows = [
        DecodeRow(row.spec.name, values[cell_name(row, "flops_decode")] * batch,
                  row.flops_decode.display(symbols), values[cell_name(row, "kv_cache")])
        for row in model.rows
    ]
    kv_parts = [
        f"{row.multiplicity.display(symbols)}·{row.kv_cache.display(symbols)}" if row.repeated
        else row.kv_cache.display(symbols)
        for row in model.rows if row.kv_cache.text != "0"
    ]
    display = f"({' + '.join(kv_parts)})·bytes" if kv_parts else "0"
    report = InferenceReport(
        name=model.preset.name, batch_size=batch, context_length=values["context_length"],
        position=values.get("decode_position"), kv_bytes=values["kv_bytes"],
        kv_per_token=values["kv_cache.bytes_per_token"], kv_per_sequence=values["kv_cache.bytes_per_sequence"],
        kv_display=display, kv_total=values["kv_cache.bytes"],
        flops_prefill=values["infer.flops_prefill"], flops_decode=values["infer.flops_decode"], rows=rows,
    )
    if detailed:
        report.generate = values["generate"]
        report.fits = _fits(model, values)
        report.checked_at_longest_forward = [name for name in values if name.endswith(GENERATION_CHECK)]
        if "infer.prefill_time" in values:
            report.roofline = _roofline(model, values, hardware, description, dtype)
        report.conventions = conventions(report)
    return report


def scheme_text(values) -> str:
    """`int4 in groups of 128 with 2 bytes of scale and zero point: 4 + 16/128 = 33/8 bits per weight`."""
    bits, group, scale = values["infer_weight_bits"], values["infer_group_size"], values["infer_scale_bytes"]
    names = [name for name, spec in WEIGHT_DTYPES.items() if spec[0] == bits]
    name = " or ".join(dict.fromkeys(n if n not in ("bf16", "fp16") else "bf16/fp16" for n in names)) or f"{bits}-bit"
    if scale == 0:
        return f"{name}, {bits} bits per weight"
    total = values["infer.bits_per_weight"]
    return (f"{name} in groups of {group:,} with {scale} bytes of scale and zero point each: "
            f"{bits} + {8 * scale}/{group:,} = {_plain(total)} bits per weight")


def short_scheme(values) -> str:
    """`int4: 4.125 bits per linear-layer weight (groups of 128)`, for the run report's memory table."""
    bits, group, scale = values["infer_weight_bits"], values["infer_group_size"], values["infer_scale_bytes"]
    names = [name for name, spec in WEIGHT_DTYPES.items() if spec[0] == bits]
    name = " or ".join(dict.fromkeys(n if n not in ("bf16", "fp16") else "bf16/fp16" for n in names)) or f"{bits}-bit"
    groups = f", groups of {group:,}" if scale else ""
    return f"{name}: {_plain(values['infer.bits_per_weight'])} bits per linear-layer weight{groups}"


def _plain(value: Number) -> str:
    """4.125 exactly when a few decimals hold it, else six significant digits."""
    from acct.engine.numbers import fixed, significant

    value = Fraction(value)
    for digits in range(7):
        if (value * 10**digits).denominator == 1:
            return fixed(value, digits)
    return significant(value, 6)


def _fits(model, values) -> Fits:
    from acct.model.roofline import quantized

    return Fits(
        scheme=scheme_text(values), bits_per_weight=values["infer.bits_per_weight"],
        activation_bytes=values["infer_activation_bytes"],
        quantized_rows=[row.spec.name for row in model.rows if quantized(row)],
        weights=values["infer.weight_bytes"], kv_cache=values["infer.kv_cache_bytes"],
        workspace=values["infer.workspace_bytes"], total=values["infer.memory"], gpus=values["gpus"],
        per_device=values["infer.memory_per_device"],
    )


def _bound(flops: Number, size: Number, compute_rate: Number, memory_rate: Number) -> str:
    """compute when FLOPs take at least as long as bytes (intensity ≥ the ridge point)."""
    if not flops and not size:
        return ""
    return "compute" if flops * memory_rate >= size * compute_rate else "memory"


def _roofline(model, values, hardware: str, description: str, dtype: str) -> Roofline:
    from acct.model.model import cell_name
    from acct.model.roofline import PHASES, quantized

    compute_rate, memory_rate = values["infer.compute_rate"], values["infer.memory_rate"]

    def phase(prefix: str, has_kv: bool, has_intensity: bool) -> Phase:
        flops, size = values[f"{prefix}flops"], values[f"{prefix}bytes"]
        bound = _bound(flops, size, compute_rate, memory_rate)
        return Phase(flops, size, values[f"{prefix}kv_bytes"] if has_kv else 0,
                     values[f"{prefix}intensity"] if has_intensity and bound else None,
                     values[f"{prefix}time"], bound)

    rows = []
    for row in model.rows:
        has_kv = row.kv_cache.text != "0"
        phases = {name: phase(cell_name(row, f"{name}_"), has_kv, row.shape is not None) for name in PHASES}
        rows.append(RooflineRow(row.spec.name, quantized(row), phases))
    totals = {name: phase(f"infer.{name}_", True, True) for name in PHASES}
    one_bound = all(r.phases["decode_first"].bound == r.phases["decode_last"].bound for r in rows)
    return Roofline(
        hardware=hardware, description=description, dtype=dtype,
        peak_flops=values["peak_flops"], mfu=values["mfu"], memory_bandwidth=values["memory_bandwidth"],
        bandwidth_efficiency=values["bandwidth_efficiency"], gpus=values["gpus"], ridge=values["infer.ridge"],
        phases=totals, rows=rows, ttft=values["infer.ttft"], time_per_token=values["infer.time_per_token"],
        latency=values["infer.latency"], tokens_per_s_per_sequence=values["infer.tokens_per_s_per_sequence"],
        tokens_per_s=values["infer.tokens_per_s"], weight_floor=values["infer.weight_floor"], one_bound=one_bound,
        attention=KERNEL_NAMES[values["attention_fused"]],
        device_memory=values.get("device_memory"), memory_free=values.get("infer.memory_free"),
        price_per_hour=values.get("price_per_hour") if "infer.usd_per_million_tokens" in values else None,
        usd_per_million_tokens=values.get("infer.usd_per_million_tokens"),
    )


def conventions(report: InferenceReport) -> List[str]:
    """How the inference figures are counted, stated with them."""
    out = [
        "quantized rows: every linear layer (a matrix multiply by a weight); lookup tables, norms and position "
        "tables keep the activation dtype; weights are packed in whole bytes with one scale per whole group",
        "prefill: the forward pass over the P prompt tokens (T = P); decode step t runs every row for one new "
        "token attending to t keys (its own included), t = P + 1, ..., P + G; time to first token = the prefill, "
        "time per output token = the mean of the G steps, latency = TTFT + G × TPOT",
        "memory = weights + the KV cache after P + G tokens + a workspace: the largest input plus output of one "
        "linear layer in the prefill (attention is taken as fused, its scores never all in memory at once)",
    ]
    if report.checked_at_longest_forward:
        out.append("a learned position table holds the longest forward of the generation, P + G − 1 positions: "
                   "the k-th generated token comes from a forward over P + k − 1, and the last is never fed back "
                   f"(checked: {', '.join(report.checked_at_longest_forward)})")
    if report.roofline is not None:
        out += [
            "bytes moved by a row = its weights (a lookup table none: a gather of its tokens' rows; a linear "
            "layer at least its shape's k×n, so a head tied to the embedding reads the table; an MoE layer the "
            "experts its tokens can reach, at most all) + its matrix multiply's input and output (m·k and m·n "
            "per head; for QKᵀ and attention·V what the attention kernel moves, below) + the KV cache it reads; "
            "norms, softmax and activation functions move nothing else here, and devices under tensor "
            "parallelism share the work without communication cost",
            ATTENTION_TRAFFIC[report.roofline.attention],
            "time of a row = max(FLOPs ÷ (peak × MFU × devices), bytes ÷ (bandwidth × efficiency × devices)); "
            "a phase's time is the sum over its rows, each with its own bound (as LLM-Viewer sums its layers)",
        ]
        if not report.roofline.one_bound:
            out.append("some row changes its bound between the first and the last decode step: over the G steps "
                       "its time is max(ΣFLOPs ÷ rate, Σbytes ÷ bandwidth), a lower bound")
    return out
