"""Every corpus APK, scanned once: SARIF against the OASIS schema, JSON against appveto's
own schema, HTML self-contained and well nested."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appveto.report.html import render_html
from appveto.report.json_report import render_json
from appveto.report.sarif import render_sarif
from tests.conftest import corpus_params
from tests.report.helpers import record
from tests.report.test_html import check
from tests.report.test_sarif import errors, own_validator, sarif_validator


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_every_corpus_apk(corpus_file: Path) -> None:
    rec = record(corpus_file.name)
    log = json.loads(render_sarif([rec]))
    assert errors(sarif_validator(), log) == []
    assert errors(own_validator(), json.loads(render_json([rec]))) == []
    run = log["runs"][0]
    assert run["artifacts"][0]["location"]["uri"] == corpus_file.name
    assert len(run["results"]) == len(rec.findings)
    html = render_html([rec])
    tags = check(html).tags
    if rec.error is None:
        assert tags["h1"] == 1 and tags["table"] >= 8
        assert rec.sha256 and rec.sha256 in html
