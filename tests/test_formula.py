"""The formula language: every operator, exactness, the whitelist, the bounds, the display."""

import re
from fractions import Fraction

import pytest

from acct.errors import FormulaError
from acct.engine.formula import MAX_EXPONENT, MAX_FORMULA_CHARS, parse


@pytest.mark.parametrize(
    "text, expected",
    [
        ("7 + 5", 12),
        ("7 - 5", 2),
        ("7 * 5", 35),
        ("7 / 5", Fraction(7, 5)),
        ("10 / 5", 2),  # exact division stays an int
        ("7 // 2", 3),
        ("-7 // 2", -4),
        ("7 % 5", 2),
        ("2 ** 10", 1024),
        ("2 ** -2", Fraction(1, 4)),
        ("-3", -3),
        ("+3", 3),
        ("(1 + 2) * 3", 9),
        ("1 + 2 * 3", 7),
        ("min(4, 2, 3)", 2),
        ("max(4, 2, 3)", 4),
        ("ceil_div(7, 2)", 4),
        ("ceil_div(8, 2)", 4),
        ("round_up(50257, 64)", 50304),  # GPT-2's vocabulary padded to a multiple of 64
        ("7 / 2 * 2", 7),  # a Fraction that comes back whole is an int again
        ("2 ** 64", 18446744073709551616),
    ],
)
def test_every_operator_is_exact(text, expected):
    value = parse(text).evaluate({})
    assert value == expected
    assert type(value) is type(expected)


def test_names_are_read_from_the_tree_in_order():
    formula = parse("2 * context_length * d_model ** 2 + context_length")
    assert formula.names == ("context_length", "d_model")
    assert formula.evaluate({"context_length": 1024, "d_model": 1600}) == 2 * 1024 * 1600**2 + 1024


def test_large_counts_stay_exact():
    # GPT-2 XL's LM head forward FLOPs: 2·T·D·V = 2·1024·1600·50257
    assert parse("2 * t * d * v").evaluate({"t": 1024, "d": 1600, "v": 50257}) == 164_682_137_600


@pytest.mark.parametrize(
    "text, problem",
    [
        ("__import__('os').system('true')", "a call to"),
        ("open('x')", "a call to 'open'"),
        ("d_model.real", "attribute access"),
        ("d_model[0]", "subscripts"),
        ("lambda: 1", "lambda"),
        ("[x for x in y]", "comprehensions"),
        ("{x for x in y}", "comprehensions"),
        ("(x for x in y)", "comprehensions"),
        ("f'{d_model}'", "f-strings"),
        ("(x := 1)", "assignment"),
        ("1 if a else 2", "conditional"),
        ("a < b", "comparisons"),
        ("a and b", "'and'/'or'"),
        ("1.5j * d_model", "the constant 1.5j (only whole numbers and decimals)"),
        ("2 ** 0.5", "exponent that is not a whole-number literal"),
        ("'text'", "the constant 'text'"),
        ("True", "the constant True"),
        ("_secret", "reserved"),
        ("a << 2", "the operator LShift"),
        ("~a", "the operator Invert"),
        ("min(a)", "min() with 1 arguments"),
        ("ceil_div(a, b, c)", "ceil_div() with 3 arguments"),
        ("max(a, b=1)", "keyword arguments"),
        ("[1, 2]", "lists"),
        ("a ** b", "exponent that is not a whole-number literal"),
    ],
)
def test_whitelist_rejects(text, problem):
    with pytest.raises(FormulaError) as error:
        parse(text, where="presets/x.toml: [model] d_ff")
    message = str(error.value)
    assert message.startswith("presets/x.toml: [model] d_ff: ")
    assert problem in message


def test_huge_exponents_are_refused_before_any_arithmetic():
    with pytest.raises(FormulaError, match="exponent that is not a whole-number literal"):
        parse("10 ** 10 ** 10")
    with pytest.raises(FormulaError, match=f"the exponent {MAX_EXPONENT + 1} \\(at most {MAX_EXPONENT}"):
        parse(f"2 ** {MAX_EXPONENT + 1}")
    assert parse(f"2 ** {MAX_EXPONENT}").evaluate({}) == 2**MAX_EXPONENT


def test_syntax_errors_and_sizes():
    with pytest.raises(FormulaError, match="syntax error in formula '2 \\*'"):
        parse("2 *")
    with pytest.raises(FormulaError, match="empty formula"):
        parse("   ")
    with pytest.raises(FormulaError, match=f"the limit is {MAX_FORMULA_CHARS:,}"):
        parse("1+" * MAX_FORMULA_CHARS + "1")
    with pytest.raises(FormulaError, match="nesting deeper than"):
        parse("-" * 300 + "1")
    with pytest.raises(FormulaError, match="cannot be parsed|syntax error"):
        parse("1\x00")


def test_non_text_values_are_refused():
    for value, kind in ((1.5, "a float"), (True, "a boolean"), ([1], "an array"), ({}, "a table")):
        with pytest.raises(FormulaError, match=f"got {kind}"):
            parse(value)
    assert parse(1600).evaluate({}) == 1600


def test_division_by_zero_propagates_for_the_sheet_to_attribute():
    with pytest.raises(ZeroDivisionError):
        parse("1 / (a - a)").evaluate({"a": 3})


@pytest.mark.parametrize(
    "text, shown",
    [
        ("2 * context_length * d_model ** 2", "2·T·D²"),
        ("2 * context_length ** 2 * d_model", "2·T²·D"),
        ("d_model / num_heads", "D/H"),
        ("vocab_size * d_model", "V·D"),
        ("a - (b + c)", "a - (b + c)"),
        ("a + (b - c)", "a + b - c"),
        ("a * (b // c)", "a·(b//c)"),
        ("a / (b * c)", "a/(b·c)"),
        ("(a + b) ** 2", "(a + b)²"),
        ("d_model ** -1", "D⁻¹"),
        ("-(a + b)", "-(a + b)"),
        ("round_up(vocab_size, 64)", "round_up(V, 64)"),
    ],
)
def test_display_uses_symbols_and_minimal_parentheses(text, shown):
    symbols = {"context_length": "T", "d_model": "D", "num_heads": "H", "vocab_size": "V"}
    assert parse(text).display(symbols) == shown


# -- issue #20: decimal literals are exact fractions, never floats -------------------------


@pytest.mark.parametrize(
    "text, value, shown",
    [("0.45", Fraction(9, 20), "0.45"), ("0.1 + 0.2", Fraction(3, 10), "0.1 + 0.2"),  # not 0.30000000000000004
     ("1e12", 10**12, "1e12"), ("19.5e12 * x", 19_500_000_000_000 * 3, "19.5e12·x"), (".5", Fraction(1, 2), ".5"),
     ("5.", 5, "5."), ("1_000.5", Fraction(2001, 2), "1_000.5"), ("1.5E-3", Fraction(3, 2000), "1.5E-3"),
     ("-0.25 * x", Fraction(-3, 4), "-0.25·x"), ("max(0.5, x)", 3, "max(0.5, x)"), ("d_1e5 + 1", 8, "d_1e5 + 1"),
     ("0.9 ** 2", Fraction(81, 100), "0.9²"), ("1e-40 * 10 ** 40", 1, "1e-40·10⁴⁰"),
     ("0." + "3" * 40, Fraction(int("3" * 40), 10**40), "0." + "3" * 40)],
)
def test_decimals_are_exact(text, value, shown):
    formula = parse(text)
    assert formula.evaluate({"x": 3, "d_1e5": 7}) == value and formula.display({}) == shown


def test_decimals_never_become_floats(monkeypatch):
    """Python's parser never sees the user's decimal: it would make a float of it."""
    import ast as python_ast

    from acct.engine import formula as formula_module

    seen = []
    real = python_ast.parse
    monkeypatch.setattr(python_ast, "parse", lambda source, *a, **k: seen.append(source) or real(source, *a, **k))
    formula_module._checked.cache_clear()
    formula_module._formula.cache_clear()
    tree = parse("0.45 * y + 2.5e-3").tree
    assert seen and all("." not in source and "e-3" not in source for source in seen)
    assert not any(isinstance(node, python_ast.Constant) and isinstance(node.value, float)
                   for node in python_ast.walk(tree))


@pytest.mark.parametrize(
    "text, problem",
    [("0." + "1" * 41, "the number '0.111111111111111111...' is too long (at most 40 digits)"),
     ("1" * 41 + ".5", "(at most 40 digits)"),
     # the decimal exponent's limit is every quantity's (--mfu 1e-41 is refused the same way)
     ("1e41", "the exponent in '1e41' is too large (at most 40 in size)"), ("2.5e-41", "the exponent in '2.5e-41'"),
     ("1e" + "9" * 30, "(at most 40 in size)"), ("1.5j", "the constant 1.5j"), ("1.5x", "syntax error")],
)
def test_decimals_are_bounded(text, problem):
    with pytest.raises(FormulaError, match=re.escape(problem)):
        parse(text, "--set x")


# -- the constructors the layers above the engine build formulas with -----------------------------


def test_constructors_build_formulas_that_read_and_show_as_written():
    from acct.engine.formula import add, built, call, div, mul, named, number, sub

    tree = div(sub(add(mul(number(2), named("T"), named("D")), named("total.params")), number(1)),
               call("max", named("T"), number(3)))
    formula = built(tree)
    assert formula.text == "(2 * T * D + total.params - 1) / max(T, 3)"
    assert formula.names == ("T", "D", "total.params")
    assert formula.evaluate({"T": 4, "D": 5, "total.params": 9}) == Fraction(48, 4)
    assert formula.display({"T": "T", "D": "D"}) == "(2·T·D + total.params - 1)/max(T, 3)"
    assert built(tree, "shown").text == "shown"


def test_a_sum_is_balanced_and_an_empty_sum_is_zero():
    from acct.engine.formula import add, built, named, text_of

    assert text_of(add(*(named(f"x{i}") for i in range(5)))) == "x0 + x1 + (x2 + (x3 + x4))"
    terms = [named(f"row{i}.params") for i in range(3_000)]
    assert built(add(*terms)).evaluate({f"row{i}.params": i for i in range(3_000)}) == sum(range(3_000))
    assert built(add()).evaluate({}) == 0


def test_substitute_and_reads_leave_the_original_tree_alone():
    from acct.engine.formula import built, named, parse, reads, substitute

    original = parse("min(context_length, W) * 2 + context_length")
    swapped = substitute(original.tree, {"context_length": named("t")})
    assert built(swapped).text == "min(t, W) * 2 + t"
    assert reads(swapped, "t") and not reads(swapped, "context_length") and reads(original.tree, "context_length")
    assert original.evaluate({"context_length": 5, "W": 3}) == 11


def test_dotted_reads_a_dotted_name_as_one_cell():
    from acct.engine.formula import dotted

    formula = dotted("max(gpu.memory.first.peak, memory.peak) - total.params")
    assert formula.names == ("gpu.memory.first.peak", "memory.peak", "total.params")
    assert formula.evaluate({"gpu.memory.first.peak": 7, "memory.peak": 9, "total.params": 4}) == 5
