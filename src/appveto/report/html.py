"""One self-contained HTML file per document, for people: scan, comparison, diff, evaluation.

Pages come from Jinja2 templates (``report/templates``) with autoescape, and every value
a template prints goes through the one HTML rule (:mod:`appveto.outputs.htmltext`: escaped,
controls made visible, right-to-left text isolated in ``<bdi>``; ``|inattr`` for
attributes and SVG text). Everything is inline (the one stylesheet ``assets/report.css``,
charts as SVG with a text alternative and the same numbers in a table); a
Content-Security-Policy forbids any fetch, so a file opens from a USB stick on an
air-gapped machine and a hostile string in an input cannot load anything. This module
prepares what the templates show; the templates hold the markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from appveto import __version__
from appveto.findings import Evidence
from appveto.outputs import htmltext
from appveto.report.compare import Comparison
from appveto.report.diff import ScanDiff
from appveto.report.registry import renderer
from appveto.report.verdict import Verdict, verdict
from appveto.scan.record import ScanRecord

if TYPE_CHECKING:
    import jinja2

    from appveto.compliance.model import DecisionSummary, Rollup, Status

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

SCAN_SECTIONS = (
    ("score", "Score"),
    ("permissions", "Permissions"),
    ("auditability", "Auditability"),
    ("trackers", "Trackers"),
    ("endpoints", "Endpoints"),
    ("signer", "Signer"),
    ("limits", "Limits"),
    ("findings", "Findings"),
    ("provenance", "Provenance"),
)


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return resources.files("appveto.report").joinpath("assets/report.css").read_text(encoding="utf-8")


def _finalize(value: object) -> object:
    """Every ``{{ value }}`` of a template: markup the templates built stays as it is, any
    other value is text under the one HTML rule."""
    from markupsafe import Markup

    if isinstance(value, Markup):
        return value
    return Markup(htmltext.text(value))  # noqa: S704 - escaped by the one HTML rule


def _inattr(value: object) -> object:
    from markupsafe import Markup

    return Markup(htmltext.attr(value))  # noqa: S704 - escaped by the one HTML rule


def _where(x: Evidence) -> str:
    lo = x.location
    return " ".join(
        p
        for p in (
            lo.entry,
            lo.class_name,
            lo.method,
            lo.xpath,
            None if lo.offset is None else f"@{lo.offset:#x}",
        )
        if p and p != x.value
    )


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("appveto.report", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["inattr"] = _inattr
    env.filters["where"] = _where
    env.filters["count_of"] = d_count
    env.globals.update(
        csp=Markup(CSP),  # noqa: S704 - a constant of this module
        stylesheet=Markup(stylesheet()),  # noqa: S704 - our own file, shipped with the package
        version=__version__,
        scan_sections=SCAN_SECTIONS,
    )
    return env


def page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


# ------------------------------------------------------------------ charts


@dataclass(frozen=True, slots=True)
class _Bar:
    label: str
    value: str
    y: int
    w: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A horizontal bar chart as the SVG template draws it."""

    title: str
    desc: str
    rows: tuple[_Bar, ...]
    color: str
    label_w: int = 300
    bar_w: int = 380
    row_h: int = 26

    @property
    def width(self) -> int:
        return self.label_w + self.bar_w + 90

    @property
    def height(self) -> int:
        return self.row_h * len(self.rows) + 10


def chart(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    maximum: float | None = None,
    color: str = "#0b4f8a",
) -> Chart | None:
    """A bar per item (its text alternative lists every value); None when there is nothing."""
    if not items:
        return None
    top = maximum if maximum is not None else max(v for _, v in items) or 1.0
    bar_w, row_h = 380, 26
    rows = tuple(
        _Bar(
            label=k if len(k) <= 36 else k[:35] + "…",
            value=f"{v:g}{unit}",
            y=5 + i * row_h,
            w=f"{0 if top <= 0 else max(0.0, min(1.0, v / top)) * bar_w:.1f}",
        )
        for i, (k, v) in enumerate(items)
    )
    return Chart(title, "; ".join(f"{k}: {v:g}{unit}" for k, v in items), rows, color)


# ------------------------------------------------------------------ scan


@dataclass(frozen=True, slots=True)
class _App:
    record: ScanRecord
    prefix: str
    """Every anchor of this app starts with it: unique on a page of several apps."""
    anchor: str
    name: str
    verdict: Verdict
    unreadable: bool
    header: tuple[tuple[str, object], ...] = ()
    permissions: tuple[Any, ...] = ()
    subscore_chart: Chart | None = None
    readable_chart: Chart | None = None
    country_chart: Chart | None = None
    coverage_facts: tuple[tuple[str, str], ...] = ()
    owners: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    limits: tuple[str, ...] = ()
    provenance: tuple[tuple[str, object], ...] = ()


def _app(r: ScanRecord, prefix: str) -> _App:
    name = r.label or r.package or r.file
    v = verdict(r)
    if r.error is not None or r.score is None or r.coverage is None:
        return _App(r, prefix, prefix.rstrip("-") or "app", r.file, v, True)
    c = r.coverage
    by_country: dict[str, int] = {}
    by_owner: dict[str, list[Any]] = {}
    for ep in r.endpoints:
        by_country[ep.owner_country or "unknown"] = by_country.get(ep.owner_country or "unknown", 0) + 1
        key = f"{ep.owner or 'unknown owner'}" + (f" ({ep.owner_country})" if ep.owner_country else "")
        by_owner.setdefault(key, []).append(ep)
    limits = [*c.hidden_reasons, *(f"unreadable: {x}" for x in c.unreadable_parts)]
    limits += [f"check {f.check_id} crashed ({f.error}); its findings are missing" for f in r.failures]
    limits += [f"{t.kind} in {t.entry or 'the archive'}: {t.detail}" for t in r.tampering[:20]]
    return _App(
        record=r,
        prefix=prefix,
        anchor=prefix.rstrip("-") or "app",
        name=name,
        verdict=v,
        unreadable=False,
        header=tuple(
            (k, val)
            for k, val in (
                ("package", r.package),
                ("version", f"{r.version_name} (versionCode {r.version_code})"),
                ("SDK", f"min {r.min_sdk}, target {r.target_sdk}"),
                ("file", r.file),
                ("SHA-256", r.sha256),
            )
            if val is not None
        ),
        permissions=tuple(sorted(r.permission_verdicts, key=lambda v: (not v.dangerous, v.permission))),
        subscore_chart=chart(
            "Sub-scores (0-100, higher is riskier)",
            [(s.name, s.points) for s in r.score.subscores],
            maximum=100.0,
            color="#8a4500",
        ),
        readable_chart=chart(
            "Share of the code a reviewer can read",
            [("readable code", round(c.readable_share * 100))],
            unit="%",
            maximum=100.0,
            color="#1e5e2e",
        ),
        country_chart=chart(
            "Hosts per jurisdiction of their owner",
            sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0])),
            unit=" hosts",
        ),
        coverage_facts=(
            ("readable share", f"{round(c.readable_share * 100)}% ({c.auditability})"),
            ("DEX files / classes / methods", f"{c.dex_files} / {c.classes} / {c.methods}"),
            (
                "obfuscated names",
                f"{round(c.obfuscated_class_share * 100)}% of classes, "
                f"{round(c.obfuscated_method_share * 100)}% of methods",
            ),
            ("dynamic code loading", f"{len(c.dynamic_loading)} reference(s)"),
            (
                "reflection",
                f"{len(c.reflection)} reference(s)"
                + (" over encrypted strings" if c.reflection_heavy else ""),
            ),
            ("encrypted strings", "yes" if c.string_encryption else "no"),
            ("code outside DEX", f"{len(c.hidden_code)} entr(ies), {c.hidden_bytes} bytes"),
            (
                "native code",
                f"{c.native_libs} librar(ies), {c.native_bytes} bytes, {c.jni_exports} JNI exports",
            ),
        ),
        owners=tuple(
            (o, tuple(by_owner[o])) for o in sorted(by_owner, key=lambda o: (o.startswith("unknown"), o))
        ),
        limits=tuple(limits),
        provenance=(
            ("file", r.file),
            ("size", f"{r.size} bytes"),
            ("SHA-256", r.sha256),
            ("SHA-1", r.sha1),
            ("MD5", r.md5),
            ("scanned at", r.scanned_at),
            ("appveto", r.appveto_version),
        ),
    )


@dataclass(frozen=True, slots=True)
class _Summary:
    anchor: str
    name: str
    verdict: str
    score: str
    findings: str
    readable: str
    file: str


def _summary(a: _App) -> _Summary:
    r = a.record
    return _Summary(
        anchor=a.anchor,
        name=a.name,
        verdict=a.verdict.headline,
        score="—" if r.score is None else f"{r.score.total:g}",
        findings="—" if a.unreadable else str(len(r.findings)),
        readable="—" if r.coverage is None else f"{round(r.coverage.readable_share * 100)}%",
        file=r.file,
    )


@renderer("scan", "html", description="one self-contained page for people")
def render_html(records: Sequence[ScanRecord]) -> str:
    """One page for all records: one app as it is; several apps with a summary table at the
    top and one article per app (anchors prefixed ``appN-``, each on a new printed page)."""
    if len(records) == 1:
        apps = [_app(records[0], "")]
        title = f"appveto report: {apps[0].name}"
    else:
        apps = [_app(r, f"app{i}-") for i, r in enumerate(records, 1)]
        title = f"appveto report: {len(records)} apps"
    ranked = sorted(
        apps, key=lambda a: (a.record.score is not None, a.record.score.total if a.record.score else 0)
    )
    return page("scan.html.j2", title=title, apps=apps, summary=[_summary(a) for a in reversed(ranked)])


# --------------------------------------------------------------- compare


@renderer(
    "compare",
    "html",
    description="one self-contained page for people",
)
def render_compare_html(c: Comparison) -> str:
    return page(
        "compare.html.j2",
        title="appveto comparison: " + " / ".join(a.name for a in c.apps),
        c=c,
        heads=["", *(a.name for a in c.apps)],
        score_chart=chart(
            "Risk score (0-100, higher is riskier)",
            [(a.name, a.score.total) for a in c.apps if a.score is not None],
            maximum=100.0,
            color="#8a4500",
        ),
        readable_chart=chart(
            "Share of readable code",
            [(a.name, round(a.coverage.readable_share * 100)) for a in c.apps if a.coverage is not None],
            unit="%",
            maximum=100.0,
            color="#1e5e2e",
        ),
    )


# ------------------------------------------------------------------ diff


@renderer("diff", "html", description="one self-contained page for people")
def render_diff_html(d: ScanDiff) -> str:
    """What an update changed, for the decision file: changes by severity, score explained."""
    worst = d.worst()
    level = {"critical": "high", "high": "high", "medium": "elevated", "low": "moderate"}.get(
        str(worst) if worst else "", "low"
    )
    readable = None
    if d.old_readable is not None and d.new_readable is not None:
        readable = chart(
            "Share of readable code before and after",
            [("before", round(d.old_readable * 100)), ("after", round(d.new_readable * 100))],
            unit="%",
            maximum=100.0,
            color="#1e5e2e",
        )
    return page(
        "diff.html.j2",
        title=f"appveto diff: {d.new.package or d.new.file}",
        d=d,
        level=level,
        summary=f"{len(d.changes)} change(s); the most severe is {worst}"
        if worst is not None
        else "No change was found",
        worst_changes=[c for c in d.changes if worst is not None and c.severity is worst][:5],
        readable_chart=readable,
    )


# ------------------------------------------------------------ evaluation


def d_count(d: DecisionSummary | Rollup, status: Status) -> int:
    return sum(c.devices for c in d.counts if c.status is status)
