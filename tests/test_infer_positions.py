"""Inference stays inside the model (issue #20, item 3): prompt and generated tokens must fit a learned
position table, in acct infer, sweep, solve and the API; a model without a table has no such limit.

The count: the k-th generated token is sampled from a forward over P + k − 1 positions (the first from
the prefill over P) and the last is never fed back, so G tokens need P + G − 1 positions. That is where
transformers' MaxLengthCriteria warns (a forward past max_position_embeddings is about to run); a
1,024-position GPT-2 takes a 1,024-token prompt and returns one token. With G = 1, the default, the
check is the prompt's own, so nothing outside generation changes.
"""

import json

import pytest

import acct

GPT2 = "openai-gpt2-small"  # learned positions: n_positions = 1,024


def one_line_error(status, out, err):
    assert status == 1 and out == "", err
    assert err.startswith("acct: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_infer_refuses_a_generation_past_the_learned_table(cli):
    # 1,000 + 100 − 1 = 1,099 positions: 75 more than GPT-2's 1,024
    err = one_line_error(*cli("infer", GPT2, "--hardware", "h100", "--prompt", "1000", "--generate", "100"))
    assert err == ("acct: error: --prompt, --generate: a prompt of 1,000 and 100 generated tokens (P + G − 1 "
                   "positions) do not fit the 1,024 learned positions\n")
    # without --hardware too: the KV cache after P + G tokens is as much outside the model
    err = one_line_error(*cli("infer", GPT2, "--generate", "2"))  # the preset's prompt is 1,024 tokens
    assert "--generate: a prompt of 1,024 and 2 generated tokens (P + G − 1 positions) do not fit the 1,024 " \
        "learned positions" in err


@pytest.mark.parametrize("prompt, generate", [(1000, 25), (1024, 1), (1, 1024)])
def test_a_generation_that_ends_on_the_last_position_is_answered(cli, prompt, generate):
    # P + G − 1 = 1,024 exactly: the last forward reads position 1,024 of 1,024
    status, out, err = cli("infer", GPT2, "--hardware", "h100", "--prompt", str(prompt), "--generate", str(generate),
                           "-f", "json")
    assert status == 0, err
    data = json.loads(out)
    assert (data["context_length"], data["generate"]) == (prompt, generate)


def test_the_prompt_alone_still_meets_its_own_check(cli):
    err = one_line_error(*cli("infer", GPT2, "--prompt", "1025"))
    assert "--prompt: 1,025 tokens do not fit the 1,024 learned positions" in err


def test_rope_and_no_position_models_have_no_table_to_fit(cli):
    # Llama-2-7B (RoPE) at 100,000 + 100,000 tokens, far past its 4,096-token training context
    status, out, err = cli("infer", "llama-2-7b", "--prompt", "100000", "--generate", "100000", "-f", "json")
    assert status == 0, err
    # K and V, 32 layers × 4,096 wide × 2 bytes, for 200,000 tokens (the cache after P + G)
    assert json.loads(out)["memory"]["kv_cache"] == 200_000 * 2 * 32 * 4_096 * 2
    # NoPE: the CS336 GPT-2 Small shape without positions, far past 1,024 tokens
    status, _, err = cli("infer", "gpt2-small", "--variant", "position=none", "--prompt", "5000", "--generate", "100")
    assert status == 0, err


def test_solve_does_not_answer_past_the_table(cli):
    # the largest generate under a memory bound GPT-2 never reaches: the search meets the table first
    # (1,000 + 33 − 1 = 1,032 > 1,024) and says so, where it answered 2,159,619 tokens
    # (1,000 + 26 − 1 = 1,025 > 1,024): the search runs over the values the model accepts, 1 to 25, and
    # answers the last, where it answered 2,159,619 tokens
    status, out, err = cli("solve", GPT2, "--largest", "generate", "--where", "infer.memory <= 80GB",
                           "--set", "context_length=1000", "-f", "json")
    data = json.loads(out)
    assert (status, data["answer"], data["next"]) == (0, 25, None)
    assert data["searched"] == {"values": list(range(1, 26))}
    # under the table the answer stands. infer.memory at P = 1,000: the weights, 124,439,808 × 2 bytes =
    # 248,879,616; the workspace, the tied LM head's input and output, 1,000 × (768 + 50,257) × 2 =
    # 102,050,000; the KV cache, 12 layers × 2 × 768 × 2 = 36,864 bytes per token for 1,000 + G tokens:
    # 387,793,616 + 36,864·G, which is 388,162,256 at G = 10
    bound = 248_879_616 + 102_050_000 + 36_864 * (1_000 + 10)
    status, out, err = cli("solve", GPT2, "--largest", "generate", "--where", f"infer.memory <= {bound}",
                           "--set", "context_length=1000", "-f", "json")
    assert status == 0, err
    data = json.loads(out)
    assert (data["answer"], data["value_at_answer"], data["value_at_next"]) == (10, bound, bound + 36_864)


def test_sweep_refuses_a_point_past_the_table(cli):
    # the point past the table is left out, and the sweep says why
    status, out, err = cli("sweep", GPT2, "--vary", "generate=1,25,26", "--set", "context_length=1000",
                           "--output", "infer.memory")
    points = [line.split("|")[1].strip() for line in out.splitlines() if line.startswith("|")][2:]
    assert status == 0 and points == ["1", "25"]
    assert ("1 of the 3 points is left out: the model refuses it, as acct train would (generate=26: a prompt of "
            "1,000 and 26 generated tokens (P + G − 1 positions) do not fit the 1,024 learned positions)") in out
    err = one_line_error(*cli("sweep", GPT2, "--vary", "generate=26,27", "--set", "context_length=1000",
                              "--output", "infer.memory"))
    assert "sweep: the model refuses every point; at generate=26: " in err
    status, out, err = cli("sweep", GPT2, "--vary", "generate=1,25", "--set", "context_length=1000",
                           "--output", "infer.memory", "-f", "json")
    assert status == 0, err


def test_the_api_refuses_it_too():
    model = acct.load(GPT2)
    with pytest.raises(acct.AcctError, match=r"a prompt of 1,000 and 100 generated tokens \(P \+ G − 1 positions\) "
                                             r"do not fit the 1,024 learned positions"):
        model.infer(hardware="h100", prompt=1000, generate=100)
    assert model.infer(hardware="h100", prompt=1000, generate=25).to_dict()["generate"] == 25


def test_training_reads_no_generation(cli):
    # a training run at the full table, and a solve over the context, are as before: G plays no part
    status, _, err = cli("run", GPT2, "--set", "context_length=1024")
    assert status == 0, err
    # the search stops at the table: 1,024 is the last context the model accepts
    status, out, err = cli("solve", "openai-gpt2-xl", "--largest", "context_length", "--where",
                           "memory.peak <= 1PB", "-f", "json")
    data = json.loads(out)
    assert (status, data["answer"], data["next"]) == (0, 1_024, None)
    assert data["searched"] == {"start": 1, "step": 1, "last": 1_024}


def test_the_report_states_the_count(cli):
    status, out, err = cli("infer", GPT2, "--prompt", "1000", "--generate", "25")
    assert status == 0, err
    assert ("a learned position table holds the longest forward of the generation, P + G − 1 positions: the k-th "
            "generated token comes from a forward over P + k − 1, and the last is never fed back (checked: "
            "spare_positions_while_generating)") in out
    status, out, err = cli("infer", "llama-2-7b", "--prompt", "1000", "--generate", "25")
    assert status == 0 and "P + G − 1" not in out  # RoPE: no table, nothing checked
