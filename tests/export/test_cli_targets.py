"""``appveto export --help`` lists the targets from the export registry, never by hand."""

from __future__ import annotations

from appveto.cli.main import build_parser
from appveto.export.registry import EXPORTERS


def test_help_names_every_target_with_its_title() -> None:
    export = build_parser()._subparsers._group_actions[0].choices["export"]  # type: ignore[union-attr]
    text = " ".join(export.format_help().split())
    for e in EXPORTERS.values():
        assert f"{e.name}: {e.title.split(' (')[0]}" in text
