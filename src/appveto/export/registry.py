"""The registry of enforcement targets; CLI choices come from its keys."""

from __future__ import annotations

from appveto.export.amapi import AmapiExporter
from appveto.export.apple import AppleExporter
from appveto.export.base import Exporter
from appveto.export.dns import (
    AdGuardExporter,
    DnsmasqExporter,
    HostsExporter,
    PiholeExporter,
    RpzExporter,
    UnboundExporter,
)
from appveto.export.headwind import HeadwindExporter
from appveto.export.intune import IntuneComplianceExporter, IntuneExporter

_ALL: tuple[Exporter, ...] = (
    AmapiExporter(),
    AppleExporter(),
    IntuneExporter(),
    IntuneComplianceExporter(),
    HeadwindExporter(),
    HostsExporter(),
    DnsmasqExporter(),
    UnboundExporter(),
    RpzExporter(),
    AdGuardExporter(),
    PiholeExporter(),
)

EXPORTERS: dict[str, Exporter] = {e.name: e for e in _ALL}
"""Every target by name, in the order the README and ``--help`` list them."""
