"""Pairing tokens, device sessions and the pairing's rate limit, on a clock the test moves."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from clamcoach.web.pairing import TOKEN_TTL_S, PairingBook, pairing_limiter
from tests.web.helpers import FakeClock


def test_a_token_works_once_and_makes_a_device_session():
    clock = FakeClock()
    book = PairingBook(clock=clock)
    token = book.current()
    assert book.current() == token                      # shown until used
    assert len(token.token) >= 43                        # 256 bits, URL-safe
    session = book.redeem(token.token)
    assert session and book.device_ok(session)
    assert book.redeem(token.token) is None             # single use
    assert book.current() != token                       # a fresh one is shown next
    assert not book.device_ok(None) and not book.device_ok("") and not book.device_ok(token.token)


def test_a_token_expires_after_ten_minutes():
    clock = FakeClock()
    book = PairingBook(clock=clock)
    token = book.current()
    clock.now += TOKEN_TTL_S - 1
    assert book.seconds_left(token) == 1
    clock.now += 1
    assert book.redeem(token.token) is None
    fresh = book.current()
    assert fresh != token and book.redeem(fresh.token)


def test_device_sessions_end_when_idle_and_are_capped():
    clock = FakeClock()
    book = PairingBook(clock=clock, device_idle_s=100, max_devices=2)
    a = book.redeem(book.current().token)
    clock.now += 60
    assert book.device_ok(a)             # seen: kept alive
    clock.now += 99
    assert book.device_ok(a)
    clock.now += 101
    assert not book.device_ok(a)
    b, c, d = (book.redeem(book.current().token) for _ in range(3))
    assert book.devices == 2 and not book.device_ok(b) and book.device_ok(c) and book.device_ok(d)


@settings(max_examples=200)
@given(st.text(max_size=80))
def test_no_guessed_token_or_session_gets_in(guess):
    book = PairingBook(clock=FakeClock())
    real = book.current()
    if guess != real.token:
        assert book.redeem(guess) is None
    assert not book.device_ok(guess)


def test_ten_tries_a_minute_from_one_address():
    clock = FakeClock()
    limit = pairing_limiter(clock=clock)
    assert all(limit.allow("10.0.0.2") for _ in range(10))
    assert not limit.allow("10.0.0.2")
    assert limit.allow("10.0.0.3")                      # another address has its own count
    clock.now += 59.9
    assert not limit.allow("10.0.0.2")
    clock.now += 0.2
    assert limit.allow("10.0.0.2")
