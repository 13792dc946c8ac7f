"""Info.plist and PrivacyInfo.xcprivacy: what a bundle declares, as typed facts.

Values of the wrong type (a string where Apple documents a boolean...) are ignored, as
iOS ignores them; the raw key list is kept so that nothing is silently lost.
"""

from __future__ import annotations

from appveto.ipa.model import (
    AccessedApi,
    AtsDomainException,
    BundleInfo,
    CollectedDataType,
    PlistDict,
    PlistValue,
    PrivacyManifest,
    TransportSecurity,
    UsageDescription,
)


def _str(v: PlistValue | None) -> str | None:
    return v if isinstance(v, str) else None


def _bool(v: PlistValue | None) -> bool | None:
    return v if isinstance(v, bool) else None


def _strs(v: PlistValue | None) -> tuple[str, ...]:
    if isinstance(v, str):
        return (v,)
    if isinstance(v, tuple):
        return tuple(x for x in v if isinstance(x, str))
    return ()


def _dicts(v: PlistValue | None) -> tuple[PlistDict, ...]:
    if isinstance(v, tuple):
        return tuple(x for x in v if isinstance(x, PlistDict))
    return ()


def bundle_info(doc: PlistDict, *, entry: str) -> BundleInfo:
    """The facts of an Info.plist dictionary."""
    usage = tuple(
        sorted(
            UsageDescription(k, v)
            for k, v in doc.items
            if k.startswith("NS") and k.endswith("UsageDescription") and isinstance(v, str)
        )
    )
    schemes: list[str] = []
    for t in _dicts(doc.get("CFBundleURLTypes")):
        schemes.extend(_strs(t.get("CFBundleURLSchemes")))
    families = doc.get("UIDeviceFamily")
    fam: tuple[int, ...] = ()
    if isinstance(families, tuple):
        fam = tuple(f for f in families if isinstance(f, int) and not isinstance(f, bool))
    elif isinstance(families, int) and not isinstance(families, bool):
        fam = (families,)
    skan = tuple(
        sorted(
            {
                ident.strip().lower()
                for item in _dicts(doc.get("SKAdNetworkItems"))
                if (ident := _str(item.get("SKAdNetworkIdentifier")))
            }
        )
    )
    ats_raw = doc.get("NSAppTransportSecurity")
    return BundleInfo(
        entry=entry,
        bundle_id=_str(doc.get("CFBundleIdentifier")),
        name=_str(doc.get("CFBundleName")),
        display_name=_str(doc.get("CFBundleDisplayName")),
        executable=_str(doc.get("CFBundleExecutable")),
        short_version=_str(doc.get("CFBundleShortVersionString")),
        version=_str(doc.get("CFBundleVersion")),
        minimum_os=_str(doc.get("MinimumOSVersion")) or _str(doc.get("LSMinimumSystemVersion")),
        device_families=fam,
        platform=_str(doc.get("DTPlatformName")),
        sdk=_str(doc.get("DTSDKName")),
        package_type=_str(doc.get("CFBundlePackageType")),
        usage_descriptions=usage,
        background_modes=tuple(sorted(set(_strs(doc.get("UIBackgroundModes"))))),
        url_schemes=tuple(sorted(set(schemes))),
        queried_schemes=tuple(sorted(set(_strs(doc.get("LSApplicationQueriesSchemes"))))),
        transport_security=_ats(ats_raw) if isinstance(ats_raw, PlistDict) else None,
        skadnetwork_ids=skan,
        required_capabilities=_capabilities(doc.get("UIRequiredDeviceCapabilities")),
        file_sharing=doc.get("UIFileSharingEnabled") is True,
        non_exempt_encryption=_bool(doc.get("ITSAppUsesNonExemptEncryption")),
        keys=tuple(sorted(doc.keys())),
    )


def _capabilities(v: PlistValue | None) -> tuple[str, ...]:
    if isinstance(v, PlistDict):  # the dictionary form: {capability: required?}
        return tuple(sorted(k for k, x in v.items if x is True))
    return tuple(sorted(set(_strs(v))))


def _ats(d: PlistDict) -> TransportSecurity:
    exceptions: list[AtsDomainException] = []
    domains = d.get("NSExceptionDomains")
    if isinstance(domains, PlistDict):
        for name, raw in domains.items:
            if not isinstance(raw, PlistDict):
                continue

            def flag(*keys: str, src: PlistDict = raw) -> bool | None:
                for k in keys:
                    b = _bool(src.get(k))
                    if b is not None:
                        return b
                return None

            exceptions.append(
                AtsDomainException(
                    domain=name.strip().lower(),
                    allows_insecure_http=bool(
                        flag(
                            "NSExceptionAllowsInsecureHTTPLoads",
                            "NSThirdPartyExceptionAllowsInsecureHTTPLoads",
                            "NSTemporaryExceptionAllowsInsecureHTTPLoads",
                        )
                    ),
                    includes_subdomains=bool(flag("NSIncludesSubdomains")),
                    minimum_tls=_str(raw.get("NSExceptionMinimumTLSVersion"))
                    or _str(raw.get("NSThirdPartyExceptionMinimumTLSVersion"))
                    or _str(raw.get("NSTemporaryExceptionMinimumTLSVersion")),
                    requires_forward_secrecy=flag(
                        "NSExceptionRequiresForwardSecrecy", "NSThirdPartyExceptionRequiresForwardSecrecy"
                    )
                    is not False,
                )
            )
    return TransportSecurity(
        arbitrary_loads=_bool(d.get("NSAllowsArbitraryLoads")),
        arbitrary_loads_in_web_content=_bool(d.get("NSAllowsArbitraryLoadsInWebContent")),
        arbitrary_loads_for_media=_bool(d.get("NSAllowsArbitraryLoadsForMedia")),
        allows_local_networking=_bool(d.get("NSAllowsLocalNetworking")),
        exceptions=tuple(sorted(exceptions, key=lambda e: e.domain)),
    )


def privacy_manifest(doc: PlistDict, *, entry: str, bundle: str) -> PrivacyManifest:
    """The facts of a ``PrivacyInfo.xcprivacy`` dictionary."""
    collected = tuple(
        CollectedDataType(
            type=t,
            linked=_bool(item.get("NSPrivacyCollectedDataTypeLinked")),
            tracking=_bool(item.get("NSPrivacyCollectedDataTypeTracking")),
            purposes=tuple(sorted(set(_strs(item.get("NSPrivacyCollectedDataTypePurposes"))))),
        )
        for item in _dicts(doc.get("NSPrivacyCollectedDataTypes"))
        if (t := _str(item.get("NSPrivacyCollectedDataType")))
    )
    apis = tuple(
        AccessedApi(
            category=c, reasons=tuple(sorted(set(_strs(item.get("NSPrivacyAccessedAPITypeReasons")))))
        )
        for item in _dicts(doc.get("NSPrivacyAccessedAPITypes"))
        if (c := _str(item.get("NSPrivacyAccessedAPIType")))
    )
    return PrivacyManifest(
        entry=entry,
        bundle=bundle,
        tracking=_bool(doc.get("NSPrivacyTracking")),
        tracking_domains=tuple(
            sorted({d.strip().lower() for d in _strs(doc.get("NSPrivacyTrackingDomains"))})
        ),
        collected=tuple(sorted(collected, key=lambda c: c.type)),
        accessed_apis=tuple(sorted(apis, key=lambda a: a.category)),
    )
