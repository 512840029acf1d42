"""The measurement stage, online: body frames in, kinematics with standard deviations out.

    collecting -- the body still for ``settle_s`` --> fit camera and body (setup_fit)
    tracking   -- per frame: fit the pose (frame_fit) --> Kinematics
               -- the model stops explaining the landmarks for ``lost_s`` --> collecting

The stage measures nothing until it has a setup: a camera and a body of its own, estimated
from this person in this placement. Then every frame's numbers come with the standard
deviation the fit gives them, so what one placement cannot see shows up as a large SD.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from clamcoach.measure.camera import DEFAULT_HFOV_DEG, focal_from_hfov
from clamcoach.measure.frame_fit import FrameFitter, PoseEstimate
from clamcoach.measure.gain_spread import opening_gain_sd_rel
from clamcoach.measure.landmarks import GROUP_OF, GROUPS, POINTS, observe
from clamcoach.measure.lifting import shipped_network
from clamcoach.measure.model import J, BodyModel, hip_flexion_deg, knee_flexion_deg
from clamcoach.measure.placement import is_end_on
from clamcoach.measure.profiles import BLAZEPOSE, BODY_PARAMS, LandmarkProfile
from clamcoach.measure.setup_fit import SetupFit, body_size_px, fit_setup, rest_from_params
from clamcoach.types import BodyFrame, Kinematics, Side, Spread

#: Landmark noise per group, as a share of the body's image size (trunk plus bottom leg): the
#: RMS residual of the per-frame fit on the tuning clips, corrected for the fitted degrees of
#: freedom (benchmarks/fit_noise.py prints both numbers below).
RESIDUAL_NOISE_REL: dict[str, float] = {"hip": 0.0085, "knee": 0.0115, "ankle": 0.0097, "shoulder": 0.0083,
                                        "foot": 0.0136}
#: BlazePose's points also drift with the pose (a bias the residuals cannot show), so the
#: stated SDs use the residual noise times these factors, fitted so that 90% of the tuning
#: frames fall inside the stated 90% interval, for the roll (hips, shoulders) and the opening
#: (knees, ankles, feet) each.
INTERVAL_INFLATION: dict[str, float] = {"hip": 0.62, "shoulder": 0.62, "knee": 1.0, "ankle": 1.0, "foot": 1.0}
NOISE_REL: dict[str, float] = {g: v * INTERVAL_INFLATION[g] for g, v in RESIDUAL_NOISE_REL.items()}


#: How fast the pose's degrees of freedom can move (roll, trunk twist, opening, abduction),
#: degrees a second, as the SD of a per-frame motion prior. A brisk clamshell opens 60
#: degrees in half a second (a minimum-jerk peak speed of 225 deg/s); BlazePose's points from
#: some views swap or jump further than that in one frame, and the fit with them.
MAX_SPEED_RAD_S = np.radians([100.0, 100.0, 200.0, 100.0])
#: A landmark this many SDs from the fitted model (its 2-D residual) is within its noise: the
#: norm of two unit normals exceeds 2 on 14% of frames.
MISS_FREE_SD = 2.0
MIN_FRAME_S = 1.0 / 60.0


class StageState(str, Enum):
    COLLECTING = "collecting"
    TRACKING = "tracking"


class RollReading(str, Enum):
    """Where the pelvis roll's change since the setup comes from.

    NETWORK (the default): the lifting network (``lifting.py``) reads it from the frame's
    landmarks beside the setup's, where the geometry says the roll is seen: the setup's camera
    raised at least ``network_min_elevation_deg`` and the fit's roll SD small enough to judge a
    roll-back. Elsewhere, and on frames it cannot read (a landmark missing), the fit's reading.
    The SD stays the fit's (or the network's, when larger). On the rendered sets from raised
    cameras it halves the roll-back error and the false readings on clean reps; on a body
    the generator did not draw (tests/skeleton.py) it reads as well as the fit, and better when
    the trunk turns without the pelvis (docs/ACCURACY.md, "Two designs side by side").
    FIT: the body fit's own reading everywhere.
    """

    NETWORK = "network"
    FIT = "fit"


class OpeningReading(str, Enum):
    """Where the knee's opening comes from.

    FIT (the default): the body fit's own reading.
    FUSED: the body fit's and the lifting network's readings weighted by the inverse of their
    variances, with the SD of that weighting as if their errors were fully correlated (they read
    the same landmarks). On the tuning renders it cut the rep peak opening's error from 5.5
    (fit) and 5.0 (network) to 4.1 deg from raised cameras. It is not the default because the
    network misreads a body the generator did not draw: on tests/skeleton.py's a 60-deg opening
    reads 30-40 from level and 35-deg cameras with an SD of 3-5 (the fit: 46-55), so the fusion
    would carry the generator's bodies into every patient's opening (docs/ACCURACY.md).
    """

    FIT = "fit"
    FUSED = "fused"


@dataclass(frozen=True)
class MeasureParams:
    settle_s: float = 0.8           # still this long before the setup is fitted
    still_rel: float = 0.02         # "still": every core point within this share of the body
    max_setup_rms_rel: float = 0.06  # a setup the model explains worse is no side-lying body
    max_setup_roll_deg: float = 50.0  # rolled further than this (either way) is not on the side
    min_setup_bend_deg: float = 15.0  # hips and knees bent at least this: not standing or walking
    closed_share: float = 0.7       # the knees this much closer together than at setup ...
    closed_drop_rel: float = 0.03   # ... and closer by this share of the body's size (not jitter) ...
    closed_below_s: float = 1.0     # ... for this long: the setup was taken open (a hold)
    #: From above, the knees' gap in the picture hardly shrinks as the knee closes: there a
    #: setup taken open shows as the fit held this far below its closed floor (deg) with most
    #: landmarks this many SDs off, for ``closed_below_s``.
    pinned_below_deg: float = 4.0
    pinned_residual_sd: float = 2.5
    #: The landmarks of this many seconds are kept, to measure them again when a setup turns
    #: out to have been taken in a hold (the reps meanwhile were measured from an open knee).
    remeasure_s: float = 30.0
    #: A setup replaced as taken in a hold is taken for one when the new setup reads its knee
    #: open by this much (deg) and by this many SDs (one-sided 90%: the rule that replaced it is
    #: evidence too); else it was a false alarm and the frames keep their measures.
    open_setup_min_deg: float = 5.0
    open_setup_min_sds: float = 1.28
    #: Most landmarks (the median point) further than this many SDs from the model ...
    lost_residual_sd: float = 5.0
    lost_s: float = 1.5             # ... for this long: the person or the camera moved
    gap_restart_s: float = 1.0      # after a longer gap the fit starts again from rest
    min_visibility: float = 0.3
    hfov_deg: float = DEFAULT_HFOV_DEG
    #: A declared knee pillow sets the rest knee's height only for a camera this high (deg):
    #: lower, the knees' gap is in the picture and the landmarks' own gap serves. On tuning
    #: renders from level cameras the pillow's prior turned openings read 3 deg low into 2-10
    #: deg high; from 35 deg up it brought readings 5-14 deg high to within 4.
    pillow_min_elevation_deg: float = 35.0
    #: Without a declared pillow, a top knee the setup's fit puts this far (m) above the stacked
    #: prior's mean is taken to rest on one (``knee_pillow_seen``), and measured as if declared.
    #: On the tuning renders that fit put BlazePose's top knee 0.133-0.159 m above the bottom
    #: one with the knees together and 0.157-0.186 with a pillow; not from the feet or head end,
    #: where BlazePose squeezes the pairs (0.119-0.172 either way).
    pillow_seen_above_m: float = 0.01
    roll_reading: RollReading = RollReading.NETWORK
    opening_reading: OpeningReading = OpeningReading.FIT
    #: With RollReading.NETWORK: the network's reading is used where the fit's roll SD is at
    #: most this (the protocol's roll_back.max_sd_deg: where a roll-back can be judged at all) ...
    network_roll_max_sd_deg: float = 4.0
    #: ... and the setup's camera is raised this far (the issue's "raised"): from lower, the roll
    #: turns the hips along the line of sight and the network reads it off cues of the bodies
    #: it learnt from (tests/skeleton.py from a level camera: 20 deg read as 7).
    network_min_elevation_deg: float = 25.0
    #: The opening's SD carries the setup's own uncertainty (``gain_spread``): where the setup
    #: cannot tell how the knee will move in the picture, the opening is not known either.
    setup_gain_spread: bool = True


@dataclass(frozen=True)
class _StillSetup:
    """The still moment a setup is fitted to."""

    median: np.ndarray       # (12, 2) px, the points seen well enough (NaN elsewhere)
    every_point: np.ndarray  # (12, 2) px, every point as the pose model put it
    frames: list[np.ndarray]  # each still frame's every point
    held_s: float


def _sigmas(table: dict[str, float]) -> np.ndarray:
    return np.array([table[g] for g in GROUP_OF])


@dataclass
class _Sustained:
    """How long a condition has held without a break, frame by frame."""

    since: float | None = None

    def update(self, holds: bool, t: float) -> float:
        """Seconds the condition has held up to ``t`` (0 when it does not hold now)."""
        if not holds:
            self.since = None
            return 0.0
        if self.since is None:
            self.since = t
        return t - self.since


@dataclass
class MeasureStage:
    params: MeasureParams = field(default_factory=MeasureParams)
    #: Focal length in pixels when the video says it (else from ``params.hfov_deg``).
    focal_px: float | None = None
    noise_rel: dict[str, float] = field(default_factory=lambda: dict(NOISE_REL))
    profile: LandmarkProfile = BLAZEPOSE
    #: The patient said they rest the knees on a pillow (``setup.knee_pillow``).
    knee_pillow: bool = False

    def __post_init__(self) -> None:
        self.state = StageState.COLLECTING
        self.setup: SetupFit | None = None
        self.model: BodyModel | None = None
        self._fitter: FrameFitter | None = None
        #: the still frames so far: (t, points seen well enough, every point as the pose model put it)
        self._window: deque[tuple[float, np.ndarray, np.ndarray]] = deque()
        self._q = np.zeros(4)
        self._last_t = -math.inf
        self._badly_explained = _Sustained()
        self._knees_closer = _Sustained()
        self._pinned = _Sustained()
        self._setup_knee_gap = math.nan
        self._opening_scale = 1.0
        self._opening_gain_sd_rel = self.profile.opening_gain_sd_rel
        #: The latest setup saw the knees resting apart without a declared pillow.
        self.knee_pillow_seen = False
        self.setup_held_s = 0.0  # how long the body had been still when the setup was taken
        self._top: Side | None = None
        self._still: _StillSetup | None = None  # what the current setup was fitted to
        self._lift_reference: np.ndarray | None = None  # the setup's 12 points, px (the network's)
        #: the pelvis's forward roll at the setup (deg, the profile's bias included) and its SD
        self._setup_roll_deg = math.nan
        self._setup_roll_sd_deg = math.nan
        self.calibrations = 0
        self.last_estimate: PoseEstimate | None = None
        #: When each stretch began after which the model no longer explained the body (s).
        self.lost_at: list[float] = []
        #: When each setup was taken (s): a loss with none after it was never measured again.
        self.setup_at: list[float] = []
        #: Every body frame of the last ``remeasure_s``: (t, points seen well enough, all points).
        self._recent: deque[tuple[float, np.ndarray, np.ndarray]] = deque()
        #: When the stage last began collecting a setup, and when the collecting began that
        #: led to the current setup (through setups taken in a hold): -inf for the start.
        self._collecting_since = -math.inf
        self._setup_from = -math.inf
        #: The current setup is being replaced because it seemed to be taken in a hold: its still
        #: moment, to be measured from the next setup.
        self._taken_open: _StillSetup | None = None
        #: Set by a setup that follows one taken in a hold: measure the frames from this time
        #: again (``remeasure``); None otherwise.
        self.remeasure_from: float | None = None

    # -- the per-frame step -------------------------------------------------------------------
    def push(self, body: BodyFrame, *, may_calibrate: bool = True) -> Kinematics | None:
        """Kinematics of this frame, or None while the setup is being collected."""
        points, vis = observe(body.image, body.top)
        obs = np.where((vis >= self.params.min_visibility)[:, None], points, np.nan)
        self._keep(body.t, obs, points)
        if self.state is StageState.TRACKING and body.top is not self._top:
            # The body stage changed its mind about which side is on top (its vote settles only
            # when the thighs' direction is seen, from a level front camera often in the first
            # rep): the still setup is the same landmarks, seen as the other side's mirror image.
            # Fitted again from them, not from a new still moment, which would come in a hold.
            if self._still is None or not self._calibrate(self._still, body):
                self.reset()
        if self.state is StageState.COLLECTING:
            self._collect(body, obs, points, may_calibrate)
            if self.state is StageState.COLLECTING:
                return None
        return self._track(body, obs, points)

    def reset(self, *, taken_open: bool = False) -> None:
        """Forget the setup: the person or camera moved, or (``taken_open``) the setup turned out
        to have been taken in a hold, so the frames since it are to be measured again."""
        if self.state is StageState.TRACKING:
            self._taken_open = self._still if taken_open else None
            self._collecting_since = self._last_t
        self.state = StageState.COLLECTING
        self._still = None
        self._window.clear()
        self._badly_explained = _Sustained()
        self._knees_closer = _Sustained()
        self._pinned = _Sustained()

    def _keep(self, t: float, obs: np.ndarray, points: np.ndarray) -> None:
        self._recent.append((t, obs, points))
        while self._recent and self._recent[0][0] < t - self.params.remeasure_s:
            self._recent.popleft()

    def remeasure(self, since: float, until: float) -> list[Kinematics]:
        """The kept frames from ``since`` up to (not including) ``until``, measured again with
        the current setup, in order, as ``push`` measures a frame (the live state untouched)."""
        assert self._fitter is not None
        q, last_t, out = np.zeros(4), -math.inf, []
        for t, obs, points in self._recent:
            if t < since or t >= until or not np.any(np.isfinite(obs[:, 0])):
                continue
            dt = t - last_t
            motion = None if dt > self.params.gap_restart_s else MAX_SPEED_RAD_S * max(dt, MIN_FRAME_S)
            est = self._fitter.fit(obs, self.noise_px(), np.zeros(4) if motion is None else q, motion_sd=motion)
            q, last_t = est.pose, t
            out.append(self.kinematics(t, est, self._lifted(points)))
        return out

    # -- collecting ---------------------------------------------------------------------------
    def _collect(self, body: BodyFrame, obs: np.ndarray, points: np.ndarray, may_calibrate: bool) -> None:
        if self.state is StageState.TRACKING:
            self.reset()
        core = obs[:8]
        if not may_calibrate or not np.all(np.isfinite(core)):
            self._window.clear()
            return
        self._window.append((body.t, obs, points))
        size = body_size_px(obs)
        while len(self._window) > 1:
            pts = np.array([o[:8] for _, o, _ in self._window])
            med = np.median(pts, axis=0)
            if np.max(np.linalg.norm(pts - med, axis=2)) <= self.params.still_rel * size:
                break
            self._window.popleft()
        if body.t - self._window[0][0] < self.params.settle_s:
            return
        with warnings.catch_warnings():  # a point unseen in every frame stays NaN, weight 0
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(np.array([o for _, o, _ in self._window]), axis=0)
            every_point = np.nanmedian(np.array([p for _, _, p in self._window]), axis=0)
        if not self._calibrate(_StillSetup(median, every_point, [p for _, _, p in self._window],
                                           body.t - self._window[0][0]), body):
            self._window.clear()

    def _calibrate(self, still: _StillSetup, body: BodyFrame) -> bool:
        """Fit the camera and the body to a still setup; False when it is no side-lying body."""
        median = still.median
        fit = self._fit_setup(median, body)
        roll = math.degrees(fit.rest.roll0) + self.profile.hip_line_roll_bias_deg
        # The clamshell is done with hips and knees bent: a body the model can only explain with
        # straight legs is someone standing or walking, whatever the fit's residuals.
        bent = min(math.degrees(fit.param("hip_flexion")[0]) + self.profile.hip_flexion_bias_deg,
                   math.degrees(fit.param("knee_flexion")[0]) + self.profile.knee_flexion_bias_deg)
        if (fit.rms_rel > self.params.max_setup_rms_rel or abs(roll) > self.params.max_setup_roll_deg
                or bent < self.params.min_setup_bend_deg):
            return False
        self.setup = fit
        self._still = still
        self.setup_held_s = still.held_s
        self._setup_knee_gap = _knee_gap(median)
        # the network reads BlazePose's points as they are, seen well or not (as it was trained)
        every_point = still.every_point
        self._lift_reference = every_point if np.all(np.isfinite(every_point)) else None
        self._setup_roll_deg, self._setup_roll_sd_deg = self._setup_roll(fit, still.frames)
        self.model = BodyModel(fit.rest)
        self._opening_scale = joint_circle_scale(fit, self.profile)
        self._fitter = FrameFitter(self.model, fit.camera, fit.offsets)
        spread = opening_gain_sd_rel(fit, self._fitter, self.noise_px()) if self.params.setup_gain_spread else 0.0
        self._opening_gain_sd_rel = math.hypot(self.profile.opening_gain_sd_rel, spread)
        self._q = np.zeros(4)
        self._top = body.top
        self.state = StageState.TRACKING
        self.calibrations += 1
        self.setup_at.append(body.t)
        # After a setup taken in a hold, everything since the last trusted moment was measured
        # from an open knee: the engine measures it again from this one.
        held = self._taken_open is not None and self._was_open(self._taken_open)
        self.remeasure_from = self._setup_from if held else None
        self._setup_from = self._setup_from if held else self._collecting_since
        self._taken_open = None
        self._window.clear()
        return True

    def _was_open(self, still: _StillSetup) -> bool:
        """Whether this setup reads the knee open in a replaced setup's still moment."""
        assert self._fitter is not None
        est = self._fitter.fit(still.median, self.noise_px(), np.zeros(4))
        kin = self.kinematics(math.nan, est)
        p = self.params
        return kin.opening_deg >= max(p.open_setup_min_deg, p.open_setup_min_sds * kin.sd.opening_deg)

    def _setup_roll(self, fit: SetupFit, still: list[np.ndarray]) -> tuple[float, float]:
        """The forward roll at the setup and its SD (deg). The fit's is pulled toward its prior
        (tests/skeleton.py from 35 deg: 0, 10, 20 read 2.7, 6.9, 12.4; the network 2.6, 10.7,
        20.2), and its SD is mostly the spread of BlazePose's offsets between bodies; the
        network reads it where it reads the roll's change (a raised camera), with the larger of
        its SD and the fit's own."""
        fit_sd = math.degrees(fit.param("roll0")[1])
        fit_roll = math.degrees(fit.rest.roll0) + self.profile.hip_line_roll_bias_deg
        frames = np.array(still)
        if (self.params.roll_reading is not RollReading.NETWORK or self._lift_reference is None
                or fit.camera.elevation_deg() < self.params.network_min_elevation_deg):
            return fit_roll, math.hypot(fit_sd, self.profile.roll_bias_sd_deg)
        frames = frames[np.all(np.isfinite(frames), axis=(1, 2))]
        if not len(frames):
            return fit_roll, math.hypot(fit_sd, self.profile.roll_bias_sd_deg)
        out = shipped_network().lift(self._lift_reference, frames)
        return float(np.median(out.forward_roll_deg)), max(float(np.median(out.forward_roll_sd_deg)), fit_sd)

    def _fit_setup(self, median: np.ndarray, body: BodyFrame) -> SetupFit:
        f = self.focal_px or focal_from_hfov(body.width, self.params.hfov_deg)
        seen = np.where(np.isfinite(median[:, 0]), 1.0, 0.0)
        kw = dict(fx=f, fy=f, cx=body.width / 2, cy=body.height / 2,
                  sigma_rel=_sigmas(self.profile.setup_noise_rel), mirrored=body.top is Side.LEFT)
        fit = fit_setup(median, seen, profile=self.profile, **kw)
        self.knee_pillow_seen = not self.knee_pillow and self._pillow_seen(fit)
        # From above, the picture does not show how high the top knee rests, so the prior says
        # it; with a pillow that prior is a pillow's thickness off (tuning: openings read 5-14
        # deg high from raised cameras), unless the patient said so or the fit saw it.
        pillow = self.knee_pillow or self.knee_pillow_seen
        if pillow and fit.camera.elevation_deg() >= self.params.pillow_min_elevation_deg:
            fit = fit_setup(median, seen, profile=self.profile.with_knee_pillow(), **kw)
        return fit

    def _pillow_seen(self, fit: SetupFit) -> bool:
        """The fit, with the knees-together prior, still put the top knee a pillow's start above
        the bottom one: the picture showed it, not the prior."""
        if is_end_on(fit.camera.elevation_deg(), fit.camera.azimuth_deg()):
            return False
        stacked = self.profile.priors["knee_dz"].mean
        return fit.param("knee_dz")[0] >= stacked + self.params.pillow_seen_above_m

    # -- tracking -----------------------------------------------------------------------------
    def _track(self, body: BodyFrame, obs: np.ndarray, points: np.ndarray) -> Kinematics:
        assert self._fitter is not None and self.setup is not None and self.model is not None
        dt = body.t - self._last_t
        restart = dt > self.params.gap_restart_s
        if restart:
            self._q = np.zeros(4)
        self._last_t = body.t
        motion = None if restart else MAX_SPEED_RAD_S * max(dt, MIN_FRAME_S)
        est = self._fitter.fit(obs, self.noise_px(), self._q, motion_sd=motion)
        self.last_estimate = est
        self._q = est.pose
        # Judged on most points, not on their mean: from above or from the feet, BlazePose guesses
        # the hidden bottom leg far off while the rest fits (that lost a rep mid-hold).
        badly = est.typical_residual > self.params.lost_residual_sd
        streak = self._badly_explained.update(badly, body.t)
        if streak >= self.params.lost_s:
            self.lost_at.append(body.t - streak)
            self.reset()
        # A hold is as still as a rest: after a setup taken during one, the knees come closer
        # together than they were at the setup (seen in the picture, whatever the fit makes of
        # it). Then measure the setup again, at the next still rest.
        gap = _knee_gap(obs)
        closer = (gap < self.params.closed_share * self._setup_knee_gap
                  and gap < self._setup_knee_gap - self.params.closed_drop_rel)
        if self._knees_closer.update(closer, body.t) >= self.params.closed_below_s:
            self.reset(taken_open=True)
        pinned = (math.degrees(est.pose[2]) < -self.params.pinned_below_deg
                  and est.typical_residual > self.params.pinned_residual_sd)
        if self._pinned.update(pinned, body.t) >= self.params.closed_below_s:
            self.reset(taken_open=True)
        return self.kinematics(body.t, est, self._lifted(points))

    def _lifted(self, points: np.ndarray) -> NetworkReading | None:
        """The lifting network's reading of this frame, or None when neither measure asks for it
        or it cannot read this frame (a point missing)."""
        wanted = (self.params.roll_reading is RollReading.NETWORK
                  or self.params.opening_reading is OpeningReading.FUSED)
        if not wanted or self._lift_reference is None or not np.all(np.isfinite(points)):
            return None
        out = shipped_network().lift(self._lift_reference, points[None])
        return NetworkReading(float(out.opening_deg[0]), float(out.opening_sd_deg[0]),
                              float(out.roll_change_deg[0]), float(out.roll_change_sd_deg[0]))

    def kinematics(self, t: float, est: PoseEstimate, lifted: NetworkReading | None = None) -> Kinematics:
        """Measures (with SDs) from one fitted pose; ``lifted`` (the network's reading) enters
        the roll and the opening as ``params.roll_reading`` and ``params.opening_reading`` say."""
        assert self.setup is not None and self.model is not None
        rest = self.setup.rest
        q, cov = est.pose, est.cov
        sd = est.sd
        X = est.joints
        deg = math.degrees
        trunk_var = cov[0, 0] + cov[1, 1] + 2 * cov[0, 1]
        l2 = self.model.l2
        ankle_gap = float(np.linalg.norm(X[J["top_ankle"]] - X[J["bottom_ankle"]]))
        knee_gap = float(np.linalg.norm(X[J["top_knee"]] - X[J["bottom_knee"]]))
        rest_knee_gap = float(np.linalg.norm(rest.top_knee - rest.bottom_knee))
        roll = rest.roll0 + q[0]
        opening, opening_sd = _knee_opening(self.model, q, cov)   # on the landmarks' circle
        lateral = X[J["top_hip"]] - X[J["bottom_hip"]]
        hip = (hip_flexion_deg(X[J["top_hip"]], X[J["top_knee"]], lateral, roll)
               + hip_flexion_deg(X[J["bottom_hip"]], X[J["bottom_knee"]], lateral, roll)) / 2
        knee = (knee_flexion_deg(X[J["top_hip"]], X[J["top_knee"]], X[J["top_ankle"]])
                + knee_flexion_deg(X[J["bottom_hip"]], X[J["bottom_knee"]], X[J["bottom_ankle"]])) / 2
        # Knee lift: how far the knee's circle carries it (radius times the opening's change).
        radius = _circle_radius(X)
        pr = self.profile
        roll_change, pelvis_roll_sd = deg(q[0]), deg(sd[0])
        # The network reads the roll only where the geometry says the roll is seen well enough
        # to judge a roll-back (the rules judge on the frames' roll SD); the SD stays the fit's
        # unless the network's is larger (its own, calibrated on tuning renders, are too small
        # off the bodies it learnt from: tests/skeleton.py's, docs/ACCURACY.md).
        if (lifted is not None and self.params.roll_reading is RollReading.NETWORK
                and pelvis_roll_sd <= self.params.network_roll_max_sd_deg
                and self.setup.camera.elevation_deg() >= self.params.network_min_elevation_deg):
            roll_change, pelvis_roll_sd = lifted.roll_change_deg, max(lifted.roll_change_sd_deg, pelvis_roll_sd)
        opening_deg = deg(self._opening_scale * opening)
        opening_sd_deg = math.hypot(deg(self._opening_scale * opening_sd), self._opening_gain_sd_rel * abs(opening_deg))
        if lifted is not None and self.params.opening_reading is OpeningReading.FUSED:
            opening_deg, opening_sd_deg = fuse_correlated(opening_deg, opening_sd_deg,
                                                          lifted.opening_deg, lifted.opening_sd_deg)
        # The setup's absolute angles are the least determined numbers (the camera's elevation
        # trades off against them): their SD is the setup fit's, plus the profile's spread.
        hip_sd = math.hypot(math.degrees(self.setup.param("hip_flexion")[1]), pr.flexion_sd_deg)
        knee_sd = math.hypot(math.degrees(self.setup.param("knee_flexion")[1]), pr.flexion_sd_deg)
        return Kinematics(
            t=t,
            hip_flexion_deg=hip + pr.hip_flexion_bias_deg,
            knee_flexion_deg=knee + pr.knee_flexion_bias_deg,
            opening_deg=opening_deg,
            knee_lift_cm=100 * (knee_gap - rest_knee_gap),
            pelvis_roll_deg=self._setup_roll_deg + roll_change,
            trunk_roll_deg=deg(rest.trunk_roll0 + q[0] + q[1]) + pr.shoulder_line_roll_bias_deg,
            ankle_gap_cm=100 * ankle_gap,
            shin_length_cm=100 * l2,
            sd=Spread(
                hip_flexion_deg=hip_sd, knee_flexion_deg=knee_sd,
                opening_deg=opening_sd_deg,
                # the knee's rise along its circle, as uncertain as the opening that carries it
                knee_lift_cm=100 * radius * math.radians(opening_sd_deg) / self._opening_scale,
                pelvis_roll_deg=pelvis_roll_sd, trunk_roll_deg=deg(math.sqrt(max(trunk_var, 0.0))),
                # The ankle moves on a circle about the top hip (radius: hip to ankle); where the
                # model misses the ankles' points, the gap is known no better than that.
                ankle_gap_cm=100 * math.hypot(float(np.linalg.norm(X[J["top_ankle"]] - X[J["top_hip"]])) * sd[3],
                                              max(self._missed_by_m(est, "top_ankle"),
                                                  self._missed_by_m(est, "bottom_ankle"))),
            ),
            fit_cost=est.cost,
        )

    def _missed_by_m(self, est: PoseEstimate, point: str) -> float:
        """How far (metres, at the joint's depth) the fitted model misses a landmark beyond its
        noise (``MISS_FREE_SD`` of them). From the feet end BlazePose moves both ankles' points
        as the knee rises; the model keeps the bottom ankle on the mat (7-10 SDs from its points)
        and follows the top one with the leg's abduction: the stacked feet's 6.5-cm gap read 18
        cm with an SD of 4 (eval e20_feet) before this."""
        assert self.setup is not None
        i = POINTS.index(point)
        excess = max(float(np.linalg.norm(est.residuals[i])) - MISS_FREE_SD, 0.0)
        cam = self.setup.camera
        depth = float(((est.joints[J[point]] * cam._M) @ cam.R.T + cam.t)[2])
        return excess * float(self.noise_px()[i]) * depth / cam.fx

    # -- what the setup says about this placement --------------------------------------------
    @property
    def lost_for_good_at(self) -> float | None:
        """When the body was last lost, if no setup was taken after it (s), else None."""
        if not self.lost_at or (self.setup_at and self.setup_at[-1] > self.lost_at[-1]):
            return None
        return self.lost_at[-1]

    @property
    def opening_gain_sd_rel(self) -> float:
        """The opening's relative SD from its gain at this setup (the profile's share and the
        setup's own doubt, ``gain_spread``): NaN without a setup."""
        return self._opening_gain_sd_rel if self.setup is not None else math.nan

    @property
    def roll_sd_at_setup(self) -> float:
        """SD of the absolute forward roll read at setup (degrees): the fit's and the spread of
        BlazePose's offsets between bodies, or the network's (``_setup_roll``)."""
        if self.setup is None:
            return math.nan
        return self._setup_roll_sd_deg

    def noise_px(self) -> np.ndarray:
        assert self.setup is not None
        return _sigmas(self.noise_rel) * self.setup.body_px


@dataclass(frozen=True)
class NetworkReading:
    """The lifting network's reading of one frame (degrees)."""

    opening_deg: float
    opening_sd_deg: float
    roll_change_deg: float  # the pelvis roll's change since the setup, forward positive
    roll_change_sd_deg: float


def fuse_correlated(a: float, sd_a: float, b: float, sd_b: float) -> tuple[float, float]:
    """Two readings of one quantity weighted by their inverse variances, and the SD of that
    weighting when their errors are fully correlated (the weighted mean of the SDs): two readings
    of the same landmarks are not independent, so the independent formula would claim too much."""
    if not (math.isfinite(a) and sd_a > 0):
        return b, sd_b
    if not (math.isfinite(b) and sd_b > 0):
        return a, sd_a
    w = sd_b ** 2 / (sd_a ** 2 + sd_b ** 2)
    return w * a + (1 - w) * b, w * sd_a + (1 - w) * sd_b


def _knee_opening(model: BodyModel, q: np.ndarray, cov: np.ndarray) -> tuple[float, float]:
    """The knee's opening (radians) and its SD, propagated from the pose's covariance."""
    step = 1e-4
    steps = q + step * np.eye(len(q))
    values = model.knee_opening(np.vstack([q, steps]))
    grad = (values[1:] - values[0]) / step
    return float(values[0]), math.sqrt(max(float(grad @ cov @ grad), 0.0))


def _knee_gap(obs: np.ndarray) -> float:
    """The knees' distance in the picture over the body's image size (NaN when unseen)."""
    return float(np.linalg.norm(obs[J["top_knee"]] - obs[J["bottom_knee"]])) / body_size_px(obs)


def joint_circle_scale(setup: SetupFit, profile: LandmarkProfile) -> float:
    """The knee's turn per unit of its landmark's movement, joint centres over landmarks.

    The landmarks keep (nearly) constant offsets from the joints through a set, so the knee's
    point moves as far as the knee joint does: along the joints' circle, not the circle of the
    landmarks' own geometry, which bends the knee less (the profile's knee-flexion bias) and so
    has a smaller radius. Measured on tuning before this: openings read 7% high on average
    (log-gain 0.071); with it, -0.009."""
    if profile.knee_flexion_bias_deg == 0.0:
        return 1.0
    params = setup.params.copy()
    params[BODY_PARAMS.index("knee_flexion")] += math.radians(profile.knee_flexion_bias_deg)
    joints = rest_from_params(params)
    return _circle_radius(setup.rest.points()) / max(_circle_radius(joints.points()), 1e-9)


def _circle_radius(X: np.ndarray) -> float:
    """The top knee's distance from the line through the top hip and ankle (its circle's radius)."""
    hip, ankle, knee = X[J["top_hip"]], X[J["top_ankle"]], X[J["top_knee"]]
    a = ankle - hip
    a = a / (np.linalg.norm(a) + 1e-12)
    v = knee - hip
    return float(np.linalg.norm(v - a * float(v @ a)))


__all__ = ["MeasureStage", "MeasureParams", "StageState", "RollReading", "OpeningReading", "NetworkReading",
           "fuse_correlated", "NOISE_REL", "GROUPS"]
