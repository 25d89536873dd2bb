"""Pictures of what the recipients saw: masked before Chromium sees them, bounded in the page, hidden in print,
full size on a click; and from a real run, named on the evidence they show with no portal token in the page.

The browser tests use Debian's Chromium and fail, never skip, without it."""

from __future__ import annotations

import copy
import json
from email.message import EmailMessage
from pathlib import Path

import pytest

from harness import results as R
from harness.report import write_report
from harness.report.gallery import MAX_BYTES, MAX_SHOWN, gallery
from harness.report.pictures import CHROMIUM, Painter, view_page
from harness.results.masking import Masker
from tests.report.browser_check import BrowserUnavailable, print_report

from .sample import all_passed, full_run

TOKEN = "Zq8vX2mN4pL7rT1yB6cD9fH3jK5wE0aS"  # an SM Portal token, as the reference hands them out
SESSION = "mpp_session=9c1f4e7a2b8d6f3e5a7c"


def _mail() -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = "Secure Messaging <secure-messaging@corp.example>", "ida@example.org"
    message["Subject"] = "Secure message from ines@corp.example: Quarterly figures"
    link = f"https://gateway.example/sm-portal/m/{TOKEN}"
    message.set_content(f"Read it in the Secure Messaging Portal:\n{link}\n{SESSION}\n")
    message.add_alternative(
        f'<p>Read it in the <a href="{link}">Secure Messaging Portal</a>: {link}</p>', subtype="html"
    )
    return message.as_bytes()


def _portal() -> bytes:
    return json.dumps(
        {
            "subject": "Quarterly figures",
            "recipient": "ida@example.org",
            "permissions": {"print": False, "reply": True},
            "text": f"see /sm-portal/m/{TOKEN}",
            "expires_at": None,
        }
    ).encode()


def _portal_page() -> bytes:
    return (
        f'<html><body><h1>Quarterly figures</h1><a href="/sm-portal/m/{TOKEN}/print">Print</a>'
        f'<form action="/sm-portal/api/messages/{TOKEN}/reply?{SESSION}"></form></body></html>'
    ).encode()


@pytest.mark.parametrize(
    "column,raw",
    [("Mail Box", _mail()), ("Message in SM Portal", _portal()), ("SM Portal page", _portal_page())],
)
def test_what_chromium_is_given_holds_no_secret(column, raw):
    page = view_page(column, raw, Masker().text)
    assert TOKEN not in page and "9c1f4e7a2b8d6f3e5a7c" not in page
    assert "Quarterly figures" in page  # the rest is there
    assert "<script" not in page.lower()


def _pictures(folder: Path, count: int) -> list[Path]:
    painter = Painter(folder, Masker().text)
    for i in range(count):
        painter.submit(f"k{i}", "Mail Box", _mail())
    shots = painter.finish()
    if painter.problem:
        pytest.fail(f"the pictures need Chromium: {painter.problem}")
    return sorted(shots.values())


def _with_pictures(results: R.RunResults, run_dir: Path, shots: list[Path]) -> R.RunResults:
    """``results`` with a picture named on every email evidence (cycling through ``shots``), copied into run_dir."""
    results = copy.deepcopy(results)
    (run_dir / "pictures").mkdir(parents=True, exist_ok=True)
    n = 0
    for scenario in results.scenarios:
        for evidence in scenario.evidence:
            if evidence.kind == "email":
                name = f"pictures/p{n:04d}.jpg"
                (run_dir / name).write_bytes(shots[n % len(shots)].read_bytes())
                evidence.data["picture"] = name
                n += 1
    assert n > MAX_SHOWN / 2, n
    return results


@pytest.mark.browser
def test_the_page_keeps_its_bounds_and_prints_as_before(tmp_path):
    shots = _pictures(tmp_path / "shots", 3)
    assert all(p.read_bytes()[:3] == b"\xff\xd8\xff" for p in shots)
    failing = full_run()
    for scenario in failing.scenarios:  # every scenario with its evidence three times: more pictures than the bound
        scenario.evidence += [
            R.Evidence(e.id + copy_, e.kind, e.title, dict(e.data)) for copy_ in "bc" for e in list(scenario.evidence)
        ]
    results = _with_pictures(failing, tmp_path / "run", shots)
    shown = gallery(results, tmp_path / "run")
    assert len(shown.pictures) <= MAX_SHOWN and shown.bytes <= MAX_BYTES and shown.left_out > 0
    plain = write_report(failing, tmp_path / "plain")
    index = write_report(results, tmp_path / "run")
    try:
        with_pictures = print_report(index)
        without = print_report(plain)
        with_appendix = print_report(index, appendix=True)
        without_appendix = print_report(plain, appendix=True)
    except BrowserUnavailable as exc:
        pytest.fail(f"the browser test needs Chromium: {exc}")
    assert with_pictures["pages"] == without["pages"] <= 4
    assert with_appendix["pages"] == without_appendix["pages"]  # pictures are not printed
    assert all(url.startswith(("file:", "data:")) for url in with_pictures["requests"])
    assert index.stat().st_size - plain.stat().st_size <= MAX_BYTES * 4 / 3 + 64 * 1024  # base64 and captions


@pytest.mark.browser
def test_a_thumbnail_opens_full_size_and_links_its_evidence(tmp_path):
    shots = _pictures(tmp_path / "shots", 1)
    index = write_report(_with_pictures(all_passed(), tmp_path / "run", shots), tmp_path / "run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(index.as_uri())
        first = page.locator("#pictures figure.pic").first
        small = first.locator("img").bounding_box()
        first.locator("img").click()
        large = first.locator("img").bounding_box()
        target = first.locator("figcaption a").get_attribute("href")
        assert page.locator(f"[id='{target[1:]}']").count() == 1  # the evidence it shows
        browser.close()
    assert small and large and small["width"] <= 170 and large["width"] >= 500


def test_a_picture_outside_the_run_folder_or_not_a_jpeg_is_left_out(tmp_path):
    results = copy.deepcopy(all_passed())
    (tmp_path / "run" / "pictures").mkdir(parents=True)
    (tmp_path / "secret.jpg").write_bytes(b"\xff\xd8\xff" + b"0" * 100)
    (tmp_path / "run" / "pictures" / "fake.jpg").write_bytes(b"<svg onload=alert(1)>")
    emails = [e for s in results.scenarios for e in s.evidence if e.kind == "email"]
    emails[0].data["picture"], emails[1].data["picture"] = "../secret.jpg", "pictures/fake.jpg"
    shown = gallery(results, tmp_path / "run")
    assert shown.pictures == [] and shown.left_out == 2


@pytest.mark.browser
@pytest.mark.sandbox
def test_a_real_runs_pictures_are_named_on_their_evidence_and_show_no_token(tmp_path):
    from harness.conformance.runner import RunOptions, run

    code, results, index = run(RunOptions(select="T3", reports_dir=tmp_path / "reports", seed=4242, quiet=True))
    assert code == 0 and results is not None
    named = [e.data["picture"] for s in results.scenarios for e in s.evidence if e.data.get("picture")]
    assert 3 <= len(named) <= 24, named  # one per column and value seen in a passing run
    assert all((index.parent / name).is_file() for name in named)
    page = index.read_text(encoding="utf-8")
    assert page.count('<figure class="pic') == len(named)
    saved = json.loads((index.parent / "results.json").read_text(encoding="utf-8"))
    assert sum(1 for s in saved["scenarios"] for e in s["evidence"] if e["data"].get("picture")) == len(named)
    kinds = {e.title.split(" of ")[0] for s in results.scenarios for e in s.evidence if e.data.get("picture")}
    assert {"Mail Box", "MPP view", "SM Portal message"} <= kinds, kinds
