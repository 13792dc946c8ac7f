"""OBF: auditability — obfuscation, packers, hidden and native code, anti-analysis."""

from __future__ import annotations

from collections.abc import Iterator

from appveto.apk.model import Apk
from appveto.apk.native import libraries_text
from appveto.checks.coverage import Auditability, measure
from appveto.checks.facts import facts
from appveto.checks.indicators import FAMILIES, indicator_hits
from appveto.checks.registry import Subscore, check, finding
from appveto.findings import Confidence, Evidence, EvidenceKind, Finding, Location, Severity
from appveto.kb.model import KnowledgeBase, ProtectorKind


@check(
    "AV-OBF-001",
    "packer-or-protector",
    "Known packer, protector or obfuscator",
    Severity.HIGH,
    subscore=Subscore.AUDITABILITY,
)
def protector(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Names the packers, protectors and commercial obfuscators recognised in the APK.

    What it checks:
        Archive entries (stub libraries, encrypted payloads), class-name prefixes,
        string markers and ELF ``.comment`` compiler strings from the knowledge base's
        table of public facts (Jiagu, Legu, Bangcle/SecNeo, Ijiami, APKProtect, Baidu,
        Alibaba, DexProtector, DexGuard, AppSealing, LIAPP, Promon…), plus DexGuard's
        renaming pattern (Unicode look-alike names, classes repackaged into ``o``) and
        its string-decryption stubs as the DEX ID tables show them: in three or more
        small classes, an obfuscated ``(int, int, int) -> String`` method (``short`` and
        ``byte`` variants too) beside an obfuscated ``byte[]`` or ``short[]`` field.

    Why it matters:
        Packed code is decrypted only at run time: a static review sees a stub, so
        every "absent" claim about the app becomes undeterminable. Commercial
        protection on an app that does not need it is itself a signal.

    Example:
        ``lib/armeabi/libSecShell.so`` and ``assets/secData0.jar`` -> Bangcle/SecNeo.

    Remediation:
        Ask the vendor for an unprotected build for review, or analyse the app
        dynamically; a government fleet may refuse packed apps outright.

    References:
        https://github.com/rednaga/APKiD ;
        HITCON 2016, "Android Compiler Fingerprinting"
    """
    for hit in measure(apk, kb).protectors:
        if hit.kind is ProtectorKind.OBFUSCATOR and hit.name.startswith(
            ("Obfuscator-LLVM", "Hikari", "ByteGuard", "Armariris", "Tigress")
        ):
            continue  # reported by AV-OBF-009
        sev = (
            Severity.HIGH if hit.kind in (ProtectorKind.PACKER, ProtectorKind.PROTECTOR) else Severity.MEDIUM
        )
        how = "heuristic" if hit.heuristic else "named markers"
        yield finding(
            "AV-OBF-001",
            f"{hit.kind} {hit.name}" + (f" ({hit.vendor})" if hit.vendor else "") + f" recognised by {how}",
            subject=hit.name,
            severity=sev,
            confidence=Confidence.MEDIUM if hit.heuristic else Confidence.HIGH,
            evidence=hit.evidence,
        )


@check(
    "AV-OBF-002",
    "obfuscated-names",
    "Most identifiers are obfuscated",
    Severity.LOW,
    subscore=Subscore.AUDITABILITY,
)
def names(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Measures the share of classes, methods and fields with obfuscated names.

    What it checks:
        Names chosen by an obfuscator (ProGuard/R8 short names, Unicode look-alikes,
        Java keywords in mixed case) among the app's own classes, methods and fields,
        per package. Reported when at least 40% of the classes are renamed.

    Why it matters:
        Renaming is common (R8 does it by default) and not malicious, but it slows a
        reviewer down and hides which library a piece of code belongs to.

    Example:
        84% of 1,895 classes renamed; package ``o``: 210 of 210.

    Remediation:
        Ask the vendor for the R8/ProGuard mapping file for the review.

    References:
        https://developer.android.com/build/shrink-code#obfuscate
    """
    cov = measure(apk, kb)
    if cov.classes >= 5 and cov.obfuscated_class_share >= 0.4:
        ev = [
            Evidence(
                EvidenceKind.METRIC,
                f"{p.package}: {p.obfuscated}/{p.classes}",
                Location(class_name=p.package),
                "obfuscated / classes in the package",
            )
            for p in cov.packages
            if p.obfuscated
        ][:8]
        yield finding(
            "AV-OBF-002",
            f"{round(cov.obfuscated_class_share * 100)}% of {cov.classes} classes, "
            f"{round(cov.obfuscated_method_share * 100)}% of methods and "
            f"{round(cov.obfuscated_field_share * 100)}% of fields have obfuscated names",
            severity=Severity.LOW,
            evidence=tuple(ev),
        )


@check(
    "AV-OBF-003",
    "string-encryption",
    "String constants are encrypted",
    Severity.MEDIUM,
    subscore=Subscore.AUDITABILITY,
)
def string_encryption(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags signs that string constants are encrypted and decrypted at run time.

    What it checks:
        String-encryption libraries (StringFog, Allatori markers), a high share of
        unreadable (binary or non-printable) string constants, string-decryption
        stubs (DexGuard's shape: an obfuscated ``(int, int, int) -> String`` decoder
        beside an obfuscated ``byte[]``/``short[]`` pool, in three or more classes), and
        hand-rolled decoder routines found in the bytecode: a static method of the app
        taking ``String``/``byte[]``/``char[]`` and returning ``String``, called from at
        least five sites, whose body decodes (XOR, ``Base64.decode``, ``Cipher``). Each
        is reported with its call count, the constants passed to it, the share of the
        app's string constants that go through decoders, and whether a static
        initializer fills arrays with its results. Where the scheme is a simple one
        (base64, XOR with a key or literal found in its body or at its call sites), the
        constants are decoded statically and the plain names become evidence (e.g. a
        framework class and method named only in encrypted form and called by
        reflection count as a use of that API in the permission verdicts).

    Why it matters:
        Encrypted strings hide URLs, commands and class names from a review: endpoint
        and tracker findings are then incomplete.

    Example:
        ``com.a.b.c(String)``: xor key 'K3y', 212 call sites, 180 constants, 180
        decoded; 31% of the string constants go through decoders.

    Remediation:
        Ask the vendor for an unprotected build; analyse the traffic dynamically.

    References:
        https://github.com/MegatronKing/StringFog
    """
    cov = measure(apk, kb)
    if cov.string_encryption:
        message = "string constants appear encrypted"
        if cov.string_decoders:
            message += f"; {len(cov.string_decoders)} decoder routine(s) found in the bytecode"
        yield finding("AV-OBF-003", message, evidence=(*cov.string_encryption, *cov.string_decoders[:8]))


@check("AV-OBF-004", "reflection", "Reflection is used", Severity.INFO, subscore=Subscore.AUDITABILITY)
def reflection(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports reflective calls, which hide call targets from static analysis.

    What it checks:
        References to ``Method.invoke``, ``Class.forName``, ``getMethod`` /
        ``getDeclaredMethod`` and ``Constructor.newInstance``. The severity rises when
        reflection works on encrypted strings.

    Why it matters:
        A reflective call names its target in a string; combined with string
        encryption, the API the app calls cannot be seen statically.

    Example:
        ``Ljava/lang/reflect/Method;->invoke`` with ``Class.forName``.

    Remediation:
        None by itself (libraries use reflection widely); weigh it with AV-OBF-003.

    References:
        https://docs.oracle.com/javase/tutorial/reflect/
    """
    cov = measure(apk, kb)
    if cov.reflection:
        yield finding(
            "AV-OBF-004",
            f"{len(cov.reflection)} reflection API reference(s)"
            + ("; combined with encrypted strings" if cov.reflection_heavy else ""),
            severity=Severity.MEDIUM if cov.reflection_heavy else Severity.INFO,
            evidence=cov.reflection[:6],
        )


@check(
    "AV-OBF-005",
    "dynamic-code-loading",
    "Code is loaded at run time",
    Severity.MEDIUM,
    subscore=Subscore.AUDITABILITY,
)
def dynamic_loading(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags DEX class loaders that load code not shipped in the primary DEX.

    What it checks:
        Class loaders however the code reaches them: direct calls of the
        ``DexClassLoader``, ``InMemoryDexClassLoader``, ``PathClassLoader`` and
        ``DelegateLastClassLoader`` constructors and ``DexFile.loadDex``; the loader
        class as a constant (``const-class``) or a name in a string
        (``Class.forName("dalvik.system.DexClassLoader")``) in a method that constructs
        it by reflection (``getConstructor``/``newInstance``); reflection on
        ``loadDex``, ``openDexFile``, ``defineClass`` or ``loadClass``; a loader name the
        app decrypts from an encrypted string; ``System.load`` of a file the same class
        writes. Each is located in the bytecode (class and method). Severity is high when
        the loader is reached evasively, or a payload or missing manifest classes show
        that the loaded code ships hidden in the APK.

    Why it matters:
        Code loaded at run time — from assets or downloaded — is invisible to static
        review and can change after vetting.

    Example:
        ``Ldalvik/system/DexClassLoader;-><init>`` with ``assets/secData0.jar``.

    Remediation:
        Ask the vendor what is loaded and from where; refuse apps that download code.

    References:
        https://developer.android.com/privacy-and-security/risks/dynamic-code-loading
    """
    cov = measure(apk, kb)
    if cov.dynamic_loading or cov.loaders:
        hidden = bool(cov.hidden_code or cov.missing_classes or cov.hidden_decoded)
        evasive = [e for e in cov.loaders if "reflect" in (e.note or "") or "decoded" in (e.note or "")]
        hows = sorted({e.note for e in cov.loaders if e.note})
        yield finding(
            "AV-OBF-005",
            "code is loaded at run time"
            + (" from a payload hidden in the APK" if hidden else "")
            + (f" ({'; '.join(hows[:3])})" if hows else ""),
            severity=Severity.HIGH if hidden or evasive else Severity.MEDIUM,
            evidence=(
                *cov.loaders[:4],
                *cov.dynamic_loading[:4],
                *cov.hidden_decoded[:2],
                *cov.hidden_code[:2],
            ),
        )


@check(
    "AV-OBF-006",
    "hidden-code",
    "Code or encrypted payload outside the DEX",
    Severity.HIGH,
    subscore=Subscore.AUDITABILITY,
)
def hidden(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags DEX files and high-entropy blobs stored outside the primary DEX files.

    What it checks:
        DEX files in assets, resources or nested archives, ELF code outside ``lib/``,
        large entries of no known format with near-random content, and code hidden in
        a simple encoding: in ``assets/``, ``res/raw/``, any non-standard entry, resource
        strings, DEX string literals (whole, or split into chunks the code joins or into
        numbered entries), or appended to another file; as base64 (standard or URL-safe),
        hex, single- or multi-byte XOR (key among the app's string constants or found by
        known plaintext against the DEX, zip, ELF and gzip headers), gzip or zlib, or a
        chain of these. Payloads are decoded statically, in memory, within a fixed budget
        per APK (bytes read, bytes produced, steps; stated in the scan's coverage); a
        decoded DEX, zip or ELF is read by the same readers as the APK, and its API use,
        strings and classes join the permission verdicts, endpoints and trackers, marked
        as coming from hidden code. Nothing is executed. What looks like a payload and
        does not decode (or exceeds the budget) is reported with its place.

    Why it matters:
        That is where packers and droppers keep the real app: the primary DEX is a
        loader and everything a review reads may be a decoy.

    Example:
        ``assets/secData0.jar``: 600 KB of high-entropy data; ``assets/cfg.dat
        (base64, zlib)``: hidden code decoded statically, DEX of 12 classes.

    Remediation:
        Treat the app as packed; analyse the payload or refuse the app.

    References:
        https://www.usenix.org/conference/usenixsecurity15/technical-sessions/presentation/zhang
    """
    cov = measure(apk, kb)
    for e in cov.hidden_decoded[:_MAX_HIDDEN_FINDINGS]:
        yield finding("AV-OBF-006", f"{e.value}: {e.note}", subject=e.value, evidence=(e,))
    shown = cov.hidden_code[:_MAX_HIDDEN_FINDINGS]
    for e in shown:
        yield finding("AV-OBF-006", f"{e.value}: {e.note}", subject=e.value, evidence=(e,))
    rest = cov.hidden_code[_MAX_HIDDEN_FINDINGS:]
    if rest:
        # A crafted archive can hold tens of thousands of hidden entries: one finding sums
        # them up, with a bounded sample as evidence, so reports stay small.
        yield finding(
            "AV-OBF-006",
            f"{len(rest)} more entries with code or payloads outside the DEX (first {len(shown)} reported "
            "one by one)",
            subject=f"+{len(rest)} more",
            evidence=tuple(rest[:_MAX_HIDDEN_FINDINGS]),
        )


_MAX_HIDDEN_FINDINGS = 50


@check(
    "AV-OBF-007",
    "native-code",
    "Native code share and JNI entry points",
    Severity.INFO,
    subscore=Subscore.AUDITABILITY,
)
def native(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports how much of the app is native code and which JNI entry points it exports.

    What it checks:
        The size of ``lib/<abi>/*.so`` for one ABI relative to the DEX code, and
        ``Java_*``/``JNI_OnLoad`` exports. Severity rises when native code outweighs
        the DEX.

    Why it matters:
        appveto does not decompile native code: permissions the NDK can use, endpoints
        built at run time and anti-analysis logic there stay unseen.

    Example:
        ``lib/arm64-v8a/libnative-lib.so``: 1.9 MB, 12 JNI exports, 78% of the code.

    Remediation:
        Review native libraries separately when the decision depends on them.

    References:
        https://developer.android.com/ndk/guides/jni-tips
    """
    cov = measure(apk, kb)
    if not apk.native_libs:
        return
    share = cov.native_share
    ev: list[Evidence] = []
    for lib in apk.native_libs[:6]:
        note = f"{lib.size} bytes, {len(lib.jni_exports)} JNI export(s)"
        ev.append(Evidence(EvidenceKind.NATIVE, lib.entry, Location(entry=lib.entry), note))
    yield finding(
        "AV-OBF-007",
        f"{libraries_text(apk.native_libs)}, "
        f"{round(share * 100)}% of the code by size, {cov.jni_exports} JNI entry point(s)",
        severity=Severity.MEDIUM if share >= 0.5 else Severity.INFO,
        evidence=tuple(ev),
    )


@check(
    "AV-OBF-008",
    "anti-analysis",
    "Anti-debug, anti-emulator or root-detection code",
    Severity.LOW,
    subscore=Subscore.AUDITABILITY,
)
def anti_analysis(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports indicators that the app checks for debuggers, emulators, root or hooking.

    What it checks:
        DEX and native strings naming su binaries, root managers, emulator properties,
        ``TracerPid``, Frida and Xposed, and references to ``Debug.isDebuggerConnected``.

    Why it matters:
        Banking apps use such checks to protect themselves; malware uses them to behave
        harmlessly in an analyst's sandbox. Either way, dynamic analysis will be
        misled.

    Example:
        ``/system/xbin/su``, ``ro.kernel.qemu``, ``frida-server``.

    Remediation:
        Expect the app to behave differently under analysis; account for it.

    References:
        OWASP MASTG, "Testing Anti-Debugging Detection" and "Testing Root Detection"
    """
    hits = indicator_hits(apk)
    f = facts(apk)
    debug_api = list(f.method_evidence("Landroid/os/Debug;", "isDebuggerConnected", "waitingForDebugger"))[:2]
    for fam in FAMILIES:
        mine = [h for h in hits if h.family == fam.label]
        api = debug_api if fam.label.startswith("debugger") else []
        if not mine and not api:
            continue
        tokens = sorted({h.token for h in mine})
        shown = ", ".join(repr(t) for t in tokens[:4]) or "the debugger API"
        yield finding(
            "AV-OBF-008",
            f"{fam.label} indicators: {shown}" + (f" (+{len(tokens) - 4} more)" if len(tokens) > 4 else ""),
            subject=fam.label,
            confidence=Confidence.MEDIUM,
            evidence=tuple(h.evidence for h in mine[:4]) + tuple(api),
        )


@check(
    "AV-OBF-009",
    "obfuscating-compiler",
    "Native code built with an obfuscating compiler",
    Severity.MEDIUM,
    subscore=Subscore.AUDITABILITY,
)
def compiler(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Names obfuscating compilers found in native libraries.

    What it checks:
        The compiler identification strings (``.comment`` section) of ``lib/*.so``
        against known obfuscating LLVM forks: Obfuscator-LLVM, Hikari, ByteGuard
        (ByteDance), Armariris, Tigress. When ``.comment`` is stripped, the names a
        compiler pass gives the functions it generates: O-LLVM-family string
        encryption leaves one ``.datadiv_decode<digits>`` decoder per encrypted
        global, a name no C or C++ source can spell.

    Why it matters:
        Control-flow flattening and string encryption in native code defeat
        decompilers; ByteGuard is detected only this way.

    Example:
        ``clang version 12.0.0 (ByteGuard 0.9.3-…)``; or 88 dynamic symbols
        ``.datadiv_decode10160347175282829921``… in ``lib/arm64-v8a/libnative-lib.so``.

    Remediation:
        Treat the native code as unreviewable.

    References:
        https://github.com/obfuscator-llvm/obfuscator/wiki ;
        https://github.com/HikariObfuscator/Hikari ;
        https://github.com/GoSSIP-SJTU/Armariris
    """
    names = {cm.name for cm in kb.compiler_markers}
    for hit in measure(apk, kb).protectors:
        if hit.name in names:
            yield finding(
                "AV-OBF-009", f"native code compiled with {hit.name}", subject=hit.name, evidence=hit.evidence
            )


@check(
    "AV-OBF-010",
    "low-auditability",
    "Little of the code can be read",
    Severity.MEDIUM,
    subscore=Subscore.AUDITABILITY,
)
def auditability(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Summarises how much of the app's code a reviewer can actually read.

    What it checks:
        The coverage estimate: readable DEX code (discounted for renamed classes)
        against native code and hidden payloads, capped when a packer, DexGuard, code
        loaded at run time or encrypted strings are found. Reported when the
        auditability is low.

    Why it matters:
        Every other finding describes only the readable part; a council must know
        when that part is small.

    Example:
        "about 1% of the code can be read (low auditability); hidden or unreadable:
        packed or protected by Bangcle / SecNeo".

    Remediation:
        Require an auditable build, or decide on the basis that the app's behaviour is
        unknown.

    References:
        https://mas.owasp.org/MASVS/controls/MASVS-RESILIENCE-3/
    """
    cov = measure(apk, kb)
    if cov.auditability is Auditability.LOW and (cov.classes or apk.native_libs or cov.code_hidden):
        yield finding(
            "AV-OBF-010",
            cov.summary(),
            severity=Severity.HIGH if cov.code_hidden else Severity.MEDIUM,
            evidence=(
                Evidence(
                    EvidenceKind.METRIC,
                    f"readable share {cov.readable_share}",
                    note="estimated share of readable code",
                ),
                Evidence(
                    EvidenceKind.METRIC,
                    f"dex {cov.dex_bytes} B, native {cov.native_bytes} B, hidden {cov.hidden_bytes} B",
                ),
            ),
        )


@check(
    "AV-OBF-011",
    "manifest-classes-missing",
    "Manifest classes missing from the DEX",
    Severity.HIGH,
    subscore=Subscore.AUDITABILITY,
)
def missing(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags components and Application classes the manifest declares but no DEX defines.

    What it checks:
        The ``<application android:name>`` class and every activity, service,
        receiver and provider against the classes of the primary DEX files.

    Why it matters:
        Android would crash on start unless the code is supplied at run time: the
        app's real code is hidden (packers, droppers), or the APK is broken.

    Example:
        ``com.web.sdfile.MainService`` declared, absent from ``classes.dex``.

    Remediation:
        Treat the app as packed.

    References:
        https://developer.android.com/guide/components/fundamentals
    """
    cov = measure(apk, kb)
    if cov.missing_classes:
        n = len(cov.missing_classes)
        yield finding(
            "AV-OBF-011",
            f"{n} class(es) declared in the manifest are defined in no primary DEX",
            severity=Severity.HIGH
            if n >= 2 or any(e.location.xpath == "/manifest/application" for e in cov.missing_classes)
            else Severity.MEDIUM,
            evidence=cov.missing_classes[:8],
        )
