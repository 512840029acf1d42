"""The one analyser factory: an estimator in front of a fresh engine, frame by frame."""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pytest

from clamcoach.measure.profiles import JOINT_CENTRES
from clamcoach.notices import Notice, WarningCode
from clamcoach.pipeline import make_analyzer, prefetched
from clamcoach.protocol import load_protocol
from skeleton import Camera, clam_set, pose_frame

CAM = Camera(pitch=35)


class ReplayEstimator:
    """Gives the poses of an exact synthetic set, one per frame (the image is ignored)."""

    name = "replay"

    def __init__(self) -> None:
        self.poses = {round(t, 6): pose_frame(p, CAM, t=t) for t, p in clam_set(n_reps=2)}

    def estimate(self, rgb: np.ndarray, t: float):
        return self.poses[round(t, 6)]


def test_make_analyzer_gives_a_fresh_engine_and_a_frozen_analysis():
    est = ReplayEstimator()
    proto = load_protocol()
    live = make_analyzer(proto, est, profile=JOINT_CENTRES)
    assert live.engine.measure.profile is JOINT_CENTRES and live.engine.proto is proto
    assert make_analyzer(proto, est).engine is not live.engine
    rgb = np.zeros((CAM.height, CAM.width, 3), np.uint8)
    steps = [live.process(rgb, t) for t in sorted(est.poses)]
    a = live.finish()
    assert len(a.reps) == 2 and steps[-1].rep_count == 2
    assert a.measurement["pose_model"] == {"backend": "replay"}
    assert a.snapshot is not None and max(a.snapshot[0].shape[:2]) <= 640 and a.snapshot[1].shape == (33, 3)
    assert len(a.frames) == len(steps)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.notes = ("changed",)  # type: ignore[misc]
    note = Notice(WarningCode.POSE_GAPS, {"spans": "1.0-2.0 s"})
    assert a.with_notes(note).notes == (note,) and a.notes == ()
    assert a.with_notes(note).warnings[:1] == ["No usable pose (out of view or hidden) at 1.0-2.0 s."]


def test_an_analyser_without_landmarks_measures_the_same_and_keeps_none():
    """The live page's analyser keeps no per-frame landmarks (a half-hour set would grow by
    ~11 MB); every measure is the file analyser's."""
    est = ReplayEstimator()
    rgb = np.zeros((CAM.height, CAM.width, 3), np.uint8)
    runs = []
    for keep in (True, False):
        live = make_analyzer(load_protocol(), est, profile=JOINT_CENTRES, keep_landmarks=keep)
        for t in sorted(est.poses):
            live.process(rgb, t)
        runs.append(live.finish())
    kept, slim = runs
    assert kept.frames.landmarks is not None and kept.frames.landmarks.shape == (len(kept.frames), 33, 3)
    assert slim.frames.landmarks is None
    assert slim.to_dict({}) == kept.to_dict({})
    assert np.array_equal(slim.frames.opening_deg, kept.frames.opening_deg, equal_nan=True)


# -- prefetched: decoding on a helper thread --------------------------------------------------

class CountingFrames:
    """An iterator of frames that counts how many the producer has taken (``made``); endless
    unless ``n`` is given, raising ``error`` once ``raise_after`` frames are out."""

    def __init__(self, n: int | None = None, raise_after: int | None = None,
                 error: Exception | None = None) -> None:
        self.n, self.raise_after, self.error = n, raise_after, error
        self.made = 0

    def __iter__(self):
        while self.n is None or self.made < self.n:
            if self.raise_after is not None and self.made == self.raise_after:
                raise self.error
            self.made += 1
            yield self.made - 1


def decode_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "clamcoach-prefetch"}


def settled_count(frames: CountingFrames, wait_s: float = 0.3) -> int:
    """``frames.made`` once the producer has stopped taking frames (it is blocked)."""
    before = -1
    while before != frames.made:
        before = frames.made
        time.sleep(wait_s)
    return frames.made


def test_prefetched_yields_every_frame_in_order():
    assert list(prefetched(iter(range(50)), depth=2)) == list(range(50))
    assert list(prefetched(iter([]), depth=2)) == []


@pytest.mark.parametrize("depth", [1, 2, 5])
def test_prefetched_decodes_at_most_depth_frames_ahead(depth):
    """While the consumer holds a frame, ``depth`` frames wait in the queue and the producer
    holds one more it cannot hand over: it has taken ``consumed + depth + 1`` and no more."""
    frames = CountingFrames()
    gen = prefetched(iter(frames), depth=depth)
    try:
        assert next(gen) == 0
        assert settled_count(frames) == 1 + depth + 1
        assert [next(gen) for _ in range(3)] == [1, 2, 3]
        assert settled_count(frames) == 4 + depth + 1
    finally:
        gen.close()


def test_an_error_raised_while_decoding_is_raised_in_the_consumer():
    error = ValueError("corrupt frame 3")
    frames = CountingFrames(raise_after=3, error=error)
    got = []
    with pytest.raises(ValueError) as caught:
        for item in prefetched(iter(frames), depth=2):
            got.append(item)
    assert caught.value is error
    assert got == [0, 1, 2]
    assert threading.current_thread().name != "clamcoach-prefetch"


def test_leaving_early_stops_the_decoding_thread():
    """A consumer that breaks out of the loop stops the producer: it decodes no further and
    its thread ends within a second."""
    frames = CountingFrames()  # endless: only the stop can end it
    before = decode_threads()
    got = []
    for item in prefetched(iter(frames), depth=2):
        got.append(item)
        if item == 1:
            (started,) = decode_threads() - before
            break
    left = time.monotonic()
    started.join(timeout=1.0)
    assert not started.is_alive()
    assert time.monotonic() - left < 1.0
    assert got == [0, 1]
    made = frames.made
    assert made <= 2 + 2 + 1  # consumed + depth + the one in hand
    time.sleep(0.3)
    assert frames.made == made  # nothing decoded after the stop


# -- analyze_video: the pose model a frame ahead of the engine ----------------------------------


class OrderedReplay:
    """The exact set's poses in call order, each stamped with the frame's time; records the
    thread it is called on."""

    name = "replay"

    def __init__(self) -> None:
        self.poses = [pose_frame(p, CAM, t=t) for t, p in clam_set(n_reps=2)]
        self.calls = 0
        self.threads: set[str] = set()

    def estimate(self, rgb: np.ndarray, t: float):
        self.threads.add(threading.current_thread().name)
        pose = self.poses[self.calls]
        self.calls += 1
        return dataclasses.replace(pose, t=t)


def blank_clip(path, frames: int, fps: int = 30):
    import av
    from fractions import Fraction

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def test_file_analysis_runs_the_pose_model_off_the_engines_thread_with_the_same_result(tmp_path):
    """The model runs on a helper thread (so the engine's time hides behind it) and the report
    is exactly the one frame-by-frame ``process`` gives on the same frames."""
    from clamcoach.io import open_video
    from clamcoach.pipeline import analyze_video

    est = OrderedReplay()
    clip = blank_clip(tmp_path / "blank.mp4", len(est.poses))
    result = analyze_video(clip, load_protocol(), estimator=est, require_person=False, min_duration_s=0.5)
    assert est.calls == len(est.poses)
    assert threading.current_thread().name not in est.threads and est.threads == {"clamcoach-prefetch"}

    again = OrderedReplay()
    live = make_analyzer(load_protocol(), again)
    for frame in open_video(clip):
        live.process(frame.rgb, frame.t)
    sequential = live.finish()
    assert len(result.analysis.reps) == 2
    assert result.analysis.to_dict({}) == sequential.to_dict({})


class TimedReplay:
    """The exact set's poses by frame time; counts resets and closes (a model opened once)."""

    name = "replay"

    def __init__(self) -> None:
        self.poses = {round(t, 6): pose_frame(p, CAM, t=t) for t, p in clam_set(n_reps=2)}
        self.calls = self.resets = self.closes = 0

    def estimate(self, rgb: np.ndarray, t: float):
        self.calls += 1
        pose = self.poses.get(round(t, 6))
        return None if pose is None else dataclasses.replace(pose, t=t)

    def reset(self) -> None:
        self.resets += 1

    def close(self) -> None:
        self.closes += 1

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def test_the_sideways_probe_and_the_analysis_share_one_pose_model(tmp_path, monkeypatch):
    """Opening the model costs as much as several frames: the file's
    analysis opens it once and closes it once. Whether the person lies on their side as stored
    is read off the analysis' own frames (no frame is estimated twice); with ``on_frame``, which
    cannot take back what it was shown, the probe looks first, with the same model reset."""
    from clamcoach import pipeline
    from clamcoach.sideways import PROBE_FRAMES

    opened: list[TimedReplay] = []

    def open_estimator(backend: str = "blazepose", **options) -> TimedReplay:
        opened.append(TimedReplay())
        return opened[-1]

    monkeypatch.setattr(pipeline, "open_estimator", open_estimator)
    n = len(TimedReplay().poses)
    clip = blank_clip(tmp_path / "lying.mp4", n)
    result = pipeline.analyze_video(clip, load_protocol(), require_person=False, min_duration_s=0.5)
    assert len(opened) == 1
    assert opened[0].calls == n and opened[0].closes == 1
    assert len(result.analysis.reps) == 2

    shown: list[float] = []
    again = pipeline.analyze_video(clip, load_protocol(), require_person=False, min_duration_s=0.5,
                                   on_frame=lambda frame, step: shown.append(frame.t))
    assert len(opened) == 2
    model = opened[1]
    assert model.calls == PROBE_FRAMES // 2 + n  # the probe's frames, then every frame once
    assert model.resets >= 1 and model.closes == 1
    assert len(shown) == n and again.analysis.to_dict({}) == result.analysis.to_dict({})


def test_a_callers_model_is_reset_for_the_probe_and_the_analysis_and_left_open(tmp_path):
    from clamcoach.pipeline import analyze_video

    model = TimedReplay()
    clip = blank_clip(tmp_path / "lying.mp4", len(model.poses))
    result = analyze_video(clip, load_protocol(), reuse=model, require_person=False, min_duration_s=0.5)
    assert model.closes == 0 and model.resets >= 1
    assert len(result.analysis.reps) == 2


def test_the_engine_gives_a_slower_pose_thread_time_back_only_when_it_waited_for_it(monkeypatch):
    """After waiting for an item the caller sleeps ``handoff_s`` (the helper gets the lock
    back into the model); an item already waiting is taken at once."""
    from clamcoach import pipeline

    slept: list[float] = []
    real_sleep = time.sleep
    monkeypatch.setattr(pipeline.time, "sleep", lambda s: (slept.append(s), real_sleep(s)))

    def slow():
        for i in range(3):
            real_sleep(0.05)
            yield i

    assert list(pipeline.prefetched(slow(), handoff_s=0.002)) == [0, 1, 2]
    assert slept.count(0.002) >= 3
    slept.clear()
    gen = pipeline.prefetched(iter(range(2)), depth=2, handoff_s=0.002)
    real_sleep(0.2)  # both items wait in the queue
    assert [next(gen), next(gen)] == [0, 1]
    assert 0.002 not in slept
    gen.close()
