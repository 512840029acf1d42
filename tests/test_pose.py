"""The pose backend with the real BlazePose model on people lying on their side (no mocks).

The lying person is a real photo of a walking adult (tests/fixtures) turned a quarter turn.
"""

from __future__ import annotations

import zipfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from clamcoach import errors
from clamcoach.io import open_video
from clamcoach.pose import PoseEstimator, available_backends, models, open_estimator
from clamcoach.pose.blazepose import _unrotate, telemetry_library
from clamcoach.types import LM, N_LANDMARKS, PoseFrame

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def standing_rgb() -> np.ndarray:
    bgr = cv2.imread(str(FIXTURES / "walking_person.jpg"))
    assert bgr is not None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def lying(rgb: np.ndarray, quarter_turns: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(rgb, k=quarter_turns))


def midpoint(pose: PoseFrame, a: str, b: str) -> np.ndarray:
    return (pose.image[LM[a], :2] + pose.image[LM[b], :2]) / 2


def torso_px(pose: PoseFrame) -> float:
    return float(np.linalg.norm(midpoint(pose, "left_shoulder", "right_shoulder") - midpoint(pose, "left_hip", "right_hip")))


def assert_well_formed(pose: PoseFrame, width: int, height: int) -> None:
    assert pose.image.shape == (N_LANDMARKS, 3) and pose.world.shape == (N_LANDMARKS, 3)
    assert (pose.width, pose.height) == (width, height)
    assert np.isfinite(pose.world).all() and np.isfinite(pose.image).all()
    assert ((pose.image[:, 2] >= 0) & (pose.image[:, 2] <= 1)).all()
    assert 0.5 <= pose.presence <= 1.0
    # The body's landmarks lie within the frame (a little slack for hands and feet).
    xs, ys = pose.image[:, 0], pose.image[:, 1]
    assert xs.min() > -0.05 * width and xs.max() < 1.05 * width
    assert ys.min() > -0.05 * height and ys.max() < 1.05 * height
    # World landmarks: metres around the mid-hip, a person-sized spread.
    hip_mid = (pose.world[LM["left_hip"]] + pose.world[LM["right_hip"]]) / 2
    assert np.linalg.norm(hip_mid) < 0.05
    assert 0.8 < np.ptp(pose.world[:, :2], axis=0).max() < 2.5


# --- the registry and the contract ---------------------------------------------------------


def test_registry_knows_blazepose() -> None:
    assert "blazepose" in available_backends()


def test_unknown_backend_is_a_usage_error() -> None:
    with pytest.raises(errors.UsageError, match="blazepose"):
        open_estimator("openpose")


def test_num_poses_must_be_positive() -> None:
    with pytest.raises(errors.UsageError):
        open_estimator(num_poses=0)


@pytest.mark.slow
def test_estimator_satisfies_the_protocol() -> None:
    with open_estimator() as estimator:
        assert isinstance(estimator, PoseEstimator)


@pytest.mark.slow
@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 4), np.uint8)])
def test_rejects_images_that_are_not_rgb_uint8(bad: np.ndarray) -> None:
    with open_estimator() as estimator, pytest.raises(ValueError, match="uint8 RGB"):
        estimator.estimate(bad, 0.0)


@pytest.mark.slow
def test_closed_estimator_refuses_work(standing_rgb: np.ndarray) -> None:
    estimator = open_estimator()
    estimator.close()
    estimator.close()  # closing twice is harmless
    with pytest.raises(errors.ClamcoachError, match="closed"):
        estimator.estimate(standing_rgb, 0.0)


# --- people lying on their side ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("quarter_turns", [1, 3], ids=["head-left", "head-right"])
def test_finds_a_person_lying_on_their_side(standing_rgb: np.ndarray, quarter_turns: int) -> None:
    image = lying(standing_rgb, quarter_turns)
    with open_estimator() as estimator:
        pose = estimator.estimate(image, 0.0)
    assert pose is not None
    assert_well_formed(pose, image.shape[1], image.shape[0])
    # Lying down: head-to-ankles runs across the image, not up and down it.
    head_to_feet = midpoint(pose, "left_ankle", "right_ankle") - pose.image[LM["nose"], :2]
    assert abs(head_to_feet[0]) > 3 * abs(head_to_feet[1])
    head_is_left = head_to_feet[0] > 0
    assert head_is_left == (quarter_turns == 1)


@pytest.mark.slow
@pytest.mark.parametrize("quarter_turns", [1, 3])
def test_landmarks_found_lying_map_back_onto_the_upright_ones(standing_rgb: np.ndarray, quarter_turns: int) -> None:
    # Checks the rotation-fallback geometry: image points and camera-aligned world axes.
    height, width = standing_rgb.shape[:2]
    with open_estimator() as estimator:
        upright = estimator.estimate(standing_rgb, 0.0)
    with open_estimator() as estimator:
        turned = estimator.estimate(lying(standing_rgb, quarter_turns), 0.0)
    assert upright is not None and turned is not None
    back = _unrotate(turned, quarter_turns, width, height)
    assert (back.width, back.height) == (width, height)
    px_error = np.linalg.norm(back.image[:, :2] - upright.image[:, :2], axis=1)
    assert np.median(px_error) < 0.05 * torso_px(upright)
    world_error = np.linalg.norm(back.world - upright.world, axis=1)
    assert np.median(world_error) < 0.06  # metres; unmapped they differ by ~0.8 m


def _write_lying_clip(path: Path, person: np.ndarray, n: int = 12) -> Path:
    """A landscape clip of the person lying, sliding a little each frame (tracking has work)."""
    h, w = person.shape[:2]
    canvas_w, canvas_h = w + 2 * n + 40, h + 40
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = canvas_w, canvas_h, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "18"}
        stream.codec_context.time_base = stream.time_base = Fraction(1, 30)
        for i in range(n):
            canvas = np.full((canvas_h, canvas_w, 3), 90, np.uint8)
            canvas[20 : 20 + h, 20 + 2 * i : 20 + 2 * i + w] = person
            frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 30)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


@pytest.mark.slow
def test_tracks_a_lying_person_through_a_clip(standing_rgb: np.ndarray, tmp_path: Path) -> None:
    clip = _write_lying_clip(tmp_path / "lying.mp4", lying(standing_rgb, 1))
    reader = open_video(clip)
    with open_estimator() as estimator:
        poses = [estimator.estimate(frame.rgb, frame.t) for frame in reader]
    assert len(poses) == 12 and all(p is not None for p in poses)
    hips_x = [midpoint(p, "left_hip", "right_hip")[0] for p in poses if p is not None]
    assert hips_x[-1] - hips_x[0] == pytest.approx(22, abs=8)  # slid 2 px a frame
    assert [p.t for p in poses if p is not None] == pytest.approx([i / 30 for i in range(12)])


@pytest.mark.slow
def test_repeated_or_backward_times_are_accepted(standing_rgb: np.ndarray) -> None:
    image = lying(standing_rgb, 3)
    with open_estimator() as estimator:
        poses = [estimator.estimate(image, t) for t in (0.0, 0.0, 0.0004, 0.5, 0.2)]
    assert all(p is not None for p in poses)
    assert [p.t for p in poses if p is not None] == [0.0, 0.0, 0.0004, 0.5, 0.2]  # reported as given


@pytest.mark.slow
def test_empty_scene_gives_none(standing_rgb: np.ndarray) -> None:
    empty = np.full_like(standing_rgb, 120)
    with open_estimator(rotation_fallback=True) as estimator:
        assert estimator.estimate(empty, 0.0) is None
        assert estimator.estimate_all(empty, 0.04) == []
        assert estimator.fallback_hits == 0


@pytest.mark.slow
def test_rotation_fallback_leaves_found_people_alone(standing_rgb: np.ndarray) -> None:
    image = lying(standing_rgb, 1)
    with open_estimator() as plain, open_estimator(rotation_fallback=True) as fallback:
        a, b = plain.estimate(image, 0.0), fallback.estimate(image, 0.0)
        assert fallback.fallback_hits == 0
    assert a is not None and b is not None
    np.testing.assert_allclose(a.image, b.image, atol=1e-6)


@pytest.mark.slow
def test_several_people_are_all_returned(standing_rgb: np.ndarray) -> None:
    person = lying(standing_rgb, 1)  # 380 x 380
    scene = np.concatenate([person, person[:, ::-1]], axis=1)  # two people lying head to head
    scene = np.ascontiguousarray(scene)
    with open_estimator(num_poses=2) as estimator:
        poses = estimator.estimate_all(scene, 0.0)
        best = estimator.estimate(scene, 0.04)
    assert len(poses) == 2
    assert poses[0].presence >= poses[1].presence
    hip_x = sorted(midpoint(p, "left_hip", "right_hip")[0] for p in poses)
    assert hip_x[0] < scene.shape[1] / 2 < hip_x[1]
    assert best is not None
    with open_estimator(num_poses=1) as estimator:
        assert len(estimator.estimate_all(scene, 0.0)) == 1


# --- model files ---------------------------------------------------------------------------


def test_missing_model_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAMCOACH_MODEL_DIR", str(tmp_path))
    assert models.model_dir() == tmp_path
    with pytest.raises(errors.ModelMissing, match="make setup") as exc:
        models.bundle_path()
    assert exc.value.exit_code == 8


def test_a_damaged_bundle_is_reported(tmp_path: Path) -> None:
    bundle = models.bundle_file(directory=tmp_path)
    bundle.write_text("not a zip")
    with pytest.raises(errors.ModelMissing, match="unusable"):
        models.bundle_path(directory=tmp_path)
    with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(models.DETECTOR_MEMBER, b"x" * 100)
        zf.writestr(models.LANDMARKS_MEMBER, b"x" * 100)
    assert models.bundle_problem(bundle) == f"{models.DETECTOR_MEMBER} is compressed"


def test_installed_bundle_is_valid_and_carries_normalisation_metadata() -> None:
    bundle = models.bundle_path()
    assert models.bundle_problem(bundle) is None
    with zipfile.ZipFile(bundle) as zf:
        for name in (models.DETECTOR_MEMBER, models.LANDMARKS_MEMBER):
            assert zf.getinfo(name).compress_type == zipfile.ZIP_STORED
            assert b"TFLITE_METADATA" in zf.read(name)


def test_install_is_a_no_op_when_the_bundle_is_there(tmp_path: Path) -> None:
    target = models.bundle_file(directory=tmp_path)
    target.write_bytes(models.bundle_path().read_bytes())
    before = target.stat().st_mtime_ns
    # A bogus wheel path proves nothing is fetched or read: the valid bundle is kept.
    assert models.install(directory=tmp_path, wheel=tmp_path / "absent.whl") == target
    assert target.stat().st_mtime_ns == before


def test_install_refuses_model_files_with_unknown_checksums(tmp_path: Path) -> None:
    wheel = tmp_path / "mediapipe-0.10.21-fake.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("mediapipe/modules/pose_detection/pose_detection.tflite", b"tampered")
    with pytest.raises(errors.ModelMissing, match="refusing"):
        models.install(directory=tmp_path / "models", wheel=wheel)
    assert not (tmp_path / "models" / "pose_landmarker_full.task").exists()


def test_unknown_variant_is_rejected() -> None:
    with pytest.raises(ValueError, match="variant"):
        models.bundle_file("ultra")


# --- no telemetry --------------------------------------------------------------------------


def test_mediapipe_builds_with_the_usage_reporter_are_recognised(tmp_path: Path) -> None:
    library = tmp_path / "tasks" / "c" / "libmediapipe.so"
    library.parent.mkdir(parents=True)
    library.write_bytes(b"\x7fELF" + b"\x00" * 64 + b"https://play.googleapis.com/log" + b"\x00" * 64)
    assert telemetry_library(tmp_path) == library
    (tmp_path / "clean").mkdir()
    assert telemetry_library(tmp_path / "clean") is None


def test_installed_mediapipe_has_no_usage_reporter() -> None:
    import mediapipe

    assert telemetry_library(Path(mediapipe.__file__).parent) is None
