"""The formula language: parse a string against a whitelist, evaluate it exactly, show it in symbols.

A formula is integers, decimals (`0.45`, `19.5e12`: exact fractions, never floats),
names, `+ - * / // % **`, unary minus, parentheses and a few functions (min, max,
ceil_div, round_up). It is parsed with `ast` and every
node is checked against the whitelist; a string from a preset or a plugin is
never handed to eval/exec. Arithmetic is exact: `int`, and `Fraction` where a
`/` does not divide. The sheet compiles the validated trees of a whole sheet
into one Python function (see sheet.py); `Formula.evaluate` here is the
reference interpreter, used to attribute errors to a cell and to test the
compiled path.
"""

from __future__ import annotations

import ast
import functools
import keyword
import warnings
from fractions import Fraction
from typing import Callable, Dict, List, Mapping, Sequence, Tuple, Union

from acct.records import record

from acct.errors import FormulaError, describe

Number = Union[int, Fraction]

# Resource bounds (documented in the README). A formula from a stranger's preset
# must not hang the reader's machine or fill its memory.
MAX_FORMULA_CHARS = 1_000
MAX_DEPTH = 200
MAX_EXPONENT = 64
MAX_VALUE_BITS = 4_096
MAX_DECIMAL_DIGITS = 40  # digits of one decimal literal (0.45, 19.5e12), its exponent's aside
MAX_DECIMAL_EXPONENT = 40  # |e| in 1.5e12, as in every quantity acct reads (acct.engine.units)


def ceil_div(numerator: Number, denominator: Number) -> int:
    """The smallest integer >= numerator / denominator."""
    return -(-numerator // denominator)


def round_up(value: Number, multiple: Number) -> Number:
    """`value` rounded up to a multiple of `multiple` (e.g. a vocabulary padded to 64)."""
    return ceil_div(value, multiple) * multiple


def _min(*args: Number) -> Number:
    return min(args)


def _max(*args: Number) -> Number:
    return max(args)


# name -> (implementation, minimum arity, maximum arity or None)
FUNCTIONS: Dict[str, Tuple[Callable[..., Number], int, Union[int, None]]] = {
    "min": (_min, 2, None),
    "max": (_max, 2, None),
    "ceil_div": (ceil_div, 2, 2),
    "round_up": (round_up, 2, 2),
}

_ALLOWED = (
    "whole numbers, decimals (0.45, 1e12), names, + - * / // % **, parentheses, "
    + ", ".join(f"{name}()" for name in FUNCTIONS)
)

_REJECTED = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings",
    ast.NamedExpr: "assignment (:=)",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "conditional expressions",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Starred: "starred arguments",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.Slice: "slices",
}

_BINARY_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_PLAIN_OPS = frozenset(_BINARY_OPS) - {ast.Pow}  # the operators with nothing more to check
_UNARY_OPS = (ast.USub, ast.UAdd)


def normalize(value: Number) -> Number:
    """An integral Fraction becomes an int, so a count is always a plain int."""
    if type(value) is int:
        return value
    return value.numerator if value.denominator == 1 else value


def divide(numerator: Number, denominator: Number) -> Number:
    """Exact `/`: an int where it divides, a Fraction where it does not."""
    if type(numerator) is int and type(denominator) is int:
        quotient, remainder = divmod(numerator, denominator)
        if not remainder:
            return quotient
        return Fraction(numerator, denominator)
    return normalize(Fraction(numerator) / denominator)


@record
class Formula:
    """A validated formula: its source text, its tree and the names it reads."""

    text: str
    tree: ast.expr
    names: Tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"

    # -- evaluation -------------------------------------------------------

    def evaluate(self, values: Mapping[str, Number]) -> Number:
        """Evaluate with exact arithmetic; ZeroDivisionError propagates to the caller."""
        return normalize(_interpret(self.tree, values))

    # -- display ----------------------------------------------------------

    def display(self, symbols: Mapping[str, str]) -> str:
        """The formula in the literature's notation: `2 * context_length * d_model ** 2` -> `2·T·D²`."""
        return _show(self.tree, symbols)[0]

    # -- static bounds ----------------------------------------------------

    def bits_bound(self, bounds: Mapping[str, Tuple[int, int]]) -> Tuple[int, int]:
        """Upper bounds on the bit lengths of the value's numerator and denominator,
        given such bounds for every name it reads."""
        return _bits(self.tree, bounds)

    def nonnegative(self, known: Callable[[str], bool]) -> bool:
        """Whether the value is provably >= 0, given which names are (so a compiled sheet can
        skip a count's `>= 0` check it cannot fail)."""
        return _nonnegative(self.tree, known)

    def may_be_fraction(self, fractional: Callable[[str], bool]) -> bool:
        """Whether the value can be a non-integral Fraction (a `/`, a negative
        power, or a name that may be one)."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                return True
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and _exponent(node) < 0:
                return True
            if isinstance(node, ast.Name) and fractional(node.id):
                return True
        return False


def parse(text: object, where: str = "formula") -> Formula:
    """Parse and validate `text`; raise FormulaError naming `where` if it is not a formula."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise FormulaError(f"{where}: expected a whole number or a formula string, got {describe(text)}")
    checked = _formula(str(text).strip())
    if isinstance(checked, str):
        raise FormulaError(f"{where}: {checked}")
    return checked


@functools.lru_cache(maxsize=4096)
def _formula(source: str) -> Union[str, Formula]:
    """The Formula of `source`, or what is wrong with it. Cached: plugins repeat the same formulas,
    and a Formula is never changed once built, so one object serves every reader."""
    checked = _checked(source)
    if isinstance(checked, str):
        return checked
    return Formula(source, *checked)


@functools.lru_cache(maxsize=4096)
def _checked(source: str) -> Union[str, Tuple[ast.expr, Tuple[str, ...]]]:
    """(tree, names) of a valid formula, or what is wrong with it. Cached: plugins repeat the same
    formulas, and trees are never changed once built."""
    if not source:
        return "empty formula"
    if not source.isascii():
        strange = next(ch for ch in source if not ch.isascii())
        return f"formula has the non-ASCII character {strange!r}; names are ASCII letters, digits and _"
    if len(source) > MAX_FORMULA_CHARS:
        return f"formula is {len(source):,} characters long; the limit is {MAX_FORMULA_CHARS:,}"
    shown = source if len(source) <= 60 else source[:57] + "..."
    if source.isdigit() and (source[0] != "0" or source.strip("0") == ""):
        return ast.Constant(int(source)), ()  # a whole number: what ast.parse gives, without parsing
    if source.isidentifier() and not keyword.iskeyword(source):
        tree = ast.Name(source, ast.Load())  # one name: likewise
    else:
        decimals: Dict[str, ast.expr] = {}
        text = source
        if "." in source or "0a" in source.translate(_CLASSES):  # a point, or a digit then a letter: 1e12
            text = _without_decimals(source, decimals)
            if decimals.get(""):
                return f"{decimals['']} in formula {shown!r}"  # type: ignore[str-bytes-safe]
        try:
            tree = _parse(text)
        except SyntaxError as error:
            return f"syntax error in formula {shown!r}: {error.msg}"
        except (ValueError, RecursionError, MemoryError) as error:
            return f"formula {shown!r} cannot be parsed: {error}"
        if decimals:
            tree = _with_decimals(tree, decimals)
    names: Dict[str, None] = {}
    problem = _validate(tree, names, depth=0)
    if problem:
        return f"{problem} in formula {shown!r}; allowed: {_ALLOWED}"
    return tree, tuple(names)


# what can make Python's tokenizer warn before it parses or fails: a digit followed by a letter
# ('1a', '0x1', '1if'), a backslash or a quote; a formula with none of them is parsed as it is.
# Each character mapped to its class (digits to 0, letters and _ to a, quotes and \\ to "), so
# that one str.translate and two substring tests find them (a regex would cost its compilation)
_CLASSES = str.maketrans({**dict.fromkeys("0123456789", "0"),
                          **dict.fromkeys("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_", "a"),
                          "'": '"', "\\": '"'})


# a decimal literal: digits with a point, an exponent, or both (1.5, .5, 5., 1e12, 19.5e-3, 1_000.5),
# not inside a name or another literal (d_1e5, 0x1e5, 1.5j are left to the parser)
_DIGITS = r"[0-9](?:_?[0-9])*"
_DECIMAL = (rf"(?<![\w.])(?:{_DIGITS}\.(?:{_DIGITS})?|\.{_DIGITS}|{_DIGITS}(?=[eE]))"
            rf"(?:[eE][+-]?{_DIGITS})?(?![\w.])")
# what stands for a decimal while Python parses the rest: not ASCII, so no formula can name it
_PLACEHOLDER = "\u03b4"  # δ


def _without_decimals(source: str, decimals: Dict[str, object]) -> str:
    """`source` with each decimal literal replaced by a placeholder name, its exact tree put in
    `decimals`: Python's parser never turns the user's text into a float. A literal out of bounds
    is put under "" as what is wrong with it."""
    import re

    def replace(match: "re.Match[str]") -> str:
        literal = match.group()
        value = decimal_value(literal)
        if isinstance(value, str):
            decimals.setdefault("", value)
            return "0"
        name = f"{_PLACEHOLDER}{len(decimals)}"
        node = ast.Constant(value) if type(value) is int else ast.BinOp(
            ast.Constant(value.numerator), ast.Div(), ast.Constant(value.denominator))
        node.decimal = literal  # type: ignore[attr-defined]  # shown as written
        decimals[name] = node
        return name

    return re.sub(_DECIMAL, replace, source)


def decimal_value(literal: str) -> Union[Number, str]:
    """The exact value of a decimal literal (`0.45` is 9/20, `1e12` is 10^12), or what is wrong
    with it: at most MAX_DECIMAL_DIGITS digits and an exponent of at most MAX_DECIMAL_EXPONENT in size,
    both counted before any number is built."""
    mantissa, _, exponent_text = literal.replace("_", "").lower().partition("e")
    whole, _, part = mantissa.partition(".")
    if len(whole.lstrip("0") + part) > MAX_DECIMAL_DIGITS:
        return (f"the number {literal[:20] + ('...' if len(literal) > 20 else '')!r} is too long "
                f"(at most {MAX_DECIMAL_DIGITS} digits)")
    if len(exponent_text.lstrip("+-").lstrip("0")) > 3 or abs(int(exponent_text or 0)) > MAX_DECIMAL_EXPONENT:
        return f"the exponent in {literal!r} is too large (at most {MAX_DECIMAL_EXPONENT} in size)"
    scale = int(exponent_text or 0) - len(part)
    digits = int(whole + part or "0")
    return digits * 10**scale if scale >= 0 else normalize(Fraction(digits, 10**-scale))


def _with_decimals(tree: ast.expr, decimals: Mapping[str, ast.expr]) -> ast.expr:
    """`tree` with each placeholder name replaced by its decimal's tree."""
    if isinstance(tree, ast.Name):
        return decimals.get(tree.id, tree)
    for node in ast.walk(tree):
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.Name) and value.id in decimals:
                setattr(node, field, decimals[value.id])
            elif isinstance(value, list):
                value[:] = [decimals.get(item.id, item) if isinstance(item, ast.Name) else item for item in value]
    return tree


def _parse(source: str) -> ast.expr:
    classes = source.translate(_CLASSES)
    if "0a" not in classes and '"' not in classes:
        return ast.parse(source, mode="eval").body
    with warnings.catch_warnings():  # e.g. '1a' warns before it fails; the user sees our error alone
        warnings.simplefilter("ignore")
        return ast.parse(source, mode="eval").body


def from_tree(tree: ast.expr, text: str) -> Formula:
    """A formula the engine builds itself (totals, per-layer products); names may contain dots.
    A long sum (a total over 1,200 rows) is rebalanced into a tree of logarithmic depth, so
    that every walk over it (bounds, evaluation, compilation) stays far from the recursion
    limit; exact int and Fraction arithmetic is associative, so the value is the same."""
    names: Dict[str, None] = {}
    _names(tree, names)
    return Formula(text, balanced(tree), tuple(names))


def balanced(node: ast.expr) -> ast.expr:
    """`node` with every chain of one associative operator (+ or *) rebuilt as a balanced tree,
    its operands in the same order. Iterative over the chain, whatever its length."""
    if not isinstance(node, ast.BinOp):
        return node
    if not isinstance(node.op, (ast.Add, ast.Mult)):
        return ast.BinOp(balanced(node.left), node.op, balanced(node.right))
    kind = type(node.op)
    return chain([balanced(term) for term in operands(node)], kind)


def operands(node: ast.BinOp) -> List[ast.expr]:
    """The operands of a chain of one operator (a + b + c, a * b * c), in order; a loop over the
    chain, so its length is not bounded by the recursion limit."""
    kind = type(node.op)
    terms: List[ast.expr] = []
    stack: List[ast.expr] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.BinOp) and isinstance(item.op, kind):
            stack += (item.right, item.left)
        else:
            terms.append(item)
    return terms


def chain(parts: List[ast.expr], kind: type) -> ast.expr:
    """parts[0] op parts[1] op ... as a balanced tree (depth log2 of the count)."""
    while len(parts) > 1:
        paired = [ast.BinOp(parts[i], kind(), parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        if len(parts) % 2:
            paired.append(parts[-1])
        parts = paired
    return parts[0]


def _names(node: ast.expr, found: Dict[str, None]) -> None:
    """The names a tree reads, in order (not the functions it calls); iterative, as sums can be long."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            found.setdefault(node.id, None)
        elif isinstance(node, ast.BinOp):
            stack += (node.right, node.left)
        elif isinstance(node, ast.UnaryOp):
            stack.append(node.operand)
        elif isinstance(node, ast.Call):
            stack.extend(reversed(node.args))




def scaled(formula: Formula, factor: int) -> Formula:
    """`factor` × formula, folded into a leading constant: 2 × `2 * T * D` is `4 * T * D`."""
    node = formula.tree
    spine = []
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        spine.append(node)
        node = node.left
    if isinstance(node, ast.Constant):
        tree: ast.expr = ast.Constant(node.value * factor)
        for parent in reversed(spine):
            tree = ast.BinOp(tree, ast.Mult(), parent.right)
    elif formula.text == "0":
        tree = ast.Constant(0)
    else:
        tree = ast.BinOp(ast.Constant(factor), ast.Mult(), formula.tree)
    return from_tree(tree, ast.unparse(tree))


def without_factor(formula: Formula, name: str) -> Formula:
    """formula / name, by dropping `name` from a plain product where it is a factor
    once (`2 * T * D` → `2 * D`); otherwise the quotient itself."""
    factors = []
    stack = [formula.tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            stack += [node.right, node.left]
        else:
            factors.append(node)
    matches = [f for f in factors if isinstance(f, ast.Name) and f.id == name]
    reads_elsewhere = sum(1 for n in ast.walk(formula.tree) if isinstance(n, ast.Name) and n.id == name)
    if formula.text == "0":
        tree: ast.expr = ast.Constant(0)
    elif len(matches) == 1 and reads_elsewhere == 1 and len(factors) > 1:
        rest = [f for f in factors if f is not matches[0]]
        tree = rest[0]
        for factor in rest[1:]:
            tree = ast.BinOp(tree, ast.Mult(), factor)
    else:
        tree = ast.BinOp(formula.tree, ast.Div(), ast.Name(name, ast.Load()))
    return from_tree(tree, ast.unparse(tree))


# -- constructors: the formulas acct builds itself ------------------------------
#
# Totals, per-instance products, the roofline's bytes and times: the layers above the engine
# build these with the functions below and never touch `ast`; a Tree is an opaque value to them,
# made here, combined here, and turned into a Formula by `built` or `from_tree`.

Tree = ast.expr


def named(cell: str) -> Tree:
    """The value of the cell (or input) `cell`; its name may contain dots (`total.params`)."""
    return ast.Name(cell, ast.Load())


def number(value: int) -> Tree:
    return ast.Constant(value)


def add(*terms: Tree) -> Tree:
    """terms[0] + terms[1] + ..., balanced (halves, then halves of those): a total over 1,200 rows
    stays shallow. No terms is 0."""
    if len(terms) == 2:
        return ast.BinOp(terms[0], ast.Add(), terms[1])
    if not terms:
        return ast.Constant(0)
    if len(terms) == 1:
        return terms[0]
    middle = len(terms) // 2
    return ast.BinOp(add(*terms[:middle]), ast.Add(), add(*terms[middle:]))


def sub(left: Tree, right: Tree) -> Tree:
    return ast.BinOp(left, ast.Sub(), right)


def mul(*factors: Tree) -> Tree:
    """factors[0] · factors[1] · ..., from the left (as `2 * T * D` parses)."""
    tree = factors[0]
    for factor in factors[1:]:
        tree = ast.BinOp(tree, ast.Mult(), factor)
    return tree


def div(numerator: Tree, denominator: Tree) -> Tree:
    """The exact quotient (`/`: a Fraction where it does not divide)."""
    return ast.BinOp(numerator, ast.Div(), denominator)


def call(function: str, *args: Tree) -> Tree:
    """`function(args...)`, one of the language's FUNCTIONS (min, max, ceil_div, round_up)."""
    return ast.Call(ast.Name(function, ast.Load()), list(args), [])


def sum_text(terms: Sequence[str]) -> str:
    """A sum written as formula text, balanced (`(a) + ((b) + (c))`), so that a model of a thousand
    rows parses without deep recursion; no terms is `0`. For the output families that write
    their formulas as text."""
    if not terms:
        return "0"
    if len(terms) == 1:
        return terms[0]
    middle = len(terms) // 2
    return f"({sum_text(terms[:middle])}) + ({sum_text(terms[middle:])})"


def text_of(tree: Tree) -> str:
    """The tree as formula text, as Python writes it (`a + b * c`)."""
    return ast.unparse(tree)


def node_count(tree: Tree) -> int:
    """How many nodes the tree has: what a caller weighs before writing a long tree out as text."""
    return sum(1 for _ in ast.walk(tree))


def built(tree: Tree, text: Union[str, None] = None) -> Formula:
    """The Formula of a built tree, its text `text` or, without one, the tree written out."""
    return from_tree(tree, ast.unparse(tree) if text is None else text)


def reads(tree: Tree, name: str) -> bool:
    """Whether the tree reads the name `name`."""
    return any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(tree))


def substitute(tree: Tree, names: Mapping[str, Tree]) -> Tree:
    """The tree with each name in `names` replaced by its tree (a fresh tree; the original is untouched)."""
    if isinstance(tree, ast.Name):
        return names.get(tree.id, tree)
    if isinstance(tree, ast.BinOp):
        return ast.BinOp(substitute(tree.left, names), tree.op, substitute(tree.right, names))
    if isinstance(tree, ast.UnaryOp):
        return ast.UnaryOp(tree.op, substitute(tree.operand, names))
    if isinstance(tree, ast.Call):
        return ast.Call(tree.func, [substitute(arg, names) for arg in tree.args], [])
    return tree


@functools.lru_cache(maxsize=None)
def dotted(text: str) -> Formula:
    """The Formula of engine-written text whose names may contain dots (`total.params + gpu.x`),
    which Python parses as attributes; each is read as one cell name. For acct's own output
    formulas, not a stranger's: the whitelist is `parse`'s."""
    return from_tree(_undotted(ast.parse(text, mode="eval").body), text)


def _undotted(node: ast.expr) -> ast.expr:
    if isinstance(node, ast.Attribute):
        return ast.Name(ast.unparse(node), ast.Load())
    if isinstance(node, ast.BinOp):
        return ast.BinOp(_undotted(node.left), node.op, _undotted(node.right))
    if isinstance(node, ast.Call):  # max(gpu.memory.first.peak, ...): the arguments too
        return ast.Call(node.func, [_undotted(argument) for argument in node.args], node.keywords)
    if isinstance(node, ast.UnaryOp):
        return ast.UnaryOp(node.op, _undotted(node.operand))
    return node


class Unsummable(FormulaError):
    """`series` met a part of a tree it cannot sum in closed form; `part` is that part as text."""

    def __init__(self, part: str):
        super().__init__(part)
        self.part = part


def series(tree: Tree, var: str, first: Tree, last: Tree) -> Tree:
    """Σ of `tree` over var = first, first + 1, ..., last, in closed form: sums and
    differences term by term, a factor free of var taken out, Σ t = (first + last)·n/2, and
    Σ min(t, W) = (u·(u+1) − (first−1)·first)/2 + W·(last − u) with u = max(first − 1,
    min(W, last)) (a sliding window). Any other use of var raises Unsummable."""
    count = add(sub(last, first), number(1))
    if not reads(tree, var):
        return mul(tree, count)
    if isinstance(tree, ast.Name):  # tree is var itself
        # (first + last)·n is even: n(2·first + n − 1)
        return call("ceil_div", mul(add(first, last), count), number(2))
    if isinstance(tree, ast.BinOp):
        if isinstance(tree.op, (ast.Add, ast.Sub)):
            return ast.BinOp(series(tree.left, var, first, last), tree.op, series(tree.right, var, first, last))
        if isinstance(tree.op, ast.Mult) and not reads(tree.left, var):
            return mul(tree.left, series(tree.right, var, first, last))
        if isinstance(tree.op, ast.Mult) and not reads(tree.right, var):
            return mul(series(tree.left, var, first, last), tree.right)
        if isinstance(tree.op, ast.Div) and not reads(tree.right, var):
            return div(series(tree.left, var, first, last), tree.right)
    if isinstance(tree, ast.Call) and tree.func.id in ("min", "max") and len(tree.args) == 2:
        moving = [arg for arg in tree.args if reads(arg, var)]
        if len(moving) == 1 and isinstance(moving[0], ast.Name):
            window = tree.args[1] if moving[0] is tree.args[0] else tree.args[0]
            below = sub(first, number(1))
            upto = call("max", below, call("min", window, last))
            # u(u+1) and (first−1)·first are products of consecutive integers: even
            minimum = add(call("ceil_div", sub(mul(upto, add(upto, number(1))), mul(below, first)), number(2)),
                          mul(window, sub(last, upto)))
            if tree.func.id == "min":
                return minimum
            # max(t, W) = t + W − min(t, W)
            return sub(add(series(named(var), var, first, last), mul(window, count)), minimum)
    raise Unsummable(ast.unparse(tree))


def _nonnegative(node: ast.expr, known: Callable[[str], bool]) -> bool:
    if isinstance(node, ast.Constant):
        return node.value >= 0
    if isinstance(node, ast.Name):
        return known(node.id)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.UAdd) and _nonnegative(node.operand, known)
    if isinstance(node, ast.Call):
        return all(_nonnegative(argument, known) for argument in node.args)
    assert isinstance(node, ast.BinOp)
    if isinstance(node.op, ast.Pow):
        return _exponent(node) % 2 == 0 or _nonnegative(node.left, known)
    if isinstance(node.op, ast.Mod):  # Python's % takes the divisor's sign
        return _nonnegative(node.right, known)
    if isinstance(node.op, ast.Sub):
        return False
    return _nonnegative(node.left, known) and _nonnegative(node.right, known)


def _exponent(node: ast.BinOp) -> int:
    right = node.right
    if isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub):
        return -right.operand.value  # type: ignore[attr-defined]
    if isinstance(right, ast.UnaryOp):
        return right.operand.value  # type: ignore[attr-defined]
    return right.value  # type: ignore[attr-defined]


def _is_int_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, _UNARY_OPS):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def _validate(node: ast.AST, names: Dict[str, None], depth: int) -> str:
    """Return a description of the first thing outside the language, or ''."""
    if depth > MAX_DEPTH:
        return f"nesting deeper than {MAX_DEPTH} levels"
    kind = type(node)  # the common cases first, by exact type (what ast.parse makes)
    if kind is ast.Name and not node.id.startswith("_"):  # type: ignore[attr-defined]
        names.setdefault(node.id, None)  # type: ignore[attr-defined]
        return ""
    if kind is ast.BinOp and type(node.op) in _PLAIN_OPS:  # type: ignore[attr-defined]
        return _validate(node.left, names, depth + 1) or _validate(node.right, names, depth + 1)  # type: ignore
    if kind is ast.Constant and type(node.value) is int:  # type: ignore[attr-defined]
        return ""
    if isinstance(node, ast.Constant):
        if type(node.value) is int:
            return ""
        return f"the constant {node.value!r} (only whole numbers and decimals)"
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            return f"the name {node.id!r} (names starting with '_' are reserved)"
        names.setdefault(node.id, None)
        return ""
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, _BINARY_OPS):
            return f"the operator {type(node.op).__name__}"
        if isinstance(node.op, ast.Pow):
            if not _is_int_literal(node.right):
                return "an exponent that is not a whole-number literal"
            if abs(_exponent(node)) > MAX_EXPONENT:
                return f"the exponent {_exponent(node)} (at most {MAX_EXPONENT} in size)"
        return _validate(node.left, names, depth + 1) or _validate(node.right, names, depth + 1)
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, _UNARY_OPS):
            return f"the operator {type(node.op).__name__}"
        return _validate(node.operand, names, depth + 1)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            return f"a call to {called!r}"
        if node.keywords:
            return f"keyword arguments to {node.func.id}()"
        _, fewest, most = FUNCTIONS[node.func.id]
        count = len(node.args)
        if count < fewest or (most is not None and count > most):
            wanted = f"{fewest}" if most == fewest else f"at least {fewest}"
            return f"{node.func.id}() with {count} arguments (it takes {wanted})"
        for argument in node.args:
            problem = _validate(argument, names, depth + 1)
            if problem:
                return problem
        return ""
    for kind, what in _REJECTED.items():
        if isinstance(node, kind):
            return what
    return f"a {type(node).__name__} expression"


def _interpret(node: ast.expr, values: Mapping[str, Number]) -> Number:
    # by exact node type, the most frequent first: a validated tree holds only these five kinds
    kind = type(node)
    if kind is ast.Name:
        return values[node.id]  # type: ignore[attr-defined]
    if kind is ast.Constant:
        return node.value  # type: ignore[attr-defined]
    if kind is ast.BinOp:
        left = _interpret(node.left, values)  # type: ignore[attr-defined]
        op = type(node.op)  # type: ignore[attr-defined]
        if op is ast.Pow:
            exponent = _exponent(node)  # type: ignore[arg-type]
            return left**exponent if exponent >= 0 else divide(1, left**-exponent)
        right = _interpret(node.right, values)  # type: ignore[attr-defined]
        if op is ast.Mult:
            value = left * right
        elif op is ast.Add:
            value = left + right
        elif op is ast.Sub:
            value = left - right
        elif op is ast.Div:
            return divide(left, right)
        elif op is ast.FloorDiv:
            return left // right
        else:
            value = left % right
        return value if type(value) is int else normalize(value)
    if kind is ast.UnaryOp:
        operand = _interpret(node.operand, values)  # type: ignore[attr-defined]
        return -operand if type(node.op) is ast.USub else operand  # type: ignore[attr-defined]
    function = FUNCTIONS[node.func.id][0]  # type: ignore[attr-defined]
    return function(*(_interpret(argument, values) for argument in node.args))  # type: ignore[attr-defined]


# -- static bit-length bounds ---------------------------------------------------


def _bits(node: ast.expr, bounds: Mapping[str, Tuple[int, int]]) -> Tuple[int, int]:
    """(numerator bits, denominator bits) upper bounds; exact ints have denominator bits 0."""
    kind = type(node)  # by exact node type, as in _interpret
    if kind is ast.Name:
        return bounds[node.id]  # type: ignore[attr-defined]
    if kind is ast.Constant:
        return (abs(node.value).bit_length(), 0)  # type: ignore[attr-defined]
    if kind is ast.BinOp:
        a_num, a_den = _bits(node.left, bounds)  # type: ignore[attr-defined]
        op = type(node.op)  # type: ignore[attr-defined]
        if op is ast.Pow:
            power = abs(_exponent(node))  # type: ignore[arg-type]
            num, den = a_num * power, a_den * power
            return (num, den) if _exponent(node) >= 0 else (den + 1, num)  # type: ignore[arg-type]
        b_num, b_den = _bits(node.right, bounds)  # type: ignore[attr-defined]
        if op is ast.Mult:
            return (a_num + b_num, a_den + b_den)
        if op is ast.Add or op is ast.Sub:
            return (max(a_num + b_den, b_num + a_den) + 1, a_den + b_den)
        if op is ast.Div:
            return (a_num + b_den, a_den + b_num)
        if op is ast.FloorDiv:
            return (a_num + b_den + 1, 0)
        # %: |a % b| < |b|, with a's and b's denominators
        return (b_num + a_den, a_den + b_den)
    if kind is ast.UnaryOp:
        return _bits(node.operand, bounds)  # type: ignore[attr-defined]
    parts = [_bits(argument, bounds) for argument in node.args]  # type: ignore[attr-defined]
    if node.func.id in ("min", "max"):  # type: ignore[attr-defined]
        return (max(p[0] for p in parts), max(p[1] for p in parts))
    (a_num, _), (b_num, b_den) = parts
    quotient = a_num + b_den + 1
    if node.func.id == "round_up":  # type: ignore[attr-defined]
        return (quotient + b_num, 0)
    return (quotient, 0)


# -- compilation to a Python tree -----------------------------------------------


def to_python(node: ast.expr, local: Mapping[str, str]) -> ast.expr:
    """Translate a validated tree into the Python tree the sheet compiles: names
    become the sheet's locals, `/` and negative powers go through `_div`, calls
    go to `_fn_<name>`. Nothing but what `_validate` accepted can reach here."""
    if isinstance(node, ast.Constant):
        return ast.Constant(node.value)
    if isinstance(node, ast.Name):
        return ast.Name(local[node.id], ast.Load())
    if isinstance(node, ast.UnaryOp):
        return ast.UnaryOp(node.op, to_python(node.operand, local))
    if isinstance(node, ast.Call):
        return ast.Call(
            ast.Name(f"_fn_{node.func.id}", ast.Load()),  # type: ignore[attr-defined]
            [to_python(argument, local) for argument in node.args],
            [],
        )
    assert isinstance(node, ast.BinOp)
    left = to_python(node.left, local)
    if isinstance(node.op, ast.Pow):
        exponent = _exponent(node)
        power = ast.BinOp(left, ast.Pow(), ast.Constant(abs(exponent)))
        if exponent >= 0:
            return power
        return ast.Call(ast.Name("_div", ast.Load()), [ast.Constant(1), power], [])
    right = to_python(node.right, local)
    if isinstance(node.op, ast.Div):
        return ast.Call(ast.Name("_div", ast.Load()), [left, right], [])
    return ast.BinOp(left, node.op, right)


# Names the compiled sheet may use; each formula's own names are renamed to locals.
RUNTIME = {"_div": divide, "_norm": normalize, **{f"_fn_{name}": fn for name, (fn, _, _) in FUNCTIONS.items()}}


# -- display ------------------------------------------------------------------

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.FloorDiv: 2, ast.Mod: 2, ast.Pow: 4}
_SIGN = {ast.Add: " + ", ast.Sub: " - ", ast.Mult: "·", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: " mod "}


_BRACKETED = (ast.Mod, ast.FloorDiv)


def _compound(node: ast.expr) -> bool:
    return isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Pow)


def _show(node: ast.expr, symbols: Mapping[str, str]) -> Tuple[str, int]:
    """(text, precedence) of a validated tree in display notation."""
    written = getattr(node, "decimal", None)
    if written is not None:  # a decimal literal, as the user wrote it
        return (written, 5)
    if isinstance(node, ast.Constant):
        return (str(node.value), 5)
    if isinstance(node, ast.Name):
        return (symbols.get(node.id, node.id), 5)
    if isinstance(node, ast.Call):
        arguments = ", ".join(_show(argument, symbols)[0] for argument in node.args)
        return (f"{node.func.id}({arguments})", 5)  # type: ignore[attr-defined]
    if isinstance(node, ast.UnaryOp):
        text, precedence = _show(node.operand, symbols)
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        return (sign + (text if precedence >= 3 else f"({text})"), 3)
    assert isinstance(node, ast.BinOp)
    precedence = _PRECEDENCE[type(node.op)]
    left, left_precedence = _show(node.left, symbols)
    if isinstance(node.op, _BRACKETED):
        # `D mod 100·4` reads as D mod 400: a mod or a floor division is bracketed inside any
        # other operation (precedence 0), and so is any compound operand of its own
        right, _ = _show(node.right, symbols)
        left = f"({left})" if _compound(node.left) else left
        right = f"({right})" if _compound(node.right) else right
        return (left + _SIGN[type(node.op)] + right, 0)
    if isinstance(node.op, ast.Pow):
        if left_precedence <= precedence:
            left = f"({left})"
        return (left + str(_exponent(node)).translate(_SUPERSCRIPT), precedence)
    right, right_precedence = _show(node.right, symbols)
    if left_precedence < precedence:
        left = f"({left})"
    # a + (b - c) and a·(b/c) read the same without parentheses; a - (b + c),
    # a/(b·c) and a·(b//c) do not
    associative = (isinstance(node.op, ast.Add) and isinstance(node.right.op, (ast.Add, ast.Sub))) or (
        isinstance(node.op, ast.Mult) and isinstance(node.right.op, (ast.Mult, ast.Div))
    ) if isinstance(node.right, ast.BinOp) else False
    if right_precedence < precedence or (right_precedence == precedence and not associative):
        right = f"({right})"
    return (left + _SIGN[type(node.op)] + right, precedence)
