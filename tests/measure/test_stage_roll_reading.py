"""The stage's pelvis roll from the lifting network (the default), and where the fit's stays."""

import dataclasses
import math

import numpy as np
import pytest

from clamcoach.body import BodyTracker
from clamcoach.measure.landmarks import landmark_indices, observe
from clamcoach.measure.lifting import shipped_network
from clamcoach.measure.profiles import JOINT_CENTRES
from clamcoach.measure.stage import MeasureParams, MeasureStage, RollReading, StageState
from skeleton import Camera, Pose, pose_frame

CAM = Camera(pitch=35)


def _body(pose: Pose, t: float):
    return dataclasses.replace(BodyTracker().push(pose_frame(pose, CAM, t=0.0)), t=t)


def _stage_at(cam: Camera, reading: RollReading = RollReading.NETWORK, setup_pose: Pose = Pose(),
              **params) -> MeasureStage:
    s = MeasureStage(MeasureParams(settle_s=0.75, roll_reading=reading, **params), focal_px=cam.focal_px,
                     profile=JOINT_CENTRES)
    for k in range(4):  # still from 0 to 0.75 s: the setup
        s.push(dataclasses.replace(BodyTracker().push(pose_frame(setup_pose, cam, t=0.0)), t=k / 4))
    assert s.state is StageState.TRACKING
    return s


def _stage(reading: RollReading) -> MeasureStage:
    return _stage_at(CAM, reading)


ROLLED = Pose(opening=25.0, roll=-2.0, base_roll=10.0)


def test_the_pelvis_roll_is_the_setups_plus_the_networks_change_with_the_larger_sd():
    s = _stage(RollReading.NETWORK)
    setup_points = observe(_body(Pose(), 0.0).image, s._top)[0]
    frame = _body(ROLLED, 2.75)
    kin = s.push(frame, may_calibrate=False)
    lifted = shipped_network().lift(setup_points, observe(frame.image, frame.top)[0][None])
    fit = _stage(RollReading.FIT).push(frame, may_calibrate=False)
    # the setup's forward roll is the network's too (the setup's frames all alike here)
    setup_roll = float(shipped_network().lift(setup_points, setup_points[None]).forward_roll_deg[0])
    assert fit.sd.pelvis_roll_deg <= s.params.network_roll_max_sd_deg  # a camera that sees the roll
    assert kin.pelvis_roll_deg == pytest.approx(setup_roll + lifted.roll_change_deg[0], abs=1e-9)
    assert kin.sd.pelvis_roll_deg == pytest.approx(max(lifted.roll_change_sd_deg[0], fit.sd.pelvis_roll_deg),
                                                   abs=1e-9)
    # and it is not the fit's reading: the two designs differ on this frame
    assert kin.pelvis_roll_deg != pytest.approx(fit.pelvis_roll_deg, abs=1e-6)
    assert kin.opening_deg == pytest.approx(fit.opening_deg, abs=1e-9)  # only the roll changes


def test_where_the_geometry_cannot_see_the_roll_the_fits_reading_stays():
    """From a level camera the fit's roll SD is above what a roll-back can be judged with: the
    network, which would read something there all the same, is not asked."""
    level = Camera(pitch=0)
    frame = dataclasses.replace(BodyTracker().push(pose_frame(ROLLED, level, t=0.0)), t=2.75)
    net = _stage_at(level).push(frame, may_calibrate=False)
    fit = _stage_at(level, RollReading.FIT).push(frame, may_calibrate=False)
    assert fit.sd.pelvis_roll_deg > MeasureParams().network_roll_max_sd_deg
    assert net.pelvis_roll_deg == fit.pelvis_roll_deg and net.sd.pelvis_roll_deg == fit.sd.pelvis_roll_deg


def test_the_network_reads_a_roll_back_as_a_roll_back():
    """Rolled back 12 deg from the setup's 10 deg forward, the knee open 25: the change reads
    back, within the stated 90% interval plus the test body's own shape (not a rendered one)."""
    s = _stage(RollReading.NETWORK)
    rest = s.push(_body(Pose(), 1.0), may_calibrate=False)
    kin = s.push(_body(ROLLED, 2.75), may_calibrate=False)
    change = kin.pelvis_roll_deg - rest.pelvis_roll_deg
    assert -12.0 - 5.0 < change < -12.0 + 5.0


def test_a_frame_with_a_point_missing_keeps_the_fits_roll_change():
    """... from the setup's forward roll as read (the network's, from this raised camera)."""
    frame = _body(ROLLED, 2.75)
    image = frame.image.copy()
    image[landmark_indices(frame.top)[-1], :2] = np.nan  # the top toe
    broken = dataclasses.replace(frame, image=image)
    net_stage, fit_stage = _stage(RollReading.NETWORK), _stage(RollReading.FIT)
    net, fit = (s.push(broken, may_calibrate=False) for s in (net_stage, fit_stage))
    fit_setup = math.degrees(fit_stage.setup.rest.roll0) + fit_stage.profile.hip_line_roll_bias_deg
    assert net.pelvis_roll_deg - net_stage._setup_roll_deg == pytest.approx(fit.pelvis_roll_deg - fit_setup,
                                                                             abs=1e-9)
    assert net.sd.pelvis_roll_deg == pytest.approx(fit.sd.pelvis_roll_deg, abs=1e-12)


@pytest.mark.parametrize("forward", [0.0, 10.0, 20.0])
def test_from_a_raised_camera_the_setups_forward_roll_is_the_networks(forward):
    """The fit's setup roll leans on its prior (this body rolled 20 forward reads about 12 from
    35 deg); the network's, used from raised cameras, reads it within 3."""
    s = _stage_at(CAM, setup_pose=Pose(roll=forward))
    assert abs(s._setup_roll_deg - forward) < 3.0
    fit = _stage_at(CAM, RollReading.FIT, setup_pose=Pose(roll=forward))
    # the SD: the larger of the network's and the fit's own (as for the roll's change)
    assert s.roll_sd_at_setup >= math.degrees(fit.setup.param("roll0")[1]) - 1e-9
    if forward == 20.0:
        assert abs(fit._setup_roll_deg - forward) > 5.0  # what the network is there for


def test_from_a_level_camera_the_setups_forward_roll_stays_the_fits():
    level = Camera(pitch=0)
    net, fit = _stage_at(level, setup_pose=Pose(roll=10.0)), _stage_at(level, RollReading.FIT,
                                                                         setup_pose=Pose(roll=10.0))
    assert net._setup_roll_deg == fit._setup_roll_deg and net.roll_sd_at_setup == fit.roll_sd_at_setup


def test_from_a_camera_below_the_raised_band_the_fits_reading_stays_even_where_it_sees_the_roll():
    """At 20 deg the fit's roll SD is within the protocol's, but the camera is below the raised
    band the network is trusted in: the fit's reading stays."""
    low = Camera(pitch=20)
    mild = Pose(opening=10.0, roll=6.0, base_roll=10.0)
    frame = dataclasses.replace(BodyTracker().push(pose_frame(mild, low, t=0.0)), t=2.75)
    net_stage = _stage_at(low)
    net = net_stage.push(frame, may_calibrate=False)
    fit = _stage_at(low, RollReading.FIT).push(frame, may_calibrate=False)
    assert fit.sd.pelvis_roll_deg <= MeasureParams().network_roll_max_sd_deg
    assert net_stage.setup.camera.elevation_deg() < MeasureParams().network_min_elevation_deg
    assert net.pelvis_roll_deg == fit.pelvis_roll_deg
    # the network alone would have read it otherwise
    ungated = _stage_at(low, network_min_elevation_deg=-90.0)
    assert ungated.push(frame, may_calibrate=False).pelvis_roll_deg != pytest.approx(fit.pelvis_roll_deg, abs=1e-6)
