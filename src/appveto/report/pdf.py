"""PDF for the decision file: the HTML report printed by a headless Chromium.

Chromium (Debian's ``chromium``, or the one named by ``APPVETO_CHROMIUM``) is driven
through Playwright (the ``pdf`` extra). The page is loaded with every request
routed and refused unless it is ``data:`` or ``about:``, so printing cannot fetch
anything either. Missing Playwright or Chromium is a :class:`ReportError` that
says what to install.
"""

from __future__ import annotations

import os
import shutil

from appveto.errors import ReportError
from appveto.report.registry import Document, get, renderer

CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_MS = 60_000


def find_chromium() -> str:
    """The Chromium executable: ``$APPVETO_CHROMIUM``, else the first one on PATH."""
    env = os.environ.get("APPVETO_CHROMIUM")
    if env:
        if not os.path.isfile(env):
            raise ReportError(f"APPVETO_CHROMIUM={env}: no such file")
        return env
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ReportError(
        "PDF output needs Chromium: install it (Debian: apt install chromium) "
        "or set APPVETO_CHROMIUM to its path"
    )


def html_to_pdf(html: str, *, executable: str | None = None) -> bytes:
    """Print ``html`` to A4 PDF with backgrounds, offline."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ReportError(
            "PDF output needs Playwright: pip install 'appveto[pdf]' (Chromium itself comes from the system)"
        ) from None
    exe = executable or find_chromium()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=list(CHROMIUM_ARGS), timeout=TIMEOUT_MS)
            try:
                page = browser.new_page(java_script_enabled=False, offline=True)

                def refuse(route: object) -> None:
                    url: str = route.request.url  # type: ignore[attr-defined]
                    if url.startswith(("data:", "about:")):
                        route.continue_()  # type: ignore[attr-defined]
                    else:
                        route.abort()  # type: ignore[attr-defined]

                page.route("**/*", refuse)
                page.set_content(html, wait_until="load", timeout=TIMEOUT_MS)
                page.emulate_media(media="print")
                data: bytes = page.pdf(
                    format="A4",
                    print_background=True,
                    prefer_css_page_size=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=(
                        '<div style="font-size:8px;width:100%;text-align:center;color:#444">'
                        'page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
                    ),
                    margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
                )
            finally:
                browser.close()
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportError(f"Chromium could not print the report: {first} (executable {exe})") from None
    return data


def _printed(document: Document) -> None:
    def render(value: object) -> bytes:
        html = get(document, "html").render(value)
        assert isinstance(html, str)
        return html_to_pdf(html)

    renderer(
        document,
        "pdf",
        description="the HTML page printed by Chromium",
        binary=True,
    )(render)


_PRINTED: tuple[Document, ...] = ("scan", "compare", "diff", "evaluation")
for _document in _PRINTED:
    _printed(_document)
