"""Rep schedules: tempo, rest, openings and per-rep mistakes -> per-frame ``FrameParams``.

Each rep: a minimum-jerk rise (``up_s``), a hold at the top (``hold_s``), a minimum-jerk
return (``down_s``) and a rest (``rest_s``). Mistakes follow the same profile, slightly delayed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .clamshell import FrameParams
from .options import Hand

MISTAKES = ("roll_back", "lift_too_high", "feet_apart")
SETUP_MISTAKES = ("no_forward_roll", "hand_off_hip")


def min_jerk(x: np.ndarray | float) -> np.ndarray | float:
    x = np.clip(x, 0.0, 1.0)
    return x ** 3 * (10 - 15 * x + 6 * x * x)


@dataclass
class RepPlan:
    up_s: float
    hold_s: float
    down_s: float
    rest_s: float
    opening: float  # deg at the top
    roll_back: float = 0.0  # deg the pelvis rolls back at the top (0 = none)
    ankle_lift: float = 0.0  # m the top ankle lifts (feet apart)
    mistakes: tuple[str, ...] = ()
    delay_s: float = 0.15  # mistakes lag the opening by this much

    @property
    def duration(self) -> float:
        return self.up_s + self.hold_s + self.down_s + self.rest_s

    def profile(self, t: np.ndarray, delay: float = 0.0) -> np.ndarray:
        """0..1: rise, hold, return (t from the rep start)."""
        t = np.asarray(t, dtype=np.float64) - delay
        up = min_jerk(t / self.up_s)
        down = 1.0 - min_jerk((t - self.up_s - self.hold_s) / self.down_s)
        p = np.where(t < self.up_s, up, np.where(t < self.up_s + self.hold_s, 1.0, down))
        return np.where(t <= 0, 0.0, p)


@dataclass
class SetPlan:
    reps: list[RepPlan]
    lead_in_s: float = 1.2  # still, set-up pose before the first rep
    tail_s: float = 0.8
    forward_roll: float = 10.0
    hand: Hand = Hand.HIP

    @property
    def hand_on_hip(self) -> bool:
        return self.hand.on_hip

    @property
    def duration(self) -> float:
        return self.lead_in_s + sum(r.duration for r in self.reps) + self.tail_s

    def rep_starts(self) -> list[float]:
        t, out = self.lead_in_s, []
        for r in self.reps:
            out.append(t)
            t += r.duration
        return out

    def at(self, t: float) -> FrameParams:
        roll = self.forward_roll
        opening, lift = 0.0, 0.0
        for start, r in zip(self.rep_starts(), self.reps):
            if t < start or t > start + r.duration + r.delay_s + 0.01:
                continue
            tt = t - start
            opening += r.opening * float(r.profile(tt))
            pm = float(r.profile(tt, r.delay_s))
            roll -= r.roll_back * pm
            lift += r.ankle_lift * pm
        return FrameParams(roll=roll, opening=opening, ankle_lift=lift, hand=self.hand)

    def block(self) -> dict:
        return {"lead_in_s": self.lead_in_s, "tail_s": self.tail_s, "forward_roll": self.forward_roll,
                "hand_on_hip": self.hand_on_hip, "hand": self.hand.value, "reps": [asdict(r) for r in self.reps]}


def parse_mistakes(text: str | None) -> dict[int, list[str]]:
    """``"roll_back:2,feet_apart:1,lift_too_high:3+5"`` -> {2: [roll_back], 1: [feet_apart], ...}.
    Rep numbers are 1-based; several reps for one mistake are joined with ``+``."""
    out: dict[int, list[str]] = {}
    if not text:
        return out
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if ":" not in item:
            raise ValueError(f"mistake {item!r}: expected KIND:REP, e.g. roll_back:2")
        kind, reps = item.split(":", 1)
        kind = kind.strip()
        if kind not in MISTAKES:
            raise ValueError(f"unknown mistake {kind!r}; choose from {', '.join(MISTAKES)}")
        for r in reps.split("+"):
            n = int(r)
            if n < 1:
                raise ValueError(f"rep numbers are 1-based, got {n}")
            out.setdefault(n, []).append(kind)
    return out


def plan_set(n_reps: int, mistakes: dict[int, list[str]], rng: np.random.Generator, *,
             opening_range: tuple[float, float] = (15.0, 35.0), small_reps: int = 0,
             tempo: tuple[float, float, float, float] | None = None,
             forward_roll: float | None = None, hand: Hand = Hand.HIP,
             shin_m: float = 0.42, roll_back_range: tuple[float, float] = (15.0, 25.0),
             small_range: tuple[float, float] = (5.5, 10.0),
             lead_in_range: tuple[float, float] = (1.0, 1.8)) -> SetPlan:
    """A set of ``n_reps`` with realistic tempo, the given per-rep mistakes, and ``small_reps``
    reps of a weak patient (5-10 deg openings) among the clean ones."""
    clean = [n for n in range(1, n_reps + 1) if n not in mistakes]
    small = set(rng.choice(clean, size=min(small_reps, len(clean)), replace=False).tolist()) if clean else set()
    reps = []
    for n in range(1, n_reps + 1):
        if tempo is not None:
            up, hold, down, rest = tempo
        else:
            up, hold, down, rest = (rng.uniform(1.0, 2.0), rng.uniform(1.0, 2.5),
                                    rng.uniform(1.0, 2.0), rng.uniform(0.5, 1.5))
        kinds = tuple(mistakes.get(n, ()))
        if n in small:
            opening = rng.uniform(*small_range)
        else:
            opening = rng.uniform(*opening_range)
        rb, lift = 0.0, 0.0
        if "roll_back" in kinds:
            rb = rng.uniform(*roll_back_range)
            opening = max(opening, rng.uniform(25.0, 40.0))  # rolling back comes with a bigger lift
        if "lift_too_high" in kinds:
            opening = rng.uniform(62.0, 70.0)
        if "feet_apart" in kinds:
            lift = rng.uniform(0.30, 0.45) * shin_m  # ankle gap grows by 30-45 % of the shin
        reps.append(RepPlan(up_s=up, hold_s=hold, down_s=down, rest_s=rest, opening=opening,
                            roll_back=rb, ankle_lift=lift, mistakes=kinds))
    if forward_roll is None:
        forward_roll = rng.uniform(7.0, 16.0)
    return SetPlan(reps=reps, lead_in_s=float(rng.uniform(*lead_in_range)), tail_s=float(rng.uniform(0.6, 1.2)),
                   forward_roll=forward_roll, hand=hand)
