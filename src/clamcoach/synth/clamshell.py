"""Posing a body in a side-lying clamshell, with exact ground truth.

The *lying frame* (metres) is the scene's world frame for a person lying on their LEFT side:
X along the table toward the head, Z up, -Y toward the person's front (the belly faces -Y).
The mat's top is at ``Setup.mat_top``. A person lying on the right side is the mirror image
(X -> -X) of this, with left/right labels swapped (see ``mirror_x``); the front stays -Y.

Posing (see the package README for the ground-truth definitions):

* the body frame (anny's rest frame) is laid on its left side by ``R_LIE`` and rolled about
  the long (X) axis through the bottom hip by the pelvis roll ``roll`` (forward positive);
* the bottom leg is fixed in the world (it lies on the mat: the hip is flexed by
  ``hip_flex``, the knee by ``knee_flex``, and the leg is ab/adducted so the lateral knee and
  ankle touch the mat);
* the top leg is aimed with two-bone IK at an ankle target on top of the bottom ankle (plus
  ``ankle_lift`` for the feet-apart mistake); its knee is on the circle about the hip-ankle
  line; the *closed* knee is the point of that circle nearest the stacked target (the top knee
  resting on the bottom knee) and ``opening`` rotates the knee about the hip-ankle line from
  there, away from the table (the feet are the hinge);
* the arms are posed with two-bone IK: the bottom hand is planted on the mat in front of the
  face, the top hand rests where ``Hand`` says: on the top hip, on the mat in front of the chest
  (or of the belly, the first sets' "hand off hip"), or on the top thigh (riding with it);
* a pillow between the knees (``Setup.knee_pillow``, its thickness) raises the closed top knee by
  that much: the closed position, and the opening, start from the pillow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .body import Body
from .options import Hand

R_LIE = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])  # body -> lying frame
BOTTOM, TOP = "L", "R"  # in the lying frame the body's left side is down


def rot_x(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def rot_axis(axis: np.ndarray, deg: float) -> np.ndarray:
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    t = math.radians(deg)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(t) * K + (1 - math.cos(t)) * K @ K


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def orth(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Unit component of ``v`` orthogonal to the unit vector ``axis``."""
    return unit(v - v.dot(axis) * axis)


def frame(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Orthonormal frame (columns) with first axis ``a`` and second axis in the (a, b) plane."""
    a = unit(a)
    b = orth(b, a)
    return np.stack([a, b, np.cross(a, b)], axis=1)


def two_bone_ik(root: np.ndarray, target: np.ndarray, l1: float, l2: float, pole: np.ndarray,
                max_reach: float = 0.985) -> tuple[np.ndarray, np.ndarray]:
    """(middle joint, end joint) for a chain of lengths l1, l2 from ``root`` toward ``target``,
    bending toward ``pole``. An unreachable target is approached along the same line."""
    d = target - root
    D = float(np.linalg.norm(d))
    dh = d / D
    D = min(max(D, abs(l1 - l2) + 1e-3), max_reach * (l1 + l2))
    x = (l1 * l1 - l2 * l2 + D * D) / (2 * D)
    r = math.sqrt(max(l1 * l1 - x * x, 0.0))
    p = orth(pole, dh)
    mid = root + x * dh + r * p
    return mid, root + D * dh


def knee_circle(hip: np.ndarray, ankle: np.ndarray, l1: float, l2: float):
    """Centre, radius, axis and the ankle actually reached, of the knee's circle about hip-ankle."""
    d = ankle - hip
    D = float(np.linalg.norm(d))
    dh = d / D
    D = min(D, 0.995 * (l1 + l2))
    x = (l1 * l1 - l2 * l2 + D * D) / (2 * D)
    r = math.sqrt(max(l1 * l1 - x * x, 0.0))
    return hip + x * dh, r, dh, hip + D * dh


def sagittal_angle(v: np.ndarray, down: np.ndarray, lateral: np.ndarray, front: np.ndarray) -> float:
    """Angle (deg) of ``v`` from ``down`` within the plane orthogonal to ``lateral``, positive
    toward ``front``."""
    w = v - v.dot(lateral) * lateral
    return math.degrees(math.atan2(w.dot(front), w.dot(down)))


def angle_between(a: np.ndarray, b: np.ndarray) -> float:
    c = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


@dataclass
class FrameParams:
    """What the person does in one frame."""

    roll: float  # absolute pelvis roll, deg, forward positive (0 = hip line vertical)
    opening: float = 0.0  # deg, rotation of the top knee about the top hip-ankle line
    ankle_lift: float = 0.0  # m, top ankle raised above its stacked position
    hand: Hand = Hand.HIP
    #: deg, the trunk turned about the body's long axis against the pelvis (forward positive):
    #: shoulders rolling back while the pelvis stays, or the other way (0 in the data sets)
    trunk_twist: float = 0.0

    @property
    def hand_on_hip(self) -> bool:
        return self.hand.on_hip


@dataclass
class Setup:
    """How the person lies down (fixed for a set)."""

    hip_flex: float = 45.0  # deg, bottom leg, commanded
    knee_flex: float = 45.0  # deg, bottom leg, commanded
    forward_roll: float = 10.0  # deg, pelvis roll at rest
    hand: Hand = Hand.HIP
    mat_top: float = 0.72  # m, height of the mat's top surface above the floor
    sink: float = 0.004  # m, how far contact areas press into the mat
    plantar_flex: float = 25.0  # deg, relaxed ankles
    head_tilt: float = 0.0  # deg, neck side-bend toward the pillow
    knee_pillow: float = 0.0  # m, thickness of a pillow between the knees (0: none)

    @property
    def hand_on_hip(self) -> bool:
        return self.hand.on_hip


@dataclass
class Posed:
    """One posed frame in the lying frame (left side down)."""

    T: np.ndarray  # (J, 4, 4) skinning transforms, body rest -> lying frame
    joints: dict[str, np.ndarray]  # named joint centres
    gt: dict[str, float]


class ClamPoser:
    """Poses one body for one set-up; ``pose(FrameParams)`` gives a ``Posed`` frame."""

    def __init__(self, body: Body, setup: Setup):
        self.body = body
        self.setup = setup
        b = body
        self.hB = b.head(f"upperleg01.{BOTTOM}")
        self.hT = b.head(f"upperleg01.{TOP}")
        self.L1 = {s: b.seg_len(f"upperleg01.{s}", f"lowerleg01.{s}") for s in "LR"}
        self.L2 = {s: b.seg_len(f"lowerleg01.{s}", f"foot.{s}") for s in "LR"}
        self.A1 = {s: b.seg_len(f"upperarm01.{s}", f"lowerarm01.{s}") for s in "LR"}
        self.A2 = {s: b.seg_len(f"lowerarm01.{s}", f"wrist.{s}") for s in "LR"}
        mk = {s: b.leg_half_thickness(s, "knee") for s in "LR"}
        ma = {s: b.leg_half_thickness(s, "ankle") for s in "LR"}
        mh = {s: b.leg_half_thickness(s, "hip") for s in "LR"}
        self.knee_lat = mk[BOTTOM][1]
        self.ankle_lat = ma[BOTTOM][1]
        self.hip_lat = mh[TOP][1]
        self.knee_stack = mk["L"][0] + mk["R"][0]
        self._knee_med = {s: mk[s][0] for s in "LR"}
        self.thigh_hand_frac = 0.4  # where along the top thigh the wrist rests (set in _ground)
        self.thigh_lat = self._thigh_lateral(self.thigh_hand_frac)
        self.ankle_stack = ma["L"][0] + ma["R"][0]
        self._hand_frames = {s: b.hand_frame(s) for s in "LR"}
        # palm-facing sign per hand: the fingers curl toward the palm at rest
        self.thumb_roll = -20.0  # deg, the bottom hand rolled a little onto its little-finger side
        self._palm_sign = {}
        for s in "LR":
            n0 = self._hand_frames[s][:, 2]
            curl = b.head(f"finger3-3.{s}") - b.head(f"finger3-1.{s}")
            self._palm_sign[s] = 1.0 if curl.dot(n0) > 0 else -1.0
        # trunk vertices used for grounding (pelvis, spine, shoulders)
        names = b.labels
        trunk_ids = [i for i, n in enumerate(names)
                     if n.startswith(("root", "pelvis", "spine", "clavicle", "shoulder01"))
                     or n == f"upperleg01.{BOTTOM}"]
        self._trunk_v = np.isin(b.dominant, trunk_ids)
        self._knee_v = np.isin(b.dominant, [b.idx(f"upperleg02.{BOTTOM}"), b.idx(f"lowerleg01.{BOTTOM}")])
        self._ankle_v = np.isin(b.dominant, [b.idx(f"lowerleg02.{BOTTOM}"), b.idx(f"foot.{BOTTOM}")])
        self._head_v = np.isin(b.dominant, [b.idx("head"), b.idx("neck03")])
        self.z_hip = setup.mat_top + self.hip_lat
        self.trunk_bend = 6.0  # deg, side bend lifting the chest so the bottom shoulder rests on the mat
        self._shoulder_v = np.isin(b.dominant, [b.idx(f"{n}.{BOTTOM}") for n in ("clavicle", "shoulder01", "upperarm01")])
        self.bottom = self._solve_bottom_leg()
        self.bottom_hand_target = None
        self.top_hand_mat_target = None
        self.top_hand_chest_target = None
        self.knee_pillow = None
        self._ground()

    # -- frames --
    def M(self, roll: float) -> np.ndarray:
        """Body rest frame -> lying frame, pivoting about the bottom hip."""
        A = rot_x(roll) @ R_LIE
        M = np.eye(4)
        M[:3, :3] = A
        M[:3, 3] = np.array([0.0, 0.0, self.z_hip]) - A @ self.hB
        return M

    # -- set-up solving --
    def _bottom_leg_body(self, alpha: float, beta: float):
        """Bottom leg knee and ankle in the body frame for hip flexion/knee flexion and
        abduction ``alpha`` (thigh) / ``beta`` (shank) in radians."""
        s = self.setup
        ph, pk = math.radians(s.hip_flex), math.radians(s.knee_flex)
        t = np.array([math.sin(alpha), -math.sin(ph) * math.cos(alpha), -math.cos(ph) * math.cos(alpha)])
        back = orth(np.array([0.0, 1.0, 0.0]), t)
        ssag = math.cos(pk) * t + math.sin(pk) * back
        xp = orth(np.array([1.0, 0.0, 0.0]), ssag)
        sh = math.cos(beta) * ssag + math.sin(beta) * xp
        K = self.hB + self.L1[BOTTOM] * t
        A = K + self.L2[BOTTOM] * sh
        return K, A

    def _solve_bottom_leg(self):
        s = self.setup
        want_k = self.z_hip - (s.mat_top + self.knee_lat - s.sink)  # body +x offset of knee
        want_a = self.z_hip - (s.mat_top + self.ankle_lat - s.sink)
        alpha = math.asin(max(-0.9, min(0.9, want_k / self.L1[BOTTOM])))
        lo, hi = -0.8, 0.8
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            _, A = self._bottom_leg_body(alpha, mid)
            if A[0] - self.hB[0] < want_a:
                lo = mid
            else:
                hi = mid
        K, A = self._bottom_leg_body(alpha, 0.5 * (lo + hi))
        M0 = self.M(0.0)
        return {"K": M0[:3, :3] @ K + M0[:3, 3], "A": M0[:3, :3] @ A + M0[:3, 3]}

    def _ground(self):
        """Place the hips so the trunk rests on the mat at the set-up roll; fix the hands."""
        s = self.setup
        for _ in range(10):
            p = self.pose(FrameParams(roll=s.forward_roll), _grounding=True)
            v = self.body.skin(p.T)
            zmin = v[self._trunk_v, 2].min()
            dz = (s.mat_top - s.sink) - zmin
            # the lateral knee and ankle: measured on the skinned mesh, not the rest mesh
            ds = (s.mat_top - s.sink - 0.004) - v[self._shoulder_v, 2].min()
            hs = np.linalg.norm(self.body.head(f"upperarm01.{BOTTOM}") - self.hB)
            self.trunk_bend += math.degrees(math.atan2(ds, hs))
            dk = (s.mat_top - s.sink) - v[self._knee_v, 2].min()
            da = (s.mat_top - s.sink) - v[self._ankle_v, 2].min()
            self.knee_lat += dk
            self.ankle_lat += da
            self.z_hip += dz
            self.bottom = self._solve_bottom_leg()
            if max(abs(dz), abs(dk), abs(da), abs(ds)) < 5e-4:
                break
        p = self.pose(FrameParams(roll=s.forward_roll), _grounding=True)
        shB = p.joints["left_shoulder"]
        hipB = np.array([0.0, 0.0, self.z_hip])
        # bottom hand planted on the mat in front of the face
        self.bottom_hand_target = np.array([shB[0] + 0.12, shB[1] - 0.28, s.mat_top + 0.04])
        # lift the planted hand until no part of it is more than the sink below the mat
        hand_v = np.isin(self.body.dominant, [i for i, n in enumerate(self.body.labels) if n.endswith(f".{BOTTOM}")
                                              and n.startswith(("wrist", "finger", "metacarpal"))])
        for _ in range(3):
            v = self.body.skin(self.pose(FrameParams(roll=s.forward_roll)).T)
            dz = (s.mat_top - s.sink) - v[hand_v, 2].min()
            if dz <= 5e-4:
                break
            self.bottom_hand_target = self.bottom_hand_target + np.array([0.0, 0.0, dz])
        # top hand on the mat in front of the belly (the "hand not on hip" set-up)
        self.top_hand_mat_target = np.array([hipB[0] + 0.22, hipB[1] - 0.30, s.mat_top + 0.03])
        # ... and on the mat in front of the chest, below the bottom arm's elbow
        self.top_hand_chest_target = np.array([shB[0] - 0.17, shB[1] - 0.33, s.mat_top + 0.03])
        self.knee_pillow = self._knee_pillow() if s.knee_pillow > 0 else None
        self._fit_thigh_hand()
        # pillow under the head: its top at the lowest head vertex in the set-up pose
        p = self.pose(FrameParams(roll=s.forward_roll, hand=s.hand))
        v = self.body.skin(p.T)
        hv = v[self._head_v]
        self.pillow = {
            "top": float(hv[:, 2].min() + 0.006),
            "center": [float(hv[:, 0].mean()), float(hv[:, 1].mean())],
        }

    # -- posing --
    def _leg_rots(self, side: str, H, K, A, rot: dict):
        b = self.body
        t, sh = unit(K - H), unit(A - K)
        front = orth(-sh, t)  # kneecap direction
        t0 = unit(b.head(f"lowerleg01.{side}") - b.head(f"upperleg01.{side}"))
        s0 = unit(b.head(f"foot.{side}") - b.head(f"lowerleg01.{side}"))
        fwd = np.array([0.0, -1.0, 0.0])
        G_thigh = frame(t, front) @ frame(t0, fwd).T
        G_shank = frame(sh, front) @ frame(s0, fwd).T
        rot[f"upperleg01.{side}"] = G_thigh
        rot[f"lowerleg01.{side}"] = G_shank
        rot[f"foot.{side}"] = G_shank @ rot_x(self.setup.plantar_flex)

    def _arm_rots(self, side: str, S, E, W, rot: dict, hand=None):
        b = self.body
        u, f = unit(E - S), unit(W - E)
        u0 = unit(b.head(f"lowerarm01.{side}") - b.head(f"upperarm01.{side}"))
        f0 = unit(b.head(f"wrist.{side}") - b.head(f"lowerarm01.{side}"))
        Fu, Fu0 = frame(u, f), frame(u0, f0)
        G_up = Fu @ Fu0.T
        n, n0 = Fu[:, 2], Fu0[:, 2]
        G_fore = frame(f, np.cross(n, f)) @ frame(f0, np.cross(n0, f0)).T
        rot[f"upperarm01.{side}"] = G_up
        rot[f"lowerarm01.{side}"] = G_fore
        if hand is not None:
            fingers, palm = hand
            F0 = self._hand_frames[side]
            n_d = self._palm_sign[side] * unit(palm)
            fingers = orth(fingers, n_d)
            th = np.cross(n_d, fingers)
            rot[f"wrist.{side}"] = np.stack([fingers, th, n_d], axis=1) @ F0.T
        else:
            rot[f"wrist.{side}"] = G_fore

    def pose(self, fp: FrameParams, _grounding: bool = False) -> Posed:
        b = self.body
        M = self.M(fp.roll)
        A_, t_ = M[:3, :3], M[:3, 3]
        Ai = A_.T

        def to_body(w):
            return Ai @ (w - t_)

        def to_world(p):
            return A_ @ p + t_

        Z = np.array([0.0, 0.0, 1.0])
        rot: dict[str, np.ndarray] = {}
        # bottom leg: fixed in the world
        KB_w, AB_w = self.bottom["K"], self.bottom["A"]
        self._leg_rots(BOTTOM, self.hB, to_body(KB_w), to_body(AB_w), rot)
        # top leg: ankle on the bottom ankle (+ lift), knee on the hip-ankle circle
        HT_w = to_world(self.hT)
        A_target = AB_w + (self.ankle_stack + fp.ankle_lift) * Z
        K_stack = KB_w + self.knee_stack * Z
        C, r, ax, AT_w = knee_circle(HT_w, A_target, self.L1[TOP], self.L2[TOP])
        u = orth(K_stack - C, ax)
        v = np.cross(ax, u)
        if v[2] < 0:
            v = -v
        if self.setup.knee_pillow > 0:
            # the closed knee rests on the pillow: turn along the circle until the knees are
            # the pillow's thickness further apart than when they touch
            u, v = _turn_until_gap(C, r, u, v, KB_w, self.setup.knee_pillow)
        th = math.radians(fp.opening)
        KT_closed = C + r * u
        KT_w = C + r * (math.cos(th) * u + math.sin(th) * v)
        self._leg_rots(TOP, self.hT, to_body(KT_w), to_body(AT_w), rot)
        # arms
        x_b, y_b, z_b = np.eye(3)
        # the side bend, then any twist of the trunk about the long axis (body z = lying X)
        Rt = rot_axis(z_b, fp.trunk_twist) @ rot_axis(y_b, -self.trunk_bend)
        piv = b.head("spine05")
        rot["spine05"] = Rt
        SB = piv + Rt @ (b.head(f"upperarm01.{BOTTOM}") - piv)
        ST = piv + Rt @ (b.head(f"upperarm01.{TOP}") - piv)
        if not _grounding and self.bottom_hand_target is not None:
            W = to_body(self.bottom_hand_target)
            # the elbow rests on the mat in front of the chest: pick the pole (in the world)
            # whose elbow is nearest the mat's height, on the front side
            best = None
            for ang in np.linspace(-90, 90, 37):
                pw = np.array([-0.3, -math.cos(math.radians(ang)), math.sin(math.radians(ang))])
                E_, W_ = two_bone_ik(SB, W, self.A1[BOTTOM], self.A2[BOTTOM], Ai @ pw)
                ez = to_world(E_)[2]
                cost = abs(ez - (self.setup.mat_top + 0.04)) + 0.02 * abs(ang) / 90
                if best is None or cost < best[0]:
                    best = (cost, E_, W_)
            _, E, Wr = best
            fw = unit(np.array([0.55, -0.8, 0.0]))
            fingers = Ai @ fw
            palm = Ai @ (rot_axis(fw, self.thumb_roll) @ np.array([0.0, 0.0, -1.0]))
            self._arm_rots(BOTTOM, SB, E, Wr, rot, hand=(fingers, palm))
        else:
            # arm forward along the mat (only used while grounding)
            E = SB + self.A1[BOTTOM] * unit(np.array([0.2, -1.0, 0.2]))
            Wr = E + self.A2[BOTTOM] * unit(np.array([0.0, -0.5, 1.0]))
            self._arm_rots(BOTTOM, SB, E, Wr, rot)
        self._top_arm(fp.hand, ST, to_body, Ai, rot)
        self._last_rot, self._last_top_shoulder = rot, ST
        if self.setup.head_tilt:
            rot["neck01"] = rot_axis(y_b, self.setup.head_tilt) @ Rt
        T = b.pose_transforms(rot, world=M)
        J = b.joint_positions(T)
        joints = {}
        for side, lr in (("L", "left"), ("R", "right")):
            joints[f"{lr}_hip"] = J[f"upperleg01.{side}"]
            joints[f"{lr}_knee"] = J[f"lowerleg01.{side}"]
            joints[f"{lr}_ankle"] = J[f"foot.{side}"]
            joints[f"{lr}_shoulder"] = J[f"upperarm01.{side}"]
            joints[f"{lr}_elbow"] = J[f"lowerarm01.{side}"]
            joints[f"{lr}_wrist"] = J[f"wrist.{side}"]
        joints["neck"] = J["neck01"]
        joints["head"] = J["head"]
        gt = self._ground_truth(joints, M, fp, KT_closed)
        return Posed(T=T, joints=joints, gt=gt)

    def _top_arm(self, hand: Hand, ST: np.ndarray, to_body, Ai: np.ndarray, rot: dict) -> None:
        """Pose the top arm so the hand rests where ``hand`` says (``ST``: top shoulder, body frame)."""
        x_b = np.array([1.0, 0.0, 0.0])
        on_mat = {Hand.MAT_BELLY: self.top_hand_mat_target, Hand.MAT: self.top_hand_chest_target}
        if hand is Hand.HIP or (hand in on_mat and on_mat[hand] is None):
            # wrist over the iliac crest, fingers down over the hip muscles, palm on the hip
            W = self.hT + np.array([-(self.hip_lat + 0.035), 0.025, 0.11])
            pole = np.array([-0.5, 1.0, 0.35])
            E, Wr = two_bone_ik(ST, W, self.A1[TOP], self.A2[TOP], pole)
            fingers = unit(np.array([0.15, -0.35, -1.0]))
            self._arm_rots(TOP, ST, E, Wr, rot, hand=(fingers, x_b))
            return
        if hand is Hand.THIGH:
            # palm on the thigh's upper (lateral) side, fingers toward the knee, riding with it
            W, along, lateral = self._thigh_wrist(rot[f"upperleg01.{TOP}"], self.thigh_hand_frac)
            pole = np.array([-0.5, 1.0, 0.35])
            E, Wr = two_bone_ik(ST, W, self.A1[TOP], self.A2[TOP], pole)
            self._arm_rots(TOP, ST, E, Wr, rot, hand=(along, -lateral))
            return
        # on the mat: palm down, elbow up (``Ai`` turns lying-frame directions into the body frame)
        W = to_body(on_mat[hand])
        world_fingers = np.array([0.3, -1.0, 0.0]) if hand is Hand.MAT_BELLY else np.array([0.55, -0.85, 0.0])
        E, Wr = two_bone_ik(ST, W, self.A1[TOP], self.A2[TOP], Ai @ np.array([0.0, 0.3, 1.0]))
        fingers = Ai @ unit(world_fingers)
        palm = Ai @ np.array([0.0, 0.0, -1.0])
        self._arm_rots(TOP, ST, E, Wr, rot, hand=(fingers, palm))

    def _thigh_lateral(self, frac: float) -> float:
        """Rest pose: distance from the top thigh's axis to its outer skin at ``frac`` of its length."""
        b = self.body
        k = b.head(f"lowerleg01.{TOP}")
        c = self.hT + frac * (k - self.hT)
        ids = [b.idx(f"upperleg01.{TOP}"), b.idx(f"upperleg02.{TOP}")]
        sel = np.isin(b.dominant, ids) & (np.abs(b.rest_vertices[:, 2] - c[2]) < 0.02)
        return float(np.max(c[0] - b.rest_vertices[sel, 0]))  # the right side's outside is -x

    def _thigh_wrist(self, G_thigh: np.ndarray, frac: float):
        """Wrist target on the top thigh (body frame) for the thigh's rotation ``G_thigh``, with the
        thigh's direction and its outer side's normal."""
        t0 = unit(self.body.head(f"lowerleg01.{TOP}") - self.hT)
        along = G_thigh @ t0
        lateral = G_thigh @ np.array([-1.0, 0.0, 0.0])  # the top (right) thigh's outer side faces -x at rest
        return self.hT + frac * self.L1[TOP] * along + (self.thigh_lat + 0.025) * lateral, along, lateral

    def _fit_thigh_hand(self) -> None:
        """Slide the wrist toward the hip until the arm reaches it with its elbow still bent (anny's
        arms are short for their trunk: on many bodies the wrist ends near the top of the thigh,
        the hand on the thigh)."""
        self.pose(FrameParams(roll=self.setup.forward_roll))
        G, ST = self._last_rot[f"upperleg01.{TOP}"], self._last_top_shoulder
        reach = 0.95 * (self.A1[TOP] + self.A2[TOP])
        frac = 0.45
        while frac > 0.0:
            self.thigh_lat = self._thigh_lateral(max(frac, 0.05))
            if np.linalg.norm(self._thigh_wrist(G, frac)[0] - ST) <= reach:
                break
            frac = round(frac - 0.025, 3)
        self.thigh_hand_frac = max(frac, 0.0)
        self.thigh_lat = self._thigh_lateral(max(self.thigh_hand_frac, 0.05))

    def _knee_pillow(self) -> dict:
        """The cushion between the knees at the set-up (lying frame, left side down): centred on
        the knees, between the bottom knee's upper skin and the closed top knee's lower skin."""
        s = self.setup
        p = self.pose(FrameParams(roll=s.forward_roll))
        kb, kt = p.joints["left_knee"], p.joints["right_knee"]
        hb = p.joints["left_hip"]
        thigh = kb - hb
        yaw = math.degrees(math.atan2(thigh[1], thigh[0]))
        bottom_skin = kb[2] + self._knee_med["L"]
        # between the distal thighs, reaching a few cm past the knees
        back = 0.08 * unit(np.array([thigh[0], thigh[1], 0.0]))
        mid = 0.5 * (kb + kt) - back
        centre = [float(mid[0]), float(mid[1]), float(bottom_skin + s.knee_pillow / 2)]
        return {"center": centre, "extents": [0.24, 0.20, float(s.knee_pillow + 0.012)], "yaw_deg": yaw,
                "thickness_m": float(s.knee_pillow)}

    def _ground_truth(self, j, M, fp: FrameParams, KT_closed) -> dict[str, float]:
        top, bot = "right", "left"  # lying frame: left side down
        A = M[:3, :3]
        x_b, y_b, z_b = A[:, 0], A[:, 1], A[:, 2]
        down, front = -z_b, -y_b

        def roll_of(a, b_):
            v = j[f"{a}"] - j[f"{b_}"]
            return math.degrees(math.atan2(-v[1], v[2]))

        hip_t = j[f"{top}_knee"] - j[f"{top}_hip"]
        hip_b = j[f"{bot}_knee"] - j[f"{bot}_hip"]

        def knee_flex(s):
            return 180.0 - angle_between(j[f"{s}_hip"] - j[f"{s}_knee"], j[f"{s}_ankle"] - j[f"{s}_knee"])

        kg = float(np.linalg.norm(j[f"{top}_knee"] - j[f"{bot}_knee"]))
        kg_closed = float(np.linalg.norm(KT_closed - j[f"{bot}_knee"]))
        ag = float(np.linalg.norm(j[f"{top}_ankle"] - j[f"{bot}_ankle"]))
        return {
            "pelvis_roll_deg": roll_of(f"{top}_hip", f"{bot}_hip"),
            "trunk_roll_deg": roll_of(f"{top}_shoulder", f"{bot}_shoulder"),
            "hip_flexion_deg": sagittal_angle(hip_t, down, x_b, front),
            "bottom_hip_flexion_deg": sagittal_angle(hip_b, down, x_b, front),
            "knee_flexion_deg": knee_flex(top),
            "bottom_knee_flexion_deg": knee_flex(bot),
            "opening_deg": float(fp.opening),
            "thigh_angle_deg": angle_between(hip_t, hip_b),
            "knee_gap_cm": 100 * kg,
            "knee_lift_cm": 100 * (kg - kg_closed),
            "ankle_gap_cm": 100 * ag,
            "hand_on_hip": 1.0 if fp.hand_on_hip else 0.0,
        }


def _turn_until_gap(C, r, u, v, other: np.ndarray, extra: float):
    """Rotate the circle's reference direction ``u`` toward ``v`` until the point ``C + r u`` is
    ``extra`` further from ``other`` than it started; returns the turned (u, v)."""
    d0 = float(np.linalg.norm(C + r * u - other))
    lo, hi = 0.0, math.pi / 2
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        p = C + r * (math.cos(mid) * u + math.sin(mid) * v)
        if np.linalg.norm(p - other) < d0 + extra:
            lo = mid
        else:
            hi = mid
    a = 0.5 * (lo + hi)
    return math.cos(a) * u + math.sin(a) * v, -math.sin(a) * u + math.cos(a) * v


def mirror_x(p: np.ndarray) -> np.ndarray:
    q = np.array(p, dtype=np.float64, copy=True)
    q[..., 0] = -q[..., 0]
    return q


def swap_lr(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    return name
