"""A red-team pass over the one layout path (issue #20): each case gave a refusal, a wrong answer or an
internal word where train gives a number; each is pinned here with the number derived by hand."""

from fractions import Fraction
from pathlib import Path

import pytest

import acct
from acct.errors import AcctError
from acct.reports import scaling


def test_a_sweep_over_two_layout_sizes_is_bounded_by_its_own_values():
    # dp = gpus / (tp·pp·cp) multiplies two varied inputs: with a 64-bit bound for each, the step time
    # "could reach 4,661 bits" and the sweep was refused blaming --hardware. Of the four points, train
    # takes (1, 1) and (2, 2); (1, 2) has dp = 1/2 and (2, 1) splits a batch of 1 over dp = 2
    model = acct.load("llama-3-8b", precision="mixed").with_(hardware="h100")
    data = model.sweep({"gpus": [1, 2], "tp": [1, 2]}, outputs=["gpu.time.step"]).to_dict()
    assert [point["inputs"] for point in data["points"]] == [{"gpus": 1, "tp": 1}, {"gpus": 2, "tp": 2}]
    assert data["refused"]["count"] == 2
    for point in data["points"]:
        layout = {"gpus": point["inputs"]["gpus"], "tp": point["inputs"]["tp"]}
        step = model.with_(set={k: str(v) for k, v in layout.items()}).value("gpu.time.step")
        assert Fraction(point["outputs"]["gpu.time.step"]) == step


def test_plan_tries_every_interleaving_it_enumerates():
    # 2 GPUs and 2 sequences: the bound of 2 bits refused v = 4..8, and plan named pp = 2, v = 3 the
    # fastest where v = 6 is faster (12 layers over 2 stages of 6 chunks: bubble (p − 1)/(v·m) = 1/12)
    report = acct.load("gpt2-small").plan(gpus=2, hardware="h100", global_batch=2, top=1000).report
    chunks = {(row.layout["pp"], row.layout["virtual_stages"]) for row in report.rows}
    assert chunks == {(1, 1), (2, 1), (2, 2), (2, 3), (2, 6)}
    best = report.rows[0]
    assert (best.layout["pp"], best.layout["virtual_stages"]) == (2, 6)
    assert best.bubble == best.compute * Fraction(1, 6 * 2)


def test_solve_finds_values_that_start_past_the_first_scan():
    # dp = 100,000: the global batches the model accepts are 100,000, 200,000, ...
    model = acct.load("llama-3-8b", precision="mixed", set={"gpus": 100_000}).with_(hardware="h100")
    data = model.solve("gpu.time.step >= 1", smallest="batch_size").to_dict()
    assert data["searched"] == {"start": 100_000, "step": 100_000} and data["answer"] % 100_000 == 0


def test_solve_searches_a_finite_set_whose_last_value_is_large():
    # the GPUs a batch of 65,536 divides over are the 17 powers of two up to 65,536: few, not a lattice
    model = acct.load("llama-3-8b", precision="mixed", set={"batch_size": 65536, "micro_batch": 1}).with_(
        hardware="h100")
    data = model.solve("gpu.time.step <= 100", smallest="gpus").to_dict()
    assert data["searched"] == {"values": [2 ** k for k in range(17)]}
    assert data["answer"] in data["searched"]["values"]


def test_a_preset_that_derives_gpus_from_dp_closes_no_cycle(cli, tmp_path):
    # gpus = "dp * tp" in the preset: gpus follows dp, so dp must not follow gpus (cycle gpus → dp → gpus)
    text = (Path(__file__).parent.parent / "presets" / "gpt2-small.toml").read_text()
    path = tmp_path / "derived.toml"
    path.write_text(text.replace("[model]\n", '[model]\ngpus = "dp * tp"\n', 1))
    status, out, err = cli("train", str(path), "--tp", "2", "--global-batch", "2")
    assert status == 0, err
    assert "Layout: gpus = 2, dp = 1, tp = 2," in out


@pytest.mark.parametrize("keywords, message", [
    (dict(tp=True), "--tp: a whole number, got True"),
    (dict(generate=True), "--generate: a whole number, got True"),
    (dict(batch=2.0), "--batch: a whole number, got 2.0"),
])
def test_infer_types_its_arguments_as_the_command_line(keywords, message):
    with pytest.raises(AcctError) as raised:
        acct.load("llama-2-7b").infer("h100", **keywords)
    assert str(raised.value) == message


def test_plan_and_train_type_their_layout_arguments():
    model = acct.load("llama-2-7b")
    with pytest.raises(AcctError, match=r"^--global-batch: a whole number from 1 to 16,777,216, got '2\*\*70'$"):
        model.plan(gpus=8, hardware="h100", global_batch="2**70")
    for keyword in ("dp", "tp", "zero"):  # False was taken as "not given"; only a flag may be off
        with pytest.raises(AcctError, match=f"^--{keyword}: a whole number, got False$"):
            model.train("h100", **{keyword: False})


def test_the_decimal_exponent_is_one_limit_in_one_sentence(cli):
    for argv in (["--set", "mfu=1e-400"], ["--mfu", "1e-400"]):
        status, out, err = cli("train", "gpt2-small", "--hardware", "h100", *argv)
        assert status == 1 and "the exponent in '1e-400' is too large" in err and "at most 40 in size" in err


def test_indexing_past_a_lazy_sweep_is_an_index_error(monkeypatch):
    monkeypatch.setattr(scaling, "KEEP_POINTS", 10)  # the lazy path, on a small grid
    points = acct.load("gpt2-small", set={"batch_size": "12"}).sweep({"gpus": range(1, 25)}).report.points
    assert [point[0][0] for point in points] == [1, 2, 3, 4, 6, 12]  # the divisors of 12
    assert points[-1][0] == (12,) and points[0][0] == (1,)
    for index in (len(points), -len(points) - 1):
        with pytest.raises(IndexError):
            points[index]


def test_a_refused_point_reads_without_the_options_every_point_shares(cli):
    status, out, err = cli("sweep", "gpt2-small", "--set", "batch_size=4", "--vary", "gpus=1..4+1")
    assert status == 0
    # the point's label says which value; the reason says why, once
    assert ("1 of the 4 points is left out: the model refuses it, as acct train would (gpus=3: a global batch "
            "of 4 does not split over dp = 3 data-parallel replicas") in out
