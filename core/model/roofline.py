"""The inference cells of a model's sheet: weights at their quantized widths, what fits, and a roofline.

Per row, from the fields every row states (`shape`, `batch`, `params`, `params_active`,
`kv_cache`, `attention_product`, the decode FLOPs), never from its name:

- **Quantized rows** are the linear layers: a row with a matmul `shape` that is not an
  `attention_product`. Their weights take `infer.bits_per_weight` bits (the weight dtype's
  bits plus each group's scale and zero point over the group); every other row (lookup
  tables, norms, position tables) keeps the activation dtype.
- **Bytes moved** by a row in one pass: its weights (all of them, or the experts the pass's
  tokens can reach: min(params, params_active × tokens); a lookup table none, a gather of its
  tokens' rows; a head tied to the table reads it through its shape), its activations in and out
  (m·k and m·n of its shape, per `batch`, × infer_activation_bytes; a product over the sequence
  what the attention kernel `attention_fused` moves, see `attention`) and, for a row that
  reads the KV cache, the cache it reads (its `kv_cache` elements × kv_bytes).
- **Prefill** is the forward pass over P = context_length tokens. **Decode** step t (t keys,
  its own included) runs each row for one token: m = 1, and context_length becomes t in the
  shape's other sides and in the cache; the decode FLOPs read t as decode_position. Steps run
  t = P + 1, ..., P + G (G = generate); the sums over the G steps are closed forms
  (`series`), not loops. A row's constraint on the sequence length (a learned table's
  spare_positions) holds at the longest forward too, P + G − 1 positions (`generation_checks`).
- **Time** of a row = max(FLOPs ÷ (peak_flops·mfu·gpus), bytes ÷ (memory_bandwidth·
  bandwidth_efficiency·gpus)); a pass's time is the sum over its rows, each bound on its own,
  as LLM-Viewer sums its layers. Over the G steps a row's time is max(ΣFLOPs ÷ rate,
  Σbytes ÷ bandwidth): exact while the row keeps one bound over the steps, which it does when
  it has the same bound at the first and the last step (FLOPs and bytes both move with one
  quantity, t or min(W, t), so their difference changes sign at most once).
"""

from __future__ import annotations

from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from acct.engine.formula import (Formula, Tree, Unsummable, add, built, call, div, mul, named, node_count, number, reads,
                                 sub, substitute)
from acct.engine.formula import series as closed_sum
from acct.engine.sheet import Cell
from acct.errors import PluginError

# the optional output families and the inputs without which they are left out of the sheet
# the inputs these cells read (INFERENCE_INPUTS, ...) are declared with core's other inputs in acct.model.outputs

PHASES = ("prefill", "decode_first", "decode_last", "decode")  # decode: the sum over the G steps
T_FIRST, T_LAST = "infer.t_first", "infer.t_last"


def quantized(row) -> bool:
    """A linear layer: a matrix multiply by a weight (a `shape`, not a product over the sequence)."""
    return row.shape is not None and not row.spec.attention_product


def series(tree: Tree, var: str, first: Tree, last: Tree, where: str) -> Tree:
    """Σ of `tree` over var = first, ..., last in closed form (the engine's `series`); a formula it
    cannot close is an error naming `where`, the row and column it came from."""
    try:
        return closed_sum(tree, var, first, last)
    except Unsummable as error:
        raise PluginError(f"{where}: acct sums a decode formula over the generated tokens in closed form, and cannot "
                          f"sum {error.part!r} over {var} (it takes sums, products by a factor without {var}, "
                          f"and min or max of {var} with a window)") from None


# FlashAttention writes, beside O, the softmax's log-sum-exp in fp32: one value per query row per head
LSE_BYTES = 4
# acct infer --attention KERNEL -> attention_fused
ATTENTION_KERNELS = {"sdpa": 1, "eager": 0}


def attention_set(kernel: object, option: str, hardware: Optional[str], given: Mapping[str, object]) -> Dict[str, int]:
    """The input `--attention KERNEL` (or the API's attention=KERNEL) sets: {"attention_fused": 1 or 0}.
    `given`: the inputs already set, `hardware` the hardware named; the kernel changes only the
    roofline's bytes, so without the roofline it would silently change nothing."""
    from acct.errors import ConfigError
    from acct.model.outputs import ROOFLINE_INPUTS

    if not isinstance(kernel, str) or kernel not in ATTENTION_KERNELS:
        raise ConfigError(f"{option}: unknown attention kernel {kernel!r}; known: sdpa (fused, the default), "
                          f"eager (unfused)")
    if "attention_fused" in given:
        raise ConfigError(f"{option} and --set attention_fused both choose the attention kernel; give one of them")
    if not hardware and not any(name in given for name in ROOFLINE_INPUTS):
        raise ConfigError(f"{option} chooses the attention traffic of the roofline, which needs --hardware NAME "
                          f"(a100, h100, h200) or --set peak_flops=... --set memory_bandwidth=...")
    return {"attention_fused": ATTENTION_KERNELS[kernel]}


def attention(m: Tree, k: Tree, n: Tree, keys_side: str) -> Tree:
    """Bytes one head moves in and out of a product over the sequence, for one sequence, under the
    kernel `attention_fused` chooses (its K or V is the KV cache, counted apart; m query rows):

    - fused (SDPA/FlashAttention; Dao et al. 2022, Algorithm 1): the m×keys scores and
      probabilities never leave the chip; QKᵀ reads Q (m·d_k) and writes the log-sum-exp (m values
      in fp32), attention·V writes O (m·d_v). Q, K, V read once, O and the LSE written once: the
      compulsory traffic, what a roofline counts.
    - unfused (PyTorch eager): QKᵀ reads Q and writes the m×keys scores, attention·V reads the
      m×keys probabilities and writes O, at the activation dtype. The softmax between them, which
      reads the scores and writes the probabilities, is elementwise and moves nothing here, as
      norms and activation functions do not (LLM-Viewer lists it as a layer of its own).

    attention_fused·fused + attention_unfused·unfused, both 0 or 1."""
    activation = named("infer_activation_bytes")
    if keys_side == "n":  # QKᵀ: Q (m×k) in; scores (m×n) out, or the LSE
        return add(mul(m, k, activation), mul(named("attention_fused"), m, number(LSE_BYTES)),
                   mul(named("attention_unfused"), m, n, activation))
    # attention·V: O (m×n) out; the probabilities (m×k) in, unfused
    return add(mul(m, n, activation), mul(named("attention_unfused"), m, k, activation))


class RowTrees:
    """The formula trees of one row's inference quantities, all its instances, for the batch."""

    def __init__(self, row, cell_name: Callable[[object, str], str]):
        self.row = row
        self.where = row.where
        self.name = lambda column: cell_name(row, column)
        self.times = named(cell_name(row, "multiplicity")) if row.repeated else None

    def _all(self, tree: Tree) -> Tree:
        return mul(tree, self.times) if self.times is not None else tree

    def bytes_of(self, params: Tree) -> Tree:
        """The bytes of `params` weights of this row: packed at infer_weight_bits with each group's
        scale and zero point for a quantized row (whole bytes and whole groups: exact when they
        divide, as in real checkpoints), at the activation dtype otherwise. Whole numbers, so that
        sums over many rows stay exact integers."""
        if quantized(self.row):
            return add(call("ceil_div", mul(params, named("infer_weight_bits")), number(8)),
                       mul(call("ceil_div", params, named("infer_group_size")), named("infer_scale_bytes")))
        return mul(params, named("infer_activation_bytes"))

    def weights_held(self) -> Tree:
        return self.bytes_of(named(self.name("params")))

    def weights_read(self, tokens: Tree) -> Tree:
        """The weights a pass over `tokens` tokens reads, all instances. A lookup table: none (a
        gather of its tokens' rows, negligible). A linear layer: its weight matrix, at least the
        shape's k×n per head (a head tied to the embedding reads the table it shares), and of an
        MoE layer only the experts the tokens can reach (params_active per token, at most all)."""
        if self.row.spec.embedding_table:
            return number(0)
        each, active = named(self.name("params_each")), named(self.name("params_active_each"))
        if quantized(self.row):
            _, k, n = (side.tree for side in self.row.shape)
            matrix = mul(self.row.batch.tree if self.row.batch is not None else number(1), k, n)
            each, active = call("max", each, matrix), call("max", active, matrix)
        return self.bytes_of(self._all(call("min", each, mul(active, tokens))))

    def activations(self, t: Optional[Tree], instances: bool = True) -> Tree:
        """Bytes in and out of the row's matrix multiply, for the batch: prefill (t None) as the
        shape states it; a decode step at t keys with m = 1 and context_length = t elsewhere.
        A product over the sequence moves what the attention kernel moves (`attention`).
        All the row's instances, or one (`instances=False`)."""
        if self.row.shape is None:
            return number(0)
        m, k, n = (side.tree for side in self.row.shape)
        heads = self.row.batch.tree if self.row.batch is not None else number(1)
        keys_side = self._keys_side(k, n) if self.row.spec.attention_product else None
        if t is not None:
            m = number(1)
            k, n, heads = (substitute(side, {"context_length": t}) for side in (k, n, heads))
        if keys_side is not None:
            one = mul(heads, named("batch_size"), attention(m, k, n, keys_side))
        else:
            elements = mul(heads, add(mul(m, k), mul(m, n)))
            one = mul(elements, named("batch_size"), named("infer_activation_bytes"))
        return self._all(one) if instances else one

    def _keys_side(self, k: Tree, n: Tree) -> str:
        """Which inner side of a product over the sequence runs over the keys: n for QKᵀ, which
        writes the m×keys scores, k for attention·V, which reads the m×keys probabilities."""
        over = [side for side, tree in (("k", k), ("n", n)) if reads(tree, "context_length")]
        if len(over) != 1:
            raise PluginError(f"{self.where}: an attention_product's shape (m, k, n) must read context_length "
                              f"in exactly one of k and n (the keys: n for QKᵀ, k for attention·V), so that acct "
                              f"knows which matrix a fused attention kernel keeps on chip")
        return over[0]

    def kv(self, t: Optional[Tree]) -> Tree:
        """Bytes of KV cache the row holds and reads, for the batch, on all devices together: at P
        tokens (t None) or at t. Where tensor parallelism replicates the cache (more devices than
        KV heads, or a latent every device needs), each copy is held and read: × gpus / kv_split."""
        tree = self.row.kv_cache.tree
        if t is not None:
            tree = substitute(tree, {"context_length": t})
        factors = [tree, named("batch_size"), named("kv_bytes")]
        if self.row.kv_split is not None:
            return self._all(div(mul(*factors, named("gpus")), self.row.kv_split.tree))
        return self._all(mul(*factors))

    def decode_flops(self, t: Tree) -> Tree:
        tree = substitute(self.row.flops_decode.tree, {"decode_position": t})
        return self._all(mul(tree, named("batch_size")))

    def reads_cache(self) -> bool:
        return self.row.kv_cache.text != "0"


def longest_forward() -> Tree:
    """The positions of the longest forward pass a generation of G tokens runs: P + G − 1. The k-th
    generated token is sampled from a forward over P + k − 1 positions (the first from the prefill
    over P), and the last is never fed back; transformers' MaxLengthCriteria warns only when a
    forward past max_position_embeddings is about to run, so a 1,024-position GPT-2 takes a
    1,024-token prompt and returns one token. With G = 1 (the default) it is the prompt itself."""
    return sub(add(named("context_length"), named("generate")), number(1))


GENERATION_CHECK = "_while_generating"  # the suffix of a row's constraint checked at P + G − 1


def generation_checks(rows: Sequence, input_cells: Mapping[str, Cell]) -> List[Cell]:
    """The rows' constraints on the sequence length, again at the longest forward of the generation:
    a constraint a row `requires` (a learned table's spare_positions = max_positions − T ≥ 0) that
    reads context_length holds for the prompt in the sheet; here it must hold for P + G − 1 positions
    too, so that a sweep or a solve over generate stops at the table as one over the prompt does."""
    checks: Dict[str, Cell] = {}
    for row in rows:
        for name in row.spec.requires:
            cell = input_cells.get(name)
            if (name in checks or cell is None or cell.minimum is None
                    or "context_length" not in cell.formula.names):
                continue
            tree = substitute(cell.formula.tree, {"context_length": longest_forward()})
            # undotted, as the layout checks are: a compiled sweep or solve checks every such cell
            checks[name] = Cell(name + GENERATION_CHECK, built(tree),
                                f"{row.where} requires {name} at the longest forward, P + G − 1 positions",
                                integer=cell.integer, minimum=cell.minimum,
                                message=cell.message and cell.message.replace(
                                    "{context_length} tokens", "a prompt of {context_length} and {generate} "
                                    "generated tokens (P + G − 1 positions)"))
    return list(checks.values())


def memory_cells(rows: Sequence, cell_name, input_cells: Mapping[str, Cell] = {}) -> List[Cell]:
    """The `infer` family's memory cells: weights at their widths, the cache after P + G tokens,
    the workspace, per device, and the rows' length constraints at the longest forward of the
    generation (`generation_checks`). Read by nothing that needs hardware."""
    cells: List[Cell] = generation_checks(rows, input_cells)
    held, kv_end, workspace = [], [], []
    for row in rows:
        trees = RowTrees(row, cell_name)
        cells.append(_cell(trees.name("weight_bytes"), trees.weights_held(), f"{row.where} weight bytes"))
        held.append(named(trees.name("weight_bytes")))
        if trees.reads_cache():
            kv_end.append(trees.kv(named(T_LAST)))
        if quantized(row):  # one linear layer's input and output at prefill: the live activations
            workspace.append(trees.activations(None, instances=False))
    outputs = {
        T_FIRST: add(named("context_length"), number(1)),
        T_LAST: add(named("context_length"), named("generate")),
        "infer.bits_per_weight": add(named("infer_weight_bits"), div(mul(number(8), named("infer_scale_bytes")),
                                                                     named("infer_group_size"))),
        "infer.weight_bytes": add(*held),
        "infer.kv_cache_bytes": add(*kv_end),
        "infer.workspace_bytes": (call("max", *workspace) if len(workspace) > 1
                                  else workspace[0] if workspace else number(0)),
    }
    outputs["infer.memory"] = add(named("infer.weight_bytes"), named("infer.kv_cache_bytes"),
                                  named("infer.workspace_bytes"))
    outputs["infer.memory_per_device"] = div(named("infer.memory"), named("gpus"))
    cells += [_cell(name, tree, f"acct's output {name}") for name, tree in outputs.items()]
    return cells


def roofline_cells(rows: Sequence, cell_name) -> List[Cell]:
    """The `roofline` family: per row and in total, FLOPs, bytes, intensity and time of the
    prefill, of the first and the last decode step, and of the G steps together; the headline
    figures (TTFT, time per output token, latency, tokens/s) and what is left of the memory."""
    cells: List[Cell] = []
    totals: Dict[str, List[Tree]] = {}  # total's name -> the rows' terms
    for row in rows:
        trees = RowTrees(row, cell_name)
        for phase, quantities in phase_trees(trees).items():
            cells += phase_cells(trees, phase, quantities, totals)
    return cells + [_cell(name, tree, f"acct's output {name}") for name, tree in roofline_outputs(totals).items()]


def phase_trees(trees: RowTrees) -> Dict[str, Tuple[Tree, Tree, Tree, Tree]]:
    """One row's (FLOPs, weights read, activations, KV cache) in each phase: the prefill over P
    tokens, the first and the last decode step, and the G steps, Σ over t = P + 1 .. P + G in
    closed form."""
    where = trees.where
    batch, t_first, t_last = named("batch_size"), named(T_FIRST), named(T_LAST)
    phases = {
        "prefill": (mul(named(trees.name("flops")), batch), trees.weights_read(mul(batch, named("context_length"))),
                    trees.activations(None), trees.kv(None)),
    }
    for phase, t in (("decode_first", t_first), ("decode_last", t_last)):
        phases[phase] = (trees.decode_flops(t), trees.weights_read(batch), trees.activations(t), trees.kv(t))
    var = "infer.t"
    t = named(var)
    phases["decode"] = (
        series(trees.decode_flops(t), var, t_first, t_last, f"{where} flops_decode"),
        mul(trees.weights_read(batch), named("generate")),
        series(trees.activations(t), var, t_first, t_last, f"{where} shape"),
        series(trees.kv(t), var, t_first, t_last, f"{where} kv_cache"),
    )
    return phases


def phase_cells(trees: RowTrees, phase: str, quantities: Tuple[Tree, Tree, Tree, Tree],
                totals: Dict[str, List[Tree]]) -> List[Cell]:
    """One row's cells in one phase, from its (FLOPs, weights read, activations, KV cache): the
    FLOPs, the KV-cache bytes (a row that reads the cache), the bytes moved, the time and the
    arithmetic intensity (a row with a shape); each added to its phase's total in `totals`."""
    flops, weights, activations, kv = quantities
    cells: List[Cell] = []
    prefix, where = f"{phase}_", trees.where

    def put(name: str, tree: Tree, what: str, total: Optional[str] = None) -> None:
        cells.append(_cell(name, tree, f"{where} {phase} {what}"))
        if total:
            totals.setdefault(total, []).append(named(name))

    flops_cell, bytes_cell = trees.name(prefix + "flops"), trees.name(prefix + "bytes")
    put(flops_cell, flops, "FLOPs", f"infer.{prefix}flops")
    if trees.reads_cache():
        put(trees.name(prefix + "kv_bytes"), kv, "KV-cache bytes", f"infer.{prefix}kv_bytes")
        kv = named(trees.name(prefix + "kv_bytes"))
    put(bytes_cell, add(weights, activations, kv), "bytes", f"infer.{prefix}bytes")
    put(trees.name(prefix + "time"), call("max", div(named(flops_cell), named("infer.compute_rate")),
                                          div(named(bytes_cell), named("infer.memory_rate"))), "time")
    # the total divides once: Σ max(F·bandwidth, bytes·FLOP/s) ÷ (FLOP/s · bandwidth), so
    # that its denominator does not grow with the rows
    totals.setdefault(f"infer.{prefix}work", []).append(
        call("max", mul(named(flops_cell), named("infer.memory_rate")), mul(named(bytes_cell), named("infer.compute_rate"))))
    if trees.row.shape is not None:  # whole bytes: max(bytes, 1) only keeps a row of no instances (0 / 0) at 0
        put(trees.name(prefix + "intensity"), div(named(flops_cell), call("max", named(bytes_cell), number(1))),
            "arithmetic intensity")
    return cells


def roofline_outputs(totals: Mapping[str, List[Tree]]) -> Dict[str, Tree]:
    """The roofline's totals over the rows, per phase, and the headline figures."""
    outputs: Dict[str, Tree] = {
        "infer.compute_rate": mul(named("peak_flops"), named("mfu"), named("gpus")),
        "infer.memory_rate": mul(named("memory_bandwidth"), named("bandwidth_efficiency"), named("gpus")),
        "infer.ridge": div(named("infer.compute_rate"), named("infer.memory_rate")),
    }
    for phase in PHASES:
        for column in ("flops", "kv_bytes", "bytes"):
            outputs[f"infer.{phase}_{column}"] = add(*totals.get(f"infer.{phase}_{column}", []))
        outputs[f"infer.{phase}_time"] = div(add(*totals[f"infer.{phase}_work"]),
                                             mul(named("infer.compute_rate"), named("infer.memory_rate")))
        outputs[f"infer.{phase}_intensity"] = div(named(f"infer.{phase}_flops"),
                                                  call("max", named(f"infer.{phase}_bytes"), number(1)))
    outputs.update({
        "infer.weight_floor": div(named("infer.weight_bytes"), named("infer.memory_rate")),
        "infer.ttft": named("infer.prefill_time"),
        "infer.time_per_token": div(named("infer.decode_time"), named("generate")),
        "infer.latency": add(named("infer.ttft"), named("infer.decode_time")),
        "infer.tokens_per_s_per_sequence": div(number(1), named("infer.time_per_token")),
        "infer.tokens_per_s": div(named("batch_size"), named("infer.time_per_token")),
    })
    return outputs


def fits_cells() -> List[Cell]:
    """What is left of one device's memory (negative: it does not fit)."""
    tree = sub(named("device_memory"), named("infer.memory_per_device"))
    return [_cell("infer.memory_free", tree, "acct's output infer.memory_free")]


def cost_cells() -> List[Cell]:
    """Dollars per million output tokens at the aggregate throughput, on `gpus` devices."""
    tree = div(mul(named("price_per_hour"), named("gpus"), number(10**6)),
               mul(number(3600), named("infer.tokens_per_s")))
    return [_cell("infer.usd_per_million_tokens", tree, "acct's output infer.usd_per_million_tokens")]


def _cell(name: str, tree: Tree, where: str) -> Cell:
    return Cell(name, built(tree, None if node_count(tree) < 200 else name), where)


def inputs_read(cells: Sequence[Cell]) -> List[Tuple[str, Formula]]:
    """(input name, formula) for every plain name the cells read (dotted names are cells)."""
    made = {cell.name for cell in cells}
    return [(name, cell.formula) for cell in cells for name in cell.formula.names
            if "." not in name and name not in made]
