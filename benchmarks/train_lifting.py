"""Train the lifting network (``clamcoach.measure.lifting``): the second design beside the body fit.

    make train-lifting        # = python benchmarks/train_lifting.py

1. Draws bodies and cameras from the tuning ranges and poses them at random without rendering
   (``clamcoach.synth.keypoints``): as many true 2-D joint positions as wanted.
2. Measures, on the tuning clips only, how BlazePose's landmarks sit off those joints: per clip a
   constant offset (in the reference frame of ``lifting.canonical``) and the frame-to-frame rest.
3. Trains a small network on the synthetic keypoints with those offsets and that noise drawn
   afresh every batch (from tuning clips of a similar camera elevation), to give the opening,
   the roll change and the setup's forward roll, each with an SD (Gaussian likelihood).
4. Writes the weights to ``src/clamcoach/measure/lifting_net.npz`` (float32, ~0.5 MB).

Nothing here reads an evaluation or shifted clip.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from clamcoach.measure import lifting  # noqa: E402
from clamcoach.measure.landmarks import observe  # noqa: E402
from clamcoach.synth.keypoints import KeypointSamples, sample_body  # noqa: E402
from clamcoach.measure.landmarks import landmark_indices  # noqa: E402
from clamcoach.types import LANDMARKS as LM_NAMES, Side  # noqa: E402

CACHE = ROOT / ".cache" / "lifting"
FIRST_SEED = 900_000
KEYPOINTS_VERSION = 2  # bumped when clamcoach.synth.keypoints draws differently (2: trunk twist)  # far from every set's seed, so no body of a data set is drawn again


def _one_body(seed: int) -> KeypointSamples:
    from clamcoach.synth.make_sets import TUNING_RANGES

    return sample_body(seed, TUNING_RANGES)


def synthetic(n_bodies: int, jobs: int) -> KeypointSamples:
    path = CACHE / f"keypoints-{KEYPOINTS_VERSION}-{n_bodies}.npz"
    if path.exists():
        return KeypointSamples.load(path)
    CACHE.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with get_context("spawn").Pool(jobs) as pool:
        parts = []
        for k, part in enumerate(pool.imap(_one_body, range(FIRST_SEED, FIRST_SEED + n_bodies))):
            parts.append(part)
            if (k + 1) % 20 == 0:
                print(f"  {k + 1}/{n_bodies} bodies, {time.perf_counter() - t0:.0f} s", flush=True)
    out = KeypointSamples.concat(parts)
    out.save(path)
    return out


@dataclass(frozen=True)
class ClipDrift:
    """How BlazePose's landmarks sat off the true joints on one tuning clip, in the frame of
    ``lifting.canonical`` of the true setup: a constant (12, 2) and the rest per frame (n, 12, 2)."""

    name: str
    elevation_deg: float
    constant: np.ndarray
    rest: np.ndarray
    #: for calibrating the SDs: BlazePose's points (n, 12, 2) px, their setup median (12, 2) and
    #: the true opening, roll change since the setup and forward roll per frame (n, 3)
    seen: np.ndarray
    seen_reference: np.ndarray
    truth: np.ndarray


def _truth_points(gt: dict, frame: dict, top: Side) -> np.ndarray:
    index = {n: i for i, n in enumerate(gt["joints2d_names"])}
    idx = [index[LM_NAMES[i]] for i in landmark_indices(top)]
    return np.array(frame["joints2d"], float)[idx, :2]


def measured_drift() -> list[ClipDrift]:
    """The tuning clips' landmark offsets (cached pose-model landmarks, see posecache.py); kept
    in .cache/lifting under a key of the clips' contents and the pose model."""
    import hashlib

    from posecache import cache_key

    videos = sorted((ROOT / "data" / "tuning").glob("*.mp4"))
    key = hashlib.sha1("".join(cache_key(v, "blazepose") for v in videos).encode()).hexdigest()[:16]
    path = CACHE / f"drift-{key}.npz"
    if path.exists():
        with np.load(path) as d:
            names = [str(n) for n in d["names"]]
            return [ClipDrift(n, float(d["elevation"][i]), d["constant"][i], d[f"rest_{i}"], d[f"seen_{i}"],
                              d["seen_reference"][i], d[f"truth_{i}"]) for i, n in enumerate(names)]
    out = _measure_drift(videos)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, names=np.array([c.name for c in out]), elevation=np.array([c.elevation_deg for c in out]),
                        constant=np.array([c.constant for c in out]),
                        seen_reference=np.array([c.seen_reference for c in out]),
                        **{f"rest_{i}": c.rest for i, c in enumerate(out)},
                        **{f"seen_{i}": c.seen for i, c in enumerate(out)},
                        **{f"truth_{i}": c.truth for i, c in enumerate(out)})
    tmp.replace(path)
    return out


def _measure_drift(videos: list[Path]) -> list[ClipDrift]:
    from posecache import pose_frames

    out = []
    for video in videos:
        gt = json.loads(video.with_suffix(".json").read_text())
        top = Side(gt["setup"]["top_side"])
        first_rep = min(r["start_s"] for r in gt["reps"]) if gt["reps"] else gt["duration_s"]
        truth_t = np.array([f["t"] for f in gt["frames"]])
        poses = pose_frames(video, "blazepose")
        seen, truth, angles = [], [], []
        roll_at_setup = gt["frames"][0]["pelvis_roll_deg"]
        for t, pose in poses:
            if pose is None:
                continue
            k = int(np.argmin(np.abs(truth_t - t)))
            f = gt["frames"][k]
            seen.append(observe(pose.image, top)[0])
            truth.append(_truth_points(gt, f, top))
            angles.append((f["opening_deg"], f["pelvis_roll_deg"] - roll_at_setup, gt["setup"]["forward_roll_deg"]))
        seen, truth = np.array(seen), np.array(truth)
        t_seen = np.array([t for t, p in poses if p is not None])
        still = t_seen < first_rep
        if still.sum() < 3:
            continue
        ref = lifting.setup_reference(truth[still])
        _, seen_c = lifting.canonical(ref, seen)
        _, truth_c = lifting.canonical(ref, truth)
        d = seen_c - truth_c
        constant = np.nanmedian(d, axis=0)
        out.append(ClipDrift(video.stem, float(gt["camera"].get("elevation_deg", gt["camera"]["pitch_deg"])),
                             constant, d - constant, seen, lifting.setup_reference(seen[still]), np.array(angles)))
    return out


def _drift_pools(data: KeypointSamples, drift: list[ClipDrift], k: int = 6) -> np.ndarray:
    """For each synthetic body-camera pair, the ``k`` tuning clips nearest in camera elevation."""
    elev = np.array([c.elevation_deg for c in drift])
    return np.argsort(np.abs(data.elevation_deg[:, None] - elev[None, :]), axis=1)[:, :k]


def _augment(rng, data, ref_c, fr_c, rows, pools, drift):
    """Noisy inputs for frames ``rows``: a nearby tuning clip's constant offset (scaled 0-1.4)
    on both the setup and the frame, and one of its frames' rest on the frame (a fifth of it on
    the setup, which is a median over many frames)."""
    refs = data.ref[rows]
    pick = pools[refs, rng.integers(pools.shape[1], size=len(rows))]
    # from none (a pose model that finds the joint centres) to more than BlazePose's: the network
    # must not rely on one pose model's particular offsets
    const = np.stack([drift[c].constant for c in pick]) * rng.uniform(0.0, 1.4, size=(len(rows), 1, 1))
    rest = np.stack([drift[c].rest[rng.integers(len(drift[c].rest))] for c in pick])
    rest *= rng.uniform(0.3, 1.2, size=(len(rows), 1, 1))
    rest_ref = np.stack([drift[c].rest[rng.integers(len(drift[c].rest))] for c in pick])
    ref_noisy = ref_c[refs] + const + 0.2 * rest_ref
    fr_noisy = fr_c[rows] + const + rest
    return np.nan_to_num(lifting.features(ref_noisy, fr_noisy[:, None])[:, 0])


def train(data: KeypointSamples, drift: list[ClipDrift], epochs: int, seed: int) -> dict:
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(seed)
    ref_c, _ = lifting.canonical(data.reference, data.reference[:, None])
    _, fr_c = lifting.canonical(data.reference[data.ref], data.frames[:, None])
    fr_c = fr_c[:, 0]
    pools = _drift_pools(data, drift)
    y = np.stack([data.opening_deg, data.roll_change_deg, data.forward_roll_deg[data.ref]], 1) / lifting.TARGET_SCALE
    # hold out one body in ten to watch the fit (bodies, not frames: frames of one body are alike)
    n_pairs = len(data.reference)
    held_pairs = np.zeros(n_pairs, bool)
    held_pairs[rng.permutation(n_pairs)[: n_pairs // 10]] = True
    held = held_pairs[data.ref]
    train_rows, val_rows = np.flatnonzero(~held), np.flatnonzero(held)
    x0 = _augment(rng, data, ref_c, fr_c, train_rows[rng.permutation(len(train_rows))[:20000]], pools, drift)
    mean, std = x0.mean(0), x0.std(0) + 1e-6
    x_val = _augment(np.random.default_rng(seed + 1), data, ref_c, fr_c, val_rows, pools, drift)
    widths = [lifting.N_FEATURES, 256, 256, 256, 6]
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.SiLU()]
    net = torch.nn.Sequential(*layers[:-1])
    batch = 1024
    steps = epochs * (len(train_rows) // batch)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    t_mean, t_std = torch.tensor(mean, dtype=torch.float32), torch.tensor(std, dtype=torch.float32)

    def forward(x: np.ndarray):
        return net((torch.tensor(x, dtype=torch.float32) - t_mean) / t_std)

    def nll(out, target):
        mu, log_sd = out[:, :3], out[:, 3:].clamp(-6.0, 4.0)
        return (0.5 * ((target - mu) / log_sd.exp()) ** 2 + log_sd).mean()

    t0 = time.perf_counter()
    for step in range(steps):
        rows = train_rows[rng.integers(len(train_rows), size=batch)]
        x = _augment(rng, data, ref_c, fr_c, rows, pools, drift)
        loss = nll(forward(x), torch.tensor(y[rows], dtype=torch.float32))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 2000 == 0 or step == steps - 1:
            with torch.no_grad():
                out = forward(x_val).numpy()
            err = np.abs(out[:, :3] - y[val_rows]) * lifting.TARGET_SCALE
            print(f"  step {step}/{steps} loss {loss.item():.3f} held-out MAE opening {err[:, 0].mean():.2f} "
                  f"roll change {err[:, 1].mean():.2f} forward roll {err[:, 2].mean():.2f} deg "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    with torch.no_grad():
        out = forward(x_val).numpy()
    err = np.abs(out[:, :3] - y[val_rows]) * lifting.TARGET_SCALE
    sd = np.exp(np.clip(out[:, 3:], -6, 4)) * lifting.TARGET_SCALE
    cover = (err <= 1.645 * sd).mean(0)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    weights = {}
    for i, m in enumerate(linears):
        weights[f"W{i}"] = m.weight.detach().numpy().T.astype(np.float32)
        weights[f"b{i}"] = m.bias.detach().numpy().astype(np.float32)
    figures = {"synthetic_frames": int(len(data.frames)), "body_camera_pairs": int(n_pairs),
               "tuning_clips_for_drift": len(drift), "steps": steps, "seconds": round(time.perf_counter() - t0),
               "held_out_mae_deg": {"opening": round(float(err[:, 0].mean()), 2),
                                    "roll_change": round(float(err[:, 1].mean()), 2),
                                    "forward_roll": round(float(err[:, 2].mean()), 2)},
               "held_out_90pct_interval_holds": {"opening": round(float(cover[0]), 3),
                                                 "roll_change": round(float(cover[1]), 3),
                                                 "forward_roll": round(float(cover[2]), 3)}}
    return {"weights": weights, "feature_mean": mean.astype(np.float32), "feature_std": std.astype(np.float32),
            "figures": figures}


def calibrate(result: dict, drift: list[ClipDrift]) -> dict:
    """Scale each SD so that 90% intervals hold on 90% of the tuning clips' real frames (BlazePose's
    landmarks against their rendered truth): the synthetic noise is not all of BlazePose's."""
    net = lifting.LiftingNet(
        [(result["weights"][f"W{i}"].astype(float), result["weights"][f"b{i}"].astype(float))
         for i in range(sum(k.startswith("W") for k in result["weights"]))],
        result["feature_mean"].astype(float), result["feature_std"].astype(float))
    ratios, errors = [], []
    for c in drift:
        ok = np.all(np.isfinite(c.seen), axis=(1, 2))
        out = net.lift(c.seen_reference, c.seen[ok])
        mu = np.stack([out.opening_deg, out.roll_change_deg, out.forward_roll_deg], 1)
        sd = np.stack([out.opening_sd_deg, out.roll_change_sd_deg, out.forward_roll_sd_deg], 1)
        err = mu - c.truth[ok]
        ratios.append(np.abs(err) / sd)
        errors.append(np.abs(err))
    ratios, errors = np.concatenate(ratios), np.concatenate(errors)
    scale = np.quantile(ratios, 0.9, axis=0) / 1.6449
    result["sd_scale"] = scale
    names = ("opening", "roll_change", "forward_roll")
    result["figures"]["tuning_real_frames"] = int(len(ratios))
    result["figures"]["tuning_real_mae_deg"] = {n: round(float(errors[:, i].mean()), 2) for i, n in enumerate(names)}
    result["figures"]["sd_scale_from_tuning"] = {n: round(float(scale[i]), 3) for i, n in enumerate(names)}
    return result


def write_weights(result: dict, path: Path = lifting.WEIGHTS) -> None:
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **result["weights"], feature_mean=result["feature_mean"], feature_std=result["feature_std"],
             sd_scale=result["sd_scale"].astype(np.float32), figures=json.dumps(result["figures"]))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bodies", type=int, default=240)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only-keypoints", action="store_true")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(lifting.WEIGHTS))
    args = ap.parse_args(argv)
    data = synthetic(args.bodies, args.jobs)
    print(f"synthetic: {len(data.frames)} frames of {len(data.reference)} body-camera pairs")
    if args.only_keypoints:
        return 0
    drift = measured_drift()
    print(f"drift: {len(drift)} tuning clips")
    result = calibrate(train(data, drift, epochs=args.epochs, seed=args.seed), drift)
    write_weights(result, Path(args.out))
    print(json.dumps(result["figures"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
