"""Measure the BlazePose landmark profile on the TUNING sets (``measure.profiles.BLAZEPOSE``).

Every tuning set is rendered from several cameras at once. Triangulating BlazePose's landmarks
over those views (median over the still setup) gives where BlazePose puts its points in 3-D on
a side-lying body; triangulating the ground-truth 2-D joints gives the joint centres. This prints,
per set and pooled: the landmark geometry's proportions (the profile's ratio priors), the knee
and ankle stacks, and the differences between angles read from BlazePose's points and from the
joint centres (the profile's biases). Never point it at an evaluation set.

    .venv/bin/python benchmarks/measure_priors.py [--data data/tuning]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from posecache import pose_frames  # noqa: E402

from clamcoach.body import BodyTracker  # noqa: E402
from clamcoach.measure.landmarks import POINTS, observe  # noqa: E402
from clamcoach.measure.model import hip_flexion_deg, knee_flexion_deg  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def projection(cam: dict) -> np.ndarray:
    """3x4 projection of a ground-truth camera (stored camera-to-world, OpenGL axes)."""
    inv = np.linalg.inv(np.array(cam["pose_camera_to_world"]))
    K = cam["intrinsics"]
    Km = np.array([[K["fx"], 0, K["cx"]], [0, K["fy"], K["cy"]], [0, 0, 1]])
    return Km @ (np.diag([1, -1, -1]) @ inv[:3, :4])


def triangulate(Ps: list[np.ndarray], pts: list[np.ndarray]) -> np.ndarray:
    A = []
    for P, (x, y) in zip(Ps, pts):
        A += [x * P[2] - P[0], y * P[2] - P[1]]
    h = np.linalg.svd(np.array(A))[2][-1]
    return h[:3] / h[3]


def truth_points(gt: dict, frame: dict) -> np.ndarray:
    top = gt["setup"]["top_side"]
    bot = "left" if top == "right" else "right"
    names = gt["joints2d_names"]
    out = []
    for p in POINTS:
        level, part = p.split("_", 1)
        side = top if level == "top" else bot
        x, y, _ = frame["joints2d"][names.index(f"{side}_{ {'toe': 'foot_index'}.get(part, part)}")]
        out.append((x, y))
    return np.array(out, float)


def body_frame(X: dict[str, np.ndarray], mirrored: bool) -> dict[str, np.ndarray]:
    """Points in the model's body frame: bottom hip at the origin, x toward the head along the
    table, z up; a body on its right side mirrored onto its left."""
    M = np.array([-1.0, 1.0, 1.0]) if mirrored else np.ones(3)
    P = {n: v * M for n, v in X.items()}
    o = P["bottom_hip"]
    P = {n: v - o for n, v in P.items()}
    x = (P["bottom_shoulder"] + P["top_shoulder"]) / 2 - P["top_hip"] / 2
    x[2] = 0.0
    x /= np.linalg.norm(x)
    z = np.array([0.0, 0.0, 1.0])
    B = np.stack([x, np.cross(z, x), z])
    return {n: B @ v for n, v in P.items()}


def geometry(Q: dict[str, np.ndarray]) -> dict[str, float]:
    d = lambda a, b: float(np.linalg.norm(Q[a] - Q[b]))  # noqa: E731
    thigh = d("bottom_hip", "bottom_knee")
    ms = (Q["bottom_shoulder"] + Q["top_shoulder"]) / 2
    roll = math.degrees(math.atan2(-Q["top_hip"][1], Q["top_hip"][2]))
    sl = Q["top_shoulder"] - Q["bottom_shoulder"]
    top_hf = hip_flexion_deg(Q["top_hip"], Q["top_knee"], Q["top_hip"], math.radians(roll))
    bot_hf = hip_flexion_deg(Q["bottom_hip"], Q["bottom_knee"], Q["top_hip"], math.radians(roll))
    return {
        "hip_width/thigh": d("top_hip", "bottom_hip") / thigh,
        "shoulder_width/thigh": d("top_shoulder", "bottom_shoulder") / thigh,
        "trunk/thigh": float(np.linalg.norm(ms - Q["top_hip"] / 2)) / thigh,
        "shin/thigh": d("bottom_knee", "bottom_ankle") / thigh,
        "knee_stack_cm": 100 * d("top_knee", "bottom_knee"),
        "ankle_stack_cm": 100 * d("top_ankle", "bottom_ankle"),
        "shoulder_dz_cm": 100 * float(ms[2] - Q["top_hip"][2] / 2),
        "hip_line_roll_deg": roll,
        "shoulder_line_roll_deg": math.degrees(math.atan2(-sl[1], sl[2])),
        "hip_flexion_deg": (top_hf + bot_hf) / 2,
        "knee_flexion_deg": (knee_flexion_deg(Q["top_hip"], Q["top_knee"], Q["top_ankle"])
                             + knee_flexion_deg(Q["bottom_hip"], Q["bottom_knee"], Q["bottom_ankle"])) / 2,
    }


def measure_set(videos: list[Path]) -> tuple[dict, dict] | None:
    gts = [json.loads(v.with_suffix(".json").read_text()) for v in videos]
    lead = gts[0]["plan"]["lead_in_s"]
    keep, obs = [], []
    for v, gt in zip(videos, gts):
        if gt["camera"]["view"] == "feet":
            continue  # the knees hide each other: BlazePose's points there are not the same points
        tracker, seen = BodyTracker(), []
        for t, pose in pose_frames(v):
            body = tracker.push(pose)
            if body is not None and 0.2 <= t <= lead - 0.1:
                seen.append(observe(body.image, body.top)[0])
        if seen:
            keep.append(gt)
            obs.append(np.median(np.array(seen), axis=0))
    if len(keep) < 2:
        return None
    Ps = [projection(g["camera"]) for g in keep]
    k0 = int(lead * keep[0]["camera"]["fps"]) // 2
    bp = {n: triangulate(Ps, [o[i] for o in obs]) for i, n in enumerate(POINTS)}
    joints = {n: triangulate(Ps, [truth_points(g, g["frames"][k0])[i] for g in keep]) for i, n in enumerate(POINTS)}
    mirrored = keep[0]["setup"]["top_side"] == "left"
    return geometry(body_frame(bp, mirrored)), geometry(body_frame(joints, mirrored))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "tuning"))
    args = ap.parse_args(argv)
    if "eval" in Path(args.data).parts or "shifted" in Path(args.data).parts:
        print("refusing to measure priors on an evaluation set", file=sys.stderr)
        return 2
    sets: dict[str, list[Path]] = defaultdict(list)
    for v in sorted(Path(args.data).glob("*.mp4")):
        sets[v.stem.split("_")[0]].append(v)
    pooled: dict[str, list[float]] = defaultdict(list)
    for name, videos in sorted(sets.items(), key=lambda kv: int(kv[0][1:])):
        got = measure_set(videos)
        if got is None:
            continue
        bp, joints = got
        print(name, " ".join(f"{k} {bp[k]:.2f}/{joints[k]:.2f}" for k in bp))
        for k in bp:
            pooled[f"landmarks {k}"].append(bp[k])
        for k in ("hip_line_roll_deg", "shoulder_line_roll_deg", "hip_flexion_deg", "knee_flexion_deg"):
            pooled[f"bias {k} (joints - landmarks)"].append(joints[k] - bp[k])
    print()
    for k, v in pooled.items():
        print(f"{k:48s} mean {np.mean(v):7.3f}  SD {np.std(v):6.3f}  (n={len(v)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
