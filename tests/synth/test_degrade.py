"""Degraded copies (ffmpeg): same frame count, ground truth copied, 2-D truth scaled for 480p."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from clamcoach.synth import degrade

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed (scripts/setup-system.sh)")

N_FRAMES = 12


def _clip(folder, name, width, height):
    """A tiny moving clip and a ground truth with a known point in every frame."""
    from clamcoach.synth.video import Mp4Writer

    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    with Mp4Writer(str(folder / f"{name}.mp4"), width, height, 15.0, crf=20) as w:
        for i in range(N_FRAMES):
            img = np.full((height, width, 3), 90, np.uint8)
            x = 10 + 5 * i
            img[height // 2 - 8:height // 2 + 8, x:x + 16] = 230
            w.write(img)
            frames.append({"t": i / 15.0, "joints2d": [[x + 8.0, height / 2, 1], [width / 2, 10.0, 0]]})
    f = 0.9 * width
    gt = {"video": f"{name}.mp4", "n_frames": N_FRAMES, "frames": frames,
          "camera": {"resolution": [width, height], "fps": 15.0,
                     "intrinsics": {"fx": f, "fy": f, "cx": width / 2, "cy": height / 2}}}
    (folder / f"{name}.json").write_text(json.dumps(gt))
    return gt


def test_every_kind_keeps_the_frames_and_the_truth(tmp_path):
    src = tmp_path / "eval"
    big = _clip(src, "hd", 720, 540)
    small = _clip(src, "sd", 160, 120)
    counts = degrade.degrade_folder(src, tmp_path / "out", list(degrade.KINDS), jobs=2)
    assert counts == {"noise": 2, "low_light": 2, "blur": 2, "low_bitrate": 2, "p480": 1}
    for kind in degrade.KINDS:
        man = json.loads((tmp_path / "out" / kind / "manifest.json").read_text())
        for entry in man["clips"]:
            video = tmp_path / "out" / kind / entry["video"]
            n, w, h = degrade._probe(video)
            gt = json.loads(video.with_suffix(".json").read_text())
            assert n == gt["n_frames"] == N_FRAMES
            assert [w, h] == gt["camera"]["resolution"] == entry["resolution"]
            assert gt["degradation"]["kind"] == kind
    # 480p: 720x540 -> 640x480, the 2-D joints and intrinsics scaled, x and y by their own ratios
    gt = json.loads((tmp_path / "out" / "p480" / "hd.json").read_text())
    sx, sy = 640 / 720, 480 / 540
    assert gt["camera"]["resolution"] == [640, 480]
    assert gt["camera"]["intrinsics"]["fx"] == pytest.approx(big["camera"]["intrinsics"]["fx"] * sx, abs=1e-3)
    assert gt["camera"]["intrinsics"]["cy"] == 240.0
    for f, f0 in zip(gt["frames"], big["frames"]):
        for (x, y, v), (x0, y0, v0) in zip(f["joints2d"], f0["joints2d"]):
            assert x == pytest.approx(x0 * sx, abs=0.051) and y == pytest.approx(y0 * sy, abs=0.051) and v == v0
    # the moving square is where the scaled truth says, in the downscaled frames
    from clamcoach.synth.video import read_frames

    frames = read_frames(tmp_path / "out" / "p480" / "hd.mp4")
    for img, f in zip(frames, gt["frames"]):
        x, y, _ = f["joints2d"][0]
        assert img[int(y), int(x)].mean() > 180
    # the others keep the source's truth
    assert json.loads((tmp_path / "out" / "noise" / "sd.json").read_text())["frames"] == small["frames"]


def test_missing_source_is_a_clear_error(tmp_path, capsys):
    code = degrade.main(["--src", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert code == 4
    assert "no such folder" in capsys.readouterr().err


def test_unknown_kind_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as e:
        degrade.main(["--src", str(tmp_path), "--kinds", "fog"])
    assert e.value.code == 2
