"""Each deliberately broken variant is observable in a quick check.

Variants that change HTTP behaviour, plus one policy and one composer variant
(to prove the config -> variant wiring), run against real gateway processes,
all launched at once (module fixture) to keep the run short. The remaining
policy/composer variants are observed by unit tests (UNIT_CHECKS).
"""

import inspect
import signal

import pytest
import test_gw_banner
import test_gw_composer
import test_gw_policy
from gwtest import Gateway, make_message, notification_for, portal_token, uniq

from harness.gateway.variants import ALTERNATIVES, VARIANTS

pytestmark = pytest.mark.sandbox

ALICE = "alice@corp.example"
ENV_OVERRIDDEN = "third-definition"  # selected through SMLITE_GATEWAY_VARIANT, not the config


UNIT_CHECKS = {
    "mpp-external-banner": test_gw_policy.test_variant_mpp_external_banner,
    "table2-swapped": test_gw_policy.test_variant_table2_swapped,
    "office-internal-notification": test_gw_policy.test_variant_office_internal_notification,
    "unknown-definition-accepted": test_gw_policy.test_variant_unknown_definition_accepted,
    "notification-with-body": test_gw_composer.test_notification_variants,
    "portal-drops-attachments": test_gw_banner.test_variant_portal_drops_attachments,
    "portal-first-text-part-only": test_gw_banner.test_variant_portal_first_text_part_only,
    "banner-in-enclosed-messages": test_gw_banner.test_variant_banner_in_enclosed_messages,
    "banner-inside-report-parts": test_gw_banner.test_variant_banner_inside_report_parts,
    "no-banner-without-text-part": test_gw_banner.test_variant_no_banner_without_text_part,
    "attachment-altered": test_gw_banner.test_variant_attachment_altered,
}


def integration_tested() -> set[str]:
    return {
        name[5:].replace("_", "-")
        for name, obj in globals().items()
        if name.startswith("test_") and inspect.isfunction(obj) and name != "test_every_variant_is_checked"
    }


@pytest.fixture(scope="module")
def variants(mailpit, tmp_path_factory):
    gws: dict[str, Gateway] = {}
    try:
        for name in sorted(integration_tested()):
            gw = Gateway(tmp_path_factory.mktemp(f"variant-{name}"), mailpit.smtp_port)
            if name == ENV_OVERRIDDEN:
                gw.cfg["variant"] = "print-allowed"
                gw.env_extra["SMLITE_GATEWAY_VARIANT"] = name
            else:
                gw.cfg["variant"] = name
            gws[name] = gw.launch()
        for gw in gws.values():
            gw.wait_ready()
        yield gws
    finally:
        for gw in gws.values():  # stop them all at once
            if gw.proc and gw.proc.poll() is None:
                gw.proc.send_signal(signal.SIGTERM)
        for gw in gws.values():
            gw.stop()


def test_every_variant_is_checked():
    assert integration_tested() | set(UNIT_CHECKS) == set(VARIANTS) | set(ALTERNATIVES)
    assert not integration_tested() & set(UNIT_CHECKS)


def _mpp_to(gw, mailpit, rcpt, definition="All", **kw):
    tag = uniq()
    s = gw.mpp_session(ALICE)
    r = gw.mpp_send(s, to=[rcpt.format(tag=tag)], subject=f"V {tag}", text="variant body", definition=definition, **kw)
    assert r.status_code == 202, r.text
    return tag, rcpt.format(tag=tag)


def _external_token(gw, mailpit, definition="All", **kw):
    tag, ext = _mpp_to(gw, mailpit, "{tag}@ext.example", definition, **kw)
    return tag, ext, portal_token(notification_for(mailpit, tag, ext))


def test_mpp_not_in_portal(variants, mailpit):
    gw = variants["mpp-not-in-portal"]
    _tag, ext, token = _external_token(gw, mailpit)
    assert gw.get(f"/sm-portal/api/messages/{token}").status_code == 404
    assert gw.portal_items(ext) == []


def test_print_allowed(variants, mailpit):
    gw = variants["print-allowed"]
    _tag, _ext, token = _external_token(gw, mailpit)
    assert gw.get(f"/sm-portal/api/messages/{token}").json()["permissions"]["print"] is True
    assert gw.post(f"/sm-portal/api/messages/{token}/print").status_code == 200


def test_no_reply_all(variants, mailpit):
    gw = variants["no-reply-all"]
    _tag, _ext, token = _external_token(gw, mailpit)
    assert gw.get(f"/sm-portal/api/messages/{token}").json()["permissions"]["reply_all"] is False
    assert gw.post(f"/sm-portal/api/messages/{token}/reply-all", json={"text": "x"}).status_code == 403


def test_read_receipt(variants, mailpit):
    gw = variants["read-receipt"]
    tag, _ext, token = _external_token(gw, mailpit, headers={"Disposition-Notification-To": ALICE})
    assert gw.get(f"/sm-portal/api/messages/{token}").status_code == 200
    msgs = mailpit.wait(tag, 2)
    assert any(str(m["Subject"]).startswith("Read:") and m["To"] == ALICE for m in msgs)


def test_expire_30_days(variants, mailpit):
    gw = variants["expire-30-days"]
    _tag, _ext, token = _external_token(gw, mailpit)
    m = gw.get(f"/sm-portal/api/messages/{token}").json()
    assert m["expiry"] == "30 days" and m["expires_at"]
    assert gw.admin("POST", "/admin/api/clock", json={"advance_days": 31}).status_code == 200
    r = gw.get(f"/sm-portal/api/messages/{token}")
    assert r.status_code == 410 and r.json()["error"] == "expired"


def test_definition_editable(variants):
    gw = variants["definition-editable"]
    body = {"attributes": [{"name": "Allow External Recipients to Print", "value": "True"}]}
    r = gw.admin("PATCH", "/admin/api/definitions/All", json=body)
    assert r.status_code == 200
    attrs = gw.admin("GET", "/admin/api/definitions/All").json()["attributes"]
    assert {"name": "Allow External Recipients to Print", "value": "True"} in attrs


def test_internal_as_external(variants, mailpit):
    gw = variants["internal-as-external"]
    tag = uniq()
    rcpt = f"{tag}@corp.example"
    assert gw.send(make_message(frm=ALICE, to=[rcpt], subject=f"V {tag}"), ALICE, [rcpt])[0] == 250
    [m] = mailpit.wait(tag)
    assert m["Sensitivity"] == "Private"  # a notification instead of the banner


def test_third_definition(variants):
    r = variants["third-definition"].admin("GET", "/admin/api/definitions")
    assert [d["name"] for d in r.json()["definitions"]] == ["All", "External", "Internal"]
    # selected through the environment: the config's variant (print-allowed) is overridden
    assert "variant third-definition" in variants["third-definition"].log_text()


def test_no_private_marker(variants, mailpit):
    gw = variants["no-private-marker"]
    tag, _ext = _mpp_to(gw, mailpit, "{tag}@ext.example")
    [m] = mailpit.wait(tag)
    assert "/sm-portal/m/" in m.get_body(("plain",)).get_content() and m["Sensitivity"] is None


def test_fourth_recipient_forgotten(variants, mailpit):
    gw = variants["fourth-recipient-forgotten"]
    tag = uniq()
    rcpts = [f"{tag}.{n}@ext.example" for n in range(1, 5)]
    assert gw.send(make_message(frm=ALICE, to=rcpts, subject=f"V {tag}"), ALICE, rcpts)[0] == 250
    for rcpt in rcpts[:3]:
        notification_for(mailpit, tag, rcpt)
    assert gw.portal_items(rcpts[3]) == [] and len(gw.portal_items(rcpts[2])) == 1
    assert mailpit.count(tag) == 3, "the fourth recipient got nothing"


def test_print_allowed_after_a_year(variants, mailpit):
    gw = variants["print-allowed-after-a-year"]
    _tag, _ext, token = _external_token(gw, mailpit)
    assert gw.post(f"/sm-portal/api/messages/{token}/print").status_code == 403
    assert gw.admin("POST", "/admin/api/clock", json={"advance_days": 366}).status_code == 200
    assert gw.get(f"/sm-portal/api/messages/{token}").json()["permissions"]["print"] is True
    assert gw.post(f"/sm-portal/api/messages/{token}/print").status_code == 200


def test_reply_refused_after_90_days(variants, mailpit):
    gw = variants["reply-refused-after-90-days"]
    _tag, _ext, token = _external_token(gw, mailpit)
    assert gw.get(f"/sm-portal/api/messages/{token}").json()["permissions"]["reply"] is True
    assert gw.admin("POST", "/admin/api/clock", json={"advance_days": 91}).status_code == 200
    assert gw.get(f"/sm-portal/api/messages/{token}").json()["permissions"]["reply"] is False
    assert gw.post(f"/sm-portal/api/messages/{token}/reply", json={"text": "x"}).status_code == 403


def test_bcc_internal_plain(variants, mailpit):
    gw = variants["bcc-internal-plain"]
    tag = uniq()
    named, blind = f"{tag}.to@corp.example", f"{tag}.bcc@corp.example"
    assert gw.send(make_message(frm=ALICE, to=[named], subject=f"V {tag}"), ALICE, [named, blind])[0] == 250
    bodies = [m.get_body(("plain",)).get_content() for m in mailpit.wait(tag, 2)]
    assert sum("sent securely" in b for b in bodies) == 1, bodies  # only the named one has the banner
