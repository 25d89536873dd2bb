"""Every HTTP route of the contract, against the gateway process and a real Mailpit."""

import json
import re

import pytest
import requests
from gwtest import ADMIN_TOKEN, ROOT, notification_for, portal_token, uniq

from harness.gateway.__main__ import openapi_document

pytestmark = pytest.mark.sandbox

ALICE = "alice@corp.example"
IMMUTABLE = {
    "error": "definitions_immutable",
    "message": "Secure Messaging Lite definitions cannot be created, changed or deleted",
}
ATTRS = [
    {"name": "Allow External Recipients to Print", "value": "False"},
    {"name": "Allow External Recipients to Reply", "value": "True"},
    {"name": "Allow External Recipients to Reply All", "value": "True"},
    {"name": "Expire Secure Messages for External Recipients After", "value": "Never Expire"},
    {"name": "Send Read Receipt", "value": "No"},
]


def assert_error(r, status, code):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code and isinstance(body["message"], str) and body["message"]
    return body


# -- health, errors, OpenAPI -------------------------------------------------------------
def test_health_and_unknown_routes(gateway):
    r = gateway.get("/healthz")
    assert r.status_code == 200
    health = r.json()
    queue = health.pop("queue")  # an addition to the contract: the old keys unchanged
    assert health == {"status": "ok", "name": "smlite test gateway", "version": "0.1.0"}
    assert set(queue) == {"pending", "oldest_pending_age_s", "bounced"} and all(
        isinstance(v, int) for v in queue.values()
    )
    assert_error(gateway.get("/no/such/route"), 404, "not_found")
    assert_error(gateway.post("/healthz"), 405, "method_not_allowed")


def test_openapi_lists_every_route(gateway):
    paths = gateway.get("/openapi.json").json()["paths"]
    for p in (
        "/admin/api/definitions",
        "/admin/api/definitions/{name}",
        "/admin/api/sm-portal/messages",
        "/admin/api/mpp-sessions",
        "/admin/api/clock",
        "/mpp/api/messages",
        "/sm-portal/api/messages/{token}",
        "/sm-portal/api/inbox/{token}",
        "/sm-portal/api/messages/{token}/reply",
        "/sm-portal/api/messages/{token}/reply-all",
        "/sm-portal/api/messages/{token}/print",
        "/healthz",
    ):
        assert p in paths, p


def test_openapi_dump_matches_served(gateway):
    served = gateway.get("/openapi.json").json()
    assert served == json.loads(json.dumps(openapi_document()))
    assert served["components"]["schemas"]["HTTPValidationError"]["required"] == ["error", "message", "detail"]
    copy = ROOT / "docs" / "openapi.json"
    if copy.exists():  # docs/openapi.json: python -m harness.gateway --openapi > docs/openapi.json
        assert json.loads(copy.read_text()) == served


# -- Administration Console ----------------------------------------------------------------
def test_admin_auth(gateway):
    assert_error(gateway.get("/admin/api/definitions"), 401, "unauthorized")
    assert_error(gateway.get("/admin/api/definitions", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
    assert_error(gateway.get("/admin/api/definitions", auth=("admin", "wrong")), 401, "unauthorized")
    assert_error(gateway.get("/admin/api/no-such-thing"), 401, "unauthorized")
    assert gateway.get("/admin/api/definitions", auth=("admin", ADMIN_TOKEN)).status_code == 200
    r = gateway.get("/admin")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")


def test_definitions(gateway):
    r = gateway.admin("GET", "/admin/api/definitions")
    assert r.status_code == 200
    defs = r.json()["definitions"]
    assert [d["name"] for d in defs] == ["All", "External"]
    assert all(d["attributes"] == ATTRS and d["description"] for d in defs)
    one = gateway.admin("GET", "/admin/api/definitions/external")
    assert one.status_code == 200 and one.json()["name"] == "External"
    assert_error(gateway.admin("GET", "/admin/api/definitions/Internal"), 404, "unknown_definition")


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("POST", "/admin/api/definitions", {"name": "Internal", "attributes": ATTRS}),
        ("PUT", "/admin/api/definitions/All", {"name": "All", "attributes": []}),
        (
            "PATCH",
            "/admin/api/definitions/All",
            {"attributes": [{"name": "Allow External Recipients to Print", "value": "True"}]},
        ),
        ("DELETE", "/admin/api/definitions/External", None),
        ("PATCH", "/admin/api/definitions/Nope", {}),
    ],
)
def test_definitions_immutable(gateway, method, path, body):
    before = gateway.admin("GET", "/admin/api/definitions").json()
    r = gateway.admin(method, path, json=body)
    assert r.status_code == 403 and r.json() == IMMUTABLE
    assert gateway.admin("GET", "/admin/api/definitions").json() == before
    assert_error(requests.request(method, gateway.url + path, json=body, timeout=5), 401, "unauthorized")


def test_admin_html_page(gateway):
    r = gateway.get("/admin", auth=("admin", ADMIN_TOKEN))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Allow External Recipients to Print" in r.text and "External" in r.text
    assert "<script" not in r.text


def test_mpp_sessions(gateway):
    r = gateway.admin("POST", "/admin/api/mpp-sessions", json={"address": "dora@corp.example"})
    assert r.status_code == 201 and r.json()["address"] == "dora@corp.example" and len(r.json()["session"]) >= 32
    assert_error(
        gateway.admin("POST", "/admin/api/mpp-sessions", json={"address": "eve@ext.example"}),
        403,
        "no_mpp_for_external",
    )
    body = assert_error(gateway.admin("POST", "/admin/api/mpp-sessions", json={}), 422, "invalid_request")
    assert isinstance(body["detail"], list) and body["detail"]


def test_clock(gateway):
    r = gateway.admin("GET", "/admin/api/clock")
    assert r.status_code == 200 and r.json()["controllable"] is True
    assert_error(gateway.admin("POST", "/admin/api/clock", json={"advance_days": -1}), 422, "invalid_request")
    r2 = gateway.admin("POST", "/admin/api/clock", json={"advance_days": 0})
    assert r2.status_code == 200 and r2.json()["now"] >= r.json()["now"]


# -- MPP -------------------------------------------------------------------------------------
def test_mpp_send_and_views(gateway, mailpit):
    tag = uniq()
    me, peer, ext = f"{tag}.me@corp.example", f"{tag}.peer@corp.example", f"{tag}@ext.example"
    s_me, s_peer = gateway.mpp_session(me), gateway.mpp_session(peer)
    r = gateway.mpp_send(s_me, to=[peer, ext], subject=f"All {tag}", text="mpp body", definition="all")
    assert r.status_code == 202 and r.json()["id"]
    r = gateway.mpp_send(
        s_me, to=[peer], subject=f"Ext {tag}", text="mpp body 2", definition="External", html="<p>hi</p>"
    )
    assert r.status_code == 202
    msgs = mailpit.wait(tag, 3)
    subjects = sorted((m["To"], m["Sensitivity"] or "-") for m in msgs)
    assert subjects == sorted([(peer, "Private"), (ext, "Private"), (peer, "-")])
    items = gateway.mpp_items(s_peer)
    assert [i["kind"] for i in items] == ["notification", "email_with_banner"]
    assert items[0]["portal_url"] and "/sm-portal/m/" in items[0]["portal_url"]
    assert "mpp body" not in items[0]["text"]
    assert items[1]["text"].startswith("This message was sent securely") and "sm-banner" in items[1]["html"]
    assert items[1]["portal_url"]  # T3 row 4: in the SM Portal too
    assert gateway.mpp_items(s_me) == []  # isolation: the sender sees none of the peer's items
    assert len(gateway.portal_items(peer)) == 2 and len(gateway.portal_items(ext)) == 1
    # the portal page of the MPP user works from the link
    tok = items[0]["portal_url"].rsplit("/", 1)[1]
    assert gateway.get(f"/sm-portal/api/messages/{tok}").json()["text"] == "mpp body\n"  # bodies end with a line break


def test_mpp_isolation_between_sessions(gateway):
    tag = uniq()
    a, b, sender = f"{tag}.a@corp.example", f"{tag}.b@corp.example", f"{tag}.s@corp.example"
    sa, sb, ss = gateway.mpp_session(a), gateway.mpp_session(b), gateway.mpp_session(sender)
    assert gateway.mpp_send(ss, to=[a], subject=f"for a {tag}", text="A only", definition="External").status_code == 202
    assert gateway.mpp_send(ss, to=[b], subject=f"for b {tag}", text="B only", definition="External").status_code == 202
    ia, ib = gateway.mpp_items(sa), gateway.mpp_items(sb)
    assert [i["subject"] for i in ia] == [f"for a {tag}"] and [i["subject"] for i in ib] == [f"for b {tag}"]
    assert_error(requests.get(gateway.url + "/mpp/api/messages", timeout=5), 401, "unauthorized")
    assert_error(
        requests.get(gateway.url + "/mpp/api/messages", headers={"Authorization": "Bearer nope"}, timeout=5),
        401,
        "unauthorized",
    )


def test_mpp_send_errors(gateway):
    s = gateway.mpp_session("errs@corp.example")
    body = assert_error(gateway.mpp_send(s, to=[], subject="x", text="x", definition="All"), 422, "invalid_request")
    assert "recipient" in body["message"] and body["detail"]
    assert_error(
        gateway.mpp_send(s, to=["bad address"], subject="x", text="x", definition="All"), 422, "invalid_request"
    )
    assert_error(
        gateway.mpp_send(
            s, to=["a@ext.example"], subject="x", text="x", definition="All", headers={"Bcc": "x@ext.example"}
        ),
        422,
        "invalid_request",
    )
    assert_error(
        gateway.mpp_send(s, to=["a@ext.example"], subject="x", text="x", definition="Internal"),
        400,
        "unknown_definition",
    )
    many = [f"r{i}@ext.example" for i in range(101)]
    assert_error(gateway.mpp_send(s, to=many, subject="x", text="x", definition="All"), 400, "too_many_recipients")
    assert_error(
        gateway.mpp_send("wrong", to=["a@ext.example"], subject="x", text="x", definition="All"), 401, "unauthorized"
    )


def test_mpp_html_login(gateway):
    s = gateway.mpp_session("html.user@corp.example")
    sess = requests.Session()
    r = sess.get(gateway.url + f"/mpp/login?session={s}", timeout=5)  # a sign-in page with a POST form
    assert r.status_code == 200 and "html.user@corp.example" in r.text and "mpp_session" not in sess.cookies
    code = re.search(r'name="code" value="([^"]+)"', r.text).group(1)
    r = sess.post(gateway.url + "/mpp/login", data={"session": s, "code": code}, timeout=5)
    assert r.status_code == 200 and "html.user@corp.example" in r.text and r.url.endswith("/mpp")
    r = requests.get(gateway.url + "/mpp", headers={"Accept": "text/html"}, timeout=5)
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")


# -- SM Portal -----------------------------------------------------------------------------------
def _external_message(gateway, mailpit, definition="All", cc=(), to_extra=()):
    tag = uniq()
    ext = f"{tag}@ext.example"
    s = gateway.mpp_session(ALICE)
    r = gateway.mpp_send(
        s,
        to=[ext, *to_extra],
        cc=list(cc),
        subject=f"Portal <b>{tag}</b>",
        text="Portal body",
        html="<p onclick=x>hi</p><script>alert(1)</script>",
        definition=definition,
        headers={"Disposition-Notification-To": ALICE},
    )
    assert r.status_code == 202
    n = notification_for(mailpit, tag, ext, 1 + len(to_extra) + len(cc))
    return tag, ext, portal_token(n), r.json()["id"]


def test_portal_read_print_delete(gateway, mailpit):
    tag, ext, tok, mid = _external_message(gateway, mailpit)
    r = gateway.get(f"/sm-portal/api/messages/{tok}")
    assert r.status_code == 200
    m = r.json()
    assert m["id"] == mid and m["from"] == ALICE and m["to"] == [ext] and m["cc"] == []
    assert m["subject"] == f"Portal <b>{tag}</b>" and m["text"] == "Portal body\n"
    assert m["definition"] == "All" and m["application"] == "mpp" and m["recipient"] == ext
    assert m["permissions"] == {"print": False, "reply": True, "reply_all": True}
    assert m["expires_at"] is None and m["expiry"] == "Never Expire"
    inbox = gateway.get(f"/sm-portal/api/inbox/{tok}").json()
    assert inbox["recipient"] == ext and [i["token"] for i in inbox["items"]] == [tok]
    assert_error(gateway.post(f"/sm-portal/api/messages/{tok}/print"), 403, "print_not_allowed")
    # no read receipt was sent although one was asked for
    assert mailpit.count(tag) == 1
    page = gateway.get(f"/sm-portal/m/{tok}")
    assert page.status_code == 200
    assert f"Portal &lt;b&gt;{tag}&lt;/b&gt;" in page.text and "<script>" not in page.text
    assert "window.print" not in page.text and "/print" not in page.text  # no print control
    assert "forward" not in page.text.lower()
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # delete: the token is dead afterwards, same 404 as a guessed one
    assert requests.delete(gateway.url + f"/sm-portal/api/messages/{tok}", timeout=5).status_code == 204
    dead = assert_error(gateway.get(f"/sm-portal/api/messages/{tok}"), 404, "not_found")
    guessed = assert_error(gateway.get("/sm-portal/api/messages/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 404, "not_found")
    assert dead == guessed
    assert_error(requests.delete(gateway.url + f"/sm-portal/api/messages/{tok}", timeout=5), 404, "not_found")
    assert_error(gateway.post(f"/sm-portal/api/messages/{tok}/reply", json={"text": "x"}), 404, "not_found")
    assert gateway.get(f"/sm-portal/m/{tok}").status_code == 404


@pytest.mark.parametrize("definition,kind", [("All", "notification"), ("External", "email_with_banner")])
def test_portal_reply_threads(gateway, mailpit, definition, kind):
    tag, _ext, tok, mid = _external_message(gateway, mailpit, definition)
    r = gateway.post(f"/sm-portal/api/messages/{tok}/reply", json={"text": "my reply"})
    assert r.status_code == 202
    replies = [m for m in mailpit.wait(tag, 2) if m["To"] == ALICE]
    assert len(replies) == 1
    reply = replies[0]
    assert reply["In-Reply-To"] == f"<{mid}>"
    assert (reply["Sensitivity"] == "Private") == (kind == "notification")
    # T2: in the SM Portal of the internal recipient
    assert any(i["id"] == r.json()["id"] for i in gateway.portal_items(ALICE))


def test_portal_reply_all(gateway, mailpit):
    tag = uniq()
    cc = f"{tag}.cc@corp.example"
    other = f"{tag}.other@ext.example"
    tag, ext, tok, mid = _external_message(gateway, mailpit, "External", cc=[cc], to_extra=[other])
    r = gateway.post(f"/sm-portal/api/messages/{tok}/reply-all", json={"text": "to everyone"})
    assert r.status_code == 202
    msgs = [m for m in mailpit.wait(tag, 6) if m["In-Reply-To"] == f"<{mid}>"]
    got = sorted(str(m["To"]) for m in msgs if m["Sensitivity"] == "Private") + sorted(
        f"banner:{m['From']}" for m in msgs if m["Sensitivity"] != "Private"
    )
    # external 'other' gets a notification; alice and cc (internal, External definition) banners
    assert [g for g in got if not g.startswith("banner")] == [other]
    assert len([g for g in got if g.startswith("banner")]) == 2
    reply_id = r.json()["id"]
    assert [i["id"] for i in gateway.portal_items(other) if i["id"] == reply_id] == [reply_id]
    assert not any(m["To"] == ext for m in msgs)  # never to the replier
    assert reply_id not in {i["id"] for i in gateway.portal_items(ext)}


def test_portal_form_reply(gateway, mailpit):
    tag, _ext, tok, _mid = _external_message(gateway, mailpit)
    r = requests.post(
        gateway.url + f"/sm-portal/m/{tok}/reply", data={"text": "form reply"}, allow_redirects=False, timeout=5
    )
    assert r.status_code == 303 and r.headers["location"].startswith(f"/sm-portal/m/{tok}")
    r = requests.post(
        gateway.url + f"/sm-portal/m/{tok}/reply-all", data={"text": "form reply all"}, allow_redirects=True, timeout=5
    )
    assert r.status_code == 200 and "was sent" in r.text
    replies = [m for m in mailpit.wait(tag, 3) if m["To"] == ALICE]
    assert len(replies) == 2
    assert_error(gateway.post(f"/sm-portal/api/messages/{tok}/reply", json={}), 422, "invalid_request")
