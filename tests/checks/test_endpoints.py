"""Endpoint extraction: URLs everywhere, bare host names only when they cannot be something else."""

from __future__ import annotations

from appveto.apk.model import ComponentKind, IntentData, IntentFilter
from appveto.checks.endpoints import EndpointSource, endpoints
from appveto.kb.domains import registrable_domain
from tests.checks.factory import component, dex, make_apk, manifest, native


def test_sources_and_noise() -> None:
    strings = (
        "os.name",
        "1.2.4.dev",
        "crashlytics.installation.id",
        "com.facebook.ads",
        "libfoo.so",
        "api.example.org",
        "https://x.y.dev/a?b=1",
        "http://schemas.android.com/apk/res/android",
        "see http://185.62.190.12:8080/gate.php now",
        "https://.leading-dot.com/x",
    )
    link = component("org.example.app.Link", ComponentKind.ACTIVITY, exported=True)
    link = link.__class__(
        **{
            **{f: getattr(link, f) for f in link.__dataclass_fields__},
            "intent_filters": (
                IntentFilter(
                    actions=("android.intent.action.VIEW",), data=(IntentData("https", "links.example.net"),)
                ),
            ),
        }
    )
    apk = make_apk(
        manifest_=manifest(components=(link,)),
        dex_files=(dex(strings=strings),),
        resource_strings=("https://res.example.com/config",),
        native_libs=(native(strings_sample=("wss://native.example.com/socket", "c2.example.net")),),
    )
    eps = {e.host: e for e in endpoints(apk)}
    assert set(eps) == {
        "api.example.org",
        "x.y.dev",
        "185.62.190.12",
        "leading-dot.com",
        "links.example.net",
        "res.example.com",
        "native.example.com",
        "c2.example.net",
    }
    assert eps["185.62.190.12"].ip_literal and eps["185.62.190.12"].cleartext
    assert eps["x.y.dev"].registrable_domain == registrable_domain("x.y.dev") == "y.dev"
    assert eps["res.example.com"].sources == (EndpointSource.RESOURCES,)
    assert eps["links.example.net"].sources == (EndpointSource.MANIFEST,)
    assert eps["native.example.com"].sources == (EndpointSource.NATIVE,)
    assert all(e.evidence for e in eps.values())


def test_no_strings_no_endpoints() -> None:
    assert endpoints(make_apk(dex_files=(dex(),))) == ()


def test_ip_literals_in_code_and_native_strings() -> None:
    strings = (
        "185.62.190.12",
        "93.184.216.34:8080",
        "[2a00:1450:4001:82a::200e]:443",
        "2606:4700:4700::1111",
        "127.0.0.1",
        "0.0.0.0",
        "1.2.3",
        "10.0.0.172",
        "a::b",
    )
    apk = make_apk(
        dex_files=(dex(strings=strings),),
        native_libs=(native(strings_sample=("203.0.113.7:443", "8.8.8.8")),),
    )
    eps = {e.host: e for e in endpoints(apk)}
    # loopback, unspecified and a version are no endpoints; a private address is one (NET-002
    # leaves it out); "a::b" is too short to be taken for an address
    assert set(eps) == {
        "185.62.190.12",
        "93.184.216.34",
        "2a00:1450:4001:82a::200e",
        "2606:4700:4700::1111",
        "10.0.0.172",
        "8.8.8.8",
        "203.0.113.7",
    }
    assert all(e.ip_literal and e.registrable_domain is None for e in eps.values())
    assert eps["8.8.8.8"].sources == (EndpointSource.NATIVE,)


def test_a_host_needs_a_known_suffix_and_plausible_labels() -> None:
    strings = (
        "nio.write.enqueuing.timeout.in.ms",  # a Java property: six labels
        "http://sd/x",  # a bare public suffix
        "https://intranet/x",  # no public suffix
        "settings.current",  # unknown suffix
        "timeout.in.ms",  # three labels, a common TLD: can be a host
    )
    apk = make_apk(
        dex_files=(dex(strings=strings),),
        native_libs=(native(strings_sample=("settings.current", "sd", "www.ok-host.com")),),
    )
    assert {e.host for e in endpoints(apk)} == {"timeout.in.ms", "www.ok-host.com"}


def test_object_identifiers_and_versions_are_not_ip_addresses() -> None:
    # certificate code names OIDs by families: 2.5.29.14/15 are X.509 extensions, 1.3.6.1...
    # a longer OID of arc 1.3; a C2 address among them stands alone and is kept
    strings = ("2.5.29.14", "2.5.29.15", "2.5.4.3", "2.5.29.32.0", "1.3.36.8", "1.3.6.1.5.5.7.3.1", "1.1.1.1")
    strings += ("5.2.4.1", "2.12.9.2")  # four-part versions
    apk = make_apk(dex_files=(dex(strings=(*strings, "185.62.190.12")),))
    assert {e.host for e in endpoints(apk)} == {"185.62.190.12", "1.1.1.1"}
