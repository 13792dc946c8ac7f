"""A hand-built decision shared by the export tests (loopback zone ranges for the e2e test)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from appveto.export.target import (
    App,
    BlockedDomain,
    DomainOrigin,
    EnforcementTarget,
    LeftOutDomain,
    Zone,
    parse_network,
)

BANNED = ("tiktok.com", "tiktokv.com", "byteoversea.com")


def sample_target(**overrides: object) -> EnforcementTarget:
    values: dict[str, object] = {
        "decision_id": "TEST-BAN-2023",
        "title": "Test ban of TikTok on the parliament networks",
        "authority": "Test Parliament",
        "at": date(2023, 4, 1),
        "generator": "appveto 0.0.0-test",
        "effective": date(2023, 3, 15),
        "expires": date(2023, 9, 15),
        "term": "6 months, evaluated next session",
        "apps": (
            App("android", "com.zhiliaoapp.musically", "TikTok", "TikTok Pte. Ltd."),
            App("android", "com.ss.android.ugc.trill", "TikTok", "TikTok Pte. Ltd."),
            App("ios", "com.zhiliaoapp.musically", "TikTok", "TikTok Pte. Ltd."),
        ),
        "domains": tuple(
            BlockedDomain(d, "ByteDance Ltd.", DomainOrigin.VENDOR, "test table") for d in BANNED
        ),
        "left_out": (LeftOutDomain("akamaized.net", "Akamai CDN shared by unrelated sites"),),
        "zones": (
            Zone("staff", (parse_network("127.0.0.2/32"), parse_network("10.20.0.0/16"))),
            Zone("visitor-wifi", (parse_network("127.0.0.4/32"),), ssids=("Parliament-Guest",)),
        ),
        "source_file": "policies/test.yaml",
    }
    values.update(overrides)
    return EnforcementTarget(**values)  # type: ignore[arg-type]


POLICIES = Path(__file__).resolve().parent / "policies"
AT = date(2023, 4, 1)
"""A date on which every test decision but the expired one is in force."""


def policy_targets(at: date = AT) -> dict[str, EnforcementTarget]:
    """The test policy folder's decisions as enforcement targets, by decision id."""
    from appveto.export.adapter import targets_from_policies
    from appveto.policy.load import load_policies

    targets, _ = targets_from_policies(load_policies(POLICIES), at=at, generator="appveto test")
    return {t.decision_id: t for t in targets}
