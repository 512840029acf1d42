"""The new set parameters (hand, knee pillow, support, clothes, lens, 3-D joints, attempts) reach
the ground truth and do what they say (needs the anny body; no rendering)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from clamcoach.synth.clamshell import FrameParams
from clamcoach.synth.options import Hand, Support

ROOT = pathlib.Path(__file__).resolve().parents[2]
TINY = dict(width=96, height=72, tempo=(0.6, 0.4, 0.6, 0.2))


def _renderer(**kw):
    from clamcoach.synth.body import Shape
    from clamcoach.synth.render import SetRenderer, SetSpec

    return SetRenderer(SetSpec(**{"reps": 2, "seed": 7, "shape": Shape(), **TINY, **kw}))


def _doc(r, camera=None):
    """The ground truth of every frame of a renderer's set, through one camera, without rendering
    (joints2d from the projection; visibility needs the depth image, so it is 0 here)."""
    from clamcoach.synth.render import JOINTS_2D, JOINTS_3D, _project_visible
    from clamcoach.synth.scene import CameraSpec

    spec = camera or CameraSpec("front", None, 40.0, 20.0, 0.8, 3.0, 30.0)
    r.spec.cameras = {"c": spec}
    _, _, v0, _ = r.pose_frame(0.0)
    cam = r.cameras(("c",), v0, v0)["c"]
    frames, j2d = [], []
    depth = np.zeros((r.spec.height, r.spec.width))
    for i in range(r.n_frames):
        t = i / r.spec.fps
        _, posed, _, pts = r.pose_frame(t)
        frames.append({"t": t, **posed.gt, "_joints3d": np.array([pts[n] for n in JOINTS_3D])})
        j2d.append(_project_visible(cam, np.array([pts[n] for n in JOINTS_2D]), depth))
    return r.ground_truth(frames, j2d, cam, pathlib.Path("x.mp4")), cam


def test_new_parameters_reach_the_ground_truth():
    from clamcoach.synth.scene import CameraSpec

    r = _renderer(hand=Hand.THIGH, knee_pillow_cm=10.0, support=Support.FLOOR, looseness_cm=2.5,
                  light_scale=0.7, light_tint=0.5, fps=24.0, side="right")
    doc, cam = _doc(r, CameraSpec("front", None, 72.0, -30.0, 0.8, 4.0, 47.0))
    su, c = doc["setup"], doc["camera"]
    assert (su["hand"], su["knee_pillow_cm"], su["support"]) == ("thigh", 10.0, "floor")
    assert su["hand_on_hip"] is False and "hand_off_hip" in su["labels"]
    assert su["mat_top_m"] == 0.015 and su["sink_cm"] == 0.4
    assert doc["body"]["clothes_looseness_cm"] == 2.5
    assert doc["scene"]["support"] == "floor" and doc["scene"]["light_scale"] == 0.7
    assert doc["scene"]["knee_pillow"]["thickness_m"] == pytest.approx(0.10)
    assert c["focal_length_35mm_mm"] == 47.0 and c["elevation_deg"] == 72.0 and c["view"] == "overhead"
    assert c["roll_deg"] == -4.0  # lying on the right: the mirrored camera's roll
    assert c["fps"] == 24.0
    assert doc["joints3d_names"][0] == "left_shoulder" and len(doc["frames"][0]["joints3d"]) == 14
    # every earlier key is still there
    for k in ("version", "video", "seed", "n_frames", "duration_s", "thresholds", "definitions", "setup",
              "camera", "body", "scene", "plan", "joints2d_names", "reps", "frames"):
        assert k in doc
    for k in ("pelvis_roll_deg", "pelvis_roll_rel_deg", "opening_deg", "knee_gap_cm", "joints2d"):
        assert k in doc["frames"][0]


def test_bed_sinks_the_body_a_little():
    r = _renderer(support=Support.BED)
    assert 0.45 <= r.setup.mat_top <= 0.62 and r.setup.sink == pytest.approx(0.02)
    v = r.body.skin(r.poser.pose(FrameParams(roll=r.setup.forward_roll)).T)
    assert r.setup.mat_top - 0.035 < v[r.poser._trunk_v, 2].min() < r.setup.mat_top - 0.012


def test_3d_joints_reproject_to_joints2d():
    from clamcoach.synth.scene import CameraSpec

    r = _renderer(side="right", width=1280, height=720)
    doc, cam = _doc(r, CameraSpec("front", None, 30.0, -25.0, 0.9, -3.0, 26.0))
    K = doc["camera"]["intrinsics"]
    pose = np.array(doc["camera"]["pose_camera_to_world"])
    inv = np.linalg.inv(pose)
    idx = [doc["joints2d_names"].index(n) for n in doc["joints3d_names"]]
    worst_cam = worst_world = 0.0
    for f in doc["frames"]:
        j2 = np.array(f["joints2d"])[idx, :2]
        c = np.array(f["joints3d_cam"])
        xy = np.column_stack([K["cx"] + K["fx"] * c[:, 0] / c[:, 2], K["cy"] + K["fy"] * c[:, 1] / c[:, 2]])
        worst_cam = max(worst_cam, np.abs(xy - j2).max())
        # the lying-frame joints through the stored pose (OpenGL camera: looks down -z, y up)
        w = np.array(f["joints3d"])
        p = w @ inv[:3, :3].T + inv[:3, 3]
        xy = np.column_stack([K["cx"] + K["fx"] * p[:, 0] / -p[:, 2], K["cy"] - K["fy"] * p[:, 1] / -p[:, 2]])
        worst_world = max(worst_world, np.abs(xy - j2).max())
    assert worst_cam < 0.5 and worst_world < 0.5, (worst_cam, worst_world)


@pytest.mark.parametrize("opening", [0.0, 30.0])
def test_hand_positions_put_the_top_wrist_where_they_say(poser, opening):
    mat = poser.setup.mat_top
    hip = poser.pose(FrameParams(roll=10.0, opening=opening, hand=Hand.HIP)).joints
    on_mat = poser.pose(FrameParams(roll=10.0, opening=opening, hand=Hand.MAT)).joints
    thigh = poser.pose(FrameParams(roll=10.0, opening=opening, hand=Hand.THIGH)).joints
    # on the hip: the wrist just above (toward the head from) the top hip, well off the mat
    w, h = hip["right_wrist"], hip["right_hip"]
    assert np.linalg.norm(w - h) < 0.2 and w[2] > mat + 0.2
    # on the mat in front of the chest: at the mat, in front of the body, between hip and shoulder
    w = on_mat["right_wrist"]
    assert mat < w[2] < mat + 0.07
    assert w[1] < on_mat["left_shoulder"][1] - 0.2
    assert on_mat["left_hip"][0] + 0.15 < w[0] < on_mat["left_shoulder"][0]
    # on the thigh: on the top thigh's outer side, riding with it as it opens
    w, h, k = thigh["right_wrist"], thigh["right_hip"], thigh["right_knee"]
    axis = (k - h) / np.linalg.norm(k - h)
    along = float((w - h) @ axis)
    off = np.linalg.norm((w - h) - along * axis)
    assert 0.0 < along < 0.6 * np.linalg.norm(k - h)
    assert poser.thigh_lat < off < poser.thigh_lat + 0.06
    assert w[2] > h[2] - 0.02  # on top of the leg, not under it
    # the hand and the labels
    assert hip.keys() == thigh.keys()
    g = poser.pose(FrameParams(roll=10.0, hand=Hand.THIGH)).gt
    assert g["hand_on_hip"] == 0.0


def test_thigh_hand_follows_the_opening(poser):
    """The hand rides with the thigh: its place relative to the thigh's axis does not change."""
    def rel(opening):
        j = poser.pose(FrameParams(roll=10.0, opening=opening, hand=Hand.THIGH)).joints
        h, k, w = j["right_hip"], j["right_knee"], j["right_wrist"]
        axis = (k - h) / np.linalg.norm(k - h)
        along = float((w - h) @ axis)
        return along, float(np.linalg.norm((w - h) - along * axis)), k

    a, b = rel(0.0), rel(40.0)
    assert b[2][2] - a[2][2] > 0.05  # the knee rose
    assert abs(a[0] - b[0]) < 0.01 and abs(a[1] - b[1]) < 0.01


@pytest.mark.parametrize("thickness_cm", [8.0, 15.0])
def test_pillow_keeps_the_knees_apart_by_its_thickness(synth_body, thickness_cm):
    from clamcoach.synth.clamshell import ClamPoser, Setup

    plain = ClamPoser(synth_body, Setup(hip_flex=45.0, knee_flex=50.0, forward_roll=10.0))
    pillow = ClamPoser(synth_body, Setup(hip_flex=45.0, knee_flex=50.0, forward_roll=10.0,
                                         knee_pillow=thickness_cm / 100))
    for roll in (10.0, -2.0):
        a = plain.pose(FrameParams(roll=roll)).gt
        b = pillow.pose(FrameParams(roll=roll)).gt
        assert b["knee_gap_cm"] - a["knee_gap_cm"] == pytest.approx(thickness_cm, abs=0.05)
        assert b["knee_lift_cm"] == pytest.approx(0.0, abs=1e-6)  # the closed position is on the pillow
        assert abs(b["ankle_gap_cm"] - a["ankle_gap_cm"]) < 0.3  # the feet stay together
    # the opening starts from the pillow: 20 deg lifts the knee further
    c = pillow.pose(FrameParams(roll=10.0, opening=20.0)).gt
    assert c["knee_lift_cm"] > 3.0 and c["opening_deg"] == 20.0
    # the cushion sits between the knees, as thick as it says
    kp = pillow.knee_pillow
    j = pillow.pose(FrameParams(roll=10.0)).joints
    assert kp["thickness_m"] == pytest.approx(thickness_cm / 100)
    assert j["left_knee"][2] < kp["center"][2] < j["right_knee"][2]


def test_no_visible_lift_reps_are_attempts():
    r = _renderer(reps=3, opening_range=(0.8, 2.6))
    doc, _ = _doc(r)
    assert doc["reps"] == [] and len(doc["attempts"]) == 3
    assert doc["set_labels"] == ["no_visible_lift"]
    assert all(a["peak_opening_deg"] < 3.0 and a["labels"] == ["no_visible_lift"] for a in doc["attempts"])


def test_small_reps_and_short_lead_in():
    from clamcoach.synth.motion import plan_set

    plan = plan_set(6, {}, np.random.default_rng(3), small_reps=6, small_range=(5.0, 8.0), lead_in_range=(0.8, 1.1))
    assert all(5.0 <= r.opening <= 8.0 for r in plan.reps)
    assert 0.8 <= plan.rep_starts()[0] <= 1.1


def test_loose_clothes_stand_off_the_trunk_not_the_hands():
    r = _renderer(looseness_cm=3.0)
    body = r.body
    names = body.labels
    trunk = np.isin(body.dominant, [i for i, n in enumerate(names) if n.startswith("spine")])
    hands = np.isin(body.dominant, [i for i, n in enumerate(names) if n.startswith(("wrist", "finger"))])
    assert np.median(r.loose[trunk]) == pytest.approx(0.03)
    assert np.all(r.loose[hands] == 0.0)


@pytest.mark.parametrize("which, name", [("tuning", "t6"), ("eval", "e9")])
def test_the_first_sets_still_reproduce(which, name):
    """Sets t1-t10 / e1-e10 were rendered before hands, pillows and lenses existed: their poses and
    cameras must come out the same (the committed ground truth is the reference)."""
    from clamcoach.synth import make_sets
    from clamcoach.synth.render import SetRenderer, SetSpec

    job = next(j for j in make_sets.set_jobs(which) if j["name"] == name)
    view = job["spec"]["views"][0]
    path = pathlib.Path(job["out"].replace(".mp4", f"_{view}.json"))
    if not path.exists():
        pytest.fail(f"{path} is committed ground truth and missing from this checkout")
    gt = json.loads(path.read_text())
    r = SetRenderer(SetSpec(**job["spec"]))
    assert r.n_frames == gt["n_frames"]
    for i in (0, 40, len(gt["frames"]) // 2, len(gt["frames"]) - 1):
        _, posed, _, _ = r.pose_frame(gt["frames"][i]["t"])
        for k, val in posed.gt.items():
            assert round(val, 2) == pytest.approx(gt["frames"][i][k], abs=0.05), (i, k)
    times = np.arange(r.n_frames) / r.spec.fps
    params = [r.plan.at(float(t)) for t in times]
    i_open = int(np.argmax([p.opening + 100 * p.ankle_lift for p in params]))
    cams = r.cameras((view,), r.pose_frame(0.0, params[0])[2], r.pose_frame(float(times[i_open]), params[i_open])[2])
    b = cams[view].block()
    np.testing.assert_allclose(b["pose_camera_to_world"], gt["camera"]["pose_camera_to_world"], atol=1e-5)
    assert b["view"] == gt["camera"]["view"] and b["yfov_deg"] == gt["camera"]["yfov_deg"]
