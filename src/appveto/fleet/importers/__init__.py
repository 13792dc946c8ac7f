"""Inventory importers, one module per source, behind the :data:`IMPORTERS` registry.

The registry keys are the ``--source`` values of ``appveto fleet import``. Each importer
implements :class:`~appveto.fleet.importers._base.InventoryImporter` and streams into an
:class:`~appveto.fleet.importers._base.InventorySink` (the store's bulk writer).
"""

from __future__ import annotations

from appveto.fleet.importers import (
    amapi,
    apple,
    fleetdm,
    generic_csv,
    headwind,
    intune_csv,
    intune_graph,
    osquery,
)
from appveto.fleet.importers._base import InventoryImporter, InventorySink

IMPORTERS: dict[str, InventoryImporter] = {
    m.IMPORTER.name: m.IMPORTER
    for m in (amapi, apple, intune_csv, intune_graph, fleetdm, osquery, headwind, generic_csv)
}

__all__ = ["IMPORTERS", "InventoryImporter", "InventorySink"]
