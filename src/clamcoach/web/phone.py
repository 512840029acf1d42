"""Phone mode's routes: pairing, the CA certificate, and the pairing code for the computer's page.

    GET /pair/TOKEN     (network, open)   a valid token -> device-session cookie, then the page
    GET /pair           (network, open)   how to pair and how to trust the certificate
    GET /ca.crt         (network, open)   the local CA's certificate (never a key)
    GET /pairing        (this computer)   the current pairing address, as JSON
    GET /pairing/qr.svg (this computer)   ... and its QR code (segno)

"This computer" means the plain-HTTP loopback listener; over the network those two are 404,
so a phone cannot mint pairing tokens for anyone else.
"""

from __future__ import annotations

import io
import ipaddress
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from clamcoach.web.cookies import set_strict_cookie
from clamcoach.web.guard import is_tls
from clamcoach.web.i18n import catalogue, negotiate
from clamcoach.web.pages import STATIC, render
from clamcoach.web.pairing import COOKIE, PairingBook, pairing_limiter
from clamcoach.web.ratelimit import RateLimiter
from clamcoach.web.tls import ServerIdentity


@dataclass
class PhoneAccess:
    """Everything phone mode adds to the app (built by ``clamcoach serve --phone``)."""

    identity: ServerIdentity
    #: "https://ADDR:PORT", the address the phone opens.
    base_url: str
    book: PairingBook = field(default_factory=PairingBook)
    limiter: RateLimiter = field(default_factory=pairing_limiter)

    def pairing_url(self) -> str:
        return f"{self.base_url}/pair/{self.book.current().token}"


def _from_this_computer(request: Request) -> bool:
    client = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(client).is_loopback
    except ValueError:
        loopback = False
    return loopback and not is_tls(request.scope)


def _lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def phone_routes(access: PhoneAccess) -> list[Route]:
    def pair_page(request: Request, reason: str, status: int) -> HTMLResponse:
        lang = _lang(request)
        html = render("pair.html", catalogue(lang), reason=reason,
                      fingerprint=access.identity.ca_fingerprint)
        return HTMLResponse(html, status_code=status)

    async def pair(request: Request) -> Response:
        client = request.client.host if request.client else "?"
        if not access.limiter.allow(client):
            return pair_page(request, "too_many", 429)
        token = request.path_params.get("token")
        if token is None:
            return pair_page(request, "help", 200)
        session = access.book.redeem(token)
        if session is None:
            return pair_page(request, "invalid", 401)
        response = RedirectResponse("/", status_code=303)
        # Secure even when paired from this computer's plain listener: the device session is
        # for the HTTPS one.
        set_strict_cookie(response, COOKIE, session, secure=True, max_age=int(access.book.device_idle_s))
        return response

    async def ca_cert(_request: Request) -> Response:
        data = access.identity.ca_cert_path.read_bytes()
        return Response(data, media_type="application/x-x509-ca-cert",
                        headers={"content-disposition": 'attachment; filename="clamcoach-ca.crt"'})

    async def pairing(request: Request) -> Response:
        if not _from_this_computer(request):
            return JSONResponse({"error": "not found"}, status_code=404)
        token = access.book.current()
        return JSONResponse({"url": f"{access.base_url}/pair/{token.token}",
                             "expires_in_s": round(access.book.seconds_left(token)),
                             "ca_fingerprint": access.identity.ca_fingerprint,
                             "phones": access.book.devices})

    async def pairing_qr(request: Request) -> Response:
        if not _from_this_computer(request):
            return JSONResponse({"error": "not found"}, status_code=404)
        import segno

        buf = io.BytesIO()
        segno.make(access.pairing_url(), error="m").save(buf, kind="svg", scale=8, border=2,
                                                          dark="#000", light="#fff", xmldecl=False)
        return Response(buf.getvalue(), media_type="image/svg+xml", headers={"cache-control": "no-store"})

    async def pair_css(_request: Request) -> Response:
        return FileResponse(STATIC / "css" / "pair.css", media_type="text/css")

    return [
        Route("/pair/style.css", pair_css),  # before /pair/{token}: it would match too
        Route("/pair", pair),
        Route("/pair/{token}", pair),
        Route("/ca.crt", ca_cert),
        Route("/pairing", pairing),
        Route("/pairing/qr.svg", pairing_qr),
    ]
