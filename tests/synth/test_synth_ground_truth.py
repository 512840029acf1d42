"""Ground-truth consistency of the posed clamshell (needs the anny body; no rendering)."""

from __future__ import annotations

import numpy as np
import pytest

from clamcoach.synth.clamshell import FrameParams, mirror_x, swap_lr


def test_opening_moves_the_knee_not_the_ankle(poser):
    gaps = []
    for op in (0, 10, 20, 30, 40):
        p = poser.pose(FrameParams(roll=10.0, opening=op))
        gaps.append((p.gt["knee_gap_cm"], p.gt["ankle_gap_cm"], p.gt["opening_deg"]))
    knee = np.array([g[0] for g in gaps])
    ankle = np.array([g[1] for g in gaps])
    assert np.all(np.diff(knee) > 1.0), knee  # the knee gap grows with the opening
    assert knee[-1] - knee[0] > 8.0  # 45 deg knees: the knee sits ~15 cm off the hip-ankle line
    assert np.ptp(ankle) < 0.2, ankle  # the feet are the hinge
    assert [g[2] for g in gaps] == [0, 10, 20, 30, 40]


def test_closed_stack_is_plausible(poser):
    g = poser.pose(FrameParams(roll=10.0)).gt
    assert 9.0 < g["knee_gap_cm"] < 18.0
    assert 4.0 < g["ankle_gap_cm"] < 10.0
    assert g["pelvis_roll_deg"] == pytest.approx(10.0, abs=1e-6)
    assert g["hip_flexion_deg"] == pytest.approx(45.0, abs=6.0)
    assert g["bottom_hip_flexion_deg"] == pytest.approx(45.0, abs=2.0)
    assert g["knee_flexion_deg"] == pytest.approx(45.0, abs=8.0)


def test_roll_back_pivots_about_the_bottom_hip(poser):
    a = poser.pose(FrameParams(roll=10.0, opening=20.0))
    b = poser.pose(FrameParams(roll=-12.0, opening=20.0))
    # lying on the left side: the left hip is the bottom one
    assert np.linalg.norm(a.joints["left_hip"] - b.joints["left_hip"]) < 0.01
    assert b.gt["pelvis_roll_deg"] == pytest.approx(-12.0, abs=1e-6)
    # the top hip moves back (toward +Y) and the bottom leg stays put
    assert b.joints["right_hip"][1] > a.joints["right_hip"][1] + 0.05
    assert np.linalg.norm(a.joints["left_knee"] - b.joints["left_knee"]) < 1e-6
    assert np.linalg.norm(a.joints["left_ankle"] - b.joints["left_ankle"]) < 1e-6
    # feet stay together; the opening is relative to the closed legs of the rolled pelvis
    assert abs(a.gt["ankle_gap_cm"] - b.gt["ankle_gap_cm"]) < 0.5
    assert b.gt["opening_deg"] == 20.0


def test_feet_apart_opens_the_ankles(poser):
    a = poser.pose(FrameParams(roll=10.0, opening=20.0))
    b = poser.pose(FrameParams(roll=10.0, opening=20.0, ankle_lift=0.15))
    assert b.gt["ankle_gap_cm"] - a.gt["ankle_gap_cm"] > 12.0


def test_body_rests_on_the_mat(poser):
    """No floating, no sinking: the trunk, bottom knee and ankle touch the mat (within 1 cm)."""
    body = poser.body
    mat = poser.setup.mat_top
    for roll in (10.0, -10.0):
        v = body.skin(poser.pose(FrameParams(roll=roll)).T)
        for mask in (poser._trunk_v, poser._knee_v, poser._ankle_v):
            zmin = v[mask, 2].min()
            assert mat - 0.015 < zmin < mat + 0.01, (roll, zmin, mat)
        # nothing below the mat by more than 2 cm (hands, elbows included)
        assert v[:, 2].min() > mat - 0.025


def test_mirrored_side_mirrors_the_joints(synth_body):
    from clamcoach.synth.render import SetRenderer, SetSpec

    spec = dict(reps=1, views=("front",), seed=3, tempo=(0.5, 0.4, 0.5, 0.2), width=64, height=48)
    left = SetRenderer(SetSpec(side="left", **spec))
    right = SetRenderer(SetSpec(side="right", **spec))
    for t in (0.0, 1.0):
        _, pl, vl, jl = left.pose_frame(t)
        _, pr, vr, jr = right.pose_frame(t)
        for name, p in jl.items():
            np.testing.assert_allclose(jr[swap_lr(name)], mirror_x(p), atol=1e-9)
        np.testing.assert_allclose(vr, mirror_x(vl), atol=1e-9)
        assert pl.gt == pr.gt  # the measures do not depend on the side


def test_labels_follow_the_thresholds(synth_body, tmp_path):
    """Reps planned with mistakes get labelled from the measured ground truth."""
    from clamcoach.synth.render import THRESHOLDS, SetRenderer, SetSpec

    r = SetRenderer(SetSpec(reps=4, mistakes={1: ["roll_back"], 2: ["lift_too_high"], 3: ["feet_apart"]},
                            seed=9, width=64, height=48, tempo=(0.6, 0.4, 0.6, 0.2)))
    frames = []
    for i in range(r.n_frames):
        t = i / r.spec.fps
        _, posed, _, _ = r.pose_frame(t)
        frames.append({"t": t, **posed.gt})
    from clamcoach.synth.scene import CameraSpec, make_camera

    cam = make_camera(CameraSpec.nominal("front"), np.zeros(3) + [0, 0, 0.8], np.array([[1, 0, 1.0], [-1, 0, 0.7]]),
                      64, 48, 15.0, 0.7)
    doc = r.ground_truth(frames, [[] for _ in frames], cam, tmp_path / "x.mp4")
    labels = [x["labels"] for x in doc["reps"]]
    assert labels == [["roll_back"], ["lift_too_high"], ["feet_apart"], []]
    rb = doc["reps"][0]["peak_roll_back_deg"]
    assert 15 <= rb <= 25 and rb >= THRESHOLDS["roll_back_warn_deg"]
    assert doc["reps"][3]["peak_roll_back_deg"] == pytest.approx(0.0, abs=1e-6)
    shin = doc["setup"]["shin_length_cm"]
    assert doc["reps"][2]["peak_ankle_gap_cm"] > 0.25 * shin > doc["reps"][3]["peak_ankle_gap_cm"]
    assert doc["setup"]["side_lying_on"] == "left" and doc["setup"]["top_side"] == "right"
