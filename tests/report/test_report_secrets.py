"""Secrets stay out of the report: planted in a realistic run, absent from all four files once masked.

The real writer (harness/report/render.py write_report) writes results.json,
junit.xml, cucumber.json and index.html from a RunResults carrying planted
secrets in every place a run puts them: the profile settings (URL userinfo),
HTTP evidence (portal tokens in paths, an MPP session in a JSON answer, a
bearer header), a delivered email's body (portal links, a vendor's link
format), a cell's observation, a scenario message (``session=``). Unmasked
("--reveal-secrets") every one of them is there, which proves the planting.
"""

from __future__ import annotations

import html
from urllib.parse import quote

import pytest

from harness import results as R
from harness.profile.schema import TargetProfile
from harness.report.render import write_report
from harness.results.masking import Masker, mask_results, mask_run_results

from . import sample

ADMIN_TOKEN = "adm1n-T0ken-planted-6b1f2c"
HTTP_PASSWORD = "Pa55:w0rd!planted"
MAILPIT_PASSWORD = "MailpitPw-planted-99"
API_PASSWORD = "hunter2-planted"
PORTAL_TOKEN = "Pt0kenPlantedAAAAAAAAAAAAAAAAAAAA"
PORTAL_TOKEN_2 = "Pt0kenPlantedBBBBBBBBBBBBBBBBBBBB"
MPP_SESSION = "MppSessPlanted_CCCCCCCCCCCCCCCCCC"
MPP_SESSION_2 = "MppSessPlanted_DDDDDDDDDDDDDDDDDD"
VENDOR_TOKEN = "VendorLinkPlanted0123456789"
PLANTED = [
    ADMIN_TOKEN,
    HTTP_PASSWORD,
    MAILPIT_PASSWORD,
    API_PASSWORD,
    PORTAL_TOKEN,
    PORTAL_TOKEN_2,
    MPP_SESSION,
    MPP_SESSION_2,
    VENDOR_TOKEN,
]


def planted_profile() -> TargetProfile:
    return TargetProfile(
        name="Acme",
        driver="acme:Driver",
        target={
            "http": f"http://vendor:{quote(HTTP_PASSWORD, safe='')}@127.0.0.1:8080",
            "smtp": "127.0.0.1:2525",
            "admin_token": ADMIN_TOKEN,
            "api_password": API_PASSWORD,
        },
        mailpit={"api": f"http://mp:{MAILPIT_PASSWORD}@127.0.0.1:8025"},
    )


def planted_run() -> R.RunResults:
    profile = planted_profile()
    profile.classification = type(profile.classification)(portal_link=r"https://portal\.acme\.test/v/[A-Za-z0-9]{20,}")
    results = sample.full_run()
    results.run.target["profile_settings"] = profile.public_dict()  # URLs with userinfo, as runner records them
    results.run.target["profile"] = f"http://vendor:{quote(HTTP_PASSWORD, safe='')}@127.0.0.1:8080 profile"
    scenario = results.scenarios[0]
    scenario.evidence.append(
        R.Evidence(
            "e9",
            "http",
            f"GET /sm-portal/api/messages/{PORTAL_TOKEN} → 200",
            {
                "method": "GET",
                "url": f"http://127.0.0.1:8080/sm-portal/api/messages/{PORTAL_TOKEN}",
                "status": 200,
                "body": {"subject": "x", "token": PORTAL_TOKEN},
            },
        )
    )
    scenario.evidence.append(
        R.Evidence(
            "e10",
            "http",
            "POST /admin/api/mpp-sessions → 201",
            {
                "request": f"POST /admin/api/mpp-sessions Authorization: Bearer {ADMIN_TOKEN}",
                "answer": f'{{"session": "{MPP_SESSION}", "address": "ines@corp.example"}}',
            },
        )
    )
    scenario.evidence.append(
        R.Evidence(
            "e11",
            "email",
            "Notification delivered",
            {
                "text": f"Open http://127.0.0.1:8080/sm-portal/m/{PORTAL_TOKEN_2} or https://portal.acme.test/v/{VENDOR_TOKEN}",
                "html": f'<a href="http://127.0.0.1:8080/sm-portal/m/{PORTAL_TOKEN_2}">open</a>',
            },
        )
    )
    scenario.cells[0].observed = f"Notification with link http://127.0.0.1:8080/sm-portal/m/{PORTAL_TOKEN_2}"
    scenario.status = R.FAILED
    scenario.message = (
        f"GET http://127.0.0.1:8080/mpp/login?session={MPP_SESSION_2} answered 500; "
        f"admin token {ADMIN_TOKEN} refused; api password {API_PASSWORD}"
    )
    scenario.observed = f"mailpit at http://mp:{MAILPIT_PASSWORD}@127.0.0.1:8025 said nothing"
    return results


def report_text(folder) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(folder.iterdir()))


def variants(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), html.escape(secret), html.escape(secret, quote=False)}


def test_a_masked_report_holds_none_of_the_planted_secrets(tmp_path):
    masker = Masker.from_profile(
        planted_profile().to_dict()
        | {"classification": {"portal_link": r"https://portal\.acme\.test/v/[A-Za-z0-9]{20,}"}}
    )
    write_report(mask_run_results(planted_run(), masker), tmp_path / "masked")
    assert sorted(p.name for p in (tmp_path / "masked").iterdir()) == [
        "cucumber.json",
        "index.html",
        "junit.xml",
        "results.json",
    ]
    text = report_text(tmp_path / "masked")
    leaked = [s for s in PLANTED for form in variants(s) if form in text]
    assert leaked == []
    assert "…#" in text, "masked values are shown, not dropped"


def test_revealed_the_same_report_holds_every_planted_secret(tmp_path):
    write_report(planted_run(), tmp_path / "revealed")  # --reveal-secrets: no masking
    text = report_text(tmp_path / "revealed")
    missing = [s for s in PLANTED if not any(form in text for form in variants(s))]
    # the API password and admin token are already *** in profile_settings; they are planted elsewhere too
    assert missing == []


def test_equal_secrets_look_equal_and_different_ones_differ():
    masker = Masker(key=b"fixed")
    one = masker.text(f"/sm-portal/m/{PORTAL_TOKEN} and again /sm-portal/api/messages/{PORTAL_TOKEN}")
    first, second = [part.split("/")[-1] for part in one.split(" and again ")]
    assert first == second == masker.mask_value(PORTAL_TOKEN)
    assert first.startswith(PORTAL_TOKEN[:4] + "…#") and len(first) == 10
    assert masker.mask_value(PORTAL_TOKEN_2) != first
    assert Masker(key=b"other").mask_value(PORTAL_TOKEN) != first, "keyed: no lookup across reports"
    assert masker.mask_value("short-pw").startswith("…#"), "a short secret keeps no characters"


def test_masking_is_idempotent_and_leaves_ordinary_text_alone():
    masker = Masker.from_profile(planted_profile())
    data = {
        "a": f"Bearer {ADMIN_TOKEN}",
        "session_id": "whatever-value",
        "plain": "Secure message from Ines",
        "nested": [{"password": "x"}, f"session={MPP_SESSION}"],
        "n": 3,
        "none": None,
    }
    once = mask_results(data, masker)
    assert mask_results(once, masker) == once
    assert once["plain"] == "Secure message from Ines" and once["n"] == 3 and once["none"] is None
    assert once["nested"][0]["password"].startswith("…#")
    assert data["a"] == f"Bearer {ADMIN_TOKEN}", "the input is not changed"


@pytest.mark.parametrize(
    "text, secret",
    [
        ("http://u:p4ssw0rd@host/x", "u:p4ssw0rd"),
        ("Authorization: Basic YWRtaW46c2VjcmV0LXRva2Vu", "YWRtaW46c2VjcmV0LXRva2Vu"),
        ("Cookie: mpp_session=abcdefghijkl", "abcdefghijkl"),
        ('{"portal_token": "zzzzzzzzzzzz"}', "zzzzzzzzzzzz"),
        ("/sm-portal/api/inbox/Inb0xT0kenXXXXXXXX/", "Inb0xT0kenXXXXXXXX"),
    ],
)
def test_patterns_mask_what_the_target_hands_out(text, secret):
    assert secret not in Masker().text(text)


def test_for_report_masks_unless_revealed(tmp_path):
    from harness.results.masking import for_report

    run = planted_run()
    masked = for_report(run, planted_profile())
    assert ADMIN_TOKEN not in str(masked.to_dict()) and ADMIN_TOKEN in str(run.to_dict())
    assert masked.verdict() == run.verdict() and masked.exit_code() == run.exit_code()
    assert for_report(run, planted_profile(), reveal=True) is run


def test_a_report_made_with_reveal_secrets_says_so_in_its_header(tmp_path):
    run = planted_run()
    write_report(mask_run_results(run, Masker.from_profile(planted_profile().to_dict())), tmp_path / "masked")
    run.run.secrets_revealed = True
    write_report(run, tmp_path / "revealed")
    masked = (tmp_path / "masked" / "index.html").read_text(encoding="utf-8")
    revealed = (tmp_path / "revealed" / "index.html").read_text(encoding="utf-8")
    assert 'id="secrets-revealed"' not in masked
    header = revealed[revealed.index('id="secrets-revealed"') :][:300]
    assert "--reveal-secrets" in header and "do not share" in header
    assert revealed.index('id="secrets-revealed"') < revealed.index('id="verdict"')  # above the verdict
