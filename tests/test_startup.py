"""What acct run's start-up leaves out, and that leaving it out changes no check (issue #14)."""

from pathlib import Path

import pytest

import acct
from acct.errors import AcctError
from acct.model.registry import PluginInfo, load_registry, pending_row, resolve_all


def test_every_builtin_row_parses_and_checks():
    """Builtin rows are parsed when a model chooses them; all of them must parse, whichever is chosen.
    Their count: 64 rows registered by the builtins today, each with params and flops parsed."""
    registry = resolve_all(load_registry())
    rows = [row for rows in registry.variants.values() for row in rows]
    assert len(rows) >= 60
    assert all("_pending" not in vars(row) for row in rows)
    assert all(row.params.text and row.flops.text for row in rows)
    assert all("default" in vars(entry) for entry in registry.inputs.values())
    assert registry.inputs["d_head"].default.text == "d_model / num_heads"
    assert all("_pending" not in vars(device) for device in registry.hardware.values())
    # the H100 SXM's 80 GB of HBM3 (NVIDIA's datasheet), as the hardware plugin states it
    assert any(device.memory == 80 * 10**9 for device in registry.hardware.values())


def test_a_builtin_row_is_parsed_only_when_read():
    registry = load_registry()
    row = registry.variants[next(iter(registry.variants))][0]
    assert vars(row).get("_pending") is True and "params" not in vars(row)
    assert row.multiplicity.text in ("1", "num_layers") or row.multiplicity.names
    # each formula is parsed when read: the others wait
    assert "multiplicity" in vars(row) and "params" not in vars(row) and "activations" not in vars(row)


def test_a_pending_row_with_a_bad_formula_names_its_plugin_and_component():
    info = PluginInfo("demo", "builtin", "demo.py")
    row = pending_row(acct.Component(name="x", slot="ffn", variant="bad", group="FFN",
                                     params="d_model *", flops=0), info)
    for _ in range(2):  # the error is raised again on the next read, never a half-built row
        with pytest.raises(AcctError, match=r"plugin 'demo' \(demo.py\): component 'x' params: "
                                              r"syntax error in formula 'd_model \*'"):
            row.params  # noqa: B018
    with pytest.raises(AttributeError):
        row.no_such_field  # noqa: B018


@pytest.mark.parametrize("compiled", [False, True])
def test_a_record_makes_the_same_instances_before_and_after_its_init_is_compiled(compiled):
    """A record's first COMPILE_AFTER instances use the generic __init__, later ones a compiled one:
    both take the fields positionally or by name, fill defaults (a fresh one per instance) and
    refuse what a def __init__ would."""
    from acct.records import COMPILE_AFTER, fresh, record

    @record(frozen=True)
    class Point:
        x: int
        y: int = 2
        tags: tuple = fresh(tuple)

    if compiled:
        for _ in range(COMPILE_AFTER + 1):
            Point(0)
        assert Point.__init__.__code__.co_filename == "<record Point>"
    else:
        assert Point.__init__.__code__.co_filename != "<record Point>"
    a, b, c = Point(1), Point(1, 3), Point(y=4, x=5, tags=(1,))
    assert (a.x, a.y, a.tags, b.y, c.x, c.y, c.tags) == (1, 2, (), 3, 5, 4, (1,))
    assert list(vars(c)) == ["x", "y", "tags"] and a == Point(1) and hash(a) == hash(Point(1))
    for bad in [(), (1, 2, (), 4)]:
        with pytest.raises(TypeError):
            Point(*bad)
    # a plugin's missing field reads the same whichever __init__ runs (a corpus case pins the words,
    # and which one runs depends on how many records the process made before)
    with pytest.raises(TypeError, match=r"^Point.__init__\(\) missing 1 required positional argument: 'x'$"):
        Point(y=1)
    for bad in [{"z": 1}, {"y": 1}]:
        with pytest.raises(TypeError):
            Point(1, **bad) if "y" not in bad else Point(1, 2, **bad)
    with pytest.raises(AttributeError):
        a.x = 2


def test_a_sheet_orders_its_cells_as_graphlib_does():
    """static_order is graphlib's static order, node for node, on random graphs (ties included)."""
    import graphlib
    import random

    from acct.engine.sheet import static_order

    generator = random.Random(14)
    for _ in range(300):
        nodes = [f"n{i}" for i in range(generator.randint(1, 30))]
        generator.shuffle(nodes)
        graph = {node: tuple(generator.sample(nodes[:index], generator.randint(0, min(index, 4))))
                 for index, node in enumerate(nodes) if generator.random() < 0.9}
        assert static_order(graph) == list(graphlib.TopologicalSorter(graph).static_order())
    assert static_order({"a": ("b",), "b": ("a",)}) is None


def test_the_importer_plugins_load_when_a_config_is_read_or_the_plugins_are_listed():
    """A preset's run imports no Hugging Face importer module; a config.json loads its family's, and
    listing loads them all, through pluggy, after which they are looked up and listed like any other."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    from acct.plugins import IMPORTER_PLUGINS, plugin_name

    root = Path(__file__).resolve().parent.parent
    probe = ("import sys, io, contextlib\nfrom acct.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()): main(['run', sys.argv[1]])\n"
             "print(sorted(m for m in sys.modules if m.startswith('acct.plugins.importers')))")
    preset = subprocess.run([sys.executable, "-c", probe, str(root / "presets" / "llama-3-8b.toml")],
                            capture_output=True, text=True, check=True)
    assert preset.stdout.strip() == "[]"
    config = subprocess.run([sys.executable, "-c", probe, str(root / "tests" / "data" / "hf" / "llama-3.2-1b.json")],
                            capture_output=True, text=True, check=True)
    # a config.json: its own family's module (acct.plugins.importers.MODEL_TYPES), not all of IMPORTER_PLUGINS
    assert {"acct.plugins.importers", "acct.plugins.importers.common", "acct.plugins.importers.llama"} == set(
        ast.literal_eval(config.stdout))
    assert "acct.plugins.importers.llama" in IMPORTER_PLUGINS
    registry = load_registry()
    assert registry.deferred is not None and "hf_llama" not in [p.name for p in registry.plugins]
    assert "llama" in registry.importers and registry.deferred is None
    assert {plugin_name(name) for name in IMPORTER_PLUGINS} <= {p.name for p in registry.plugins}
    assert plugin_name("acct.plugins.importers.granite") == "hf_granite"


def test_a_config_imports_its_own_familys_importer_alone():
    """Reading a config.json imports the importer module of its model_type and no other family's
    (acct.plugins.importers.MODEL_TYPES says which); the index is what the modules register."""
    import subprocess
    import sys

    from acct.model.registry import load_registry
    from acct.plugins.importers import MODEL_TYPES

    registry = load_registry()
    registry.load_deferred()
    registered = {model_type: importer.plugin.name for model_type, importer in registry.loaded_importers.items()}
    assert {t: "hf_" + m.rsplit(".", 1)[1] for t, m in MODEL_TYPES.items()} == registered
    code = ("import io, contextlib, sys\nfrom acct.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['run', 'tests/data/hf/qwen3-0.6b.json'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('acct.plugins.importers.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent).stdout
    assert out.strip() == "['acct.plugins.importers.common', 'acct.plugins.importers.qwen']"
