"""Imports go only downward: engine → model → reports → render → api → cli, plugins on top.

Beneath the engine sit the modules every layer (and every plugin) may use: the package itself,
`records`, `errors`, `components` (what a plugin registers), `hookspecs` and `files`. Checked
twice: statically, every `import` in every module, those inside functions included (a lazy import
is an import all the same, only later), and at run time, each layer imported alone in a fresh
interpreter. And only the engine touches `ast`: the layers above build formulas with its
constructors.
"""

import ast
import graphlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

# bottom first; a module belongs to the layer of its longest matching prefix
LAYERS = (
    ("bottom", ("acct", "acct.records", "acct.errors", "acct.components", "acct.hookspecs", "acct.files")),
    ("engine", ("acct.engine",)),
    ("model", ("acct.model",)),
    ("reports", ("acct.reports",)),
    ("render", ("acct.render",)),
    ("api", ("acct.api",)),
    ("cli", ("acct.cli", "acct.__main__")),
    ("plugins", ("acct.plugins",)),
)
RANK = {layer: rank for rank, (layer, _) in enumerate(LAYERS)}

# the two imports that reach up, each for a reason
UPWARD = {
    # PEP 562: acct.load and acct.compare import the API when first used, never at `import acct`
    # (the run-time check below holds the package to that)
    ("acct", "acct.api"): "the package's lazy facade",
    # the host loads its builtin plugins by name; plugins sit on top because they import acct
    ("acct.model.registry", "acct.plugins"): "plugin discovery",
}


def layer_of(module: str) -> str:
    best, found = "", None
    for layer, prefixes in LAYERS:
        for prefix in prefixes:
            matches = module == prefix or (prefix != "acct" and module.startswith(prefix + "."))
            if matches and len(prefix) > len(best):
                best, found = prefix, layer
    assert found, f"{module} belongs to no layer: add it to LAYERS"
    return found


def source_modules():
    """{module name: path} of every module in core/ (acct) and plugins/ (acct.plugins)."""
    modules = {}
    for folder, package in ((ROOT / "core", "acct"), (ROOT / "plugins", "acct.plugins")):
        for path in sorted(folder.rglob("*.py")):
            parts = [part for part in path.relative_to(folder).with_suffix("").parts if part != "__init__"]
            modules[".".join([package, *parts])] = path
    return modules


MODULES = source_modules()


def imports_of(module: str, path: Path):
    """(imported acct module, line) for every import statement in the module, at any depth."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            # `from acct.model import outputs` imports the module acct.model.outputs
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in dict.fromkeys(targets):
            if (target == "acct" or target.startswith("acct.")) and target != module:
                yield target, node.lineno


def upward(module: str, target: str) -> bool:
    return not any(module == low and (target == high or target.startswith(high + ".")) for low, high in UPWARD)


def test_every_module_has_a_layer():
    assert len(MODULES) > 60
    assert {layer_of(module) for module in MODULES} == set(RANK)


def test_no_module_imports_a_layer_above_its_own():
    wrong = []
    for module, path in MODULES.items():
        for target, line in imports_of(module, path):
            if RANK[layer_of(target)] > RANK[layer_of(module)] and upward(module, target):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {module} ({layer_of(module)}) imports "
                             f"{target} ({layer_of(target)})")
    assert not wrong, "\n".join(wrong)


def test_no_modules_import_each_other():
    """No circle among acct's modules, lazy imports included (model.py, finetune.py and parallel.py
    once made one): each module's imports can be ordered before it."""
    graph = {module: {target for target, _ in imports_of(module, path) if target in MODULES and upward(module, target)}
             for module, path in MODULES.items()}
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        pytest.fail("import circle: " + " → ".join(reversed(error.args[1])))


def test_the_checks_see_an_upward_import_inside_a_function(tmp_path):
    """A lazy import counts: the static check reads a function's body too."""
    path = tmp_path / "late.py"
    path.write_text("def numbers():\n    from acct.render.markdown import md\n    import acct.cli\n")
    found = [target for target, _ in imports_of("acct.reports.late", path)]
    assert found == ["acct.render.markdown", "acct.cli"]
    assert all(RANK[layer_of(target)] > RANK["reports"] for target in found)


@pytest.mark.parametrize("layer", [layer for layer, _ in LAYERS if layer != "plugins"])
def test_a_layer_imported_alone_loads_nothing_above_it(layer):
    """Each layer's modules imported in a fresh interpreter: sys.modules then holds no module of a
    layer above (acct.__main__ is left out: importing it runs the command line)."""
    modules = [module for module in MODULES if layer_of(module) == layer and module != "acct.__main__"]
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            "print('\\n'.join(name for name in sys.modules if name == 'acct' or name.startswith('acct.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = done.stdout.split()
    assert set(modules) <= set(loaded)
    above = [name for name in loaded if RANK[layer_of(name)] > RANK[layer]]
    assert not above, f"importing the {layer} layer loads {', '.join(above)}"


def test_only_the_engine_touches_ast():
    """The layers above the engine build formulas with its constructors (named, add, mul, ...)."""
    uses = re.compile(r"\bast\.|^\s*import\s+ast\b|^\s*from\s+ast\s+import\b", re.MULTILINE)
    found = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        if (ROOT / "core" / "engine") in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {match.group().strip()}"
                  for match in uses.finditer(text)]
    assert not found, "\n".join(found)
    # the pattern sees what it must and not what it must not
    assert uses.search("tree = ast.BinOp(a, op, b)") and uses.search("    import ast\n")
    assert not uses.search("the last.value, past.x, cast.y") and not uses.search("import astor")
