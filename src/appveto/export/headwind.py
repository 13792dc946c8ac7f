"""Headwind MDM (open source, Android): configuration application entries with action 2.

In a Headwind configuration each linked application has an ``action``: ``0`` do not
install and hide if installed, ``1`` install, ``2`` do not install and remove if
installed. The export lists the banned packages with action 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appveto.export.base import Artifact, dump_json, require_android, slug
from appveto.export.target import EnforcementTarget

ACTION_REMOVE = 2

CAVEATS: tuple[str, ...] = (
    "Each package must exist in Headwind's application list before a configuration can link it: "
    "add it there by package name (no APK is needed to remove an app).",
    "Action 2 makes the Headwind launcher uninstall the app when it syncs; it needs Headwind as "
    "device owner (or the user confirms each removal). A push message 'uninstallApp' with "
    '{"pkg": ...} triggers it at once.',
    "Headwind does not see or touch apps in a work profile's personal side.",
)


def build_entries(target: EnforcementTarget) -> dict[str, Any]:
    pkgs = require_android(target, "Headwind MDM")
    names = {a.app_id: a.name for a in target.apps if a.platform == "android"}
    return {
        "applications": [
            {
                "pkg": p,
                "name": names.get(p) or p,
                "action": ACTION_REMOVE,
                "showIcon": False,
                "system": False,
                "type": "app",
            }
            for p in pkgs
        ]
    }


@dataclass(frozen=True, slots=True)
class HeadwindExporter:
    name: str = "headwind"
    title: str = "Headwind MDM configuration application entries (action 2: remove)"
    network: bool = False

    def export(self, target: EnforcementTarget, *, zone: str | None = None) -> Artifact:
        return Artifact(
            self.name,
            f"{slug(target.decision_id)}.headwind-applications.json",
            dump_json(build_entries(target)),
            "Headwind MDM: Configurations > (each configuration in scope) > Applications, action "
            "'Do not install and remove'; or merge into the configuration through its REST API",
            CAVEATS,
        )
