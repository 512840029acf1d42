"""Running the app with uvicorn: in the foreground (``clamcoach serve``) or in a background
thread (tests, the latency benchmark); over HTTPS when given the phone-mode certificates."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any, Literal

from starlette.types import ASGIApp

import uvicorn

from clamcoach.web.tls import ServerIdentity

#: A frame is ~30-60 kB; anything near this is not a frame from our page.
WS_MAX_BYTES = 4 * 1024 * 1024
#: uvicorn's lifespan modes: "off" for a second listener of an app already served.
Lifespan = Literal["auto", "on", "off"]


def make_server(app: ASGIApp, host: str, port: int, log_level: str = "warning", *,
                tls: ServerIdentity | None = None, lifespan: Lifespan = "on") -> uvicorn.Server:
    ssl: dict[str, Any] = {}
    if tls is not None:
        ssl = {"ssl_certfile": str(tls.cert_path), "ssl_keyfile": str(tls.key_path)}
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, ws_max_size=WS_MAX_BYTES,
                            ws_ping_interval=10.0, ws_ping_timeout=20.0, lifespan=lifespan,
                            access_log=False, **ssl)
    return uvicorn.Server(config)


def bound_port(server: uvicorn.Server) -> int:
    for srv in server.servers:
        for sock in srv.sockets:
            return int(sock.getsockname()[1])
    raise RuntimeError("the server is not listening")


async def serve_together(listeners: list[tuple[uvicorn.Server, socket.socket]]) -> None:
    """Run several servers of one app in one event loop (phone mode: the network's HTTPS
    listener and the computer's own); when one stops (Ctrl+C reaches one), all stop."""
    servers = [server for server, _ in listeners]

    async def stop_together() -> None:
        while not any(s.should_exit for s in servers):
            await asyncio.sleep(0.1)
        for s in servers:
            s.should_exit = True

    follower = asyncio.create_task(stop_together())
    try:
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in listeners))
    finally:
        follower.cancel()


class BackgroundServer:
    """``with BackgroundServer(app) as url:`` serves ``app`` on 127.0.0.1 (a free port);
    ``tls`` makes it HTTPS, ``lifespan="off"`` a second listener of an app already served."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *,
                 tls: ServerIdentity | None = None, lifespan: Lifespan = "on") -> None:
        self.server = make_server(app, host, port, tls=tls, lifespan=lifespan)
        self.thread = threading.Thread(target=self.server.run, name="clamcoach-web", daemon=True)
        self.host = host
        self.scheme = "https" if tls is not None else "http"
        self.url = ""

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        self.url = f"{self.scheme}://{self.host}:{bound_port(self.server)}"
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
