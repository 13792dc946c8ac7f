"""Every document appveto renders, in every format, plugs in here: one :class:`Renderer`
per (document, format).

A renderer module of this package registers its renderers with :func:`renderer`; the
registry imports every module of ``appveto.report`` the first time it is asked, so a new
format is one module (and its test): the CLI's ``--format`` choices (:func:`choices`)
and the docs come from the keys. Renderer modules keep heavy imports inside their
functions, so loading the registry stays cheap.

Documents and what their renderers take:

=============  ==============================================================
``scan``       a sequence of :class:`~appveto.scan.record.ScanRecord`
``compare``    a :class:`~appveto.report.compare.Comparison`
``diff``       a :class:`~appveto.report.diff.ScanDiff`
``evaluation`` a :class:`~appveto.compliance.model.Evaluation`
``impact``     an :class:`~appveto.compliance.impact.Impact` (option ``list``)
``explain``    an :class:`~appveto.compliance.explain.Explanation`
``timeline``   a sequence of :class:`~appveto.policy.timeline.TimelineEvent`
``notice``     a :class:`~appveto.compliance.notices.Notice` (eml: option ``sender``)
``policy-*``   lint warnings, resolved decisions, policy changes (``appveto policy``)
``audit``      an :class:`~appveto.report.audit.AuditRows` (the server's audit trail)
=============  ==============================================================
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args

Document = Literal[
    "scan",
    "compare",
    "diff",
    "evaluation",
    "impact",
    "explain",
    "timeline",
    "notice",
    "policy-lint",
    "policy-show",
    "policy-diff",
    "audit",
]
DOCUMENTS: tuple[Document, ...] = get_args(Document)

_ORDER = ("text", "json", "csv", "sarif", "html", "pdf", "markdown", "eml")
"""How formats are listed (text first: it is every command's default)."""

_KNOWN: dict[str, tuple[str, str]] = {
    "text": ("text/plain", "txt"),
    "json": ("application/json", "json"),
    "csv": ("text/csv", "csv"),
    "sarif": ("application/sarif+json", "sarif"),
    "html": ("text/html", "html"),
    "pdf": ("application/pdf", "pdf"),
    "markdown": ("text/markdown", "md"),
    "eml": ("message/rfc822", "eml"),
}
"""Media type and file extension of the formats we know; a new one names its own."""


@dataclass(frozen=True, slots=True)
class Renderer:
    document: Document
    format: str
    media_type: str
    extension: str
    render: Callable[..., str | bytes]
    """``render(value, **options)``: the document as text, or bytes when ``binary``."""
    description: str
    binary: bool = False
    options: tuple[str, ...] = ()
    """The keyword options ``render`` takes; :func:`render` passes only these."""

    @property
    def name(self) -> str:
        return self.format


_REGISTRY: dict[tuple[Document, str], Renderer] = {}
_loaded: list[bool] = []

F = TypeVar("F", bound=Callable[..., Any])


def renderer(
    document: Document,
    format: str,
    *,
    description: str,
    media_type: str | None = None,
    extension: str | None = None,
    binary: bool = False,
    options: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Register the decorated function as the renderer of ``document`` in ``format``
    (media type and extension default to the format's usual ones)."""
    default_media, default_ext = _KNOWN.get(format, (None, None))
    media = media_type or default_media
    ext = extension or default_ext
    if media is None or ext is None:
        raise ValueError(f"{format}: a new format names its media_type and extension")

    def register(func: F) -> F:
        key = (document, format)
        if key in _REGISTRY and _REGISTRY[key].render is not func:
            raise RuntimeError(f"two renderers for {document} in {format}")
        _REGISTRY[key] = Renderer(document, format, media, ext, func, description, binary, options)
        return func

    return register


def _load() -> None:
    if _loaded:
        return
    import appveto.report as package

    for mod in pkgutil.iter_modules(package.__path__):
        if mod.name != "registry" and not mod.ispkg:
            importlib.import_module(f"{package.__name__}.{mod.name}")
    _loaded.append(True)


def renderers() -> dict[tuple[Document, str], Renderer]:
    """Every renderer, by (document, format)."""
    _load()
    return dict(_REGISTRY)


def formats(document: Document) -> tuple[str, ...]:
    """The formats ``document`` can be rendered in, text first."""
    _load()
    names = [f for d, f in _REGISTRY if d == document]
    return tuple(sorted(names, key=lambda f: (_ORDER.index(f) if f in _ORDER else len(_ORDER), f)))


def get(document: Document, fmt: str) -> Renderer:
    _load()
    try:
        return _REGISTRY[(document, fmt)]
    except KeyError:
        raise KeyError(
            f"no {fmt} renderer for {document} (there are: {', '.join(formats(document))})"
        ) from None


def render(document: Document, fmt: str, value: object, **options: Any) -> str | bytes:
    """``value`` rendered as ``document`` in ``fmt``; of ``options``, the renderer gets the
    ones it takes (a command can pass the same options whatever the format)."""
    r = get(document, fmt)
    return r.render(value, **{k: v for k, v in options.items() if k in r.options})


class Choices:
    """A document's formats for ``argparse`` ``choices=``: the registry is loaded only when
    argparse checks a value or prints help, so building the CLI stays cheap."""

    def __init__(self, document: Document) -> None:
        self.document = document

    def __iter__(self) -> Iterator[str]:
        return iter(formats(self.document))

    def __contains__(self, value: object) -> bool:
        return value in formats(self.document)

    def __len__(self) -> int:
        return len(formats(self.document))


def choices(document: Document) -> Choices:
    return Choices(document)
