"""Accounts: the workspace's security boundary. Users with a role (therapist or patient),
passwords hashed with Argon2id, server-side sign-in sessions (each with its CSRF token), and
the audit log (``clamcoach.storage.audit``). Tokens come from ``clamcoach.tokens``; the sign-in's
rate limit is the web app's one limiter (``clamcoach.web.ratelimit``).

Needs the ``workspace`` extra (argon2-cffi) and the ``storage`` extra.
"""

from clamcoach.accounts.roles import Principal, Role
from clamcoach.accounts.users import (
    UnknownUser,
    add_user,
    assign_patient,
    authenticate,
    list_users,
    patients_of,
    remove_user,
    therapist_of,
)

__all__ = ["Principal", "Role", "UnknownUser", "add_user", "assign_patient", "authenticate",
           "list_users", "patients_of", "remove_user", "therapist_of"]
