"""Plots for the reports, as self-contained SVG data URIs (matplotlib, no pyplot state, so
it is safe to call from a web server's threads)."""

from __future__ import annotations

import base64
import io
import math
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg", force=False)  # never a GUI backend; harmless if one is set up already
from matplotlib.figure import Figure  # noqa: E402

from clamcoach.report import thresholds  # noqa: E402
from clamcoach.series import FrameSeries  # noqa: E402

MAX_POINTS = 4000  # plenty for a page; keeps the SVG small for long videos
SEVERITY_COLOUR = {"clean": "#2e9e5b", "info": "#2e9e5b", "warn": "#e69500", "error": "#d43d2a"}
WARN, ERROR = SEVERITY_COLOUR["warn"], SEVERITY_COLOUR["error"]
_RC = {"svg.fonttype": "none", "font.size": 10, "axes.spines.top": False,
       "axes.spines.right": False, "svg.hashsalt": "clamcoach"}


def data_uri(fig: Figure) -> str:
    """The figure as an ``data:image/svg+xml;base64,...`` URI (text kept as text)."""
    buf = io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _num(v: Any) -> float:
    try:
        out = float(v)
    except (TypeError, ValueError):
        return math.nan
    return out


def rep_severity(rep: Mapping[str, Any]) -> str:
    """"error", "warn" or "clean": the worst finding of a rep."""
    sev = {f.get("severity") for f in rep.get("findings") or []}
    return "error" if "error" in sev else "warn" if "warn" in sev else "clean"


def _value_at(ts: list[float], ys: list[float], t: float) -> float:
    """The first finite value at or after ``t`` (the rep's starting roll)."""
    for ti, yi in zip(ts, ys):
        if ti >= t - 1e-9 and math.isfinite(yi):
            return yi
    return math.nan


def _shade_reps(ax, reps: Sequence[Mapping[str, Any]], label: bool) -> None:
    for r in reps:
        s, e = _num(r.get("start_s")), _num(r.get("end_s"))
        if not (math.isfinite(s) and math.isfinite(e)):
            continue
        colour = SEVERITY_COLOUR[rep_severity(r)]
        ax.axvspan(s, e, color=colour, alpha=0.13, lw=0)
        if label:
            ax.annotate(f"rep {r.get('index', '')}", ((s + e) / 2, 0.98),
                        xycoords=("data", "axes fraction"), ha="center", va="top", fontsize=8,
                        color=colour)


def _legend_above(ax) -> None:
    # Above the axes, not over the data: the peaks are what the reader looks at.
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=8, frameon=False, ncols=4,
              borderaxespad=0.2)


def timeline(frames: FrameSeries, report: Mapping[str, Any]) -> str:
    """Opening and pelvis roll over time, reps shaded by their worst finding, thresholds
    drawn: the opening limits, and each rep's roll-back warn/error levels below its start."""
    step = max(1, math.ceil(len(frames) / MAX_POINTS))
    frames = frames.take(slice(None, None, step))
    ts = frames.t.tolist()
    reps = report.get("reps") or []
    th = thresholds.used(report)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(10, 6.6), layout="constrained")
        ax1, ax2 = fig.subplots(2, 1, sharex=True)
        # Opening.
        _shade_reps(ax1, reps, label=True)
        ax1.plot(ts, frames.opening_deg.tolist(), color="#1f5fa8", lw=1.5, label="opening")
        op = th["opening"]
        ax1.axhspan(op["typical_min_deg"], op["typical_max_deg"], color="#1f5fa8", alpha=0.06,
                    lw=0, label=f"typical {op['typical_min_deg']:g}-{op['typical_max_deg']:g}°")
        ax1.axhline(op["min_rep_deg"], color="#777", ls=":", lw=1,
                    label=f"counts as a rep from {op['min_rep_deg']:g}°")
        ax1.axhline(op["too_high_deg"], color=ERROR, ls="--", lw=1,
                    label=f"lift too high {op['too_high_deg']:g}°")
        ax1.set_ylabel("knee opening (°)")
        ax1.set_ylim(bottom=min(-2.0, ax1.get_ylim()[0]), top=ax1.get_ylim()[1] * 1.08)
        _legend_above(ax1)
        # Pelvis roll.
        _shade_reps(ax2, reps, label=False)
        roll = frames.pelvis_roll_deg.tolist()
        ax2.plot(ts, roll, color="#6b3fa0", lw=1.5, label="pelvis roll (forward +)")
        trunk = frames.trunk_roll_deg.tolist()
        if any(math.isfinite(v) for v in trunk):
            ax2.plot(ts, trunk, color="#6b3fa0", lw=1, alpha=0.45, ls="-.",
                     label="trunk (shoulder) roll")
        su, rb = th["setup"], th["roll_back"]
        ax2.axhspan(su["forward_roll_min_deg"], su["forward_roll_max_deg"], color="#2e9e5b",
                    alpha=0.06, lw=0, label="setup: rolled forward")
        first = True
        for r in reps:
            s, e = _num(r.get("start_s")), _num(r.get("end_s"))
            base = _value_at(ts, roll, s) if math.isfinite(s) else math.nan
            if not (math.isfinite(base) and math.isfinite(e)):
                continue
            ax2.hlines(base - rb["warn_deg"], s, e, colors=WARN, linestyles="--", lw=1.2,
                       label=f"roll-back warn ({rb['warn_deg']:g}° below rep start)" if first else None)
            ax2.hlines(base - rb["error_deg"], s, e, colors=ERROR, linestyles="--", lw=1.2,
                       label=f"roll-back error ({rb['error_deg']:g}°)" if first else None)
            first = False
        ax2.set_ylabel("pelvis roll (°)")
        ax2.set_xlabel("time (s)")
        _legend_above(ax2)
        if not any(math.isfinite(v) for v in roll):
            ax2.text(0.5, 0.5, "pelvis roll cannot be seen from this camera view",
                     transform=ax2.transAxes, ha="center", va="center", color="#777")
        return data_uri(fig)
