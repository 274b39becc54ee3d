"""Training at scale: per-GPU memory under ZeRO, tensor/sequence/pipeline parallelism and
recomputation, against the published anchors (the issue's list), and the layout's one-line errors."""

from fractions import Fraction

import pytest

import acct
from conftest import PRESETS

SMALL = str(PRESETS / "openai-gpt2-small.toml")  # GPT-2 as released: L=12, h=768, a=12, s=1,024


def value(model, cell, **layout):
    return model.with_(set={k: str(v) for k, v in layout.items()}).value(cell)


@pytest.fixture(scope="module")
def llama():
    return acct.load("llama-3-8b", precision="mixed")


def test_zero_paper_figure_1(llama):
    # Rajbhandari et al. 2020, Figure 1: Ψ = 7.5B, N_d = 64, K = 12 (mixed precision Adam: fp32 master
    # weights 4 + moments 8): (2 + 2 + K)Ψ = 120 GB; ZeRO-1 (2 + 2)Ψ + KΨ/N_d = 31.4 GB; ZeRO-2
    # 2Ψ + (2 + K)Ψ/N_d = 16.6 GB; ZeRO-3 (2 + 2 + K)Ψ/N_d = 1.9 GB. acct's cells, as formulas of Ψ:
    psi = llama.value("total.params")
    expected = {0: 16 * psi, 1: 4 * psi + Fraction(12 * psi, 64), 2: 2 * psi + Fraction(14 * psi, 64),
                3: Fraction(16 * psi, 64)}
    for stage, states in expected.items():
        assert value(llama, "gpu.memory.first.states", dp=64, gpus=64, batch_size=64, zero_stage=stage) == states
    # and with Ψ = 7.5e9 the same formulas give the figure's numbers (in 10⁹ bytes, rounded as printed)
    psi = 7_500_000_000
    figure = [16 * psi, 4 * psi + Fraction(12 * psi, 64), 2 * psi + Fraction(14 * psi, 64), Fraction(16 * psi, 64)]
    assert [round(Fraction(x, 10**9), 1) for x in figure] == [120, Fraction(314, 10), Fraction(166, 10),
                                                              Fraction(19, 10)]


@pytest.mark.parametrize("tp, sp, recompute, per_layer", [
    # Korthikanti et al. 2022, Table 2, activations per layer in bytes, ×sbh (s = 1,024, h = 768, a = 12)
    (1, 0, 0, lambda t, x: 34 + 5 * x),                  # no parallelism: sbh(34 + 5as/h)
    (2, 0, 0, lambda t, x: 10 + Fraction(24, t) + 5 * x / t),  # tensor parallel: sbh(10 + 24/t + 5as/(ht))
    (2, 1, 0, lambda t, x: Fraction(34, t) + 5 * x / t),  # tensor + sequence parallel: sbh(34/t + 5as/(ht))
    (4, 0, 1, lambda t, x: 10 + Fraction(24, t)),         # tensor parallel + selective: sbh(10 + 24/t)
    (4, 1, 1, lambda t, x: Fraction(34, t)),              # tensor + sequence parallel + selective: sbh·34/t
    (2, 0, 2, lambda t, x: 2),                            # full recomputation: sbh·2
])
def test_korthikanti_table_2(tp, sp, recompute, per_layer):
    s, b, h, a, L = 1_024, 1, 768, 12, 12
    model = acct.load(SMALL, precision="mixed", activations="korthikanti")
    got = value(model, "gpu.memory.first.activations", tp=tp, gpus=tp, sequence_parallel=sp, recompute=recompute)
    assert got == L * s * b * h * per_layer(tp, Fraction(a * s, h))


def test_deepspeed_zero2_and_zero3_estimators(llama):
    # DeepSpeed's estimate_zero2_model_states_mem_needs (no offload): 4Ψ + int(16Ψ/N); acct's ZeRO-2 is
    # 2Ψ + 14Ψ/N. DeepSpeed keeps a full fp16 gradient buffer (the extra 2Ψ) and counts a 4-byte fp32
    # gradient copy in its 16 (acct: master 4 + moments 8 + the 2-byte gradient shard = 14).
    psi, n = llama.value("total.params"), 8
    zero2 = value(llama, "gpu.memory.first.states", dp=n, gpus=n, batch_size=n, zero_stage=2)
    deepspeed2 = 4 * psi + int(16 * psi / n)
    assert zero2 == 2 * psi + Fraction(14 * psi, n)
    assert deepspeed2 - zero2 == 2 * psi + Fraction(2 * psi, n)
    # estimate_zero3_model_states_mem_needs (no offload): 4·largest_layer + int(18Ψ/N); acct: 16Ψ/N.
    # The difference: the largest layer gathered in fp32 (the embedding, V·D = 128,256 × 4,096) and 2Ψ/N
    # more for fp32 gradients.
    zero3 = value(llama, "gpu.memory.first.states", dp=n, gpus=n, batch_size=n, zero_stage=3)
    largest = 128_256 * 4_096
    deepspeed3 = 4 * largest + int(18 * psi / n)
    assert zero3 == Fraction(16 * psi, n)
    assert deepspeed3 - zero3 == 4 * largest + Fraction(2 * psi, n)


def test_megatron_weight_and_optimizer_memory(llama):
    # Megatron-LM theoretical_memory_usage.py, compute_weight_and_optimizer_memory, Llama-3-8B (SwiGLU,
    # RMSNorm, GQA g = 8, untied), tp = 2, pp = 4, no distributed optimizer: 18 bytes per parameter
    # (bf16 weight 2, fp32 gradient 4, master 4, moments 8) on the most loaded shard
    # ((block / pp) + embedding) / tp, block = L·layer + final norm, layer = 2h(3F/2 + 1) + 2h²(1 + g/a).
    h, F, L, a, g, V, tp, pp = 4_096, 14_336, 32, 32, 8, 128_256, 2, 4
    layer = 2 * h * (F * 3 // 2 + 1) + 2 * h * h * (1 + Fraction(g, a))
    megatron = ((L * layer + h) / pp + V * h) / tp * 18
    # acct with grad_bytes = 4 (Megatron's fp32 gradient buffer): its exact rows give the same per-layer
    # count, but acct keeps the two norms of a layer whole on each tp rank (Megatron's closed form divides
    # them by tp) and puts the final norm on the last stage (Megatron spreads it over the pp stages):
    model = llama.with_(set={"grad_bytes": "4"})
    got = value(model, "gpu.memory.first.states", tp=tp, pp=pp, gpus=tp * pp, batch_size=pp, micro_batch=1)
    assert got == megatron + 18 * (L // pp * 2 * h * (1 - Fraction(1, tp)) - Fraction(h, pp * tp))


@pytest.mark.parametrize("argv, message", [
    # each names the option the user gave, not the input it set
    (["--tp", "3"], "--tp: tp = 3 does not divide the 32 attention heads"),
    (["--pp", "5"], "--pp: pp·virtual_stages = 5·1 does not divide the 32 layers"),
    (["--dp", "3", "--global-batch", "4"], "--global-batch, --dp: a global batch of 4 does not split over dp = 3 "
                                          "data-parallel replicas (4 ÷ 3 = 4/3 sequences each)"),
    (["--hardware", "h100", "--gpus", "8", "--pp", "3"], "--gpus, --pp: 8 GPUs do not split into groups of "
                                                          "tp·pp·cp = 1·3·1 (data parallelism dp = gpus ÷ (tp·pp·cp) = 8/3)"),
    (["--gpus", "8", "--tp", "4"], "--gpus, --tp: a global batch of 1 does not split over dp = 2 data-parallel "
                                   "replicas (1 ÷ 2 = 1/2 sequences each)"),
    # both given: they must agree (8 GPUs as dp = 3 was refused for what dp = 3 does to the batch)
    (["--gpus", "8", "--dp", "3", "--global-batch", "12"], "--gpus, --dp: 8 GPUs are not dp·tp·pp·cp = 3·1·1·1"),
    (["--gpus", "2", "--dp", "1"], "--gpus, --dp: 2 GPUs are not dp·tp·pp·cp = 1·1·1·1"),
    # the sequence split over cp ranks: 8,192 tokens over 7 gave 8,192/7 tokens and fractional bytes
    (["--cp", "7"], "--cp: cp = 7 does not divide the context of 8,192 tokens"),
])
def test_layouts_that_do_not_divide_are_one_line_errors(cli, argv, message):
    status, out, err = cli("train", "llama-3-8b", *argv)
    assert status == 1 and out == ""
    assert message in err and err.count("\n") == 1


def test_solve_largest_micro_batch_and_plan(cli):
    status, out, err = cli("solve", "llama-3-8b", "--precision", "mixed", "--activations", "korthikanti",
                           "--hardware", "h100", "--gpus", "8", "--zero", "3", "--global-batch", "64",
                           "--recompute", "selective", "--largest", "micro_batch", "--where", "gpu.memory.peak <= 80GB")
    assert status == 0, err
    assert "The largest micro_batch" in out
    status, out, err = cli("plan", "llama-3-8b", "--gpus", "64", "--hardware", "h100", "--global-batch", "512",
                           "--precision", "mixed", "--top", "3")
    assert status == 0, err
    assert "|   1 |" in out and "|   4 |" not in out and "Best layout" in out


def test_readme_scale_excerpt_is_what_acct_prints(cli):
    from test_readme import code_blocks

    excerpt = next(block for block in code_blocks() if block.startswith("|                  |          bytes |"))
    status, out, err = cli("train", "llama-3-8b", "--precision", "mixed", "--activations", "korthikanti",
                           "--hardware", "h100", "--gpus", "8", "--zero", "3", "--global-batch", "64",
                           "--micro-batch", "1", "--recompute", "selective")
    assert status == 0, err
    assert excerpt.strip() in out


def test_gpus_with_a_layout_needs_no_hardware(cli):
    """--gpus 8 --tp 4 is a memory question: dp = 8 / 4 = 2, no device needed; the weights of tp-split rows
    on one GPU are a quarter of theirs (Llama-3-8B's norms stay whole on each rank)."""
    status, out, err = cli("train", str(PRESETS / "llama-3-8b.toml"), "--gpus", "8", "--tp", "4",
                           "--global-batch", "16", "--precision", "mixed", "--format", "json")
    assert status == 0, err
    import json

    scale = json.loads(out)["per_gpu"]
    assert scale["layout"]["dp"] == 2 and scale["layout"]["micro_batch"] == 8
    # 8,030,261,248 parameters; the 65 norms of 4,096 (2 per layer + the final one) are not split
    norms = 65 * 4096
    assert scale["params"] == (8_030_261_248 - norms) // 4 + norms


def test_time_line_names_the_recomputation_it_includes(cli):
    # Llama-3-8B, 64 × 8,192 tokens, selective recomputation runs QKᵀ and attention·V forward again:
    # 2 × 1,125,899,906,842,624 = 2,251,799,813,685,248 FLOPs (each 2·T²·H·d_k·L·B = 2·8,192²·4,096·32·64).
    # (30,363,013,601,034,240 + 2,251,799,813,685,248) / (8 × 989.4e12) = 4.12 s; the line said the
    # forward + backward alone took 4.12 s (they take 3.84 s)
    argv = ("train", "llama-3-8b", "--precision", "mixed", "--activations", "korthikanti", "--hardware", "h100",
            "--gpus", "8", "--zero", "3", "--global-batch", "64", "--micro-batch", "1", "--recompute", "selective")
    status, out, err = cli(*argv)
    assert status == 0, err
    assert ("1 step of 30,363,013,601,034,240 FLOPs (forward + backward) and 2,251,799,813,685,248 of "
            "recomputation take **4.12 s = ") in out
    import json

    status, out, err = cli(*argv, "--format", "json")
    time = json.loads(out)["time"]
    assert time["flops_recompute_per_step"] == 2 * 2 * 8_192**2 * 4_096 * 32 * 64 == 2_251_799_813_685_248
    assert Fraction(time["seconds"]) == Fraction(30_363_013_601_034_240 + 2_251_799_813_685_248, 8 * 989_400 * 10**9)
