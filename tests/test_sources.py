"""Numbers acct must give as their sources publish them: each convention's N against its paper
(tied and untied heads), PaLM's 46.2% MFU, and Korthikanti et al.'s hardware FLOPs utilization.

Every expected number is the paper's formula written out here over the model's shape, never
acct's own output."""

import json
from fractions import Fraction

from conftest import PRESETS


def conventions(cli, preset, *argv):
    """convention name -> (forward, training) FLOPs of one step, from `acct conventions`."""
    status, out, err = cli("conventions", str(PRESETS / f"{preset}.toml"), *argv, "-f", "json")
    assert status == 0, err
    return {c["name"]: (Fraction(c["forward"]), Fraction(c["training"])) for c in json.loads(out)["conventions"]}


# -- PaLM: N is every parameter ---------------------------------------------------------------

# PaLM 540B (Chowdhery et al. 2022, §2 and Table 1): parallel block with one gain-only LayerNorm,
# multi-query attention (one K and V head), heads of Q = 256, SwiGLU F = 4D, tied, no biases
PALM_L, PALM_D, PALM_H, PALM_Q, PALM_V, PALM_T = 118, 18_432, 48, 256, 256_000, 2_048
PALM_F = 4 * PALM_D
PALM_BLOCK = (PALM_D * PALM_H * PALM_Q  # W_Q
              + 2 * PALM_D * PALM_Q  # the one K and one V head
              + PALM_H * PALM_Q * PALM_D  # W_O
              + 3 * PALM_D * PALM_F  # SwiGLU's three matrices
              + PALM_D)  # the block's one LayerNorm, gain only
PALM_N = PALM_L * PALM_BLOCK + PALM_V * PALM_D + PALM_D  # blocks, the shared embedding, the final norm


def test_palm_540b_has_the_papers_parameters(cli):
    assert PALM_N == 540_356_474_880  # Table 1: 540.35B
    status, out, err = cli("run", str(PRESETS / "palm-540b.toml"), "-f", "json")
    assert status == 0, err
    assert json.loads(out)["totals"]["params"] == PALM_N


def test_palm_540b_flops_per_token_and_its_published_mfu(cli):
    """Appendix B: 6N + 12·L·H·Q·T per token, N every parameter (the shared embedding included);
    238.3K tokens/s on 6144 TPU v4 chips at 275 TFLOP/s (bf16) is 46.2% MFU."""
    per_token = 6 * PALM_N + 12 * PALM_L * PALM_H * PALM_Q * PALM_T
    assert per_token == 3_277_773_656_064
    _, training = conventions(cli, "palm-540b")["palm"]
    assert training == per_token * PALM_T  # one sequence of T tokens per step (batch_size 1)

    def mfu(flops_per_token):
        return Fraction(238_300) * flops_per_token / (6_144 * 275 * 10**12)

    assert round(mfu(training / PALM_T), 3) == Fraction(462, 1000)
    # N without the embedding, acct's count before, would make the published 46.2% a 45.8%
    without_embedding = per_token - 6 * PALM_V * PALM_D
    assert round(mfu(without_embedding), 3) == Fraction(458, 1000)


# -- every convention's N, tied and untied -----------------------------------------------------

# OpenAI's GPT-2 Small as released: tied, learned positions, LayerNorm, biases, GELU 4D
G_V, G_T, G_L, G_D, G_H = 50_257, 1_024, 12, 768, 12
G_BLOCK = (3 * G_D * G_D + 3 * G_D  # QKV and their biases
           + G_D * G_D + G_D  # W_O and its bias
           + 2 * G_D * 4 * G_D + 4 * G_D + G_D  # the FFN's two matrices and biases
           + 2 * 2 * G_D)  # two LayerNorms, gain and bias
G_TABLES = G_V * G_D + G_T * G_D  # token and position tables
G_PARAMS = G_TABLES + G_L * G_BLOCK + 2 * G_D  # and the final LayerNorm


def test_gpt2_small_tied_every_convention_by_hand(cli):
    assert G_PARAMS == 124_439_808  # the published count
    T, L, D, V, H = G_T, G_L, G_D, G_V, G_H
    # acct's matmuls of one sequence: QKV, QKᵀ, attention·V, W_O, the FFN's two, and the (tied) head
    matmul = L * (2 * T * D * 3 * D + 2 * 2 * T * T * D + 2 * T * D * D + 2 * 2 * T * D * 4 * D) + 2 * T * D * V
    kaplan_n = G_PARAMS - G_TABLES  # Kaplan: no token or position table, no head (tied: its weight is the table)
    palm_n = G_PARAMS  # PaLM: all of them
    bracket = 1 + Fraction(T, 6 * D) + Fraction(V, 12 * L * D)
    found = conventions(cli, "openai-gpt2-small")
    assert found["matmul"] == (matmul, 3 * matmul)
    assert found["kaplan"] == ((2 * kaplan_n + 2 * L * T * D) * T, 3 * (2 * kaplan_n + 2 * L * T * D) * T)
    assert found["palm"] == ((2 * palm_n + 4 * L * H * (D // H) * T) * T, (6 * palm_n + 12 * L * H * (D // H) * T) * T)
    chinchilla = matmul + 2 * T * V * D + 3 * L * H * T * T
    assert found["chinchilla"] == (chinchilla, 3 * chinchilla)
    assert found["megatron"] == (24 * T * L * D * D * bracket, 72 * T * L * D * D * bracket)
    # GPT-2 as released is Megatron's 4h GELU shape: its formula is the matmul count exactly
    assert found["megatron"][0] == matmul


def test_untying_the_head_moves_only_palms_n(cli):
    """The same GPT-2 Small with its own D×V head: the matmuls (and so chinchilla and megatron, whose
    logit term counts the head either way) and Kaplan's N (the de-embedding is never in it) do not
    move; PaLM's N gains the head's V·D weights: 6·V·D more per token."""
    tied = conventions(cli, "openai-gpt2-small")
    untied = conventions(cli, "openai-gpt2-small", "--variant", "lm_head=untied")
    for name in ("matmul", "macs", "causal", "kaplan", "chinchilla", "megatron", "megatron_recompute"):
        assert untied[name] == tied[name], name
    assert untied["palm"][1] - tied["palm"][1] == 6 * G_V * G_D * G_T


def test_llama_2_7b_untied_kaplan_and_palm_by_hand(cli):
    """Llama-2-7B: untied, RoPE (no position table), SwiGLU, RMSNorm, no biases."""
    V, T, L, D, H, F = 32_000, 4_096, 32, 4_096, 32, 11_008
    block = 4 * D * D + 3 * D * F + 2 * D
    params = V * D + L * block + D + D * V  # token table, blocks, final norm, untied head
    assert params == 6_738_415_616
    found = conventions(cli, "llama-2-7b")
    kaplan_n = params - 2 * V * D  # the blocks and the final norm: neither the table nor the head
    assert found["kaplan"][0] == (2 * kaplan_n + 2 * L * T * H * (D // H)) * T
    assert found["palm"][1] == (6 * params + 12 * L * H * (D // H) * T) * T


# -- per-GPU parameters under tensor parallelism, as Megatron-LM splits its layers -------------

def per_gpu_weights(cli, preset, *layout):
    """(first stage, last stage) parameters on the most loaded GPU: bf16 weight bytes ÷ 2."""
    status, out, err = cli("train", str(PRESETS / f"{preset}.toml"), *layout, "--precision", "mixed", "-f", "json")
    assert status == 0, err
    weights = json.loads(out)["per_gpu"]["memory_bytes"]["weights"]
    return Fraction(weights["first_stage"], 2), Fraction(weights["last_stage"], 2)


def megatron_layer(D, F, t):
    """One GPT-2-style block (biases, LayerNorm, GELU) on one of t tensor-parallel ranks, as Megatron's
    layers hold it: QKV and fc1 are ColumnParallelLinear (weight and bias split), out_proj and fc2
    RowParallelLinear (weight split, bias whole on every rank), the two LayerNorms whole."""
    column = (3 * D * D + 3 * D + D * F + F) / Fraction(t)
    row = (D * D + F * D) / Fraction(t) + D + D
    norms = 2 * 2 * D
    return column + row + norms


def test_gpt3_175b_per_gpu_at_tp8_pp8(cli):
    """96 layers over 8 stages: 12 per stage. The token table is vocabulary-parallel (÷ 8) on the first
    stage, the learned position table a plain torch.nn.Embedding, whole on every rank."""
    V, T, L, D, t, p = 50_257, 2_048, 96, 12_288, 8, 8
    layers = megatron_layer(D, 4 * D, t) * (L // p)
    first = layers + Fraction(V * D, t) + T * D
    last = layers + 2 * D  # the final LayerNorm; the tied head adds no parameters
    assert (first, last) == (2_821_283_328, 2_718_947_328)
    assert per_gpu_weights(cli, "gpt3-175b", "--tp", "8", "--pp", "8", "--gpus", "64") == (first, last)
    # what dividing every matrix and table by t left out: 7/8 of the position table, and 7/8 of the
    # two row-parallel biases of each of the stage's 12 layers
    assert T * D * 7 // 8 == 22_020_096 and 12 * 2 * D * 7 // 8 == 258_048


def test_gpt2_medium_per_gpu_at_tp4_pp2(cli):
    V, T, L, D, t, p = 50_257, 1_024, 24, 1_024, 4, 2
    layers = megatron_layer(D, 4 * D, t) * (L // p)
    first = layers + Fraction(V * D, t) + T * D
    last = layers + 2 * D
    assert (first, last) == (51_758_336, 37_846_016)
    assert per_gpu_weights(cli, "openai-gpt2-medium", "--tp", "4", "--pp", "2", "--gpus", "8") == (first, last)


def test_phi_2_per_gpu_at_tp4_column_parallel_head_bias_splits(cli):
    """Phi-2 (one stage): a parallel block with one LayerNorm, RoPE (no table), and an untied head
    with a bias, a ColumnParallelLinear: its bias splits with its weight."""
    V, L, D, F, t = 51_200, 32, 2_560, 10_240, 4
    layer = megatron_layer(D, F, t) - 2 * D  # one LayerNorm, not two
    total = L * layer + Fraction(V * D, t) + 2 * D + Fraction(D * V + V, t)
    assert total == 695_170_560
    assert per_gpu_weights(cli, "phi-2", "--tp", "4", "--gpus", "4") == (total, total)


def test_mixtral_router_is_whole_on_every_tp_rank(cli):
    """Mixtral-8x7B at tp 2: Megatron's TopKRouter keeps its D×E weight as a plain parameter, whole on
    every rank, as it does the RMSNorms; the attention, the experts, the table and the head split."""
    V, L, D, H, H_kv, d, F, E, t = 32_000, 32, 4_096, 32, 8, 128, 14_336, 8, 2
    layer = ((D * H * d + 2 * D * H_kv * d + H * d * D) / Fraction(t)  # Q, K, V, W_O
             + D * E  # the router, whole
             + Fraction(E * 3 * D * F, t)  # the experts' SwiGLUs
             + 2 * D)  # two RMSNorms, whole
    total = L * layer + Fraction(V * D, t) + Fraction(D * V, t) + D
    assert total == 23_352_053_760
    # half the published 46,702,792,704, plus the halves of what stays whole: routers and norms
    assert total == 46_702_792_704 / Fraction(2) + (L * D * E + L * 2 * D + D) / Fraction(2)
    status, out, err = cli("train", str(PRESETS / "mixtral-8x7b.toml"), "--tp", "2", "--gpus", "2", "-f", "json")
    assert status == 0, err
    assert json.loads(out)["per_gpu"]["params"] == total


# -- Korthikanti et al. 2022: model and hardware FLOPs utilization -----------------------------

# Table 5 (selective recomputation with sequence parallelism), A100 at 312 TFLOP/s, s = 2048,
# V = 51,200: (name, l, h, heads, GPUs = B, iteration seconds, published MFU, published HFU)
KORTHIKANTI = (
    ("175B", 96, 12_288, 96, 64, Fraction("13.75"), Fraction("0.514"), Fraction("0.528")),
    ("530B", 105, 20_480, 128, 280, Fraction("37.83"), Fraction("0.560"), Fraction("0.570")),
)
KORTHIKANTI_S, KORTHIKANTI_V, A100 = 2_048, 51_200, 312 * 10**12


def test_korthikanti_hfu_reproduces_table_5(cli):
    """Model FLOPs 72·B·s·l·h²·(1 + s/6h + V/12lh) and, with selective recomputation, hardware FLOPs
    72·B·s·l·h²·(1 + s/3h + V/12lh), over GPUs × seconds × peak: the published MFU and HFU."""
    s, V = KORTHIKANTI_S, KORTHIKANTI_V
    for name, l, h, heads, B, seconds, mfu, hfu in KORTHIKANTI:
        model = 72 * B * s * l * h * h * (1 + Fraction(s, 6 * h) + Fraction(V, 12 * l * h))
        hardware = 72 * B * s * l * h * h * (1 + Fraction(s, 3 * h) + Fraction(V, 12 * l * h))
        assert hardware - model == 12 * B * s * s * h * l  # 12·B·s²·h per layer
        found = conventions(cli, "gpt3-175b", "--set", f"vocab_size={V}", "--set", f"num_layers={l}",
                            "--set", f"d_model={h}", "--set", f"num_heads={heads}", "--set", f"batch_size={B}")
        assert found["megatron"][1] == model, name
        assert found["korthikanti_hfu"][1] == hardware, name
        # B GPUs (one sequence each), `seconds` per iteration
        assert round(model / (B * seconds * A100), 3) == mfu, name
        assert round(hardware / (B * seconds * A100), 3) == hfu, name


def test_acct_selective_recompute_adds_one_forward_of_the_attention_products(cli):
    """acct's own count for the 175B run of Table 5: the matmuls (Megatron's shape, so its model
    FLOPs exactly) plus one forward of QKᵀ and attention·V per layer, 4·B·s²·h: 51.8% HFU where the
    paper's count, 12·B·s²·h, gives 52.8%."""
    _, l, h, heads, B, seconds, _, _ = KORTHIKANTI[0]
    s, V = KORTHIKANTI_S, KORTHIKANTI_V
    status, out, err = cli("train", str(PRESETS / "gpt3-175b.toml"), "--set", f"vocab_size={V}",
                           "--global-batch", str(B), "--tp", "8", "--pp", "8", "--gpus", "64", "--micro-batch", "1",
                           "--recompute", "selective", "--hardware", "a100", "--precision", "mixed", "-f", "json")
    assert status == 0, err
    data = json.loads(out)
    model = 72 * B * s * l * h * h * (1 + Fraction(s, 6 * h) + Fraction(V, 12 * l * h))
    assert data["flops"]["forward_backward"] == model
    recompute = 4 * B * s * s * h * l
    assert data["time"]["flops_recompute_per_step"] == recompute == 1_266_637_395_197_952
    assert round((model + recompute) / (B * seconds * A100), 3) == Fraction("0.518")
