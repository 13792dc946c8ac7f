"""Google Android Management API: a ``Policy`` patch that blocks the banned packages.

The body is meant for ``PATCH enterprises/{e}/policies/{p}?updateMask=...``. Its
fields come from the ``androidmanagement v1`` discovery document; the tests validate
the output against that document's ``Policy`` schema (see
:mod:`appveto.export.discovery`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appveto.export.base import Artifact, dump_json, require_android, slug
from appveto.export.target import EnforcementTarget

UPDATE_MASK = "applications,personalUsagePolicies.personalApplications,playStoreMode,statusReportingSettings"

CAVEATS: tuple[str, ...] = (
    "playStoreMode is set to BLACKLIST on purpose: left unset it defaults to WHITELIST, where every "
    "app NOT listed in the policy is uninstalled. If your fleet already runs in allow-list mode, "
    "leave playStoreMode out of the update mask: there the apps are already blocked by not being "
    "listed, and the BLOCKED entries only make the ban explicit.",
    "applications and personalApplications are lists: a PATCH replaces them whole. Merge these "
    "entries into the policy's existing lists before you send it, or you drop every other app.",
    "installType BLOCKED uninstalls the app where it is already installed and blocks its instant app; "
    "on company-owned devices with a work profile, personalApplications blocks it in the personal "
    "profile too. Personally-owned devices never report or block personal-profile apps.",
    "statusReportingSettings.applicationReportsEnabled turns on the app inventory appveto's fleet "
    "monitor needs; includeRemovedApps shows a removed banned app as REMOVED rather than absent.",
)


def build_policy(target: EnforcementTarget) -> dict[str, Any]:
    """The Policy body as a JSON-ready mapping (no comments: the API rejects unknown fields)."""
    pkgs = require_android(target, "the Android Management API")
    blocked = [{"packageName": p, "installType": "BLOCKED"} for p in pkgs]
    return {
        "playStoreMode": "BLACKLIST",
        "applications": blocked,
        "personalUsagePolicies": {
            "personalApplications": [{"packageName": p, "installType": "BLOCKED"} for p in pkgs],
        },
        "statusReportingSettings": {
            "applicationReportsEnabled": True,
            "applicationReportingSettings": {"includeRemovedApps": True},
        },
    }


@dataclass(frozen=True, slots=True)
class AmapiExporter:
    name: str = "amapi"
    title: str = "Android Management API Policy patch (installType BLOCKED, app reports on)"
    network: bool = False

    def export(self, target: EnforcementTarget, *, zone: str | None = None) -> Artifact:
        body = build_policy(target)
        return Artifact(
            self.name,
            f"{slug(target.decision_id)}.amapi-policy.json",
            dump_json(body),
            "PATCH https://androidmanagement.googleapis.com/v1/enterprises/ENTERPRISE/policies/POLICY"
            f"?updateMask={UPDATE_MASK} (after merging the application lists)",
            CAVEATS,
        )
