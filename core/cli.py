"""The `acct` command line: parse arguments, run a command, turn errors into one line and exit 1."""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from acct import __version__
from acct.errors import AcctError

FORMATS = ("markdown", "json", "csv")
HTML_FORMATS = FORMATS + ("html",)  # run, compare, sweep, train and infer (acct.render.html)
# the output families of a model's sheet (acct.model.OUTPUT_FAMILIES, without importing it at start-up)
OUTPUT_FAMILIES = ("train", "memory", "kv_cache", "infer", "convention", "gpu", "roofline", "cost")
TRACEBACK_ENV = "ACCT_TRACEBACK"


class _Skipped:
    """A command's parser that is not built: what argv runs is one command, and building the
    others' options would cost start-up for nothing. Every call on it is ignored."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: self


class _OnlyCommand:
    """The subparsers action, building the parser of `only` alone (all of them when None)."""

    def __init__(self, commands, only: Optional[str]) -> None:
        self.commands, self.only = commands, only

    def add_parser(self, name: str, **kwargs):
        if self.only is None or name == self.only:
            return self.commands.add_parser(name, **kwargs)
        return _Skipped()


def _command_of(argv: Sequence[str]) -> Optional[str]:
    """The command argv names, when it names one before any other word (global options are flags)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
        if word in ("-h", "--help"):
            return None
    return None


def _parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """The command line's parser; with `only`, only that command's options are built."""
    parser = argparse.ArgumentParser(
        prog="acct",
        description="Exact parameter, memory and FLOPs accounting for Transformer language models.",
    )
    parser.add_argument("--version", action="version", version=f"acct {__version__}")
    parser.add_argument(
        "--traceback", action="store_true",
        help=f"show the full traceback of an error (for plugin developers; or set {TRACEBACK_ENV}=1)",
    )
    commands = _OnlyCommand(parser.add_subparsers(dest="command", metavar="COMMAND", required=True), only)
    _add_run_command(commands)
    _add_conventions_command(commands)
    _add_compare_command(commands)
    _add_sweep_command(commands)
    _add_train_command(commands)
    _add_infer_command(commands)
    _add_solve_command(commands)
    _add_plan_command(commands)
    _add_import_command(commands)
    _add_presets_command(commands)
    _add_plugins_command(commands)
    return parser


def plugin_options(command: argparse.ArgumentParser) -> None:
    """--plugin and --disable: every command that loads plugins."""
    command.add_argument(
        "-p", "--plugin", action="append", default=[], metavar="FILE", type=Path,
        help="load a local plugin file (repeatable)",
    )
    command.add_argument(
        "--disable", action="append", default=[], metavar="NAME",
        help="block the plugin NAME (repeatable; or ACCT_DISABLE_PLUGINS=a,b)",
    )
    # also after the command (`acct run X --traceback`); SUPPRESS keeps the global flag's value
    command.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)



def model_options(command: argparse.ArgumentParser, formats: Sequence[str] = FORMATS) -> None:
    """The options of a command that builds a preset's model: format, --set, --variant, plugins."""
    command.add_argument("-f", "--format", choices=formats, default="markdown", help="output format (default: markdown)")
    command.add_argument("--tablefmt", default="github", metavar="NAME",
                         help="the markdown format's tables in any tabulate format: github (default), pipe, "
                         "latex_booktabs, rst, html, orgtbl, grid, ...")
    command.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", dest="overrides",
        help="override an input, e.g. --set context_length=16384 (repeatable; VALUE may be a formula)",
    )
    command.add_argument(
        "--variant", action="append", default=[], metavar="SLOT=VARIANT", dest="variants",
        help="choose a variant for a slot over the preset's, e.g. --variant lm_head=tied (repeatable)",
    )
    plugin_options(command)
    command.add_argument(
        "--allow-plugins", action="store_true", dest="allow_plugins",
        help="run the plugin files a preset names (plugins = [...]): they are Python code",
    )



def chart_options(command: argparse.ArgumentParser) -> None:
    """--chart, --plot and --force (compare and sweep)."""
    command.add_argument("--chart", choices=("mermaid",), help="append a Mermaid chart of the group shares")
    command.add_argument("--plot", type=Path, metavar="FILE", help="write a chart to FILE.svg or FILE.png (needs acct-lm[plot])")
    command.add_argument("--force", action="store_true", help="let --plot replace an existing file")



def training_options(command: argparse.ArgumentParser) -> None:
    """Precision, the activation convention and fine-tuning (LoRA, QLoRA, optimizers)."""
    command.add_argument("--precision", choices=("fp32", "mixed", "bf16", "amp"),
                         help="bytes per value: fp32, mixed (bf16 + fp32 master and moments), bf16 (pure, no "
                         "master), amp (PyTorch autocast: fp32 weights, bf16 products) (default: the preset's, else "
                         "fp32; plan: mixed)")
    command.add_argument("--activations", metavar="CONVENTION",
                         help="activation convention: cs336 (default), korthikanti, korthikanti_recompute; sdpa or "
                         "eager count what PyTorch keeps with that attention kernel, and the step's peak phase by phase")
    command.add_argument("--optimizer-impl", choices=("forloop", "foreach", "fused"), dest="optimizer_impl",
                         help="how AdamW steps (its temporaries, with --activations sdpa|eager): forloop one tensor "
                         "at a time (default), foreach all at once (CUDA's default), fused")
    # fine-tuning (acct.model.finetune)
    tuning = command.add_argument_group("fine-tuning (LoRA, QLoRA, optimizers)")
    tuning.add_argument("--optimizer", choices=("adamw", "adamw8bit", "sgd", "adafactor"),
                        help="optimizer states and FLOPs per parameter (default adamw)")
    tuning.add_argument("--lora-rank", type=int, metavar="R", dest="lora_rank",
                        help="LoRA of rank R: adapters trainable, the base frozen (sets lora_rank)")
    tuning.add_argument("--lora-targets", metavar="ROWS", dest="lora_targets",
                        help="rows LoRA adapts, e.g. q_proj,v_proj (default: every linear layer in the blocks)")
    tuning.add_argument("--base-weights", choices=("bf16", "nf4"), dest="base_weights",
                        help="the frozen base under LoRA: bf16 (2 B), or nf4 as QLoRA (2113/4096 B) for the "
                        "blocks' linear layers")



def layout_options(command: argparse.ArgumentParser, hardware: bool = False) -> None:
    """The parallel layout (training at scale); with `hardware`, also --hardware --mfu --gpus."""
    if hardware:
        command.add_argument("--hardware", metavar="NAME|FILE.toml", help="a100, h100, h200, or a TOML file "
                             "defining one: its numbers become inputs (peak_flops, device_memory, ...)")
        command.add_argument("--mfu", metavar="FRACTION", help="model FLOPs utilization, e.g. 0.5 (default 1)")
        command.add_argument("--gpus", type=int, metavar="N", help="devices; data parallelism takes what tp·pp·cp leave, dp = N ÷ (tp·pp·cp), unless --dp is given (default 1)")
    group = command.add_argument_group("parallel layout (inputs dp, tp, pp, cp, ep, zero_stage, ...)")
    for flag, what in (("--dp", "data-parallel replicas"), ("--tp", "tensor-parallel ranks"),
                       ("--pp", "pipeline stages"), ("--cp", "context-parallel ranks (the sequence split)"),
                       ("--ep", "expert-parallel ranks (within dp)"),
                       ("--virtual-stages", "model chunks per stage: interleaved 1F1B when above 1"),
                       ("--micro-batch", "sequences per micro-batch (default: the whole batch ÷ dp)"),
                       ("--global-batch", "sequences per step (sets batch_size)")):
        group.add_argument(flag, type=int, metavar="N", help=what)
    group.add_argument("--zero", choices=("0", "1", "2", "3", "distributed"),
                       help="ZeRO stage: shard optimizer states (1), + gradients (2), + weights (3, FSDP) over "
                       "dp; distributed: Megatron's distributed optimizer (ZeRO-1 with fp32 gradients)")
    group.add_argument("--sequence-parallel", action="store_true", dest="sequence_parallel",
                       help="Megatron's sequence parallelism beside --tp")
    group.add_argument("--recompute", choices=("none", "selective", "full"),
                       help="activation recomputation (Korthikanti et al. 2022); selective adds one forward "
                       "of QKᵀ and attention·V, 4·B·s²·h per layer (their published HFU counts 12: "
                       "--convention korthikanti_hfu)")
    group.add_argument("--overlap", metavar="FRACTION", help="the fraction of communication hidden (default 0)")


def _add_run_command(commands: _OnlyCommand) -> None:
    """`acct run`: a preset's params, memory and forward FLOPs."""
    run = commands.add_parser("run", help="report params, memory and forward FLOPs of a preset")
    run.add_argument("preset", type=Path, help="a preset TOML file, a Hugging Face config.json (or its folder, or "
                     "hf:ORG/NAME from the local cache), or a bundled preset's name, e.g. gpt2-xl")
    model_options(run, HTML_FORMATS)
    run.add_argument("--convention", metavar="NAME", help="also count by a named convention: macs, causal, "
                     "kaplan, chinchilla, palm, megatron, megatron_recompute (see acct conventions)")
    run.add_argument("--non-matmul", action="store_true", dest="non_matmul",
                     help="add the non-matmul FLOPs: softmax, norms, activations, residual adds, RoPE")
    inference_options(run, scheme_only=True)


def _add_conventions_command(commands: _OnlyCommand) -> None:
    """`acct conventions`: every FLOP-counting convention side by side."""
    conventions = commands.add_parser("conventions", help="every FLOP-counting convention for a preset, side by side")
    conventions.add_argument("preset", type=Path)
    model_options(conventions)


def _add_compare_command(commands: _OnlyCommand) -> None:
    """`acct compare`: several presets side by side."""
    compare = commands.add_parser("compare", help="several presets side by side: shares of forward FLOPs")
    compare.add_argument("presets", type=Path, nargs="+", metavar="PRESET")
    compare.add_argument("--by", choices=("group", "component"), default="group", help="add a row per component")
    model_options(compare, HTML_FORMATS)
    chart_options(compare)


def _add_sweep_command(commands: _OnlyCommand) -> None:
    """`acct sweep`: one preset over a grid of input values."""
    sweep = commands.add_parser("sweep", help="one preset over a grid of input values")
    sweep.add_argument("preset", type=Path)
    sweep.add_argument(
        "--vary", action="append", required=True, metavar="NAME=VALUES",
        help="values of an input: a list 1024,2048,4096, or a range start..stop+step (arithmetic) or "
        "start..stop*factor (geometric); repeat for a grid",
    )
    sweep.add_argument(
        "--output", action="append", default=[], metavar="CELL",
        help="add an output's column, e.g. memory.peak or train.flops_step (repeatable)",
    )
    model_options(sweep, HTML_FORMATS)
    training_options(sweep)
    layout_options(sweep, hardware=True)
    chart_options(sweep)
    inference_options(sweep)


def _add_train_command(commands: _OnlyCommand) -> None:
    """`acct train`: a training step."""
    train = commands.add_parser("train", help="a training step: FLOPs, memory (a·B + b), time on hardware")
    train.add_argument("preset", type=Path)
    model_options(train, HTML_FORMATS)
    training_options(train)
    steps = train.add_mutually_exclusive_group()
    steps.add_argument("--steps", type=int, help="training steps (sets the input steps)")
    steps.add_argument("--tokens", type=int, metavar="N", help="train on at least N tokens: steps = ⌈N ÷ (B·T)⌉")
    layout_options(train, hardware=True)


def _add_infer_command(commands: _OnlyCommand) -> None:
    """`acct infer`: inference, and its roofline with --hardware."""
    infer = commands.add_parser("infer", help="inference: KV cache, prefill and decode FLOPs; with --hardware, "
                                "time to first token, time per token, throughput, what fits, cost")
    infer.add_argument("preset", type=Path)
    model_options(infer, HTML_FORMATS)
    inference_options(infer, sizes=True)
    infer.add_argument("--attention", choices=("sdpa", "eager"),
                       help="the attention kernel the roofline counts: sdpa (fused, FlashAttention: the T×T scores "
                       "stay on chip; the default) or eager (unfused: scores written and read back); sets "
                       "attention_fused")


def _add_solve_command(commands: _OnlyCommand) -> None:
    """`acct solve`: goal seek over one input."""
    solve = commands.add_parser("solve", help="goal seek: the largest or smallest input value meeting a condition")
    solve.add_argument("preset", type=Path)
    goal = solve.add_mutually_exclusive_group(required=True)
    goal.add_argument("--largest", metavar="INPUT", help="the input to maximize, e.g. batch_size")
    goal.add_argument("--smallest", metavar="INPUT", help="the input to minimize")
    solve.add_argument("--where", required=True, metavar="CONDITION",
                       help="OUTPUT OP VALUE, e.g. 'memory.peak <= 80GB' (units B, KB..PB, KiB..PiB)")
    model_options(solve)
    training_options(solve)
    layout_options(solve, hardware=True)
    inference_options(solve)


def _add_plan_command(commands: _OnlyCommand) -> None:
    """`acct plan`: the parallel layouts of N GPUs that fit."""
    planner = commands.add_parser("plan", help="the parallel layouts of N GPUs that fit, fastest first")
    planner.add_argument("preset", type=Path)
    planner.add_argument("--gpus", type=int, required=True, metavar="N", help="devices to lay the model out on")
    planner.add_argument("--hardware", required=True, metavar="NAME|FILE.toml", help="a100, h100, h200, or a TOML file")
    planner.add_argument("--global-batch", type=int, required=True, dest="global_batch", metavar="B",
                         help="sequences per step")
    planner.add_argument("--mfu", metavar="FRACTION", help="model FLOPs utilization, e.g. 0.5 (default 1)")
    planner.add_argument("--top", type=int, default=10, metavar="K", help="layouts listed (default 10)")
    model_options(planner)
    training_options(planner)


def _add_import_command(commands: _OnlyCommand) -> None:
    """`acct import`: a config.json written as a preset."""
    importer = commands.add_parser("import", help="write a Hugging Face config.json as a preset TOML file")
    importer.add_argument("config", type=Path, help="a config.json, a folder holding one, or hf:ORG/NAME")
    importer.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE (default: stdout)")
    importer.add_argument("--force", action="store_true", help="let -o replace an existing file")
    plugin_options(importer)


def _add_presets_command(commands: _OnlyCommand) -> None:
    """`acct presets`: the bundled presets."""
    presets = commands.add_parser("presets", help="list the bundled presets with their parameter counts")
    presets.add_argument("-f", "--format", choices=("markdown", "json"), default="markdown")
    plugin_options(presets)


def _add_plugins_command(commands: _OnlyCommand) -> None:
    """`acct plugins`: the loaded plugins."""
    plugins = commands.add_parser("plugins", help="list the loaded plugins and what each provides")
    plugins.add_argument("-f", "--format", choices=("markdown", "json"), default="markdown")
    plugin_options(plugins)


def inference_options(command: argparse.ArgumentParser, sizes: bool = False, scheme_only: bool = False) -> None:
    """The inference options: hardware, dtypes, efficiencies, price (each the value of an input, so that
    sweep and solve reach the roofline's cells); with `sizes`, --batch, --prompt, --generate and --tp;
    `scheme_only`: the weights' scheme alone (run's memory table). An option another group already
    added (--hardware, --mfu) is not added twice."""

    if isinstance(command, _Skipped):  # not the command being run: its parser is not built
        return

    def add(*names: str, **options) -> None:
        if not any(name in command._option_string_actions for name in names):
            command.add_argument(*names, **options)

    if not scheme_only:
        add("--hardware", metavar="NAME|FILE.toml", help="a100, h100, h200, or a TOML file defining one")
    add("--weights", metavar="DTYPE", help="weight dtype of the linear layers: fp32, bf16 (default), fp16, fp8, "
        "int8, int4 (groups of 128 with a 2-byte scale)")
    add("--group-size", type=int, metavar="N", dest="group_size", help="weights per scale and zero point")
    add("--scale-bytes", type=int, metavar="N", dest="scale_bytes",
        help="bytes of each group's scale and zero point (int4 with an fp16 scale: 2)")
    if scheme_only:
        return
    add("--kv-dtype", metavar="DTYPE", dest="kv_dtype", help="KV-cache dtype: fp32, bf16 (default), fp16, fp8, int8")
    add("--mfu", metavar="FRACTION", help="the fraction of peak FLOP/s achieved (default 1)")
    add("--bandwidth-efficiency", metavar="FRACTION", dest="bandwidth_efficiency",
        help="the fraction of memory bandwidth achieved (default 1)")
    add("--price-per-hour", metavar="DOLLARS", dest="price_per_hour",
        help="dollars per device-hour, for $ per million output tokens")
    if sizes:
        add("--batch", type=int, metavar="B", help="sequences decoded together (sets batch_size)")
        add("--prompt", type=int, metavar="P", help="prompt tokens (sets context_length: the prefill is the "
            "forward pass over them)")
        add("--generate", type=int, metavar="G", help="tokens generated per sequence (sets generate)")
        add("--tp", type=int, metavar="N", help="devices the model is split over by tensor parallelism "
            "(sets gpus)")


INFERENCE_FIELDS = ("weights", "group_size", "scale_bytes", "kv_dtype", "mfu", "bandwidth_efficiency",
                    "price_per_hour")
# infer's --tp is tensor parallelism over that many devices (gpus = dp·tp·pp·cp follows), as train's is
INFERENCE_SIZES = (("batch", "batch_size"), ("prompt", "context_length"), ("generate", "generate"), ("tp", "tp"))


def _with_inference(args: argparse.Namespace, options):
    """The options with the inference choices of `inference_options`, if the command has them."""
    from acct.records import replace

    from acct.api import Inference

    if not hasattr(args, "weights"):
        return options
    sizes = {name: getattr(args, option) for option, name in INFERENCE_SIZES if getattr(args, option, None) is not None}
    choice = Inference(**{key: getattr(args, key, None) for key in INFERENCE_FIELDS})
    hardware = getattr(args, "hardware", None)
    if hardware:
        options = replace(options, hardware=hardware)
    # infer with --hardware is an inference run (peak FLOP/s at bf16); sweep and solve take the
    # precision's dtype, as train does, unless an inference option (--weights, ...) is given
    given = bool(sizes or choice != Inference() or (hardware and args.command == "infer"))
    args.inference_detailed = given
    if not given:
        return options
    labels = {**options.labels, **{name: f"--{option}" for option, name in INFERENCE_SIZES if name in sizes}}
    return replace(options, set={**options.set, **sizes}, inference=choice, labels=labels)


def _options(args: argparse.Namespace):
    """The command line's model options as the API's Options."""
    from acct.api import Options
    from acct.model.config import parse_assignment

    overrides = dict(parse_assignment(text) for text in args.overrides)
    written = set(overrides)  # given with --set NAME=VALUE; the others by the options below
    if getattr(args, "steps", None) is not None:
        overrides["steps"] = args.steps
    if hasattr(args, "recompute"):  # the layout options (train, sweep, solve, plan)
        from acct.api import check_training_options, layout_set, steps_set

        needs = args.command == "train"
        layout = {key: getattr(args, key, None) for key in ("dp", "tp", "pp", "cp", "ep", "zero", "micro_batch",
                                                            "virtual_stages", "sequence_parallel", "recompute",
                                                            "global_batch")}
        overrides.update(check_training_options(args.hardware, args.mfu, args.gpus, needs_hardware=needs))
        overrides.update(layout_set(args.gpus, args.overlap, **layout))
        if getattr(args, "tokens", None) is not None:
            overrides.update(steps_set(None, args.tokens))
    tuning = {}
    if hasattr(args, "lora_rank"):  # the fine-tuning options (train, sweep, solve, plan)
        from acct.api import finetune_options

        tuning = finetune_options(args.optimizer, args.lora_rank, args.lora_targets, args.base_weights,
                                  args.optimizer_impl)
        overrides.update(tuning.pop("set"))
        if any(text.split("=", 1)[0].strip() == "lora_rank" for text in getattr(args, "vary", None) or ()):
            overrides.setdefault("lora_rank", "8")  # varying the rank turns LoRA on (the values replace this one)
    variants = {}
    for text in args.variants:
        slot, variant = parse_assignment(text, option="--variant")
        variants[slot] = str(variant)
    labels = {name: _option_label(name, overrides[name], args) for name in overrides if name not in written}
    return Options(set=overrides, variants=variants, plugins=list(args.plugin), disable=list(args.disable),
                   allow_plugins=args.allow_plugins, precision=getattr(args, "precision", None),
                   activations=getattr(args, "activations", None), hardware=getattr(args, "hardware", None),
                   default_precision="mixed" if args.command == "plan" else None, labels=labels, **tuning)


# the option that sets an input, for errors about a value the user gave that way (not --set NAME)
OPTION_OF_INPUT = {
    "steps": "--steps", "batch_size": "--global-batch", "dp": "--dp", "tp": "--tp", "pp": "--pp", "cp": "--cp",
    "ep": "--ep", "zero_stage": "--zero", "grad_bytes": "--zero distributed", "micro_batch": "--micro-batch",
    "virtual_stages": "--virtual-stages", "sequence_parallel": "--sequence-parallel", "recompute": "--recompute",
    "overlap": "--overlap", "mfu": "--mfu", "gpus": "--gpus", "lora_rank": "--lora-rank",
}


def _option_label(name: str, value, args: argparse.Namespace) -> str:
    """The option behind an input's value: --global-batch for batch_size, --tokens for steps, ..."""
    if name == "steps" and getattr(args, "tokens", None) is not None:
        return "--tokens"
    return OPTION_OF_INPUT.get(name, f"--set {name}")


def _models(args: argparse.Namespace, paths: Sequence[Path], non_matmul: bool = False,
            outputs: Sequence[str] = OUTPUT_FAMILIES) -> list:
    """Each source built with the command line's options, through the API's one path."""
    from acct.api import build

    options = _with_inference(args, _options(args))
    free = [text.split("=", 1)[0].strip() for text in getattr(args, "vary", None) or ()]
    free += [name for name in (getattr(args, "largest", None), getattr(args, "smallest", None)) if name]
    if free:  # what a sweep varies or a solve searches is given too: gpus and dp follow from it
        from acct.records import replace

        options = replace(options, free=tuple(free))
    args.options = options
    built = build(paths, options, non_matmul, outputs)
    args.plugin_files = built.plugin_files
    args.registry = built.models[0].registry if built.models else None
    return built.models


def _plugin_files_line(args: argparse.Namespace) -> str:
    files = getattr(args, "plugin_files", [])
    return f"Local plugin files that ran: {', '.join(files)}.\n" if files else ""


def _with_provenance(args: argparse.Namespace, output):
    """Name the local plugin files that ran, in every format: a line under a markdown report,
    a "plugin_files" field of a JSON object, a note on stderr beside CSV (which has no place
    for it)."""
    files = getattr(args, "plugin_files", [])
    if not files:
        return output
    fmt = getattr(args, "format", "markdown")
    if fmt == "csv":
        print(f"acct: note: local plugin files that ran: {', '.join(files)}", file=sys.stderr)
        return output
    if fmt == "json":
        import json

        field = ',\n  "plugin_files": ' + json.dumps(files, ensure_ascii=False) + "\n}\n"
        if isinstance(output, str):
            return output[:output.rindex("\n}")] + field
        return _json_tail(output, field)
    if isinstance(output, str):
        return output + ("" if output.endswith("\n\n") else "\n") + _plugin_files_line(args)
    return itertools.chain(output, [_plugin_files_line(args)])


def _json_tail(pieces, field: str):
    """Streamed JSON with one more field before its closing brace."""
    previous = None
    for piece in pieces:
        if previous is not None:
            yield previous
        previous = piece
    if previous is not None:
        yield previous[:previous.rindex("\n}")] + field


def _render(args: argparse.Namespace, kind: str, report, **options):
    from acct.render import render

    if getattr(args, "tablefmt", "github") != "github" and args.format != "markdown":
        raise AcctError(f"--tablefmt is the markdown format's table style; --format {args.format} has none")

    return render(kind, report, args.format, getattr(args, "tablefmt", "github"),
                  **(options if args.format == "markdown" else {}))


def _run(args: argparse.Namespace):
    from acct.api import run_report

    scheme = any(getattr(args, key) is not None for key in ("weights", "group_size", "scale_bytes"))
    # every convention's totals: in the data formats, and beside --convention; the markdown shows none
    counting = ("convention",) if args.convention or args.format != "markdown" else ()
    outputs = counting + (("infer",) if scheme else ())
    (model,) = _models(args, [args.preset], non_matmul=args.non_matmul, outputs=outputs)
    return _render(args, "run", run_report(model, convention=args.convention, weights_scheme=scheme))


def _conventions(args: argparse.Namespace):
    from acct.api import run_report

    (model,) = _models(args, [args.preset], outputs=("convention",))
    return _render(args, "conventions", run_report(model))


def _check_charts(args: argparse.Namespace) -> None:
    """The chart options' own mistakes, before anything is computed."""
    if args.chart == "mermaid" and args.format != "markdown":
        raise AcctError("--chart mermaid goes with --format markdown")
    if args.plot:
        import importlib.util

        from acct.files import check_output
        from acct.render.charts import check_plot_path

        check_output(args.plot, "--plot", args.force, _input_files(args))
        check_plot_path(args.plot, args.force)
        if importlib.util.find_spec("matplotlib") is None:  # said now, not after the sweep
            raise AcctError("--plot needs matplotlib: pip install 'acct-lm[plot]'")


def _input_files(args: argparse.Namespace) -> list:
    """Every file the command reads, as named (an output must be none of them, under any name):
    presets or config.json files (a folder's config.json), plugin files, a hardware file."""
    from acct.model.sources import HUB_PREFIX, hub_config

    named = list(getattr(args, "presets", None) or []) + [getattr(args, name, None) for name in ("preset", "config")]
    files = []
    for source in filter(None, named):
        if str(source).startswith(HUB_PREFIX):
            try:
                files.append(hub_config(str(source)[len(HUB_PREFIX):])[0])
            except AcctError:
                pass  # said when the command reads it
            continue
        files += [Path(source), Path(source) / "config.json"]
    hardware = getattr(args, "hardware", None)
    return files + list(args.plugin) + ([Path(hardware)] if hardware else [])


def _charted(args: argparse.Namespace, scaling, by_component: bool = False):
    output = _render(args, scaling.kind, scaling, by_component=by_component)
    if args.format != "markdown" and scaling.kind == "compare":
        output = "".join(output)
    if args.chart == "mermaid":
        from acct.render.charts import mermaid

        output += "\n" + mermaid(scaling)
    if args.plot:  # last: an error anywhere above leaves no file behind
        from acct.render.charts import plot

        plot(scaling, args.plot, args.force)
    return output


def _compare(args: argparse.Namespace) -> str:
    from acct.api import compare_report

    _check_charts(args)
    models = _models(args, args.presets, outputs=("convention",))
    return _charted(args, compare_report(models, args.presets), by_component=args.by == "component")


def _sweep(args: argparse.Namespace):
    from acct.api import sweep_report
    from acct.reports.scaling import MAX_TABLE_POINTS, count_points, parse_vary

    _check_charts(args)
    vary = [parse_vary(text) for text in args.vary]
    points = count_points(vary)  # before any model is built or any point evaluated
    if args.format == "markdown" and points > MAX_TABLE_POINTS:
        raise AcctError(f"--vary: {points:,} points is too long a markdown table (at most {MAX_TABLE_POINTS:,} "
                        "rows); use --format csv or json, which are written a point at a time")
    (model,) = _models(args, [args.preset])
    scaling = sweep_report(model, vary, args.output)
    if scaling.refused and args.format == "csv":  # CSV has no place for it; markdown and JSON say it
        from acct.reports.scaling import refusal_text

        print(f"acct: note: {refusal_text(scaling)}", file=sys.stderr)
    return _charted(args, scaling)


def _plugins(args: argparse.Namespace) -> str:
    import json

    from acct.model.registry import load_registry

    registry = load_registry(plugin_files=args.plugin, disabled=args.disable)
    registry.load_deferred()  # the importer plugins, listed like the others
    if args.format == "json":
        listing = [
            {"name": p.name, "origin": p.origin, "location": p.location, "provides": p.provides}
            for p in registry.plugins
        ]
        return json.dumps(listing, indent=2) + "\n"
    from acct.render.formats import table

    rows = [[p.name, p.origin, p.location, ", ".join(p.provides)] for p in registry.plugins]
    defaults = ", ".join(f"{slot} = {variant}" for slot, variant in registry.defaults.items())
    importers = ", ".join(sorted(registry.importers))
    return (table(["plugin", "from", "where", "provides"], rows, "llll") + f"\n\nDefault variants: {defaults}.\n"
            + (f"\nHugging Face config.json importers (model_type): {importers}.\n" if importers else ""))


def _import(args: argparse.Namespace) -> str:
    from acct.model.importers import to_toml, write_new
    from acct.model.registry import load_registry
    from acct.model.sources import is_config, resolve

    if not is_config(args.config):
        raise AcctError(f"{args.config}: acct import reads a Hugging Face config.json (a .json file, a folder "
                        "holding config.json, or hf:ORG/NAME)")
    writes = args.output is not None and str(args.output) != "-"  # `-o -`: standard output, as is the custom
    if writes:
        from acct.files import check_output

        check_output(args.output, "-o", args.force, _input_files(args))
    imported = resolve(args.config, lambda: load_registry(plugin_files=args.plugin, disabled=args.disable))
    text = to_toml(imported, __version__)
    if not writes:
        return text
    write_new(args.output, text, args.force)
    return f"wrote {args.output} (model_type {imported.model_type}, importer {imported.importer.plugin.name})\n"


def _presets(args: argparse.Namespace) -> str:
    from acct.model.registry import load_registry
    from acct.model.sources import preset_listing

    rows = preset_listing(load_registry(plugin_files=args.plugin, disabled=args.disable))
    if args.format == "json":
        import json

        listing = [{"name": name, "params": params, "description": text} for name, params, text in rows]
        return json.dumps(listing, indent=2, ensure_ascii=False) + "\n"
    from acct.render.formats import table

    return table(["preset", "parameters", "description"], rows, "lrl") + "\n\nRun one by name: acct run NAME.\n"


def _train(args: argparse.Namespace):
    from acct.api import train_report

    (model,) = _models(args, [args.preset], outputs=TRAIN_OUTPUTS)
    return _render(args, "train", train_report(model, args.hardware, args.mfu, args.gpus))


# the output families a training report (and a plan, and its best layout's report) reads
TRAIN_OUTPUTS = ("train", "memory", "kv_cache", "convention", "gpu")


def _plan(args: argparse.Namespace):
    from acct.api import check_training_options, plan_report, train_report

    values = check_training_options(args.hardware, args.mfu, args.gpus)
    if args.global_batch < 1 or args.top < 1:
        raise AcctError("--global-batch and --top: at least 1")
    args.overrides = list(args.overrides) + [f"{k}={v}" for k, v in values.items()] + [
        f"batch_size={args.global_batch}"]
    (model,) = _models(args, [args.preset], outputs=TRAIN_OUTPUTS)  # a plan reads no inference cell

    def best(layout):
        from acct.api import build
        from acct.records import replace

        options = _options(args)
        options = replace(options, set={**options.set, **{k: str(v) for k, v in layout.items()}})
        built = build([args.preset], options, outputs=TRAIN_OUTPUTS)
        return train_report(built.models[0], args.hardware, args.mfu, args.gpus)

    return _render(args, "plan", plan_report(model, args.gpus, args.global_batch, args.hardware, args.top, best,
                                             _Progress("plan", "layouts")))


class _Progress:
    """`acct: plan: 4,000 of 10,204 layouts` on stderr, once a second, once the work has taken a
    second (a plan over thousands of GPUs); nothing for work that ends sooner."""

    def __init__(self, command: str, what: str):
        import time

        self.command, self.what, self.clock = command, what, time.perf_counter
        self.start = self.shown = self.clock()
        self.calls = 0

    def __call__(self, done: int, total: int) -> None:
        self.calls += 1
        if self.calls % 64 and done != total:  # the clock, read every 64 calls
            return
        now = self.clock()
        if now - self.start >= 1 and now - self.shown >= 1:
            self.shown = now
            print(f"acct: {self.command}: {done:,} of {total:,} {self.what}", file=sys.stderr, flush=True)


def _infer(args: argparse.Namespace):
    from acct.api import infer_report
    from acct.model.roofline import attention_set

    if args.attention is not None:  # an input like any other: --set attention_fused=0 says the same
        given = dict(text.split("=", 1) for text in args.overrides if "=" in text)
        given = {name.strip(): value for name, value in given.items()}
        args.overrides = [*args.overrides, *(f"{name}={value}" for name, value in
                                             attention_set(args.attention, "--attention", args.hardware, given).items())]
    (model,) = _models(args, [args.preset], outputs=("kv_cache", "infer", "roofline", "cost"))
    return _render(args, "infer", infer_report(model, args.inference_detailed, args.options))


def _solve(args: argparse.Namespace):
    from acct.api import solve_report

    (model,) = _models(args, [args.preset])
    return _render(args, "solve", solve_report(model, args.where, args.largest, args.smallest))


COMMANDS = {
    "run": _run, "conventions": _conventions, "compare": _compare, "sweep": _sweep, "train": _train, "infer": _infer, "solve": _solve, "plan": _plan,
    "plugins": _plugins, "import": _import, "presets": _presets,
}


# commands whose work is bounded by their arguments (one model, or the few named): the cycle
# collector is paused while they run (see main)
_SHORT_COMMANDS = ("run", "conventions", "compare", "train", "infer", "plugins", "import", "presets")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run acct with `argv` (default: sys.argv[1:]); return the exit status."""
    # A short command allocates a few megabytes and leaves almost no cyclic garbage, yet the
    # cycle collector's passes over every object the imports made (each module's functions and
    # classes) were a tenth of `acct run`'s start-up (issue #14). It is paused for those commands
    # and resumed after; sweep, solve and plan, which evaluate without bound, keep it running.
    # When main is the process's own entry (argv None: the `acct` script, `python -m acct`), the
    # interpreter exits next, so it stays paused: its pass at exit would walk every object only
    # to find what the exit frees anyway. Called with argv (tests, embedding), it is resumed.
    words = sys.argv[1:] if argv is None else argv
    paused = _command_of(words) in _SHORT_COMMANDS and gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the shell's status for SIGINT
        return 130
    finally:
        if paused and argv is not None:
            gc.enable()


def _main(argv: Optional[Sequence[str]]) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args = _parser(_command_of(words)).parse_args(words)  # usage errors exit 2 here, as argparse does
    show_traceback = args.traceback or os.environ.get(TRACEBACK_ENV, "") not in ("", "0")
    try:
        output = _with_provenance(args, COMMANDS[args.command](args))
        pieces = (output,) if isinstance(output, str) else output
        for piece in pieces:  # a streamed sweep is evaluated as it is written
            sys.stdout.write(piece)
        sys.stdout.flush()
    except BrokenPipeError:  # `acct run ... | head`: the reader has what it wanted
        _silence_stdout()
        return 0
    except AcctError as error:
        if show_traceback:
            import traceback

            traceback.print_exc()
        # one line, even when a message quoted from pluggy or a plugin has several
        message = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
        print(f"acct: error: {_shown(message)}", file=sys.stderr)
        return 1
    except OSError as error:  # stdout cannot be written: a full disk, a closed terminal
        if show_traceback:
            import traceback

            traceback.print_exc()
        _silence_stdout()
        print(f"acct: error: cannot write the output: {error.strerror or error}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug in acct itself: still one line, and a way to see more
        if show_traceback:
            import traceback

            traceback.print_exc()
        print(
            f"acct: error: internal error {type(error).__name__}: {_shown(error)} "
            f"(rerun with --traceback and report it)",
            file=sys.stderr,
        )
        return 1
    return 0


def _shown(text: object) -> str:
    """An error's text for the terminal: it may quote a file's name or contents, whose control
    characters are shown as escapes, never obeyed."""
    from acct.render.escape import terminal

    return terminal(text)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's own flush at exit does not fail
    again on what could not be written (and print a traceback after our one line)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test's capture): nothing will flush it at exit
    except Exception:  # io.UnsupportedOperation and the like
        pass
