"""Fixtures of the vendor tests: one Acme-configured sandbox, started the way docs/vendors.md says.

`smlite sandbox up --gateway-config examples/acme-gateway.toml --write-profile acme.toml`,
with the gateway's ports chosen here (free ones) to prove ports come from the
configuration; every suite run of these tests goes against it, one at a time.
"""

from __future__ import annotations

import pytest

from .vendorkit import EXAMPLES, SandboxUp, free_ports


@pytest.fixture(scope="session")
def acme(tmp_path_factory):
    """(profile path, gateway settings path, SandboxUp) of the running Acme sandbox."""
    folder = tmp_path_factory.mktemp("acme")
    settings = folder / "acme-gateway.toml"
    smtp_port, http_port = free_ports(2)
    settings.write_text(
        (EXAMPLES / "acme-gateway.toml").read_text(encoding="utf-8")
        + f"smtp_port = {smtp_port}\nhttp_port = {http_port}\n",
        encoding="utf-8",
    )
    profile = folder / "acme.toml"
    sandbox = SandboxUp(folder, "--gateway-config", str(settings), "--write-profile", str(profile)).start()
    try:
        yield profile, settings, sandbox
    finally:
        code = sandbox.stop()
        assert code == 0, sandbox.output()
