"""The gateway's error for a refused request, and the words of its use cases.

Owns ``GatewayError`` (an HTTP status, an error code, a message: what the HTTP front end answers) and
``NEVER`` (the expiry the definitions give).
"""

from __future__ import annotations

NEVER = "Never Expire"


class GatewayError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
