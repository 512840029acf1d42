"""Random secrets for links, cookies and forms (a phone's pairing link and device session, a
sign-in session, a CSRF token): made with ``secrets``, kept by servers only as SHA-256
digests, and compared in constant time.

Shared by the phone pairing (``web.pairing``) and the workspace's accounts, which have no
other dependency in common.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

#: 256 bits: guessing is hopeless, even without the rate limits.
TOKEN_BYTES = 32


def new_token(nbytes: int = TOKEN_BYTES) -> str:
    """A URL- and cookie-safe random token of ``nbytes`` random bytes."""
    return secrets.token_urlsafe(nbytes)


def digest(token: str) -> str:
    """What a server keeps of a token: its SHA-256, in hex. Any text has one (a guessed
    token from the network may hold anything)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    """``given`` is ``expected`` (neither empty), compared in constant time."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8", "surrogatepass"),
                               given.encode("utf-8", "surrogatepass"))
