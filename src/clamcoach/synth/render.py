"""Rendering a set: pose every frame once, render it from one or more cameras, write each
view's mp4 (H.264) and its ground-truth JSON beside it."""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import time
from dataclasses import dataclass, field

import numpy as np

from .body import Body, Outfit, Shape, looseness_weights, vertex_colours
from .clamshell import ClamPoser, FrameParams, Setup, mirror_x, swap_lr
from .motion import SetPlan, plan_set
from .options import Hand, Support
from .scene import (CUSHIONS, SHEETS, TABLE_MAT_THICKNESS, VIEWS, Camera, CameraSpec, NormalCalc, Room,
                    Stage, make_camera, mirror_camera)
from .video import Mp4Writer

GT_VERSION = 1
THRESHOLDS = {
    "roll_back_warn_deg": 10.0,
    "roll_back_error_deg": 15.0,
    "lift_too_high_deg": 60.0,
    "feet_apart_shin_fraction": 0.25,
    "forward_roll_min_deg": 5.0,
    "min_rep_opening_deg": 5.0,
    #: under this peak opening an effort is an "attempt" (no visible lift), not a rep
    "visible_lift_min_deg": 3.0,
}

#: 2-D joints written per frame, BlazePose names (joint centres for the limbs).
JOINTS_2D = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
#: 3-D joint centres written per frame (lying frame and camera coordinates).
JOINTS_3D = (
    "left_shoulder", "right_shoulder", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)
#: Joints under the clothes: their depth tolerance grows with the clothes' looseness.
_CLOTHED = ("shoulder", "elbow", "hip", "knee")
#: How deep under the skin each point lies (m): a point is visible when nothing is closer to
#: the camera than its depth minus this.
_DEPTH_TOL = {"nose": 0.02, "eye": 0.02, "ear": 0.03, "shoulder": 0.09, "elbow": 0.05, "wrist": 0.04,
              "hip": 0.12, "knee": 0.07, "ankle": 0.05, "heel": 0.03, "foot_index": 0.03}

DEFINITIONS = {
    "frame": "lying frame (metres): X along the table toward the head (mirrored, X -> -X, when lying on the "
             "right side), Z up, the person's front faces -Y; all angles in degrees",
    "pelvis_roll_deg": "absolute pelvis roll: angle of the hip line (bottom hip centre -> top hip centre) from "
                       "vertical, in the plane across the long (X) axis; positive = forward (belly toward the "
                       "table), 0 = hip line vertical",
    "pelvis_roll_rel_deg": "pelvis_roll_deg minus its value in the set's first frame",
    "trunk_roll_deg": "same as pelvis_roll_deg for the shoulder line (bottom -> top shoulder joint centre)",
    "hip_flexion_deg": "top leg: angle of the thigh (hip centre -> knee centre), projected on the pelvis' "
                       "sagittal plane, from the pelvis' downward long axis; positive forward; "
                       "bottom_hip_flexion_deg is the same for the bottom leg",
    "knee_flexion_deg": "top leg: 180 - the inside angle hip-knee-ankle (45 deg flexion = 135 deg inside angle); "
                        "bottom_knee_flexion_deg for the bottom leg",
    "opening_deg": "commanded opening: rotation of the top knee centre about the top hip-ankle line, from the "
                   "closed position (top knee resting on the bottom knee, for the current pelvis pose), so a "
                   "roll-back does not add to it; the hinge is at the feet",
    "thigh_angle_deg": "3-D angle between the two thighs (hip centre -> knee centre); includes the closed "
                       "stack's angle and grows with roll-back and feet-apart",
    "knee_gap_cm": "3-D distance between the knee joint centres",
    "knee_lift_cm": "knee_gap_cm minus the knee gap of the closed position in the same frame",
    "ankle_gap_cm": "3-D distance between the ankle joint centres (closed feet: the stacked ankles, ~6-8 cm)",
    "hand_on_hip": "1 when the top hand rests on the top hip, else 0",
    "joints3d": "per frame, per joints3d_names: [x, y, z] m of the joint centres in the lying frame (3 decimals; "
                "4 on frames wider than 640 px)",
    "joints3d_cam": "the same in camera coordinates, OpenCV convention (x right, y down, z forward, m): "
                    "pixel = (cx + fx x / z, cy + fy y / z) with camera.intrinsics",
    "attempts": "efforts whose peak opening stays under visible_lift_min_deg (a weak person squeezing "
                "without a visible lift): listed like reps but not counted in reps",
    "camera_view": "view label from the geometry: overhead if elevation > 60, feet if the camera looks along "
                   "the body from the feet end (azimuth within 40 deg of 90), else front if elevation < 20, "
                   "else oblique; azimuth_deg 0 = facing the belly, +90 = at the feet end",
    "focal_length_35mm_mm": "35 mm-equivalent focal length on the diagonal (43.27 mm), as in EXIF",
    "knee_pillow_cm": "thickness of the pillow between the knees; the closed top knee rests on it and the "
                      "opening starts there (0 = no pillow)",
    "joints2d": "per frame, per JOINTS_2D name: [x px, y px, visible 0/1]; x right, y down, origin top-left; "
                "limb points are joint centres (bone heads of the anny rig), face and foot points come "
                "from anny's COCO keypoint regressor; visible = inside the image and not hidden (depth test "
                "with a per-joint tolerance for the flesh over the joint)",
    "rep": "start_s = start of the rise, peak_s = time of the largest opening (middle of the hold), end_s = "
           "end of the return; peak_roll_back_deg = max over the rep of (roll at rep start - roll), "
           "peak_opening_deg = max opening_deg, peak_ankle_gap_cm = max ankle_gap_cm",
    "labels": "roll_back if peak_roll_back_deg >= roll_back_warn_deg; lift_too_high if peak_opening_deg >= "
              "lift_too_high_deg; feet_apart if peak_ankle_gap_cm > feet_apart_shin_fraction x shin length",
}


@dataclass
class SetSpec:
    """Everything that decides a set; missing values are drawn from ``seed``."""

    reps: int = 5
    mistakes: dict[int, list[str]] = field(default_factory=dict)
    side: str = "left"  # the side the person lies on
    views: tuple[str, ...] = ("oblique",)
    width: int = 640
    height: int = 480
    fps: float = 15.0
    seed: int = 0
    shape: Shape | None = None
    hip_flex: float | None = None
    knee_flex: float | None = None
    forward_roll: float | None = None
    hand_on_hip: bool = True  # the first sets' switch; ``hand`` (when given) replaces it
    hand: Hand | None = None  # None: HIP, or MAT_BELLY when hand_on_hip is False
    small_reps: int = 0
    small_range: tuple[float, float] = (5.5, 10.0)  # deg, openings of "small" reps
    lead_in_range: tuple[float, float] = (1.0, 1.8)  # s, still before the first rep
    knee_pillow_cm: float = 0.0  # thickness of a pillow between the knees (0: none)
    support: Support = Support.TABLE
    support_top_m: float | None = None  # top of the table / mattress (None: drawn; floor: the mat)
    sink_m: float | None = None  # how far contact areas press in (None: 4 mm, a bed 2 cm)
    looseness_cm: float = 0.0  # loose clothes stand this far off the skin (0: tight)
    light_scale: float = 1.0
    light_tint: float = 0.0
    opening_range: tuple[float, float] = (15.0, 35.0)
    #: How far a rep with the roll_back mistake rolls back (deg); reps under the method's
    #: warn level (10) are rendered but not labelled roll_back.
    roll_back_range: tuple[float, float] = (15.0, 25.0)
    tempo: tuple[float, float, float, float] | None = None
    crf: int = 23
    shadows: bool = False
    cameras: dict[str, CameraSpec] | None = None  # per view (or clip key); sampled when None
    lens_35mm: float | None = None  # a lens for the sampled cameras (their distance then follows)
    nominal_cameras: bool = False

    @property
    def top_hand(self) -> Hand:
        if self.hand is not None:
            return Hand(self.hand)
        return Hand.HIP if self.hand_on_hip else Hand.MAT_BELLY


_BODY_CACHE: dict[Shape, Body] = {}


def get_body(shape: Shape) -> Body:
    if shape not in _BODY_CACHE:
        _BODY_CACHE[shape] = Body.build(shape)
    return _BODY_CACHE[shape]


def out_paths(out: str | pathlib.Path, views: tuple[str, ...]) -> dict[str, pathlib.Path]:
    """One view: ``out`` itself; several: ``<stem>_<view>.mp4`` beside it."""
    out = pathlib.Path(out)
    if len(views) == 1:
        return {views[0]: out}
    return {v: out.with_name(f"{out.stem}_{v}{out.suffix or '.mp4'}") for v in views}


class SetRenderer:
    """Poses a set once; renders any number of views."""

    def __init__(self, spec: SetSpec):
        self.spec = spec
        rng = np.random.default_rng(spec.seed)
        self.rng = rng
        self.shape = spec.shape or Shape.sample(rng)
        self.body = get_body(self.shape)
        shin = 0.5 * (self.body.seg_len("lowerleg01.L", "foot.L") + self.body.seg_len("lowerleg01.R", "foot.R"))
        self.plan: SetPlan = plan_set(spec.reps, spec.mistakes, rng, opening_range=spec.opening_range,
                                      small_reps=spec.small_reps, tempo=spec.tempo,
                                      forward_roll=spec.forward_roll, hand=spec.top_hand, shin_m=shin,
                                      roll_back_range=spec.roll_back_range, small_range=spec.small_range,
                                      lead_in_range=spec.lead_in_range)
        self.setup = Setup(
            hip_flex=spec.hip_flex if spec.hip_flex is not None else float(rng.uniform(38, 55)),
            knee_flex=spec.knee_flex if spec.knee_flex is not None else float(rng.uniform(40, 70)),
            forward_roll=self.plan.forward_roll, hand=spec.top_hand,
            mat_top=float(rng.uniform(0.62, 0.78)),
        )
        # later additions draw from their own stream, so the first sets stay as they were
        extra = np.random.default_rng([spec.seed, 29])
        support = Support(spec.support)
        if support is Support.FLOOR:
            self.setup.mat_top = 0.015
        elif spec.support_top_m is not None:
            self.setup.mat_top = spec.support_top_m
        elif support is Support.BED:
            self.setup.mat_top = float(extra.uniform(0.45, 0.62))
        self.setup.sink = spec.sink_m if spec.sink_m is not None else (0.02 if support is Support.BED else 0.004)
        self.setup.knee_pillow = spec.knee_pillow_cm / 100.0
        self.poser = ClamPoser(self.body, self.setup)
        self.outfit = Outfit.sample(rng)
        self.colours = vertex_colours(self.body, self.outfit, rng)
        self.room = Room.sample(rng, avoid=[self.outfit.top, self.outfit.bottom, self.outfit.skin])
        self.room.shadows = spec.shadows
        self.room.light_scale, self.room.light_tint = spec.light_scale, spec.light_tint
        self.room.sheet = SHEETS[extra.integers(len(SHEETS))]
        self.room.cushion = CUSHIONS[extra.integers(len(CUSHIONS))]
        self.loose = (spec.looseness_cm / 100.0) * looseness_weights(self.body, self.outfit)
        self.mirror = spec.side == "right"
        self.faces = self.body.faces[:, ::-1].copy() if self.mirror else self.body.faces
        self.normals = NormalCalc(self.faces, len(self.body.rest_vertices))
        self.n_frames = int(math.floor(self.plan.duration * spec.fps)) + 1
        self.cam_rng = np.random.default_rng([spec.seed, 7])

    # -- posing --
    def pose_frame(self, t: float, params: FrameParams | None = None):
        fp = params or self.plan.at(t)
        posed = self.poser.pose(fp)
        v = self.body.skin(posed.T)
        kp = self.body.keypoints(v)
        pts = dict(posed.joints)
        for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_heel", "right_heel"):
            pts[n] = kp[n]
        pts["left_foot_index"] = kp["left_big_toe"]
        pts["right_foot_index"] = kp["right_big_toe"]
        if self.mirror:
            v = mirror_x(v)
            pts = {swap_lr(k): mirror_x(p) for k, p in pts.items()}
        return fp, posed, v, pts

    def cameras(self, views, v0: np.ndarray, v_open: np.ndarray) -> dict[str, Camera]:
        s = self.spec
        both = np.concatenate([v0[::15], v_open[::15]])
        target = 0.5 * (both.min(0) + both.max(0))
        cams = {}
        for view in views:
            if s.cameras and view in s.cameras:
                cs = s.cameras[view]
            elif s.nominal_cameras:
                cs = CameraSpec.nominal(view)
            else:
                cs = CameraSpec.sample(view, self.cam_rng)
            if s.lens_35mm is not None and cs.focal35 is None:
                cs = dataclasses.replace(cs, distance=None, focal35=s.lens_35mm)
            # cameras are placed in the left-side (unmirrored) frame, then mirrored with the scene
            cam = make_camera(cs, target, both, s.width, s.height, s.fps, self.setup.mat_top)
            if self.mirror:
                cam = mirror_camera(cam)
            cams[view] = cam
        return cams

    def render(self, outs: dict[str, pathlib.Path], progress=None) -> dict[str, dict]:
        s = self.spec
        views = tuple(outs)
        for v in views:
            if v not in VIEWS and not (s.cameras and v in s.cameras):
                raise ValueError(f"unknown view {v!r}; choose from {', '.join(VIEWS)}")
        # camera framing from the first frame and the most open frame
        times = np.arange(self.n_frames) / s.fps
        params = [self.plan.at(float(t)) for t in times]
        i_open = int(np.argmax([p.opening + 100 * p.ankle_lift for p in params]))
        _, _, v0, _ = self.pose_frame(0.0, params[0])
        _, _, v_open, _ = self.pose_frame(float(times[i_open]), params[i_open])
        cams = self.cameras(views, v0, v_open)
        centre_x = 0.0
        pillow = self.poser.pillow
        stage = Stage(self.room, self.setup.mat_top, centre_x, pillow, s.width, s.height, mirror=self.mirror,
                      support=s.support, knee_pillow=self.poser.knee_pillow)
        writers = {v: Mp4Writer(str(outs[v]), s.width, s.height, s.fps, crf=s.crf) for v in views}
        frames_gt = []
        j2d = {v: [] for v in views}
        t_pose = t_render = 0.0
        try:
            for i, t in enumerate(times):
                t0 = time.perf_counter()
                fp, posed, v, pts = self.pose_frame(float(t), params[i])
                normals = self.normals(v)
                if self.loose.any():  # loose clothes: the cloth stands off the skin along its normal
                    v = v + self.loose[:, None] * normals
                stage.set_body(v, self.faces, normals, self.colours)
                t1 = time.perf_counter()
                gt = {"t": round(float(t), 4)}
                gt.update(posed.gt)
                frames_gt.append(gt)
                P = np.array([pts[n] for n in JOINTS_2D])
                P3 = np.array([pts[n] for n in JOINTS_3D])
                gt["_joints3d"] = P3
                for view in views:
                    cam = cams[view]
                    rgb, depth = stage.render(cam)
                    writers[view].write(rgb)
                    j2d[view].append(_project_visible(cam, P, depth, extra_tol=s.looseness_cm / 100.0))
                t_render += time.perf_counter() - t1
                t_pose += t1 - t0
                if progress and (i % 30 == 0 or i == len(times) - 1):
                    progress(i + 1, len(times))
        finally:
            for w in writers.values():
                w.close()
            stage.close()
        self.timing = {"frames": len(times), "views": len(views),
                       "pose_s_per_frame": t_pose / len(times),
                       "render_s_per_frame_per_view": t_render / len(times) / len(views)}
        docs = {}
        for view in views:
            doc = self.ground_truth(frames_gt, j2d[view], cams[view], outs[view])
            outs[view].with_suffix(".json").write_text(json.dumps(doc, separators=(",", ":")))
            docs[view] = doc
        return docs

    # -- ground truth --
    def ground_truth(self, frames_gt: list[dict], j2d: list, cam: Camera, video: pathlib.Path) -> dict:
        s = self.spec
        roll0 = frames_gt[0]["pelvis_roll_deg"]
        shin_cm = 100 * self.poser.L2["R"]
        frames = []
        # mm is enough at small sizes; wide frames need 0.1 mm to reproject within 0.5 px
        digits = 3 if cam.width <= 640 else 4
        for g, jj in zip(frames_gt, j2d):
            f = {k: (round(val, 2) if isinstance(val, float) else val) for k, val in g.items() if k != "_joints3d"}
            f["pelvis_roll_rel_deg"] = round(g["pelvis_roll_deg"] - roll0, 2)
            f["joints2d"] = jj
            if "_joints3d" in g:
                f["joints3d"] = np.round(g["_joints3d"], digits).tolist()
                f["joints3d_cam"] = np.round(cam.to_camera(g["_joints3d"]), digits).tolist()
            frames.append(f)
        reps, attempts = [], []
        t_arr = np.array([g["t"] for g in frames_gt])
        for n, (start, r) in enumerate(zip(self.plan.rep_starts(), self.plan.reps), start=1):
            end = start + r.up_s + r.hold_s + r.down_s
            sel = (t_arr >= start - 1e-9) & (t_arr <= end + r.delay_s + 1e-9)
            idx = np.nonzero(sel)[0]
            i0 = int(np.argmin(np.abs(t_arr - start)))
            roll_start = frames_gt[i0]["pelvis_roll_deg"]
            op = np.array([frames_gt[i]["opening_deg"] for i in idx])
            roll = np.array([frames_gt[i]["pelvis_roll_deg"] for i in idx])
            trunk = np.array([frames_gt[i]["trunk_roll_deg"] for i in idx])
            ag = np.array([frames_gt[i]["ankle_gap_cm"] for i in idx])
            kg = np.array([frames_gt[i]["knee_gap_cm"] for i in idx])
            ta = np.array([frames_gt[i]["thigh_angle_deg"] for i in idx])
            peak_rb = float(np.max(roll_start - roll))
            peak_op = float(op.max())
            peak_ag = float(ag.max())
            labels = []
            if peak_rb >= THRESHOLDS["roll_back_warn_deg"]:
                labels.append("roll_back")
            if peak_op >= THRESHOLDS["lift_too_high_deg"]:
                labels.append("lift_too_high")
            if peak_ag > THRESHOLDS["feet_apart_shin_fraction"] * shin_cm:
                labels.append("feet_apart")
            visible = peak_op >= THRESHOLDS["visible_lift_min_deg"]
            if not visible:
                labels = ["no_visible_lift"]
            (reps if visible else attempts).append({
                "index": (len(reps) if visible else len(attempts)) + 1, "start_s": round(start, 3), "peak_s": round(start + r.up_s + r.hold_s / 2, 3),
                "end_s": round(end, 3), "up_s": round(r.up_s, 3), "hold_s": round(r.hold_s, 3),
                "down_s": round(r.down_s, 3), "rest_s": round(r.rest_s, 3),
                "peak_opening_deg": round(peak_op, 3),
                "peak_roll_back_deg": round(peak_rb, 3),
                "peak_trunk_roll_back_deg": round(float(np.max(trunk[0] - trunk)), 3),
                "peak_ankle_gap_cm": round(peak_ag, 3),
                "ankle_gap_start_cm": round(float(ag[0]), 3),
                "peak_knee_gap_cm": round(float(kg.max()), 3),
                "peak_thigh_angle_deg": round(float(ta.max()), 3),
                "planned_mistakes": list(r.mistakes),
                "labels": labels,
            })
        g0 = frames_gt[0]
        side = s.side
        top = "right" if side == "left" else "left"
        setup_labels = []
        if g0["pelvis_roll_deg"] <= 0.0:
            setup_labels.append("no_forward_roll")
        if not self.setup.hand_on_hip:
            setup_labels.append("hand_off_hip")
        return {
            "version": GT_VERSION,
            "generator": "clamcoach.synth",
            "video": video.name,
            "seed": s.seed,
            "n_frames": len(frames),
            "duration_s": round(len(frames) / s.fps, 3),
            "thresholds": THRESHOLDS,
            "definitions": DEFINITIONS,
            "setup": {
                "side_lying_on": side, "top_side": top,
                "hip_flexion_deg": round(g0["hip_flexion_deg"], 2),
                "bottom_hip_flexion_deg": round(g0["bottom_hip_flexion_deg"], 2),
                "knee_flexion_deg": round(g0["knee_flexion_deg"], 2),
                "bottom_knee_flexion_deg": round(g0["bottom_knee_flexion_deg"], 2),
                "commanded_hip_flexion_deg": round(self.setup.hip_flex, 2),
                "commanded_knee_flexion_deg": round(self.setup.knee_flex, 2),
                "forward_roll_deg": round(g0["pelvis_roll_deg"], 2),
                "hand_on_hip": bool(self.setup.hand_on_hip),
                "shin_length_cm": round(shin_cm, 2),
                "thigh_length_cm": round(100 * self.poser.L1["R"], 2),
                "knee_gap_closed_cm": round(g0["knee_gap_cm"] - g0["knee_lift_cm"], 2),
                "ankle_gap_closed_cm": round(g0["ankle_gap_cm"], 2),
                "mat_top_m": round(self.setup.mat_top, 3),
                "labels": setup_labels,
                "hand": self.setup.hand.value,
                "knee_pillow_cm": round(100 * self.setup.knee_pillow, 2),
                "support": Support(s.support).value,
                "sink_cm": round(100 * self.setup.sink, 2),
            },
            "camera": cam.block(),
            "body": {**self.shape.kwargs(), "age_years": round(self.shape.age_years, 1),
                     "height_m": round(self.body.height_m, 3), "mass_kg": round(self.body.mass_kg, 1),
                     "outfit": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.outfit.__dict__.items()},
                     "clothes_looseness_cm": round(s.looseness_cm, 2)},
            "scene": {**self.room.block(), "support": Support(s.support).value,
                      "knee_pillow": _rounded(self.poser.knee_pillow)},
            "plan": self.plan.block(),
            "joints2d_names": list(JOINTS_2D),
            "joints3d_names": list(JOINTS_3D),
            "set_labels": ["no_visible_lift"] if attempts and not reps else [],
            "reps": reps,
            "attempts": attempts,
            "frames": frames,
        }


def _rounded(d: dict | None) -> dict | None:
    if d is None:
        return None
    return {k: (np.round(np.asarray(v, dtype=float), 4).tolist() if not isinstance(v, str) else v) for k, v in d.items()}


def _project_visible(cam: Camera, P: np.ndarray, depth: np.ndarray, extra_tol: float = 0.0) -> list:
    """[x, y, visible] per JOINTS_2D point; ``extra_tol`` (m) of loose cloth over the clothed joints."""
    xy, z = cam.project(P)
    H, W = depth.shape
    out = []
    for name, (x, y), zz in zip(JOINTS_2D, xy, z):
        vis = 0
        xi, yi = int(round(x)), int(round(y))
        if 0 <= xi < W and 0 <= yi < H and zz > 0:
            win = depth[max(0, yi - 1):yi + 2, max(0, xi - 1):xi + 2]
            win = win[win > 0]
            tol = next(v for k, v in _DEPTH_TOL.items() if name.endswith(k))
            if name.endswith(_CLOTHED):
                tol += extra_tol
            surf = float(win.max()) if win.size else math.inf
            # pyrender's depth is the distance along the optical axis, like z here
            vis = int(surf >= zz - tol - 0.01)
        out.append([round(float(x), 1), round(float(y), 1), vis])
    return out


def render_set(spec: SetSpec, out: str | pathlib.Path, progress=None) -> dict[str, dict]:
    """Render ``spec`` to ``out`` (one view) or ``<stem>_<view>.mp4`` (several)."""
    outs = out_paths(out, tuple(spec.views))
    for p in outs.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    r = SetRenderer(spec)
    docs = r.render(outs, progress=progress)
    return docs, r
