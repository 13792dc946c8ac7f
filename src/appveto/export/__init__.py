"""export layer (see DESIGN.md): a decision -> the files enforcement tools take.

``EXPORTERS`` (in :mod:`appveto.export.registry`) maps each target name to its
exporter; :func:`appveto.export.adapter.target_for` turns a decision of a policy set
into the :class:`~appveto.export.target.EnforcementTarget` they render, and
:func:`appveto.export.bundle.build_bundle` renders every target of every decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appveto.export.registry import EXPORTERS as EXPORTERS


def __getattr__(name: str) -> Any:
    # Lazy, so that importing one submodule does not load every target.
    if name == "EXPORTERS":
        from appveto.export.registry import EXPORTERS

        return EXPORTERS
    raise AttributeError(name)
