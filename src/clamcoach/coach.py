"""Which cue to say when: one at a time, most important first, never nagging.

A cue is offered by the engine whenever something is worth saying; the coach lets one
through only if no cue was said in the last ``gap_s`` seconds and the same cue not in the
last ``repeat_s``. Corrections outrank praise; among corrections the method's priority
decides (roll-back first).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable

from clamcoach.protocol import Protocol
from clamcoach.rules import priority
from clamcoach.types import Finding, Rep, Severity


class CueKind(str, Enum):
    """What a cue is for (a str, so it serialises as its value); corrections outrank the rest."""

    CORRECTION = "correction"
    PRAISE = "praise"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Corrections first; praise and information after them, equal."""
        return 0 if self is CueKind.CORRECTION else 1


@dataclass(frozen=True)
class Offer:
    """Something worth saying now: a finding code (or praise/info code) and its kind."""

    code: str
    kind: CueKind = CueKind.CORRECTION


def corrections(found: Iterable[Finding]) -> list[Offer]:
    return [Offer(f.code) for f in found]


@dataclass(frozen=True)
class Cue:
    code: str
    text: str
    kind: CueKind
    priority: int
    t: float


@dataclass(frozen=True)
class CoachParams:
    gap_s: float = 3.0
    repeat_s: float = 10.0
    praise_every: int = 3      # praise at most every n-th clean rep
    away_s: float = 2.0        # ask to get in frame once nobody has been seen this long


class Coach:
    def __init__(self, proto: Protocol, params: CoachParams = CoachParams()) -> None:
        self.proto = proto
        self.p = params
        self._last_any = -1e9
        self._last: dict[str, float] = {}
        self._clean_since_praise = 0

    def choose(self, t: float, offers: list[Offer]) -> Cue | None:
        """What is offered at time t; returns the cue to say now, if any."""
        if not offers or t - self._last_any < self.p.gap_s:
            return None
        ranked = sorted(offers, key=lambda o: (o.kind.rank, priority(o.code)))
        for code, kind in ((o.code, o.kind) for o in ranked):
            if t - self._last.get(code, -1e9) < self.p.repeat_s:
                continue
            text = self.proto.cue(code)
            if not text:
                continue
            cue = Cue(code=code, text=text, kind=kind, priority=priority(code), t=t)
            self._last_any = t
            self._last[code] = t
            return cue
        return None

    def praise_due(self, clean: bool) -> bool:
        """Count clean reps; True when one deserves a word of praise."""
        if not clean:
            self._clean_since_praise = 0
            return False
        self._clean_since_praise += 1
        if self._clean_since_praise >= self.p.praise_every:
            self._clean_since_praise = 0
            return True
        return False

    def after_rep(self, rep: Rep) -> list[Offer]:
        """A rep has ended: a correction for each of its findings, and now and then praise."""
        offers = corrections(rep.findings)
        if self.praise_due(clean=all(f.severity is Severity.INFO for f in rep.findings)):
            offers.append(Offer("praise_control", CueKind.PRAISE))
        return offers

    def nobody(self, away_s: float) -> list[Offer]:
        """Nobody in view for ``away_s`` seconds: ask them back once it has been a while."""
        return [Offer("get_in_frame", CueKind.INFO)] if away_s > self.p.away_s else []
