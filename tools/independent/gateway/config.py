"""Owns: the independent gateway's TOML configuration (keys named in docs/contract.md plus `behaviour`)."""

from __future__ import annotations

import secrets
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tools.independent import behaviours


@dataclass
class Config:
    name: str = "Northwind Secure Mail"
    version: str = "1.0.0"
    internal_domains: list[str] = field(default_factory=lambda: ["northwind.test"])
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 0
    http_host: str = "127.0.0.1"
    http_port: int = 0
    public_base_url: str = ""
    database: str = "northwind.sqlite3"
    relay_host: str = "127.0.0.1"
    relay_port: int = 1025
    admin_token: str = field(default_factory=lambda: secrets.token_hex(16))
    test_clock: bool = False
    max_message_bytes: int = 10 * 1024 * 1024
    max_recipients: int = 100
    banner_text: str = "NORTHWIND SECURE: this message was sent to you as a Secure Message."
    notification_subject: str = "[Northwind Secure] {subject} (from {sender})"
    notification_text: str = (
        '{sender} sent you a secure message: "{subject}".\n\n'
        "The message itself is not in this email. Read it in the Secure Messaging Portal:\n"
        "{link}\n\n-- Northwind Secure Mail\n"
    )
    notification_from: str = ""
    behaviour: str = ""
    ready_file: str = ""

    def __post_init__(self) -> None:
        self.internal_domains = [d.strip().lower() for d in self.internal_domains if d.strip()]
        if not self.internal_domains:
            raise ValueError("internal_domains must name at least one domain")
        if self.behaviour:
            behaviours.get(self.behaviour)  # refuses an unknown name
        if not self.notification_from:
            self.notification_from = f"secure-mail@{self.internal_domains[0]}"

    def on(self, name: str) -> bool:
        """Is the named behaviour of tools/independent/behaviours.py switched on?"""
        return self.behaviour == name

    @classmethod
    def load(cls, path: str | Path) -> Config:
        data: dict[str, Any] = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown configuration keys: {', '.join(unknown)}")
        return cls(**data)
