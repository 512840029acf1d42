"""Scoring an analysis against ground truth: rep matching, errors, precision/recall/F1.

Used by ``make bench-accuracy`` (benchmarks/bench_accuracy.py) and tested on hand-made
cases. A detected rep matches the ground-truth rep whose [start, end] holds its peak (each
ground-truth rep matched at most once). Finding codes are scored per rep: a code on a matched
rep is a true positive if the truth labels that rep with it; codes on unmatched detections
are false positives; labels of missed reps are false negatives.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from clamcoach.series import FrameSeries

SCORED_CODES = ("roll_back", "lift_too_high", "feet_apart")


@dataclass(frozen=True)
class TruthRep:
    start_s: float
    peak_s: float
    end_s: float
    opening_deg: float
    roll_back_deg: float
    labels: frozenset[str]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: "Counts") -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else math.nan

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        if not (math.isfinite(p) and math.isfinite(r)) or p + r == 0:
            return 0.0 if self.tp + self.fp + self.fn else math.nan
        return 2 * p * r / (p + r)


@dataclass
class ClipScore:
    n_truth: int
    n_detected: int
    timing_errors: list[float] = field(default_factory=list)     # |start| and |end| errors, s
    opening_errors: list[float] = field(default_factory=list)
    roll_back_errors: list[float] = field(default_factory=list)
    hip_errors: list[float] = field(default_factory=list)
    knee_errors: list[float] = field(default_factory=list)
    codes: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    roll_judged: bool = True
    #: Per truth roll-back rep: (its true roll-back in deg, whether the analysis flagged it).
    roll_back_outcomes: list[tuple[float, bool]] = field(default_factory=list)
    #: The roll-back read on reps that truly stayed rolled forward (true roll-back < 5 deg).
    clean_roll_readings: list[float] = field(default_factory=list)
    #: |measured - true| forward roll at setup, when both are known.
    setup_roll_error: float = math.nan
    #: Per measure: (error, stated SD) per frame, for interval coverage.
    intervals: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))

    @property
    def exact_count(self) -> bool:
        return self.n_truth == self.n_detected


def match_reps(detected: list[dict], truth: list[TruthRep]) -> list[tuple[int, int]]:
    """(detected index, truth index) pairs: the truth rep whose span holds the detected peak,
    or failing that the one with the nearest peak within 1 s."""
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for i, d in enumerate(detected):
        peak = d["peak_s"]
        best, best_dist = None, math.inf
        for j, tr in enumerate(truth):
            if j in used:
                continue
            inside = tr.start_s <= peak <= tr.end_s
            dist = 0.0 if inside else abs(peak - tr.peak_s)
            if (inside or dist <= 1.0) and dist < best_dist:
                best, best_dist = j, dist
        if best is not None:
            used.add(best)
            pairs.append((i, best))
    return pairs


def score_clip(report: dict, truth: list[TruthRep], frame_truth: list[dict] | None = None,
               frames: FrameSeries | None = None, setup_roll_deg: float | None = None) -> ClipScore:
    """Score one analysis report (the JSON contract) and its frame series against the clip's
    truth (the renderer's JSON: reps and per-frame angles)."""
    detected = report["reps"]
    roll_judged = bool(report.get("view_can_see_roll", True))
    score = ClipScore(n_truth=len(truth), n_detected=len(detected), roll_judged=roll_judged)
    pairs = match_reps(detected, truth)
    matched_d = {i for i, _ in pairs}
    matched_t = {j for _, j in pairs}
    for i, j in pairs:
        d, tr = detected[i], truth[j]
        score.timing_errors += [abs(d["start_s"] - tr.start_s), abs(d["end_s"] - tr.end_s)]
        if d.get("opening_deg") is not None:
            score.opening_errors.append(abs(d["opening_deg"] - tr.opening_deg))
        if roll_judged and d.get("roll_back_deg") is not None:
            score.roll_back_errors.append(abs(d["roll_back_deg"] - tr.roll_back_deg))
            if tr.roll_back_deg < 5.0:
                score.clean_roll_readings.append(d["roll_back_deg"])
        found = {f["code"] for f in d["findings"]}
        for code in SCORED_CODES:
            c = score.codes[code]
            if code in found and code in tr.labels:
                c.tp += 1
            elif code in found:
                c.fp += 1
            elif code in tr.labels:
                c.fn += 1
    for i, d in enumerate(detected):
        if i not in matched_d:
            for f in d["findings"]:
                if f["code"] in SCORED_CODES:
                    score.codes[f["code"]].fp += 1
    for j, tr in enumerate(truth):
        if j not in matched_t:
            for code in tr.labels & set(SCORED_CODES):
                score.codes[code].fn += 1
    flagged = {j for i, j in pairs if any(f["code"] == "roll_back" for f in detected[i]["findings"])}
    score.roll_back_outcomes = [(tr.roll_back_deg, j in flagged) for j, tr in enumerate(truth)
                                if "roll_back" in tr.labels]
    measured = report.get("setup", {}).get("forward_roll_deg")
    if setup_roll_deg is not None and measured is not None:
        score.setup_roll_error = abs(measured - setup_roll_deg)
    if frame_truth and frames is not None and len(frames):
        _frame_errors(score, frames, frame_truth)
        settled = report.get("setup", {}).get("settled_at_s")
        if settled is not None:
            _interval_errors(score, frames, frame_truth, settled)
    return score


def _nearest(truth_t: list[float], t: float) -> int:
    import bisect

    k = bisect.bisect_left(truth_t, t)
    if k > 0 and (k == len(truth_t) or abs(truth_t[k - 1] - t) <= abs(truth_t[k] - t)):
        k -= 1
    return k


def _interval_errors(score: ClipScore, frames: FrameSeries, frame_truth: list[dict], settled: float) -> None:
    """Per frame after the setup: the opening and the pelvis roll as changes from the setup,
    measured against the truth's changes, with the SD the analysis stated."""
    truth_t = [f["t"] for f in frame_truth]
    t, opening = frames.column("t"), frames.column("opening_deg")
    opening_sd, roll, roll_sd = (frames.column(c) for c in ("opening_sd_deg", "pelvis_roll_deg", "pelvis_roll_sd_deg"))
    measured = np.flatnonzero((t >= settled) & np.isfinite(opening))
    if not len(measured):
        return
    first = measured[0]
    f0 = frame_truth[_nearest(truth_t, float(t[first]))]
    for i in measured:
        f = frame_truth[_nearest(truth_t, float(t[i]))]
        score.intervals["opening"].append(
            (float(opening[i]) - (f["opening_deg"] - f0["opening_deg"]), float(opening_sd[i])))
        score.intervals["roll"].append(
            ((float(roll[i]) - float(roll[first])) - (f["pelvis_roll_deg"] - f0["pelvis_roll_deg"]),
             float(roll_sd[i])))


def _frame_errors(score: ClipScore, frames: FrameSeries, frame_truth: list[dict]) -> None:
    """Per-frame hip and knee flexion errors, matched by nearest time."""
    truth_t = [f["t"] for f in frame_truth]
    columns = (("hip_flexion_deg", score.hip_errors), ("knee_flexion_deg", score.knee_errors))
    values = {name: frames.column(name) for name, _ in columns}
    k = 0
    for i, t in enumerate(frames.column("t").tolist()):
        while k + 1 < len(truth_t) and abs(truth_t[k + 1] - t) <= abs(truth_t[k] - t):
            k += 1
        ft = frame_truth[k]
        for name, bucket in columns:
            v = float(values[name][i])
            if math.isfinite(v) and ft.get(name) is not None:
                bucket.append(abs(v - ft[name]))


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan
