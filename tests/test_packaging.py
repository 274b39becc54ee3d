"""The installed package: `acct` (with its folders engine, model, reports, render) and `acct.plugins`,
never a bare `core` or `plugins`."""

import subprocess
import sys
from pathlib import Path

import acct
import acct.plugins

ROOT = Path(__file__).resolve().parent.parent


def test_import_package_maps_to_core_and_plugins():
    """Editable (`pip install -e .`): acct is core/ and acct.plugins is plugins/. A regular install
    (`pip install '.[test]'`): both were copied under site-packages/acct at build time."""
    package = Path(acct.__file__).resolve().parent
    plugins = Path(acct.plugins.__file__).resolve().parent
    if package == ROOT / "core":
        assert plugins == ROOT / "plugins"
    else:
        assert package.name == "acct" and plugins == package / "plugins"
        def modules(folder):  # every module of the package, its subpackages' too
            return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.py") if "plugins" not in p.parts
                          and "presets" not in p.parts)

        assert modules(package) == modules(ROOT / "core")
        # every kind's folder too (components/, importers/, ...): each must be listed in pyproject.toml
        assert sorted(str(p.relative_to(plugins)) for p in plugins.rglob("*.py")) == sorted(
            str(p.relative_to(ROOT / "plugins")) for p in (ROOT / "plugins").rglob("*.py"))
        assert not (package.parent / "core").exists() and not (package.parent / "plugins").exists()


def test_no_bare_core_or_plugins_is_importable(tmp_path):
    probe = "import importlib.util as u; print(u.find_spec('core'), u.find_spec('plugins'))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert result.stdout.strip() == "None None", result.stdout + result.stderr


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "acct"
    assert script.exists()
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert result.stdout.strip() == f"acct {acct.__version__}"
