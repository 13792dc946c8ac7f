"""One notice per affected person: what to remove, by when, under which decision, whom to ask.

:func:`build_notices` turns an :class:`Evaluation` into :class:`Notice` values (people with
a ``violation``, ``overdue``, ``exception_expired`` or ``advisory`` result);
:mod:`appveto.report.notices` renders them (Markdown and e-mail).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from appveto.compliance.model import DeviceResult, Evaluation, Status
from appveto.policy.model import PolicySet

NOTICE_STATUSES = (Status.OVERDUE, Status.EXCEPTION_EXPIRED, Status.VIOLATION, Status.ADVISORY)


@dataclass(frozen=True, slots=True)
class Recipient:
    person_id: str
    name: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class NoticeItem:
    decision_id: str
    decision_title: str
    reference: str | None
    status: Status
    app: str
    device: str
    remove_by: date | None
    exception_approver: str | None
    """Whom to ask for an exception (the decision's ``exception_rules.approver``)."""
    exception_grounds: tuple[str, ...]
    expired_exception: str | None


@dataclass(frozen=True, slots=True)
class Notice:
    recipient: Recipient
    at: date
    items: tuple[NoticeItem, ...]

    @property
    def binding(self) -> bool:
        return any(i.status is not Status.ADVISORY for i in self.items)


def build_notices(
    evaluation: Evaluation, policies: PolicySet, recipients: Iterable[Recipient]
) -> tuple[Notice, ...]:
    """One notice per person with a result to act on, sorted by person ID.

    ``recipients`` gives names and addresses (e.g. from the store's people); a person
    missing there still gets a notice, without an address.
    """
    by_person: dict[str, list[DeviceResult]] = defaultdict(list)
    for r in evaluation.results:
        if r.status in NOTICE_STATUSES and r.person_id:
            by_person[r.person_id].append(r)
    known = {r.person_id: r for r in recipients if r.person_id in by_person}
    out = []
    for pid in sorted(by_person):
        items = []
        seen: set[tuple[str, str, str]] = set()
        for r in sorted(
            by_person[pid], key=lambda r: (NOTICE_STATUSES.index(r.status), r.decision_id, r.device_key)
        ):
            app = r.app_name or r.app_id or "?"
            if r.app_name and r.app_id:
                app = f"{r.app_name} ({r.app_id})"
            device = r.device_name or r.device_key
            if (r.decision_id, app, device) in seen:
                continue
            seen.add((r.decision_id, app, device))
            decision = policies.decision(r.decision_id)
            rules = decision.exception_rules if decision is not None else None
            if rules is None and decision is not None and decision.follows is not None:
                followed = policies.decision(decision.follows.decision)
                rules = followed.exception_rules if followed is not None else None
            items.append(
                NoticeItem(
                    decision_id=r.decision_id,
                    decision_title=decision.title if decision is not None else r.decision_id,
                    reference=decision.reference if decision is not None else None,
                    status=r.status,
                    app=app,
                    device=device,
                    remove_by=r.remove_by,
                    exception_approver=rules.approver if rules is not None else None,
                    exception_grounds=tuple(g.value for g in rules.grounds) if rules is not None else (),
                    expired_exception=r.exception_id if r.status is Status.EXCEPTION_EXPIRED else None,
                )
            )
        out.append(Notice(known.get(pid, Recipient(pid, None, None)), evaluation.at, tuple(items)))
    return tuple(out)


_SAFE_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def notice_file_stem(notice: Notice) -> str:
    """A file name for one person's notice (see :func:`notice_file_stems`)."""
    return notice_file_stems([notice])[0]


def notice_file_stems(notices: Sequence[Notice]) -> list[str]:
    """A distinct, safe file name per notice (without extension).

    A person ID that is already a plain file name (letters, digits, ``. _ -``, at most 100
    characters, not starting with a dot) is used as it is; any other is made safe and gets
    a short hash of the real ID (``a/b`` -> ``a_b-1a2b3c4d``, never the same as ``a_b``).
    IDs that would still meet on a case-insensitive file system (``Alice``, ``alice``) all
    get the hash too.
    """

    def hashed(pid: str) -> str:
        safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in pid)
        safe = safe.strip("._")[:100] or "person"
        return f"{safe}-{hashlib.sha256(pid.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"

    ids = [n.recipient.person_id for n in notices]
    stems = [pid if _SAFE_STEM.fullmatch(pid) else hashed(pid) for pid in ids]
    seen: dict[str, int] = {}
    for s in stems:
        k = unicodedata.normalize("NFC", s).casefold()
        seen[k] = seen.get(k, 0) + 1
    return [
        hashed(pid) if seen[unicodedata.normalize("NFC", s).casefold()] > 1 and s == pid else s
        for pid, s in zip(ids, stems, strict=True)
    ]
