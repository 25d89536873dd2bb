"""docker-compose.yml, Dockerfile and docker/gateway.toml agree with each other
and with the contract. No Docker engine runs here, so this checks structure only.

PyYAML is not a dependency of the project: the compose file is read with the
small parser below, which handles exactly the YAML subset that file uses
(block mappings, block lists, quoted or plain scalars, JSON-style flow lists).
When PyYAML happens to be installed, it cross-checks that parser.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GATEWAY_CMD = ["python", "-m", "harness.gateway", "--config", "/etc/smlite/gateway.toml"]


def parse_yaml_subset(text: str) -> object:
    lines = [
        (len(raw) - len(raw.lstrip(" ")), raw.strip())
        for raw in text.splitlines()
        if raw.strip() and not raw.strip().startswith("#")
    ]

    def block(i: int, indent: int) -> tuple[object, int]:
        if lines[i][1].startswith("- "):
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                items.append(scalar(lines[i][1][2:]))
                i += 1
            return items, i
        mapping: dict[str, object] = {}
        while i < len(lines) and lines[i][0] == indent:
            key, _, rest = lines[i][1].partition(":")
            i += 1
            if rest.strip():
                mapping[key] = scalar(rest.strip())
            else:
                assert lines[i][0] > indent, f"{key}: expected an indented block"
                mapping[key], i = block(i, lines[i][0])
        return mapping, i

    def scalar(text: str) -> object:
        if text.startswith("["):
            return json.loads(text)
        if text[0] in "\"'":
            return text[1:-1]
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        return {"true": True, "false": False}.get(text, text)

    value, end = block(0, 0)
    assert end == len(lines), f"unparsed from line {end}: {lines[end]}"
    return value


@pytest.fixture(scope="module")
def compose() -> dict:
    text = (REPO / "docker-compose.yml").read_text()
    parsed = parse_yaml_subset(text)
    try:
        import yaml
    except ImportError:
        return parsed
    assert yaml.safe_load(text) == parsed
    return parsed


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (REPO / "Dockerfile").read_text()


@pytest.fixture(scope="module")
def gateway_toml() -> dict:
    return tomllib.loads((REPO / "docker" / "gateway.toml").read_text())


def published(service: dict) -> dict[int, int]:
    """container port -> host port."""
    pairs = [entry.rsplit(":", 2)[-2:] for entry in service["ports"]]
    return {int(container): int(host) for host, container in pairs}


def test_mailpit_service(compose):
    mailpit = compose["services"]["mailpit"]
    assert mailpit["image"] == "axllent/mailpit:v1.33.1"
    assert published(mailpit) == {8025: 8025, 1025: 1025}
    assert mailpit["healthcheck"]["test"] == ["CMD", "/mailpit", "readyz"]
    assert mailpit["environment"]["MP_MAX_MESSAGES"] == "0", "no message cap, as in the local sandbox"
    assert all(entry.startswith("127.0.0.1:") for entry in mailpit["ports"])


def test_gateway_service(compose, gateway_toml):
    gateway = compose["services"]["gateway"]
    assert gateway["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    assert gateway["depends_on"] == {"mailpit": {"condition": "service_healthy"}}
    assert published(gateway) == {
        gateway_toml["smtp_port"]: gateway_toml["smtp_port"],
        gateway_toml["http_port"]: gateway_toml["http_port"],
    }
    check = " ".join(gateway["healthcheck"]["test"])
    assert f"http://127.0.0.1:{gateway_toml['http_port']}/healthz" in check and "200" in check


def test_dockerfile_builds_and_runs_the_gateway(dockerfile, gateway_toml):
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^RUN pip install \.", dockerfile, re.M)
    assert "COPY docker/gateway.toml /etc/smlite/gateway.toml" in dockerfile
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd and json.loads(cmd.group(1)) == GATEWAY_CMD
    exposed = re.search(r"^EXPOSE (.*)$", dockerfile, re.M).group(1).split()
    assert sorted(map(int, exposed)) == sorted([gateway_toml["smtp_port"], gateway_toml["http_port"]])
    for path in re.findall(r"^COPY (\S+) \./", dockerfile, re.M):
        assert (REPO / path).exists(), f"Dockerfile copies {path}, which is missing"


def test_gateway_config_relays_to_the_mailpit_service(compose, gateway_toml):
    assert gateway_toml["relay_host"] == "mailpit"
    assert gateway_toml["relay_port"] in published(compose["services"]["mailpit"])
    assert gateway_toml["smtp_host"] == gateway_toml["http_host"] == "0.0.0.0"
    assert gateway_toml["database"].startswith("/var/lib/smlite/")


def test_gateway_accepts_the_docker_config():
    config = pytest.importorskip("harness.gateway.config", reason="gateway config module missing")
    loaded = config.load_config(REPO / "docker" / "gateway.toml")
    assert loaded.relay_host == "mailpit"


def test_the_minimal_parser_reads_what_it_claims():
    text = 'a:\n  b: 1\n  c:\n    - "x:y"\n    - plain\n  d: ["CMD", "go"]\n# note\ne: true\n'
    assert parse_yaml_subset(text) == {"a": {"b": 1, "c": ["x:y", "plain"], "d": ["CMD", "go"]}, "e": True}
