"""One registry renders every document: the CLI's --format choices come from it, no command
renders by itself, and a new format is a module of appveto/report (found by the registry)."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest

from appveto.report import registry
from appveto.report.registry import DOCUMENTS, Choices, formats, get, renderers

SRC = Path(__file__).resolve().parents[2] / "src" / "appveto"


def _parsers(p: argparse.ArgumentParser, path: str = "appveto") -> list[tuple[str, argparse.ArgumentParser]]:
    out = [(path, p)]
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sub in a.choices.items():
                out += _parsers(sub, f"{path} {name}")
    return out


def test_every_format_option_of_the_cli_comes_from_the_registry() -> None:
    from appveto.cli.main import build_parser

    seen = set()
    for path, p in _parsers(build_parser()):
        for a in p._actions:
            if a.dest == "format" and not path.endswith(" import"):  # import: the format of an input
                assert isinstance(a.choices, Choices), f"{path} --format: choices not from the registry"
                assert tuple(a.choices) == formats(a.choices.document)
                assert a.default in a.choices
                seen.add(a.choices.document)
    # every document a command renders in a chosen format
    assert seen == set(DOCUMENTS) - {"explain", "notice"}


def test_every_document_has_renderers_and_each_is_described() -> None:
    for d in DOCUMENTS:
        assert formats(d), d
    for (d, f), r in renderers().items():
        assert (r.document, r.format) == (d, f)
        assert r.media_type and r.extension and r.description
    # at least these (a new format adds itself; none is listed here to be kept in step)
    assert {"text", "json", "sarif", "html", "pdf"} <= set(formats("scan"))
    assert {"text", "json", "csv", "html", "pdf"} <= set(formats("evaluation"))
    assert {"markdown", "eml"} <= set(formats("notice"))
    assert all(formats(d)[0] == "text" for d in DOCUMENTS if "text" in formats(d))


def test_a_renderer_module_is_found_without_being_named_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 2-file rule: every module of appveto/report that registers a renderer is loaded by
    the registry itself (no list of modules to keep in step)."""
    declaring = {
        p.stem for p in (SRC / "report").glob("*.py") if "@renderer(" in p.read_text(encoding="utf-8")
    }
    declaring.add("pdf")  # registers through a call
    loaded = {r.render.__module__.rsplit(".", 1)[-1] for r in renderers().values()}
    assert loaded == declaring
    # and a renderer registered later is a CLI choice at once
    monkeypatch.setitem(registry._REGISTRY, ("scan", "zz-test"), get("scan", "json"))
    assert "zz-test" in registry.choices("scan") and formats("scan")[-1] == "zz-test"


def test_options_go_only_to_renderers_that_take_them() -> None:
    r = get("timeline", "text")
    assert r.options == ("start", "days")
    from datetime import date

    out = registry.render("timeline", "text", [], start=date(2024, 1, 1), days=3, sender="ignored")
    assert out == "0 events from 2024-01-01 over 3 days"
    with pytest.raises(KeyError, match="no yaml renderer for scan"):
        get("scan", "yaml")


def test_no_command_renders_a_document_itself() -> None:
    """No renderer functions, renderer tables or if/elif chains on --format in cli/."""
    for path in sorted((SRC / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                assert not node.name.startswith(("render", "_render")), f"{path.name}: {node.name}"
            if isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                assert "RENDERERS" not in names and "FORMATS" not in names, path.name
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute):
                assert node.left.attr != "format", f"{path.name}:{node.lineno}: a branch on --format"
