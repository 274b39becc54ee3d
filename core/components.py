"""What a plugin registers: the inputs it reads and the component rows it contributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple, Union

FormulaText = Union[str, int]


@dataclass(frozen=True)
class Input:
    """A named value a preset may set, e.g. `d_model`.

    `default` is a formula (or a number) used when the preset leaves the input
    out; None makes the input required wherever a chosen component reads it.
    `symbol` is how displayed formulas write it (`D`). A size must be a whole
    number of at least `minimum`. An input with `settable=False` is derived
    from others by its default and a preset cannot set it (`d_head = d_model /
    num_heads`, which formulas such as QKᵀ's 2·T²·D rely on).
    """

    name: str
    description: str
    symbol: Optional[str] = None
    default: Optional[FormulaText] = None
    minimum: Optional[int] = 1
    integer: bool = True
    settable: bool = True


@dataclass(frozen=True)
class Component:
    """One row of the report: a part of the model with its parameter and FLOPs formulas.

    A component belongs to a `slot` (ffn, lm_head, ...) as one `variant` of it
    (swiglu, gelu; untied, tied); the preset chooses one variant per slot, and
    every component registered for that slot and variant becomes a row. The
    variant with `default=True` is used when a preset does not choose.

    `params` and `flops` count one instance: one layer's worth when `per_layer`
    (the report multiplies by num_layers), else the whole model's. `flops` is
    the forward pass over one sequence of context_length tokens. A matrix
    multiply states `shape` = (m, k, n) for (m×k)·(k×n), and `batch` when the
    same product runs once per head; its FLOPs must then equal 2·batch·m·k·n.

    A linear layer that may carry a bias states its length in `bias` (its
    output width); the preset's `biases` list turns it on, adding it to
    `params`. `requires` names inputs that must hold for this variant even if
    no formula reads them, e.g. `queries_per_kv`, which must divide.
    """

    name: str
    slot: str
    variant: str
    group: str
    params: FormulaText
    flops: FormulaText
    per_layer: bool = False
    shape: Optional[Tuple[FormulaText, FormulaText, FormulaText]] = None
    batch: Optional[FormulaText] = None
    description: str = ""
    default: bool = False
    note: str = ""  # shown under the tables, e.g. "the LM head shares the embedding's weight"
    bias: Optional[FormulaText] = None  # the bias vector's length, for a preset that turns biases on
    requires: Tuple[str, ...] = ()  # inputs that must be evaluated (and so checked) when this row is chosen
