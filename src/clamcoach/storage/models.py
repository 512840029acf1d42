"""The history database's tables, as typed SQLAlchemy 2 ORM classes.

Only numbers and short texts are stored: no images and no video, and the path of a video
only when the user asked to keep it (``--keep-video``). The schema itself is created and
changed only by the Alembic migrations in ``migrations/versions``; keep the two in step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SEVERITIES = ("info", "warn", "error")
KINDS = ("analyze", "live")
ROLES = ("therapist", "patient")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PatientRecord:
    """A row of a patient's record (a prescription version, a session, a pain rating): its id,
    and the patient it belongs to, whose erasure erases it. First in the table (sort_order)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-1)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), sort_order=-1)


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    sessions: Mapped[list[Session]] = relationship(back_populates="patient")
    prescriptions: Mapped[list[Prescription]] = relationship(back_populates="patient")


class Prescription(PatientRecord, Base):
    """One version of a patient's prescription; a change adds a version, never edits one."""

    __tablename__ = "prescriptions"
    __table_args__ = (UniqueConstraint("patient_id", "version", name="uq_prescriptions_version"),)

    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sets: Mapped[int | None] = mapped_column(Integer)
    reps: Mapped[int | None] = mapped_column(Integer)
    hold_s: Mapped[float | None] = mapped_column(Float)
    tempo: Mapped[str | None] = mapped_column(String(40))  # "up-hold-down" seconds, e.g. "2-2-2"
    side: Mapped[str | None] = mapped_column(String(10))  # left | right | both
    band: Mapped[str | None] = mapped_column(String(40))
    sessions_per_week: Mapped[int | None] = mapped_column(Integer)  # added in revision 0003
    # A nested dict patch for load_protocol(patch=...), e.g. {"roll_back": {"error_deg": 12}}.
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)

    patient: Mapped[Patient] = relationship(back_populates="prescriptions")


class Session(PatientRecord, Base):
    """One analysed video or live session: its numbers, never its pictures."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("kind IN ('analyze', 'live')", name="kind"),
        Index("ix_sessions_patient_recorded", "patient_id", "recorded_at"),
    )

    prescription_id: Mapped[int | None] = mapped_column(
        ForeignKey("prescriptions.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(10))
    schema: Mapped[str | None] = mapped_column(String(40))
    source_name: Mapped[str | None] = mapped_column(String(300))  # file name only, no folder
    fps: Mapped[float | None] = mapped_column(Float)
    frames: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    camera_view: Mapped[str | None] = mapped_column(String(20))
    top_side: Mapped[str | None] = mapped_column(String(10))
    pose_coverage: Mapped[float | None] = mapped_column(Float)
    hip_flexion_deg: Mapped[float | None] = mapped_column(Float)
    knee_flexion_deg: Mapped[float | None] = mapped_column(Float)
    forward_roll_deg: Mapped[float | None] = mapped_column(Float)
    hand_on_hip: Mapped[bool | None] = mapped_column(Boolean)  # None: could not be told
    rep_count: Mapped[int] = mapped_column(Integer, default=0)
    clean_reps: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    video_path: Mapped[str | None] = mapped_column(Text)  # only with --keep-video
    # The whole analysis report (clamcoach.analysis/1: numbers and texts, no images) as
    # saved; NULL for sessions saved before revision 0003.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    patient: Mapped[Patient] = relationship(back_populates="sessions")
    reps: Mapped[list[Rep]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Rep.index"
    )
    findings: Mapped[list[Finding]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Finding.id"
    )
    series: Mapped[SessionSeries | None] = relationship(cascade="all, delete-orphan")


class Rep(Base):
    __tablename__ = "reps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    index: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float | None] = mapped_column(Float)
    peak_s: Mapped[float | None] = mapped_column(Float)
    end_s: Mapped[float | None] = mapped_column(Float)
    opening_deg: Mapped[float | None] = mapped_column(Float)
    knee_lift_cm: Mapped[float | None] = mapped_column(Float)
    roll_back_deg: Mapped[float | None] = mapped_column(Float)
    trunk_roll_back_deg: Mapped[float | None] = mapped_column(Float)  # added in revision 0002
    ankle_gap_cm: Mapped[float | None] = mapped_column(Float)
    up_s: Mapped[float | None] = mapped_column(Float)
    hold_s: Mapped[float | None] = mapped_column(Float)
    down_s: Mapped[float | None] = mapped_column(Float)
    roll_confidence: Mapped[float | None] = mapped_column(Float)
    clean: Mapped[bool] = mapped_column(default=True)  # no warn/error finding

    session: Mapped[Session] = relationship(back_populates="reps")
    findings: Mapped[list[Finding]] = relationship(back_populates="rep", order_by="Finding.id")


class Finding(Base):
    """A finding of the setup (``rep_id`` NULL) or of one rep."""

    __tablename__ = "findings"
    __table_args__ = (CheckConstraint("severity IN ('info', 'warn', 'error')", name="severity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text)

    session: Mapped[Session] = relationship(back_populates="findings")
    rep: Mapped[Rep | None] = relationship(back_populates="findings")


class SessionSeries(Base):
    """A thinned copy of the per-frame measures (a few per second), for later plots.

    Added in revision 0002. ``data`` maps a column name ("t", "opening_deg", ...) to a list.
    """

    __tablename__ = "session_series"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    hz: Mapped[float] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


# ---- the workspace (revision 0003) ------------------------------------------------------


class User(Base):
    """Someone who signs in: a therapist, or a patient linked to their patient record."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('therapist', 'patient')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(Text)  # Argon2id, with its parameters
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PatientTherapist(Base):
    """Which therapist looks after a patient (one each; none for a history-only patient)."""

    __tablename__ = "patient_therapist"

    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    therapist_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                              index=True)


class AuthSession(Base):
    """A signed-in browser. Only a hash of the cookie's token is stored."""

    __tablename__ = "auth_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Who read or changed what about which patient, when. ``patient_id`` is a plain number,
    not a foreign key: an erased patient's tombstone entry outlives the patient."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_patient_at", "patient_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(80))  # a username, kept if the user goes
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)


class PainRating(PatientRecord, Base):
    """A patient's pain after a set or an upload: 0-10 on the numeric rating scale."""

    __tablename__ = "pain_ratings"
    __table_args__ = (
        CheckConstraint("rating >= 0 AND rating <= 10", name="rating"),
        Index("ix_pain_ratings_patient_at", "patient_id", "recorded_at"),
    )

    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rating: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
