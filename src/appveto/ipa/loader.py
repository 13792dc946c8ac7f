"""Compose the parsers into one :class:`Ipa`.

An IPA is a zip (read by :mod:`appveto.archive`, the APK's lenient reader, with the same
limits; nothing is extracted to disk or executed) holding ``Payload/<name>.app/``. Only a
file that is not a zip at all raises; every part that cannot be read (Info.plist, the
provisioning profile, a Mach-O file, its signature, a privacy manifest) becomes an
:class:`IpaProblem` and the rest is still read.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from appveto.archive import Archive, Limits, Tampering, open_archive
from appveto.errors import ApkError, IpaError
from appveto.ipa import plist
from appveto.ipa.bundle import bundle_info, privacy_manifest
from appveto.ipa.macho import is_macho, parse_macho
from appveto.ipa.model import (
    BundleInfo,
    EmbeddedBundle,
    Entitlements,
    Ipa,
    IpaProblem,
    MachOFile,
    PlistDict,
    PrivacyManifest,
    ProvisioningProfile,
)
from appveto.ipa.signing import parse_provisioning_profile

T = TypeVar("T")

_APP = re.compile(r"^((?:[^/]+/)*?)Payload/([^/]+\.app)/")
_MAX_PLIST = 8 * 1024 * 1024
"""Largest Info.plist, profile, privacy manifest or xcent read (real ones are a few KiB)."""
_MAX_BINARIES = 512
"""Mach-O files read besides the main executable (frameworks, dylibs, extensions)."""
_PROBLEMS_PER_PART = 200


def load_ipa(path: str, *, limits: Limits | None = None) -> Ipa:
    """Read the IPA at ``path``. Raises :class:`IpaError` only when it is not a zip at all
    (or goes over an archive limit at open)."""
    try:
        archive = open_archive(path, limits=limits or Limits())
    except ApkError as exc:
        raise IpaError(exc.message, diagnostics=exc.diagnostics()) from None
    digests: list[str] = []
    hasher = threading.Thread(
        target=lambda: digests.extend(
            h(archive.data).hexdigest() for h in (hashlib.sha256, hashlib.sha1, hashlib.md5)
        ),
        name="appveto-digests",
        daemon=True,
    )
    hasher.start()
    parts = _Reader(archive, path).read()
    hasher.join()
    return Ipa(
        path=path,
        size=len(archive.data),
        sha256=digests[0],
        sha1=digests[1],
        md5=digests[2],
        entries=archive.entries,
        tampering=tuple(zip_facts(t) for t in archive.tampering),
        app_path=parts.app_path,
        info=parts.info,
        provision=parts.provision,
        main_binary=parts.main_binary,
        binaries=parts.binaries,
        bundles=parts.bundles,
        privacy_manifests=parts.privacy_manifests,
        xcent=parts.xcent,
        problems=parts.problems,
        archive=archive,
    )


@dataclass(frozen=True, slots=True)
class _Parts:
    app_path: str | None
    info: BundleInfo | None
    provision: ProvisioningProfile | None
    main_binary: MachOFile | None
    binaries: tuple[MachOFile, ...]
    bundles: tuple[EmbeddedBundle, ...]
    privacy_manifests: tuple[PrivacyManifest, ...]
    xcent: Entitlements | None
    problems: tuple[IpaProblem, ...]


_ANDROID = r"\b(?:Android|APKs?|jarsigner)\b"
_PAREN_ANDROID = re.compile(r"\s*\([^()]*" + _ANDROID + r"[^()]*\)|;[^;()]*" + _ANDROID + r"[^;()]*(?=\))")


def zip_facts(t: Tampering) -> Tampering:
    """The archive reader's observation with its notes on what Android does left out:
    the deviation is the fact for an IPA; Android's behaviour is not iOS's."""
    parts = [p for p in t.detail.split("; ") if not re.search(_ANDROID, p)]
    if not parts:
        parts = [t.detail.split("; ", 1)[0]]
    text = "; ".join(parts)
    text = _PAREN_ANDROID.sub("", text)
    text = re.split(r":\s*" + _ANDROID, text, maxsplit=1)[0]
    return Tampering(t.kind, t.entry, t.offset, text.strip())


class _Reader:
    def __init__(self, archive: Archive, path: str) -> None:
        self.archive = archive
        self.file = path
        self.problems: list[IpaProblem] = []

    def attempt(self, part: str, entry: str | None, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except (IpaError, ApkError) as exc:
            d = exc.diagnostics()[0]
            self.problems.append(IpaProblem(part, d.message, d.entry or entry, d.offset))
            return None

    def read_plist(self, part: str, entry: str) -> PlistDict | None:
        return self.attempt(
            part,
            entry,
            lambda: plist.load_dict(
                self.archive.read(entry, max_size=_MAX_PLIST), file=self.file, entry=entry
            ),
        )

    # ------------------------------------------------------------------ the bundle
    def find_app(self) -> str | None:
        roots: dict[str, int] = {}
        for e in self.archive.entries:
            m = _APP.match(e.name)
            if m:
                key = m.group(1) + "Payload/" + m.group(2)
                roots[key] = roots.get(key, 0) + 1
        if not roots:
            self.problems.append(
                IpaProblem("bundle", "no app bundle: the archive has no Payload/<name>.app/ folder")
            )
            return None
        top = sorted(r for r in roots if r.startswith("Payload/"))
        if top:
            app = top[0]
            if len(top) > 1:
                self.problems.append(
                    IpaProblem(
                        "bundle", f"{len(top)} app bundles under Payload/ ({', '.join(top)}); reading {app}"
                    )
                )
            return app
        app = sorted(roots)[0]
        self.problems.append(
            IpaProblem(
                "bundle",
                f"the app bundle is at {app}, not at Payload/<name>.app at the root of the archive: "
                "iOS does not install this archive; read as found",
                app + "/",
            )
        )
        return app

    def read(self) -> _Parts:
        archive = self.archive
        app = self.find_app()
        info: BundleInfo | None = None
        provision: ProvisioningProfile | None = None
        main: MachOFile | None = None
        binaries: list[MachOFile] = []
        bundles: list[EmbeddedBundle] = []
        manifests: list[PrivacyManifest] = []
        xcent: Entitlements | None = None
        if app is not None:
            prefix = app + "/"
            info_entry = prefix + "Info.plist"
            if archive.get(info_entry) is None:
                self.problems.append(IpaProblem("info-plist", "the app bundle has no Info.plist", info_entry))
            else:
                doc = self.read_plist("info-plist", info_entry)
                if doc is not None:
                    info = bundle_info(doc, entry=info_entry)
            prov_entry = prefix + "embedded.mobileprovision"
            if archive.get(prov_entry) is not None:
                provision = self.attempt(
                    "provision",
                    prov_entry,
                    lambda: parse_provisioning_profile(
                        archive.read(prov_entry, max_size=_MAX_PLIST), file=self.file, entry=prov_entry
                    ),
                )
            xcent_entry = prefix + "archived-expanded-entitlements.xcent"
            if archive.get(xcent_entry) is not None:
                doc = self.read_plist("entitlements", xcent_entry)
                if doc is not None:
                    xcent = Entitlements("xcent", doc)
            main = self.main_binary(prefix, info)
            bundles, binaries = self.embedded(prefix)
            manifests = self.privacy(prefix)
        return _Parts(
            app_path=app,
            info=info,
            provision=provision,
            main_binary=main,
            binaries=tuple(binaries),
            bundles=tuple(bundles),
            privacy_manifests=tuple(manifests),
            xcent=xcent,
            problems=_capped(self.problems),
        )

    def main_binary(self, prefix: str, info: BundleInfo | None) -> MachOFile | None:
        name = info.executable if info is not None and info.executable else None
        if name is None:
            name = posixpath.basename(prefix.rstrip("/"))[: -len(".app")]
            if info is not None:
                self.problems.append(
                    IpaProblem(
                        "macho", f"Info.plist names no CFBundleExecutable; trying '{name}'", info.entry
                    )
                )
        entry = prefix + name
        if "/" in name or self.archive.get(entry) is None:
            self.problems.append(
                IpaProblem("macho", f"the main executable '{name}' is not in the bundle", entry)
            )
            return None
        return self.macho(entry, "main")

    def macho(self, entry: str, role: str) -> MachOFile | None:
        return self.attempt(
            "macho",
            entry,
            lambda: parse_macho(self.archive.read(entry), file=self.file, entry=entry, role=role),
        )

    def embedded(self, prefix: str) -> tuple[list[EmbeddedBundle], list[MachOFile]]:
        """Frameworks, loose dylibs, app extensions and watch apps one level down."""
        bundle_re = re.compile(
            re.escape(prefix) + r"(Frameworks/[^/]+\.framework|PlugIns/[^/]+\.appex|Watch/[^/]+\.app|"
            r"Extensions/[^/]+\.appex|Frameworks/[^/]+\.dylib)(/|$)"
        )
        found: dict[str, str] = {}
        for e in self.archive.entries:
            m = bundle_re.match(e.name)
            if m:
                found.setdefault(prefix + m.group(1), m.group(1).split("/", 1)[0])
        bundles: list[EmbeddedBundle] = []
        binaries: list[MachOFile] = []
        for path in sorted(found):
            base = posixpath.basename(path)
            stem, ext = posixpath.splitext(base)
            kind = {".framework": "framework", ".appex": "extension", ".dylib": "dylib"}.get(ext, "watch")
            if kind == "dylib":
                bundles.append(EmbeddedBundle(path, kind, base, None))
                exe = path
            else:
                info_entry = path + "/Info.plist"
                info = None
                if self.archive.get(info_entry) is not None:
                    doc = self.read_plist("framework", info_entry)
                    info = bundle_info(doc, entry=info_entry) if doc is not None else None
                bundles.append(EmbeddedBundle(path, kind, stem, info))
                exe = (
                    path
                    + "/"
                    + (info.executable if info and info.executable and "/" not in info.executable else stem)
                )
            if len(binaries) >= _MAX_BINARIES:
                self.problems.append(
                    IpaProblem("macho", f"more than {_MAX_BINARIES} embedded binaries: not read", exe)
                )
                continue
            entry = self.archive.get(exe)
            if entry is None:
                if kind != "watch":
                    self.problems.append(
                        IpaProblem("macho", "the bundle's executable is not in the archive", exe)
                    )
                continue
            try:
                head = self.archive.read_head(entry, 8)
            except ApkError as exc:
                d = exc.diagnostics()[0]
                self.problems.append(IpaProblem("macho", d.message, exe, d.offset))
                continue
            if not is_macho(head):
                self.problems.append(
                    IpaProblem("macho", f"not a Mach-O file (starts with {head.hex()})", exe)
                )
                continue
            parsed = self.macho(exe, kind)
            if parsed is not None:
                binaries.append(parsed)
        return bundles, binaries

    def privacy(self, prefix: str) -> list[PrivacyManifest]:
        out: list[PrivacyManifest] = []
        for e in self.archive.entries:
            if not e.name.startswith(prefix) or posixpath.basename(e.name) != "PrivacyInfo.xcprivacy":
                continue
            inner = posixpath.dirname(e.name[len(prefix) :])
            doc = self.read_plist("privacy", e.name)
            if doc is not None:
                out.append(privacy_manifest(doc, entry=e.name, bundle=inner))
        return sorted(out, key=lambda m: (m.bundle, m.entry))  # the app's own first


def _capped(problems: list[IpaProblem]) -> tuple[IpaProblem, ...]:
    kept: list[IpaProblem] = []
    counts: dict[str, int] = {}
    for p in problems:
        counts[p.part] = counts.get(p.part, 0) + 1
        if counts[p.part] <= _PROBLEMS_PER_PART:
            kept.append(p)
    for part, n in counts.items():
        if n > _PROBLEMS_PER_PART:
            kept.append(IpaProblem(part, f"{n - _PROBLEMS_PER_PART} more '{part}' problems not listed"))
    return tuple(kept)
