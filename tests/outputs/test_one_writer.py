"""No code writes a file around the one writer (DESIGN.md convention 12).

Every write primitive in ``src/appveto`` (``open`` for writing, ``Path.write_text`` and
``write_bytes``, ``os.open``/``os.replace``/``os.rename``, ``shutil`` copies, temporary
files, archive extraction) is listed here by an AST walk; outside
``appveto/outputs/files.py`` each must be in :data:`ALLOWED` with the reason it is not an
output. tests/test_hostile_world.py checks the same at run time, command by command: every
file that appears or changes went through the writer.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "appveto"

ALLOWED = {
    ("policy/load.py", "write_text"): "load_policy_text: scratch copies in a private TemporaryDirectory",
    (
        "cli/policy_cmd.py",
        "extractall",
    ): "policy diff --rev: git archive unpacked in a private TemporaryDirectory",
}

_CALLS = {
    "write_text",
    "write_bytes",
    "replace",
    "rename",
    "renames",
    "copy",
    "copy2",
    "copyfile",
    "copytree",
    "move",
    "mkstemp",
    "NamedTemporaryFile",
    "extractall",
    "extract",
}
_MODULE_CALLS = {"os": {"open", "replace", "rename", "renames", "link"}, "shutil": _CALLS, "tempfile": _CALLS}


def _writes(node: ast.Call) -> str | None:
    f = node.func
    if isinstance(f, ast.Name) and f.id == "open":
        return "open" if _write_mode(node, 1) else None
    if not isinstance(f, ast.Attribute):
        return None
    if (
        isinstance(f, ast.Attribute)
        and isinstance(f.value, ast.Name)
        and f.value.id == "os"
        and f.attr == "open"
    ):
        return "os.open" if _write_flags(node) else None
    if isinstance(f.value, ast.Name) and f.value.id in _MODULE_CALLS:
        return f.attr if f.attr in _MODULE_CALLS[f.value.id] else None
    if f.attr == "open":  # Path.open(mode)
        return "open" if _write_mode(node, 0) else None
    if f.attr in ("write_text", "write_bytes", "extractall", "extract", "fdopen"):
        return f.attr if f.attr != "fdopen" or _write_mode(node, 1) else None
    return None


_WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC"}


def _write_flags(node: ast.Call) -> bool:
    """``os.open`` flags that may write: any write flag named, or flags not spelled out."""
    if len(node.args) < 2:
        return True
    names = {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
    names |= {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
    return bool(names & _WRITE_FLAGS) or not any(n.startswith("O_") for n in names)


def _write_mode(node: ast.Call, position: int) -> bool:
    mode = node.args[position] if len(node.args) > position else None
    for kw in node.keywords:
        if kw.arg == "mode":
            mode = kw.value
    return (
        isinstance(mode, ast.Constant)
        and isinstance(mode.value, str)
        and any(c in mode.value for c in "wax+")
    )


def test_nothing_writes_around_the_one_writer() -> None:
    found: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "outputs/files.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            what = _writes(node) if isinstance(node, ast.Call) else None
            if what is not None and (rel, what) not in ALLOWED:
                found.append(f"{rel}:{node.lineno}: {what}")
    assert not found, "files written around appveto.outputs.files:\n" + "\n".join(found)


def test_the_walk_sees_write_primitives() -> None:
    """The check itself: it finds each kind of write it is meant to find."""
    code = (
        "open(p, 'w'); p.open('a'); p.write_text(x); os.replace(a, b); shutil.copy2(a, b);"
        "tempfile.mkstemp(); tar.extractall(d); os.open(p, flags); open(p); p.open();"
        "os.open(p, os.O_WRONLY | os.O_CREAT); os.open(p, os.O_RDONLY | os.O_NONBLOCK)"
    )
    calls = [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call)]
    hits = [w for n in calls if (w := _writes(n)) is not None]
    expected = [
        "open",
        "open",
        "write_text",
        "replace",
        "copy2",
        "mkstemp",
        "extractall",
        "os.open",
        "os.open",
    ]
    assert sorted(hits) == sorted(expected)
