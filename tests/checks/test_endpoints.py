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
