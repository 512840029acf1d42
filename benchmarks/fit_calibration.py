"""Fit the per-view measurement calibration on the TUNING set only; write calibration.json.

For each camera view, linear models map raw geometric features (3-D world-landmark rolls,
2-D image-line tilts and lengths, the hinge opening) to the truth:
- pelvis and trunk roll: fitted on changes within each rep (relative to the rep's start),
  which is what the roll-back check uses; the leg's motion leaking into the hip landmarks is
  cancelled by including the opening as a feature;
- opening: fitted on changes within each rep as well (the engine removes the closed level).
A view's roll model is marked unusable when its leave-one-clip-out error on the per-rep
roll-back exceeds ``--max-roll-mae`` degrees: the product then says it cannot judge the
roll-back from that view.

    .venv/bin/python benchmarks/fit_calibration.py [--data data/tuning] [--write]
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
from bench_accuracy import clips  # noqa: E402
from posecache import pose_frames  # noqa: E402

from clamcoach.body import BodyTracker  # noqa: E402
from clamcoach.geometry import features  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: name -> (features, truth key, "delta" (within-rep change) or "absolute")
MODELS = {
    "pelvis_roll": (("lam_sh", "lam_hip", "phi_sh", "phi_hip", "roll3d_hip", "roll3d_sh",
                     "open_hip_2d", "knee_gap_2d"), "pelvis_roll_deg", "delta"),
    "trunk_roll": (("lam_sh", "phi_sh", "roll3d_sh", "open_hip_2d"), "trunk_roll_deg", "delta"),
    "opening": (("open_hip_2d", "knee_gap_2d", "opening_2d", "opening_hinge", "thigh_ratio_2d", "knee_gap_m"),
                "opening_deg", "delta"),
    "ankle_frac": (("ankle_frac_2d", "ankle_frac_3d", "open_hip_2d", "knee_gap_2d"), "ankle_frac", "delta"),
    "hip_flexion": (("hip_flex_2d", "hip_flex_2d_bottom", "hip_flex", "thigh_2d"), "hip_mean", "absolute"),
    "knee_flexion": (("knee_flex_2d", "knee_flex_2d_bottom", "knee_flex", "thigh_2d", "open_hip_2d"), "knee_mean", "absolute"),
}
ROLL_FEATURES = MODELS["pelvis_roll"][0]
RIDGE = 1e-3


def clip_rows(video: Path) -> tuple[str, list[dict]]:
    """Per-frame (features, truth, rep index) rows for one clip."""
    truth = json.loads(video.with_suffix(".json").read_text())
    view = truth["camera"]["view"]
    gt_frames = truth["frames"]
    gt_t = np.array([f["t"] for f in gt_frames])
    reps = truth["reps"]
    shin_cm = truth["setup"]["shin_length_cm"]
    bt = BodyTracker()
    rows = []
    for t, pose in pose_frames(video):
        body = bt.push(pose)
        if body is None:
            continue
        f = features(body)
        if not all(math.isfinite(v) for v in f.values()):
            continue
        g = dict(gt_frames[int(np.argmin(np.abs(gt_t - t)))])
        g["ankle_frac"] = g["ankle_gap_cm"] / shin_cm
        g["hip_mean"] = (g["hip_flexion_deg"] + g["bottom_hip_flexion_deg"]) / 2
        g["knee_mean"] = (g["knee_flexion_deg"] + g["bottom_knee_flexion_deg"]) / 2
        rep = next((r["index"] for r in reps if r["start_s"] - 0.5 <= t <= r["end_s"] + 0.3), None)
        rows.append({"t": t, "f": f, "g": g, "rep": rep})
    return view, rows


def rep_deltas(rows: list[dict], feats: tuple[str, ...], target: str, reps: dict) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Features and target relative to each rep's start (mean of the 0.5 s before it)."""
    X, y, groups = [], [], []
    by_rep = defaultdict(list)
    for r in rows:
        if r["rep"] is not None:
            by_rep[r["rep"]].append(r)
    for idx, rs in by_rep.items():
        start = reps[idx]["start_s"]
        pre = [r for r in rs if r["t"] <= start] or rs[:3]
        f0 = np.mean([[r["f"][k] for k in feats] for r in pre], axis=0)
        g0 = np.mean([r["g"][target] for r in pre])
        for r in rs:
            X.append([r["f"][k] for k in feats])
            y.append(r["g"][target])
            groups.append(idx)
        X[-len(rs):] = [list(np.array(x) - f0) for x in X[-len(rs):]]
        y[-len(rs):] = [v - g0 for v in y[-len(rs):]]
    return np.array(X), np.array(y), groups


VIEW_FEATURES = ("pitch", "axis_depth", "lam_hip", "lam_sh", "thigh_2d", "hip_flex_2d", "knee_flex_2d")


def fit_view_classifier(per_view) -> dict:
    """Nearest centroid over per-clip medians of a few features."""
    clip_medians = {view: [np.median([[r["f"][k] for k in VIEW_FEATURES] for r in rows], axis=0)
                           for _, rows, _ in items if rows]
                    for view, items in per_view.items()}
    allm = np.array([m for ms in clip_medians.values() for m in ms])
    scale = allm.std(axis=0) + 1e-6
    centroids = {v: np.mean(ms, axis=0) for v, ms in clip_medians.items() if ms}
    hits = sum(min(centroids, key=lambda c: float(np.sum(((m - centroids[c]) / scale) ** 2))) == v
               for v, ms in clip_medians.items() for m in ms)
    print(f"view classifier: {hits}/{len(allm)} tuning clips recognised (in-sample)", file=sys.stderr)
    return {"features": list(VIEW_FEATURES), "scale": [round(float(x), 5) for x in scale],
            "centroids": {v: [round(float(x), 5) for x in c] for v, c in centroids.items()}}


def absolute_rows(rows: list[dict], feats: tuple[str, ...], target: str):
    X = np.array([[r["f"][k] for k in feats] for r in rows])
    y = np.array([r["g"][target] for r in rows])
    return X, y, [0] * len(rows)


def fit(X: np.ndarray, y: np.ndarray, *, bias: bool = False) -> tuple[np.ndarray, float]:
    """Ridge least squares on standardised features (so the penalty treats them alike)."""
    mu = X.mean(axis=0) if bias else np.zeros(X.shape[1])
    sd = X.std(axis=0) + 1e-9
    Z = (X - mu) / sd
    y0 = y.mean() if bias else 0.0
    A = Z.T @ Z + RIDGE * len(Z) * np.eye(Z.shape[1])
    w = np.linalg.solve(A, Z.T @ (y - y0)) / sd
    return w, float(y0 - mu @ w)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "tuning"))
    ap.add_argument("--max-roll-mae", type=float, default=4.0)
    ap.add_argument("--write", action="store_true", help="write src/clamcoach/calibration.json")
    args = ap.parse_args(argv)
    data = Path(args.data)
    if "eval" in data.parts:
        print("refusing to tune on the evaluation set", file=sys.stderr)
        return 2
    per_view: dict[str, list[tuple[str, list[dict], dict]]] = defaultdict(list)
    for video in clips(data):
        view, rows = clip_rows(video)
        truth = json.loads(video.with_suffix(".json").read_text())
        per_view[view].append((video.name, rows, {r["index"]: r for r in truth["reps"]}))
        print(f"{video.name}: {view}, {len(rows)} frames with a pose", file=sys.stderr)

    out = {"source": f"fitted on {data.relative_to(ROOT) if data.is_relative_to(ROOT) else data} "
                     f"by benchmarks/fit_calibration.py", "views": {}}
    for view, items in sorted(per_view.items()):
        entry = {}
        for name, (feats, target, kind) in MODELS.items():
            if kind == "delta":
                parts = [rep_deltas(rows, feats, target, reps) for _, rows, reps in items]
            else:
                parts = [absolute_rows(rows, feats, target) for _, rows, _ in items]
            parts = [p for p in parts if len(p[0])]
            if not parts:
                continue
            X = np.vstack([p[0] for p in parts])
            y = np.concatenate([p[1] for p in parts])
            w, b = fit(X, y, bias=kind == "absolute")
            err = _loco_error(parts, target, kind)
            entry[name] = {"weights": {k: round(float(v), 5) for k, v in zip(feats, w)},
                           "bias": round(float(b), 4), "rmse_deg": round(err, 3)}
            if name.endswith("roll"):
                entry[name]["usable"] = bool(err <= args.max_roll_mae)
            print(f"{view:9s} {name:12s} leave-one-clip-out error {err:6.3f}  "
                  f"weights {entry[name]['weights']} bias {entry[name]['bias']}", file=sys.stderr)
        # Absolute roll: the bias that makes the fitted roll match the truth at rest.
        rest = [(r["f"], r["g"]) for _, rows, _ in items for r in rows if r["rep"] is None]
        if rest:
            for name, target in (("pelvis_roll", "pelvis_roll_deg"), ("trunk_roll", "trunk_roll_deg")):
                w = entry[name]["weights"]
                entry[name]["bias"] = round(float(np.median(
                    [g[target] - sum(wk * f[k] for k, wk in w.items()) for f, g in rest])), 3)
        out["views"][view] = entry
    out["view_classifier"] = fit_view_classifier(per_view)
    # A view never seen in tuning (or "unknown") cannot judge the roll.
    for view in ("front", "oblique", "overhead", "feet", "unknown"):
        if view not in out["views"]:
            out["views"][view] = {
                "pelvis_roll": {"weights": {"roll3d_hip": 1.0}, "usable": False},
                "trunk_roll": {"weights": {"roll3d_sh": 1.0}, "usable": False},
                "opening": {"weights": {"opening_hinge": 1.0}},
            }
    text = json.dumps(out, indent=1) + "\n"
    if args.write:
        (ROOT / "src" / "clamcoach" / "calibration.json").write_text(text)
        print("wrote src/clamcoach/calibration.json", file=sys.stderr)
    else:
        print(text)
    return 0


def _loco_error(parts, target: str, kind: str) -> float:
    """Leave one clip out: fit on the others, then the error on the left-out clip: per rep
    for within-rep models (peak opening, largest roll-back), per frame for absolute ones."""
    errors = []
    for i, (X_i, y_i, g_i) in enumerate(parts):
        others = [p for j, p in enumerate(parts) if j != i]
        if not others:
            continue
        w, b = fit(np.vstack([p[0] for p in others]), np.concatenate([p[1] for p in others]),
                   bias=kind == "absolute")
        pred = X_i @ w + b
        if kind == "absolute":
            errors.extend(np.abs(pred - y_i).tolist())
            continue
        for rep in set(g_i):
            m = np.array(g_i) == rep
            if target.endswith("roll_deg"):   # roll-back: the largest fall below the start
                errors.append(abs(max(0.0, -pred[m].min()) - max(0.0, -y_i[m].min())))
            else:
                errors.append(abs(pred[m].max() - y_i[m].max()))
    return float(np.mean(errors)) if errors else math.nan


if __name__ == "__main__":
    sys.exit(main())
