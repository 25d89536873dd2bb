"""Owns: starting the independent gateway: `python -m tools.independent.gateway --config FILE`.

Binds SMTP and HTTP (port 0: a free one), then writes `ready_file`; SIGTERM/SIGINT stop it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from werkzeug.serving import make_server as make_http_server

from tools.independent.gateway.config import Config
from tools.independent.gateway.engine import Engine
from tools.independent.gateway.relay import RelayWorker
from tools.independent.gateway.smtp import make_server as make_smtp_server
from tools.independent.gateway.store import Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.independent.gateway")
    parser.add_argument("--config", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        cfg = Config.load(args.config)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"northwind: bad configuration {args.config}: {exc}", file=sys.stderr)
        return 2
    store = Store(cfg.database)
    wake, stop = threading.Event(), threading.Event()
    engine = Engine(cfg, store, wake)
    smtp = make_smtp_server(engine, cfg.smtp_host, cfg.smtp_port)
    from tools.independent.gateway.web import create_app

    app = create_app(engine)
    http = make_http_server(cfg.http_host, cfg.http_port, app, threaded=True)
    smtp_port, http_port = smtp.server_address[1], http.server_port
    if not cfg.public_base_url:
        cfg.public_base_url = f"http://{cfg.http_host}:{http_port}"
    threads = [
        threading.Thread(target=smtp.serve_forever, name="smtp", daemon=True),
        threading.Thread(target=http.serve_forever, name="http", daemon=True),
        RelayWorker(cfg, store, wake, stop),
    ]
    for thread in threads:
        thread.start()
    print(
        f"northwind: {cfg.name} behaviour={cfg.behaviour or '(correct)'} smtp={cfg.smtp_host}:{smtp_port} "
        f"http={cfg.public_base_url}",
        file=sys.stderr,
        flush=True,
    )
    if cfg.ready_file:
        tmp = Path(cfg.ready_file + ".tmp")
        tmp.write_text(json.dumps({"smtp_port": smtp_port, "http_port": http_port, "pid": os.getpid()}))
        tmp.replace(cfg.ready_file)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    stop.set()
    wake.set()
    smtp.shutdown()
    http.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
