"""Hugging Face config.json in, preset out: read the JSON, check every field is declared, convert, write TOML.

An importer plugin (`acct.Importer`, keyed by `model_type`) declares each field
of a config.json it knows: the fields it maps, those known to change no count,
and those it accepts only at their no-op default. Anything else stops the
import with one line naming the field, its value and the model type: a count
is never silently wrong because a field went unread.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from acct.records import fresh, record

from acct.model.config import Preset
from acct.errors import ConfigError, PluginError, suggest

# Keys of any config.json that describe the file, the tokenizer or the runtime, never the
# architecture; every importer ignores them besides its own `ignores`.
METADATA = (
    "model_type", "architectures", "transformers_version", "torch_dtype", "dtype", "_name_or_path",
    "auto_map", "use_cache", "initializer_range", "bos_token_id", "eos_token_id", "pad_token_id",
    "tokenizer_class", "task_specific_params", "_attn_implementation", "attn_implementation",
    "return_dict", "output_attentions", "output_hidden_states", "torchscript", "use_return_dict",
)
# PretrainedConfig's own keys, which any model_type's config.json may carry (a full `to_dict()` dump
# writes them all; configs saved by transformers 4 often keep some): labels and the problem type are for
# classification heads, the rest steer generation or computation, never a causal LM's shapes
GENERIC = (
    "chunk_size_feed_forward", "id2label", "label2id", "problem_type", "is_encoder_decoder", "is_decoder",
    "finetuning_task", "prefix", "sep_token_id", "decoder_start_token_id", "forced_bos_token_id",
    "forced_eos_token_id", "max_length", "min_length", "do_sample", "early_stopping", "num_beams",
    "num_beam_groups", "diversity_penalty", "temperature", "top_k", "top_p", "typical_p", "repetition_penalty",
    "length_penalty", "no_repeat_ngram_size", "encoder_no_repeat_ngram_size", "bad_words_ids",
    "num_return_sequences", "output_scores", "return_dict_in_generate", "remove_invalid_values",
    "exponential_decay_length_penalty", "suppress_tokens", "begin_suppress_tokens", "tf_legacy_loss",
    "use_bfloat16", "num_labels", "_num_labels", "output_past", "gradient_checkpointing",
)
# ...and those that would change a count at any other value (pruned heads, cross-attention layers)
GENERIC_FIXED = {"pruned_heads": {}, "add_cross_attention": False, "tie_encoder_decoder": False,
                 "cross_attention_hidden_size": None}
HOOK = "acct_register_importers"
_REQUIRED = object()


def read_config(path: Path) -> Dict[str, Any]:
    """A config.json's object, bounded as presets are: the size is checked before reading, deep
    nesting is one line, and anything but a JSON object is an error."""
    import json

    from acct.model.config import read_bounded

    from acct.files import kind_of

    if kind_of(path) == "missing":
        raise ConfigError(f"{path}: no such config file")
    raw = read_bounded(path, "a config.json")  # a named pipe or a symlink loop is said so there
    try:
        data = json.loads(raw.decode("utf-8"), parse_int=_bounded_int)
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text") from None
    except (RecursionError, MemoryError):
        raise ConfigError(f"{path}: not valid JSON for acct: arrays or objects nested too deep") from None
    except ValueError as error:  # json.JSONDecodeError, or an integer of too many digits
        raise ConfigError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config.json holds a JSON object, got {_json_type(data)}")
    found = _long_integer(data)
    if found:
        field, digits = found
        raise ConfigError(f"{path}: field {field}: an integer of {digits:,} digits; acct reads integers of at "
                          f"most {MAX_CONFIG_DIGITS:,} digits")
    return data


# The longest integer a config.json may hold: far beyond any count (a 4,096-bit formula value has
# 1,234 digits, and no model field comes near), and below every limit Python may set on int() of
# a string (640 at the lowest), whose own error names sys.set_int_max_str_digits.
MAX_CONFIG_DIGITS = 640


class _LongInteger:
    """Stands in a parsed config for an integer of more than MAX_CONFIG_DIGITS digits: never built."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _bounded_int(text: str):
    digits = len(text) - text.startswith("-")
    return int(text) if digits <= MAX_CONFIG_DIGITS else _LongInteger(digits)


def _long_integer(data: Any) -> Optional[Tuple[str, int]]:
    """(field, digits) of the first integer too long to build, the field as `a.b[3]`; None if none.
    Iterative: a config.json may nest as deep as the parser allows."""
    stack: List[Tuple[str, Any]] = [("", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, _LongInteger):
            return where, value.digits
        if isinstance(value, dict):
            stack += [(f"{where}.{key}" if where else str(key), item) for key, item in reversed(list(value.items()))]
        elif isinstance(value, list):
            stack += [(f"{where}[{index}]", item) for index, item in reversed(list(enumerate(value)))]
    return None


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def show(value: Any) -> str:
    """A config value as JSON writes it (true, null, "silu"), shortened for an error line."""
    import json

    try:
        text = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@record
class Imported:
    """A converted config: the preset, and for each value the config fields it came from."""

    preset: Preset
    model_type: str
    origin: str
    importer: Any  # the RegisteredImporter
    comments: Dict[Tuple[str, str], str] = fresh(dict)  # ("model"|"variants"|"biases", key)
    ignored: List[str] = fresh(list)  # the config's keys known to change no count
    notes: List[str] = fresh(list)  # fields read that set nothing (they equal a default)


class Conversion:
    """What an importer's `convert` receives: the config's fields to read, and the preset to fill.

    Reading a field the importer did not declare in `maps` is the importer's bug (its
    declaration would not tell the truth) and an error naming it."""

    def __init__(self, config: Mapping[str, Any], model_type: str, origin: str, importer: Any):
        self.config = dict(config)
        self.model_type = model_type
        self.origin = origin
        self._importer = importer
        self.inputs: Dict[str, Any] = {}
        self.variants: Dict[str, str] = {}
        self.biases: List[str] = []
        self.comments: Dict[Tuple[str, str], str] = {}
        self.notes: List[str] = []
        self.description = ""

    # -- reading -------------------------------------------------------------

    def __contains__(self, name: str) -> bool:
        self._declared(name)
        return name in self.config

    def get(self, name: str, default: Any = _REQUIRED) -> Any:
        """The field's value; `default` when the config leaves it out (without a default, a
        missing field is an error)."""
        self._declared(name)
        if name in self.config:
            return self.config[name]
        if default is _REQUIRED:
            raise ConfigError(f"{self.origin}: model_type {self.model_type!r} needs the field {name!r}")
        return default

    def integer(self, name: str, default: Any = _REQUIRED, minimum: int = 1) -> int:
        """A whole-number field of at least `minimum`; null counts as absent."""
        value = self.get(name, default)
        if value is None and default is not _REQUIRED:
            value = default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.bad(name, value, f"a whole number of at least {minimum}")
        return value

    def flag(self, name: str, default: bool, nullable: bool = False) -> bool:
        """A true/false field. null is refused, as transformers' strict config classes refuse it for a
        `bool` field; `nullable` says the class declares `bool | None`, and then null counts as absent."""
        value = self.get(name, default)
        if value is None and not nullable:
            raise self.bad(name, value, "true or false (the config class takes no null here)")
        if value is None:
            value = default
        if not isinstance(value, bool):
            raise self.bad(name, value, "true or false")
        return value

    def fraction(self, name: str, default: Any = _REQUIRED) -> Fraction:
        """A number field made exact from its decimal text (0.4 -> 2/5)."""
        value = self.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (
                float("inf"), float("-inf")):
            raise self.bad(name, value, "a number")
        return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)

    def bad(self, name: str, value: Any, expected: str) -> ConfigError:
        """The error for a field whose value acct cannot use."""
        return ConfigError(f"{self.origin}: model_type {self.model_type!r}: {name} = {show(value)}: expected "
                           f"{expected}")

    def unsupported(self, name: str, value: Any, why: str) -> ConfigError:
        """The error for a field whose value changes a count in a way acct does not map."""
        return ConfigError(f"{self.origin}: model_type {self.model_type!r}: {name} = {show(value)} {why}; "
                           f"acct stops rather than count it wrong")

    def declares(self, name: str) -> bool:
        """Whether the importer declares `name` among the fields it maps."""
        return name in self._importer.spec.maps

    def _declared(self, name: str) -> None:
        spec = self._importer.spec
        if name not in spec.maps:
            raise PluginError(f"{self._importer.plugin}: importer {spec.model_type!r} reads the field {name!r}, "
                              "which it does not declare in maps")

    # -- writing -------------------------------------------------------------

    def set(self, name: str, value: Any, source: str) -> None:
        """Set the input `name` (a whole number, a Fraction, or a formula) from `source`, the
        config fields it came from, as the TOML comment will say."""
        if isinstance(value, Fraction):
            value = value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
        self.inputs[name] = value
        self.comments[("model", name)] = source

    def note(self, text: str) -> None:
        """A comment for the TOML's [model] table: a field read that needs no value (it equals
        the input's default)."""
        self.notes.append(text)

    def choose(self, slot: str, variant: str, source: str) -> None:
        """Choose `variant` for `slot`, because of `source`."""
        self.variants[slot] = variant
        self.comments[("variants", slot)] = source

    def bias(self, target: str, source: str) -> None:
        """Turn on the biases of a row or group, because of `source`."""
        if target not in self.biases:
            self.biases.append(target)
        self.comments[("biases", target)] = source


def find_importer(registry: Any, model_type: Any, origin: str) -> Any:
    """The registered importer of `model_type`, or an error listing the supported ones."""
    if not isinstance(model_type, str) or not model_type:
        raise ConfigError(f"{origin}: a config.json names its architecture in \"model_type\" (a string), "
                          f"got {show(model_type)}")
    found = registry.importer_of(model_type)
    if found is None:
        known = sorted(registry.importers)
        raise ConfigError(f"{origin}: model_type {model_type!r} has no importer{suggest(model_type, known)}; "
                          f"supported: {', '.join(known)}; a plugin adds one with the hook {HOOK}")
    from acct.model.registry import make_importer

    return make_importer(found.spec, found.plugin)  # its fields checked (a builtin's are not when loaded)


def check_fields(config: Mapping[str, Any], importer: Any, origin: str) -> List[str]:
    """Every key of the config is mapped, known to change no count, or at its no-op value;
    returns the keys that change no count (for the TOML's comment)."""
    spec = importer.spec
    ignored = []
    for key, value in config.items():
        if key in spec.maps:
            continue
        if key in METADATA or key in spec.ignores or key in GENERIC:
            if key != "model_type":
                ignored.append(key)
            continue
        if key in spec.fixed or key in GENERIC_FIXED:
            expected = spec.fixed[key] if key in spec.fixed else GENERIC_FIXED[key]
            if value is None or (type(value) is type(expected) and value == expected):
                ignored.append(key)
                continue
            raise ConfigError(
                f"{origin}: model_type {spec.model_type!r}: {key} = {show(value)} changes the architecture in a "
                f"way the {spec.model_type} importer does not map (it accepts only {show(expected)}); acct stops "
                "rather than count it wrong"
            )
        raise ConfigError(
            f"{origin}: model_type {spec.model_type!r}: unknown field {key} = {show(value)}: the "
            f"{spec.model_type} importer ({importer.plugin.name}) neither maps it nor knows it changes no count, "
            "so acct stops rather than risk a wrong count"
        )
    return ignored


def convert(config: Mapping[str, Any], registry: Any, origin: str, path: Path, name: str) -> Imported:
    """The preset a config.json describes, converted by its model_type's importer."""
    model_type = config.get("model_type")
    importer = find_importer(registry, model_type, origin)
    ignored = check_fields(config, importer, origin)
    conversion = Conversion(config, model_type, origin, importer)
    try:
        importer.spec.convert(conversion)
    except (ConfigError, PluginError):
        raise
    except Exception as error:  # an importer's bug must name the plugin
        raise PluginError(f"{importer.plugin}: importer {model_type!r} raised {type(error).__name__}: "
                          f"{error}") from error
    description = conversion.description or importer.spec.description
    context = conversion.comments.get(("model", "context_length"))
    source = f"Hugging Face config.json {origin} (model_type {model_type})" + (
        f"; context_length from {context}" if context else "")
    preset = Preset(path, name=name, description=description, source=source,
                    inputs=dict(conversion.inputs), variants=dict(conversion.variants),
                    biases=list(conversion.biases))
    ignored = [key for key in ignored if key not in METADATA and key not in GENERIC]
    return Imported(preset, model_type, origin, importer, dict(conversion.comments), ignored, conversion.notes)


def to_toml(imported: Imported, version: str) -> str:
    """The preset as TOML: every value with a comment naming the config fields it came from."""
    import json

    preset, comments = imported.preset, imported.comments
    lines = [
        f"# Imported by acct {version} from {imported.origin} (model_type {imported.model_type}, importer "
        f"{imported.importer.plugin.name}).",
        "# Each value's comment names the config.json fields it came from.",
    ]
    if imported.ignored:
        lines += _wrapped("# Fields that change no count: ", ", ".join(imported.ignored) + ".")
    lines += [
        f"name = {json.dumps(preset.name, ensure_ascii=False)}",
        f"description = {json.dumps(preset.description, ensure_ascii=False)}",
        f"source = {json.dumps(preset.source, ensure_ascii=False)}",
    ]
    if preset.biases:
        lines.append("biases = [")
        lines += [f"    {json.dumps(target)},  # {comments[('biases', target)]}" for target in preset.biases]
        lines.append("]")
    lines += ["", "[model]"]
    for key, value in preset.inputs.items():
        text = str(value) if isinstance(value, int) else json.dumps(value)
        lines.append(f"{key} = {text}  # {comments[('model', key)]}")
    lines += [f"# {note}" for note in imported.notes]
    lines += ["", "[variants]"]
    for slot, variant in preset.variants.items():
        lines.append(f"{slot} = {json.dumps(variant)}  # {comments[('variants', slot)]}")
    return "\n".join(lines) + "\n"


def _wrapped(prefix: str, text: str, width: int = 100) -> List[str]:
    lines, line = [], prefix
    for word in text.split(" "):
        if len(line) + len(word) + 1 > width and line.strip() != "#":
            lines.append(line.rstrip())
            line = "#   "
        line += word + " "
    lines.append(line.rstrip())
    return lines


def write_new(path: Path, text: str, force: bool) -> None:
    """Write `text` to `path`: never over an existing file unless `force`, never through a
    symbolic link (O_NOFOLLOW: a link planted at the path is refused, not followed)."""
    import os

    if os.path.islink(path):
        raise ConfigError(f"{path}: is a symbolic link; acct import does not write through one")
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    flags |= os.O_TRUNC if force else os.O_EXCL
    try:
        descriptor = os.open(path, flags, 0o644)
    except FileExistsError:
        raise ConfigError(f"{path}: exists; add --force to replace it") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot write: {error.strerror or error}") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def config_name(path: Path, config: Mapping[str, Any]) -> str:
    """A name for the model: the file's stem, or its folder's name for a `config.json`."""
    if path.name == "config.json" and path.parent.name not in ("", "."):
        return path.parent.name
    if path.name == "config.json":
        return str(Path.cwd().name) or "config"
    return path.stem

