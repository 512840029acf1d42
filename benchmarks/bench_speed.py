"""Speed and memory of analysis on one clip (``make bench``).

    python benchmarks/bench_speed.py [CLIP] [--long-factor 10] [--no-memory]

In one run:
1. decode-only fps (the video reader alone);
2. pose-only fps (time spent inside the estimator only, decoding excluded) and decode+pose fps;
3. end-to-end fps through ``clamcoach.pipeline.analyze_video`` and its ratio to pose-only
   (target >= 0.9: everything after the model should cost little);
4. peak memory (VmHWM) of analysing the clip and a clip ``--long-factor`` times longer, each
   in a fresh process on one core (target ratio <= 1.2: memory stays flat with video length);
5. a 5-minute clip (the clip looped) analysed on one core and on two (pose/segments.py):
   the speed-up (target >= 1.7) and whether the reports are identical; and the live path's
   cost per frame beside pose-only (``--no-segments`` skips this).
6. the pose backends side by side (``--backends``, default litert and mediapipe) on the
   rendered tuning clips (``--agreement-clips``, default the first set, one clip per view):
   ms/frame of each, frames with a pose, and the median distance between their 33 image
   landmarks (px) on frames where both found the person. ``--models`` adds LiteRT's lite
   and heavy models to the speed columns.

CLIP defaults to data/demo/demo.mp4; if that is missing or unreadable a synthetic clip (the
test fixture's person lying on their side) is made in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = ROOT / "data" / "demo" / "demo.mp4"
FIXTURE = ROOT / "tests" / "fixtures" / "walking_person.jpg"

from clamcoach.errors import ClamcoachError
from clamcoach.io import open_video
from clamcoach.pose import open_estimator


def synthetic_clip(path: Path, seconds: float = 10.0, fps: int = 30) -> Path:
    """The fixture person lying on their side on a 1280x720 canvas, sliding slowly."""
    import cv2

    person = cv2.cvtColor(cv2.imread(str(FIXTURE)), cv2.COLOR_BGR2RGB)
    person = np.ascontiguousarray(np.rot90(person, 1))
    person = cv2.resize(person, (760, 760), interpolation=cv2.INTER_LINEAR)
    ph, pw = person.shape[:2]
    canvas_w, canvas_h = 1280, 720
    n = int(seconds * fps)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = canvas_w, canvas_h, "yuv420p"
        stream.options = {"preset": "veryfast"}
        for i in range(n):
            x = 100 + int(100 * np.sin(i / fps))
            canvas = np.full((canvas_h, canvas_w, 3), 80, np.uint8)
            y0 = (canvas_h - ph) // 2
            visible = min(ph, canvas_h - max(y0, 0))
            canvas[max(y0, 0) : max(y0, 0) + visible, x : x + pw] = person[max(-y0, 0) : max(-y0, 0) + visible]
            frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def looped_clip(src: Path, dest: Path, factor: int) -> Path:
    """``src`` played ``factor`` times in a row, re-encoded with continuous timestamps."""
    info = open_video(src).info
    fps = round(info.fps) or 30
    with av.open(str(dest), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = info.width, info.height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        n = 0
        for _ in range(factor):
            for frame in open_video(src):  # one frame in memory at a time
                vf = av.VideoFrame.from_ndarray(frame.rgb, format="rgb24")
                vf.pts, vf.time_base = n, Fraction(1, fps)
                out.mux(stream.encode(vf))
                n += 1
        out.mux(stream.encode())
    return dest


def choose_clip(arg: str | None, workdir: Path) -> tuple[Path, str]:
    path = Path(arg) if arg else DEFAULT_CLIP
    try:
        open_video(path)
        return path, str(path)
    except ClamcoachError as err:
        if arg:
            raise
        made = synthetic_clip(workdir / "synthetic.mp4")
        return made, f"synthetic lying person, 10 s ({DEFAULT_CLIP.name} unusable: {err})"


def decode_only(path: Path) -> tuple[int, float]:
    start = time.perf_counter()
    n = sum(1 for _ in open_video(path))
    return n, time.perf_counter() - start


#: The end-to-end run and its pose-only baseline both run on this many cores (the pose model's
#: threads follow the cores it is given: pose.segments.pose_threads).
E2E_CORES = 1


def decode_and_pose(path: Path, backend: str = "blazepose") -> tuple[int, float, float, int]:
    """(frames, seconds inside the estimator, total seconds, frames with a pose), the estimator
    on E2E_CORES cores, as ``analyze`` gives it."""
    from clamcoach.pose.segments import pose_threads

    with open_estimator(backend, threads=pose_threads(E2E_CORES)) as estimator:
        estimator.estimate(np.zeros((64, 64, 3), np.uint8), -1.0)  # warm-up outside the timing
        estimator.reset()
        pose_s, n, found = 0.0, 0, 0
        start = time.perf_counter()
        for frame in open_video(path):
            t0 = time.perf_counter()
            found += estimator.estimate(frame.rgb, frame.t) is not None
            pose_s += time.perf_counter() - t0
            n += 1
        return n, pose_s, time.perf_counter() - start, found


def analyze(path: Path) -> tuple[int, float]:
    from clamcoach.pipeline import analyze_video
    from clamcoach.protocol import load_protocol

    start = time.perf_counter()
    result = analyze_video(path, load_protocol(), require_person=False, pose_workers=E2E_CORES)
    return result.frames_read, time.perf_counter() - start


def pipeline_problem() -> str | None:
    try:
        from clamcoach.pipeline import analyze_video  # noqa: F401
        from clamcoach.protocol import load_protocol  # noqa: F401
    except ImportError as err:
        return f"clamcoach.pipeline.analyze_video is not importable yet ({err})"
    return None


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_main(path: Path, mode: str) -> None:
    """Run in a fresh process: analyse ``path`` and print frames, seconds and peak memory."""
    if mode == "analyze":
        n, seconds = analyze(path)
    else:
        n, _, seconds, _ = decode_and_pose(path)
    print("RESULT " + json.dumps({"frames": n, "seconds": seconds, "peak_mb": peak_rss_mb()}))


def measure_in_child(path: Path, mode: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        capture_output=True, text=True, timeout=3600, check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"child run failed on {path}:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def segments_speedup(clip: Path, workdir: Path, minutes: float = 5.0) -> list[tuple[str, str, str]]:
    """One long video on one core and on two (pose/segments.py), in this run: the speed-up,
    whether the two reports are identical, and the live path's cost per frame beside pose-only."""
    import math

    from clamcoach.pipeline import LiveAnalyzer, analyze_video
    from clamcoach.protocol import load_protocol

    info = open_video(clip).info
    factor = max(1, math.ceil(minutes * 60 / info.duration_s))
    long_clip = looped_clip(clip, workdir / "segments-long.mp4", factor)
    long_info = open_video(long_clip).info
    protocol = load_protocol()
    seconds, reports = {}, {}
    for workers in (1, 2):
        start = time.perf_counter()
        result = analyze_video(long_clip, protocol, require_person=False, pose_workers=workers)
        seconds[workers] = time.perf_counter() - start
        reports[workers] = result.report()
    frames = long_info.frames
    speedup = seconds[1] / seconds[2]
    rows = [
        (f"{long_info.duration_s / 60:.1f}-min clip, 1 core", f"{frames / seconds[1]:7.1f} fps", f"{seconds[1]:.1f} s"),
        (f"{long_info.duration_s / 60:.1f}-min clip, 2 cores", f"{frames / seconds[2]:7.1f} fps", f"{seconds[2]:.1f} s"),
        ("segments speed-up, 2 cores / 1", f"{speedup:7.2f}", "target >= 1.70 " + _verdict(speedup >= 1.7)),
        ("reports of 1 and 2 cores", "  identical" if reports[1] == reports[2] else "    DIFFER",
         f"{reports[1]['summary']['reps']} reps"),
    ]
    # The live path (browser sessions) runs one tracker per frame, never segments: timed frame
    # by frame against the bare estimator, alternating, so the machine's load drifts out.
    with open_estimator() as live_estimator, open_estimator() as bare:
        for est in (live_estimator, bare):
            est.estimate(np.zeros((64, 64, 3), np.uint8), -1.0)
            est.reset()
        live = LiveAnalyzer(protocol, live_estimator)
        n, live_s, pose_s = 0, 0.0, 0.0
        for frame in open_video(clip):
            t0 = time.perf_counter()
            live.process(frame.rgb, frame.t)
            t1 = time.perf_counter()
            bare.estimate_all(frame.rgb, frame.t)
            pose_s += time.perf_counter() - t1
            live_s += t1 - t0
            n += 1
    rows.append(("live path per frame", f"{1000 * live_s / n:7.1f} ms",
                 f"pose only {1000 * pose_s / n:.1f} ms, frame by frame alternating; ratio {live_s / pose_s:.2f}"))
    return rows


TUNING = ROOT / "data" / "tuning"


def agreement_clips(which: str) -> list[Path]:
    """``which``: "first" (set t1, one clip per view), "all", or a glob inside data/tuning."""
    if which == "first":
        return sorted(TUNING.glob("t1_*.mp4"))
    if which == "all":
        return sorted(TUNING.glob("t*.mp4"))
    return sorted(TUNING.glob(which))


def compare_backends(clips: list[Path], backends: list[str]) -> list[tuple[str, str, str]]:
    """Each backend on the same decoded frames: speed, coverage, and distance to the first."""
    rows: list[tuple[str, str, str]] = []
    seconds = {b: 0.0 for b in backends}
    found = {b: 0 for b in backends}
    frames = 0
    distances: dict[str, list[np.ndarray]] = {b: [] for b in backends[1:]}
    per_clip: dict[str, list[str]] = {b: [] for b in backends[1:]}
    for clip in clips:
        estimators = {b: open_estimator(b) for b in backends}
        clip_d: dict[str, list[np.ndarray]] = {b: [] for b in backends[1:]}
        try:
            for est in estimators.values():
                est.estimate(np.zeros((64, 64, 3), np.uint8), -1.0)  # warm-up, untimed
                est.reset()
            for frame in open_video(clip):
                frames += 1
                poses = {}
                for name, est in estimators.items():
                    t0 = time.perf_counter()
                    poses[name] = est.estimate(frame.rgb, frame.t)
                    seconds[name] += time.perf_counter() - t0
                    found[name] += poses[name] is not None
                ref = poses[backends[0]]
                for name in backends[1:]:
                    if ref is not None and poses[name] is not None:
                        d = np.linalg.norm(ref.image[:, :2] - poses[name].image[:, :2], axis=1)
                        distances[name].append(d)
                        clip_d[name].append(d)
        finally:
            for est in estimators.values():
                est.close()
        for name in backends[1:]:
            med = float(np.median(np.concatenate(clip_d[name]))) if clip_d[name] else float("nan")
            per_clip[name].append(f"{clip.stem} {med:.2f}")
    for name in backends:
        rows.append((f"backend {name}", f"{1000 * seconds[name] / frames:7.1f} ms",
                     f"pose in {found[name]}/{frames} frames of {len(clips)} tuning clips"))
    for name in backends[1:]:
        flat = np.concatenate(distances[name]) if distances[name] else np.array([np.nan])
        rows.append((f"{name} vs {backends[0]}: median px", f"{np.median(flat):7.2f}",
                     f"p90 {np.percentile(flat, 90):.2f} px; per clip: {', '.join(per_clip[name])}"))
        rows.append((f"{name} / {backends[0]} time", f"{seconds[name] / seconds[backends[0]]:7.2f}",
                     "below 1: faster"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", nargs="?", help=f"video to measure (default {DEFAULT_CLIP.relative_to(ROOT)})")
    parser.add_argument("--long-factor", type=int, default=10, help="length of the long clip, in clips")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--no-segments", action="store_true", help="skip the long clip on 1 and 2 cores")
    parser.add_argument("--backends", default="mediapipe,litert",
                        help="pose backends to compare, the reference first (comma-separated; '' skips)")
    parser.add_argument("--agreement-clips", default="first",
                        help="tuning clips for the comparison: first, all, or a glob in data/tuning")
    parser.add_argument("--models", action="store_true",
                        help="also time LiteRT's lite and heavy models in the comparison")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "CLIP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(Path(args.child[1]), args.child[0])
        return 0

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="clamcoach-bench-") as tmp:
        workdir = Path(tmp)
        clip, described = choose_clip(args.clip, workdir)
        info = open_video(clip).info
        print(f"clip: {described}")
        print(f"      {info.width}x{info.height} (stored {info.source_width}x{info.source_height}), "
              f"{info.fps:.2f} fps, {info.duration_s:.1f} s, ~{info.frames} frames; cpus {os.cpu_count()}")

        n, seconds = decode_only(clip)
        rows.append(("decode only", f"{n / seconds:7.1f} fps", f"{n} frames in {seconds:.1f} s"))
        n, pose_s, total_s, found = decode_and_pose(clip)
        pose_fps = n / pose_s
        rows.append(("pose only (decode excluded)", f"{pose_fps:7.1f} fps",
                     f"{1000 * pose_s / n:.1f} ms/frame; pose in {found}/{n} frames"))
        rows.append(("decode + pose", f"{n / total_s:7.1f} fps", ""))

        problem = pipeline_problem()
        mode = "analyze" if problem is None else "pose"
        if problem is None:
            n_e2e, e2e_s = analyze(clip)
            e2e_fps = n_e2e / e2e_s
            ratio = e2e_fps / pose_fps
            rows.append(("end to end (analyze_video)", f"{e2e_fps:7.1f} fps", f"{n_e2e} frames in {e2e_s:.1f} s"))
            rows.append(("end-to-end / pose-only", f"{ratio:7.2f}", "target >= 0.90 " + _verdict(ratio >= 0.9)))
        else:
            rows.append(("end to end", "    n/a", problem))

        if not args.no_memory:
            long_clip = looped_clip(clip, workdir / "long.mp4", args.long_factor)
            short = measure_in_child(clip, mode)
            long = measure_in_child(long_clip, mode)
            what = "analyze_video" if mode == "analyze" else "decode + pose"
            rows.append((f"peak memory, clip ({what})", f"{short['peak_mb']:7.0f} MB", f"{short['frames']} frames"))
            rows.append((f"peak memory, {args.long_factor}x clip", f"{long['peak_mb']:7.0f} MB",
                         f"{long['frames']} frames, {long['frames'] / long['seconds']:.1f} fps"))
            mem_ratio = long["peak_mb"] / short["peak_mb"]
            rows.append(("memory long / short", f"{mem_ratio:7.2f}", "target <= 1.20 " + _verdict(mem_ratio <= 1.2)))

        if not args.no_segments and problem is None:
            rows += segments_speedup(clip, workdir)

    backends = [b for b in args.backends.split(",") if b]
    if args.models:
        backends += ["blazepose-lite", "blazepose-heavy"]
    if len(backends) >= 2:
        rows += compare_backends(agreement_clips(args.agreement_clips), backends)

    print_rows(rows)
    return 0


def print_rows(rows: list[tuple[str, str, str]]) -> None:
    """The measures as a table: name, value, notes."""
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'measure':<{width}}  {'value':>11}  notes")
    print(f"{'-' * width}  {'-' * 11}  {'-' * 30}")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>11}  {note}")


def _verdict(ok: bool) -> str:
    return "(ok)" if ok else "(MISSED)"


if __name__ == "__main__":
    raise SystemExit(main())
