"""TLS and AUTH config keys of the gateway: defaults unchanged, every bad value a ConfigError naming the key,
and a gateway started with a bad certificate exits 2 with one line (no traceback)."""

import subprocess
import sys

import pytest
from gwtest import ROOT

from harness.gateway.config import ConfigError, from_mapping, load_config

BASE = {"internal_domains": ["corp.example"], "database": "gw.sqlite3", "admin_token": "t"}


def test_defaults_are_plain_smtp_without_auth_and_plain_http():
    cfg = from_mapping(dict(BASE), environ={})
    assert (cfg.smtp_tls, cfg.smtp_auth_required, cfg.http_tls, cfg.smtp_accounts()) == ("none", False, False, {})
    assert cfg.base_url(8080) == "http://127.0.0.1:8080"


def test_https_base_url_and_relative_tls_paths(tmp_path):
    cfg = from_mapping(dict(BASE, http_tls=True, tls_cert="c.pem", tls_key="k.pem"), base_dir=tmp_path, environ={})
    assert cfg.base_url(8443) == "https://127.0.0.1:8443"
    assert (cfg.tls_cert, cfg.tls_key) == (str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))


@pytest.mark.parametrize(
    "data,fragment",
    [
        (dict(BASE, smtp_tls="ssl"), "'smtp_tls' must be"),
        (dict(BASE, smtp_tls="starttls"), "'tls_cert' and 'tls_key'"),
        (dict(BASE, http_tls=True, tls_cert="c.pem"), "'tls_cert' and 'tls_key'"),
        (dict(BASE, smtp_auth_required=True), "needs accounts"),
        (dict(BASE, smtp_auth_required="yes"), "'smtp_auth_required' must be true or false"),
        (dict(BASE, smtp_users={"u": 1}), "'smtp_users' must be a table"),
        (dict(BASE, smtp_users=["u:p"]), "'smtp_users' must be a table"),
    ],
)
def test_invalid(data, fragment):
    with pytest.raises(ConfigError, match=fragment):
        from_mapping(data, environ={})


def test_users_file_lines(tmp_path):
    users = tmp_path / "users"
    users.write_text("# accounts\nalice:s3cret:with:colons\n\nbob:pw\n")
    cfg = from_mapping(
        dict(BASE, smtp_users={"carol": "x"}, smtp_users_file="users", smtp_auth_required=True),
        base_dir=tmp_path,
        environ={},
    )
    assert cfg.smtp_accounts() == {"carol": "x", "alice": "s3cret:with:colons", "bob": "pw"}
    users.write_text("no-colon-here\n")
    with pytest.raises(ConfigError, match="line 1 must read user:password"):
        cfg.smtp_accounts()


def test_missing_certificate_file_is_a_config_error(tmp_path):
    config = tmp_path / "gw.toml"
    config.write_text(
        'internal_domains = ["corp.example"]\ndatabase = "gw.sqlite3"\nadmin_token = "t"\n'
        'smtp_tls = "implicit"\ntls_cert = "nope.pem"\ntls_key = "nope.key"\n'
    )
    with pytest.raises(ConfigError, match="'tls_cert': no such file"):
        load_config(config)


def test_a_certificate_that_is_not_one_exits_2_with_one_line(tmp_path):
    (tmp_path / "c.pem").write_text("not a certificate\n")
    (tmp_path / "k.pem").write_text("not a key\n")
    config = tmp_path / "gw.toml"
    config.write_text(
        'internal_domains = ["corp.example"]\ndatabase = "gw.sqlite3"\nadmin_token = "t"\n'
        'smtp_tls = "starttls"\ntls_cert = "c.pem"\ntls_key = "k.pem"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "harness.gateway", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "bad config: tls_cert/tls_key cannot be used" in done.stderr
