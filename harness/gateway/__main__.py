"""Entry point: ``python -m harness.gateway --config FILE.toml``.

Owns process life: config loading (exit 2 on a bad config, no traceback),
binding both listeners (port 0 = a free port; the sockets are bound here so
the real ports are known), running aiosmtpd and uvicorn in one asyncio loop,
writing ``ready_file`` once both accept connections, logging to stderr, and a
clean shutdown on SIGTERM/SIGINT (listeners closed, delivery worker stopped,
database closed). Started by a harness, it also shuts down when that harness
is gone, however it died (harness/gateway/lifeline.py: the same SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sqlite3
import ssl
import sys
from pathlib import Path

import uvicorn

from . import smtp_server
from .clock import Clock
from .config import ConfigError, load_config
from .definitions import Catalogue
from .delivery import DeliveryWorker
from .http_app import create_app
from .latency import DeliveryDelay
from .limits import BodySlots, bounded_http_protocol
from .service import Gateway
from .store import Store

log = logging.getLogger("smlite.gateway")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the gateway owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose proto is IPPROTO_TCP;
    # with Nagle on, a keep-alive HTTP response or a multi-line SMTP reply waits ~40 ms for a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)  # a burst of connections waits in the kernel; the caps decide who is served
    sock.setblocking(False)
    return sock


def _write_ready(path: str, data: dict) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, p)


async def _run(cfg) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    smtp_sock = _bind(cfg.smtp_host, cfg.smtp_port)
    http_sock = _bind(cfg.http_host, cfg.http_port)
    smtp_port = smtp_sock.getsockname()[1]
    cfg.http_port = http_sock.getsockname()[1]

    store = Store(cfg.database)
    store.first_attempt = DeliveryDelay(cfg.delivery_delay_s, cfg.delivery_jitter_s, cfg.delivery_seed)
    worker = DeliveryWorker(
        store,
        cfg.relay_host,
        cfg.relay_port,
        max_attempts=cfg.delivery_max_attempts,
        notification_from=cfg.sender_address(),
        domain=cfg.internal_domains[0],
        retention_s=cfg.delivered_retention_s,
    )
    store.on_commit = worker.wake
    clock = Clock(store, cfg.test_clock)
    catalogue = Catalogue(cfg.active_variant)
    gateway = Gateway(cfg, store, clock, catalogue)
    worker.compose = gateway.item_bytes  # rows that are the message itself are composed when delivered
    slots = BodySlots(cfg.max_concurrent_bodies)  # shared by SMTP and HTTP
    app = create_app(cfg, store, gateway, catalogue, clock, slots=slots)

    smtp = await smtp_server.start(gateway, smtp_sock, slots)
    tls = {"ssl_certfile": cfg.tls_cert, "ssl_keyfile": cfg.tls_key} if cfg.http_tls else {}
    server = _Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=3,
            http=bounded_http_protocol(cfg),
            timeout_keep_alive=cfg.http_idle_timeout_s,
            **tls,
        )
    )
    serve = asyncio.create_task(server.serve(sockets=[http_sock]))
    pending = store.pending_count()
    worker.start()
    while not server.started and not serve.done():
        await asyncio.sleep(0.01)  # poll: uvicorn offers no "started" event
    if serve.done():
        serve.result()
        return
    log.info(
        "gateway %r listening: smtp %s:%d (tls %s, auth %s), http %s (relay %s:%d, variant %s, %d pending deliveries)",
        cfg.name,
        cfg.smtp_host,
        smtp_port,
        cfg.smtp_tls,
        "required" if cfg.smtp_auth_required else "optional" if cfg.smtp_accounts() else "off",
        gateway.base_url,
        cfg.relay_host,
        cfg.relay_port,
        cfg.active_variant or "none",
        pending,
    )
    if cfg.ready_file:
        _write_ready(cfg.ready_file, {"smtp_port": smtp_port, "http_port": cfg.http_port, "pid": os.getpid()})

    stop_wait = asyncio.create_task(stop.wait())
    await asyncio.wait({serve, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    log.info("gateway stopping")
    server.should_exit = True
    smtp.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(smtp.wait_closed(), 3)
    await serve
    stop_wait.cancel()
    await loop.run_in_executor(None, worker.stop)
    store.close()
    if cfg.ready_file:
        with contextlib.suppress(OSError):
            os.unlink(cfg.ready_file)
    log.info("gateway stopped")


def openapi_document() -> dict:
    """The served OpenAPI document, built without starting anything (it does not depend on the config)."""
    from .config import from_mapping

    cfg = from_mapping({"internal_domains": ["corp.example"], "database": ":memory:", "admin_token": "-"}, environ={})
    store = Store(":memory:")
    clock = Clock(store, False)
    catalogue = Catalogue()
    return create_app(cfg, store, Gateway(cfg, store, clock, catalogue), catalogue, clock).openapi()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.gateway", description="smlite reference gateway (Secure Messaging Lite target)"
    )
    parser.add_argument("--config", help="gateway config file (TOML)")
    parser.add_argument(
        "--openapi",
        action="store_true",
        help="print the OpenAPI document the gateway serves at /openapi.json, and exit",
    )
    args = parser.parse_args(argv)
    if args.openapi:
        print(json.dumps(openapi_document(), indent=2, sort_keys=True))
        return 0
    if not args.config:
        parser.error("--config is required")
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"gateway: bad config: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s gateway[%(process)d] %(levelname)s %(message)s"
    )
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from harness.gateway import lifeline

    lifeline.watch()  # the harness gone (even SIGKILLed) -> SIGTERM -> the clean shutdown below
    try:
        asyncio.run(_run(cfg))
    except ConfigError as exc:
        print(f"gateway: bad config: {exc}", file=sys.stderr)
        return 2
    except ssl.SSLError as exc:
        print(f"gateway: bad config: tls_cert/tls_key cannot be used: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"gateway: cannot start: {exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(f"gateway: cannot use the database {cfg.database!r}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
