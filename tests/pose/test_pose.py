"""The pose backends with the real BlazePose model on people lying on their side (no mocks).

The lying person is a real photo of a walking adult (tests/fixtures) turned a quarter turn.
Behaviour tests run on both backends (LiteRT, the default, and MediaPipe, for comparison).
"""

from __future__ import annotations

import zipfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clamcoach import errors
from clamcoach.io import open_video
from clamcoach.pose import PoseEstimator, available_backends, bundle, graph, models, open_estimator
from clamcoach.pose.rotation import unrotate as _unrotate
from clamcoach.types import LM, N_LANDMARKS, PoseFrame

FIXTURES = Path(__file__).parents[1] / "fixtures"
BACKENDS = ("litert", "mediapipe")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "mediapipe":
        pytest.importorskip("mediapipe", reason="the MediaPipe backend is the 'mediapipe' extra")
    return request.param


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


def test_registry_knows_every_backend_and_model() -> None:
    assert {"blazepose", "litert", "mediapipe", "blazepose-lite", "blazepose-full",
            "blazepose-heavy"} <= set(available_backends())


def test_unknown_backend_is_a_usage_error() -> None:
    with pytest.raises(errors.UsageError, match="blazepose"):
        open_estimator("openpose")


def test_num_poses_must_be_positive() -> None:
    with pytest.raises(errors.UsageError):
        open_estimator(num_poses=0)


@pytest.mark.slow
def test_estimator_satisfies_the_protocol(backend: str) -> None:
    with open_estimator(backend) as estimator:
        assert isinstance(estimator, PoseEstimator)


@pytest.mark.slow
@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 4), np.uint8)])
def test_rejects_images_that_are_not_rgb_uint8(bad: np.ndarray, backend: str) -> None:
    with open_estimator(backend) as estimator, pytest.raises(ValueError, match="uint8 RGB"):
        estimator.estimate(bad, 0.0)


@pytest.mark.slow
def test_closed_estimator_refuses_work(standing_rgb: np.ndarray, backend: str) -> None:
    estimator = open_estimator(backend)
    estimator.close()
    estimator.close()  # closing twice is harmless
    with pytest.raises(errors.ClamcoachError, match="closed"):
        estimator.estimate(standing_rgb, 0.0)


# --- people lying on their side ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("quarter_turns", [1, 3], ids=["head-left", "head-right"])
def test_finds_a_person_lying_on_their_side(standing_rgb: np.ndarray, quarter_turns: int,
                                            backend: str) -> None:
    image = lying(standing_rgb, quarter_turns)
    with open_estimator(backend) as estimator:
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
def test_tracks_a_lying_person_through_a_clip(standing_rgb: np.ndarray, tmp_path: Path,
                                              backend: str) -> None:
    clip = _write_lying_clip(tmp_path / "lying.mp4", lying(standing_rgb, 1))
    reader = open_video(clip)
    with open_estimator(backend) as estimator:
        poses = [estimator.estimate(frame.rgb, frame.t) for frame in reader]
    assert len(poses) == 12 and all(p is not None for p in poses)
    hips_x = [midpoint(p, "left_hip", "right_hip")[0] for p in poses if p is not None]
    assert hips_x[-1] - hips_x[0] == pytest.approx(22, abs=8)  # slid 2 px a frame
    assert [p.t for p in poses if p is not None] == pytest.approx([i / 30 for i in range(12)])


@pytest.mark.slow
def test_repeated_or_backward_times_are_accepted(standing_rgb: np.ndarray, backend: str) -> None:
    image = lying(standing_rgb, 3)
    with open_estimator(backend) as estimator:
        poses = [estimator.estimate(image, t) for t in (0.0, 0.0, 0.0004, 0.5, 0.2)]
    assert all(p is not None for p in poses)
    assert [p.t for p in poses if p is not None] == [0.0, 0.0, 0.0004, 0.5, 0.2]  # reported as given


@pytest.mark.slow
def test_empty_scene_gives_none(standing_rgb: np.ndarray, backend: str) -> None:
    empty = np.full_like(standing_rgb, 120)
    with open_estimator(backend, rotation_fallback=True) as estimator:
        assert estimator.estimate(empty, 0.0) is None
        assert estimator.estimate_all(empty, 0.04) == []
        assert estimator.fallback_hits == 0


@pytest.mark.slow
def test_rotation_fallback_leaves_found_people_alone(standing_rgb: np.ndarray, backend: str) -> None:
    image = lying(standing_rgb, 1)
    with open_estimator(backend) as plain, open_estimator(backend, rotation_fallback=True) as fallback:
        a, b = plain.estimate(image, 0.0), fallback.estimate(image, 0.0)
        assert fallback.fallback_hits == 0
    assert a is not None and b is not None
    np.testing.assert_allclose(a.image, b.image, atol=1e-6)


@pytest.mark.slow
def test_several_people_are_all_returned(standing_rgb: np.ndarray, backend: str) -> None:
    person = lying(standing_rgb, 1)  # 380 x 380
    scene = np.concatenate([person, person[:, ::-1]], axis=1)  # two people lying head to head
    scene = np.ascontiguousarray(scene)
    with open_estimator(backend, num_poses=2) as estimator:
        poses = estimator.estimate_all(scene, 0.0)
        best = estimator.estimate(scene, 0.04)
    assert len(poses) == 2
    assert poses[0].presence >= poses[1].presence
    hip_x = sorted(midpoint(p, "left_hip", "right_hip")[0] for p in poses)
    assert hip_x[0] < scene.shape[1] / 2 < hip_x[1]
    assert best is not None
    with open_estimator(backend, num_poses=1) as estimator:
        assert len(estimator.estimate_all(scene, 0.0)) == 1


# --- model files ---------------------------------------------------------------------------


def test_missing_model_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAMCOACH_MODEL_DIR", str(tmp_path))
    assert models.model_dir() == tmp_path
    with pytest.raises(errors.ModelMissing, match="clamcoach models install") as exc:
        models.model_files()
    assert exc.value.exit_code == 8
    with pytest.raises(errors.ModelMissing, match="--variant heavy"):
        open_estimator("litert", model="heavy")


def test_a_damaged_model_file_is_reported(tmp_path: Path) -> None:
    models.detector_file(directory=tmp_path).write_bytes(models.detector_file().read_bytes())
    models.landmark_file(directory=tmp_path).write_bytes(b"TFL3 but not the real thing")
    with pytest.raises(errors.ModelMissing, match="damaged"):
        models.model_files(directory=tmp_path)


def test_a_damaged_bundle_is_reported(tmp_path: Path) -> None:
    path = bundle.bundle_file(directory=tmp_path)
    path.write_text("not a zip")
    assert "not a readable zip" in (bundle.bundle_problem(path) or "")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(bundle.DETECTOR_MEMBER, b"x" * 100)
        zf.writestr(bundle.LANDMARKS_MEMBER, b"x" * 100)
    assert bundle.bundle_problem(path) == f"{bundle.DETECTOR_MEMBER} is compressed"


@pytest.mark.slow
def test_mediapipe_bundle_is_built_from_the_model_files_with_normalisation_metadata(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe", reason="the MediaPipe backend is the 'mediapipe' extra")
    for path in (models.detector_file(), models.landmark_file()):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    built = bundle.bundle_path(directory=tmp_path)
    assert bundle.bundle_problem(built) is None
    with zipfile.ZipFile(built) as zf:
        for name in (bundle.DETECTOR_MEMBER, bundle.LANDMARKS_MEMBER):
            assert zf.getinfo(name).compress_type == zipfile.ZIP_STORED
            assert b"TFLITE_METADATA" in zf.read(name)


def test_install_is_a_no_op_when_the_files_are_there(tmp_path: Path) -> None:
    for path in (models.detector_file(), models.landmark_file()):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    before = models.landmark_file(directory=tmp_path).stat().st_mtime_ns
    # A bogus wheel path proves nothing is fetched or read: the valid files are kept.
    files = models.install(directory=tmp_path, wheel=tmp_path / "absent.whl")
    assert files.landmarks == models.landmark_file(directory=tmp_path)
    assert files.landmarks.stat().st_mtime_ns == before


def test_install_takes_the_files_from_a_wheel(tmp_path: Path) -> None:
    wheel = tmp_path / "mediapipe-0.10.21-local.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("mediapipe/modules/pose_detection/pose_detection.tflite", models.detector_file().read_bytes())
        zf.writestr("mediapipe/modules/pose_landmark/pose_landmark_full.tflite", models.landmark_file().read_bytes())
    files = models.install(directory=tmp_path / "models", wheel=wheel)
    assert files.detector.read_bytes() == models.detector_file().read_bytes()
    assert models.installed_variants(directory=tmp_path / "models") == ("full",)


def test_install_refuses_model_files_with_unknown_checksums(tmp_path: Path) -> None:
    wheel = tmp_path / "mediapipe-0.10.21-fake.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("mediapipe/modules/pose_detection/pose_detection.tflite", b"tampered")
    with pytest.raises(errors.ModelMissing, match="refusing"):
        models.install(directory=tmp_path / "models", wheel=wheel)
    assert list((tmp_path / "models").iterdir()) == []


def test_unknown_variant_is_rejected() -> None:
    with pytest.raises(ValueError, match="variant"):
        models.landmark_file("ultra")


@pytest.mark.slow
@pytest.mark.parametrize("model", models.VARIANTS)
def test_every_model_loads_and_finds_the_person(standing_rgb: np.ndarray, model: str) -> None:
    """lite, full and heavy, by backend option and by name, on the person lying down."""
    image = lying(standing_rgb, 1)
    with open_estimator("litert", model=model) as a, open_estimator(f"blazepose-{model}") as b:
        assert a.variant == b.variant == model
        pa, pb = a.estimate(image, 0.0), b.estimate(image, 0.0)
    assert pa is not None and pb is not None
    assert_well_formed(pa, image.shape[1], image.shape[0])
    np.testing.assert_allclose(pa.image, pb.image, atol=1e-6)


# --- the LiteRT graph against MediaPipe's --------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("quarter_turns", [0, 1, 3])
def test_litert_landmarks_agree_with_mediapipe(standing_rgb: np.ndarray, quarter_turns: int) -> None:
    pytest.importorskip("mediapipe", reason="the MediaPipe backend is the 'mediapipe' extra")
    image = lying(standing_rgb, quarter_turns)
    with open_estimator("litert") as lit, open_estimator("mediapipe") as mp:
        a, b = lit.estimate(image, 0.0), mp.estimate(image, 0.0)
    assert a is not None and b is not None
    px = np.linalg.norm(a.image[:, :2] - b.image[:, :2], axis=1)
    assert np.median(px) < 1.0 and px.max() < 3.0  # measured 0.2 / 0.9 px
    assert np.median(np.linalg.norm(a.world - b.world, axis=1)) < 0.01  # metres
    np.testing.assert_allclose(a.image[:, 2], b.image[:, 2], atol=0.05)  # visibility


def test_anchor_grid_is_the_detectors() -> None:
    anchors = graph.ssd_anchors()
    assert anchors.shape == (2254, 2)
    assert anchors.min() > 0 and anchors.max() < 1
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(anchors[-1], [1 - 0.5 / 7, 1 - 0.5 / 7])


@given(cx=st.floats(50, 600), cy=st.floats(50, 400), radius=st.floats(10, 200),
       angle=st.floats(-math.pi, math.pi))
def test_roi_stands_the_body_upright(cx: float, cy: float, radius: float, angle: float) -> None:
    """The scale point lies on the body's axis: turned by the ROI's rotation it points up."""
    scale_pt = np.array([cx + radius * math.cos(angle), cy + radius * math.sin(angle)])
    roi = graph.roi_from_points(np.array([cx, cy]), scale_pt)
    assert roi.size == pytest.approx(2 * 1.25 * radius)
    # Project the crop's "straight up from the centre" back into the image: it is the scale point.
    raw = np.zeros((graph.N_MODEL_LANDMARKS, 5))
    raw[:, :2] = graph.LANDMARK_SIZE / 2
    raw[0, 1] = graph.LANDMARK_SIZE / 2 - graph.LANDMARK_SIZE / 2.5  # radius / (1.25 * 2 * radius)
    heatmap = np.full((1, 64, 64, graph.N_MODEL_LANDMARKS), -20.0)  # no refinement
    out = graph.decode_landmarks(raw, np.zeros((1, 1)), heatmap, np.zeros(117), roi)
    np.testing.assert_allclose(out.image[0, :2], scale_pt, atol=1e-6 * max(1.0, radius))
    np.testing.assert_allclose(out.image[1, :2], [cx, cy], atol=1e-9)


def test_weighted_nms_merges_overlapping_detections() -> None:
    raw = np.zeros((2254, 12), np.float32)
    scores = np.full((2254, 1), -10.0, np.float32)
    scores[100], scores[101], scores[2000] = 5.0, 3.0, 4.0  # two overlapping, one elsewhere
    raw[:, 2:4] = 40.0  # every box 40/224 wide
    found = graph.decode_detections(raw, scores, 224, 224, max_detections=5)
    assert len(found) == 2
    assert found[0].score == pytest.approx(1 / (1 + math.exp(-5.0)))
    anchors = graph.ssd_anchors()
    w = np.array([1 / (1 + math.exp(-5.0)), 1 / (1 + math.exp(-3.0))])
    expected = (anchors[100] * w[0] + anchors[101] * w[1]) / w.sum()
    np.testing.assert_allclose(found[0].keypoints[0], expected, atol=1e-6)


# --- no telemetry --------------------------------------------------------------------------


def test_mediapipe_builds_with_the_usage_reporter_are_recognised(tmp_path: Path) -> None:
    from clamcoach.pose.blazepose import telemetry_library

    library = tmp_path / "tasks" / "c" / "libmediapipe.so"
    library.parent.mkdir(parents=True)
    library.write_bytes(b"\x7fELF" + b"\x00" * 64 + b"https://play.googleapis.com/log" + b"\x00" * 64)
    assert telemetry_library(tmp_path) == library
    (tmp_path / "clean").mkdir()
    assert telemetry_library(tmp_path / "clean") is None


def test_installed_mediapipe_has_no_usage_reporter() -> None:
    mediapipe = pytest.importorskip("mediapipe")
    from clamcoach.pose.blazepose import telemetry_library

    assert telemetry_library(Path(mediapipe.__file__).parent) is None


@pytest.mark.slow
def test_tracking_lets_go_when_the_person_is_gone(standing_rgb: np.ndarray) -> None:
    """A blank frame after a tracked person: the landmark model's presence flag drops."""
    image = lying(standing_rgb, 1)
    with open_estimator("litert") as estimator:
        assert estimator.estimate(image, 0.0) is not None
        assert estimator.estimate(np.full_like(image, 90), 0.04) is None
        assert estimator.estimate(image, 0.08) is not None  # found again by the detector


def _refine_one_by_one(xy: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """MediaPipe's refinement written plainly, landmark by landmark (the reference)."""
    rows, cols = heatmap.shape[:2]
    out = xy.copy()
    for i in range(xy.shape[0]):
        col, row = int(xy[i, 0] * cols), int(xy[i, 1] * rows)
        if not (0 <= col < cols and 0 <= row < rows):
            continue
        r0, r1, c0, c1 = max(0, row - 3), min(rows, row + 4), max(0, col - 3), min(cols, col + 4)
        conf = 1.0 / (1.0 + np.exp(-np.clip(heatmap[r0:r1, c0:c1, i].astype(np.float64), -60, 60)))
        if conf.max() < 0.5 or conf.sum() <= 0:
            continue
        rr, cc = np.mgrid[r0:r1, c0:c1]
        out[i, 0] = (cc * conf).sum() / cols / conf.sum()
        out[i, 1] = (rr * conf).sum() / rows / conf.sum()
    return out


@given(st.integers(0, 2**32 - 1))
def test_heatmap_refinement_is_the_weighted_mean_of_each_landmarks_window(seed: int) -> None:
    """All windows at once give what one window at a time gives, at the borders (cut windows),
    outside the heatmap (left alone) and where it is not confident (left alone)."""
    rng = np.random.default_rng(seed)
    heatmap = rng.normal(0.0, 2.0, (64, 64, 39)).astype(np.float32)
    xy = rng.uniform(-0.1, 1.1, (33, 2))
    xy[:4] = [[0.0, 0.0], [0.999, 0.999], [0.01, 0.98], [-0.004, 0.5]]  # corners and the edge
    xy[5] = [0.5, 0.5]
    heatmap[..., 5] = -10.0  # nowhere confident
    got = graph.refine_from_heatmap(xy, heatmap)
    assert np.array_equal(got[5], xy[5])
    want = _refine_one_by_one(xy, heatmap)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert not np.array_equal(got, xy)  # some landmarks moved
