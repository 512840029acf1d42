"""The history store: save analyses, read history and trends, keep prescriptions.

Every public method runs in its own short transaction, so a failure leaves the database as
it was, and every SQLAlchemy error leaves here as :class:`StorageError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import selectinload

from clamcoach.errors import StorageError, UsageError
from clamcoach.jsonio import rounded
from clamcoach.series import FrameSeries
from clamcoach.storage import db, prescription, records, stats
from clamcoach.storage import models as m

HISTORY_SCHEMA = "clamcoach.history/1"


class UnknownPatient(UsageError):
    """No patient of that name is in the history."""


def open_store(url: str | None = None, *, migrate: bool = True) -> "Store":
    """Open (creating and upgrading as needed) the history database.

    ``url``: a SQLAlchemy URL or a file path; default $CLAMCOACH_DATABASE_URL, else
    ``history.sqlite`` in the user's data folder."""
    resolved = db.resolve_url(url)
    engine, write_engine = db.create(resolved)
    try:
        if migrate:
            db.migrate(write_engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(resolved, engine, write_engine)


def _patient_name(name: str) -> str:
    text = str(name).strip()
    if not text or len(text) > 200:
        raise UsageError("a patient name must have 1 to 200 characters")
    return text


class Store:
    def __init__(self, url: str, engine: Engine, write_engine: Engine) -> None:
        self.url = url
        self._engine = engine
        self._write_engine = write_engine

    # ---- plumbing -----------------------------------------------------------------------

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def backend(self) -> str:
        return self._engine.dialect.name

    @contextlib.contextmanager
    def transaction(self, write: bool = False) -> Iterator[OrmSession]:
        """One transaction; committed on success, rolled back on any error (which leaves as
        StorageError). For the modules beside this one (accounts, pain ratings, erasure)."""
        engine = self._write_engine if write else self._engine
        try:
            with OrmSession(engine, expire_on_commit=False) as s, s.begin():
                yield s
        except records.BadReport as exc:
            raise StorageError(f"nothing saved: {exc}") from exc
        except SQLAlchemyError as exc:
            reason = getattr(exc, "orig", None) or exc
            raise StorageError(f"history database error (nothing saved): {reason}") from exc

    @staticmethod
    def _find_patient(s: OrmSession, name: str, *, lock: bool = False) -> m.Patient | None:
        q = select(m.Patient).where(m.Patient.name == _patient_name(name))
        return s.scalars(q.with_for_update() if lock else q).one_or_none()

    def _patient(self, s: OrmSession, name: str) -> m.Patient:
        found = self._find_patient(s, name)
        if found is None:
            raise UnknownPatient(f"no patient named {name!r} in the history")
        return found

    def _get_or_create_patient(self, s: OrmSession, name: str) -> m.Patient:
        found = self._find_patient(s, name, lock=True)
        if found is not None:
            return found
        # A savepoint: if another process creates the same patient first (PostgreSQL),
        # use theirs instead of failing the whole save.
        try:
            with s.begin_nested():
                patient = m.Patient(name=_patient_name(name), created_at=records.utc(None))
                s.add(patient)
            return patient
        except IntegrityError:
            return self._patient(s, name)

    @staticmethod
    def _active(s: OrmSession, patient_id: int) -> m.Prescription | None:
        return s.scalars(
            select(m.Prescription)
            .where(m.Prescription.patient_id == patient_id)
            .order_by(m.Prescription.version.desc())
            .limit(1)
        ).one_or_none()

    # ---- patients -----------------------------------------------------------------------

    def add_patient(self, name: str) -> None:
        with self.transaction(write=True) as s:
            self._get_or_create_patient(s, name)

    def patients(self) -> list[dict[str, Any]]:
        """Every patient with their session count and last session time, by name."""
        with self.transaction() as s:
            rows = s.execute(
                select(m.Patient, func.count(m.Session.id), func.max(m.Session.recorded_at))
                .outerjoin(m.Session)
                .group_by(m.Patient.id)
                .order_by(m.Patient.name)
            ).all()
            return [
                {
                    "name": p.name,
                    "created_at": records.from_db_time(p.created_at).isoformat(),
                    "sessions": n,
                    "last_session": records.from_db_time(last).isoformat() if last else None,
                }
                for p, n, last in rows
            ]

    def delete_patient(self, name: str) -> None:
        """Remove a patient and everything stored about them (their sign-in too)."""
        with self.transaction(write=True) as s:
            delete_patient_rows(s, self._patient(s, name).id)

    def patient_name(self, patient_id: int) -> str:
        """The name of the patient with this id (UnknownPatient when there is none)."""
        with self.transaction() as s:
            found = s.get(m.Patient, patient_id)
            if found is None:
                raise UnknownPatient(f"no patient number {patient_id} in the history")
            return found.name

    def patient_id(self, name: str) -> int:
        with self.transaction() as s:
            return self._patient(s, name).id

    # ---- sessions -----------------------------------------------------------------------

    def save_analysis(
        self,
        patient: str,
        report: Mapping[str, Any],
        frames: FrameSeries | None = None,
        *,
        kind: str = "analyze",
        video_path: str | None = None,
        recorded_at: datetime | None = None,
    ) -> int:
        """Store one analysis report (and a thinned copy of its per-frame measures) as a
        session of ``patient`` (created if new), in one transaction. Returns the session id.

        ``video_path`` is stored only if given (the user asked to keep the video)."""
        if kind not in m.KINDS:
            raise UsageError(f"session kind must be one of {', '.join(m.KINDS)}, got {kind!r}")
        with self.transaction(write=True) as s:
            sess = records.build_session(
                report, frames, kind=kind, video_path=video_path, recorded_at=recorded_at
            )
            patient_row = self._get_or_create_patient(s, patient)
            active = self._active(s, patient_row.id)
            sess.prescription_id = active.id if active else None
            sess.patient = patient_row
            s.add(sess)
            s.flush()
            return sess.id

    def sessions_on(self, patient: str, day_start: datetime, day_end: datetime) -> int:
        """How many sessions ``patient`` has between the two times (0 for a new patient)."""
        with self.transaction() as s:
            p = self._find_patient(s, patient)
            if p is None:
                return 0
            return s.scalar(select(func.count(m.Session.id)).where(
                m.Session.patient_id == p.id, m.Session.recorded_at >= records.utc(day_start),
                m.Session.recorded_at < records.utc(day_end))) or 0

    def _sessions(self, s: OrmSession, patient_id: int) -> list[m.Session]:
        return list(s.scalars(
            select(m.Session)
            .where(m.Session.patient_id == patient_id)
            .order_by(m.Session.recorded_at, m.Session.id)
            .options(
                selectinload(m.Session.reps).selectinload(m.Rep.findings),
                selectinload(m.Session.findings),
            )
        ))

    @staticmethod
    def _session_dict(sess: m.Session, versions: dict[int, int]) -> dict[str, Any]:
        reps = [records.rep_dict(r) for r in sess.reps]
        findings = [records.finding_dict(f) for f in sess.findings]
        out = {
            "id": sess.id,
            "recorded_at": records.from_db_time(sess.recorded_at).isoformat(),
            "kind": sess.kind,
            "source_name": sess.source_name,
            "duration_s": sess.duration_s,
            "camera_view": sess.camera_view,
            "top_side": sess.top_side,
            "pose_coverage": sess.pose_coverage,
            "reps": sess.rep_count,
            "clean_reps": sess.clean_reps,
            "clean_rate": rounded(sess.clean_reps / sess.rep_count, 3) if sess.rep_count else None,
            "prescription_version": versions.get(sess.prescription_id),
            "video_path": sess.video_path,
        }
        out.update(stats.session_summary(reps, findings))
        return out

    def _versions(self, s: OrmSession, patient_id: int) -> dict[int, int]:
        return dict(s.execute(
            select(m.Prescription.id, m.Prescription.version)
            .where(m.Prescription.patient_id == patient_id)
        ).all())

    def history(self, patient: str) -> list[dict[str, Any]]:
        """The patient's sessions, oldest first, each summarised (no per-rep detail)."""
        with self.transaction() as s:
            p = self._patient(s, patient)
            versions = self._versions(s, p.id)
            return [self._session_dict(x, versions) for x in self._sessions(s, p.id)]

    def session(self, session_id: int) -> dict[str, Any]:
        """One session in full: setup, reps with their findings, warnings, series."""
        with self.transaction() as s:
            sess = s.get(m.Session, session_id)
            if sess is None:
                raise UsageError(f"no session {session_id} in the history")
            return self._detail(s, sess, self._versions(s, sess.patient_id))

    def _detail(self, s: OrmSession, sess: m.Session, versions: dict[int, int]) -> dict:
        out = self._session_dict(sess, versions)
        out.update({
            "patient": sess.patient.name,
            "schema": sess.schema,
            "fps": sess.fps,
            "frames": sess.frames,
            "setup": {
                "hip_flexion_deg": sess.hip_flexion_deg,
                "knee_flexion_deg": sess.knee_flexion_deg,
                "forward_roll_deg": sess.forward_roll_deg,
                "hand_on_hip": sess.hand_on_hip,
                "findings": [records.finding_dict(f) for f in sess.findings if f.rep_id is None],
            },
            "rep_detail": [records.rep_dict(r) for r in sess.reps],
            "warnings": list(sess.warnings or []),
            "series": dict(sess.series.data) if sess.series else None,
            "report": dict(sess.report) if sess.report else None,
        })
        return out

    def trends(self, patient: str) -> list[dict[str, Any]]:
        """Per ISO week, oldest first: sessions, reps, clean reps and rate, mean opening,
        mean and worst roll-back, mean hold."""
        with self.transaction() as s:
            p = self._patient(s, patient)
            rows = [
                {
                    "recorded_at": records.from_db_time(x.recorded_at),
                    "rep_count": x.rep_count,
                    "clean_reps": x.clean_reps,
                    "reps": [{"opening_deg": r.opening_deg, "roll_back_deg": r.roll_back_deg,
                              "hold_s": r.hold_s} for r in x.reps],
                }
                for x in self._sessions(s, p.id)
            ]
        return stats.weekly_trends(rows)

    # ---- prescriptions ------------------------------------------------------------------

    def prescribe(
        self,
        patient: str,
        *,
        overrides: Mapping[str, Any] | None = None,
        replace_overrides: bool = False,
        note: str | None = None,
        **fields: Any,
    ) -> int:
        """Add a prescription version for ``patient`` (created if new); returns the version.

        ``fields``: sets, reps, hold_s, tempo ("up-hold-down" s), side (left/right/both),
        band. Fields not given keep the previous version's values. ``overrides`` is a
        nested protocol patch merged onto the previous one (or replacing it with
        ``replace_overrides``). The result is validated with ``load_protocol`` first."""
        cleaned = prescription.clean_fields(**fields)
        with self.transaction(write=True) as s:
            p = self._get_or_create_patient(s, patient)
            prev = self._active(s, p.id)
            base = records.prescription_dict(prev) if prev else {}
            new = {k: base.get(k) for k in prescription.FIELDS} | cleaned
            prev_over = {} if replace_overrides else base.get("overrides", {})
            new["overrides"] = prescription.merge(prev_over, overrides or {})
            prescription.validate(new)
            version = (prev.version if prev else 0) + 1
            s.add(m.Prescription(
                patient=p, version=version, created_at=records.utc(None),
                note=note, **new,
            ))
            return version

    def active_prescription(self, patient: str) -> dict[str, Any] | None:
        """The newest prescription version, or None (also for an unknown patient)."""
        with self.transaction() as s:
            p = self._find_patient(s, patient)
            active = self._active(s, p.id) if p else None
            return records.prescription_dict(active) if active else None

    def prescriptions(self, patient: str) -> list[dict[str, Any]]:
        """Every version, oldest first."""
        with self.transaction() as s:
            p = self._patient(s, patient)
            return [records.prescription_dict(x) for x in sorted(p.prescriptions,
                                                                  key=lambda x: x.version)]

    def protocol_patch(self, patient: str) -> dict[str, Any]:
        """The patient's active prescription as a ``load_protocol(patch=...)`` patch ({}
        when there is none)."""
        return prescription.protocol_patch(self.active_prescription(patient))

    active_prescription_patch = protocol_patch  # the name `clamcoach analyze --patient` uses

    # ---- export -------------------------------------------------------------------------

    def export(self, patient: str) -> dict[str, Any]:
        """Everything stored about ``patient`` as one JSON-ready dict."""
        with self.transaction() as s:
            p = self._patient(s, patient)
            versions = self._versions(s, p.id)
            sessions = [self._detail(s, x, versions) for x in self._sessions(s, p.id)]
            prescriptions = [records.prescription_dict(x) for x in sorted(
                p.prescriptions, key=lambda x: x.version)]
            name = p.name
        return {
            "schema": HISTORY_SCHEMA,
            "patient": name,
            "exported_at": datetime.now(timezone.utc).isoformat(),
            "prescriptions": prescriptions,
            "sessions": sessions,
            "trends": self.trends(name),
        }


def delete_patient_rows(s: OrmSession, pid: int) -> None:
    """Every row about patient ``pid``, in child-first order, as bulk deletes: correct whether
    or not the backend enforces ON DELETE CASCADE. (Audit entries are the caller's choice.)"""
    session_ids = select(m.Session.id).where(m.Session.patient_id == pid)
    user_ids = select(m.User.id).where(m.User.patient_id == pid)
    s.execute(m.PainRating.__table__.delete().where(m.PainRating.patient_id == pid))
    s.execute(m.AuthSession.__table__.delete().where(m.AuthSession.user_id.in_(user_ids)))
    s.execute(m.User.__table__.delete().where(m.User.patient_id == pid))
    s.execute(m.PatientTherapist.__table__.delete().where(m.PatientTherapist.patient_id == pid))
    s.execute(m.SessionSeries.__table__.delete().where(
        m.SessionSeries.session_id.in_(session_ids)))
    s.execute(m.Finding.__table__.delete().where(m.Finding.session_id.in_(session_ids)))
    s.execute(m.Rep.__table__.delete().where(m.Rep.session_id.in_(session_ids)))
    s.execute(m.Session.__table__.delete().where(m.Session.patient_id == pid))
    s.execute(m.Prescription.__table__.delete().where(m.Prescription.patient_id == pid))
    s.execute(m.Patient.__table__.delete().where(m.Patient.id == pid))
