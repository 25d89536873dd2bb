"""Gateway configuration: the TOML keys of docs/contract.md, loaded and validated.

Owns ``GatewayConfig`` and ``load_config``. Every problem is reported as a
``ConfigError`` with a message naming the key; ``__main__`` turns it into exit
status 2 without a traceback. Relative ``database``, ``ready_file``, ``tls_cert``, ``tls_key`` and
``smtp_users_file`` paths are resolved against the directory of the config
file.

TLS and AUTH (all optional; the defaults are plain SMTP without AUTH and
plain HTTP, as before): ``smtp_tls`` ("none", "starttls" or "implicit"),
``tls_cert`` / ``tls_key`` (PEM; both needed by any TLS), ``smtp_auth_required``
with the accounts in ``smtp_users`` (a table user = password) and/or
``smtp_users_file`` (lines ``user:password``), and ``http_tls`` (HTTPS with the
same certificate).
"""

from __future__ import annotations

import dataclasses
import re
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import variants

DEFAULT_NOTIFICATION_TEXT = (
    "{sender} has sent you a secure message: {subject}\n"
    "\n"
    "The message is not in this email. Read it in the Secure Messaging Portal:\n"
    "{link}\n"
)
TEMPLATE_FIELDS = {
    "notification_subject": {"sender", "subject"},
    "notification_text": {"sender", "subject", "link"},
}
_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)


class ConfigError(ValueError):
    """A configuration problem, with a message fit for the operator."""


@dataclass
class GatewayConfig:
    internal_domains: list[str]
    database: str
    admin_token: str
    name: str = "smlite reference gateway"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 0
    http_host: str = "127.0.0.1"
    http_port: int = 0
    public_base_url: str = ""
    relay_host: str = "127.0.0.1"
    relay_port: int = 1025
    test_clock: bool = False
    sandbox_sign_in: bool = False  # GET /mpp without a session offers a sign-in by address (sandboxes only)
    max_message_bytes: int = 10 * 1024 * 1024
    max_recipients: int = 100
    banner_text: str = "This message was sent securely using Secure Messaging."
    notification_subject: str = "Secure message from {sender}: {subject}"
    notification_text: str = DEFAULT_NOTIFICATION_TEXT
    notification_from: str = ""
    variant: str = ""
    ready_file: str = ""
    smtp_tls: str = "none"
    tls_cert: str = ""
    tls_key: str = ""
    smtp_auth_required: bool = False
    smtp_users: dict = field(default_factory=dict)
    smtp_users_file: str = ""
    http_tls: bool = False
    # optional: HTTP body cap (0: 2 x max_message_bytes + 1 MiB), delivery attempts, health threshold
    max_request_bytes: int = 0
    delivery_max_attempts: int = 200
    health_max_pending_age_s: int = 300
    # optional, for testing a suite against a slow target: every delivery first tried this late, plus a
    # random 0..jitter (which reorders deliveries); seeded (0: a fresh seed)
    delivery_delay_s: float = 0.0
    delivery_jitter_s: float = 0.0
    delivery_seed: int = 0
    # optional: bounds under load (docs/contract.md, "Bounded under hostile load")
    delivered_retention_s: int = 86400  # delivered and bounced rows, and bytes nothing refers to, kept this long
    max_concurrent_bodies: int = 8  # large bodies (SMTP DATA, HTTP bodies over 64 KiB) received at once
    smtp_max_sessions: int = 200
    smtp_idle_timeout_s: int = 120
    smtp_data_timeout_s: int = 300
    smtp_auth_max_failures: int = 3
    smtp_auth_failure_delay_ms: int = 1000
    http_max_connections: int = 200
    http_idle_timeout_s: int = 15
    http_body_timeout_s: int = 60
    # not a config key: the variant after the environment override
    active_variant: str = field(default="", repr=False)

    def base_url(self, http_port: int) -> str:
        """The public base URL, defaulting to http(s)://{http_host}:{port}."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        return f"{'https' if self.http_tls else 'http'}://{self.http_host}:{http_port}"

    def smtp_accounts(self) -> dict[str, str]:
        """user -> password: ``smtp_users`` and the lines of ``smtp_users_file``."""
        accounts = dict(self.smtp_users)
        if self.smtp_users_file:
            try:
                text = Path(self.smtp_users_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(
                    f"config key 'smtp_users_file': cannot read {self.smtp_users_file!r}: {exc.strerror or exc}"
                ) from None
            for number, line in enumerate(text.splitlines(), 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                user, sep, password = line.partition(":")
                if not sep or not user.strip() or not password:
                    raise ConfigError(f"config key 'smtp_users_file': line {number} must read user:password")
                accounts[user.strip()] = password
        return accounts

    def sender_address(self) -> str:
        return self.notification_from or f"secure-messaging@{self.internal_domains[0]}"


_KEYS = {f.name: f for f in dataclasses.fields(GatewayConfig) if f.name != "active_variant"}
_REQUIRED = ("internal_domains", "database", "admin_token")


def _check_type(key: str, value, expected) -> None:
    if expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 3600
    elif expected is bool:
        ok = isinstance(value, bool)
    elif expected is str:
        ok = isinstance(value, str)
    else:  # list[str]
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    if not ok:
        tname = {
            int: "an integer",
            float: "a number of seconds (0 to 3600)",
            bool: "true or false",
            str: "a string",
        }.get(expected, "a list of strings")
        raise ConfigError(f"config key {key!r} must be {tname}, got {value!r}")


def _check_template(key: str, text: str) -> None:
    allowed = TEMPLATE_FIELDS[key]
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        raise ConfigError(f"config key {key!r} is not a valid template: {exc}") from None
    bad = sorted(n for n in names if n not in allowed)
    if bad:
        raise ConfigError(f"config key {key!r} uses unknown placeholder(s) {bad}; allowed: {sorted(allowed)}")


def from_mapping(data: dict, base_dir: Path | None = None, environ: dict | None = None) -> GatewayConfig:
    """Validate a parsed TOML mapping and build the config."""
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ConfigError(f"unknown config key(s) {unknown}; known keys: {sorted(_KEYS)}")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ConfigError(f"missing required config key(s) {missing}")
    types = {"internal_domains": list}
    for key, value in data.items():
        f = _KEYS[key]
        if key == "smtp_users":
            if not (
                isinstance(value, dict)
                and all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items())
            ):
                raise ConfigError("config key 'smtp_users' must be a table of user = \"password\" strings")
            continue
        expected = types.get(key) or {"int": int, "float": float, "bool": bool, "str": str}[str(f.type)]
        _check_type(key, value, expected)
    cfg = GatewayConfig(**data)
    cfg.internal_domains = [d.strip().lower() for d in cfg.internal_domains]
    if not cfg.internal_domains:
        raise ConfigError("config key 'internal_domains' must list at least one domain")
    for d in cfg.internal_domains:
        if not _DOMAIN_RE.match(d):
            raise ConfigError(f"config key 'internal_domains': {d!r} is not a domain name")
    for key in ("smtp_port", "http_port", "relay_port"):
        if not 0 <= getattr(cfg, key) <= 65535:
            raise ConfigError(f"config key {key!r} must be between 0 and 65535")
    if cfg.relay_port == 0:
        raise ConfigError("config key 'relay_port' must be a real port, not 0")
    if not cfg.admin_token.strip():
        raise ConfigError("config key 'admin_token' must not be empty")
    if not cfg.database:
        raise ConfigError("config key 'database' must not be empty")
    if cfg.max_message_bytes < 1024:
        raise ConfigError("config key 'max_message_bytes' must be at least 1024")
    if cfg.max_recipients < 1:
        raise ConfigError("config key 'max_recipients' must be at least 1")
    if cfg.max_request_bytes == 0:
        cfg.max_request_bytes = 2 * cfg.max_message_bytes + 1024 * 1024
    for key, low in (
        ("max_request_bytes", 1024),
        ("delivery_max_attempts", 1),
        ("health_max_pending_age_s", 1),
        ("delivered_retention_s", 1),
        ("max_concurrent_bodies", 1),
        ("smtp_max_sessions", 1),
        ("smtp_idle_timeout_s", 1),
        ("smtp_data_timeout_s", 1),
        ("smtp_auth_max_failures", 1),
        ("smtp_auth_failure_delay_ms", 0),
        ("http_max_connections", 1),
        ("http_idle_timeout_s", 1),
        ("http_body_timeout_s", 1),
    ):
        if getattr(cfg, key) < low:
            raise ConfigError(f"config key {key!r} must be at least {low}")
    if cfg.public_base_url and not re.match(r"^https?://[^\s/]+", cfg.public_base_url):
        raise ConfigError("config key 'public_base_url' must start with http:// or https://")
    if cfg.notification_from and not re.match(r"^[^@\s<>]+@[^@\s<>]+$", cfg.notification_from):
        raise ConfigError("config key 'notification_from' must be a bare address like name@domain")
    if "\n" in cfg.banner_text or "\r" in cfg.notification_subject or "\n" in cfg.notification_subject:
        raise ConfigError("config keys 'banner_text' and 'notification_subject' must be one line")
    for key in TEMPLATE_FIELDS:
        _check_template(key, getattr(cfg, key))
    if cfg.smtp_tls not in ("none", "starttls", "implicit"):
        raise ConfigError(f'config key \'smtp_tls\' must be "none", "starttls" or "implicit", got {cfg.smtp_tls!r}')
    if (cfg.smtp_tls != "none" or cfg.http_tls) and not (cfg.tls_cert and cfg.tls_key):
        raise ConfigError(
            "config keys 'tls_cert' and 'tls_key' (PEM files) are needed with smtp_tls "
            '"starttls"/"implicit" or http_tls = true'
        )
    if cfg.smtp_auth_required and not (cfg.smtp_users or cfg.smtp_users_file):
        raise ConfigError("config key 'smtp_auth_required' needs accounts in 'smtp_users' or 'smtp_users_file'")
    try:
        cfg.active_variant = variants.resolve(cfg.variant, environ)
    except variants.UnknownVariant as exc:
        raise ConfigError(str(exc)) from None
    if base_dir is not None:
        for key in ("database", "ready_file", "tls_cert", "tls_key", "smtp_users_file"):
            value = getattr(cfg, key)
            if value and value != ":memory:" and not Path(value).is_absolute():
                setattr(cfg, key, str(base_dir / value))
    return cfg


def load_config(path: str | Path, environ: dict | None = None) -> GatewayConfig:
    """Read and validate a TOML config file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(p)!r}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {str(p)!r} is not valid TOML: {exc}") from None
    cfg = from_mapping(data, base_dir=p.resolve().parent, environ=environ)
    cfg.smtp_accounts()  # an unreadable or malformed users file is a config error, found at start
    for key in ("tls_cert", "tls_key"):
        value = getattr(cfg, key)
        if value and not Path(value).is_file():
            raise ConfigError(f"config key {key!r}: no such file {value!r}")
    return cfg
