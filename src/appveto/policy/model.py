"""The policy model: authorities and ban decisions, as read from ``policies/*.yaml``.

Two layers live here:

* the *document* models (pydantic v2, frozen, ``extra="forbid"``): what a policy file
  says, one :class:`Decision` per file plus :class:`AuthoritiesFile` documents. They are
  the parse target of :mod:`appveto.policy.load` and the source of the JSON Schema;
* the *resolved* values (frozen slotted dataclasses): what a decision means on a given
  day after adoption, amendments, renewals and expiry, produced by
  :func:`appveto.policy.resolve.resolve`. Downstream code (compliance evaluation, MDM
  and DNS exporters) reads only these and never re-parses a file.

Dates follow one convention everywhere: ``effective`` and ``granted`` are the first day
something applies; ``expires`` (and a renewal's ``extends_to``) is the first day it no
longer applies; a deadline date is the last day on which the action is still on time.
Selectors fail closed: an empty selector matches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, NewType

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt

_Date = date

DecisionId = NewType("DecisionId", str)
AuthorityId = NewType("AuthorityId", str)
UnitId = NewType("UnitId", str)

# --------------------------------------------------------------------------- value types

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,79}$"
ANDROID_PACKAGE_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$"
IOS_BUNDLE_PATTERN = r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
DOMAIN_PATTERN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
SHA256_PATTERN = r"^([0-9a-fA-F]{64}|([0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2})$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
CHECK_ID_PATTERN = r"^AV-[A-Z]+-[0-9]{3}$"
URL_PATTERN = r"^https?://[^\s]+$"

PATTERN_NAMES: Mapping[str, str] = {
    ID_PATTERN: "an identifier (lower-case letters, digits, '.', '_' or '-', at most 80)",
    ANDROID_PACKAGE_PATTERN: "an Android package name such as com.example.app",
    IOS_BUNDLE_PATTERN: "an iOS bundle identifier such as com.example.app",
    DOMAIN_PATTERN: "a lower-case domain name such as example.com (no scheme, no path)",
    SHA256_PATTERN: "a SHA-256 fingerprint (64 hex digits, colons allowed)",
    COUNTRY_PATTERN: "an ISO 3166-1 alpha-2 country code such as CN",
    CHECK_ID_PATTERN: "a check ID such as AV-JUR-001",
    URL_PATTERN: "an http(s) URL",
}
"""Human names of the patterns above, used by the loader to word its messages."""


def _date_only(value: object) -> object:
    """Accept a date or ISO ``YYYY-MM-DD`` text; refuse numbers, timestamps and other forms."""
    from datetime import datetime

    from pydantic_core import PydanticCustomError

    if isinstance(value, datetime):
        raise PydanticCustomError("date_only", "expected a date such as 2023-03-10, got a timestamp")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise PydanticCustomError("date_value", "no such day") from None
        if "T" in value or ":" in value:
            raise PydanticCustomError("date_only", "expected a date such as 2023-03-10, got a timestamp")
    raise PydanticCustomError("date_type", "expected a date such as 2023-03-10")


Day = Annotated[date, BeforeValidator(_date_only)]
Id = Annotated[str, Field(pattern=ID_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
AndroidPackage = Annotated[str, Field(pattern=ANDROID_PACKAGE_PATTERN, max_length=255)]
IosBundleId = Annotated[str, Field(pattern=IOS_BUNDLE_PATTERN, max_length=255)]
Domain = Annotated[str, Field(pattern=DOMAIN_PATTERN, max_length=253)]
Sha256 = Annotated[str, Field(pattern=SHA256_PATTERN)]
Country = Annotated[str, Field(pattern=COUNTRY_PATTERN)]
CheckIdText = Annotated[str, Field(pattern=CHECK_ID_PATTERN)]
Url = Annotated[str, Field(pattern=URL_PATTERN, max_length=2000)]


def normalise_sha256(value: str) -> str:
    """``AB:CD:...`` or mixed case -> 64 lower-case hex digits."""
    return value.replace(":", "").lower()


# --------------------------------------------------------------------------- enums


class AuthorityLevel(StrEnum):
    SUPRANATIONAL = "supranational"
    NATIONAL = "national"
    FEDERAL = "federal"
    STATE = "state"
    REGIONAL = "regional"
    COMMUNITY = "community"
    LOCAL = "local"
    PARLIAMENT = "parliament"
    AGENCY = "agency"


class Instrument(StrEnum):
    DECISION = "decision"
    CIRCULAR = "circular"
    DIRECTIVE = "directive"
    MEMORANDUM = "memorandum"
    STATUTE = "statute"
    EXECUTIVE_ORDER = "executive_order"
    INSTRUCTION = "instruction"
    LETTER = "letter"
    RECOMMENDATION = "recommendation"
    NOTICE = "notice"


class EvidenceKind(StrEnum):
    OFFICIAL_TEXT = "official_text"
    ADVICE = "advice"
    SCAN_REPORT = "scan_report"
    PRESS = "press"
    OTHER = "other"


class Mode(StrEnum):
    """How binding one part of a scope is."""

    MANDATORY = "mandatory"
    ADVISORY = "advisory"


class Role(StrEnum):
    MINISTER = "minister"
    CABINET_MEMBER = "cabinet_member"
    POLITICAL_LEADERSHIP = "political_leadership"
    CIVIL_SERVANT = "civil_servant"
    MEMBER_OF_PARLIAMENT = "member_of_parliament"
    PARLIAMENT_STAFF = "parliament_staff"
    GROUP_STAFF = "group_staff"
    POLICE_OFFICER = "police_officer"
    CONTRACTOR = "contractor"
    VISITOR = "visitor"
    STAFF = "staff"


class DeviceRelation(StrEnum):
    """How a device relates to the authority (any one listed puts it in scope)."""

    ISSUED = "issued"
    PAID_WHOLLY = "paid_wholly"
    PAID_PARTLY = "paid_partly"
    ENROLLED_PERSONAL = "enrolled_personal"
    PERSONAL = "personal"
    ACCESSES_SYSTEM = "accesses_system"


class DeadlineKind(StrEnum):
    IDENTIFY_BY = "identify_by"
    REMOVE_BY = "remove_by"
    BLOCK_INSTALL_BY = "block_install_by"
    BLOCK_TRAFFIC_BY = "block_traffic_by"
    EXCEPTION_PROCESS_BY = "exception_process_by"
    CONTRACTS_BY = "contracts_by"
    SOLICITATIONS_BY = "solicitations_by"
    REPORT_BY = "report_by"


class Grounds(StrEnum):
    LAW_ENFORCEMENT = "law_enforcement"
    NATIONAL_SECURITY = "national_security"
    SECURITY_RESEARCH = "security_research"
    INSTITUTIONAL_COMMUNICATION = "institutional_communication"
    REGULATORY_FUNCTION = "regulatory_function"
    DEMOCRATIC_DUTIES = "democratic_duties"
    BUSINESS_NEED = "business_need"
    OTHER = "other"


class SubjectKind(StrEnum):
    PERSON = "person"
    DEVICE = "device"
    UNIT = "unit"


class InheritPart(StrEnum):
    """What a following decision takes over from the decision it follows."""

    APPS = "apps"
    SCOPE = "scope"
    NETWORK_ZONES = "network_zones"
    EXCEPTION_RULES = "exception_rules"


class AdoptionStatus(StrEnum):
    PENDING = "pending"
    ADOPTED = "adopted"
    DECLINED = "declined"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    UNDER_REVIEW = "under_review"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class DecisionStatus(StrEnum):
    DRAFT = "draft"
    ANNOUNCED = "announced"
    ACTIVE = "active"
    EXPIRED = "expired"


# --------------------------------------------------------------------------- documents


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Unit(_Doc):
    """An organisational unit of an authority; units nest through ``parent``."""

    id: Id
    name: Text
    parent: Id | None = None
    headcount: StrictInt | None = Field(default=None, ge=0)


class Authority(_Doc):
    """A deciding body. Authorities form a hierarchy through ``parent``."""

    id: Id
    name: Text
    level: AuthorityLevel
    parent: Id | None = None
    country: Country | None = None
    units: tuple[Unit, ...] = ()
    note: Text | None = None


class AuthoritiesFile(_Doc):
    """A file listing authorities and their units (``kind: authorities``)."""

    kind: Literal["authorities"]
    authorities: tuple[Authority, ...] = Field(min_length=1)


class EvidenceLink(_Doc):
    title: Text
    url: Url | None = None
    kind: EvidenceKind = EvidenceKind.OTHER
    date: Day | None = None
    sha256: Sha256 | None = None


class ScanRule(_Doc):
    """Selects apps by a scan result: a risk score at or above, or a finding present."""

    score_at_least: StrictInt | None = Field(default=None, ge=0, le=100)
    finding: CheckIdText | None = None


class AppSelector(_Doc):
    """One app or family of apps. Every listed criterion selects (a union); none selects nothing."""

    name: Text | None = None
    android: tuple[AndroidPackage, ...] = ()
    ios: tuple[IosBundleId, ...] = ()
    web: tuple[Domain, ...] = ()
    signer_sha256: tuple[Sha256, ...] = ()
    vendors: tuple[Id, ...] = ()
    successors: StrictBool = False
    """Include successor apps and services of the vendors (e.g. any ByteDance app)."""
    categories: tuple[Id, ...] = ()
    countries_of_origin: tuple[Country, ...] = ()
    scan: ScanRule | None = None
    note: Text | None = None

    def selects_anything(self) -> bool:
        return bool(
            self.android
            or self.ios
            or self.web
            or self.signer_sha256
            or self.vendors
            or self.categories
            or self.countries_of_origin
            or (self.scan is not None and (self.scan.score_at_least is not None or self.scan.finding))
        )


class Roles(_Doc):
    include: tuple[Role, ...] = ()
    """Empty means every role."""
    exclude: tuple[Role, ...] = ()


class ScopePart(_Doc):
    """Who, which devices and which networks, with how binding the ban is for them."""

    id: Id
    mode: Mode
    description: Text | None = None
    units: tuple[Id, ...] = ()
    """Units or whole authorities; empty means the whole deciding authority."""
    include_sub_units: StrictBool = True
    roles: Roles = Roles()
    devices: tuple[DeviceRelation, ...] = ()
    """Empty means no device criterion (e.g. a network-only part)."""
    systems: tuple[Id, ...] = ()
    """Named systems for ``accesses_system`` (e.g. the chamber's document system)."""
    networks: tuple[Id, ...] = ()
    """Names of network zones of this decision in which the ban applies."""
    headcount: StrictInt | None = Field(default=None, ge=0)


class NetworkZone(_Doc):
    name: Id
    description: Text | None = None
    cidrs: tuple[str, ...] = ()
    ssids: tuple[Annotated[str, Field(min_length=1, max_length=32)], ...] = ()


class Deadline(_Doc):
    """A phased deadline: a fixed ``date`` or ``days`` after the effective date."""

    kind: DeadlineKind
    date: Day | None = None
    days: StrictInt | None = Field(default=None, ge=0, le=3650)
    note: Text | None = None


class Renewal(_Doc):
    """A dated decision that extends (renews) the ban."""

    decided: Day
    extends_to: Day | None = None
    """New expiry; absent means until further notice."""
    by: Id | None = None
    instrument: Instrument = Instrument.DECISION
    note: Text | None = None


class Term(_Doc):
    announced: Day | None = None
    effective: Day
    deadlines: tuple[Deadline, ...] = ()
    expires: Day | None = None
    """Absent means until further notice."""
    renewals: tuple[Renewal, ...] = ()
    review: Text | None = None


class ExceptionSubject(_Doc):
    kind: SubjectKind
    id: Annotated[str, Field(min_length=1, max_length=200)]


class ExceptionRules(_Doc):
    """What exceptions a decision allows: grounds, who approves, how long at most."""

    grounds: tuple[Grounds, ...] = Field(min_length=1)
    approver: Text
    max_days: StrictInt | None = Field(default=None, ge=1, le=3650)
    conditions: tuple[Text, ...] = ()


class PolicyException(_Doc):
    """One documented, time-limited exception for one person, device or unit.

    Exceptions are read narrowly: a unit subject covers that unit, not its sub-units.
    """

    id: Id
    subject: ExceptionSubject
    grounds: Grounds
    approver: Text
    granted: Day
    expires: Day
    conditions: tuple[Text, ...] = ()
    reason: Text | None = None


class Follows(_Doc):
    """Adoption of another decision, with local amendments (this decision's own parts)."""

    decision: Id
    inherit: tuple[InheritPart, ...] = (InheritPart.APPS, InheritPart.EXCEPTION_RULES)
    amendments: Text | None = None


class AdoptionRequest(_Doc):
    """A lower authority asked to adopt this decision, and where it stands."""

    authority: Id
    status: AdoptionStatus = AdoptionStatus.PENDING
    date: Day | None = None
    decision: Id | None = None
    note: Text | None = None


class OfficialAccount(_Doc):
    platform: Text
    handle: Text
    owner: Id
    """The owning unit or authority."""
    status: AccountStatus
    since: Day | None = None
    note: Text | None = None


class Decision(_Doc):
    """One ban decision (``kind: decision``), one per file."""

    kind: Literal["decision"]
    id: Id
    title: Text
    authority: Id
    instrument: Instrument
    reference: Text | None = None
    draft: StrictBool = False
    advised_by: tuple[Id, ...] = ()
    evidence: tuple[EvidenceLink, ...] = ()
    apps: tuple[AppSelector, ...] = ()
    scope: tuple[ScopePart, ...] = ()
    network_zones: tuple[NetworkZone, ...] = ()
    term: Term
    exception_rules: ExceptionRules | None = None
    exceptions: tuple[PolicyException, ...] = ()
    follows: Follows | None = None
    asks: tuple[AdoptionRequest, ...] = ()
    official_accounts: tuple[OfficialAccount, ...] = ()
    notes: Text | None = None


# --------------------------------------------------------------------------- policy set


@dataclass(frozen=True, slots=True)
class SourceMark:
    """Where a value sits in a policy file (1-based line and column)."""

    file: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True)
class PolicySet:
    """All authorities and decisions of a policy folder, cross-checked by the loader."""

    authorities: tuple[Authority, ...]
    decisions: tuple[Decision, ...]
    marks: Mapping[tuple[str, tuple[str | int, ...]], SourceMark] = field(
        default_factory=dict, compare=False, repr=False
    )
    """(decision id or ``@authorities``, path) -> place in the file; filled by the loader."""

    def authority(self, authority_id: str) -> Authority | None:
        for a in self.authorities:
            if a.id == authority_id:
                return a
        return None

    def decision(self, decision_id: str) -> Decision | None:
        for d in self.decisions:
            if d.id == decision_id:
                return d
        return None

    def unit(self, unit_id: str) -> tuple[Authority, Unit] | None:
        for a in self.authorities:
            for u in a.units:
                if u.id == unit_id:
                    return a, u
        return None

    def authority_chain(self, authority_id: str) -> tuple[Authority, ...]:
        """The authority and its ancestors, nearest first (stops on a cycle)."""
        chain: list[Authority] = []
        seen: set[str] = set()
        current: str | None = authority_id
        while current is not None and current not in seen:
            seen.add(current)
            found = self.authority(current)
            if found is None:
                break
            chain.append(found)
            current = found.parent
        return tuple(chain)

    def unit_ancestors(self, unit_id: str) -> tuple[str, ...]:
        """A unit id followed by its ancestor units and finally its authority id."""
        found = self.unit(unit_id)
        if found is None:
            return (unit_id,)
        authority, _ = found
        by_id = {u.id: u for u in authority.units}
        chain = [unit_id]
        current = by_id[unit_id].parent
        while current is not None and current not in chain and current in by_id:
            chain.append(current)
            current = by_id[current].parent
        chain.append(authority.id)
        return tuple(chain)

    def within(self, unit_id: str, container: str, *, sub_units: bool = True) -> bool:
        """Whether a unit (or authority) is ``container`` or, with ``sub_units``, nested in it.

        A container may be a unit or an authority (all of its units). Child authorities are
        not inside their parent: a decision names them explicitly.
        """
        if unit_id == container:
            return True
        return sub_units and container in self.unit_ancestors(unit_id)[1:]

    def where(self, owner: str, *path: str | int) -> SourceMark | None:
        """The closest recorded place of ``path`` inside a decision (or ``@authorities``)."""
        p: tuple[str | int, ...] = tuple(path)
        while True:
            mark = self.marks.get((owner, p))
            if mark is not None:
                return mark
            if not p:
                return None
            p = p[:-1]


# --------------------------------------------------------------------------- resolved values


@dataclass(frozen=True, slots=True)
class ResolvedApps:
    """The app selection of a decision, flattened for matching. Empty selects nothing."""

    selectors: tuple[AppSelector, ...]
    android_packages: tuple[str, ...]
    ios_bundle_ids: tuple[str, ...]
    web_domains: tuple[str, ...]
    """Each domain covers its sub-domains."""
    signer_sha256: tuple[str, ...]
    """Lower-case hex without colons."""
    vendors: tuple[str, ...]
    successor_vendors: tuple[str, ...]
    """Vendors whose successor apps and services are selected too."""
    categories: tuple[str, ...]
    countries_of_origin: tuple[str, ...]
    scan_rules: tuple[ScanRule, ...]

    def selects_android(self, package: str) -> bool:
        """Android package names are compared exactly (they are case-sensitive)."""
        return package in self.android_packages

    def selects_ios(self, bundle_id: str) -> bool:
        """iOS bundle ids are compared without regard to case, as the App Store treats them."""
        folded = bundle_id.casefold()
        return any(b.casefold() == folded for b in self.ios_bundle_ids)

    def selects_domain(self, host: str) -> bool:
        """True when ``host`` is a selected domain or one of its sub-domains."""
        h = host.strip().lower().rstrip(".")
        return bool(h) and any(h == d or h.endswith("." + d) for d in self.web_domains)

    def selects_signer(self, sha256: str) -> bool:
        return normalise_sha256(sha256) in self.signer_sha256

    def selects_vendor(self, vendor: str) -> bool:
        return vendor in self.vendors

    def selects_category(self, category: str) -> bool:
        return category in self.categories

    def selects_country(self, country: str) -> bool:
        return country.upper() in self.countries_of_origin

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.android_packages,
                self.ios_bundle_ids,
                self.web_domains,
                self.signer_sha256,
                self.vendors,
                self.categories,
                self.countries_of_origin,
                self.scan_rules,
            )
        )


@dataclass(frozen=True, slots=True)
class ResolvedScopePart:
    id: str
    source_decision: str
    """The decision this part comes from (itself or one it follows)."""
    authority: str
    """The authority whose organisation an empty ``units`` means."""
    mode: Mode
    units: tuple[str, ...]
    include_sub_units: bool
    roles_include: tuple[Role, ...]
    roles_exclude: tuple[Role, ...]
    devices: tuple[DeviceRelation, ...]
    systems: tuple[str, ...]
    networks: tuple[str, ...]
    description: str | None = None
    headcount: int | None = None

    def covers_unit(self, policies: PolicySet, unit_id: str) -> bool:
        """Whether people of ``unit_id`` fall under this part's units (empty: the authority)."""
        containers = self.units or (self.authority,)
        return any(policies.within(unit_id, c, sub_units=self.include_sub_units) for c in containers)

    def covers_role(self, role: Role) -> bool:
        """Whether a person with ``role`` falls under this part (no ``include``: every role)."""
        if role in self.roles_exclude:
            return False
        return not self.roles_include or role in self.roles_include


@dataclass(frozen=True, slots=True)
class ResolvedZone:
    name: str
    source_decision: str
    cidrs: tuple[str, ...]
    ssids: tuple[str, ...]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ResolvedDeadline:
    kind: DeadlineKind
    date: date
    """Last day on which the action is on time."""
    source_decision: str
    note: str | None = None

    def overdue(self, at: _Date) -> bool:
        return at > self.date


@dataclass(frozen=True, slots=True)
class ResolvedException:
    id: str
    source_decision: str
    subject_kind: SubjectKind
    subject_id: str
    grounds: Grounds
    approver: str
    granted: date
    expires: date
    conditions: tuple[str, ...]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ResolvedRenewal:
    decided: date
    extends_to: date | None
    by: str
    instrument: Instrument
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ResolvedDecision:
    """A decision as it stands on ``at``: everything downstream code needs, already resolved."""

    id: str
    title: str
    at: date
    status: DecisionStatus
    authority: str
    authority_chain: tuple[Authority, ...]
    """Deciding authority first, then its parents."""
    lineage: tuple[str, ...]
    """This decision id, then the decisions it follows, nearest first."""
    instrument: Instrument
    announced: date | None
    effective: date
    expires: date | None
    """Expiry after the renewals decided on or before ``at``; None: until further notice."""
    original_expiry: date | None
    renewals: tuple[ResolvedRenewal, ...]
    """Renewals decided on or before ``at``, oldest first."""
    apps: ResolvedApps
    scope: tuple[ResolvedScopePart, ...]
    network_zones: tuple[ResolvedZone, ...]
    deadlines: tuple[ResolvedDeadline, ...]
    exception_rules: ExceptionRules | None
    active_exceptions: tuple[ResolvedException, ...]
    expired_exceptions: tuple[ResolvedException, ...]
    future_exceptions: tuple[ResolvedException, ...]
    official_accounts: tuple[OfficialAccount, ...]
    asks: tuple[AdoptionRequest, ...]
    advised_by: tuple[str, ...]
    evidence: tuple[EvidenceLink, ...] = ()

    @property
    def in_force(self) -> bool:
        return self.status is DecisionStatus.ACTIVE

    def deadline(self, kind: DeadlineKind) -> date | None:
        """The earliest deadline of a kind, or None."""
        dates = [d.date for d in self.deadlines if d.kind is kind]
        return min(dates) if dates else None

    @property
    def remove_by(self) -> date | None:
        return self.deadline(DeadlineKind.REMOVE_BY)

    @property
    def block_traffic_by(self) -> date | None:
        return self.deadline(DeadlineKind.BLOCK_TRAFFIC_BY)

    @property
    def mandatory_scope(self) -> tuple[ResolvedScopePart, ...]:
        return tuple(p for p in self.scope if p.mode is Mode.MANDATORY)

    @property
    def advisory_scope(self) -> tuple[ResolvedScopePart, ...]:
        return tuple(p for p in self.scope if p.mode is Mode.ADVISORY)


def dump_plain(model: BaseModel) -> dict[str, Any]:
    """A JSON-ready dict of a document model (dates as ISO strings, defaults left out)."""
    return model.model_dump(mode="json", exclude_defaults=True)


def resolve(policies: PolicySet, decision_id: str, *, at: date) -> ResolvedDecision:
    """See :func:`appveto.policy.resolve.resolve` (re-exported here for convenience)."""
    from appveto.policy.resolve import resolve as _resolve

    return _resolve(policies, decision_id, at=at)


def resolve_all(policies: PolicySet, *, at: date) -> tuple[ResolvedDecision, ...]:
    """See :func:`appveto.policy.resolve.resolve_all`."""
    from appveto.policy.resolve import resolve_all as _resolve_all

    return _resolve_all(policies, at=at)


ITEM_NAMES: Mapping[str, str] = {
    "authorities": "authority",
    "units": "unit",
    "evidence": "evidence link",
    "apps": "app selector",
    "scope": "scope part",
    "network_zones": "network zone",
    "deadlines": "deadline",
    "renewals": "renewal",
    "exceptions": "exception",
    "asks": "adoption request",
    "official_accounts": "official account",
}
"""How a list field's items are named in messages (``exception 'x' needs 'expires'``)."""
