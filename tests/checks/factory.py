"""Build Apk model objects directly, with defaults, for check tests (no parser involved)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import replace
from typing import Any

from appveto.apk.archive import open_archive
from appveto.apk.model import (
    Apk,
    ApkProblem,
    Application,
    Component,
    ComponentKind,
    DeclaredPermission,
    DexFile,
    DexLocation,
    DistinguishedName,
    EmbeddedDex,
    FieldRef,
    IntentFilter,
    Manifest,
    MethodRef,
    NativeLib,
    Queries,
    SignerCert,
    SigningInfo,
    SigningScheme,
    Tampering,
    UsesFeature,
    UsesPermission,
)

PKG = "org.example.app"


def perm(*names: str) -> tuple[UsesPermission, ...]:
    return tuple(UsesPermission(n if "." in n else f"android.permission.{n}") for n in names)


def component(
    name: str,
    kind: ComponentKind = ComponentKind.ACTIVITY,
    *,
    exported: bool = False,
    permission: str | None = None,
    actions: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    **kw: Any,
) -> Component:
    filters = (IntentFilter(actions=actions, categories=categories),) if actions else ()
    return Component(
        kind=kind,
        name=name,
        exported=exported,
        exported_declared=exported or None,
        permission=permission,
        intent_filters=filters,
        xpath=f"/manifest/application/{kind}[1]",
        **kw,
    )


def manifest(
    *,
    permissions: tuple[UsesPermission, ...] = (),
    components: tuple[Component, ...] = (),
    application: Application | None = None,
    target_sdk: int | None = 35,
    min_sdk: int | None = 28,
    declared: tuple[DeclaredPermission, ...] = (),
    features: tuple[str, ...] = (),
    shared_user_id: str | None = None,
) -> Manifest:
    return Manifest(
        package=PKG,
        version_code=1,
        version_name="1.0",
        min_sdk=min_sdk,
        target_sdk=target_sdk,
        max_sdk=None,
        compile_sdk=None,
        shared_user_id=shared_user_id,
        uses_permissions=permissions,
        declared_permissions=declared,
        application=application or Application(allow_backup=False, uses_cleartext_traffic=False),
        components=components,
        uses_features=tuple(UsesFeature(f) for f in features),
        uses_libraries=(),
        queries=Queries(),
    )


def dex(
    *,
    classes: tuple[str, ...] = ("Lorg/example/app/MainActivity;",),
    strings: tuple[str, ...] = (),
    methods: tuple[tuple[str, str, str], ...] = (),
    fields: tuple[tuple[str, str, str], ...] = (),
    entry: str = "classes.dex",
    size: int = 100_000,
    anomalies: tuple[str, ...] = (),
) -> DexFile:
    return DexFile(
        entry=entry,
        location=DexLocation.PRIMARY,
        size=size,
        version="035",
        strings=tuple(sorted(set(strings))),
        types=classes,
        class_defs=classes,
        method_refs=tuple(MethodRef(*m) for m in methods),
        field_refs=tuple(FieldRef(*f) for f in fields),
        proto_count=0,
        header_anomalies=anomalies,
    )


def dn(cn: str = "Example Dev", o: str = "Example Org", c: str = "BE", **kw: str | None) -> DistinguishedName:
    parts = [f"CN={cn}", f"O={o}", f"C={c}"]
    return DistinguishedName(rfc4514=",".join(parts), common_name=cn, organization=o, country=c, **kw)


def signer(**kw: Any) -> SignerCert:
    base: dict[str, Any] = {
        "schemes": (SigningScheme.V2, SigningScheme.V3),
        "subject": dn(),
        "issuer": dn(),
        "serial": "01",
        "not_before": "2020-01-01T00:00:00+00:00",
        "not_after": "2050-01-01T00:00:00+00:00",
        "sha256": "ab" * 32,
        "sha1": "cd" * 20,
        "key_algorithm": "RSA",
        "key_size": 3072,
        "signature_algorithm": "sha256WithRSAEncryption",
        "self_signed": True,
    }
    base.update(kw)
    return SignerCert(**base)


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def make_apk(
    *,
    manifest_: Manifest | bool | None = True,
    dex_files: tuple[DexFile, ...] | None = None,
    signers: tuple[SignerCert, ...] | None = None,
    schemes: tuple[SigningScheme, ...] | None = None,
    signing_problems: tuple[str, ...] = (),
    native_libs: tuple[NativeLib, ...] = (),
    tampering: tuple[Tampering, ...] = (),
    problems: tuple[ApkProblem, ...] = (),
    files: dict[str, bytes] | None = None,
    embedded_dex: tuple[EmbeddedDex, ...] = (),
    resource_strings: tuple[str, ...] = (),
) -> Apk:
    """An Apk with sane, clean defaults; every argument replaces one part."""
    m = manifest() if manifest_ is True else (None if manifest_ is False else manifest_)
    data = _zip(files or {"AndroidManifest.xml": b"\x03\x00\x08\x00"})
    archive = open_archive(data, name="test.apk")
    sig = (signer(),) if signers is None else signers
    sch = (
        schemes
        if schemes is not None
        else (tuple(sorted({s for c in sig for s in c.schemes})) if sig else ())
    )
    return Apk(
        path="test.apk",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        sha1=hashlib.sha1(data).hexdigest(),
        md5=hashlib.md5(data).hexdigest(),
        entries=archive.entries,
        tampering=tampering,
        manifest=m,
        dex=(dex(),) if dex_files is None else dex_files,
        embedded_dex=embedded_dex,
        signing=SigningInfo(schemes=sch, signers=sig, problems=signing_problems),
        native_libs=native_libs,
        resource_strings=resource_strings,
        problems=problems,
        archive=archive,
    )


def native(entry: str = "lib/arm64-v8a/libfoo.so", **kw: Any) -> NativeLib:
    abi = entry.split("/")[1] if entry.count("/") >= 2 else "arm64-v8a"
    base: dict[str, Any] = {
        "entry": entry,
        "abi": abi,
        "name": entry.rsplit("/", 1)[-1],
        "size": 50_000,
        "machine": "AARCH64",
    }
    base.update(kw)
    return NativeLib(**base)


__all__ = ["PKG", "component", "dex", "dn", "make_apk", "manifest", "native", "perm", "replace", "signer"]
