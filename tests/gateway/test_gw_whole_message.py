"""The whole message over HTTP, on the real gateway: the SM Portal's parts, attachments, raw message and
downloads (token rules: 404, 410), the MPP item's parts and attachments (session rules), and the
reference driver's ``portal_fetch`` (declared origins only)."""

from __future__ import annotations

import hashlib

import pytest
from gwtest import ADMIN_TOKEN, make_message, notification_for, portal_token, uniq, wait_until

from harness.drivers.reference import ReferenceDriver
from harness.errors import ForeignLink
from harness.profile.schema import TargetProfile

pytestmark = pytest.mark.sandbox

ALICE = "alice@corp.example"
DATA = bytes(range(256)) * 3


def _external(gateway, mailpit, definition="All"):
    tag = uniq()
    ext = f"{tag}@ext.example"
    raw = make_message(
        frm=ALICE, to=[ext], subject=f"W {tag}", html="<p>hi</p>", attachment=DATA, definition=definition
    )
    assert gateway.send(raw, ALICE, [ext])[0] == 250
    return portal_token(notification_for(mailpit, tag, ext))


def test_portal_answer_lists_parts_attachments_and_downloads(gateway, mailpit):
    token = _external(gateway, mailpit)
    body = gateway.get(f"/sm-portal/api/messages/{token}").json()
    assert [(p["path"], p["content_type"], p["alternative_of"]) for p in body["parts"]] == [
        ("1.1", "text/plain", "1"),
        ("1.2", "text/html", "1"),
        ("2", "application/octet-stream", None),
    ]
    [att] = body["attachments"]
    assert (att["name"], att["size"], att["sha256"]) == ("data.bin", len(DATA), hashlib.sha256(DATA).hexdigest())
    download = gateway.get(att["url"].removeprefix(gateway.url))
    assert download.status_code == 200 and download.content == DATA
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    raw = gateway.get(body["raw_url"].removeprefix(gateway.url))
    assert raw.status_code == 200 and raw.headers["content-type"] == "message/rfc822"
    assert b"X-SM-Definition" not in raw.content and b"Subject: W " in raw.content
    missing = gateway.get(f"/sm-portal/api/messages/{token}/attachments/2")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_downloads_follow_the_token_rules(gateway, mailpit):
    token = _external(gateway, mailpit)
    for suffix in ("raw", "attachments/1"):
        assert gateway.get(f"/sm-portal/api/messages/not-a-token/{suffix}").status_code == 404
    assert gateway.admin("DELETE", f"/sm-portal/api/messages/{token}").status_code == 204
    for suffix in ("raw", "attachments/1"):
        gone = gateway.get(f"/sm-portal/api/messages/{token}/{suffix}")
        assert gone.status_code == 404 and gone.json()["error"] == "not_found"


def test_expired_downloads_answer_410(start_gateway, mailpit):
    gw = start_gateway("expiring", variant="expire-30-days")
    token = _external(gw, mailpit)
    assert gw.get(f"/sm-portal/api/messages/{token}/raw").status_code == 200
    assert gw.admin("POST", "/admin/api/clock", json={"advance_days": 31}).status_code == 200
    for suffix in ("raw", "attachments/1"):
        expired = gw.get(f"/sm-portal/api/messages/{token}/{suffix}")
        assert expired.status_code == 410 and expired.json()["error"] == "expired"


def test_mpp_item_of_an_email_with_banner_has_parts_and_attachments(gateway, mailpit):
    tag = uniq()
    bob = f"{tag}@corp.example"
    raw = make_message(frm=ALICE, to=[bob], subject=f"W {tag}", attachment=DATA, definition="External")
    assert gateway.send(raw, ALICE, [bob])[0] == 250
    session = gateway.mpp_session(bob)
    [item] = wait_until(lambda: gateway.mpp_items(session), what="the MPP item")
    assert item["kind"] == "email_with_banner"
    assert item["parts"][0]["text"].startswith("This message was sent securely")
    [att] = item["attachments"]
    assert att["sha256"] == hashlib.sha256(DATA).hexdigest()
    path = att["url"].removeprefix(gateway.url)
    assert gateway.get(path).status_code == 401
    mine = gateway.get(path, headers={"Authorization": f"Bearer {session}"})
    assert mine.status_code == 200 and mine.content == DATA
    other = gateway.mpp_session(f"other{tag}@corp.example")
    assert gateway.get(path, headers={"Authorization": f"Bearer {other}"}).status_code == 404


def test_reference_driver_fetches_only_on_declared_origins(gateway, mailpit):
    token = _external(gateway, mailpit)
    profile = TargetProfile(
        name="t",
        capabilities=["sm-portal", "sm-portal-whole-message"],
        target={"http": gateway.url, "admin_token": ADMIN_TOKEN},
    )
    driver = ReferenceDriver(profile)
    assert "sm-portal-whole-message" in driver.capabilities
    body = driver.portal_open(f"{gateway.url}/sm-portal/m/{token}").body
    raw = driver.portal_fetch(body["raw_url"])
    assert raw.status == 200 and raw.text == "message/rfc822" and b"Subject: W " in raw.body
    got = driver.portal_fetch(body["attachments"][0]["url"])
    assert got.status == 200 and got.body == DATA
    with pytest.raises(ForeignLink):
        driver.portal_fetch(f"http://elsewhere.example/sm-portal/api/messages/{token}/raw")
