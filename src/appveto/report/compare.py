"""Apps side by side: score and sub-scores, permissions and verdicts, trackers,
endpoint owners and jurisdictions, auditability and signer, one column per app.

:func:`compare_records` builds a :class:`Comparison` of rows grouped in sections;
the text, JSON and HTML renderers only lay it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from appveto.errors import ReportError
from appveto.findings import Severity
from appveto.outputs import terminal
from appveto.report.registry import renderer
from appveto.report.verdict import verdict
from appveto.scan.record import ScanRecord

ABSENT = "—"


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    values: tuple[str, ...]
    """One value per app, in the order of :attr:`Comparison.apps`."""
    differs: bool


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    rows: tuple[Row, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    apps: tuple[ScanRecord, ...]
    sections: tuple[Section, ...]

    def section(self, title: str) -> Section:
        for s in self.sections:
            if s.title == title:
                return s
        raise KeyError(title)

    def to_dict(self) -> dict[str, Any]:
        return {
            "apps": [
                {
                    "file": a.file,
                    "sha256": a.sha256,
                    "package": a.package,
                    "version_code": a.version_code,
                    "version_name": a.version_name,
                    "label": a.label,
                }
                for a in self.apps
            ],
            "sections": [
                {
                    "title": s.title,
                    "note": s.note,
                    "rows": [
                        {"label": r.label, "values": list(r.values), "differs": r.differs} for r in s.rows
                    ],
                }
                for s in self.sections
            ],
        }


def _row(label: str, values: Sequence[str]) -> Row:
    return Row(label, tuple(values), len(set(values)) > 1)


def _pct(x: float) -> str:
    return f"{round(x * 100)}%"


def compare_records(records: Sequence[ScanRecord]) -> Comparison:
    """Every app of ``records`` side by side; an unreadable one is a column of its error."""
    if len(records) < 2:
        raise ReportError("compare needs at least two apps")
    apps = tuple(records)

    def each(fn: Any) -> list[str]:
        return [fn(a) if a.ok else ABSENT for a in apps]

    ident = [
        _row("file", [a.file.replace("\\", "/").rsplit("/", 1)[-1] for a in apps]),
        _row("package", each(lambda a: a.package or ABSENT)),
        _row("label", each(lambda a: a.label or ABSENT)),
        _row("version", each(lambda a: f"{a.version_name or '?'} ({a.version_code})")),
        _row("target SDK", each(lambda a: str(a.target_sdk) if a.target_sdk is not None else ABSENT)),
        _row("sha256", [a.sha256[:16] + "…" if a.sha256 else ABSENT for a in apps]),
    ]
    if any(a.error for a in apps):
        ident.append(_row("error", [a.error or "" for a in apps]))
    score = [
        _row("verdict", [verdict(a).headline for a in apps]),
        _row("score (0-100)", each(lambda a: f"{a.score.total}")),
        _row("risk level", each(lambda a: str(a.score.level))),
    ]
    names = [s.name for s in next((a.score.subscores for a in apps if a.score), ())]
    for n in names:
        score.append(_row(n, each(lambda a, n=n: f"{a.score.subscore(n).points}")))
    for sev in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW):
        score.append(
            _row(f"{sev} findings", each(lambda a, s=sev: str(sum(f.severity is s for f in a.findings))))
        )

    perms = sorted({p for a in apps for p in a.permissions})
    verdicts = [{v.permission: v for v in a.permission_verdicts} for a in apps]
    dangerous = {v.permission for a in apps for v in a.permission_verdicts if v.dangerous}
    perm_rows = []
    for p in sorted(perms, key=lambda p: (p not in dangerous, p)):
        vals = []
        for a, vm in zip(apps, verdicts, strict=True):
            if not a.ok:
                vals.append(ABSENT)
            elif p not in a.permissions:
                vals.append("not requested")
            else:
                v = vm.get(p)
                vals.append(str(v.verdict) if v else "requested")
        label = p.removeprefix("android.permission.") + (" (dangerous)" if p in dangerous else "")
        perm_rows.append(_row(label, vals))

    trk = sorted({(t.name, t.vendor or "") for a in apps for t in a.trackers})
    trk_rows = [
        _row(
            f"{n}" + (f" ({v})" if v else ""),
            each(lambda a, n=n: "yes" if any(t.name == n for t in a.trackers) else "no"),
        )
        for n, v in trk
    ]
    trk_rows.insert(0, _row("trackers found", each(lambda a: str(len(a.trackers)))))

    owners = sorted({e.owner for a in apps for e in a.endpoints if e.owner})
    ep_rows = [
        _row("endpoints (hosts)", each(lambda a: str(len(a.endpoints)))),
        _row("cleartext HTTP hosts", each(lambda a: str(sum(e.cleartext for e in a.endpoints)))),
        _row("hosts of unknown owner", each(lambda a: str(sum(e.owner is None for e in a.endpoints)))),
    ]
    for o in owners:
        ep_rows.append(_row(f"owner: {o}", each(lambda a, o=o: str(sum(e.owner == o for e in a.endpoints)))))
    juris = sorted({c for a in apps for c in _jurisdictions(a)})
    for j in juris:
        ep_rows.append(
            _row(f"jurisdiction: {j}", each(lambda a, j=j: "yes" if j in _jurisdictions(a) else "no"))
        )

    aud = [
        _row("readable code", each(lambda a: _pct(a.coverage.readable_share))),
        _row("auditability", each(lambda a: str(a.coverage.auditability))),
        _row("obfuscated class names", each(lambda a: _pct(a.coverage.obfuscated_class_share))),
        _row(
            "packers / protectors", each(lambda a: ", ".join(p.name for p in a.coverage.protectors) or "none")
        ),
        _row("native code", each(lambda a: f"{a.coverage.native_libs} lib(s)")),
        _row("code hidden from the scan", each(lambda a: "; ".join(a.coverage.hidden_reasons) or "no")),
    ]
    sig = [
        _row("signer", each(lambda a: "; ".join(s.subject for s in a.signers) or "unsigned")),
        _row(
            "certificate sha256",
            each(lambda a: ", ".join(s.cert_sha256[:16] + "…" for s in a.signers) or ABSENT),
        ),
        _row("schemes", each(lambda a: ", ".join(a.signing_schemes) or "none")),
    ]
    sections = (
        Section("App", tuple(ident)),
        Section("Score", tuple(score), "Higher is riskier; each point is a finding (see each app's report)."),
        Section(
            "Permissions",
            tuple(perm_rows),
            "used: use observed in code; not-observed: no use found; "
            "undeterminable: the code is too hidden to tell.",
        ),
        Section("Trackers", tuple(trk_rows)),
        Section("Endpoints", tuple(ep_rows), "Owners and jurisdictions come from appveto's reference data."),
        Section("Auditability", tuple(aud)),
        Section("Signer", tuple(sig)),
    )
    return Comparison(apps, sections)


def _jurisdictions(a: ScanRecord) -> set[str]:
    return {e.owner_country for e in a.endpoints if e.owner_country} | {
        t.vendor_country for t in a.trackers if t.vendor_country
    }


@renderer("compare", "json", description="the comparison as JSON")
def render_compare_json(c: Comparison) -> str:
    from appveto.report.json_report import dumps

    return dumps(c.to_dict())


@renderer(
    "compare",
    "text",
    description="the apps side by side for a terminal",
)
def render_compare_text(c: Comparison) -> str:
    """Values from the APKs are escaped before the columns are measured (the one terminal
    rule, appveto.outputs.terminal), so a crafted label can neither drive the terminal nor
    break the table."""
    esc = terminal.line
    heads = [esc(a.name) for a in c.apps]
    out: list[str] = []
    for s in c.sections:
        out.append(f"== {s.title}")
        if s.note:
            out.append(f"   {s.note}")
        rows = [(r.differs, esc(r.label), [esc(v) for v in r.values]) for r in s.rows]
        label_w = max([len(label) for _, label, _ in rows] + [8])
        widths = [max([len(h)] + [len(values[i]) for _, _, values in rows]) for i, h in enumerate(heads)]
        widths = [min(w, 40) for w in widths]
        out.append(
            "   "
            + " " * label_w
            + "  "
            + "  ".join(h[:w].ljust(w) for h, w in zip(heads, widths, strict=True))
        )
        for differs, label, values in rows:
            mark = "*" if differs else " "
            cells = "  ".join(v[:w].ljust(w) for v, w in zip(values, widths, strict=True))
            out.append(f" {mark} {label.ljust(label_w)}  {cells}".rstrip())
        out.append("")
    out.append("* the apps differ on this row")
    return "".join(terminal.line(line) + "\n" for line in out)
