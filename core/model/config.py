"""Presets: read a model's shape and chosen variants from TOML, and `--set NAME=VALUE` overrides."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Dict, List, Tuple, Union

from acct.records import fresh, record

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

from acct.errors import ConfigError, describe, suggest
from acct.engine.formula import MAX_FORMULA_CHARS

Value = Union[int, str]  # a whole number, or a formula over other inputs

TOP_LEVEL_KEYS = ("name", "description", "source", "plugins", "biases", "model", "variants", "training")
TRAINING_KEYS = ("precision", "activations", "optimizer", "lora_targets", "base_weights")
MAX_PRESET_BYTES = 1_000_000  # presets and hardware files alike
# patterns, compiled by re (and cached there) when first matched: acct run without --set matches none
_WHOLE = r"^[+-]?[0-9](?:_?[0-9])*$"
_GROUPED = r"^[+-]?[0-9][0-9_]*(?:,[0-9_]+)+$"  # 2,048: thousands separators


@record
class Preset:
    """A preset as read from its file: text fields, inputs, variant choices, plugin files."""

    path: Path
    name: str
    description: str = ""
    source: str = ""
    inputs: Dict[str, Value] = fresh(dict)
    variants: Dict[str, str] = fresh(dict)
    plugins: List[Path] = fresh(list)
    biases: List[str] = fresh(list)  # component or group names whose layers carry biases
    chosen_by: Dict[str, str] = fresh(dict)  # slot -> "--variant slot" where the CLI chose it
    training: Dict[str, str] = fresh(dict)  # precision, activations (convention)

    def choose(self, slot: str, variant: str, option: str) -> None:
        """Choose a variant over the file's choice (from the command line)."""
        self.variants[slot] = variant
        self.chosen_by[slot] = f"{option} {slot}"

    def where(self, section: str, key: str = "") -> str:
        return f"{self.path}: [{section}] {key}".rstrip()


def read_bounded(path: Path, what: str, limit: int = MAX_PRESET_BYTES) -> bytes:
    """A data file's bytes: its size checked before it is read, and no more than `limit` bytes
    ever read, whatever stat says (a file may grow, or be a device stat knows no size of)."""
    from acct.files import kind_of, open_regular

    problem = kind_of(path)
    if problem == "a folder":
        raise ConfigError(f"{path}: is not a file")
    if problem is not None:  # checked before opening: a named pipe would block the reader
        raise ConfigError(f"{path}: is {problem}; {what} must be a regular file")
    try:
        size = path.stat().st_size
        if size > limit:
            raise ConfigError(f"{path}: is {size:,} bytes; {what} is at most {limit:,}")
        with open(open_regular(path), "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(raw) > limit:
        raise ConfigError(f"{path}: is more than {limit:,} bytes; {what} is at most {limit:,}")
    return raw


def read_toml(path: Path, what: str = "preset", limit: int = MAX_PRESET_BYTES, parse_float=float) -> dict:
    """A TOML file's table, bounded: its size is checked before it is read (and no more than
    `limit` bytes are ever read, whatever stat says), and nesting too deep for the parser is
    an error, not a RecursionError. `parse_float` gets each float's text (tomllib's hook)."""
    from acct.files import kind_of

    if kind_of(path) == "missing":
        raise ConfigError(f"{path}: no such {what} file")
    raw = read_bounded(path, f"a {what} file", limit)
    try:
        text = raw.decode("utf-8")
        return tomllib.loads(text, parse_float=parse_float)
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except (RecursionError, MemoryError):
        raise ConfigError(f"{path}: not valid TOML for acct: arrays or tables nested too deep") from None
    except ValueError:  # int() of more digits than the interpreter converts (4,300 by default)
        raise ConfigError(f"{path}: {_long_integer(text)}") from None


def _long_integer(text: str) -> str:
    """Where a TOML file's integer too long for int() is, in the user's words (tomllib's error
    names Python's limit and how to raise it)."""
    limit = getattr(sys, "get_int_max_str_digits", lambda: 4_300)()
    for number, line in enumerate(text.splitlines(), 1):
        longest = max((len(run.replace("_", "")) for run in re.findall(r"[0-9_]+", line)), default=0)
        if limit and longest > limit:
            key = line.partition("=")[0].strip()
            return f"line {number} ({key[:40]}): an integer of {longest:,} digits; acct reads at most {limit:,}"
    return f"an integer of more than {limit:,} digits; acct reads no longer ones"


def load_preset(path: Union[str, Path]) -> Preset:
    """Read and check the structure of a preset file; names are checked against plugins later."""
    path = Path(path)
    data = read_toml(path)

    for key in data:
        if key not in TOP_LEVEL_KEYS:
            hint = suggest(key, TOP_LEVEL_KEYS)
            if not hint and not isinstance(data[key], dict):
                hint = " (model inputs go in the [model] table)"
            raise ConfigError(f"{path}: unknown top-level key {key!r}{hint}; known: {', '.join(TOP_LEVEL_KEYS)}")
    preset = Preset(path, name=_text(data, "name", path, default=path.stem))
    preset.description = _text(data, "description", path)
    preset.source = _text(data, "source", path)

    model = _table(data, "model", path)
    for key, value in model.items():
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ConfigError(
                f"{preset.where('model', key)}: expected a whole number or a formula string, got {describe(value)}"
            )
        preset.inputs[key] = value
    for slot, variant in _table(data, "variants", path).items():
        if not isinstance(variant, str):
            raise ConfigError(f"{preset.where('variants', slot)}: expected a variant name, got {describe(variant)}")
        preset.variants[slot] = variant

    for key, value in _table(data, "training", path).items():
        if key not in TRAINING_KEYS:
            raise ConfigError(f"{preset.where('training', key)}: unknown key{suggest(key, TRAINING_KEYS)}; "
                              f"known: {', '.join(TRAINING_KEYS)}")
        if not isinstance(value, str):
            raise ConfigError(f"{preset.where('training', key)}: expected a name, got {describe(value)}")
        preset.training[key] = value
    preset.plugins = [_confined(path, p) for p in _strings(data, "plugins", path, "file paths")]
    preset.biases = _strings(data, "biases", path, "component or group names")
    return preset


def _confined(preset: Path, name: str) -> Path:
    """A plugin file a preset names: a relative path to a .py file inside the preset's folder,
    after resolving symbolic links (no absolute path, no `..` out of the folder, no link out)."""
    where = f"{preset}: plugins: {name!r}"
    if not name.endswith(".py"):
        raise ConfigError(f"{where} is not a .py file; a preset names plugin source files only")
    if Path(name).is_absolute() or name.startswith("~"):
        raise ConfigError(f"{where} is not relative to the preset's folder; name a file inside it")
    folder = preset.parent.resolve()
    joined = preset.parent / name
    try:
        resolved = joined.resolve()
    except (OSError, RuntimeError) as error:  # a symlink loop
        raise ConfigError(f"{where}: cannot resolve: {error}") from None
    if folder not in resolved.parents:
        raise ConfigError(f"{where} resolves to {resolved}, outside the preset's folder {folder}; "
                          "a preset names plugin files in its own folder only (pass others with -p FILE)")
    return joined


def _strings(data: dict, key: str, path: Path, what: str) -> List[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{path}: {key!r} must be a list of {what}, got {describe(value)}")
    return value


def parse_assignment(text: str, option: str = "--set") -> Tuple[str, Value]:
    """`NAME=VALUE` from --set: VALUE is a whole number (`16384`, `16_384`) or a formula."""
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value:
        raise ConfigError(f"{option} {text!r}: expected NAME=VALUE, e.g. --set context_length=16384")
    if not all(part.isidentifier() for part in name.split(".")):  # total.params: refused as an output later
        raise ConfigError(f"{option} {text!r}: {name!r} is not a name")
    if re.match(_GROUPED, value):
        raise ConfigError(f"{option} {name}: {value} is not a number: write {value.replace(',', '')} "
                          f"or {value.replace(',', '_')}")
    if re.match(_WHOLE, value) and len(value) <= MAX_FORMULA_CHARS:  # longer: refused as a formula, not by int()
        return name, int(value.replace("_", ""))
    return name, value  # checked as a formula when the sheet is built


def _text(data: dict, key: str, path: Path, default: str = "") -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        from acct.engine.units import WrittenDecimal

        shown = f"a float ({value!r})" if isinstance(value, WrittenDecimal) else describe(value)
        raise ConfigError(f"{path}: {key!r} must be a string, got {shown}")
    return value


def _table(data: dict, key: str, path: Path) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table, got {describe(value)}")
    return value




def load_hardware(path: Path):
    """An accelerator defined in TOML: name, description, memory, bandwidth (bytes per second),
    source, and a [flops] table of peak dense FLOP/s by dtype; numbers may carry units ("80GB")."""
    from acct.components import Hardware
    from acct.model.registry import exact_hardware
    from acct.engine.units import whole_bytes

    from acct.engine.units import WrittenDecimal, quantity

    # a TOML float is read from its text, exactly: bandwidth = 1e12 is 10^12, 0.9 is 9/10
    data = read_toml(path, "hardware", parse_float=WrittenDecimal)
    known = ("name", "description", "memory", "bandwidth", "flops", "source", "link_bandwidth",
             "network_bandwidth", "gpus_per_node", "price_per_hour")
    for key in data:
        if key not in known:
            raise ConfigError(f"{path}: unknown key {key!r}{suggest(key, known)}; known: {', '.join(known)}")
    for key in ("name", "memory", "bandwidth", "flops"):
        if key not in data:
            raise ConfigError(f"{path}: missing {key!r}")
    name = _text(data, "name", path)
    if not name.strip():
        raise ConfigError(f"{path}: 'name' is empty; name the hardware, e.g. name = \"mygpu\"")
    whole_bytes(data["memory"], f"{path}: hardware {name!r} memory")  # bytes are whole: "0.5" is refused
    gpus = data.get("gpus_per_node")
    if isinstance(gpus, WrittenDecimal):  # 8.0 is 8; 7.5 is refused as any other non-whole count
        whole = quantity(gpus, f"{path}: hardware {name!r} gpus_per_node", units=False)
        gpus = whole if type(whole) is int else gpus  # refused below, shown as written
    spec = Hardware(
        name=name, description=_text(data, "description", path, default=path.stem),
        memory=data["memory"], bandwidth=data["bandwidth"], flops=_table(data, "flops", path),
        source=_text(data, "source", path, default=str(path)),
        link_bandwidth=data.get("link_bandwidth"), network_bandwidth=data.get("network_bandwidth"),
        gpus_per_node=gpus, price_per_hour=data.get("price_per_hour"),
    )
    return exact_hardware(spec, str(path))
