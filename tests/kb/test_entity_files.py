"""``data status --entities``: user entity files are validated as the baseline's own, and
what they say reaches the terminal escaped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appveto.cli.main import main


def _entities(path: Path, domains: list[str], about: dict[str, str] | None = None) -> Path:
    doc = {"entities": [{"name": "Example", "country": "BE", "domains": domains}]}
    if about is not None:
        doc["about"] = about  # type: ignore[assignment]
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "bad", ["a b", "*.x", "example.com\nevil.example", "https://example.com", "x", "-a.com"]
)
def test_a_bad_domain_is_refused_with_its_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    f = _entities(tmp_path / "mine.json", ["ok.example", bad])
    assert main(["data", "--data-dir", str(tmp_path), "status", "--entities", str(f)]) == 2
    err = capsys.readouterr().err
    assert "mine.json" in err and "entities[0].domains[1]" in err and "not a domain name" in err
    assert err.count("\n") == 1  # one line: a newline in the value did not forge another


def test_a_good_file_is_listed_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    about = {"name": "mine\x1b[2J\u202e", "source": "here\r\nFAKE", "licence": "CC0", "date": "2024"}
    f = _entities(tmp_path / "mine.json", ["Example.COM", "xn--bcher-kva.example"], about)
    assert main(["data", "--data-dir", str(tmp_path), "status", "--entities", str(f)]) == 0
    out = capsys.readouterr().out
    assert "mine\\x1b[2J\\u202e [user] 1 records" in out and "source here\\r\\nFAKE" in out
    assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
    assert not any(line.startswith("FAKE") for line in out.splitlines())
