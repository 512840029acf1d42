"""Synthetic keypoints for the lifting network: drawn bodies posed at random, projected."""

import numpy as np
import pytest

from clamcoach.measure.landmarks import POINTS

I = {n: i for i, n in enumerate(POINTS)}


@pytest.fixture(scope="module")
def samples():
    pytest.importorskip("anny")
    from clamcoach.synth.keypoints import sample_body
    from clamcoach.synth.make_sets import TUNING_RANGES

    return sample_body(900_123, TUNING_RANGES, n_frames=40, n_cameras=3)


def test_every_frame_goes_with_its_cameras_setup_and_the_truth_is_in_range(samples):
    assert samples.reference.shape == (3, 12, 2) and samples.frames.shape == (120, 12, 2)
    assert np.array_equal(np.bincount(samples.ref), [40, 40, 40])
    assert 0.0 <= samples.opening_deg.min() and samples.opening_deg.max() <= 75.0
    assert np.abs(samples.roll_change_deg).max() <= 26.0
    assert (samples.opening_deg == 0).any() and (samples.opening_deg > 30).any()


def test_the_bottom_leg_stays_where_the_setup_put_it_and_the_top_knee_moves_with_the_opening(samples):
    """The bottom hip, knee and ankle rest on the table in every pose (so a swap of top and
    bottom would show); the top knee leaves its setup place as the knee opens."""
    moved = np.linalg.norm(samples.frames - samples.reference[samples.ref], axis=-1)  # (n, 12) px
    for name in ("bottom_hip", "bottom_knee", "bottom_ankle"):
        assert moved[:, I[name]].max() < 1e-6
    wide = samples.opening_deg > 30
    assert moved[wide, I["top_knee"]].min() > 5.0


def test_the_same_seed_draws_the_same_keypoints(samples):
    from clamcoach.synth.keypoints import sample_body
    from clamcoach.synth.make_sets import TUNING_RANGES

    again = sample_body(900_123, TUNING_RANGES, n_frames=40, n_cameras=3)
    assert np.array_equal(again.frames, samples.frames) and np.array_equal(again.opening_deg, samples.opening_deg)


def test_samples_concatenate_with_their_setup_rows_renumbered(samples):
    from clamcoach.synth.keypoints import KeypointSamples

    both = KeypointSamples.concat([samples, samples])
    assert len(both.reference) == 6 and both.ref.max() == 5
    assert np.array_equal(both.reference[both.ref[120:]], samples.reference[samples.ref])


@pytest.mark.parametrize("twist", [-15.0, 8.0])
def test_a_trunk_twist_turns_the_shoulders_and_leaves_the_pelvis_and_legs(poser, twist):
    """The keypoints turn the trunk against the pelvis, so the network cannot read the pelvis
    roll off the shoulders; the data sets' frames (twist 0) are unchanged."""
    from clamcoach.synth.clamshell import FrameParams

    plain = poser.pose(FrameParams(roll=10.0, opening=20.0))
    turned = poser.pose(FrameParams(roll=10.0, opening=20.0, trunk_twist=twist))
    assert turned.gt["trunk_roll_deg"] == pytest.approx(plain.gt["trunk_roll_deg"] + twist, abs=0.5)
    assert turned.gt["pelvis_roll_deg"] == pytest.approx(plain.gt["pelvis_roll_deg"], abs=1e-9)
    for joint in ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"):
        assert np.allclose(turned.joints[joint], plain.joints[joint], atol=1e-9)
    assert not np.allclose(turned.joints["right_shoulder"], plain.joints["right_shoulder"], atol=1e-3)
