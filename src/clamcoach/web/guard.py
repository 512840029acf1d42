"""The device-session check: on the network (HTTPS) listener, nothing without a paired phone.

A small ASGI middleware of its own, so other checks (the workspace's user sign-in) can sit
beside it: in phone mode a request must pass this one first. It looks only at connections
that came in over TLS; in phone mode the only plain-HTTP listener is the computer's own
loopback one, which is "this computer" exactly as in the default mode.

Open without a session: the pairing page (``/pair/...``), its stylesheet and the CA
certificate. Everything else gets 401; a WebSocket is accepted only to be closed at once with
1008 (policy violation), so the page can tell "not paired" from a network failure.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from clamcoach.web.cookies import cookie_in
from clamcoach.web.pairing import COOKIE, PairingBook

OPEN_PATHS = ("/ca.crt", "/pair", "/pair/style.css")
OPEN_PREFIX = "/pair/"
CLOSE_NOT_PAIRED = 1008
NOT_PAIRED = "not paired: scan the code on the computer's screen"


def is_tls(scope: Scope) -> bool:
    return scope.get("scheme") in ("https", "wss")


class DeviceSessionGuard:
    def __init__(self, app: ASGIApp, book: PairingBook) -> None:
        self.app = app
        self.book = book

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not is_tls(scope):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIX) or self.book.device_ok(cookie_in(scope, COOKIE)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http":
            await JSONResponse({"error": NOT_PAIRED}, status_code=401)(scope, receive, send)
            return
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_NOT_PAIRED, "reason": "not paired"})
