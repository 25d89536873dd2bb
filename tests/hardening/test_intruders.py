"""Intruders, counted: portal tokens, other people's messages, print, definitions, relaying, XSS.

Every attempt is counted (``tally.intrusion``) and must be refused: the
tests fail on the first success. Tokens: at least 128 bits from the CSPRNG,
all different. Someone else's token, guessed and mutated tokens, a token
replayed after its message was deleted, an internal user looking at another
user's MPP: refused. Print: refused in the JSON API, absent from the HTML page
(and the page prints blank). Definitions: unchanged whatever route, method,
override header, form or spelling is tried - and the same probes catch the
broken variant 'definition-editable' (in process), so they can fail. The
submission port relays nothing for an outside envelope sender, and a forged
header From never becomes the sender the gateway vouches for. XSS payloads in
subject, display names and body run 0 times in headless Chromium on the SM
Portal page, the MPP page, the Administration Console and the report.
"""

from __future__ import annotations

import ast
import base64
import copy
import re
import secrets
from collections import Counter
from pathlib import Path

import pytest
import requests

from harness import results as R
from harness.report import write_report
from harness.source_model import source
from tests.report.browser_check import CHROMIUM, CHROMIUM_ARGS, BrowserUnavailable, check_report_in_browser

from .support import INTERNAL, SENDER, Target, gwtest, marker

pytestmark = pytest.mark.sandbox

GATEWAY_SOURCE = Path(__file__).resolve().parents[2] / "harness" / "gateway"
TOKEN_RE = re.compile(r"/sm-portal/m/([A-Za-z0-9_-]+)")


class Attempts:
    """``attempt(kind, refused, detail)`` counts one intrusion attempt; ``check()`` fails on any success."""

    def __init__(self, tally) -> None:
        self.tally = tally
        self.succeeded: list[str] = []

    def __call__(self, kind: str, refused: bool, detail: object = "", variety: str | None = None) -> None:
        """`variety`: what makes this attempt a different kind (default: its detail, else one per category)."""
        self.tally.intrusion(kind, bool(refused), variety or (str(detail) if detail else None))
        if not refused:
            self.succeeded.append(f"{kind}: {detail}")

    def check(self) -> None:
        assert self.succeeded == [], f"{len(self.succeeded)} intrusion attempts succeeded: {self.succeeded[:10]}"


def notification_token(target: Target, address: str, tag: str) -> str:
    [note] = target.mailbox.wait_for_messages(address, 1, 30, predicate=lambda m: tag in m.subject)
    return TOKEN_RE.search(note.text).group(1)


def send(target: Target, tag: str, to: list[str], **kw) -> None:
    raw = gwtest.make_message(frm=kw.pop("frm", SENDER), to=to, subject=kw.pop("subject", f"Intruder {tag}"), **kw)
    code, text = target.gw.send(raw, SENDER, to)
    assert code == 250, text


# -- tokens ---------------------------------------------------------------------------------------


def test_portal_tokens_are_long_random_and_unique(target, tally):
    tag = marker("tk")
    rcpts = [f"t{i:03d}.{tag}@ext.example" for i in range(100)]
    send(target, tag, rcpts[:1], subject=f"Tokens {tag}")  # 1 notification, then 99 more in one message
    send(target, tag, rcpts[1:], subject=f"Tokens {tag}")
    ledger = target.ledger()
    for rcpt in rcpts:
        ledger.ack(rcpt, tag)
    found = ledger.settle()
    tokens = [TOKEN_RE.search(messages[0].text).group(1) for messages in found.values()]
    tokens += [
        target.mpp_session(f"u{i:02d}.{tag}@{INTERNAL}") for i in range(50)
    ]  # MPP sessions are bearer tokens too
    tally.examples("portal tokens and MPP sessions sampled", len(tokens))
    assert len(set(tokens)) == len(tokens), "two tokens are equal"
    raw = [base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)) for t in tokens]
    assert min(len(b) for b in raw) * 8 >= 128, f"a token carries {min(len(b) for b in raw) * 8} bits"
    bits = "".join(f"{byte:08b}" for b in raw for byte in b)
    ones = bits.count("1") / len(bits)
    assert abs(ones - 0.5) < 4 * 0.5 / len(bits) ** 0.5, f"bit balance {ones:.4f} is not random-like"
    for position in range(min(len(b) for b in raw)):
        distinct = len({b[position] for b in raw})
        assert distinct >= 80, f"byte {position} takes only {distinct} values over {len(raw)} tokens (counter-like)"
    prefixes = Counter(t[:6] for t in tokens)
    assert prefixes.most_common(1)[0][1] == 1, f"tokens share a 6-character prefix: {prefixes.most_common(1)}"


def test_tokens_come_from_the_csprng():
    """Every token and session the gateway makes comes from `secrets`; nothing in it imports `random`."""
    makers = []
    for path in GATEWAY_SOURCE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert "random" not in names, f"{path.name} imports random"
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "secrets"
            ):
                makers.append((path.name, node.func.attr, ast.literal_eval(node.args[0]) if node.args else None))
    token_makers = [m for m in makers if m[0] == "service.py"]
    assert token_makers and all(attr == "token_urlsafe" and n >= 16 for _, attr, n in token_makers), token_makers


# -- other people's messages ----------------------------------------------------------------------------


def _refused(r: requests.Response, *secrets_: str) -> bool:
    """A 4xx that gives nothing away."""
    return 400 <= r.status_code < 500 and not any(s in r.text for s in secrets_)


def test_tokens_of_others_guessed_and_replayed_are_refused(target, tally):
    attempt = Attempts(tally)
    tag = marker("ot")
    bob, carol = f"bob.{tag}@ext.example", f"carol.{tag}@ext.example"
    send(target, tag, [bob, carol], text=f"secret body {tag}\n")
    tb, tc = notification_token(target, bob, tag), notification_token(target, carol, tag)
    gw = target.gw

    # another recipient's message through Bob's token
    inbox = gw.get(f"/sm-portal/api/inbox/{tb}").json()
    attempt("another recipient's token", tc not in str(inbox) and inbox["recipient"] == bob)
    for query in (f"?recipient={carol}", f"?token={tc}", f"?id={tc}"):
        r = gw.get(f"/sm-portal/api/messages/{tb}{query}")
        attempt("another recipient's token", r.json()["recipient"] == bob)
    for r in (
        gw.get("/mpp/api/messages", headers={"Authorization": f"Bearer {tb}"}),
        gw.get("/admin/api/definitions", headers={"Authorization": f"Bearer {tb}"}),
        gw.get(
            "/admin/api/sm-portal/messages",
            params={"recipient": carol},
            headers={"Authorization": "Basic " + base64.b64encode(f"admin:{tb}".encode()).decode()},
        ),
        gw.get("/mpp/login", params={"session": tb}, allow_redirects=False),
    ):
        attempt("another recipient's token", _refused(r, tag), f"{r.request.method} {r.url} -> {r.status_code}")

    # guessed and mutated tokens, on every token route
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    mutations = {tb[:i] + alphabet[(alphabet.index(c) + 1) % 64] + tb[i + 1 :] for i, c in enumerate(tb)}
    mutations |= {
        tb[:-1],
        tb[:22],
        tb + "A",
        tb.swapcase(),
        tb[::-1],
        "%",
        "_",
        "*",
        "' OR '1'='1",
        tb[:10] + "%",
        "",
        " ",
        "null",
        "0",
    }
    # random 192-bit guesses cannot match (2^-192 each): a few per route show the routes refuse them, no more
    random_guesses = 24
    guesses = [secrets.token_urlsafe(24) for _ in range(random_guesses)] + sorted(mutations - {tb, tc})
    routes = [
        ("GET", "/sm-portal/api/messages/{}"),
        ("GET", "/sm-portal/api/inbox/{}"),
        ("GET", "/sm-portal/m/{}"),
        ("POST", "/sm-portal/api/messages/{}/reply"),
        ("POST", "/sm-portal/api/messages/{}/print"),
        ("DELETE", "/sm-portal/api/messages/{}"),
    ]

    def guess_kind(i: int, guess: str) -> str:
        if i < random_guesses:
            return "random 192-bit"
        if len(guess) == len(tb) and guess not in (tb.swapcase(), tb[::-1]):
            return "one character changed"
        if tb.startswith(guess) and guess:
            return "truncated"
        if guess.startswith(tb):
            return "extended"
        if guess in (tb.swapcase(), tb[::-1]):
            return "case-swapped or reversed"
        return "wildcard, injection or blank"

    with requests.Session() as http:
        for i, guess in enumerate(guesses):
            method, route = routes[i % len(routes)] if i < random_guesses else ("GET", "/sm-portal/api/messages/{}")
            for m, rt in [(method, route)] if i < random_guesses else routes:
                r = http.request(m, target.http + rt.format(guess), json={"text": "hi"}, timeout=10)
                attempt(
                    "guessed or mutated token",
                    _refused(r, tag),
                    f"{m} {rt.format(guess)} -> {r.status_code}",
                    variety=f"{guess_kind(i, guess)}: {m} {rt.format('{token}')} -> {r.status_code}",
                )
    assert gw.get(f"/sm-portal/api/messages/{tb}").status_code == 200, "Bob's own token must still work"

    # Carol deletes her message; her token replayed afterwards
    assert gw.admin("GET", "/admin/api/sm-portal/messages", params={"recipient": carol}).json()["items"]
    assert requests.delete(f"{target.http}/sm-portal/api/messages/{tc}", timeout=10).status_code == 204
    replays = [
        ("GET", f"/sm-portal/api/messages/{tc}", None),
        ("GET", f"/sm-portal/api/inbox/{tc}", None),
        ("GET", f"/sm-portal/m/{tc}", None),
        ("POST", f"/sm-portal/api/messages/{tc}/reply", {"text": "x"}),
        ("POST", f"/sm-portal/api/messages/{tc}/reply-all", {"text": "x"}),
        ("POST", f"/sm-portal/api/messages/{tc}/print", None),
        ("DELETE", f"/sm-portal/api/messages/{tc}", None),
    ]
    for method, path, body in replays:
        r = requests.request(method, target.http + path, json=body, timeout=10)
        attempt("token replayed after delete", _refused(r, tag), f"{method} {path} -> {r.status_code}")
    r = requests.post(f"{target.http}/sm-portal/m/{tc}/reply", data={"text": "x"}, allow_redirects=False, timeout=10)
    attempt("token replayed after delete", _refused(r, tag))
    assert gw.portal_items(carol) == []
    target.roundtrip()  # later mail went through: a reply through a dead token would have too
    assert [m for m in target.mailbox.messages_to(SENDER) if tag in m.subject] == [], "a reply went out"
    attempt.check()


def test_an_internal_user_cannot_see_another_users_mpp(target, tally):
    attempt = Attempts(tally)
    tag, secret = marker("mp"), marker("es")  # the tag is in the addresses, the secret only in Erin's mail
    dave, erin = f"dave.{tag}@{INTERNAL}", f"erin.{tag}@{INTERNAL}"
    send(target, secret, [erin], subject=f"For Erin only {secret}", text=f"erin secret {secret}\n")
    session_alice = target.mpp_session(SENDER)
    assert (
        target.gw.mpp_send(
            session_alice, to=[erin], subject=f"MPP for Erin {secret}", text="x", definition="All"
        ).status_code
        == 202
    )
    sd, se = target.mpp_session(dave), target.mpp_session(erin)
    assert len(target.gw.mpp_items(se)) == 2, "Erin's own MPP must show her two messages"
    erin_token = notification_token(target, erin, f"MPP for Erin {secret}")
    api = target.http + "/mpp/api/messages"
    attempts = [
        requests.get(api, headers={"Authorization": f"Bearer {sd}"}, params={"user": erin}, timeout=10),
        requests.get(
            api, headers={"Authorization": f"Bearer {sd}"}, params={"owner": erin, "address": erin}, timeout=10
        ),
        requests.get(
            api,
            headers={"Authorization": f"Bearer {sd}", "X-Forwarded-User": erin, "X-User": erin, "X-Remote-User": erin},
            timeout=10,
        ),
        requests.get(api, cookies={"mpp_session": sd}, params={"user": erin}, timeout=10),  # bearer only
        requests.get(api, headers={"Authorization": f"Bearer {erin}"}, timeout=10),
        requests.get(api, headers={"Authorization": f"Bearer {erin_token}"}, timeout=10),
        requests.get(api, headers={"Authorization": f"Bearer {gwtest.ADMIN_TOKEN}"}, timeout=10),
        requests.get(
            api, headers={"Authorization": f"Basic {base64.b64encode(f'{erin}:'.encode()).decode()}"}, timeout=10
        ),
        requests.get(target.http + "/mpp", cookies={"mpp_session": sd}, params={"user": erin}, timeout=10),
        requests.get(target.http + "/mpp/login", params={"session": erin_token}, allow_redirects=False, timeout=10),
        requests.get(target.http + "/mpp/login", params={"session": erin}, allow_redirects=False, timeout=10),
        requests.post(
            target.http + "/admin/api/mpp-sessions",
            json={"address": erin},
            timeout=10,
            headers={"Authorization": f"Bearer {sd}"},
        ),
    ]
    for r in attempts:
        attempt(
            "someone else's MPP",
            secret not in r.text and r.status_code in (200, 401, 403),
            f"{r.request.method} {r.url} -> {r.status_code}",
        )
    attempt.check()


# -- print -------------------------------------------------------------------------------------------


def test_print_is_refused_in_json_and_absent_from_html(target, tally):
    attempt = Attempts(tally)
    tag = marker("pr")
    for definition in ("All", "External"):
        rcpt = f"{definition.lower()}.{tag}@ext.example"
        send(target, f"{tag}{definition}", [rcpt], subject=f"Print {tag}{definition}", definition=definition)
        token = notification_token(target, rcpt, f"{tag}{definition}")
        view = target.gw.get(f"/sm-portal/api/messages/{token}").json()
        attempt("print", view["permissions"]["print"] is False)
        r = target.gw.post(f"/sm-portal/api/messages/{token}/print")
        attempt("print", r.status_code == 403 and r.json()["error"] == "print_not_allowed")
        page = target.gw.get(f"/sm-portal/m/{token}", headers={"Accept": "text/html"}).text
        controls = re.findall(r"<(?:button|a|form|input)\b[^>]*>[^<]*", page, re.I)
        printing = [c for c in controls if "print" in c.lower()]
        attempt("print", printing == [] and "window.print" not in page and "/print" not in page)
        attempt("print", "@media print { body { display:none; } }" in page)
    attempt.check()


# -- definitions -----------------------------------------------------------------------------------------

ATTRIBUTE_PATCH = {"attributes": [{"name": "Allow External Recipients to Print", "value": "True"}]}
NEW_DEFINITION = {"name": "Internal", "description": "x", "attributes": ATTRIBUTE_PATCH["attributes"]}


def definition_attempts(token: str) -> list[tuple[str, str, dict]]:
    """(method, path, requests-style keyword arguments) of every way to change a definition we could think of."""
    bearer = {"Authorization": f"Bearer {token}"}
    basic = {"Authorization": "Basic " + base64.b64encode(f"admin:{token}".encode()).decode()}
    names = ["All", "External", "all", "EXTERNAL", "Internal", "%41ll", "All%20", "All/"]
    prefixes = [
        "/admin/api/definitions",
        "/ADMIN/api/definitions",
        "/admin/API/Definitions",
        "//admin/api/definitions",
        "/admin//api/definitions",
        "/admin/api/definitions/.",
        "/admin/api/./definitions",
    ]
    out: list[tuple[str, str, dict]] = []
    for auth in (bearer, basic, {}):
        for prefix in prefixes:
            out.append(("POST", prefix, {"headers": auth, "json": NEW_DEFINITION}))
            out.append(("POST", prefix + "/", {"headers": auth, "json": NEW_DEFINITION}))
            for name in names:
                for method in ("PUT", "PATCH", "DELETE", "POST"):
                    out.append((method, f"{prefix}/{name}", {"headers": auth, "json": ATTRIBUTE_PATCH}))
    for override in ("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"):
        for method in ("PUT", "PATCH", "DELETE"):
            out.append(
                (
                    "POST",
                    "/admin/api/definitions/All",
                    {"headers": {**bearer, override: method}, "json": ATTRIBUTE_PATCH},
                )
            )
            out.append(
                (
                    "GET",
                    "/admin/api/definitions/All",
                    {"headers": {**bearer, override: method}, "json": ATTRIBUTE_PATCH},
                )
            )
    for method in ("PUT", "PATCH", "DELETE"):
        out.append(
            ("POST", f"/admin/api/definitions/All?_method={method}", {"headers": bearer, "json": ATTRIBUTE_PATCH})
        )
    form = {"name": "All", "attribute": "Allow External Recipients to Print", "value": "True", "_method": "PATCH"}
    for path in ("/admin", "/admin/", "/admin/definitions/All", "/admin/api/definitions/All", "/admin/api/definitions"):
        out.append(("POST", path, {"headers": basic, "data": form}))
    for content_type in ("application/json-patch+json", "application/merge-patch+json", "text/plain"):
        out.append(
            (
                "PATCH",
                "/admin/api/definitions/All",
                {
                    "headers": {**bearer, "Content-Type": content_type},
                    "json": [{"op": "replace", "path": "/attributes/0/value", "value": "True"}],
                },
            )
        )
    return out


def definition_variety(method: str, path: str, kw: dict, status: int) -> str:
    """What kind of attempt this is, path spellings aside: method, credential, override, body, answer."""
    headers = kw.get("headers", {})
    auth = headers.get("Authorization", "none").split(" ")[0].lower()
    override = next((h for h in headers if "override" in h.lower() or h == "X-HTTP-Method"), "")
    override = override or ("?_method" if "_method=" in path else "")
    body = "form" if "data" in kw else headers.get("Content-Type", "json")
    return " ".join(filter(None, [method, auth, override, body, f"-> {status}"]))


def try_to_change_definitions(request, token: str, *, until_changed: bool = False) -> list[tuple[str, str, int, bool]]:
    """Run every attempt through `request(method, path, **kw)`; (method, path, status, changed?) for each
    (``until_changed``: stop at the first attempt that changed something)."""

    def snapshot():
        return request("GET", "/admin/api/definitions", headers={"Authorization": f"Bearer {token}"}).json()

    baseline = snapshot()
    outcomes = []
    for method, path, kw in definition_attempts(token):
        status = request(method, path, **copy.deepcopy(kw)).status_code
        after = snapshot()
        outcomes.append((method, path, status, after != baseline))
        if until_changed and after != baseline:
            break
        baseline = after
    return outcomes


def test_definitions_cannot_be_changed_through_any_route(target, tally):
    attempt = Attempts(tally)
    before_page = target.gw.get("/admin", auth=("admin", gwtest.ADMIN_TOKEN)).text
    with requests.Session() as http:
        outcomes = try_to_change_definitions(
            lambda method, path, **kw: http.request(method, target.http + path, timeout=10, **kw), gwtest.ADMIN_TOKEN
        )
    for (method, path, status, changed), (_, _, kw) in zip(outcomes, definition_attempts(gwtest.ADMIN_TOKEN)):
        refused = not changed and (method == "GET" or not 200 <= status < 300)  # a GET may read, never change
        attempt(
            "change a definition",
            refused,
            f"{method} {path} -> {status}, changed: {changed}",
            variety=definition_variety(method, path, kw, status),
        )
    attempt.check()
    assert target.gw.get("/admin", auth=("admin", gwtest.ADMIN_TOKEN)).text == before_page
    listed = target.gw.admin("GET", "/admin/api/definitions").json()["definitions"]
    assert [d["name"] for d in listed] == ["All", "External"]
    for d in listed:
        assert [(a["name"], a["value"]) for a in d["attributes"]] == list(source.ATTRIBUTES)


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_the_definition_probes_catch_an_editable_gateway():
    """The same attempts against the broken variant 'definition-editable' (in process) must find a change."""
    from fastapi.testclient import TestClient

    from harness.gateway.clock import Clock
    from harness.gateway.config import from_mapping
    from harness.gateway.definitions import Catalogue
    from harness.gateway.http_app import create_app
    from harness.gateway.service import Gateway
    from harness.gateway.store import Store

    cfg = from_mapping(
        {
            "internal_domains": [INTERNAL],
            "database": ":memory:",
            "admin_token": "tok",
            "variant": "definition-editable",
        },
        environ={},
    )
    store = Store(":memory:")
    clock = Clock(store, False)
    catalogue = Catalogue(cfg.active_variant)
    client = TestClient(create_app(cfg, store, Gateway(cfg, store, clock, catalogue), catalogue, clock))
    outcomes = try_to_change_definitions(client.request, "tok", until_changed=True)
    assert outcomes[-1][3], "the probes did not notice an editable definition"
    assert outcomes[-1][:2] == ("PATCH", "/admin/api/definitions/All"), outcomes[-1]


# -- relaying --------------------------------------------------------------------------------------------


def test_the_submission_port_is_no_open_relay(target, tally):
    attempt = Attempts(tally)
    tag = marker("rl")
    outside = f"victim.{tag}@elsewhere.example"
    senders = [
        "mallory@evil.example",
        "",
        f"a@sub.{INTERNAL}",
        f"a@{INTERNAL}.evil.example",
        "a@corpexample",
        f"a@{INTERNAL.replace('.', '-')}.example",
        f'"a@{INTERNAL}"@evil.example',
        f"@{INTERNAL}:a@evil.example",
        "a@[127.0.0.1]",
        f"a%{INTERNAL}@evil.example",
        f"a@{INTERNAL}.",
        f"{INTERNAL}@evil.example",
        f"a@evil.example (a@{INTERNAL})",
    ]
    for mail_from in senders:
        s = target.gw.smtp()
        try:
            code, text = s.docmd(f"MAIL FROM:<{mail_from}>")
            if code == 250:  # it must not get further than this
                code, text = s.rcpt(outside)
                if code == 250:
                    code, text = s.data(f"Subject: relay {tag}\r\n\r\nrelayed\r\n".encode())
            attempt("relay through an outside sender", code >= 500, f"MAIL FROM:<{mail_from}> -> {code} {text!r}")
        finally:
            s.close()
    s = target.gw.smtp()  # an accepted transaction, RSET, then an outside sender on the same session
    try:
        assert s.mail(SENDER)[0] == 250 and s.rset()[0] == 250
        attempt("relay through an outside sender", s.mail("mallory@evil.example")[0] == 550)
    finally:
        s.close()

    # an internal envelope sender with a forged header From / Reply-To: the gateway vouches for the envelope
    forged = f"ceo.{tag}@evil.example"
    rcpt = f"bob.{tag}@ext.example"
    raw = gwtest.make_message(
        frm=f"The CEO <{forged}>", to=[rcpt], subject=f"Forged {tag}", headers={"Reply-To": forged, "Sender": forged}
    )
    assert target.gw.send(raw, SENDER, [rcpt])[0] == 250
    [note] = target.mailbox.wait_for_messages(rcpt, 1, 30)
    token = TOKEN_RE.search(note.text).group(1)
    attempt("forged header From", SENDER in note.subject and forged not in note.subject + note.text)
    view = target.gw.get(f"/sm-portal/api/messages/{token}").json()
    attempt("forged header From", view["from"] == SENDER)
    assert target.gw.post(f"/sm-portal/api/messages/{token}/reply", json={"text": f"reply {tag}"}).status_code == 202
    target.mailbox.wait_for_messages(SENDER, 1, 30, predicate=lambda m: tag in m.subject)
    target.roundtrip()  # later mail went through: the reply to a forger would have too
    for address in (outside, forged):
        attempt("forged header From", target.mailbox.messages_to(address, by="headers") == [])
    attempt.check()


# -- XSS in a real browser ----------------------------------------------------------------------------------

XSS_SUBJECT = '<img src=x onerror="window.__xss+=1">Quarterly <script>window.__xss+=1</script>'
XSS_NAME = "<svg onload='window.__xss+=1'>Eve"
XSS_TEXT = 'Hello </pre><script>window.__xss+=1;alert(1)</script><img src=x onerror="window.__xss+=1">\n'
XSS_HTML = (
    '<html><body><script>parent.__xss+=1;alert(1)</script><img src=x onerror="parent.__xss+=1">'
    '<iframe src="javascript:parent.__xss+=1"></iframe><form action="javascript:parent.__xss+=1">'
    "<button id=go>go</button></form></body></html>"
)


def visit_pages(visits: dict[str, dict]) -> dict[str, dict]:
    """Open each page in one headless Chromium (closed again before the report check starts its own)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the XSS checks need the playwright package (pip install -e '.[dev]')")
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:  # playwright's own error types
            pytest.fail(f"the XSS checks need Chromium at {CHROMIUM} (never `playwright install`): {exc}")
        try:
            return {name: visit(browser, **how) for name, how in visits.items()}
        finally:
            browser.close()


def visit(browser, url: str, *, credentials=None, cookies=(), expand: bool = False) -> dict:
    """Open `url`; report whether any injected script ran, which dialogs opened, what the page shows."""
    context = browser.new_context(http_credentials=credentials)
    if cookies:
        context.add_cookies(list(cookies))
    page = context.new_page()
    seen = {"dialogs": [], "errors": []}
    page.add_init_script("window.__xss = 0;")
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    try:
        response = page.goto(url, wait_until="load")
        seen["status"] = response.status if response else None
        if expand:
            for i in range(page.locator("details > summary").count()):
                page.locator("details > summary").nth(i).click()
        page.wait_for_timeout(300)
        seen["xss"] = page.evaluate("window.__xss")
        seen["text"] = page.inner_text("body")
        page.emulate_media(media="print")
        seen["printable"] = page.locator("main").is_visible()
    finally:
        context.close()
    return seen


@pytest.mark.browser
def test_xss_payloads_never_run_in_the_browser(target, tally, tmp_path):
    attempt = Attempts(tally)
    tag = marker("xs")
    ext, dave = f"bob.{tag}@ext.example", f"dave.{tag}@{INTERNAL}"
    subject = f"{XSS_SUBJECT} {tag}"
    raw = gwtest.make_message(
        frm=f'"{XSS_NAME}" <{SENDER}>', to=[ext, dave], subject=subject, text=XSS_TEXT, html=XSS_HTML, definition="All"
    )
    assert target.gw.send(raw, SENDER, [ext, dave])[0] == 250
    session_alice = target.mpp_session(SENDER)
    assert (
        target.gw.mpp_send(
            session_alice, to=[dave], subject=subject, text=XSS_TEXT, html=XSS_HTML, definition="External"
        ).status_code
        == 202
    )
    [note] = target.mailbox.wait_for_messages(ext, 1, 30)
    banner = target.mailbox.wait_for_messages(dave, 2, 30)
    token = TOKEN_RE.search(note.text).group(1)
    dave_session = target.mpp_session(dave)
    host = target.http.removeprefix("http://").split(":")[0]
    pages = visit_pages(
        {
            "SM Portal page": {"url": f"{target.http}/sm-portal/m/{token}", "expand": True},
            "MPP page": {
                "url": f"{target.http}/mpp",
                "cookies": [{"name": "mpp_session", "value": dave_session, "domain": host, "path": "/mpp"}],
            },
            "Administration Console": {
                "url": f"{target.http}/admin",
                "credentials": {"username": "admin", "password": gwtest.ADMIN_TOKEN},
            },
        }
    )
    for name, seen in pages.items():
        attempt("XSS in a page", seen["xss"] == 0 and not seen["dialogs"])
        assert seen["status"] == 200, (name, seen["status"])
        assert seen["xss"] == 0 and seen["dialogs"] == [], f"{name}: injected script ran: {seen}"
    for name in ("SM Portal page", "MPP page"):  # the payloads reached the page, as text
        assert "<script>window.__xss+=1</script>" in pages[name]["text"], f"{name} does not show the subject"
    assert XSS_NAME in pages["MPP page"]["text"], "the MPP page does not show the sender's display name"
    assert pages["SM Portal page"]["printable"] is False, "the portal page must print blank"
    attempt("print", pages["SM Portal page"]["printable"] is False)

    # the report, with the delivered messages as evidence
    results = report_with_evidence([note, *banner])
    index = write_report(results, tmp_path / "report")
    try:
        seen = check_report_in_browser(index, expect_subject=note.subject)
    except BrowserUnavailable as exc:
        pytest.fail(f"the report check needs Chromium: {exc}")
    attempt("XSS in the report", seen["xss"] == 0 and not seen["dialogs"])
    attempt.check()
    assert seen["problems"] == [] and seen["xss"] == 0, seen["problems"]
    assert seen["html_previews_loaded"] >= 1, "the hostile HTML bodies were not rendered (in their sandbox)"


def report_with_evidence(messages) -> R.RunResults:
    """tests/report/sample.py's run, its failed scenario's evidence replaced by what Mailpit really got."""
    from report.sample import full_run  # tests/report/sample.py

    results = full_run()
    failed = next(s for s in results.scenarios if s.status == R.FAILED)
    failed.evidence = [
        R.Evidence(
            f"e{i}",
            "email",
            f"delivered to {', '.join(m.to) or m.bcc[0]}",
            {
                "mailpit_id": m.id,
                "from": m.from_.formatted() if m.from_ else "",
                "to": [a.formatted() for a in m.to],
                "subject": m.subject,
                "date": str(m.date),
                "classification": source.NOTIFICATION,
                "rule": "as delivered",
                "excerpt": m.text[:200],
                "text": m.text,
                "html": m.html,
                "headers": {k: v[0] for k, v in m.headers.items()},
            },
        )
        for i, m in enumerate(messages, 1)
    ]
    for cell in failed.cells:
        cell.evidence = ["e1"]
    return results
