"""The installed package: `acct` and `acct.plugins` only, never a bare `core` or `plugins`."""

import subprocess
import sys
from pathlib import Path

import acct
import acct.plugins


def test_import_package_maps_to_core_and_plugins():
    assert Path(acct.__file__).parent.name == "core"
    assert Path(acct.plugins.__file__).parent.name == "plugins"


def test_no_bare_core_or_plugins_is_importable(tmp_path):
    probe = "import importlib.util as u; print(u.find_spec('core'), u.find_spec('plugins'))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert result.stdout.strip() == "None None", result.stdout + result.stderr


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "acct"
    assert script.exists()
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert result.stdout.strip() == f"acct {acct.__version__}"
