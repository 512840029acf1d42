"""Summaries of stored sessions: per session and per calendar week (pure functions).

Weeks are ISO weeks (Monday first) of the session's time in UTC, so the same history gives
the same table on every machine.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from statistics import fmean
from typing import Any, Iterable, Mapping

from clamcoach.jsonio import rounded


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return rounded(fmean(vals), 2) if vals else None


def _rate(clean: int, total: int) -> float | None:
    return rounded(clean / total, 3) if total else None


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
    return rounded(max(values), 2) if values else None


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


# ---- the therapist's list: adherence and flags ------------------------------------------

PAIN_HIGH = 7        # 0-10 numeric rating scale: 7 and above is severe pain
PAIN_RISE = 2        # a rise this large over the recent ratings is worth a call
PAIN_WINDOW = 4      # ratings looked at for a rise
RECENT_SESSIONS = 3  # sessions looked at for roll-backs


class Flag(str, Enum):
    ROLL_BACK = "roll_back"
    PAIN_HIGH = "pain_high"
    PAIN_RISING = "pain_rising"


@dataclass(frozen=True)
class Adherence:
    """Sets done against sets prescribed (sets per session x sessions a week)."""

    this_week: int
    last_week: int
    target: int | None   # None: the prescription does not say how often


def adherence(times: Iterable[datetime], sets: int | None, per_week: int | None,
              now: datetime) -> Adherence:
    """Sessions (sets) saved in ``now``'s week and the week before, in ``now``'s time zone."""
    this_key, _ = week_of(now)
    last_key, _ = week_of(now - timedelta(days=7))
    keys = Counter(week_of(t.astimezone(now.tzinfo))[0] for t in times)
    target = sets * per_week if sets and per_week else None
    return Adherence(keys[this_key], keys[last_key], target)


def pain_flags(ratings: list[int]) -> list[Flag]:
    """Flags from pain ratings, oldest first: the latest at 7 or more, or a rise of 2 or more
    from the lowest of the recent ratings to the latest."""
    if not ratings:
        return []
    out = []
    latest = ratings[-1]
    if latest >= PAIN_HIGH:
        out.append(Flag.PAIN_HIGH)
    recent = ratings[-PAIN_WINDOW:]
    if len(recent) > 1 and latest - min(recent[:-1]) >= PAIN_RISE:
        out.append(Flag.PAIN_RISING)
    return out


def roll_back_flag(sessions: list[Mapping[str, Any]]) -> list[Flag]:
    """A flag when any of the latest sessions (``Store.history`` rows) had a roll-back."""
    latest = sessions[-RECENT_SESSIONS:]
    return [Flag.ROLL_BACK] if any(s["findings"].get("roll_back") for s in latest) else []
