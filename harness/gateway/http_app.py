"""The HTTP front end: Administration Console, MPP, SM Portal and health.

Owns ``create_app(config, store, gateway, catalogue, clock)``: every route of
docs/contract.md, authentication (admin bearer/basic, MPP session bearer or
cookie), the JSON error shape for every error (HTTPException, validation,
unknown routes; 503 storage_unavailable when the database cannot commit, 500
internal_error for anything unexpected) and the HTML pages (jinja2, autoescape
on). The use cases themselves live in ``service.Gateway``; routes only
translate.
"""

from __future__ import annotations

import base64
import hmac
import logging
import time
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__
from . import api_models as m
from .api_models import install_openapi
from .body_limit import BodyLimit
from .clock import iso
from .http_guard import authenticator, body_limit_for
from .http_mpp import add_mpp_routes
from .http_portal import add_portal_routes
from .limits import BodySlots
from .service import GatewayError
from .store import StorageError

ERR = {"model": m.Error}
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    410: "expired",
    413: "too_large",
    415: "unsupported_media_type",
}
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
log = logging.getLogger("smlite.gateway")
IMMUTABLE = ("definitions_immutable", "Secure Messaging Lite definitions cannot be created, changed or deleted")


def _error(status: int, code: str, message: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status, headers=headers)


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return "/api/" not in path and "text/html" in request.headers.get("accept", "")


def create_app(config, store, gateway, catalogue, clock, slots: BodySlots | None = None) -> FastAPI:
    env = Environment(
        loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    variant = gateway.variant
    app = FastAPI(
        title="smlite reference gateway",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        description="Secure Messaging Lite target contract (docs/contract.md).",
    )

    def page(name: str, status: int = 200, **ctx) -> HTMLResponse:
        html = env.get_template(name).render(gateway_name=config.name, **ctx)
        return HTMLResponse(html, status_code=status, headers=HTML_HEADERS)

    def error_response(request: Request, status: int, code: str, message: str, headers=None):
        if _wants_html(request):
            resp = page("error.html", status=status, code=code, message=message)
            if headers:
                resp.headers.update(headers)
            return resp
        return _error(status, code, message, headers)

    # -- errors ------------------------------------------------------------------
    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError):
        return error_response(request, exc.status, exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        code = STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 404:
            message = "no such resource"
        return error_response(request, exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(StorageError)
    async def _storage_error(request: Request, exc: StorageError):
        log.error("storage unavailable, refused %s %s: %s", request.method, request.url.path, exc)
        return error_response(
            request,
            503,
            "storage_unavailable",
            "the gateway cannot store anything right now; nothing was accepted, try again later",
            {"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception):
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(request, 500, "internal_error", "internal error; nothing was accepted")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = jsonable_encoder(exc.errors(), custom_encoder={Exception: str})
        for e in errors:
            e.pop("input", None)
        first = errors[0] if errors else {}
        where = ".".join(str(x) for x in first.get("loc", []) if x != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else first.get("msg", "invalid request")
        return _error(422, "invalid_request", message, detail=errors)

    # -- authentication ------------------------------------------------------------
    def _admin_ok(request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        scheme, _, cred = auth.partition(" ")
        token = config.admin_token.encode()
        if scheme.lower() == "bearer":
            return hmac.compare_digest(cred.strip().encode(), token)
        if scheme.lower() == "basic":
            try:
                user, _, pw = base64.b64decode(cred.strip(), validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return hmac.compare_digest(user.encode(), b"admin") & hmac.compare_digest(pw.encode(), token)
        return False

    @app.middleware("http")
    async def _admin_auth(request: Request, call_next):
        path = request.url.path
        if (path == "/admin" or path.startswith("/admin/")) and not _admin_ok(request):
            headers = {
                "WWW-Authenticate": 'Basic realm="smlite admin console (user: admin, password: the admin token)"'
            }
            return error_response(request, 401, "unauthorized", "administrator credentials required", headers)
        return await call_next(request)

    def mpp_user(request: Request) -> str:
        scheme, _, cred = request.headers.get("authorization", "").partition(" ")
        token = cred.strip() if scheme.lower() == "bearer" else None
        return gateway.mpp_user(token)

    # -- health -----------------------------------------------------------------------
    @app.get("/healthz", response_model=None, responses={200: {"model": m.Health}})
    def healthz():
        queue = store.queue_stats(time.time())
        degraded = queue["oldest_pending_age_s"] > config.health_max_pending_age_s
        queue["oldest_pending_age_s"] = int(queue["oldest_pending_age_s"])
        return {"status": "degraded" if degraded else "ok", "name": config.name, "version": __version__, "queue": queue}

    # -- Administration Console ---------------------------------------------------------
    def _definition(name: str) -> dict:
        d = catalogue.get(name)
        if d is None:
            raise GatewayError(404, "unknown_definition", f"no definition named {name!r}; there are All and External")
        return d

    @app.get("/admin/api/definitions", responses={200: {"model": m.Definitions}, 401: ERR})
    def list_definitions():
        return {"definitions": catalogue.list()}

    @app.get("/admin/api/definitions/{name}", responses={200: {"model": m.Definition}, 401: ERR, 404: ERR})
    def get_definition(name: str):
        return _definition(name)

    def _immutable():
        return _error(403, *IMMUTABLE)

    @app.post("/admin/api/definitions", status_code=403, responses={403: ERR, 401: ERR})
    def create_definition():
        return _immutable()

    @app.put("/admin/api/definitions/{name}", status_code=403, responses={403: ERR, 401: ERR})
    def replace_definition(name: str):
        return _immutable()

    @app.delete("/admin/api/definitions/{name}", status_code=403, responses={403: ERR, 401: ERR})
    def delete_definition(name: str):
        return _immutable()

    @app.patch("/admin/api/definitions/{name}", status_code=403, responses={403: ERR, 401: ERR})
    async def patch_definition(name: str, request: Request):
        if variant != "definition-editable":
            return _immutable()
        try:
            body = m.AttributesPatch.model_validate(await request.json())
        except (ValueError, ValidationError) as exc:
            return _error(422, "invalid_request", str(exc).splitlines()[0])
        _definition(name)
        return JSONResponse(catalogue.set_attributes(name, [a.model_dump() for a in body.attributes]))

    @app.get("/admin/api/sm-portal/messages", responses={200: {"model": m.PortalList}, 401: ERR})
    def admin_portal_messages(recipient: str = Query(..., description="recipient address")):
        return {"items": gateway.admin_portal_messages(recipient.strip())}

    @app.post("/admin/api/mpp-sessions", status_code=201, responses={201: {"model": m.MppSession}, 401: ERR, 403: ERR})
    def create_mpp_session(body: m.MppSessionCreate):
        address = body.address.strip()
        return {"session": gateway.create_mpp_session(address), "address": address}

    @app.get("/admin/api/clock", responses={200: {"model": m.ClockState}, 401: ERR})
    def get_clock():
        return {"now": iso(clock.now()), "controllable": clock.controllable}

    @app.post("/admin/api/clock", responses={200: {"model": m.ClockState}, 401: ERR, 404: ERR})
    def advance_clock(body: m.ClockAdvance):
        if not clock.controllable:
            raise GatewayError(404, "clock_control_disabled", "start the gateway with test_clock = true")
        try:
            return {"now": iso(clock.advance(body.advance_days))}
        except ValueError as exc:
            raise GatewayError(422, "invalid_request", f"advance_days: {exc}") from None

    @app.get("/admin", response_class=HTMLResponse)
    def admin_page():
        return page("admin.html", definitions=catalogue.list())

    add_mpp_routes(app, gateway, config, page, error_response, mpp_user)

    @app.get("/sm-portal", response_class=HTMLResponse, include_in_schema=False)
    def sm_portal_landing():
        """What a person sees at the bare SM Portal URL: how messages arrive; nothing private."""
        return page("portal_landing.html")

    add_portal_routes(app, gateway, page, error_response)

    install_openapi(app)
    # outermost (added last): the caps hold before routing and any read of the body; a large body is
    # authenticated first (harness/gateway/http_guard.py)
    app.add_middleware(
        BodyLimit,
        limit_for=body_limit_for(config),
        slots=slots,
        body_timeout_s=config.http_body_timeout_s,
        authenticate=authenticator(gateway),
    )
    return app
