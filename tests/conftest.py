"""Shared test fixtures.

Tests that need something outside the repository (``../shared``, a Debian tool,
PostgreSQL, Chromium) ask for it through :func:`require_*`. On a fresh clone they
skip with a clear reason; when ``APPVETO_REQUIRE_ALL=1`` (set by ``.ci/run``, which
installs and starts every one of them) a missing requirement fails the test instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# No wall-clock deadline per example (Hypothesis's default is 200 ms): the machine is shared
# and loaded. Tests that bound work per example do it with CPU time (tests/workcount.py).
settings.register_profile("appveto", deadline=None)
settings.load_profile("appveto")

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("APPVETO_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus" / "apk"
LABELS = SHARED / "corpus" / "labels"
DATA = SHARED / "data"


def _missing(reason: str) -> None:
    if os.environ.get("APPVETO_REQUIRE_ALL") == "1":
        pytest.fail(f"required in CI but missing: {reason}", pytrace=False)
    pytest.skip(reason)


def require_shared(sub: str = "") -> Path:
    """The path of ``../shared/<sub>``, or skip (fail in CI) when it is absent."""
    path = SHARED / sub
    if not path.exists():
        _missing(f"../shared/{sub} is absent (the shared corpus and data are not checked out)")
    return path


def require_tool(name: str) -> str:
    """The absolute path of an external tool, or skip (fail in CI) when it is not installed."""
    found = shutil.which(name)
    if found is None:
        _missing(f"the tool '{name}' is not installed (.ci/run installs it from Debian)")
        raise AssertionError("unreachable")
    return found


def require_postgres() -> str:
    """A SQLAlchemy URL of a reachable PostgreSQL server, or skip (fail in CI)."""
    url = os.environ.get("APPVETO_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    try:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            pass
    except Exception as exc:
        _missing(f"no PostgreSQL server reachable at {url}: {exc}")
    return url


def corpus_apks() -> list[Path]:
    """Every APK of the shared corpus, sorted; empty when the corpus is absent."""
    if not CORPUS.is_dir():
        return []
    return sorted(CORPUS.glob("*.apk"))


def corpus_params() -> list[object]:
    """Parametrize values for corpus tests: one per APK, or one that skips with the reason."""
    apks = corpus_apks()
    if not apks:
        return [pytest.param(None, id="corpus-absent")]
    return [pytest.param(p, id=p.name) for p in apks]


def corpus_apk(name: str) -> Path:
    path = require_shared("corpus/apk") / name
    if not path.exists():
        _missing(f"corpus file {name} is absent")
    return path


@pytest.fixture
def corpus_file(request: pytest.FixtureRequest) -> Iterator[Path]:
    path = request.param
    if path is None:
        require_shared("corpus/apk")
    yield path
