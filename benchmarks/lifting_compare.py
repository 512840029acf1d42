"""The body fit and the lifting network side by side, on the same clips and the same landmarks.

``lift_clip`` runs in bench-accuracy's worker beside the engine: it reads the network on every
frame after the setup (the setup's landmarks: the frames of the last second before the engine
called the setup settled). ``compare_clip`` scores both designs against the rendered truth in
the same way: per frame, the opening and the pelvis roll's change since the first measured
frame, with the 90% interval each design states; per true rep, its peak opening and its peak
roll-back (read inside the rep's true time span, so the rep detector does not enter); and the
setup's forward roll.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from clamcoach.measure.landmarks import observe
from clamcoach.measure.lifting import LiftingNet, setup_reference
from clamcoach.measure.stage import fuse_correlated
from clamcoach.series import FrameSeries
from clamcoach.types import Side

Z90 = 1.6449
SETUP_WINDOW_S = 1.0


@dataclass
class Lifted:
    """The network's readings of one clip (frames after the setup)."""

    t: np.ndarray
    opening: np.ndarray
    opening_sd: np.ndarray
    roll: np.ndarray
    roll_sd: np.ndarray
    forward_roll: float


def lift_clip(frames: FrameSeries, top_side: str | None, settled_at_s: float | None,
              net: LiftingNet) -> Lifted | None:
    if frames.landmarks is None or top_side is None or settled_at_s is None:
        return None
    top = Side(top_side)
    lm = frames.landmarks
    seen = np.isfinite(lm[:, 0, 0])
    pts = np.array([observe(lm[i], top)[0] if seen[i] else np.full((12, 2), np.nan) for i in range(len(lm))])
    t = frames.t
    window = seen & (t <= settled_at_s) & (t >= settled_at_s - SETUP_WINDOW_S)
    if window.sum() < 3:
        window = seen & (t >= settled_at_s)
        window &= np.cumsum(window) <= 5
    if window.sum() == 0:
        return None
    ref = setup_reference(pts[window])
    after = np.flatnonzero(seen & (t >= settled_at_s))
    if not len(after):
        return None
    out = net.lift(ref, pts[after])
    return Lifted(t[after], out.opening_deg, out.opening_sd_deg, out.roll_change_deg, out.roll_change_sd_deg,
                  float(np.median(out.forward_roll_deg)))


@dataclass
class DesignErrors:
    """One design's errors on one clip."""

    opening: list[tuple[float, float]] = field(default_factory=list)  # (error, SD) per frame
    roll: list[tuple[float, float]] = field(default_factory=list)
    peak_opening: list[float] = field(default_factory=list)  # |error| per true rep
    peak_roll_back: list[float] = field(default_factory=list)
    setup_roll: float = math.nan


def _truth_at(gt: dict, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tt = np.array([f["t"] for f in gt["frames"]])
    k = np.clip(np.searchsorted(tt, t), 1, len(tt) - 1)
    k -= (np.abs(tt[k - 1] - t) <= np.abs(tt[k] - t)).astype(int)
    opening = np.array([gt["frames"][i]["opening_deg"] for i in k])
    roll = np.array([gt["frames"][i]["pelvis_roll_deg"] for i in k])
    return opening, roll


def _score(gt: dict, t: np.ndarray, opening, opening_sd, roll, roll_sd, setup_roll: float) -> DesignErrors:
    out = DesignErrors()
    ok = np.isfinite(opening) & np.isfinite(roll)
    t, opening, opening_sd, roll, roll_sd = t[ok], opening[ok], opening_sd[ok], roll[ok], roll_sd[ok]
    if not len(t):
        return out
    true_open, true_roll = _truth_at(gt, t)
    d_open = true_open - true_open[0]
    d_roll = true_roll - true_roll[0]
    out.opening = list(zip((opening - d_open).tolist(), opening_sd.tolist()))
    out.roll = list(zip(((roll - roll[0]) - d_roll).tolist(), roll_sd.tolist()))
    for rep in gt["reps"]:
        inside = (t >= rep["start_s"]) & (t <= rep["end_s"])
        if inside.sum() < 3:
            continue
        # a 3-frame median, as a rep's peak is read by any design over more than one frame
        o = np.convolve(opening[inside], np.ones(3) / 3, mode="valid")
        r = roll[inside]
        before = roll[max(0, int(np.flatnonzero(inside)[0]) - 1)]
        out.peak_opening.append(abs(float(o.max()) - rep["peak_opening_deg"]))
        rb = float(before - np.convolve(r, np.ones(3) / 3, mode="valid").min())
        out.peak_roll_back.append(abs(max(rb, 0.0) - rep["peak_roll_back_deg"]))
    if math.isfinite(setup_roll):
        out.setup_roll = abs(setup_roll - gt["setup"]["forward_roll_deg"])
    return out


def compare_clip(gt: dict, fit_report: dict, fit_frames: FrameSeries,
                 lifted: Lifted | None) -> tuple[DesignErrors, DesignErrors, DesignErrors]:
    """(body fit, lifting network, the two fused) errors on one clip: ``fit_*`` from the engine
    with the fit's own readings. Fused: the opening as ``OpeningReading.FUSED`` reads it (the
    same function on the same two readings); its roll is the network's."""
    report, frames = fit_report, fit_frames
    settled = report.get("setup", {}).get("settled_at_s")
    if settled is None:  # never settled: nothing measured by any design
        return DesignErrors(), DesignErrors(), DesignErrors()
    after = frames.t >= settled
    fit_roll = report.get("setup", {}).get("forward_roll_deg")
    fit = _score(gt, frames.t[after], frames.opening_deg[after], frames.opening_sd_deg[after],
                 frames.pelvis_roll_deg[after], frames.pelvis_roll_sd_deg[after],
                 float(fit_roll) if fit_roll is not None else math.nan)
    if lifted is None:
        return fit, DesignErrors(), DesignErrors()
    net = _score(gt, lifted.t, lifted.opening, lifted.opening_sd, lifted.roll, lifted.roll_sd, lifted.forward_roll)
    at = np.clip(np.searchsorted(frames.t, lifted.t), 0, len(frames.t) - 1)
    both = [fuse_correlated(float(frames.opening_deg[i]), float(frames.opening_sd_deg[i]), float(o), float(s))
            for i, o, s in zip(at, lifted.opening, lifted.opening_sd)]
    fused_open = np.array([b[0] for b in both]) if both else np.zeros(0)
    fused_sd = np.array([b[1] for b in both]) if both else np.zeros(0)
    fused = _score(gt, lifted.t, fused_open, fused_sd, lifted.roll, lifted.roll_sd, lifted.forward_roll)
    return fit, net, fused


def _figures(errs: list[DesignErrors]) -> dict:
    def mae(xs):
        return float(np.mean(np.abs(xs))) if len(xs) else math.nan

    def cover(pairs):
        pairs = [(e, s) for e, s in pairs if math.isfinite(s) and s > 0]
        return sum(abs(e) <= Z90 * s for e, s in pairs) / len(pairs) if pairs else math.nan

    opening = [p for e in errs for p in e.opening]
    roll = [p for e in errs for p in e.roll]
    return {
        "frames": len(opening),
        "opening": mae([p[0] for p in opening]), "roll": mae([p[0] for p in roll]),
        "peak_opening": mae([x for e in errs for x in e.peak_opening]),
        "peak_roll_back": mae([x for e in errs for x in e.peak_roll_back]),
        "cover_opening": cover(opening), "cover_roll": cover(roll),
        "setup_roll": mae([e.setup_roll for e in errs if math.isfinite(e.setup_roll)]),
    }


HEAD = ("| group | clips | frames | opening MAE per frame: fit / net / fused | roll change MAE per frame: fit / net | "
        "rep peak opening MAE: fit / net / fused | rep peak roll-back MAE: fit / net | "
        "90% interval holds, opening: fit / net / fused | 90% interval holds, roll: fit / net | "
        "setup forward-roll MAE: fit / net |")
OPENING_KEYS = ("opening", "peak_opening", "cover_opening")


def _fmt(x: float, pct: bool = False) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{100 * x:.0f}%" if pct else f"{x:.1f}"


def comparison_rows(groups: dict[str, list[tuple[DesignErrors, DesignErrors, DesignErrors]]]) -> list[str]:
    lines = [HEAD, "|" + "---|" * 10]
    for name, pairs in groups.items():
        if not pairs:
            continue
        designs = [_figures([p[i] for p in pairs]) for i in range(3)]
        cells = []
        for k in ("opening", "roll", "peak_opening", "peak_roll_back", "cover_opening", "cover_roll", "setup_roll"):
            shown = designs if k in OPENING_KEYS else designs[:2]
            cells.append(" / ".join(_fmt(d[k], pct=k.startswith("cover")) for d in shown))
        f = designs[0]
        lines.append(f"| {name} | {len(pairs)} | {f['frames']} | " + " | ".join(cells) + " |")
    return lines + [""]


def skeleton_rows(pitches=(0, 20, 35, 60, 85), roll_backs=(7.0, 20.0)) -> list[str]:
    """Both roll readings on a body the generator did not draw: the tests' stick skeleton
    (tests/skeleton.py, exact joint centres, the joint-centre profile), three reps, the second
    rolling back. What a design does off its training bodies."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from skeleton import Camera, clam_set, pose_frame

    from clamcoach.engine import Engine
    from clamcoach.measure.profiles import JOINT_CENTRES
    from clamcoach.measure.stage import MeasureParams, RollReading
    from clamcoach.protocol import load_protocol

    lines = ["| camera elevation | true roll-back | body fit: read (SD), judged | "
             "as shipped (network where raised): read (SD), judged |",
             "|---|---|---|---|"]
    for pitch in pitches:
        for rb in roll_backs:
            cells = []
            for reading in (RollReading.FIT, RollReading.NETWORK):
                cam = Camera(pitch=pitch)
                eng = Engine(load_protocol(), profile=JOINT_CENTRES, focal_px=cam.focal_px,
                             measure_params=MeasureParams(roll_reading=reading))
                for t, p in clam_set(n_reps=3, roll_back={2: rb}):
                    eng.push(pose_frame(p, cam, t=t, top="left"), t)
                reps = eng.finish().reps
                if len(reps) < 2:
                    cells.append("rep not found")
                    continue
                r = reps[1]
                cells.append(f"{r.roll_back_deg:.1f} ({r.roll_back_sd_deg:.1f}), {'yes' if r.roll_judged else 'no'}")
            lines.append(f"| {pitch} | {rb:.0f} | {cells[0]} | {cells[1]} |")
    return lines + [""]


def skeleton_twist_rows(pitches=(20, 35, 60, 85)) -> list[str]:
    """The stick skeleton again, one rise of the knee to 25 deg over half a second: the pelvis
    and trunk rolling back 15 deg together, or the trunk alone (the pelvis staying put). The
    pelvis roll's change each design reads at the end."""
    import dataclasses
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from skeleton import Camera, Pose, pose_frame

    from clamcoach.body import BodyTracker
    from clamcoach.measure.profiles import JOINT_CENTRES
    from clamcoach.measure.stage import MeasureParams, MeasureStage, RollReading

    def body(p, cam, t):
        return dataclasses.replace(BodyTracker().push(pose_frame(p, cam, t=0.0)), t=t)

    def change(cam, reading, pelvis_to, trunk_to):
        s = MeasureStage(MeasureParams(settle_s=0.75, roll_reading=reading), focal_px=cam.focal_px,
                         profile=JOINT_CENTRES)
        for k in range(4):
            s.push(body(Pose(), cam, k / 4))
        first = last = None
        for t in np.arange(0.75 + 1 / 30, 2.5, 1 / 30):
            a = min(1.0, (t - 0.75) / 0.5)
            p = Pose(opening=25 * a, roll=10 + a * (pelvis_to - 10), base_roll=10.0,
                     trunk_roll=10 + a * (trunk_to - 10))
            last = s.push(body(p, cam, t), may_calibrate=False)
            first = first or last
        return last.pelvis_roll_deg - first.pelvis_roll_deg

    lines = ["| camera elevation | pelvis and trunk roll back 15: fit / shipped | the trunk alone rolls back 15 "
             "(pelvis true 0): fit / shipped |", "|---|---|---|"]
    for pitch in pitches:
        cam = Camera(pitch=pitch)
        both = [change(cam, r, -5.0, -5.0) for r in (RollReading.FIT, RollReading.NETWORK)]
        trunk = [change(cam, r, 10.0, -5.0) for r in (RollReading.FIT, RollReading.NETWORK)]
        lines.append(f"| {pitch} | {both[0]:+.1f} / {both[1]:+.1f} | {trunk[0]:+.1f} / {trunk[1]:+.1f} |")
    return lines + [""]


def skeleton_opening_rows(pitches=(0, 20, 35, 60, 85), openings=(10.0, 30.0, 45.0, 60.0)) -> list[str]:
    """The opening each reading gives the stick skeleton (a body the generator did not draw),
    held still at each opening after its setup: the fit, the network alone, and the two fused
    (``OpeningReading.FUSED``), each with its SD."""
    import dataclasses
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from skeleton import Camera, Pose, pose_frame

    from clamcoach.body import BodyTracker
    from clamcoach.measure.landmarks import observe
    from clamcoach.measure.profiles import JOINT_CENTRES
    from clamcoach.measure.stage import MeasureParams, MeasureStage, OpeningReading

    def body(p, cam, t):
        return dataclasses.replace(BodyTracker().push(pose_frame(p, cam, t=0.0)), t=t)

    def stage(cam, reading):
        s = MeasureStage(MeasureParams(settle_s=0.75, opening_reading=reading), focal_px=cam.focal_px,
                         profile=JOINT_CENTRES)
        for k in range(4):
            s.push(body(Pose(), cam, k / 4))
        return s

    lines = ["| camera elevation | true opening | body fit: read (SD) | network alone: read (SD) | fused: read (SD) |",
             "|---|---|---|---|---|"]
    for pitch in pitches:
        cam = Camera(pitch=pitch)
        for o in openings:
            frame = body(Pose(opening=o), cam, 1.0)
            fit_stage = stage(cam, OpeningReading.FIT)
            reference = fit_stage._lift_reference
            fit = fit_stage.push(frame, may_calibrate=False)
            fused = stage(cam, OpeningReading.FUSED).push(frame, may_calibrate=False)
            net = _lifting_net().lift(reference, observe(frame.image, frame.top)[0][None])
            lines.append(f"| {pitch} | {o:.0f} | {fit.opening_deg:.1f} ({fit.sd.opening_deg:.1f}) | "
                         f"{net.opening_deg[0]:.1f} ({net.opening_sd_deg[0]:.1f}) | "
                         f"{fused.opening_deg:.1f} ({fused.sd.opening_deg:.1f}) |")
    return lines + [""]


def _lifting_net() -> LiftingNet:
    from clamcoach.measure.lifting import shipped_network

    return shipped_network()
