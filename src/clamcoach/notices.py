"""What an analysis warns about: a typed code and its values here, the words in the protocol
file's ``[warnings]`` (the one registry of texts), filled in when the warnings are read
(``Analysis.warnings``), so the terminal, the JSON and the HTML say the same sentence."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

from clamcoach.protocol import Protocol


class WarningCode(str, Enum):
    """Each is a key of the protocol's ``[warnings]``; the values each text takes are named there."""

    NO_SETUP = "no_setup"
    ROLL_NOT_SEEN = "roll_not_seen"
    #: ROLL_NOT_SEEN with the camera move that would let the roll-back be judged.
    ROLL_NOT_SEEN_MOVE = "roll_not_seen_move"
    #: The placement reads the opening near closed too loosely to count the smallest reps.
    SMALL_REPS_UNSEEN = "small_reps_unseen"
    #: The placement cannot tell how the knee moves in the picture well enough to size an opening.
    OPENING_LOOSE = "opening_loose"
    #: OPENING_LOOSE, and no pillow was declared (a pillow the setup was not told of is one cause).
    OPENING_LOOSE_PILLOW = "opening_loose_pillow"
    #: The knees rest apart and no pillow was declared: measured as if one had been.
    KNEE_PILLOW_SEEN = "knee_pillow_seen"
    VIDEO_DAMAGED = "video_damaged"
    #: VIDEO_DAMAGED when the decoder gave no reason.
    VIDEO_STOPPED = "video_stopped"
    #: The body model stopped explaining the landmarks (the setup was measured again).
    TRACK_LOST = "track_lost"
    #: The body was lost and no setup was taken after it: the rest of the set was not measured.
    TRACK_LOST_FOR_GOOD = "track_lost_for_good"
    POSE_GAPS = "pose_gaps"
    #: POSE_GAPS when there are more gaps than the sentence lists.
    POSE_GAPS_MORE = "pose_gaps_more"
    SIDEWAYS_COUNTER_CLOCKWISE = "sideways_counter_clockwise"
    SIDEWAYS_CLOCKWISE = "sideways_clockwise"


@dataclass(frozen=True)
class Notice:
    """One warning of an analysis, before it is put in words."""

    code: WarningCode
    values: Mapping[str, Any] = field(default_factory=dict)

    def text(self, protocol: Protocol) -> str:
        return protocol.warning(self.code.value).format(**self.values)


__all__ = ["Notice", "WarningCode"]
