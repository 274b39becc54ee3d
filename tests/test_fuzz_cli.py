"""Random --vary, --set and --where strings through the command line, in-process: every outcome is
a report (exit 0), or one line `acct: error: ...` with exit 1, or argparse's usage error with
exit 2 — never a traceback, an internal error or a hang.

The sweep limit is lowered for this test (a 10,000,000-point sweep is allowed, and takes about a
minute, which is bounded work but not a unit test's); every other bound is the real one.
"""

import contextlib
import io
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acct.reports import scaling
from acct.cli import main
from conftest import ROOT

VALID = str(ROOT / "tests" / "corpus" / "valid.toml")
SECONDS = 10  # per command; the slowest legitimate one here (a 20,000-point sweep) takes under 1 s unloaded

NAMES = st.sampled_from([
    "context_length", "num_layers", "d_model", "num_heads", "d_ff", "vocab_size", "batch_size", "steps",
    "d_head", "queries_per_kv", "spare_positions", "max_positions", "num_kv_heads", "optimizer_flops",
    "total.params", "memory.peak", "train.flops_step", "flops_matmul", "x", "", "d_model.real", "__class__",
    "2x", "d model", "é",
])
NUMBERS = st.one_of(
    st.integers(-10, 10**6).map(str),
    st.integers(0, 10**30).map(lambda n: f"{n:,}"),
    st.integers(0, 10**6).map(lambda n: f"{n:_}"),
    st.sampled_from(["1e99999999", "1e-5000", "9" * 80, "0", "-1", "1.5", "0.5", "2,048", "0x10", "1e3", "½",
                     "99999999999999999999999", "18446744073709551616", "nan", "inf", "", "9" * 999, "9" * 5000]),
)
FORMULAS = st.one_of(
    st.sampled_from(["4 * d_model", "d_model / 3", "(d_model % 100) * 4", "d_model ** 64", "10 ** 10 ** 10",
                     "__import__('os')", "d_model.real", "round_up(8 * d_model / 3, 64)", "min(d_model)",
                     "lambda: 1", "d_ff", "x" * 1200, "(" * 300 + "1" + ")" * 300]),
    st.text(alphabet="0123456789+-*/%() ._,abdelmnoqrtx", max_size=40),
)
VALUES = st.one_of(NUMBERS, FORMULAS)
RANGES = st.one_of(
    st.lists(NUMBERS, min_size=1, max_size=4).map(",".join),
    st.tuples(NUMBERS, NUMBERS, st.sampled_from(["+", "*", "-", ""]), NUMBERS).map(lambda t: f"{t[0]}..{t[1]}{t[2]}{t[3]}"),
    st.text(max_size=30),
)
OPS = st.sampled_from(["<=", "<", ">=", ">", "=", "==", ""])
UNITS = st.sampled_from(["", "B", "GB", "GiB", "PB", " TB", "GX", "e12", "%"])

ASSIGNMENTS = st.tuples(NAMES, VALUES).map(lambda t: f"{t[0]}={t[1]}") | st.text(max_size=30)
VARIES = st.tuples(NAMES, RANGES).map(lambda t: f"{t[0]}={t[1]}") | st.text(max_size=30)
WHERES = st.tuples(NAMES, OPS, NUMBERS, UNITS).map(lambda t: f"{t[0]} {t[1]} {t[2]}{t[3]}") | st.text(max_size=30)

COMMANDS = st.one_of(
    st.lists(ASSIGNMENTS, min_size=1, max_size=3).map(lambda sets: ["run", VALID, *(f"--set={s}" for s in sets)]),
    st.tuples(st.lists(VARIES, min_size=1, max_size=2), st.sampled_from(["csv", "json", "markdown"]),
              st.lists(ASSIGNMENTS, max_size=1)).map(
        lambda t: ["sweep", VALID, "-f", t[1], *(f"--vary={v}" for v in t[0]), *(f"--set={s}" for s in t[2])]),
    st.tuples(st.sampled_from(["--largest", "--smallest"]), NAMES, WHERES, st.sampled_from(["json", "markdown"])).map(
        lambda t: ["solve", VALID, t[0], t[1], f"--where={t[2]}", "-f", t[3]]),
    st.tuples(NUMBERS, st.lists(ASSIGNMENTS, max_size=1)).map(
        lambda t: ["train", VALID, "--hardware", "a100", f"--mfu={t[0]}", *(f"--set={s}" for s in t[1])]),
)


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit:  # argparse's usage errors
            status = exit.code
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def small_sweeps(monkeypatch):
    monkeypatch.setattr(scaling, "MAX_POINTS", 20_000)
    monkeypatch.setattr(scaling, "MAX_TABLE_POINTS", 2_000)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(COMMANDS)
def test_random_command_lines_end_in_a_number_or_one_line(small_sweeps, argv):
    start = time.perf_counter()
    status, out, err = run(argv)
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS, (argv, elapsed)
    assert status in (0, 1, 2), (argv, status, err)
    if status == 0:
        # a CSV sweep that left points out says so on stderr (CSV has no place for it), in one line
        assert out and (err == "" or (err.startswith("acct: note: ") and " left out: the model refuses " in err
                                      and err.count("\n") == 1)), (argv, err)
        assert any(ch.isdigit() for ch in out)
    elif status == 1:
        assert out == "" and err.startswith("acct: error: ") and err.count("\n") == 1, (argv, err)
        assert "internal error" not in err and "Traceback" not in err, (argv, err)
    else:
        assert out == "" and "usage: acct" in err, (argv, err)
