"""One self-contained HTML file per report, for people: the scan report and the comparison.

Everything is inline (CSS from ``assets/report.css``, charts as SVG); a
Content-Security-Policy forbids any fetch, so the file opens from a USB stick on an
air-gapped machine and a hostile string in an APK cannot load anything. Every value
from an APK is escaped. Headings are nested, tables have captions and ``th scope``,
charts have a text alternative and the same numbers in a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources

from appveto import __version__
from appveto.findings import Evidence, Finding
from appveto.outputs import htmltext
from appveto.report.compare import Comparison
from appveto.report.diff import ScanDiff
from appveto.report.registry import renderer
from appveto.report.verdict import verdict
from appveto.scan.record import ScanRecord

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
_MAX_EV = 5


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return resources.files("appveto.report").joinpath("assets/report.css").read_text(encoding="utf-8")


def e(value: object) -> str:
    """Any value as element content (the one HTML rule, appveto.outputs.htmltext): escaped,
    control and bidi characters made visible, right-to-left text isolated in ``<bdi>``."""
    return htmltext.text(value)


def attr(value: object) -> str:
    """Any value for an attribute, ``<title>`` or SVG text: as :func:`e`, without ``<bdi>``."""
    return htmltext.attr(value)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="appveto {attr(__version__)}">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{attr(title)}</title>\n<style>\n{stylesheet()}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n</body>\n</html>\n"
    )


def _table(
    caption: str,
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    row_header: bool = True,
    numeric: Sequence[int] = (),
    classes: Sequence[str] | None = None,
) -> str:
    """``rows`` hold already escaped HTML cells; the first cell is a row header when ``row_header``."""
    out = [f"<table>\n<caption>{e(caption)}</caption>\n<thead><tr>"]
    out += [f'<th scope="col"{" class=num" if i in numeric else ""}>{e(h)}</th>' for i, h in enumerate(head)]
    out.append("</tr></thead>\n<tbody>\n")
    n = 0
    for i, r in enumerate(rows):
        n += 1
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        cells = []
        for j, c in enumerate(r):
            num = ' class="num"' if j in numeric else ""
            if j == 0 and row_header:
                cells.append(f'<th scope="row"{num}>{c}</th>')
            else:
                cells.append(f"<td{num}>{c}</td>")
        out.append(f"<tr{cls}>{''.join(cells)}</tr>\n")
    if n == 0:
        out.append(f'<tr><td colspan="{len(head)}">none</td></tr>\n')
    out.append("</tbody>\n</table>\n")
    return "".join(out)


def _id(cid: object) -> str:
    return f'<code class="id">{e(cid)}</code>'


def _sev(s: object) -> str:
    return f'<span class="sev {attr(s)}">{e(s)}</span>'


def _evidence(ev: Sequence[Evidence]) -> str:
    if not ev:
        return '<span class="small">none</span>'
    items = []
    for x in ev[:_MAX_EV]:
        lo = x.location
        where = " ".join(
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
        note = f" — {e(x.note)}" if x.note else ""
        loc = f' <span class="small">in <code>{e(where)}</code></span>' if where else ""
        items.append(f"<li>{e(x.kind)}: <code>{e(x.value)}</code>{loc}{note}</li>")
    more = f'<li class="small">and {len(ev) - _MAX_EV} more</li>' if len(ev) > _MAX_EV else ""
    return f'<ul class="ev">{"".join(items)}{more}</ul>'


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    maximum: float | None = None,
    color: str = "#0b4f8a",
) -> str:
    """A horizontal bar chart as inline SVG with a text alternative."""
    if not items:
        return ""
    top = maximum if maximum is not None else max(v for _, v in items) or 1.0
    label_w, bar_w, row_h = 300, 380, 26
    height = row_h * len(items) + 10
    desc = "; ".join(f"{k}: {v:g}{unit}" for k, v in items)
    parts = [
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        f'viewBox="0 0 {label_w + bar_w + 90} {height}" aria-label="{attr(title)}: {attr(desc)}">'
        f"<title>{attr(title)}: {attr(desc)}</title>"
    ]
    for i, (k, v) in enumerate(items):
        y = 5 + i * row_h
        w = 0 if top <= 0 else max(0.0, min(1.0, v / top)) * bar_w
        label = k if len(k) <= 36 else k[:35] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="13" fill="#1a1a1a">'
            f"{attr(label)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 8}" fill="#ececec"/>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{color}"/>'
            f'<text x="{label_w + bar_w + 8}" y="{y + 17}" font-size="13" fill="#1a1a1a">'
            f"{v:g}{attr(unit)}</text>"
        )
    parts.append(f"</svg><figcaption>{e(title)}</figcaption></figure>\n")
    return "".join(parts)


# ------------------------------------------------------------------ scan


def _verdict_box(r: ScanRecord) -> str:
    v = verdict(r)
    reasons = "".join(f"<li>{e(x)}</li>" for x in v.reasons)
    caveats = "".join(f'<p class="caveat">{e(c)}</p>' for c in v.caveats)
    why = (
        f"<p>Weighing most:</p><ul>{reasons}</ul>"
        if reasons
        else "<p>No finding of medium severity or above.</p>"
    )
    return (
        f'<section class="verdict {attr(v.level)}" aria-labelledby="verdict"><h2 id="verdict">Verdict: '
        f"{e(v.headline)}</h2>{why}{caveats}</section>\n"
    )


def _score(r: ScanRecord) -> str:
    assert r.score is not None
    sc = r.score
    out = [
        '<h2 id="score">Score and what makes it</h2>\n',
        f"<p>Total <strong>{sc.total}</strong> of 100 ({e(sc.level)}). The total is the weighted sum of "
        "four sub-scores (each capped at 100); every point comes from one finding: severity points × "
        "confidence.</p>\n",
    ]
    out.append(
        bar_chart(
            "Sub-scores (0-100, higher is riskier)",
            [(s.name, s.points) for s in sc.subscores],
            maximum=100.0,
            color="#8a4500",
        )
    )
    out.append(
        _table(
            "Sub-scores",
            ("sub-score", "points", "weight", "findings"),
            [(e(s.name), e(s.points), e(s.weight), e(len(s.contributions))) for s in sc.subscores],
            numeric=(1, 2, 3),
        )
    )
    for s in sc.subscores:
        if not s.contributions:
            continue
        out.append(f"<h3>{e(s.name)}: {s.points} points</h3>\n")
        rows = [
            (_id(c.check_id), _sev(c.severity), e(c.confidence), e(c.points), e(c.message))
            for c in s.contributions
        ]
        out.append(
            _table(
                f"Findings behind the {s.name} sub-score",
                ("check", "severity", "confidence", "points", "finding"),
                rows,
                numeric=(3,),
            )
        )
    return "".join(out)


def _findings(fs: Sequence[Finding]) -> str:
    rows = [
        (
            _id(f.check_id),
            _sev(f.severity),
            e(f.confidence),
            f"<strong>{e(f.title)}</strong><br>{e(f.message)}",
            _evidence(f.evidence),
        )
        for f in fs
    ]
    return '<h2 id="findings">Findings</h2>\n' + _table(
        f"All {len(fs)} findings, highest severity first",
        ("check", "severity", "confidence", "finding", "evidence"),
        rows,
    )


def _permissions(r: ScanRecord) -> str:
    rows = [
        (
            f"<code>{e(v.permission)}</code>",
            e(v.protection) + (" (dangerous)" if v.dangerous and "dangerous" not in v.protection else ""),
            e(v.category),
            f"<strong>{e(v.verdict)}</strong>",
            e(v.reason),
            _evidence(v.evidence),
        )
        for v in sorted(r.permission_verdicts, key=lambda v: (not v.dangerous, v.permission))
    ]
    return (
        '<h2 id="permissions">Permissions: requested and used</h2>\n'
        "<p>used: a use was found in the code (evidence shown); not-observed: no use found in the "
        "readable code; undeterminable: the code is too hidden to tell.</p>\n"
        + _table(
            "Permission verdicts, dangerous permissions first",
            ("permission", "protection", "category", "verdict", "why", "evidence"),
            rows,
        )
    )


def _auditability(r: ScanRecord) -> str:
    c = r.coverage
    assert c is not None
    out = [
        '<h2 id="auditability">Auditability: how much of the code can be read</h2>\n',
        f"<p>{e(r.coverage_summary)}.</p>\n",
        bar_chart(
            "Share of the code a reviewer can read",
            [("readable code", round(c.readable_share * 100))],
            unit="%",
            maximum=100.0,
            color="#1e5e2e",
        ),
    ]
    facts = [
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
            f"{len(c.reflection)} reference(s)" + (" over encrypted strings" if c.reflection_heavy else ""),
        ),
        ("encrypted strings", "yes" if c.string_encryption else "no"),
        ("code outside DEX", f"{len(c.hidden_code)} entr(ies), {c.hidden_bytes} bytes"),
        ("native code", f"{c.native_libs} librar(ies), {c.native_bytes} bytes, {c.jni_exports} JNI exports"),
    ]
    out.append(_table("Coverage measures", ("measure", "value"), [(e(k), e(v)) for k, v in facts]))
    prot = [
        (
            e(p.name),
            e(p.kind),
            e(p.vendor or "—"),
            "heuristic" if p.heuristic else "named marker",
            _evidence(p.evidence),
        )
        for p in c.protectors
    ]
    out.append(
        _table(
            "Packers, protectors and obfuscators",
            ("name", "kind", "vendor", "recognised by", "evidence"),
            prot,
        )
    )
    return "".join(out)


def _trackers(r: ScanRecord) -> str:
    rows = [
        (
            e(t.name),
            e(t.vendor or "unknown"),
            e(t.vendor_country or "—"),
            e(", ".join(t.categories)),
            e(t.class_count),
            "<br>".join(f"<code>{e(c)}</code>" for c in t.classes_sample[:3]),
            e(t.source),
        )
        for t in r.trackers
    ]
    note = ""
    if not r.trackers and r.coverage is not None and r.coverage.code_hidden:
        note = (
            '<p class="caveat">No known tracker was found, but part of the code is hidden from this scan: '
            "this absence is weak evidence.</p>\n"
        )
    return (
        '<h2 id="trackers">Trackers and their vendors</h2>\n'
        + note
        + _table(
            "Tracker SDKs found in the code",
            (
                "tracker",
                "vendor",
                "vendor country",
                "categories",
                "classes",
                "sample classes",
                "signature source",
            ),
            rows,
            numeric=(4,),
        )
    )


def _endpoints(r: ScanRecord) -> str:
    out = [
        '<h2 id="endpoints">Endpoints by owner and jurisdiction</h2>\n',
        "<p>Hosts named in the code and resources. Owners and jurisdictions come from appveto's reference "
        "data; an unknown owner is not a clean one.</p>\n",
    ]
    by_country: dict[str, int] = {}
    by_owner: dict[str, list[str]] = {}
    for ep in r.endpoints:
        by_country[ep.owner_country or "unknown"] = by_country.get(ep.owner_country or "unknown", 0) + 1
        key = f"{ep.owner or 'unknown owner'}" + (f" ({ep.owner_country})" if ep.owner_country else "")
        by_owner.setdefault(key, []).append(ep.host)
    if by_country:
        out.append(
            bar_chart(
                "Hosts per jurisdiction of their owner",
                sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0])),
                unit=" hosts",
            )
        )
    for owner in sorted(by_owner, key=lambda o: (o.startswith("unknown"), o)):
        hosts = set(by_owner[owner])
        rows = [
            (
                f"<code>{e(ep.host)}</code>",
                e(ep.registrable_domain or "—"),
                "yes" if ep.cleartext else "no",
                e(", ".join(ep.schemes)),
                e(", ".join(ep.sources)),
                "<br>".join(f"<code>{e(u)}</code>" for u in ep.urls[:2]),
            )
            for ep in r.endpoints
            if ep.host in hosts
        ]
        out.append(f"<h3>{e(owner)}</h3>\n")
        out.append(
            _table(
                f"Hosts of {owner}",
                ("host", "domain", "cleartext HTTP", "schemes", "found in", "example URLs"),
                rows,
            )
        )
    if not r.endpoints:
        out.append("<p>No endpoint was found.</p>\n")
    return "".join(out)


def _signers(r: ScanRecord) -> str:
    rows = [
        (
            e(s.subject),
            e(s.issuer),
            f"<code>{e(s.cert_sha256)}</code>",
            e(", ".join(s.schemes)),
            e(f"{s.not_before} – {s.not_after}"),
            e(f"{s.key_algorithm} {s.key_size or ''}"),
            "yes" if s.self_signed else "no",
        )
        for s in r.signers
    ]
    out = [
        '<h2 id="signer">Signer identity</h2>\n',
        _table(
            "Signing certificates",
            ("subject", "issuer", "certificate SHA-256", "schemes", "valid", "key", "self-signed"),
            rows,
        ),
    ]
    if r.signing_lineage:
        out.append(
            "<p>Key rotation lineage (oldest first): "
            + ", ".join(f"<code>{e(x)}</code>" for x in r.signing_lineage)
            + "</p>\n"
        )
    return "".join(out)


def _limits(r: ScanRecord) -> str:
    c = r.coverage
    items: list[str] = []
    if c is not None:
        items += [e(x) for x in c.hidden_reasons]
        items += [f"unreadable: {e(x)}" for x in c.unreadable_parts]
    items += [f"check {e(f.check_id)} crashed ({e(f.error)}); its findings are missing" for f in r.failures]
    items += [f"{e(t.kind)} in {e(t.entry or 'the archive')}: {e(t.detail)}" for t in r.tampering[:20]]
    body = "".join(f"<li>{x}</li>" for x in items) or "<li>No limit was detected.</li>"
    return (
        '<h2 id="limits">What this scan could not see</h2>\n'
        "<p>The analysis is static: nothing was installed or run. Code loaded from the network at run time, "
        "server-side behaviour and what native code does are out of its reach. In this file:</p>\n"
        f"<ul>{body}</ul>\n"
    )


def _provenance(r: ScanRecord) -> str:
    facts = [
        ("file", r.file),
        ("size", f"{r.size} bytes"),
        ("SHA-256", r.sha256),
        ("SHA-1", r.sha1),
        ("MD5", r.md5),
        ("scanned at", r.scanned_at),
        ("appveto", r.appveto_version),
    ]
    dl = "".join(f"<dt>{e(k)}</dt><dd><code>{e(v)}</code></dd>" for k, v in facts)
    rows = [
        (
            e(d.name),
            e(d.source),
            e(d.licence),
            e(d.date),
            e(d.origin),
            e(d.records),
            f'<code class="hash">{e(d.sha256)}</code>',
        )
        for d in r.datasets
    ]
    return f'<h2 id="provenance">Provenance</h2>\n<dl class="facts">{dl}</dl>\n' + _table(
        "Reference data used by this scan",
        ("dataset", "source", "licence", "date", "origin", "records", "SHA-256"),
        rows,
        numeric=(5,),
    )


def _app_header(r: ScanRecord) -> str:
    name = r.label or r.package or r.file
    facts = [
        ("package", r.package),
        ("version", f"{r.version_name} (versionCode {r.version_code})"),
        ("SDK", f"min {r.min_sdk}, target {r.target_sdk}"),
        ("file", r.file),
        ("SHA-256", r.sha256),
    ]
    dl = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in facts if v is not None)
    return (
        f'<h1>{e(name)}</h1>\n<p class="sub">appveto vetting report · scanned {e(r.scanned_at)}</p>\n'
        f'<dl class="facts">{dl}</dl>\n'
    )


def _scan_body(r: ScanRecord) -> str:
    if r.error is not None or r.score is None:
        return (
            f"<h1>{e(r.file)}</h1>\n"
            + _verdict_box(r)
            + f"<p>The file could not be read: <code>{e(r.error)}</code></p>\n"
        )
    nav = (
        '<nav aria-label="Sections"><p class="small">'
        + " · ".join(
            f'<a href="#{k}">{v}</a>'
            for k, v in (
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
        )
        + "</p></nav>\n"
    )
    return "".join(
        (
            _app_header(r),
            _verdict_box(r),
            nav,
            _score(r),
            _permissions(r),
            _auditability(r),
            _trackers(r),
            _endpoints(r),
            _signers(r),
            _limits(r),
            _findings(r.findings),
            _provenance(r),
            f"<footer>Generated by appveto {e(r.appveto_version)} from a static reading of the APK bytes."
            "</footer>",
        )
    )


@renderer(
    "scan", "html", media_type="text/html", extension="html", description="one self-contained page for people"
)
def render_html(records: Sequence[ScanRecord]) -> str:
    """One page for all records (one article per app, each starting on a new printed page)."""
    if len(records) == 1:
        r = records[0]
        return _page(f"appveto report: {r.label or r.package or r.file}", _scan_body(r))
    parts = [
        f'<article style="break-before: page">{_scan_body(r)}</article>'
        if i
        else f"<article>{_scan_body(r)}</article>"
        for i, r in enumerate(records)
    ]
    return _page(f"appveto report: {len(records)} apps", "\n".join(parts))


# --------------------------------------------------------------- compare


@renderer(
    "compare",
    "html",
    media_type="text/html",
    extension="html",
    description="one self-contained page for people",
)
def render_compare_html(c: Comparison) -> str:
    heads = ["", *(a.name for a in c.apps)]
    out = [
        "<h1>appveto comparison</h1>\n",
        f'<p class="sub">{len(c.apps)} apps side by side; rows marked ≠ differ between the apps.</p>\n',
    ]
    scored = [(a.name, a.score.total) for a in c.apps if a.score is not None]
    if scored:
        out.append(bar_chart("Risk score (0-100, higher is riskier)", scored, maximum=100.0, color="#8a4500"))
    readable = [(a.name, round(a.coverage.readable_share * 100)) for a in c.apps if a.coverage is not None]
    if readable:
        out.append(bar_chart("Share of readable code", readable, unit="%", maximum=100.0, color="#1e5e2e"))
    for s in c.sections:
        out.append(f"<h2>{e(s.title)}</h2>\n")
        if s.note:
            out.append(f"<p>{e(s.note)}</p>\n")
        rows = [(e(r.label), *(e(v) for v in r.values)) for r in s.rows]
        out.append(_table(s.title, heads, rows, classes=["differs" if r.differs else "" for r in s.rows]))
    prov = [
        (e(a.name), f"<code>{e(a.file)}</code>", f"<code>{e(a.sha256)}</code>", e(a.scanned_at))
        for a in c.apps
    ]
    out.append('<h2 id="provenance">Provenance</h2>\n')
    out.append(_table("Files compared", ("app", "file", "SHA-256", "scanned at"), prov))
    out.append(f"<footer>Generated by appveto {e(__version__)}.</footer>")
    return _page("appveto comparison: " + " / ".join(a.name for a in c.apps), "".join(out))


# ------------------------------------------------------------------ diff


@renderer(
    "diff", "html", media_type="text/html", extension="html", description="one self-contained page for people"
)
def render_diff_html(d: ScanDiff) -> str:
    """What an update changed, for the decision file: changes by severity, score explained."""
    o, n = d.old, d.new
    out = [
        f"<h1>What changed: {e(n.label or n.package or n.file)}</h1>\n",
        f'<p class="sub">from {e(o.version_name)} (versionCode {e(o.version_code)}) to {e(n.version_name)} '
        f"(versionCode {e(n.version_code)})</p>\n",
    ]
    worst = d.worst()
    level = {"critical": "high", "high": "high", "medium": "elevated", "low": "moderate"}.get(
        str(worst) if worst else "", "low"
    )
    crit = [c for c in d.changes if worst is not None and c.severity is worst]
    summary = (
        f"{len(d.changes)} change(s); the most severe is {worst}"
        if worst is not None
        else "No change was found"
    )
    items = "".join(f"<li>{e(c.kind)}: {e(c.subject)} — {e(c.detail)}</li>" for c in crit[:5])
    out.append(
        f'<section class="verdict {level}" aria-labelledby="verdict"><h2 id="verdict">{e(summary)}</h2>'
        + (f"<ul>{items}</ul>" if items else "")
        + "</section>\n"
    )
    if d.score is not None:
        sc = d.score
        out.append('<h2 id="score">Score</h2>\n')
        out.append(
            f"<p>{sc.old} ({e(sc.old_level)}) → <strong>{sc.new}</strong> ({e(sc.new_level)}), "
            f"{sc.delta:+.1f} points.</p>\n"
        )
        out.append(
            _table(
                "Sub-scores before and after",
                ("sub-score", "before", "after", "change"),
                [(e(s.name), f"{s.old:.1f}", f"{s.new:.1f}", f"{s.delta:+.2f}") for s in sc.subscores],
                numeric=(1, 2, 3),
            )
        )
        out.append(
            _table(
                "Findings that explain the score change, largest first",
                ("check", "subject", "sub-score", "points before", "points after", "finding"),
                [
                    (
                        _id(p.check_id),
                        e(p.subject or ""),
                        e(p.subscore),
                        e(p.old_points),
                        e(p.new_points),
                        e(p.message),
                    )
                    for p in sc.explained_by
                ],
                numeric=(3, 4),
            )
        )
    if d.old_readable is not None and d.new_readable is not None:
        out.append('<h2 id="auditability">Auditability</h2>\n')
        out.append(
            bar_chart(
                "Share of readable code before and after",
                [("before", round(d.old_readable * 100)), ("after", round(d.new_readable * 100))],
                unit="%",
                maximum=100.0,
                color="#1e5e2e",
            )
        )
    out.append('<h2 id="changes">All changes</h2>\n')
    out.append(
        _table(
            "Changes, most severe first",
            ("change", "severity", "subject", "detail"),
            [(e(c.kind), _sev(c.severity), e(c.subject), e(c.detail)) for c in d.changes],
        )
    )
    prov = [
        (e(label), f"<code>{e(r.file)}</code>", f'<code class="hash">{e(r.sha256)}</code>', e(r.scanned_at))
        for label, r in (("old", o), ("new", n))
    ]
    out.append('<h2 id="provenance">Provenance</h2>\n')
    out.append(_table("Files compared", ("side", "file", "SHA-256", "scanned at"), prov))
    out.append(f"<footer>Generated by appveto {e(__version__)}.</footer>")
    return _page(f"appveto diff: {n.package or n.file}", "".join(out))
