"""acct plan and the communication it ranks by: ring attention's K/V exchange and the pipeline's
point-to-point messages against their formulas, context parallelism in the data-parallel group,
interleaved stages, the precision it costs at, experts on Mixtral, and a 70B preset on 256 GPUs."""

from fractions import Fraction

import pytest

import acct

# Llama-3-8B: L = 32, D = 4,096, H_kv = 8, d = 128, T = 8,192, mixed precision (2-byte activations)
L, D, H_KV, HEAD, T = 32, 4_096, 8, 128, 8_192


@pytest.fixture(scope="module")
def llama():
    return acct.load("llama-3-8b", precision="mixed")


def cells(model, names, **layout):
    model = model.with_(set={k: str(v) for k, v in layout.items()})
    return [model.value(name) for name in names]


def test_context_parallel_ring_exchange(llama):
    # ring attention (Liu et al. 2023; Megatron's CP): each rank holds T/c tokens and passes its K and V
    # blocks to its c − 1 peers in the forward pass; the backward pass passes K, V again and their
    # gradients: 3·(c − 1) blocks of b·(T/c)·2·H_kv·d/t values per layer, for the L/p layers of its stage
    dp, tp, pp, cp, b, m = 2, 2, 2, 4, 1, 4
    (got,) = cells(llama, ["gpu.comm.cp"], dp=dp, tp=tp, pp=pp, cp=cp, gpus=dp * tp * pp * cp, batch_size=dp * b * m,
                   micro_batch=b)
    block = b * (T // cp) * 2 * H_KV * HEAD // tp * 2  # bytes, bf16
    assert got == 3 * (cp - 1) * block * (L // pp) * m == 3 * 3 * 4_194_304 * 16 * 4


def test_pipeline_point_to_point(llama):
    # 1F1B: every micro-batch crosses each stage boundary forward as b·s·h activations and backward as
    # their gradient; one GPU sends both once per micro-batch and model chunk (v), s = T/c its tokens
    dp, pp, cp, b, m = 2, 4, 2, 2, 8
    for v in (1, 2):
        (got,) = cells(llama, ["gpu.comm.pp"], dp=dp, pp=pp, cp=cp, virtual_stages=v, gpus=dp * pp * cp,
                       batch_size=dp * b * m, micro_batch=b)
        assert got == 2 * b * (T // cp) * D * 2 * v * m


def test_context_parallel_ranks_share_zero_and_the_gradient_reduction(llama):
    # cp ranks hold the same weights: Megatron reduces gradients and shards the distributed optimizer
    # over dp·cp. ZeRO-1 with dp = 2, cp = 4: master and moments (12 B) over 8 ranks
    psi = llama.params
    states, comm = cells(llama, ["gpu.memory.first.states", "gpu.comm.dp"], dp=2, cp=4, gpus=8, batch_size=2,
                         zero_stage=1)
    assert states == 4 * psi + Fraction(12 * psi, 8)
    assert comm == 2 * Fraction(7, 8) * psi * 2  # ring all-reduce of bf16 gradients over 8 ranks


def test_plan_varies_virtual_stages_and_says_its_precision(cli):
    status, out, err = cli("plan", "gpt2-xl", "--gpus", "16", "--hardware", "h100", "--global-batch", "64",
                           "--top", "40", "-f", "json")
    assert status == 0, err
    import json

    data = json.loads(out)
    assert data["precision"] == "mixed"  # the preset states none: plan's default
    chunks = {row["virtual_stages"] for row in data["rows"]}
    assert chunks >= {2}
    for row in data["rows"]:  # 48 layers divide by pp·v, and interleaving needs micro-batches ÷ pp
        assert 48 % (row["pp"] * row["virtual_stages"]) == 0
        if row["virtual_stages"] > 1:
            assert (64 // (row["dp"] * row["micro_batch"])) % row["pp"] == 0
    status, out, err = cli("plan", "gpt2-xl", "--gpus", "16", "--hardware", "h100", "--global-batch", "64", "--top", "1")
    assert "Precision mixed (chosen by the command's default precision): the step times use the bf16 peak" in out
    status, out, err = cli("plan", "gpt2-xl", "--gpus", "16", "--hardware", "h100", "--global-batch", "64", "--top", "1",
                           "--precision", "fp32")
    assert "Precision fp32 (chosen by --precision): the step times use the fp32 peak" in out


def test_plan_on_mixtral_lays_out_experts(llama):
    model = acct.load("mixtral-8x7b")
    result = model.plan(gpus=16, hardware="h100", global_batch=32, top=2000)
    layouts = [row.layout for row in result.report.rows]
    assert result.report.precision == "mixed" and layouts
    assert any(layout["ep"] > 1 for layout in layouts)
    for layout in layouts:
        assert 8 % layout["ep"] == 0 and layout["dp"] % layout["ep"] == 0


def test_llama_2_70b_preset_is_transformers_count():
    # 80·(2·8,192² + 2·8,192·1,024 + 3·8,192·28,672 + 2·8,192) + 2·32,000·8,192 + 8,192
    h, F, L70, V = 8_192, 28_672, 80, 32_000
    layer = 2 * h * h + 2 * h * 1_024 + 3 * h * F + 2 * h
    assert acct.load("llama-2-70b").params == L70 * layer + 2 * V * h + h == 68_976_648_192
    pytest.importorskip("transformers")
    from hf_reference import hf_model, hf_params

    config = {"model_type": "llama", "vocab_size": V, "hidden_size": h, "intermediate_size": F,
              "num_hidden_layers": L70, "num_attention_heads": 64, "num_key_value_heads": 8,
              "max_position_embeddings": 4_096, "tie_word_embeddings": False}
    assert hf_params(hf_model(config)) == 68_976_648_192


def test_readme_answers_are_what_acct_prints(cli):
    """The README's 70B plan and its QLoRA-on-24-GB solve are real output."""
    from test_readme import code_blocks

    plan = next(block for block in code_blocks() if block.startswith("|   # |   dp |   tp |   pp |   v |"))
    status, out, err = cli("plan", "llama-2-70b", "--gpus", "256", "--hardware", "h100", "--global-batch", "1024")
    assert status == 0, err
    assert plan.strip() in out
    solve = next(block for block in code_blocks() if block.startswith("|   batch_size |"))
    status, out, err = cli("solve", "llama-2-7b", "--precision", "bf16", "--lora-rank", "16", "--base-weights", "nf4",
                           "--activations", "korthikanti_recompute", "--largest", "batch_size",
                           "--where", "memory.peak <= 24GB")
    assert status == 0, err
    assert solve.strip() in out and "is **18**" in out


def test_plan_refuses_fine_tuning(cli):
    status, out, err = cli("plan", "llama-2-7b", "--gpus", "8", "--hardware", "h100", "--global-batch", "8",
                           "--lora-rank", "8")
    assert status == 1 and out == ""
    assert "(--gpus): LoRA, QLoRA and Adafactor are accounted on one device" in err and err.count("\n") == 1


def test_plan_skips_context_parallel_ranks_that_do_not_divide_the_sequence(cli):
    # 7 GPUs, 64 sequences of 8,192 tokens: dp must divide 64 (so dp = 1), 32 heads refuse tp = 7, 32
    # layers refuse pp = 7, and 8,192 tokens refuse cp = 7: no layout is valid (cp = 7 was ranked first,
    # with 8,192/7 tokens per rank)
    status, out, err = cli("plan", "llama-3-8b", "--gpus", "7", "--hardware", "h100", "--global-batch", "64")
    assert status == 0, err
    assert "0 valid (heads divide by tp, layers by pp·v, the sequence by cp," in out


def test_plan_bounds_the_global_batch_and_checks_the_api_types(cli):
    # the micro-batches enumerated are the batch's divisors: 10**20 sequences ran for hours
    status, out, err = cli("plan", "llama-3-8b", "--gpus", "8", "--hardware", "h100", "--global-batch", str(10**20))
    assert (status, out) == (1, "")
    assert err == "acct: error: --global-batch: a whole number from 1 to 16,777,216, got 100000000000000000000\n"
    model = acct.load("llama-3-8b")
    with pytest.raises(acct.AcctError, match=r"^--global-batch: a whole number from 1 to 16,777,216, got '64'$"):
        model.plan(8, "h100", "64")  # was a TypeError from inside the enumeration
    with pytest.raises(acct.AcctError, match=r"^--top: a whole number of at least 1, got '3'$"):
        model.plan(8, "h100", 64, top="3")
