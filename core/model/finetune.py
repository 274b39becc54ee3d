"""Fine-tuning as sheet cells: LoRA (and QLoRA's 4-bit base), the optimizer's state bytes.

Choices, like the precision, are the preset's `[training]` table or the options
(`--optimizer`, `--lora-targets`, `--base-weights`); the numbers they imply are inputs
(`moment_bytes`, `optimizer_flops`, `lora_rank`, `frozen_bytes`, `quantized_bytes`), so
sweep and solve vary them. Core reads rows through their fields, never their names:

- a matrix row has a `shape` (m, k, n) and is not an `attention_product`: it holds
  params_each // (k·n) matrices of k×n (one for a linear layer, E for routed experts);
- LoRA of rank r adapts a chosen matrix row with A (k×r) and B (r×n): r·(k + n) trainable
  parameters per matrix (Hu et al. 2021). Which rows is the user's choice by name
  (`--lora-targets q_proj,v_proj`); the default is every matrix row in the blocks
  (repeated, so not the LM head);
- the frozen base has no gradients and no optimizer states; its block linears (the repeated
  matrix rows) take `quantized_bytes` per weight and the rest (embeddings, norms, the head)
  `frozen_bytes` (2: bf16). QLoRA's NF4 (Dettmers et al. 2023, §3): 4 bits per weight, an
  8-bit absmax constant per block of 64 and an fp32 constant per 256 of those blocks
  (double quantization): 4 + 8/64 + 32/(64·256) bits = 2113/4096 bytes per weight, exactly;
- Adafactor (Shazeer & Stern 2018) keeps, for a k×n matrix, the row and column sums of its
  second moment, (k + n)·4 B, and no first moment (β₁ = 0, its default); every other
  parameter keeps a full second moment (moment_bytes). A lookup table has no shape, so acct
  counts its moment in full (an upper bound: Adafactor factors it too).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from acct.engine.formula import sum_text
from acct.errors import ConfigError, suggest
from acct.model.cells import cell_name

NF4_BYTES = Fraction(4 + Fraction(8, 64) + Fraction(32, 64 * 256), 8)  # 2113/4096
BASE_WEIGHTS = {"bf16": 2, "nf4": NF4_BYTES}

# name -> (state values per parameter (moments), fixed bytes per parameter (None: the precision's
# bytes per moment), FLOPs per parameter per step, what it keeps, how its FLOPs are counted)
OPTIMIZERS: Dict[str, Tuple[int, Optional[int], int, str, str]] = {
    "adamw": (2, None, 14, "AdamW: two moments m, v at the precision's moment dtype (fp32: 8 B; pure bf16: 4 B)",
              "m (3), v (4), decoupled weight decay (2), θ ← θ − η·m̂/(√v̂ + ε) (5): 14"),
    "adamw8bit": (2, 2, 14, "8-bit AdamW (Dettmers et al. 2022): m and v at 1 B each, 2 B (its fp32 absmax "
                  "per block of 2,048 values, 4/2,048 B, left out)",
                  "AdamW's 14 on the dequantized moments (the (de)quantization left out)"),
    "sgd": (1, None, 4, "SGD with momentum: one momentum buffer at the precision's moment dtype (fp32: 4 B)",
            "m ← μ·m + g (2), θ ← θ − η·m (2): 4, no weight decay"),
    "adafactor": (1, 4, 12, "Adafactor (Shazeer & Stern 2018): no first moment (β₁ = 0); a k×n matrix keeps "
                  "its second moment's row and column sums, (k + n)·4 B; other parameters a full fp32 "
                  "second moment, 4 B",
                  "g² (1), row and column sums (2), v̂ = R·C/ΣR (2), u = g/√v̂ (2), RMS(u) (2), clip (1), "
                  "θ ← θ − η·u (2): 12"),
}
FACTORED_BYTES = 4  # Adafactor's row and column accumulators, fp32


def optimizer_name(preset) -> str:
    name = preset.training.get("optimizer", "adamw")
    if name not in OPTIMIZERS:
        where = preset.chosen_by.get("optimizer") or preset.where("training", "optimizer")
        raise ConfigError(f"{where}: unknown optimizer {name!r}{suggest(name, OPTIMIZERS)}; "
                          f"known: {', '.join(OPTIMIZERS)}")
    return name


def implied(preset, precisions: Mapping[str, Mapping[str, int]]) -> Dict[str, Tuple[str, object]]:
    """The inputs the optimizer and the base-weight choice imply: name -> (where, value)."""
    values: Dict[str, Tuple[str, object]] = {}
    name = optimizer_name(preset)
    if "optimizer" in preset.training:
        where = preset.chosen_by.get("optimizer") or preset.where("training", "optimizer")
        moments, fixed, flops, _, _ = OPTIMIZERS[name]
        precision = precisions.get(preset.training.get("precision", "fp32"), {})
        per_moment = precision.get("moment_bytes", 8) // 2
        values["moment_bytes"] = (f"{where} = {name}", moments * per_moment if fixed is None else fixed)
        values["optimizer_flops"] = (f"{where} = {name}", flops)
    base = preset.training.get("base_weights")
    if base is not None:
        where = preset.chosen_by.get("base_weights") or preset.where("training", "base_weights")
        if base not in BASE_WEIGHTS:
            raise ConfigError(f"{where}: unknown base weights {base!r}{suggest(base, BASE_WEIGHTS)}; "
                              f"known: {', '.join(BASE_WEIGHTS)}")
        value = Fraction(BASE_WEIGHTS[base])
        values["quantized_bytes"] = (f"{where} = {base}", f"{value.numerator} / {value.denominator}")
    return values


def lora_wanted(preset, overrides) -> bool:
    """LoRA is on when a rank, targets or a base-weight format is given."""
    return ("lora_rank" in overrides or "lora_rank" in preset.inputs or "lora_targets" in preset.training
            or "base_weights" in preset.training)


def is_matrix(row) -> bool:
    return row.shape is not None and not row.spec.attention_product


def lora_targets(preset, rows) -> List:
    """The rows LoRA adapts: the named ones, or every repeated matrix row."""
    text = preset.training.get("lora_targets")
    if not text:
        return [row for row in rows if row.repeated and is_matrix(row)]
    where = preset.chosen_by.get("lora_targets") or preset.where("training", "lora_targets")
    names = [name.strip() for name in text.split(",") if name.strip()]
    by_name = {row.spec.name: row for row in rows}
    matrices = [row.spec.name for row in rows if is_matrix(row)]
    chosen = []
    for name in names:
        if name not in by_name:
            raise ConfigError(f"{where}: no chosen component is named {name!r}{suggest(name, by_name)}; "
                              f"matrix rows: {', '.join(matrices)}")
        if not is_matrix(by_name[name]):
            raise ConfigError(f"{where}: {name} is not a weight matrix (no shape, or a product over the "
                              f"sequence); matrix rows: {', '.join(matrices)}")
        if by_name[name] not in chosen:
            chosen.append(by_name[name])
    if not chosen:
        raise ConfigError(f"{where}: name at least one row; matrix rows: {', '.join(matrices)}")
    return chosen


def _matrices(row) -> str:
    """How many k×n matrices one instance of the row holds (its bias, if any, floored away; a row
    of width 0, an absent shared expert, holds none)."""
    k, n = (f"({side.text})" for side in row.shape[1:])
    return f"{cell_name(row, 'params_each')} // max(1, {k} * {n})"  # a row of width 0 holds none


def _times(row) -> str:
    return f" * {cell_name(row, 'multiplicity')}" if row.repeated else ""


def finetune_outputs(preset, rows, overrides) -> Tuple[List[Tuple[str, str]], Dict[str, str]]:
    """(new cells, replaced outputs): the LoRA and optimizer cells, and the memory and optimizer
    outputs they change, as formula text. Nothing when neither LoRA nor Adafactor is chosen."""
    lora = lora_wanted(preset, overrides)
    factored = optimizer_name(preset) == "adafactor"
    cells: List[Tuple[str, str]] = []
    replaced: Dict[str, str] = {}
    if not lora and not factored:
        return cells, replaced
    if lora:
        targets = lora_targets(preset, rows)
        quantized = [row for row in rows if row.repeated and is_matrix(row)]
        cells += [
            ("train.lora_params", "lora_rank * (" + sum_text([f"(({row.shape[1].text}) + ({row.shape[2].text}))"
                                                          f" * ({_matrices(row)}){_times(row)}" for row in targets]) + ")"),
            ("train.lora_matrices", sum_text([f"({_matrices(row)}){_times(row)}" for row in targets])),
            ("train.params_quantized", sum_text([cell_name(row, "params") for row in quantized])),
            ("train.params_trainable", "train.lora_params"),
        ]
        replaced.update({
            "memory.weights": "train.params_quantized * quantized_bytes + (total.params - train.params_quantized)"
                              " * frozen_bytes + train.lora_params * weight_bytes",
            "memory.master": "train.lora_params * master_bytes",
            "memory.gradients": "train.lora_params * grad_bytes",
            "memory.optimizer": "train.lora_params * moment_bytes",
            "train.flops_optimizer": "train.params_trainable * optimizer_flops",
        })
    else:
        cells.append(("train.params_trainable", "total.params"))
    if factored:
        if lora:  # A (k×r) and B (r×n): sides k + r and r + n per adapted matrix
            matrix_params = "train.lora_params"
            sides = "(" + sum_text([f"(({row.shape[1].text}) + ({row.shape[2].text}) + 2 * lora_rank)"
                                   f" * ({_matrices(row)}){_times(row)}" for row in targets]) + ")"
        else:
            matrices = [row for row in rows if is_matrix(row)]
            matrix_params = sum_text([f"({row.shape[1].text}) * ({row.shape[2].text}) * ({_matrices(row)}){_times(row)}"
                                      for row in matrices])
            sides = sum_text([f"(({row.shape[1].text}) + ({row.shape[2].text})) * ({_matrices(row)}){_times(row)}"
                              for row in matrices])
        cells += [("train.optimizer_matrix_params", matrix_params), ("train.optimizer_factored_values", sides)]
        replaced["memory.optimizer"] = (f"(train.params_trainable - train.optimizer_matrix_params) * moment_bytes"
                                        f" + train.optimizer_factored_values * {FACTORED_BYTES}")
    return cells, replaced
