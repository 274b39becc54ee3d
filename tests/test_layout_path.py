"""One layout path (issue #20, item 1): a point of a sweep, an answer of solve, a layout of plan and a
run of train with the same inputs give the same numbers, whichever way each input was set (a flag,
--set, --vary, solved for, the Python API); a point train refuses is never printed as a number.

The layouts are drawn at random (hypothesis) over Llama-3-8B (32 heads, 32 layers, T = 8,192) on
H100s; each is run through every path and the paths must agree, value for value or refusal for
refusal. The engine's staged functions (what plan evaluates) are checked against the plain
compiled function and the interpreter over every layout plan enumerates."""

import json
from fractions import Fraction

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import acct  # noqa: E402
from acct.errors import AcctError  # noqa: E402
from acct.reports import plan as planning  # noqa: E402

MODEL = "llama-3-8b"
OUTPUTS = ("gpu.memory.peak", "gpu.time.step")
RECOMPUTE = ("none", "selective", "full")


@pytest.fixture(scope="module")
def llama():
    return acct.load(MODEL, precision="mixed")


def exact(number):
    """A JSON number of acct's: an int, or an exact fraction as the text 'a/b'."""
    return Fraction(number)


def train_api(llama, gpus, layout):
    """(peak, step) of Model.train, or the refusal's reason (without the options it names first,
    which each path names its own way: --gpus, --set gpus, --vary gpus)."""
    try:
        per_gpu = llama.train("h100", gpus=gpus, **layout).to_dict()["per_gpu"]
    except AcctError as error:
        return str(error).split(": ", 1)[1]
    return exact(per_gpu["peak_bytes"]), exact(per_gpu["time_seconds"]["step"])


def layout_set(layout):
    """The same layout as --set values (what a sweep or solve is given beside what it varies)."""
    names = {"tp": "tp", "pp": "pp", "cp": "cp", "zero": "zero_stage", "micro_batch": "micro_batch",
             "global_batch": "batch_size"}
    values = {names[key]: str(value) for key, value in layout.items() if key in names}
    values["recompute"] = str(RECOMPUTE.index(layout.get("recompute", "none")))
    return values


layouts = st.fixed_dictionaries({
    "tp": st.sampled_from([1, 2, 4, 8]),
    "pp": st.sampled_from([1, 2, 4]),
    "cp": st.sampled_from([1, 2]),
    "zero": st.sampled_from([0, 1, 2, 3]),
    "micro_batch": st.sampled_from([1, 2]),
    "global_batch": st.sampled_from([8, 16, 24, 64]),
    "recompute": st.sampled_from(RECOMPUTE),
})


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts, gpus=st.integers(min_value=1, max_value=96))
def test_train_sweep_and_the_command_line_agree_point_for_point(llama, cli, layout, gpus):
    expected = train_api(llama, gpus, layout)
    # the sweep over gpus, with the rest of the layout as --set values: the same point, or left out
    model = llama.with_(set=layout_set(layout), hardware="h100")
    try:
        data = model.sweep({"gpus": [gpus]}, outputs=list(OUTPUTS)).to_dict()
    except AcctError as error:  # every point refused: the sweep says so in one line
        assert isinstance(expected, str), (layout, gpus, str(error))
        assert expected in str(error)
    else:
        assert not isinstance(expected, str), (layout, gpus, expected)
        (point,) = data["points"]
        assert (exact(point["outputs"]["gpu.memory.peak"]), exact(point["outputs"]["gpu.time.step"])) == expected
    # the command line, with flags
    argv = ["train", MODEL, "--precision", "mixed", "--hardware", "h100", "--gpus", str(gpus), "-f", "json",
            "--tp", str(layout["tp"]), "--pp", str(layout["pp"]), "--cp", str(layout["cp"]),
            "--zero", str(layout["zero"]), "--micro-batch", str(layout["micro_batch"]),
            "--global-batch", str(layout["global_batch"]), "--recompute", layout["recompute"]]
    status, out, err = cli(*argv)
    if isinstance(expected, str):
        assert (status, out) == (1, "") and expected in err
    else:
        per_gpu = json.loads(out)["per_gpu"]
        assert (exact(per_gpu["peak_bytes"]), exact(per_gpu["time_seconds"]["step"])) == expected


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts)
def test_solve_answers_only_what_train_accepts(llama, layout):
    # the fewest GPUs whose step takes at most the step of 64 GPUs (when train takes 64): the answer is
    # a layout train runs, with the number solve reports, and no accepted smaller count satisfies it
    reference = train_api(llama, 64, layout)
    model = llama.with_(set=layout_set(layout), hardware="h100")
    if isinstance(reference, str):
        return
    bound = reference[1]
    data = model.solve(f"gpu.time.step <= {bound.numerator}/{bound.denominator}", smallest="gpus").to_dict()
    answer = data["answer"]
    assert answer is not None and answer <= 64
    at_answer = train_api(llama, answer, layout)
    assert not isinstance(at_answer, str) and at_answer[1] <= bound
    # the value searched just below the answer is one train accepts, and too slow
    if data["next"] is not None:
        below = train_api(llama, data["next"], layout)
        assert data["next"] < answer and not isinstance(below, str) and below[1] > bound
    if "values" in data["searched"]:  # a finite set: each a GPU count train accepts
        assert answer in data["searched"]["values"] and 64 in data["searched"]["values"]


@pytest.mark.parametrize("gpus, batch", [(16, 32), (64, 512)])
def test_plans_best_layout_is_what_train_prints(llama, gpus, batch):
    report = llama.plan(gpus, "h100", batch).report
    assert report.rows
    for row in report.rows[:3]:
        layout = dict(row.layout)
        named = {"zero" if key == "zero_stage" else key: value for key, value in layout.items()}
        named["recompute"] = RECOMPUTE[named["recompute"]]
        named["sequence_parallel"] = bool(named["sequence_parallel"])
        assert train_api(llama, gpus, {**named, "global_batch": batch}) == (row.peak, row.step)


@pytest.mark.parametrize("name, gpus, batch", [("llama-3-8b", 16, 64), ("mixtral-8x7b", 8, 16)])
def test_staged_functions_equal_the_plain_function_at_every_layout(name, gpus, batch):
    # what plan evaluates (one function staged by layout, ZeRO stage, recomputation) against the plain
    # compiled function, and against the interpreter on every 151st layout
    model = acct.load(name).with_(set={"gpus": str(gpus), "batch_size": str(batch)}, hardware="h100",
                                  default_precision="mixed")._model()
    params = planning.SIZES + ("zero_stage", "recompute")
    staged = model.sheet.function(params, planning.OUTPUTS, "plan", 16, stages=(len(planning.SIZES),
                                                                               len(planning.SIZES) + 1))
    plain = model.sheet.function(params, planning.OUTPUTS, "plan", 16)
    experts = "experts_per_ep" in model.sheet
    checked = 0
    for count, sizes in enumerate(planning.layouts(gpus, batch, 8, experts, 32)):
        zeros = staged.stage(*sizes)
        for zero in planning.ZERO:
            recomputations = zeros(zero) if zeros is not None else None
            for recompute in planning.RECOMPUTE:
                got = recomputations(recompute) if recomputations is not None else None
                assert got == plain.attempt(*sizes, zero, recompute), (sizes, zero, recompute)
                if count % 151 == 0:
                    try:
                        values = model.sheet.replace(dict(zip(params, (*sizes, zero, recompute)))).evaluate()
                    except AcctError:
                        assert got is None
                    else:
                        assert got == tuple(values[name] for name in planning.OUTPUTS)
                checked += 1
    assert checked > 200


@pytest.mark.parametrize("keywords, message", [
    # the API's layout keywords are typed as the command line's options: True is no ZeRO stage
    (dict(zero=True), "--zero: a whole number, got True"),
    (dict(gpus=True), "--gpus: a whole number of devices, got True"),
    (dict(tp=True), "--tp: a whole number, got True"),
    (dict(tp="2"), "--tp: a whole number, got '2'"),
])
def test_the_api_types_its_layout_as_the_command_line_does(llama, keywords, message):
    with pytest.raises(AcctError) as raised:
        llama.train("h100", **keywords)
    assert str(raised.value) == message


def test_errors_name_no_internal_cell(cli):
    # a ZeRO stage past 3 named zero_stage_left (`3 - zero_stage`); it says what the stage may be
    status, out, err = cli("sweep", MODEL, "--hardware", "h100", "--vary", "zero_stage=0..5+1",
                           "--output", "gpu.memory.peak")
    assert status == 0 and "2 of the 6 points are left out" in out
    assert "zero_stage=4: the ZeRO stage is 0, 1, 2 or 3, got 4" in out
    assert "zero_stage_left" not in out
    for argv, message in (
            (["--set", "sequence_parallel=2"], "--set sequence_parallel: sequence_parallel is 0 (off) or 1 (on), got 2"),
            (["--set", "recompute=3"], "--set recompute: recompute is 0 (none), 1 (selective) or 2 (full), got 3"),
            # a dense model has no experts to split: --ep changed nothing and was shown in the layout
            (["--dp", "2", "--ep", "4", "--global-batch", "2"],
             "--ep: expert parallelism splits routed experts, and this model has none; ep = 4 must be 1")):
        status, out, err = cli("train", MODEL, *argv)
        assert (status, out, err) == (1, "", f"acct: error: {message}\n")
