"""The enforcement target refuses values that could break or inject into a config file."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appveto.errors import ExportError
from appveto.export.registry import EXPORTERS
from appveto.export.target import App, BlockedDomain, DomainOrigin, Zone, is_domain, parse_network
from tests.export.fixtures import sample_target


@pytest.mark.parametrize(
    "name",
    [
        'evil.com." always_transparent\nlocal-zone: "x.',  # Unbound injection
        "evil.com/\naddress=/google.com/",  # dnsmasq injection
        "evil.com CNAME rpz-passthru.",  # RPZ injection
        "Tiktok.com",  # upper case
        "tiktok.com.",  # trailing dot
        "localhost",  # a single label
        "-bad.com",
        "a" * 64 + ".com",
        "tik tok.com",
        "",
    ],
)
def test_malformed_domain_is_refused(name: str) -> None:
    with pytest.raises(ExportError) as exc:
        sample_target(domains=(BlockedDomain(name, "x", DomainOrigin.POLICY, "test"),))
    d = exc.value.diagnostics()[0]
    assert d.file == "policies/test.yaml" and d.entry == "TEST-BAN-2023"


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": "two\nlines"},
        {"authority": "a\rb"},
        {"decision_id": "id\nlocal-zone: x"},
        {"apps": (App("android", "not a package"),)},
        {"apps": (App("ios", "com.example\nx"),)},
        {"apps": (App("windows", "com.example.app"),)},
        {"zones": (Zone("bad zone name", (parse_network("10.0.0.0/8"),)),)},
        {"zones": (Zone("z", (parse_network("10.0.0.0/8"),), ssids=("a\nb",)),)},
    ],
)
def test_line_breaks_and_bad_identifiers_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ExportError):
        sample_target(**overrides)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ExportError) as exc:
        sample_target(title="a\nb", apps=(App("android", "x y"),))
    assert len(exc.value.diagnostics()) == 2


def test_unknown_zone_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ExportError, match="no network zone 'nope' \\(zones: staff, visitor-wifi\\)"):
        EXPORTERS["unbound"].export(sample_target(), zone="nope")


def test_zone_selection_limits_the_rules() -> None:
    text = EXPORTERS["adguard"].export(sample_target(), zone="visitor-wifi").content.decode()
    rules = [line for line in text.splitlines() if line.startswith("||")]
    assert rules and all(r.endswith("$client=127.0.0.4/32") for r in rules)
    unbound = EXPORTERS["unbound"].export(sample_target(), zone="staff").content.decode()
    assert "127.0.0.4" not in unbound.split("server:", 1)[1]


def test_ssid_only_zone_is_stated_not_silently_dropped() -> None:
    t = sample_target(zones=(*sample_target().zones, Zone("guest-ssid-only", (), ssids=("Guest",))))
    text = EXPORTERS["dnsmasq"].export(t).content.decode()
    assert "zone guest-ssid-only is NOT covered" in text
    with pytest.raises(ExportError, match="no address range"):
        EXPORTERS["dnsmasq"].export(t, zone="guest-ssid-only")


def test_no_zone_fails_closed_for_every_dns_target() -> None:
    t = sample_target(zones=())
    for exporter in EXPORTERS.values():
        if exporter.network:
            with pytest.raises(ExportError, match="names no network zone"):
                exporter.export(t)
        else:
            assert exporter.export(t).content


def test_input_order_does_not_change_output() -> None:
    a = sample_target()
    b = sample_target(
        domains=tuple(reversed(a.domains)), apps=tuple(reversed(a.apps)), zones=tuple(reversed(a.zones))
    )
    for exporter in EXPORTERS.values():
        assert exporter.export(a).content == exporter.export(b).content


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_domain_grammar_never_admits_config_metacharacters(text: str) -> None:
    if is_domain(text):
        assert not set(text) & set(" \t\r\n\"'/;#$|\\^*()")
        assert text == text.lower() and not text.endswith(".")


@settings(max_examples=150, deadline=None)
@given(
    title=st.text(max_size=60),
    authority=st.text(max_size=40),
    app_name=st.text(max_size=30),
)
def test_any_text_either_exports_cleanly_or_is_refused(title: str, authority: str, app_name: str) -> None:
    """Hostile display texts never crash a renderer nor break a file's syntax: the target
    refuses them with an ExportError, or every format renders and parses back."""
    import json
    import plistlib

    try:
        t = sample_target(
            title=title,
            authority=authority,
            apps=(
                App("ios", "com.example.app", app_name, app_name),
                App("android", "com.example.app", app_name, app_name),
            ),
        )
    except ExportError:
        return
    for exporter in EXPORTERS.values():
        content = exporter.export(t).content
        if content.startswith(b"<?xml"):
            profile = plistlib.loads(content)
            assert profile["PayloadOrganization"] == authority
        elif content.startswith(b"{"):
            json.loads(content)
        else:
            # Every line of a text format is a comment or a rule of the format: the texts
            # stayed inside their comment lines.
            for line in content.decode().splitlines():
                assert (
                    line[:1] in ("#", ";", "!", "")
                    or line.startswith(
                        (
                            "0.0.0.0 ",
                            ":: ",
                            "address=/",
                            "server:",
                            "    ",
                            "$",
                            "@",
                            "  IN NS",
                            "||",
                            "(\\.|^)",
                        )
                    )
                    or " CNAME ." in line
                ), line
