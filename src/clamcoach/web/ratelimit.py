"""One rate limiter for everything reachable that can be guessed at: pairing a phone (every try
counts) and signing in to the workspace (failures count, per user name and per address).

A key (an address, ``user:NAME``) is blocked while ``limit`` of its events fall in the last
``window_s`` seconds, until the oldest of them ages out: a sliding window. In memory, per
server process (``clamcoach serve`` is one process); thread-safe, since the workspace's
handlers run on worker threads. Keys whose events have all aged out are dropped once there
are more than ``max_keys``, so a flood of addresses cannot grow memory without end.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    def __init__(self, limit: int, window_s: float, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 4096) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> int:
        """Whole seconds until every one of ``keys`` may go again (0: now). A blocked key
        always waits at least a second (the time left can round to nothing)."""
        now = self._clock()
        with self._lock:
            return self._wait(keys, now)

    def count(self, *keys: str) -> None:
        """An event (a try, a failed sign-in) for each of ``keys``."""
        now = self._clock()
        with self._lock:
            self._count(keys, now)

    def allow(self, key: str) -> bool:
        """Count a try of ``key`` if it may go now; False (and nothing counted) if not."""
        now = self._clock()
        with self._lock:
            if self._wait((key,), now):
                return False
            self._count((key,), now)
            return True

    def clear(self, key: str) -> None:
        """Forget ``key``'s events (a user who signed in starts afresh)."""
        with self._lock:
            self._events.pop(key, None)

    @property
    def tracked(self) -> int:
        """How many keys are being tracked."""
        return len(self._events)

    def _wait(self, keys: tuple[str, ...], now: float) -> int:
        wait = 0.0
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self.limit:
                wait = max(wait, times[0] + self.window_s - now, 1.0)
        return math.ceil(wait)

    def _count(self, keys: tuple[str, ...], now: float) -> None:
        for key in keys:
            self._events.setdefault(key, deque()).append(now)
        if len(self._events) > self._max_keys:
            for key in list(self._events):
                if not self._recent(key, now):
                    del self._events[key]

    def _recent(self, key: str, now: float) -> deque[float]:
        """``key``'s events inside the window (older ones are dropped)."""
        times = self._events.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times
