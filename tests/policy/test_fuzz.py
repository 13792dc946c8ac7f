"""Mutated policy files: the loader answers with a PolicySet or located diagnostics, never a traceback."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appveto.errors import PolicyError
from appveto.policy.lint import lint
from appveto.policy.load import load_documents
from appveto.policy.resolve import resolve_all
from appveto.policy.timeline import timeline

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"
DECISIONS = sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "authorities.yaml")
PARENTS = ("be-federal-tiktok.yaml", "us-no-tiktok-act.yaml")
HOSTILE = [
    "",
    "[",
    "]",
    "{a: 1}",
    "- x",
    "*nope",
    "&a b",
    "!!binary aGk=",
    "2023-13-45",
    "null",
    "~",
    "-1",
    "1e999",
    "'\\x00'",
    "\t",
    "x" * 5000,
    "true",
    "2023-03-10T10:00:00Z",
    "[[[[[[]]]]]]",
    "? a",
    "|",
    "'unterminated",
    "@",
    "`",
    "%YAML 1.1",
    "---",
    "...",
]


def _mutate(text: str, ops: list[tuple[int, int, int, str]]) -> str:
    lines = text.splitlines()
    for op, where, pick, extra in ops:
        if not lines:
            break
        i = where % len(lines)
        line = lines[i]
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, line)
        elif op == 2 and ":" in line:
            key = line.split(":", 1)[0]
            lines[i] = f"{key}: {HOSTILE[pick % len(HOSTILE)]}"
        elif op == 3:
            lines[i] = " " * (pick % 6) + line.lstrip()
        else:
            cut = pick % (len(line) + 1)
            lines[i] = line[:cut] + extra + line[cut:]
    return "\n".join(lines) + "\n"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    which=st.integers(min_value=0, max_value=len(DECISIONS) - 1),
    ops=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 200), st.integers(0, 100), st.text(max_size=8)),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_examples_never_crash(
    tmp_path: Path, which: int, ops: list[tuple[int, int, int, str]]
) -> None:
    target = tmp_path / "decision.yaml"
    target.write_text(_mutate(DECISIONS[which].read_text(encoding="utf-8"), ops), encoding="utf-8")
    files = [(EXAMPLES / "authorities.yaml", "authorities.yaml"), (target, "decision.yaml")]
    for name in PARENTS:  # the decisions others follow, so that valid mutations still load
        if EXAMPLES / name != DECISIONS[which]:
            files.append((EXAMPLES / name, name))
    try:
        policies = load_documents(files)
    except PolicyError as exc:
        diags = exc.diagnostics()
        assert diags
        for d in diags:
            assert d.message and d.file is not None, str(d)
            assert str(d)
        return
    for at in (date(2022, 1, 1), date(2023, 6, 1), date(2030, 1, 1)):
        resolve_all(policies, at=at)
        lint(policies, at=at)
        timeline(policies, start=at, days=400)
