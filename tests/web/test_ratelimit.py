"""The one rate limiter (pairing tries, failed sign-ins), on a clock the test moves."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from clamcoach.web.ratelimit import RateLimiter
from tests.web.helpers import FakeClock


@settings(max_examples=80, deadline=None)
@given(events=st.lists(st.floats(0, 2000), max_size=12), limit=st.integers(1, 6),
       window=st.floats(10, 900), probe=st.floats(0, 3000))
def test_the_sliding_window_law(events, limit, window, probe):
    """Blocked at time t exactly when ``limit`` events fall in (t - window, t]; the wait ends
    when the oldest of them ages out (in whole seconds, at least one)."""
    now = [0.0]
    limiter = RateLimiter(limit, window, clock=lambda: now[0])
    times = sorted(events)
    for t in times:
        now[0] = t
        limiter.count("user:x")
    now[0] = max(times[-1] if times else 0.0, probe)
    recent = [t for t in times if t > now[0] - window]
    wait = limiter.retry_after("user:x", "ip:other")
    if len(recent) >= limit:
        assert wait >= 1 and abs(wait - (recent[0] + window - now[0])) <= 1
        assert not limiter.allow("user:x")
    else:
        assert wait == 0
    limiter.clear("user:x")
    assert limiter.retry_after("user:x") == 0


def test_allow_counts_only_the_tries_it_lets_through():
    clock = FakeClock()
    limiter = RateLimiter(3, 60, clock=clock)
    assert [limiter.allow("a") for _ in range(5)] == [True, True, True, False, False]
    clock.now += 60                         # the three counted tries age out together
    assert limiter.allow("a")               # the refused ones never counted
    assert limiter.retry_after("a") == 0 and limiter.retry_after("b") == 0


def test_keys_are_counted_apart_and_together():
    limiter = RateLimiter(2, 100, clock=FakeClock())
    limiter.count("user:ann", "ip:10.0.0.2")
    limiter.count("user:bob", "ip:10.0.0.2")
    assert limiter.retry_after("ip:10.0.0.2") >= 1      # the address tried twice
    assert limiter.retry_after("user:ann") == 0 and limiter.retry_after("user:bob") == 0
    assert limiter.retry_after("user:ann", "ip:10.0.0.2") >= 1  # any blocked key blocks


def test_a_flood_of_addresses_does_not_grow_memory_forever():
    clock = FakeClock()
    limiter = RateLimiter(10, 60, clock=clock, max_keys=100)
    sizes = []
    for i in range(1000):                   # a new address every second, each trying once
        assert limiter.allow(f"10.0.{i // 256}.{i % 256}")
        sizes.append(limiter.tracked)
        clock.now += 1.0
    # past max_keys, the addresses whose tries aged out (all but the last minute's) are dropped
    assert max(sizes) == 100 and min(sizes[200:]) >= 60


def test_threads_never_let_more_through_than_the_limit():
    limiter = RateLimiter(50, 3600)
    allowed = []

    def hammer() -> None:
        allowed.extend(ok for ok in (limiter.allow("ip:x") for _ in range(40)) if ok)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 50
