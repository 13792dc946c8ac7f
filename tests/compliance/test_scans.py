"""compliance.scans: what an evaluation takes from a scan record."""

from __future__ import annotations

from appveto.compliance.scans import scan_facts
from appveto.scan import ScanRecord, error_record
from appveto.scoring import score


def test_unreadable_or_nameless_scans_give_nothing_to_match() -> None:
    assert scan_facts(error_record("dir/x.apk", "dir/x.apk: not a zip archive")) is None
    assert scan_facts(ScanRecord(file="dir/x.apk", error=None)) is None


def test_signers_are_bare_lower_hex_and_findings_unique() -> None:
    signer = {
        "schemes": ["v2"],
        "cert_sha256": "AB:CD:EF",
        "cert_sha1": "00",
        "subject": "CN=x",
        "issuer": "CN=x",
        "organization": None,
        "country": None,
        "serial": 1,
        "not_before": "2020-01-01",
        "not_after": "2030-01-01",
        "key_algorithm": "RSA",
        "key_size": 2048,
        "signature_algorithm": "sha256WithRSAEncryption",
        "self_signed": True,
        "min_sdk": None,
        "max_sdk": None,
    }
    rec = ScanRecord.model_validate(
        {"file": "a\\b/c.apk", "error": None, "package": "org.x", "signers": [signer]}
    )
    facts = scan_facts(rec)
    assert facts is not None
    assert facts.package == "org.x" and facts.signer_sha256 == ("abcdef",)
    assert facts.source == "c.apk" and facts.score is None and facts.findings == ()
    scored = rec.model_copy(update={"score": score([], weighting=lambda _cid: None)})
    again = scan_facts(scored)
    assert again is not None and again.score == 0
