"""The FastAPI application of ``appveto serve``: server-rendered pages and a JSON API.

Every route names its permission through the dependency that guards it
(:func:`api_guard` for ``/api/...``, bearer tokens only; :func:`page_guard` for pages,
browser sessions with a CSRF token on every form post); :data:`appveto.web.access.RULES`
decides. The OpenAPI document is at ``/api/openapi.json``.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import jinja2
from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from appveto import __version__
from appveto.errors import AppvetoError
from appveto.findings import Severity
from appveto.fleet.store import Store
from appveto.fleet.workspace import Workspace
from appveto.report import registry
from appveto.web import accounts, audit, workflow
from appveto.web.access import AccessError, Permission, Role, allowed
from appveto.web.accounts import Principal, Throttle
from appveto.web.jobs import DEFAULT_TIMEOUT, Runner

SESSION_COOKIE = "appveto_session"
LOGIN_CSRF_COOKIE = "appveto_login_csrf"
DEFAULT_MAX_UPLOAD = 200 * 1024 * 1024
FORM_OVERHEAD = 64 * 1024
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


@dataclass
class Settings:
    max_upload: int = DEFAULT_MAX_UPLOAD
    scan_timeout: float = DEFAULT_TIMEOUT
    start_runner: bool = True
    secure_cookies: bool = True


# ------------------------------------------------------------------ ASGI middleware


class _Guards:
    """Security headers on every answer, and a cap on every request body (the upload
    limit plus room for the form's other fields): a larger body is refused with 413 while
    it streams, never read whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.limit:
                    await _plain(send, 413, f"the request is larger than the limit of {self.limit:,} bytes")
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, f"the request is larger than the limit of {self.limit:,} bytes")
            return message

        async def headed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, limited, headed)


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# ------------------------------------------------------------------ request models


class ReviewIn(BaseModel):
    finding: str = Field(
        max_length=200, description="The finding's key, CHECK-ID#n, as the vetting lists it."
    )
    action: workflow.ReviewAction
    severity: Severity | None = None
    reason: str = Field(min_length=1, max_length=workflow.MAX_TEXT)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=workflow.MAX_TEXT)


class RecommendationIn(BaseModel):
    verdict: workflow.Recommendation
    reason: str = Field(min_length=1, max_length=workflow.MAX_TEXT)
    cited: list[str] = Field(default=[], max_length=500)


class DecisionIn(BaseModel):
    verdict: workflow.Decision
    reason: str = Field(min_length=1, max_length=workflow.MAX_TEXT)


class AccountIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=accounts.MIN_PASSWORD, max_length=accounts.MAX_PASSWORD)
    roles: list[Role] = Field(min_length=1)


class AccountPatch(BaseModel):
    roles: list[Role] | None = None
    active: bool | None = None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    roles: list[Role] | None = None
    days: int | None = Field(default=None, ge=1, le=366)


class Created(BaseModel):
    id: int


class IntakeOut(BaseModel):
    id: int
    sha256: str
    duplicate: bool


class TokenOut(BaseModel):
    id: int
    token: str = Field(description="Shown this once; the server keeps only its hash.")


class VerifyOut(BaseModel):
    entries: int
    ok: bool
    problems: list[str]


class MeOut(BaseModel):
    username: str
    roles: list[Role]


# ------------------------------------------------------------------ guards


def _source(request: Request) -> str:
    return request.client.host if request.client else ""


def _now() -> datetime:
    return accounts.now_utc()


def _ctx(request: Request) -> _App:
    ctx: _App = request.app.state.appveto
    return ctx


def api_guard(permission: Permission) -> Callable[[Request], Principal | None]:
    """The dependency of an API route: a bearer token whose roles hold ``permission``."""

    def guard(request: Request) -> Principal | None:
        if permission is Permission.PUBLIC:
            return None
        ctx = _ctx(request)
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        principal = None
        if scheme.lower() == "bearer" and token.strip():
            principal = accounts.token_principal(ctx.engine, token.strip(), now=_now())
        if principal is None:
            raise HTTPException(
                401,
                "an API token is needed (Authorization: Bearer ...)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not allowed(principal.roles, permission):
            raise HTTPException(403, f"this needs the permission {permission.value!r}, which your roles lack")
        return principal

    guard.permission = permission  # type: ignore[attr-defined]
    return guard


class _SignIn(Exception):
    """A page that needs a signed-in browser."""


def page_guard(permission: Permission) -> Callable[[Request], Awaitable[Principal | None]]:
    """The dependency of a page: a browser session whose roles hold ``permission``; form
    posts must carry the session's CSRF token."""

    async def guard(request: Request) -> Principal | None:
        if permission is Permission.PUBLIC:
            return None
        ctx = _ctx(request)
        token = request.cookies.get(SESSION_COOKIE)
        principal = accounts.session_principal(ctx.engine, token, now=_now()) if token else None
        if principal is None:
            raise _SignIn()
        if request.method == "POST":
            form = await request.form()
            sent = form.get("csrf")
            if (
                not isinstance(sent, str)
                or not principal.csrf
                or not secrets.compare_digest(sent, principal.csrf)
            ):
                raise HTTPException(
                    403, "the form's CSRF token is missing or wrong: reload the page and retry"
                )
        if not allowed(principal.roles, permission):
            raise HTTPException(403, f"this needs the permission {permission.value!r}, which your roles lack")
        return principal

    guard.permission = permission  # type: ignore[attr-defined]
    return guard


def _api(permission: Permission) -> Any:
    return Depends(api_guard(permission))


def _page(permission: Permission) -> Any:
    return Depends(page_guard(permission))


# ------------------------------------------------------------------ the application


@dataclass
class _App:
    workspace: Workspace
    store: Store
    settings: Settings
    runner: Runner
    env: jinja2.Environment
    throttle: Throttle

    @property
    def engine(self) -> Any:
        return self.store.engine

    @property
    def uploads(self) -> Path:
        return self.workspace.root / "uploads"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("appveto.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    env.filters["when"] = _when
    return env


def _when(value: object) -> str:
    """A time as people read it: ``2026-12-08 09:30:12 UTC`` (stored times are UTC)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def create_app(workspace: Workspace, settings: Settings | None = None) -> FastAPI:
    """The server of ``workspace``; its store is opened (and migrated) now."""
    settings = settings or Settings()
    store = workspace.open_store()
    ctx = _App(
        workspace=workspace,
        store=store,
        settings=settings,
        runner=Runner(store.engine, workspace.root / "uploads", timeout=settings.scan_timeout),
        env=_environment(),
        throttle=Throttle(),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.start_runner:
            ctx.runner.start()
        try:
            yield
        finally:
            ctx.runner.stop()
            store.close()

    app = FastAPI(
        title="appveto",
        version=__version__,
        description="The security office's shared workspace: the SP 800-163 vetting workflow, "
        "roles, audit trail. Authenticate with an API token: Authorization: Bearer avt_...",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.appveto = ctx
    app.add_middleware(_Guards, limit=settings.max_upload + FORM_OVERHEAD)
    _errors(app)
    _api_routes(app)
    _page_routes(app)
    return app


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _errors(app: FastAPI) -> None:
    @app.exception_handler(_SignIn)
    async def _signin(request: Request, _: _SignIn) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(AccessError)
    async def _access(request: Request, exc: AccessError) -> Response:
        return _error_response(request, exc.status, exc.message)

    @app.exception_handler(AppvetoError)
    async def _appveto(request: Request, exc: AppvetoError) -> Response:
        return _error_response(request, 400, str(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        return _error_response(request, exc.status_code, str(exc.detail), exc.headers)


def _error_response(request: Request, status: int, message: str, headers: Any = None) -> Response:
    if _wants_html(request):
        ctx = _ctx(request)
        html = ctx.env.get_template("error.html.j2").render(status=status, message=message, me=None, csrf="")
        return HTMLResponse(html, status_code=status, headers=headers)
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


# ------------------------------------------------------------------ JSON API


def _api_routes(app: FastAPI) -> None:
    @app.get("/api/me", tags=["accounts"])
    def me(p: Annotated[Principal, _api(Permission.SIGNED_IN)]) -> MeOut:
        return MeOut(username=p.username, roles=sorted(p.roles))

    @app.get("/api/vettings", tags=["vetting"])
    def list_vettings(
        request: Request,
        p: Annotated[Principal, _api(Permission.VIEW)],
        limit: int = 200,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        if not 1 <= limit <= 1000 or offset < 0:
            raise AccessError("limit is 1-1000 and offset is not negative")
        return workflow.list_vettings(_ctx(request).engine, limit=limit, offset=offset)

    @app.post("/api/vettings", tags=["vetting"], status_code=201)
    def submit(
        request: Request,
        response: Response,
        p: Annotated[Principal, _api(Permission.SUBMIT)],
        file: Annotated[UploadFile, File(description="The APK")],
        reason: Annotated[str, Form(min_length=1, max_length=workflow.MAX_TEXT)],
    ) -> IntakeOut:
        result = _intake(request, p, file, reason)
        if result.duplicate:
            response.status_code = 200
        return IntakeOut(id=result.vetting_id, sha256=result.sha256, duplicate=result.duplicate)

    @app.get("/api/vettings/{vetting_id}", tags=["vetting"])
    def get_vetting(
        request: Request, vetting_id: int, p: Annotated[Principal, _api(Permission.VIEW)]
    ) -> dict[str, Any]:
        return workflow.vetting_detail(_ctx(request).engine, vetting_id)

    @app.post("/api/vettings/{vetting_id}/reviews", tags=["vetting"], status_code=201)
    def review(
        request: Request, vetting_id: int, body: ReviewIn, p: Annotated[Principal, _api(Permission.REVIEW)]
    ) -> dict[str, Any]:
        workflow.review_finding(
            _ctx(request).engine,
            vetting_id,
            finding_key=body.finding,
            action=body.action,
            severity=body.severity,
            reason=body.reason,
            principal=p,
            source=_source(request),
            now=_now(),
        )
        return workflow.vetting_detail(_ctx(request).engine, vetting_id)

    @app.post("/api/vettings/{vetting_id}/notes", tags=["vetting"], status_code=201)
    def note(
        request: Request, vetting_id: int, body: NoteIn, p: Annotated[Principal, _api(Permission.REVIEW)]
    ) -> dict[str, Any]:
        workflow.add_note(
            _ctx(request).engine, vetting_id, text=body.text, principal=p, source=_source(request), now=_now()
        )
        return workflow.vetting_detail(_ctx(request).engine, vetting_id)

    @app.post("/api/vettings/{vetting_id}/rescan", tags=["vetting"], status_code=202)
    def rescan(
        request: Request, vetting_id: int, p: Annotated[Principal, _api(Permission.REVIEW)]
    ) -> dict[str, Any]:
        ctx = _ctx(request)
        workflow.rescan(ctx.engine, vetting_id, principal=p, source=_source(request), now=_now())
        ctx.runner.wake()
        return workflow.vetting_detail(ctx.engine, vetting_id)

    @app.post("/api/vettings/{vetting_id}/recommendation", tags=["vetting"], status_code=201)
    def recommendation(
        request: Request,
        vetting_id: int,
        body: RecommendationIn,
        p: Annotated[Principal, _api(Permission.RECOMMEND)],
    ) -> dict[str, Any]:
        workflow.recommend(
            _ctx(request).engine,
            vetting_id,
            verdict=body.verdict,
            reason=body.reason,
            cited=body.cited,
            principal=p,
            source=_source(request),
            now=_now(),
        )
        return workflow.vetting_detail(_ctx(request).engine, vetting_id)

    @app.post("/api/vettings/{vetting_id}/decision", tags=["vetting"], status_code=201)
    def decision(
        request: Request, vetting_id: int, body: DecisionIn, p: Annotated[Principal, _api(Permission.DECIDE)]
    ) -> dict[str, Any]:
        workflow.decide(
            _ctx(request).engine,
            vetting_id,
            verdict=body.verdict,
            reason=body.reason,
            principal=p,
            source=_source(request),
            now=_now(),
        )
        return workflow.vetting_detail(_ctx(request).engine, vetting_id)

    @app.get("/api/audit", tags=["audit"])
    def audit_list(
        request: Request, p: Annotated[Principal, _api(Permission.AUDIT_READ)], limit: int = 100
    ) -> list[dict[str, Any]]:
        if not 1 <= limit <= 10_000:
            raise AccessError("limit is 1-10000")
        cols = audit.EXPORT_COLUMNS
        return [
            dict(zip(cols, e.row(), strict=True))
            for e in audit.entries(_ctx(request).engine, limit=limit, newest_first=True)
        ]

    @app.get("/api/audit/verify", tags=["audit"])
    def audit_verify(request: Request, p: Annotated[Principal, _api(Permission.AUDIT_READ)]) -> VerifyOut:
        v = audit.verify(_ctx(request).engine)
        return VerifyOut(entries=v.entries, ok=v.ok, problems=list(v.problems))

    @app.get(
        "/api/audit/export.csv",
        tags=["audit"],
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
    )
    def audit_csv(request: Request, p: Annotated[Principal, _api(Permission.AUDIT_READ)]) -> Response:
        return _audit_csv(request, p)

    @app.get("/api/accounts", tags=["accounts"])
    def accounts_list(
        request: Request, p: Annotated[Principal, _api(Permission.MANAGE_ACCOUNTS)]
    ) -> list[dict[str, Any]]:
        return accounts.list_accounts(_ctx(request).engine)

    @app.post("/api/accounts", tags=["accounts"], status_code=201)
    def account_create(
        request: Request, body: AccountIn, p: Annotated[Principal, _api(Permission.MANAGE_ACCOUNTS)]
    ) -> Created:
        with _ctx(request).engine.begin() as conn:
            new_id = accounts.create_account(
                conn,
                body.username,
                body.password,
                body.roles,
                actor=p.username,
                source=_source(request),
                now=_now(),
            )
        return Created(id=new_id)

    @app.patch("/api/accounts/{username}", tags=["accounts"])
    def account_update(
        request: Request,
        username: str,
        body: AccountPatch,
        p: Annotated[Principal, _api(Permission.MANAGE_ACCOUNTS)],
    ) -> list[dict[str, Any]]:
        with _ctx(request).engine.begin() as conn:
            accounts.set_account(
                conn,
                username,
                roles=body.roles,
                active=body.active,
                actor=p.username,
                source=_source(request),
                now=_now(),
            )
        return accounts.list_accounts(_ctx(request).engine)

    @app.get("/api/tokens", tags=["accounts"])
    def tokens_list(
        request: Request, p: Annotated[Principal, _api(Permission.SIGNED_IN)]
    ) -> list[dict[str, Any]]:
        return accounts.list_tokens(_ctx(request).engine, p.account_id)

    @app.post("/api/tokens", tags=["accounts"], status_code=201)
    def token_create(
        request: Request, body: TokenIn, p: Annotated[Principal, _api(Permission.SIGNED_IN)]
    ) -> TokenOut:
        with _ctx(request).engine.begin() as conn:
            tid, token = accounts.create_token(
                conn, p, body.name, body.roles, days=body.days, source=_source(request), now=_now()
            )
        return TokenOut(id=tid, token=token)

    @app.delete("/api/tokens/{token_id}", tags=["accounts"], status_code=204)
    def token_revoke(
        request: Request, token_id: int, p: Annotated[Principal, _api(Permission.SIGNED_IN)]
    ) -> Response:
        with _ctx(request).engine.begin() as conn:
            accounts.revoke_token(conn, p, token_id, source=_source(request), now=_now())
        return Response(status_code=204)


def _intake(request: Request, p: Principal, file: UploadFile, reason: str) -> workflow.Intake:
    ctx = _ctx(request)
    result = workflow.intake(
        ctx.engine,
        ctx.uploads,
        file.file,
        filename=file.filename or "upload",
        reason=reason,
        principal=p,
        source=_source(request),
        now=_now(),
        max_size=ctx.settings.max_upload,
    )
    if not result.duplicate:
        ctx.runner.wake()
    return result


def _audit_csv(request: Request, p: Principal) -> Response:
    ctx = _ctx(request)
    with ctx.engine.begin() as conn:
        audit.append(
            conn,
            actor=p.username,
            source=_source(request),
            action="audit.export",
            target="audit",
            detail={"format": "csv"},
            now=_now(),
        )
    text = registry.render("audit", "csv", audit.trail(ctx.engine))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="audit.csv"'},
    )


# ------------------------------------------------------------------ pages


def _page_routes(app: FastAPI) -> None:
    def render(
        request: Request, name: str, p: Principal | None, status: int = 200, **values: Any
    ) -> HTMLResponse:
        ctx = _ctx(request)
        html = ctx.env.get_template(name).render(
            me=p, csrf=p.csrf if p else "", roles=sorted(p.roles) if p else [], can=_can(p), **values
        )
        return HTMLResponse(html, status_code=status)

    def back(path: str) -> RedirectResponse:
        return RedirectResponse(path, status_code=303)

    @app.get("/static/report.css", include_in_schema=False)
    def stylesheet(_: Annotated[None, _page(Permission.PUBLIC)]) -> Response:
        css = resources.files("appveto.report").joinpath("assets/report.css").read_text(encoding="utf-8")
        extra = resources.files("appveto.web").joinpath("templates/serve.css").read_text(encoding="utf-8")
        return Response(css + "\n" + extra, media_type="text/css")

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, _: Annotated[None, _page(Permission.PUBLIC)]) -> HTMLResponse:
        token = secrets.token_urlsafe(32)
        resp = render(request, "login.html.j2", None, login_csrf=token, error=None)
        _cookie(request, resp, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return resp

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        _: Annotated[None, _page(Permission.PUBLIC)],
        username: Annotated[str, Form(max_length=200)],
        password: Annotated[str, Form(max_length=accounts.MAX_PASSWORD)],
        csrf: Annotated[str, Form(max_length=200)],
    ) -> Response:
        ctx = _ctx(request)
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not cookie or not secrets.compare_digest(cookie, csrf):
            raise HTTPException(403, "the sign-in form's CSRF token is missing or wrong: reload the page")
        source = _source(request)
        keys = (f"user:{username.strip().lower()}", f"addr:{source}")
        if ctx.throttle.blocked(*keys):
            raise HTTPException(429, "too many failed sign-ins: wait a few minutes")
        with ctx.engine.begin() as conn:
            found = accounts.authenticate(conn, username, password)
            if found is None:
                audit.append(
                    conn,
                    actor=username.strip().lower()[:64],
                    source=source,
                    action="auth.signin_failed",
                    target="",
                    now=_now(),
                )
            else:
                token, _csrf = accounts.open_session(conn, found[0], now=_now())
                audit.append(conn, actor=found[1], source=source, action="auth.signin", target="", now=_now())
        if found is None:
            ctx.throttle.failed(*keys)
            fresh = secrets.token_urlsafe(32)
            resp = render(
                request, "login.html.j2", None, 401, login_csrf=fresh, error="Wrong user name or password."
            )
            _cookie(request, resp, LOGIN_CSRF_COOKIE, fresh, max_age=3600)
            return resp
        ctx.throttle.clear(keys[0])
        signed_in = back("/")
        _cookie(
            request, signed_in, SESSION_COOKIE, token, max_age=int(accounts.SESSION_LIFETIME.total_seconds())
        )
        signed_in.delete_cookie(LOGIN_CSRF_COOKIE)
        return signed_in

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, p: Annotated[Principal, _page(Permission.SIGNED_IN)]) -> Response:
        ctx = _ctx(request)
        with ctx.engine.begin() as conn:
            accounts.close_session(conn, request.cookies.get(SESSION_COOKIE, ""))
            audit.append(conn, actor=p.username, source=_source(request), action="auth.signout", now=_now())
        resp = back("/login")
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    @app.get("/", include_in_schema=False)
    def home(request: Request, p: Annotated[Principal, _page(Permission.VIEW)]) -> HTMLResponse:
        items = workflow.list_vettings(_ctx(request).engine)
        return render(
            request, "index.html.j2", p, vettings=items, max_upload=_ctx(request).settings.max_upload
        )

    @app.post("/vettings", include_in_schema=False)
    def submit_page(
        request: Request,
        p: Annotated[Principal, _page(Permission.SUBMIT)],
        file: Annotated[UploadFile, File()],
        reason: Annotated[str, Form(max_length=workflow.MAX_TEXT)],
    ) -> Response:
        result = _intake(request, p, file, reason)
        return back(f"/vettings/{result.vetting_id}")

    @app.get("/vettings/{vetting_id}", include_in_schema=False)
    def vetting_page(
        request: Request, vetting_id: int, p: Annotated[Principal, _page(Permission.VIEW)]
    ) -> HTMLResponse:
        detail = workflow.vetting_detail(_ctx(request).engine, vetting_id)
        return render(request, "vetting.html.j2", p, v=detail, severities=[s.value for s in Severity])

    @app.post("/vettings/{vetting_id}/reviews", include_in_schema=False)
    def review_page(
        request: Request,
        vetting_id: int,
        p: Annotated[Principal, _page(Permission.REVIEW)],
        finding: Annotated[str, Form(max_length=200)],
        action: Annotated[workflow.ReviewAction, Form()],
        reason: Annotated[str, Form(max_length=workflow.MAX_TEXT)],
        severity: Annotated[str, Form(max_length=20)] = "",
    ) -> Response:
        sev = _severity(severity)
        workflow.review_finding(
            _ctx(request).engine,
            vetting_id,
            finding_key=finding,
            action=action,
            severity=sev,
            reason=reason,
            principal=p,
            source=_source(request),
            now=_now(),
        )
        return back(f"/vettings/{vetting_id}")

    @app.post("/vettings/{vetting_id}/notes", include_in_schema=False)
    def note_page(
        request: Request,
        vetting_id: int,
        p: Annotated[Principal, _page(Permission.REVIEW)],
        text: Annotated[str, Form(max_length=workflow.MAX_TEXT)],
    ) -> Response:
        workflow.add_note(
            _ctx(request).engine, vetting_id, text=text, principal=p, source=_source(request), now=_now()
        )
        return back(f"/vettings/{vetting_id}")

    @app.post("/vettings/{vetting_id}/rescan", include_in_schema=False)
    def rescan_page(
        request: Request, vetting_id: int, p: Annotated[Principal, _page(Permission.REVIEW)]
    ) -> Response:
        ctx = _ctx(request)
        workflow.rescan(ctx.engine, vetting_id, principal=p, source=_source(request), now=_now())
        ctx.runner.wake()
        return back(f"/vettings/{vetting_id}")

    @app.post("/vettings/{vetting_id}/recommendation", include_in_schema=False)
    async def recommendation_page(
        request: Request,
        vetting_id: int,
        p: Annotated[Principal, _page(Permission.RECOMMEND)],
        verdict: Annotated[workflow.Recommendation, Form()],
        reason: Annotated[str, Form(max_length=workflow.MAX_TEXT)],
    ) -> Response:
        form = await request.form()
        cited = [c for c in form.getlist("cited") if isinstance(c, str)]
        workflow.recommend(
            _ctx(request).engine,
            vetting_id,
            verdict=verdict,
            reason=reason,
            cited=cited,
            principal=p,
            source=_source(request),
            now=_now(),
        )
        return back(f"/vettings/{vetting_id}")

    @app.post("/vettings/{vetting_id}/decision", include_in_schema=False)
    def decision_page(
        request: Request,
        vetting_id: int,
        p: Annotated[Principal, _page(Permission.DECIDE)],
        verdict: Annotated[workflow.Decision, Form()],
        reason: Annotated[str, Form(max_length=workflow.MAX_TEXT)],
    ) -> Response:
        workflow.decide(
            _ctx(request).engine,
            vetting_id,
            verdict=verdict,
            reason=reason,
            principal=p,
            source=_source(request),
            now=_now(),
        )
        return back(f"/vettings/{vetting_id}")

    @app.get("/audit", include_in_schema=False)
    def audit_page(request: Request, p: Annotated[Principal, _page(Permission.AUDIT_READ)]) -> HTMLResponse:
        engine = _ctx(request).engine
        items = list(audit.entries(engine, limit=500, newest_first=True))
        return render(request, "audit.html.j2", p, entries=items, verification=audit.verify(engine))

    @app.get("/audit.csv", include_in_schema=False)
    def audit_csv_page(request: Request, p: Annotated[Principal, _page(Permission.AUDIT_READ)]) -> Response:
        return _audit_csv(request, p)

    @app.get("/accounts", include_in_schema=False)
    def accounts_page(
        request: Request, p: Annotated[Principal, _page(Permission.MANAGE_ACCOUNTS)]
    ) -> HTMLResponse:
        return render(
            request,
            "accounts.html.j2",
            p,
            accounts=accounts.list_accounts(_ctx(request).engine),
            all_roles=[r.value for r in Role],
        )

    @app.post("/accounts", include_in_schema=False)
    async def account_create_page(
        request: Request,
        p: Annotated[Principal, _page(Permission.MANAGE_ACCOUNTS)],
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=accounts.MAX_PASSWORD)],
    ) -> Response:
        roles = await _form_roles(request)
        with _ctx(request).engine.begin() as conn:
            accounts.create_account(
                conn, username, password, roles, actor=p.username, source=_source(request), now=_now()
            )
        return back("/accounts")

    @app.post("/accounts/{username}", include_in_schema=False)
    async def account_update_page(
        request: Request,
        username: str,
        p: Annotated[Principal, _page(Permission.MANAGE_ACCOUNTS)],
        active: Annotated[Literal["yes", "no"], Form()],
    ) -> Response:
        roles = await _form_roles(request)
        with _ctx(request).engine.begin() as conn:
            accounts.set_account(
                conn,
                username,
                roles=roles,
                active=active == "yes",
                actor=p.username,
                source=_source(request),
                now=_now(),
            )
        return back("/accounts")

    @app.get("/tokens", include_in_schema=False)
    def tokens_page(request: Request, p: Annotated[Principal, _page(Permission.SIGNED_IN)]) -> HTMLResponse:
        return render(
            request,
            "tokens.html.j2",
            p,
            tokens=accounts.list_tokens(_ctx(request).engine, p.account_id),
            new_token=None,
        )

    @app.post("/tokens", include_in_schema=False)
    async def token_create_page(
        request: Request,
        p: Annotated[Principal, _page(Permission.SIGNED_IN)],
        name: Annotated[str, Form(max_length=100)],
        days: Annotated[int | None, Form(ge=1, le=366)] = None,
    ) -> HTMLResponse:
        roles = await _form_roles(request)
        with _ctx(request).engine.begin() as conn:
            _tid, token = accounts.create_token(
                conn, p, name, roles or None, days=days, source=_source(request), now=_now()
            )
        return render(
            request,
            "tokens.html.j2",
            p,
            201,
            tokens=accounts.list_tokens(_ctx(request).engine, p.account_id),
            new_token=token,
        )

    @app.post("/tokens/{token_id}/revoke", include_in_schema=False)
    def token_revoke_page(
        request: Request, token_id: int, p: Annotated[Principal, _page(Permission.SIGNED_IN)]
    ) -> Response:
        with _ctx(request).engine.begin() as conn:
            accounts.revoke_token(conn, p, token_id, source=_source(request), now=_now())
        return back("/tokens")


async def _form_roles(request: Request) -> list[Role]:
    from appveto.web.access import parse_roles

    form = await request.form()
    return sorted(parse_roles(v for v in form.getlist("roles") if isinstance(v, str)))


def _severity(text: str) -> Severity | None:
    if not text:
        return None
    try:
        return Severity(text)
    except ValueError:
        raise AccessError(f"unknown severity {text!r}") from None


def _can(p: Principal | None) -> dict[str, bool]:
    return {perm.value: p is not None and allowed(p.roles, perm) for perm in Permission}


def _cookie(request: Request, resp: Response, name: str, value: str, *, max_age: int) -> None:
    resp.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        secure=_ctx(request).settings.secure_cookies,
        samesite="strict",
        path="/",
    )
