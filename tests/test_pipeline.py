"""The one analyser factory: an estimator in front of a fresh engine, frame by frame."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from clamcoach.measure.profiles import JOINT_CENTRES
from clamcoach.notices import Notice, WarningCode
from clamcoach.pipeline import make_analyzer
from clamcoach.protocol import load_protocol
from skeleton import Camera, clam_set, pose_frame

CAM = Camera(pitch=35)


class ReplayEstimator:
    """Gives the poses of an exact synthetic set, one per frame (the image is ignored)."""

    name = "replay"

    def __init__(self) -> None:
        self.poses = {round(t, 6): pose_frame(p, CAM, t=t) for t, p in clam_set(n_reps=2)}

    def estimate(self, rgb: np.ndarray, t: float):
        return self.poses[round(t, 6)]


def test_make_analyzer_gives_a_fresh_engine_and_a_frozen_analysis():
    est = ReplayEstimator()
    proto = load_protocol()
    live = make_analyzer(proto, est, profile=JOINT_CENTRES)
    assert live.engine.measure.profile is JOINT_CENTRES and live.engine.proto is proto
    assert make_analyzer(proto, est).engine is not live.engine
    rgb = np.zeros((CAM.height, CAM.width, 3), np.uint8)
    steps = [live.process(rgb, t) for t in sorted(est.poses)]
    a = live.finish()
    assert len(a.reps) == 2 and steps[-1].rep_count == 2
    assert a.measurement["pose_model"] == {"backend": "replay"}
    assert a.snapshot is not None and max(a.snapshot[0].shape[:2]) <= 640 and a.snapshot[1].shape == (33, 3)
    assert len(a.frames) == len(steps)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.notes = ("changed",)  # type: ignore[misc]
    note = Notice(WarningCode.POSE_GAPS, {"spans": "1.0-2.0 s"})
    assert a.with_notes(note).notes == (note,) and a.notes == ()
    assert a.with_notes(note).warnings[:1] == ["No usable pose (out of view or hidden) at 1.0-2.0 s."]


def test_an_analyser_without_landmarks_measures_the_same_and_keeps_none():
    """The live page's analyser keeps no per-frame landmarks (a half-hour set would grow by
    ~11 MB); every measure is the file analyser's."""
    est = ReplayEstimator()
    rgb = np.zeros((CAM.height, CAM.width, 3), np.uint8)
    runs = []
    for keep in (True, False):
        live = make_analyzer(load_protocol(), est, profile=JOINT_CENTRES, keep_landmarks=keep)
        for t in sorted(est.poses):
            live.process(rgb, t)
        runs.append(live.finish())
    kept, slim = runs
    assert kept.frames.landmarks is not None and kept.frames.landmarks.shape == (len(kept.frames), 33, 3)
    assert slim.frames.landmarks is None
    assert slim.to_dict({}) == kept.to_dict({})
    assert np.array_equal(slim.frames.opening_deg, kept.frames.opening_deg, equal_nan=True)
