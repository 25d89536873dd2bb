"""A realistic, hand-built RunResults: every source case, the definitions, the attributes, the silent cases.

Pure data for the report's tests (no gateway, no Mailpit): most scenarios pass,
T3-r4 fails with a delivered email as evidence (its subject and body carry XSS
payloads), T1-r1 Mimecast for Mac / External is not applicable, silent cells
are observed, and the source-silent scenarios are informational.
"""

from __future__ import annotations

import copy

from harness import SOURCE_DOCUMENT_ID, __version__
from harness import results as R
from harness.source_model import source

XSS_SUBJECT = '<img src=x onerror="window.__xss=1">Secure message <script>alert(1)</script>'
XSS_BODY = "Hello Ida, <img src=x onerror=alert(1)> see https://tracker.example/pixel.png\n"
XSS_HTML = (
    '<html><body><div class="sm-banner">This message was sent securely using Secure Messaging.</div>'
    '<p>Hello</p><img src=x onerror="parent.__xss=1;alert(1)">'
    '<img src="https://tracker.example/pixel.png"><script>parent.__xss=1</script></body></html>'
)
BANNER = "This message was sent securely using Secure Messaging."
ROLES = {"T1": "the external user", "T2": "the internal user", "T3": "the internal recipient"}
TABLE_FILES = {
    "T1": "table1_internal_to_external",
    "T2": "table2_external_replies",
    "T3": "table3_internal_to_internal",
}


def _email(
    eid: str, kind: str, subject: str, to: str = "ida@corp.example", text: str = "", html: str = "", excerpt: str = ""
) -> R.Evidence:
    rule = (
        "subject, portal link and 'Sensitivity: Private' all present"
        if kind == source.NOTIFICATION
        else "banner text opens the text part"
    )
    return R.Evidence(
        eid,
        "email",
        f"{kind} delivered to {to}",
        {
            "mailpit_id": f"mp-{eid}",
            "from": "ines@corp.example",
            "to": [to],
            "subject": subject,
            "date": "2025-05-04T10:00:01Z",
            "classification": kind,
            "rule": rule,
            "excerpt": excerpt or (BANNER if kind == source.BANNER else "Secure message from Ines"),
            "text": text or f"{BANNER}\n\nHello,\nthe quarterly figures are attached.\n",
            "html": html,
            "headers": {"Message-ID": f"<{eid}@corp.example>", "Sensitivity": "Private"},
        },
    )


def _http(eid: str, method: str, url: str, status: int, body: object) -> R.Evidence:
    return R.Evidence(
        eid, "http", f"{method} {url} → {status}", {"method": method, "url": url, "status": status, "body": body}
    )


def _steps(case: source.Case, status: str = "passed") -> list[R.StepResult]:
    app = source.APPLICATIONS[case.application].name
    last = "failed" if status == R.FAILED else "skipped" if status == R.NOT_APPLICABLE else "passed"
    first = "skipped" if status == R.NOT_APPLICABLE else "passed"
    return [
        R.StepResult("Given", 'an internal user "Ines"', first, 0.012),
        R.StepResult(
            "When", f'Ines sends a secure message from "{app}" using the "{case.definition}" definition', first, 0.41
        ),
        R.StepResult("Then", "the recipient gets the source's cells", last, 0.87),
    ]


def _case_scenario(case: source.Case, index: int) -> R.ScenarioResult:
    app = source.APPLICATIONS[case.application].name
    table = case.ref.split("-")[0]
    name = f"{case.ref} {app}, {case.definition} definition"
    scenario = R.ScenarioResult(
        id=f"steps/test_conformance.py::test_case[{case.ref}-{case.application}-{case.definition}]",
        name=name,
        feature=source.TABLES[table].title,
        table=table,
        refs=[case.ref],
        tags=[f"table:{table}", f"requires:{case.application}"],
        status=R.PASSED,
        duration_s=1.3 + index / 10,
        steps=_steps(case),
        interpretation=case.interpretation,
        seed=4242,
        worker="gw0",
    )
    kind = case.cells["Mail Box"].value
    scenario.evidence.append(_email("e1", kind, f"Quarterly figures {index}", to=f"user{index}@corp.example"))
    scenario.evidence.append(
        _http(
            "e2",
            "GET",
            "http://127.0.0.1:8025/admin/api/sm-portal/messages",
            200,
            {"items": [{"id": f"m{index}", "subject": f"Quarterly figures {index}"}]},
        )
    )
    observed_values = {
        "Mail Box": kind,
        "MPP": "nothing" if table == "T1" else kind,
        "Message in SM Portal": case.cells["Message in SM Portal"].value or "Yes",
    }
    for column, cell in case.cells.items():
        observed = observed_values[column] if cell.value is None else cell.value
        status = R.CELL_OBSERVED if not cell.required else R.PASSED
        scenario.cells.append(
            R.CellResult(
                case.ref,
                column,
                ROLES[table],
                cell.value,
                cell.standing,
                observed,
                status,
                ["e1"] if column == "Mail Box" else ["e2"],
            )
        )
    scenario.expected = "; ".join(f"{c}: {v.gherkin()}" for c, v in case.cells.items())
    scenario.observed = "; ".join(f"{c.column}: {c.observed}" for c in scenario.cells)
    return scenario


def _fail(scenario: R.ScenarioResult) -> None:
    """T3-r4: the target sent a Notification where the source states Email with banner."""
    scenario.status = R.FAILED
    scenario.message = (
        "Mail Box of the internal recipient: expected Email with banner, observed Notification\n"
        "  rule: subject, portal link and 'Sensitivity: Private' all present"
    )
    scenario.steps[-1].status = "failed"
    scenario.evidence[0] = _email(
        "e1",
        source.NOTIFICATION,
        XSS_SUBJECT,
        text=XSS_BODY,
        html=XSS_HTML,
        excerpt="Secure message from Ines <b>bold?</b>",
    )
    for cell in scenario.cells[:2]:
        cell.observed, cell.status = source.NOTIFICATION, R.FAILED
        cell.detail = "classified by rule: subject + portal link + private marker"
    scenario.observed = "Mail Box: Notification; MPP: Notification; Message in SM Portal: Yes"


def _not_applicable(scenario: R.ScenarioResult) -> None:
    scenario.status = R.NOT_APPLICABLE
    scenario.message = "not applicable: the target lacks mac"
    scenario.steps = _steps(source.row(scenario.refs[0]).cases[3], R.NOT_APPLICABLE)
    scenario.evidence = []
    scenario.duration_s = 0.0
    for cell in scenario.cells:
        cell.observed, cell.status, cell.evidence = None, R.NOT_APPLICABLE, []


def _simple(sid: str, name: str, table: str, feature: str, status: str = R.PASSED, **extra) -> R.ScenarioResult:
    return R.ScenarioResult(
        id=f"steps/test_conformance.py::{sid.replace('-', '_')}",
        name=name,
        feature=feature.capitalize(),
        table=table,
        tags=[f"table:{table}"],
        status=status,
        duration_s=0.4,
        steps=[
            R.StepResult("When", "an administrator lists the definitions", "passed", 0.1),
            R.StepResult("Then", name, "passed", 0.01),
        ],
        **extra,
    )


def _others() -> list[R.ScenarioResult]:
    listing = {
        "definitions": [
            {"name": "All", "attributes": [{"name": n, "value": v} for n, v in source.ATTRIBUTES]},
            {"name": "External", "attributes": []},
        ]
    }
    out = [
        _simple(
            "test_list",
            "Exactly two definitions are listed, All and External",
            "definitions",
            "definitions",
            evidence=[_http("e1", "GET", "http://127.0.0.1:8080/admin/api/definitions", 200, listing)],
        )
    ]
    for d in source.DEFINITIONS:
        out.append(
            _simple(
                f"test_attrs[{d}]",
                f"The {d} definition carries the five attributes with the source's values",
                "definitions",
                "definitions",
            )
        )
    out.append(
        _simple(
            "test_create",
            "Creating a definition is refused and nothing changes",
            "definitions",
            "definitions",
            evidence=[
                _http(
                    "e1",
                    "POST",
                    "http://127.0.0.1:8080/admin/api/definitions",
                    403,
                    '{"error": "definitions_immutable"}',
                )
            ],
        )
    )
    out.append(
        _simple(
            "test_print[All]", "An external recipient cannot print a secure message (All)", "attributes", "attributes"
        )
    )
    out.append(
        _simple(
            "test_reply[All]", "An external recipient can reply to a secure message (All)", "attributes", "attributes"
        )
    )
    reply_all = _simple(
        "test_reply_all[T2-r1]",
        "T2-r1 an external recipient can reply all, and the reply lands as table 2 says (All)",
        "attributes",
        "attributes",
        refs=["T2-r1"],
    )
    for column, cell in source.row("T2-r1").cells.items():
        reply_all.cells.append(
            R.CellResult(
                "T2-r1",
                column,
                "Ines and Ida",
                cell.value,
                cell.standing,
                cell.value or "Notification",
                R.PASSED if cell.required else R.CELL_OBSERVED,
            )
        )
    out.append(reply_all)
    out.append(
        _simple(
            "test_expiry[All]",
            "A secure message never expires for an external recipient (All)",
            "attributes",
            "attributes",
        )
    )
    out.append(
        _simple("test_receipt[All]", "Opening a secure message sends no read receipt (All)", "attributes", "attributes")
    )
    for ref, name in (
        ("X-mac", "Mimecast for Mac between internal users, All definition (defect D3)"),
        ("X-mixed", "One message to an internal and an external recipient, All definition (defect D4)"),
    ):
        scenario = _simple(f"test_{ref}", name, "other", "source_silent", R.NOT_SPECIFIED, refs=[ref], required=False)
        scenario.tags.append("not-specified")
        for column in source.COLUMNS:
            scenario.cells.append(
                R.CellResult(ref, column, "Ida", None, source.NOT_SPECIFIED, source.BANNER, R.CELL_OBSERVED)
            )
        out.append(scenario)
    return out


def full_run(*, certify: bool = False) -> R.RunResults:
    """Every case of harness.source_model.source.cases() plus the rest: 1 failed (T3-r4), 1 not applicable."""
    scenarios = [_case_scenario(case, i) for i, case in enumerate(source.cases())]
    for scenario in scenarios:
        if scenario.refs == ["T3-r4"]:
            _fail(scenario)
        if scenario.refs == ["T1-r1"] and "mac-External" in scenario.id:
            _not_applicable(scenario)
    scenarios += _others()
    run = R.RunInfo(
        id="20250504T100000Z-7f3a",
        harness_version=__version__,
        seed=4242,
        target={
            "name": "smlite reference gateway",
            "version": "0.1.0",
            "profile": "reference.toml",
            "driver": "reference",
            "capabilities": ["smtp-submission", "mpp", "sm-portal", "admin-console"],
        },
        source_document={"id": SOURCE_DOCUMENT_ID, "title": source.SOURCE_TITLE},
        started_at="2025-05-04T10:00:00+00:00",
        finished_at="2025-05-04T10:01:12+00:00",
        duration_s=72.4,
        host="ci-runner-3",
        command=["smlite", "run", "--profile", "reference.toml"],
        certify=certify,
    )
    return R.RunResults(run=run, scenarios=scenarios)


def all_passed() -> R.RunResults:
    """The full run with the failure and the n/a turned into passes: 'Conformant'."""
    results = copy.deepcopy(full_run())
    for scenario in results.scenarios:
        if scenario.status in (R.FAILED, R.NOT_APPLICABLE):
            scenario.status, scenario.message = R.PASSED, ""
            for cell in scenario.cells:
                cell.observed = cell.expected if cell.expected is not None else "nothing"
                cell.status = R.PASSED if cell.expected is not None else R.CELL_OBSERVED
    return results


def scenario(results: R.RunResults, ref: str, contains: str = "") -> R.ScenarioResult:
    return next(s for s in results.scenarios if ref in s.refs and contains in s.id)
