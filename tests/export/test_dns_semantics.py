"""What each DNS file matches, checked by the format's own matching rules."""

from __future__ import annotations

import json
import re

from appveto.export.registry import EXPORTERS
from tests.export.fixtures import BANNED, sample_target


def _lines(target_name: str, comment: str) -> list[str]:
    text = EXPORTERS[target_name].export(sample_target()).content.decode()
    return [x for x in text.splitlines() if x and not x.startswith(comment)]


def test_pihole_regexes_match_domain_and_subdomains_only() -> None:
    patterns = [re.compile(p) for p in _lines("pihole", "#")]
    assert len(patterns) == len(BANNED)

    def blocked(name: str) -> bool:
        return any(p.search(name) for p in patterns)

    for d in BANNED:
        assert blocked(d) and blocked(f"www.{d}") and blocked(f"a.b.c.{d}")
        assert not blocked(f"not{d}") and not blocked(f"{d}.evil.example")
    assert not blocked("facebook.com")


def test_hosts_lists_exact_names_and_says_subdomains_are_not_covered() -> None:
    text = EXPORTERS["hosts"].export(sample_target()).content.decode()
    entries = [x.split() for x in text.splitlines() if x and not x.startswith("#")]
    assert {addr for addr, _ in entries} == {"0.0.0.0", "::"}
    assert {name for _, name in entries} == {n for d in BANNED for n in (d, f"www.{d}")}
    assert "subdomains are NOT blocked" in text


def test_dnsmasq_one_address_line_per_domain() -> None:
    assert sorted(_lines("dnsmasq", "#")) == sorted(f"address=/{d}/" for d in BANNED)


def test_adguard_rules_scoped_to_all_zone_ranges() -> None:
    rules = _lines("adguard", "!")
    assert len(rules) == len(BANNED)
    for rule in rules:
        m = re.fullmatch(r"\|\|([a-z0-9.-]+)\^\$client=(.+)", rule)
        assert m is not None and m.group(1) in BANNED
        assert m.group(2).split("|") == ["127.0.0.2/32", "10.20.0.0/16", "127.0.0.4/32"]


def test_unbound_tags_every_zone_range_and_every_domain() -> None:
    lines = [x.strip() for x in _lines("unbound", "#")]
    tags = re.findall(r'"([^"]+)"', next(x for x in lines if x.startswith("define-tag:")))[0].split()
    assert len(tags) == 2
    acl = [x for x in lines if x.startswith("access-control-tag:")]
    assert len(acl) == 3
    zones = [x for x in lines if x.startswith("local-zone:")]
    assert sorted(zones) == sorted(f'local-zone: "{d}." always_nxdomain' for d in BANNED)
    for x in lines:
        if x.startswith("local-zone-tag:"):
            assert set(re.findall(r'"([^"]+)"', x)[1].split()) == set(tags)


def test_headwind_entries_use_the_remove_action() -> None:
    body = json.loads(EXPORTERS["headwind"].export(sample_target()).content)
    apps = body["applications"]
    assert {a["pkg"] for a in apps} == {"com.zhiliaoapp.musically", "com.ss.android.ugc.trill"}
    assert {a["action"] for a in apps} == {2}
    assert all(a["name"] == "TikTok" for a in apps)
