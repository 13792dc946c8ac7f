"""One notice per affected person: what to remove, by when, under which decision, whom to ask.

:func:`build_notices` turns an :class:`Evaluation` into :class:`Notice` values (people with
a ``violation``, ``overdue``, ``exception_expired`` or ``advisory`` result);
:func:`notice_markdown` and :func:`notice_email` render one (every value escaped for
its medium, addresses built with :class:`email.headerregistry.Address`). E-mails are
:class:`email.message.EmailMessage` objects whose ``Date`` and ``Message-ID`` derive from
the evaluation date and the notice's content, so the same evaluation gives byte-identical
``.eml`` files.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from email.utils import format_datetime

from appveto.compliance.model import DeviceResult, Evaluation, Status
from appveto.outputs import mail, markdown, terminal
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


def _when(item: NoticeItem, at: date) -> str:
    if item.status is Status.ADVISORY:
        return "recommended, no deadline"
    if item.remove_by is None:
        return "now (the decision sets no remove-by date)"
    if at > item.remove_by:
        return f"now: the deadline was {item.remove_by.isoformat()}"
    return f"by {item.remove_by.isoformat()} at the latest"


def _code(value: str) -> str:
    """An ID inside a code span (where Markdown escapes do not apply): one line, no backtick."""
    return terminal.line(value).replace("`", "'")


def _render(notice: Notice, esc: Callable[[object], str]) -> str:
    """The notice's text; every value from the directory, the inventories and the policies
    goes through ``esc`` (Markdown for the .md file, the terminal rule for the e-mail)."""
    r = notice.recipient
    lines = [
        f"# {'Action required' if notice.binding else 'Recommendation'}: apps to remove",
        "",
        f"To: {esc(r.name or r.person_id)}" + (f" <{esc(r.email)}>" if r.email else ""),
        f"Date: {notice.at.isoformat()}",
        "",
        "The following apps are on devices you hold and fall under a ban decision:",
        "",
    ]
    for i in notice.items:
        lines.append(f"## {esc(i.app)} on {esc(i.device)}")
        lines.append("")
        lines.append(f"- Decision: {esc(i.decision_title)} (`{_code(i.decision_id)}`)")
        if i.reference:
            lines.append(f"- Reference: {esc(i.reference)}")
        kind = "binding" if i.status is not Status.ADVISORY else "advisory (recommended, not binding)"
        lines.append(f"- This ban is {kind}.")
        lines.append(f"- Remove it: {_when(i, notice.at)}")
        if i.expired_exception:
            lines.append(f"- Your exception `{_code(i.expired_exception)}` has expired.")
        if i.exception_approver:
            grounds = ", ".join(g.replace("_", " ") for g in i.exception_grounds)
            lines.append(
                f"- If you need the app for your work, ask {esc(i.exception_approver)} for an exception"
                + (f" (grounds accepted: {esc(grounds)})." if grounds else ".")
            )
        else:
            lines.append("- The decision provides no exception procedure.")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def notice_markdown(notice: Notice) -> str:
    """The notice as Markdown: values are literal text (appveto.outputs.markdown)."""
    return _render(notice, markdown.text)


def notice_text(notice: Notice) -> str:
    """The notice as plain text (the e-mail's body): values cannot forge lines."""
    return _render(notice, lambda v: terminal.line("" if v is None else str(v)))


def notice_email(notice: Notice, *, sender: str) -> EmailMessage:
    """The notice as an e-mail; ``Date`` is 08:00 UTC on the evaluation day.

    Addresses are built with :class:`email.headerregistry.Address` (appveto.outputs.mail):
    a display name is one quoted name whatever it holds. A line break in the sender, the
    recipient's name or address, or the person's ID raises
    :class:`~appveto.outputs.mail.MailValueError` (a bad row: the caller reports it and
    goes on with the next person).
    """
    r = notice.recipient
    msg = EmailMessage()
    body = notice_text(notice)
    digest = hashlib.sha256(f"{r.person_id}\n{body}".encode()).hexdigest()[:24]
    person = mail.header_text(r.person_id, "person ID")
    msg["From"] = mail.mailbox(sender, what="sender address")
    if r.email:
        msg["To"] = mail.address(r.email, r.name, what="e-mail address")
    elif r.name is not None:
        mail.header_text(r.name, "display name")
    msg["Subject"] = (
        "Action required: remove banned apps from your devices"
        if notice.binding
        else "Recommendation: remove apps from your devices"
    )
    msg["Date"] = format_datetime(datetime.combine(notice.at, time(8, 0), tzinfo=UTC))
    domain = msg["From"].addresses[0].domain or "appveto.invalid"
    msg["Message-ID"] = f"<{notice.at.strftime('%Y%m%d')}.{digest}@{domain}>"
    msg["X-Appveto-Person"] = person
    msg.set_content(body)
    return msg


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
