"""One long video on all cores (pose/segments.py): the split depends on the video alone, each
segment's tracker is fresh and warmed up, and N cores give exactly the poses of one core."""

from __future__ import annotations

import math
from pathlib import Path

from fractions import Fraction

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clamcoach.types import N_LANDMARKS, PoseFrame
from clamcoach.pose.segments import (
    SegmentedPoseEstimator,
    open_file_estimator,
    plan_segments,
    pose_threads,
    threads_per_estimator,
)


@settings(deadline=None)  # up to 14 400 segments: slow on a loaded machine, not wrong
@given(duration=st.floats(0.0, 4 * 3600.0), segment_s=st.floats(1.0, 120.0), warmup_s=st.floats(0.0, 5.0))
def test_the_plan_covers_the_video_once_in_order(duration: float, segment_s: float, warmup_s: float) -> None:
    plan = plan_segments(duration, segment_s=segment_s, warmup_s=warmup_s)
    assert plan[0].start_s == 0.0 and plan[0].warmup_from_s == 0.0
    assert plan[-1].end_s == math.inf
    assert [s.index for s in plan] == list(range(len(plan)))
    for before, after in zip(plan, plan[1:]):
        assert before.end_s == after.start_s  # no gap, no overlap in what is kept
        assert after.warmup_from_s == pytest.approx(max(0.0, after.start_s - warmup_s))
    if len(plan) > 1:
        lengths = [s.end_s - s.start_s for s in plan[:-1]]
        assert min(lengths) >= segment_s * (1 - 1e-9) and max(lengths) < 2 * segment_s
    else:
        assert duration < 2 * segment_s


def test_a_short_or_unknown_length_is_not_split() -> None:
    assert len(plan_segments(59.9)) == 1
    assert len(plan_segments(math.nan)) == 1
    assert len(plan_segments(60.0)) == 2
    assert len(plan_segments(300.0)) == 10


class CountingTracker:
    """A stand-in backend with a tracker's defining trait: its answer depends on how many
    frames it has seen since it was (re)set; it also records the frame's brightness."""

    name = "counting"

    def __init__(self, *, threads: int = 2, **_options: object) -> None:
        self.seen = 0
        self.threads = threads

    def reset(self) -> None:
        self.seen = 0

    def estimate_all(self, rgb: np.ndarray, t: float) -> list[PoseFrame]:
        self.seen += 1
        image = np.full((N_LANDMARKS, 3), float(rgb.mean()))
        world = np.full((N_LANDMARKS, 3), float(self.seen))
        return [PoseFrame(t=t, image=image, world=world, width=rgb.shape[1], height=rgb.shape[0])]

    def estimate(self, rgb: np.ndarray, t: float) -> PoseFrame | None:
        return self.estimate_all(rgb, t)[0]

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@pytest.fixture(scope="module")
def ramp_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four seconds at 10 fps, each frame a different grey (frame i has value 5 * i)."""
    path = tmp_path_factory.mktemp("segments") / "ramp.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": "5", "crf": "0"}
        for i in range(40):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 5 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


@pytest.fixture
def counting_backend(monkeypatch: pytest.MonkeyPatch) -> str:
    from clamcoach.pose import base

    monkeypatch.setitem(base._REGISTRY, "counting", CountingTracker)  # for this test only
    return "counting"


def test_each_segment_starts_a_fresh_tracker_on_its_warm_up(ramp_clip: Path, counting_backend: str) -> None:
    from clamcoach.io.video import open_video

    reader = open_video(ramp_clip)
    plan = plan_segments(reader.info.duration_s, segment_s=1.0, warmup_s=0.3)
    assert len(plan) == 4
    est = SegmentedPoseEstimator(ramp_clip, plan, backend="counting", workers=1)
    with est:
        got = [(f.t, est.estimate(f.rgb, f.t)) for f in reader]
    assert len(got) == 40
    sequential = [f.rgb.mean() for f in reader]
    for i, (t, pose) in enumerate(got):
        segment = next(s for s in plan if s.start_s <= t < s.end_s)
        warm_frames = round((segment.start_s - segment.warmup_from_s) * 10)
        first = round(segment.start_s * 10)
        assert pose.t == t
        assert pose.world[0, 0] == warm_frames + (i - first) + 1  # frames seen since the reset
        assert pose.image[0, 0] == pytest.approx(sequential[i])  # the frame decoded after a seek


def test_a_frame_the_segments_do_not_have_falls_back_to_one_tracker(ramp_clip: Path, counting_backend: str) -> None:
    from clamcoach.io.video import open_video

    reader = open_video(ramp_clip)
    plan = plan_segments(reader.info.duration_s, segment_s=1.0, warmup_s=0.3)
    frames = list(reader)
    with SegmentedPoseEstimator(ramp_clip, plan, backend="counting", workers=1) as est:
        assert est.estimate(frames[0].rgb, frames[0].t).world[0, 0] == 1
        odd = est.estimate(frames[1].rgb, frames[1].t + 0.01)  # a time no segment has
        assert odd.world[0, 0] == 1  # answered by a new tracker, not a wrong replay
        assert est.estimate(frames[2].rgb, frames[2].t).world[0, 0] == 2



@given(cores=st.integers(1, 64), estimators=st.integers(1, 64))
def test_estimators_running_at_once_share_the_cores(cores: int, estimators: int) -> None:
    threads = threads_per_estimator(cores, estimators)
    assert threads >= 1
    assert threads * estimators <= max(cores, estimators)  # never more threads than cores, but one each
    assert pose_threads(cores) == min(2, cores)


def test_segments_on_two_cores_run_one_thread_per_process(ramp_clip: Path, counting_backend: str) -> None:
    """Two worker processes with the estimator's default two threads each ran a 5-minute clip no
    faster than one process (1.00x); each gets its core's one thread."""
    from clamcoach.io.video import open_video

    reader = open_video(ramp_clip)
    plan = plan_segments(reader.info.duration_s, segment_s=1.0, warmup_s=0.3)
    with SegmentedPoseEstimator(ramp_clip, plan, backend="counting", workers=2) as two:
        assert two.workers == 2 and two.threads == 1
    with SegmentedPoseEstimator(ramp_clip, plan, backend="counting", workers=1) as one:
        frame = next(iter(reader))
        one.estimate(frame.rgb, frame.t)
        assert one.threads == 1 and one._local.threads == 1  # "one core" is one thread
    short = open_file_estimator(open_video(ramp_clip).info, backend="counting", workers=1)
    assert short.threads == 1


@pytest.mark.slow
def test_two_cores_give_the_poses_and_findings_of_one(demo_clip: Path, proto) -> None:
    """The demo (25.4 s at 15 fps) in 8.5-second segments: three fresh trackers, each warmed up on
    0.5 s before its segment; in this process, then on two worker processes."""
    from clamcoach.io.video import open_video
    from clamcoach.pipeline import analyze_video

    info = open_video(demo_clip).info
    results = {}
    for workers in (1, 2):
        est = open_file_estimator(info, workers=workers, segment_s=8.0, warmup_s=0.5)
        assert isinstance(est, SegmentedPoseEstimator) and len(est.plan) == 3
        assert est.workers == workers
        with est:
            results[workers] = analyze_video(demo_clip, proto, estimator=est)
    one, two = results[1], results[2]
    assert one.report() == two.report()
    assert one.frames_read == two.frames_read == info.frames
    a, b = one.analysis.frames, two.analysis.frames
    assert len(a) == one.frames_read
    assert np.array_equal(a.posed, b.posed)
    assert np.array_equal(a.landmarks, b.landmarks, equal_nan=True)
    # The split run sees the same set as the unsplit one (it differs only in the trackers' noise).
    plain = analyze_video(demo_clip, proto)
    assert one.report()["summary"]["reps"] == plain.report()["summary"]["reps"]
    assert one.report()["camera_view"] == plain.report()["camera_view"]


def test_analyze_refuses_zero_workers(demo_clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from clamcoach.cli import main

    assert main(["analyze", str(demo_clip), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
