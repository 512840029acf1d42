"""Video reading and atomic writing, with real files made here by PyAV (real decoder, no mocks)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from clamcoach import errors
from clamcoach.io import (
    VideoFrame,
    atomic_path,
    check_writable,
    open_video,
    write_bytes_atomic,
    write_text_atomic,
)

W, H = 64, 48
MARK = 255  # a bright block in the top-left corner shows which way the image is turned


def frame_image(i: int, width: int = W, height: int = H) -> np.ndarray:
    img = np.full((height, width, 3), 40, np.uint8)
    img[: height // 4, : width // 4] = MARK
    img[:, (i * 3) % width] = 128  # something moves, so frames differ
    return img


def write_video(
    path: Path,
    *,
    n: int = 30,
    width: int = W,
    height: int = H,
    pts_ms: list[int] | None = None,
    rotation: int | None = None,
    codec: str = "libx264",
    container_options: dict[str, str] | None = None,
) -> Path:
    """Encode ``n`` synthetic frames; ``pts_ms`` gives each frame's time (variable rate)."""
    time_base = Fraction(1, 1000)
    with av.open(str(path), "w", options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = time_base  # else the encoder rounds pts to 1/rate
        if codec == "libx264":
            stream.options = {"preset": "ultrafast"}
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(frame_image(i, width, height), format="rgb24")
            frame.pts = pts_ms[i] if pts_ms is not None else round(i * 1000 / 30)
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def corner_brightness(rgb: np.ndarray) -> dict[str, float]:
    h, w = rgb.shape[:2]
    qh, qw = max(1, h // 8), max(1, w // 8)
    return {
        "top_left": rgb[:qh, :qw].mean(),
        "top_right": rgb[:qh, -qw:].mean(),
        "bottom_left": rgb[-qh:, :qw].mean(),
        "bottom_right": rgb[-qh:, -qw:].mean(),
    }


def brightest_corner(rgb: np.ndarray) -> str:
    corners = corner_brightness(rgb)
    return max(corners, key=corners.get)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    return {
        "mp4": write_video(d / "plain.mp4", n=90),
        "mkv": write_video(d / "plain.mkv", n=90),
        "ts": write_video(d / "plain.ts", n=90),
        "faststart": write_video(d / "faststart.mp4", n=90, container_options={"movflags": "faststart"}),
    }


def truncated_copy(src: Path, dest: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * fraction)])
    return dest


# --- reading a good file -------------------------------------------------------------------


def test_reads_every_frame_with_info(clips: dict[str, Path]) -> None:
    reader = open_video(clips["mp4"])
    info = reader.info
    assert (info.width, info.height, info.rotation) == (W, H, 0)
    assert info.fps == pytest.approx(30.0, abs=0.01)  # pts are whole milliseconds
    assert info.frames == 90
    assert info.duration_s == pytest.approx(3.0, abs=0.05)
    assert info.path == clips["mp4"]
    frames = list(reader)
    assert [f.index for f in frames] == list(range(90))
    assert all(isinstance(f, VideoFrame) for f in frames)
    assert frames[0].t == 0.0
    assert frames[-1].t == pytest.approx(89 / 30, abs=1e-3)
    rgb = frames[0].rgb
    assert rgb.shape == (H, W, 3) and rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    assert brightest_corner(rgb) == "top_left"
    assert reader.stopped_early_at_s is None and reader.decode_error is None


def test_iterating_again_restarts_from_the_first_frame(clips: dict[str, Path]) -> None:
    with open_video(clips["mkv"]) as reader:
        first = [f.t for f in reader]
        second = [f.t for f in reader]
    assert first == second and len(first) == 90


def test_frames_are_streamed_not_collected(clips: dict[str, Path]) -> None:
    reader = open_video(clips["mp4"])
    it = iter(reader)
    f0 = next(it)
    f1 = next(it)
    assert (f0.index, f1.index) == (0, 1)
    it.close()  # stopping early closes the container
    assert reader._container is None


# --- rotation metadata ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["mp4", "mkv"])
@pytest.mark.parametrize(
    ("stored_rotation", "applied", "corner"),
    [
        # Display-matrix degrees are counter-clockwise; a turn of the top-left mark 90 deg
        # counter-clockwise puts it bottom-left.
        (90, 90, "bottom_left"),
        (-90, 270, "top_right"),  # what phones held upright usually store
        (180, 180, "bottom_right"),
    ],
)
def test_rotation_metadata_makes_frames_upright(
    tmp_path: Path, suffix: str, stored_rotation: int, applied: int, corner: str
) -> None:
    path = write_video(tmp_path / f"rot.{suffix}", n=5, rotation=stored_rotation)
    reader = open_video(path)
    assert reader.info.rotation == applied
    turned = applied in (90, 270)
    expected = (W, H) if turned else (H, W)  # (rows, cols) after the turn
    assert (reader.info.height, reader.info.width) == expected
    frames = list(reader)
    assert len(frames) == 5
    assert frames[0].rgb.shape[:2] == expected
    assert brightest_corner(frames[0].rgb) == corner


# --- timestamps ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["mp4", "mkv"])
def test_variable_frame_rate_keeps_real_timestamps(tmp_path: Path, suffix: str) -> None:
    pts_ms = [0, 33, 66, 200, 233, 500, 533, 566, 600, 1000, 1033, 1400]
    path = write_video(tmp_path / f"vfr.{suffix}", n=len(pts_ms), pts_ms=pts_ms)
    times = [f.t for f in open_video(path)]
    # MP4 stores its own time base, so allow a millisecond of rounding.
    assert times == pytest.approx([ms / 1000 for ms in pts_ms], abs=1e-3)


def test_timestamps_start_at_zero_when_the_stream_does_not(tmp_path: Path) -> None:
    pts_ms = [5000 + 40 * i for i in range(10)]
    path = write_video(tmp_path / "late.mkv", n=10, pts_ms=pts_ms)
    times = [f.t for f in open_video(path)]
    assert times == pytest.approx([0.04 * i for i in range(10)], abs=1e-6)


# --- size ----------------------------------------------------------------------------------


def test_very_large_frames_are_downscaled(tmp_path: Path) -> None:
    path = write_video(tmp_path / "uhd.mp4", n=3, width=3840, height=2160)
    reader = open_video(path)
    assert (reader.info.source_width, reader.info.source_height) == (3840, 2160)
    assert (reader.info.width, reader.info.height) == (1280, 720)
    frames = list(reader)
    assert [f.rgb.shape for f in frames] == [(720, 1280, 3)] * 3
    assert brightest_corner(frames[0].rgb) == "top_left"


def test_large_portrait_phone_video_is_turned_then_fits(tmp_path: Path) -> None:
    path = write_video(tmp_path / "phone.mp4", n=2, width=1920, height=1080, rotation=-90)
    reader = open_video(path, max_side=640)
    assert (reader.info.width, reader.info.height) == (360, 640)
    assert [f.rgb.shape for f in reader] == [(640, 360, 3)] * 2


def test_small_frames_are_never_enlarged(clips: dict[str, Path]) -> None:
    reader = open_video(clips["mp4"], max_side=4000)
    assert next(iter(reader)).rgb.shape == (H, W, 3)


# --- inputs that are not (whole) videos -----------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(errors.InputNotFound, match="no such file") as exc:
        open_video(tmp_path / "nope.mp4")
    assert exc.value.exit_code == 4


def test_directory_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(errors.NotAVideo):
        open_video(tmp_path)


@pytest.mark.parametrize(
    ("name", "content"),
    [("notes.txt", b"hello, this is not a video\n" * 20), ("empty.mp4", b""), ("noise.mp4", bytes(range(256)) * 40)],
)
def test_non_video_bytes(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(errors.NotAVideo) as exc:
        open_video(path)
    assert exc.value.exit_code == 5
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_still_image_is_not_a_video(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"photo{suffix}"
    cv2.imwrite(str(path), frame_image(0))
    with pytest.raises(errors.NotAVideo, match="still image"):
        open_video(path)


def test_container_with_a_video_stream_and_no_frames(tmp_path: Path) -> None:
    path = tmp_path / "empty.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        container.start_encoding()
    with pytest.raises(errors.EmptyVideo) as exc:
        open_video(path)
    assert exc.value.exit_code == 6


@pytest.mark.parametrize("suffix", ["mkv", "mp4"])
def test_video_stream_without_a_decodable_frame(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"zero.{suffix}"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=30)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.time_base = Fraction(1, 30)
        container.start_encoding()
        for i in range(5):  # packets of zeros: a stream is there, no frame decodes
            packet = av.Packet(bytes(100))
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, i, i, stream.time_base
            container.mux(packet)
    with pytest.raises(errors.EmptyVideo) as exc:
        open_video(path)
    assert exc.value.exit_code == 6


# --- damaged files: yield what decodes, then stop and say why --------------------------------


def test_truncated_mkv_yields_the_first_part(clips: dict[str, Path], tmp_path: Path) -> None:
    path = truncated_copy(clips["mkv"], tmp_path / "half.mkv", 0.5)
    reader = open_video(path)
    frames = list(reader)
    assert 10 < len(frames) < 90
    assert reader.stopped_early_at_s == pytest.approx(frames[-1].t)
    assert reader.decode_error and "\n" not in reader.decode_error
    assert "truncated" in reader.decode_error


def test_truncated_faststart_mp4_yields_the_first_part(clips: dict[str, Path], tmp_path: Path) -> None:
    path = truncated_copy(clips["faststart"], tmp_path / "half.mp4", 0.5)
    reader = open_video(path)
    frames = list(reader)
    assert 10 < len(frames) < 90
    assert reader.stopped_early_at_s == pytest.approx(frames[-1].t)
    assert reader.decode_error


def test_truncated_mp4_with_index_at_the_end_cannot_be_read(clips: dict[str, Path], tmp_path: Path) -> None:
    # The default MP4 muxer writes the index (moov) last: cut in half, no frame can be found.
    path = truncated_copy(clips["mp4"], tmp_path / "half.mp4", 0.5)
    with pytest.raises(errors.NotAVideo, match="cut short"):
        open_video(path)


def test_truncated_ts_yields_the_first_part_without_knowing_it_was_cut(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    # MPEG-TS declares no duration, so a cut looks like a normal end of stream.
    path = truncated_copy(clips["ts"], tmp_path / "half.ts", 0.5)
    frames = list(open_video(path))
    assert 10 < len(frames) < 90
    assert [f.index for f in frames] == list(range(len(frames)))


def test_corrupt_middle_stops_with_a_reason(clips: dict[str, Path], tmp_path: Path) -> None:
    data = bytearray(clips["mkv"].read_bytes())
    rng = np.random.default_rng(1)
    start = len(data) // 3
    data[start : start + 2000] = rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
    path = tmp_path / "corrupt.mkv"
    path.write_bytes(bytes(data))
    reader = open_video(path)
    frames = list(reader)
    assert 0 < len(frames) < 90
    assert reader.decode_error and "\n" not in reader.decode_error


# --- atomic writes -------------------------------------------------------------------------


def test_write_text_atomic_replaces_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "out" / "report.json"
    path.parent.mkdir()
    write_text_atomic(path, "first")
    write_text_atomic(path, "second")
    assert path.read_text() == "second"
    assert os.listdir(path.parent) == ["report.json"]


def test_a_missing_folder_is_an_error_and_never_created(tmp_path: Path) -> None:
    with pytest.raises(errors.OutputError, match="does not exist"):
        write_text_atomic(tmp_path / "no" / "such" / "x.csv", "a,b\n")
    assert list(tmp_path.iterdir()) == []


def test_check_writable_refuses_what_could_not_be_written(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    assert check_writable(tmp_path / "new.json") == tmp_path / "new.json"
    for bad, why in ((tmp_path / "dir", "is a folder"), (tmp_path / "file" / "x", "not a folder"),
                     (tmp_path / "none" / "x", "does not exist")):
        with pytest.raises(errors.OutputError, match=why):
            check_writable(bad)
    if os.geteuid() != 0:  # root may write a read-only file
        ro = tmp_path / "ro.json"
        ro.write_text("{}")
        ro.chmod(0o444)
        with pytest.raises(errors.OutputError, match="read-only"):
            check_writable(ro)
    expected = ["dir", "file"] + (["ro.json"] if os.geteuid() != 0 else [])
    assert sorted(p.name for p in tmp_path.iterdir()) == expected  # no probe file left behind


def test_too_short_is_judged_from_the_duration() -> None:
    from clamcoach.io.video import check_long_enough

    check_long_enough(3.0)
    check_long_enough(float("nan"))  # unknown: judged after reading
    with pytest.raises(errors.TooShort, match="too short to judge: 2.9 s") as exc:
        check_long_enough(2.9)
    assert exc.value.exit_code == 12


def test_write_bytes_atomic(tmp_path: Path) -> None:
    path = write_bytes_atomic(tmp_path / "blob.bin", b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert (path.stat().st_mode & 0o777) == (0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_path_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    path = tmp_path / "video.mp4"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="renderer crashed"), atomic_path(path) as tmp:
        assert tmp.parent == path.parent and tmp != path
        tmp.write_bytes(b"half")
        raise RuntimeError("renderer crashed")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["video.mp4"]


def test_atomic_path_maps_os_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(errors.OutputError, match="cannot write") as exc:
        write_text_atomic(blocker / "report.json", "{}")  # parent is a file
    assert exc.value.exit_code == 9
    assert "\n" not in str(exc.value)


def test_atomic_path_maps_errors_raised_while_writing(tmp_path: Path) -> None:
    with pytest.raises(errors.OutputError), atomic_path(tmp_path / "x.txt") as tmp:
        open(tmp / "not-a-dir", "w")  # noqa: SIM115 - the OSError is the point
    assert os.listdir(tmp_path) == []


def test_longer_audio_track_is_not_mistaken_for_truncation(tmp_path: Path) -> None:
    path = tmp_path / "with_audio.mkv"
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        audio = container.add_stream("aac", rate=48000)
        for i in range(30):  # 1 s of video
            frame = av.VideoFrame.from_ndarray(frame_image(i), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 30)
            container.mux(video.encode(frame))
        container.mux(video.encode())
        for i in range(3 * 48000 // 1024):  # 3 s of silence
            samples = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            samples.sample_rate, samples.pts, samples.time_base = 48000, i * 1024, Fraction(1, 48000)
            container.mux(audio.encode(samples))
        container.mux(audio.encode())
    reader = open_video(path)
    assert reader.info.duration_s == pytest.approx(1.0, abs=0.05)
    assert len(list(reader)) == 30
    assert reader.stopped_early_at_s is None and reader.decode_error is None
