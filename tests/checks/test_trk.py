"""Trackers follow Exodus semantics: one per SDK whose classes are in the app; a class
counts for the most specific signature; shared dependencies and bare hosts are no tracker."""

from __future__ import annotations

import pytest

from appveto.checks import trk
from appveto.checks.sdk import match_trackers, tracker_endpoints
from appveto.kb import load_baseline
from appveto.kb.load import with_extra
from appveto.kb.model import KnowledgeBase, make_tracker
from tests.checks.factory import dex, make_apk
from tests.conftest import corpus_params


def _kb(*sigs: tuple[str, str]) -> KnowledgeBase:
    trackers = tuple(
        make_tracker(
            id=name,
            name=name,
            vendor=None,
            code_signature=code,
            network_signature="",
            categories=("Analytics",),
            website="",
            source="test",
        )
        for name, code in sigs
    )
    return with_extra(load_baseline(), trackers=trackers)


def _apk(*classes: str):  # type: ignore[no-untyped-def]
    return make_apk(dex_files=(dex(classes=classes),))


def test_a_shared_dependency_alone_is_no_tracker() -> None:
    kb = _kb(("Ads", "com.google.android.gms.ads."))
    only_id = _apk("Lcom/google/android/gms/ads/identifier/AdvertisingIdClient;", "Lorg/x/Main;")
    assert match_trackers(only_id, kb) == ()
    with_ads = _apk(
        "Lcom/google/android/gms/ads/identifier/AdvertisingIdClient;", "Lcom/google/android/gms/ads/AdView;"
    )
    (m,) = match_trackers(with_ads, kb)
    assert (m.tracker.name, m.class_count, m.classes) == ("Ads", 1, ("com.google.android.gms.ads.AdView",))


def test_a_sub_package_counts_once_for_the_most_specific_sdk() -> None:
    kb = _kb(("Foo SDK", "com.foo."), ("Foo Ads", "com.foo.ads."))
    only_ads = _apk("Lcom/foo/ads/A;", "Lcom/foo/ads/B;")
    assert [(m.tracker.name, m.class_count) for m in match_trackers(only_ads, kb)] == [("Foo Ads", 2)]
    both = _apk("Lcom/foo/ads/A;", "Lcom/foo/ads/B;", "Lcom/foo/core/C;")
    assert [(m.tracker.name, m.class_count) for m in match_trackers(both, kb)] == [
        ("Foo Ads", 2),
        ("Foo SDK", 1),
    ]


def test_a_host_alone_is_an_endpoint_not_a_tracker() -> None:
    kb = load_baseline()
    apk = make_apk(dex_files=(dex(strings=("https://www.google-analytics.com/collect",)),))
    assert match_trackers(apk, kb) == ()
    assert list(trk.tracker_code(apk, kb)) == []
    (ep,) = tracker_endpoints(apk, kb)
    assert (ep.tracker.name, ep.hosts) == ("Google Analytics", ("www.google-analytics.com",))
    (f,) = trk.tracker_network(apk, kb)
    assert "not an embedded tracker" in f.message and "0 class" not in f.message


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_no_tracker_without_classes_on_the_corpus(corpus_file) -> None:  # type: ignore[no-untyped-def]
    from appveto.apk import load_apk
    from appveto.errors import AppvetoError

    try:
        apk = load_apk(str(corpus_file))
    except AppvetoError:
        return
    for m in match_trackers(apk, load_baseline()):
        assert m.class_count > 0 and m.classes, (corpus_file.name, m.tracker.name)
