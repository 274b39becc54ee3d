"""The inference report's data (the JSON record, schema acct.infer/1) and its markdown; its CSV is the
data in long format, one exact value per line."""

from __future__ import annotations

from fractions import Fraction
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from acct.engine.formula import Number
from acct.render import Kind
from acct.render.escape import markdown as md
from acct.render.formats import DEFAULT_TABLEFMT, LONG_HEADER, long_records, number, table
from acct.render.markdown import GB, GiB, exact_or_fixed
from acct.engine.numbers import exact, fixed, human, percent, significant
from acct.reports.inference import PHASE_LABELS, InferenceReport, Phase
from acct.reports.run import share


def _bytes(value: Number) -> str:
    return f"{exact(value)} B ({fixed(Fraction(value) / GB, 2)} GB, {fixed(Fraction(value) / GiB, 2)} GiB)"


def seconds(value: Number) -> str:
    """`6.61 ms`, `1.23 s`, `45.6 µs`: three significant digits, exactly rounded."""
    value = Fraction(value)
    if value == 0:
        return "0 s"
    if value >= 1:
        return f"{significant(value, 3)} s"
    if value >= Fraction(1, 1000):
        return f"{significant(value * 1000, 3)} ms"
    return f"{significant(value * 10**6, 3)} µs"


def _rate(value: Number) -> str:
    return f"{significant(value, 4)}"


def _intensity(value: Optional[Number]) -> str:
    return "" if value is None else significant(value, 4)


def inference_markdown(report: InferenceReport, tablefmt: str = DEFAULT_TABLEFMT) -> str:
    out = [f"# {md(report.name)}: inference", ""]
    out += [
        "## KV cache",
        "",
        f"Per sequence of T = {report.context_length:,} tokens: {report.kv_display} = "
        f"**{report.kv_per_sequence:,} bytes** ({report.kv_bytes} bytes per value; "
        f"{exact_or_fixed(report.kv_per_token)} bytes per token). For B = {report.batch_size:,} sequences: "
        f"**{_bytes(report.kv_total)}**.",
        "",
        "## FLOPs",
        "",
        f"Prefill of B = {report.batch_size:,} prompts of T = {report.context_length:,} tokens: "
        f"**{report.flops_prefill:,} FLOPs** ({human(report.flops_prefill, 'FLOPs')}), the forward pass.",
        "",
        (f"Decode of one new token per sequence at position t = {report.position:,} (attending to t keys): "
         if report.position is not None else
         "Decode of one new token per sequence (no chosen row reads decode_position: each row's decode FLOPs "
         "are its forward FLOPs for one token of T): ")
        + f"**{report.flops_decode:,} FLOPs** for the batch"
        + (" (the roofline below decodes G steps from t = P + 1)." if report.roofline is not None else "."),
        "",
    ]
    rows = [[row.name, row.display, f"{row.flops_decode:,}", percent(share(row.flops_decode, report.flops_decode))]
            for row in report.rows if row.flops_decode]
    out += [table(["component", "decode FLOPs each", "FLOPs (all layers, × B)", "share"], rows, "llrr", tablefmt), ""]
    if report.roofline is not None:
        out += _roofline_markdown(report, tablefmt)
    if report.fits is not None:
        out += _fits_markdown(report, tablefmt)
    out += [
        "Conventions: matrix multiplies only, 2·m·k·n; decode FLOPs per row are its forward FLOPs for one token "
        "(attention: 2·t·D for each of QKᵀ and attention·V); the KV cache holds K and V for every layer.",
        "",
    ]
    out += [f"- {md(text)}" for text in report.conventions] + ([""] if report.conventions else [])
    return "\n".join(out)


def _roofline_markdown(report: InferenceReport, tablefmt: str) -> List[str]:
    r = report.roofline
    devices = f"{r.gpus:,} × {md(r.hardware)}" + (f" ({md(r.description)})" if r.description else "")
    out = [
        f"## Time on {devices}",
        "",
        f"B = {report.batch_size:,} sequences, P = {report.context_length:,} prompt tokens, G = {report.generate:,} "
        f"generated. Peak {fixed(Fraction(r.peak_flops, 10**12), 1)} TFLOP/s ({md(r.dtype)}) × MFU "
        f"{percent(Fraction(r.mfu))}, memory {fixed(Fraction(r.memory_bandwidth, 10**9), 0)} GB/s × efficiency "
        f"{percent(Fraction(r.bandwidth_efficiency))}"
        + (f", {r.gpus:,} devices (tensor parallel)" if r.gpus > 1 else "")
        + f": the ridge point is {significant(r.ridge, 4)} FLOPs per byte. Attention: "
        + ("fused (SDPA/FlashAttention: the T×T scores stay on chip)." if r.attention == "sdpa"
           else "unfused (eager: the T×T scores are written and read back)."),
        "",
    ]
    headline = [
        ["time to first token (the prefill)", seconds(r.ttft)],
        ["time per output token (mean of the G steps)", seconds(r.time_per_token)],
        ["end-to-end latency (TTFT + G × TPOT)", seconds(r.latency)],
        ["tokens/s per sequence", _rate(r.tokens_per_s_per_sequence)],
        [f"tokens/s, all {report.batch_size:,} sequences", _rate(r.tokens_per_s)],
    ]
    if r.usd_per_million_tokens is not None:
        headline.append([f"$ per million output tokens (at ${exact_or_fixed(r.price_per_hour)} per device-hour)",
                         significant(r.usd_per_million_tokens, 3)])
    out += [table(["", ""], headline, "lr", tablefmt), ""]
    out += [f"Reading every weight once ({_bytes(report.fits.weights)}) takes {seconds(r.weight_floor)}.", ""]
    phases = [[PHASE_LABELS[name], f"{p.flops:,}", f"{p.bytes:,}", f"{p.kv_bytes:,}", _intensity(p.intensity),
               p.bound, seconds(p.time)] for name, p in r.phases.items()]
    out += ["### Roofline by phase", ""]
    out += [table(["phase", "FLOPs", "bytes moved", "of which KV cache", "FLOPs/byte", "bound", "time"], phases,
                  "lrrrrlr", tablefmt), ""]
    out += ["### Roofline by component: prefill, and the first and last decode step", ""]
    rows = []
    for row in r.rows:
        if not any(p.bound for p in row.phases.values()):
            continue  # a row that neither computes nor moves anything in this count
        cells = [row.name]
        for name in ("prefill", "decode_first", "decode_last"):
            p = row.phases[name]
            cells += [_intensity(p.intensity), p.bound, seconds(p.time)]
        rows.append(cells)
    header = ["component"] + [f"{what} {phase}" for phase in ("prefill", "first step", "last step")
                              for what in ("FLOPs/byte", "bound", "time")]
    out += [table(header, rows, "l" + "rlr" * 3, tablefmt), ""]
    return out


def _fits_markdown(report: InferenceReport, tablefmt: str) -> List[str]:
    f, r = report.fits, report.roofline
    generate = report.generate
    rows = [
        [f"weights: {f.scheme}", _bytes(f.weights)],
        [f"KV cache: {report.kv_bytes} bytes per value, B = {report.batch_size:,} × (P + G = "
         f"{report.context_length + generate:,} tokens)"
         + (" on all devices (a KV head tensor parallelism repeats is held on each)" if f.gpus > 1 else ""),
         _bytes(f.kv_cache)],
        ["workspace: the largest linear layer's input and output in the prefill", _bytes(f.workspace)],
        ["**total**", f"**{_bytes(f.total)}**"],
    ]
    if f.gpus > 1:
        rows.append([f"per device (÷ {f.gpus:,})", _bytes(f.per_device)])
    if r is not None and r.device_memory is not None:
        rows.append(["one device's memory", _bytes(r.device_memory)])
        verdict = "fits" if r.memory_free >= 0 else "does not fit"
        rows.append([f"left free ({verdict})", _bytes(r.memory_free)])
    out = ["## What fits", "", table(["", "bytes"], rows, "lr", tablefmt), ""]
    out += [f"Quantized at {_bits(f.bits_per_weight)} bits per weight: {', '.join(map(md, f.quantized_rows)) or 'none'}; "
            f"the other rows at {f.activation_bytes} bytes per weight.", ""]
    return out


def _bits(value: Number) -> str:
    """4.125 exactly when a few decimals hold it, else six significant digits."""
    value = Fraction(value)
    for digits in range(7):
        if (value * 10**digits).denominator == 1:
            return fixed(value, digits)
    return significant(value, 6)


def _phase_data(phase: Phase) -> Dict:
    return {"flops": phase.flops, "bytes": phase.bytes, "kv_cache_bytes": phase.kv_bytes,
            "intensity": None if phase.intensity is None else number(phase.intensity),
            "bound": phase.bound or None, "seconds": number(phase.time)}


def inference_data(report: InferenceReport) -> Dict:
    data = {
        "schema": "acct.infer/1",
        "preset": report.name,
        "batch_size": report.batch_size,
        "context_length": report.context_length,
        "decode_position": report.position,
        "kv_cache": {"bytes_per_value": report.kv_bytes, "bytes_per_sequence": report.kv_per_sequence,
                     "bytes_per_token": number(report.kv_per_token),
                     "bytes": report.kv_total},
        "flops": {"prefill": report.flops_prefill, "decode_per_token": report.flops_decode},
        "rows": [{"name": r.name, "flops_decode": r.flops_decode, "kv_cache_elements_per_sequence": r.kv_cache}
                 for r in report.rows],
    }
    if report.fits is not None:
        f = report.fits
        data["generate"] = report.generate
        data["memory"] = {"weights_scheme": f.scheme, "bits_per_weight": number(f.bits_per_weight),
                          "quantized_rows": f.quantized_rows, "weights": f.weights, "kv_cache": f.kv_cache,
                          "workspace": f.workspace, "total": f.total, "gpus": f.gpus,
                          "per_device": number(f.per_device)}
    if report.roofline is not None:
        r = report.roofline
        data["roofline"] = {
            "hardware": r.hardware, "dtype": r.dtype, "peak_flops_per_s": number(r.peak_flops), "mfu": number(r.mfu),
            "memory_bandwidth": number(r.memory_bandwidth), "bandwidth_efficiency": number(r.bandwidth_efficiency),
            "gpus": r.gpus, "ridge": number(r.ridge), "attention_kernel": r.attention,
            "seconds": {"time_to_first_token": number(r.ttft), "time_per_output_token": number(r.time_per_token),
                        "latency": number(r.latency), "weight_floor": number(r.weight_floor)},
            "tokens_per_s": {"per_sequence": number(r.tokens_per_s_per_sequence), "all": number(r.tokens_per_s)},
            "usd_per_million_tokens": None if r.usd_per_million_tokens is None else number(r.usd_per_million_tokens),
            "memory_free": None if r.memory_free is None else number(r.memory_free),
            "phases": {name: _phase_data(p) for name, p in r.phases.items()},
            "rows": [{"name": row.name, "quantized": row.quantized,
                      **{name: _phase_data(p) for name, p in row.phases.items()}} for row in r.rows],
            "exact_over_the_steps": r.one_bound,
        }
    if report.conventions:
        data["conventions"] = report.conventions
    return data


def inference_records(data: Dict) -> Tuple[Sequence[str], Iterable[Sequence]]:
    records = [("kv_cache", "run", key, value) for key, value in data["kv_cache"].items()]
    records += [("flops", "run", key, value) for key, value in data["flops"].items()]
    records += [("rows", row["name"], "flops_decode", row["flops_decode"]) for row in data["rows"]]
    memory = data.get("memory")
    if memory:
        records += [("memory", "run", key, value) for key, value in memory.items()
                    if key not in ("weights_scheme", "quantized_rows")]
    roofline = data.get("roofline")
    if roofline:
        records += [("time", "run", key, value) for key, value in roofline["seconds"].items()]
        records += [("tokens_per_s", "run", key, value) for key, value in roofline["tokens_per_s"].items()]
        if roofline["usd_per_million_tokens"] is not None:
            records.append(("cost", "run", "usd_per_million_tokens", roofline["usd_per_million_tokens"]))
        for phase, values in roofline["phases"].items():
            records += [(f"roofline.{phase}", "total", key, value) for key, value in values.items()
                        if value is not None]
        for row in roofline["rows"]:
            for phase in PHASE_LABELS:
                records += [(f"roofline.{phase}", row["name"], key, value) for key, value in row[phase].items()
                            if value is not None]
    return LONG_HEADER, long_records(records)


INFER = Kind("infer", inference_data, inference_markdown, inference_records, rows=lambda data: data["rows"])
