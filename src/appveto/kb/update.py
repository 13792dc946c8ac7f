"""``appveto data update``: fetch maintained reference data into the user's data dir.

Only this module opens network connections, and only when the user asks for an
update. Each file is validated by its parser before it replaces the previous copy;
``datasets.json`` records source URL, licence, retrieval date and SHA-256.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from appveto.errors import Diagnostic, KnowledgeBaseError
from appveto.kb.load import (
    MANIFEST_NAME,
    DownloadedDataset,
    parse_androguard_api_map,
    parse_aosp_permissions,
    parse_exodus_trackers,
    read_data_manifest,
    sha256_hex,
)
from appveto.outputs.files import OutputFolder

EXODUS_TRACKERS_URL = "https://reports.exodus-privacy.eu.org/api/trackers"
ANDROGUARD_RAW = (
    "https://raw.githubusercontent.com/androguard/androguard/master/androguard/core/api_specific_resources"
)
ANDROGUARD_API_MAP_URL = f"{ANDROGUARD_RAW}/api_permission_mappings/permissions_25.json"
AOSP_PERMISSIONS_URL = f"{ANDROGUARD_RAW}/aosp_permissions/permissions_36.json"

MAX_DOWNLOAD = 32 * 1024 * 1024
"""No reference file we fetch is near this size; larger answers are refused."""


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    kind: str
    url: str
    file: str
    licence: str


DEFAULT_SOURCES: tuple[Source, ...] = (
    Source(
        "exodus-trackers",
        "exodus-trackers",
        EXODUS_TRACKERS_URL,
        "exodus_trackers.json",
        "ODbL-1.0 (database) + DbCL-1.0 (contents), Exodus Privacy ETIP",
    ),
    Source(
        "androguard-api-permission-map-25",
        "androguard-api-map",
        ANDROGUARD_API_MAP_URL,
        "androguard_api_permissions_25.json",
        "Apache-2.0 (androguard, derived from axplorer)",
    ),
    Source(
        "aosp-permissions-36",
        "aosp-permissions",
        AOSP_PERMISSIONS_URL,
        "aosp_permissions_36.json",
        "Apache-2.0 (AOSP, extracted by androguard)",
    ),
)

Fetcher = Callable[[str, float], bytes]


def fetch(url: str, timeout: float) -> bytes:
    """GET ``url`` over http(s) with a size cap; errors name the URL."""
    if not url.startswith(("https://", "http://")):
        raise KnowledgeBaseError(f"refusing to fetch {url!r}: only http(s) URLs")
    headers = {"User-Agent": "appveto-data-update", "Accept": "application/json"}
    req = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - scheme checked above
            body: bytes = resp.read(MAX_DOWNLOAD + 1)
    except urllib.error.HTTPError as exc:
        raise KnowledgeBaseError(
            f"download failed: {url}", diagnostics=(Diagnostic(f"HTTP {exc.code} {exc.reason}", file=url),)
        ) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise KnowledgeBaseError(
            f"download failed: {url}", diagnostics=(Diagnostic(f"cannot connect: {reason}", file=url),)
        ) from None
    if len(body) > MAX_DOWNLOAD:
        raise KnowledgeBaseError(
            f"download too large: {url}",
            diagnostics=(Diagnostic(f"answer exceeds {MAX_DOWNLOAD} bytes", file=url),),
        )
    return body


def update(
    data_dir: Path,
    *,
    now: datetime,
    sources: tuple[Source, ...] = DEFAULT_SOURCES,
    fetcher: Fetcher | None = None,
    timeout: float = 30.0,
) -> tuple[DownloadedDataset, ...]:
    """Download every source, validate it, store it atomically and record it.

    A source that fails leaves its previous copy (if any) in place and raises after
    the others were tried, with one diagnostic per failed source.
    """
    with OutputFolder(data_dir) as folder:  # the one writer: atomic, no symbolic link followed
        return _update(folder, now=now, sources=sources, fetcher=fetcher or fetch, timeout=timeout)


def _update(
    folder: OutputFolder,
    *,
    now: datetime,
    sources: tuple[Source, ...],
    fetcher: Fetcher,
    timeout: float,
) -> tuple[DownloadedDataset, ...]:
    data_dir = folder.root
    previous = {d.name: d for d in read_data_manifest(data_dir)}
    done: dict[str, DownloadedDataset] = dict(previous)
    problems: list[Diagnostic] = []
    for src in sources:
        try:
            body = fetcher(src.url, timeout)
            _validate(src, body)
        except KnowledgeBaseError as exc:
            problems.extend(exc.diagnostics())
            continue
        folder.write(src.file, body)
        done[src.name] = DownloadedDataset(
            name=src.name,
            file=src.file,
            source=src.url,
            licence=src.licence,
            date=now.isoformat(timespec="seconds"),
            sha256=sha256_hex(body),
            kind=src.kind,
        )
    rows = sorted(done.values(), key=lambda d: d.name)
    manifest = {
        "datasets": [
            {
                "name": d.name,
                "file": d.file,
                "source": d.source,
                "licence": d.licence,
                "date": d.date,
                "sha256": d.sha256,
                "kind": d.kind,
            }
            for d in rows
        ]
    }
    folder.write(MANIFEST_NAME, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    if problems:
        folder.finish()  # what did download is stored (the folder drops its files on an error)
        raise KnowledgeBaseError(
            f"{len(problems)} of {len(sources)} downloads failed", diagnostics=tuple(problems)
        )
    return tuple(d for d in rows if d.name in {s.name for s in sources})


def update_from_file(data_dir: Path, path: Path, *, now: datetime) -> tuple[DownloadedDataset, ...]:
    """Store a tracker list carried in by hand (``appveto data update --from FILE``): the
    Exodus API answer saved on a machine with internet access. It is validated like a
    download, written through the one writer (atomically; the previous copy stays when it
    is refused) and recorded with its file name, SHA-256 and the date. ``path`` is only
    read; naming the stored copy itself is refused."""
    src = next(s for s in DEFAULT_SOURCES if s.kind == "exodus-trackers")
    target = data_dir / src.file
    try:
        same = target.exists() and path.exists() and path.samefile(target)
    except OSError:
        same = False
    if same:
        raise KnowledgeBaseError(
            f"{path} is the stored copy itself",
            diagnostics=(
                Diagnostic("give the newer list from elsewhere; the stored copy is replaced", file=str(path)),
            ),
        )
    given = replace(src, url=f"file {path.name} (given with --from, not downloaded)")

    def read(_url: str, _timeout: float) -> bytes:
        try:
            with path.open("rb") as fh:
                body = fh.read(MAX_DOWNLOAD + 1)
        except OSError as exc:
            raise KnowledgeBaseError(
                f"cannot read {path}",
                diagnostics=(Diagnostic(f"cannot read: {exc.strerror}", file=str(path)),),
            ) from None
        if len(body) > MAX_DOWNLOAD:
            raise KnowledgeBaseError(
                f"{path} is too large",
                diagnostics=(Diagnostic(f"larger than {MAX_DOWNLOAD} bytes", file=str(path)),),
            )
        try:
            _validate(replace(src, url=str(path)), body)
        except KnowledgeBaseError as exc:
            raise KnowledgeBaseError(
                f"{path} is not an Exodus tracker list", diagnostics=exc.diagnostics()
            ) from None
        return body

    return update(data_dir, now=now, sources=(given,), fetcher=read)


def _validate(src: Source, body: bytes) -> None:
    if src.kind == "exodus-trackers":
        _, trackers = parse_exodus_trackers(
            body, src.url, entities=(), origin="downloaded", source=src.url, licence=src.licence, date=""
        )
        if not trackers:
            raise KnowledgeBaseError(
                "empty tracker list", diagnostics=(Diagnostic("no trackers", file=src.url),)
            )
    elif src.kind == "androguard-api-map":
        if not parse_androguard_api_map(body, src.url):
            raise KnowledgeBaseError("empty map", diagnostics=(Diagnostic("no API rules", file=src.url),))
    elif src.kind == "aosp-permissions":
        if not parse_aosp_permissions(body, src.url):
            raise KnowledgeBaseError("empty table", diagnostics=(Diagnostic("no permissions", file=src.url),))
    else:
        raise KnowledgeBaseError(f"unknown dataset kind {src.kind!r}")
