"""Checks never raise on arbitrary (hostile) model content: random strings, names and manifests."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appveto.apk.model import Application, ComponentKind, DeclaredPermission, Tampering, TamperKind
from appveto.checks.facts import release
from appveto.checks.registry import Platform, active_checks
from appveto.kb import load_baseline
from appveto.scan import analyse
from tests.checks.factory import component, dex, make_apk, manifest, native, perm

KB = load_baseline()
NOW = datetime(2026, 11, 29, tzinfo=UTC)

names = st.text(min_size=0, max_size=12)
descriptors = st.builds(lambda p, n: f"L{p}/{n};", st.text(max_size=10), st.text(max_size=10))
anything = st.text(max_size=60)
urlish = st.builds(lambda h, p: f"http://{h}/{p}", st.text(max_size=20), st.text(max_size=10))


@st.composite
def apks(draw: st.DrawFn) -> object:
    classes = tuple(draw(st.lists(descriptors, max_size=15)))
    strings = tuple(draw(st.lists(st.one_of(anything, urlish), max_size=25)))
    methods = tuple(draw(st.lists(st.tuples(descriptors, names, anything), max_size=15)))
    fields = tuple(draw(st.lists(st.tuples(descriptors, names, anything), max_size=10)))
    perms = tuple(
        draw(st.lists(st.one_of(names, st.sampled_from(["READ_SMS", "CAMERA", "INTERNET"])), max_size=6))
    )
    comps = tuple(
        component(draw(anything), draw(st.sampled_from(list(ComponentKind))), exported=draw(st.booleans()))
        for _ in range(draw(st.integers(0, 3)))
    )
    declared = tuple(DeclaredPermission(draw(names), draw(names), 0) for _ in range(draw(st.integers(0, 2))))
    app = Application(
        name=draw(st.one_of(st.none(), anything)),
        debuggable=draw(st.booleans()),
        uses_cleartext_traffic=draw(st.one_of(st.none(), st.booleans())),
    )
    m = manifest(
        permissions=perm(*perms) if perms else (),
        components=comps,
        application=app,
        declared=declared,
        target_sdk=draw(st.one_of(st.none(), st.integers(-5, 40))),
        min_sdk=draw(st.one_of(st.none(), st.integers(-5, 40))),
    )
    tamper = tuple(
        Tampering(
            draw(st.sampled_from(list(TamperKind))),
            draw(st.one_of(st.none(), names)),
            draw(st.one_of(st.none(), st.integers(0, 1 << 40))),
            draw(anything),
        )
        for _ in range(draw(st.integers(0, 3)))
    )
    libs = tuple(
        native(
            comment=tuple(draw(st.lists(anything, max_size=2))),
            strings_sample=tuple(draw(st.lists(st.one_of(anything, urlish), max_size=3))),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    return make_apk(
        manifest_=m if draw(st.booleans()) else False,
        dex_files=(dex(classes=classes, strings=strings, methods=methods, fields=fields),),
        tampering=tamper,
        native_libs=libs,
        resource_strings=tuple(draw(st.lists(st.one_of(anything, urlish), max_size=5))),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(apks())
def test_checks_never_raise(apk: object) -> None:
    try:
        for spec in active_checks():
            if spec.platform is not Platform.ANDROID:
                continue  # iOS checks read an Ipa (tests/checks/test_ios.py)
            assert spec.func is not None
            for f in spec.func(apk, KB):  # type: ignore[arg-type]
                assert f.message and f.evidence
        r = analyse(apk, KB, now=NOW)  # type: ignore[arg-type]
        assert r.failures == ()
        assert 0 <= r.score.total <= 100
    finally:
        release(apk)  # type: ignore[arg-type]
