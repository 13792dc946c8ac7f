"""A notice to one person (:class:`~appveto.compliance.notices.Notice`) as Markdown and
as an e-mail.

Every value from the directory, the inventories and the policies is escaped for its
medium (Markdown for the .md file, the terminal rule for the e-mail body); addresses are
built with :class:`email.headerregistry.Address` (appveto.outputs.mail). E-mails are
:class:`email.message.EmailMessage` objects whose ``Date`` and ``Message-ID`` derive from
the evaluation date and the notice's content, so the same evaluation gives byte-identical
``.eml`` files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from appveto.outputs import markdown, terminal
from appveto.report.registry import renderer

if TYPE_CHECKING:
    from email.message import EmailMessage

    from appveto.compliance.notices import Notice, NoticeItem


def _when(item: NoticeItem, at: date) -> str:
    from appveto.compliance.model import Status

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
    from appveto.compliance.model import Status

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


@renderer(
    "notice",
    "markdown",
    description="the notice as a Markdown file",
)
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
    from email.message import EmailMessage
    from email.utils import format_datetime

    from appveto.outputs import mail

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


@renderer(
    "notice",
    "eml",
    description="the notice as an e-mail message (option sender)",
    binary=True,
    options=("sender",),
)
def notice_eml(notice: Notice, *, sender: str) -> bytes:
    """The bytes of :func:`notice_email`."""
    return notice_email(notice, sender=sender).as_bytes()
