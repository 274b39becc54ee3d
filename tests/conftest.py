"""Shared fixtures: the repository's presets, a loaded registry, and the CLI run in-process."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from acct.cli import main
from acct.model.config import load_preset
from acct.model.model import build_model
from acct.model.registry import load_registry
from acct.reports.run import make_report

# In CI the property tests draw the same examples every run (derandomize), so that a submission's
# result does not depend on the luck of the draw; locally each run draws new ones and finds new
# cases (HYPOTHESIS_PROFILE=ci reproduces CI's draw).
try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # the property tests import hypothesis themselves and say so
    pass
else:
    _hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
    _hypothesis_settings.register_profile("dev", print_blob=True)
    _hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ROOT / "presets"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def registry():
    return load_registry()


@pytest.fixture(scope="session")
def report_of(registry):
    """report_of('gpt2-xl', context_length=16384) -> the evaluated Report."""

    def make(name: str, **overrides):
        return make_report(build_model(load_preset(PRESETS / f"{name}.toml"), registry, overrides))

    return make


@pytest.fixture
def cli(capsys):
    """cli('run', 'presets/gpt2-xl.toml') -> (exit status, stdout, stderr)."""

    def run(*argv: str):
        try:
            status = main(list(argv))
        except SystemExit as exit:  # argparse's usage errors
            status = exit.code
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def pytest_configure(config):
    """In CI the cross-checks' own counters must be there: a missing torch or transformers would turn
    every cross-check into a skip, and a skipped check is not a check."""
    if os.environ.get("CI"):
        missing = [name for name in ("torch", "transformers", "pandas") if importlib.util.find_spec(name) is None]
        if missing:
            pytest.exit(f"CI needs {', '.join(missing)} for the cross-checks (.ci/run installs them)", returncode=1)
