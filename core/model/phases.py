"""A training step's memory as PyTorch lives it: phases, each with its own peak.

For an activation convention that counts what autograd keeps (`phases=True`: eager, sdpa), one
training step on one device is three phases, and its peak is the largest of theirs, not a sum of
everything (PyTorch's MemTracker, `torch.distributed._tools.mem_tracker`, measures the same phases):

- forward, whose peak is at the loss: the weights, what every layer keeps for backward, and the
  loss's own tensors — the logits (B·T·V in the compute dtype), transformers' `ForCausalLMLoss`
  upcast of them to fp32 when they are not fp32 already, and under autocast the final hidden
  states that `*ForCausalLM.forward` still holds;
- backward, whose peak is at its start (the cross-entropy's backward: two fp32 B·T·V gradients
  beside everything kept) or at its end, when a tied embedding's gradient is the sum of the LM
  head's and the lookup's (three V·D tensors beside the other gradients);
- the optimizer step: weights, gradients, AdamW's two moments, its fp32 step counter per
  parameter tensor, and what its implementation allocates while stepping (`optimizer_impl`):
  one tensor at a time (forloop) makes the sqrt and the quotient of the largest tensor; the
  multi-tensor (foreach) one makes them for every tensor at once; the fused kernel none.

Under autocast (`--precision amp`) each linear layer keeps a bf16 copy of its weight for the
backward pass (autocast's cast cache, one per weight per forward): `memory.autocast_weights`.
These cells are made only for such a convention; the others keep `memory.peak` as the sum.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

from acct.engine.formula import parse
from acct.model.cells import cell_name

# name -> (value, what it means): --optimizer-impl's choices and the optimizer_impl input's values
OPTIMIZER_IMPLS = {
    "forloop": (0, "one tensor at a time (torch.optim's foreach=False; the CPU's default)"),
    "foreach": (1, "multi-tensor: every tensor at once (foreach=True; CUDA's default)"),
    "fused": (2, "one fused kernel (fused=True)"),
}

# bytes of the loss's scalars alive while backward starts: the loss (fp32) and nll_loss's
# total_weight (fp32), and the autograd engine's fp32 gradient of the loss (ones_like)
LOSS_SCALARS = 12


def _matmul_rows(rows) -> list:
    """Rows that multiply by a weight (a linear layer, the LM head): autocast casts their weight."""
    return [row for row in rows if row.spec.shape is not None and not row.spec.attention_product]


def _times(row) -> str:
    return f" * {cell_name(row, 'multiplicity')}" if row.repeated else ""


def _plugin_text(row, field: str, text) -> str:
    """A formula a plugin gave in a phase field, checked as every row formula is (an error names the
    plugin and the field), as text to embed in a cell."""
    return f"({parse(text, f'{row.where} {field}').text})"


def _tensors(row, biased: bool) -> str:
    """Parameter tensors of one instance, as text."""
    if row.spec.tensors is not None:
        return _plugin_text(row, "tensors", row.spec.tensors)
    if str(row.spec.params) == "0":
        return "1" if biased else "0"
    return "2" if biased else "1"


def _largest(row, biased: bool) -> str:
    """The largest parameter tensor of one instance: a weight's k·n, else params ÷ tensors."""
    if row.spec.shape is not None and not row.spec.attention_product:
        return f"({row.spec.shape[1]}) * ({row.spec.shape[2]})"
    return f"{cell_name(row, 'params_each')} / {_tensors(row, biased)}"


def _stepping(rows, is_biased) -> str:
    """The most values AdamW's forloop holds at once, in tensors of the moments' dtype: while it steps
    tensor i, sqrt(v̂ᵢ) and the quotient, and the previous tensor's quotient (`denom`, still bound in
    torch.optim.adamw's loop): max over i of 2·nᵢ + nᵢ₋₁, the tensors in the rows' order, a weight before
    its bias (the modules' order in transformers' Llama: the embedding, each layer's projections, MLP and
    norms, the final norm, the head)."""
    weighted = [row for row in rows if str(row.spec.params) != "0"]
    if not weighted:
        return "0"
    tensors = []  # (row, [sizes of its tensors in order])
    for row in weighted:
        size = _largest(row, is_biased(row))
        sizes = [size, f"({row.spec.bias})"] if is_biased(row) and row.spec.bias is not None and row.spec.shape else [size]
        tensors.append((row, sizes))
    candidates = []
    for i, (row, sizes) in enumerate(tensors):
        before = [tensors[i - 1][1][-1]] if i else ["0"]
        if row.repeated and (i == 0 or not tensors[i - 1][0].repeated):  # a block's first: after the last layer's
            last = i
            while last + 1 < len(tensors) and tensors[last + 1][0].repeated:
                last += 1
            before.append(tensors[last][1][-1])
        candidates += [f"2 * {sizes[0]} + {b}" for b in before]
        candidates += [f"2 * {later} + {earlier}" for earlier, later in zip(sizes, sizes[1:])]
        if str(row.spec.tensors) not in ("None", "0", "1"):  # several tensors of one size (N_n norms, a LayerNorm)
            candidates.append(f"3 * {sizes[0]}")
    candidates = list(dict.fromkeys(candidates))
    return candidates[0] if len(candidates) == 1 else f"max({', '.join(candidates)})"


def phase_cells(rows: Sequence, biased: Sequence[str], convention: str) -> List[Tuple[str, str]]:
    """The memory.* cells of the phase model: (name, formula text)."""
    def is_biased(row) -> bool:
        return row.spec.name in biased or row.spec.group in biased

    cast = " + ".join(f"({row.spec.shape[1]}) * ({row.spec.shape[2]}){_times(row)}" for row in _matmul_rows(rows))
    with_params = [row for row in rows if str(row.spec.params) != "0" or is_biased(row) or row.spec.tensors]
    tensors = " + ".join(f"{_tensors(row, is_biased(row))}{_times(row)}" for row in with_params) or "0"
    largest_text = _stepping(with_params, is_biased)
    tied = any(row.spec.unembedding and str(row.spec.params) == "0" for row in rows)
    once = " + ".join(f"{_plugin_text(row, f'kept_once[{convention!r}]', row.spec.kept_once[convention])}"
                      f"{_times(row)}" for row in rows if convention in row.spec.kept_once) or "0"
    buffers = " + ".join(f"{_plugin_text(row, 'buffers', row.spec.buffers)}{_times(row)}" for row in rows
                         if str(row.spec.buffers) != "0") or "0"
    logits = "batch_size * context_length * vocab_size"
    return [
        ("memory.autocast_weights", f"autocast * activation_bytes * ({cast or '0'})"),
        ("memory.param_tensors", tensors),
        ("memory.stepping_values", largest_text),
        ("memory.buffers", buffers),
        ("memory.kept_once", once),
        ("memory.kept", f"memory.activations + memory.kept_once + memory.autocast_weights + {LOSS_SCALARS}"),
        # at the loss: the logits, their fp32 copy when they are not fp32, and (autocast) the final hidden
        ("memory.loss_transient", f"{logits} * (activation_bytes + 4 * min(1, 4 - activation_bytes))"
                                  " + autocast * weight_bytes * batch_size * context_length * d_model"),
        ("memory.phase.forward", "memory.weights + memory.buffers + memory.master + memory.kept + memory.loss_transient"),
        # the cross-entropy's backward: the gradients of log_softmax's output and of its input, in fp32;
        # the labels (8·B·(T + 1): padded by one) are freed by then
        ("memory.phase.backward_start", f"memory.weights + memory.buffers + memory.master + memory.kept + 8 * {logits}"
                                        " - 8 * batch_size * (context_length + 1) - 4"),
        # the end of backward, the lookup's backward: every gradient but the table's, its V×D gradient and the
        # incoming B×T×D one; a tied table's is then the sum of the head's and the lookup's (three V×D)
        ("memory.phase.backward_end", "memory.weights + memory.buffers + memory.master + memory.gradients"
                                      + (" + grad_bytes * vocab_size * d_model + max(grad_bytes * vocab_size * d_model, "
                                         "weight_bytes * batch_size * context_length * d_model)" if tied else
                                         " + weight_bytes * batch_size * context_length * d_model")
                                      + " + 8"),  # the loss and its gradient (fp32 scalars)
        ("memory.phase.forward_backward",
         "max(memory.phase.forward, memory.phase.backward_start, memory.phase.backward_end)"),
        ("memory.optimizer_impl_forloop", "1 - min(optimizer_impl, 1)"),
        ("memory.optimizer_impl_foreach", "optimizer_impl % 2"),
        ("memory.optimizer_steps", "4 * memory.param_tensors"),
        # forloop: AdamW's sqrt(v̂) and quotient of one tensor beside the previous one's quotient (see
        # _stepping); foreach makes sqrt(v̂) of every tensor at once, then divides it in place
        ("memory.optimizer_transient", "moment_bytes / 2 * (memory.optimizer_impl_forloop * memory.stepping_values"
                                       " + memory.optimizer_impl_foreach * total.params)"),
        # the training loop still holds the loss (4 bytes)
        ("memory.phase.optimizer", "memory.weights + memory.buffers + memory.master + memory.gradients"
                                   " + memory.optimizer + memory.optimizer_steps + memory.optimizer_transient + 4"),
        ("memory.peak", "max(memory.phase.forward_backward, memory.phase.optimizer)"),
    ]
