"""A synthetic, seeded fleet in the real export formats: ``appveto demo-data OUT``.

The administration mirrors the Belgian example policies (``examples/policies``): the
federal level (ministers and cabinets, federal public services with directorates, the
integrated police), the Brussels-Capital Region (regional services and its 19
municipalities) and the Brussels Parliament (members, political groups, services). IDs of
authorities and units are those of ``examples/policies/authorities.yaml``, so the
example decisions evaluate against it directly.

Each person holds one device (a few hold two). Devices are written in the formats the
importers read, with the vendors' field names:

* Android: an Android Management API ``devices.list`` response page per file
  (``amapi-NNN.json``);
* iPhone and iPad: Apple MDM ``InstalledApplicationList`` command responses with a
  ``DeviceInformation`` response per device, as an XML property-list array
  (``apple-NNN.plist``);
* a share of the Android devices is managed through Intune instead, exported as
  Intune's *Discovered apps* CSV (``intune-NNN.csv``, no package IDs, matched by name);

With ``layouts=True`` (``demo-data --layouts``) the files take the layouts real exports
come in, one layout per file in turn, named in the file name (:data:`LAYOUTS`):
AMAPI JSON compact, pretty-printed, pretty-printed with CRLF line ends, or compact after
a UTF-8 byte-order mark; Apple plists as XML with tabs, with CRLF line ends, with the
escapes Go's encoder writes (``&#34;``, ``&#39;``, ``&#xA;`` besides ``&amp;``), after a
byte-order mark, or binary (``bplist00``); Intune CSV with CRLF, with a byte-order mark
and every field quoted (as Intune's export writes it), or with LF line ends. App names
then include commas, quotes, apostrophes and ampersands.

plus ``directory.json`` (appveto's directory JSON: authorities, org units, roles, the
systems and network zones the example decisions name, people and the devices they hold
with each device's platform). App mixes follow public usage shares loosely: TikTok
on a few percent of devices, WhatsApp and Outlook on most, Teams on most work phones,
Facebook on about a third; the rest comes from a long tail of generic apps. Everything
is drawn from one ``random.Random(seed)``: the same parameters give byte-identical files.
"""

from __future__ import annotations

import csv
import functools
import json
import plistlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from appveto.errors import FleetError
from appveto.outputs.files import RECORD, OutputFile, OutputFolder

DEFAULT_PEOPLE = 20_000
DEFAULT_TAKEN_AT = datetime(2023, 6, 1, 6, 0, tzinfo=UTC)
DEVICES_PER_FILE = 1_000
LAYOUTS: dict[str, tuple[str, ...]] = {
    "amapi": ("compact", "pretty", "pretty-crlf", "bom"),
    "apple": ("xml", "xml-crlf", "xml-entities", "xml-bom", "binary"),
    "intune-csv": ("crlf", "bom-quoted", "lf"),
}
"""The layouts ``layouts=True`` cycles through, per source (the first is the plain one)."""
_ODD_NAMES = (
    ("Scanner: PDF, OCR & Docs", "Scan & Co, Ltd."),
    ('"Quick" Notes', "Notes, Inc."),
    ("Tom's Weather, Radar & Alerts", 'Tom\'s "Apps"'),
    ("Files <Pro>", "Files & Folders Ltd"),
    ("Café, Bar & Co", "Ünïcödé GmbH"),
)
"""App names and publishers with commas, quotes, apostrophes, ampersands and angle brackets."""
"""Devices per export file (an MDM export page); importers hold one file in memory at a time."""


@dataclass(frozen=True, slots=True)
class CatalogApp:
    name: str
    android: str
    ios: str
    share: float
    """Share of devices that carry the app."""
    publisher: str


CATALOG: tuple[CatalogApp, ...] = (
    CatalogApp("TikTok", "com.zhiliaoapp.musically", "com.zhiliaoapp.musically", 0.04, "TikTok Pte. Ltd."),
    CatalogApp("CapCut", "com.lemon.lvoverseas", "com.lemon.lvoverseas", 0.01, "Bytedance Pte. Ltd"),
    CatalogApp("Facebook", "com.facebook.katana", "com.facebook.Facebook", 0.33, "Meta Platforms, Inc."),
    CatalogApp("Messenger", "com.facebook.orca", "com.facebook.Messenger", 0.22, "Meta Platforms, Inc."),
    CatalogApp("Instagram", "com.instagram.android", "com.burbn.instagram", 0.28, "Instagram"),
    CatalogApp("WhatsApp", "com.whatsapp", "net.whatsapp.WhatsApp", 0.72, "WhatsApp LLC"),
    CatalogApp("Signal", "org.thoughtcrime.securesms", "org.whispersystems.signal", 0.18, "Signal Messenger"),
    CatalogApp("Telegram", "org.telegram.messenger", "ph.telegra.Telegraph", 0.09, "Telegram FZ-LLC"),
    CatalogApp("WeChat", "com.tencent.mm", "com.tencent.xin", 0.01, "Tencent"),
    CatalogApp("Microsoft Teams", "com.microsoft.teams", "com.microsoft.skype.teams", 0.64, "Microsoft"),
    CatalogApp(
        "Microsoft Outlook", "com.microsoft.office.outlook", "com.microsoft.Office.Outlook", 0.81, "Microsoft"
    ),
    CatalogApp(
        "Microsoft Authenticator",
        "com.azure.authenticator",
        "com.microsoft.azureauthenticator",
        0.7,
        "Microsoft",
    ),
    CatalogApp("itsme", "be.bmid.itsme", "be.bmid.itsme", 0.55, "Belgian Mobile ID"),
    CatalogApp("LinkedIn", "com.linkedin.android", "com.linkedin.LinkedIn", 0.31, "LinkedIn"),
    CatalogApp("X", "com.twitter.android", "com.atebits.Tweetie2", 0.16, "X Corp."),
    CatalogApp("YouTube", "com.google.android.youtube", "com.google.ios.youtube", 0.6, "Google LLC"),
    CatalogApp("Spotify", "com.spotify.music", "com.spotify.client", 0.35, "Spotify AB"),
    CatalogApp("Google Maps", "com.google.android.apps.maps", "com.google.Maps", 0.5, "Google LLC"),
    CatalogApp("Waze", "com.waze", "com.waze.iphone", 0.2, "Waze"),
    CatalogApp("SNCB/NMBS", "de.hafas.android.sncbnmbs", "be.sncbnmbs.sncbnmbs", 0.25, "SNCB"),
    CatalogApp("STIB-MIVB", "be.stib.mivb", "be.stib.mivb.stibmivb", 0.18, "STIB-MIVB"),
    CatalogApp("Zoom", "us.zoom.videomeetings", "us.zoom.videomeetings", 0.21, "Zoom"),
    CatalogApp("Snapchat", "com.snapchat.android", "com.toyopagroup.picaboo", 0.12, "Snap Inc"),
    CatalogApp("Temu", "com.einnovation.temu", "com.einnovation.temu", 0.05, "Temu"),
)

MUNICIPALITIES: tuple[tuple[str, str], ...] = tuple(
    (f"be-bxl-m-{slug}", name)
    for slug, name in (
        ("anderlecht", "Anderlecht"),
        ("auderghem", "Auderghem"),
        ("berchem-sainte-agathe", "Berchem-Sainte-Agathe"),
        ("brussels-city", "City of Brussels"),
        ("etterbeek", "Etterbeek"),
        ("evere", "Evere"),
        ("forest", "Forest"),
        ("ganshoren", "Ganshoren"),
        ("ixelles", "Ixelles"),
        ("jette", "Jette"),
        ("koekelberg", "Koekelberg"),
        ("molenbeek-saint-jean", "Molenbeek-Saint-Jean"),
        ("saint-gilles", "Saint-Gilles"),
        ("saint-josse-ten-noode", "Saint-Josse-ten-Noode"),
        ("schaerbeek", "Schaerbeek"),
        ("uccle", "Uccle"),
        ("watermael-boitsfort", "Watermael-Boitsfort"),
        ("woluwe-saint-lambert", "Woluwe-Saint-Lambert"),
        ("woluwe-saint-pierre", "Woluwe-Saint-Pierre"),
    )
)

FIRST = (
    "Jan",
    "Marie",
    "Ahmed",
    "Sofie",
    "Luc",
    "Fatima",
    "Pieter",
    "Nathalie",
    "Youssef",
    "Els",
    "Marc",
    "Ines",
    "Koen",
    "Sarah",
    "Mehdi",
    "Lotte",
    "Olivier",
    "Anna",
    "Thomas",
    "Leila",
)
LAST = (
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "Dubois",
    "Lambert",
    "Dupont",
    "El Amrani",
    "Martin",
    "Simon",
    "Laurent",
    "Vermeulen",
    "Hermans",
)


@dataclass(frozen=True, slots=True)
class Group:
    """Where a share of the people work: an org unit, its authority and the roles there."""

    unit: str
    authority: str
    share: float
    roles: tuple[tuple[str, float], ...]


def _groups() -> tuple[Group, ...]:
    groups = [
        Group("be-fed-ministers", "be-federal", 0.01, (("minister", 0.1), ("cabinet_member", 0.9))),
        Group("be-fed-public-services", "be-federal", 0.05, (("civil_servant", 1.0),)),
        Group("be-fed-internal-systems-users", "be-federal", 0.02, (("civil_servant", 1.0),)),
    ]
    for i, name in enumerate(("finance", "health", "interior", "justice", "mobility", "economy", "bosa")):
        groups.append(
            Group(f"be-fed-fps-{name}", "be-federal", 0.055 if i else 0.06, (("civil_servant", 1.0),))
        )
    groups.append(
        Group("be-police-staff", "be-police", 0.12, (("police_officer", 0.85), ("civil_servant", 0.15)))
    )
    groups.append(Group("be-bxl-regional-services", "be-bxl-gov", 0.12, (("civil_servant", 1.0),)))
    for mid, _ in MUNICIPALITIES:
        groups.append(Group(f"{mid}-administration", mid, 0.012, (("civil_servant", 0.9), ("staff", 0.1))))
    groups += [
        Group("be-bxl-parl-members", "be-bxl-parl", 0.004, (("member_of_parliament", 1.0),)),
        Group("be-bxl-parl-groups", "be-bxl-parl", 0.006, (("group_staff", 1.0),)),
        Group("be-bxl-parl-services", "be-bxl-parl", 0.01, (("parliament_staff", 1.0),)),
    ]
    return tuple(groups)


def _directory_frame() -> dict[str, Any]:
    authorities = [
        {"id": "be-federal", "name": "Belgian federal government", "kind": "federal"},
        {"id": "be-police", "name": "Integrated police", "kind": "agency", "parent": "be-federal"},
        {"id": "be-bxl-gov", "name": "Government of the Brussels-Capital Region", "kind": "regional"},
        {"id": "be-bxl-parl", "name": "Brussels Parliament", "kind": "parliament"},
    ]
    authorities += [
        {"id": mid, "name": name, "kind": "local", "parent": "be-bxl-gov"} for mid, name in MUNICIPALITIES
    ]
    units = [
        {"id": "be-fed-ministers", "name": "Federal ministers and their cabinets", "authority": "be-federal"},
        {"id": "be-fed-public-services", "name": "Federal public services", "authority": "be-federal"},
        {
            "id": "be-fed-internal-systems-users",
            "name": "Staff with access to federal internal systems",
            "parent": "be-fed-public-services",
        },
        {"id": "be-police-staff", "name": "Police staff", "authority": "be-police"},
        {
            "id": "be-bxl-regional-services",
            "name": "Brussels regional public services",
            "authority": "be-bxl-gov",
        },
        {
            "id": "be-bxl-parl-members",
            "name": "Members of the Brussels Parliament",
            "authority": "be-bxl-parl",
        },
        {"id": "be-bxl-parl-groups", "name": "Political-group staff", "authority": "be-bxl-parl"},
        {"id": "be-bxl-parl-services", "name": "Parliament services", "authority": "be-bxl-parl"},
    ]
    units += [
        {"id": f"be-fed-fps-{n}", "name": f"FPS {n.title()}", "parent": "be-fed-public-services"}
        for n in ("finance", "health", "interior", "justice", "mobility", "economy", "bosa")
    ]
    units += [
        {"id": f"{mid}-administration", "name": f"{name} administration", "authority": mid}
        for mid, name in MUNICIPALITIES
    ]
    roles = [
        {"id": r, "name": r.replace("_", " ").capitalize()}
        for r in (
            "cabinet_member",
            "civil_servant",
            "group_staff",
            "member_of_parliament",
            "minister",
            "parliament_staff",
            "police_officer",
            "staff",
        )
    ]
    # the systems and networks the Belgian example decisions name (scope parts' systems and
    # network zones), as the administration's directory lists them
    systems = [
        {"id": "federal-internal-systems", "name": "Federal internal networks and systems"},
        {"id": "chamber-documents", "name": "Parliament document system"},
        {"id": "parliament-mail", "name": "Parliament mail"},
        {"id": "official-messaging-groups", "name": "Official messaging groups"},
    ]
    zones = [
        {"id": "parliament-lan", "name": "Parliament wired network"},
        {"id": "parliament-staff-wifi", "name": "Parliament staff Wi-Fi"},
        {"id": "visitor-wifi", "name": "Parliament visitor Wi-Fi"},
    ]
    return {
        "authorities": authorities,
        "org_units": units,
        "roles": roles,
        "systems": systems,
        "network_zones": zones,
    }


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What :func:`generate` wrote."""

    out: Path
    people: int
    devices: int
    app_rows: int
    files: tuple[Path, ...]
    """Inventory files per source: (source, path) order is amapi, apple, intune-csv."""
    sources: tuple[tuple[str, tuple[Path, ...]], ...]
    taken_at: datetime


@dataclass(slots=True)
class _Device:
    key: str
    platform: str
    """android or ios (ipad devices are reported as iPad in DeviceInformation)."""
    channel: str
    """amapi, apple or intune-csv"""
    company: bool
    email: str
    apps: list[tuple[str, str, str, str]]
    """(id, name, version, publisher)"""
    model: str
    serial: str


_VERSIONS = tuple(
    f"{major}.{minor}.{patch}"
    for major in (1, 3, 8, 12, 24, 33)
    for minor in (0, 2, 7, 15)
    for patch in (0, 1, 4)
)


@functools.cache
def _tail(platform: str, size: int) -> tuple[tuple[str, str, str, str], ...]:
    infix = "" if platform == "android" else "ios."
    return tuple(
        (
            f"com.vendor{n // 10}.{infix}app{n}",
            f"Vendor {n // 10} App {n}",
            f"{1 + n % 9}.{n % 7}",
            f"Vendor {n // 10}",
        )
        for n in range(size)
    )


def _pick_apps(
    rng: random.Random, platform: str, apps_per_device: int | None, tail: int
) -> list[tuple[str, str, str, str]]:
    chosen: list[tuple[str, str, str, str]] = []
    rand = rng.random
    n_versions = len(_VERSIONS)
    for a in CATALOG:
        if rand() < a.share:
            ident = a.android if platform == "android" else a.ios
            chosen.append((ident, a.name, _VERSIONS[int(rand() * n_versions)], a.publisher))
    target = apps_per_device if apps_per_device is not None else rng.randint(18, 45)
    pool = _tail(platform, tail)
    taken: set[int] = set()
    while len(chosen) < target:
        # a long tail: low numbers (popular apps) far more often than high ones
        n = int(tail * rand() ** 3)
        if n in taken:
            continue
        taken.add(n)
        chosen.append(pool[n])
    if apps_per_device is not None:
        del chosen[apps_per_device:]
    return chosen


def _people(rng: random.Random, n: int) -> Iterator[dict[str, Any]]:
    groups = _groups()
    weights = [g.share for g in groups]
    for i in range(n):
        g = rng.choices(groups, weights)[0]
        role = rng.choices([r for r, _ in g.roles], [w for _, w in g.roles])[0]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        pid = f"u{i + 1:07d}"
        email = f"{first}.{last}.{i + 1}@{g.authority}.example.be".lower().replace(" ", "")
        person: dict[str, Any] = {
            "id": pid,
            "user_name": f"{first[0]}{last}{i + 1}".lower().replace(" ", ""),
            "display_name": f"{first} {last}",
            "email": email,
            "title": role.replace("_", " "),
            "org_unit": g.unit,
            "roles": [role],
        }
        yield person


def generate(
    out: Path,
    *,
    people: int = DEFAULT_PEOPLE,
    seed: int = 2023,
    taken_at: datetime = DEFAULT_TAKEN_AT,
    apps_per_device: int | None = None,
    second_device_share: float = 0.08,
    devices_per_file: int = DEVICES_PER_FILE,
    tail_apps: int = 3_000,
    force: bool = False,
    layouts: bool = False,
) -> DemoSummary:
    """Write a synthetic fleet into ``out`` (created if needed); see the module docs.

    ``apps_per_device``: exactly that many apps per device (the benchmark uses 60);
    ``None`` draws 18 to 45. A folder that holds anything is refused unless ``force``
    (then files of the same names are replaced, and the files of an earlier run listed in
    ``out/.appveto-written`` that this one does not write are removed: the folder never mixes
    two fleets). ``layouts``: the files take the layouts of real exports in turn (module
    docs); otherwise every file has the first, plain one. Files are written through the one
    writer (appveto.outputs.files): a symbolic link in ``out`` is refused, never followed.
    """
    if people < 1:
        raise FleetError(f"demo fleet: people must be at least 1, got {people}")
    if apps_per_device is not None and not 0 <= apps_per_device <= len(CATALOG) + tail_apps:
        raise FleetError(f"demo fleet: apps per device must be between 0 and {len(CATALOG) + tail_apps}")
    with OutputFolder(
        out,
        empty=not force,
        what="; give --force to write into it anyway",
        record=RECORD,
        owner="appveto demo-data",
        replace_foreign=True,
    ) as folder:
        writers = _Writers(folder, devices_per_file, taken_at, layouts=layouts)
        try:
            return _generate(
                folder,
                writers,
                people,
                seed,
                taken_at,
                apps_per_device,
                second_device_share,
                tail_apps,
                layouts,
            )
        except BaseException:
            writers.discard()
            raise


def _generate(
    folder: OutputFolder,
    writers: _Writers,
    people: int,
    seed: int,
    taken_at: datetime,
    apps_per_device: int | None,
    second_device_share: float,
    tail_apps: int,
    layouts: bool = False,
) -> DemoSummary:
    out = folder.root
    rng = random.Random(seed)
    frame = _directory_frame()
    directory = out / "directory.json"
    dir_file = writers.open("directory.json", newline="\n")
    dir_fh = dir_file.fh
    head = json.dumps(frame, indent=1, ensure_ascii=False)
    dir_fh.write(head[: head.rindex("}")].rstrip() + ',\n "people": [\n')
    n_devices = n_rows = 0
    for i, person in enumerate(_people(rng, people)):
        held = 2 if rng.random() < second_device_share else 1
        keys: list[dict[str, str]] = []
        for k in range(held):
            n_devices += 1
            platform = "android" if rng.random() < 0.55 else "ios"
            channel = "apple" if platform == "ios" else ("intune-csv" if rng.random() < 0.15 else "amapi")
            company = k == 0 and rng.random() < 0.85
            dev = _Device(
                key=f"{'A' if platform == 'android' else 'I'}{n_devices:08d}",
                platform=platform,
                channel=channel,
                company=company,
                email=person["email"],
                apps=_odd_names(_pick_apps(rng, platform, apps_per_device, tail_apps), layouts),
                model=rng.choice(("Pixel 7", "Galaxy S23", "Galaxy A54", "Nokia G42"))
                if platform == "android"
                else rng.choice(("iPhone14,7", "iPhone15,2", "iPad13,18")),
                serial=f"SN{rng.getrandbits(40):010X}",
            )
            n_rows += len(dev.apps)
            writers.write(dev, rng)
            ipad = dev.model.startswith("iPad")
            keys.append({"id": dev.key, "platform": "ipados" if ipad else platform})
        person["devices"] = keys
        dir_fh.write(("  " if i == 0 else ",\n  ") + json.dumps(person, ensure_ascii=False))
    dir_fh.write("\n ]\n}\n")
    sources = writers.close()
    files = tuple(p for _, ps in sources for p in ps)
    return DemoSummary(out, people, n_devices, n_rows, (directory, *files), sources, taken_at)


_PLIST_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
    '<plist version="1.0">\n<array>\n'
)


def _x(text: str) -> str:
    """XML character data, as plistlib writes it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plist_value(value: str | bool) -> str:
    if isinstance(value, bool):
        return "<true/>" if value else "<false/>"
    return f"<string>{_x(value)}</string>"


_GO_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;", "\n": "&#xA;"}


def _x_go(text: str) -> str:
    """XML character data as Go's encoding/xml escapes it (MDM servers such as NanoMDM)."""
    return "".join(_GO_ESCAPES.get(c, c) for c in text)


def _odd_names(apps: list[tuple[str, str, str, str]], layouts: bool) -> list[tuple[str, str, str, str]]:
    """With layouts, every seventh app of the long tail gets a name with commas and quotes."""
    if not layouts:
        return apps
    out = []
    for i, app in enumerate(apps):
        ident, name, version, _ = app
        if i % 7 == 3 and ident.startswith("com.vendor"):
            odd, who = _ODD_NAMES[(i // 7) % len(_ODD_NAMES)]
            app = (ident, f"{odd} {name.rsplit(' ', 1)[-1]}", version, who)  # noqa: PLW2901
        out.append(app)
    return out


def _rfc3339(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Writers:
    """One open file per source, rotated every ``per_file`` devices; each is written
    through the output folder and committed (renamed into place) when complete."""

    def __init__(
        self, folder: OutputFolder, per_file: int, taken_at: datetime, *, layouts: bool = False
    ) -> None:
        self.layouts = layouts
        self.layout: dict[str, str] = {}
        self.binary_docs: list[Any] = []
        self.folder = folder
        self.out = folder.root
        self.per_file = per_file
        self.taken_at = taken_at
        self.files: dict[str, list[Path]] = {"amapi": [], "apple": [], "intune-csv": []}
        self.counts = {"amapi": 0, "apple": 0, "intune-csv": 0}
        self.handles: dict[str, TextIO] = {}
        self.open_files: dict[str, OutputFile] = {}
        self.csv: Any = None

    def open(self, name: str, *, newline: str | None = "", text: bool = True) -> OutputFile:
        f = self.open_files[name] = self.folder.open(name, text=text, newline=newline if text else None)
        return f

    def discard(self) -> None:
        """Drop every file not complete yet (an error half-way: no half file is left)."""
        for f in self.open_files.values():
            f.discard()
        self.open_files.clear()

    def _rotate(self, channel: str) -> None:
        if self.counts[channel] % self.per_file:
            return
        self._close(channel)
        n = len(self.files[channel]) + 1
        ext = {"amapi": "json", "apple": "plist", "intune-csv": "csv"}[channel]
        stem = {"amapi": "amapi", "apple": "apple", "intune-csv": "intune"}[channel]
        options = LAYOUTS[channel]
        layout = self.layout[channel] = options[(n - 1) % len(options)] if self.layouts else options[0]
        path = self.out / (f"{stem}-{n:03d}-{layout}.{ext}" if self.layouts else f"{stem}-{n:03d}.{ext}")
        self.files[channel].append(path)
        if layout == "binary":
            self.binary_docs = []
            self.handles[channel] = self.open(path.name, text=False).fh  # written whole at close
            return
        crlf = layout.endswith("crlf") and channel != "intune-csv"
        fh = self.handles[channel] = self.open(path.name, newline="\r\n" if crlf else "").fh
        if "bom" in layout:
            fh.write("\ufeff")
        if channel == "apple":
            fh.write(_PLIST_HEAD)
        elif channel == "amapi":
            fh.write('{\n  "devices": [\n' if layout.startswith("pretty") else '{"devices": [\n')
        else:
            self.csv = csv.writer(
                fh,
                lineterminator="\n" if layout == "lf" else "\r\n",
                quoting=csv.QUOTE_ALL if layout == "bom-quoted" else csv.QUOTE_MINIMAL,
            )
            self.csv.writerow(
                [
                    "ApplicationKey",
                    "ApplicationName",
                    "ApplicationPublisher",
                    "ApplicationShortVersion",
                    "ApplicationVersion",
                    "DeviceId",
                    "DeviceName",
                    "OSDescription",
                    "OSVersion",
                    "Platform",
                    "UserId",
                    "EmailAddress",
                    "UserName",
                ]
            )

    def _close(self, channel: str) -> None:
        fh = self.handles.pop(channel, None)
        if fh is None:
            return
        layout = self.layout.get(channel, "")
        if layout == "binary":
            data = plistlib.dumps(self.binary_docs, fmt=plistlib.FMT_BINARY, sort_keys=False)
            self.open_files[self.files[channel][-1].name].write(data)
            self.binary_docs = []
        elif channel == "apple":
            fh.write("</array>\n</plist>\n")
        elif channel == "amapi":
            fh.write("\n  ]\n}\n" if layout.startswith("pretty") else "\n]}\n")
        name = self.files[channel][-1].name
        self.open_files.pop(name).commit()

    def write(self, d: _Device, rng: random.Random) -> None:
        self._rotate(d.channel)
        first = self.counts[d.channel] % self.per_file == 0
        self.counts[d.channel] += 1
        enrolled = self.taken_at - timedelta(days=rng.randint(30, 900), seconds=rng.randint(0, 86_399))
        reported = self.taken_at - timedelta(seconds=rng.randint(60, 36 * 3600))
        if d.channel == "amapi":
            doc = {
                "name": f"enterprises/LC00demo/devices/{d.key}",
                "managementMode": "DEVICE_OWNER" if d.company else "PROFILE_OWNER",
                "ownership": "COMPANY_OWNED" if d.company else "PERSONALLY_OWNED",
                "state": "ACTIVE",
                "userName": d.email,
                "enrollmentTime": _rfc3339(enrolled),
                "lastStatusReportTime": _rfc3339(reported),
                "hardwareInfo": {"brand": d.model.split()[0], "model": d.model, "serialNumber": d.serial},
                "softwareInfo": {"androidVersion": rng.choice(("13", "14", "15"))},
                "applicationReports": [
                    {
                        "packageName": ident,
                        "displayName": name,
                        "versionName": version,
                        "state": "INSTALLED",
                        "applicationSource": "INSTALLED_FROM_PLAY_STORE",
                    }
                    for ident, name, version, _ in d.apps
                ],
            }
            fh = self.handles["amapi"]
            if not first:
                fh.write(",\n")
            if self.layout["amapi"].startswith("pretty"):
                fh.write("    " + json.dumps(doc, indent=2, ensure_ascii=False).replace("\n", "\n    "))
            else:
                fh.write(json.dumps(doc, separators=(",", ":")))
        elif d.channel == "apple":
            ipad = d.model.startswith("iPad")
            fh = self.handles["apple"]
            info: dict[str, str | bool] = {
                "DeviceName": f"{'iPad' if ipad else 'iPhone'} {d.key}",
                "IsSupervised": d.company,
                "OSVersion": rng.choice(("16.7.8", "17.5.1", "17.6")),
                "ProductName": d.model,
                "SerialNumber": d.serial,
            }
            if self.layout["apple"] == "binary":
                self.binary_docs.append(
                    {
                        "CommandUUID": f"info-{d.key}",
                        "QueryResponses": info,
                        "Status": "Acknowledged",
                        "UDID": d.key,
                    }
                )
                self.binary_docs.append(
                    {
                        "CommandUUID": f"apps-{d.key}",
                        "InstalledApplicationList": [
                            {"Identifier": ident, "Name": name, "ShortVersion": version, "Version": version}
                            for ident, name, version, _ in d.apps
                        ],
                        "Status": "Acknowledged",
                        "UDID": d.key,
                    }
                )
                return
            x = _x_go if self.layout["apple"] == "xml-entities" else _x
            fh.write(
                "\t<dict>\n"
                f"\t\t<key>CommandUUID</key>\n\t\t<string>info-{_x(d.key)}</string>\n"
                "\t\t<key>QueryResponses</key>\n\t\t<dict>\n"
                + "".join(f"\t\t\t<key>{k}</key>\n\t\t\t{_plist_value(v)}\n" for k, v in info.items())
                + "\t\t</dict>\n"
                "\t\t<key>Status</key>\n\t\t<string>Acknowledged</string>\n"
                f"\t\t<key>UDID</key>\n\t\t<string>{_x(d.key)}</string>\n"
                "\t</dict>\n"
            )
            fh.write(
                "\t<dict>\n"
                f"\t\t<key>CommandUUID</key>\n\t\t<string>apps-{_x(d.key)}</string>\n"
                "\t\t<key>InstalledApplicationList</key>\n\t\t<array>\n"
                + "".join(
                    "\t\t\t<dict>\n"
                    f"\t\t\t\t<key>Identifier</key>\n\t\t\t\t<string>{_x(ident)}</string>\n"
                    f"\t\t\t\t<key>Name</key>\n\t\t\t\t<string>{x(name)}</string>\n"
                    f"\t\t\t\t<key>ShortVersion</key>\n\t\t\t\t<string>{_x(version)}</string>\n"
                    f"\t\t\t\t<key>Version</key>\n\t\t\t\t<string>{_x(version)}</string>\n"
                    "\t\t\t</dict>\n"
                    for ident, name, version, _ in d.apps
                )
                + "\t\t</array>\n"
                "\t\t<key>Status</key>\n\t\t<string>Acknowledged</string>\n"
                f"\t\t<key>UDID</key>\n\t\t<string>{_x(d.key)}</string>\n"
                "\t</dict>\n"
            )
        else:
            assert self.csv is not None
            os_version = rng.choice(("13", "14"))
            for ident, name, version, publisher in d.apps:
                self.csv.writerow(
                    [
                        f"{ident}-key",
                        name,
                        publisher,
                        version,
                        version,
                        d.key,
                        d.key,
                        f"Android {os_version}",
                        os_version,
                        "Android",
                        f"uid-{d.key}",
                        d.email,
                        d.email.split("@")[0],
                    ]
                )

    def close(self) -> tuple[tuple[str, tuple[Path, ...]], ...]:
        for channel in ("amapi", "apple", "intune-csv"):
            self._close(channel)
        for f in self.open_files.values():  # directory.json
            f.commit()
        self.open_files.clear()
        return tuple((c, tuple(self.files[c])) for c in ("amapi", "apple", "intune-csv") if self.files[c])
