"""Pairing a phone: a single-use token shown as a QR code becomes a device session.

The computer's page shows ``https://ADDR:PORT/pair/TOKEN``. The token is random (256 bits),
works once, and expires after ten minutes; opening it gives the phone a device-session
cookie, which every other page, file and WebSocket on the network listener asks for. Tries
are limited per address, so guessing is hopeless as well as slow. Only hashes of tokens and
sessions are kept, compared by dictionary lookup (no timing leak from string comparison).

All of it is in memory: a restart of ``clamcoach serve`` unpairs every phone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from clamcoach.tokens import digest, new_token
from clamcoach.web.ratelimit import RateLimiter

TOKEN_TTL_S = 600.0
DEVICE_IDLE_S = 12 * 3600.0
MAX_DEVICES = 16
TRIES_PER_WINDOW = 10
TRY_WINDOW_S = 60.0
COOKIE = "clamcoach_device"


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
        self._tokens: dict[str, float] = {}   # token digest -> expiry
        self._devices: dict[str, float] = {}  # session digest -> last seen

    def current(self) -> PairingToken:
        """The token to show now: the same one until it is used or expires."""
        now = self._clock()
        shown = self._shown
        if shown is None or shown.expires_at <= now or digest(shown.token) not in self._tokens:
            shown = self.issue()
        return shown

    def seconds_left(self, token: PairingToken) -> float:
        return token.seconds_left(self._clock())

    def issue(self) -> PairingToken:
        now = self._clock()
        self._forget_expired(now)
        token = PairingToken(new_token(), now + self.token_ttl_s)
        self._tokens[digest(token.token)] = token.expires_at
        self._shown = token
        return token

    def redeem(self, token: str) -> str | None:
        """A new device session for a valid token (which is used up), else None."""
        now = self._clock()
        expires = self._tokens.pop(digest(token), None)
        if expires is None or expires <= now:
            return None
        while len(self._devices) >= self.max_devices:
            oldest = min(self._devices, key=self._devices.__getitem__)
            del self._devices[oldest]
        session = new_token()
        self._devices[digest(session)] = now
        return session

    def device_ok(self, session: str | None) -> bool:
        """Is ``session`` a live device session? (Seeing it keeps it alive.)"""
        if not session:
            return False
        now = self._clock()
        key = digest(session)
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


def pairing_limiter(*, clock: Callable[[], float] = time.monotonic) -> RateLimiter:
    """At most ``TRIES_PER_WINDOW`` pairing tries a minute from one address, right or wrong."""
    return RateLimiter(TRIES_PER_WINDOW, TRY_WINDOW_S, clock=clock)
