"""Each inventory source on payloads with the vendor's field names, good and malformed."""

from __future__ import annotations

import json
import plistlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appveto.errors import FleetError
from appveto.fleet.importers import IMPORTERS
from appveto.fleet.ingest import import_inventory
from appveto.fleet.model import ImportSummary, InstalledApp, ManagementMode, Ownership, Platform
from appveto.fleet.store import Store
from tests.fleet import payloads as pl

AT = datetime(2024, 5, 20, 9, 0, tzinfo=UTC)
Write = Callable[[str, "str | bytes"], Path]


def run(store: Store, source: str, *files: Path) -> tuple[ImportSummary, list[InstalledApp]]:
    summary = import_inventory(store, source, list(files), at=AT, display=[f.name for f in files])
    return summary, list(store.installed())


def messages(summary: ImportSummary) -> list[str]:
    return [str(i) for f in summary.files for i in f.issues]


def refused(store: Store, source: str, path: Path) -> str:
    before = store.counts()
    with pytest.raises(FleetError) as info:
        import_inventory(store, source, [path], at=AT, display=[path.name])
    assert store.counts() == before
    return "\n".join(str(d) for d in info.value.diagnostics())


def test_registry_keys_match_importer_names() -> None:
    assert set(IMPORTERS) == {
        "amapi",
        "apple",
        "intune-csv",
        "intune-graph",
        "fleet",
        "osquery",
        "headwind",
        "generic-csv",
    }
    for key, imp in IMPORTERS.items():
        assert imp.name == key and imp.title


# ---------------------------------------------------------------- AMAPI


def test_amapi_devices_list(sqlite_store: Store, write: Write) -> None:
    devs = [
        pl.amapi_device(
            "3a9f1c2e4b5d6071", [(pl.TIKTOK, "TikTok", "34.8.4"), (pl.AUTHENTICATOR, "Authenticator", "6.2")]
        ),
        pl.amapi_device(
            "b1", [("com.example.removed", "Gone", "1.0")], ownership="PERSONALLY_OWNED", mode="PROFILE_OWNER"
        ),
    ]
    devs[1]["applicationReports"][0]["state"] = "REMOVED"
    summary, rows = run(sqlite_store, "amapi", write("page1.json", pl.amapi_page(devs)))
    assert (summary.rows_ok, summary.rows_bad, summary.rows_skipped, summary.devices) == (2, 0, 1, 2)
    assert sorted(r.app_id for r in rows) == sorted([pl.TIKTOK, pl.AUTHENTICATOR])
    tiktok = next(r for r in rows if r.app_id == pl.TIKTOK)
    assert (tiktok.name, tiktok.version, tiktok.platform, tiktok.source) == (
        "TikTok",
        "34.8.4",
        "android",
        "INSTALLED_FROM_PLAY_STORE",
    )
    by_name = {d.name: d for d in sqlite_store.devices()}
    d = by_name["3a9f1c2e4b5d6071"]
    assert d.source_device_id == "enterprises/LC00abc123/devices/3a9f1c2e4b5d6071"
    assert (d.ownership, d.management_mode, d.platform) == (
        Ownership.COMPANY,
        ManagementMode.FULLY_MANAGED,
        Platform.ANDROID,
    )
    assert d.serial_number == "R5CW30XXXXX" and d.model == "SM-A546B" and d.os_version == "14"
    assert d.enrolled_at == datetime(2023, 9, 4, 8, 12, 40, tzinfo=UTC)
    assert by_name["b1"].ownership is Ownership.PERSONAL
    assert by_name["b1"].management_mode is ManagementMode.WORK_PROFILE


def test_amapi_other_shapes(sqlite_store: Store, write: Write) -> None:
    one = pl.amapi_device("single", [(pl.TIKTOK, "TikTok", "1")])
    lines = "\n".join(json.dumps(pl.amapi_device(f"l{i}", [(pl.TIKTOK, "TikTok", "1")])) for i in range(3))
    summary, _ = run(
        sqlite_store,
        "amapi",
        write("one.json", json.dumps(one)),
        write("bare.json", json.dumps([pl.amapi_device("arr", [])])),
        write("lines.jsonl", lines),
        write("empty-page.json", "{}"),
    )
    assert [f.rows_ok for f in summary.files] == [1, 0, 3, 0]
    assert summary.devices == 5  # the device with an empty report list is in the snapshot


def test_amapi_bad_rows_are_located(sqlite_store: Store, write: Write) -> None:
    devs = [
        pl.amapi_device("ok", [(pl.TIKTOK, "TikTok", "1")]),
        pl.amapi_device("noreports", []),
        {"managementMode": "DEVICE_OWNER", "applicationReports": [{"packageName": "x"}]},
        pl.amapi_device("ok", [(pl.TIKTOK, "TikTok", "1")]),
        pl.amapi_device("badapp", [(pl.TIKTOK, "TikTok", "1")]),
    ]
    del devs[1]["applicationReports"]
    devs[4]["applicationReports"].append({"displayName": "no package"})
    devs[4]["enrollmentTime"] = "yesterday"
    path = write("p.json", pl.amapi_page(devs))
    summary, _rows = run(sqlite_store, "amapi", path)
    msgs = messages(summary)
    assert summary.rows_ok == 2
    assert summary.rows_bad == 1 + 2 + 1 + 1 + 1  # no reports; nameless device+app; duplicate + its app; app
    assert any("p.json:" in m and "devices[1]" in m and "no 'applicationReports'" in m for m in msgs)
    assert any("devices[2]" in m and "without a 'name'" in m for m in msgs)
    dup = next(m for m in msgs if "duplicate device ID" in m)
    assert "enterprises/LC00abc123/devices/ok" in dup and "first at p.json:" in dup
    assert any("applicationReports[1]" in m and "without 'packageName'" in m for m in msgs)
    assert any("enrollmentTime 'yesterday'" in m for m in msgs)
    # each message points at the line where its device starts
    text = path.read_text().splitlines()
    line = int(dup.split("p.json:")[1].split(" ")[0].rstrip(":"))
    assert '"name": "enterprises/LC00abc123/devices/ok"' in "\n".join(text[line - 1 : line + 2])


def test_amapi_truncated_json_is_refused(sqlite_store: Store, write: Write) -> None:
    text = pl.amapi_page([pl.amapi_device(f"d{i}", [(pl.TIKTOK, "TikTok", "1")]) for i in range(3)])
    cut = text[: len(text) * 2 // 3]
    msg = refused(sqlite_store, "amapi", write("cut.json", cut))
    assert "cut.json:" in msg and "truncated JSON" in msg


def test_amapi_refuses_other_formats(sqlite_store: Store, write: Write) -> None:
    graph = json.dumps({"value": [pl.graph_detected_app("TikTok", "1", "ios", [])]})
    msg = refused(sqlite_store, "amapi", write("graph.json", graph))
    assert "graph.json:1: not an Android Management API devices.list response" in msg and "value" in msg
    hw = json.dumps([pl.headwind_info("PRJ-1", [])])
    assert "not an Android Management API Device" in refused(sqlite_store, "amapi", write("hw.json", hw))
    assert "not a JSON document" in refused(sqlite_store, "amapi", write("x.json", "<xml/>"))


# ---------------------------------------------------------------- Apple


def test_apple_response(sqlite_store: Store, write: Write) -> None:
    resp = pl.apple_response(
        "00008110-000A1B2C3D4E5F6G",
        [
            pl.apple_app(pl.TIKTOK, "TikTok", "34.8.0", "348003"),
            pl.apple_app(None, "Some Mac App", "2.0", "200"),
        ],
    )
    summary, rows = run(sqlite_store, "apple", write("r.plist", pl.plist(resp)))
    assert (summary.rows_ok, summary.rows_bad, summary.devices) == (2, 0, 1)
    tik = next(r for r in rows if r.app_id == pl.TIKTOK)
    assert (tik.name, tik.version) == ("TikTok", "34.8.0")  # ShortVersion wins over Version
    assert any(r.app_id is None and r.name == "Some Mac App" for r in rows)


def test_apple_array_with_device_information(sqlite_store: Store, write: Write) -> None:
    udid = "00008110-000A1B2C3D4E5F6G"
    doc = [
        {
            "UDID": udid,
            "Status": "Acknowledged",
            "QueryResponses": {
                "ProductName": "iPad13,1",
                "OSVersion": "17.4",
                "SerialNumber": "DMPXXXX",
                "DeviceName": "FED-IPD-7",
                "IsSupervised": True,
            },
        },
        pl.apple_response(udid, [pl.apple_app(pl.TIKTOK, "TikTok", "1", "1")]),
        pl.apple_response("other", [], Status="Error"),
        pl.apple_response(udid, [pl.apple_app(pl.TIKTOK, "TikTok", "1", "1")]),
        pl.apple_response("x", [{"BundleSize": 1}]),
    ]
    summary, rows = run(sqlite_store, "apple", write("all.plist", pl.plist(doc)))
    dev = next(d for d in sqlite_store.devices() if d.source_device_id == udid)
    assert (dev.platform, dev.name, dev.serial_number, dev.management_mode) == (
        Platform.IPADOS,
        "FED-IPD-7",
        "DMPXXXX",
        ManagementMode.SUPERVISED,
    )
    msgs = messages(summary)
    assert any("[2]" in m and "command status 'Error'" in m for m in msgs)
    assert any("[3]" in m and "duplicate device ID" in m for m in msgs)
    assert any("[4].InstalledApplicationList[0]" in m and "without 'Identifier' or 'Name'" in m for m in msgs)
    assert [r.platform for r in rows] == ["ipados"]


def test_apple_broken_plist_is_refused(sqlite_store: Store, write: Write) -> None:
    good = pl.plist(pl.apple_response("u1", [pl.apple_app(pl.TIKTOK, "TikTok", "1", "1")]))
    broken = good.replace(b"</dict>", b"</dcit>", 1)
    msg = refused(sqlite_store, "apple", write("broken.plist", broken))
    assert "broken.plist:" in msg and "broken plist" in msg
    line = int(msg.split("broken.plist:")[1].split(":")[0])
    assert b"</dcit>" in broken.splitlines()[line - 1]
    assert "broken plist" in refused(sqlite_store, "apple", write("trunc.plist", good[:200]))
    binary = plistlib.dumps(pl.apple_response("u1", []), fmt=plistlib.FMT_BINARY)
    assert "binary property list is damaged" in refused(sqlite_store, "apple", write("b.plist", binary[:-9]))
    csv_text = pl.INTUNE_HEADER + "\n"
    assert "not a property list" in refused(sqlite_store, "apple", write("x.csv", csv_text))
    profile = pl.plist({"PayloadType": "Configuration", "PayloadContent": []})
    assert "no 'InstalledApplicationList' key" in refused(
        sqlite_store, "apple", write("profile.plist", profile)
    )


# ---------------------------------------------------------------- Intune CSV


def test_intune_csv(sqlite_store: Store, write: Write) -> None:
    dev = "4b1f8c2e-6a3d-4e9b-8f7a-1c2d3e4f5a6b"
    text = (
        "\n".join(
            [
                pl.INTUNE_HEADER,
                pl.intune_row("TikTok", "34.8.0", dev, "FED-IPH-0193", "j.peeters@example.fgov.be"),
                pl.intune_row(
                    "Microsoft Authenticator", "6.8.9", dev, "FED-IPH-0193", "j.peeters@example.fgov.be"
                ),
                pl.intune_row(
                    "TikTok", "34.8.0", "dev-2", "FED-AND-1", "a@example.fgov.be", platform="Android"
                ),
                pl.intune_row("Outlook", "4.2", dev, "RENAMED", "j.peeters@example.fgov.be"),
                "oops,too,short",
                pl.intune_row("", "1", "dev-3", "X", "x@example.fgov.be"),
                pl.intune_row("App", "1", "", "X", "x@example.fgov.be"),
                pl.intune_row("Teams", "1", "dev-9", "NINE", "n@example.fgov.be"),
                pl.intune_row("Signal", "1", "dev-9", "NINE-B", "n@example.fgov.be"),
            ]
        )
        + "\n"
    )
    summary, rows = run(sqlite_store, "intune-csv", write("AppInvRawData.csv", "\ufeff" + text))
    assert (summary.rows_ok, summary.rows_bad, summary.devices) == (6, 3, 3)
    msgs = messages(summary)
    assert any(m.startswith("AppInvRawData.csv:10: device 'dev-9' is described differently") for m in msgs)
    assert "AppInvRawData.csv:6: expected 13 fields, found 3" in msgs
    assert "AppInvRawData.csv:7: empty ApplicationName" in msgs
    assert "AppInvRawData.csv:8: empty DeviceId" in msgs
    assert any(
        m.startswith("AppInvRawData.csv:5: device") and "described differently than at" in m for m in msgs
    )
    assert all(r.app_id is None for r in rows)
    platforms = {d.source_device_id: (d.platform, d.user) for d in sqlite_store.devices()}
    assert platforms[dev] == (Platform.IOS, "j.peeters@example.fgov.be")
    assert platforms["dev-2"][0] is Platform.ANDROID


def test_intune_csv_wrong_columns_refused(sqlite_store: Store, write: Write) -> None:
    agg = (
        "ApplicationKey,ApplicationName,ApplicationPublisher,ApplicationShortVersion,ApplicationVersion,"
        "DeviceCount\n"
    )
    msg = refused(sqlite_store, "intune-csv", write("agg.csv", agg + "k,TikTok,,1,1,4\n"))
    assert msg.startswith(
        "agg.csv:1: not an Intune AppInvRawData export: missing columns DeviceId, DeviceName"
    )
    assert "the file is empty" in refused(sqlite_store, "intune-csv", write("e.csv", ""))
    latin = (pl.INTUNE_HEADER + "\n").encode() + "k,Caf\xe9,,1,1,d,n,o,1,iOS,u,e,n\n".encode("latin-1")
    assert "e2.csv:2: not UTF-8 text" in refused(sqlite_store, "intune-csv", write("e2.csv", latin))


# ---------------------------------------------------------------- Graph detectedApps


def test_intune_graph_app_centric_and_device_centric(sqlite_store: Store, write: Write) -> None:
    md1 = pl.graph_managed_device("md-1", "FED-IPH-1", "a@example.org")
    md2 = pl.graph_managed_device("md-2", "FED-IPH-2", "b@example.org", owner="personal")
    page = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#deviceManagement/detectedApps",
        "value": [
            pl.graph_detected_app("TikTok", "34.8.0", "ios", [md1, md2]),
            pl.graph_detected_app("Teams", "6.1", "ios", [md1]),
            {"displayName": "NoDevices", "deviceCount": 3, "managedDevices": "x"},
        ],
    }
    summary, _rows = run(sqlite_store, "intune-graph", write("detected.json", json.dumps(page, indent=1)))
    assert (summary.rows_ok, summary.rows_bad, summary.devices) == (3, 1, 2)
    assert any("value[2]" in m and "'managedDevices' must be an array" in m for m in messages(summary))
    devs = {d.source_device_id: d for d in sqlite_store.devices()}
    assert devs["md-2"].ownership is Ownership.PERSONAL and devs["md-1"].user == "a@example.org"
    device_centric = {
        "value": [
            {
                **md1,
                "detectedApps": [
                    {"displayName": "Signal", "version": "7", "platform": "ios"},
                    {"version": "1"},
                ],
            }
        ]
    }
    s2 = import_inventory(
        sqlite_store, "intune-graph", [write("by-device.json", json.dumps(device_centric))], at=AT
    )
    assert (s2.rows_ok, s2.rows_bad) == (1, 1)


def test_intune_graph_refusals(sqlite_store: Store, write: Write) -> None:
    plain = {
        "value": [{"id": "x", "displayName": "TikTok", "version": "1", "platform": "ios", "deviceCount": 2}]
    }
    assert "entries need 'managedDevices'" in refused(
        sqlite_store, "intune-graph", write("p.json", json.dumps(plain))
    )
    assert "no 'value' array" in refused(sqlite_store, "intune-graph", write("d.json", pl.amapi_page([])))


# ---------------------------------------------------------------- Fleet


def test_fleet_hosts(sqlite_store: Store, write: Write) -> None:
    mac = pl.fleet_host(
        "UUID-MAC-1",
        "mac-1",
        "darwin",
        [
            {
                "id": 1,
                "name": "TikTok.app",
                "version": "34.8.0",
                "source": "apps",
                "bundle_identifier": pl.TIKTOK,
            },
            {
                "id": 2,
                "name": "Slack.app",
                "source": "apps",
                "installed_versions": [{"version": "4.1", "bundle_identifier": "com.tinyspeck.slackmacgap"}],
            },
            {"id": 3, "source": "apps"},
        ],
    )
    phone = pl.fleet_host(
        "UUID-AND-1",
        "pixel",
        "android",
        [{"id": 4, "name": "TikTok", "version": "34", "source": "android_apps", "application_id": pl.TIKTOK}],
    )
    summary, rows = run(
        sqlite_store, "fleet", write("hosts.json", json.dumps({"hosts": [mac, phone, mac]}, indent=2))
    )
    assert (summary.rows_ok, summary.devices) == (3, 2)
    assert summary.rows_bad == 1 + 1 + 3  # nameless software, duplicate host entry + its 3 items
    assert {(r.app_id, r.platform) for r in rows} >= {
        (pl.TIKTOK, "macos"),
        (pl.TIKTOK, "android"),
        ("com.tinyspeck.slackmacgap", "macos"),
    }
    assert (
        next(d for d in sqlite_store.devices() if d.source_device_id == "UUID-MAC-1").user
        == "j.peeters@example.org"
    )
    single = json.dumps({"host": pl.fleet_host("UUID-2", "h2", "windows", [])})
    assert import_inventory(sqlite_store, "fleet", [write("host.json", single)], at=AT).devices == 1


def test_fleet_software_titles_refused(sqlite_store: Store, write: Write) -> None:
    titles = {
        "counts_updated_at": "2024-05-20T06:00:00Z",
        "count": 1,
        "software_titles": [
            {"id": 812, "name": "TikTok", "source": "ios_apps", "hosts_count": 4, "versions": []}
        ],
        "meta": {"has_next_results": False},
    }
    msg = refused(sqlite_store, "fleet", write("titles.json", json.dumps(titles)))
    assert "titles.json:1: not a Fleet host list" in msg


# ---------------------------------------------------------------- osquery


def test_osquery_snapshot_and_differential(sqlite_store: Store, write: Write) -> None:
    lines = [
        pl.osquery_line(
            "pack_inventory_apps",
            "mac-1",
            "snapshot",
            snapshot=[
                pl.osquery_app(pl.TIKTOK, "TikTok", "34.8.0"),
                pl.osquery_app("com.apple.Safari", "Safari", "17"),
            ],
        ),
        pl.osquery_line(
            "pack_inventory_apps",
            "mac-1",
            "removed",
            columns=pl.osquery_app("com.apple.Safari", "Safari", "17"),
            counter=1,
        ),
        pl.osquery_line(
            "programs",
            "win-1",
            "added",
            columns=pl.osquery_program("TikTok", "1.0.19.0", "TikTok Pte. Ltd."),
            counter=0,
        ),
        pl.osquery_line("processes", "win-1", "added", columns={"pid": "1", "path": "x"}, counter=0),
        '{"name": "apps", "hostIdentifier": "mac-2", "columns": {',
        pl.osquery_line("apps", "mac-3", "added", columns=pl.osquery_app("a.b", "B", "1"), counter=5),
    ]
    summary, rows = run(sqlite_store, "osquery", write("osqueryd.results.log", "\n".join(lines) + "\n"))
    got = {(r.app_id, r.name, r.platform) for r in rows}
    assert got == {(pl.TIKTOK, "TikTok", "macos"), (None, "TikTok", "windows")}
    assert summary.rows_skipped == 1
    msgs = messages(summary)
    assert any(m.startswith("osqueryd.results.log:5: invalid JSON line") for m in msgs)
    assert any("host uuid-mac-3: only differential results without a baseline" in m for m in msgs)
    assert {d.source_device_id for d in sqlite_store.devices()} == {"uuid-mac-1", "uuid-win-1"}


def test_osquery_new_epoch_resets_the_baseline(sqlite_store: Store, write: Write) -> None:
    def line(app: str, counter: int, epoch: int, action: str = "added") -> str:
        rec = json.loads(
            pl.osquery_line("apps", "mac-1", action, columns=pl.osquery_app(app, app, "1"), counter=counter)
        )
        rec["epoch"] = epoch
        return json.dumps(rec)

    batch = {
        "name": "apps",
        "hostIdentifier": "mac-2",
        "counter": 0,
        "epoch": 0,
        "diffResults": {"added": [pl.osquery_app("x.y", "X", "1")], "removed": []},
    }
    lines = [
        line("a.a", 0, 0),
        line("b.b", 0, 0),
        line("c.c", 1, 0),
        line("b.b", 2, 0, "removed"),
        line("a.a", 0, 1),
        json.dumps(batch),
    ]
    summary, rows = run(sqlite_store, "osquery", write("results.log", "\n".join(lines)))
    by_host = {(r.device_id, r.app_id) for r in rows}
    names = {d.id: d.name for d in sqlite_store.devices()}
    assert {(names[d], a) for d, a in by_host} == {("mac-1", "a.a"), ("mac-2", "x.y")}
    assert summary.rows_bad == 0


def test_osquery_refuses_other_json(sqlite_store: Store, write: Write) -> None:
    osqueryi = json.dumps([{"bundle_identifier": pl.TIKTOK, "name": "TikTok.app"}])
    assert "not an osquery result log" in refused(sqlite_store, "osquery", write("q.json", osqueryi))


# ---------------------------------------------------------------- Headwind


def test_headwind(sqlite_store: Store, write: Write) -> None:
    infos = [
        pl.headwind_info(
            "PRJ-BXL-0042", [(pl.TIKTOK, "TikTok", "34.8.4"), ("com.hmdm.launcher", "MDM", "5")]
        ),
        pl.headwind_info("PRJ-BXL-0043", [(pl.TIKTOK, "TikTok", "34.8.4")]),
    ]
    infos[1]["applications"].append({"name": "no pkg"})
    summary, _rows = run(sqlite_store, "headwind", write("hw.json", json.dumps(infos, indent=2)))
    assert (summary.rows_ok, summary.rows_bad, summary.devices) == (3, 1, 2)
    assert any("[1].applications[1]" in m and "without 'pkg'" in m for m in messages(summary))
    one = json.dumps(pl.headwind_info("PRJ-9", [(pl.TIKTOK, "TikTok", "1")]))
    assert import_inventory(sqlite_store, "headwind", [write("one.json", one)], at=AT).rows_ok == 1
    assert "not a Headwind MDM DeviceInfo" in refused(
        sqlite_store, "headwind", write("x.json", pl.amapi_page([pl.amapi_device("a", [])]))
    )


# ---------------------------------------------------------------- generic CSV


def test_generic_csv(sqlite_store: Store, write: Write) -> None:
    text = (
        "\n".join(
            [
                "device_id,device_name,platform,ownership,management_mode,user,app_id,app_name,app_version,install_source",
                "D1,Phone 1,android,company,fully_managed,a@example.org,com.zhiliaoapp.musically,TikTok,"
                "34.8,play",
                "D1,Phone 1,android,company,fully_managed,a@example.org,com.whatsapp,WhatsApp,2.24,play",
                "D1,Phone 1,android,company,fully_managed,a@example.org,com.whatsapp,WhatsApp,2.24,play",
                "D2,Phone 2,ios,personal,user_enrollment,b@example.org,,,,",
                "D3,Phone 3,blackberry,company,,c@example.org,,Some app,1,",
                ",x,android,company,,,a,b,c,d",
                "D4,Phone 4,android,company,,,,,1.0,",
            ]
        )
        + "\n"
    )
    summary, _rows = run(sqlite_store, "generic-csv", write("inv.csv", text))
    assert summary.devices == 4
    assert (summary.rows_ok, summary.rows_bad, summary.rows_skipped) == (3, 2, 1)
    msgs = messages(summary)
    assert any(m.startswith("inv.csv:6: platform 'blackberry' is not one of") for m in msgs)
    assert "inv.csv:7: empty device_id" in msgs
    assert "inv.csv:8: app_version or install_source without app_id or app_name" in msgs
    assert any("1 duplicate row" in m for m in msgs)
    devs = {d.source_device_id: d for d in sqlite_store.devices()}
    assert devs["D2"].management_mode is ManagementMode.USER_ENROLLMENT
    assert devs["D3"].platform is Platform.UNKNOWN
    obs = {o.device.source_device_id: o.snapshot_id for o in sqlite_store.observations()}
    assert obs["D2"] is not None  # a device row without apps is observed with an empty inventory


def test_generic_csv_with_semicolons(sqlite_store: Store, write: Write) -> None:
    text = "\ufeffdevice_id;app_id;app_name\r\nD1;com.example.a;App, with comma\r\nD1;com.example.b;B\r\n"
    summary, rows = run(sqlite_store, "generic-csv", write("excel.csv", text))
    assert (summary.rows_ok, summary.rows_bad) == (2, 0)
    assert sorted(r.name for r in rows) == ["App, with comma", "B"]


def test_generic_csv_missing_columns(sqlite_store: Store, write: Write) -> None:
    assert "missing column device_id" in refused(sqlite_store, "generic-csv", write("a.csv", "id,app\n1,2\n"))
    assert "needs an 'app_id' or 'app_name'" in refused(
        sqlite_store, "generic-csv", write("b.csv", "device_id\nx\n")
    )


def test_a_refused_file_among_good_ones_refuses_all(sqlite_store: Store, write: Write) -> None:
    good = write("good.csv", "device_id,app_id\nD1,a.b\n")
    bad1 = write("bad1.csv", "nope\n1\n")
    bad2 = write("bad2.csv", "")
    with pytest.raises(FleetError) as info:
        import_inventory(sqlite_store, "generic-csv", [good, bad1, bad2], at=AT)
    diags = [str(d) for d in info.value.diagnostics()]
    assert len(diags) == 3 and diags[0].startswith(str(bad1)) and diags[1].startswith(str(bad2))
    assert diags[2] == "import refused (2 of 3 files not readable as generic-csv); nothing was stored"
    assert "nothing was stored" in info.value.message
    assert sqlite_store.counts().devices == 0 and sqlite_store.import_log() == ()


def test_missing_file_is_refused(sqlite_store: Store, tmp_path: Path) -> None:
    with pytest.raises(FleetError, match="cannot read"):
        import_inventory(sqlite_store, "amapi", [tmp_path / "absent.json"], at=AT)


_HUGE = "9" * 5000  # Python's int() refuses more than 4300 digits (a ValueError, not a JSON error)


@pytest.mark.parametrize(
    ("source", "text", "where"),
    [
        ("amapi", '{"devices": [{"name": "enterprises/e/devices/d", "x": %s}]}', "devices[0]"),
        (
            "amapi",
            '{"devices": [\n{"name": "enterprises/e/devices/d", "applicationReports": []},\n{"x": %s}\n]}',
            "devices[1]",
        ),
        ("intune-graph", '{"value": [{"id": %s}]}', "value[0]"),
        ("fleet", '{"hosts": [{"id": %s}]}', "hosts[0]"),
        ("headwind", '{"deviceId": %s}', "'deviceId'"),
    ],
)
def test_a_number_too_long_to_read_is_refused_with_its_place(
    sqlite_store: Store, write: Write, source: str, text: str, where: str
) -> None:
    path = write(f"{source}.json", text % _HUGE)
    with pytest.raises(FleetError) as exc:
        import_inventory(sqlite_store, source, [path], at=AT)
    (diag,) = [d for d in exc.value.diagnostics() if d.file]
    assert diag.message == f"a number too long to read (more than 4300 digits) in {where}"
    assert diag.line == text.count("\n", 0, text.index("%s")) + 1


def test_a_json_line_with_a_number_too_long_to_read_is_a_bad_row(sqlite_store: Store, write: Write) -> None:
    good = pl.osquery_line("apps", "mac-1", "added", columns=pl.osquery_app("com.x", "X", "1"))
    bad = '{"name": "apps", "x": ' + _HUGE + "}"
    summary = import_inventory(sqlite_store, "osquery", [write("o.log", f"{good}\n{bad}\n{good}\n")], at=AT)
    issues = [(i.line, i.message) for f in summary.files for i in f.issues]
    assert (2, "a number too long to read (more than 4300 digits)") in issues
