"""Hand-made analyses with known numbers, in the shapes of docs/ENGINE_API.md: a report dict
(the JSON contract), per-frame dicts, and a setup snapshot. Shared by report and storage tests."""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from clamcoach.protocol import load_protocol
from clamcoach.rules import SetupMeasures, check_rep, check_setup
from clamcoach.series import MEASURE_COLUMNS, FrameSeries
from clamcoach.types import LM, MEASURES, Rep

FPS = 30.0
WIDTH, HEIGHT = 640, 360
# (index, start_s, opening_deg, roll_back_deg, hold_s): under the shipped protocol rep 3 rolls
# back (warn), rep 4 lifts too high and rolls back a lot (error), rep 5 has no hold (the rules
# say so: tests/report/test_samples.py checks the story still holds).
REPS = [(1, 2.0, 22.0, 3.0, 1.6), (2, 7.0, 25.0, 4.0, 1.6), (3, 12.0, 28.0, 12.5, 1.6),
        (4, 17.0, 63.0, 17.0, 1.6), (5, 22.0, 20.0, 2.0, 0.3)]
UP_S = DOWN_S = 1.2
DURATION_S = 27.0
BASE_ROLL = 12.0

_PROTOCOL = load_protocol()
SHIN_CM = 40.0


def _rep_findings(index: int, start: float, opening: float, roll: float, hold: float) -> list[dict]:
    """The findings the real rules give these numbers under the shipped protocol (its
    thresholds are not copied here: change one and the samples follow)."""
    rep = Rep(index=index, start_s=start, peak_s=start + UP_S, end_s=start + UP_S + hold + DOWN_S,
              opening_deg=opening, knee_lift_cm=opening * 0.35, roll_back_deg=roll,
              trunk_roll_back_deg=roll * 0.8, ankle_gap_cm=1.5,
              ankle_gap_limit_cm=_PROTOCOL.feet.max_gap_shin_fraction * SHIN_CM,
              up_s=UP_S, hold_s=hold, down_s=DOWN_S,
              roll_back_sustained_s=_PROTOCOL.roll_back.sustain_s, roll_judged=True)
    return [f.to_dict() for f in check_rep(rep, _PROTOCOL)]


def _setup_findings() -> list[dict]:
    measures = SetupMeasures(side_lying=True, hip_flexion_deg=47.0, knee_flexion_deg=52.0,
                             forward_roll_deg=BASE_ROLL, forward_roll_sd_deg=2.0, hand_on_hip=False,
                             held_s=3.0, roll_sd_deg=2.0, view_can_see_roll=True, view="oblique")
    return [f.to_dict() for f in check_setup(measures, _PROTOCOL)]


def make_report(path: str = "/videos/patient-a/set1.mp4") -> dict:
    reps = []
    for index, start, opening, roll, hold in REPS:
        end = start + UP_S + hold + DOWN_S
        reps.append({
            "index": index, "start_s": start, "peak_s": start + UP_S, "end_s": end,
            "opening_deg": opening, "knee_lift_cm": round(opening * 0.35, 1),
            "roll_back_deg": roll, "trunk_roll_back_deg": roll * 0.8, "ankle_gap_cm": 1.5,
            "up_s": UP_S, "hold_s": hold, "down_s": DOWN_S, "roll_confidence": 0.8,
            "findings": _rep_findings(index, start, opening, roll, hold),
        })
    counts: dict[str, int] = {}
    setup_findings = _setup_findings()
    for f in setup_findings + [f for r in reps for f in r["findings"]]:
        counts[f["code"]] = counts.get(f["code"], 0) + 1
    clean = sum(1 for r in reps if not any(f["severity"] in ("warn", "error") for f in r["findings"]))
    return {
        "schema": "clamcoach.analysis/1",
        "source": {"path": path, "fps": FPS, "frames": int(DURATION_S * FPS), "width": WIDTH,
                   "height": HEIGHT, "duration_s": DURATION_S},
        "camera_view": "oblique",
        "top_side": "left",
        "pose_coverage": 0.96,
        "setup": {"hip_flexion_deg": 47.0, "knee_flexion_deg": 52.0, "forward_roll_deg": BASE_ROLL,
                  "hand_on_hip": False, "findings": setup_findings},
        "reps": reps,
        "summary": {"reps": len(reps), "clean_reps": clean, "findings": counts},
        "warnings": ["From an oblique camera the trunk (shoulder) roll is less reliable than "
                     "the pelvis roll."],
        "provenance": {"protocol": _PROTOCOL.raw, "calibration": "default"},
    }


def _shape(t: float, start: float, hold: float) -> float:
    """0..1 opening profile of one rep: up, hold, down."""
    u = t - start
    if u < 0 or u > UP_S + hold + DOWN_S:
        return 0.0
    if u < UP_S:
        return 0.5 - 0.5 * math.cos(math.pi * u / UP_S)
    if u < UP_S + hold:
        return 1.0
    return 0.5 + 0.5 * math.cos(math.pi * (u - UP_S - hold) / DOWN_S)


def landmarks(opening_deg: float = 0.0) -> np.ndarray:
    """A person lying on the right side, head to the left, top (left) knee lifted."""
    pts = {
        "nose": (70, 180), "left_eye": (62, 172), "right_eye": (64, 178),
        "left_ear": (85, 168), "right_ear": (88, 186),
        "left_shoulder": (172, 196), "right_shoulder": (168, 226),
        "left_elbow": (262, 172), "right_elbow": (118, 250),
        "left_wrist": (338, 196), "right_wrist": (86, 214),
        "left_hip": (352, 204), "right_hip": (348, 234),
        "left_knee": (462, 262), "right_knee": (458, 286),
        "left_ankle": (568, 246), "right_ankle": (566, 258),
        "left_heel": (580, 242), "right_heel": (578, 256),
        "left_foot_index": (596, 262), "right_foot_index": (594, 272),
    }
    lm = np.full((33, 3), np.nan)
    for name, (x, y) in pts.items():
        lm[LM[name]] = (x, y, 0.95)
    # Opening lifts the top knee up (toward the ceiling) in the picture.
    lm[LM["left_knee"], 1] -= 1.6 * opening_deg
    lm[LM["left_knee"], 0] -= 0.3 * opening_deg
    return lm


def make_frames(with_landmarks: bool = False) -> FrameSeries:
    frames = []
    n = int(DURATION_S * FPS)
    for i in range(n):
        t = i / FPS
        rep, opening, rollback = None, 0.0, 0.0
        for index, start, peak, roll, hold in REPS:
            s = _shape(t, start, hold)
            if s > 0:
                rep, opening, rollback = index, peak * s, roll * s
        phase = "ready" if rep is None else "up"
        f = {"t": round(t, 4), "rep": rep, "phase": phase}
        f.update({
            "hip_flexion_deg": 47.0 + 0.5 * math.sin(t), "knee_flexion_deg": 52.0,
            "opening_deg": opening + 0.4 * math.sin(7 * t),
            "knee_lift_cm": opening * 0.35, "pelvis_roll_deg": BASE_ROLL - rollback,
            "trunk_roll_deg": BASE_ROLL + 3 - 0.8 * rollback, "ankle_gap_cm": 1.5,
            "hand_on_hip": False,
        })
        lm = landmarks(opening)
        if 5.0 <= t < 5.5:  # a short dropout: nobody seen
            f.update({m: math.nan for m in MEASURE_COLUMNS}, hand_on_hip=None, phase="no_person")
            lm = np.full_like(lm, np.nan)
        frames.append((f, lm))
    series = FrameSeries.from_dict({c: [f.get(c) for f, _ in frames] for c in frames[0][0]})
    if not with_landmarks:
        return series
    return replace(series, landmarks=np.array([lm for _, lm in frames], dtype=np.float32))


def snapshot() -> tuple[np.ndarray, np.ndarray]:
    """A plain synthetic 'photo' of a mat and a body, with its landmarks."""
    img = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    img[:] = np.linspace(90, 150, WIDTH, dtype=np.uint8)[None, :, None]
    cv2.rectangle(img, (20, 230), (620, 320), (60, 110, 140), -1)  # the mat
    lm = landmarks(0.0)
    body = [("nose", "left_shoulder"), ("left_shoulder", "left_hip"), ("left_hip", "left_knee"),
            ("left_knee", "left_ankle"), ("right_hip", "right_knee"), ("right_knee", "right_ankle")]
    for a, b in body:
        pa = tuple(int(v) for v in lm[LM[a], :2])
        pb = tuple(int(v) for v in lm[LM[b], :2])
        cv2.line(img, pa, pb, (200, 170, 150), 22, cv2.LINE_AA)
    cv2.circle(img, tuple(int(v) for v in lm[LM["nose"], :2]), 26, (200, 170, 150), -1)
    return img, lm
