"""The `acct` command line: parse arguments, run a command, turn errors into one line and exit 1."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path
from typing import List, Optional, Sequence

from . import __version__
from .errors import AcctError

FORMATS = ("markdown", "json", "csv")
TRACEBACK_ENV = "ACCT_TRACEBACK"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acct",
        description="Exact parameter, memory and FLOPs accounting for Transformer language models.",
    )
    parser.add_argument("--version", action="version", version=f"acct {__version__}")
    parser.add_argument(
        "--traceback", action="store_true",
        help=f"show the full traceback of an error (for plugin developers; or set {TRACEBACK_ENV}=1)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def plugin_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "-p", "--plugin", action="append", default=[], metavar="FILE", type=Path,
            help="load a local plugin file (repeatable)",
        )
        command.add_argument(
            "--disable", action="append", default=[], metavar="NAME",
            help="block the plugin NAME (repeatable; or ACCT_DISABLE_PLUGINS=a,b)",
        )

    run = commands.add_parser("run", help="report params, memory and forward FLOPs of a preset")
    run.add_argument("preset", type=Path, help="a preset TOML file, e.g. presets/gpt2-xl.toml")
    run.add_argument("-f", "--format", choices=FORMATS, default="markdown", help="output format (default: markdown)")
    run.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", dest="overrides",
        help="override an input, e.g. --set context_length=16384 (repeatable; VALUE may be a formula)",
    )
    run.add_argument(
        "--variant", action="append", default=[], metavar="SLOT=VARIANT", dest="variants",
        help="choose a variant for a slot over the preset's, e.g. --variant lm_head=tied (repeatable)",
    )
    plugin_options(run)

    plugins = commands.add_parser("plugins", help="list the loaded plugins and what each provides")
    plugins.add_argument("-f", "--format", choices=("markdown", "json"), default="markdown")
    plugin_options(plugins)
    return parser


def _run(args: argparse.Namespace) -> str:
    from .config import load_preset, parse_assignment
    from .model import build_model
    from .registry import load_registry
    from .render import RENDERERS
    from .report import make_report

    overrides = dict(parse_assignment(text) for text in args.overrides)
    preset = load_preset(args.preset)
    for text in args.variants:
        slot, variant = parse_assignment(text, option="--variant")
        preset.choose(slot, str(variant), "--variant")
    registry = load_registry(plugin_files=[*args.plugin, *preset.plugins], disabled=args.disable)
    model = build_model(preset, registry, overrides)
    return RENDERERS[args.format](make_report(model))


def _plugins(args: argparse.Namespace) -> str:
    import json

    from .registry import load_registry

    registry = load_registry(plugin_files=args.plugin, disabled=args.disable)
    if args.format == "json":
        listing = [
            {"name": p.name, "origin": p.origin, "location": p.location, "provides": p.provides}
            for p in registry.plugins
        ]
        return json.dumps(listing, indent=2) + "\n"
    from .render import _table

    rows = [[p.name, p.origin, p.location, ", ".join(p.provides)] for p in registry.plugins]
    defaults = ", ".join(f"{slot} = {variant}" for slot, variant in registry.defaults.items())
    return _table(["plugin", "from", "where", "provides"], rows, "llll") + f"\n\nDefault variants: {defaults}.\n"


COMMANDS = {"run": _run, "plugins": _plugins}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run acct with `argv` (default: sys.argv[1:]); return the exit status."""
    args = _parser().parse_args(argv)  # usage errors exit 2 here, as argparse does
    show_traceback = args.traceback or os.environ.get(TRACEBACK_ENV, "") not in ("", "0")
    try:
        output = COMMANDS[args.command](args)
    except AcctError as error:
        if show_traceback:
            traceback.print_exc()
        # one line, even when a message quoted from pluggy or a plugin has several
        message = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
        print(f"acct: error: {message}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug in acct itself: still one line, and a way to see more
        if show_traceback:
            traceback.print_exc()
        print(
            f"acct: error: internal error {type(error).__name__}: {error} "
            f"(rerun with --traceback and report it)",
            file=sys.stderr,
        )
        return 1
    try:
        sys.stdout.write(output)
        sys.stdout.flush()
    except BrokenPipeError:  # `acct run ... | head`
        sys.stderr.close()
    return 0
