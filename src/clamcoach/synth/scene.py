"""The room, the table and mat, the lights and the cameras, rendered with pyrender on the CPU.

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

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
if not hasattr(np, "infty"):  # pyrender 0.1.45 still uses np.infty (removed in numpy 2)
    np.infty = np.inf  # type: ignore[attr-defined]

VIEWS = ("front", "oblique", "overhead", "feet")


def _import_pyrender():
    import pyrender  # noqa: F401

    return pyrender


# --- cameras --------------------------------------------------------------------------------


@dataclass
class Camera:
    """A pinhole camera in the lying frame. ``pose`` is camera-to-world (OpenGL: looks down -z)."""

    view: str
    width: int
    height: int
    fps: float
    yfov_deg: float
    pose: np.ndarray
    distance_m: float
    height_m: float  # camera height above the floor
    height_above_mat_m: float
    pitch_deg: float  # looking down, deg below horizontal
    yaw_deg: float  # about the vertical, deg, from the view's nominal direction

    @property
    def focal(self) -> float:
        return 0.5 * self.height / math.tan(math.radians(self.yfov_deg) / 2)

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 2) pixel coordinates (x right, y down) and (N,) depth in metres."""
        inv = np.linalg.inv(self.pose)
        p = pts @ inv[:3, :3].T + inv[:3, 3]
        z = -p[:, 2]
        f = self.focal
        x = self.width / 2 + f * p[:, 0] / z
        y = self.height / 2 - f * p[:, 1] / z
        return np.stack([x, y], axis=1), z

    def block(self) -> dict:
        f = self.focal
        return {
            "view": self.view, "height_m": round(self.height_m, 3),
            "height_above_mat_m": round(self.height_above_mat_m, 3),
            "pitch_deg": round(self.pitch_deg, 2), "yaw_deg": round(self.yaw_deg, 2),
            "distance_m": round(self.distance_m, 3), "fps": self.fps,
            "resolution": [self.width, self.height], "yfov_deg": round(self.yfov_deg, 3),
            "intrinsics": {"fx": round(f, 3), "fy": round(f, 3), "cx": self.width / 2, "cy": self.height / 2},
            "pose_camera_to_world": np.round(self.pose, 5).tolist(),
        }


def look_at(eye: np.ndarray, target: np.ndarray, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    f = target - eye
    f = f / np.linalg.norm(f)
    up = np.asarray(up, dtype=np.float64)
    if abs(f.dot(up)) > 0.98:
        up = np.array([1.0, 0.0, 0.0])
    r = np.cross(f, up)
    r /= np.linalg.norm(r)
    u = np.cross(r, f)
    P = np.eye(4)
    P[:3, 0], P[:3, 1], P[:3, 2], P[:3, 3] = r, u, -f, eye
    return P


@dataclass
class CameraSpec:
    """Where to put a camera, relative to the body's centre (random when built by ``sample``)."""

    view: str
    distance: float
    pitch: float  # deg below horizontal
    yaw: float  # deg about the vertical, from the nominal direction
    fill: float = 0.8  # fraction of the frame the body spans (sets the field of view)
    roll: float = 0.0  # deg, camera roll (a tilted phone)

    @staticmethod
    def nominal(view: str) -> "CameraSpec":
        return {
            "front": CameraSpec("front", 2.4, 5.0, 0.0),
            "oblique": CameraSpec("oblique", 2.4, 35.0, 0.0),
            "overhead": CameraSpec("overhead", 2.0, 88.0, 0.0),
            "feet": CameraSpec("feet", 2.4, 25.0, 0.0),
        }[view]

    @staticmethod
    def sample(view: str, rng: np.random.Generator) -> "CameraSpec":
        if view == "front":
            return CameraSpec(view, rng.uniform(1.8, 3.2), rng.uniform(0.0, 12.0), rng.uniform(-20, 20),
                              rng.uniform(0.6, 0.85), rng.uniform(-3, 3))
        if view == "oblique":
            return CameraSpec(view, rng.uniform(1.8, 3.0), rng.uniform(28.0, 42.0), rng.uniform(-20, 20),
                              rng.uniform(0.6, 0.85), rng.uniform(-3, 3))
        if view == "overhead":
            return CameraSpec(view, rng.uniform(1.5, 2.2), rng.uniform(78.0, 89.0), rng.uniform(-15, 15),
                              rng.uniform(0.65, 0.9), 0.0)
        if view == "feet":
            return CameraSpec(view, rng.uniform(1.8, 3.0), rng.uniform(15.0, 35.0), rng.uniform(-20, 20),
                              rng.uniform(0.55, 0.8), rng.uniform(-3, 3))
        raise ValueError(f"unknown view {view!r}; choose from {', '.join(VIEWS)}")


def make_camera(spec: CameraSpec, target: np.ndarray, body_pts: np.ndarray, width: int, height: int,
                fps: float, mat_top: float) -> Camera:
    """A camera looking at ``target`` from the spec's direction; the field of view is set so
    the body (``body_pts``, lying frame) spans about ``spec.fill`` of the frame."""
    # nominal horizontal direction from the target to the camera
    base = {"front": -90.0, "oblique": -90.0, "overhead": -90.0, "feet": 180.0}[spec.view]
    az = math.radians(base + spec.yaw)
    el = math.radians(spec.pitch)
    d = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    eye = target + spec.distance * d
    up = (0.0, 0.0, 1.0)
    if spec.pitch > 70:  # overhead: the body across the image (its long axis along the width)
        up = (math.tan(math.radians(spec.yaw)), 1.0, 0.0)
    pose = look_at(eye, target, up)
    if spec.roll:
        c, s = math.cos(math.radians(spec.roll)), math.sin(math.radians(spec.roll))
        Rz = np.eye(4)
        Rz[:2, :2] = [[c, -s], [s, c]]
        pose = pose @ Rz
    # field of view from the body's extent in the camera
    inv = np.linalg.inv(pose)
    p = body_pts @ inv[:3, :3].T + inv[:3, 3]
    z = -p[:, 2]
    tx = np.max(np.abs(p[:, 0] / z))
    ty = np.max(np.abs(p[:, 1] / z))
    aspect = width / height
    half_y = max(ty, tx / aspect) / spec.fill
    yfov = 2 * math.degrees(math.atan(half_y))
    return Camera(view=spec.view, width=width, height=height, fps=fps, yfov_deg=yfov, pose=pose,
                  distance_m=spec.distance, height_m=float(eye[2]), height_above_mat_m=float(eye[2] - mat_top),
                  pitch_deg=spec.pitch, yaw_deg=spec.yaw)


def mirror_camera(cam: Camera) -> Camera:
    """The same camera in the world mirrored by X -> -X (for the right side)."""
    S = np.diag([-1.0, 1.0, 1.0, 1.0])
    pose = S @ cam.pose @ S
    return Camera(**{**cam.__dict__, "pose": pose, "yaw_deg": -cam.yaw_deg})


# --- the room -------------------------------------------------------------------------------

MATS = [(0.20, 0.45, 0.75), (0.30, 0.60, 0.35), (0.55, 0.30, 0.60), (0.15, 0.55, 0.55),
        (0.25, 0.25, 0.30), (0.35, 0.45, 0.20)]
WALLS = [(0.86, 0.84, 0.80), (0.78, 0.82, 0.86), (0.88, 0.86, 0.78), (0.70, 0.72, 0.70),
         (0.92, 0.92, 0.92)]
FLOORS = [(0.55, 0.42, 0.30), (0.45, 0.45, 0.47), (0.68, 0.58, 0.45), (0.35, 0.28, 0.22)]
TABLES = [(0.92, 0.92, 0.90), (0.60, 0.48, 0.35), (0.35, 0.35, 0.38)]
PILLOWS = [(0.95, 0.95, 0.95), (0.85, 0.88, 0.92), (0.92, 0.88, 0.80)]


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


class Stage:
    """A pyrender scene with the room, a replaceable body mesh and one offscreen renderer."""

    def __init__(self, room: Room, mat_top: float, body_centre_x: float, pillow: dict | None,
                 width: int, height: int, mirror: bool = False):
        pyrender = _import_pyrender()
        self.pr = pyrender
        self.mirror = mirror
        sx = -1.0 if mirror else 1.0
        self.scene = pyrender.Scene(bg_color=[*room.wall, 1.0], ambient_light=[room.ambient] * 3)
        cx = body_centre_x
        mat_t = 0.02
        table_top = mat_top - mat_t
        # floor, walls
        self.scene.add(_box([12, 12, 0.02], [0, 0, -0.01], room.floor, pyrender))
        self.scene.add(_box([12, 0.1, 5], [0, 3.5, 2.5], room.wall, pyrender))
        self.scene.add(_box([0.1, 12, 5], [sx * 4.5, 0, 2.5], room.wall, pyrender))
        self.scene.add(_box([0.1, 12, 5], [-sx * 4.5, 0, 2.5], room.wall, pyrender))
        self.scene.add(_box([12, 0.1, 5], [0, -4.5, 2.5], room.wall, pyrender))
        # table (top + legs), mat, pillow
        ty = -0.15
        self.scene.add(_box([2.0, 1.0, 0.05], [sx * cx, ty, table_top - 0.025], room.table, pyrender))
        for lx in (-0.92, 0.92):
            for ly in (-0.42, 0.42):
                self.scene.add(_box([0.06, 0.06, table_top - 0.05], [sx * cx + lx, ty + ly, (table_top - 0.05) / 2],
                                    tuple(0.8 * np.array(room.table)), pyrender))
        self.scene.add(_box([1.9, 0.9, mat_t], [sx * cx, ty, mat_top - mat_t / 2], room.mat, pyrender, rough=0.95))
        if pillow is not None:
            h = max(pillow["top"] - mat_top, 0.03)
            c = [sx * pillow["center"][0], pillow["center"][1], mat_top + h / 2]
            self.scene.add(_rounded_box([0.45, 0.32, h], c, room.pillow, pyrender))
        # lights
        def dir_pose(az, el):
            a, e = math.radians(az), math.radians(el)
            d = np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
            return look_at(np.array([sx * cx, 0, mat_top]) + 3 * d, np.array([sx * cx, 0, mat_top]))

        self.scene.add(pyrender.DirectionalLight(color=[1.0, 0.97, 0.92], intensity=room.key_intensity),
                       pose=dir_pose(room.key_azimuth, room.key_elevation))
        self.scene.add(pyrender.DirectionalLight(color=[0.9, 0.95, 1.0], intensity=room.fill_intensity),
                       pose=dir_pose(room.key_azimuth + 140, 30))
        self.scene.add(pyrender.DirectionalLight(color=[1.0, 1.0, 1.0], intensity=0.35),
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
