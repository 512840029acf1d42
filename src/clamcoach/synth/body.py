"""The `anny` body model: loading, shapes, rest geometry, skinning and colours.

Everything here is in anny's rest frame (metres): x = the person's left, -y = their front,
z = up (head). Posing is done with our own forward kinematics (``pose_transforms``): each bone
gets a rotation relative to its rest orientation (3x3) and follows its parent's head, and the
resulting 4x4 transforms go to anny's own linear-blend skinning.
"""

from __future__ import annotations

import os
import pathlib
import threading
from dataclasses import dataclass, field

import numpy as np

_MODEL = None
_LOCK = threading.Lock()


def cache_dir() -> pathlib.Path:
    """Where anny keeps its built cache (``ANNY_CACHE_DIR``, default ~/.cache/clamcoach/anny)."""
    d = os.environ.get("ANNY_CACHE_DIR")
    if not d:
        d = str(pathlib.Path.home() / ".cache" / "clamcoach" / "anny")
        os.environ["ANNY_CACHE_DIR"] = d
    pathlib.Path(d).mkdir(parents=True, exist_ok=True)
    return pathlib.Path(d)


def load_model():
    """The anny model, loaded once per process (the first load ever builds a ~2 min cache)."""
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            cache_dir()
            os.environ.setdefault("WARP_LOG_LEVEL", "error")
            try:
                import warp as wp  # noqa: F401

                wp.config.quiet = True
            except Exception:  # pragma: no cover - warp is optional for anny's dense path
                pass
            import anny
            import anny.paths

            anny.paths.set_anny_cache_path(cache_dir())
            import torch

            torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
            _MODEL = anny.Anny()
        return _MODEL


# --- shapes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """An adult body shape. All values 0..1 as anny takes them (age 0.667 ~ 25 y, 1.0 ~ 90 y)."""

    gender: float = 0.5  # 0 male .. 1 female
    age: float = 0.75
    muscle: float = 0.5
    weight: float = 0.5
    height: float = 0.5
    proportions: float = 0.5

    def kwargs(self) -> dict[str, float]:
        return dict(gender=self.gender, age=self.age, muscle=self.muscle, weight=self.weight,
                    height=self.height, proportions=self.proportions)

    @property
    def age_years(self) -> float:
        """Approximate age: MakeHuman's 'young' (25 y) sits at 2/3, 'old' (90 y) at 1."""
        return 25.0 + (self.age - 2.0 / 3.0) / (1.0 / 3.0) * 65.0

    @staticmethod
    def sample(rng: np.random.Generator, sex: str | None = None) -> "Shape":
        """A random adult: 25-65 years; standing height 1.65-1.92 m (men) or 1.52-1.80 m (women)."""
        if sex is None:
            sex = "male" if rng.random() < 0.5 else "female"
        gender = float(rng.uniform(0.0, 0.2)) if sex == "male" else float(rng.uniform(0.8, 1.0))
        years = rng.uniform(25, 65)
        target = rng.uniform(1.65, 1.92) if sex == "male" else rng.uniform(1.52, 1.80)
        return Shape(
            gender=gender,
            age=float(2.0 / 3.0 + (years - 25.0) / 65.0 / 3.0),
            muscle=float(rng.uniform(0.3, 0.7)),
            weight=float(rng.uniform(0.25, 0.85)),
            height=float(np.clip(height_param(target, gender), 0.0, 1.0)),
            proportions=float(rng.uniform(0.35, 0.65)),
        )


def height_param(height_m: float, gender: float) -> float:
    """anny's height parameter for a standing height (measured: linear, ~1.09 m per unit;
    1.35 m at 0 for men, 1.22 m for women, at adult age)."""
    return (height_m - (1.352 - 0.133 * gender)) / 1.089


# --- bones ----------------------------------------------------------------------------------

LEG = {"hip": "upperleg01", "knee": "lowerleg01", "ankle": "foot"}
ARM = {"shoulder": "upperarm01", "elbow": "lowerarm01", "wrist": "wrist"}


def _rotation_from_frames(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The rotation taking the orthonormal frame ``src`` (columns) onto ``dst``."""
    return dst @ src.T


@dataclass
class Body:
    """One body shape in its rest pose, ready to pose and skin."""

    shape: Shape
    labels: list[str]
    parents: np.ndarray  # (J,) parent index, -1 for root
    heads: np.ndarray  # (J, 3) rest bone heads
    rest_vertices: np.ndarray  # (V, 3)
    faces: np.ndarray  # (F, 3) int32
    dominant: np.ndarray  # (V,) index of the bone with the largest skinning weight
    keypoint_labels: list[str]
    keypoint_weights: object  # scipy sparse (K, V)
    height_m: float
    mass_kg: float
    _rest_t: object = field(repr=False, default=None)
    _idx: dict = field(repr=False, default_factory=dict)

    # -- construction --
    @staticmethod
    def build(shape: Shape) -> "Body":
        import scipy.sparse as sp
        import torch

        import anny

        m = load_model()
        with torch.no_grad():
            out = m(pose_parameters=None, phenotype_kwargs=shape.kwargs())
        rest_v = out["rest_vertices"][0].double().numpy()
        heads = out["rest_bone_heads"][0].double().numpy()
        faces = m.faces.numpy().astype(np.int32)
        w = m.vertex_bone_weights.double().numpy()
        ix = m.vertex_bone_indices.long().numpy()
        dominant = ix[np.arange(len(ix)), np.argmax(w, axis=1)]
        reg = anny.KeypointsRegressor.coco(m)
        rw = reg.regression_weights.double().numpy()
        if getattr(reg, "is_sparse", False):
            ri = reg.regression_indices.long().numpy()
            rows = np.repeat(np.arange(ri.shape[0]), ri.shape[1])
            kw = sp.csr_matrix((rw.ravel(), (rows, ri.ravel())), shape=(ri.shape[0], len(rest_v)))
        else:
            kw = sp.csr_matrix(rw)
        anth = anny.Anthropometry(m)(out["rest_vertices"].double())
        body = Body(
            shape=shape,
            labels=list(m.bone_labels),
            parents=np.array([int(p) for p in m.bone_parents]),
            heads=heads,
            rest_vertices=rest_v,
            faces=faces,
            dominant=dominant,
            keypoint_labels=list(reg.labels),
            keypoint_weights=kw,
            height_m=float(anth["height"][0]),
            mass_kg=float(anth["mass"][0]),
        )
        body._rest_t = out["rest_vertices"][:1]
        body._idx = {n: i for i, n in enumerate(body.labels)}
        return body

    def idx(self, name: str) -> int:
        return self._idx[name]

    def head(self, name: str) -> np.ndarray:
        return self.heads[self._idx[name]]

    def seg_len(self, a: str, b: str) -> float:
        return float(np.linalg.norm(self.head(b) - self.head(a)))

    # -- posing --
    def pose_transforms(self, rot: dict[str, np.ndarray], world: np.ndarray | None = None) -> np.ndarray:
        """Forward kinematics: (J, 4, 4) skinning transforms (rest -> posed).

        ``rot`` maps bone names to 3x3 rotations relative to the rest pose, in the rest frame
        (a bone without an entry keeps its parent's rotation). The root stays in place, then
        ``world`` (4x4) moves the whole posed body.
        """
        J = len(self.labels)
        T = np.zeros((J, 4, 4))
        for j in range(J):
            p = self.parents[j]
            R = rot.get(self.labels[j])
            if p < 0:
                R = np.eye(3) if R is None else R
                pos = self.heads[j]
            else:
                if R is None:
                    R = T[p, :3, :3]
                pos = T[p, :3, :3] @ self.heads[j] + T[p, :3, 3]
            T[j, :3, :3] = R
            T[j, :3, 3] = pos - R @ self.heads[j]
            T[j, 3, 3] = 1.0
        if world is not None:
            T = world[None] @ T
        return T

    def skin(self, T: np.ndarray) -> np.ndarray:
        """Skinned vertices (V, 3) for transforms from ``pose_transforms``."""
        import torch

        m = load_model()
        with torch.no_grad():
            tt = torch.as_tensor(T, dtype=self._rest_t.dtype)[None]
            v = m.get_skinned_vertices(self._rest_t, tt)
        return v[0].double().numpy()

    def keypoints(self, vertices: np.ndarray) -> dict[str, np.ndarray]:
        """anny's COCO (+ foot) keypoints regressed from posed vertices."""
        k = self.keypoint_weights @ vertices
        return {n: k[i] for i, n in enumerate(self.keypoint_labels)}

    def joint_positions(self, T: np.ndarray) -> dict[str, np.ndarray]:
        """Posed bone heads (joint centres) by bone name."""
        return {n: T[j, :3, :3] @ self.heads[j] + T[j, :3, 3] for j, n in enumerate(self.labels)}

    # -- rest measurements --
    def leg_half_thickness(self, side: str, joint: str) -> tuple[float, float]:
        """(medial, lateral) distance from a leg joint centre to the skin along x, in the rest pose."""
        bones = {"knee": ("upperleg02", "lowerleg01"), "ankle": ("lowerleg02", "foot"),
                 "hip": ("upperleg01", "pelvis")}[joint]
        ids = [self.idx(f"{b}.{side}") for b in bones]
        c = self.head(f"{LEG[joint]}.{side}")
        sel = np.isin(self.dominant, ids) & (np.abs(self.rest_vertices[:, 2] - c[2]) < 0.03)
        x = self.rest_vertices[sel, 0]
        sgn = 1.0 if side == "L" else -1.0  # lateral direction along x
        lat = float(np.max(sgn * (x - c[0])))
        med = float(np.max(-sgn * (x - c[0])))
        return med, lat

    def hand_frame(self, side: str) -> np.ndarray:
        """Rest frame of a hand: columns (finger direction, thumb direction, palm normal)."""
        w = self.head(f"wrist.{side}")
        f = self.head(f"finger3-1.{side}") - w
        f /= np.linalg.norm(f)
        th = self.head(f"finger1-1.{side}") - self.head(f"finger5-1.{side}")
        th -= th.dot(f) * f
        th /= np.linalg.norm(th)
        return np.stack([f, th, np.cross(f, th)], axis=1)


# --- colours --------------------------------------------------------------------------------

SKIN_TONES = [
    (0.96, 0.80, 0.69), (0.92, 0.74, 0.60), (0.85, 0.65, 0.50), (0.76, 0.57, 0.42),
    (0.62, 0.44, 0.30), (0.48, 0.33, 0.22), (0.36, 0.24, 0.16),
]
HAIR = [(0.10, 0.07, 0.05), (0.25, 0.16, 0.09), (0.45, 0.33, 0.20), (0.55, 0.55, 0.55),
        (0.70, 0.58, 0.38), (0.08, 0.08, 0.08)]
# Clothes: no skin-like browns, tans or oranges, so clothes never read as skin.
CLOTHES = [
    (0.12, 0.14, 0.18), (0.20, 0.25, 0.45), (0.55, 0.10, 0.12), (0.15, 0.40, 0.25),
    (0.85, 0.85, 0.82), (0.35, 0.35, 0.38), (0.10, 0.35, 0.55), (0.45, 0.20, 0.45),
    (0.05, 0.05, 0.06), (0.70, 0.20, 0.35), (0.25, 0.50, 0.60), (0.30, 0.30, 0.55),
]


@dataclass(frozen=True)
class Outfit:
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    top: tuple[float, float, float]
    bottom: tuple[float, float, float]
    socks: tuple[float, float, float] | None
    long_sleeves: bool
    long_pants: bool

    @staticmethod
    def sample(rng: np.random.Generator, avoid: tuple[float, float, float] | None = None) -> "Outfit":
        def pick(exclude):
            for _ in range(50):
                c = CLOTHES[rng.integers(len(CLOTHES))]
                if all(np.linalg.norm(np.subtract(c, e)) > 0.4 for e in exclude if e is not None):
                    return c
            return c

        skin = SKIN_TONES[rng.integers(len(SKIN_TONES))]
        top = pick([skin, avoid])
        bottom = pick([skin, avoid, top])
        socks = None if rng.random() < 0.5 else pick([skin, avoid])
        return Outfit(skin=skin, hair=HAIR[rng.integers(len(HAIR))], top=top, bottom=bottom,
                      socks=socks, long_sleeves=bool(rng.random() < 0.4),
                      long_pants=bool(rng.random() < 0.7))


def clothing_masks(body: Body, outfit: Outfit) -> dict[str, np.ndarray]:
    """Per-vertex masks (V,) of the shirt (``top``), the trousers or shorts (``bottom``) and the
    socks, by dominant bone."""
    names = body.labels

    def bones(pred):
        return np.array([i for i, n in enumerate(names) if pred(n)])

    top_b = bones(lambda n: n.startswith(("spine", "clavicle", "shoulder01", "upperarm"))
                  or (outfit.long_sleeves and n.startswith("lowerarm")))
    bottom_b = bones(lambda n: n.startswith(("root", "pelvis", "upperleg"))
                     or (outfit.long_pants and n.startswith("lowerleg")))
    d = body.dominant
    rv = body.rest_vertices
    top = np.isin(d, top_b)
    bottom = np.isin(d, bottom_b)
    # The waistband: the lowest spine vertices below the navel go with the trousers.
    hip_z = body.head("upperleg01.L")[2]
    waist = np.isin(d, bones(lambda n: n.startswith("spine0"))) & (rv[:, 2] < hip_z + 0.10)
    top &= ~waist
    bottom |= waist
    if not outfit.long_pants:
        # shorts end above the knee
        knee_z = body.head("lowerleg01.L")[2]
        bottom &= ~(np.isin(d, bones(lambda n: n.startswith("upperleg02"))) & (rv[:, 2] < knee_z + 0.12))
    socks = np.isin(d, bones(lambda n: n.startswith(("foot", "toe")))) if outfit.socks is not None \
        else np.zeros(len(rv), dtype=bool)
    return {"top": top, "bottom": bottom, "socks": socks}


def looseness_weights(body: Body, outfit: Outfit) -> np.ndarray:
    """How far (0..1 of the set's looseness) each vertex's cloth stands off the skin: the trunk,
    upper arms and thighs fully, forearms and shins (long sleeves, long trousers) half."""
    m = clothing_masks(body, outfit)
    w = np.zeros(len(body.rest_vertices))
    w[m["top"] | m["bottom"]] = 1.0
    distal = np.isin(body.dominant, [i for i, n in enumerate(body.labels) if n.startswith(("lowerarm", "lowerleg"))])
    w[distal & (w > 0)] = 0.5
    return w


def vertex_colours(body: Body, outfit: Outfit, rng: np.random.Generator | None = None) -> np.ndarray:
    """Per-vertex RGB (V, 3) floats: clothes by dominant bone, skin elsewhere, hair on the scalp."""
    names = body.labels
    V = len(body.rest_vertices)
    col = np.tile(np.array(outfit.skin, dtype=np.float64), (V, 1))

    def bones(pred):
        return np.array([i for i, n in enumerate(names) if pred(n)])

    d = body.dominant
    rv = body.rest_vertices
    m = clothing_masks(body, outfit)
    col[m["top"]] = outfit.top
    col[m["bottom"]] = outfit.bottom
    if outfit.socks is not None:
        col[m["socks"]] = outfit.socks
    # hair: scalp vertices of the head bone (above the ears, or behind them)
    hb = np.isin(d, bones(lambda n: n in ("head",)))
    eye_l = body.head("eye.L")
    top_z = rv[hb, 2].max()
    scalp = hb & ((rv[:, 2] > eye_l[2] + 0.045) | ((rv[:, 1] > eye_l[1] + 0.10) & (rv[:, 2] > eye_l[2] - 0.05)))
    scalp &= rv[:, 2] < top_z + 1.0
    col[scalp] = outfit.hair
    # subtle per-vertex shading noise so large areas are not flat
    if rng is not None:
        col = col * (1.0 + rng.normal(0.0, 0.015, size=(V, 1)))
    return np.clip(col, 0.0, 1.0)
