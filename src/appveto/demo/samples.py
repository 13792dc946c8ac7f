"""Four sample apps for ``appveto demo``, built with :mod:`appveto.demo.apkbuilder`.

They let the demo vet apps on a machine that has no APKs at hand, and they stand for
the four kinds of app a vetting office meets most:

* ``notes-clean.apk``: a small notes app with readable code, no permission it does not
  need, no third-party SDK;
* ``notes-obfuscated.apk``: the next build of the same app, by the same signer, after
  an R8/ProGuard-style renaming (so ``appveto diff`` shows what obfuscation changes);
* ``flashlight-trackers.apk``: a flashlight that asks for location, contacts, phone
  state and the microphone and embeds analytics, advertising and attribution SDKs
  (their public Java package names) with their endpoints;
* ``loader-packed.apk``: a stub that loads its real code at run time, laid out the way
  Qihoo 360's Jiagu packer lays out an app (its publicly documented stub class and
  library names), with dynamic class loading and reflection.

They are made of public facts (SDK package names, packer artefact names, Android API
names); no check was tuned to them and their results are whatever the checks find.
Signing keys are generated on each build, so certificate fingerprints differ per run.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from appveto.demo.apkbuilder import (
    ApkSpec,
    ClassSpec,
    ComponentSpec,
    FieldSpec,
    MethodSpec,
    SigningKey,
    build_apk,
    make_signing_key,
)

_OBJECT = "Ljava/lang/Object;"
_ACTIVITY = "Landroid/app/Activity;"


@dataclass(frozen=True, slots=True)
class Sample:
    """One built sample app."""

    file_name: str
    about: str
    """What the app stands for, one line."""
    data: bytes


def _launcher(name: str) -> ComponentSpec:
    return ComponentSpec(
        "activity",
        name,
        exported=True,
        actions=("android.intent.action.MAIN",),
        categories=("android.intent.category.LAUNCHER",),
    )


def _method(cls: str, name: str, desc: str = "()V") -> MethodSpec:
    return MethodSpec(cls, name, desc)


# ---------------------------------------------------------------- notes (clean)

_NOTES = "org.example.notes"
_NOTES_MAIN = "Lorg/example/notes/MainActivity;"

_SQLITE = (
    _method(
        "Landroid/database/sqlite/SQLiteDatabase;",
        "insert",
        "(Ljava/lang/String;Ljava/lang/String;Landroid/content/ContentValues;)J",
    ),
    _method(
        "Landroid/database/sqlite/SQLiteDatabase;",
        "query",
        "(Ljava/lang/String;[Ljava/lang/String;Ljava/lang/String;[Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)Landroid/database/Cursor;",
    ),
)


def _notes_classes(renamed: bool) -> tuple[ClassSpec, ...]:
    """The notes app's classes; ``renamed`` gives them R8-style names (components keep theirs)."""
    names = (
        ("Lorg/example/notes/NoteEditor;", "La/a;"),
        ("Lorg/example/notes/NoteStore;", "La/b;"),
        ("Lorg/example/notes/Note;", "La/c;"),
        ("Lorg/example/notes/SearchIndex;", "Lb/a;"),
        ("Lorg/example/notes/Markdown;", "Lb/b;"),
        ("Lorg/example/notes/Settings;", "Lb/c;"),
        ("Lorg/example/notes/ExportTask;", "Lc/a;"),
        ("Lorg/example/notes/DateFormat;", "Lc/b;"),
    )
    members = (("open", "save", "delete"), ("title", "body", "updated"))
    short = (("a", "b", "c"), ("a", "b", "c"))
    classes = [
        ClassSpec(
            _NOTES_MAIN,
            superclass=_ACTIVITY,
            methods=(_method(_NOTES_MAIN, "onCreate", "(Landroid/os/Bundle;)V"),),
            strings=("Field Notes",),
        )
    ]
    for readable, obfuscated in names:
        desc = obfuscated if renamed else readable
        methods_names, field_names = short if renamed else members
        classes.append(
            ClassSpec(
                desc,
                superclass=_OBJECT,
                methods=(
                    *(_method(desc, m) for m in methods_names),
                    *(_SQLITE if readable.endswith("NoteStore;") else ()),
                ),
                fields=tuple(FieldSpec(desc, f, "Ljava/lang/String;") for f in field_names),
                strings=("notes.db", "CREATE TABLE note (id INTEGER PRIMARY KEY, title TEXT, body TEXT)")
                if readable.endswith("NoteStore;")
                else (),
            )
        )
    return tuple(classes)


def _notes(key: SigningKey, *, renamed: bool) -> bytes:
    return build_apk(
        ApkSpec(
            package=_NOTES,
            version_code=24 if renamed else 23,
            version_name="2.4" if renamed else "2.3",
            min_sdk=26,
            target_sdk=34,
            components=(_launcher("org.example.notes.MainActivity"),),
            application_attrs={"label": "Field Notes", "allowBackup": False, "debuggable": False},
            classes=_notes_classes(renamed),
            sign="v1v2v3",
            key=key,
        )
    )


# ------------------------------------------------------ flashlight with trackers

_LIGHT = "com.example.brightlight"
_SDK_CLASSES = (
    # Meta's app events (Facebook Analytics)
    ("Lcom/facebook/appevents/AppEventsLogger;", ("logEvent", "activateApp")),
    ("Lcom/facebook/appevents/internal/ActivityLifecycleTracker;", ("startTracking",)),
    # Google Firebase Analytics and its measurement service
    ("Lcom/google/firebase/analytics/FirebaseAnalytics;", ("logEvent", "setUserId")),
    ("Lcom/google/android/gms/measurement/AppMeasurement;", ("logEventInternal",)),
    # Google AdMob
    ("Lcom/google/android/gms/ads/MobileAds;", ("initialize",)),
    ("Lcom/google/android/gms/ads/AdView;", ("loadAd",)),
    ("Lcom/google/android/gms/ads/identifier/AdvertisingIdClient;", ("getAdvertisingIdInfo",)),
    # AppsFlyer attribution
    ("Lcom/appsflyer/AppsFlyerLib;", ("init", "start", "logEvent")),
    # OneSignal push
    ("Lcom/onesignal/OneSignal;", ("initWithContext", "setExternalUserId")),
)
_LIGHT_ENDPOINTS = (
    "https://graph.facebook.com/v17.0/%s/activities",
    "https://app-measurement.com/a",
    "https://googleads.g.doubleclick.net/mads/static/mad/sdk/native/",
    "https://launches.appsflyer.com/api/v6.9/androidevent?app_id=",
    "https://api.onesignal.com/players",
    "http://ads.brightlight-example.net/config.json",
)


def _flashlight() -> bytes:
    main = "Lcom/example/brightlight/MainActivity;"
    classes = [
        ClassSpec(
            main,
            superclass=_ACTIVITY,
            methods=(
                _method(main, "onCreate", "(Landroid/os/Bundle;)V"),
                _method("Landroid/hardware/camera2/CameraManager;", "setTorchMode", "(Ljava/lang/String;Z)V"),
                _method(
                    "Landroid/location/LocationManager;",
                    "getLastKnownLocation",
                    "(Ljava/lang/String;)Landroid/location/Location;",
                ),
                _method("Landroid/telephony/TelephonyManager;", "getSimOperatorName", "()Ljava/lang/String;"),
            ),
            strings=("Bright Flashlight", *_LIGHT_ENDPOINTS),
        ),
        ClassSpec(
            "Lcom/example/brightlight/BootReceiver;",
            superclass="Landroid/content/BroadcastReceiver;",
            methods=(
                _method(
                    "Lcom/example/brightlight/BootReceiver;",
                    "onReceive",
                    "(Landroid/content/Context;Landroid/content/Intent;)V",
                ),
            ),
        ),
    ]
    for desc, methods in _SDK_CLASSES:
        classes.append(ClassSpec(desc, methods=tuple(_method(desc, m) for m in methods)))
    return build_apk(
        ApkSpec(
            package=_LIGHT,
            version_code=112,
            version_name="5.1.2",
            min_sdk=21,
            target_sdk=28,
            permissions=(
                "android.permission.CAMERA",
                "android.permission.INTERNET",
                "android.permission.ACCESS_NETWORK_STATE",
                "android.permission.ACCESS_FINE_LOCATION",
                "android.permission.ACCESS_COARSE_LOCATION",
                "android.permission.READ_CONTACTS",
                "android.permission.READ_PHONE_STATE",
                "android.permission.RECORD_AUDIO",
                "android.permission.RECEIVE_BOOT_COMPLETED",
                "com.google.android.gms.permission.AD_ID",
            ),
            components=(
                _launcher("com.example.brightlight.MainActivity"),
                ComponentSpec(
                    "receiver",
                    "com.example.brightlight.BootReceiver",
                    exported=True,
                    actions=("android.intent.action.BOOT_COMPLETED",),
                ),
            ),
            application_attrs={
                "label": "Bright Flashlight",
                "allowBackup": True,
                "debuggable": False,
                "usesCleartextTraffic": True,
            },
            classes=tuple(classes),
            sign="v1v2",
            key=make_signing_key(common_name="Bright Apps", organization=None, country="CN"),
        )
    )


# ------------------------------------------------------------------ packed loader

_STUB = "Lcom/stub/StubApp;"


def _elf_stub(machine: int) -> bytes:
    """A 64-bit little-endian ELF shared-object header with no sections (a stub's outline)."""
    ident = b"\x7fELF\x02\x01\x01" + b"\x00" * 9
    header = struct.pack("<16sHHIQQQIHHHHHH", ident, 3, machine, 1, 0, 0, 0, 0, 64, 56, 0, 64, 0, 0)
    return header + b"\x00" * 64


def _packed_loader() -> bytes:
    stub = ClassSpec(
        _STUB,
        superclass="Landroid/app/Application;",
        methods=(
            _method(_STUB, "attachBaseContext", "(Landroid/content/Context;)V"),
            _method(_STUB, "onCreate"),
            _method("Ljava/lang/System;", "loadLibrary", "(Ljava/lang/String;)V"),
            _method(
                "Ldalvik/system/DexClassLoader;",
                "<init>",
                "(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/ClassLoader;)V",
            ),
            _method("Ljava/lang/Class;", "forName", "(Ljava/lang/String;)Ljava/lang/Class;"),
            _method(
                "Ljava/lang/Class;",
                "getDeclaredMethod",
                "(Ljava/lang/String;[Ljava/lang/Class;)Ljava/lang/reflect/Method;",
            ),
            _method(
                "Ljava/lang/reflect/Method;",
                "invoke",
                "(Ljava/lang/Object;[Ljava/lang/Object;)Ljava/lang/Object;",
            ),
        ),
        strings=("jiagu", "libjiagu.so", "libjiagu_a64.so", ".jiagu", "android.app.ActivityThread"),
    )
    # the packed payload: bytes that look random, as encrypted code does
    payload = bytearray()
    state = 0x2545F491
    for _ in range(16384):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        payload.append((state >> 16) & 0xFF)
    return build_apk(
        ApkSpec(
            package="net.example.wallet",
            version_code=7,
            version_name="1.0.7",
            min_sdk=21,
            target_sdk=29,
            permissions=(
                "android.permission.INTERNET",
                "android.permission.RECEIVE_BOOT_COMPLETED",
                "android.permission.REQUEST_INSTALL_PACKAGES",
                "android.permission.SYSTEM_ALERT_WINDOW",
                "android.permission.QUERY_ALL_PACKAGES",
            ),
            components=(_launcher("net.example.wallet.MainActivity"),),
            application_attrs={"label": "Wallet", "name": "com.stub.StubApp", "allowBackup": True},
            classes=(stub,),
            extra_entries={
                "assets/libjiagu.so": _elf_stub(40),  # ARM
                "assets/libjiagu_a64.so": _elf_stub(183),  # AArch64
                "assets/libjiagu.dat": bytes(payload),
            },
            sign="v1v2",
            key=make_signing_key(common_name="Wallet", organization=None, country=None),
        )
    )


def build_samples() -> tuple[Sample, ...]:
    """The four sample apps, in the order the demo shows them."""
    notes_key = make_signing_key(common_name="Example Notes", organization="Example Notes BV", country="BE")
    return (
        Sample(
            "notes-clean.apk",
            "a notes app: readable code, no third-party SDK",
            _notes(notes_key, renamed=False),
        ),
        Sample(
            "notes-obfuscated.apk",
            "the next build of the notes app, renamed by an R8/ProGuard-style obfuscator",
            _notes(notes_key, renamed=True),
        ),
        Sample(
            "flashlight-trackers.apk",
            "a flashlight with location, contacts and microphone access and five tracker SDKs",
            _flashlight(),
        ),
        Sample(
            "loader-packed.apk",
            "a stub that loads encrypted code at run time (Jiagu packer layout)",
            _packed_loader(),
        ),
    )
