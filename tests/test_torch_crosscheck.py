"""acct against PyTorch's own counts: sum(p.numel()) and FlopCounterMode on the meta device.

For every builtin preset, a PyTorch reference model is built from the preset's
inputs and variants — SwiGLU or GELU, RMSNorm or LayerNorm, MHA or GQA, tied or
untied, learned or rotary positions (RoPE has no parameters and no matmuls, so
the reference leaves it out), biases as the preset chooses — with explicit
matmuls for attention. Its modules are named as acct's rows, so the counter's
per-module totals are compared row by row. .ci/run installs the CPU build of
torch so this runs in CI; without torch it is skipped and acct runs as before.
"""

import subprocess
import sys

import pytest

from acct.model.config import load_preset
from acct.model.model import build_model
from acct.reports.run import make_report
from conftest import PRESETS

torch = pytest.importorskip("torch")
from torch_reference import reference_counts  # noqa: E402

# The reference builds pre-norm blocks of two RMSNorms or LayerNorms and a SwiGLU or GELU FFN; the
# presets of other block shapes (parallel blocks, non-parametric norms, MoE) are checked against
# transformers' own model classes in test_hf_block.py.
REFERENCE_VARIANTS = {"norm": {"rmsnorm", "layernorm"}, "ffn": {"swiglu", "gelu"}}


def buildable(path):
    preset = load_preset(path)
    return ("norms_per_block" not in preset.inputs
            and all(preset.variants.get(slot) in known for slot, known in REFERENCE_VARIANTS.items()))


BUILDABLE = sorted(path.stem for path in PRESETS.glob("*.toml") if buildable(path))


def acct_report(name, registry, **overrides):
    return make_report(build_model(load_preset(PRESETS / f"{name}.toml"), registry, overrides))


@pytest.mark.parametrize("name", BUILDABLE)
def test_params_and_forward_flops_match_pytorch(registry, name):
    report = acct_report(name, registry)
    params, flops, per_row = reference_counts(report)
    rows = {row.name: row for row in report.rows}
    message = (f"{name}: PyTorch counts {params:,} parameters and {flops:,} FLOPs "
               f"(per module: { {k: v for k, v in per_row.items() if v} }); acct {report.params:,} and {report.flops:,}")
    assert report.params == params, message
    assert report.flops == flops, message
    for row in ("q_proj", "k_proj", "v_proj", "out_proj", "ffn_w1", "ffn_w3", "ffn_w2", "ffn_in", "ffn_out", "lm_head"):
        if row in rows:
            assert rows[row].flops == per_row[row], f"{name} {row}: " + message
    assert rows["attn_scores"].flops + rows["attn_values"].flops == per_row["attention_core"], message


@pytest.mark.parametrize(
    "name, overrides",
    [("llama-3-8b", {"num_kv_heads": 1, "context_length": 512}),  # multi-query attention
     ("gpt2-small", {"context_length": 4096}),
     ("gpt2-small", {"d_head": 48, "d_head_v": 80, "context_length": 512}),  # H·d_k ≠ H·d_v ≠ D
     ("qwen3-0.6b", {"num_kv_heads": 4, "context_length": 256}),  # QK-norm over each head
     ("openai-gpt2-medium", {"context_length": 256})],
)
def test_more_shapes(registry, name, overrides):
    report = acct_report(name, registry, **overrides)
    params, flops, _ = reference_counts(report)
    assert (report.params, report.flops) == (params, flops), f"PyTorch: {params:,} params, {flops:,} FLOPs"


def test_acct_runs_without_importing_torch():
    probe = ("import sys, acct.cli; status = acct.cli.main(['run', sys.argv[1], '-f', 'csv']); "
             "assert 'torch' not in sys.modules, 'acct imported torch'; sys.exit(status)")
    result = subprocess.run([sys.executable, "-c", probe, str(PRESETS / "gpt2-xl.toml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
