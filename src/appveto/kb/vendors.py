"""Vendor reference tables: which apps a vendor publishes, which domains it owns.

Two datasets of the shipped baseline, written by the appveto developers from public
facts (see each file's ``about``) and validated by the pydantic models below when first
read:

* ``baseline/vendor_apps.json``: vendor id (as policies name it in ``apps[].vendors``)
  -> its apps with their store identifiers. A vendor that is not listed selects nothing,
  and the evaluation says so in its limitations.
* ``baseline/vendor_domains.json``: the entities that own apps (jurisdiction, the vendor
  ids policies may use), their products, and their domains for the DNS exports. A domain
  is ``owned`` (registered to and operated by the vendor: blocking it and its subdomains
  only affects the vendor's services) or ``shared`` (seen in the vendor's app traffic but
  operated by someone else for many customers; never blocked unless a decision names it).
  A domain's ``products`` say which of the vendor's products it serves; none means
  vendor-wide infrastructure, blocked whenever any app of that vendor is banned.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from importlib import resources
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from appveto.errors import Diagnostic, KnowledgeBaseError

_M = TypeVar("_M", bound=BaseModel)


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


Name = Annotated[str, Field(min_length=1, max_length=200)]
StoreId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,255}$")]
VendorId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")]
DomainName = Annotated[
    str, Field(max_length=253, pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
]


class About(_Record):
    """Where a dataset comes from."""

    name: Name
    source: Annotated[str, Field(min_length=1)]
    licence: Name
    date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class VendorApp(_Record):
    name: Name
    android: tuple[StoreId, ...] = ()
    ios: tuple[StoreId, ...] = ()


class VendorAppsFile(_Record):
    about: About
    vendors: dict[VendorId, tuple[VendorApp, ...]]


class DomainKind(StrEnum):
    OWNED = "owned"
    SHARED = "shared"


class Entity(_Record):
    name: Name
    jurisdiction: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    """ISO 3166-1 alpha-2 country of the controlling company."""
    ids: tuple[VendorId, ...] = ()
    """Vendor ids a policy may use in ``apps[].vendors`` (lower-case)."""


class Product(_Record):
    """An app family of a vendor, with its store identifiers."""

    name: Name
    entity: Name
    publisher: Name
    android: tuple[StoreId, ...] = ()
    ios: tuple[StoreId, ...] = ()


class VendorDomain(_Record):
    domain: DomainName
    entity: Name
    kind: DomainKind
    products: tuple[Name, ...] = ()
    note: str = ""

    @property
    def sort_key(self) -> tuple[str, str, str, tuple[str, ...], str]:
        return (self.domain, self.entity, self.kind.value, self.products, self.note)


class VendorDomainsFile(_Record):
    about: About
    entities: tuple[Entity, ...]
    products: tuple[Product, ...]
    domains: tuple[VendorDomain, ...]

    @model_validator(mode="after")
    def _references(self) -> VendorDomainsFile:
        names = [e.name for e in self.entities]
        if len(set(names)) != len(names):
            raise ValueError("an entity is listed twice")
        known = set(names)
        for where, entity in [
            *((f"product '{p.name}'", p.entity) for p in self.products),
            *((f"domain '{d.domain}'", d.entity) for d in self.domains),
        ]:
            if entity not in known:
                raise ValueError(f"{where}: entity '{entity}' is not among the entities")
        domains = [d.domain for d in self.domains]
        if len(set(domains)) != len(domains):
            raise ValueError("a domain is listed twice")
        return self


def _read(name: str, model: type[_M]) -> _M:
    data = resources.files("appveto.kb").joinpath("baseline", name).read_bytes()
    return parse(data, model, where=f"appveto/kb/baseline/{name}")


def parse(data: bytes, model: type[_M], *, where: str) -> _M:
    """``data`` validated as ``model``, or :class:`KnowledgeBaseError` naming each problem."""
    try:
        return model.model_validate_json(data, strict=False)
    except ValidationError as exc:
        diags = tuple(
            Diagnostic(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}", file=where) for e in exc.errors()
        )
        raise KnowledgeBaseError(f"{where}: {len(diags)} problem(s)", diagnostics=diags) from None


@functools.cache
def vendor_apps_file() -> VendorAppsFile:
    return _read("vendor_apps.json", VendorAppsFile)


@functools.cache
def vendor_domains_file() -> VendorDomainsFile:
    return _read("vendor_domains.json", VendorDomainsFile)


def vendor_apps(vendor_id: str) -> tuple[VendorApp, ...] | None:
    """The apps of a vendor id as policies name it, or ``None`` when the table does not know it."""
    return vendor_apps_file().vendors.get(vendor_id)


def domain_table_source() -> str:
    """The name the exports cite for a domain taken from this table."""
    return vendor_domains_file().about.name


def entity_of(name: str) -> Entity | None:
    for e in vendor_domains_file().entities:
        if e.name == name:
            return e
    return None


def entity_for_vendor_id(vendor_id: str) -> Entity | None:
    key = vendor_id.lower()
    for e in vendor_domains_file().entities:
        if key in e.ids or key == e.name.lower():
            return e
    return None


@functools.cache
def _domains_by_name() -> dict[str, VendorDomain]:
    return {d.domain: d for d in vendor_domains_file().domains}


def lookup_domain(name: str) -> VendorDomain | None:
    """The table entry covering ``name`` (itself or its closest listed parent)."""
    labels = name.lower().rstrip(".").split(".")
    by_name = _domains_by_name()
    for i in range(len(labels) - 1):
        hit = by_name.get(".".join(labels[i:]))
        if hit is not None:
            return hit
    return None


def products() -> tuple[Product, ...]:
    return vendor_domains_file().products


def product_of_app(platform: str, app_id: str) -> Product | None:
    """The product an app ID belongs to, or ``None`` when the table does not know it."""
    for p in vendor_domains_file().products:
        ids = p.android if platform == "android" else p.ios
        if app_id in ids:
            return p
    return None


def domains_of(entity: str, products: frozenset[str] | None) -> tuple[VendorDomain, ...]:
    """The table's domains of an entity; all of them when ``products`` is ``None``
    (a vendor-family ban), else vendor-wide ones plus those of the given products.
    Both owned and shared ones are returned; the caller decides what to block."""
    out = [
        d
        for d in vendor_domains_file().domains
        if d.entity == entity and (products is None or not d.products or set(d.products) & products)
    ]
    return tuple(sorted(out, key=lambda d: d.sort_key))
