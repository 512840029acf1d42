"""Sign-in rate limiting: after ``max_failures`` failed sign-ins for one key (a username, or
a client address) within ``window_s``, that key waits until the oldest failure ages out.

In memory, per server process: the workspace is served by one process.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable


class SignInLimiter:
    def __init__(self, max_failures: int = 5, window_s: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> int:
        """Seconds until any of ``keys`` may try again (0: now)."""
        now = self._clock()
        wait: float | None = None
        with self._lock:
            for key in keys:
                times = self._prune(key, now)
                if len(times) >= self.max_failures:
                    wait = max(wait or 0.0, times[0] + self.window_s - now)
        # Blocked means at least a second (the remaining time can round to nothing).
        return 0 if wait is None else max(1, math.ceil(wait))

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._prune(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times
