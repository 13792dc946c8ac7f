"""Docs are generated from docstrings (stale pages fail); the CLI commands work."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from appveto.checks.docs import render_all
from appveto.checks.registry import HEADINGS, RegistryError, Severity, Status, Subscore, all_checks, check

REPO = Path(__file__).resolve().parent.parent.parent


def test_ids_slugs_and_headings() -> None:
    checks = all_checks()
    assert len({c.id for c in checks}) == len(checks)
    assert len({c.slug for c in checks}) == len(checks)
    for c in checks:
        if c.status is Status.ACTIVE:
            sections = c.sections()
            for h in HEADINGS:
                assert sections.get(h), f"{c.id}: empty section {h}"


def test_docs_folder_is_current() -> None:
    folder = REPO / "docs" / "checks"
    pages = render_all(all_checks())
    stale = [
        n
        for n, text in pages.items()
        if not (folder / n).is_file() or (folder / n).read_text("utf-8") != text
    ]
    assert not stale, f"run 'appveto checks docs --output docs/checks': stale {stale}"
    extra = {p.name for p in folder.glob("*.md")} - set(pages)
    assert not extra, f"pages of unknown checks: {sorted(extra)}"


def test_registry_rejects_bad_definitions() -> None:
    def fn(apk: object, kb: object):  # type: ignore[no-untyped-def]
        """No headings here."""
        yield from ()

    with pytest.raises(RegistryError, match="heading"):
        check("AV-MAN-900", "zz-no-headings", "t", Severity.LOW, subscore=Subscore.HYGIENE)(fn)  # type: ignore[arg-type]
    with pytest.raises(RegistryError, match="AV-<FAMILY>-<NNN>"):
        check("AV-XYZ-1", "zz-bad-id", "t", Severity.LOW, subscore=Subscore.HYGIENE)(fn)  # type: ignore[arg-type]
    with pytest.raises(RegistryError, match="registered twice"):
        check("AV-MAN-001", "zz-dup", "t", Severity.LOW, subscore=Subscore.HYGIENE)(fn)  # type: ignore[arg-type]


def _run(argv: list[str]) -> int:
    from appveto.cli import checks_cmd, data_cmd
    from appveto.cli.main import _Parser

    p = _Parser(prog="appveto")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    checks_cmd.register(sub)
    data_cmd.register(sub)
    args: argparse.Namespace = p.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_checks_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["checks"]) == 0
    out = capsys.readouterr().out
    assert "AV-PERM-001" in out and "AV-TAMP-001" in out
    assert _run(["checks", "show", "av-perm-001"]) == 0
    assert "## Why it matters" in capsys.readouterr().out
    assert _run(["checks", "show", "dangerous-permission-used"]) == 0


def test_checks_show_unknown_is_an_error() -> None:
    from appveto.errors import AppvetoError

    with pytest.raises(AppvetoError, match="unknown check"):
        _run(["checks", "show", "AV-NOPE-000"])


def test_checks_docs_writes_and_checks(tmp_path: Path) -> None:
    out = tmp_path / "checks"
    assert _run(["checks", "docs", "--output", str(out), "--check"]) == 1
    assert _run(["checks", "docs", "--output", str(out)]) == 0
    assert (out / "README.md").is_file() and (out / "AV-SIG-002.md").is_file()
    assert _run(["checks", "docs", "--output", str(out), "--check"]) == 0


def test_data_status_lists_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["data", "--data-dir", str(tmp_path), "status"]) == 0
    out = capsys.readouterr().out
    assert "appveto-baseline-trackers [baseline]" in out and "sha256" in out


def test_data_status_validates_user_entities(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from appveto.errors import AppvetoError

    good = tmp_path / "ours.json"
    good.write_text(
        '{"about": {"name": "office-entities", "source": "our registry", "licence": "internal",'
        ' "date": "2026-11"},'
        ' "entities": [{"name": "Example Cloud SA", "country": "BE", "domains": ["example-cloud.be"]}]}'
    )
    assert _run(["data", "--data-dir", str(tmp_path), "status", "--entities", str(good)]) == 0
    assert "office-entities [user] 1 records" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text('{"entities": [{"name": "X", "country": "Belgium", "domains": []}]}')
    with pytest.raises(AppvetoError, match="ISO 3166"):
        _run(["data", "--data-dir", str(tmp_path), "status", "--entities", str(bad)])
