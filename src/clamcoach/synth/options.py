"""The named choices a synthetic set is made of (where the top hand rests, what the person lies on)."""

from __future__ import annotations

from enum import Enum


class Hand(str, Enum):
    """Where the top hand rests during the set."""

    HIP = "hip"  # on the top hip: wrist over the iliac crest, fingers over the hip muscles
    MAT = "mat"  # on the mat in front of the chest (as many patients do)
    THIGH = "thigh"  # resting on the top thigh, riding with it
    #: on the mat in front of the belly: the first sets' "hand off hip" (kept so they re-render)
    MAT_BELLY = "mat_belly"

    @property
    def on_hip(self) -> bool:
        return self is Hand.HIP


class Support(str, Enum):
    """What the person lies on."""

    TABLE = "table"  # a thin exercise mat on a table (the first sets)
    FLOOR = "floor"  # an exercise mat on the floor
    BED = "bed"  # a mattress: soft-looking, the body sinks a little
