"""The sheet: ordering, the cycle and unknown-name messages, whole-number checks, bounds, compiled evaluation."""

from fractions import Fraction

import pytest

from acct.errors import SheetError
from acct.engine.formula import MAX_VALUE_BITS, parse
from acct.engine.sheet import Cell, Sheet, literal


def cell(name, text, **options):
    return Cell(name, parse(text, name), f"cell {name}", **options)


def attention_sheet(d_model=1600, num_heads=25, context_length=1024):
    return Sheet(
        [
            # listed out of order on purpose: the sheet orders them
            cell("flops", "2 * context_length ** 2 * d_model", integer=True, minimum=0),
            cell("d_head", "d_model / num_heads", integer=True),
            literal("d_model", d_model, "[model] d_model", minimum=1),
            literal("num_heads", num_heads, "[model] num_heads", minimum=1),
            literal("context_length", context_length, "[model] context_length", minimum=1),
            cell("per_head", "flops / num_heads"),
        ]
    )


def test_cells_are_evaluated_in_dependency_order():
    values = attention_sheet().evaluate()
    assert values["d_head"] == 64
    assert values["flops"] == 3_355_443_200  # GPT-2 XL QKᵀ per layer: 2·1024²·1600
    assert values["per_head"] == 134_217_728  # 3,355,443,200 / 25
    names = [c.name for c in attention_sheet().cells]
    assert names.index("d_model") < names.index("d_head") < names.index("per_head")


def test_fractions_are_kept_where_they_do_not_divide():
    sheet = Sheet([literal("a", 7, "a"), cell("half", "a / 2")])
    assert sheet.evaluate()["half"] == Fraction(7, 2)


def test_a_shape_that_does_not_divide_names_the_cell_and_its_inputs():
    with pytest.raises(SheetError) as error:
        attention_sheet(d_model=1601).evaluate()
    assert str(error.value) == (
        "cell d_head: d_head = d_model / num_heads gives 1,601/25, not a whole number "
        "(with d_model = 1,601, num_heads = 25)"
    )


def test_minimum_is_enforced():
    with pytest.raises(SheetError, match=r"^\[model\] num_heads: num_heads must be positive, got 0$"):
        attention_sheet(num_heads=0).evaluate()
    with pytest.raises(SheetError, match="count must be at least 0, got -5 from a - 10"):
        Sheet([literal("a", 5, "a"), cell("count", "a - 10", minimum=0)]).evaluate()


def test_cycle_prints_the_cycle():
    with pytest.raises(SheetError) as error:
        Sheet([cell("a", "b + 1"), cell("b", "c * 2"), cell("c", "a")])
    message = str(error.value)
    assert "cycle among cells:" in message
    cycle = message.split("cycle among cells: ")[1].split(" → ")
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"} and len(cycle) == 4


def test_self_reference_is_a_cycle():
    with pytest.raises(SheetError, match="cycle among cells: a → a"):
        Sheet([cell("a", "a + 1")])


def test_unknown_name_suggests_the_nearest():
    with pytest.raises(SheetError) as error:
        Sheet([literal("d_model", 1600, "d_model"), cell("d_ff", "4 * d_modle")])
    assert str(error.value) == "cell d_ff: unknown name 'd_modle' in formula '4 * d_modle' (did you mean d_model?)"


def test_duplicate_cell_names_are_refused():
    with pytest.raises(SheetError, match="the cell 'a' is already defined by cell a"):
        Sheet([cell("a", "1"), Cell("a", parse("2"), "elsewhere")])


def test_division_by_zero_names_the_cell():
    with pytest.raises(SheetError, match=r"^cell q: division by zero in q = a / \(a - a\) \(with a = 3\)$"):
        Sheet([literal("a", 3, "a"), cell("q", "a / (a - a)")]).evaluate()


def test_values_that_could_grow_past_the_bound_are_refused_before_evaluating():
    cells = [literal("x", 2**60, "x")] + [cell(f"c{i}", f"{'c' + str(i - 1) if i else 'x'} ** 2") for i in range(8)]
    with pytest.raises(SheetError, match=f"could reach .* bits; values are limited to {MAX_VALUE_BITS:,} bits"):
        Sheet(cells)


def test_compiled_function_matches_the_interpreter():
    sheet = attention_sheet()
    run = sheet.function(["context_length", "d_model"])
    for context_length, d_model in ((1024, 1600), (16384, 1600), (7, 50), (2048, 3200)):
        compiled = dict(zip((c.name for c in sheet.cells), run(context_length, d_model)))
        interpreted = sheet.replace({"context_length": context_length, "d_model": d_model}).evaluate()
        assert compiled == interpreted
    assert sheet.evaluate_with(["context_length"], [16384])["flops"] == 2 * 16384**2 * 1600


def test_compiled_function_errors_name_the_cell():
    run = attention_sheet().function(["d_model", "num_heads"])
    with pytest.raises(SheetError, match="d_head = d_model / num_heads gives 1,601/25"):
        run(1601, 25)
    with pytest.raises(SheetError, match="num_heads must be positive, got 0"):
        run(1600, 0)
    with pytest.raises(SheetError, match="a varied value must be a whole number of at most 64 bits, got 1.5"):
        run(1.5, 25)
    with pytest.raises(SheetError, match="cannot vary 'd_modle': no such cell \\(did you mean d_model\\?\\)"):
        attention_sheet().function(["d_modle"])


def test_compiled_division_by_zero_is_attributed():
    sheet = Sheet([literal("a", 3, "a"), literal("b", 1, "b"), cell("q", "a / (b - 1)")])
    with pytest.raises(SheetError, match="division by zero"):
        sheet.evaluate()
    sheet = Sheet([literal("a", 3, "a"), literal("b", 2, "b"), cell("q", "a / (b - 1)")])
    with pytest.raises(SheetError, match="cell q: division by zero in q = a / \\(b - 1\\) \\(with a = 3, b = 1\\)"):
        sheet.function(["b"])(1)
