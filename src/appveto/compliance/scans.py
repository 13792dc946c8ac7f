"""From scan records to what the evaluation needs of them (:class:`ScanFacts`).

The one place where the compliance use case reads the scan use case's result model:
``fleet evaluate --apk`` scans with :func:`appveto.scan.scan_many` and maps each record
here.
"""

from __future__ import annotations

from appveto.compliance.model import ScanFacts
from appveto.scan.record import ScanRecord


def scan_facts(record: ScanRecord) -> ScanFacts | None:
    """What the evaluation needs of one scan; None when the input could not be read or
    declares no package name (nothing to match it against)."""
    if record.error is not None or not record.package:
        return None
    return ScanFacts(
        package=record.package,
        signer_sha256=tuple(s.cert_sha256.replace(":", "").lower() for s in record.signers),
        score=round(record.score.total) if record.score is not None else None,
        findings=tuple(sorted({f.check_id for f in record.findings})),
        source=record.file.replace("\\", "/").rsplit("/", 1)[-1],
    )
