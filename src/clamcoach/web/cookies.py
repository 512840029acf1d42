"""The app's cookies (a paired phone's device session, a workspace sign-in, the sign-in form's
CSRF token): always HttpOnly, so no script can read them, and SameSite=Strict, so no other
site's page can make the browser send them; Secure where they belong to HTTPS."""

from __future__ import annotations

from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import Scope


def set_strict_cookie(response: Response, name: str, value: str, *, secure: bool,
                      max_age: int | None = None, path: str = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, secure=secure, httponly=True,
                        samesite="strict")


def cookie_in(scope: Scope, name: str) -> str | None:
    """The cookie ``name`` of a request, from its ASGI scope (for middleware, which has no
    ``Request``)."""
    for header, value in scope.get("headers") or []:
        if header == b"cookie":
            found = cookie_parser(value.decode("latin-1")).get(name)
            if found:
                return found
    return None
