"""Owns: the independent gateway's HTTP side (Flask): Admin Console, MPP, SM Portal, clock, health.

Paths and JSON shapes follow docs/contract.md / docs/openapi.json; the HTML pages
are this vendor's own.
"""

from __future__ import annotations

import base64
import hmac
import html as html_lib
import json
import secrets
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import Flask, Response, jsonify, redirect, request
from flask.typing import ResponseReturnValue

from tools.independent.gateway import mime
from tools.independent.gateway.engine import ADDRESS, BANNER, Engine, Refused, canonical_definition
from tools.independent.gateway.store import StorageError


def error(status: int, code: str, message: str, **extra: Any) -> Response:
    answer = jsonify({"error": code, "message": message, **extra})
    answer.status_code = status
    return answer


DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, no-store",
}


def whole_message(raw: bytes | None, attachment_url: str) -> dict[str, Any]:
    """`parts` and `attachments` of a kept message (docs/contract.md, "The whole message"); {} if none kept."""
    if not raw:
        return {}
    parts, attachments = mime.listing(mime.parse(bytes(raw)))
    return {
        "parts": parts,
        "attachments": [info | {"url": f"{attachment_url}/{n}"} for n, (info, _e) in enumerate(attachments, 1)],
    }


def download(raw: bytes | None, number: int) -> Response:
    found = mime.listing(mime.parse(bytes(raw)))[1] if raw else []
    if not 1 <= number <= len(found):
        return error(404, "not_found", f"no attachment {number}")
    info, entity = found[number - 1]
    answer = Response(entity.decoded(), mimetype=info["content_type"], headers=DOWNLOAD_HEADERS)
    name = "".join(c for c in (info["name"] or "") if c.isascii() and c.isprintable() and c not in '"\\')
    answer.headers["Content-Disposition"] = f'attachment; filename="{name}"' if name else "attachment"
    return answer


def create_app(engine: Engine) -> Flask:
    cfg, store, on = engine.cfg, engine.store, engine.cfg.on
    app = Flask("northwind")

    @app.errorhandler(StorageError)
    def storage(_exc: Exception) -> ResponseReturnValue:
        answer = error(503, "storage_unavailable", "the database cannot be written; retry later")
        answer.headers["Retry-After"] = "5"
        return answer

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> ResponseReturnValue:
        return error(404, "not_found", f"no such path: {request.path}")

    @app.errorhandler(405)
    def not_allowed(_exc: Exception) -> ResponseReturnValue:
        return error(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> ResponseReturnValue:
        app.logger.exception("unexpected error")
        return error(500, "internal_error", f"{type(exc).__name__}")

    def body_json() -> tuple[dict[str, Any], Response | None]:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return {}, error(
                422,
                "invalid_request",
                "the body must be a JSON object",
                detail=[{"loc": ["body"], "msg": "expected a JSON object"}],
            )
        return data, None

    def admin_ok() -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return hmac.compare_digest(header[7:].strip(), cfg.admin_token)
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
            return user == "admin" and hmac.compare_digest(password, cfg.admin_token)
        return False

    def unauthorized() -> Response:
        answer = error(401, "unauthorized", "missing or wrong credentials")
        answer.headers["WWW-Authenticate"] = 'Basic realm="Northwind Admin Console"'
        return answer

    # -- health ---------------------------------------------------------------------------------
    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify({"status": "ok", "name": cfg.name, "version": cfg.version})

    # -- Administration Console --------------------------------------------------------------------
    @app.get("/admin/api/definitions")
    def list_definitions() -> ResponseReturnValue:
        if not admin_ok():
            return unauthorized()
        return jsonify({"definitions": engine.definitions()})

    @app.get("/admin/api/definitions/<name>")
    def one_definition(name: str) -> ResponseReturnValue:
        if not admin_ok():
            return unauthorized()
        for item in engine.definitions():
            if item["name"].lower() == name.lower():
                return jsonify(item)
        return error(404, "unknown_definition", f"no definition {name!r}: there are exactly All and External")

    immutable = "Secure Messaging Lite definitions cannot be created, changed or deleted"

    @app.post("/admin/api/definitions")
    def create_definition() -> ResponseReturnValue:
        if not admin_ok():
            return unauthorized()
        if on("definition-create-accepted"):
            data = request.get_json(silent=True) or {}
            name = str(data.get("name") or "Custom")
            engine.extra_definitions[name] = {
                "name": name,
                "description": str(data.get("description", "")),
                "attributes": engine.definition("All")["attributes"],
            }
            return jsonify(engine.extra_definitions[name]), 201
        return error(403, "definitions_immutable", immutable)

    @app.route("/admin/api/definitions/<name>", methods=["PUT", "PATCH", "DELETE"])
    def change_definition(name: str) -> ResponseReturnValue:
        if not admin_ok():
            return unauthorized()
        known = canonical_definition(name, cfg)
        if request.method == "DELETE" and on("definition-delete-accepted") and known:
            engine.deleted.add(known)
            return Response(status=204)
        if request.method != "DELETE" and on("definition-change-accepted") and known:
            data = request.get_json(silent=True) or {}
            engine.changed_descriptions[known] = str(data.get("description") or "changed by the administrator")
            return jsonify(engine.definition(known))
        return error(403, "definitions_immutable", immutable)

    @app.get("/admin/api/sm-portal/messages")
    def portal_index() -> ResponseReturnValue:
        if not admin_ok():
            return unauthorized()
        recipient = request.args.get("recipient", "")
        rows = store.all(
            "SELECT m.* FROM portal p JOIN messages m ON m.key = p.message_id "
            "WHERE lower(p.recipient) = lower(?) AND p.deleted = 0 ORDER BY m.sent_at",
            recipient,
        )
        return jsonify(
            {
                "items": [
                    {
                        "id": r["id"],
                        "subject": r["subject"],
                        "from": r["sender"],
                        "sent_at": r["sent_at"],
                        "definition": r["definition"],
                        "application": r["application"],
                    }
                    for r in rows
                ]
            }
        )

    def new_session(prefix: str, owner: str = "", internal_only: bool = False) -> ResponseReturnValue:
        """An administrator-issued session for the body's address (MPP, or the SM Portal's sign-in)."""
        if not admin_ok():
            return unauthorized()
        data, bad = body_json()
        if bad:
            return bad
        address = str(data.get("address", "")).strip()
        if not ADDRESS.match(address):
            return error(
                422,
                "invalid_request",
                "address must be an email address",
                detail=[{"loc": ["body", "address"], "msg": "not an email address"}],
            )
        if internal_only and not engine.is_internal(address):
            return error(403, "no_mpp_for_external", f"{address} is external: external users have no MPP")
        token = prefix + secrets.token_hex(16)
        with store.tx() as db:
            db.execute("INSERT INTO sessions VALUES (?, ?)", (token, owner + address))
        return jsonify({"session": token, "address": address}), 201

    @app.post("/admin/api/mpp-sessions")
    def mpp_session() -> ResponseReturnValue:
        return new_session("mpp-", internal_only=True)

    # -- SM Portal sign-in (Northwind's own API: users who reach the portal without a link) ---------
    @app.post("/admin/api/sm-portal-sessions")
    def portal_session() -> ResponseReturnValue:
        return new_session("sps-", owner="portal:")

    @app.get("/sm-portal/api/my/messages")
    def portal_mine() -> ResponseReturnValue:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        row = store.one("SELECT address FROM sessions WHERE token = ?", token) if token else None
        if row is None or not str(row["address"]).startswith("portal:"):
            return error(401, "unauthorized", "sign in first: POST /admin/api/sm-portal-sessions")
        address = str(row["address"])[len("portal:") :]
        rows = store.all(
            "SELECT p.token, m.subject, m.sent_at FROM portal p JOIN messages m ON m.key = p.message_id "
            "WHERE lower(p.recipient) = lower(?) AND p.deleted = 0 ORDER BY m.sent_at",
            address,
        )
        return jsonify(
            {
                "items": [
                    {"subject": r["subject"], "sent_at": r["sent_at"], "link": engine.portal_link(r["token"])}
                    for r in rows
                ]
            }
        )

    @app.get("/admin/api/clock")
    def clock() -> ResponseReturnValue:
        if not admin_ok():
            return unauthorized()
        return jsonify({"now": engine.now().isoformat(), "controllable": cfg.test_clock})

    @app.post("/admin/api/clock")
    def move_clock() -> ResponseReturnValue:
        if not admin_ok():
            return unauthorized()
        if not cfg.test_clock:
            return error(404, "clock_control_disabled", "start the gateway with test_clock = true")
        data, bad = body_json()
        if bad:
            return bad
        days = data.get("advance_days")
        if isinstance(days, bool) or not isinstance(days, (int, float)) or days < 0:
            return error(
                422,
                "invalid_request",
                "advance_days must be a number >= 0",
                detail=[{"loc": ["body", "advance_days"], "msg": "a number >= 0"}],
            )
        store.advance(float(days))
        return jsonify({"now": engine.now().isoformat()})

    @app.get("/admin")
    def admin_page() -> ResponseReturnValue:
        if not admin_ok():
            return unauthorized()
        rows = "".join(
            f"<h2>{html_lib.escape(d['name'])}</h2><p>{html_lib.escape(d['description'])}</p><table>"
            + "".join(
                f"<tr><th>{html_lib.escape(a['name'])}</th><td>{html_lib.escape(a['value'])}</td></tr>"
                for a in d["attributes"]
            )
            + "</table>"
            for d in engine.definitions()
        )
        return Response(
            f"<!doctype html><title>Northwind Admin Console</title><h1>Secure Messaging Lite definitions</h1>{rows}",
            mimetype="text/html",
        )

    # -- MPP ---------------------------------------------------------------------------------------
    def mpp_user() -> str | None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else request.cookies.get("mpp_session", "")
        row = store.one("SELECT address FROM sessions WHERE token = ?", token) if token else None
        return row["address"] if row else None

    @app.post("/mpp/api/messages")
    def mpp_send() -> ResponseReturnValue:
        user = mpp_user()
        if user is None:
            return error(401, "unauthorized", "no or unknown MPP session")
        data, bad = body_json()
        if bad:
            return bad
        problems = []
        to, cc = data.get("to"), data.get("cc") or []
        for key, value in (("to", to), ("cc", cc)):
            if not isinstance(value, list) or not all(isinstance(a, str) and ADDRESS.match(a) for a in value):
                problems.append({"loc": ["body", key], "msg": "a list of email addresses"})
        for key in ("subject", "text"):
            if not isinstance(data.get(key), str):
                problems.append({"loc": ["body", key], "msg": "a string"})
        if data.get("html") is not None and not isinstance(data.get("html"), str):
            problems.append({"loc": ["body", "html"], "msg": "a string or null"})
        headers = data.get("headers") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            problems.append({"loc": ["body", "headers"], "msg": "an object of strings"})
        if not isinstance(data.get("definition"), str):
            problems.append({"loc": ["body", "definition"], "msg": "All or External"})
        if not problems and not (to or cc):
            problems.append({"loc": ["body", "to"], "msg": "at least one recipient"})
        if problems:
            return error(422, "invalid_request", "the request does not validate", detail=problems)
        definition = canonical_definition(data["definition"], cfg)
        if definition is None:
            if on("alt-unknown-definition-as-all"):
                definition = "All"
            else:
                return error(
                    400,
                    "unknown_definition",
                    f"Unknown Secure Messaging definition "
                    f"'{data['definition']}': Secure Messaging Lite has exactly All, External",
                )
        if on("definitions-swapped-mpp"):
            definition = "External" if definition == "All" else "All"
        if len(to or []) + len(cc) > cfg.max_recipients:
            return error(400, "too_many_recipients", f"at most {cfg.max_recipients} recipients")
        msg = EmailMessage()
        msg["From"], msg["Subject"] = user, data["subject"]
        if to:
            msg["To"] = ", ".join(to)
        if cc:
            msg["Cc"] = ", ".join(cc)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=user.rpartition("@")[2])
        for name, value in headers.items():
            if name.lower() not in (
                "from",
                "to",
                "cc",
                "subject",
                "message-id",
                "date",
            ) and not name.lower().startswith(("content-", "x-sm-")):
                msg[name] = value
        msg.set_content(data["text"])
        if data.get("html"):
            msg.add_alternative(data["html"], subtype="html")
        if len(msg.as_bytes()) > cfg.max_message_bytes:
            return error(413, "too_large", "message too big")
        try:
            message_id = engine.accept(msg, user, list(to or []) + list(cc), "mpp", definition)
        except Refused as refused:
            return error(refused.http_status, refused.code, refused.message)
        return jsonify({"id": message_id}), 202

    def mpp_items(user: str) -> list[dict[str, Any]]:
        if on("t3-mpp-view-everyone"):
            rows = store.all("SELECT * FROM mpp ORDER BY id")
        else:
            rows = store.all("SELECT * FROM mpp WHERE lower(address) = lower(?) ORDER BY id", user)
        return [
            {
                "id": str(r["id"]),
                "kind": r["kind"],
                "from": r["sender"],
                "subject": r["subject"],
                "text": r["text"],
                "html": r["html"],
                "headers": json.loads(r["headers_json"]),
                "received_at": r["received_at"],
                "portal_url": r["portal_url"],
            }
            | (
                whole_message(r["raw"], f"{engine.base_url}/mpp/api/items/{r['id']}/attachments")
                if r["kind"] == BANNER
                else {}
            )
            for r in rows
        ]

    @app.get("/mpp/api/messages")
    def mpp_view() -> ResponseReturnValue:
        user = mpp_user()
        if user is None:
            return error(401, "unauthorized", "no or unknown MPP session")
        return jsonify({"items": mpp_items(user)})

    @app.get("/mpp/api/items/<int:item>/attachments/<int:number>")
    def mpp_attachment(item: int, number: int) -> ResponseReturnValue:
        user = mpp_user()
        if user is None:
            return error(401, "unauthorized", "no or unknown MPP session")
        row = store.one("SELECT address, raw FROM mpp WHERE id = ?", item)
        if row is None or str(row["address"]).lower() != user.lower():
            return error(404, "not_found", f"no MPP item {item} of yours")
        return download(row["raw"], number)

    @app.get("/mpp/login")
    def mpp_login() -> ResponseReturnValue:
        token = request.args.get("session", "")
        if not store.one("SELECT 1 FROM sessions WHERE token = ?", token):
            return error(401, "unauthorized", "unknown MPP session")
        answer = redirect("/mpp", code=303)
        answer.set_cookie("mpp_session", token, httponly=True, samesite="Lax")
        return answer

    @app.get("/mpp")
    def mpp_page() -> ResponseReturnValue:
        user = mpp_user()
        if user is None:
            return error(401, "unauthorized", "sign in through /mpp/login?session=...")
        items = "".join(
            f"<li><b>{html_lib.escape(i['subject'] or '')}</b> from {html_lib.escape(i['from'] or '')}"
            f" ({i['kind']})<pre>{html_lib.escape(i['text'] or '')}</pre></li>"
            for i in mpp_items(user)
        )
        return Response(
            f"<!doctype html><title>Northwind Personal Portal</title><h1>{html_lib.escape(user)}</h1><ul>{items}</ul>",
            mimetype="text/html",
        )

    # -- SM Portal ------------------------------------------------------------------------------------
    def portal_entry(token: str) -> tuple[Any, Any, Response | None]:
        row = store.one("SELECT * FROM portal WHERE token = ? AND deleted = 0", token)
        if row is None:
            return None, None, error(404, "not_found", "no such secure message")
        message = store.one("SELECT * FROM messages WHERE key = ?", row["message_id"])
        if message is None:
            return None, None, error(404, "not_found", "no such secure message")
        expires = expires_at(message)
        limit = None
        if on("expiry-enforced-silently"):
            limit = datetime.fromisoformat(message["sent_at"]) + timedelta(days=365)
        if expires is not None:
            limit = expires
        if limit is not None and engine.now() > limit:
            return None, None, error(410, "expired", "this secure message has expired")
        return row, message, None

    def expires_at(message: Any) -> datetime | None:
        if on("expiry-90-days"):
            return datetime.fromisoformat(message["sent_at"]) + timedelta(days=90)
        return None

    def permissions() -> dict[str, bool]:
        return {
            "print": on("print-allowed"),
            "reply": not on("reply-not-offered"),
            "reply_all": not on("reply-all-refused"),
        }

    def portal_json(row: Any, message: Any) -> dict[str, Any]:
        expires = expires_at(message)
        api = f"{engine.base_url}/sm-portal/api/messages/{row['token']}"
        answer: dict[str, Any] = {
            "id": message["id"],
            "from": message["sender"],
            "to": json.loads(message["to_json"]),
            "cc": json.loads(message["cc_json"]),
            "subject": message["subject"],
            "text": message["text"],
            "html": message["html"],
            "sent_at": message["sent_at"],
            "definition": message["definition"],
            "application": message["application"],
            "recipient": row["recipient"],
            "permissions": permissions(),
            "expires_at": expires.isoformat() if expires else None,
            "expiry": f"{expires.isoformat()}" if expires else "Never Expire",
        } | (whole_message(message["raw"], f"{api}/attachments") | {"raw_url": f"{api}/raw"} if message["raw"] else {})
        if on("whole-portal-drops-attachments") and "parts" in answer:
            kept = {a["path"] for a in answer["attachments"]}
            answer["parts"] = [p for p in answer["parts"] if p["path"] not in kept]
            answer["attachments"] = []
        if on("whole-portal-first-text-only") and "parts" in answer:
            answer["parts"] = [p for p in answer["parts"] if p["content_type"] == "text/plain"][:1]
            answer["attachments"] = []
        return answer

    def opened(row: Any, message: Any) -> None:
        if on("read-receipt-on-open") and row["receipt_to"]:
            engine.read_receipt(row, message)

    @app.get("/sm-portal/api/messages/<token>")
    def portal_message(token: str) -> ResponseReturnValue:
        row, message, bad = portal_entry(token)
        if bad:
            return bad
        opened(row, message)
        return jsonify(portal_json(row, message))

    @app.get("/sm-portal/api/messages/<token>/attachments/<int:number>")
    def portal_attachment(token: str, number: int) -> ResponseReturnValue:
        _row, message, bad = portal_entry(token)
        return bad if bad else download(message["raw"], number)

    @app.get("/sm-portal/api/messages/<token>/raw")
    def portal_raw(token: str) -> ResponseReturnValue:
        _row, message, bad = portal_entry(token)
        if bad:
            return bad
        if not message["raw"]:
            return error(404, "not_found", "this message was kept without its bytes")
        return Response(bytes(message["raw"]), mimetype="message/rfc822", headers=DOWNLOAD_HEADERS)

    @app.delete("/sm-portal/api/messages/<token>")
    def portal_delete(token: str) -> ResponseReturnValue:
        _row, _message, bad = portal_entry(token)
        if bad:
            return bad
        with store.tx() as db:
            db.execute("UPDATE portal SET deleted = 1 WHERE token = ?", (token,))
        return Response(status=204)

    @app.get("/sm-portal/api/inbox/<token>")
    def portal_inbox(token: str) -> ResponseReturnValue:
        row, _message, bad = portal_entry(token)
        if bad:
            return bad
        rows = store.all(
            "SELECT p.token, m.subject, m.sender, m.sent_at FROM portal p JOIN messages m "
            "ON m.key = p.message_id WHERE lower(p.recipient) = lower(?) AND p.deleted = 0 "
            "ORDER BY m.sent_at",
            row["recipient"],
        )
        return jsonify(
            {
                "recipient": row["recipient"],
                "items": [
                    {"token": r["token"], "subject": r["subject"], "from": r["sender"], "sent_at": r["sent_at"]}
                    for r in rows
                ],
            }
        )

    @app.post("/sm-portal/api/messages/<token>/print")
    def portal_print(token: str) -> ResponseReturnValue:
        _row, message, bad = portal_entry(token)
        if bad:
            return bad
        if on("print-allowed") or on("print-permission-not-enforced"):
            return jsonify({"status": "printed", "id": message["id"]})
        return error(403, "print_not_allowed", "Allow External Recipients to Print is False")

    def do_reply(token: str, reply_all: bool, text: Any, html: Any) -> tuple[str | None, Response | None]:
        row, message, bad = portal_entry(token)
        if bad:
            return None, bad
        if (reply_all and on("reply-all-refused")) or (not reply_all and on("reply-not-offered")):
            return None, error(403, "reply_not_allowed", "replying is not allowed")
        try:
            return engine.reply(row, message, text, html, reply_all), None
        except Refused as refused:
            return None, error(refused.http_status, refused.code, refused.message)

    def reply_api(token: str, reply_all: bool) -> ResponseReturnValue:
        data, bad = body_json()
        if bad:
            return bad
        if not isinstance(data.get("text"), str) or (
            data.get("html") is not None and not isinstance(data["html"], str)
        ):
            return error(
                422,
                "invalid_request",
                "text must be a string (html optional)",
                detail=[{"loc": ["body", "text"], "msg": "a string"}],
            )
        if len(data["text"].encode()) + len((data.get("html") or "").encode()) > cfg.max_message_bytes:
            return error(413, "too_large", "reply too big")
        message_id, bad = do_reply(token, reply_all, data["text"], data.get("html"))
        if bad:
            return bad
        return jsonify({"id": message_id}), 202

    @app.post("/sm-portal/api/messages/<token>/reply")
    def portal_reply(token: str) -> ResponseReturnValue:
        return reply_api(token, False)

    @app.post("/sm-portal/api/messages/<token>/reply-all")
    def portal_reply_all(token: str) -> ResponseReturnValue:
        return reply_api(token, True)

    def page(token: str) -> ResponseReturnValue:
        row, message, bad = portal_entry(token)
        if bad:
            return bad
        opened(row, message)
        perms = permissions()
        e = html_lib.escape
        controls = ""
        if perms["reply"]:
            controls += (
                f'<form method="post" action="/sm-portal/m/{e(token)}/reply"><textarea name="text">'
                "</textarea><button>Reply</button></form>"
            )
        if perms["reply_all"]:
            controls += (
                f'<form method="post" action="/sm-portal/m/{e(token)}/reply-all"><textarea name="text">'
                "</textarea><button>Reply all</button></form>"
            )
        if perms["print"] or on("print-button-in-page"):
            controls += '<button onclick="window.print()">Print</button>'
        expiry = "This message expires in 30 days." if on("expiry-shown-in-page") else "This message never expires."
        return Response(
            f"<!doctype html><title>Northwind Secure Messaging Portal</title><h1>{e(message['subject'])}</h1>"
            f"<p>From {e(message['sender'])} to {e(row['recipient'])}</p><pre>{e(message['text'] or '')}</pre>"
            f"<p>{expiry}</p><p>Printing: {'allowed' if perms['print'] else 'not allowed'}</p>{controls}",
            mimetype="text/html",
        )

    @app.get("/sm-portal/m/<token>")
    def portal_page(token: str) -> ResponseReturnValue:
        return page(token)

    @app.get("/secure/read/<token>")
    def portal_page_alt(token: str) -> ResponseReturnValue:  # the link pattern of behaviour alt-portal-link-pattern
        return page(token)

    def form_reply(token: str, reply_all: bool) -> ResponseReturnValue:
        text = request.form.get("text", "")
        _message_id, bad = do_reply(token, reply_all, text, None)
        return bad if bad else redirect(f"/sm-portal/m/{token}", code=303)

    @app.post("/sm-portal/m/<token>/reply")
    def form_reply_one(token: str) -> ResponseReturnValue:
        return form_reply(token, False)

    @app.post("/sm-portal/m/<token>/reply-all")
    def form_reply_all(token: str) -> ResponseReturnValue:
        return form_reply(token, True)

    return app
