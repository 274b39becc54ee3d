"""Property tests: for random valid shapes and every builtin variant, the counts hold together exactly;
the formula parser given any text returns a formula or acct's own error."""

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acct.model.config import Preset
from acct.errors import AcctError, FormulaError
from acct.engine.formula import parse
from acct.model.model import build_model
from acct.render import render
from acct.reports.run import make_report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def presets(draw, registry):
    """A valid preset: any variant per slot (an optional slot may be left out), sizes that divide as
    they must."""
    variants = {slot: draw(st.sampled_from(names)) for slot, names in registry.slots().items()
                if slot in registry.defaults or draw(st.booleans())}
    # MLA's projections and MLA's products go together (requires_variants): both or neither
    if variants["qkv"].startswith("mla") or variants["attention"] == "mla":
        if draw(st.booleans()):
            variants["qkv"], variants["attention"] = draw(st.sampled_from(["mla", "mla_lora"])), "mla"
        else:
            variants["qkv"] = draw(st.sampled_from(["mha", "gqa"]))
            variants["attention"] = draw(st.sampled_from(["dot_product", "sliding_window"]))
    # routed experts' biases need routed experts (requires_variants)
    if variants.get("expert_biases") and variants["ffn"] != "moe":
        del variants["expert_biases"]
    kv_heads = draw(st.integers(1, 8))
    heads = kv_heads * draw(st.integers(1, 8))
    context = draw(st.integers(1, 4096))
    inputs = {
        "vocab_size": draw(st.integers(1, 200_000)),
        "context_length": context,
        "num_layers": draw(st.integers(1, 96)),
        "d_model": heads * draw(st.integers(1, 256)),
        "num_heads": heads,
        "d_ff": draw(st.integers(1, 50_000)),
    }
    if variants["qkv"] == "gqa":
        inputs["num_kv_heads"] = kv_heads
    if variants["position"] == "learned":
        inputs["max_positions"] = context + draw(st.integers(0, 4096))
    if draw(st.booleans()):  # a head width of its own (Gemma, Qwen3)
        inputs["d_head"] = draw(st.integers(1, 512))
    if variants["qkv"].startswith("mla") or variants["attention"] == "mla":
        inputs["qk_rope_head_dim"] = draw(st.integers(1, inputs.get("d_head", inputs["d_model"] // heads)))
        inputs["kv_lora_rank"] = draw(st.integers(1, 1024))
    if draw(st.booleans()):  # a value head width of its own (MLA's v_head_dim)
        inputs["d_head_v"] = draw(st.integers(1, 512))
    if variants["qkv"] == "mla_lora":
        inputs["q_lora_rank"] = draw(st.integers(1, 2048))
    if variants["attention"] == "sliding_window":
        inputs["sliding_window"] = draw(st.integers(1, 8192))
        # all layers windowed, or none: doubling num_layers then doubles every row below
        inputs["local_layers"] = draw(st.sampled_from(["num_layers", 0]))
    inputs["norms_per_block"] = draw(st.integers(1, 4))
    if variants["ffn"] == "moe":  # every layer MoE, so doubling the layers doubles exactly the per-layer rows
        inputs["num_experts"] = draw(st.integers(1, 64))
        inputs["experts_per_token"] = draw(st.integers(1, inputs["num_experts"]))
        inputs["d_ff_expert"] = draw(st.integers(1, 20_000))
        inputs["num_shared_experts"] = draw(st.integers(0, 2))
        inputs["shared_expert_gate"] = draw(st.integers(0, 1))
    groups = ["attention projections", "FFN", "lm_head"]
    groups += ["q_a_proj"] if variants["qkv"] == "mla_lora" else [] if variants["qkv"] == "mla" else ["q_proj"]
    biases = draw(st.lists(st.sampled_from(groups), unique=True, max_size=3))
    return Preset(Path("hypothesis.toml"), "hypothesis", inputs=inputs, variants=variants, biases=biases)


def test_reports_hold_together(registry):
    """Counts are exact and add up, shares sum to 100%, doubling the layers doubles exactly the
    per-layer rows, and the JSON output round-trips every integer."""

    @EXAMPLES
    @given(presets(registry))
    def check(preset):
        report = make_report(build_model(preset, registry))
        for row in report.rows:
            for value in (row.params_each, row.params, row.flops_each, row.flops):
                assert type(value) is int and value >= 0
        assert report.params == sum(row.params for row in report.rows) == sum(g.params for g in report.groups)
        assert report.flops == sum(row.flops for row in report.rows) == sum(g.flops for g in report.groups)
        assert sum(row.params_share for row in report.rows) == (1 if report.params else 0)
        assert sum(row.flops_share for row in report.rows) == (1 if report.flops else 0)
        # shares printed to 0.1% sum to 100% within the rounding of each
        printed = [round(row.flops_share * 1000) for row in report.rows]
        assert abs(sum(printed) - 1000) <= len(printed) / 2

        twice = make_report(build_model(preset, registry, {"num_layers": 2 * preset.inputs["num_layers"]}))
        for a, b in zip(report.rows, twice.rows):
            factor = 2 if a.per_layer else 1
            assert (b.params, b.flops) == (factor * a.params, factor * a.flops), a.name
            assert (b.params_each, b.flops_each) == (a.params_each, a.flops_each)

        data = json.loads(render("run", report, "json"))
        assert data["totals"]["params"] == report.params and data["totals"]["flops_forward"] == report.flops
        for row, loaded in zip(report.rows, data["rows"]):
            assert (loaded["params"], loaded["flops_forward"]) == (row.params, row.flops)
            assert type(loaded["params"]) is int

    check()


def test_the_compiled_sheet_agrees_with_the_interpreter(registry):
    @settings(EXAMPLES, max_examples=50)
    @given(presets(registry), st.lists(st.tuples(st.integers(1, 4096), st.integers(1, 96)), min_size=2, max_size=2))
    def check(preset, points):
        sheet = build_model(preset, registry).sheet
        # a few outputs alone: the compiler inlines, folds and prunes only when not every cell is returned
        totals = ["total.params", "total.flops_forward", "train.flops_step", "memory.fixed", "kv_cache.bytes",
                  "infer.flops_decode", "convention.megatron.training"]
        for context, layers in points:
            if "max_positions" in preset.inputs:
                context = min(context, preset.inputs["max_positions"])
            interpreted = sheet.replace({"context_length": context, "num_layers": layers}).evaluate()
            compiled = sheet.evaluate_with(["context_length", "num_layers"], [context, layers])
            assert compiled == interpreted
            some = sheet.function(["context_length", "num_layers"], totals)(context, layers)
            assert list(some) == [interpreted[name] for name in totals]
            alone = sheet.function(["num_layers"], totals[:2])(layers)
            assert list(alone) == [sheet.replace({"num_layers": layers}).evaluate()[name] for name in totals[:2]]

    check()


FORMULA_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet="0123456789+-*/%() ,._abdxyz:[]{}'\"=<>!~^&|@\\", max_size=200),
    st.from_regex(r"[a-z_0-9 ()+\-*/%.,]{0,120}", fullmatch=True),
)


@settings(max_examples=500, deadline=1000)
@given(FORMULA_TEXT)
def test_parser_returns_a_formula_or_its_own_error(text):
    try:
        formula = parse(text, "cell x")
    except FormulaError as error:
        assert str(error).startswith("cell x: ")
        return
    assert formula.text == text.strip()
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) for name in formula.names)
    formula.display({})  # every accepted formula can be shown


@settings(max_examples=300, deadline=1000)
@given(st.from_regex(r"[a-c0-9 ()+\-*/%]{1,60}", fullmatch=True), st.integers(-50, 50), st.integers(-50, 50))
def test_accepted_formulas_evaluate_exactly_or_divide_by_zero(text, a, b):
    try:
        formula = parse(text)
    except FormulaError:
        return
    try:
        value = formula.evaluate({"a": a, "b": b, "c": 7})
    except ZeroDivisionError:
        return
    except KeyError:  # a name other than a, b, c: the sheet reports it as unknown before evaluating
        return
    assert type(value) is int or (isinstance(value, Fraction) and value.denominator != 1)


def test_no_eval_or_exec_in_the_package():
    sources = list((ROOT / "core").rglob("*.py")) + list((ROOT / "plugins").rglob("*.py"))
    assert len(sources) > 15
    for path in sources:
        text = path.read_text()
        assert not re.search(r"\b(eval|exec)\s*\(", text), f"{path} calls eval or exec"
    # compile() appears twice: the sheet compiles the validated trees, never text; records compile
    # an __init__ whose only words are a class's own field names, which must be identifiers
    compiled = sorted(path.name for path in sources if re.search(r"(?<![.\w])compile\(", path.read_text()))
    assert compiled == ["records.py", "sheet.py"]
    assert "compile(module," in (ROOT / "core" / "engine" / "sheet.py").read_text()


def test_a_record_compiles_only_its_own_field_names():
    from acct.records import fresh, record, replace

    @record
    class Point:
        x: int
        y: int = 2
        tags: list = fresh(list)

    a, b = Point(1), Point(1, 3)
    assert (a.x, a.y, b.y) == (1, 2, 3) and a.tags == [] and a.tags is not b.tags
    assert replace(a, y=5).y == 5 and repr(a) == "Point(x=1, y=2, tags=[])"
    with pytest.raises(TypeError):
        Point()


def test_too_many_cells_is_its_own_error():
    from acct.engine.sheet import MAX_CELLS, Cell, Sheet

    cells = [Cell(f"c{i}", parse(1), f"cell c{i}") for i in range(MAX_CELLS + 1)]
    with pytest.raises(AcctError, match=f"more than {MAX_CELLS:,} cells"):
        Sheet(cells)
