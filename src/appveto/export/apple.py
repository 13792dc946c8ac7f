"""Apple MDM: a configuration profile with a Restrictions payload (``blockedAppBundleIDs``).

The profile is an XML property list. Its identifiers and UUIDs are derived from the
decision id, so exporting the same decision again yields a profile that *replaces*
the installed one rather than adding a second copy.
"""

from __future__ import annotations

import plistlib
from dataclasses import dataclass
from typing import Any

from appveto.export.base import Artifact, require_ios, slug, stable_uuid
from appveto.export.target import EnforcementTarget

IDENTIFIER_PREFIX = "org.appveto.ban"

CAVEATS: tuple[str, ...] = (
    "blockedAppBundleIDs works only on SUPERVISED iOS/iPadOS/tvOS 15+ devices; it is ignored on "
    "unsupervised devices and forbidden in User Enrollment (BYOD): reach those through compliance "
    "and conditional access instead.",
    "It HIDES the app and prevents launching it; it does not delete the app or its data. MDM can "
    "only remove apps it installed (RemoveApplication on managed apps).",
    "The profile carries no RemovalDate on purpose: the ban must not lift silently at expiry; "
    "remove the profile when the decision is lifted.",
    "Restrictions from several profiles combine: this profile's blocked list adds to the others.",
)


def build_profile(target: EnforcementTarget, *, identifier_prefix: str = IDENTIFIER_PREFIX) -> dict[str, Any]:
    ids = require_ios(target, "an Apple configuration profile")
    base = f"{identifier_prefix}.{slug(target.decision_id)}"
    description = (
        f"Blocks the apps banned by decision {target.decision_id} of {target.authority}. "
        "Supervised devices only; the apps are hidden and cannot be launched, not deleted."
    )
    payload = {
        "PayloadType": "com.apple.applicationaccess",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{base}.restrictions",
        "PayloadUUID": stable_uuid(target.decision_id, "apple", "restrictions"),
        "PayloadDisplayName": f"Banned apps: {target.title}",
        "PayloadDescription": description,
        "PayloadOrganization": target.authority,
        "blockedAppBundleIDs": list(ids),
    }
    return {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": base,
        "PayloadUUID": stable_uuid(target.decision_id, "apple", "profile"),
        "PayloadDisplayName": f"Banned apps ({target.decision_id})",
        "PayloadDescription": description,
        "PayloadOrganization": target.authority,
        "PayloadContent": [payload],
    }


def render_profile(target: EnforcementTarget, profile: dict[str, Any], caveats: tuple[str, ...]) -> bytes:
    body = plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=True)
    # An XML comment after the DOCTYPE carries the header; plist parsers skip comments.
    lines = [*target.header_lines(), "", "caveats:", *(f"- {c}" for c in caveats)]
    text = "\n".join("  " + line.replace("--", "- -") if line else "" for line in lines)
    comment = f"<!--\n{text}\n-->\n".encode()
    marker = b"<plist "
    at = body.index(marker)
    return body[:at] + comment + body[at:]


@dataclass(frozen=True, slots=True)
class AppleExporter:
    name: str = "apple"
    title: str = "Apple configuration profile (.mobileconfig) with blockedAppBundleIDs (supervised only)"
    network: bool = False

    def export(self, target: EnforcementTarget, *, zone: str | None = None) -> Artifact:
        profile = build_profile(target)
        return Artifact(
            self.name,
            f"{slug(target.decision_id)}.mobileconfig",
            render_profile(target, profile, CAVEATS),
            "your MDM's custom configuration profile upload (sign it with your MDM's identity if it "
            "does not), scoped to supervised iOS/iPadOS devices",
            CAVEATS,
        )
