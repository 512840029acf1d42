"""``clamcoach synth``: render synthetic clamshell sets (and the patient lesson) with ground truth.

Examples::

    clamcoach synth --reps 6 --mistakes roll_back:2,feet_apart:1 --view oblique --side right --out set.mp4
    clamcoach synth --reps 5 --views front,oblique,overhead,feet --out sets/a.mp4   # a_front.mp4, ...
    clamcoach synth --lesson lesson.mp4
"""

from __future__ import annotations

import argparse
import sys

from .motion import MISTAKES, parse_mistakes
from .options import Hand, Support
from .scene import VIEWS


def _resolution(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"resolution must be WIDTHxHEIGHT, got {text!r}")
    if w < 16 or h < 16 or w % 2 or h % 2:
        raise argparse.ArgumentTypeError("width and height must be even and at least 16")
    return w, h


def _views(text: str) -> tuple[str, ...]:
    vs = tuple(v.strip() for v in text.split(",") if v.strip())
    bad = [v for v in vs if v not in VIEWS]
    if bad or not vs:
        raise argparse.ArgumentTypeError(f"views must be among {', '.join(VIEWS)}, got {text!r}")
    return vs


def _non_negative(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if not 0.0 <= x <= 50.0:
        raise argparse.ArgumentTypeError(f"expected 0-50, got {text!r}")
    return x


def _lens(text: str) -> float:
    x = _non_negative(text)
    if not 10.0 <= x <= 50.0:
        raise argparse.ArgumentTypeError(f"a 35 mm-equivalent focal length of 10-50 mm, got {text!r}")
    return x


def _mistakes(text: str):
    try:
        return parse_mistakes(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--reps", type=int, default=5, help="repetitions in the set (default 5)")
    p.add_argument("--mistakes", type=_mistakes, default={},
                   help=f"per-rep mistakes KIND:REP[+REP],... (1-based); kinds: {', '.join(MISTAKES)}")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--view", type=_views, dest="views", help=f"camera: one of {', '.join(VIEWS)}")
    g.add_argument("--views", type=_views, dest="views", help="several cameras, comma-separated "
                   "(posing is shared; writes <stem>_<view>.mp4)")
    p.add_argument("--side", choices=("left", "right"), default="left", help="side the person lies on")
    p.add_argument("--out", default="set.mp4", help="output mp4 (the ground truth goes beside it as .json)")
    p.add_argument("--resolution", type=_resolution, default=(640, 480), help="WIDTHxHEIGHT (default 640x480)")
    p.add_argument("--fps", type=float, default=15.0, help="frame rate (default 15)")
    p.add_argument("--seed", type=int, default=None, help="random seed (body, scene, camera, tempo; default 0, lesson 3)")
    p.add_argument("--crf", type=int, default=23, help="x264 quality (lower = better, bigger)")
    p.add_argument("--hip-flexion", type=float, default=None, help="deg (default random 38-55)")
    p.add_argument("--knee-flexion", type=float, default=None, help="deg (default random 40-70)")
    p.add_argument("--forward-roll", type=float, default=None,
                   help="initial pelvis roll, deg forward (default random 7-16; <= 0 is a set-up mistake)")
    p.add_argument("--hand-off-hip", action="store_true",
                   help="set-up mistake: top hand on the mat in front of the belly (the first sets')")
    p.add_argument("--hand", choices=[h.value for h in Hand], default=None,
                   help="where the top hand rests (default hip; overrides --hand-off-hip)")
    p.add_argument("--knee-pillow", type=_non_negative, default=0.0, metavar="CM",
                   help="a pillow this thick between the knees (8-15 cm is typical; default none)")
    p.add_argument("--support", choices=[x.value for x in Support], default="table",
                   help="what the person lies on (default table)")
    p.add_argument("--loose", type=_non_negative, default=0.0, metavar="CM",
                   help="loose clothes standing this far off the skin (1-4 cm; default tight)")
    p.add_argument("--lens", type=_lens, default=None, metavar="MM",
                   help="35 mm-equivalent focal length (24-50 typical); the distance then follows")
    p.add_argument("--small-reps", type=int, default=0, help="how many clean reps open only 5-10 deg")
    p.add_argument("--tempo", type=str, default=None, help="UP,HOLD,DOWN,REST seconds (default random)")
    p.add_argument("--sex", choices=("male", "female"), default=None)
    p.add_argument("--shadows", action="store_true", help="soft shadows (about 2x slower)")
    p.add_argument("--nominal-cameras", action="store_true", help="no random camera distance/height/yaw")
    p.add_argument("--lesson", metavar="OUT.mp4", default=None,
                   help="render the patient lesson video instead of a set")
    p.set_defaults(func=run)
    return p


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``synth`` on an argparse subparsers object (called by the main CLI)."""
    p = subparsers.add_parser("synth", help="render synthetic clamshell videos with ground truth",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    return configure(p)


def build_spec(args):
    from .body import Shape
    from .render import SetSpec
    import numpy as np

    shape = None
    if args.sex:
        shape = Shape.sample(np.random.default_rng([args.seed, 11]), sex=args.sex)
    tempo = None
    if args.tempo:
        tempo = tuple(float(x) for x in args.tempo.split(","))
        if len(tempo) != 4:
            raise SystemExit("--tempo needs UP,HOLD,DOWN,REST")
    bad = [n for n in args.mistakes if n > args.reps]
    if bad:
        raise SystemExit(f"--mistakes names rep {bad[0]} but the set has {args.reps} reps")
    return SetSpec(reps=args.reps, mistakes=args.mistakes, side=args.side,
                   views=args.views or ("oblique",), width=args.resolution[0], height=args.resolution[1],
                   fps=args.fps, seed=args.seed, shape=shape, hip_flex=args.hip_flexion,
                   knee_flex=args.knee_flexion, forward_roll=args.forward_roll,
                   hand_on_hip=not args.hand_off_hip, small_reps=args.small_reps, tempo=tempo,
                   hand=Hand(args.hand) if args.hand else None, knee_pillow_cm=args.knee_pillow,
                   support=Support(args.support), looseness_cm=args.loose, lens_35mm=args.lens,
                   crf=args.crf, shadows=args.shadows, nominal_cameras=args.nominal_cameras)


def run(args) -> int:
    if args.lesson:
        from .lesson import render_lesson

        render_lesson(args.lesson, width=args.resolution[0], height=args.resolution[1], fps=args.fps,
                      seed=3 if args.seed is None else args.seed)
        print(f"wrote {args.lesson}")
        return 0
    from .render import render_set

    if args.seed is None:
        args.seed = 0
    spec = build_spec(args)

    def progress(i, n):
        print(f"\r  frame {i}/{n}", end="", file=sys.stderr, flush=True)

    docs, r = render_set(spec, args.out, progress=progress)
    print(file=sys.stderr)
    for view, doc in docs.items():
        labels = ", ".join(f"{x['index']}:{'+'.join(x['labels']) or 'ok'}" for x in doc["reps"])
        print(f"wrote {doc['video']} (+ .json): {view}, {doc['n_frames']} frames, reps {labels}")
    t = r.timing
    print(f"timing: pose {t['pose_s_per_frame']:.3f} s/frame, render {t['render_s_per_frame_per_view']:.3f} s/frame/view",
          file=sys.stderr)
    return 0


def main(argv=None) -> int:
    p = configure(argparse.ArgumentParser(prog="python -m clamcoach.synth", description=__doc__,
                                          formatter_class=argparse.RawDescriptionHelpFormatter))
    args = p.parse_args(argv)
    return args.func(args)
