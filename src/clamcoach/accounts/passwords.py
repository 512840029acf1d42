"""Password hashing with Argon2id, at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane):
on a shared 2-core machine argon2-cffi's default (64 MiB, 3 passes, 4 lanes) took 0.75 s a
hash, too slow for a sign-in page. A stored hash carries its own parameters, so raising them
later rehashes each password at its next sign-in."""

from __future__ import annotations

import functools

from clamcoach.errors import OptionalDependencyMissing, UsageError

MIN_LENGTH = 8
MAX_LENGTH = 1024  # Argon2 takes any length; this only stops absurd inputs early


@functools.cache
def _hasher():
    try:
        from argon2 import PasswordHasher
    except ImportError as exc:
        raise OptionalDependencyMissing(
            "accounts need argon2-cffi: pip install 'clamcoach[workspace]'") from exc
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def check_new_password(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise UsageError(f"a password must have {MIN_LENGTH} to {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_new_password(password)
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


@functools.cache
def dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so a wrong name takes as long
    as a wrong password (no user enumeration by timing)."""
    return _hasher().hash("clamcoach-no-such-user")
