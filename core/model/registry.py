"""The plugin registry: load plugins from their three places, collect what each registers."""

from __future__ import annotations

import importlib
import inspect
import keyword
import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from acct.records import fields, fresh, record

import pluggy

from acct import hookspecs
from acct.components import ActivationConvention, Component, Convention, Hardware, Importer, Input
from acct.errors import AcctError, PluginError, suggest
from acct.engine.formula import Formula, Number, parse, scaled, without_factor
from acct.engine.units import quantity

# Plugins named here are blocked, comma-separated, as with --disable.
DISABLE_ENV = "ACCT_DISABLE_PLUGINS"
ENTRY_POINT_GROUP = "acct"
# the plugin name of the inputs core's own outputs read (acct.model.outputs)
CORE = "core"
# the input a row with per_layer=True repeats over (a shorthand for multiplicity="num_layers")
LAYERS = "num_layers"


@record
class PluginInfo:
    """A loaded plugin: its name, where it came from, and what it provides."""

    name: str
    origin: str  # "builtin", "entry point", "file"
    location: str  # module file, "dist-name version", or the file's path
    provides: List[str] = fresh(list)

    def __str__(self) -> str:
        return f"plugin {self.name!r} ({self.location})"


@record
class RegisteredInput:
    spec: Input
    default: Optional[Formula]
    plugin: PluginInfo

    def __getattr__(self, name: str) -> object:
        """A builtin input's default formula is parsed when first read (see make_input)."""
        if name == "default" and "spec" in self.__dict__:
            self.__dict__["default"] = _input_default(self.spec, self.plugin)
            return self.__dict__["default"]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


@record
class RegisteredComponent:
    spec: Component
    params: Formula
    flops: Formula
    shape: Optional[Tuple[Formula, Formula, Formula]]
    batch: Optional[Formula]
    bias: Optional[Formula]
    plugin: PluginInfo
    activations: Dict[str, Formula]  # by activation convention; "*" for every convention
    backward: Optional[Formula]  # as the plugin states it; None: 2 × flops, made when first read
    decode: Optional[Formula]  # as the plugin states it; None: flops / context_length, made when first read
    kv_cache: Formula
    flops_other: Formula
    multiplicity: Formula  # instances in the model: 1, num_layers, or any formula over the inputs
    params_active: Formula
    flops_dense: Optional[Formula]
    kv_split: Optional[Formula]  # the devices one instance's KV cache is divided among; None: gpus

    def __getattr__(self, name: str) -> object:
        """A pending row's (pending_row) fields are checked when one is first read, and each formula
        is parsed when it is first read: a run reads neither the activations, nor the backward,
        decode, KV-cache or non-matmul formulas."""
        fields = self.__dict__
        if fields.get("_pending") and name in _ROW_PARSERS:
            where = f"{fields['plugin']}: component {fields['spec'].name!r}"
            if fields["_pending"] is not _CHECKED:
                _check_component(fields["spec"], where)
                fields["_pending"] = _CHECKED
            fields[name] = _ROW_PARSERS[name](self, fields["spec"], where)
            return fields[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def where(self) -> str:
        return f"{self.plugin}: component {self.spec.name!r}"

    @property
    def flops_backward(self) -> Formula:
        """The backward pass: the plugin's formula, or 2 × forward (made when a command first needs it)."""
        if self.backward is None:
            self.backward = scaled(self.flops, 2)
        return self.backward

    @property
    def flops_decode(self) -> Formula:
        """One decoded token: the plugin's formula, or forward / context_length (made when first needed)."""
        if self.decode is None:
            self.decode = without_factor(self.flops, "context_length")
        return self.decode

    @property
    def formulas(self) -> Tuple[Formula, ...]:
        """Every formula of the row: params, FLOPs, and the shape's sides and batch."""
        return (self.params, self.flops, *(self.shape or ()), *((self.batch,) if self.batch else ()))

    @property
    def repeated(self) -> bool:
        """Whether the row stands for more than one instance (its multiplicity is not the constant 1)."""
        return self.multiplicity.text != "1"


@record
class RegisteredHardware:
    """An accelerator with its numbers made exact."""

    spec: Hardware
    memory: Number
    bandwidth: Number
    flops: Dict[str, Number]
    plugin: object  # the plugin (PluginInfo) or the TOML file (its path) that defined it
    # None where the hardware does not say (acct then asks for the value when a report needs it)
    link_bandwidth: Optional[Number] = None
    network_bandwidth: Optional[Number] = None
    gpus_per_node: Optional[int] = None
    price_per_hour: Optional[Number] = None

    def __getattr__(self, name: str) -> object:
        """A builtin accelerator's numbers are made exact when first read (see pending_hardware)."""
        fields = self.__dict__
        if fields.get("_pending") and name in _HARDWARE_FIELDS:
            fields.update(vars(exact_hardware(fields["spec"], fields["plugin"])))
            del fields["_pending"]
            return fields[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


@record
class RegisteredConvention:
    spec: Convention
    forward: Formula
    training: Formula
    plugin: PluginInfo

    def __getattr__(self, name: str) -> object:
        """A builtin convention's formulas are parsed when first read (see make_convention): only
        the reports that count by conventions read them."""
        if name in ("forward", "training") and "spec" in self.__dict__:
            where = f"{self.plugin}: convention {self.spec.name!r} {name}"
            self.__dict__[name] = parse(getattr(self.spec, name), where)
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


@record
class RegisteredActivations:
    spec: ActivationConvention
    plugin: PluginInfo


@record
class RegisteredImporter:
    spec: Importer
    plugin: PluginInfo


@record
class Registry:
    """Everything the loaded plugins registered."""

    plugins: List[PluginInfo]
    inputs: Dict[str, RegisteredInput]
    variants: Dict[Tuple[str, str], List[RegisteredComponent]]
    defaults: Dict[str, str]
    hardware: Dict[str, RegisteredHardware] = fresh(dict)
    conventions: Dict[str, RegisteredConvention] = fresh(dict)
    activations: Dict[str, RegisteredActivations] = fresh(dict)
    loaded_importers: Dict[str, RegisteredImporter] = fresh(dict)  # by Hugging Face model_type
    # slot -> the disabled builtin plugin whose default variant filled it (no loaded plugin fills it now)
    unfilled: Dict[str, str] = fresh(dict)
    # the builtin importer plugins, not imported yet: deferred(module) imports and registers one, or
    # all for None (load_deferred, importer_of)
    deferred: Optional[Callable[[Optional[str]], bool]] = None

    @property
    def importers(self) -> Dict[str, RegisteredImporter]:
        """Every importer, by model_type; the builtin importer plugins are loaded on first use."""
        self.load_deferred()
        return self.loaded_importers

    def load_deferred(self) -> None:
        """Import and register the plugins whose loading was put off until needed (the builtin
        Hugging Face importers), so that they are looked up and listed like any other."""
        if self.deferred is not None:
            load, self.deferred = self.deferred, None
            load(None)

    def importer_of(self, model_type: str) -> Optional[RegisteredImporter]:
        """The importer of `model_type`: from the builtin module that registers it alone where the
        index names one (a config.json pays for its own family, not for all of them), else after
        every deferred one is loaded; None when no plugin registers it."""
        if self.deferred is not None:
            from acct.plugins.importers import MODEL_TYPES

            module = MODEL_TYPES.get(model_type)
            if module is not None:  # loaded even when a plugin registers the type: two are an error
                self.deferred(module)
            if model_type not in self.loaded_importers:
                self.load_deferred()
        return self.loaded_importers.get(model_type)

    @property
    def default_convention(self) -> Optional[str]:
        """The FLOP-counting convention marked default, the baseline of the others."""
        return next((name for name, c in self.conventions.items() if c.spec.default), None)

    @property
    def default_activations(self) -> Optional[str]:
        """The activation convention marked default."""
        return next((name for name, a in self.activations.items() if a.spec.default), None)

    def slots(self) -> Dict[str, List[str]]:
        """slot -> its variant names, in registration order."""
        slots: Dict[str, List[str]] = {}
        for slot, variant in self.variants:
            slots.setdefault(slot, []).append(variant)
        return slots


class _Hooks:
    """What pluggy is given to register for a plugin module: its hook functions alone (those
    marked with acct.hookimpl, whatever their names). pluggy inspects every name `dir()` lists;
    a plugin module's imports and constants are ten times its hooks, and inspecting them was a
    tenth of start-up. It shows as the module it stands for."""

    def __init__(self, module: ModuleType) -> None:
        self.__module = module
        # the marker first: most of a module's names are constants and imports, and the marker is
        # the cheaper test of the two
        self.__names = [name for name, value in vars(module).items()
                        if getattr(value, "acct_impl", None) is not None and inspect.isroutine(value)]
        for name in self.__names:
            self.__dict__[name] = getattr(module, name)

    def __dir__(self) -> List[str]:
        return list(self.__names)

    def __repr__(self) -> str:
        return repr(self.__module)


_hooks_of = _Hooks


def get_plugin_manager() -> pluggy.PluginManager:
    """A fresh plugin manager with acct's hook specifications and no plugins."""
    manager = pluggy.PluginManager("acct")
    manager.add_hookspecs(hookspecs)
    return manager


# long: the places plugins come from, read top to bottom in the order they load (builtins, the deferred
# importers, entry points, files named), then what blocking and pluggy's pending check refuse
def load_registry(
    plugin_files: Sequence[Path] = (),
    disabled: Iterable[str] = (),
    builtins: Optional[Sequence[str]] = None,
) -> Registry:
    """Load builtin plugins, then the `acct` entry points, then local files; collect their registrations.
    The builtin importer plugins are registered when the registry's importers are first read."""
    from acct.plugins import DEFAULT_PLUGINS, IMPORTER_PLUGINS, plugin_name

    manager = get_plugin_manager()
    from_env = [n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()]
    blocked = set(disabled) | set(from_env)
    for name in blocked:
        manager.set_blocked(name)
    infos: Dict[str, PluginInfo] = {}
    known_names: List[str] = []  # every plugin name found, loaded or blocked
    blocked_builtins: List[Tuple[ModuleType, PluginInfo]] = []

    def add(module: ModuleType, info: PluginInfo) -> None:
        known_names.append(info.name)
        if info.name in blocked:
            return
        if info.name in infos:
            raise PluginError(f"{info}: the plugin name {info.name!r} is already taken by {infos[info.name]}")
        try:
            manager.register(_hooks_of(module), name=info.name)
        except (pluggy.PluginValidationError, ValueError) as error:
            raise PluginError(f"{info}: {error}") from None
        infos[info.name] = info

    from acct.model import outputs as core_inputs

    if CORE in blocked:
        raise PluginError(f"--disable {CORE}: acct's own inputs (batch_size, steps, bytes per value) cannot be "
                          "disabled")
    add(core_inputs, PluginInfo(CORE, "builtin", _file_of(core_inputs)))
    for module_name in DEFAULT_PLUGINS if builtins is None else builtins:
        module = importlib.import_module(module_name)
        info = PluginInfo(plugin_name(module_name), "builtin", _file_of(module))
        add(module, info)
        if info.name in blocked:
            blocked_builtins.append((module, info))
    deferred: List[Tuple[str, PluginInfo]] = []
    for module_name in IMPORTER_PLUGINS if builtins is None else ():
        info = PluginInfo(plugin_name(module_name), "builtin", "")
        known_names.append(info.name)
        if info.name not in blocked:
            deferred.append((module_name, info))
    for entry_point in entry_points(ENTRY_POINT_GROUP):
        info = PluginInfo(entry_point.name, "entry point",
                          f"entry point {entry_point.value} from {entry_point.distribution}")
        if info.name in blocked:  # never imported: blocking is how a user stops a broken one
            known_names.append(info.name)
            continue
        try:
            module = entry_point.load()
        except BaseException as error:  # a third party's import can fail any way at all, even exit
            _reraise_interrupt(error)
            raise PluginError(f"{info}: failed to import: {type(error).__name__}: {error}") from error
        add(module, info)
    for path in plugin_files:
        if Path(path).stem in blocked:
            known_names.append(Path(path).stem)
            continue
        module, info = _load_file(Path(path))
        add(module, info)
    for name in sorted(blocked):
        if name not in known_names:
            option = f"{DISABLE_ENV}={name}" if name in from_env and name not in set(disabled) else f"--disable {name}"
            raise PluginError(f"{option}: no plugin is named {name!r}{suggest(name, known_names)}; "
                              f"known: {', '.join(known_names)}")
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        name = manager.get_name(error.plugin)
        raise PluginError(f"{infos.get(name) or name}: {error}") from None
    registry = _collect(manager, infos)
    registry.unfilled = _unfilled_slots(registry, blocked_builtins)
    if deferred:
        def load(module: Optional[str]) -> bool:
            """Load the pending importer module `module` (all of them for None); whether it was pending."""
            chosen = [entry for entry in deferred if module is None or entry[0] == module]
            for entry in chosen:
                deferred.remove(entry)
            if chosen:
                _load_importers(registry, chosen, infos)
            if deferred:  # some still pending: loaded only when needed
                registry.deferred = load
            return bool(chosen)

        registry.deferred = load
    return registry


def _load_importers(registry: Registry, deferred: Sequence[Tuple[str, PluginInfo]],
                    taken: Mapping[str, PluginInfo]) -> None:
    """Import and register the builtin importer plugins put off by load_registry, through pluggy as
    the others were; their importers join the registry's (a model_type registered twice is an error
    naming both plugins, as when all load at once)."""
    manager = get_plugin_manager()
    infos: Dict[str, PluginInfo] = {}
    for module_name, info in deferred:
        if info.name in taken:
            raise PluginError(f"{taken[info.name]}: the plugin name {info.name!r} is already taken by the builtin "
                              f"{module_name}")
        module = importlib.import_module(module_name)
        info.location = _file_of(module)
        manager.register(_hooks_of(module), name=info.name)
        infos[info.name] = info
    loaded = _collect(manager, infos)
    for name, importer in loaded.loaded_importers.items():
        if name in registry.loaded_importers:
            raise PluginError(f"{registry.loaded_importers[name].plugin}: importer {name!r} is already registered "
                              f"by {importer.plugin}")
    registry.loaded_importers = {**loaded.loaded_importers, **registry.loaded_importers}
    registry.plugins.extend(infos.values())


def _unfilled_slots(registry: Registry, blocked: Sequence[Tuple[ModuleType, PluginInfo]]) -> Dict[str, str]:
    """The slots a disabled builtin would fill by default that no loaded plugin fills: a model
    built without them would silently lose rows, so building one is an error that names them."""
    if not blocked:
        return {}
    manager = get_plugin_manager()
    infos = {}
    for module, info in blocked:
        shadow = PluginInfo(info.name, info.origin, info.location)
        manager.register(_hooks_of(module), name=shadow.name)
        infos[shadow.name] = shadow
    shadow_registry = _collect(manager, infos)
    unfilled = {}
    for slot, variant in shadow_registry.defaults.items():
        if slot not in registry.defaults:
            owner = shadow_registry.variants[(slot, variant)][0].plugin.name
            unfilled[slot] = owner
    return unfilled


def _reraise_interrupt(error: BaseException) -> None:
    """Ctrl-C stays Ctrl-C; every other exception a plugin raises (SystemExit too) is its error."""
    if isinstance(error, KeyboardInterrupt):
        raise error


def _file_of(module: ModuleType) -> str:
    return str(getattr(module, "__file__", None) or module.__name__)


@record
class EntryPoint:
    name: str
    value: str  # "module" or "module:attribute"
    distribution: str  # "name version"

    def load(self) -> object:
        module_name, _, attribute = self.value.partition(":")
        loaded: object = importlib.import_module(module_name.strip())
        for part in filter(None, attribute.strip().split(".")):
            loaded = getattr(loaded, part)
        return loaded


def entry_points(group: str) -> List[EntryPoint]:
    """The entry points of `group` of every distribution on sys.path, first one of a name wins.

    It reads the files importlib.metadata reads (`*.dist-info` and `*.egg-info`:
    entry_points.txt, and METADATA or PKG-INFO for the name and version) without
    importing importlib.metadata, whose import costs more than the rest of acct's
    start-up (tests check both agree)."""
    found: List[EntryPoint] = []
    seen: set = set()
    for folder in sys.path:
        try:
            entries = sorted(os.listdir(folder or "."))
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith((".dist-info", ".egg-info")):
                continue
            # the first distribution of a name on sys.path wins, as for importlib.metadata
            key = re.sub(r"[-_.]+", "-", entry.rsplit(".", 1)[0].partition("-")[0]).lower()
            if key in seen:
                continue
            seen.add(key)
            base = f"{folder or '.'}/{entry}"  # "/" joins on every system open() runs on
            pairs = _group(base, group)
            if pairs:  # only then is the distribution's own name and version worth reading
                name, version = _distribution(base, entry)
                found += [EntryPoint(n, v, f"{name} {version}") for n, v in pairs]
    return found


def _distribution(base: str, entry: str) -> Tuple[str, str]:
    name, _, version = entry.rsplit(".", 1)[0].partition("-")
    for metadata in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(base, metadata), encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if not line.strip():
                        break  # the headers end at the first blank line
                    key, _, value = line.partition(":")
                    if key == "Name":
                        name = value.strip()
                    elif key == "Version":
                        version = value.strip()
            break
        except OSError:
            continue
    return name, version


def _group(base: str, group: str) -> List[Tuple[str, str]]:
    try:  # read as bytes: most distributions have no entry point in the group, and nothing to decode
        with open(base + "/entry_points.txt", "rb") as handle:
            data = handle.read()
    except OSError:
        return []
    if group.encode("utf-8") not in data:
        return []
    text = data.decode("utf-8", errors="replace")
    section, pairs = None, []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group and "=" in line:
            name, _, value = line.partition("=")
            pairs.append((name.strip(), value.strip()))
    return pairs


def _load_file(path: Path) -> Tuple[ModuleType, PluginInfo]:
    """Import a local plugin file: Python source only (a .py file, never bytecode), and nothing
    written beside it: no __pycache__ in a folder the user only asked acct to read."""
    info = PluginInfo(path.stem, "file", str(path))
    if path.suffix != ".py":
        raise PluginError(f"{info}: not a .py file; a plugin file is Python source")
    if not path.is_file():
        from acct.files import kind_of

        problem = kind_of(path)  # a named pipe or a symlink loop is not "no such file"
        raise PluginError(f"{info}: no such plugin file" if problem == "missing" else
                          f"{info}: is {problem}; a plugin file must be a regular file")
    module_name = f"acct_local_plugin_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"{info}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    writes_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    except BaseException as error:  # the plugin's own code, even sys.exit(): report, never crash
        _reraise_interrupt(error)
        del sys.modules[module_name]
        raise PluginError(f"{info}: failed to import: {type(error).__name__}: {error}") from error
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return module, info


def _call_each(
    manager: pluggy.PluginManager,
    hook_name: str,
    infos: Dict[str, PluginInfo],
    make_register: Callable[[PluginInfo], Callable],
) -> None:
    """Call each plugin's implementation on its own, so whatever it registers or
    raises is attributed to it; results never depend on the call order."""
    caller = getattr(manager.hook, hook_name)
    for impl in caller.get_hookimpls():
        plugin = impl.plugin_name
        info = infos[plugin]
        if impl.hookwrapper or getattr(impl, "wrapper", False):
            raise PluginError(f"{info}: {hook_name} is a hook wrapper; acct calls each plugin's registration "
                              "on its own, so wrappers would never run: drop wrapper=True / hookwrapper=True")
        register = make_register(info)
        arguments = {"register": register}
        try:
            impl.function(*(arguments[name] for name in impl.argnames))
        except AcctError:
            raise
        except BaseException as error:  # a plugin's bug, even sys.exit(), must name the plugin
            _reraise_interrupt(error)
            # chained, so --traceback shows where in the plugin it raised
            raise PluginError(f"{info}: {hook_name} raised {type(error).__name__}: {error}") from error


# long: one pass per hook, each registering what the plugins contribute through the same callback and
# checking it where it is registered, so an error names the plugin that gave the bad value
def _collect(manager: pluggy.PluginManager, infos: Dict[str, PluginInfo]) -> Registry:
    inputs: Dict[str, RegisteredInput] = {}
    variants: Dict[Tuple[str, str], List[RegisteredComponent]] = {}
    owners: Dict[Tuple[str, str], PluginInfo] = {}
    defaults: Dict[str, Tuple[str, PluginInfo]] = {}

    def make_input(spec: Input, info: PluginInfo) -> RegisteredInput:
        if info.origin == "builtin":  # parsed when first read: a run reads a few of the defaults
            entry = RegisteredInput.__new__(RegisteredInput)
            entry.__dict__.update(spec=spec, plugin=info)
            return entry
        return RegisteredInput(spec, _input_default(spec, info), info)

    input_register = _by_name("acct_register_inputs", "input", Input, ("name", "description"), inputs, make_input)

    def component_register(info: PluginInfo) -> Callable[[Component], None]:
        def register(spec: Component) -> None:
            if not isinstance(spec, Component):
                raise PluginError(f"{info}: acct_register_components registered {spec!r}, not an acct.Component")
            _require_text(info, "component", spec, ("name", "slot", "variant", "group"))
            where = f"{info}: component {spec.name!r}"
            key = (spec.slot, spec.variant)
            if key in owners and owners[key] is not info:
                raise PluginError(
                    f"{where}: slot {spec.slot!r} variant {spec.variant!r} is provided by both "
                    f"{owners[key]} and {info}; disable one with --disable NAME"
                )
            if any(row.spec.name == spec.name for row in variants.get(key, [])):
                raise PluginError(f"{where}: registered twice for slot {spec.slot!r} variant {spec.variant!r}")
            if not isinstance(spec.requires, (tuple, list)) or not all(isinstance(n, str) for n in spec.requires):
                raise PluginError(f"{where}: requires must be a tuple of input names, got {spec.requires!r}")
            if info.origin == "builtin":  # parsed when a model first chooses it (see pending_row)
                row = pending_row(spec, info)
            else:  # a third party's rows are checked as they load: the suite checks acct's own
                row = resolve_row(pending_row(spec, info))
            owners[key] = info
            variants.setdefault(key, []).append(row)
            if spec.default:
                chosen = defaults.get(spec.slot)
                if chosen and chosen[0] != spec.variant:
                    raise PluginError(
                        f"{where}: slot {spec.slot!r} has two default variants, "
                        f"{chosen[0]!r} ({chosen[1]}) and {spec.variant!r} ({info})"
                    )
                defaults[spec.slot] = (spec.variant, info)
            label = f"{spec.slot}={spec.variant}"
            if label not in info.provides:
                info.provides.append(label)

        return register

    hardware: Dict[str, RegisteredHardware] = {}
    hardware_register = _by_name(
        "acct_register_hardware", "hardware", Hardware, ("name", "description"), hardware,
        lambda spec, info: pending_hardware(spec, info) if info.origin == "builtin" else exact_hardware(spec, info),
    )

    def make_convention(spec: Convention, info: PluginInfo) -> RegisteredConvention:
        if info.origin == "builtin":  # parsed when first read: a run's markdown reads none
            entry = RegisteredConvention.__new__(RegisteredConvention)
            entry.__dict__.update(spec=spec, plugin=info)
            return entry
        where = f"{info}: convention {spec.name!r}"
        return RegisteredConvention(
            spec, parse(spec.forward, f"{where} forward"), parse(spec.training, f"{where} training"), info
        )

    conventions: Dict[str, RegisteredConvention] = {}
    convention_register = _by_name(
        "acct_register_conventions", "convention", Convention, ("name", "description", "source"), conventions,
        make_convention,
    )

    activations: Dict[str, RegisteredActivations] = {}
    activations_register = _by_name(
        "acct_register_activations", "activation convention", ActivationConvention, ("name", "description"),
        activations, lambda spec, info: RegisteredActivations(spec, info),
    )

    importers: Dict[str, RegisteredImporter] = {}
    importers_register = _by_name(
        "acct_register_importers", "importer", Importer, ("model_type", "description"), importers,
        # a builtin's fields are checked when a config.json of its model_type is imported (find_importer)
        lambda spec, info: RegisteredImporter(spec, info) if info.origin == "builtin" else make_importer(spec, info),
    )

    _call_each(manager, "acct_register_inputs", infos, input_register)
    _call_each(manager, "acct_register_components", infos, component_register)
    _call_each(manager, "acct_register_hardware", infos, hardware_register)
    _call_each(manager, "acct_register_conventions", infos, convention_register)
    _call_each(manager, "acct_register_activations", infos, activations_register)
    _call_each(manager, "acct_register_importers", infos, importers_register)
    for kind, store in (("convention", conventions), ("activation convention", activations)):
        marked = [entry for entry in store.values() if entry.spec.default]  # type: ignore[attr-defined]
        if len(marked) > 1:
            first, second = marked[0], marked[1]
            raise PluginError(f"{second.plugin}: {kind} {second.spec.name!r} is marked default, "  # type: ignore
                              f"and so is {first.spec.name!r} ({first.plugin}); one may be")  # type: ignore
    return Registry(list(infos.values()), inputs, variants, {slot: v for slot, (v, _) in defaults.items()},
                    hardware, conventions, activations, importers)


# how a row may divide over tensor-parallel ranks (acct.Component.tensor_parallel)
TENSOR_PARALLEL = ("column", "row", "vocab", "replicated")


def _check_component(spec: Component, where: str) -> None:
    """A component's fields that are not formulas: their types and how they go together."""
    # the name makes the row's cells (q_proj.params), which core's formulas read by name
    if not isinstance(spec.name, str) or not spec.name.isascii() or not spec.name.isidentifier() \
            or keyword.iskeyword(spec.name):
        raise PluginError(f"{where}: a component's name is a name its cells can carry (letters, digits and _, "
                          f"not starting with a digit, not a Python keyword), got {spec.name!r}")
    if spec.shape is not None and (not isinstance(spec.shape, (tuple, list)) or len(spec.shape) != 3):
        raise PluginError(f"{where}: shape must be (m, k, n) for (m×k)·(k×n), got {spec.shape!r}")
    if not isinstance(spec.requires_variants, Mapping) or not all(
            isinstance(slot, str) and isinstance(allowed, (tuple, list))
            and all(isinstance(v, str) for v in allowed) for slot, allowed in spec.requires_variants.items()):
        raise PluginError(f"{where}: requires_variants must map slots to tuples of variant names, "
                          f"got {spec.requires_variants!r}")
    if not isinstance(spec.activations, Mapping) or not all(isinstance(k, str) for k in spec.activations):
        raise PluginError(f"{where}: activations must map convention names to formulas, got {spec.activations!r}")
    if not isinstance(spec.kept_once, Mapping) or not all(isinstance(k, str) for k in spec.kept_once):
        raise PluginError(f"{where}: kept_once must map convention names to formulas, got {spec.kept_once!r}")
    if spec.tensor_parallel is not None and spec.tensor_parallel not in TENSOR_PARALLEL:
        raise PluginError(f"{where}: tensor_parallel must be one of {', '.join(TENSOR_PARALLEL)} (or None to infer "
                          f"it), got {spec.tensor_parallel!r}")
    if spec.multiplicity is not None and spec.per_layer:
        raise PluginError(f"{where}: give per_layer=True or a multiplicity formula, not both")


def _optional(text: object, where: str) -> Optional[Formula]:
    return None if text is None else parse(text, where)


# each formula field of a row, parsed from its Component (row, spec, where), in the order they are checked
_ROW_PARSERS: Dict[str, Callable[[RegisteredComponent, Component, str], object]] = {
    "shape": lambda row, spec, where: None if spec.shape is None else tuple(
        parse(side, f"{where} shape") for side in spec.shape),
    "flops": lambda row, spec, where: parse(spec.flops, f"{where} flops"),
    "params": lambda row, spec, where: parse(spec.params, f"{where} params"),
    "multiplicity": lambda row, spec, where: parse(
        spec.multiplicity if spec.multiplicity is not None else LAYERS if spec.per_layer else 1,
        f"{where} multiplicity"),
    "batch": lambda row, spec, where: _optional(spec.batch, f"{where} batch"),
    "bias": lambda row, spec, where: _optional(spec.bias, f"{where} bias"),
    "activations": lambda row, spec, where: {
        name: parse(text, f"{where} activations[{name!r}]") for name, text in spec.activations.items()},
    "backward": lambda row, spec, where: _optional(spec.flops_backward, f"{where} flops_backward"),
    "decode": lambda row, spec, where: _optional(spec.flops_decode, f"{where} flops_decode"),
    "kv_cache": lambda row, spec, where: parse(spec.kv_cache, f"{where} kv_cache"),
    "flops_other": lambda row, spec, where: parse(spec.flops_other, f"{where} flops_other"),
    "params_active": lambda row, spec, where: row.params if spec.params_active is None else parse(
        spec.params_active, f"{where} params_active"),
    "flops_dense": lambda row, spec, where: _optional(spec.flops_dense, f"{where} flops_dense"),
    "kv_split": lambda row, spec, where: _optional(spec.kv_split, f"{where} kv_split"),
}


def resolve_row(row: RegisteredComponent) -> RegisteredComponent:
    """Every field of a pending row parsed and checked now."""
    for name in _ROW_PARSERS:
        getattr(row, name)
    row.__dict__.pop("_pending", None)
    return row


_CHECKED = "checked"  # a pending row whose non-formula fields are checked


def pending_row(spec: Component, info: PluginInfo) -> RegisteredComponent:
    """A builtin component's row whose formulas are parsed and checked when first read: a run
    chooses a dozen of the builtins' sixty-odd rows, and parsing them all was a tenth of its
    start-up. acct's own rows are all checked by the test suite (tests/test_components.py);
    a third party's are checked as they load."""
    row = RegisteredComponent.__new__(RegisteredComponent)
    row.__dict__.update(spec=spec, plugin=info, _pending=True)
    return row


_HARDWARE_FIELDS = frozenset(fields(RegisteredHardware))


def pending_hardware(spec: Hardware, info: PluginInfo) -> RegisteredHardware:
    """A builtin accelerator whose numbers are made exact (and checked) when first read: a run
    reads none. The suite checks every builtin one (tests/test_startup.py)."""
    entry = RegisteredHardware.__new__(RegisteredHardware)
    entry.__dict__.update(spec=spec, plugin=info, _pending=True)
    return entry


def resolve_all(registry: "Registry") -> "Registry":
    """Every row, input default, accelerator and importer of `registry` parsed and checked."""
    for rows in registry.variants.values():
        for row in rows:
            resolve_row(row)
    for entry in registry.inputs.values():
        entry.default  # noqa: B018
    for device in registry.hardware.values():
        device.memory  # noqa: B018
    for counting in registry.conventions.values():
        counting.forward, counting.training  # noqa: B018
    for importer in registry.importers.values():
        make_importer(importer.spec, importer.plugin)
    return registry


def _input_default(spec: Input, info: PluginInfo) -> Optional[Formula]:
    return None if spec.default is None else parse(spec.default, f"{info}: input {spec.name!r} default")


def make_importer(spec: Importer, info: PluginInfo) -> RegisteredImporter:
    """Check what an importer declares: a callable convert, and each config field in at most
    one of maps, ignores and fixed."""
    where = f"{info}: importer {spec.model_type!r}"
    if not callable(spec.convert):
        raise PluginError(f"{where}: convert must be a function of the config, got {spec.convert!r}")
    seen: Dict[str, str] = {}
    for kind in ("maps", "ignores", "fixed"):
        names = getattr(spec, kind)
        if isinstance(names, str) or not all(isinstance(name, str) for name in names):
            raise PluginError(f"{where}: {kind} must be a collection of config field names, got {names!r}")
        for name in names:
            if seen.get(name, kind) != kind:
                raise PluginError(f"{where}: field {name!r} is in both {seen[name]} and {kind}")
            seen[name] = kind
    return RegisteredImporter(spec, info)


def _by_name(hook: str, kind: str, cls: type, fields: Tuple[str, ...], store: Dict[str, object],
             make: Callable[[object, PluginInfo], object]) -> Callable[[PluginInfo], Callable[[object], None]]:
    """The register callback, per plugin, for what is registered once under its name:
    inputs, hardware, conventions."""
    def for_plugin(info: PluginInfo) -> Callable[[object], None]:
        def register(spec: object) -> None:
            if not isinstance(spec, cls):
                raise PluginError(f"{info}: {hook} registered {spec!r}, not an acct.{cls.__name__}")
            _require_text(info, kind, spec, fields)
            name = spec.name  # type: ignore[attr-defined]
            if name in store:
                raise PluginError(f"{info}: {kind} {name!r} is already registered by {store[name].plugin}")
            store[name] = make(spec, info)
            info.provides.append(f"{kind} {name}")

        return register

    return for_plugin


def exact_hardware(spec: Hardware, origin: object) -> RegisteredHardware:
    """Check a Hardware's numbers and make them exact; errors name `origin` (a plugin or a
    file) and the field."""
    where = f"{origin}: hardware {spec.name!r}"
    if not isinstance(spec.flops, Mapping) or not spec.flops:
        raise PluginError(f"{where}: flops must map dtypes (fp32, bf16, ...) to peak FLOP/s")
    numbers = {
        "memory": quantity(spec.memory, f"{where} memory"),
        "bandwidth": quantity(spec.bandwidth, f"{where} bandwidth"),
        **{f"flops.{dtype}": quantity(value, f"{where} flops.{dtype}", units=False) for dtype, value in spec.flops.items()},
    }
    optional = {}
    for name in ("link_bandwidth", "network_bandwidth", "price_per_hour"):
        value = getattr(spec, name)
        if value is not None:
            numbers[name] = optional[name] = quantity(value, f"{where} {name}", units=name != "price_per_hour")
    for name, value in numbers.items():
        if value <= 0:
            raise PluginError(f"{where}: {name} must be positive, got {value}")
    if spec.gpus_per_node is not None:
        if isinstance(spec.gpus_per_node, bool) or not isinstance(spec.gpus_per_node, int) \
                or not 1 <= spec.gpus_per_node <= 1 << 20:
            raise PluginError(f"{where}: gpus_per_node must be a whole number from 1 to {1 << 20:,}, "
                              f"got {spec.gpus_per_node!r}")
        optional["gpus_per_node"] = spec.gpus_per_node
    flops = {dtype: numbers[f"flops.{dtype}"] for dtype in spec.flops}
    return RegisteredHardware(spec, numbers["memory"], numbers["bandwidth"], flops, origin, **optional)


def _require_text(info: PluginInfo, kind: str, spec: object, fields: Tuple[str, ...]) -> None:
    for name in fields:
        value = getattr(spec, name)
        if not isinstance(value, str) or not value.strip():
            label = getattr(spec, "name", "?")
            raise PluginError(f"{info}: {kind} {label!r} needs a non-empty text {name!r}, got {value!r}")


def unknown_variant(slot: str, variant: str, registry: Registry) -> str:
    """The message for a preset that names a variant no plugin provides."""
    known = registry.slots().get(slot, [])
    return f"unknown variant {variant!r} for slot {slot!r}{suggest(variant, known)}; known: {', '.join(known)}"
