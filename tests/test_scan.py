"""scan_apk / scan_many (the one scan use case and batch engine): failures are values, bad
files are records with an error, never an abort."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appveto.checks import registry
from appveto.findings import Finding
from appveto.kb import load_baseline
from appveto.scan import analyse, scan_many
from tests.checks.factory import make_apk
from tests.conftest import corpus_apk

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def test_crashing_check_is_a_failure_value(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = registry.get_check("AV-MAN-001")
    assert spec is not None

    def boom(apk: object, kb: object) -> Iterator[Finding]:
        raise RuntimeError("bug")
        yield  # pragma: no cover

    monkeypatch.setitem(
        registry._REGISTRY,
        spec.id,
        registry.Check(**{**{f: getattr(spec, f) for f in spec.__dataclass_fields__}, "func": boom}),
    )
    r = analyse(make_apk(), load_baseline(), now=NOW)
    assert [f.check_id for f in r.failures] == ["AV-MAN-001"]
    assert "RuntimeError: bug" in r.failures[0].error
    assert r.score is not None


def test_result_is_json_ready_and_sorted() -> None:
    r = analyse(make_apk(), load_baseline(), now=NOW)
    d = r.model_dump(mode="json")
    json.dumps(d)
    assert set(d) >= {
        "findings",
        "coverage",
        "permission_verdicts",
        "trackers",
        "endpoints",
        "score",
        "datasets",
    }
    assert r.ok and r.error is None
    assert list(r.findings) == sorted(r.findings, key=Finding.sort_key)


def test_scan_many_records_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.apk"
    bad.write_bytes(b"not a zip at all")
    good = corpus_apk("fdroid-souch-smsbypass.apk")
    zipish = tmp_path / "zipish.apk"
    zipish.write_bytes(b"PK\x03\x04 not really")
    paths = [str(bad), str(good), str(tmp_path / "absent.apk"), str(zipish)]
    res = scan_many(paths, load_baseline(), now=NOW)
    assert [r.file for r in res] == paths  # one record per input, in input order
    assert [r.ok for r in res] == [False, True, False, False]
    for r in (res[0], res[2], res[3]):
        assert r.error and Path(r.file).name in r.error and r.score is None and not r.findings


def test_scan_many_process_pool_matches_serial() -> None:
    paths = [str(corpus_apk(n)) for n in ("fdroid-souch-smsbypass.apk", "quark-ahmyth-rat.apk")]
    kb = load_baseline()
    a = scan_many(paths, kb, now=NOW, workers=1)
    b = scan_many(paths, kb, now=NOW, workers=2)
    assert all(r.ok for r in a)
    assert [r.model_dump() for r in a] == [r.model_dump() for r in b]


def _die_on_marker(path: str) -> object:
    import os

    from appveto import scan

    if path.endswith("die.apk"):
        os._exit(3)  # a worker killed mid-scan (OOM killer, segfault in a C extension)
    kb, now = scan._WORKER_STATE[0]
    return scan.scan_apk(path, kb, now=now)


def test_a_dying_worker_costs_only_its_own_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import multiprocessing

    from appveto import scan

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("needs the fork start method to inject the dying worker")
    monkeypatch.setattr(scan, "_scan_job", _die_on_marker)
    good = str(corpus_apk("fdroid-souch-smsbypass.apk"))
    die = tmp_path / "die.apk"
    die.write_bytes(b"x")
    paths = [good, str(die), good, good]
    res = scan_many(paths, load_baseline(), now=NOW, workers=2)
    assert [r.file for r in res] == paths
    assert [r.ok for r in res] == [True, False, True, True]
    assert res[1].error is not None and "died" in res[1].error and "die.apk" in res[1].error


def test_a_scan_never_opens_a_network_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    from appveto.scan import scan_apk

    r = scan_apk(str(corpus_apk("exodus-instapaper-trackers.apk")), load_baseline(), now=NOW)
    assert r.ok and r.endpoints and r.trackers
