"""What a draft decision would touch (``appveto fleet impact``): text and JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from appveto.report.evaluation import limitation_lines, limitation_plain, people_no_device, printable
from appveto.report.registry import renderer

if TYPE_CHECKING:
    from appveto.compliance.impact import Impact


@renderer("impact", "json", description="every figure and name")
def render_json(im: Impact) -> str:
    doc = {
        "limitations": [limitation_plain(x) for x in im.limitations],
        "limitations_count": len(im.limitations),
        "decision": im.decision_id,
        "at": im.at.isoformat(),
        "people_in_scope": im.people_in_scope,
        "devices_in_scope": im.devices_in_scope,
        "people_affected": list(im.people),
        "devices_affected": list(im.devices),
        "devices_unknown": list(im.unknown_devices),
        "people_without_devices": list(im.people_without_devices),
        "units": [{"unit": u.unit_id, "people": u.people, "devices": u.devices} for u in im.units],
        "network_only_parts": list(im.network_only_parts),
    }
    return json.dumps(doc, indent=2) + "\n"


@renderer(
    "impact",
    "text",
    description="a summary for a terminal (option list: how many people to name)",
    options=("list",),
)
def render_text(im: Impact, *, list: int = 50) -> str:
    lines = limitation_lines(im.limitations)
    lines.append(f"impact of {im.decision_id} ({im.title}) on {im.at.isoformat()}")
    lines.append(f"  in scope: {im.people_in_scope} people, {im.devices_in_scope} devices")
    lines.append(f"  carrying a selected app: {len(im.people)} people, {len(im.devices)} devices")
    lines.append(f"  without a recent inventory: {len(im.unknown_devices)} devices")
    if im.people_without_devices:
        lines.append(f"  {people_no_device(len(im.people_without_devices))}")
    for c in im.counts:
        lines.append(f"    {c.status.value:18} {c.devices:>8} devices {c.people:>8} people")
    if im.network_only_parts:
        lines.append(f"  network-only parts (no device result): {', '.join(im.network_only_parts)}")
    if im.units:
        lines.append("  units:")
        for u in im.units:
            lines.append(f"    {u.unit_id:40} {u.people:>6} people {u.devices:>6} devices")
    if im.people:
        shown = im.people[:list]
        lines.append(f"  people ({len(shown)} of {len(im.people)}): {', '.join(shown)}")
    return "".join(printable(line) + "\n" for line in lines)
