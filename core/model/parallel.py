"""Training at scale as sheet cells: per-GPU memory, communication and time under a parallel layout.

The layout (dp, tp, pp, cp, ep, virtual_stages, micro_batch, zero_stage, sequence_parallel,
recompute, overlap) is inputs that core registers (outputs.py); this module turns the chosen rows
into the `gpu.` family of cells, reading each row's flags and fields, never its name:

- a row divides over tp as its `tensor_parallel` field says, Megatron's rule for the layer:
  "column" (the weight and its bias) and "vocab" (a vocabulary-parallel table) split whole;
  "row" splits the weight and keeps the bias whole on every rank (RowParallelLinear adds it
  after the all-reduce); "replicated" (norms, a learned position table, a router) stays whole.
  Unstated, a row with a `shape` (a matrix multiply, not a product over the sequence) is
  "column", one marked `embedding_table` "vocab", any other "replicated";
- a row whose `params_active` differs from its `params` holds routed experts: split over ep too,
  its states sharded by ZeRO over dp / ep (the expert data-parallel group);
- a repeated row sits on every pipeline stage, ceil(its instances / (pp·v))·v of them on the
  most loaded; a lookup table sits on the first stage, the other single rows on the last.

Activations follow Korthikanti et al. 2022, Table 2: a layer's activations divide by t with
sequence parallelism; without it, the 10·s·b·h of the layer's norms, the inputs of the first
matmuls after them and its two dropout masks, (4·b_act + 2)·s·b·h, stay whole on every rank.
Selective recomputation drops the rows marked `attention_product`; full recomputation keeps
each layer's input only, b_act·s·b·h (÷ t with sequence parallelism).
"""

from __future__ import annotations

from typing import Callable, List, Sequence, Tuple

from acct.engine.formula import sum_text
from acct.model.cells import cell_name

# the layout's inputs and checks (LAYOUT_INPUTS, ...) are declared with core's other inputs in
# acct.model.outputs, so that registering them does not import this module

GPU_FAMILY = "gpu"

# the collectives, in report order: cell suffix -> (label, the group's span in ranks, what it moves)
COLLECTIVES = (
    ("dp", "DP over dp·cp: gradient all-reduce (ZeRO-1/2: reduce-scatter + weight all-gather; ZeRO-3: two)",
     "tp * cp * dp"),
    ("tp", "TP all-reduces (SP: all-gather + reduce-scatter), 2 forward + 2 backward per layer", "tp"),
    ("pp", "PP point-to-point activations and their gradients at stage boundaries", "gpus"),
    ("cp", "CP key/value exchange (ring: forward K,V; backward K,V and their gradients)", "tp * cp"),
    ("ep", "EP all-to-alls of routed tokens (dispatch + combine, forward + backward)", "tp * cp * ep"),
)


def parallel_cells(rows, has_input: Callable[[str], bool], activations: bool, timed: bool,
                   kv_cache: bool, linked: bool = True) -> List[Tuple[str, str]]:
    """The `gpu.` cells for these rows, as (name, formula text) in dependency order. `has_input`
    says whether a loaded plugin registers an input (num_heads, num_experts, d_model, ...);
    `activations` whether the rows' activations column is in the sheet; `timed` whether the
    hardware inputs are (time cells need them); `kv_cache` whether the rows' kv_cache column is."""
    has_experts = any(r.repeated and _is_expert(r) for r in rows)
    cells = _parameter_cells(rows) + _state_cells(has_experts)
    if activations:
        cells += _activation_cells(rows, has_input)
    cells += _communication_cells(rows, has_input, kv_cache, has_experts)
    if timed and linked:
        cells += _link_time_cells()
    if timed:
        cells += _step_time_cells(rows, activations, linked)
    return cells


def _tp_rule(row) -> str:
    """How the row divides over tp: its own tensor_parallel, or the rule its shape implies."""
    if row.spec.tensor_parallel is not None:
        return row.spec.tensor_parallel
    if row.spec.embedding_table:
        return "vocab"
    return "column" if row.spec.shape is not None and not row.spec.attention_product else "replicated"


def _is_expert(row) -> bool:
    return row.params_active.text != row.params.text


def _shares(row, instances: str, total: str) -> List[Tuple[Tuple[bool, bool], str]]:
    """((split over tp, split over ep), parameters) pairs whose quotients sum to the row's
    parameters on one GPU:
    `instances` of it, `total` their parameters. A row-parallel row's weight divides by tp,
    the bias a preset may turn on (its params less the plugin's unbiased params) does not."""
    expert = _is_expert(row)
    rule = _tp_rule(row)
    if rule == "replicated":
        return [((False, expert), total)]
    if rule == "row" and row.bias is not None:
        weight = f"({row.spec.params}) * {instances}"
        return [((True, expert), weight), ((False, expert), f"{total} - {weight}")]
    return [((True, expert), total)]


def _on_stage(row) -> List[Tuple[Tuple[bool, bool], str]]:
    """A repeated row's instances on the most loaded stage: whole chunks of v."""
    instances = f"ceil_div({cell_name(row, 'multiplicity')}, pp * virtual_stages) * virtual_stages"
    return _shares(row, instances, f"{cell_name(row, 'params_each')} * {instances}")


def _whole(row) -> List[Tuple[Tuple[bool, bool], str]]:
    """A single row's instances, all on one stage."""
    return _shares(row, cell_name(row, "multiplicity"), cell_name(row, "params"))


def _grouped(members, terms) -> str:
    """Sum the members by divisor, dividing each group once (so the bounds on the values'
    denominators stay small for the compiled sheet plan calls thousands of times)."""
    groups: dict = {}
    for row in members:
        for key, term in terms(row):
            groups.setdefault(key, []).append(term)
    parts = []
    for expert in (False, True):  # (split / tp + whole) / ep: tp and ep each divide once
        inner = [f"({sum_text(groups[(True, expert)])}) / tp" if (True, expert) in groups else "",
                 f"({sum_text(groups[(False, expert)])})" if (False, expert) in groups else ""]
        inner = " + ".join(part for part in inner if part)
        if inner:
            parts.append(f"({inner}) / ep" if expert else inner)
    return " + ".join(parts) if parts else "0"


def _has_width(has_input: Callable[[str], bool]) -> bool:
    """Whether the inputs give an activation's size: d_model, context_length, activation_bytes."""
    return has_input("d_model") and has_input("context_length") and has_input("activation_bytes")


def _parameter_cells(rows) -> List[Tuple[str, str]]:
    """The parameters on the most loaded GPU of the first and of the last stage, and ZeRO's divisors."""
    layer_dense = _grouped([r for r in rows if r.repeated and not _is_expert(r)], _on_stage)
    layer_expert = _grouped([r for r in rows if r.repeated and _is_expert(r)], _on_stage)
    first = _grouped([r for r in rows if not r.repeated and r.spec.embedding_table], _whole)
    last = _grouped([r for r in rows if not r.repeated and not r.spec.embedding_table], _whole)
    return [
        ("gpu.single_stage", "1 - min(1, pp - 1)"),
        ("gpu.sp_divisor", "1 + sequence_parallel * (tp - 1)"),
        ("gpu.params_layers", layer_dense),
        ("gpu.params_experts", layer_expert),
        ("gpu.params_first_only", first),
        ("gpu.params_last_only", last),
        # the most loaded GPU of the first and of the last stage (the same GPU when pp = 1)
        ("gpu.params_first", "gpu.params_layers + gpu.params_first_only + gpu.single_stage * gpu.params_last_only"),
        ("gpu.params_last", "gpu.params_layers + gpu.params_last_only + gpu.single_stage * gpu.params_first_only"),
        # ZeRO's divisors: stage ≥ 1 shards the optimizer states and master weights, ≥ 2 the
        # gradients, 3 the weights, over the data-parallel group (dp / ep for experts' states)
        # context-parallel ranks hold the same weights as their data-parallel peers: the gradient
        # reduction and the sharding span dp·cp (Megatron's data-parallel group with cp)
        ("gpu.zero_optimizer", "1 + min(zero_stage, 1) * (dp * cp - 1)"),
        ("gpu.zero_gradients", "1 + (zero_stage // 2) * (dp * cp - 1)"),
        ("gpu.zero_weights", "1 + (zero_stage // 3) * (dp * cp - 1)"),
        ("gpu.zero_optimizer_experts", "1 + min(zero_stage, 1) * (dp / ep - 1)"),
        ("gpu.zero_gradients_experts", "1 + (zero_stage // 2) * (dp / ep - 1)"),
        ("gpu.zero_weights_experts", "1 + (zero_stage // 3) * (dp / ep - 1)"),
    ]


def _state_cells(has_experts: bool) -> List[Tuple[str, str]]:
    """The bytes of weights, gradients, master weights and optimizer moments on each stage's GPU."""
    cells: List[Tuple[str, str]] = []
    states = (("weights", "weight_bytes", "weights"), ("gradients", "grad_bytes", "gradients"),
              ("master", "master_bytes", "optimizer"), ("optimizer", "moment_bytes", "optimizer"))
    for stage in ("first", "last"):
        for name, per_param, zero in states:
            cells.append((f"gpu.memory.{stage}.{name}",
                          f"gpu.params_{stage} * {per_param} / gpu.zero_{zero}"
                          + (f" + gpu.params_experts * {per_param} / gpu.zero_{zero}_experts" if has_experts else "")))
        cells.append((f"gpu.memory.{stage}.states", " + ".join(f"gpu.memory.{stage}.{n}" for n, _, _ in states)))
    cells.append(("gpu.params", "max(gpu.params_first, gpu.params_last) + gpu.params_experts"))
    return cells


def _activation_cells(rows, has_input: Callable[[str], bool]) -> List[Tuple[str, str]]:
    """Activations kept by recomputation mode, the micro-batches in flight, and each stage's peak."""
    layer_acts = [cell_name(r, "activations") for r in rows if r.repeated]
    scores = [cell_name(r, "activations") for r in rows if r.repeated and r.spec.attention_product]
    outside = [cell_name(r, "activations") for r in rows if not r.repeated]
    width = _has_width(has_input)
    layers = "num_layers" if has_input("num_layers") else "1"
    # Korthikanti et al. 2022 Table 2 per layer and sequence, then × layers on the stage ÷ layers
    replicated = (f"(4 * activation_bytes + 2) * context_length * d_model * {layers}" if width else "0")
    layer_input = f"activation_bytes * context_length * d_model * {layers}" if width else sum_text(layer_acts)
    return [
        ("gpu.recompute_none", "1 - min(recompute, 1)"),
        ("gpu.recompute_selective", "recompute % 2"),
        ("gpu.recompute_full", "recompute // 2"),
        ("gpu.activations_layers", sum_text(layer_acts)),
        ("gpu.activations_scores", sum_text(scores)),
        ("gpu.activations_outside", sum_text(outside)),
        ("gpu.activations_replicated", replicated),
        # one sequence, all layers of the model, on one tp rank, by recomputation mode
        ("gpu.activations_kept",
         "(1 - gpu.recompute_full) * ((gpu.activations_layers - gpu.recompute_selective * gpu.activations_scores)"
         " / tp + (1 - sequence_parallel) * gpu.activations_replicated * (tp - 1) / tp)"
         f" + gpu.recompute_full * {layer_input} / gpu.sp_divisor"),
        # the share of the layers on the most loaded stage, for one micro-batch (its T / cp tokens)
        ("gpu.layer_share", "ceil_div(num_layers, pp * virtual_stages) * virtual_stages / num_layers"
         if has_input("num_layers") else "1 / pp"),
        ("gpu.activations_micro_batch", "micro_batch * gpu.activations_kept * gpu.layer_share / cp"),
        ("gpu.activations_outside_micro_batch", "micro_batch * gpu.activations_outside / (tp * cp)"),
        # micro-batches whose activations stage 1 holds: min(m, p) in 1F1B; interleaved,
        # p·(1 + (p − 1)/(p·v)) (Korthikanti et al. 2022 §4.2.3, Megatron's theoretical memory)
        ("gpu.interleaved", "min(1, virtual_stages - 1)"),
        ("gpu.in_flight", "(1 - gpu.interleaved) * min(micro_batches, pp)"
                          " + gpu.interleaved * (pp + (pp - 1) / virtual_stages)"),
        ("gpu.memory.first.activations", "gpu.in_flight * gpu.activations_micro_batch"
                                         " + gpu.single_stage * gpu.activations_outside_micro_batch"),
        ("gpu.memory.last.activations", "gpu.activations_micro_batch + gpu.activations_outside_micro_batch"),
        ("gpu.memory.first.peak", "gpu.memory.first.states + gpu.memory.first.activations"),
        ("gpu.memory.last.peak", "gpu.memory.last.states + gpu.memory.last.activations"),
        ("gpu.memory.peak", "max(gpu.memory.first.peak, gpu.memory.last.peak)"),
    ]


def _communication_cells(rows, has_input: Callable[[str], bool], kv_cache: bool,
                         has_experts: bool) -> List[Tuple[str, str]]:
    """The bytes one GPU sends per step, per collective, and their total."""
    width = _has_width(has_input)
    experts = has_experts and has_input("num_experts")
    layers_on_stage = ("ceil_div(num_layers, pp * virtual_stages) * virtual_stages" if has_input("num_layers")
                       else "1")
    message = "micro_batch * context_length / cp * d_model * activation_bytes" if width else "0"
    # the data-parallel collectives' bytes per parameter: ZeRO-0 all-reduces the gradients (a
    # reduce-scatter and an all-gather of gradients); ZeRO-1/2 reduce-scatter the gradients and
    # all-gather the updated weights; ZeRO-3 all-gathers the weights twice (forward and backward).
    # Equal to 2, 2, 3 × the gradient bytes when weights and gradients are the same width; with
    # Megatron's distributed optimizer, fp32 gradients (4) and bf16 weights (2): 6
    cells = [("gpu.dp_bytes", "grad_bytes + min(zero_stage, 1) * weight_bytes"
                              " + (1 - min(zero_stage, 1)) * grad_bytes + (zero_stage // 3) * weight_bytes")]
    cells += [
        ("gpu.comm.dp", "((dp * cp - 1) / (dp * cp) * (gpu.params - gpu.params_experts)"
                        " + (dp / ep - 1) / (dp / ep) * gpu.params_experts) * gpu.dp_bytes" if has_experts else
                        "(dp * cp - 1) * gpu.params * gpu.dp_bytes / (dp * cp)"),
        ("gpu.comm.tp", f"4 * 2 * (tp - 1) / tp * {message} * {layers_on_stage} * micro_batches"),
        ("gpu.comm.pp", f"min(1, pp - 1) * 2 * {message} / gpu.sp_divisor * virtual_stages * micro_batches"),
    ]
    if kv_cache and has_input("activation_bytes"):
        cells.append(("gpu.comm.cp", "3 * (cp - 1) * micro_batch * total.kv_cache / (pp * tp * cp)"
                                     " * activation_bytes * micro_batches"))
    else:
        cells.append(("gpu.comm.cp", "0"))
    if experts and has_input("experts_per_token") and width:
        moe_layers = next(cell_name(r, "multiplicity") for r in rows if r.repeated and _is_expert(r))
        cells.append(("gpu.comm.ep", f"4 * (ep - 1) / ep * {message} * experts_per_token"
                                     f" * ceil_div({moe_layers}, pp * virtual_stages) * virtual_stages * micro_batches"))
    else:
        cells.append(("gpu.comm.ep", "0"))
    cells.append(("gpu.comm.total", " + ".join(f"gpu.comm.{name}" for name, _, _ in COLLECTIVES)))
    return cells


def _link_time_cells() -> List[Tuple[str, str]]:
    """Each collective's time over the node's links when its group fits in a node, else the network."""
    cells: List[Tuple[str, str]] = []
    for name, _, span in COLLECTIVES:
        # 1 when the group fits in one node (its ranks are consecutive), else 0
        cells.append((f"gpu.intra.{name}", f"1 - min(1, ({span} - 1) // gpus_per_node)"))
        cells.append((f"gpu.time.comm_{name}",
                      f"gpu.comm.{name} / ((gpu.intra.{name} * link_bandwidth"
                      f" + (1 - gpu.intra.{name}) * network_bandwidth) * bandwidth_efficiency)"))
    return cells


def _step_time_cells(rows, activations: bool, linked: bool) -> List[Tuple[str, str]]:
    """The FLOPs one GPU runs per step, recomputation included, and the step's and run's time."""
    # recomputation runs the layers' forward again (full) or their attention products (selective):
    # one forward of QKᵀ and attention·V, 4·B·s²·h per layer, the count one derives; Korthikanti et
    # al.'s published HFU counts 12·B·s²·h (the korthikanti_hfu convention reproduces it)
    recompute_flops = ("gpu.recompute_full * blocks.flops * batch_size + gpu.recompute_selective"
                       " * gpu.flops_scores * batch_size") if activations else "0"
    scores = [cell_name(r, "flops") for r in rows if r.spec.attention_product]
    comm = " + ".join(f"gpu.time.comm_{name}" for name, _, _ in COLLECTIVES) if linked else "0"
    return [
        ("gpu.flops_scores", sum_text(scores)),
        ("gpu.flops_recompute", recompute_flops),
        ("gpu.flops", "(train.flops_model + gpu.flops_recompute) / gpus"),
        ("gpu.time.compute", "gpu.flops / (peak_flops * mfu)"),
        ("gpu.time.bubble", "gpu.time.compute * (pp - 1) / (virtual_stages * micro_batches)"),
        ("gpu.time.comm", comm),
        ("gpu.time.step", "gpu.time.compute + gpu.time.bubble + (1 - overlap) * gpu.time.comm"),
        ("gpu.time.run", "gpu.time.step * steps"),
    ]


def finetune_cells(timed: bool) -> List[Tuple[str, str]]:
    """Fine-tuning on one device (acct.model.finetune): the compute time, no layout."""
    cells = [("gpu.flops", "train.flops_model / gpus")]
    if timed:
        cells += [("gpu.time.compute", "gpu.flops / (peak_flops * mfu)"), ("gpu.time.step", "gpu.time.compute"),
                  ("gpu.time.run", "gpu.time.step * steps")]
    return cells
