"""Degraded copies of rendered clips, made with ffmpeg at bench time (never committed).

    python -m clamcoach.synth.degrade --src data/eval --out .cache/degraded [--kinds noise,blur] [--jobs 2]

writes ``OUT/<kind>/<clip>.mp4`` with its ground truth ``<clip>.json`` (copied; for ``p480`` the
2-D joints and the intrinsics are scaled to the smaller frame) and ``OUT/<kind>/manifest.json``
(the source manifest's entries, pointing at the copies, with the filter used). Kinds:

* ``noise``: sensor noise (temporal, uniform, strength 14 of 255), stored at CRF 28;
* ``low_light``: darker (gamma 0.6, brightness -0.15, less contrast and saturation) with stronger
  noise (22), like a dim room, stored at CRF 28;
* ``blur``: motion blur, each frame the mean of itself and the two before (``tmix``): moving
  parts smear over ~3 frames and the picture lags the truth by about one frame;
* ``low_bitrate``: re-encoded at x264 CRF 42 (blocking, smeared detail);
* ``p480``: downscaled to 480 lines (only clips taller than 480 px; others are skipped).

Every copy keeps the frame count and the frame rate (checked after writing).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..errors import ClamcoachError, InputNotFound, OptionalDependencyMissing, OutputError


@dataclass(frozen=True)
class Degradation:
    name: str
    vf: str  # ffmpeg video filter ("" = none)
    crf: int = 23  # re-encode quality of the copy (low: adds little of its own)
    min_height: int = 0  # only clips taller than this


KINDS = {
    # noisy copies at CRF 28, as a camera would store them (noise costs bits: ~0.5 MB/s at 480x360)
    "noise": Degradation("noise", "noise=alls=14:allf=t+u", crf=28),
    "low_light": Degradation("low_light", "eq=gamma=0.6:brightness=-0.15:contrast=0.8:saturation=0.6,"
                                          "noise=alls=22:allf=t+u", crf=28),
    "blur": Degradation("blur", "tmix=frames=3:weights='1 1 1'"),
    "low_bitrate": Degradation("low_bitrate", "", crf=42),
    "p480": Degradation("p480", "scale=-2:480:flags=area", min_height=481),
}


def ffmpeg_path() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise OptionalDependencyMissing("ffmpeg is not installed: apt-get install ffmpeg")
    return exe


def scaled_truth(gt: dict, width: int, height: int) -> dict:
    """Ground truth for the same clip scaled to ``width`` x ``height``: 2-D joints and the
    intrinsics scale with the image (x by width ratio, y by height ratio); 3-D stays."""
    cam = gt["camera"]
    w0, h0 = cam["resolution"]
    sx, sy = width / w0, height / h0
    out = dict(gt)
    k = cam["intrinsics"]
    out["camera"] = {**cam, "resolution": [width, height],
                     "intrinsics": {"fx": round(k["fx"] * sx, 3), "fy": round(k["fy"] * sy, 3),
                                    "cx": k["cx"] * sx, "cy": k["cy"] * sy}}
    frames = []
    for f in gt["frames"]:
        f = dict(f)
        f["joints2d"] = [[round(x * sx, 1), round(y * sy, 1), v] for x, y, v in f["joints2d"]]
        frames.append(f)
    out["frames"] = frames
    return out


def _probe(path: pathlib.Path) -> tuple[int, int, int]:
    """(frames, width, height), by decoding (exact, not the container's estimate)."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(video=0))
        return n, s.codec_context.width, s.codec_context.height


def degrade_clip(src_video: pathlib.Path, out_dir: pathlib.Path, kind: Degradation) -> dict | None:
    """One degraded copy and its ground truth; None when the kind does not apply to this clip."""
    gt = json.loads(src_video.with_suffix(".json").read_text())
    w0, h0 = gt["camera"]["resolution"]
    if h0 < kind.min_height:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    dst = out_dir / src_video.name
    tmp = dst.with_name(dst.stem + ".tmp.mp4")
    cmd = [ffmpeg_path(), "-v", "error", "-y", "-i", str(src_video)]
    if kind.vf:
        cmd += ["-vf", kind.vf]
    cmd += ["-an", "-c:v", "libx264", "-preset", "medium", "-crf", str(kind.crf), "-pix_fmt", "yuv420p",
            "-fps_mode", "passthrough", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise OutputError(f"ffmpeg failed on {src_video.name} ({kind.name}): {last}")
    n, w, h = _probe(tmp)
    if n != gt["n_frames"]:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{kind.name} copy of {src_video.name} has {n} frames, the source {gt['n_frames']}")
    doc = scaled_truth(gt, w, h) if (w, h) != (w0, h0) else dict(gt)
    doc["video"] = dst.name
    doc["degradation"] = {"kind": kind.name, "ffmpeg_vf": kind.vf, "crf": kind.crf, "source": str(src_video)}
    tmp.replace(dst)
    jtmp = dst.with_suffix(".json.tmp")
    jtmp.write_text(json.dumps(doc, separators=(",", ":")))
    jtmp.replace(dst.with_suffix(".json"))
    return {"video": dst.name, "ground_truth": dst.with_suffix(".json").name, "resolution": [w, h],
            "degradation": kind.name, "source": str(src_video)}


def source_clips(src: pathlib.Path) -> list[tuple[pathlib.Path, dict]]:
    """(video, its manifest entry) for every clip of a folder (by manifest, else by *.mp4 + .json)."""
    if not src.is_dir():
        raise InputNotFound(f"no such folder: {src}")
    man = src / "manifest.json"
    if man.exists():
        items = json.loads(man.read_text()).get("clips", [])
        return [(src / c["video"], c) for c in items]
    return [(v, {"video": v.name}) for v in sorted(src.glob("*.mp4")) if v.with_suffix(".json").exists()]


def degrade_folder(src: pathlib.Path, out: pathlib.Path, kinds: list[str], jobs: int = 2,
                   only: set[str] | None = None) -> dict[str, int]:
    """All copies of ``src`` for ``kinds``; returns how many clips each kind wrote."""
    clips = source_clips(src)
    if only:
        clips = [(v, c) for v, c in clips if v.stem in only or c.get("set") in only]
    counts = {}
    for name in kinds:
        kind = KINDS[name]
        out_dir = out / name
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            done = list(pool.map(lambda vc: (vc[1], degrade_clip(vc[0], out_dir, kind)), clips))
        entries = [{**entry, **res} for entry, res in done if res is not None]
        if entries:
            manifest = {"purpose": f"degraded copies ({name}) of {src}: evaluation only",
                        "generator": f"python -m clamcoach.synth.degrade --src {src} --out {out} --kinds {name}",
                        "degradation": {"kind": name, "ffmpeg_vf": kind.vf, "crf": kind.crf},
                        "clips": entries}
            tmp = out_dir / "manifest.json.tmp"
            tmp.write_text(json.dumps(manifest, indent=1))
            tmp.replace(out_dir / "manifest.json")
        counts[name] = len(entries)
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m clamcoach.synth.degrade", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--src", default="data/eval", help="folder of rendered clips (default data/eval)")
    p.add_argument("--out", default=".cache/degraded", help="where the copies go (default .cache/degraded)")
    p.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)}")
    p.add_argument("--only", default=None, help="comma-separated set names or clip stems")
    p.add_argument("--jobs", type=int, default=2, help="ffmpeg processes at once (default 2)")
    a = p.parse_args(argv)
    kinds = [k.strip() for k in a.kinds.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        p.error(f"unknown kind(s) {', '.join(bad)}; choose from {', '.join(KINDS)}")
    only = set(a.only.split(",")) if a.only else None
    try:
        counts = degrade_folder(pathlib.Path(a.src), pathlib.Path(a.out), kinds, a.jobs, only)
    except ClamcoachError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    for k, n in counts.items():
        print(f"{k}: {n} clips -> {pathlib.Path(a.out) / k}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
