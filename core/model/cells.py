"""The names of a model sheet's cells: a row's columns, the group, block and model totals, a convention's totals.

Every output family reads cells by these names (fine-tuning, the parallel layout, the roofline,
the reports); they live here, below model.py, so that a family need not import the module that
builds the sheet in order to name a cell of it.
"""

from __future__ import annotations

TOTAL_PARAMS = "total.params"
TOTAL_FLOPS = "total.flops_forward"

# cells a convention's formulas may read besides the inputs
AGGREGATES = {
    "flops_matmul": "matmul FLOPs of one forward pass of one sequence",
    "flops_attention": "the part of flops_matmul in rows marked attention_product (QKᵀ, attention·V)",
    "flops_dense": "flops_matmul with every windowed product counted as a dense kernel computes it",
    "params_total": "all parameters",
    "params_nonembedding": "parameters without the rows marked embedding_table (token and position tables) or "
                           "unembedding (the LM head)",
    "params_active": "the parameters one token uses (an MoE layer's k routed experts of E)",
    "params_active_nonembedding": "params_active without the rows marked embedding_table or unembedding",
}


def cell_name(row, column: str) -> str:
    """The sheet cell of a row's column: `q_proj.params`, `q_proj.flops_each`."""
    return f"{row.spec.name}.{column}"


def group_cell(group: str, column: str) -> str:
    """The sheet cell summing a group's column: `groups.FFN.flops`."""
    return f"groups.{group}.{column}"


def blocks_cell(column: str) -> str:
    """The sheet cell summing the repeated rows (the Transformer blocks) over all their instances."""
    return f"blocks.{column}"


def convention_cell(name: str, column: str) -> str:
    """The sheet cell of a convention's total: `convention.kaplan.forward`."""
    return f"convention.{name}.{column}"
