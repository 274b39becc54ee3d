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
