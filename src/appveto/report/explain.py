"""Which decisions apply to a person or device, and why (``appveto fleet explain``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from appveto.report.evaluation import printable
from appveto.report.registry import renderer

if TYPE_CHECKING:
    from appveto.compliance.explain import Explanation


def lines(ex: Explanation) -> Iterator[str]:
    """The explanation as indented text lines (not yet escaped)."""
    yield f"{ex.subject} on {ex.at.isoformat()}"
    if not ex.found:
        yield "  not found in the directory or the inventory"
        return
    for s in ex.person_steps:
        yield f"  {s}"
    for d in ex.devices:
        if d.device_key:
            yield f"  device {d.device_key}" + (f" ({d.device_name})" if d.device_name else "")
        else:
            yield "  no device"
        for s in d.steps:
            yield f"    {s}"
        for dec in d.decisions:
            verdict = ", ".join(f"{app}: {st.value}" for app, st in dec.statuses) or (
                "applies, no selected app on the device" if dec.applies else "does not apply"
            )
            yield f"    decision {dec.decision_id} - {dec.title}: {verdict}"
            for i, s in enumerate(dec.steps, 1):
                yield f"      {i}. {s}"


@renderer("explain", "text", description="the steps, indented")
def render_text(ex: Explanation) -> str:
    return "".join(printable(line) + "\n" for line in lines(ex))
