"""Run the real pose model over a clip once and keep its landmarks (for tuning iterations).

The cache holds only numbers (landmarks per frame) under .cache/poses/, keyed by the clip's
content hash and the estimator's name, so a changed clip or model is never served stale.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from clamcoach.io.video import open_video
from clamcoach.pose import open_estimator
from clamcoach.types import N_LANDMARKS, PoseFrame

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "poses"


def resolved(backend: str) -> str:
    """The backend and model a name means, so a cache never serves one model's landmarks for
    another's ("blazepose" is whatever ``clamcoach.pose.DEFAULT_BACKEND`` is)."""
    from clamcoach.pose import DEFAULT_BACKEND

    if backend in ("blazepose", DEFAULT_BACKEND):
        return f"{DEFAULT_BACKEND}-full"
    if backend.startswith("blazepose-"):
        return f"{DEFAULT_BACKEND}-{backend.removeprefix('blazepose-')}"
    return backend if "-" in backend else f"{backend}-full"


def cache_key(path: Path, backend: str) -> str:
    h = hashlib.sha1(path.read_bytes()).hexdigest()[:16]
    return f"{path.stem}-{h}-{resolved(backend)}.npz"


def pose_frames(path: str | Path, backend: str = "blazepose") -> list[tuple[float, PoseFrame | None]]:
    path = Path(path)
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / cache_key(path, backend)
    if cached.exists():
        return _load(cached)
    out: list[tuple[float, PoseFrame | None]] = []
    with open_video(path) as reader, open_estimator(backend) as est:
        for frame in reader:
            out.append((frame.t, est.estimate(frame.rgb, frame.t)))
    _save(cached, out)
    return out


def _save(path: Path, frames: list[tuple[float, PoseFrame | None]]) -> None:
    n = len(frames)
    t = np.array([f[0] for f in frames])
    ok = np.array([f[1] is not None for f in frames])
    image = np.full((n, N_LANDMARKS, 3), np.nan)
    world = np.full((n, N_LANDMARKS, 3), np.nan)
    meta = np.zeros((n, 3))
    for i, (_, p) in enumerate(frames):
        if p is not None:
            image[i], world[i], meta[i] = p.image, p.world, (p.width, p.height, p.presence)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, t=t, ok=ok, image=image, world=world, meta=meta)
    tmp.replace(path)


def _load(path: Path) -> list[tuple[float, PoseFrame | None]]:
    d = np.load(path)
    out: list[tuple[float, PoseFrame | None]] = []
    for i, t in enumerate(d["t"]):
        if not d["ok"][i]:
            out.append((float(t), None))
            continue
        w, h, pres = d["meta"][i]
        out.append((float(t), PoseFrame(t=float(t), image=d["image"][i], world=d["world"][i],
                                        width=int(w), height=int(h), presence=float(pres))))
    return out


def series_rows(series, keys) -> list[dict]:
    """A frame series as rows of plain floats (the benchmarks read frames one by one)."""
    columns = [series.column(k).tolist() for k in keys]
    return [dict(zip(keys, values)) for values in zip(*columns)]
