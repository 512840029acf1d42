"""Random tokens for links, cookies and forms: unguessable, stored as digests, compared safely."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from clamcoach.tokens import digest, new_token, tokens_match


def test_tokens_are_random_url_safe_and_long():
    made = {new_token() for _ in range(200)}
    assert len(made) == 200
    assert all(len(t) >= 43 and t.replace("-", "").replace("_", "").isalnum() for t in made)


def test_the_digest_is_sha256_in_hex():
    assert digest("abc") == hashlib.sha256(b"abc").hexdigest()


@given(st.text(max_size=60), st.text(max_size=60))
def test_any_text_has_a_digest_and_matches_only_itself(a, b):
    assert len(digest(a)) == 64           # even lone surrogates from a guessed cookie
    assert tokens_match(a, a) == bool(a)
    if a != b:
        assert not tokens_match(a, b)


def test_empty_or_missing_never_matches():
    t = new_token()
    assert not tokens_match(t, None) and not tokens_match(None, t)
    assert not tokens_match("", "") and not tokens_match(None, None)
