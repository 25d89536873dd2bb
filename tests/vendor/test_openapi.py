"""docs/openapi.json is exactly the OpenAPI document the reference gateway serves.

The served one is fetched from a real sandbox (harness.sandbox.lifecycle.Sandbox) at
GET /openapi.json; the file must hold the same document, pretty-printed the
canonical way (indent 2, sorted keys, final newline: the bytes of
`python -m harness.gateway --openapi`). The Acme-configured gateway serves the
same document: the contract does not depend on the configuration.

Regenerate after a gateway change with `scripts/dump-openapi`, or
`SMLITE_UPDATE_OPENAPI=1 pytest tests/vendor/test_openapi.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from harness.sandbox.lifecycle import Sandbox

from .vendorkit import REPO, read_toml

pytestmark = pytest.mark.sandbox  # real Mailpit and gateway processes

DOC = REPO / "docs" / "openapi.json"


def served(base_url: str) -> dict:
    with urllib.request.urlopen(base_url + "/openapi.json", timeout=10) as answer:
        assert answer.status == 200 and answer.headers["content-type"].startswith("application/json")
        return json.load(answer)


def canonical(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


@pytest.fixture(scope="module")
def served_by_reference() -> dict:
    with Sandbox() as sandbox:
        document = served(sandbox.info()["gateway_http"])
    if os.environ.get("SMLITE_UPDATE_OPENAPI") == "1":
        DOC.write_text(canonical(document), encoding="utf-8")
    return document


def test_docs_copy_is_the_served_document(served_by_reference):
    assert DOC.exists(), "docs/openapi.json is missing: run scripts/dump-openapi"
    kept = json.loads(DOC.read_text(encoding="utf-8"))
    assert kept == served_by_reference, "docs/openapi.json differs from GET /openapi.json: run scripts/dump-openapi"
    assert DOC.read_text(encoding="utf-8") == canonical(served_by_reference), "not pretty-printed canonically"


def test_the_document_covers_the_contract(served_by_reference):
    paths = served_by_reference["paths"]
    for path in (
        "/healthz",
        "/admin/api/definitions",
        "/admin/api/definitions/{name}",
        "/admin/api/mpp-sessions",
        "/admin/api/sm-portal/messages",
        "/admin/api/clock",
        "/mpp/api/messages",
        "/sm-portal/api/messages/{token}",
        "/sm-portal/api/messages/{token}/reply",
        "/sm-portal/api/messages/{token}/reply-all",
        "/sm-portal/api/messages/{token}/print",
    ):
        assert path in paths, path
    assert served_by_reference["openapi"].startswith("3.")


def test_the_gateways_own_dump_writes_the_same_bytes():
    done = subprocess.run(
        [sys.executable, "-m", "harness.gateway", "--openapi"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == DOC.read_text(encoding="utf-8")


def test_another_configuration_serves_the_same_contract(acme):
    profile, _, _ = acme
    assert served(read_toml(profile)["target"]["http"]) == json.loads(DOC.read_text(encoding="utf-8"))
