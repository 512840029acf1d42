"""The lifting network (the design compared with the body fit): its input frame and the shipped weights."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clamcoach.measure.landmarks import landmark_indices
from clamcoach.measure.lifting import N_FEATURES, LiftingNet, canonical, features, setup_reference
from clamcoach.types import LANDMARKS, Side

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "data" / "tuning" / "t10_oblique.json"


def _body(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A side-lying body's setup and three frames, roughly as seen from the front (px)."""
    rng = np.random.default_rng(seed)
    ref = np.array([[240, 200], [242, 185], [300, 230], [302, 215], [390, 240], [392, 232],
                    [150, 190], [152, 170], [388, 248], [391, 240], [410, 250], [412, 244]], float)
    ref += rng.normal(0, 3, ref.shape)
    frames = ref + rng.normal(0, 6, (3, 12, 2))
    return ref, frames


similarities = st.tuples(st.floats(-math.pi, math.pi), st.floats(0.3, 4.0), st.floats(-500, 500),
                         st.floats(-500, 500), st.booleans(), st.integers(0, 1000))


@settings(max_examples=80, deadline=None)
@given(similarities)
def test_what_the_network_sees_does_not_change_with_where_the_body_sits_its_size_a_tilt_or_a_mirror(sim):
    angle, scale, dx, dy, mirror, seed = sim
    ref, frames = _body(seed)
    m = scale * np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    if mirror:
        m = m @ np.diag([-1.0, 1.0])
    move = np.array([dx, dy])
    assert np.allclose(features(ref @ m.T + move, frames @ m.T + move), features(ref, frames), atol=1e-9)


def test_the_setup_frame_is_centred_of_unit_spread_with_the_knees_on_the_positive_side():
    ref, frames = _body(3)
    ref_c, frames_c = canonical(ref, frames)
    assert np.allclose(ref_c.mean(0), 0.0, atol=1e-12)
    assert np.sqrt((ref_c ** 2).sum(1).mean()) == pytest.approx(1.0)
    assert ref_c[[2, 3], 1].mean() > 0.5 * (ref_c[[0, 1], 1].mean() + ref_c[[4, 5], 1].mean())
    assert frames_c.shape == (3, 12, 2)
    assert features(ref, frames).shape == (3, N_FEATURES)


def test_a_batch_of_setups_reads_each_frame_against_its_own_setup():
    (r1, f1), (r2, f2) = _body(1), _body(2)
    batch = features(np.stack([r1, r2]), np.stack([f1, f2]))
    assert np.allclose(batch[0], features(r1, f1)) and np.allclose(batch[1], features(r2, f2))


def test_the_setup_reference_is_the_per_point_median_and_skips_missing_frames():
    pts = np.stack([np.full((12, 2), 1.0), np.full((12, 2), 3.0), np.full((12, 2), np.nan), np.full((12, 2), 2.0)])
    assert np.allclose(setup_reference(pts), 2.0)


def _true_points(gt: dict, frame: dict) -> np.ndarray:
    index = {n: i for i, n in enumerate(gt["joints2d_names"])}
    idx = [index[LANDMARKS[i]] for i in landmark_indices(Side(gt["setup"]["top_side"]))]
    return np.array(frame["joints2d"], float)[idx, :2]


def test_the_shipped_network_reads_a_rendered_sets_true_joints_to_within_a_few_degrees():
    """On the true joint centres of a rendered set (no pose model), the network trained on
    synthetic keypoints reads each rep's peak opening and a still closed knee near the truth."""
    gt = json.loads(CLIP.read_text())
    first = gt["reps"][0]["start_s"]
    frames = gt["frames"]
    ref = setup_reference(np.array([_true_points(gt, f) for f in frames if f["t"] < first]))
    pts = np.array([_true_points(gt, f) for f in frames])
    out = LiftingNet.load().lift(ref, pts)
    t = np.array([f["t"] for f in frames])
    for rep in gt["reps"]:
        k = int(np.argmin(np.abs(t - rep["peak_s"])))
        assert out.opening_deg[k] == pytest.approx(rep["peak_opening_deg"], abs=6.0)
        assert out.opening_sd_deg[k] > 0
    still = t < first
    assert np.abs(out.opening_deg[still]).max() < 4.0
    assert np.median(out.forward_roll_deg) == pytest.approx(gt["setup"]["forward_roll_deg"], abs=5.0)
    rolled = [r for r in gt["reps"] if r["peak_roll_back_deg"] >= 10]
    assert rolled
    for rep in rolled:
        k = int(np.argmin(np.abs(t - rep["peak_s"])))
        assert -out.roll_change_deg[k] == pytest.approx(rep["peak_roll_back_deg"], abs=4.0)
