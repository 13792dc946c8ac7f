"""A small vendor -> apps table for ``vendors:`` selectors, written from the stores' public listings.

Only apps whose identifiers are published on Google Play (``id=`` of the listing URL) or
in the App Store (the bundle ID the store's lookup API returns) are listed. A vendor
that is not here selects nothing, and the evaluation says so in its limitations.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VendorApp:
    name: str
    android: tuple[str, ...] = ()
    ios: tuple[str, ...] = ()


VENDOR_APPS: dict[str, tuple[VendorApp, ...]] = {
    "bytedance": (
        VendorApp(
            "TikTok", ("com.zhiliaoapp.musically", "com.ss.android.ugc.trill"), ("com.zhiliaoapp.musically",)
        ),
        VendorApp("TikTok Lite", ("com.zhiliaoapp.musically.go",)),
        VendorApp("Douyin", ("com.ss.android.ugc.aweme",), ("com.ss.iphone.ugc.Aweme",)),
        VendorApp("CapCut", ("com.lemon.lvoverseas",), ("com.lemon.lvoverseas",)),
        VendorApp("Lemon8", ("com.bd.nproject",)),
        VendorApp("Lark", ("com.larksuite.suite",)),
    ),
    "tencent": (
        VendorApp("WeChat", ("com.tencent.mm",), ("com.tencent.xin",)),
        VendorApp("QQ", ("com.tencent.mobileqq",), ("com.tencent.mqq",)),
    ),
    "meta": (
        VendorApp("Facebook", ("com.facebook.katana",), ("com.facebook.Facebook",)),
        VendorApp("Messenger", ("com.facebook.orca",), ("com.facebook.Messenger",)),
        VendorApp("Instagram", ("com.instagram.android",), ("com.burbn.instagram",)),
        VendorApp("WhatsApp", ("com.whatsapp",), ("net.whatsapp.WhatsApp",)),
    ),
    "telegram": (VendorApp("Telegram", ("org.telegram.messenger",), ("ph.telegra.Telegraph",)),),
}
"""Vendor id (as in ``apps[].vendors``) -> its apps."""
