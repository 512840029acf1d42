"""Running the app with uvicorn: in the foreground (``clamcoach serve``) or in a background
thread (tests, the latency benchmark)."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

#: A frame is ~30-60 kB; anything near this is not a frame from our page.
WS_MAX_BYTES = 4 * 1024 * 1024


def make_server(app: Any, host: str, port: int, log_level: str = "warning") -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, ws_max_size=WS_MAX_BYTES,
                            ws_ping_interval=10.0, ws_ping_timeout=20.0, lifespan="on",
                            access_log=False)
    return uvicorn.Server(config)


def bound_port(server: uvicorn.Server) -> int:
    for srv in server.servers:
        for sock in srv.sockets:
            return int(sock.getsockname()[1])
    raise RuntimeError("the server is not listening")


class BackgroundServer:
    """``with BackgroundServer(app) as url:`` serves ``app`` on 127.0.0.1 (a free port)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = make_server(app, host, port)
        self.thread = threading.Thread(target=self.server.run, name="clamcoach-web", daemon=True)
        self.host = host
        self.url = ""

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        self.url = f"http://{self.host}:{bound_port(self.server)}"
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
