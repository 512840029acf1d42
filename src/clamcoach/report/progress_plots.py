"""Trend plots over a patient's sessions, for a therapist to read at a glance: one point per
session on a time axis (so gaps between sessions show), the prescribed targets drawn.

The roll-back panel plots each session's *worst* rep, never a mean: one rep that rolled back
21 degrees must stand above the 10-degree warning line, not vanish in an average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

import matplotlib

matplotlib.use("Agg", force=False)
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from clamcoach.report.plots import ERROR, WARN, data_uri  # noqa: E402

BLUE, GREEN, PURPLE, GREY = "#1f5fa8", "#1e7a44", "#6b3fa0", "#56636f"


@dataclass(frozen=True)
class SessionPoint:
    """One session's numbers for the trend plots (None: not measured)."""

    when: datetime
    reps: int
    clean_rate: float | None        # 0..1
    worst_roll_back_deg: float | None
    mean_opening_deg: float | None
    mean_hold_s: float | None


@dataclass(frozen=True)
class Targets:
    """What the prescription (and the protocol under it) asks for."""

    reps: int
    roll_warn_deg: float
    roll_error_deg: float
    opening_min_deg: float
    opening_max_deg: float
    hold_s: float
    hold_tolerance: float


@dataclass(frozen=True)
class PainPoint:
    when: datetime
    rating: int


def _v(x: float | None, scale: float = 1.0) -> float:
    return math.nan if x is None else x * scale


def trends_figure(points: Sequence[SessionPoint], targets: Targets,
                  pain: Sequence[PainPoint] = (), pain_flag: int = 7) -> str:
    """Six panels as one SVG data URI: reps, clean-rep rate, worst roll-back, opening against
    the prescribed range, hold against the prescribed hold, and pain ratings."""
    xs = [p.when for p in points]
    with matplotlib.rc_context({"svg.fonttype": "none", "font.size": 10, "axes.spines.top": False,
                                "axes.spines.right": False, "svg.hashsalt": "clamcoach"}):
        fig = Figure(figsize=(10.5, 7.2), layout="constrained")
        axes = fig.subplots(3, 2, sharex=True).ravel()
        ax = axes[0]
        ax.bar(xs, [p.reps for p in points], width=0.6, color=BLUE, alpha=0.85, label="reps")
        ax.axhline(targets.reps, color=GREY, ls="--", lw=1, label=f"prescribed {targets.reps}")
        ax.set_title("reps per session", loc="left")
        ax.legend(fontsize=8, frameon=False, loc="lower left")
        ax = axes[1]
        ax.plot(xs, [_v(p.clean_rate, 100) for p in points], marker="o", color=GREEN)
        ax.set_ylim(0, 105)
        ax.set_title("clean reps (%)", loc="left")
        ax = axes[2]
        ax.plot(xs, [_v(p.worst_roll_back_deg) for p in points], marker="o", color=PURPLE,
                label="worst rep")
        ax.axhline(targets.roll_warn_deg, color=WARN, ls="--", lw=1.2,
                   label=f"warn {targets.roll_warn_deg:g}°")
        ax.axhline(targets.roll_error_deg, color=ERROR, ls="--", lw=1.2,
                   label=f"error {targets.roll_error_deg:g}°")
        ax.set_ylim(bottom=0)
        ax.set_title("worst roll-back per session (°, lower is better)", loc="left")
        ax.legend(fontsize=8, frameon=False, loc="upper left", ncols=3)
        ax = axes[3]
        ax.axhspan(targets.opening_min_deg, targets.opening_max_deg, color=BLUE, alpha=0.12, lw=0,
                   label=f"prescribed {targets.opening_min_deg:g}-{targets.opening_max_deg:g}°")
        ax.plot(xs, [_v(p.mean_opening_deg) for p in points], marker="o", color=BLUE,
                label="mean opening")
        ax.set_ylim(bottom=0)
        ax.set_title("opening per session (°)", loc="left")
        ax.legend(fontsize=8, frameon=False, loc="lower left", ncols=2)
        ax = axes[4]
        lo, hi = targets.hold_s * (1 - targets.hold_tolerance), targets.hold_s * (1 + targets.hold_tolerance)
        ax.axhspan(lo, hi, color=GREEN, alpha=0.12, lw=0, label=f"prescribed {targets.hold_s:g} s")
        ax.plot(xs, [_v(p.mean_hold_s) for p in points], marker="o", color=GREEN, label="mean hold")
        ax.set_ylim(bottom=0)
        ax.set_title("hold at the top (s)", loc="left")
        ax.legend(fontsize=8, frameon=False, loc="lower left", ncols=2)
        ax = axes[5]
        if pain:
            ax.plot([p.when for p in pain], [p.rating for p in pain], marker="s", color=ERROR)
        ax.axhline(pain_flag, color=ERROR, ls=":", lw=1, label=f"flag at {pain_flag}")
        ax.set_ylim(-0.3, 10.3)
        ax.set_title("pain (0-10, after sets)", loc="left")
        ax.legend(fontsize=8, frameon=False, loc="upper left")
        locator = AutoDateLocator(minticks=3, maxticks=8)
        times = xs + [p.when for p in pain]
        if times:  # at least two weeks wide, so one session is not spread over a day of hours
            start = min(times) - timedelta(days=1)
            axes[0].set_xlim(start, max(max(times) + timedelta(days=1), start + timedelta(days=14)))
        for ax in axes:
            ax.grid(axis="y", alpha=0.3)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
            if not xs and ax is not axes[5]:
                ax.text(0.5, 0.5, "no sessions yet", transform=ax.transAxes, ha="center",
                        color=GREY)
        return data_uri(fig)
