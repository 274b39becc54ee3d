"""Fine-tuning memory (LoRA, QLoRA's NF4 base, optimizers' states, pure bf16, Megatron's distributed
optimizer), each against counts derived by hand or published, and its one-line errors."""

from fractions import Fraction

import pytest

import acct

# Llama-2-7B (meta-llama/Llama-2-7b-hf): D = 4,096, F = 11,008, L = 32, V = 32,000, MHA
D, F, L, V = 4_096, 11_008, 32, 32_000
PSI = 6_738_415_616
BLOCK_LINEARS = L * (4 * D * D + 3 * D * F)  # q, k, v, o and W1, W3, W2: 6,476,005,376
OTHERS = PSI - BLOCK_LINEARS  # the two tables V·D, 2L + 1 RMSNorm vectors: 262,410,240


@pytest.fixture(scope="module")
def llama2():
    return acct.load("llama-2-7b", precision="bf16")


def lora(model, rank=16, targets=None, base=None, **kw):
    return model.with_(set={"lora_rank": str(rank)}, lora_targets=targets, base_weights=base, **kw)


def test_lora_adapter_parameters_match_peft(llama2):
    # r·(d_in + d_out) per adapted matrix (Hu et al. 2021). PEFT prints for Llama-2-7B "trainable params:
    # 4,194,304" with r = 8 on q_proj, v_proj, and 39,976,960 with r = 16 on every linear layer of the blocks
    assert lora(llama2, 8, "q_proj,v_proj").value("train.lora_params") == L * 2 * 8 * (D + D) == 4_194_304
    per_layer = 4 * (D + D) + 2 * (D + F) + (F + D)
    assert lora(llama2).value("train.lora_params") == 16 * L * per_layer == 39_976_960
    assert lora(llama2).value("train.params_trainable") == 39_976_960


def test_nf4_bytes_per_weight_are_qloras():
    from acct.model.finetune import NF4_BYTES

    # Dettmers et al. 2023 §3: 4 bits, an 8-bit absmax per 64 weights, an fp32 constant per 256 blocks
    assert NF4_BYTES == Fraction(4 + Fraction(8, 64) + Fraction(32, 64 * 256), 8) == Fraction(2113, 4096)


def test_qlora_memory_exactly(llama2):
    model = lora(llama2, base="nf4")
    adapters = 39_976_960
    assert model.value("train.params_quantized") == BLOCK_LINEARS == 6_476_005_376
    # the blocks' linears in NF4, the tables and norms in bf16, the adapters in bf16 (precision bf16)
    weights = BLOCK_LINEARS * Fraction(2113, 4096) + OTHERS * 2 + adapters * 2
    assert model.value("memory.weights") == weights == 3_945_545_728
    assert model.value("memory.gradients") == adapters * 2  # the base is frozen: no gradients
    assert model.value("memory.master") == 0
    assert model.value("memory.optimizer") == adapters * 4  # AdamW's m, v in bf16
    # LoRA over a bf16 base: every frozen weight at 2 B
    assert lora(llama2).value("memory.weights") == PSI * 2 + adapters * 2


def test_qlora_on_one_24gb_gpu_is_one_solve(llama2):
    # QLoRA r = 16 with full recomputation (2·s·h bytes per layer and sequence, Korthikanti et al. 2022):
    # fixed 4,185,407,488 B (above) + B · 32·2·4,096·4,096 B; B = ⌊(24e9 − fixed) / 1,073,741,824⌋ = 18
    model = lora(llama2, base="nf4", activations="korthikanti_recompute")
    fixed = 3_945_545_728 + 39_976_960 * (2 + 4)
    per_sequence = L * 2 * 4_096 * D
    answer = (24 * 10**9 - fixed) // per_sequence
    assert answer == 18
    solution = model.solve("memory.peak <= 24GB", largest="batch_size").report
    assert solution.answer == answer and solution.at_answer == fixed + answer * per_sequence


@pytest.mark.parametrize("precision, optimizer, per_param", [
    ("fp32", "adamw", 8), ("mixed", "adamw", 8), ("bf16", "adamw", 4),  # two moments at 4 or 2 B
    ("mixed", "adamw8bit", 2), ("fp32", "sgd", 4), ("bf16", "sgd", 2),
])
def test_optimizer_state_bytes(precision, optimizer, per_param):
    model = acct.load("llama-2-7b", precision=precision).with_(optimizer=optimizer)
    assert model.value("moment_bytes") == per_param
    assert model.value("memory.optimizer") == PSI * per_param


def test_adafactor_factors_every_matrix_with_a_shape():
    # per layer the 4 attention D×D and 3 FFN D×F/F×D matrices, plus the LM head D×V: (k + n)·4 B each;
    # the embedding table (a lookup, no shape) and the norms keep a full fp32 second moment
    model = acct.load("llama-2-7b", precision="bf16").with_(optimizer="adafactor")
    sides = L * (4 * 2 * D + 3 * (D + F)) + (D + V)
    assert model.value("train.optimizer_factored_values") == sides == 2_534_656
    full = PSI - L * (4 * D * D + 3 * D * F) - D * V  # the table V·D and the norms
    assert model.value("memory.optimizer") == full * 4 + sides * 4 == 535_491_584
    assert model.value("optimizer_flops") == 12


def test_pure_bf16_is_8_bytes_per_parameter():
    # weights 2 + gradients 2 + AdamW's moments in bf16 4, no fp32 master copy
    model = acct.load("llama-2-7b", precision="bf16")
    assert model.value("memory.fixed") == 8 * PSI


def test_megatron_distributed_optimizer(cli):
    # Megatron-LM docs/source/api-guide/dist_optimizer.md: bf16 parameters with fp32 gradients take 6 + 12/d bytes per
    # parameter with the distributed optimizer (2 weights + 4 gradients, 12 of master and moments sharded)
    model = acct.load("llama-3-8b", precision="mixed")
    psi = model.params
    result = model.train(dp=8, zero="distributed", global_batch=8)
    assert result.report.scale.memory[4][1] == psi * (6 + Fraction(12, 8))
    status, out, err = cli("train", "llama-3-8b", "--precision", "mixed", "--dp", "8", "--zero", "distributed",
                           "--global-batch", "8")
    assert status == 0, err
    assert f"{psi * 15 // 2:,}" in out


def test_the_api_and_the_cli_agree(cli, llama2):
    result = llama2.train(lora_rank=16, base_weights="nf4", optimizer="adamw8bit")
    memory = {key: amount for key, _, amount in result.report.memory}
    assert memory["optimizer"] == 39_976_960 * 2
    status, out, err = cli("train", "llama-2-7b", "--precision", "bf16", "--lora-rank", "16", "--base-weights", "nf4",
                           "--optimizer", "adamw8bit")
    assert status == 0, err
    assert f" {memory['weights']:,} |" in out and memory["weights"] == 3_945_545_728
    assert "LoRA (Hu et al. 2021) of rank r = 16" in out and "2113/4096 B" in out


@pytest.mark.parametrize("argv, message", [
    (["--lora-targets", "q_prj"], "--lora-targets: no chosen component is named 'q_prj' (did you mean q_proj"),
    (["--lora-targets", "attn_scores"], "--lora-targets: attn_scores is not a weight matrix"),
    (["--lora-rank", "0"], "--lora-rank: a positive whole number, got 0"),
    (["--lora-rank", "8", "--dp", "2"], "the layout input dp (--dp): LoRA, QLoRA and Adafactor are accounted on one"),
    (["--optimizer", "adafactor", "--zero", "1"], "the layout input zero_stage (--zero)"),
])
def test_finetune_errors_are_one_line(cli, argv, message):
    status, out, err = cli("train", "llama-2-7b", *argv)
    assert status == 1 and out == ""
    assert message in err and err.count("\n") == 1


def test_hardware_names_are_case_insensitive(cli):
    lower = cli("train", "llama-2-7b", "--precision", "mixed", "--hardware", "h100")
    upper = cli("train", "llama-2-7b", "--precision", "mixed", "--hardware", "H100")
    assert lower[0] == upper[0] == 0 and lower[1] == upper[1].replace("--hardware H100", "--hardware h100")
    assert "989.4 TFLOP/s bf16" in upper[1]


def test_distributed_optimizer_communication():
    # Megatron's distributed optimizer reduce-scatters fp32 gradients (4 B) and all-gathers the updated
    # bf16 weights (2 B): (d − 1)/d·Ψ·6 per GPU, against 2·(d − 1)/d·Ψ·2 for ZeRO-0's bf16 all-reduce
    model = acct.load("llama-3-8b", precision="mixed")
    psi, d = model.params, 8
    tuned = model.train(dp=d, zero="distributed", global_batch=d).report.scale
    plain = model.train(dp=d, zero=0, global_batch=d).report.scale
    comm = {c.name: c.bytes for c in tuned.collectives}
    assert comm["dp"] == Fraction(d - 1, d) * psi * 6
    assert {c.name: c.bytes for c in plain.collectives}["dp"] == 2 * Fraction(d - 1, d) * psi * 2


def test_sweep_over_the_lora_rank(cli):
    # varying lora_rank turns LoRA on; the adapters grow linearly: 19,988,480 at r = 8, 39,976,960 at 16
    status, out, err = cli("sweep", "llama-2-7b", "--vary", "lora_rank=8,16", "--output", "train.lora_params")
    assert status == 0, err
    assert "19,988,480" in out and "39,976,960" in out


def test_the_distributed_optimizer_is_named_in_the_report(cli):
    status, out, err = cli("train", "llama-3-8b", "--precision", "mixed", "--dp", "8", "--zero", "distributed",
                           "--global-batch", "8")
    assert status == 0, err
    assert "Megatron's distributed optimizer (--zero distributed): ZeRO-1 with fp32 gradients, 2 + 4 + 12/d" in out


def test_lora_on_mixtral_adapts_every_expert():
    # Mixtral-8x7B, r = 8: per layer q, k, v, o: (4,096 + 4,096), 2 × (4,096 + 1,024), (4,096 + 4,096); the
    # router 4,096 → 8; 8 experts × W1, W3, W2 of 4,096 ↔ 14,336 (params_each // (k·n) = 8 matrices);
    # the absent shared expert (width 0) holds none
    D, F_e, E = 4_096, 14_336, 8
    per_layer = 2 * (D + D) + 2 * (D + 1_024) + (D + E) + E * 3 * (D + F_e)
    model = acct.load("mixtral-8x7b").with_(set={"lora_rank": "8"})
    assert model.value("train.lora_params") == 8 * 32 * per_layer == 121_112_576
    assert model.value("train.lora_matrices") == 32 * (4 + 1 + 3 * E)


def test_the_json_gives_the_trainable_and_lora_parameters(cli):
    """Llama-2-7B, LoRA r = 16 on every linear layer of the blocks: 32 layers × 16 × (4·(4,096 + 4,096)
    + 3·(4,096 + 11,008)) = 39,976,960 adapters, the only trainable parameters; the base's 6,738,415,616
    are frozen."""
    import json

    status, out, err = cli("train", "llama-2-7b", "--lora-rank", "16", "--precision", "bf16", "-f", "json")
    assert status == 0, err
    lora = 32 * 16 * (4 * (4_096 + 4_096) + 3 * (4_096 + 11_008))
    assert lora == 39_976_960
    assert json.loads(out)["params"] == {"total": 6_738_415_616, "active": 6_738_415_616,
                                         "trainable": lora, "lora": lora}
    status, out, err = cli("train", "llama-2-7b", "-f", "json")
    assert json.loads(out)["params"] == {"total": 6_738_415_616, "active": 6_738_415_616}
