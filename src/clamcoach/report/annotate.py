"""An annotated copy of the video: skeleton, measures, rep counter, current finding and cue,
encoded as H.264 (MP4) with PyAV.

Use as the ``on_frame`` callback of ``analyze_video``; the file appears only when ``close()``
succeeds (it is written beside the destination and renamed into place).
"""

from __future__ import annotations

import math
import os
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from clamcoach.errors import OutputError
from clamcoach.io.video import VideoFrame
from clamcoach.report.skeleton import TOP, draw_skeleton
from clamcoach.step import Step
from clamcoach.types import Phase

CUE_SHOW_S = 3.0  # a cue stays on screen this long: spoken once, readable for a while
FINDING_SHOW_S = 4.0
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_KIND_COLOUR = {"correction": (235, 110, 40), "praise": (60, 180, 90), "info": (70, 140, 230)}
_SEV_COLOUR = {"error": (215, 60, 45), "warn": (235, 150, 0), "info": (110, 120, 135)}
_SETUP_LABELS = (("side_lying", "on side"), ("hips_knees_bent", "hips/knees"),
                 ("rolled_forward", "rolled fwd"), ("hand_on_hip", "hand on hip"))


class AnnotatedVideoWriter:
    """``writer(video_frame, step)`` per frame, then ``close()`` (or use ``with``)."""

    def __init__(self, path: str | os.PathLike[str], fps: float, width: int, height: int,
                 *, crf: int = 23, preset: str = "veryfast", threads: int = 2) -> None:
        self.path = Path(path)
        # yuv420p needs even sizes: drop the odd last row/column rather than rescale.
        self.width, self.height = int(width) // 2 * 2, int(height) // 2 * 2
        if self.width < 2 or self.height < 2:
            raise OutputError(f"video size {width}x{height} is too small")
        self._rate = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else Fraction(30)
        self._n = 0
        self._cue: tuple[str, str, float] | None = None  # text, kind, until t
        self._finding: tuple[str, str, float] | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".mp4",
                                       dir=self.path.parent)
            os.close(fd)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc}") from exc
        self._tmp = Path(tmp)
        try:
            self._container = av.open(str(self._tmp), mode="w", format="mp4")
            self._stream = self._container.add_stream("libx264", rate=self._rate)
            self._stream.width, self._stream.height = self.width, self.height
            self._stream.pix_fmt = "yuv420p"
            # Few threads and a fast preset: the CPU is shared with the pose model.
            self._stream.options = {"crf": str(crf), "preset": preset, "threads": str(threads)}
        except (av.FFmpegError, OSError, ValueError) as exc:
            self._discard()
            raise OutputError(f"cannot start the H.264 encoder for {self.path}: {exc}") from exc

    # ---- per frame ---------------------------------------------------------------------

    def __call__(self, video_frame: VideoFrame, step: Step) -> None:
        rgb = np.asarray(video_frame.rgb, dtype=np.uint8)
        if rgb.shape[:2] != (self.height, self.width):
            if abs(rgb.shape[0] - self.height) <= 1 and abs(rgb.shape[1] - self.width) <= 1:
                rgb = rgb[: self.height, : self.width]
            else:
                rgb = cv2.resize(rgb, (self.width, self.height), interpolation=cv2.INTER_AREA)
        img = np.ascontiguousarray(rgb).copy()
        self.draw(img, step)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = self._n
        frame.time_base = 1 / self._rate
        self._n += 1
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except (av.FFmpegError, OSError, ValueError) as exc:
            self.abort()
            raise OutputError(f"cannot encode {self.path}: {exc}") from exc

    def draw(self, img: np.ndarray, step: Step) -> np.ndarray:
        """Draw the overlay for ``step`` onto ``img`` (RGB, in place)."""
        h = img.shape[0]
        s = max(0.6, h / 720)  # text scale follows the picture, readable on small ones
        if step.body is not None:
            draw_skeleton(img, step.body.image, step.body.top.value)
        self._remember(step)
        self._panel(img, step, s)
        self._banner(img, step.t, s)
        return img

    def _remember(self, step: Step) -> None:
        if step.cue is not None and step.cue.text:
            self._cue = (step.cue.text, step.cue.kind.value, step.t + CUE_SHOW_S)
        for f in step.new_findings:
            label = f"{f.code.replace('_', ' ')}" + (f" (rep {f.rep})" if f.rep is not None else "")
            self._finding = (label, f.severity.value, step.t + FINDING_SHOW_S)

    def _panel(self, img: np.ndarray, step: Step, s: float) -> None:
        lines = panel_lines(step)
        reps = step.rep_count
        big = 1.4 * s
        (bw, bh), _ = cv2.getTextSize(f"reps {reps}", _FONT, big, 3)
        lh = int(26 * s)
        width = max(bw, *(cv2.getTextSize(txt, _FONT, 0.6 * s, 1)[0][0] for txt, _ in lines)) + int(24 * s)
        height = bh + int(22 * s) + lh * len(lines)
        x0, y0 = int(10 * s), int(10 * s)
        _shade(img, x0, y0, x0 + width, y0 + height)
        y = y0 + bh + int(10 * s)
        _text(img, f"reps {reps}", (x0 + int(12 * s), y), big, TOP, 3)
        for txt, colour in lines:
            y += lh
            _text(img, txt, (x0 + int(12 * s), y), 0.6 * s, colour, 1 if s < 1 else 2)

    def _banner(self, img: np.ndarray, t: float, s: float) -> None:
        h, w = img.shape[:2]
        if self._finding and t <= self._finding[2]:
            label, sev, _ = self._finding
            (tw, th), _ = cv2.getTextSize(label, _FONT, 0.6 * s, 2)
            x1 = w - int(10 * s)
            x0 = x1 - tw - int(20 * s)
            y0 = int(10 * s)
            colour = _SEV_COLOUR.get(sev, _SEV_COLOUR["info"])
            cv2.rectangle(img, (x0, y0), (x1, y0 + th + int(16 * s)), colour, -1)
            _text(img, label, (x0 + int(10 * s), y0 + th + int(8 * s)), 0.6 * s, (255, 255, 255), 2)
        if self._cue and t <= self._cue[2]:
            text, kind, _ = self._cue
            scale = 0.9 * s
            (tw, th), _ = cv2.getTextSize(text, _FONT, scale, 2)
            while tw > w - 40 and scale > 0.35:  # long cues shrink to fit the frame
                scale *= 0.9
                (tw, th), _ = cv2.getTextSize(text, _FONT, scale, 2)
            y1 = h - int(12 * s)
            y0 = y1 - th - int(22 * s)
            x0 = max(0, (w - tw) // 2 - int(14 * s))
            cv2.rectangle(img, (x0, y0), (min(w, x0 + tw + int(28 * s)), y1),
                          _KIND_COLOUR.get(kind, _KIND_COLOUR["info"]), -1)
            _text(img, text, (x0 + int(14 * s), y1 - int(11 * s)), scale, (255, 255, 255), 2)

    # ---- finishing ---------------------------------------------------------------------

    def close(self) -> Path:
        """Flush the encoder and move the finished file into place."""
        if self._container is None:
            return self.path
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._container = None
            # mkstemp made the file private; give it the permissions a plain write would.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self._tmp, 0o666 & ~umask)
            os.replace(self._tmp, self.path)
        except (av.FFmpegError, OSError, ValueError) as exc:
            self.abort()
            raise OutputError(f"cannot finish {self.path}: {exc}") from exc
        return self.path

    def abort(self) -> None:
        """Stop and leave nothing behind (the destination keeps any older file)."""
        if self._container is not None:
            try:
                self._container.close()
            except (av.FFmpegError, OSError, ValueError):
                pass  # the file is being thrown away; its trailer does not matter
            self._container = None
        self._discard()

    def _discard(self) -> None:
        self._container = None
        try:
            self._tmp.unlink()
        except FileNotFoundError:
            pass

    @property
    def frames_written(self) -> int:
        return self._n

    def __enter__(self) -> "AnnotatedVideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()



def panel_lines(step: Step) -> list[tuple[str, tuple[int, int, int]]]:
    """The panel's lines under the rep counter for one step, with their colours."""
    lines: list[tuple[str, tuple[int, int, int]]] = []
    white, grey = (255, 255, 255), (200, 200, 200)
    if step.body is None:
        return [("no person in view", (255, 200, 80))]
    lines.append((f"phase: {step.phase.value}", grey))
    if math.isfinite(step.opening_deg):
        lines.append((f"opening {step.opening_deg:5.1f} deg", white))
    roll = step.roll_change_deg
    if math.isfinite(roll):
        colour = (255, 110, 90) if roll <= -10 else white
        lines.append((f"roll {roll:+5.1f} deg", colour))
    elif not step.view_can_see_roll:
        lines.append(("roll: not visible", grey))
    if step.phase is Phase.HOLD and math.isfinite(step.hold_s):
        lines.append((f"hold {step.hold_s:4.1f} s", white))
    if step.phase is Phase.SETUP and step.setup_checks:
        for key, label in _SETUP_LABELS:
            ok = step.setup_checks.get(key)
            if ok is None:
                lines.append((f"{label}: ?", grey))
            else:
                lines.append((f"{label}: {'ok' if ok else 'NO'}", (120, 220, 120) if ok else (255, 110, 90)))
    return lines

def _shade(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, alpha: float = 0.55) -> None:
    """Darken a box so white text reads on any background."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 > x0 and y1 > y0:
        roi = img[y0:y1, x0:x1]
        roi[:] = (roi * (1 - alpha)).astype(np.uint8)


def _text(img, text, org, scale, colour, thickness) -> None:
    cv2.putText(img, text, org, _FONT, scale, colour, thickness, cv2.LINE_AA)
