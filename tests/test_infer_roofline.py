"""acct infer's roofline: time to first token, time per output token and throughput on hardware,
quantized weights and KV cache, what fits, cost; every figure a sheet cell that sweep and solve reach.

The anchors of issue 16: the bandwidth floor of Llama-2-7B on an A100, the batch at which Llama-3-8B's
decode turns compute-bound on an H100, and LLM-Viewer's per-layer intensities side by side.
"""

import ast
import csv
import io
import json
from fractions import Fraction

import pytest

import acct
from acct.engine.formula import from_tree
from acct.model.roofline import series
from conftest import PRESETS

A100_BANDWIDTH = 2_039 * 10**9  # bytes/s (NVIDIA A100 80GB datasheet)
A100_BF16 = 312 * 10**12
H100_BANDWIDTH = 3_350 * 10**9
H100_BF16 = Fraction("989.4e12")


def infer(cli, preset, *options):
    status, out, err = cli("infer", str(PRESETS / f"{preset}.toml"), *options, "-f", "json")
    assert status == 0, err
    return json.loads(out)


def exact(value):
    return Fraction(value) if isinstance(value, str) else Fraction(value)


# -- the bandwidth floor ---------------------------------------------------------------------------


def test_llama2_7b_bf16_on_an_a100_reads_its_weights_for_every_token(cli):
    data = infer(cli, "llama-2-7b", "--hardware", "a100", "--batch", "1", "--generate", "1")
    roofline = data["roofline"]
    # 6,738,415,616 parameters × 2 bytes = 13,476,831,232 bytes, ÷ 2,039 GB/s: 6.6095 ms (≤ 151.3 tokens/s)
    assert data["memory"]["weights"] == 13_476_831_232 == 2 * 6_738_415_616
    floor = exact(roofline["seconds"]["weight_floor"])
    assert floor == Fraction(13_476_831_232, A100_BANDWIDTH)
    assert round(floor * 1000, 2) == Fraction("6.61") and int(1 / floor) == 151
    # The decode step at P = 4,096 (the preset's context), t = 4,097 keys, by hand. Weights read: all
    # but the token embedding, which a step only gathers B rows from (32,000 × 4,096 × 2 bytes):
    weights = 13_476_831_232 - 32_000 * 4_096 * 2
    D, F, V, L, t = 4_096, 11_008, 32_000, 32, 4_097
    # activations in and out × 2 bytes: Q, K, V, O (D in, D out), W1 and W3 (D in, F out), W2 (F in,
    # D out); the LM head D in, V out. Attention, fused (the default): QKᵀ reads q (H·d_k = D) and
    # writes the log-sum-exp, 32 heads × 4 bytes (fp32); attention·V writes o (D). The KV cache read:
    # K and V, t × D each, 2 bytes.
    per_layer = 2 * (4 * 2 * D + 2 * (D + F) + (F + D) + D + D) + 32 * 4 + 2 * 2 * t * D
    activations_and_kv = L * per_layer + 2 * (D + V)
    step = roofline["phases"]["decode_first"]
    assert step["bytes"] == weights + activations_and_kv == 15_368_292_864
    # eager attention also writes t scores per head (32·t) and reads the t probabilities back (32·t),
    # and writes no log-sum-exp: 2·(32·t + 32·t) − 128 = 128·(t − 1) bytes more per layer
    eager = infer(cli, "llama-2-7b", "--hardware", "a100", "--batch", "1", "--generate", "1", "--attention", "eager")
    per_layer_eager = 2 * (4 * 2 * D + 2 * (D + F) + (F + D) + (D + 32 * t) + (32 * t + D)) + 2 * 2 * t * D
    assert per_layer_eager - per_layer == 128 * (t - 1)
    assert eager["roofline"]["phases"]["decode_first"]["bytes"] == weights + L * per_layer_eager + 2 * (D + V) \
        == 15_385_070_080
    assert step["kv_cache_bytes"] == L * 2 * 2 * t * D
    assert step["flops"] == L * (8 * D * D + 4 * t * D + 6 * D * F) + 2 * D * V
    # at batch 1 every row is memory-bound (intensity ≈ 1 against a ridge of 312 T / 2.039 T ≈ 153):
    assert all(row["decode_first"]["bound"] in ("memory", None) for row in roofline["rows"])
    tpot = exact(roofline["seconds"]["time_per_output_token"])
    assert tpot == Fraction(step["bytes"], A100_BANDWIDTH)
    assert tpot >= floor  # the floor: with the KV cache at 4,096 tokens, 7.55 ms ≥ 6.61 ms
    assert exact(roofline["tokens_per_s"]["all"]) == 1 / tpot


# -- where decode turns compute-bound --------------------------------------------------------------


def _threshold(k, n, ridge):
    """The least batch B at which a k×n bf16 linear layer's decode step is compute-bound: its FLOPs
    2·k·n·B over its bytes 2·k·n (weights) + 2·B·(k + n) (input and output) reach the ridge:
    k·n·B ≥ ridge·(k·n + B·(k + n)) ⇔ B ≥ ridge·k·n / (k·n − ridge·(k + n))."""
    exact_b = ridge * k * n / (k * n - ridge * (k + n))
    return -(-exact_b.numerator // exact_b.denominator)


def test_the_batch_where_llama3_8b_decode_turns_compute_bound_on_an_h100(cli):
    ridge = H100_BF16 / H100_BANDWIDTH  # 989.4 T / 3.35 T = 295.34 FLOPs per byte
    D, F, V, H_kv_width = 4_096, 14_336, 128_256, 8 * 128
    expected = {"ffn_w1": _threshold(D, F, ridge), "ffn_w2": _threshold(F, D, ridge),
                "q_proj": _threshold(D, D, ridge), "k_proj": _threshold(D, H_kv_width, ridge),
                "lm_head": _threshold(D, V, ridge)}
    # by hand: the FFN's 4,096 × 14,336 at 326 (325.5), the LM head at 320, Q and O at 346, K and V at 462
    assert expected == {"ffn_w1": 326, "ffn_w2": 326, "q_proj": 346, "k_proj": 462, "lm_head": 320}

    def bounds(batch):
        data = infer(cli, "llama-3-8b", "--hardware", "h100", "--batch", str(batch), "--prompt", "1024")
        assert exact(data["roofline"]["ridge"]) == ridge
        return {row["name"]: row["decode_first"]["bound"] for row in data["roofline"]["rows"]}

    below, at = {}, {}
    for name, batch in expected.items():
        below[name], at[name] = bounds(batch - 1)[name], bounds(batch)[name]
    assert set(below.values()) == {"memory"} and set(at.values()) == {"compute"}
    # the products over the cache never turn: ~H/H_kv = 4 FLOPs per byte of cache, whatever the batch
    assert bounds(1024)["attn_scores"] == "memory"


# -- LLM-Viewer, side by side ----------------------------------------------------------------------

# LLM-Viewer (hahnyuan/LLM-Viewer, model_analyzer.py, ModelAnalyzer.analyze; configs/Llama.py) counts a
# layer's memory access as load_weight + load_act + store_act + load_kv_cache + store_kv_cache, in
# bytes at w_bit = a_bit = kv_bit = 16, and its intensity as OPs over that. Its formulas, rewritten
# here for one layer of a Llama (hidden h, heads a, kv heads a_kv, head size d = h/a, intermediate f),
# seqlen s, batch b, without FlashAttention:
#   linear ic→oc, decode:  OPs 2·ic·oc·b; bytes 2·ic·oc + 2·ic·b + 2·oc·b (k/v_proj store to the cache)
#   linear ic→oc, prefill: OPs 2·ic·oc·b·s; bytes 2·ic·oc + 2·ic·b·s + 2·oc·b·s
#   qk_matmul, decode:  OPs 2·s·d·a·b; bytes 2·(d·b·a + s·b·a + s·d·b·a_kv)
#   sv_matmul, decode:  OPs 2·s·d·a·b; bytes 2·(s·b·a + d·b·a + s·d·b·a_kv)
#   qk_matmul, prefill: OPs 2·s²·d·a·b; bytes 2·(s²·b·a + 2·s·d·b·a_kv)  (no load_act: Q and K are both
#                       counted as cache, with a_kv heads)
#   sv_matmul, prefill: OPs 2·s²·d·a·b; bytes 2·(s²·b·a + s·d·b·a + s·d·b·a_kv)
# Its decode at seqlen s attends to s keys: acct's decode step t = s, i.e. P = s − 1.

LLM_VIEWER_ROWS = {"q_proj": "q_proj", "k_proj": "k_proj", "v_proj": "v_proj", "out_proj": "out_proj",
                   "gate_proj": "ffn_w1", "up_proj": "ffn_w3", "down_proj": "ffn_w2",
                   "qk_matmul": "attn_scores", "sv_matmul": "attn_values"}


def llm_viewer(h, a, a_kv, f, s, b):
    """{stage: {layer: intensity}} by LLM-Viewer's formulas (above), exactly."""
    d = h // a
    linear = {"q_proj": (h, h), "k_proj": (h, d * a_kv), "v_proj": (h, d * a_kv), "out_proj": (h, h),
              "gate_proj": (h, f), "up_proj": (h, f), "down_proj": (f, h)}
    out = {"decode": {}, "prefill": {}}
    for name, (ic, oc) in linear.items():
        out["decode"][name] = Fraction(2 * ic * oc * b, 2 * (ic * oc + ic * b + oc * b))
        out["prefill"][name] = Fraction(2 * ic * oc * b * s, 2 * (ic * oc + ic * b * s + oc * b * s))
    out["decode"]["qk_matmul"] = Fraction(2 * s * d * a * b, 2 * (d * b * a + s * b * a + s * d * b * a_kv))
    out["decode"]["sv_matmul"] = Fraction(2 * s * d * a * b, 2 * (s * b * a + d * b * a + s * d * b * a_kv))
    out["prefill"]["qk_matmul"] = Fraction(2 * s * s * d * a * b, 2 * (s * s * b * a + 2 * s * d * b * a_kv))
    out["prefill"]["sv_matmul"] = Fraction(2 * s * s * d * a * b,
                                           2 * (s * s * b * a + s * d * b * a + s * d * b * a_kv))
    return out


def acct_intensities(cli, preset, s, b):
    # LLM-Viewer's qk_matmul stores the scores and its sv_matmul loads the probabilities (use_flashattention
    # is off by default): an unfused kernel, acct's --attention eager. (Its softmax layer, which loads and
    # stores them between the two, is one of the layers acct does not list, as the norms.)
    eager = ("--hardware", "a100", "--batch", str(b), "--attention", "eager")
    prefill = infer(cli, preset, *eager, "--prompt", str(s))
    decode = infer(cli, preset, *eager, "--prompt", str(s - 1))
    rows = {"prefill": prefill["roofline"]["rows"], "decode": decode["roofline"]["rows"]}
    phase = {"prefill": "prefill", "decode": "decode_first"}
    return {stage: {row["name"]: exact(row[phase[stage]]["intensity"]) for row in rows[stage]
                    if row[phase[stage]]["intensity"] is not None} for stage in rows}


@pytest.mark.parametrize("s, b", [(1024, 1), (2048, 8)])
def test_llama2_7b_intensities_are_llm_viewers(cli, s, b):
    """Llama-2-7B (multi-head attention) on LLM-Viewer's nvidia_A100_80G (2,039 GB/s, 312 TFLOP/s): every
    layer LLM-Viewer lists has acct's intensity exactly. What differs is what is listed: LLM-Viewer adds
    softmax, the norms, the residual adds and the activation (acct's matmul count gives them no FLOPs;
    it moves the norms' weights only), and leaves out the embedding and the LM head (commented out in
    analyze), which acct counts. (LLM-Viewer stores the K and V projections' outputs at kv_bit, acct at
    the activation dtype: the same at 16 bits, as here.)"""
    theirs = llm_viewer(4_096, 32, 32, 11_008, s, b)
    ours = acct_intensities(cli, "llama-2-7b", s, b)
    for stage in ("decode", "prefill"):
        side_by_side = {name: (theirs[stage][name], ours[stage][row]) for name, row in LLM_VIEWER_ROWS.items()}
        assert all(a == b for a, b in side_by_side.values()), (stage, side_by_side)
    # e.g. a decode step at batch 1: q_proj 2·D²/(2·D² + 4·D) = D/(D + 2) = 2048/2049
    if b == 1:
        assert ours["decode"]["q_proj"] == Fraction(2_048, 2_049)
    assert "lm_head" in ours["decode"] and "lm_head" not in LLM_VIEWER_ROWS.values()


def test_llama3_8b_prefill_scores_differ_from_llm_viewer_only_in_counting_q(cli):
    """With grouped-query attention (H = 32, H_kv = 8) one layer differs: LLM-Viewer's prefill QKᵀ
    counts Q as cache bytes with H_kv heads (2·s·d·b·a_kv for Q and K together), acct reads Q with
    all H heads and K with H_kv: 2·(s·d·H + s²·H + s·d·H_kv) bytes. Every other layer agrees."""
    s, b, h, a, a_kv, d = 1024, 1, 4_096, 32, 8, 128
    theirs = llm_viewer(h, a, a_kv, 14_336, s, b)
    ours = acct_intensities(cli, "llama-3-8b", s, b)
    for stage in ("decode", "prefill"):
        for name, row in LLM_VIEWER_ROWS.items():
            if (stage, name) != ("prefill", "qk_matmul"):
                assert theirs[stage][name] == ours[stage][row], (stage, name)
    flops = 2 * s * s * d * a * b
    assert ours["prefill"]["attn_scores"] == Fraction(flops, 2 * (s * d * a + s * s * a + s * d * a_kv) * b)
    assert theirs["prefill"]["qk_matmul"] == Fraction(flops, 2 * (s * s * a + 2 * s * d * a_kv) * b)


# -- quantization, the KV-cache dtype, what fits ---------------------------------------------------


def test_int4_with_groups_of_128_costs_4_125_bits_per_weight(cli):
    data = infer(cli, "llama-2-7b", "--weights", "int4")
    memory = data["memory"]
    assert exact(memory["bits_per_weight"]) == Fraction(33, 8) == 4 + Fraction(16, 128)
    # quantized: Q, K, V, O (4 × 32 × 4,096²), W1, W3, W2 (3 × 32 × 4,096 × 11,008) and the LM head
    # (32,000 × 4,096): 6,607,077,376 weights × 33/8 bits; the embedding (131,072,000) and the norms
    # (65 × 4,096 = 266,240) stay at 2 bytes
    quantized = 4 * 32 * 4_096**2 + 3 * 32 * 4_096 * 11_008 + 32_000 * 4_096
    assert quantized == 6_607_077_376
    assert memory["weights"] == quantized * 33 // 64 + (131_072_000 + 266_240) * 2 == 3_669_450_752
    assert memory["quantized_rows"] == ["q_proj", "k_proj", "v_proj", "out_proj", "ffn_w1", "ffn_w3", "ffn_w2",
                                        "lm_head"]
    # a scale and a zero point in fp16 each: 4 + 32/128 = 4.25 bits
    data = infer(cli, "llama-2-7b", "--weights", "int4", "--scale-bytes", "4")
    assert exact(data["memory"]["bits_per_weight"]) == Fraction(17, 4)
    for dtype, bits in (("fp32", 32), ("bf16", 16), ("fp8", 8), ("int8", 8)):
        data = infer(cli, "llama-2-7b", "--weights", dtype)
        assert exact(data["memory"]["bits_per_weight"]) == bits
        other = 4 if dtype == "fp32" else 2  # the rows not quantized keep the activation dtype
        assert data["memory"]["weights"] == quantized * bits // 8 + (131_072_000 + 266_240) * other


def test_run_shows_the_chosen_scheme_beside_fp32_bf16_and_int8(cli):
    status, out, err = cli("run", str(PRESETS / "llama-2-7b.toml"), "--weights", "int4", "-f", "json")
    assert status == 0, err
    memory = json.loads(out)["memory"]
    assert [m["dtype"] for m in memory][:3] == ["fp32", "bf16 / fp16", "int8"]
    assert memory[3] == {"dtype": "int4: 4.125 bits per linear-layer weight, groups of 128",
                         "bytes_per_param": "895862/1645121", "bytes": 3_669_450_752}
    assert Fraction(895_862, 1_645_121) == Fraction(3_669_450_752, 6_738_415_616)
    status, out, _ = cli("run", str(PRESETS / "llama-2-7b.toml"))
    assert "linear-layer" not in out
    assert acct.load("llama-2-7b").report(weights="int4").to_dict()["memory"][3] == memory[3]


def test_a_decode_step_reads_only_the_experts_its_tokens_reach(cli):
    # Mixtral: 8 experts of 4,096 × 14,336 per layer, 2 per token. At B = 1 a step reads 2 of them in
    # each of 32 layers (2 bytes each), and the input and output of both: 2 × (4,096 + 14,336) × 2 bytes
    rows = {B: {row["name"]: row["decode_first"]["bytes"] for row in
                infer(cli, "mixtral-8x7b", "--hardware", "h100", "--batch", str(B))["roofline"]["rows"]}
            for B in (1, 4)}
    expert, activations = 4_096 * 14_336 * 2, 2 * (4_096 + 14_336) * 2
    assert rows[1]["expert_w1"] == 32 * (2 * expert + activations)
    # at B = 4 the 8 tokens can reach all 8 experts: all are read
    assert rows[4]["expert_w1"] == 32 * (8 * expert + 4 * activations)


def test_an_fp8_kv_cache_halves_the_cache(cli):
    # Llama-3-8B: 2 (K, V) × 32 layers × 8 heads × 128 × 1 byte per token, at P + G = 4,096 + 100 tokens, B = 4
    data = infer(cli, "llama-3-8b", "--kv-dtype", "fp8", "--prompt", "4096", "--generate", "100", "--batch", "4")
    assert data["kv_cache"]["bytes_per_value"] == 1
    assert data["memory"]["kv_cache"] == 2 * 32 * 8 * 128 * 1 * 4_196 * 4
    bf16 = infer(cli, "llama-3-8b", "--prompt", "4096", "--generate", "100", "--batch", "4")
    assert bf16["memory"]["kv_cache"] == 2 * data["memory"]["kv_cache"]


def test_what_fits_is_a_cell_that_solve_reaches(cli):
    # Llama-3-8B bf16 at P = 8,192, G = 1: weights 16,060,522,496 bytes; per sequence the cache of 8,193
    # tokens (131,072 bytes each) and the workspace, the LM head's input and output over the prompt
    # (8,192 × (4,096 + 128,256) × 2 bytes): 3,242,328,064 bytes. 80 GB: ⌊63,939,477,504 / 3,242,328,064⌋ = 19
    per_sequence = 131_072 * 8_193 + 8_192 * (4_096 + 128_256) * 2
    assert per_sequence == 3_242_328_064
    largest = (80 * 10**9 - 16_060_522_496) // per_sequence
    assert largest == 19
    status, out, err = cli("solve", str(PRESETS / "llama-3-8b.toml"), "--largest", "batch_size",
                           "--where", "infer.memory <= 80GB", "-f", "json")
    assert status == 0, err
    assert json.loads(out)["answer"] == largest
    # the longest prompt at batch 8 with int4 weights and an fp8 cache, per device over 2 devices
    status, out, err = cli("solve", str(PRESETS / "llama-3-8b.toml"), "--largest", "context_length",
                           "--where", "infer.memory_per_device <= 40GB", "--weights", "int4", "--kv-dtype", "fp8",
                           "--set", "batch_size=8", "--set", "gpus=2", "-f", "json")
    assert status == 0, err
    answer = json.loads(out)
    model = acct.load("llama-3-8b", set={"batch_size": 8, "gpus": 2}).with_(
        inference=acct.api.Inference(weights="int4", kv_dtype="fp8"))
    at = model.with_(set={"context_length": answer["answer"]}).value("infer.memory_per_device")
    beyond = model.with_(set={"context_length": answer["answer"] + 1}).value("infer.memory_per_device")
    assert at <= 40 * 10**9 < beyond


def test_tensor_parallelism_splits_memory_and_time(cli):
    one = infer(cli, "llama-3-8b", "--hardware", "h100", "--batch", "8")
    two = infer(cli, "llama-3-8b", "--hardware", "h100", "--batch", "8", "--tp", "2")
    assert two["memory"]["total"] == one["memory"]["total"] and exact(two["memory"]["per_device"]) * 2 == \
        one["memory"]["total"]
    # no communication counted: twice the FLOP/s and the bandwidth, half of every time
    for key, value in one["roofline"]["seconds"].items():
        assert exact(two["roofline"]["seconds"][key]) * 2 == exact(value), key


def test_solve_finds_the_largest_batch_within_a_time_per_token(cli):
    """The largest batch at which Llama-3-8B on an H100 still decodes a token in 20 ms per sequence."""
    status, out, err = cli("solve", str(PRESETS / "llama-3-8b.toml"), "--hardware", "h100", "--weights", "bf16",
                           "--largest", "batch_size", "--where", "infer.time_per_token <= 0.02",
                           "--set", "context_length=1024", "--set", "generate=256", "-f", "json")
    assert status == 0, err
    answer = json.loads(out)
    assert exact(answer["value_at_answer"]) <= Fraction(1, 50) < exact(answer["value_at_next"])
    assert answer["answer"] == 329  # the README's answer: 19.95 ms at 329, 20.01 ms at 330
    assert (round(exact(answer["value_at_answer"]) * 10**5), round(exact(answer["value_at_next"]) * 10**5)) == \
        (1_995, 2_001)
    # with eager attention each step also writes and reads back the scores: 321 (19.99 ms; 20.04 at 322)
    status, out, err = cli("solve", str(PRESETS / "llama-3-8b.toml"), "--hardware", "h100", "--weights", "bf16",
                           "--largest", "batch_size", "--where", "infer.time_per_token <= 0.02",
                           "--set", "context_length=1024", "--set", "generate=256", "--set", "attention_fused=0",
                           "-f", "json")
    assert status == 0, err
    eager = json.loads(out)
    assert eager["answer"] == 321
    # The difference, by hand: a decode step at t keys moves per sequence and layer 2·32·t bytes of
    # scores and 2·32·t of probabilities, and no 32 × 4 bytes of log-sum-exp: 128·(t − 1) more, 32
    # layers, all memory-bound (about 4 FLOPs per byte), over t = 1,025 … 1,280: Σ (t − 1) = 128·2,303
    moved = 32 * 128 * 128 * 2_303
    fused_at_321 = acct.load("llama-3-8b").infer(hardware="h100", batch=321, prompt=1024, generate=256)
    assert exact(eager["value_at_answer"]) - exact(fused_at_321.to_dict()["roofline"]["seconds"][
        "time_per_output_token"]) == Fraction(321 * moved, 256 * H100_BANDWIDTH)
    # ... but their bf16 caches do not all fit: memory allows 145 (weights 16,060,522,496 bytes; per
    # sequence the cache of 1,280 tokens, 131,072 bytes each, and the LM head's workspace over the prompt)
    per_sequence = 131_072 * 1_280 + 1_024 * (4_096 + 128_256) * 2
    assert (80 * 10**9 - 16_060_522_496) // per_sequence == 145
    status, out, err = cli("solve", str(PRESETS / "llama-3-8b.toml"), "--hardware", "h100", "--weights", "bf16",
                           "--largest", "batch_size", "--where", "infer.memory_free >= 0",
                           "--set", "context_length=1024", "--set", "generate=256", "-f", "json")
    assert json.loads(out)["answer"] == 145
    model = acct.load("llama-3-8b")
    at = model.infer(hardware="h100", batch=answer["answer"], prompt=1024, generate=256).to_dict()
    assert exact(at["roofline"]["seconds"]["time_per_output_token"]) == exact(answer["value_at_answer"])
    status, out, _ = cli("solve", str(PRESETS / "llama-3-8b.toml"), "--hardware", "h100", "--weights", "bf16",
                         "--largest", "batch_size", "--where", "infer.time_per_token <= 0.02")
    assert " ms (" in out  # the times read as milliseconds beside their exact value
    # --hardware alone: the peak at the preset's precision (fp32: 66.9 TFLOP/s), as train takes it
    status, out, err = cli("sweep", str(PRESETS / "llama-3-8b.toml"), "--hardware", "h100", "--vary",
                           "batch_size=1", "--output", "infer.ridge", "-f", "csv")
    assert status == 0, err
    assert exact(next(csv.DictReader(io.StringIO(out)))["infer.ridge"]) == Fraction("66.9e12") / H100_BANDWIDTH


def test_a_sliding_window_caps_the_cache_and_the_sum_over_the_steps_is_exact(cli):
    """Gemma-2-2B: 13 of 26 layers attend to at most W = 4,096 keys. Decoding from P = 4,093 for
    G = 6 steps crosses the window; the closed-form sums equal the steps added one by one."""
    steps = infer(cli, "gemma-2-2b", "--hardware", "h100", "--prompt", "4093", "--generate", "6")
    total = steps["roofline"]["phases"]["decode"]
    singles = [infer(cli, "gemma-2-2b", "--hardware", "h100", "--prompt", str(4093 + i), "--generate", "1")
               ["roofline"]["phases"]["decode_first"] for i in range(6)]
    for key in ("flops", "bytes", "kv_cache_bytes"):
        assert total[key] == sum(single[key] for single in singles), key
    assert exact(total["seconds"]) == sum(exact(single["seconds"]) for single in singles)
    assert steps["roofline"]["exact_over_the_steps"] is True
    # the cache after 4,099 tokens: global layers 4,099 tokens, local ones 4,096; 4 KV heads × 256 × 2 bytes, K and V
    assert steps["memory"]["kv_cache"] == 13 * (4_099 + 4_096) * 2 * 4 * 256 * 2


@pytest.mark.parametrize("first, last, window", [(1, 10, 4), (5, 9, 4), (1, 3, 8), (4, 4, 4), (3, 12, 12)])
def test_series_sums_a_window_in_closed_form(first, last, window):
    tree = ast.parse("3 * min(t, W) + max(W, t) - 2 * t + 7", mode="eval").body
    summed = series(tree, "t", ast.Constant(first), ast.Constant(last), "test")
    value = from_tree(summed, "sum").evaluate({"W": window})
    assert value == sum(3 * min(t, window) + max(window, t) - 2 * t + 7 for t in range(first, last + 1))


def test_a_formula_the_sum_cannot_close_is_one_line_naming_the_row():
    with pytest.raises(acct.AcctError, match="row x: acct sums a decode formula .* cannot sum 't \\* t'"):
        series(ast.parse("t * t", mode="eval").body, "t", ast.Constant(1), ast.Constant(2), "row x")


# -- headline figures, cost, sweep -----------------------------------------------------------------


def test_headline_figures_and_cost_are_cells(cli):
    data = infer(cli, "llama-3-8b", "--hardware", "h100", "--batch", "64", "--prompt", "1024", "--generate", "256",
                 "--price-per-hour", "2.5", "--mfu", "0.5", "--bandwidth-efficiency", "0.8")
    r = data["roofline"]
    assert exact(r["mfu"]) == Fraction(1, 2) and exact(r["bandwidth_efficiency"]) == Fraction(4, 5)
    seconds = {key: exact(value) for key, value in r["seconds"].items()}
    decode = exact(r["phases"]["decode"]["seconds"])
    assert seconds["time_to_first_token"] == exact(r["phases"]["prefill"]["seconds"])
    assert seconds["time_per_output_token"] == decode / 256
    assert seconds["latency"] == seconds["time_to_first_token"] + decode
    assert exact(r["tokens_per_s"]["all"]) == 64 * exact(r["tokens_per_s"]["per_sequence"]) == 64 * 256 / decode
    # $2.50 per device-hour ÷ 3,600 s ÷ tokens/s × 10⁶
    assert exact(r["usd_per_million_tokens"]) == Fraction(5, 2) / 3600 / exact(r["tokens_per_s"]["all"]) * 10**6
    model = acct.load("llama-3-8b").with_(hardware="h100", set={"batch_size": 64, "context_length": 1024,
                                                                 "generate": 256},
                                          inference=acct.api.Inference(price_per_hour="2.5", mfu="0.5",
                                                                       bandwidth_efficiency="0.8"))
    assert model.value("infer.usd_per_million_tokens") == exact(r["usd_per_million_tokens"])
    result = acct.load("llama-3-8b").infer(hardware="h100", batch=64, prompt=1024, generate=256,
                                           price_per_hour="2.5", mfu="0.5", bandwidth_efficiency="0.8")
    assert result.to_dict()["roofline"] == r


def test_sweep_draws_the_throughput_latency_curve(cli, tmp_path):
    status, out, err = cli("sweep", str(PRESETS / "llama-3-8b.toml"), "--hardware", "h100", "--weights", "bf16",
                           "--vary", "batch_size=1..256*2", "--output", "infer.tokens_per_s",
                           "--output", "infer.time_per_token", "-f", "csv")
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(row["batch_size"]) for row in rows] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    for row in (rows[0], rows[6]):  # the compiled sweep agrees with the report, at B = 1 and 64
        single = acct.load("llama-3-8b").infer(hardware="h100", batch=int(row["batch_size"])).to_dict()["roofline"]
        assert exact(row["infer.time_per_token"]) == exact(single["seconds"]["time_per_output_token"])
        assert exact(row["infer.tokens_per_s"]) == exact(single["tokens_per_s"]["all"])
    throughput = [exact(row["infer.tokens_per_s"]) for row in rows]
    assert throughput == sorted(throughput)  # more sequences, more tokens/s, ...
    latency = [exact(row["infer.time_per_token"]) for row in rows]
    assert latency == sorted(latency)  # ... each a little later
    pytest.importorskip("matplotlib")
    plot = tmp_path / "curve.svg"
    status, _, err = cli("sweep", str(PRESETS / "llama-3-8b.toml"), "--hardware", "h100", "--vary",
                         "batch_size=1..256*2", "--output", "infer.tokens_per_s", "--plot", str(plot))
    assert status == 0, err
    assert plot.read_text().lstrip().startswith("<?xml")


# -- today's output, errors ------------------------------------------------------------------------


def test_without_inference_options_infer_prints_what_it_did(cli):
    status, out, _ = cli("infer", str(PRESETS / "gpt2-xl.toml"))
    assert "## Time on" not in out and "## What fits" not in out
    data = infer(cli, "gpt2-xl")
    assert set(data) == {"schema", "preset", "batch_size", "context_length", "decode_position", "kv_cache", "flops",
                         "rows"}


def test_the_roofline_in_every_format(cli):
    argv = ("infer", str(PRESETS / "llama-3-8b.toml"), "--hardware", "h100", "--price-per-hour", "2")
    data = infer(cli, "llama-3-8b", "--hardware", "h100", "--price-per-hour", "2")
    status, out, _ = cli(*argv, "-f", "csv")
    records = {(row["section"], row["name"], row["quantity"]): row["value"] for row in csv.DictReader(io.StringIO(out))}
    assert records[("time", "run", "time_per_output_token")] == data["roofline"]["seconds"]["time_per_output_token"]
    assert records[("roofline.decode_first", "q_proj", "bound")] == "memory"
    assert records[("cost", "run", "usd_per_million_tokens")] == data["roofline"]["usd_per_million_tokens"]
    status, out, _ = cli(*argv, "-f", "html")
    assert status == 0 and out.startswith("<!DOCTYPE html>")
    status, out, _ = cli(*argv, "--tablefmt", "latex_booktabs")
    assert status == 0 and "\\begin{tabular}" in out and "time per output token" in out


@pytest.mark.parametrize("argv, message", [
    (["--weights", "int3"], "--weights: unknown dtype 'int3'"),
    (["--kv-dtype", "fp4"], "--kv-dtype: unknown dtype 'fp4'"),
    (["--hardware", "h100", "--mfu", "2"], "--mfu: a fraction above 0 and at most 1, got 2"),
    (["--hardware", "h100", "--price-per-hour", "-1"], "--price-per-hour: '-1' is negative"),
    (["--hardware", "h100", "--mfu", "-0.5"], "--mfu: '-0.5' is negative"),
    (["--group-size", "0"], "--group-size: a whole number of at least 1, got 0"),
    # a group size without a scale changed no byte: bf16 (and int8) weights carry none by default
    (["--group-size", "64"], "--group-size: bf16 weights with 0 bytes of scale per group: the group size "
                             "changes nothing; give --scale-bytes N too (int4's default: 2)"),
    (["--weights", "int8", "--group-size", "32"], "--group-size: int8 weights with 0 bytes of scale"),
    # without a roofline these were accepted and ignored: the report printed no time and no cost
    (["--mfu", "0.5"], "--mfu gives the roofline's times and cost, which need --hardware NAME (a100, h100, "
                       "h200) or --set peak_flops=... --set memory_bandwidth=..."),
    (["--bandwidth-efficiency", "0.5"], "--bandwidth-efficiency gives the roofline's times and cost"),
    (["--price-per-hour", "2"], "--price-per-hour gives the roofline's times and cost"),
    # a size the option set is blamed on the option, not on the input it sets
    (["--hardware", "h100", "--batch", "0"], "--batch: batch_size must be positive, got 0"),
    (["--hardware", "h100", "--generate", "0"], "--generate: generate must be positive, got 0"),
])
def test_bad_inference_options_are_one_line(cli, argv, message):
    status, out, err = cli("infer", str(PRESETS / "llama-3-8b.toml"), *argv)
    assert status == 1 and out == ""
    assert err.startswith(f"acct: error: {message}") and err.count("\n") == 1


def test_a_roofline_output_without_hardware_says_what_it_needs(cli):
    status, _, err = cli("sweep", str(PRESETS / "llama-3-8b.toml"), "--vary", "batch_size=1,2",
                         "--output", "infer.time_per_token")
    assert status == 1
    assert "unknown output 'infer.time_per_token'" in err and "need --hardware NAME" in err


# -- the README's answer ---------------------------------------------------------------------------


def test_the_readme_inference_excerpt_and_table_are_what_acct_prints(cli):
    """Llama-3-8B on one H100 at batch 1 and 64, bf16 vs int4: the README's excerpt is real output, and
    each line of its table is the run it names, formatted as the report formats it."""
    from test_readme import README, code_blocks

    from acct.render.inference import _rate, seconds
    from acct.engine.numbers import fixed

    excerpt = next(block for block in code_blocks() if "| time to first token (the prefill)" in block)
    status, out, err = cli("infer", str(PRESETS / "llama-3-8b.toml"), "--hardware", "h100", "--batch", "64",
                           "--prompt", "1024", "--generate", "256", "--weights", "int4", "--price-per-hour", "2.5")
    assert status == 0, err
    for paragraph in excerpt.strip().split("\n\n"):
        assert paragraph in out
    for weights in ("bf16", "int4"):
        for batch in (1, 64):
            data = acct.load("llama-3-8b").infer(hardware="h100", batch=batch, prompt=1024, generate=256,
                                                 weights=weights).to_dict()
            times, rates = data["roofline"]["seconds"], data["roofline"]["tokens_per_s"]
            line = (f"| {weights}, B = {batch} | {seconds(exact(times['time_to_first_token']))} | "
                    f"{seconds(exact(times['time_per_output_token']))} | {seconds(exact(times['latency']))} | "
                    f"{_rate(exact(rates['per_sequence']))} | {_rate(exact(rates['all']))} | "
                    f"{fixed(Fraction(data['memory']['total'], 10**9), 2)} GB |")
            assert line in README, line


def test_int8_with_a_group_scale_counts_its_bytes(cli):
    # Llama-3-8B's linear weights: 32 × (2·4,096² + 2·4,096·1,024 + 3·4,096·14,336) + 4,096·128,256
    # = 7,504,658,432; int8 in groups of 32 with a 2-byte scale: 8 + 16/32 = 8.5 bits, 7,973,699,584 B;
    # the embedding (525,336,576) and 65 norms of 4,096 at 2 B: 1,051,205,632; 9,024,905,216 in all
    status, out, err = cli("infer", str(PRESETS / "llama-3-8b.toml"), "--weights", "int8", "--group-size", "32",
                           "--scale-bytes", "2", "-f", "json")
    assert status == 0, err
    assert json.loads(out)["memory"]["weights"] == 7_504_658_432 * 17 // 16 + 1_051_205_632 == 9_024_905_216


def test_infer_tp_that_does_not_divide_the_heads_is_one_line(cli):
    # Llama-3-8B has 32 heads: --tp 3 split them 32/3 per device and still printed times and memory ÷ 3
    status, out, err = cli("infer", str(PRESETS / "llama-3-8b.toml"), "--hardware", "h100", "--tp", "3")
    assert (status, out) == (1, "")
    assert err == "acct: error: --tp: tp = 3 does not divide the 32 attention heads\n"
    with pytest.raises(acct.AcctError, match=r"^--tp: tp = 5 does not divide the 32 attention heads$"):
        acct.load(str(PRESETS / "llama-3-8b.toml")).infer("h100", tp=5)


def test_tensor_parallelism_beyond_the_kv_heads_holds_each_head_twice(cli):
    """Llama-3-8B has 8 KV heads: on 16 devices each holds one KV head, so the cache per device is 1/8 of
    it, not 1/16. Cache after P + G = 1,088 tokens for B = 8 in bf16: 32 layers × 2 (K, V) × 8 heads × 128
    × 1,088 × 8 × 2 B = 1,140,850,688 B; on 4 devices (2 heads each) no head repeats."""
    import json

    def memory(tp):
        status, out, err = cli("infer", str(PRESETS / "llama-3-8b.toml"), "--hardware", "h100", "--tp", str(tp),
                               "--batch", "8", "--prompt", "1024", "--generate", "64", "-f", "json")
        assert status == 0, err
        return json.loads(out)["memory"]

    logical = 32 * 2 * 8 * 128 * 1_088 * 8 * 2
    assert logical == 1_140_850_688
    four, sixteen = memory(4), memory(16)
    assert four["kv_cache"] == logical and sixteen["kv_cache"] == 2 * logical  # two copies of each head
    assert sixteen["per_device"] * 16 == sixteen["weights"] + 2 * logical + sixteen["workspace"]
    assert Fraction(sixteen["kv_cache"], 16) == Fraction(logical, 8)
