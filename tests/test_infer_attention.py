"""The roofline's attention traffic follows the kernel (issue #20, item 4): one input, attention_fused
(acct infer --attention sdpa|eager, Model.infer(attention=...)), chooses what QKᵀ and attention·V move.

- fused (SDPA/FlashAttention; Dao et al. 2022, Algorithm 1): Q, K, V read once, O and the softmax's
  log-sum-exp (fp32, one per query row per head) written once; no T×T matrix leaves the chip.
- eager (unfused): QKᵀ writes the T×T scores, attention·V reads the probabilities back.

Every figure below is derived by hand for Llama-2-7B: L = 32 layers, H = H_kv = 32 heads of d = 128,
D = 4,096, F = 11,008, V = 32,000, bf16 activations and cache (2 bytes).
"""

import json
import textwrap
from fractions import Fraction

import pytest

import acct

L, H, d, D, F, V = 32, 32, 128, 4_096, 11_008, 32_000
T = 100_000  # a long prompt: Llama-2-7B's RoPE has no table to exceed
H100_BF16 = Fraction("989.4e12")
H100_BANDWIDTH = 3_350 * 10**9


def infer(cli, *argv):
    status, out, err = cli("infer", "llama-2-7b", "--hardware", "h100", *argv, "-f", "json")
    assert status == 0, err
    return json.loads(out)


def rows(data):
    return {row["name"]: row for row in data["roofline"]["rows"]}


# per layer, one sequence of T tokens, bytes
Q = O = K = V_CACHE = T * H * d * 2  # 819,200,000 each: T rows × 32 heads × 128 × 2 bytes
LSE = T * H * 4  # 12,800,000: one fp32 per query row per head
SCORES = H * T * T * 2  # 640,000,000,000: the T×T scores of 32 heads in bf16
NORMS = Fraction((2 * L + 1) * D * 2, H100_BANDWIDTH)  # the norms' weights, read at any T: memory-bound


def test_prefill_bytes_of_both_kernels_by_hand(cli):
    assert (Q, LSE, SCORES) == (819_200_000, 12_800_000, 640_000_000_000)
    fused, eager = rows(infer(cli, "--prompt", str(T))), rows(infer(cli, "--prompt", str(T), "--attention", "eager"))
    # fused: QKᵀ reads Q and K and writes the log-sum-exp; attention·V reads V and writes O
    assert fused["attn_scores"]["prefill"]["bytes"] == L * (Q + K + LSE) == 52_838_400_000
    assert fused["attn_values"]["prefill"]["bytes"] == L * (V_CACHE + O) == 52_428_800_000
    # eager: QKᵀ writes the scores instead of the LSE; attention·V reads the probabilities too
    assert eager["attn_scores"]["prefill"]["bytes"] == L * (Q + K + SCORES) == 20_532_428_800_000
    assert eager["attn_values"]["prefill"]["bytes"] == L * (SCORES + V_CACHE + O) == 20_532_428_800_000
    # the K and V read are the cache in both
    for kernel in (fused, eager):
        assert kernel["attn_scores"]["prefill"]["kv_cache_bytes"] == L * K
    # no other row moves a byte more or less
    assert {name: row["prefill"] for name, row in fused.items() if not name.startswith("attn_")} == \
        {name: row["prefill"] for name, row in eager.items() if not name.startswith("attn_")}


def test_decode_bytes_of_both_kernels_by_hand(cli):
    t = T + 1  # the first decode step attends to P + 1 keys; one query row
    fused = rows(infer(cli, "--prompt", str(T)))
    eager = rows(infer(cli, "--prompt", str(T), "--attention", "eager"))
    q = o = H * d * 2  # 8,192
    k = v = t * H * d * 2
    assert fused["attn_scores"]["decode_first"]["bytes"] == L * (q + k + H * 4)  # q, K and the LSE (32 × 4)
    assert fused["attn_values"]["decode_first"]["bytes"] == L * (v + o)
    assert eager["attn_scores"]["decode_first"]["bytes"] == L * (q + k + H * t * 2)  # t scores per head
    assert eager["attn_values"]["decode_first"]["bytes"] == L * (H * t * 2 + v + o)
    assert fused["attn_scores"]["decode_first"]["bytes"] == 32 * (8_192 + 819_208_192 + 128) == 26_214_928_384


def test_ttft_and_bound_at_100000_tokens(cli):
    # forward FLOPs at T = 100,000, per layer: Q, K, V, O 8·T·D², the FFN 6·T·D·F, QKᵀ and attention·V
    # 2·2·T²·D; the LM head 2·T·D·V once
    attention = L * 4 * T * T * D
    total = L * (8 * T * D * D + 6 * T * D * F) + attention + 2 * T * D * V
    assert (total, attention) == (6_564_295_475_200_000, 5_242_880_000_000_000)
    fused = infer(cli, "--prompt", str(T))
    eager = infer(cli, "--prompt", str(T), "--attention", "eager")
    assert fused["roofline"]["attention_kernel"] == "sdpa" and eager["roofline"]["attention_kernel"] == "eager"
    for data in (fused, eager):
        assert data["roofline"]["phases"]["prefill"]["flops"] == total
    # fused, every matrix multiply is compute-bound (QKᵀ: 2·T²·H·d FLOPs over ~1.65 GB per layer,
    # ~50,000 per byte against a ridge of 295), and the 65 norms read their 4,096 bf16 weights:
    # TTFT = FLOPs ÷ peak + 532,480 bytes ÷ bandwidth = 6.63 s
    ttft = Fraction(fused["roofline"]["seconds"]["time_to_first_token"])
    assert ttft == Fraction(total) / H100_BF16 + NORMS and round(ttft, 2) == Fraction("6.63")
    assert fused["roofline"]["phases"]["prefill"]["bound"] == "compute"
    assert fused["roofline"]["phases"]["prefill"]["bytes"] == 625_413_087_232
    # eager, the two products turn memory-bound on 2 × 32 × (640 GB + 1.64 GB) of scores and Q, K, V,
    # O: the rest of the FLOPs at the peak plus those bytes at 3.35 TB/s, 1.34 s + 12.26 s = 13.6 s
    moved = 2 * L * (SCORES + Q + K)
    ttft = Fraction(eager["roofline"]["seconds"]["time_to_first_token"])
    assert ttft == Fraction(total - attention) / H100_BF16 + Fraction(moved, H100_BANDWIDTH) + NORMS
    assert round(ttft, 1) == Fraction("13.6") and round(Fraction(moved, H100_BANDWIDTH), 1) == Fraction("12.3")
    assert eager["roofline"]["phases"]["prefill"]["bound"] == "memory"
    # the phases' bytes differ by the scores written and read back, less the LSE fused writes
    assert eager["roofline"]["phases"]["prefill"]["bytes"] - fused["roofline"]["phases"]["prefill"]["bytes"] == \
        L * (2 * SCORES - LSE) == 40_959_590_400_000


def test_the_report_names_the_kernel_and_its_formulas(cli):
    status, out, err = cli("infer", "llama-2-7b", "--hardware", "h100")
    assert status == 0, err
    assert "Attention: fused (SDPA/FlashAttention: the T×T scores stay on chip)." in out
    assert "Dao et al. 2022" in out and "log-sum-exp (B·H·m, fp32: 4 bytes each)" in out
    status, out, err = cli("infer", "llama-2-7b", "--hardware", "h100", "--attention", "eager")
    assert "Attention: unfused (eager: the T×T scores are written and read back)." in out
    assert "writes the scores (B·H·m·keys), attention·V reads the probabilities (B·H·m·keys)" in out
    # without --hardware no roofline, so no kernel to state
    status, out, err = cli("infer", "llama-2-7b")
    assert status == 0 and "Attention:" not in out


def test_the_api_keyword_is_the_option():
    model = acct.load("llama-2-7b")
    for kernel, fused in (("sdpa", 1), ("eager", 0)):
        data = model.infer(hardware="h100", prompt=T, attention=kernel).to_dict()
        same = model.with_(hardware="h100", set={"attention_fused": fused}).infer(prompt=T).to_dict()
        assert data["roofline"] == same["roofline"] and data["roofline"]["attention_kernel"] == kernel
    assert model.infer(hardware="h100", prompt=T).to_dict()["roofline"]["attention_kernel"] == "sdpa"  # the default


def test_sweep_and_solve_take_attention_fused_as_an_input(cli):
    status, out, err = cli("sweep", "llama-2-7b", "--hardware", "h100", "--weights", "bf16", "--set",
                           f"context_length={T}", "--vary", "attention_fused=0,1", "--output", "infer.ttft",
                           "-f", "json")
    assert status == 0, err
    points = {point["inputs"]["attention_fused"]: Fraction(point["outputs"]["infer.ttft"])
              for point in json.loads(out)["points"]}
    attention = L * 4 * T * T * D
    total = 6_564_295_475_200_000
    assert points[1] == Fraction(total) / H100_BF16 + NORMS
    assert points[0] == Fraction(total - attention) / H100_BF16 + Fraction(2 * L * (SCORES + Q + K),
                                                                           H100_BANDWIDTH) + NORMS
    # the longest prompt whose prefill takes at most a second: longer with the fused kernel
    answers = {}
    for fused in (0, 1):
        status, out, err = cli("solve", "llama-2-7b", "--hardware", "h100", "--weights", "bf16", "--largest",
                               "context_length", "--where", "infer.ttft <= 1", "--set", f"attention_fused={fused}",
                               "-f", "json")
        assert status == 0, err
        answer = json.loads(out)
        assert Fraction(answer["value_at_answer"]) <= 1 < Fraction(answer["value_at_next"])
        answers[fused] = answer["answer"]
    assert answers == {0: 23_549, 1: 32_630}


def test_windowed_and_latent_attention_take_both_kernels(cli):
    # sliding-window layers (Gemma-2) and MLA's products state their keys as the shape's k or n too
    for preset in ("gemma-2-2b", "deepseek-v2-lite"):
        for kernel in ("sdpa", "eager"):
            status, out, err = cli("infer", preset, "--hardware", "h100", "--prompt", "8192", "--generate", "16",
                                   "--attention", kernel, "-f", "json")
            assert status == 0, (preset, kernel, err)
    # Gemma-2-2B at an 8,192-token prompt: 13 layers attend to all keys, 13 to a window of W = 4,096;
    # 8 heads. Eager writes 8 × 8,192 × keys scores per layer (bf16) where fused writes 8 × 8,192 fp32
    # log-sum-exps: the window caps the local layers' scores
    bytes_of = {}
    for kernel in ("sdpa", "eager"):
        data = json.loads(cli("infer", "gemma-2-2b", "--hardware", "h100", "--prompt", "8192", "--attention", kernel,
                              "-f", "json")[1])
        bytes_of[kernel] = {name: row["prefill"]["bytes"] for name, row in rows(data).items()}
    for name, keys in (("attn_scores", 8_192), ("attn_scores_local", 4_096)):
        assert bytes_of["eager"][name] - bytes_of["sdpa"][name] == 13 * (8 * 8_192 * keys * 2 - 8 * 8_192 * 4)
    for name, keys in (("attn_values", 8_192), ("attn_values_local", 4_096)):
        assert bytes_of["eager"][name] - bytes_of["sdpa"][name] == 13 * 8 * 8_192 * keys * 2


# -- errors: one line, naming the option or the cell ------------------------------------------------


def one_line(status, out, err):
    assert status == 1 and out == "", err
    assert err.startswith("acct: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("argv, message", [
    (["--hardware", "h100", "--set", "attention_fused=2"],
     "--set attention_fused: attention_fused is 1 (a fused kernel: --attention sdpa) or 0 (--attention eager), "
     "got 2"),
    (["--hardware", "h100", "--set", "attention_fused=-1"], "--set attention_fused: attention_fused must be at "
                                                            "least 0, got -1"),
    (["--hardware", "h100", "--set", "attention_fused=1/2"], "--set attention_fused"),
    (["--attention", "eager"], "--attention chooses the attention traffic of the roofline, which needs --hardware"),
    (["--hardware", "h100", "--attention", "eager", "--set", "attention_fused=1"],
     "--attention and --set attention_fused both choose the attention kernel; give one of them"),
    (["--set", "attention_fused=0"], "--set attention_fused: this command does not report what reads it"),
])
def test_bad_kernel_choices_are_one_line(cli, argv, message):
    err = one_line(*cli("infer", "llama-2-7b", *argv))
    assert message in err, err


def test_an_unknown_kernel_is_a_usage_error(cli):
    status, out, err = cli("infer", "llama-2-7b", "--hardware", "h100", "--attention", "flash")
    assert status == 2 and out == ""
    assert "argument --attention: invalid choice: 'flash' (choose from 'sdpa', 'eager')" in err


def test_sweep_refuses_a_kernel_that_is_neither(cli):
    err = one_line(*cli("sweep", "llama-2-7b", "--hardware", "h100", "--vary", "attention_fused=2,3",
                        "--output", "infer.ttft"))
    assert "--vary attention_fused: attention_fused is 1 (a fused kernel: --attention sdpa) or 0 " \
        "(--attention eager), got 2" in err


@pytest.mark.parametrize("keywords, message", [
    (dict(hardware="h100", attention="flash"), "infer(attention=...): unknown attention kernel 'flash'; known: sdpa"),
    (dict(hardware="h100", attention=["eager"]), "infer(attention=...): unknown attention kernel ['eager']"),
    (dict(attention="eager"), "infer(attention=...) chooses the attention traffic of the roofline, which needs --hardware"),
])
def test_the_api_refuses_a_bad_kernel(keywords, message):
    with pytest.raises(acct.AcctError) as raised:
        acct.load("llama-2-7b").infer(**keywords)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_product_over_the_sequence_must_say_which_side_is_the_keys(cli, tmp_path):
    """A plugin's attention_product whose shape reads context_length in neither k nor n: acct cannot
    tell which matrix a fused kernel keeps on chip, and says so rather than count either."""
    path = tmp_path / "odd_attention.py"
    path.write_text(textwrap.dedent("""
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="odd_scores", slot="attention", variant="odd", group="attention",
                                    params=0, flops="2 * context_length * d_head * d_head * num_heads",
                                    shape=("context_length", "d_head", "d_head"), batch="num_heads",
                                    attention_product=True, per_layer=True, flops_decode="2 * d_head * d_head"))
    """))
    err = one_line(*cli("infer", "llama-2-7b", "-p", str(path), "--variant", "attention=odd", "--hardware", "h100"))
    assert "component 'odd_scores': an attention_product's shape (m, k, n) must read context_length in exactly " \
           "one of k and n" in err
