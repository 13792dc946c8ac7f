"""Fixtures of the server tests: a workspace on a real SQLite store, one account and one
API token per role, and the application under FastAPI's TestClient (HTTPS, so the
``Secure`` cookies are sent back)."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appveto.fleet.workspace import Workspace, init_workspace, load_workspace
from appveto.web import accounts
from appveto.web.access import Role
from appveto.web.app import SESSION_COOKIE, Settings, create_app
from tests.conftest import require_postgres

PASSWORD = "a long enough passphrase"


@dataclass
class Server:
    ws: Workspace
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    """API token of each account (named after its role)."""
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)
    """(session cookie, CSRF token) of each account."""

    @property
    def runner(self):  # type: ignore[no-untyped-def]
        return self.client.app.state.appveto.runner  # type: ignore[attr-defined]

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.client.app.state.appveto.engine  # type: ignore[attr-defined]

    def api(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def browser(self, who: str) -> str:
        """Sign ``who`` in (the session cookie goes into the client); returns the CSRF token."""
        cookie, csrf = self.sessions[who]
        self.client.cookies.set(SESSION_COOKIE, cookie, domain="testserver.local")
        return csrf

    def login_form(self) -> str:
        page = self.client.get("/login")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found
        return found.group(1)


def make_accounts(server: Server, extra: dict[str, set[Role]] | None = None) -> None:
    wanted: dict[str, set[Role]] = {r.value: {r} for r in Role}
    wanted.update(extra or {})
    now = accounts.now_utc()
    with server.engine.begin() as conn:
        for name, roles in wanted.items():
            aid = accounts.create_account(conn, name, PASSWORD, roles, actor="test", now=now)
            p = accounts.Principal(aid, name, frozenset(roles))
            _tid, token = accounts.create_token(conn, p, f"{name} token", None, days=None, source="", now=now)
            server.tokens[name] = token
            server.sessions[name] = accounts.open_session(conn, aid, now=now)


def start(ws: Workspace, settings: Settings | None = None) -> TestClient:
    settings = settings or Settings(start_runner=False)
    return TestClient(create_app(ws, settings), base_url="https://testserver.local")


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with its smallest cost: these tests are about who may sign in, not about
    the hash's cost (the server uses the library's RFC 9106 defaults)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "ws"
    init_workspace(root)
    return root


@pytest.fixture
def workspace(_template: Path, tmp_path: Path) -> Workspace:
    """A new, migrated SQLite workspace (a copy of one made once per session)."""
    shutil.copytree(_template, tmp_path / "ws")
    return load_workspace(tmp_path / "ws")


@pytest.fixture
def server(workspace: Workspace) -> Iterator[Server]:
    ws = workspace
    with start(ws) as client:
        s = Server(ws, client)
        make_accounts(s, {"analyst-approver": {Role.ANALYST, Role.APPROVER}})
        yield s


@pytest.fixture
def pg_workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace whose store is a new database on the real PostgreSQL (dropped after)."""
    import psycopg

    base = require_postgres()
    name = f"appveto_serve_{uuid.uuid4().hex[:12]}"
    admin = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield init_workspace(tmp_path / "pgws", db=base.rsplit("/", 1)[0] + "/" + name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
