"""CSRF tokens: random, compared in constant time. A signed-in browser's token lives in its
server-side session; the sign-in form's lives in a short cookie (double submit)."""

from __future__ import annotations

import hmac
import secrets

FIELD = "csrf_token"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
