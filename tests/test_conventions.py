"""Named counting conventions side by side, and the opt-in non-matmul FLOPs."""

import json
from fractions import Fraction


from conftest import PRESETS

XL = str(PRESETS / "gpt2-xl.toml")
V, T, L, D, H, F = 50_257, 1_024, 48, 1_600, 25, 6_400
MATMUL = 4_513_336_524_800
ATTENTION = L * 4 * T * T * D  # QKᵀ + attention·V, all layers
PARAMS = 2_127_057_600
# Kaplan's N: the token table and the untied head (Table 1's de-embedding, left out of C_forward) both out
NONEMBEDDING = PARAMS - V * D - D * V


def conventions(cli, *argv):
    status, out, err = cli("conventions", *argv, "-f", "json")
    assert status == 0, err
    return {c["name"]: (Fraction(c["forward"]), Fraction(c["training"])) for c in json.loads(out)["conventions"]}


def test_every_convention_by_hand(cli):
    found = conventions(cli, XL)
    bracket = lambda k: 1 + Fraction(T, 6 * D) + Fraction(V, k * L * D)  # noqa: E731
    expected = {
        "matmul": (MATMUL, 3 * MATMUL),
        "macs": (MATMUL // 2, 3 * MATMUL // 2),
        "causal": (MATMUL - ATTENTION // 2, 3 * (MATMUL - ATTENTION // 2)),
        "kaplan": ((2 * NONEMBEDDING + 2 * L * T * D) * T, 3 * (2 * NONEMBEDDING + 2 * L * T * D) * T),
        "chinchilla": (MATMUL + 2 * T * V * D + 3 * L * H * T * T, 3 * (MATMUL + 2 * T * V * D + 3 * L * H * T * T)),
        # PaLM's N is every parameter, the token table and the untied head included
        "palm": ((2 * PARAMS + 4 * L * H * (D // H) * T) * T, (6 * PARAMS + 12 * L * H * (D // H) * T) * T),
        "megatron": (24 * T * L * D * D * bracket(12), 72 * T * L * D * D * bracket(12)),
        "megatron_recompute": (24 * T * L * D * D * bracket(12), 96 * T * L * D * D * bracket(16)),
        # Korthikanti et al.'s hardware FLOPs with selective recomputation: s/3h where megatron has s/6h
        "korthikanti_hfu": (24 * T * L * D * D * bracket(12),
                            72 * T * L * D * D * (1 + Fraction(T, 3 * D) + Fraction(V, 12 * L * D))),
        "dense": (MATMUL, 3 * MATMUL),  # no windowed layer: the dense count is the matmul count
    }
    assert found == expected


def test_macs_is_exactly_half_and_causal_halves_attention_at_long_context(cli):
    found = conventions(cli, XL, "--set", "context_length=16384")
    matmul = 149_522_795_724_800
    attention = L * 4 * 16_384**2 * D
    assert found["matmul"][0] == matmul
    assert found["macs"][0] * 2 == matmul
    assert found["causal"][0] == matmul - Fraction(attention, 2) == 108_291_109_683_200


def test_megatron_matches_the_matmul_count_for_gpt2_as_released(cli):
    # Megatron's 24·s·l·h²·(1 + s/6h + V/12lh) is exactly the matmuls of a GELU, 4h FFN model
    found = conventions(cli, str(PRESETS / "openai-gpt2-xl.toml"))
    assert found["megatron"][0] == found["matmul"][0] == 3_506_703_564_800


def test_conventions_markdown_and_run_with_a_convention(cli):
    status, out, _ = cli("conventions", XL)
    assert "| macs               | 2,256,668,262,400 |  6,770,004,787,200 |             0.5000 |              0.5000 |" in out
    assert "Hoffmann et al. 2022" in out and "Narayanan et al. 2021" in out
    status, out, _ = cli("run", XL, "--convention", "kaplan")
    assert "## Under the kaplan convention" in out and "0.9279 × and 0.9279 × acct's matmul count" in out
    status, _, err = cli("run", XL, "--convention", "kaplna")
    assert status == 1 and "--convention: unknown convention 'kaplna' (did you mean kaplan?)" in err
    status, out, _ = cli("conventions", XL, "-f", "csv")
    assert out.splitlines()[0] == "convention,forward,training" and out.splitlines()[2] == "macs,2256668262400,6770004787200"


def test_non_matmul_flops_are_opt_in_and_per_component(cli):
    status, out, _ = cli("run", XL, "-f", "json")
    assert "flops_other" not in json.loads(out)["totals"]
    status, out, _ = cli("run", XL, "--non-matmul", "-f", "json")
    data = json.loads(out)
    rows = {row["name"]: row["flops_other"] for row in data["rows"]}
    assert rows["attn_scores"] == L * 6 * H * T * T  # softmax with scaling: 6 per score
    assert rows["block_norms"] == L * 2 * 4 * T * D  # two RMSNorms, 4 per element
    assert rows["final_norm"] == 4 * T * D
    assert rows["ffn_w1"] == L * 4 * T * F and rows["ffn_w3"] == L * T * F  # SiLU; the gate product
    assert rows["ffn_w2"] == rows["out_proj"] == L * T * D  # the residual adds
    assert rows["rope"] == 3 * L * T * (D + D)  # Q and K rotated
    assert rows["lm_head"] == 0 and rows["q_proj"] == 0
    assert data["totals"]["flops_other"] == sum(rows.values()) == 10_387_456_000
    assert data["totals"]["flops_forward"] == MATMUL  # the matmul count is unchanged


def test_gelu_and_layernorm_non_matmul(cli):
    status, out, _ = cli("run", str(PRESETS / "openai-gpt2-small.toml"), "--non-matmul", "-f", "json")
    rows = {row["name"]: row["flops_other"] for row in json.loads(out)["rows"]}
    assert rows["ffn_in"] == 12 * 9 * 1024 * 3072 and rows["block_norms"] == 12 * 2 * 7 * 1024 * 768
    assert rows["learned_positions"] == 0
