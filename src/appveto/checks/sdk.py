"""Tracker and SDK matching shared by TRK and JUR.

Exodus semantics: a tracker is in the app when its code signature (a regex searched in
class names) matches classes of the app's DEX. On top of that, each class counts for one
tracker only (the most specific signature), so an SDK whose classes all belong to another
SDK already matched adds nothing, and the classes of a dependency several SDKs share
(the advertising-ID client...) count for none. Network signatures only add hosts to a
tracker found by its code; a host alone is an endpoint (:func:`tracker_endpoints`).
"""

from __future__ import annotations

from dataclasses import dataclass

from appveto.apk.model import Apk, descriptor_to_java
from appveto.checks.endpoints import Endpoint, endpoints
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
    hidden_count: int = 0
    """How many of the matched classes are defined only by code decoded from a hidden
    payload (:attr:`Facts.hidden_classes`)."""


def match_trackers(apk: Apk, kb: KnowledgeBase) -> tuple[TrackerMatch, ...]:
    return memo(apk, f"trackers:{id(kb)}", lambda: _match(apk, kb))


def _hidden_java(apk: Apk) -> dict[str, str]:
    """Classes defined by decoded hidden code (dotted names) and not by the app's own DEX,
    with their origin."""

    def build() -> dict[str, str]:
        f = facts(apk)
        named = ((descriptor_to_java(d), o) for d, o in f.hidden_classes.items())
        return {java: o for java, o in named if java not in f.defined_java}

    return memo(apk, "hidden-java", build)


def _all_classes(apk: Apk) -> list[str]:
    """The app's classes and those of decoded hidden code: a tracker loaded from a hidden
    payload is still embedded in the app."""
    return [*facts(apk).defined_java, *_hidden_java(apk)]


def _packages(apk: Apk) -> tuple[str, dict[str, list[str]]]:
    by_pkg: dict[str, list[str]] = {}
    for cls in _all_classes(apk):
        pkg = cls.rpartition(".")[0]
        by_pkg.setdefault(pkg, []).append(cls)
    blob = "\n".join(p + "." for p in sorted(by_pkg))
    return blob, by_pkg


def _class_blob(apk: Apk) -> str:
    return "\n".join(sorted(_all_classes(apk)))


def _line(blob: str, pos: int) -> str:
    start = blob.rfind("\n", 0, pos) + 1
    end = blob.find("\n", pos)
    return blob[start : end if end >= 0 else len(blob)]


def _shared(pkg: str, shared: tuple[str, ...]) -> bool:
    return any(pkg == p or pkg.startswith(p + ".") for p in shared)


def _credit(apk: Apk, kb: KnowledgeBase) -> dict[str, tuple[int, int]]:
    """Each class of the app credited to one tracker: the one whose code signature matches
    it most specifically (the longest match; on a tie, the first in the list). Classes of
    a shared dependency (:attr:`KnowledgeBase.shared_dependencies`) are credited to none.
    Returns class -> (match length, tracker index)."""
    blob, by_pkg = memo(apk, "packages", lambda: _packages(apk))
    best: dict[str, tuple[int, int]] = {}

    def give(cls: str, length: int, i: int) -> None:
        old = best.get(cls)
        if old is None or length > old[0]:
            best[cls] = (length, i)

    for i, t in enumerate(kb.trackers):
        code = t.code_pattern()
        if code is None:
            continue
        if any(ch.isupper() for ch in code.pattern):
            # the signature names classes, not only packages: search the class names
            cblob = memo(apk, "class-blob", lambda: _class_blob(apk))
            for m in code.finditer(cblob):
                cls = _line(cblob, m.start())
                if not _shared(cls.rpartition(".")[0], kb.shared_dependencies):
                    give(cls, m.end() - m.start(), i)
        elif blob:
            lengths: dict[str, int] = {}
            for m in code.finditer(blob):
                pkg = _line(blob, m.start())[:-1]
                lengths[pkg] = max(lengths.get(pkg, 0), m.end() - m.start())
            for pkg, length in lengths.items():
                if not _shared(pkg, kb.shared_dependencies):
                    for cls in by_pkg.get(pkg, ()):
                        give(cls, length, i)
    return best


def _match(apk: Apk, kb: KnowledgeBase) -> tuple[TrackerMatch, ...]:
    credited: dict[int, list[str]] = {}
    for cls, (_, i) in memo(apk, f"tracker-credit:{id(kb)}", lambda: _credit(apk, kb)).items():
        credited.setdefault(i, []).append(cls)
    eps = endpoints(apk)
    hidden = _hidden_java(apk)
    out: list[TrackerMatch] = []
    for i, classes in credited.items():
        t = kb.trackers[i]
        # classes of hidden code first: they are the evidence a reader would not find
        sample = sorted(classes, key=lambda c: (c not in hidden, c))[:3]
        net = t.network_pattern()
        hosts = [e.host for e in eps if net.search(e.host)] if net is not None else []
        ev: list[Evidence] = [
            Evidence(
                EvidenceKind.CLASS,
                c,
                Location(class_name=c),
                f"matches code signature of {t.name}" + (f", {hidden[c]}" if c in hidden else ""),
            )
            for c in sample
        ]
        ev.extend(_host_evidence(t, hosts, eps))
        n_hidden = sum(1 for c in classes if c in hidden)
        out.append(TrackerMatch(t, tuple(sample), len(classes), tuple(hosts), tuple(ev), n_hidden))
    return tuple(sorted(out, key=lambda m: (m.tracker.name, m.tracker.id)))


def _host_evidence(t: Tracker, hosts: list[str], eps: tuple[Endpoint, ...]) -> list[Evidence]:
    out = []
    for h in hosts[:3]:
        ep = next(e for e in eps if e.host == h)
        loc = ep.evidence[0].location if ep.evidence else Location()
        out.append(Evidence(EvidenceKind.ENDPOINT, h, loc, f"matches network signature of {t.name}"))
    return out


@dataclass(frozen=True, slots=True)
class TrackerEndpoint:
    """Endpoints that match the network signature of a tracker whose code is *not* in the
    app: where data may go, not an embedded tracker."""

    tracker: Tracker
    hosts: tuple[str, ...]
    evidence: tuple[Evidence, ...]


def tracker_endpoints(apk: Apk, kb: KnowledgeBase) -> tuple[TrackerEndpoint, ...]:
    return memo(apk, f"tracker-endpoints:{id(kb)}", lambda: _endpoints_only(apk, kb))


def _endpoints_only(apk: Apk, kb: KnowledgeBase) -> tuple[TrackerEndpoint, ...]:
    eps = endpoints(apk)
    if not eps:
        return ()
    with_code = {m.tracker.id for m in match_trackers(apk, kb)}
    out: list[TrackerEndpoint] = []
    for t in kb.trackers:
        net = t.network_pattern()
        if net is None or t.id in with_code:
            continue
        hosts = [e.host for e in eps if net.search(e.host)]
        if hosts:
            out.append(TrackerEndpoint(t, tuple(hosts), tuple(_host_evidence(t, hosts, eps))))
    return tuple(sorted(out, key=lambda m: (m.tracker.name, m.tracker.id)))
