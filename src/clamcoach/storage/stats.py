"""Summaries of stored sessions: per session and per calendar week (pure functions).

Weeks are ISO weeks (Monday first) of the session's time in UTC, so the same history gives
the same table on every machine.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any, Iterable, Mapping


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(fmean(vals), 2) if vals else None


def _rate(clean: int, total: int) -> float | None:
    return round(clean / total, 3) if total else None


def session_summary(reps: list[Mapping[str, Any]], findings: Iterable[Mapping[str, Any]]) -> dict:
    """Rep-level means for one session, and its findings counted by code."""
    rolls = [r.get("roll_back_deg") for r in reps]
    finite_rolls = [v for v in rolls if v is not None]
    return {
        "mean_opening_deg": _mean(r.get("opening_deg") for r in reps),
        "mean_roll_back_deg": _mean(rolls),
        "max_roll_back_deg": _max(finite_rolls),
        "mean_hold_s": _mean(r.get("hold_s") for r in reps),
        "findings": dict(Counter(f["code"] for f in findings)),
    }


def _max(values: list[float]) -> float | None:
    return round(max(values), 2) if values else None


def week_of(when: datetime) -> tuple[str, str]:
    """("2026-W44", "2026-10-26"): the ISO week and the date of its Monday."""
    year, week, weekday = when.isocalendar()
    monday = (when - timedelta(days=weekday - 1)).date()
    return f"{year}-W{week:02d}", monday.isoformat()


def weekly_trends(sessions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per week, oldest first: sessions, reps, clean reps and rate, mean opening, mean and
    worst roll-back (one bad rep must show: a mean hides it), mean hold. ``sessions`` are
    dicts with ``recorded_at`` (datetime) and ``reps`` (dicts)."""
    weeks: dict[str, dict[str, Any]] = {}
    for s in sessions:
        key, monday = week_of(s["recorded_at"])
        w = weeks.setdefault(
            key, {"week": key, "week_start": monday, "sessions": 0, "reps": [], "rep_count": 0,
                  "clean_reps": 0},
        )
        w["sessions"] += 1
        w["reps"].extend(s["reps"])
        w["rep_count"] += s["rep_count"]
        w["clean_reps"] += s["clean_reps"]
    out = []
    for key in sorted(weeks):
        w = weeks[key]
        out.append({
            "week": w["week"],
            "week_start": w["week_start"],
            "sessions": w["sessions"],
            "reps": w["rep_count"],
            "clean_reps": w["clean_reps"],
            "clean_rate": _rate(w["clean_reps"], w["rep_count"]),
            "mean_opening_deg": _mean(r.get("opening_deg") for r in w["reps"]),
            "mean_roll_back_deg": _mean(r.get("roll_back_deg") for r in w["reps"]),
            "max_roll_back_deg": _max([r["roll_back_deg"] for r in w["reps"]
                                       if r.get("roll_back_deg") is not None]),
            "mean_hold_s": _mean(r.get("hold_s") for r in w["reps"]),
        })
    return out
