"""The patient lesson: a short captioned video of the clamshell, rendered from the same body
model as the data sets.

    clamcoach synth --lesson lesson.mp4

Order: the set-up step by step, one good rep, then each common mistake beside the right way,
in the method's order of importance (rolling back first, then lifting too high, then feet
apart). Captions are drawn with PIL (matplotlib's DejaVu Sans), plain words, with the *why*.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np

from .clamshell import FrameParams
from .options import Hand
from .motion import RepPlan
from .render import SetRenderer, SetSpec
from .scene import CameraSpec, Stage, make_camera
from .video import Mp4Writer

TITLE_H = 56
CAPTION_H = 104

GREEN = (40, 160, 70)
RED = (200, 50, 45)
YELLOW = (255, 200, 30)


def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(f"{matplotlib.get_data_path()}/fonts/ttf/{name}", size)
    except OSError:  # pragma: no cover
        return ImageFont.load_default()


@dataclass
class Shot:
    """One section of the lesson."""

    title: str
    caption: str
    seconds: float
    left: object  # callable t -> FrameParams  (the only panel when right is None)
    right: object | None = None
    left_label: str | None = None
    right_label: str | None = None
    overlay: str | None = None  # "hips", "ankles", "knee"


def _rep(opening, roll_back=0.0, lift=0.0, up=1.4, hold=2.0, down=1.4):
    return RepPlan(up_s=up, hold_s=hold, down_s=down, rest_s=0.6, opening=opening, roll_back=roll_back,
                   ankle_lift=lift)


class Lesson:
    def __init__(self, width: int = 960, height: int = 540, fps: float = 15.0, seed: int = 3):
        self.W, self.H, self.fps = width, height, fps
        self.ph = height - TITLE_H - CAPTION_H
        self.ph -= self.ph % 2
        self.pw_half = (width // 2) - (width // 2) % 2
        spec = SetSpec(reps=1, seed=seed, side="left", views=("oblique",), width=width, height=self.ph,
                       fps=fps, forward_roll=12.0, hip_flex=45.0, knee_flex=55.0, hand_on_hip=True)
        self.r = SetRenderer(spec)
        self.roll0 = self.r.setup.forward_roll
        shin = self.r.poser.L2["R"]
        self.lift = 0.4 * shin
        # cameras framed on the most open pose, oblique from the front
        v0 = self.r.pose_frame(0.0, FrameParams(roll=self.roll0))[2]
        vo = self.r.pose_frame(0.0, FrameParams(roll=self.roll0 - 20, opening=65, ankle_lift=self.lift))[2]
        both = np.concatenate([v0[::15], vo[::15]])
        target = 0.5 * (both.min(0) + both.max(0))
        cs = CameraSpec("oblique", 2.3, 32.0, -12.0, 0.9)
        self.cam_full = make_camera(cs, target, both, width, self.ph, fps, self.r.setup.mat_top)
        self.cam_half = make_camera(CameraSpec("oblique", 2.3, 32.0, -12.0, 0.95), target, both,
                                    self.pw_half, self.ph, fps, self.r.setup.mat_top)
        args = (self.r.room, self.r.setup.mat_top, 0.0, self.r.poser.pillow)
        self.stage_full = Stage(*args, width, self.ph)
        self.stage_half = Stage(*args, self.pw_half, self.ph)
        self.f_title = _font(26, bold=True)
        self.f_cap = _font(21)
        self.f_label = _font(22, bold=True)
        self.f_big = _font(40, bold=True)

    # -- motion helpers --
    def still(self, **kw):
        fp = FrameParams(roll=self.roll0, **kw)
        return lambda t: fp

    def rep(self, plan: RepPlan, lead: float = 0.6):
        def f(t):
            tt = t - lead
            p = float(plan.profile(tt))
            pm = float(plan.profile(tt, 0.15))
            return FrameParams(roll=self.roll0 - plan.roll_back * pm, opening=plan.opening * p,
                               ankle_lift=plan.ankle_lift * pm)
        return f

    def roll_in(self, seconds: float):
        def f(t):
            x = min(max((t - 0.5) / (seconds - 1.5), 0.0), 1.0)
            x = x * x * (3 - 2 * x)
            return FrameParams(roll=self.roll0 * x)
        return f

    def hand_to_hip(self, seconds: float):
        return lambda t: FrameParams(roll=self.roll0, hand=Hand.HIP if t > seconds * 0.4 else Hand.MAT_BELLY)

    # -- drawing --
    def _panel(self, fp: FrameParams, half: bool, overlay: str | None) -> np.ndarray:
        stage = self.stage_half if half else self.stage_full
        cam = self.cam_half if half else self.cam_full
        _, posed, v, pts = self.r.pose_frame(0.0, fp)
        stage.set_body(v, self.r.faces, self.r.normals(v), self.r.colours)
        rgb, _ = stage.render(cam)
        if overlay:
            rgb = self._overlay(rgb, cam, pts, overlay)
        return rgb

    def _overlay(self, rgb, cam, pts, kind):
        import cv2

        img = rgb.copy()

        def P(name):
            xy, _ = cam.project(np.asarray(pts[name])[None])
            return tuple(int(round(c)) for c in xy[0])

        if kind == "hips":
            a, b = P("left_hip"), P("right_hip")
            cv2.line(img, a, b, YELLOW, 3, cv2.LINE_AA)
            cv2.circle(img, a, 5, YELLOW, -1, cv2.LINE_AA)
            cv2.circle(img, b, 5, YELLOW, -1, cv2.LINE_AA)
            a, b = P("left_shoulder"), P("right_shoulder")
            cv2.line(img, a, b, YELLOW, 3, cv2.LINE_AA)
        elif kind == "ankles":
            a, b = P("left_ankle"), P("right_ankle")
            c = ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2)
            r = int(max(18, 0.6 * math.dist(a, b) + 14))
            cv2.circle(img, c, r, YELLOW, 3, cv2.LINE_AA)
        elif kind == "knee":
            h, k, ank = P("right_hip"), P("right_knee"), P("right_ankle")
            cv2.line(img, h, k, YELLOW, 3, cv2.LINE_AA)
            cv2.line(img, k, ank, YELLOW, 3, cv2.LINE_AA)
            h2, k2 = P("left_hip"), P("left_knee")
            cv2.line(img, h2, k2, (255, 255, 255), 2, cv2.LINE_AA)
        return img

    def _compose(self, shot: Shot, panels: list[np.ndarray]) -> np.ndarray:
        from PIL import Image, ImageDraw

        frame = np.full((self.H, self.W, 3), 250, np.uint8)
        frame[TITLE_H:TITLE_H + self.ph, :] = 255
        x = 0
        for p in panels:
            frame[TITLE_H:TITLE_H + self.ph, x:x + p.shape[1]] = p
            x += p.shape[1]
        im = Image.fromarray(frame)
        d = ImageDraw.Draw(im)
        d.rectangle([0, 0, self.W, TITLE_H], fill=(34, 60, 94))
        d.text((16, TITLE_H // 2), shot.title, font=self.f_title, fill=(255, 255, 255), anchor="lm")
        lines = textwrap.wrap(shot.caption, width=int(self.W / 11.5))
        y = TITLE_H + self.ph + 12
        for ln in lines[:3]:
            d.text((16, y), ln, font=self.f_cap, fill=(20, 20, 20))
            y += 28
        if len(panels) == 2:
            d.line([self.pw_half, TITLE_H, self.pw_half, TITLE_H + self.ph], fill=(255, 255, 255), width=4)
            for lbl, x0, col in ((shot.left_label, 10, RED), (shot.right_label, self.pw_half + 10, GREEN)):
                if lbl:
                    w = d.textlength(lbl, font=self.f_label)
                    d.rounded_rectangle([x0, TITLE_H + 10, x0 + w + 20, TITLE_H + 44], 8, fill=col)
                    d.text((x0 + 10, TITLE_H + 27), lbl, font=self.f_label, fill=(255, 255, 255), anchor="lm")
        return np.asarray(im)

    def card(self, title: str, lines: list[str]) -> np.ndarray:
        from PIL import Image, ImageDraw

        im = Image.new("RGB", (self.W, self.H), (34, 60, 94))
        d = ImageDraw.Draw(im)
        d.text((self.W // 2, self.H // 2 - 60), title, font=self.f_big, fill=(255, 255, 255), anchor="mm")
        y = self.H // 2 + 10
        for ln in lines:
            d.text((self.W // 2, y), ln, font=self.f_cap, fill=(220, 230, 240), anchor="mm")
            y += 32
        return np.asarray(im)

    # -- the script --
    def shots(self) -> list[Shot]:
        good = _rep(22.0)
        return [
            Shot("Set-up 1: lie on your side", "Lie on your side with your hips and knees bent, about 45 degrees each. "
                 "Rest your head on a pillow. A pillow between the knees is fine if your hips or knees hurt.",
                 4.0, self.still()),
            Shot("Set-up 2: roll slightly forward", "Roll your body a little forward, belly button toward the table. "
                 "This puts the work in the buttock muscles, where we want it.", 4.5, self.roll_in(4.5),
                 overlay="hips"),
            Shot("Set-up 3: hand on your hip", "Put your top hand on your hip: thumb on your low back, fingers on the "
                 "side of the hip, so you can feel the muscles tighten.", 3.5, self.hand_to_hip(3.5)),
            Shot("Set-up 4: feet together", "Keep your feet together the whole time: they are the hinge.", 3.0,
                 self.still(), overlay="ankles"),
            Shot("A good rep", "Squeeze the hip muscles and lift the top knee a little, like a clamshell opening. "
                 "Hold about 2 seconds, feel the muscles work, then lower slowly.", 6.0, self.rep(good)),
            Shot("Mistake 1 (the most important): rolling back",
                 "Left: the pelvis rolls back as the knee lifts, and other muscles take over. Right: stay rolled "
                 "forward. If you roll back, lift the knee less: staying forward matters more than height.",
                 6.5, self.rep(_rep(34.0, roll_back=20.0)), self.rep(_rep(20.0)), "Rolling back",
                 "Staying forward", overlay="hips"),
            Shot("Mistake 2: lifting too high",
                 "Left: lifting as high as you can. Right: lift only as far as you can without the pelvis moving. "
                 "A small lift is fine; some people can hardly separate the knees, and that's OK.",
                 6.5, self.rep(_rep(66.0)), self.rep(_rep(22.0)), "Too high", "A little is enough",
                 overlay="knee"),
            Shot("Mistake 3: feet apart",
                 "Left: the top foot lifts off. Right: the feet stay together and only the knee opens.",
                 6.5, self.rep(_rep(22.0, lift=self.lift)), self.rep(_rep(22.0)), "Feet apart",
                 "Feet together", overlay="ankles"),
        ]

    def render(self, out: str) -> float:
        w = Mp4Writer(out, self.W, self.H, self.fps, crf=23)
        n_total = 0
        try:
            def hold_card(img, seconds):
                nonlocal n_total
                for _ in range(int(round(seconds * self.fps))):
                    w.write(img)
                    n_total += 1

            hold_card(self.card("The clamshell", ["How to do it, and the three common mistakes",
                                                  "(most important first)"]), 2.5)
            for shot in self.shots():
                n = int(round(shot.seconds * self.fps))
                for i in range(n):
                    t = i / self.fps
                    if shot.right is None:
                        panels = [self._panel(shot.left(t), False, shot.overlay)]
                    else:
                        panels = [self._panel(shot.left(t), True, shot.overlay),
                                  self._panel(shot.right(t), True, shot.overlay)]
                    w.write(self._compose(shot, panels))
                    n_total += 1
            hold_card(self.card("Remember", ["Stay rolled forward.", "Small, slow, controlled lifts.",
                                             "Feet together. Feel your hip work."]), 3.0)
        finally:
            w.close()
            self.stage_full.close()
            self.stage_half.close()
        return n_total / self.fps


def render_lesson(out: str, width: int = 960, height: int = 540, fps: float = 15.0, seed: int = 3) -> float:
    """Write the lesson video; returns its duration in seconds."""
    if (width, height) == (640, 480):  # the set default: the lesson wants a wide frame
        width, height = 960, 540
    return Lesson(width, height, fps, seed).render(out)
