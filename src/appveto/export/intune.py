"""Microsoft Intune through Microsoft Graph: two bodies, two strengths.

* ``intune``: an ``iosGeneralDeviceConfiguration`` (Graph v1.0) whose *hidden apps*
  list (``appsVisibilityList`` with ``appsNotInListCompliant``) hides the apps on
  supervised devices, and whose *restricted apps* list (``compliantAppsList``) only
  reports them.
* ``intune-compliance``: an ``iosCompliancePolicy`` with ``restrictedApps`` (Graph
  **beta** only): a device with a banned app becomes non-compliant, and the
  scheduled ``block`` action plus Conditional Access cut its access to work data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appveto.export.base import Artifact, dump_json, require_ios, slug
from appveto.export.target import EnforcementTarget

DEVICE_CONFIG_CAVEATS: tuple[str, ...] = (
    "The hidden-apps list (appsVisibilityList) applies only to SUPERVISED iOS devices; it hides the "
    "app and prevents launching it, it does not delete it.",
    "The restricted-apps list (compliantAppsList) is REPORT-ONLY: users are not prevented from "
    "installing the app; Intune lists the device under 'Devices with restricted apps'. Use the "
    "intune-compliance export to act on it.",
    "Intune lists unmanaged (user-installed) apps only for devices marked corporate-owned.",
)

COMPLIANCE_CAVEATS: tuple[str, ...] = (
    "iosCompliancePolicy.restrictedApps exists only in the Graph BETA endpoint (not in v1.0); "
    "Microsoft does not support beta for production use.",
    "Compliance does not remove the app: a device with it becomes non-compliant; the 'block' action "
    "after the grace period and a Conditional Access policy requiring compliant devices cut access "
    "to work data. Without Conditional Access this only reports.",
    "Assign the policy to the groups in the decision's scope (assignments are a separate Graph call).",
)

GRACE_HOURS = 72


def _app_items(target: EnforcementTarget) -> list[dict[str, Any]]:
    require_ios(target, "Intune")
    items = []
    for app in target.apps:
        if app.platform != "ios":
            continue
        item: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.appListItem",
            "appId": app.app_id,
            "name": app.name or app.app_id,
        }
        if app.publisher:
            item["publisher"] = app.publisher
        items.append(item)
    return items


def _description(target: EnforcementTarget) -> str:
    expires = target.expires.isoformat() if target.expires else "none"
    return (
        f"appveto: decision {target.decision_id} ({target.title}) of {target.authority}; "
        f"expires {expires}; {target.generator}"
    )


def build_device_configuration(target: EnforcementTarget) -> dict[str, Any]:
    items = _app_items(target)
    return {
        "@odata.type": "#microsoft.graph.iosGeneralDeviceConfiguration",
        "displayName": f"appveto ban {target.decision_id}: hidden and restricted apps (iOS)",
        "description": _description(target),
        "appsVisibilityList": items,
        "appsVisibilityListType": "appsNotInListCompliant",
        "compliantAppsList": items,
        "compliantAppListType": "appsNotInListCompliant",
    }


def build_compliance_policy(target: EnforcementTarget) -> dict[str, Any]:
    items = _app_items(target)
    return {
        "@odata.type": "#microsoft.graph.iosCompliancePolicy",
        "displayName": f"appveto ban {target.decision_id}: no banned apps (iOS)",
        "description": _description(target),
        "restrictedApps": items,
        "scheduledActionsForRule": [
            {
                # Graph creates scheduled actions per policy; the rule name is always this one.
                "ruleName": "PasswordRequired",
                "scheduledActionConfigurations": [
                    {
                        "actionType": "notification",
                        "gracePeriodHours": 0,
                        "notificationTemplateId": "",
                        "notificationMessageCCList": [],
                    },
                    {
                        "actionType": "block",
                        "gracePeriodHours": GRACE_HOURS,
                        "notificationTemplateId": "",
                        "notificationMessageCCList": [],
                    },
                ],
            }
        ],
    }


@dataclass(frozen=True, slots=True)
class IntuneExporter:
    name: str = "intune"
    title: str = (
        "Intune iOS device restrictions (Graph v1.0): hidden apps (supervised) + restricted apps report"
    )
    network: bool = False

    def export(self, target: EnforcementTarget, *, zone: str | None = None) -> Artifact:
        return Artifact(
            self.name,
            f"{slug(target.decision_id)}.intune-ios-restrictions.json",
            dump_json(build_device_configuration(target)),
            "POST https://graph.microsoft.com/v1.0/deviceManagement/deviceConfigurations, then assign",
            DEVICE_CONFIG_CAVEATS,
        )


@dataclass(frozen=True, slots=True)
class IntuneComplianceExporter:
    name: str = "intune-compliance"
    title: str = "Intune iOS compliance policy with restrictedApps (Graph beta): non-compliant, then block"
    network: bool = False

    def export(self, target: EnforcementTarget, *, zone: str | None = None) -> Artifact:
        return Artifact(
            self.name,
            f"{slug(target.decision_id)}.intune-ios-compliance.beta.json",
            dump_json(build_compliance_policy(target)),
            "POST https://graph.microsoft.com/beta/deviceManagement/deviceCompliancePolicies, then assign",
            COMPLIANCE_CAVEATS,
        )
