"""The README's security model names, beside each statement, the tests that check it: every
test named there exists, and every statement names at least one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_REF = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+))?|::(\w+)")


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Security model")
    return text[start : text.index("\n## ", start + 1)]


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def test_every_test_the_security_model_names_exists() -> None:
    refs = 0
    current: Path | None = None
    for m in _REF.finditer(_section()):
        if m.group(1):
            current = ROOT / m.group(1)
            assert current.is_file(), f"README names {m.group(1)}, which does not exist"
        name = m.group(2) or m.group(3)
        if name:
            assert current is not None, f"::{name} before any test file"
            assert name in _functions(current), (
                f"README names {current.relative_to(ROOT)}::{name}, which does not exist"
            )
        refs += 1
    assert refs >= 30


def test_every_statement_names_its_tests() -> None:
    items = re.split(r"\n(?=- \*\*|  - \*)", _section())[1:]
    assert len(items) >= 12
    for item, following in zip(items, [*items[1:], ""], strict=True):
        if item.startswith("- **") and following.startswith("  - *") and not _REF.search(item):
            continue  # a heading whose statements are the sub-items that follow it
        assert _REF.search(item), f"no test named for: {item.split(chr(10), 1)[0]}"
