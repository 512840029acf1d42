"""What the workspace is given: where the history lives, where the lesson is, upload limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

from clamcoach.accounts.ratelimit import SignInLimiter
from clamcoach.accounts.sessions import DEFAULT_TTL

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
    #: Opens the pose estimator for an upload (None: BlazePose).
    estimator_factory: Callable[[], Any] | None = None
    session_ttl: timedelta = DEFAULT_TTL
    limiter: SignInLimiter = field(default_factory=SignInLimiter)
