"""How far the setup's own uncertainty carries into the opening a placement reads.

The per-frame fit measures the opening against the setup's camera and rest body. Where that
setup is poorly determined (the camera's elevation, how far back the top knee rests: a depth
a level camera cannot see) a body slightly different from the fitted one would open by the
same angle and move its landmarks differently, so the same frame would read another opening:
an error in the opening's *gain* that no single frame's fit can reveal.

This is propagated once, at the setup: every fitted number is moved by its standard deviation
either way (the other numbers kept), the variant body is opened by a probe angle, its landmarks'
motion is added to the setup's, and the setup's own fit reads the opening from them. The
spread of those readings, with the fitted numbers' correlations, is the gain's relative SD.
"""

from __future__ import annotations

import math

import numpy as np

from clamcoach.measure.frame_fit import FrameFitter
from clamcoach.measure.landmarks import ANCHOR
from clamcoach.measure.model import N_DOF, BodyModel
from clamcoach.measure.setup_fit import SetupFit, camera_and_rest, fitted_vector

#: The opening the variants are read at: the middle of a clamshell's usual range.
PROBE_OPENING_RAD = math.radians(30.0)
#: A variant's reading counts as at most this share above or below the truth, and the spread is
#: at most this: a setup that cannot say how its knee moves at all says "unknown" (a 100% SD).
MAX_GAIN_SPREAD = 1.0


def opening_gain_sd_rel(fit: SetupFit, fitter: FrameFitter, noise_px: np.ndarray) -> float:
    """The opening's relative SD from the setup's uncertainty (0 when the setup has none)."""
    cov = fit.covariance
    if cov is None or not np.all(np.isfinite(cov)):
        return MAX_GAIN_SPREAD
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    x0 = fitted_vector(fit)
    probe = np.zeros(N_DOF)
    probe[2] = PROBE_OPENING_RAD
    rest_seen = fitter.predict(np.zeros((1, N_DOF)))[0]
    # d[j]: the gain's change over one SD of the j-th fitted number (central differences)
    d = np.zeros(len(x0))
    for j in np.flatnonzero(sd > 0):
        gains = []
        for sign in (1.0, -1.0):
            x = x0.copy()
            x[j] += sign * sd[j]
            gains.append(_gain(fit, x, fitter, noise_px, rest_seen, probe))
        d[j] = (gains[0] - gains[1]) / 2
    corr = cov / np.outer(np.where(sd > 0, sd, 1.0), np.where(sd > 0, sd, 1.0))
    var = float(d @ corr @ d)
    if not math.isfinite(var):
        return MAX_GAIN_SPREAD
    return min(math.sqrt(max(var, 0.0)), MAX_GAIN_SPREAD)


def _gain(fit: SetupFit, x: np.ndarray, fitter: FrameFitter, noise_px: np.ndarray,
          rest_seen: np.ndarray, probe: np.ndarray) -> float:
    """What the setup's fit reads, over the truth, when a variant body opens by the probe."""
    camera, rest = camera_and_rest(fit, x)
    variant = BodyModel(rest)
    seen = camera.project(variant.joints(np.vstack([np.zeros(N_DOF), probe])))[:, ANCHOR]
    obs = rest_seen + (seen[1] - seen[0])
    if not np.all(np.isfinite(obs)):
        return 1.0 + MAX_GAIN_SPREAD
    est = fitter.fit(obs, noise_px, probe)
    read = float(fitter.model.knee_opening(est.pose[None])[0])
    truth = float(variant.knee_opening(probe[None])[0])
    if not (math.isfinite(read) and abs(truth) > 1e-6):
        return 1.0 + MAX_GAIN_SPREAD
    return float(np.clip(read / truth, 1.0 - MAX_GAIN_SPREAD, 1.0 + MAX_GAIN_SPREAD))
