"""What the workspace is given: where the history lives, where the lesson is, upload limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from clamcoach.accounts.sessions import DEFAULT_TTL
from clamcoach.web.ratelimit import RateLimiter

#: Sign-in: after this many failures in the window, for one user name or from one address,
#: that name or address waits until the oldest failure is out of the window.
SIGN_IN_FAILURES = 5
SIGN_IN_WINDOW_S = 900.0
#: The lesson video made by ``clamcoach synth --lesson`` (a checkout's copy).
REPO_LESSON = Path(__file__).resolve().parents[4] / "data" / "demo" / "lesson.mp4"


@dataclass
class WorkspaceConfig:
    #: The history database (a URL or a file path; None: $CLAMCOACH_DATABASE_URL or the default).
    database_url: str | None = None
    #: The lesson video patients watch and the exercise sheet's pictures come from.
    lesson_path: Path | None = field(default_factory=lambda: REPO_LESSON if REPO_LESSON.is_file() else None)
    #: Largest accepted upload.
    max_upload_bytes: int = 500 * 1024 * 1024
    session_ttl: timedelta = DEFAULT_TTL
    #: Counts failed sign-ins, per user name and per address.
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(SIGN_IN_FAILURES, SIGN_IN_WINDOW_S))
