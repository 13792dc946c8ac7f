"""report layer (see DESIGN.md): one module per format; :data:`REPORTERS` registry.

The registry is reached lazily (``from appveto.report import REPORTERS``) so that
importing the package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appveto.report.registry import REPORTERS as REPORTERS
    from appveto.report.registry import Reporter as Reporter

__all__ = ["REPORTERS", "Reporter"]


def __getattr__(name: str) -> Any:
    if name in ("REPORTERS", "Reporter"):
        from appveto.report import registry

        return getattr(registry, name)
    raise AttributeError(name)
