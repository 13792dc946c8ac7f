"""Snapshot tests: every target on every test decision and on examples/policies renders
byte for byte to the reviewed file under ``golden/``.

A changed output (or a changed input policy) fails with the diff: it never skips. After an
intended change, ``make goldens`` regenerates the snapshots; review the diff in the commit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from appveto.errors import ExportError
from appveto.export.adapter import targets_from_policies
from appveto.export.bundle import build_bundle
from appveto.policy.load import load_policies
from tests.conftest import REPO
from tests.export.fixtures import AT, POLICIES
from tests.goldens import UPDATE, assert_golden

GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = REPO / "examples" / "policies"
EXAMPLES_AT = date(2023, 4, 15)
GENERATOR = "appveto golden"


def _bundle(folder: Path, at: date) -> dict[str, bytes]:
    targets, skipped = targets_from_policies(load_policies(folder), at=at, generator=GENERATOR)
    return dict(build_bundle(targets, generator=GENERATOR, skipped_decisions=skipped).files)


def _cases() -> list[object]:
    # both inputs are in the repository: neither case depends on anything outside it
    return [
        pytest.param(POLICIES, AT, "test-policies", id="test-policies"),
        pytest.param(EXAMPLES, EXAMPLES_AT, "examples", id="examples"),
    ]


@pytest.mark.parametrize(("folder", "at", "name"), _cases())
def test_every_target_matches_its_snapshot(folder: Path, at: date, name: str) -> None:
    files = _bundle(folder, at)
    root = GOLDEN / name
    if UPDATE:
        for old in sorted(root.rglob("*"), reverse=True) if root.exists() else []:
            old.unlink() if old.is_file() else old.rmdir()
    stored = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    if not UPDATE:
        assert stored == sorted(files), (
            f"files added {sorted(set(files) - set(stored))} or gone {sorted(set(stored) - set(files))}: "
            "run `make goldens` and review the diff"
        )
    failures: list[str] = []
    for rel, content in sorted(files.items()):
        try:
            assert_golden(root / rel, content, f"{name}/{rel}")
        except pytest.fail.Exception as exc:
            failures.append(str(exc))
    if failures:
        pytest.fail(f"{len(failures)} of {len(files)} files changed:\n" + "\n".join(failures), pytrace=False)


def test_test_policies_cover_every_target() -> None:
    from appveto.export.registry import EXPORTERS

    files = _bundle(POLICIES, AT)
    for decision in ("test-parl-networks", "test-family"):
        for exporter_name in EXPORTERS:
            assert any(
                rel.startswith(f"{decision}/") and exporter_name_matches(rel, exporter_name) for rel in files
            ), (decision, exporter_name)


def exporter_name_matches(rel: str, exporter_name: str) -> bool:
    suffix = {
        "amapi": ".amapi-policy.json",
        "apple": ".mobileconfig",
        "intune": ".intune-ios-restrictions.json",
        "intune-compliance": ".intune-ios-compliance.beta.json",
        "headwind": ".headwind-applications.json",
        "hosts": ".hosts",
        "dnsmasq": ".dnsmasq.conf",
        "unbound": ".unbound.conf",
        "rpz": ".rpz.zone",
        "adguard": ".adguard.txt",
        "pihole": ".pihole-regex.txt",
    }[exporter_name]
    return rel.endswith(suffix)


def test_output_is_byte_stable_and_order_independent(tmp_path: Path) -> None:
    first = _bundle(POLICIES, AT)
    # The same files in another folder, listed in another order, give the same bytes.
    copy = tmp_path / "p"
    copy.mkdir()
    for i, src in enumerate(sorted(POLICIES.glob("*.yaml"), reverse=True)):
        (copy / f"{i:02d}-{src.name}").write_bytes(src.read_bytes())
    assert _bundle(copy, AT) == first


def test_another_date_changes_only_what_depends_on_it() -> None:
    a = _bundle(POLICIES, AT)
    b = _bundle(POLICIES, date(2023, 4, 2))
    assert a.keys() == b.keys()
    rpz = "test-parl-networks/test-parl-networks.rpz.zone"
    assert b"2023040101" in a[rpz] and b"2023040201" in b[rpz]
    # JSON bodies carry no date: they are identical.
    for rel in a:
        if rel.endswith(".json"):
            assert a[rel] == b[rel], rel


def test_readme_lists_every_file_and_every_skip() -> None:
    files = _bundle(POLICIES, AT)
    readme = files["README.md"].decode()
    for rel in files:
        if rel != "README.md":
            assert f"`{rel}`" in readme
    # The device-only decision has no network zone: its DNS targets are recorded skips.
    assert "test-fed-devices" in readme and "names no network zone" in readme
    # The expired decision is listed as not exported, with the reason.
    assert "test-expired: expired on 2022-07-01" in readme
    assert "akamaihd.net" in readme  # a shared CDN left out, with why


def test_expired_decision_is_not_exported() -> None:
    targets, skipped = targets_from_policies(load_policies(POLICIES), at=AT, generator=GENERATOR)
    assert "test-expired" not in {t.decision_id for t in targets}
    assert [d for d, _ in skipped] == ["test-expired"]
    with pytest.raises(ExportError, match="no decision 'nope'"):
        targets_from_policies(load_policies(POLICIES), at=AT, generator=GENERATOR, decision_ids=["nope"])
