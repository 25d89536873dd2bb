"""Owns: the independent gateway's SMTP submission server (desktop applications: Outlook, Mac).

Hand-written on socketserver (one thread per connection) rather than a library:
the reference uses aiosmtpd, and this implementation exists to be independent of
it; the subset needed (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) is small.
"""

from __future__ import annotations

import re
import socketserver
import sys

from tools.independent.gateway.engine import ADDRESS, APPLICATIONS, Engine, Refused, canonical_definition
from tools.independent.gateway.store import StorageError

PATH = re.compile(r"^(?:FROM|TO):\s*<([^>]*)>(.*)$", re.I)


class Handler(socketserver.StreamRequestHandler):
    engine: Engine
    timeout = 300

    def send(self, line: str) -> None:
        self.wfile.write(line.encode("utf-8") + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        cfg = self.engine.cfg
        self.send(f"220 {cfg.internal_domains[0]} Northwind Secure Mail ESMTP ready")
        mail_from: str | None = None
        rcpts: list[str] = []
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self.send(f"250-{cfg.internal_domains[0]} hello")
                self.send(f"250-SIZE {cfg.max_message_bytes}")
                self.send("250-8BITMIME")
                self.send("250-SMTPUTF8")
                self.send("250 HELP")
            elif verb == "HELO":
                self.send(f"250 {cfg.internal_domains[0]}")
            elif verb == "NOOP":
                self.send("250 2.0.0 OK")
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self.send("250 2.0.0 OK")
            elif verb == "QUIT":
                self.send("221 2.0.0 Bye")
                return
            elif verb == "MAIL":
                match = PATH.match(arg)
                if not match or not arg.upper().startswith("FROM:"):
                    self.send("501 5.5.4 Syntax: MAIL FROM:<address>")
                    continue
                address = match.group(1).strip()
                if (
                    not address
                    or not ADDRESS.match(address)
                    or address.rpartition("@")[2].lower() not in cfg.internal_domains
                ):
                    self.send(f"550 5.7.1 Relaying denied: <{address}> is not in an internal domain")
                    continue
                mail_from, rcpts = address, []
                self.send("250 2.1.0 OK")
            elif verb == "RCPT":
                match = PATH.match(arg)
                if mail_from is None:
                    self.send("503 5.5.1 Error: need MAIL command")
                elif not match or not arg.upper().startswith("TO:"):
                    self.send("501 5.5.4 Syntax: RCPT TO:<address>")
                elif not ADDRESS.match(match.group(1).strip()):
                    self.send(f"553 5.1.3 <{match.group(1)}> is not a valid mailbox")
                elif len(rcpts) >= cfg.max_recipients:
                    self.send(f"452 4.5.3 Too many recipients (at most {cfg.max_recipients})")
                else:
                    rcpts.append(match.group(1).strip())
                    self.send("250 2.1.5 OK")
            elif verb == "DATA":
                if mail_from is None:
                    self.send("503 5.5.1 Error: need MAIL command")
                    continue
                if not rcpts:
                    self.send("503 5.5.1 Error: need RCPT command")
                    continue
                self.send("354 End data with <CR><LF>.<CR><LF>")
                data, too_big = self.read_data(cfg.max_message_bytes)
                if data is None:
                    return
                self.send(self.end_of_data(bytes(data), mail_from, rcpts, too_big))
                mail_from, rcpts = None, []
            else:
                self.send("500 5.5.2 Error: command not recognized")

    def read_data(self, limit: int) -> tuple[bytearray | None, bool]:
        data = bytearray()
        too_big = False
        while True:
            raw = self.rfile.readline(1 << 20)
            if not raw:
                return None, too_big
            if raw in (b".\r\n", b".\n"):
                return data, too_big
            if raw.startswith(b".."):
                raw = raw[1:]
            if len(data) + len(raw) > limit:
                too_big = True
            if not too_big:
                data += raw

    def end_of_data(self, data: bytes, mail_from: str, rcpts: list[str], too_big: bool) -> str:
        engine = self.engine
        if too_big:
            return "552 5.3.4 Message too big"
        try:
            msg, raw = engine.parse(data)
            definition_header = msg.get("X-SM-Definition")
            definition = None
            if definition_header is not None:
                definition = canonical_definition(str(definition_header), engine.cfg)
                if definition is None:
                    if engine.cfg.on("alt-unknown-definition-as-all"):
                        definition = "All"
                    else:
                        return (
                            f"554 5.7.0 Unknown Secure Messaging definition '{definition_header}': "
                            "Secure Messaging Lite has exactly All, External"
                        )
                app_header = str(msg.get("X-SM-Application") or "outlook")
                app = APPLICATIONS.get(app_header.strip().lower())
                if app is None:
                    return (
                        f"554 5.7.0 Unknown application '{app_header}' for SMTP submission: use outlook "
                        "or mac (MPP and SM Portal send over HTTP)"
                    )
            else:
                app = "outlook"
            message_id = engine.accept(msg, mail_from, rcpts, app, definition, raw=raw)
        except Refused as refused:
            return refused.smtp
        except StorageError as exc:
            print(f"smtp: storage unavailable: {exc}", file=sys.stderr)
            return "451 4.3.0 Storage unavailable"
        except Exception as exc:  # a bug here must cost the client a retry, never its connection
            print(f"smtp: message not taken: {type(exc).__name__}: {exc}", file=sys.stderr)
            return "451 4.3.0 Internal error; try again later"
        return f"250 2.0.0 Queued as <{message_id}>"


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_server(engine: Engine, host: str, port: int) -> Server:
    handler = type("BoundHandler", (Handler,), {"engine": engine})
    return Server((host, port), handler)
