"""What the reader saw in an APK, as JSON-ready values (sorted, byte-stable).

These are the fields of a :class:`~appveto.scan.record.ScanRecord` that come from the
reader alone; :func:`appveto.scan.analyse` adds the checks' ``findings``, ``coverage`` and
``score`` beside them.
"""

from __future__ import annotations

from typing import Any

from appveto.apk.model import Apk, SignerCert

JsonObj = dict[str, Any]


def _signer(s: SignerCert) -> JsonObj:
    return {
        "schemes": [str(x) for x in s.schemes],
        "cert_sha256": s.sha256,
        "cert_sha1": s.sha1,
        "subject": s.subject.rfc4514,
        "issuer": s.issuer.rfc4514,
        "organization": s.subject.organization,
        "country": s.subject.country,
        "serial": s.serial,
        "not_before": s.not_before,
        "not_after": s.not_after,
        "key_algorithm": s.key_algorithm,
        "key_size": s.key_size,
        "signature_algorithm": s.signature_algorithm,
        "self_signed": s.self_signed,
        "min_sdk": s.min_sdk,
        "max_sdk": s.max_sdk,
    }


def apk_facts(apk: Apk, *, file: str | None = None) -> JsonObj:
    """The reader's facts for one APK: identity, manifest, DEX, signing, native code, tampering."""
    m = apk.manifest
    comps = sorted(m.components, key=lambda c: (c.kind.value, c.name)) if m else []
    dex_classes = sum(len(d.class_defs) for d in apk.dex)
    return {
        "file": file if file is not None else apk.path,
        "sha256": apk.sha256,
        "sha1": apk.sha1,
        "md5": apk.md5,
        "size": apk.size,
        "package": m.package if m else None,
        "version_code": m.version_code if m else None,
        "version_name": m.version_name if m else None,
        "min_sdk": m.min_sdk if m else None,
        "target_sdk": m.target_sdk if m else None,
        "max_sdk": m.max_sdk if m else None,
        "label": m.application.label if m else None,
        "permissions": list(m.permission_names) if m else [],
        "uses_permissions": [
            {"name": p.name, "max_sdk": p.max_sdk, "sdk23": p.sdk23}
            for p in sorted(m.uses_permissions, key=lambda p: (p.name, p.max_sdk or 0, p.sdk23))
        ]
        if m
        else [],
        "declared_permissions": [
            {"name": p.name, "protection_level": p.protection_level}
            for p in sorted(m.declared_permissions, key=lambda p: p.name)
        ]
        if m
        else [],
        "application": {
            "name": m.application.name,
            "debuggable": m.application.debuggable,
            "allow_backup": m.application.allow_backup,
            "uses_cleartext_traffic": m.application.uses_cleartext_traffic,
            "network_security_config": m.application.network_security_config,
            "test_only": m.application.test_only,
            "extract_native_libs": m.application.extract_native_libs,
        }
        if m
        else None,
        "components": [
            {
                "type": c.kind.value,
                "name": c.name,
                "exported": c.exported,
                "permission": c.permission,
                "authorities": list(c.authorities),
                "intent_actions": sorted({a for f in c.intent_filters for a in f.actions}),
            }
            for c in comps
        ],
        "signers": [_signer(s) for s in sorted(apk.signing.signers, key=lambda s: s.sha256)],
        "signing_schemes": [str(s) for s in apk.signing.schemes],
        "signing_lineage": [n.cert_sha256 for n in apk.signing.lineage],
        "dex": {
            "files": [d.entry for d in apk.dex],
            "classes": dex_classes,
            "methods": sum(len(d.method_refs) for d in apk.dex),
            "strings": sum(len(d.strings) for d in apk.dex),
            "embedded": [
                {"entry": e.entry, "location": e.location.value, "size": e.size, "note": e.note}
                for e in apk.embedded_dex
            ],
        },
        "native_libs": [
            {"entry": n.entry, "abi": n.abi, "name": n.name, "size": n.size, "machine": n.machine}
            for n in apk.native_libs
        ],
        "tampering": [
            {"kind": t.kind.value, "entry": t.entry, "offset": t.offset, "detail": t.detail}
            for t in apk.tampering
        ],
        "problems": [
            {"part": p.part, "message": p.message, "entry": p.entry, "offset": p.offset} for p in apk.problems
        ],
        "error": None,
    }
