"""The room, what the person lies on (table, floor mat, bed), the lights, rendered with pyrender on the CPU.

Headless OpenGL: ``PYOPENGL_PLATFORM`` defaults to ``egl`` (Mesa's software EGL: Debian
``libegl1``, ``libegl-mesa0``, ``libgl1-mesa-dri``). ``osmesa`` (``libosmesa6`` with PyOpenGL
3.1.10) renders the same images but leaks ~40 MB of memory per frame once the body mesh changes,
so it is not used.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass

import numpy as np

from .camera import (VIEWS, Camera, CameraSpec, look_at, make_camera,  # noqa: F401 (re-exported)
                     mirror_camera, view_label)
from .options import Support

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
if not hasattr(np, "infty"):  # pyrender 0.1.45 still uses np.infty (removed in numpy 2)
    np.infty = np.inf  # type: ignore[attr-defined]


def _import_pyrender():
    import pyrender  # noqa: F401

    return pyrender


# --- the room -------------------------------------------------------------------------------

MATS = [(0.20, 0.45, 0.75), (0.30, 0.60, 0.35), (0.55, 0.30, 0.60), (0.15, 0.55, 0.55),
        (0.25, 0.25, 0.30), (0.35, 0.45, 0.20)]
WALLS = [(0.86, 0.84, 0.80), (0.78, 0.82, 0.86), (0.88, 0.86, 0.78), (0.70, 0.72, 0.70),
         (0.92, 0.92, 0.92)]
FLOORS = [(0.55, 0.42, 0.30), (0.45, 0.45, 0.47), (0.68, 0.58, 0.45), (0.35, 0.28, 0.22)]
TABLES = [(0.92, 0.92, 0.90), (0.60, 0.48, 0.35), (0.35, 0.35, 0.38)]
PILLOWS = [(0.95, 0.95, 0.95), (0.85, 0.88, 0.92), (0.92, 0.88, 0.80)]
SHEETS = [(0.93, 0.93, 0.95), (0.72, 0.80, 0.90), (0.85, 0.80, 0.70), (0.60, 0.62, 0.66),
          (0.80, 0.70, 0.78)]
CUSHIONS = [(0.85, 0.80, 0.72), (0.55, 0.65, 0.75), (0.75, 0.55, 0.45), (0.40, 0.45, 0.40),
            (0.90, 0.90, 0.88)]
#: key light colours at light_tint -1 (cool), 0 and +1 (warm)
_TINTS = (np.array([0.88, 0.94, 1.0]), np.array([1.0, 0.97, 0.92]), np.array([1.0, 0.90, 0.76]))


def key_light_colour(tint: float) -> list[float]:
    t = float(np.clip(tint, -1.0, 1.0))
    a, b = (_TINTS[1], _TINTS[0]) if t < 0 else (_TINTS[1], _TINTS[2])
    return (a + abs(t) * (b - a)).tolist()


@dataclass
class Room:
    mat: tuple
    wall: tuple
    floor: tuple
    table: tuple
    pillow: tuple
    key_intensity: float
    key_azimuth: float
    key_elevation: float
    fill_intensity: float
    ambient: float
    shadows: bool = False
    #: Later additions, drawn by the set (not by ``sample``, so the first sets stay as they were):
    light_scale: float = 1.0  # multiplies every light and the ambient (dim room < 1 < bright)
    light_tint: float = 0.0  # key light colour: -1 cool (daylight) .. 0 neutral .. +1 warm (bulb)
    sheet: tuple = (0.90, 0.90, 0.92)  # bed sheet
    cushion: tuple = (0.85, 0.80, 0.72)  # the pillow between the knees

    @staticmethod
    def sample(rng: np.random.Generator, avoid=()) -> "Room":
        def pick(lst, ex=()):
            for _ in range(30):
                c = lst[rng.integers(len(lst))]
                if all(np.linalg.norm(np.subtract(c, e)) > 0.3 for e in ex):
                    return c
            return c

        return Room(mat=pick(MATS, avoid), wall=pick(WALLS), floor=pick(FLOORS), table=pick(TABLES),
                    pillow=pick(PILLOWS), key_intensity=float(rng.uniform(1.6, 2.6)),
                    key_azimuth=float(rng.uniform(-150, -30)), key_elevation=float(rng.uniform(40, 75)),
                    fill_intensity=float(rng.uniform(0.5, 1.0)), ambient=float(rng.uniform(0.12, 0.22)))

    def block(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def _box(extents, centre, colour, pyrender, rough=0.8):
    import trimesh

    m = trimesh.creation.box(extents=extents)
    m.apply_translation(centre)
    mat = pyrender.MetallicRoughnessMaterial(baseColorFactor=[*map(float, colour), 1.0],
                                             metallicFactor=0.0, roughnessFactor=rough)
    return pyrender.Mesh.from_trimesh(m, material=mat, smooth=False)


def _rounded_box(extents, centre, colour, pyrender):
    import trimesh

    m = trimesh.creation.capsule(height=extents[0] - extents[2], radius=extents[2] / 2, count=[24, 12])
    # capsule along z; lay it along X and squash it to the pillow's depth
    R = np.eye(4)
    R[:3, :3] = [[0, 0, 1], [0, 1, 0], [-1, 0, 0]]
    m.apply_transform(R)
    m.apply_scale([1.0, extents[1] / extents[2], 1.0])
    m.apply_translation(centre)
    mat = pyrender.MetallicRoughnessMaterial(baseColorFactor=[*map(float, colour), 1.0],
                                             metallicFactor=0.0, roughnessFactor=0.9)
    return pyrender.Mesh.from_trimesh(m, material=mat, smooth=True)


def _soft_box(extents, centre, colour, pyrender, eps: float = 0.2, yaw_deg: float = 0.0, rough=0.95):
    """A superellipsoid: a box with rounded edges (``eps`` -> 0) up to an ellipsoid (``eps`` = 1)."""
    import trimesh

    m = trimesh.creation.icosphere(subdivisions=4)
    v = np.sign(m.vertices) * np.abs(m.vertices) ** eps * (np.asarray(extents, dtype=np.float64) / 2)
    c, s_ = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    v = v @ np.array([[c, -s_, 0.0], [s_, c, 0.0], [0.0, 0.0, 1.0]]).T + np.asarray(centre, dtype=np.float64)
    mesh = trimesh.Trimesh(v, m.faces, process=False)
    mat = pyrender.MetallicRoughnessMaterial(baseColorFactor=[*map(float, colour), 1.0],
                                             metallicFactor=0.0, roughnessFactor=rough)
    return pyrender.Mesh.from_trimesh(mesh, material=mat, smooth=True)


#: thickness of the exercise mat (m) on a table; on the floor the mat's top is its thickness
TABLE_MAT_THICKNESS = 0.02
MATTRESS_THICKNESS = 0.22


def _support_meshes(support: Support, room: Room, cx: float, mat_top: float, pyrender) -> list:
    """What the person lies on, its top surface at ``mat_top``."""
    ty = -0.15
    if support is Support.TABLE:
        mat_t = TABLE_MAT_THICKNESS
        table_top = mat_top - mat_t
        out = [_box([2.0, 1.0, 0.05], [cx, ty, table_top - 0.025], room.table, pyrender)]
        for lx in (-0.92, 0.92):
            for ly in (-0.42, 0.42):
                out.append(_box([0.06, 0.06, table_top - 0.05], [cx + lx, ty + ly, (table_top - 0.05) / 2],
                                tuple(0.8 * np.array(room.table)), pyrender))
        out.append(_box([1.9, 0.9, mat_t], [cx, ty, mat_top - mat_t / 2], room.mat, pyrender, rough=0.95))
        return out
    if support is Support.FLOOR:
        return [_box([1.8, 0.8, mat_top], [cx, ty, mat_top / 2], room.mat, pyrender, rough=0.95)]
    # a bed: a wooden frame and a soft-edged mattress in a sheet
    base = mat_top - MATTRESS_THICKNESS
    by = ty + 0.2
    out = [_box([2.1, 1.5, base], [cx, by, base / 2], tuple(0.8 * np.array(room.table)), pyrender)]
    out.append(_soft_box([2.0, 1.4, MATTRESS_THICKNESS + 0.02], [cx, by, base + MATTRESS_THICKNESS / 2 - 0.01],
                         room.sheet, pyrender, eps=0.18))
    return out


class Stage:
    """A pyrender scene with the room, a replaceable body mesh and one offscreen renderer.

    ``pillow`` is the head pillow ({top, center}); ``knee_pillow`` the cushion between the knees
    ({center, extents, yaw_deg}), both in the unmirrored lying frame."""

    def __init__(self, room: Room, mat_top: float, body_centre_x: float, pillow: dict | None,
                 width: int, height: int, mirror: bool = False, support: Support = Support.TABLE,
                 knee_pillow: dict | None = None):
        pyrender = _import_pyrender()
        self.pr = pyrender
        self.mirror = mirror
        sx = -1.0 if mirror else 1.0
        ls = room.light_scale
        self.scene = pyrender.Scene(bg_color=[*room.wall, 1.0], ambient_light=[room.ambient * ls] * 3)
        cx = body_centre_x
        # floor, walls
        self.scene.add(_box([12, 12, 0.02], [0, 0, -0.01], room.floor, pyrender))
        self.scene.add(_box([12, 0.1, 5], [0, 3.5, 2.5], room.wall, pyrender))
        self.scene.add(_box([0.1, 12, 5], [sx * 4.5, 0, 2.5], room.wall, pyrender))
        self.scene.add(_box([0.1, 12, 5], [-sx * 4.5, 0, 2.5], room.wall, pyrender))
        self.scene.add(_box([12, 0.1, 5], [0, -4.5, 2.5], room.wall, pyrender))
        for mesh in _support_meshes(Support(support), room, sx * cx, mat_top, pyrender):
            self.scene.add(mesh)
        if pillow is not None:
            h = max(pillow["top"] - mat_top, 0.03)
            c = [sx * pillow["center"][0], pillow["center"][1], mat_top + h / 2]
            self.scene.add(_rounded_box([0.45, 0.32, h], c, room.pillow, pyrender))
        if knee_pillow is not None:
            c = list(knee_pillow["center"])
            c[0] *= sx
            self.scene.add(_soft_box(knee_pillow["extents"], c, room.cushion, pyrender, eps=0.45,
                                     yaw_deg=sx * knee_pillow["yaw_deg"]))
        # lights
        def dir_pose(az, el):
            a, e = math.radians(az), math.radians(el)
            d = np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
            return look_at(np.array([sx * cx, 0, mat_top]) + 3 * d, np.array([sx * cx, 0, mat_top]))

        self.scene.add(pyrender.DirectionalLight(color=key_light_colour(room.light_tint),
                                                 intensity=room.key_intensity * ls),
                       pose=dir_pose(room.key_azimuth, room.key_elevation))
        self.scene.add(pyrender.DirectionalLight(color=[0.9, 0.95, 1.0], intensity=room.fill_intensity * ls),
                       pose=dir_pose(room.key_azimuth + 140, 30))
        self.scene.add(pyrender.DirectionalLight(color=[1.0, 1.0, 1.0], intensity=0.35 * ls),
                       pose=dir_pose(0, 89))
        self.shadows = room.shadows
        self.body_node = None
        self.cam_node = None
        self.width, self.height = width, height
        self.renderer = pyrender.OffscreenRenderer(width, height)
        self._body_mat = pyrender.MetallicRoughnessMaterial(baseColorFactor=[1, 1, 1, 1.0],
                                                            metallicFactor=0.0, roughnessFactor=0.75)

    def set_body(self, vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray, colours: np.ndarray):
        pr = self.pr
        if self.body_node is not None:
            prim = self.body_node.mesh.primitives[0]
            if getattr(prim, "_vaid", None) is not None and len(prim.positions) == len(vertices):
                # Update the vertex buffer in place: a new pyrender mesh per frame leaks ~40 MB
                # in Mesa each time, even after pyrender deletes the old one.
                from OpenGL import GL

                rgba = prim.color_0
                data = np.ascontiguousarray(
                    np.hstack([vertices, normals, rgba]).astype(np.float32).ravel())
                self.renderer._platform.make_current()
                GL.glBindBuffer(GL.GL_ARRAY_BUFFER, prim._buffers[0])
                GL.glBufferSubData(GL.GL_ARRAY_BUFFER, 0, data.nbytes, data)
                GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
                prim._positions = vertices.astype(np.float32)
                return
        prim = pr.Primitive(positions=vertices.astype(np.float32), normals=normals.astype(np.float32),
                            color_0=colours.astype(np.float32), indices=faces.astype(np.uint32),
                            material=self._body_mat, mode=4)
        mesh = pr.Mesh(primitives=[prim])
        if self.body_node is not None:
            self.scene.remove_node(self.body_node)
        self.body_node = self.scene.add(mesh)

    def render(self, cam: Camera) -> tuple[np.ndarray, np.ndarray]:
        pr = self.pr
        if self.cam_node is not None:
            self.scene.remove_node(self.cam_node)
        c = pr.PerspectiveCamera(yfov=math.radians(cam.yfov_deg), aspectRatio=cam.width / cam.height,
                                 znear=0.05, zfar=20.0)
        self.cam_node = self.scene.add(c, pose=cam.pose)
        flags = pr.RenderFlags.SHADOWS_DIRECTIONAL if self.shadows else pr.RenderFlags.NONE
        colour, depth = self.renderer.render(self.scene, flags=flags)
        return colour, depth

    def close(self):
        try:
            self.renderer.delete()
        except Exception:
            pass


class NormalCalc:
    """Vertex normals from faces, with a precomputed vertex-face incidence matrix."""

    def __init__(self, faces: np.ndarray, n_vertices: int):
        import scipy.sparse as sp

        F = len(faces)
        rows = faces.ravel()
        cols = np.repeat(np.arange(F), 3)
        self.A = sp.csr_matrix((np.ones(3 * F), (rows, cols)), shape=(n_vertices, F))
        self.faces = faces

    def __call__(self, v: np.ndarray) -> np.ndarray:
        f = self.faces
        fn = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
        vn = self.A @ fn
        n = np.linalg.norm(vn, axis=1, keepdims=True)
        return vn / np.maximum(n, 1e-12)
