"""Bad and awkward input, end to end on the real rendered clip with the real pose model.

Each test re-encodes the bundled demo clip with one thing wrong (a phone's rotation flag,
variable frame rate, a person leaving the frame, a second person, a cut file) and checks the
analysis still says the right thing.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from clamcoach.io.video import open_video
from clamcoach.pipeline import analyze_video
from clamcoach.protocol import load_protocol

pytestmark = pytest.mark.slow


def transcode(src: Path, dst: Path, *, transform=None, keep=None, rotation: int | None = None,
              fmt: str | None = None) -> Path:
    """Re-encode ``src`` frame by frame; ``transform(rgb, t)`` changes a frame, ``keep(i)``
    drops some (their timestamps stay real: variable frame rate)."""
    with open_video(src) as reader:
        frames = [(f.t, f.rgb) for f in reader]
    first = transform(frames[0][1], frames[0][0]) if transform else frames[0][1]
    h, w = first.shape[:2]
    with av.open(str(dst), "w", format=fmt) as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i, (t, rgb) in enumerate(frames):
            if keep is not None and not keep(i):
                continue
            img = transform(rgb, t) if transform else rgb
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts = round(t * 1000)
            frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


@pytest.fixture(scope="module")
def truth(demo_clip):
    return json.loads(demo_clip.with_suffix(".json").read_text())


@pytest.fixture(scope="module")
def baseline(demo_clip):
    return analyze_video(demo_clip, load_protocol()).report()


def codes(report):
    return [sorted({f["code"] for f in r["findings"]} & {"roll_back", "lift_too_high", "feet_apart"})
            for r in report["reps"]]


def test_phone_rotation_metadata(tmp_path, demo_clip, baseline):
    """Stored sideways with a rotation flag, as phones do: analysed upright, same result."""
    rotated = transcode(demo_clip, tmp_path / "phone.mp4", transform=lambda rgb, t: np.rot90(rgb, k=-1),
                        rotation=90)
    with open_video(rotated) as r:
        assert (r.info.width, r.info.height) == (baseline["source"]["width"], baseline["source"]["height"])
    report = analyze_video(rotated, load_protocol()).report()
    assert report["summary"]["reps"] == baseline["summary"]["reps"]
    assert codes(report) == codes(baseline)


def test_variable_frame_rate_uses_timestamps(tmp_path, demo_clip, baseline):
    vfr = transcode(demo_clip, tmp_path / "vfr.mkv", keep=lambda i: i % 3 != 1, fmt="matroska")
    report = analyze_video(vfr, load_protocol()).report()
    assert report["summary"]["reps"] == baseline["summary"]["reps"]
    for a, b in zip(report["reps"], baseline["reps"]):
        assert a["start_s"] == pytest.approx(b["start_s"], abs=0.25)
        assert a["up_s"] == pytest.approx(b["up_s"], abs=0.4)


def test_person_leaving_the_frame_is_reported(tmp_path, demo_clip, truth):
    reps = truth["reps"]
    gap = (reps[1]["start_s"] + 0.5, reps[1]["end_s"])  # hidden during rep 2

    def hide(rgb, t):
        if gap[0] <= t < gap[1]:
            rgb = rgb.copy()
            rgb[:] = 60
        return rgb

    clip = transcode(demo_clip, tmp_path / "gap.mp4", transform=hide)
    report = analyze_video(clip, load_protocol()).report()
    assert report["summary"]["reps"] == len(reps) - 1
    assert any("No usable pose" in w for w in report["warnings"])
    assert report["pose_coverage"] < 0.95


def test_cut_file_analyses_what_decodes(tmp_path, demo_clip):
    mkv = transcode(demo_clip, tmp_path / "full.mkv", fmt="matroska")
    data = mkv.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    result = analyze_video(cut, load_protocol())
    report = result.report()
    assert result.stopped_early_at_s is not None
    assert any("damaged" in w for w in report["warnings"])
    assert 1 <= report["summary"]["reps"] < 5


def test_second_person_in_view(tmp_path, demo_clip, baseline):
    """A second (still) person beside the exerciser: the one doing the exercise is followed."""
    with open_video(demo_clip) as r:
        still = next(iter(r)).rgb

    def two(rgb, t):
        other = still[:, ::-1]  # a mirrored, motionless copy
        return np.concatenate([rgb, other], axis=1)

    clip = transcode(demo_clip, tmp_path / "two.mp4", transform=two)
    report = analyze_video(clip, load_protocol()).report()
    assert report["summary"]["reps"] == baseline["summary"]["reps"]
