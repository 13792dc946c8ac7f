"""Tracker and SDK matching shared by TRK and JUR.

Code signatures (Exodus semantics: a regex searched in class names) are matched
against the unique package names of the primary DEX; network signatures against
the endpoints found in the APK.
"""

from __future__ import annotations

from dataclasses import dataclass

from appveto.apk.model import Apk
from appveto.checks.endpoints import endpoints
from appveto.checks.facts import facts, memo
from appveto.findings import Evidence, EvidenceKind, Location
from appveto.kb.model import KnowledgeBase, Tracker


@dataclass(frozen=True, slots=True)
class TrackerMatch:
    tracker: Tracker
    classes: tuple[str, ...]
    """Sample class names (dotted) that matched the code signature."""
    class_count: int
    hosts: tuple[str, ...]
    """Endpoints that matched the network signature."""
    evidence: tuple[Evidence, ...]


def match_trackers(apk: Apk, kb: KnowledgeBase) -> tuple[TrackerMatch, ...]:
    return memo(apk, f"trackers:{id(kb)}", lambda: _match(apk, kb))


def _packages(apk: Apk) -> tuple[str, dict[str, list[str]]]:
    by_pkg: dict[str, list[str]] = {}
    for cls in facts(apk).defined_java:
        pkg = cls.rpartition(".")[0]
        by_pkg.setdefault(pkg, []).append(cls)
    blob = "\n".join(p + "." for p in sorted(by_pkg))
    return blob, by_pkg


def _class_blob(apk: Apk) -> str:
    return "\n".join(sorted(facts(apk).defined_java))


def _line(blob: str, pos: int) -> str:
    start = blob.rfind("\n", 0, pos) + 1
    end = blob.find("\n", pos)
    return blob[start : end if end >= 0 else len(blob)]


def _match(apk: Apk, kb: KnowledgeBase) -> tuple[TrackerMatch, ...]:
    blob, by_pkg = memo(apk, "packages", lambda: _packages(apk))
    eps = endpoints(apk)
    out: list[TrackerMatch] = []
    for t in kb.trackers:
        classes: list[str] = []
        count = 0
        seen: set[str] = set()
        code = t.code_pattern()
        if code is not None and any(ch.isupper() for ch in code.pattern):
            # the signature names classes, not only packages: search the class names
            cblob = memo(apk, "class-blob", lambda: _class_blob(apk))
            hits = sorted({_line(cblob, m.start()) for m in code.finditer(cblob)})
            for cls in hits:
                pkg = cls.rpartition(".")[0] + "."
                if pkg not in seen:
                    seen.add(pkg)
            count += len(hits)
            classes.extend(hits[:3])
        elif code is not None and blob:
            for m in code.finditer(blob):
                start = blob.rfind("\n", 0, m.start()) + 1
                end = blob.find("\n", m.end())
                pkg_line = blob[start : end if end >= 0 else len(blob)]
                if pkg_line in seen:
                    continue
                seen.add(pkg_line)
                members = by_pkg.get(pkg_line[:-1], [])
                count += len(members)
                classes.extend(sorted(members)[: max(0, 3 - len(classes))])
                if end < 0:
                    break
        hosts: list[str] = []
        net = t.network_pattern()
        if net is not None:
            hosts = [e.host for e in eps if net.search(e.host)]
        if not classes and not hosts:
            continue
        ev: list[Evidence] = [
            Evidence(EvidenceKind.CLASS, c, Location(class_name=c), f"matches code signature of {t.name}")
            for c in classes
        ]
        for h in hosts[:3]:
            ep = next(e for e in eps if e.host == h)
            loc = ep.evidence[0].location if ep.evidence else Location()
            ev.append(Evidence(EvidenceKind.ENDPOINT, h, loc, f"matches network signature of {t.name}"))
        out.append(TrackerMatch(t, tuple(classes), count, tuple(hosts), tuple(ev)))
    return tuple(sorted(out, key=lambda m: (m.tracker.name, m.tracker.id)))
