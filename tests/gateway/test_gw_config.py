"""Config loading and validation; a bad config exits 2 with a message, no traceback."""

import subprocess
import sys

import pytest
from gwtest import ROOT

from harness.gateway import variants
from harness.gateway.config import ConfigError, from_mapping, load_config

BASE = {"internal_domains": ["Corp.Example"], "database": "gw.sqlite3", "admin_token": "t"}


def test_defaults_and_relative_paths(tmp_path):
    cfg = from_mapping(dict(BASE, ready_file="r.json"), base_dir=tmp_path, environ={})
    assert cfg.internal_domains == ["corp.example"]
    assert cfg.database == str(tmp_path / "gw.sqlite3")
    assert cfg.ready_file == str(tmp_path / "r.json")
    assert cfg.max_recipients == 100 and cfg.max_message_bytes == 10 * 1024 * 1024
    assert cfg.sender_address() == "secure-messaging@corp.example"
    assert cfg.base_url(8080) == "http://127.0.0.1:8080"
    assert (
        from_mapping(dict(BASE, public_base_url="https://sm.example/"), environ={}).base_url(1) == "https://sm.example"
    )


@pytest.mark.parametrize(
    "data,fragment",
    [
        ({"database": "x", "admin_token": "t"}, "missing required"),
        (dict(BASE, colour="blue"), "unknown config key"),
        (dict(BASE, smtp_port="25"), "'smtp_port' must be an integer"),
        (dict(BASE, test_clock=1), "'test_clock' must be true or false"),
        (dict(BASE, internal_domains=[]), "at least one domain"),
        (dict(BASE, internal_domains=["not a domain"]), "is not a domain"),
        (dict(BASE, http_port=70000), "between 0 and 65535"),
        (dict(BASE, notification_text="{link} {body}"), "unknown placeholder"),
        (dict(BASE, max_recipients=0), "at least 1"),
        (dict(BASE, variant="nonsense"), "unknown variant"),
    ],
)
def test_invalid(data, fragment):
    with pytest.raises(ConfigError, match=fragment):
        from_mapping(data, environ={})


def test_variant_env_override():
    assert from_mapping(dict(BASE, variant="print-allowed"), environ={}).active_variant == "print-allowed"
    env = {variants.ENV_VAR: "no-reply-all"}
    assert from_mapping(dict(BASE, variant="print-allowed"), environ=env).active_variant == "no-reply-all"
    assert from_mapping(dict(BASE, variant="print-allowed"), environ={variants.ENV_VAR: ""}).active_variant == ""
    with pytest.raises(ConfigError) as err:
        from_mapping(BASE, environ={variants.ENV_VAR: "bogus"})
    for name in {**variants.VARIANTS, **variants.ALTERNATIVES}:
        assert name in str(err.value)


def test_bad_toml(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text("internal_domains = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


def test_bad_config_exits_2_without_traceback(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text('internal_domains = ["corp.example"]\ndatabase = "x"\nadmin_token = "t"\nvariant = "nope"\n')
    r = subprocess.run(
        [sys.executable, "-m", "harness.gateway", "--config", str(p)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 2
    assert "unknown variant 'nope'" in r.stderr and "print-allowed" in r.stderr
    assert "Traceback" not in r.stderr
