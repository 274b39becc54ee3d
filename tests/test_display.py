"""Displayed formulas mean what they compute: `(d_model % 100) * 4` is shown `(D mod 100)·4`,
and any displayed formula, read back, is the same formula."""

import ast
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from acct.errors import FormulaError
from acct.engine.formula import parse

SYMBOLS = {"x": "X", "y": "Y", "z": "d_z"}
NAMES = {symbol: name for name, symbol in SYMBOLS.items()}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def read_back(shown: str, loose: bool = False) -> str:
    """The display notation back in formula syntax: symbols to names, · to *, mod to %, x² to x**2.
    `loose` reads `mod` and `//` as binding more loosely than + and · (as a reader may: `D mod 100·4`
    as D mod 400): a display that needs its parentheses must have them, so both readings agree."""
    text = shown.replace("·", " * ")
    text = re.sub(r"[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+", lambda match: "**" + match.group().translate(_SUPERSCRIPTS), text)
    text = re.sub(r"[A-Za-z_][A-Za-z_0-9]*", lambda match: NAMES.get(match.group(), match.group()), text)
    if not loose:
        return text.replace(" mod ", " % ")
    # | and ^ parse below + and * in Python: read mod as | and // as ^, then turn them back
    tree = ast.parse(text.replace(" mod ", " | ").replace("//", " ^ "), mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            node.op = ast.Mod()
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
            node.op = ast.FloorDiv()
    return ast.unparse(tree)


def test_mod_and_floor_division_keep_their_parentheses():
    cases = {
        "(d_model % 100) * 4": "(D mod 100)·4",
        "d_model % (100 * 4)": "D mod (100·4)",
        "d_model % 100 * 4": "(D mod 100)·4",
        "a // b * c": "(a//b)·c",
        "a * b // c": "(a·b)//c",
        "a - b % c": "a - (b mod c)",
        "-(a % b)": "-(a mod b)",
        "(a % b) ** 2": "(a mod b)²",
        "2 * context_length * d_model ** 2": "2·T·D²",
    }
    for text, shown in cases.items():
        assert parse(text).display({"d_model": "D", "context_length": "T"}) == shown, text


LEAVES = st.one_of(st.sampled_from(sorted(SYMBOLS)), st.integers(0, 30).map(str))


def _combine(parts):
    return st.one_of(
        st.tuples(parts, st.sampled_from(["+", "-", "*", "/", "//", "%"]), parts, st.booleans()).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})" if t[3] else f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(parts, st.integers(-2, 3)).map(lambda t: f"({t[0]}) ** {t[1]}"),
        parts.map(lambda p: f"-({p})"),
        st.tuples(st.sampled_from(["min", "max", "ceil_div", "round_up"]), parts, parts).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"),
    )


FORMULAS = st.recursive(LEAVES, _combine, max_leaves=10)


def _value(text, values):
    try:
        return parse(text).evaluate(values)
    except ZeroDivisionError:
        return "division by zero"


@settings(max_examples=400, deadline=None)
@given(FORMULAS, st.integers(-20, 20), st.integers(-20, 20), st.integers(1, 20))
def test_a_displayed_formula_reads_back_to_the_same_value(text, x, y, z):
    try:
        formula = parse(text)
    except FormulaError:
        return  # too deep, or an exponent on a non-literal: not a formula, nothing to display
    shown = formula.display(SYMBOLS)
    values = {"x": x, "y": y, "z": z}
    expected = _value(text, values)
    assert _value(read_back(shown), values) == expected, (text, shown)
    assert _value(read_back(shown, loose=True), values) == expected, (text, shown)
