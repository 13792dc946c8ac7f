"""Endpoints and trackers of hidden code: what only a decoded payload (or the app's own
string decoder) shows is reported, and marked as coming from hidden code."""

from __future__ import annotations

import base64
from pathlib import Path

from appveto.apk import load_apk
from appveto.apk.model import Apk
from appveto.checks.endpoints import EndpointSource, endpoints
from appveto.checks.registry import active_checks
from appveto.checks.sdk import match_trackers
from appveto.kb import load_baseline
from tests.apkbuilder import ApkSpec, ClassSpec, build_apk, build_dex
from tests.checks.test_hidden_code import _reflective_loader

KB = load_baseline()
PAYLOAD = build_dex(
    (
        ClassSpec("Lpay/Gate;", strings=("https://c2.hidden-gate.net/beacon", "185.199.108.153")),
        ClassSpec("Lorg/acra/ACRA;"),
    )
)


def _apk(tmp_path: Path, entries: dict[str, bytes]) -> Apk:
    classes = (ClassSpec("Lcom/example/dropper/Boot;", code=(_reflective_loader(),)),)
    raw = build_apk(ApkSpec("com.example.dropper", classes=classes, extra_entries=entries, sign=None))
    path = tmp_path / "app.apk"
    path.write_bytes(raw)
    return load_apk(str(path))


def test_endpoints_of_a_decoded_payload_are_reported_as_hidden_code(tmp_path: Path) -> None:
    apk = _apk(tmp_path, {"assets/payload.bin": base64.b64encode(PAYLOAD)})
    eps = {e.host: e for e in endpoints(apk)}
    for host in ("c2.hidden-gate.net", "185.199.108.153"):
        ep = eps[host]
        assert ep.sources == (EndpointSource.HIDDEN,)
        (ev,) = ep.evidence
        assert ev.location.entry == "assets/payload.bin"
        assert ev.note is not None and ev.note.endswith(
            "in hidden code decoded from assets/payload.bin (base64)"
        )
    assert eps["185.199.108.153"].ip_literal
    assert eps["c2.hidden-gate.net"].urls == ("https://c2.hidden-gate.net/beacon",)


def test_a_tracker_loaded_from_hidden_code_is_embedded_and_says_so(tmp_path: Path) -> None:
    apk = _apk(tmp_path, {"assets/payload.bin": base64.b64encode(PAYLOAD)})
    (m,) = [m for m in match_trackers(apk, KB) if m.tracker.name == "ACRA"]
    assert (m.class_count, m.hidden_count, m.classes) == (1, 1, ("org.acra.ACRA",))
    (ev,) = m.evidence
    assert (
        ev.note == "matches code signature of ACRA, in hidden code decoded from assets/payload.bin (base64)"
    )
    (check,) = [c for c in active_checks() if c.id == "AV-TRK-001"]
    assert check.func is not None
    titles = [f.message for f in check.func(apk, KB) if f.subject == "ACRA"]
    assert len(titles) == 1 and "1 class(es) present, 1 of them in hidden code" in titles[0]


def test_without_the_payload_none_of_it_is_there(tmp_path: Path) -> None:
    apk = _apk(tmp_path, {"assets/readme.txt": b"plain text, no code\n"})
    hosts = {e.host for e in endpoints(apk)}
    assert not {"c2.hidden-gate.net", "185.199.108.153"} & hosts
    assert not [m for m in match_trackers(apk, KB) if m.tracker.name == "ACRA"]
