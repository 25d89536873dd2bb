"""The MPP's HTTP routes: its API (send, the user's items, an item's attachments) and its pages (sign-in by
a one-time code, the user's view).

Owns ``add_mpp_routes``, called by ``create_app`` (harness/gateway/http_app.py) where these routes sit
in the application.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from . import api_models as m
from .errors import GatewayError
from .http_portal import download

ERR = {"model": m.Error}
LOGIN_CODE_COOKIE = "mpp_login_code"


def add_mpp_routes(
    app: FastAPI,
    gateway: Any,
    config: Any,
    page: Callable[..., HTMLResponse],
    error_response: Callable[..., Any],
    mpp_user: Callable[..., str],
) -> None:
    # -- MPP ----------------------------------------------------------------------------
    @app.post("/mpp/api/messages", status_code=202, responses={202: {"model": m.Id}, 400: ERR, 401: ERR})
    def mpp_send(body: m.MppSend, user: str = Depends(mpp_user)):
        mid = gateway.mpp_send(
            user, body.to, body.cc, body.subject, body.text, body.html, body.definition, body.headers
        )
        return {"id": mid}

    @app.get("/mpp/api/messages", responses={200: {"model": m.MppItems}, 401: ERR})
    def mpp_list(user: str = Depends(mpp_user)):
        return {"items": gateway.mpp_view(user)}

    @app.get(
        "/mpp/api/items/{item}/attachments/{number}",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}, 401: ERR, 404: ERR},
    )
    def mpp_attachment(item: int, number: int, user: str = Depends(mpp_user)):
        """An attachment of the user's own MPP item (an email with banner); ``number`` counts from 1."""
        return download(*gateway.mpp_attachment(user, item, number))

    @app.get("/mpp/login")
    def mpp_login(session: str = Query(...)):
        """A sign-in page, never a cookie: the session cookie is set only by the same-site POST below
        (a GET that set it let any site sign a visitor in as someone else - login CSRF)."""
        user = gateway.mpp_user(session)
        code = secrets.token_urlsafe(24)
        resp = page("mpp_login.html", user=user, session=session, code=code)
        resp.set_cookie(LOGIN_CODE_COOKIE, code, max_age=600, httponly=True, samesite="strict", path="/mpp/login")
        return resp

    @app.post("/mpp/login", status_code=303, responses={403: ERR, 401: ERR})
    async def mpp_login_post(request: Request):
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        session, code = (form.get("session") or [""])[0], (form.get("code") or [""])[0]
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        cookie = request.cookies.get(LOGIN_CODE_COOKIE, "")
        if (origin not in (None, "null") and origin != own) or request.headers.get("sec-fetch-site") in (
            "cross-site",
            "same-site",
        ):
            return error_response(request, 403, "cross_site_login", "MPP sign-in must come from this site")
        if not code or not cookie or not hmac.compare_digest(code.encode(), cookie.encode()):
            return error_response(
                request,
                403,
                "login_code_mismatch",
                "open the sign-in link again: its one-time code is missing or does not match",
            )
        await run_in_threadpool(gateway.mpp_user, session)
        resp = RedirectResponse("/mpp", status_code=303)
        resp.set_cookie("mpp_session", session, httponly=True, samesite="strict", path="/mpp")
        resp.delete_cookie(LOGIN_CODE_COOKIE, path="/mpp/login", httponly=True, samesite="strict")
        return resp

    @app.get("/mpp", response_class=HTMLResponse)
    def mpp_page(request: Request):
        try:
            user = gateway.mpp_user(request.cookies.get("mpp_session"))
        except GatewayError as exc:
            if exc.status != 401 or not config.sandbox_sign_in:
                raise
            code = secrets.token_urlsafe(24)  # the sign-in form's one-time code, as for /mpp/login
            resp = page("mpp_signin.html", domains=config.internal_domains, code=code)
            resp.set_cookie(LOGIN_CODE_COOKIE, code, max_age=600, httponly=True, samesite="strict", path="/mpp")
            return resp
        return page("mpp.html", user=user, items=gateway.mpp_view(user))

    @app.post("/mpp/sign-in", status_code=303, include_in_schema=False)
    async def mpp_sign_in(request: Request):
        """Sandboxes only (config sandbox_sign_in): an internal user signs in by address, by a same-site POST."""
        if not config.sandbox_sign_in:
            return error_response(request, 404, "not_found", "not found")
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        address, code = (form.get("address") or [""])[0].strip(), (form.get("code") or [""])[0]
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        cookie = request.cookies.get(LOGIN_CODE_COOKIE, "")
        # "null": pages here send no referrer, so a same-origin form posts Origin: null; the one-time
        # code in a SameSite=Strict cookie is what a cross-site page cannot have
        if origin not in (None, "null") and origin != own:
            return error_response(request, 403, "cross_site_login", "MPP sign-in must come from this site")
        if not code or not cookie or not hmac.compare_digest(code.encode(), cookie.encode()):
            return error_response(request, 403, "login_code_mismatch", "open the sign-in page again")
        session = await run_in_threadpool(gateway.create_mpp_session, address)
        resp = RedirectResponse("/mpp", status_code=303)
        resp.set_cookie("mpp_session", session, httponly=True, samesite="strict", path="/mpp")
        return resp
