"""Build a model's sheet: the preset's inputs and choices, joined with the chosen components' formulas.

The stages, each a function below, in the order the data flows:

1. `choose_variants`: the variant of each slot, the preset's or the default.
2. `chosen_rows`: the rows of those variants, with the preset's biases.
3. `InputCells`: the input cells the rows and outputs read, from --set, the
   preset, the precision, or the plugins' defaults (only what is read).
4. `row_cells`: each row's columns, one instance (`.._each`) and × its multiplicity.
5. `sum_cells`: group, block and model totals of every column.
6. `output_cells`: training, memory, KV-cache and inference outputs, and the
   aggregates conventions read; then `convention_cells`, each convention's totals.

Core knows no component by name: what it needs of a row (a lookup table, a
product over the sequence, how many instances) the row states as a field.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from acct.records import fresh, record, replace

from acct.model.config import Preset, Value
from acct.errors import AcctError, ConfigError, PluginError, SheetError, suggest
from acct.engine.formula import Formula, add, from_tree, mul, named, number, parse, sub
# the cells' names, read by the reports from here too
from acct.model.cells import AGGREGATES, TOTAL_FLOPS, TOTAL_PARAMS, blocks_cell, cell_name, convention_cell, group_cell
from acct.model.registry import RegisteredComponent, Registry, unknown_variant
from acct.engine.sheet import Cell, Sheet
from acct.model.outputs import (ACTIVATION_OUTPUTS, CHECK_PRECEDENCE, COST_INPUTS, FITS_INPUTS, INFERENCE_INPUTS, OUTPUTS, PRECISIONS,
                                ROOFLINE_INPUTS, activation_formula, output_formula)

# the families of output cells a command may ask for (`run` needs none of train/memory/kv_cache/infer)
OUTPUT_FAMILIES = ("train", "memory", "kv_cache", "infer", "convention", "gpu", "roofline", "cost")
OUTPUT_PREFIXES = tuple(f"{family}." for family in OUTPUT_FAMILIES) + ("total.",)


def output_cell(model: "Model", name: str, option: str) -> str:
    """`name` if it is an output cell of the model's sheet (train.flops_step, memory.peak, ...),
    else an error for `option` that suggests the nearest and lists them."""
    if name in model.sheet and name.startswith(OUTPUT_PREFIXES):
        return name
    outputs = sorted(cell.name for cell in model.sheet.cells if cell.name.startswith(OUTPUT_PREFIXES))
    hint = f"; {model.activation_problem}" if name.startswith("memory.") and model.activation_problem else ""
    if name.startswith("infer.") and "infer.memory" in model.sheet and name not in model.sheet:
        hint = ("; the roofline's outputs (infer.time_per_token, infer.tokens_per_s, ...) need --hardware NAME "
                "(or --set peak_flops=... --set memory_bandwidth=...), infer.memory_free a device_memory and "
                "infer.usd_per_million_tokens a price_per_hour (--price-per-hour)")
    raise ConfigError(f"{option}: unknown output {name!r}{suggest(name, outputs)}{hint}; known: {', '.join(outputs)}")


@record
class Model:
    """A preset made concrete: the variant chosen per slot, the rows, and the sheet of cells."""

    preset: Preset
    registry: Registry
    variants: Dict[str, str]
    rows: List[RegisteredComponent]
    sheet: Sheet
    inputs: List[str]  # the input cells the model's shape reads, in registration order
    overrides: Dict[str, Value]
    groups: List[str]  # the rows' groups, in row order
    activation_convention: str = ""
    activation_problem: str = ""  # why memory.activations and memory.peak are not in the sheet, if they are not
    non_matmul: bool = False  # whether the rows' flops_other column is in the sheet
    outputs: Tuple[str, ...] = OUTPUT_FAMILIES  # the output families in the sheet
    input_cells: List[str] = fresh(list)  # every input cell: the shape's and the run's
    given: List[str] = fresh(list)  # the inputs given a value (--set, a flag, the preset) or varied

    @property
    def symbols(self) -> Dict[str, str]:
        return {cell.name: cell.symbol for cell in self.sheet.cells if cell.symbol}

    def settable(self, name: str) -> bool:
        """Whether `name` is an input of this model that a preset, --set or --vary may set."""
        return name in self.input_cells and self.registry.inputs[name].spec.settable


def build_model(
    preset: Preset,
    registry: Registry,
    overrides: Optional[Mapping[str, Value]] = None,
    non_matmul: bool = False,
    outputs: Sequence[str] = OUTPUT_FAMILIES,
    implied: Optional[Mapping[str, Tuple[str, Value]]] = None,
    labels: Optional[Mapping[str, str]] = None,
    free: Sequence[str] = (),
) -> Model:
    """The model's sheet: inputs, every chosen row's columns, sums, the `outputs` families
    (train, memory, kv_cache, infer, convention) and nothing a command will not read.
    `non_matmul` adds the rows' opt-in non-matmul FLOPs column. `free` names the inputs a sweep
    or a goal seek will vary: given values too, for what follows from what (gpus and dp)."""
    overrides = dict(overrides or {})
    for family in outputs:
        if family not in OUTPUT_FAMILIES:
            raise ValueError(f"unknown output family {family!r}")
    variants = choose_variants(preset, registry)
    rows = chosen_rows(preset, registry, variants)
    inputs = InputCells(preset, registry, overrides, implied, labels, free)
    convention = activation_convention(preset, registry)
    # which rows state activations for the convention: from their Component's keys, as the formulas
    # themselves are parsed only for a command that reads them
    missing = [row for row in rows if convention not in row.spec.activations and "*" not in row.spec.activations]
    wants_memory = "memory" in outputs
    columns = row_columns(outputs, non_matmul, activations=wants_memory and not missing)

    # each stage asks `inputs` for what it reads, in the order the sheet's input cells are listed
    shape = _need_row_inputs(rows, inputs, columns, convention)
    phased = convention if convention and registry.activations[convention].spec.phases and not missing else ""
    output_formulas, tuned = _output_formulas(preset, rows, inputs, overrides, outputs, bool(missing), phased)
    if "convention" in outputs:
        _need_convention_inputs(registry, inputs)
    parallel = parallel_output_cells(rows, inputs, outputs, not missing, overrides, preset, tuned)
    inference = _inference_output_cells(rows, inputs, outputs)
    inputs.check_all_read(lambda: _readable(rows, registry, outputs))  # made only for an unread value

    # of two values that break a check, the error names the one the user can act on first
    cells = sorted(inputs.cells.values(), key=lambda cell: CHECK_PRECEDENCE.get(cell.name, len(CHECK_PRECEDENCE)))
    cells += row_cells(rows, columns, convention)
    cells += sum_cells(rows, columns)
    cells += [Cell(name, formula, f"acct's output {name}") for name, formula in output_formulas]
    cells += parallel
    cells += inference
    if "convention" in outputs:
        cells += aggregate_cells(rows)
        cells += convention_cells(registry)
    problem = _activation_problem(missing, convention) if wants_memory else ""
    groups = list(dict.fromkeys(row.spec.group for row in rows))
    every_input = [name for name in registry.inputs if name in inputs.cells]
    # the configuration shows what the shape reads and what the user set, not the inputs that only
    # check a constraint (rotary_dims must be whole) or count a run (batch_size)
    architecture = [name for name in every_input if name in shape or name in overrides or name in preset.inputs]
    return Model(preset, registry, variants, rows, Sheet(cells), architecture, overrides, groups,
                 convention, problem, non_matmul, tuple(outputs), every_input, sorted(inputs.explicit))


def _need_row_inputs(rows, inputs: "InputCells", columns, convention: str) -> set:
    """Ask for the inputs the rows read: their shape first, then what they require, then the other
    columns. Returns the names the model's shape reads (params, flops, multiplicity, the shape's sides)."""
    for row in rows:
        for column in ("params", "flops", "multiplicity"):
            for name in row_formula(row, column, convention).names:
                inputs.need(name, f"{row.where} {column}")
        for formula in row.formulas[2:]:  # the shape's sides and batch
            for name in formula.names:
                inputs.need(name, row.where, formula)
    shape = set(inputs.cells)  # what the model's shape reads
    for row in rows:
        for name in row.spec.requires:
            inputs.need(name, row.where)
    for row in rows:
        for column in columns[2:]:
            formula = row_formula(row, column, convention)
            for name in formula.names:
                inputs.need(name, f"{row.where} {column}", formula)
        if row.flops_dense is not None:
            for name in row.flops_dense.names:
                inputs.need(name, f"{row.where} flops_dense", row.flops_dense)
    return shape


def _output_formulas(preset: Preset, rows, inputs: "InputCells", overrides: Mapping[str, Value],
                     outputs: Sequence[str], missing: bool, phased: str = "") -> Tuple[list, bool]:
    """The chosen families' output formulas, fine-tuning's among them (LoRA's and Adafactor's cells,
    and the outputs they change), with the inputs they read; and whether fine-tuning is on. `phased`
    names a convention that counts autograd's tensors: the step's peak phase by phase (acct.model.phases)."""
    tuned: list = []
    retuned: dict = {}
    if "train" in outputs:
        from acct.model.finetune import finetune_outputs  # only a command that trains pays for its import

        tuned, retuned = finetune_outputs(preset, rows, overrides)
    activation_outputs: tuple = () if missing else ACTIVATION_OUTPUTS
    if phased and "memory" in outputs:
        from acct.model.phases import phase_cells

        activation_outputs = tuple(cell for cell in ACTIVATION_OUTPUTS if cell[0] != "memory.peak")
        activation_outputs += tuple(phase_cells(rows, preset.biases, phased))
        inputs.need("optimizer_impl_left", "acct's output memory.phase.optimizer", core=True)
        inputs.need("autocast_left", "acct's output memory.autocast_weights", core=True)
    output_formulas = [
        (name, output_formula(retuned.get(name, text)))
        for name, text in OUTPUTS + activation_outputs + tuple(tuned)
        if name.split(".", 1)[0] in outputs
    ]
    for name, formula in output_formulas:
        for read in formula.names:
            if "." not in read:
                inputs.need(read, f"acct's output {name}", formula, core=True)
    return output_formulas, bool(tuned)


def _need_convention_inputs(registry: Registry, inputs: "InputCells") -> None:
    """Ask for the inputs the registered FLOP-counting conventions read (beyond the aggregates)."""
    for counting in registry.conventions.values():
        for formula in (counting.forward, counting.training):
            for read in formula.names:
                if read not in AGGREGATES:
                    inputs.need(read, f"{counting.plugin}: convention {counting.spec.name!r}", formula)


def _inference_output_cells(rows, inputs: "InputCells", outputs: Sequence[str]) -> List[Cell]:
    """The inference family's cells, with the inputs they read."""
    inference = inference_cells(rows, outputs, inputs)
    if inference:
        from acct.model.roofline import inputs_read

        for name, formula in inputs_read(inference):
            inputs.need(name, "acct's inference outputs", formula, core=True)
    return inference


def _activation_problem(missing, convention: str) -> str:
    """Why the memory outputs have no activations: the rows without a formula for the convention."""
    if not missing:
        return ""
    return (f"{missing[0].where} gives no activations formula for the convention {convention!r}"
            f"{' (nor do ' + str(len(missing) - 1) + ' more rows)' if len(missing) > 1 else ''}")


# -- training at scale: the gpu family (acct.model.parallel) ----------------------


def parallel_output_cells(rows, inputs: "InputCells", outputs: Sequence[str], activations: bool,
                          overrides: Mapping[str, Value], preset: Preset, finetune: bool = False) -> List[Cell]:
    """The `gpu.` cells (per-GPU memory, communication, time under the layout inputs), with the
    layout checks they need; time only when the hardware's numbers are inputs. Fine-tuning
    (LoRA, Adafactor) is accounted on one device: its gpu cells are the compute time alone."""
    if "gpu" not in outputs or "train" not in outputs or "memory" not in outputs:
        return []
    from acct.model.outputs import EXPERT_CHECKS, LAYOUT_CHECKS, LAYOUT_INPUTS, SHAPE_CHECKS
    from acct.model.parallel import finetune_cells, parallel_cells

    def given(name: str) -> bool:
        return name in overrides or name in preset.inputs or name in inputs.implied

    read = set(inputs.cells)  # what the model's rows read: the plugin inputs the cells may use
    timed = given("peak_flops")
    linked = timed and all(given(name) for name in ("link_bandwidth", "network_bandwidth", "gpus_per_node"))
    if finetune:
        laid = [name for name in (*LAYOUT_INPUTS, "gpus") if name in inputs.explicit]
        if laid:
            option = inputs.labels.get(laid[0]) or f"--{laid[0].replace('_stage', '').replace('_', '-')}"
            raise ConfigError(f"the layout input {laid[0]} ({option}): LoRA, QLoRA and Adafactor are accounted on "
                              "one device here (their memory is memory.*); a parallel layout (or --gpus) is for "
                              "full training with AdamW or SGD")
        texts = finetune_cells(timed)
    else:
        texts = parallel_cells(rows, read.__contains__, activations, timed, "kv_cache" in outputs, linked)
    if activations and given("device_memory"):  # what is left of the device: solve's and plan's test
        texts.append(("gpu.memory.headroom", "device_memory - " + ("memory.peak" if finetune else "gpu.memory.peak")))
    checks = [] if finetune else list(LAYOUT_CHECKS) + [name for name, (_, _, needs, _) in SHAPE_CHECKS.items() if needs in read]
    routed = any(row.repeated and row.params_active.text != row.params.text for row in rows)
    if not routed and not finetune:  # an ep above 1 would divide nothing, and be shown in the layout
        checks.append("ep_without_experts")
    if routed and "num_experts" in read:
        checks += list(EXPERT_CHECKS)
    for name in checks:
        inputs.need(name, "acct's gpu outputs", core=True)
    cells = []
    for name, text in texts:
        formula = output_formula(text)
        for needed in formula.names:
            if "." not in needed:
                inputs.need(needed, f"acct's output {name}", formula, core=True)
        cells.append(Cell(name, formula, f"acct's output {name}"))
    return cells


# -- 1. variants ---------------------------------------------------------------


def choose_variants(preset: Preset, registry: Registry) -> Dict[str, str]:
    """slot -> variant: the preset's choice (or --variant's), else the slot's default."""
    slots = registry.slots()
    for slot, variant in preset.variants.items():
        where = preset.chosen_by.get(slot) or preset.where("variants", slot)
        if slot in registry.unfilled and slot not in slots:
            raise ConfigError(f"{where}: {_unfilled(slot, registry)}")
        if slot not in slots:
            raise ConfigError(f"{where}: unknown slot {slot!r}{suggest(slot, slots)}; known: {', '.join(slots)}")
        if variant not in slots[slot]:
            raise ConfigError(f"{where}: {unknown_variant(slot, variant, registry)}")
    for slot in registry.unfilled:
        if slot not in preset.variants:
            raise ConfigError(f"{preset.path}: {_unfilled(slot, registry)}")
    chosen = {}
    for slot in slots:
        variant = preset.variants.get(slot) or registry.defaults.get(slot)
        if variant:
            chosen[slot] = variant
    return chosen


def _unfilled(slot: str, registry: Registry) -> str:
    return (f"the slot {slot!r} has no variant: plugin {registry.unfilled[slot]!r}, which fills it, is disabled, "
            "and no loaded plugin provides it (a model without it would silently lose its rows)")


# -- 2. rows -------------------------------------------------------------------


def chosen_rows(preset: Preset, registry: Registry, variants: Mapping[str, str]) -> List[RegisteredComponent]:
    """The rows of the chosen variants, in registration order, with the preset's biases added."""
    rows: List[RegisteredComponent] = []
    seen: Dict[str, RegisteredComponent] = {}
    for key, components in registry.variants.items():
        if variants.get(key[0]) != key[1]:
            continue
        for row in components:
            if row.spec.name in seen:
                raise PluginError(
                    f"{row.where}: a row named {row.spec.name!r} is also contributed by {seen[row.spec.name].where}"
                )
            seen[row.spec.name] = row
            rows.append(row)
    for row in rows:
        for slot, allowed in row.spec.requires_variants.items():
            if variants.get(slot) not in allowed:
                chosen = variants.get(slot)
                where = (preset.chosen_by.get(row.spec.slot) or preset.chosen_by.get(slot)
                         or preset.where("variants", slot))
                raise ConfigError(f"{where}: {slot} = {chosen or 'none'} does not go with "
                                  f"{row.spec.slot} = {row.spec.variant} ({row.where} needs {slot} = "
                                  f"{' or '.join(allowed)})")
    return apply_biases(preset, rows)


def apply_biases(preset: Preset, rows: List[RegisteredComponent]) -> List[RegisteredComponent]:
    """Add each chosen layer's bias to its params: `biases` names rows or groups, and each
    name must reach at least one layer that can carry a bias (never a silent no-op)."""
    if not preset.biases:
        return rows
    names = {row.spec.name for row in rows} | {row.spec.group for row in rows}
    for target in preset.biases:
        if target not in names:
            raise ConfigError(
                f"{preset.path}: biases: no chosen component or group is named {target!r}{suggest(target, names)}"
            )
        reached = [row for row in rows if target in (row.spec.name, row.spec.group)]
        if not any(row.bias is not None for row in reached):
            biasable = [row.spec.name for row in rows if row.bias is not None]
            what = "component" if any(row.spec.name == target for row in reached) else "group"
            raise ConfigError(f"{preset.path}: biases: the {what} {target!r} has no layer that carries a bias; "
                              f"those that can: {', '.join(biasable) or 'none'}")
    biased = []
    for row in rows:
        if row.bias is not None and (row.spec.name in preset.biases or row.spec.group in preset.biases):
            params = from_tree(add(row.params.tree, row.bias.tree), f"{row.params.text} + {row.bias.text}")
            active = params if row.params_active is row.params else from_tree(
                add(row.params_active.tree, row.bias.tree),
                f"{row.params_active.text} + {row.bias.text}")
            row = replace(row, params=params, params_active=active)
        biased.append(row)
    return biased


# -- 3. inputs -----------------------------------------------------------------


class InputCells:
    """The input cells a model reads, made on demand: from --set, the preset, the chosen
    precision, or the registering plugin's default, in that order."""

    def __init__(self, preset: Preset, registry: Registry, overrides: Mapping[str, Value],
                 implied: Optional[Mapping[str, Tuple[str, Value]]] = None,
                 labels: Optional[Mapping[str, str]] = None, free: Sequence[str] = ()):
        from acct.model.outputs import layout_defaults

        self.preset, self.registry, self.overrides = preset, registry, overrides
        # the option that gave an override, when not --set NAME (--gpus, --global-batch, --prompt, ...),
        # so that an error names what the user wrote
        self.labels = {name: label for name, label in (labels or {}).items() if label.startswith("--")}
        self.cells: Dict[str, Cell] = {}
        # values a choice implies (a precision's bytes, a hardware's numbers): name -> (where, value)
        tuning = {}
        if "optimizer" in preset.training or "base_weights" in preset.training:
            from acct.model.finetune import implied as finetune_implied

            tuning = finetune_implied(preset, PRECISIONS)
        self.implied = {**precision_inputs(preset), **tuning, **(implied or {})}
        # gpus and dp follow whichever of them was given (`--gpus 8` alone is dp = 8)
        self.explicit = set(overrides) | set(preset.inputs) | set(free)
        self.implied.update(layout_defaults(self.explicit - self._following()))
        for source, names in (("--set", overrides), (preset.where("model"), preset.inputs)):
            for name in names:
                if name not in registry.inputs:
                    raise ConfigError(
                        f"{source} {name}: unknown input{suggest(name, registry.inputs)}; "
                        f"known: {', '.join(registry.inputs)}"
                    )

    def _following(self) -> set:
        """gpus or dp given as a formula of the other (a preset's gpus = "dp * tp"): given, but not a
        source the other follows, or the rule would close a cycle the user did not write."""
        following = set()
        for name, other in (("gpus", "dp"), ("dp", "gpus")):
            value = self.overrides.get(name, self.preset.inputs.get(name))
            if isinstance(value, str):
                try:
                    if other in parse(value, name).names:
                        following.add(name)
                except AcctError:  # a bad formula is named when its cell is made
                    pass
        return following

    def _given(self, name: str) -> str:
        """How an error names the option that set the input `name`."""
        return self.labels.get(name) or f"--set {name}"

    def need(self, name: str, reader: str, formula: Optional[Formula] = None, core: bool = False) -> None:
        """Make the cell `name` and, depth first, every cell its formula reads (a loop, not recursion:
        a plugin may chain a thousand derived inputs); or say who reads an unknown name."""
        pending = [(name, reader, formula, core)]
        while pending:
            for read in self._make(*pending.pop()):
                pending.append(read)

    def _make(self, name: str, reader: str, formula: Optional[Formula], core: bool) -> List[tuple]:
        """Make the cell `name`; return what its formula reads, last first, for need's stack."""
        if name in self.cells:
            return []
        registry, preset, overrides = self.registry, self.preset, self.overrides
        if name not in registry.inputs:
            where = f" in formula {formula.text!r}" if formula else ""
            hint = ""
            if core:
                hint = "; no loaded plugin registers this input (is the plugin that does disabled?)"
            raise SheetError(f"{reader}: unknown name {name!r}{where}{suggest(name, registry.inputs)}{hint}")
        entry = registry.inputs[name]
        spec = entry.spec
        if not spec.settable and (name in overrides or name in preset.inputs):
            source = self._given(name) if name in overrides else preset.where("model", name)
            raise ConfigError(
                f"{source}: {name} is derived ({name} = {entry.default.text}) and cannot be set; "
                f"set {' or '.join(entry.default.names)} instead"
            )
        if name in overrides:
            where = self._given(name)
            formula = parse(overrides[name], where)
        elif name in preset.inputs:
            where = preset.where("model", name)
            formula = parse(preset.inputs[name], where)
        elif name in self.implied:
            where, value = self.implied[name]
            formula = parse(value, where)
        elif entry.default is not None:
            where = f"{preset.path}: {name} (the default of {entry.plugin})"
            formula = entry.default
        else:
            needed_by = reader.replace(f"{preset.path}: ", "", 1)
            raise ConfigError(f"{preset.where('model')} is missing {name!r} ({spec.description}), needed by {needed_by}")
        # the message explains a formula acct chose (a default, an implied value), not a value the user set
        message = spec.message if name not in overrides and name not in preset.inputs else None
        self.cells[name] = Cell(name, formula, where, spec.symbol, spec.description, spec.integer, spec.minimum,
                                message)
        return [(read, where, formula, False) for read in reversed(formula.names)]

    def has_any(self, names: Sequence[str]) -> bool:
        """Whether any of the inputs `names` has a value (--set, the preset, an implied value such as
        --hardware's, or a default): optional outputs that read them are made only then."""
        return any(name in self.overrides or name in self.preset.inputs or name in self.implied
                   or (name in self.registry.inputs and self.registry.inputs[name].default is not None)
                   for name in names)

    def check_all_read(self, readable_of: Callable[[], Mapping[str, str]]) -> None:
        """A value the user gave that nothing reads would silently change nothing. A preset describes
        the model, so its values may be read by a column this command does not show (`readable_of()`:
        name -> the column that reads it); a --set value is for this command, which must read it."""
        if all(name in self.cells for name in (*self.preset.inputs, *self.overrides)):
            return  # every value is read: what else could read them need not be worked out
        readable = readable_of()
        for name in self.preset.inputs:
            if name not in self.cells and name not in readable:
                raise ConfigError(f"{self.preset.where('model')} {name}: {_unread(name, self.registry)}")
        for name in self.overrides:
            if name not in self.cells:
                if name in readable:
                    raise ConfigError(f"{self._given(name)}: this command does not report what reads it "
                                      f"({readable[name]})")
                raise ConfigError(f"{self._given(name)}: {_unread(name, self.registry)}")


def precision_inputs(preset: Preset) -> Dict[str, Tuple[str, int]]:
    """The bytes-per-value inputs a precision sets: name -> (where, value)."""
    precision = preset.training.get("precision", "fp32")
    where = preset.chosen_by.get("precision") or preset.where("training", "precision")
    if precision not in PRECISIONS:
        raise ConfigError(f"{where}: unknown precision {precision!r}{suggest(precision, PRECISIONS)}; "
                          f"known: {', '.join(PRECISIONS)}")
    return {name: (f"{where} = {precision}", value) for name, value in PRECISIONS[precision].items()}


def activation_convention(preset: Preset, registry: Registry) -> str:
    """The activation convention chosen, or the registered default ('' when none is registered).
    A row may give formulas for conventions no loaded plugin registers: they are not used."""
    known = list(registry.activations)
    convention = preset.training.get("activations") or registry.default_activations or ""
    if convention and convention not in registry.activations:
        source = preset.chosen_by.get("activations") or preset.where("training", "activations")
        raise ConfigError(f"{source}: unknown activation convention {convention!r}{suggest(convention, known)}; "
                          f"known: {', '.join(known)}")
    return convention


def _readable(rows: Sequence[RegisteredComponent], registry: Registry, outputs: Sequence[str]) -> Dict[str, str]:
    """Every input some command could read for this model: name -> what reads it. The chosen rows'
    formulas in every column, acct's outputs of every family and the conventions, through the
    defaults of the inputs they read."""
    readers: Dict[str, str] = {}

    def read(names, reader: str) -> None:
        pending = list(names)
        while pending:  # through the defaults, as a loop: a chain of derived inputs may be long
            name = pending.pop()
            if name in registry.inputs and name not in readers:
                readers[name] = reader
                default = registry.inputs[name].default
                pending += default.names if default is not None else ()

    columns = ("params", "flops", "multiplicity", "flops_backward", "flops_decode", "kv_cache", "flops_other")
    for row in rows:
        for column in columns:
            option = {"flops_other": "--non-matmul", "flops_backward": "acct train"}.get(column, "acct infer")
            # a default backward or decode formula reads what the forward one reads: not made here
            formula = {"flops_backward": row.backward, "flops_decode": row.decode}.get(column) or getattr(
                row, "flops" if column in ("flops_backward", "flops_decode") else column)
            read(formula.names, f"{row.spec.name}'s {column}, shown by {option}")
        for formula in (*row.formulas[2:], *row.activations.values(), *filter(None, (row.flops_dense,))):
            read(formula.names, f"{row.spec.name}'s activations or shape")
        read(row.spec.requires, f"{row.spec.name}'s constraints")
    for name, text in OUTPUTS + ACTIVATION_OUTPUTS:
        read(output_formula(text).names, f"acct's output {name}, shown by acct train, infer, sweep or solve")
    for counting in registry.conventions.values():
        read((*counting.forward.names, *counting.training.names), f"the convention {counting.spec.name!r}")
    read(INFERENCE_INPUTS, "acct's inference outputs, shown by acct infer, sweep or solve")
    return readers


def _unread(name: str, registry: Registry) -> str:
    """Why an input the user set is read by nothing: no chosen component reads it (and which
    variants would), or it belongs to reports this command does not make."""
    readers = []
    for (slot, variant), components in registry.variants.items():
        for row in components:
            if (any(name in formula.names for formula in (*row.formulas, row.multiplicity))
                    or name in row.spec.requires):
                readers.append(f"{slot} = {variant}")
                break
    if readers:
        return f"no chosen component reads it (it is read by {', '.join(readers)})"
    return ("this command reports nothing that reads it (it is an input of the training and inference "
            "reports: acct train, infer, sweep, solve)")


# -- 4. row cells --------------------------------------------------------------


def row_columns(outputs: Sequence[str], non_matmul: bool, activations: bool) -> List[str]:
    """The columns every row has in the sheet, params and flops first, and those the outputs read."""
    columns = ["params", "flops", "params_active"]
    columns += [column for family, column in (("train", "flops_backward"), ("infer", "flops_decode"),
                                              ("kv_cache", "kv_cache")) if family in outputs]
    if non_matmul:
        columns.append("flops_other")
    if activations:
        columns.append("activations")
    return columns


def row_formula(row: RegisteredComponent, column: str, convention: str) -> Formula:
    if column == "activations":
        return activation_formula(row.activations, convention)
    return getattr(row, column)


def row_cells(rows: Sequence[RegisteredComponent], columns: Sequence[str], convention: str) -> List[Cell]:
    """Per row: its multiplicity, and for each column one instance (`.._each`) and all of them."""
    cells = []
    for row in rows:
        times = cell_name(row, "multiplicity") if row.repeated else None
        if times:
            cells.append(Cell(times, row.multiplicity, f"{row.where} multiplicity", integer=True, minimum=0))
        dense = [("flops_dense", row.flops_dense)] if row.flops_dense is not None else []
        for column, formula in [(c, row_formula(row, c, convention)) for c in columns] + dense:
            each = cell_name(row, f"{column}_each")
            cells.append(Cell(each, formula, f"{row.where} {column}", integer=True, minimum=0))
            total = from_tree(mul(named(each), named(times)) if times else named(each),
                              f"{each} × {times}" if times else each)
            cells.append(Cell(cell_name(row, column), total, f"{row.where} {column}"))
    return cells


# -- 5. sums -------------------------------------------------------------------


def sum_cells(rows: Sequence[RegisteredComponent], columns: Sequence[str]) -> List[Cell]:
    """Each column's model total; params and FLOPs also by group and over the repeated rows (blocks)."""
    cells = []
    groups = list(dict.fromkeys(row.spec.group for row in rows))
    for column in columns:
        parts = [cell_name(row, column) for row in rows]
        if column in ("params", "flops"):
            sums = {group_cell(group, column): [r for r in rows if r.spec.group == group] for group in groups}
            sums[blocks_cell(column)] = [row for row in rows if row.repeated]
            for name, members in sums.items():
                cells.append(Cell(name, from_tree(_sum([cell_name(r, column) for r in members]), name),
                                  f"the sum {name}"))
            parts = [group_cell(group, column) for group in groups]
        total = TOTAL_FLOPS if column == "flops" else f"total.{column}"
        cells.append(Cell(total, from_tree(_sum(parts), total), f"the model's {column} total"))
    return cells


# -- 6. outputs, aggregates, conventions ---------------------------------------


def inference_cells(rows: Sequence[RegisteredComponent], outputs: Sequence[str], inputs: "InputCells") -> List[Cell]:
    """The inference family's cells (acct.model.roofline): weights at their quantized widths and what
    fits, always with `infer`; the roofline when the hardware's numbers have values (--hardware or
    --set), what is left of a device's memory when it has one, the cost when it has a price."""
    if "infer" not in outputs:
        return []
    from acct.model.roofline import cost_cells, fits_cells, memory_cells, roofline_cells

    cells = memory_cells(rows, cell_name, inputs.cells)  # the rows' constraints, checked again at P + G − 1
    if "roofline" in outputs and inputs.has_any(ROOFLINE_INPUTS):
        cells += roofline_cells(rows, cell_name)
        if inputs.has_any(FITS_INPUTS):
            cells += fits_cells()
        if "cost" in outputs and inputs.has_any(COST_INPUTS):
            cells += cost_cells()
    return cells



def aggregate_cells(rows: Sequence[RegisteredComponent]) -> List[Cell]:
    """The cells conventions read besides the inputs, from the rows' flags."""
    attention = [cell_name(row, "flops") for row in rows if row.spec.attention_product]
    # Kaplan's non-embedding N: without the lookup tables and the de-embedding (an untied head's
    # weight; a tied head's is the table's, already left out), whose FLOPs his C_forward omits
    tables = [cell_name(row, "params") for row in rows if row.spec.embedding_table or row.spec.unembedding]
    dense = named(TOTAL_FLOPS)
    for row in rows:
        if row.flops_dense is not None:
            dense = sub(add(dense, named(cell_name(row, "flops_dense"))), named(cell_name(row, "flops")))
    trees = {
        "flops_matmul": named(TOTAL_FLOPS),
        "flops_attention": _sum(attention),
        "flops_dense": dense,
        "params_total": named(TOTAL_PARAMS),
        "params_nonembedding": sub(named(TOTAL_PARAMS), _sum(tables)) if tables else named(TOTAL_PARAMS),
        "params_active": named("total.params_active"),
        # a lookup table is used whole by no token, but it is not a matmul's weight either: left out as above
        "params_active_nonembedding": sub(named("total.params_active"), _sum(tables)) if tables
        else named("total.params_active"),
    }
    return [Cell(name, from_tree(tree, name), f"the aggregate {name}", description=AGGREGATES[name])
            for name, tree in trees.items()]


def convention_cells(registry: Registry) -> List[Cell]:
    cells = []
    for counting in registry.conventions.values():
        where = f"{counting.plugin}: convention {counting.spec.name!r}"
        cells.append(Cell(convention_cell(counting.spec.name, "forward"), counting.forward, f"{where} forward"))
        cells.append(Cell(convention_cell(counting.spec.name, "training"), counting.training, f"{where} training"))
    return cells


def _sum(names: List[str]):
    """The sum of the named cells (0 for none); `from_tree` balances it."""
    return add(*map(named, names)) if names else number(0)
