"""A hand-built decision shared by the export tests (loopback zone ranges for the e2e test)."""

from __future__ import annotations

from datetime import date

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
