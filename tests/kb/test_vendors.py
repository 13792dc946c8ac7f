"""The vendor tables of kb/baseline: valid as shipped, and a bad row is named, not loaded."""

from __future__ import annotations

import json

import pytest

from appveto.errors import KnowledgeBaseError
from appveto.kb.vendors import (
    DomainKind,
    VendorAppsFile,
    VendorDomainsFile,
    domains_of,
    entity_for_vendor_id,
    lookup_domain,
    parse,
    product_of_app,
    vendor_apps,
    vendor_domains_file,
)


def test_the_shipped_tables_load() -> None:
    table = vendor_domains_file()
    assert table.about.licence == "Apache-2.0"
    assert {e.name for e in table.entities} >= {d.entity for d in table.domains}
    tiktok = vendor_apps("bytedance")
    assert tiktok is not None and "com.zhiliaoapp.musically" in tiktok[0].android
    assert vendor_apps("no-such-vendor") is None


def test_lookups() -> None:
    hit = lookup_domain("api16-normal-c-useast1a.tiktokv.com.")
    assert hit is not None and hit.domain == "tiktokv.com" and hit.kind is DomainKind.OWNED
    assert lookup_domain("example.org") is None
    product = product_of_app("android", "com.tencent.mm")
    assert product is not None and product.name == "WeChat"
    entity = entity_for_vendor_id("ByteDance")
    assert entity is not None and entity.jurisdiction == "CN"
    every = domains_of(entity.name, None)
    only_tiktok = domains_of(entity.name, frozenset({"TikTok"}))
    assert set(only_tiktok) < set(every)
    assert all(not d.products or "TikTok" in d.products for d in only_tiktok)
    assert [d.domain for d in every] == sorted(d.domain for d in every)


def _domains(**change: object) -> bytes:
    good = json.loads(json.dumps(vendor_domains_file().model_dump(mode="json")))
    good["domains"][0].update(change)
    return json.dumps(good).encode()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"entity": "Nobody Inc."}, "entity 'Nobody Inc.' is not among the entities"),
        ({"kind": "rented"}, "domains.0.kind"),
        ({"domain": "Not A Domain"}, "domains.0.domain"),
        ({"surprise": 1}, "domains.0.surprise"),
    ],
)
def test_a_bad_row_is_named(change: dict[str, object], said: str) -> None:
    with pytest.raises(KnowledgeBaseError) as info:
        parse(_domains(**change), VendorDomainsFile, where="vendor_domains.json")
    text = "\n".join(str(d) for d in info.value.diagnostics())
    assert said in text and "vendor_domains.json" in text


def test_a_bad_vendor_app_is_named() -> None:
    data = b'{"about": {"name": "x", "source": "y", "licence": "z", "date": "2026-01-01"},'
    data += b' "vendors": {"Bad Id": [{"name": "A"}]}}'
    with pytest.raises(KnowledgeBaseError, match=r"vendor_apps.json: vendors.Bad Id"):
        parse(data, VendorAppsFile, where="vendor_apps.json")
