"""acct from Python: load a model from a preset, a config.json or a bundled name; read its numbers;
get any report as data, markdown (any tabulate format), JSON, CSV, HTML or a DataFrame.

    >>> import acct
    >>> model = acct.load("gpt2-xl")
    >>> model.params, model.flops_forward
    (2127057600, 4513336524800)

The command line is a thin layer over this module: `acct run` is `acct.load(...).report()`
rendered, so both give the same numbers by the same path.
"""

from __future__ import annotations


from acct.records import fields, fresh, record, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from acct.errors import AcctError

Source = Union[str, Path]
OUTPUT_FAMILIES = ("train", "memory", "kv_cache", "infer", "convention", "gpu", "roofline", "cost")  # acct.model.model's


@record(frozen=True)
class Options:
    """How models are built: input values, variant choices, plugins and training choices. The
    command line's options and the API's keyword arguments both become one of these."""

    set: Mapping[str, Union[int, str]] = fresh(dict)  # NAME -> a whole number or a formula
    variants: Mapping[str, str] = fresh(dict)  # SLOT -> VARIANT
    plugins: Sequence[Path] = ()  # local plugin files, consented to by naming them
    disable: Sequence[str] = ()  # plugin names to block
    allow_plugins: bool = False  # run the plugin files a preset names
    precision: Optional[str] = None  # fp32 or mixed
    activations: Optional[str] = None  # the activation convention
    # a hardware name or TOML file: its numbers become the inputs peak_flops, memory_bandwidth, ...
    hardware: Optional[str] = None
    dtype: Optional[str] = None  # whose peak FLOP/s the hardware runs at (default: the precision's)
    # inference: weight and KV-cache dtypes, efficiencies, a price (see Inference); None: the defaults
    inference: Optional["Inference"] = None
    # fine-tuning (acct.model.finetune): the optimizer, the rows LoRA adapts ("q_proj,v_proj"), the
    # frozen base's format (bf16 or nf4); and the precision a command uses when the preset states none
    optimizer: Optional[str] = None
    lora_targets: Optional[str] = None
    base_weights: Optional[str] = None
    default_precision: Optional[str] = None
    # input name -> the option that set it (`--gpus` for dp = gpus / (tp·pp·cp)), for error messages
    labels: Mapping[str, str] = fresh(dict)
    # the inputs a sweep varies or a goal seek searches: given values, like those in `set`
    free: Sequence[str] = ()


@record(frozen=True)
class Inference:
    """What `acct infer --weights int4 --kv-dtype fp8 --mfu 0.5 ...` chooses: each becomes the implied
    value of an input (infer_weight_bits, kv_bytes, mfu, ...), so a sweep or a solve reads it too.
    With any of them the hardware's peak FLOP/s is taken at the dtype the products run at (bf16, or
    fp32 for fp32 weights) unless Options.dtype says otherwise."""

    weights: Optional[str] = None  # fp32, bf16, fp16, fp8, int8, int4
    group_size: Optional[int] = None  # weights per scale (int4's default: 128)
    scale_bytes: Optional[int] = None  # bytes of each group's scale and zero point (int4's default: 2)
    kv_dtype: Optional[str] = None  # fp32, bf16, fp16, fp8, int8
    mfu: Optional[Union[str, float, Fraction]] = None
    bandwidth_efficiency: Optional[Union[str, float, Fraction]] = None
    price_per_hour: Optional[Union[str, float, Fraction]] = None  # dollars per device-hour


@record
class Built:
    """Models built from sources, and the local plugin files that ran for them."""

    models: List[Any]
    plugin_files: List[str]


def build(sources: Sequence[Source], options: Options, non_matmul: bool = False,
          outputs: Sequence[str] = OUTPUT_FAMILIES) -> Built:
    """Each source built with the options. Each preset gets its own plugin files (and the named
    ones); a preset's files run only with consent; --set names only settable inputs."""
    from acct.model.config import parse_assignment
    from acct.model.inputs import settable_input
    from acct.model.model import build_model
    from acct.model.registry import load_registry
    from acct.model.sources import load_source

    overrides: Dict[str, Union[int, str]] = {}
    for name, value in options.set.items():
        overrides[name] = parse_assignment(f"{name}={value}")[1] if isinstance(value, str) else value
    loaded: list = []  # the registry of the named files, loaded once for the importers a config.json needs

    def named_registry():
        if not loaded:
            loaded.append(load_registry(plugin_files=list(options.plugins), disabled=options.disable))
        return loaded[0]

    presets = [load_source(source, named_registry) for source in sources]
    _apply_choices(presets, options)
    named = [_resolved(path) for path in options.plugins]
    _check_consent(presets, named, options)
    registries: dict = {}
    built = Built([], [])
    for preset in presets:
        files = list(options.plugins) + [p for p in preset.plugins if _resolved(p) not in named]
        key = tuple(_resolved(path) for path in files)
        if key not in registries:  # presets naming the same files share one registry
            registries[key] = named_registry() if files == list(options.plugins) else load_registry(
                plugin_files=files, disabled=options.disable)
        registry = registries[key]
        for name in overrides:
            settable_input(registry, name, "--set")
        for path in files:
            if str(path) not in built.plugin_files:
                built.plugin_files.append(str(path))
        implied = {**_hardware_implied(preset, registry, _inference_dtype(options)), **_inference_implied(options)}
        built.models.append(build_model(preset, registry, overrides, non_matmul, outputs, implied, options.labels,
                                        [name for name in options.free if isinstance(name, str)]))
    return built


def _apply_choices(presets, options: Options) -> None:
    """The command line's choices over each preset's: --variant, --precision, --activations, then
    fine-tuning's, and the command's default precision where neither chose one."""
    for preset in presets:
        for slot, variant in options.variants.items():
            preset.choose(slot, str(variant), "--variant")
        for key in ("precision", "activations"):
            if getattr(options, key):
                preset.training[key] = getattr(options, key)
                preset.chosen_by[key] = f"--{key}"
    for preset in presets:  # fine-tuning choices, and a command's default precision
        for key in ("optimizer", "lora_targets", "base_weights"):
            if getattr(options, key):
                preset.training[key] = getattr(options, key)
                preset.chosen_by[key] = f"--{key.replace('_', '-')}"
        if options.default_precision and "precision" not in preset.training:
            preset.training["precision"] = options.default_precision
            preset.chosen_by["precision"] = "the command's default precision"


def _check_consent(presets, named: Sequence[Path], options: Options) -> None:
    """A preset's own plugin files run only with --allow-plugins or when each is named with -p."""
    for preset in presets:
        unconsented = [path for path in preset.plugins if _resolved(path) not in named]
        if unconsented and not options.allow_plugins:
            files = ", ".join(str(path) for path in unconsented)
            raise AcctError(f"{preset.path}: plugins names Python code to run: {files}; run it only if you "
                            "trust this preset: add --allow-plugins, or name each file with -p FILE")


def _hardware_implied(preset, registry, options: Options) -> Dict[str, Tuple[str, str]]:
    """The input values `options.hardware` gives (peak_flops at the run's dtype, memory_bandwidth, ...)."""
    if not options.hardware:
        return {}
    from acct.model.outputs import PRECISION_DTYPE, hardware_inputs

    device = hardware_named(options.hardware, registry)
    dtype = options.dtype or PRECISION_DTYPE.get(preset.training.get("precision", "fp32"), "fp32")
    return hardware_inputs(device, dtype, f"--hardware {options.hardware}")


def _inference_dtype(options: Options) -> Options:
    """With inference choices, the hardware's peak is the one the products run at (bf16; fp32 weights: fp32)."""
    if options.inference is None or options.dtype:
        return options
    from acct.model.outputs import compute_dtype

    return replace(options, dtype=compute_dtype(options.inference.weights or "bf16"))


def _inference_implied(options: Options) -> Dict[str, Tuple[str, str]]:
    """The input values Options.inference gives: name -> (the option, exact value as formula text)."""
    choice = options.inference
    if choice is None:
        return {}
    from acct.engine.units import quantity
    from acct.errors import suggest
    from acct.model.outputs import KV_DTYPES, WEIGHT_DTYPES, _exact_text

    implied: Dict[str, Tuple[str, str]] = {}
    for key in ("weights", "kv_dtype"):
        if getattr(choice, key) is not None and not isinstance(getattr(choice, key), str):
            raise AcctError(f"--{key.replace('_', '-')}: a dtype name, got {getattr(choice, key)!r}")
    if choice.weights is not None:
        if choice.weights not in WEIGHT_DTYPES:
            raise AcctError(f"--weights: unknown dtype {choice.weights!r}{suggest(choice.weights, WEIGHT_DTYPES)}; "
                            f"known: {', '.join(WEIGHT_DTYPES)}")
        bits, activation, group, scale = WEIGHT_DTYPES[choice.weights]
        where = f"--weights {choice.weights}"
        implied.update({"infer_weight_bits": (where, str(bits)), "infer_activation_bytes": (where, str(activation)),
                        "infer_group_size": (where, str(group)), "infer_scale_bytes": (where, str(scale))})
    for key, name, least in (("group_size", "infer_group_size", 1), ("scale_bytes", "infer_scale_bytes", 0)):
        value = getattr(choice, key)
        if value is None:
            continue
        option = "--" + key.replace("_", "-")
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise AcctError(f"{option}: a whole number of at least {least}, got {value!r}")
        implied[name] = (option, str(value))
    if choice.group_size is not None and implied.get("infer_scale_bytes", ("", "0"))[1] == "0":
        # a group without a scale changes no byte: the option did nothing
        raise AcctError(f"--group-size: {choice.weights or 'bf16'} weights with 0 bytes of scale per group: "
                        "the group size changes nothing; give --scale-bytes N too (int4's default: 2)")
    if choice.kv_dtype is not None:
        if choice.kv_dtype not in KV_DTYPES:
            raise AcctError(f"--kv-dtype: unknown dtype {choice.kv_dtype!r}{suggest(choice.kv_dtype, KV_DTYPES)}; "
                            f"known: {', '.join(KV_DTYPES)}")
        implied["kv_bytes"] = (f"--kv-dtype {choice.kv_dtype}", str(KV_DTYPES[choice.kv_dtype]))
    for key, name, most in (("mfu", "mfu", 1), ("bandwidth_efficiency", "bandwidth_efficiency", 1),
                            ("price_per_hour", "price_per_hour", None)):
        value = getattr(choice, key)
        if value is None:
            continue
        option = "--" + key.replace("_", "-")
        fraction = quantity(str(value), option, units=False)  # bounded parser
        if most is not None and not 0 < fraction <= most:
            raise AcctError(f"{option}: a fraction above 0 and at most 1, got {value}")
        if fraction < 0:
            raise AcctError(f"{option}: at least 0, got {value}")
        implied[name] = (option, _exact_text(fraction))
    return implied


def _resolved(path: Path) -> Path:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(path).absolute()


# -- the reports, one function per kind (the command line calls these too) ------------------


def run_report(model, convention: Optional[str] = None, weights_scheme: bool = False):
    """The run report, carrying the step's batch size for the conventions' sentences; with
    `weights_scheme` (--weights, --group-size, --scale-bytes) the weights' memory table adds the
    chosen scheme's bytes (the sheet's infer.weight_bytes) beside fp32, bf16 and int8."""
    from acct.reports.run import make_report

    values = model.sheet.evaluate()
    report = make_report(model, values, convention=convention)
    report.batch_size = values.get("batch_size")
    if weights_scheme and "infer.weight_bytes" in values:
        from acct.reports.inference import short_scheme

        size = values["infer.weight_bytes"]
        label = short_scheme(values)
        report.memory.append((label, Fraction(size, values["total.params"]) if values["total.params"] else 0, size))
    return report


def train_report(model, hardware: Optional[str] = None, mfu: Optional[Union[str, float, Fraction]] = None,
                 gpus: Optional[int] = None):
    """The training report of a model built with `Options(hardware=..., set={"mfu": ..., "gpus": ...})`
    (see `training_set`): the time, per-GPU memory and communication are the sheet's gpu.* cells."""
    from acct.reports.training import make_training_report

    check_training_options(hardware, mfu, gpus)
    device = hardware_named(hardware, model.registry) if hardware else None
    return make_training_report(model, model.sheet.evaluate(), device)


def check_training_options(hardware, mfu, gpus, needs_hardware: bool = True) -> Dict[str, str]:
    """--mfu and --gpus checked as the user wrote them; the inputs they set (mfu, gpus) as formula text.
    --gpus needs no hardware: alone it is data parallelism, and sizes the memory per GPU."""
    from acct.engine.units import quantity
    from acct.model.outputs import _exact_text

    if needs_hardware and not hardware:
        if mfu is not None:
            raise AcctError("--mfu gives a training time, which needs --hardware NAME (a100, h100, h200)")
    values: Dict[str, str] = {}
    if mfu is not None:
        fraction = quantity(str(mfu), "--mfu", units=False)  # bounded parser
        if not 0 < fraction <= 1:
            raise AcctError(f"--mfu: a fraction above 0 and at most 1, got {mfu}")
        values["mfu"] = _exact_text(fraction)
    if gpus is not None:
        if isinstance(gpus, bool) or not isinstance(gpus, int):
            raise AcctError(f"--gpus: a whole number of devices, got {gpus!r}")
        if gpus < 1:
            raise AcctError(f"--gpus: at least 1, got {gpus}")
        values["gpus"] = str(gpus)
    return values


# the layout's keyword arguments (Model.train, Model.plan, the command line's layout options) -> inputs
LAYOUT_KEYWORDS = {
    "dp": "dp", "tp": "tp", "pp": "pp", "cp": "cp", "ep": "ep", "zero": "zero_stage", "micro_batch": "micro_batch",
    "virtual_stages": "virtual_stages", "sequence_parallel": "sequence_parallel", "recompute": "recompute",
    "global_batch": "batch_size",
}
RECOMPUTE = {"none": 0, "selective": 1, "full": 2}


def layout_set(gpus: Optional[int] = None, overlap=None, **layout) -> Dict[str, str]:
    """Input values for a parallel layout: `layout_set(gpus=8, zero=3)` -> {"gpus": "8", "zero_stage": "3"}.
    With gpus and no dp, dp is what tp·pp·cp leave of the GPUs; with no gpus, gpus = dp·tp·pp·cp
    (the model's rule, whichever way the values were given)."""
    from acct.engine.units import quantity
    from acct.model.outputs import _exact_text

    values: Dict[str, str] = {}
    for key, value in layout.items():
        if value is None or (value is False and key == "sequence_parallel"):  # a flag that is off
            continue
        if key not in LAYOUT_KEYWORDS:
            raise AcctError(f"unknown layout option {key!r}; known: {', '.join(LAYOUT_KEYWORDS)}")
        if key == "zero" and value == "distributed":  # Megatron's distributed optimizer: ZeRO-1, fp32 gradients
            values["zero_stage"], values["grad_bytes"] = "1", "4"
            continue
        if key == "zero" and isinstance(value, str) and value in ("0", "1", "2", "3"):
            value = int(value)
        if key == "recompute":
            if value not in RECOMPUTE:
                raise AcctError(f"--recompute: one of {', '.join(RECOMPUTE)}, got {value!r}")
            value = RECOMPUTE[value]
        if value is True and key == "sequence_parallel":  # a flag; zero=True is no stage
            value = 1
        if isinstance(value, bool) or not isinstance(value, int):
            raise AcctError(f"--{key.replace('_', '-')}: a whole number, got {value!r}")
        values[LAYOUT_KEYWORDS[key]] = str(value)
    if overlap is not None:
        fraction = quantity(str(overlap), "--overlap", units=False)
        if not 0 <= fraction <= 1:
            raise AcctError(f"--overlap: a fraction from 0 to 1, got {overlap}")
        values["overlap"] = _exact_text(fraction)
    if gpus is not None:
        values["gpus"] = str(gpus)
    # gpus and dp follow each other when one is left out (acct.model.outputs.layout_defaults)
    return values


def finetune_options(optimizer=None, lora_rank=None, lora_targets=None, base_weights=None,
                     optimizer_impl=None) -> Dict[str, Any]:
    """The fine-tuning keywords as Options fields and input values: {"optimizer": ..., "lora_targets":
    "q_proj,v_proj", "base_weights": ..., "set": {"lora_rank": "16"}}; optimizer_impl sets its input."""
    values: Dict[str, Any] = {"set": {}}
    if optimizer_impl is not None:
        from acct.model.phases import OPTIMIZER_IMPLS

        if not isinstance(optimizer_impl, str) or optimizer_impl not in OPTIMIZER_IMPLS:
            raise AcctError(f"--optimizer-impl: one of {', '.join(OPTIMIZER_IMPLS)}, got {optimizer_impl!r}")
        values["set"]["optimizer_impl"] = str(OPTIMIZER_IMPLS[optimizer_impl][0])
    if lora_rank is not None:
        if isinstance(lora_rank, bool) or not isinstance(lora_rank, int) or lora_rank < 1:
            raise AcctError(f"--lora-rank: a positive whole number, got {lora_rank!r}")
        values["set"]["lora_rank"] = str(lora_rank)
    if lora_targets is not None and not isinstance(lora_targets, str):
        if not isinstance(lora_targets, (list, tuple)) or not all(isinstance(name, str) for name in lora_targets):
            raise AcctError(f"--lora-targets: row names, got {lora_targets!r}")
        lora_targets = ",".join(lora_targets)
    if lora_targets is not None and not lora_targets.strip(" ,"):  # was silently every default row
        raise AcctError("--lora-targets: no row named; give one or more, e.g. q_proj,v_proj")
    for key, value in (("optimizer", optimizer), ("lora_targets", lora_targets), ("base_weights", base_weights)):
        if value is not None and not isinstance(value, str):
            raise AcctError(f"--{key.replace('_', '-')}: a name, got {value!r}")
        values[key] = value
    return values


def hardware_named(name: str, registry):
    """A builtin or plugin accelerator by name (any case), or one defined in a TOML file."""
    from acct.errors import suggest

    if not isinstance(name, str):
        raise AcctError(f"--hardware: a name or a FILE.toml, got {name!r}")
    if name.endswith(".toml"):
        from acct.model.config import load_hardware

        return load_hardware(Path(name))
    by_lower = {known.lower(): known for known in registry.hardware}
    if name.lower() not in by_lower:
        listing = ", ".join(registry.hardware) or "none loaded"
        raise AcctError(f"--hardware: unknown hardware {name!r}{suggest(name, registry.hardware)}; "
                        f"known: {listing}, or a FILE.toml")
    return registry.hardware[by_lower[name.lower()]]


def plan_report(model, gpus: int, global_batch: int, hardware: str, top: int = 10, best_report=None,
                progress=None):
    from acct.reports.plan import plan

    report = plan(model, gpus, global_batch, hardware, top, progress)
    if report.rows and best_report is not None:
        report.best = best_report(report.rows[0].layout)
    return report


def steps_set(steps: Optional[int] = None, tokens: Optional[int] = None) -> Dict[str, str]:
    """--steps, or --tokens: the steps that reach at least that many tokens."""
    if steps is not None and tokens is not None:
        raise AcctError("--steps and --tokens: give one of them")
    if tokens is not None:
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
            raise AcctError(f"--tokens: a positive whole number, got {tokens!r}")
        return {"steps": f"ceil_div({tokens}, batch_size * context_length)"}
    return {} if steps is None else {"steps": str(steps) if isinstance(steps, int) else steps}


def infer_report(model, detailed: bool = False, options: Optional[Options] = None):
    """The inference report; `detailed` (any inference option given) adds what fits, and the
    roofline when the sheet has the hardware's numbers (named from `options.hardware`)."""
    from acct.reports.inference import make_inference_report

    name = description = dtype = ""
    if options is not None and options.hardware:
        device = hardware_named(options.hardware, model.registry)
        name, description = device.spec.name, device.spec.description
        dtype = _inference_dtype(replace(options, inference=options.inference or Inference())).dtype or ""
    choice = options.inference if options is not None else None
    for key, cell in (("mfu", "infer.ttft"), ("bandwidth_efficiency", "infer.ttft"),
                      ("price_per_hour", "infer.usd_per_million_tokens")):
        if choice is not None and getattr(choice, key) is not None and cell not in model.sheet:
            # a roofline option without the roofline was silently ignored
            raise AcctError(f"--{key.replace('_', '-')} gives the roofline's times and cost, which need --hardware "
                            "NAME (a100, h100, h200) or --set peak_flops=... --set memory_bandwidth=...")
    values = model.sheet.evaluate()
    heads, tp = values.get("num_heads"), values.get("tp", 1)
    if isinstance(heads, int) and isinstance(tp, int) and heads % tp:  # tensor parallelism splits the heads
        raise AcctError(f"--tp: tp = {tp:,} does not divide the {heads:,} attention heads")
    return make_inference_report(model, values, detailed, name, description, dtype)


def solve_report(model, where: str, largest: Optional[str] = None, smallest: Optional[str] = None):
    from acct.reports.training import solve

    if (largest is None) == (smallest is None):
        raise AcctError("solve: give the input to maximize (largest) or to minimize (smallest), one of them")
    goal, name = ("largest", largest) if largest is not None else ("smallest", smallest)
    if not isinstance(name, str) or not isinstance(where, str):
        raise AcctError(f"solve: the input ({goal}) and the condition (where) are texts, got {name!r} and {where!r}")
    return solve(model, name, goal, where)


def sweep_report(model, vary: Sequence[Tuple[str, List[int]]], outputs: Sequence[str] = ()):
    from acct.reports.scaling import sweep

    return sweep(model, vary, outputs)


def compare_report(models: Sequence[Any], sources: Sequence[Source]):
    from acct.reports.scaling import compare

    labels = [model.preset.name for model in models]
    if len(set(labels)) < len(labels):
        labels = [str(source) for source in sources]
    return compare(models, labels)


# -- the public API ------------------------------------------------------------------------


@record
class Result:
    """A finished report of one kind (run, conventions, compare, sweep, train, infer, solve).

    `to_dict()` is exactly what `--format json` prints; `rows` its main table as dicts;
    `to_markdown(tablefmt=...)` the text with tables in any tabulate format (github, latex_booktabs,
    rst, html, orgtbl, ...); `to_csv()`, `to_json()`, `to_html()` (a self-contained page, for
    run, compare, sweep, train, infer); `to_pandas()` a DataFrame of `rows` (needs pandas).
    In a notebook the report shows itself."""

    kind: str
    report: Any
    plugin_files: List[str] = fresh(list)
    options: Dict[str, Any] = fresh(dict)  # the kind's markdown options (by_component)

    def to_dict(self) -> Dict:
        from acct.render import kind

        data = kind(self.kind).data(self.report)
        if self.plugin_files:
            data = dict(data, plugin_files=list(self.plugin_files))
        return data

    @property
    def rows(self) -> List[Dict]:
        from acct.render import rows_of

        return rows_of(self.kind, self.to_dict())

    def render(self, format: str = "markdown", tablefmt: str = "github"):
        from acct.render import render

        return render(self.kind, self.report, format, tablefmt, **(self.options if format == "markdown" else {}))

    def to_markdown(self, tablefmt: str = "github") -> str:
        return self.render("markdown", tablefmt)

    def to_json(self) -> str:
        return _text(self.render("json"))

    def to_csv(self) -> str:
        return _text(self.render("csv"))

    def to_html(self) -> str:
        return self.render("html")

    def to_pandas(self):
        try:
            import pandas
        except ImportError:
            raise AcctError("to_pandas needs pandas: pip install 'acct-lm[pandas]'") from None
        return pandas.DataFrame(self.rows)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> Optional[str]:
        from acct.render import HTML_KINDS

        return self.to_html() if self.kind in HTML_KINDS else None

    def __str__(self) -> str:
        return self.to_markdown()


def _text(output) -> str:
    return output if isinstance(output, str) else "".join(output)


class Model:
    """A model, as acct.load gives it. Its numbers are computed when first read; each report
    method returns a `Result`."""

    def __init__(self, source: Source, options: Options):
        self.source = source
        self.options = options
        self._built: Dict[Tuple[Tuple[str, ...], bool], Built] = {}
        self.name = self._model(("convention",)).preset.name

    def __repr__(self) -> str:
        return f"<acct.Model {self.name}: {self.params:,} parameters>"

    def _build(self, outputs: Sequence[str] = OUTPUT_FAMILIES, non_matmul: bool = False) -> Built:
        # one sheet with every output, whatever the method: an input set for train (steps) must not
        # be refused by report, as `acct run --set steps` is (a command reads only what it prints)
        outputs = OUTPUT_FAMILIES
        key = (tuple(outputs), non_matmul)
        if key not in self._built:
            self._built[key] = build([self.source], self.options, non_matmul, outputs)
        return self._built[key]

    def _model(self, outputs: Sequence[str] = OUTPUT_FAMILIES, non_matmul: bool = False):
        return self._build(outputs, non_matmul).models[0]

    def _result(self, kind: str, report: Any, outputs: Sequence[str] = OUTPUT_FAMILIES, **options) -> Result:
        return Result(kind, report, self._build(outputs).plugin_files, options)

    def with_(self, **changes) -> "Model":
        """The same source with other options: `model.with_(set={"context_length": 16384})`;
        `set` and `variants` are merged into the current ones."""
        merged = dict(changes)
        unknown = [key for key in merged if key not in fields(Options)]
        if unknown:
            raise AcctError(f"with_: unknown option {unknown[0]!r}; known: {', '.join(fields(Options))}")
        for key, kinds in (("set", (int, str)), ("variants", (str,))):
            if key in merged:
                merged[key] = {**getattr(self.options, key), **_mapping(merged[key], key, kinds)}
        return Model(self.source, replace(self.options, **merged))

    def value(self, cell: str):
        """Any cell of the model's full sheet: an input, `total.params`, `memory.peak`, `kv_cache.bytes`."""
        model = self._model()
        if cell not in model.sheet:
            from acct.errors import suggest

            names = [c.name for c in model.sheet.cells]
            raise AcctError(f"unknown cell {cell!r}{suggest(cell, names)}")
        return model.sheet.evaluate()[cell]

    @property
    def params(self) -> int:
        return self._model(("convention",)).sheet.evaluate()["total.params"]

    @property
    def params_active(self) -> int:
        return self._model(("convention",)).sheet.evaluate()["total.params_active"]

    @property
    def flops_forward(self) -> int:
        """Matmul FLOPs of one forward pass of one sequence of context_length tokens."""
        return self._model(("convention",)).sheet.evaluate()["total.flops_forward"]

    def report(self, convention: Optional[str] = None, non_matmul: bool = False, weights: Optional[str] = None,
               group_size: Optional[int] = None, scale_bytes: Optional[int] = None) -> Result:
        """What `acct run` prints: parameters, memory, forward FLOPs per component; `weights` (with
        `group_size`, `scale_bytes`) adds that scheme's bytes to the weights' memory table."""
        outputs = ("convention",)
        model = self
        scheme = Inference(weights=weights, group_size=group_size, scale_bytes=scale_bytes)
        if scheme != Inference():
            model = self.with_(inference=scheme)
        report = run_report(model._model(outputs, non_matmul), convention, model.options.inference is not None)
        return Result("run", report, model._build(outputs, non_matmul).plugin_files)

    def conventions(self) -> Result:
        return self._result("conventions", run_report(self._model(("convention",))), ("convention",))

    def train(self, hardware: Optional[str] = None, mfu=None, gpus: Optional[int] = None,
              steps: Optional[int] = None, tokens: Optional[int] = None, overlap=None,
              optimizer: Optional[str] = None, lora_rank: Optional[int] = None, lora_targets=None,
              base_weights: Optional[str] = None, optimizer_impl: Optional[str] = None, **layout) -> Result:
        """What `acct train` prints: FLOPs of a step, memory as a·B + b, time on hardware; with a
        layout (dp=, tp=, pp=, cp=, ep=, zero=, micro_batch=, virtual_stages=, sequence_parallel=,
        recompute="none"|"selective"|"full", global_batch=) the memory, communication and time per GPU
        (zero="distributed" is Megatron's distributed optimizer). Fine-tuning: optimizer="adamw"|"adamw8bit"|
        "sgd"|"adafactor", lora_rank=R, lora_targets="q_proj,v_proj" (or a list), base_weights="bf16"|"nf4"."""
        values = check_training_options(hardware, mfu, gpus)
        values.update(layout_set(gpus, overlap, **layout))
        values.update(steps_set(steps, tokens))
        tuning = finetune_options(optimizer, lora_rank, lora_targets, base_weights, optimizer_impl)
        values.update(tuning.pop("set"))
        tuning = {key: value for key, value in tuning.items() if value is not None}
        if values or hardware or tuning:
            model = self.with_(set=values, hardware=hardware, **tuning)
        else:
            model = self
        outputs = ("train", "memory", "convention")
        return model._result("train", train_report(model._model(outputs), hardware, mfu, gpus), outputs)

    def plan(self, gpus: int, hardware: str, global_batch: int, mfu=None, top: int = 10) -> Result:
        """What `acct plan` prints: the layouts of `gpus` devices for `global_batch` sequences per step
        whose peak memory per GPU fits the hardware's, fastest first, and the best one decomposed."""
        values = check_training_options(hardware, mfu, gpus)
        if isinstance(global_batch, bool) or not isinstance(global_batch, int):
            from acct.reports.plan import MAX_BATCH

            raise AcctError(f"--global-batch: a whole number from 1 to {MAX_BATCH:,}, got {global_batch!r}")
        values["batch_size"] = str(global_batch)
        model = self.with_(set=values, hardware=hardware, default_precision="mixed")

        def best(layout):
            named = {"zero" if key == "zero_stage" else key: value for key, value in layout.items()}
            named["recompute"] = ("none", "selective", "full")[named["recompute"]]
            return model.train(hardware, gpus=gpus, **named).report

        return model._result("plan", plan_report(model._model(), gpus, global_batch, hardware, top, best))

    def infer(self, hardware: Optional[str] = None, batch: Optional[int] = None, prompt: Optional[int] = None,
              generate: Optional[int] = None, tp: Optional[int] = None, weights: Optional[str] = None,
              group_size: Optional[int] = None, scale_bytes: Optional[int] = None, kv_dtype: Optional[str] = None,
              mfu=None, bandwidth_efficiency=None, price_per_hour=None, attention: Optional[str] = None) -> Result:
        """What `acct infer` prints: the KV cache, prefill and decode FLOPs; with hardware, the roofline
        (time to first token, time per output token, tokens/s), what fits and the cost. `attention`:
        the kernel whose traffic the roofline counts, "sdpa" (fused, the default) or "eager"."""
        sizes = {}
        for name, option, value in (("batch_size", "batch", batch), ("context_length", "prompt", prompt),
                                    ("generate", "generate", generate), ("tp", "tp", tp)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):  # as the command line's options are typed
                raise AcctError(f"--{option}: a whole number, got {value!r}")
            sizes[name] = value
        if attention is not None:
            from acct.model.roofline import attention_set

            sizes.update(attention_set(attention, "infer(attention=...)", hardware or self.options.hardware,
                                       {**self.options.set, **sizes}))
        choice = Inference(weights, group_size, scale_bytes, kv_dtype, mfu, bandwidth_efficiency, price_per_hour)
        detailed = bool(hardware or sizes or choice != Inference())
        model = self
        if detailed:
            labels = {**self.options.labels, **{name: f"--{option}" for name, option in (
                ("batch_size", "batch"), ("context_length", "prompt"), ("generate", "generate"), ("tp", "tp"))
                if name in sizes}}  # errors name the option, as the command line's do
            model = self.with_(set=sizes, labels=labels, hardware=hardware or self.options.hardware,
                               inference=choice if choice != Inference() else self.options.inference or Inference())
        elif self.options.hardware or self.options.inference:
            detailed = True
        outputs = ("kv_cache", "infer", "roofline", "cost")
        return model._result("infer", infer_report(model._model(outputs), detailed, model.options), outputs)

    def sweep(self, vary: Mapping[str, Iterable[int]], outputs: Sequence[str] = ()) -> Result:
        """The model over a grid: `vary={"context_length": [1024, 2048]}`; `outputs` adds cells
        such as memory.peak as columns."""
        from acct.reports.scaling import MAX_POINTS, parse_vary

        if not isinstance(vary, Mapping):
            raise AcctError(f"sweep: vary maps input names to values, got {type(vary).__name__}")
        grid, points = [], 1
        for name, values in vary.items():
            if isinstance(values, str):  # as --vary writes it: 1024,2048 or 1024..16384*2
                grid.append(parse_vary(f"{name}={values}"))
                points *= len(grid[-1][1])
                continue
            try:
                count = len(values)  # a range knows its length: counted before it is listed
            except TypeError:
                raise AcctError(f"sweep: the values of {name} must be a list, a range or a --vary text, "
                                f"got {type(values).__name__}") from None
            points *= count
            if points > MAX_POINTS:
                raise AcctError(f"sweep: more than {MAX_POINTS:,} points; a sweep is at most that many")
            if not all(type(value) is int for value in values):
                raise AcctError(f"sweep: the values of {name} must be whole numbers")
            grid.append((name, list(values)))
        if points > MAX_POINTS:
            raise AcctError(f"sweep: {points:,} points; a sweep is at most {MAX_POINTS:,}")
        for name, _ in grid:
            from acct.model.inputs import settable_input

            settable_input(self._model().registry, name, "--vary")
        model = self.with_(free=tuple(name for name, _ in grid))  # gpus and dp follow what is varied
        return model._result("sweep", sweep_report(model._model(), grid, outputs))

    def solve(self, where: str, largest: Optional[str] = None, smallest: Optional[str] = None) -> Result:
        """Goal seek: `solve("memory.peak <= 80GB", largest="batch_size")`."""
        model = self.with_(free=tuple(name for name in (largest, smallest) if isinstance(name, str)))
        return model._result("solve", solve_report(model._model(), where, largest, smallest))


def load(source: Source, set: Optional[Mapping[str, Union[int, str]]] = None,
         variants: Optional[Mapping[str, str]] = None, plugins: Sequence[Source] = (),
         disable: Sequence[str] = (), allow_plugins: bool = False, precision: Optional[str] = None,
         activations: Optional[str] = None) -> Model:
    """A model from a preset path, a Hugging Face config.json (or its folder, or hf:ORG/NAME from the
    local cache) or a bundled preset's name. `set` gives input values (`{"context_length": 16384}`),
    `variants` a variant per slot (as a preset's [variants] table), `plugins` local plugin files to load. Errors
    are `acct.AcctError`, with the same one-line messages the command line prints."""
    return Model(_source(source), _options(set, variants, plugins, disable, allow_plugins, precision, activations))


def _source(source) -> Source:
    if not isinstance(source, (str, Path)):
        raise AcctError(f"a model is named by a preset path, a config.json, hf:ORG/NAME or a bundled preset's "
                        f"name, got {type(source).__name__}")
    return source


def _mapping(value, what: str, kinds: tuple) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, kinds)
                                                 and not isinstance(v, bool) for k, v in value.items()):
        raise AcctError(f"{what} maps names to {' or '.join(k.__name__ for k in kinds)} values, got {value!r}")
    return dict(value)


def _options(set=None, variants=None, plugins=(), disable=(), allow_plugins=False, precision=None,
             activations=None) -> Options:
    set, variants = _mapping(set, "set", (int, str)), _mapping(variants, "variants", (str,))
    return Options(set=dict(set or {}), variants=dict(variants or {}), plugins=[Path(p) for p in plugins],
                   disable=list(disable), allow_plugins=allow_plugins, precision=precision,
                   activations=activations)


def compare(*sources: Source, by: str = "group", **options) -> Result:
    """Several models side by side: shares of forward FLOPs by group (or `by="component"`); the
    keyword arguments are load's."""
    if not sources:
        raise AcctError("compare: name at least one model")
    sources = tuple(_source(source) for source in sources)
    built = build(list(sources), _options(**options), outputs=("convention",))
    return Result("compare", compare_report(built.models, sources), built.plugin_files,
                  {"by_component": by == "component"})
