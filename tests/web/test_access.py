"""Who may do what: the authorisation matrix generated from the route table, sign-in,
sessions, CSRF, API tokens, and the security headers."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from appveto.fleet.workspace import Workspace
from appveto.web.access import RULES, Permission, Role
from appveto.web.app import SESSION_COOKIE
from tests.web.conftest import PASSWORD, Server, start


def _permission(route: APIRoute) -> Permission | None:
    found = [d.call.permission for d in route.dependant.dependencies if hasattr(d.call, "permission")]
    return found[0] if len(found) == 1 else None


def _routes(server: Server) -> list[tuple[str, str, Permission]]:
    out = []
    for route in server.client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(route.methods):
            out.append((method, route.path, _permission(route)))
    return out


def test_every_route_names_exactly_one_permission(server: Server) -> None:
    routes = _routes(server)
    assert len(routes) > 30
    missing = [(m, p) for m, p, perm in routes if perm is None]
    assert missing == []
    # the API is guarded by tokens, the pages by sessions: never mixed
    for route in server.client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute):
            kinds = {
                d.call.__qualname__.split(".")[0]
                for d in route.dependant.dependencies
                if hasattr(d.call, "permission")
            }
            assert kinds == ({"api_guard"} if route.path.startswith("/api/") else {"page_guard"}), route.path


def _path(path: str) -> str:
    return path.replace("{vetting_id}", "1").replace("{token_id}", "999").replace("{username}", "nobody")


def _matrix_cases() -> list[tuple[str]]:
    return [(r.value,) for r in Role]


@pytest.mark.parametrize(("role",), _matrix_cases())
def test_api_authorisation_matrix(server: Server, role: str) -> None:
    """Every API route x this role: refused with 403 exactly when the role lacks the
    route's permission; never 401 with a valid token."""
    s = server
    checked = 0
    for method, path, perm in _routes(s):
        if not path.startswith("/api/") or perm is None:
            continue
        r = s.client.request(method, _path(path), headers=s.api(role))
        if Role(role) in RULES[perm]:
            assert r.status_code not in (401, 403), (method, path, role, r.status_code, r.text)
        else:
            assert r.status_code == 403, (method, path, role, r.status_code, r.text)
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize(("role",), _matrix_cases())
def test_page_authorisation_matrix(server: Server, role: str) -> None:
    s = server
    csrf = s.browser(role)
    checked = 0
    for method, path, perm in _routes(s):
        if path.startswith("/api/") or perm in (Permission.PUBLIC, None) or path == "/logout":
            continue
        data = {"csrf": csrf} if method == "POST" else None
        r = s.client.request(method, _path(path), data=data, follow_redirects=False)
        if Role(role) in RULES[perm]:
            assert r.status_code != 403, (method, path, role, r.status_code)
        else:
            assert r.status_code == 403, (method, path, role, r.status_code)
        checked += 1
    assert checked >= 15


def test_without_credentials_the_api_says_401_and_pages_send_to_sign_in(server: Server) -> None:
    s = server
    for method, path, perm in _routes(s):
        if perm is Permission.PUBLIC:
            continue
        r = s.client.request(method, _path(path), follow_redirects=False)
        if path.startswith("/api/"):
            assert r.status_code == 401, (method, path)
        else:
            assert r.status_code == 303 and r.headers["location"] == "/login", (method, path)
    bad = s.client.get("/api/me", headers={"Authorization": "Bearer avt_forged"})
    assert bad.status_code == 401
    # a session cookie does not open the API (no CSRF risk there), a token does not open pages
    s.browser("admin")
    assert s.client.get("/api/me").status_code == 401
    s.client.cookies.clear()
    assert s.client.get("/", headers=s.api("admin"), follow_redirects=False).status_code == 303


def test_openapi_document_lists_the_api(server: Server) -> None:
    doc = server.client.get("/api/openapi.json")
    assert doc.status_code == 200
    paths = doc.json()["paths"]
    for wanted in (
        "/api/vettings",
        "/api/vettings/{vetting_id}/decision",
        "/api/audit/verify",
        "/api/tokens",
    ):
        assert wanted in paths
    assert not any(not p.startswith("/api/") for p in paths)  # pages are not API


def test_csrf_on_form_posts(server: Server) -> None:
    s = server
    csrf = s.browser("analyst")
    assert s.client.post("/tokens", data={"name": "x"}, follow_redirects=False).status_code == 403
    assert (
        s.client.post("/tokens", data={"name": "x", "csrf": "wrong"}, follow_redirects=False).status_code
        == 403
    )
    other = s.sessions["auditor"][1]  # another session's token is no good either
    assert (
        s.client.post("/tokens", data={"name": "x", "csrf": other}, follow_redirects=False).status_code == 403
    )
    ok = s.client.post("/tokens", data={"name": "x", "csrf": csrf}, follow_redirects=False)
    assert ok.status_code == 201 and "avt_" in ok.text
    # sign-in itself is protected (login CSRF): the form's token must match its cookie
    s.client.cookies.clear()
    r = s.client.post("/login", data={"username": "analyst", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403


def test_sign_in_sessions_cookies_and_sign_out(server: Server) -> None:
    s = server
    s.client.cookies.clear()
    csrf = s.login_form()
    r = s.client.post(
        "/login", data={"username": "Analyst", "password": PASSWORD, "csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert SESSION_COOKIE in cookie
    for attr in ("HttpOnly", "Secure", "SameSite=strict"):
        assert attr.lower() in cookie.lower()
    page = s.client.get("/")
    assert page.status_code == 200 and "analyst (analyst)" in page.text
    session_csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert session_csrf
    out = s.client.post("/logout", data={"csrf": session_csrf.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    # the session is revoked server-side: the old cookie no longer works
    s.client.cookies.set(SESSION_COOKIE, cookie.split(";")[0].split("=", 1)[1], domain="testserver.local")
    assert s.client.get("/", follow_redirects=False).status_code == 303


def test_sign_in_is_throttled_and_there_is_no_default_account(workspace: Workspace) -> None:
    ws = workspace
    with start(ws) as client:
        for name, password in (("admin", "admin"), ("root", ""), ("appveto", "appveto")):
            page = client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            r = client.post("/login", data={"username": name, "password": password, "csrf": csrf})
            assert r.status_code in (401, 422), name
        codes = []
        for _ in range(6):
            page = client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            codes.append(
                client.post("/login", data={"username": "x", "password": "y" * 12, "csrf": csrf}).status_code
            )
        assert 429 in codes


def test_tokens_are_scoped_revocable_and_shown_once(server: Server) -> None:
    s = server
    made = s.client.post(
        "/api/tokens", headers=s.api("analyst-approver"), json={"name": "ci", "roles": ["analyst"]}
    )
    assert made.status_code == 201
    token = made.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert s.client.get("/api/me", headers=headers).json()["roles"] == ["analyst"]
    # the token carries only the role it was given
    r = s.client.post("/api/vettings/1/decision", headers=headers, json={"verdict": "approve", "reason": "x"})
    assert r.status_code == 403
    # more roles than the account holds: refused
    assert (
        s.client.post(
            "/api/tokens", headers=s.api("analyst"), json={"name": "x", "roles": ["admin"]}
        ).status_code
        == 403
    )
    listed = s.client.get("/api/tokens", headers=s.api("analyst-approver")).json()
    assert all("token" not in t for t in listed)
    assert (
        s.client.delete(f"/api/tokens/{made.json()['id']}", headers=s.api("analyst-approver")).status_code
        == 204
    )
    assert s.client.get("/api/me", headers=headers).status_code == 401
    # another account's token cannot be revoked
    mine = s.client.post("/api/tokens", headers=s.api("viewer"), json={"name": "v"}).json()["id"]
    assert s.client.delete(f"/api/tokens/{mine}", headers=s.api("analyst")).status_code == 404


def test_accounts_are_managed_by_the_administrator(server: Server) -> None:
    s = server
    r = s.client.post(
        "/api/accounts",
        headers=s.api("admin"),
        json={"username": "Dana", "password": "short", "roles": ["viewer"]},
    )
    assert r.status_code == 422
    r = s.client.post(
        "/api/accounts",
        headers=s.api("admin"),
        json={"username": "Dana", "password": PASSWORD, "roles": ["viewer"]},
    )
    assert r.status_code == 201
    dup = s.client.post(
        "/api/accounts",
        headers=s.api("admin"),
        json={"username": "dana", "password": PASSWORD, "roles": ["viewer"]},
    )
    assert dup.status_code == 409
    # disabling an account ends its sessions and its tokens
    assert (
        s.client.patch("/api/accounts/viewer", headers=s.api("admin"), json={"active": False}).status_code
        == 200
    )
    assert s.client.get("/api/me", headers=s.api("viewer")).status_code == 401
    s.browser("viewer")
    assert s.client.get("/", follow_redirects=False).status_code == 303


def test_security_headers_on_every_answer(server: Server) -> None:
    s = server
    for r in (s.client.get("/login"), s.client.get("/api/openapi.json"), s.client.get("/api/me")):
        assert r.headers["x-frame-options"] == "DENY"
        assert "script-src" not in r.headers["content-security-policy"]
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
    page = s.client.get("/login").text
    assert "<script" not in page and "style=" not in page
    assert s.client.get("/static/report.css").status_code == 200
