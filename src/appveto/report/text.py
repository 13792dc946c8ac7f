"""Plain-text rendering of scan results for a person at a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from appveto.outputs import terminal
from appveto.report.registry import renderer

if TYPE_CHECKING:
    from appveto.scan.record import ScanRecord


def _clean(line: str) -> str:
    """One output line: control, line-breaking and bidi characters that came from an APK
    (a crafted label or permission name) become escapes, so they cannot add lines or
    drive the terminal (the one terminal rule, appveto.outputs.terminal)."""
    return terminal.line(line)


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> list[str]:
    widths = [len(h) for h in header]
    for r in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, r, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return out


def _facts(r: ScanRecord) -> list[str]:
    """One block per APK: identity, SDKs, permissions, components, signers, DEX, tampering."""
    out = [f"== {r.file}"]
    if r.error:
        out.append(f"   error: {r.error}")
        out.append("")
        return out
    out.append(f"   sha256      {r.sha256}")
    out.append(f"   package     {r.package}  (versionCode {r.version_code}, '{r.version_name}')")
    out.append(f"   sdk         min {r.min_sdk}  target {r.target_sdk}  max {r.max_sdk}")
    if r.label:
        out.append(f"   label       {r.label}")
    if r.dex is not None:
        dex = r.dex
        out.append(
            f"   dex         {len(dex.files)} file(s), {dex.classes} classes, "
            f"{dex.methods} method refs, {dex.strings} strings"
        )
        for e in dex.embedded:
            out.append(f"               embedded: {e.entry} ({e.location}, {e.size} bytes)")
    if r.native_libs:
        abis = sorted({n.abi for n in r.native_libs})
        names = sorted({n.name for n in r.native_libs})
        out.append(f"   native      {', '.join(names)} [{', '.join(abis)}]")
    out.append(f"   signing     {', '.join(r.signing_schemes) or 'unsigned'}")
    for s in r.signers:
        out.append(f"               {s.cert_sha256}  {s.subject}")
    out.append(f"   permissions ({len(r.permissions)})")
    out += [f"               {p}" for p in r.permissions]
    if r.components:
        out.append("   components")
        rows = [(c.type, c.name, "yes" if c.exported else "no") for c in r.components]
        out += ["     " + line for line in _table(rows, ("type", "name", "exported"))]
    if r.tampering:
        out.append("   tampering")
        trows = [
            (t.kind, t.entry or "-", "-" if t.offset is None else hex(t.offset), t.detail)
            for t in r.tampering
        ]
        out += ["     " + line for line in _table(trows, ("kind", "entry", "offset", "detail"))]
    for p in r.problems:
        where = f" ({p.entry})" if p.entry else ""
        out.append(f"   unreadable  {p.part}: {p.message}{where}")
    out.append("")
    return out


@renderer("scan", "text", description="a summary per APK for a terminal")
def render_scan_text(records: Sequence[ScanRecord]) -> str:
    """Verdict, score with its sub-scores, findings and coverage, then the reader's facts."""
    from appveto.report.verdict import verdict

    out: list[str] = []
    for r in records:
        facts = _facts(r)
        if r.error is not None or r.score is None:
            out.extend(facts)
            continue
        v = verdict(r)
        head, rest = facts[0], facts[1:]
        out.append(head)
        out.append(f"   verdict     {v.headline}")
        for reason in v.reasons:
            out.append(f"               - {reason}")
        for c in v.caveats:
            out.append(f"   caveat      {c}")
        subs = ", ".join(f"{s.name} {s.points}" for s in r.score.subscores)
        out.append(f"   sub-scores  {subs}")
        if r.coverage_summary:
            out.append(f"   coverage    {r.coverage_summary}")
        if r.trackers:
            out.append("   trackers    " + ", ".join(t.name for t in r.trackers))
        owners = sorted({e.owner for e in r.endpoints if e.owner})
        if r.endpoints:
            owned = f"; owners: {', '.join(owners)}" if owners else ""
            out.append(f"   endpoints   {len(r.endpoints)} host(s){owned}")
        if r.findings:
            out.append(f"   findings ({len(r.findings)})")
            rows = [
                (
                    f.severity.value,
                    f.check_id,
                    f.confidence.value,
                    f.message if len(f.message) <= 100 else f.message[:99] + "…",
                )
                for f in r.findings
            ]
            out += ["     " + line for line in _table(rows, ("severity", "check", "confidence", "message"))]
        for fail in r.failures:
            out.append(f"   check crashed {fail.check_id}: {fail.error} ({fail.where})")
        out.extend(rest)
    return "\n".join(_clean(line) for line in out)
