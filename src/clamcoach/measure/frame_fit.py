"""Per frame: the exercise's few degrees of freedom fitted to the landmarks, with their SDs.

Robust Gauss-Newton (iteratively reweighted, Cauchy weights) on the 12 observed points,
warm-started from the last frame, with weak priors that keep the shoulders near the pelvis'
roll and the feet together unless the landmarks say otherwise, and a motion prior: the pose
moves from the last frame's by no more than a body can move in the frame's time (a branch
jump of 45 degrees in a fifteenth of a second is the landmarks, not the leg). The
covariance of the fitted pose is (J' W J + P)^-1 with W from each landmark group's noise,
measured on tuning data as a share of the body's image size, without the motion prior: so a
camera that sees little of a movement reports a large standard deviation for it, for this
person and this placement, however steady the track has been.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from clamcoach.measure.camera import Camera
from clamcoach.measure.landmarks import ANCHOR, N_POINTS
from clamcoach.measure.model import N_DOF, BodyModel

#: Prior standard deviations of the pose (radians). Only the trunk's twist and the leg's
#: abduction are held: both are small in a clamshell and poorly seen.
POSE_PRIOR_SD = np.radians([60.0, 4.0, 120.0, 12.0])
#: Physical bounds of the pose (rolled back beyond 60 or the knee beyond 110 is no clamshell).
POSE_LOWER = np.radians([-60.0, -30.0, -40.0, -10.0])
POSE_UPPER = np.radians([40.0, 30.0, 110.0, 45.0])
#: The one-sided prior on the opening: free above CLOSED_FLOOR, held below it with this SD.
CLOSED_FLOOR = math.radians(-3.0)
CLOSED_SD = math.radians(2.0)
#: Cauchy scale, in standard deviations: a landmark further off than this counts less.
ROBUST_SCALE = 3.0
FD_STEP = np.array([1e-4, 1e-4, 1e-4, 1e-4])


@dataclass(frozen=True)
class PoseEstimate:
    pose: np.ndarray          # (N_DOF,) roll, trunk_twist, opening, abduction (radians)
    cov: np.ndarray           # (N_DOF, N_DOF)
    cost: float               # mean squared normalised residual (1 = as noisy as expected)
    #: The median seen point's residual, in SDs: how well the model explains most of the
    #: landmarks. Unlike ``cost`` it ignores a few wild points (a hidden leg BlazePose guesses).
    typical_residual: float
    joints: np.ndarray        # (8, 3) fitted joints, body frame
    residuals: np.ndarray     # (12, 2) normalised residuals (0 where a point was not seen)

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))


class FrameFitter:
    def __init__(self, model: BodyModel, camera: Camera, offsets: np.ndarray) -> None:
        self.model = model
        self.camera = camera
        self.offsets = offsets

    def predict(self, poses: np.ndarray) -> np.ndarray:
        """(n, 12, 2) observed-point predictions for poses (n, N_DOF)."""
        X = self.model.joints(poses)
        return self.camera.project(X)[:, ANCHOR] + self.offsets

    def fit(self, obs: np.ndarray, sigma_px: np.ndarray, start: np.ndarray,
            iterations: int = 5, motion_sd: np.ndarray | None = None) -> PoseEstimate:
        """``obs`` (12, 2) px with NaN where unseen; ``sigma_px`` (12,) per point.
        ``motion_sd`` (N_DOF,) radians: how far the pose may have moved since ``start`` (the
        last frame's), a prior that keeps the fit from jumping to another branch."""
        seen = np.all(np.isfinite(obs), axis=1) & np.isfinite(sigma_px)
        q = np.clip(np.asarray(start, float), POSE_LOWER, POSE_UPPER)
        inv_sd = np.where(seen, 1.0 / np.where(seen, sigma_px, 1.0), 0.0)
        o = np.where(seen[:, None], obs, 0.0)
        prior_w = 1.0 / POSE_PRIOR_SD ** 2
        q0 = q.copy()
        motion_w = np.zeros(N_DOF) if motion_sd is None else 1.0 / np.asarray(motion_sd, float) ** 2
        eye = np.eye(N_DOF) * FD_STEP
        Jm = np.zeros((2 * len(obs), N_DOF))
        rv = np.zeros(2 * len(obs))
        for _ in range(iterations):
            pred = self.predict(np.vstack([q, q + eye]))
            rv = ((o - pred[0]) * inv_sd[:, None]).ravel()
            Jm = (((pred[1:] - pred[0]) / FD_STEP[:, None, None]) * inv_sd[None, :, None]).reshape(N_DOF, -1).T
            w = 1.0 / (1.0 + (rv / ROBUST_SCALE) ** 2)                     # Cauchy weights
            A = Jm.T @ (Jm * w[:, None]) + np.diag(prior_w + motion_w)
            g = Jm.T @ (w * rv) - prior_w * q - motion_w * (q - q0)
            # The knee does not close past its rest (the knees, or the pillow, are in the way): a
            # one-sided prior keeps the fit off the branch where abduction lifts the knee and a
            # negative opening takes some of it back. Far below (a setup taken in a hold) the
            # landmarks still win, and the stage measures the setup again.
            below = CLOSED_FLOOR - q[2]
            if below > 0:
                A[2, 2] += 1.0 / CLOSED_SD ** 2
                g[2] += below / CLOSED_SD ** 2
            step = np.linalg.solve(A, g)
            q_new = np.clip(q + step, POSE_LOWER, POSE_UPPER)
            moved = float(np.max(np.abs(q_new - q)))
            q = q_new
            if moved < 1e-3:
                break
        # The covariance from the last Jacobian (the final step was too small to change it):
        # how well the landmarks pin each degree of freedom, whatever this frame's residuals.
        cov = np.linalg.inv(Jm.T @ Jm + np.diag(prior_w))
        X = self.model.joints(q[None])
        pred = self.camera.project(X)[0, ANCHOR] + self.offsets
        r = ((o - pred) * inv_sd[:, None]).ravel()
        n_seen = max(int(seen.sum()) * 2, 1)
        per_point = np.linalg.norm(r.reshape(-1, 2), axis=1)[seen]
        typical = float(np.median(per_point)) if len(per_point) else 0.0
        return PoseEstimate(pose=q, cov=cov, cost=float(np.sum(r ** 2)) / n_seen,
                            typical_residual=typical, joints=X[0], residuals=r.reshape(-1, 2))


assert N_POINTS == len(ANCHOR)
