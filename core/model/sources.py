"""What a command names as its model, made a Preset: a preset TOML file, a Hugging Face config.json,
a folder holding one, `hf:ORG/NAME` from the local Hugging Face cache, or a bundled preset by name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union

from acct.model.config import Preset, load_preset
from acct.errors import AcctError, ConfigError, suggest

HUB_PREFIX = "hf:"
HUB_HINT = "pip install 'acct-lm[hub]'"


def load_source(name: Union[str, Path], registry: Callable[[], object]) -> Preset:
    """The preset `name` stands for; `registry()` gives the loaded plugins, asked for only when
    a config.json is converted (its importers are plugins)."""
    return resolve(name, registry).preset if is_config(name) else _preset(name)


def resolve(name: Union[str, Path], registry: Callable[[], object]):
    """A config source converted: an `acct.model.importers.Imported` (the preset and its provenance)."""
    from acct.model.importers import config_name, convert, read_config

    text = str(name)
    if text.startswith(HUB_PREFIX):
        path, label = hub_config(text[len(HUB_PREFIX):])
        model_name = text[len(HUB_PREFIX):]
    else:
        path = Path(text)
        if path.is_dir():
            folder = path
            path = folder / "config.json"
            if not os.path.lexists(path):  # a link there, even a broken one, is said so when read
                raise ConfigError(f"{folder}: is a folder without a config.json")
        label = str(path)
        model_name = ""
    config = read_config(path)
    return convert(config, registry(), label, path, model_name or config_name(path, config))


def is_config(name: Union[str, Path]) -> bool:
    """Whether `name` names a config.json (a file, a folder holding one, hf:ORG/NAME), not a preset."""
    text = str(name)
    # a folder without a config.json is left to load_preset, which says it is not a file
    return text.startswith(HUB_PREFIX) or text.endswith(".json") or os.path.lexists(Path(text) / "config.json")


def _preset(name: Union[str, Path]) -> Preset:
    """A TOML preset file, else a bundled preset of that name."""
    path = Path(name)
    # lexists: a symbolic link, even to nothing or in a loop, names a file (said so when it is read)
    if os.path.lexists(path) or os.sep in str(name) or (os.altsep or os.sep) in str(name):
        return load_preset(path)
    bundled = bundled_presets()
    stem = path.name[:-5] if path.name.endswith(".toml") else path.name
    if stem in bundled:
        return load_preset(bundled[stem])
    raise ConfigError(f"{name}: no such preset file, config.json, folder, or bundled preset"
                      f"{suggest(stem, bundled)}; `acct presets` lists the bundled ones")


def presets_folder() -> Optional[Path]:
    """Where the bundled presets are: `acct/presets/` in an installed package, the
    repository's `presets/` beside `core/` in a source checkout or an editable install."""
    import acct

    package = Path(acct.__file__).resolve().parent
    for folder in (package / "presets", package.parent / "presets" if package.name == "core" else None):
        if folder is not None and folder.is_dir():
            return folder
    return None


def bundled_presets() -> Dict[str, Path]:
    """Bundled preset name -> its file, sorted by name."""
    folder = presets_folder()
    if folder is None:
        return {}
    return {path.stem: path for path in sorted(folder.glob("*.toml"))}


def hub_cache() -> Path:
    """The Hugging Face hub cache, found as huggingface_hub finds it, but read from the
    environment now (huggingface_hub reads it once, at import)."""
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface")
    legacy = os.environ.get("HUGGINGFACE_HUB_CACHE") or os.path.join(home, "hub")
    return Path(os.path.expandvars(os.path.expanduser(os.environ.get("HF_HUB_CACHE") or legacy)))


def hub_config(repo: str) -> "tuple[Path, str]":
    """The cached config.json of `ORG/NAME[@REVISION]` and its label; never the network."""
    repo_id, _, revision = repo.partition("@")
    label = f"{HUB_PREFIX}{repo}"
    if not repo_id or repo_id.count("/") > 1:
        raise ConfigError(f"{label}: expected hf:ORG/NAME (a Hugging Face repo id), e.g. hf:Qwen/Qwen3-0.6B")
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        raise ConfigError(f"{label}: reading the Hugging Face cache needs huggingface_hub: {HUB_HINT}") from None
    cache = hub_cache()
    try:
        found = try_to_load_from_cache(repo_id, "config.json", cache_dir=cache, revision=revision or None)
    except Exception as error:  # huggingface_hub's validation errors: a malformed repo id
        raise ConfigError(f"{label}: {type(error).__name__}: {error}") from None
    if not isinstance(found, str):
        raise ConfigError(f"{label}: no config.json of {repo_id}{'@' + revision if revision else ''} in the local "
                          f"Hugging Face cache {cache}; acct reads only the cache (download it first, e.g. "
                          f"`hf download {repo_id} config.json`)")
    return Path(found), label


def preset_listing(registry: object) -> List[List[str]]:
    """`acct presets`: each bundled preset's name, parameter count and description."""
    from acct.model.model import TOTAL_PARAMS, build_model

    rows = []
    for name, path in bundled_presets().items():
        preset = load_preset(path)
        try:
            model = build_model(preset, registry, outputs=())
            params = f"{model.sheet.evaluate()[TOTAL_PARAMS]:,}"
        except AcctError as error:  # a preset that needs a variant this installation lacks
            params = f"({error})"
        rows.append([name, params, preset.description])
    return rows
