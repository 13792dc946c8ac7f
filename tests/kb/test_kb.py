"""Reference data: baseline sanity against public data, parsers, and `data update` over local HTTP."""

from __future__ import annotations

import functools
import http.server
import json
import runpy
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appveto.errors import KnowledgeBaseError
from appveto.kb import load_baseline, load_kb
from appveto.kb.load import parse_androguard_api_map, parse_exodus_trackers, parse_tracker_radar_entity
from appveto.kb.update import Source, update
from tests.conftest import require_shared

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_baseline_has_provenance() -> None:
    kb = load_baseline()
    assert len(kb.datasets) == 5
    for d in kb.datasets:
        assert d.source and len(d.sha256) == 64 and d.origin == "baseline"
        # ours are Apache-2.0; the Exodus list ships under its own licence, said so
        want = "ODbL-1.0 (database) + DbCL-1.0 (contents), εxodus Privacy / ETIP"
        assert d.licence == (want if d.name == "exodus-trackers" else "Apache-2.0"), d.name


def test_the_shipped_exodus_list_is_derived_from_the_published_file_with_its_licence_and_source() -> None:
    from importlib import resources

    kb = load_baseline()
    d = kb.dataset("exodus-trackers")
    assert d is not None and d.records == 432 and "reports.exodus-privacy.eu.org" in d.source
    folder = resources.files("appveto.kb").joinpath("exodus")
    note = folder.joinpath("SOURCE.md").read_text("utf-8")
    assert "Open Database License (ODbL) v1.0" in note and d.sha256 in note
    notice = (Path(__file__).resolve().parents[2] / "NOTICE").read_text("utf-8")
    assert "src/appveto/kb/exodus/trackers.json" in notice and "ODbL" in notice
    shipped = folder.joinpath("trackers.json").read_bytes()
    # the published list, through tools/exodus_extract.py, gives exactly the shipped bytes
    published = (require_shared("data/exodus-trackers") / "exodus_trackers.json").read_bytes()
    tool = runpy.run_path(str(Path(__file__).resolve().parents[2] / "tools" / "exodus_extract.py"))
    extract, kept = tool["extract"], tool["KEPT"]
    assert extract(published) == shipped
    full = json.loads(published)["trackers"]
    slim = json.loads(shipped)["trackers"]
    assert slim.keys() == full.keys() and len(slim) == 432
    for key, t in full.items():  # every field appveto reads, as published
        assert slim[key] == {k: t[k] for k in kept if k in t}, key
    # read from the shipped table or from the published list, the trackers are the same
    ents = load_baseline().entities
    args = {"entities": ents, "origin": "test", "source": "s", "licence": "l", "date": "d"}
    ours = parse_exodus_trackers(shipped, "trackers.json", **args)[1]
    theirs = parse_exodus_trackers(published, "trackers.json", **args)[1]
    assert ours == theirs


def test_smartadserver_classes_give_the_smart_tracker_offline() -> None:
    from appveto.checks.sdk import match_trackers
    from tests.checks.factory import dex, make_apk

    classes = tuple(f"Lcom/smartadserver/android/library/C{i};" for i in range(28))
    (m,) = match_trackers(make_apk(dex_files=(dex(classes=classes),)), load_baseline())
    assert (m.tracker.name, m.class_count, m.tracker.id) == ("Smart", 28, "exodus-7")


def test_baseline_dangerous_permissions_match_aosp() -> None:
    aosp = json.loads((require_shared("data/aosp-permissions") / "permissions_36.json").read_text("utf-8"))
    dangerous = {
        n for n, p in aosp["permissions"].items() if p["protectionLevel"].split("|")[0] == "dangerous"
    }
    kb = load_baseline()
    ours = {p.name for p in kb.permissions if p.dangerous}
    assert ours == dangerous, (sorted(ours - dangerous), sorted(dangerous - ours))


def test_baseline_entity_domains_agree_with_tracker_radar() -> None:
    base = require_shared("data/ddg-tracker-radar-entities")
    kb = load_baseline()
    pairs = {
        "ByteDance Ltd..json": "ByteDance Ltd.",
        "Facebook, Inc..json": "Meta Platforms, Inc.",
        "Google LLC.json": "Google LLC",
    }
    for file, ours in pairs.items():
        ddg = parse_tracker_radar_entity((base / file).read_bytes(), file, country="US")
        entity = kb.entity_named(ours)
        assert entity is not None
        shared = set(entity.domains) & set(ddg.domains)
        assert len(shared) >= 0.5 * len(entity.domains), (
            ours,
            sorted(set(entity.domains) - set(ddg.domains)),
        )


def test_exodus_list_parses_with_vendors() -> None:
    path = require_shared("data/exodus-trackers") / "exodus_trackers.json"
    info, trackers = parse_exodus_trackers(
        path.read_bytes(),
        str(path),
        entities=load_baseline().entities,
        origin="test",
        source="s",
        licence="l",
        date="d",
    )
    assert len(trackers) >= 400 and info.records == len(trackers)
    by_name = {t.name: t for t in trackers}
    assert by_name["Facebook Analytics"].vendor == "Meta Platforms, Inc."
    assert sum(1 for t in trackers if t.vendor) >= 100


def test_androguard_api_map_from_package_data() -> None:
    from importlib import resources

    data = resources.files("androguard.core.api_specific_resources").joinpath(
        "api_permission_mappings", "permissions_25.json"
    )
    rules = parse_androguard_api_map(data.read_bytes(), "permissions_25.json")
    assert any(
        r.class_descriptor == "Landroid/telephony/SmsManager;" and r.method == "sendTextMessage"
        for r in rules
    )


def test_bad_json_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "e.json"
    bad.write_text('{"entities": [\n  {"name": "X", "country": "usa", "domains": []}\n]}')
    with pytest.raises(KnowledgeBaseError) as exc:
        load_kb(tmp_path, user_entities=(bad,), use_downloaded=False)
    assert "country" in str(exc.value) and str(bad) in str(exc.value)
    bad.write_text("{nope")
    with pytest.raises(KnowledgeBaseError) as exc:
        load_kb(tmp_path, user_entities=(bad,), use_downloaded=False)
    assert exc.value.diagnostics()[0].line == 1


@pytest.fixture
def served() -> Iterator[str]:
    root = require_shared("data/exodus-trackers")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_update_downloads_records_and_loads(tmp_path: Path, served: str) -> None:
    src = Source(
        "exodus-trackers",
        "exodus-trackers",
        f"{served}/exodus_trackers.json",
        "exodus_trackers.json",
        "ODbL-1.0",
    )
    rows = update(tmp_path, now=NOW, sources=(src,))
    assert (
        rows[0].sha256
        == __import__("hashlib").sha256((tmp_path / "exodus_trackers.json").read_bytes()).hexdigest()
    )
    assert rows[0].date.startswith("2026-11-29") and rows[0].source.startswith("http://127.0.0.1")
    kb = load_kb(tmp_path)
    d = kb.dataset("exodus-trackers")
    assert d is not None and d.origin == "downloaded" and d.records >= 400
    # a file altered after download is refused
    (tmp_path / "exodus_trackers.json").write_bytes(b'{"trackers": {}}')
    with pytest.raises(KnowledgeBaseError, match="differs from the recorded"):
        load_kb(tmp_path)


def test_update_failure_keeps_previous_copy(tmp_path: Path, served: str) -> None:
    good = Source(
        "exodus-trackers", "exodus-trackers", f"{served}/exodus_trackers.json", "exodus_trackers.json", "ODbL"
    )
    update(tmp_path, now=NOW, sources=(good,))
    before = (tmp_path / "exodus_trackers.json").read_bytes()
    bad = Source(
        "exodus-trackers", "exodus-trackers", f"{served}/missing.json", "exodus_trackers.json", "ODbL"
    )
    with pytest.raises(KnowledgeBaseError) as exc:
        update(tmp_path, now=NOW, sources=(bad,))
    assert exc.value.message == "1 of 1 downloads failed"
    assert "HTTP 404" in str(exc.value) and "missing.json" in str(exc.value)
    assert (tmp_path / "exodus_trackers.json").read_bytes() == before
    assert load_kb(tmp_path).dataset("exodus-trackers") is not None


def test_bytedance_ownership_covers_tiktok_block_list() -> None:
    """The app-block list's registrable domains that Tracker Radar gives to ByteDance map to
    our ByteDance entity (CN), and CDN domains of that list are not claimed as ByteDance's."""
    from appveto.kb.domains import registrable_domain

    domains = require_shared("data/domains")
    hosts = [
        h.strip() for h in (domains / "blocklistproject_tiktok.domains.txt").read_text("utf-8").splitlines()
    ]
    regs = {r for h in hosts if h and not h.startswith("#") and (r := registrable_domain(h))}
    ddg = parse_tracker_radar_entity(
        (domains / "ddg-tracker-radar_ByteDance_Ltd.json").read_bytes(), "ddg", country="CN"
    )
    kb = load_baseline()
    owned = regs & set(ddg.domains)
    assert len(owned) >= 20
    mapped = {r for r in owned if (e := kb.entity_for_domain(r)) is not None and e.name == "ByteDance Ltd."}
    assert len(mapped) >= 0.6 * len(owned), sorted(owned - mapped)
    for cdn in ("akamaized.net", "edgekey.net", "cloudfront.net"):
        e = kb.entity_for_domain(cdn)
        assert e is None or (e.name != "ByteDance Ltd." and cdn in e.infrastructure)


def test_default_data_dir_follows_xdg_and_override() -> None:
    import sys

    from appveto.kb.load import default_data_dir

    assert default_data_dir({"APPVETO_DATA_DIR": "/srv/av"}) == Path("/srv/av")
    if sys.platform.startswith("linux"):
        assert default_data_dir({"XDG_DATA_HOME": "/x/share", "HOME": "/h"}) == Path("/x/share/appveto")
        assert default_data_dir({"HOME": "/h"}) == Path("/h/.local/share/appveto")


def test_update_all_three_kinds_and_use_them(tmp_path: Path) -> None:
    import shutil

    shared = require_shared("data")
    serve = tmp_path / "serve"
    serve.mkdir()
    shutil.copy(shared / "exodus-trackers" / "exodus_trackers.json", serve / "trackers.json")
    shutil.copy(
        shared / "api-permission-mappings" / "androguard-json" / "permissions_25.json", serve / "map.json"
    )
    shutil.copy(shared / "aosp-permissions" / "permissions_36.json", serve / "aosp.json")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(serve))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        sources = (
            Source("exodus-trackers", "exodus-trackers", f"{base}/trackers.json", "exodus.json", "ODbL-1.0"),
            Source("ag-map", "androguard-api-map", f"{base}/map.json", "map.json", "Apache-2.0"),
            Source("aosp", "aosp-permissions", f"{base}/aosp.json", "aosp.json", "Apache-2.0"),
        )
        data_dir = tmp_path / "data"
        rows = update(data_dir, now=NOW, sources=sources)
    finally:
        server.shutdown()
        server.server_close()
    assert {r.kind for r in rows} == {"exodus-trackers", "androguard-api-map", "aosp-permissions"}
    baseline = load_baseline()
    kb = load_kb(data_dir)
    assert {d.origin for d in kb.datasets} == {"baseline", "downloaded"}
    assert len(kb.api_rules) > len(baseline.api_rules) + 1000
    assert len(kb.permissions) > 500 and len(kb.trackers) >= 400
    extra = kb.permission("android.permission.ACCESS_LOCATION_EXTRA_COMMANDS")
    assert extra is not None and extra.protection.startswith("normal")
    # the baseline's categories survive the AOSP overlay
    sms = kb.permission("android.permission.READ_SMS")
    assert sms is not None and sms.dangerous and sms.category == "sms"


def test_compiler_symbol_markers_parse_and_bad_ones_are_located() -> None:
    from appveto.kb.load import parse_protectors

    doc = {
        "compilers": [{"name": "X-LLVM", "kind": "obfuscator", "markers": ["X-LLVM"], "symbols": [".xdec"]}]
    }
    _, _, (comp,) = parse_protectors(json.dumps(doc).encode(), "extra/packers.json")
    assert comp.symbols == (".xdec",)
    old = {"compilers": [{"name": "Old", "kind": "obfuscator", "markers": ["Old"]}]}
    assert parse_protectors(json.dumps(old).encode(), "p.json")[2][0].symbols == ()
    bad = {"compilers": [{"name": "X", "kind": "obfuscator", "markers": [], "symbols": ".xdec"}]}
    with pytest.raises(KnowledgeBaseError) as exc:
        parse_protectors(json.dumps(bad).encode(), "extra/packers.json")
    assert "extra/packers.json" in str(exc.value) and "compilers[0].symbols" in str(exc.value)
    ollvm = next(c for c in load_baseline().compiler_markers if c.name.startswith("Obfuscator-LLVM"))
    assert ollvm.symbols == (".datadiv_decode",)


@pytest.mark.parametrize(
    ("text", "message"),
    [('{"a": ' + "9" * 5000 + "}", "a number too long to read"), ("[" * 100_000, "JSON nested too deeply")],
)
def test_unreadable_json_is_a_located_error(text: str, message: str) -> None:
    from appveto.errors import KnowledgeBaseError
    from appveto.kb.load import _json

    with pytest.raises(KnowledgeBaseError) as exc:
        _json(text.encode(), "trackers.json")
    assert [(d.file, d.message) for d in exc.value.diagnostics()] == [("trackers.json", message)]


def test_a_string_over_the_cap_is_a_located_error_and_one_at_the_cap_is_read() -> None:
    """Knowledge-base files cap JSON strings as the importers do (128 KiB, the CSV field limit)."""
    from appveto.errors import KnowledgeBaseError
    from appveto.kb.load import _json

    at_cap = "x" * 131_072
    assert _json(json.dumps({"trackers": [{"name": at_cap}]}).encode(), "trackers.json") == {
        "trackers": [{"name": at_cap}]
    }
    with pytest.raises(KnowledgeBaseError) as exc:
        _json(json.dumps({"trackers": [{"name": "ok"}, {"name": at_cap + "x"}]}).encode(), "trackers.json")
    assert [(d.file, d.message) for d in exc.value.diagnostics()] == [
        (
            "trackers.json",
            "trackers[1].name: a string of 131,073 characters; strings are limited to 131,072 characters",
        )
    ]
    # a key too; length counts decoded characters, not the escaped text
    with pytest.raises(KnowledgeBaseError, match="the object: a key of 140,000 characters"):
        _json(("{" + json.dumps("\\" * 70_000 + "é" * 70_000) + ": 1}").encode(), "entities.json")
    escaped = json.dumps(["\\" * 100_000])  # 200,000 characters of text, 100,000 decoded
    assert _json(escaped.encode(), "entities.json") == ["\\" * 100_000]


def test_owner_lookup_walks_up_private_suffixes_to_the_entity() -> None:
    kb = load_baseline()
    # the Public Suffix List's private section makes www.googleapis.com registrable by itself
    from appveto.kb.domains import registrable_domain

    assert registrable_domain("www.googleapis.com") == "www.googleapis.com"
    owned = kb.owner_of("www.googleapis.com")
    assert owned is not None and (owned.entity.name, owned.matched) == ("Google LLC", "googleapis.com")
    hosted = kb.owner_of("my-app.web.app")
    assert hosted is not None and hosted.entity.name == "Google LLC"
    cdn = kb.owner_of("x.workers.dev")
    assert cdn is not None and cdn.entity.name == "Cloudflare, Inc." and cdn.infrastructure
    for nobody in ("evil-googleapis.com", "com", "sd", "googleapis.com.evil.example"):
        assert kb.owner_of(nobody) is None, nobody


def test_owner_of_an_address_comes_from_published_networks() -> None:
    kb = load_baseline()
    for ip, who in (
        ("8.8.8.8", "Google LLC"),
        ("2001:4860:4860::8888", "Google LLC"),
        ("1.1.1.1", "Cloudflare, Inc."),
    ):
        owned = kb.owner_of(ip)
        assert owned is not None and owned.entity.name == who, ip
    assert kb.owner_of("185.62.190.12") is None


def test_an_entity_network_must_be_cidr(tmp_path: Path) -> None:
    from appveto.errors import KnowledgeBaseError
    from appveto.kb.load import parse_entities

    bad = b'{"entities": [{"name": "X", "country": "BE", "domains": ["x.be"], "networks": ["10.0.0.1/8"]}]}'
    with pytest.raises(KnowledgeBaseError) as info:
        parse_entities(bad, "user.json")
    assert [d.message for d in info.value.diagnostics()] == [
        "entities[0].networks[0]: '10.0.0.1/8' is not an IP network (CIDR such as 192.0.2.0/24)"
    ]
