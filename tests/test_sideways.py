"""Which way up a recording is: the probe as stored stops as soon as it has its answer."""

from __future__ import annotations

import numpy as np
import pytest

from clamcoach import sideways
from clamcoach.io import open_video
from clamcoach.protocol import load_protocol
from skeleton import Camera, clam_set, pose_frame
from test_pipeline import blank_clip

CAM = Camera(pitch=35)


class CountingReplay:
    """The exact set's poses by time, counting the frames it was asked about."""

    name = "replay"

    def __init__(self, poses: dict[float, object]) -> None:
        self.poses = poses
        self.calls = 0

    def estimate(self, rgb: np.ndarray, t: float):
        self.calls += 1
        return self.poses.get(round(t, 6))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


def test_a_person_lying_on_the_side_as_stored_is_probed_only_until_half_the_frames_say_so(tmp_path):
    poses = {round(t, 6): pose_frame(p, CAM, t=t) for t, p in clam_set(n_reps=2)}
    clip = blank_clip(tmp_path / "lying.mp4", len(poses))
    opened: list[CountingReplay] = []

    def open_estimator() -> CountingReplay:
        opened.append(CountingReplay(poses))
        return opened[-1]

    turns = sideways.find_orientation(open_video(clip), load_protocol(), open_estimator)
    assert turns == 0
    assert len(opened) == 1  # no turn was tried
    assert opened[0].calls == sideways.PROBE_FRAMES // 2  # the rest could not change the answer


def test_a_person_found_in_few_frames_is_not_turned(tmp_path):
    """Seen in under half the probe (a view from the feet end, say): a turn would be a guess."""
    poses = {round(t, 6): pose_frame(p, CAM, t=t) for t, p in clam_set(n_reps=2)}
    sparse = dict(list(poses.items())[::7])  # found in 4 of the 24 probed frames
    clip = blank_clip(tmp_path / "sparse.mp4", len(poses))
    opened: list[CountingReplay] = []

    def open_estimator() -> CountingReplay:
        opened.append(CountingReplay(sparse))
        return opened[-1]

    assert sideways.find_orientation(open_video(clip), load_protocol(), open_estimator) == 0
    assert len(opened) == 1 and opened[0].calls == sideways.PROBE_FRAMES


def _stood_up(pose):
    """The pose turned a quarter turn in the picture and the world (the video stored sideways)."""
    import dataclasses

    image, world = pose.image.copy(), pose.world.copy()
    image[:, 0], image[:, 1] = pose.image[:, 1], pose.width - pose.image[:, 0]
    world[:, 0], world[:, 1] = pose.world[:, 1], -pose.world[:, 0]
    return dataclasses.replace(pose, image=image, world=world, width=pose.height, height=pose.width)


@pytest.mark.parametrize("turned", [False, True], ids=["lying", "stored-sideways"])
@pytest.mark.parametrize("every", [1, 7], ids=["always-seen", "seldom-seen"])
def test_the_analysis_own_frames_give_the_probes_answer(tmp_path, turned, every):
    """``StoredProbe``, fed every frame of the analysis with the engine's bodies, answers as the
    probe of its own (``find_orientation``'s first look) on the same clip, and as early."""
    from clamcoach.body import BodyTracker

    every_pose = {round(t, 6): (_stood_up(p) if turned else p)
                  for t, p in ((t, pose_frame(p, CAM, t=t)) for t, p in clam_set(n_reps=2))}
    poses = dict(list(every_pose.items())[::every])
    clip = blank_clip(tmp_path / "clip.mp4", len(every_pose))
    frames = sideways._probe_frames(open_video(clip))
    expected = sideways._as_stored(frames, CountingReplay(poses))

    reader = open_video(clip)
    probe = sideways.StoredProbe(reader.info)
    tracker = BodyTracker()
    seen_until = None
    for frame in reader:
        probe.see(frame, tracker.push(poses.get(round(frame.t, 6))))
        if probe.done and seen_until is None:
            seen_until = frame.t
    assert (probe.posed, probe.lying) == (expected.posed, expected.lying)
    assert probe.keeps() == expected.keeps(len(frames)) == (not turned or every > 1)
    assert seen_until is not None and seen_until <= sideways.PROBE_S
