"""Issue #11: no wrong number, no hang, no code from a data file — the cases that succeed.

The error cases are in the corpus (test_corpus.py); here, what acct answers instead of a
wrong number, what it writes and refuses to write, and what its labels say.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import EXAMPLES, PRESETS, ROOT

CORPUS = ROOT / "tests" / "corpus"
XL = str(PRESETS / "gpt2-xl.toml")
VALID = str(CORPUS / "valid.toml")


def ok(cli, *argv):
    status, out, err = cli(*argv)
    assert status == 0, err
    return out, err


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


# -- 1. only inputs are inputs ---------------------------------------------------


def test_compare_gives_each_preset_its_own_plugins(cli):
    """Only with_new_slot.toml names plugins/new_slot.py (a default variant in a new slot): the
    other preset's column is what `acct run` prints for it, not with the extra row."""
    alone = json.loads(ok(cli, "run", VALID, "-f", "json")[0])["totals"]["params"]
    extended = json.loads(ok(cli, "run", str(CORPUS / "with_new_slot.toml"), "--allow-plugins", "-f", "json")[0])
    assert extended["totals"]["params"] == alone + 32 * 128
    out, _ = ok(cli, "compare", VALID, str(CORPUS / "with_new_slot.toml"), "--allow-plugins", "-f", "json")
    models = json.loads(out)["models"]
    assert [m["params"] for m in models] == [alone, alone + 32 * 128]


def test_sweep_keeps_the_checks_run_makes_on_a_fractional_default(cli):
    # d_ff = 8/3 · d_model is whole at 96 and 192, not at 100: run refuses 100, and so does every sweep format
    out, _ = ok(cli, "sweep", str(CORPUS / "fraction_default.toml"), "--allow-plugins", "--vary", "d_model=96,192",
                "-f", "csv")
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == ["96", "192"]
    # a point run refuses is never printed as a number: the sweep leaves it out and says why, in every format
    status, out, err = cli("sweep", str(CORPUS / "fraction_default.toml"), "--allow-plugins",
                           "--vary", "d_model=96,100", "-f", "csv")
    assert status == 0 and [line.split(",")[0] for line in out.splitlines()[1:]] == ["96"]
    assert "1 of the 2 points is left out" in err and "d_model=100: d_ff = ffn_ratio * d_model " \
        "gives 800/3, not a whole number" in err
    data = json.loads(ok(cli, "sweep", str(CORPUS / "fraction_default.toml"), "--allow-plugins",
                         "--vary", "d_model=96,100", "-f", "json")[0])
    assert [point["inputs"] for point in data["points"]] == [{"d_model": 96}]
    assert data["refused"]["count"] == 1 and data["refused"]["points"][0]["inputs"] == {"d_model": 100}
    assert "gives 800/3, not a whole number" in data["refused"]["points"][0]["reason"]
    out, _ = ok(cli, "sweep", str(CORPUS / "fraction_default.toml"), "--allow-plugins", "--vary", "d_model=96,100")
    assert "| 100 |" not in out and "1 of the 2 points is left out" in out
    for fmt in ("csv", "json", "markdown"):  # every point refused: one line, nothing written
        status, out, err = cli("sweep", str(CORPUS / "fraction_default.toml"), "--allow-plugins",
                               "--vary", "d_model=100,104", "-f", fmt)
        assert (status, out) == (1, "") and "gives 800/3, not a whole number" in err


def test_solve_searches_only_values_every_constraint_accepts(cli):
    # d_model must be a multiple of 25 heads: the answer is one, and so is the value past it
    data = json.loads(ok(cli, "solve", XL, "--largest", "d_model", "--where", "total.params <= 1GB", "-f", "json")[0])
    assert (data["answer"], data["next"]) == (1_075, 1_100)
    assert data["searched"] == {"start": 25, "step": 25}
    assert data["value_at_answer"] <= 10**9 < data["value_at_next"]
    data = json.loads(ok(cli, "solve", XL, "--smallest", "d_model", "--where", "total.params >= 1GB", "-f", "json")[0])
    assert (data["answer"], data["next"]) == (1_100, 1_075)
    # d_ff = 8/3 · d_model and 4 heads: d_model must be a multiple of 12
    data = json.loads(ok(cli, "solve", str(CORPUS / "fraction_default.toml"), "--allow-plugins", "--largest",
                         "d_model", "--where", "total.params <= 2000000", "-f", "json")[0])
    assert data["searched"] == {"start": 12, "step": 12} and data["answer"] % 12 == 0
    out, _ = ok(cli, "solve", XL, "--largest", "d_model", "--where", "total.params <= 1GB")
    assert "d_model = 25, 50, 75, …" in out


def test_solve_stops_at_a_constraint_it_meets(cli):
    # learned positions: context_length may not pass max_positions = 1,024, so the largest context under
    # any memory bound is at most 1,024 (it was an error at 1,025; it is never an answer past the table)
    status, out, err = cli("solve", str(PRESETS / "openai-gpt2-xl.toml"), "--largest", "context_length",
                           "--where", "memory.peak <= 1PB")
    assert status == 0, err
    assert "is **1,024**" in out and "up to 1,024 (the last value every constraint accepts)" in out


def test_hardware_from_a_file_with_whole_bytes(cli, tmp_path):
    path = write(tmp_path, "gpu.toml", 'name = "gpu"\nmemory = "1.5GB"\nbandwidth = "1TB"\n[flops]\nfp32 = "1e12"\n')
    data = json.loads(ok(cli, "train", VALID, "--hardware", str(path), "-f", "json")[0])
    assert data["time"]["hardware"] == "gpu"


# -- 2. bounded work ---------------------------------------------------------------


def rows_plugin(folder: Path, rows: int) -> Path:
    return write(folder, "rows.py", f"""
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            for i in range({rows}):
                register(acct.Component(name=f"r{{i}}", slot="many", variant="m", default=True, group=f"g{{i % 7}}",
                                        params="d_model", flops="2 * context_length * d_model", per_layer=True))
    """)


def test_twelve_hundred_rows_run_and_sweep(cli, tmp_path):
    """A total over 1,200 rows: a left-deep sum once hit the recursion limit in the bounds pass."""
    plugin = str(rows_plugin(tmp_path, 1_200))
    out, _ = ok(cli, "run", VALID, "-p", plugin, "-f", "json")
    base = 1000 * 128 * 2 + 2 * (4 * 128**2 + 3 * 128 * 512 + 2 * 128) + 128
    assert json.loads(out)["totals"]["params"] == base + 1_200 * 2 * 128
    out, _ = ok(cli, "sweep", VALID, "-p", plugin, "--vary", "d_model=128,256", "-f", "csv")
    assert len(out.splitlines()) == 3


def test_a_long_chain_of_derived_inputs_compiles(cli, tmp_path):
    """600 inputs each read once: inlined into one another, they would nest 600 deep."""
    plugin = write(tmp_path, "chain.py", """
        import acct

        @acct.hookimpl
        def acct_register_inputs(register):
            register(acct.Input("x0", "x", default="d_model"))
            for i in range(1, 600):
                register(acct.Input(f"x{i}", "x", default=f"x{i - 1} + 1"))

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="chain", slot="chain", variant="c", default=True, group="chain",
                                    params="x599", flops=0))
    """)
    out, _ = ok(cli, "sweep", VALID, "-p", str(plugin), "--vary", "d_model=128,256", "-f", "json")
    points = json.loads(out)["points"]
    assert points[1]["groups"]["chain"]["params"] == 256 + 599


def test_a_large_sweep_streams_in_bounded_memory(monkeypatch):
    """Past KEEP_POINTS a sweep keeps no results: it is checked in one pass and written in another,
    a piece at a time. 12,000 points held as results tuples take about 8 MB; streamed, about 3."""
    from acct.reports import scaling
    from acct.model.config import load_preset
    from acct.model.model import build_model
    from acct.model.registry import load_registry
    from acct.render.scaling import scaling_csv, scaling_data, scaling_json

    monkeypatch.setattr(scaling, "KEEP_POINTS", 500)
    model = build_model(load_preset(XL), load_registry())
    tracemalloc.start()
    try:
        swept = scaling.sweep(model, [("context_length", range(1, 12_001))], ["memory.peak"])
        lines = 0
        for piece in scaling_csv(swept):
            lines += piece.count("\n")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(swept.points, scaling.Grid) and lines == 12_001
    assert peak < 6 * 10**6, f"{peak:,} bytes"
    # the streamed JSON is the JSON of the kept sweep, piece for piece
    small = scaling.sweep(model, [("context_length", range(1, 1_001))])
    monkeypatch.setattr(scaling, "KEEP_POINTS", 10**6)
    kept = scaling.sweep(model, [("context_length", range(1, 1_001))])
    assert isinstance(small.points, scaling.Grid) and isinstance(kept.points, list)
    assert "".join(scaling_json(small)) == "".join(scaling_json(kept))
    # and it is exactly json.dumps's text, filled from a template or not
    assert "".join(scaling_json(kept)) == json.dumps(scaling_data(kept), indent=2, ensure_ascii=False) + "\n"
    grid = scaling.sweep(model, [("context_length", [1, 2]), ("num_layers", range(1, 4))],
                         ["memory.peak", "train.flops_step"])
    assert "".join(scaling_json(grid)) == json.dumps(scaling_data(grid), indent=2, ensure_ascii=False) + "\n"
    assert json.loads("".join(scaling_json(small)))["summary"] == kept.summary


def test_a_grid_copies_none_of_its_axes():
    """itertools.product would copy a 10,000,000-value range into a tuple (360 MB) before the
    first point; the grid makes its points one at a time."""
    from acct.reports.scaling import Grid

    tracemalloc.start()
    try:
        grid = Grid([range(1, 10_000_001), [1, 2], range(5, 10**6)], lambda *point: point)
        points = iter(grid)
        first = [next(points)[0] for _ in range(3)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert first == [(1, 1, 5), (1, 1, 6), (1, 1, 7)] and len(grid) == 10_000_000 * 2 * (10**6 - 5)
    assert grid[-1][0] == (10_000_000, 2, 10**6 - 1)
    assert peak < 2**20, f"{peak:,} bytes"


def test_a_grid_is_counted_before_anything_is_built(cli):
    tracemalloc.start()
    try:
        status, _, err = cli("sweep", VALID, "-f", "csv", "--vary", "context_length=1..10000000+1",
                             "--vary", "num_layers=1..10000000+1")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 1 and "a sweep is at most 10,000,000" in err
    assert peak < 20 * 2**20, f"{peak:,} bytes"


def test_files_are_measured_before_they_are_read(cli, tmp_path):
    for command, name in ((["run"], "big.toml"), (["train", VALID, "--hardware"], "big_gpu.toml")):
        path = tmp_path / name
        with open(path, "wb") as handle:  # sparse: 3 GB that take no space
            handle.truncate(3 * 10**9)
        tracemalloc.start()
        try:
            status, out, err = cli(*command, str(path))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert status == 1 and out == "" and err.count("\n") == 1
        assert f"{path}: is 3,000,000,000 bytes; a" in err and "file is at most 1,000,000" in err
        assert peak < 50 * 2**20, f"{peak:,} bytes: the file was read"


def test_a_plot_draws_at_most_forty_bars(cli, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.axes import Axes

    drawn = []
    bar = Axes.bar

    def counting(self, labels, *args, **kwargs):
        drawn.append(len(labels))
        return bar(self, labels, *args, **kwargs)

    monkeypatch.setattr(Axes, "bar", counting)
    ok(cli, "sweep", VALID, "--vary", "context_length=1..2000+1", "-f", "csv", "--plot", str(tmp_path / "a.svg"))
    assert drawn and set(drawn) == {40}


# -- 3. errors, exit statuses -----------------------------------------------------


def test_a_fractional_target(cli):
    out, _ = ok(cli, "solve", XL, "--largest", "batch_size", "--where", "memory.peak <= 0.5")
    assert "No value of batch_size satisfies memory.peak <= 0.5 (= 1/2 B" in out
    data = json.loads(ok(cli, "solve", XL, "--smallest", "batch_size", "--where", "memory.peak >= 80.5GB",
                         "-f", "json")[0])
    assert data["condition"]["target"] == 80_500_000_000 and data["answer"] == 3


def acct(*argv, **options):
    return subprocess.run([sys.executable, "-m", "acct", *argv], capture_output=True, text=True, **options)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_one_line():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "acct", "run", XL], stdout=full, stderr=subprocess.PIPE,
                                text=True)
    assert result.returncode == 1
    assert result.stderr == "acct: error: cannot write the output: No space left on device\n"


def test_ctrl_c_exits_130_quietly(tmp_path):
    # a plugin file that says when acct is running (past its imports, inside the command)
    ready = tmp_path / "ready"
    plugin = write(tmp_path, "ready.py", f"""
        from pathlib import Path

        Path({str(ready)!r}).write_text("running")
    """)
    process = subprocess.Popen([sys.executable, "-m", "acct", "sweep", VALID, "-f", "json", "-p", str(plugin),
                                "--vary", "context_length=1..9000000+1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)  # into the sweep
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and err == ""


def test_a_closed_pipe_is_quiet():
    process = subprocess.Popen(f"{sys.executable} -m acct sweep {VALID} -f csv --vary context_length=1..300000+1 "
                               "| head -1", shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate(timeout=60)
    assert out.startswith("context_length,") and err == ""


# -- 4. no code from a data file without consent; nothing written unasked --------


def test_consent_by_flag_or_by_naming_the_file(cli):
    preset = str(EXAMPLES / "linear-attention" / "mistral-7b-32k.toml")
    plugin = str(EXAMPLES / "linear-attention" / "linear_attention.py")
    by_flag = json.loads(ok(cli, "run", preset, "--allow-plugins", "-f", "json")[0])
    by_name = json.loads(ok(cli, "run", preset, "-p", plugin, "-f", "json")[0])
    assert by_flag["totals"] == by_name["totals"]
    assert by_flag["plugin_files"] == [str(EXAMPLES / "linear-attention" / "linear_attention.py")]
    assert by_name["plugin_files"] == [plugin]


def test_every_report_names_the_plugin_files_that_ran(cli):
    preset = str(EXAMPLES / "linear-attention" / "mistral-7b-32k.toml")
    plugin = str(EXAMPLES / "linear-attention" / "linear_attention.py")
    out, err = ok(cli, "run", preset, "--allow-plugins")
    assert out.endswith(f"Local plugin files that ran: {plugin}.\n") and err == ""
    out, err = ok(cli, "run", preset, "--allow-plugins", "-f", "csv")
    assert err == f"acct: note: local plugin files that ran: {plugin}\n"
    for argv in (["train"], ["infer"], ["conventions"], ["solve", "--largest", "batch_size", "--where",
                                                           "train.flops_step <= 1e18"]):
        data = json.loads(ok(cli, argv[0], preset, *argv[1:], "--allow-plugins", "-f", "json")[0])
        assert data["plugin_files"] == [plugin], argv
    for fmt in ("json", "csv", "markdown"):  # a streamed sweep, too
        out, err = ok(cli, "sweep", preset, "--allow-plugins", "--vary", "feature_dim=64,128", "-f", fmt)
        assert plugin in (out + err)
    assert json.loads(ok(cli, "sweep", preset, "--allow-plugins", "--vary", "feature_dim=64,128",
                         "-f", "json")[0])["plugin_files"] == [plugin]
    out, _ = ok(cli, "run", XL)
    assert "plugin files" not in out


def test_importing_a_plugin_writes_no_bytecode(cli, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "linear_attention.py").write_text((EXAMPLES / "linear-attention" / "linear_attention.py").read_text())
    (folder / "m.toml").write_text((EXAMPLES / "linear-attention" / "mistral-7b-32k.toml").read_text())
    ok(cli, "run", str(folder / "m.toml"), "--allow-plugins")
    ok(cli, "run", XL, "-p", str(folder / "linear_attention.py"))
    assert sorted(path.name for path in folder.iterdir()) == ["linear_attention.py", "m.toml"]
    assert sys.dont_write_bytecode is False or os.environ.get("PYTHONDONTWRITEBYTECODE")


def test_plot_never_overwrites_or_follows_a_link(cli, tmp_path):
    sweep = ["sweep", VALID, "--vary", "context_length=64,128"]
    important = tmp_path / "important.svg"
    important.write_text("keep me")
    status, out, err = cli(*sweep, "--plot", str(important))
    assert (status, out) == (1, "") and f"--plot {important}: already exists; add --force to replace it" in err
    assert important.read_text() == "keep me"
    link = tmp_path / "link.svg"
    link.symlink_to(important)
    for force in ([], ["--force"]):
        status, out, err = cli(*sweep, "--plot", str(link), *force)
        assert (status, out) == (1, "") and "is a symbolic link" in err
    dangling = tmp_path / "dangling.svg"
    dangling.symlink_to(tmp_path / "elsewhere.svg")
    status, _, err = cli(*sweep, "--plot", str(dangling))
    assert status == 1 and not (tmp_path / "elsewhere.svg").exists()
    assert important.read_text() == "keep me"
    pytest.importorskip("matplotlib")  # the refusals above come before matplotlib is needed
    ok(cli, *sweep, "--plot", str(important), "--force")
    assert important.read_text().lstrip().startswith("<?xml")


# -- issue #20: no write clobbers an input or fails late ---------------------------


def test_import_never_writes_over_its_own_input(cli, tmp_path, monkeypatch):
    config = tmp_path / "x.json"
    config.write_text((ROOT / "tests" / "data" / "hf" / "gpt2.json").read_text())
    original = config.read_text()
    (tmp_path / "link.json").symlink_to(config)
    os.link(config, tmp_path / "hard.json")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "config.json").symlink_to(config)
    monkeypatch.chdir(tmp_path)
    own = "is the command's own input"
    for source, output in (("x.json", "x.json"), ("x.json", "./x.json"), ("x.json", str(config)),
                           ("x.json", "hard.json"), ("link.json", "x.json"), ("folder", "x.json"),
                           ("folder", "hard.json")):
        status, out, err = cli("import", source, "-o", output, "--force")
        assert (status, out) == (1, ""), err
        assert err.startswith(f"acct: error: -o {Path(output)}: {own}") and err.count("\n") == 1, err
    assert config.read_text() == original
    # another name for the same file, said as such
    assert "-o hard.json: is the command's own input (x.json);" in cli("import", "x.json", "-o", "hard.json",
                                                                       "--force")[2]


def test_an_output_is_checked_before_any_work(cli, tmp_path, monkeypatch):
    config = str(ROOT / "tests" / "data" / "hf" / "gpt2.json")
    (tmp_path / "out").mkdir()
    calls = []
    import acct.model.sources as sources

    monkeypatch.setattr(sources, "resolve", lambda *args: calls.append(args))  # the work: never reached
    for output, message in (("out", "is a folder; name the file to write"),
                            ("missing/x.toml", f"the folder {tmp_path / 'missing'} does not exist; create it first")):
        status, out, err = cli("import", config, "-o", str(tmp_path / output), "--force")
        assert (status, out) == (1, "") and err == f"acct: error: -o {tmp_path / output}: {message}\n"
    assert calls == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_without_reading_it(tmp_path):
    for name in ("config.json", "preset.toml"):
        os.mkfifo(tmp_path / name)
    os.mkfifo(tmp_path / "gpu.toml")
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "folder" / "config.json")
    for argv, what in ((["run", "config.json"], "a config.json"), (["run", "preset.toml"], "a preset file"),
                       (["import", "folder"], "a config.json"),
                       (["train", XL, "--hardware", "gpu.toml"], "a hardware file")):
        # a subprocess with a timeout: a reader blocked on the pipe fails the test, not the suite
        result = acct(*argv, cwd=tmp_path, timeout=60)
        named = "folder/config.json" if argv[1] == "folder" else argv[-1]
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr == f"acct: error: {named}: is a named pipe (FIFO); {what} must be a regular file\n"
    written = acct("sweep", XL, "--vary", "d_model=1600", "--plot", "gpu.toml", "--force", cwd=tmp_path, timeout=60)
    assert written.stderr == "acct: error: --plot gpu.toml: is a named pipe (FIFO); acct writes only to a plain file\n"


def test_a_symlink_loop_is_not_a_missing_file(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for suffix in (".json", ".toml", ".py"):
        (tmp_path / f"a{suffix}").symlink_to(f"b{suffix}")
        (tmp_path / f"b{suffix}").symlink_to(f"a{suffix}")
    (tmp_path / "gone.json").symlink_to("nowhere.json")
    for argv, what in ((["run", "a.json"], "a config.json"), (["run", "a.toml"], "a preset file"),
                       (["train", XL, "--hardware", "a.toml"], "a hardware file")):
        assert cli(*argv)[2] == f"acct: error: {argv[-1]}: is a symlink loop; {what} must be a regular file\n"
    assert cli("run", XL, "-p", "a.py")[2] == ("acct: error: plugin 'a' (a.py): is a symlink loop; a plugin file "
                                              "must be a regular file\n")
    assert cli("run", "gone.json")[2] == ("acct: error: gone.json: is a symbolic link to a missing file; "
                                          "a config.json must be a regular file\n")


# -- issue #20: one number syntax ----------------------------------------------------


def test_a_decimal_set_is_the_exact_fraction(cli):
    for argv in (["--set", "mfu=0.45"], ["--mfu", "0.45"], ["--set", "mfu=45e-2"]):
        time = json.loads(ok(cli, "train", XL, "--hardware", "a100", *argv, "-f", "json")[0])["time"]
        # 13,540,009,574,400 FLOPs / (19.5e12 FLOP/s × 9/20) = 352,604,416/228,515,625 s
        assert time["mfu"] == "9/20" and time["seconds"] == "352604416/228515625"


def test_a_hardware_file_float_is_the_decimal_it_writes(cli, tmp_path):
    from acct.model.config import load_hardware

    path = write(tmp_path, "gpu.toml", """\
        name = "gpu"
        memory = 8e10
        bandwidth = 2_039.5e9
        price_per_hour = 0.9
        gpus_per_node = 8.0
        [flops]
        fp32 = 19.5e12
        bf16 = 0.1
        """)
    device = load_hardware(path)
    assert (device.memory, device.bandwidth, device.gpus_per_node) == (80 * 10**9, 2_039_500_000_000, 8)
    # 0.9 and 0.1 as written, not the doubles nearest them (0.1 is 3602879701896397/2**55 as a float)
    assert device.price_per_hour == Fraction(9, 10) and device.flops == {"fp32": 19_500_000_000_000,
                                                                         "bf16": Fraction(1, 10)}
    time = json.loads(ok(cli, "train", XL, "--hardware", str(path), "-f", "json")[0])["time"]
    # 13,540,009,574,400 FLOPs / 19.5e12 FLOP/s = 135,400,095,744/195,000,000,000 s, reduced
    assert time["seconds"] == str(Fraction(13_540_009_574_400, 19_500_000_000_000)) == "88151104/126953125"


def test_an_integer_too_long_for_python_is_said_in_the_users_words(cli, tmp_path):
    digits = "1" * 100_000
    preset = write(tmp_path, "big.toml", f'name = "big"\n[model]\nd_model = {digits}\n')
    config = json.loads((ROOT / "tests" / "data" / "hf" / "gpt2.json").read_text())
    config["n_embd"] = 7  # replaced below by the long integer, which json.dumps would refuse to write
    text = json.dumps(config).replace('"n_embd": 7', f'"n_embd": {digits}')
    (tmp_path / "big.json").write_text(text)
    cases = [(["run", str(tmp_path / "big.json")], f"{tmp_path / 'big.json'}: field n_embd: an integer of 100,000 "
              "digits; acct reads integers of at most 640 digits")]
    if hasattr(sys, "get_int_max_str_digits"):  # Python ≥ 3.11 limits int() of a string (tomllib's too)
        cases.append((["run", str(preset)], f"{preset}: line 3 (d_model): an integer of 100,000 digits; acct reads "
                      f"at most {sys.get_int_max_str_digits():,}"))
    for argv, message in cases:
        status, out, err = cli(*argv)
        assert (status, out) == (1, "") and err == f"acct: error: {message}\n"
        assert "sys." not in err


# -- issue #20: any value a formula can produce is formatted ----------------------


def test_a_whole_step_time_shows_its_days(cli, tmp_path):
    # at 1 FLOP/s the step's 3 × 4,513,336,524,800 = 13,540,009,574,400 FLOPs take as many seconds: an int
    gpu = write(tmp_path, "slow.toml", 'name = "slow"\nmemory = "80GB"\nbandwidth = "1TB"\n[flops]\nfp32 = "1"\n')
    out, _ = ok(cli, "train", XL, "--hardware", str(gpu))
    # 13,540,009,574,400 / 86,400 = 156,713,073.777... days
    assert "take **13,540,009,574,400 s = 156,713,073.78 days**" in out
    # with AdamW's 14 × 2,127,057,600 = 29,778,806,400: 13,569,788,380,800 s / 86,400 = 157,057,735.888...
    assert "157,057,735.89 days in all" in out


def test_an_enormous_model_is_formatted_in_every_format(cli):
    for fmt in ("markdown", "json", "csv", "html"):
        out, _ = ok(cli, "train", XL, "--hardware", "a100", "--set", "d_model=10**40", "-f", fmt)
        assert out


# -- 5. labels from values -----------------------------------------------------------


def test_the_optimizer_label_is_the_value(cli):
    out, _ = ok(cli, "train", XL, "--set", "optimizer_flops=10")
    assert "| optimizer (10 per parameter, as set by optimizer_flops) |" in out
    assert "AdamW, 14" not in out and "acct counts AdamW as 14" in out
    out, _ = ok(cli, "train", XL)
    assert "| optimizer (AdamW, 14 per parameter) |" in out


def test_small_times_keep_their_digits(cli):
    out, _ = ok(cli, "train", XL, "--set", "optimizer_flops=10", "--hardware", "a100")
    # 13,540,009,574,400 / 19.5e12 = 0.694 s; the optimizer's 21,270,576,000 FLOPs add 0.00109 s
    assert "take **0.694 s = 0.00000804 days**" in out
    assert "would add 0.00109 s (0.16%)" in out and "1 step of" in out


def test_conventions_state_the_batch(cli):
    out, _ = ok(cli, "run", XL, "--convention", "kaplan", "--set", "batch_size=8")
    # 8·(2N + 2·L·T·D)·T, Kaplan's N without the token table and the untied head:
    # 8·(2·(2,127,057,600 − 2·V·D) + 2·48·1,024·1,600)·1,024
    assert "For one step of B = 8 sequences: forward **33,503,287,705,600**" in out
    assert "batch_size sequences" not in out
    out, _ = ok(cli, "conventions", XL)
    assert "One step of B = 1 sequence of T = 1,024 tokens" in out


def test_a_batch_sweep_says_its_flops_are_per_sequence(cli):
    out, _ = ok(cli, "sweep", XL, "--vary", "batch_size=1,2", "--output", "train.flops_step")
    assert "forward FLOPs (one sequence) |" in out
    assert "Forward FLOPs and shares are per sequence and do not change with batch_size" in out
    out, _ = ok(cli, "sweep", XL, "--vary", "context_length=1024,2048")
    assert "one sequence" not in out


def test_non_matmul_names_the_rows_that_state_none(cli):
    out, _ = ok(cli, "run", XL, "--non-matmul")
    assert ("Rows that state no non-matmul FLOPs (a plugin states them as flops_other), counted as 0 here: "
            "token_embedding, q_proj, k_proj, v_proj, attn_values, lm_head.") in out
    assert "counts those non-matmul FLOPs separately" in out


def test_infer_without_a_row_reading_decode_position(cli):
    out, _ = ok(cli, "infer", str(EXAMPLES / "linear-attention" / "mistral-7b-32k.toml"), "--allow-plugins")
    assert "no chosen row reads decode_position" in out


def test_displayed_formulas_keep_their_parentheses(cli):
    out, _ = ok(cli, "run", XL, "--set", "d_ff=(d_model % 100) * 4 + 6400", "-f", "json")
    assert json.loads(out)["inputs"]["d_ff"]["derived"] == "(D mod 100)·4 + 6400"


def test_significant_digits():
    from acct.engine.numbers import significant

    assert [significant(x) for x in (Fraction(1, 3), 1222, Fraction(12345, 10), 0, Fraction(-2, 30000))] == [
        "0.333", "1,222", "1,234", "0", "-0.0000667"]
    assert significant(Fraction(21, 100000), 2) == "0.00021"
