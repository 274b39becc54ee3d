"""No function in core/ or plugins/ runs past 60 lines without its reason written above it."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 60
# How far above the `def` (or its first decorator) a `# long: <reason>` comment may sit.
REASON_REACH = 3


def _functions(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _has_reason(lines, node):
    first = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
    above = lines[max(0, first - 1 - REASON_REACH):first - 1]
    return any(line.strip().startswith("# long:") and line.strip()[len("# long:"):].strip()
               for line in above)


def long_functions_without_reason(base=ROOT, roots=("core", "plugins")):
    """file:line name length of each function over LIMIT lines with no reason written above it."""
    found = []
    for root in roots:
        for path in sorted((base / root).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            for node in _functions(ast.parse(source, filename=str(path))):
                length = node.end_lineno - node.lineno + 1
                where = path.relative_to(base).as_posix()
                if length > LIMIT and not _has_reason(lines, node):
                    found.append(f"{where}:{node.lineno} {node.name} {length}")
    return found


def test_every_long_function_says_why():
    found = long_functions_without_reason()
    assert not found, (f"functions over {LIMIT} lines with no '# long: <reason>' in the "
                       f"{REASON_REACH} lines above the def:\n" + "\n".join(found))


def test_the_check_finds_a_long_function_and_accepts_its_reason(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))  # with the def: LIMIT + 1 lines
    short = "\n".join(f"    x{i} = {i}" for i in range(LIMIT - 1))  # LIMIT lines: allowed
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "module.py").write_text(
        f"def bare():\n{body}\n\n\n"
        f"# long: a table of declarations\n@decorator\ndef told():\n{body}\n\n\n"
        f"# long:\ndef empty_reason():\n{body}\n\n\n"
        f"def short():\n{short}\n", encoding="utf-8")
    empty_at = 2 * (LIMIT + 1) + 8  # bare, 2 blank, comment, decorator, told, 2 blank, comment
    assert long_functions_without_reason(tmp_path, ("core",)) == [
        f"core/module.py:1 bare {LIMIT + 1}", f"core/module.py:{empty_at} empty_reason {LIMIT + 1}"]
