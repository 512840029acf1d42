"""Fit the landmark noise levels on the TUNING set so the stated intervals hold.

The measurement's standard deviations scale with the landmark noise it assumes
(``measure.stage``, a share of the body's image size). This runs the engine on the tuning clips
(cached poses) and prints two things: each landmark group's RMS residual of the per-frame fit,
corrected for the fitted degrees of freedom (``RESIDUAL_NOISE_REL``); and, comparing each
frame's opening and pelvis roll (as changes from the setup) with the truth, the factor by which
the noise must be scaled so that 90% of the frames lie within the stated 90% interval
(+-1.645 SD): the ``INTERVAL_INFLATION`` of the groups that carry each measure. Never point it
at data/eval or data/shifted.

    .venv/bin/python benchmarks/fit_noise.py [--data data/tuning ...]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_accuracy import clips  # noqa: E402
from posecache import pose_frames, series_rows  # noqa: E402

from clamcoach.engine import Engine  # noqa: E402
from clamcoach.measure.landmarks import GROUP_OF, GROUPS  # noqa: E402
from clamcoach.measure.model import N_DOF  # noqa: E402
from clamcoach.measure.stage import NOISE_REL, StageState  # noqa: E402
from clamcoach.protocol import load_protocol  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
Z90 = 1.645


def frame_errors(video: Path) -> dict[str, list[tuple[float, float]]]:
    """Per measure: (error, stated SD) for every measured frame after the setup."""
    gt = json.loads(video.with_suffix(".json").read_text())
    eng = Engine(load_protocol())
    residuals: dict[str, list[float]] = {g: [] for g in GROUPS}
    for t, pose in pose_frames(video):
        eng.push(pose, t)
        est = eng.measure.last_estimate
        if est is not None and eng.measure.state is StageState.TRACKING:
            for i, g in enumerate(GROUP_OF):
                residuals[g].append(float(np.sum(est.residuals[i] ** 2)) / 2)
    a = eng.finish()
    out: dict[str, list[tuple[float, float]]] = {"opening": [], "roll": []}
    out.update({f"residual:{g}": [(v, 1.0) for v in vals] for g, vals in residuals.items()})
    if not a.settled:
        return out
    gt_t = np.array([f["t"] for f in gt["frames"]])
    k0 = int(np.argmin(np.abs(gt_t - a.setup.t)))
    frames = series_rows(a.frames, ("t", "opening_deg", "opening_sd_deg", "pelvis_roll_deg", "pelvis_roll_sd_deg"))
    row0 = min(frames, key=lambda r: abs(r["t"] - a.setup.t))
    for row in frames:
        if row["t"] < a.setup.t or not math.isfinite(row["opening_deg"]):
            continue
        k = int(np.argmin(np.abs(gt_t - row["t"])))
        f, f0 = gt["frames"][k], gt["frames"][k0]
        out["opening"].append((row["opening_deg"] - (f["opening_deg"] - f0["opening_deg"]), row["opening_sd_deg"]))
        out["roll"].append(((row["pelvis_roll_deg"] - row0["pelvis_roll_deg"]) - (f["pelvis_roll_deg"] - f0["pelvis_roll_deg"]),
                            row["pelvis_roll_sd_deg"]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", default=[str(ROOT / "data" / "tuning")])
    args = ap.parse_args(argv)
    if any("eval" in Path(d).parts or "shifted" in Path(d).parts for d in args.data):
        print("refusing to fit on an evaluation set", file=sys.stderr)
        return 2
    pooled: dict[str, list[tuple[float, float]]] = {"opening": [], "roll": []}
    for data in args.data:
        for video in clips(Path(data)):
            if "_feet" in video.name:
                continue  # the knees hide each other there: not what the noise is made of
            errs = frame_errors(video)
            for k, v in errs.items():
                pooled.setdefault(k, [])
                pooled[k] += v
                if v and not k.startswith("residual:"):
                    e = np.array(v)
                    z = np.abs(e[:, 0]) / e[:, 1]
                    print(f"{video.name:24s} {k:8s} MAE {np.mean(np.abs(e[:, 0])):5.2f} median SD {np.median(e[:, 1]):5.2f} "
                          f"inside 90% {np.mean(z <= Z90):.2f}")
    # 12 points x 2 coordinates observed, N_DOF fitted: residuals run sqrt(20/24) short.
    dof = math.sqrt(24 / (24 - N_DOF))
    for g in GROUPS:
        r = [x for x, _ in pooled.get(f"residual:{g}", [])]
        if r:
            print(f"{g:8s} RMS residual {math.sqrt(np.mean(r)):.3f} x assumed noise -> residual noise "
                  f"{NOISE_REL[g] * math.sqrt(np.mean(r)) * dof:.4f} of the body's size")
    for k, v in pooled.items():
        if k.startswith("residual:"):
            continue
        e = np.array(v)
        z = np.abs(e[:, 0]) / e[:, 1]
        scale = float(np.quantile(z, 0.9)) / Z90
        print(f"{k}: {len(e)} frames, inside the 90% interval {np.mean(z <= Z90):.3f}; "
              f"scale the noise by {scale:.2f} for 90%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
