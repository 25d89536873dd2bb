"""The SM Portal's HTTP routes: its API (a message, the inbox, reply, reply all, print, delete) and the
page a person reads, with its reply forms.

Owns ``add_portal_routes`` and ``download`` (an attachment's bytes as a download), called by ``create_app`` (harness/gateway/http_app.py) where these routes
sit in the application (their order is the OpenAPI document's, docs/openapi.json).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from . import api_models as m

ERR = {"model": m.Error}
# a download is never rendered by a browser on the gateway's origin, whatever its declared type
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "no-store",
}


def download(info: dict, data: bytes) -> Response:
    """An attachment's bytes, with its declared type, always as a download."""
    name = (info.get("name") or "attachment").replace('"', "'")
    disposition = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    headers = {**DOWNLOAD_HEADERS, "Content-Disposition": disposition}
    return Response(data, media_type=info.get("content_type") or "application/octet-stream", headers=headers)


def add_portal_routes(
    app: FastAPI, gateway: Any, page: Callable[..., HTMLResponse], error_response: Callable[..., Any]
) -> None:
    # -- SM Portal ------------------------------------------------------------------------
    @app.get("/sm-portal/api/messages/{token}", responses={200: {"model": m.PortalMessage}, 404: ERR, 410: ERR})
    def portal_message(token: str):
        return gateway.portal_view(token)

    @app.get(
        "/sm-portal/api/messages/{token}/raw",
        response_class=Response,
        responses={200: {"content": {"message/rfc822": {}}}, 404: ERR, 410: ERR},
    )
    def portal_raw(token: str):
        """The message as delivered to the SM Portal: RFC 5322 bytes."""
        return Response(gateway.portal_raw(token), media_type="message/rfc822", headers=DOWNLOAD_HEADERS)

    @app.get(
        "/sm-portal/api/messages/{token}/attachments/{number}",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}, 404: ERR, 410: ERR},
    )
    def portal_attachment(token: str, number: int):
        """The attachment's decoded bytes; ``number`` counts from 1, in the order of ``attachments``."""
        return download(*gateway.portal_attachment(token, number))

    @app.get("/sm-portal/api/inbox/{token}", responses={200: {"model": m.Inbox}, 404: ERR})
    def portal_inbox(token: str):
        return gateway.portal_inbox(token)

    @app.post(
        "/sm-portal/api/messages/{token}/reply", status_code=202, responses={202: {"model": m.Id}, 404: ERR, 410: ERR}
    )
    def portal_reply(token: str, body: m.Reply):
        return {"id": gateway.portal_reply(token, body.text, body.html, reply_all=False)}

    @app.post(
        "/sm-portal/api/messages/{token}/reply-all",
        status_code=202,
        responses={202: {"model": m.Id}, 404: ERR, 410: ERR},
    )
    def portal_reply_all(token: str, body: m.Reply):
        return {"id": gateway.portal_reply(token, body.text, body.html, reply_all=True)}

    @app.post("/sm-portal/api/messages/{token}/print", status_code=403, responses={403: ERR, 404: ERR})
    def portal_print(token: str):
        return JSONResponse(gateway.portal_print(token), status_code=200)

    @app.delete("/sm-portal/api/messages/{token}", status_code=204, responses={404: ERR})
    def portal_delete(token: str):
        gateway.portal_delete(token)
        return Response(status_code=204)

    @app.get("/sm-portal/m/{token}", response_class=HTMLResponse)
    def portal_page(token: str, sent: str | None = None):
        msg = gateway.portal_view(token)
        inbox = gateway.portal_inbox(token)["items"]
        return page("portal.html", msg=msg, token=token, inbox=inbox, sent=sent)

    async def _form_reply(token: str, request: Request, reply_all: bool):
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        text = (form.get("text") or [""])[0]
        if not text.strip():
            return error_response(request, 422, "invalid_request", "text: the reply must not be empty")
        await run_in_threadpool(gateway.portal_reply, token, text, None, reply_all)
        which = "reply-all" if reply_all else "reply"
        return RedirectResponse(f"/sm-portal/m/{token}?sent={which}", status_code=303)

    @app.post("/sm-portal/m/{token}/reply", status_code=303)
    async def portal_form_reply(token: str, request: Request):
        return await _form_reply(token, request, False)

    @app.post("/sm-portal/m/{token}/reply-all", status_code=303)
    async def portal_form_reply_all(token: str, request: Request):
        return await _form_reply(token, request, True)
