"""Pairing a phone: a single-use token shown as a QR code becomes a device session.

The computer's page shows ``https://ADDR:PORT/pair/TOKEN``. The token is random (256 bits),
works once, and expires after ten minutes; opening it gives the phone a device-session
cookie, which every other page, file and WebSocket on the network listener asks for. Tries
are limited per address, so guessing is hopeless as well as slow. Only hashes of tokens and
sessions are kept, compared by dictionary lookup (no timing leak from string comparison).

All of it is in memory: a restart of ``clamcoach serve`` unpairs every phone.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_BYTES = 32
TOKEN_TTL_S = 600.0
DEVICE_IDLE_S = 12 * 3600.0
MAX_DEVICES = 16
TRIES_PER_WINDOW = 10
TRY_WINDOW_S = 60.0
COOKIE = "clamcoach_device"


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class PairingToken:
    token: str
    expires_at: float  # on the book's clock

    def seconds_left(self, now: float) -> float:
        return max(0.0, self.expires_at - now)


class PairingBook:
    """Tokens waiting to be used and the device sessions they became."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, token_ttl_s: float = TOKEN_TTL_S,
                 device_idle_s: float = DEVICE_IDLE_S, max_devices: int = MAX_DEVICES) -> None:
        self._clock = clock
        self.token_ttl_s = token_ttl_s
        self.device_idle_s = device_idle_s
        self.max_devices = max_devices
        self._shown: PairingToken | None = None
        self._tokens: dict[bytes, float] = {}   # token digest -> expiry
        self._devices: dict[bytes, float] = {}  # session digest -> last seen

    def current(self) -> PairingToken:
        """The token to show now: the same one until it is used or expires."""
        now = self._clock()
        shown = self._shown
        if shown is None or shown.expires_at <= now or _digest(shown.token) not in self._tokens:
            shown = self.issue()
        return shown

    def seconds_left(self, token: PairingToken) -> float:
        return token.seconds_left(self._clock())

    def issue(self) -> PairingToken:
        now = self._clock()
        self._forget_expired(now)
        token = PairingToken(secrets.token_urlsafe(TOKEN_BYTES), now + self.token_ttl_s)
        self._tokens[_digest(token.token)] = token.expires_at
        self._shown = token
        return token

    def redeem(self, token: str) -> str | None:
        """A new device session for a valid token (which is used up), else None."""
        now = self._clock()
        expires = self._tokens.pop(_digest(token), None)
        if expires is None or expires <= now:
            return None
        while len(self._devices) >= self.max_devices:
            oldest = min(self._devices, key=self._devices.__getitem__)
            del self._devices[oldest]
        session = secrets.token_urlsafe(TOKEN_BYTES)
        self._devices[_digest(session)] = now
        return session

    def device_ok(self, session: str | None) -> bool:
        """Is ``session`` a live device session? (Seeing it keeps it alive.)"""
        if not session:
            return False
        now = self._clock()
        key = _digest(session)
        seen = self._devices.get(key)
        if seen is None or now - seen > self.device_idle_s:
            self._devices.pop(key, None)
            return False
        self._devices[key] = now
        return True

    @property
    def devices(self) -> int:
        return len(self._devices)

    def _forget_expired(self, now: float) -> None:
        for key, expires in list(self._tokens.items()):
            if expires <= now:
                del self._tokens[key]


class RateLimiter:
    """At most ``limit`` tries per ``window_s`` from one address (a sliding window)."""

    def __init__(self, limit: int = TRIES_PER_WINDOW, window_s: float = TRY_WINDOW_S, *,
                 clock: Callable[[], float] = time.monotonic, max_addresses: int = 4096) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max = max_addresses
        self._tries: dict[str, deque[float]] = {}

    def allow(self, address: str) -> bool:
        now = self._clock()
        tries = self._tries.setdefault(address, deque())
        while tries and now - tries[0] >= self.window_s:
            tries.popleft()
        if len(tries) >= self.limit:
            return False
        tries.append(now)
        if len(self._tries) > self._max:  # a flood of addresses must not grow memory forever
            self._tries = {a: t for a, t in self._tries.items() if t and now - t[-1] < self.window_s}
        return True
