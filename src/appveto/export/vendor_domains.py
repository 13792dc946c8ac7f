"""A small table of vendor-owned domains, for the DNS exports.

Written by the appveto developers from public facts (registrant records, the
vendors' own privacy policies and help pages, the apps' documented endpoints); no
third-party list is copied. It is a stop-gap until the knowledge base
(``appveto.kb``) ships its entity table (domain -> owning entity -> jurisdiction):
the adapter prefers that table when it exists.

Each domain is either:

* ``OWNED``: registered to and operated by the vendor; blocking it and all its
  subdomains only affects the vendor's own services;
* ``SHARED``: seen in the vendor's app traffic but operated by someone else for many
  customers (a CDN, a cloud storage service, an analytics SDK, a deep-link service).
  Blocking it breaks unrelated services, so the exports never block it unless the
  decision names it explicitly, and they list it with the reason it was left out.

``products`` says which of the vendor's products a domain serves. An empty tuple
means vendor-wide infrastructure used by all of the vendor's apps: it is blocked
whenever any app of that vendor is banned. A product-specific domain is blocked
when that product is banned, or when the decision bans the whole vendor family.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DomainKind(StrEnum):
    OWNED = "owned"
    SHARED = "shared"


@dataclass(frozen=True, slots=True, order=True)
class VendorDomain:
    domain: str
    entity: str
    kind: DomainKind
    products: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Product:
    """An app family of a vendor, with its store identifiers."""

    name: str
    entity: str
    publisher: str
    android: tuple[str, ...] = ()
    ios: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Entity:
    name: str
    jurisdiction: str
    """ISO 3166-1 alpha-2 country of the controlling company."""
    ids: tuple[str, ...] = ()
    """Vendor ids a policy may use in ``apps[].vendors`` (lower-case)."""


TABLE_SOURCE = "appveto vendor-domain baseline"

BYTEDANCE = "ByteDance Ltd."
TENCENT = "Tencent Holdings Ltd."
DEEPSEEK = "Hangzhou DeepSeek Artificial Intelligence Co., Ltd."
GOOGLE = "Google LLC"

ENTITIES: tuple[Entity, ...] = (
    Entity(BYTEDANCE, "CN", ("bytedance", "bytedance-ltd")),
    Entity(TENCENT, "CN", ("tencent", "tencent-holdings")),
    Entity(DEEPSEEK, "CN", ("deepseek",)),
)

PRODUCTS: tuple[Product, ...] = (
    Product(
        "TikTok",
        BYTEDANCE,
        "TikTok Pte. Ltd.",
        android=("com.zhiliaoapp.musically", "com.ss.android.ugc.trill"),
        ios=("com.zhiliaoapp.musically",),
    ),
    Product(
        "Douyin",
        BYTEDANCE,
        "Beijing Microlive Vision Technology Co., Ltd",
        android=("com.ss.android.ugc.aweme",),
    ),
    Product(
        "WeChat",
        TENCENT,
        "Tencent Technology (Shenzhen) Company Limited",
        android=("com.tencent.mm",),
        ios=("com.tencent.xin",),
    ),
    Product("DeepSeek", DEEPSEEK, "DeepSeek", android=("com.deepseek.chat",)),
)

_O = DomainKind.OWNED
_S = DomainKind.SHARED

_AKAMAI = "Akamai CDN: serves thousands of unrelated sites; block exact host names only, never the domain"
_AWS = "Amazon Web Services: shared cloud hosting of unrelated customers"
_GOOGLE = "Google service shared by unrelated apps and sites"
_VOLC = "Volcano Engine, ByteDance's public cloud: hosts unrelated customers' services"
_TCLOUD = "Tencent Cloud, a public cloud: serves unrelated customers' apps and sites"

VENDOR_DOMAINS: tuple[VendorDomain, ...] = (
    # ByteDance: TikTok
    VendorDomain("tiktok.com", BYTEDANCE, _O, ("TikTok",), "TikTok web site and API"),
    VendorDomain("tiktokv.com", BYTEDANCE, _O, ("TikTok",), "TikTok app API"),
    VendorDomain("tiktokcdn.com", BYTEDANCE, _O, ("TikTok",), "TikTok's own CDN names"),
    VendorDomain("tiktokcdn-us.com", BYTEDANCE, _O, ("TikTok",), "TikTok US CDN names"),
    VendorDomain("tiktokw.us", BYTEDANCE, _O, ("TikTok",), "TikTok US web API"),
    VendorDomain("musical.ly", BYTEDANCE, _O, ("TikTok",), "musical.ly, merged into TikTok in 2018"),
    VendorDomain("muscdn.com", BYTEDANCE, _O, ("TikTok",), "musical.ly CDN names"),
    VendorDomain("musicallycdn.com", BYTEDANCE, _O, ("TikTok",), "musical.ly CDN names"),
    VendorDomain("zhiliaoapp.com", BYTEDANCE, _O, ("TikTok",), "musical.ly developer (Zhiliao)"),
    # ByteDance: infrastructure shared by its apps
    VendorDomain("bytedance.com", BYTEDANCE, _O, (), "corporate site and services"),
    VendorDomain("bytedance.net", BYTEDANCE, _O, (), "internal services"),
    VendorDomain("byteoversea.com", BYTEDANCE, _O, (), "ByteDance's overseas infrastructure"),
    VendorDomain("byteoversea.net", BYTEDANCE, _O, (), "ByteDance's overseas infrastructure"),
    VendorDomain("byteimg.com", BYTEDANCE, _O, (), "image CDN names"),
    VendorDomain("ibytedtos.com", BYTEDANCE, _O, (), "object storage"),
    VendorDomain("ibyteimg.com", BYTEDANCE, _O, (), "image CDN names"),
    VendorDomain("ipstatp.com", BYTEDANCE, _O, (), "static content"),
    VendorDomain("pstatp.com", BYTEDANCE, _O, (), "static content"),
    VendorDomain("isnssdk.com", BYTEDANCE, _O, (), "app SDK endpoints"),
    VendorDomain("sgsnssdk.com", BYTEDANCE, _O, (), "app SDK endpoints (Singapore)"),
    VendorDomain("snssdk.com", BYTEDANCE, _O, (), "app SDK endpoints"),
    VendorDomain("bytecdn.cn", BYTEDANCE, _O, (), "CDN names"),
    # ByteDance: other products (blocked for vendor-family bans or when banned by name)
    VendorDomain("douyin.com", BYTEDANCE, _O, ("Douyin",), "Douyin, TikTok's Chinese counterpart"),
    VendorDomain("douyincdn.com", BYTEDANCE, _O, ("Douyin",)),
    VendorDomain("douyinpic.com", BYTEDANCE, _O, ("Douyin",)),
    VendorDomain("douyinstatic.com", BYTEDANCE, _O, ("Douyin",)),
    VendorDomain("iesdouyin.com", BYTEDANCE, _O, ("Douyin",)),
    VendorDomain("amemv.com", BYTEDANCE, _O, ("Douyin",)),
    VendorDomain("toutiao.com", BYTEDANCE, _O, ("Toutiao",), "Toutiao news app"),
    VendorDomain("toutiaoimg.com", BYTEDANCE, _O, ("Toutiao",)),
    VendorDomain("pangle.io", BYTEDANCE, _O, ("Pangle",), "Pangle ad network"),
    VendorDomain("pangleglobal.com", BYTEDANCE, _O, ("Pangle",), "Pangle ad network"),
    # Seen in TikTok traffic, operated by others
    VendorDomain("akamaized.net", BYTEDANCE, _S, note=_AKAMAI),
    VendorDomain("akamaihd.net", BYTEDANCE, _S, note=_AKAMAI),
    VendorDomain("edgekey.net", BYTEDANCE, _S, note=_AKAMAI),
    VendorDomain("edgesuite.net", BYTEDANCE, _S, note=_AKAMAI),
    VendorDomain("cloudfront.net", BYTEDANCE, _S, note="Amazon CloudFront CDN shared by unrelated sites"),
    VendorDomain("amazonaws.com", BYTEDANCE, _S, note=_AWS),
    VendorDomain("fastly.net", BYTEDANCE, _S, note="Fastly CDN shared by unrelated sites"),
    VendorDomain("cloudflare.net", BYTEDANCE, _S, note="Cloudflare CDN shared by unrelated sites"),
    VendorDomain("googleusercontent.com", BYTEDANCE, _S, note=_GOOGLE),
    VendorDomain("app-measurement.com", BYTEDANCE, _S, note="Google Firebase Analytics, used by many apps"),
    VendorDomain("umeng.com", BYTEDANCE, _S, note="Umeng analytics SDK (Alibaba), used by many apps"),
    VendorDomain("app.link", BYTEDANCE, _S, note="Branch deep-link service, used by many apps"),
    VendorDomain("onelink.me", BYTEDANCE, _S, note="AppsFlyer deep-link service, used by many apps"),
    VendorDomain("volces.com", BYTEDANCE, _S, note=_VOLC),
    VendorDomain("volcengine.com", BYTEDANCE, _S, note=_VOLC),
    # Tencent
    VendorDomain("wechat.com", TENCENT, _O, ("WeChat",), "WeChat web site"),
    VendorDomain("wechatapp.com", TENCENT, _O, ("WeChat",)),
    VendorDomain("weixin.com", TENCENT, _O, ("WeChat",)),
    VendorDomain("servicewechat.com", TENCENT, _O, ("WeChat",), "WeChat mini-program services"),
    VendorDomain("weixin.qq.com", TENCENT, _O, ("WeChat",), "WeChat (Weixin) services under qq.com"),
    VendorDomain("wx.qq.com", TENCENT, _O, ("WeChat",), "WeChat web client"),
    VendorDomain("tencent.com", TENCENT, _O, (), "corporate site"),
    VendorDomain("gtimg.com", TENCENT, _O, (), "Tencent static content"),
    VendorDomain("qq.com", TENCENT, _O, ("QQ",), "QQ portal and mail; WeChat uses subdomains listed apart"),
    VendorDomain("qcloud.com", TENCENT, _S, note=_TCLOUD),
    VendorDomain("tencent-cloud.com", TENCENT, _S, note=_TCLOUD),
    VendorDomain("tencentcloudapi.com", TENCENT, _S, note=_TCLOUD),
    VendorDomain(
        "myqcloud.com", TENCENT, _S, note="Tencent Cloud object storage: hosts unrelated customers' content"
    ),
    # Google: hosting services whose subdomains are other people's sites and apps
    VendorDomain("web.app", GOOGLE, _S, note="Firebase Hosting: every subdomain is someone else's site"),
    VendorDomain(
        "firebaseapp.com", GOOGLE, _S, note="Firebase Hosting: every subdomain is someone else's site"
    ),
    VendorDomain("appspot.com", GOOGLE, _S, note="Google App Engine: every subdomain is someone else's app"),
    # DeepSeek
    VendorDomain("deepseek.com", DEEPSEEK, _O, ("DeepSeek",), "DeepSeek chat web app and API"),
)


def entity_of(name: str) -> Entity | None:
    for e in ENTITIES:
        if e.name == name:
            return e
    return None


def entity_for_vendor_id(vendor_id: str) -> Entity | None:
    key = vendor_id.lower()
    for e in ENTITIES:
        if key in e.ids or key == e.name.lower():
            return e
    return None


def lookup_domain(name: str) -> VendorDomain | None:
    """The table entry covering ``name`` (itself or its closest listed parent)."""
    labels = name.lower().rstrip(".").split(".")
    by_name = {d.domain: d for d in VENDOR_DOMAINS}
    for i in range(len(labels) - 1):
        hit = by_name.get(".".join(labels[i:]))
        if hit is not None:
            return hit
    return None


def product_of_app(platform: str, app_id: str) -> Product | None:
    """The product an app ID belongs to, or ``None`` when the table does not know it."""
    for p in PRODUCTS:
        ids = p.android if platform == "android" else p.ios
        if app_id in ids:
            return p
    return None


def domains_of(entity: str, products: frozenset[str] | None) -> tuple[VendorDomain, ...]:
    """The table's domains of an entity; all of them when ``products`` is ``None``
    (a vendor-family ban), else vendor-wide ones plus those of the given products.
    Both owned and shared ones are returned; the caller decides what to block."""
    out = []
    for d in VENDOR_DOMAINS:
        if d.entity != entity:
            continue
        if products is None or not d.products or set(d.products) & products:
            out.append(d)
    return tuple(sorted(out))
