"""Turn an analysis report (the JSON contract) into rows, and rows back into plain dicts.

Only numbers and short texts cross here: the report's images and the video never do, and
the source keeps its file name only, not its folder.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any, Mapping

from clamcoach.errors import ClamcoachError
from clamcoach.jsonio import json_safe
from clamcoach.series import FrameSeries
from clamcoach.storage import models as m

SERIES_HZ = 5.0
SERIES_COLUMNS = (
    "opening_deg", "pelvis_roll_deg", "trunk_roll_deg", "hip_flexion_deg", "knee_flexion_deg",
)
_BAD_SEVERITY = ("warn", "error")


class BadReport(ClamcoachError, ValueError):
    """The report holds a value that cannot be stored (the save is rolled back)."""


def num(value: Any, what: str) -> float | None:
    """A finite float, or None for missing/NaN/inf; anything else is a BadReport."""
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise BadReport(f"{what} is not a number: {value!r}") from None
    return out if math.isfinite(out) else None


def hand(value: Any) -> bool | None:
    """hand_on_hip as the report gives it: true, false or null (could not be told)."""
    if value is not None and not isinstance(value, bool):
        raise BadReport(f"setup.hand_on_hip is not true, false or null: {value!r}")
    return value


def utc(when: datetime | None) -> datetime:
    """Aware UTC; a naive time is taken as local time (what a user types)."""
    if when is None:
        return datetime.now(timezone.utc)
    return when.astimezone(timezone.utc)


def from_db_time(when: datetime) -> datetime:
    """SQLite returns naive datetimes: they were stored as UTC."""
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def build_session(
    report: Mapping[str, Any],
    frames: FrameSeries | None,
    *,
    kind: str,
    video_path: str | None,
    recorded_at: datetime | None,
) -> m.Session:
    """An unsaved Session with its reps, findings and series attached. The report must follow
    the analysis contract (schemas/analysis-1.json): a malformed one is refused, not stored."""
    from clamcoach.analysis import validate_report
    from clamcoach.errors import StorageError

    try:
        validate_report(dict(report))
    except ValueError as exc:
        raise StorageError(str(exc)) from None
    source = report.get("source") or {}
    setup = report.get("setup") or {}
    summary = report.get("summary") or {}
    path = source.get("path")
    sess = m.Session(
        recorded_at=utc(recorded_at),
        kind=kind,
        schema=report.get("schema"),
        source_name=PurePath(str(path)).name if path else source.get("name"),
        fps=num(source.get("fps"), "source.fps"),
        frames=_int(source.get("frames")),
        duration_s=num(source.get("duration_s"), "source.duration_s"),
        camera_view=report.get("camera_view"),
        top_side=report.get("top_side"),
        pose_coverage=num(report.get("pose_coverage"), "pose_coverage"),
        hip_flexion_deg=num(setup.get("hip_flexion_deg"), "setup.hip_flexion_deg"),
        knee_flexion_deg=num(setup.get("knee_flexion_deg"), "setup.knee_flexion_deg"),
        forward_roll_deg=num(setup.get("forward_roll_deg"), "setup.forward_roll_deg"),
        hand_on_hip=hand(setup.get("hand_on_hip")),
        warnings=[str(w) for w in report.get("warnings") or []],
        video_path=str(video_path) if video_path else None,
        report=stored_report(report),
    )
    for f in setup.get("findings") or []:
        sess.findings.append(_finding(f))
    reps = report.get("reps") or []
    for r in reps:
        sess.reps.append(_rep(r, sess))
    clean = sum(1 for r in sess.reps if r.clean)
    sess.rep_count = _int(summary.get("reps")) if summary.get("reps") is not None else len(reps)
    sess.clean_reps = _int(summary.get("clean_reps")) if summary.get("clean_reps") is not None else clean
    if frames is not None:
        sess.series = thin_series(frames)
    return sess


def stored_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report as kept with its session: JSON-safe (NaN as null) and with the source's
    file name only, never its folder."""
    out = json_safe(report)
    source = dict(out.get("source") or {})
    if source.get("path"):
        source["path"] = PurePath(str(source["path"])).name
    out["source"] = source
    return out


def _rep(r: Mapping[str, Any], sess: m.Session) -> m.Rep:
    i = r.get("index")
    rep = m.Rep(
        index=_int(i),
        **{
            name: num(r.get(name), f"reps[{i}].{name}")
            for name in (
                "start_s", "peak_s", "end_s", "opening_deg", "knee_lift_cm", "roll_back_deg",
                "trunk_roll_back_deg", "ankle_gap_cm", "up_s", "hold_s", "down_s",
                "roll_confidence",
            )
        },
    )
    findings = r.get("findings") or []
    rep.clean = bool(r["clean"]) if "clean" in r else not any(
        f.get("severity") in _BAD_SEVERITY for f in findings
    )
    for f in findings:
        finding = _finding(f)
        finding.rep = rep
        sess.findings.append(finding)
    return rep


def _finding(f: Mapping[str, Any]) -> m.Finding:
    # Severity is checked by the database (a CHECK constraint), the one place that sees
    # every writer.
    return m.Finding(
        code=str(f.get("code") or ""),
        severity=str(f.get("severity")),
        value=num(f.get("value"), f"finding {f.get('code')}.value"),
        threshold=num(f.get("threshold"), f"finding {f.get('code')}.threshold"),
        message=f.get("message"),
    )


def _int(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadReport(f"not a whole number: {value!r}") from None


def thin_series(frames: FrameSeries, hz: float = SERIES_HZ) -> m.SessionSeries:
    """Keep about ``hz`` frames per second of a few measures: enough for a later plot."""
    thin = frames.thinned(hz)
    return m.SessionSeries(hz=hz, data=thin.to_dict(SERIES_COLUMNS, t_digits=3, digits=2))


# ---- rows back to dicts ---------------------------------------------------------------


def finding_dict(f: m.Finding) -> dict[str, Any]:
    return {
        "code": f.code, "severity": f.severity, "value": f.value,
        "threshold": f.threshold, "message": f.message,
    }


def rep_dict(r: m.Rep) -> dict[str, Any]:
    out = {
        c: getattr(r, c)
        for c in (
            "index", "start_s", "peak_s", "end_s", "opening_deg", "knee_lift_cm",
            "roll_back_deg", "trunk_roll_back_deg", "ankle_gap_cm", "up_s", "hold_s",
            "down_s", "roll_confidence", "clean",
        )
    }
    out["findings"] = [finding_dict(f) for f in r.findings]
    return out


def prescription_dict(p: m.Prescription) -> dict[str, Any]:
    return {
        "version": p.version,
        "created_at": from_db_time(p.created_at).isoformat(),
        "sets": p.sets, "reps": p.reps, "hold_s": p.hold_s, "tempo": p.tempo,
        "side": p.side, "band": p.band, "sessions_per_week": p.sessions_per_week,
        "overrides": dict(p.overrides or {}), "note": p.note,
    }


def report_from_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """The analysis report of a stored session (``Store.session``): as saved, or, for
    sessions saved before reports were kept, rebuilt from its rows."""
    if detail.get("report"):
        out = dict(detail["report"])
    else:
        out = {
            "schema": detail.get("schema"),
            "source": {"path": detail.get("source_name") or f"session {detail['id']}",
                       "fps": detail.get("fps"), "frames": detail.get("frames"),
                       "duration_s": detail.get("duration_s")},
            "camera_view": detail.get("camera_view"), "top_side": detail.get("top_side"),
            "pose_coverage": detail.get("pose_coverage"), "setup": detail.get("setup") or {},
            "reps": detail.get("rep_detail") or [],
            "summary": {"reps": detail.get("reps"), "clean_reps": detail.get("clean_reps"),
                        "findings": detail.get("findings") or {}},
            "warnings": detail.get("warnings") or [],
        }
    out.setdefault("patient", detail.get("patient"))
    out.setdefault("prescription_version", detail.get("prescription_version"))
    out.setdefault("saved", {"patient": detail.get("patient"), "session_id": detail["id"]})
    return out


def series_frames(series: Mapping[str, list] | None) -> FrameSeries:
    """A stored thinned series back as a frame series (for the report's plot)."""
    return FrameSeries.from_dict(series) if series else FrameSeries.empty()
