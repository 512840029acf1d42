"""The result of one set: setup, reps, findings, and the per-frame series (numbers only).

Its warnings come from one place (``Analysis.warnings``), so the terminal summary, the JSON
and the HTML report say the same things; ``to_dict`` is the JSON contract
(``clamcoach.analysis/1``).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from clamcoach.jsonio import rounded
from clamcoach.notices import Notice, WarningCode
from clamcoach.protocol import Protocol
from clamcoach.provenance import PROGRAM, protocol_hash
from clamcoach.rules import rank_codes
from clamcoach.series import FrameSeries
from clamcoach.setup import SetupResult
from clamcoach.types import Finding, Rep, Severity

SCHEMA = "clamcoach.analysis/1"


def validate_report(report: dict) -> None:
    """Raise ``ValueError`` (one line) when a report does not follow clamcoach.analysis/1."""
    import jsonschema

    try:
        jsonschema.validate(report, _schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise ValueError(f"not a clamcoach.analysis/1 report at {where}: {exc.message}") from None


def _schema() -> dict:
    from importlib import resources

    return json.loads(resources.files("clamcoach.schemas").joinpath("analysis-1.json").read_text("utf-8"))


@dataclass(frozen=True)
class Analysis:
    """Made once by ``Engine.finish``; later stages add to it with ``with_notes`` or
    ``dataclasses.replace`` (a new Analysis), so nothing changes one behind another's back."""

    protocol: Protocol
    setup: SetupResult
    reps: tuple[Rep, ...]
    frames: FrameSeries
    view: str
    view_can_see_roll: bool
    top_side: str | None
    pose_coverage: float
    n_frames: int
    measurement: Mapping[str, Any] = field(default_factory=dict)
    set_findings: tuple[Finding, ...] = ()
    #: Notes from outside the engine (a damaged video, gaps in the pose), in order.
    notes: tuple[Notice, ...] = ()
    #: When the measurement lost the body (its model stopped explaining the landmarks), s.
    track_lost_at_s: tuple[float, ...] = ()
    #: The last of those, when no setup was taken after it (nothing since was measured), s.
    track_lost_for_good_at_s: float | None = None
    #: A small still of the person at the setup and its landmarks (for the report), or None.
    snapshot: tuple[np.ndarray, np.ndarray] | None = None

    def with_notes(self, *notes: Notice) -> "Analysis":
        return replace(self, notes=(*self.notes, *notes))

    @property
    def setup_findings(self) -> tuple[Finding, ...]:
        return self.setup.findings

    @property
    def settled(self) -> bool:
        return math.isfinite(self.setup.t)

    @property
    def roll_reading_trusted(self) -> bool:
        """The roll-back was measured well enough to be judged: only then does a rep without a
        roll-back finding mean the person stayed rolled forward."""
        return self.view_can_see_roll and all(r.roll_judged for r in self.reps)

    @property
    def notices(self) -> list[Notice]:
        """Every warning of the set, in order, as codes and values."""
        out = list(self.notes)
        m = self.setup.measures
        if not self.settled:
            out.append(Notice(WarningCode.NO_SETUP))
        elif not self.view_can_see_roll:
            code = WarningCode.ROLL_NOT_SEEN_MOVE if m.move_camera else WarningCode.ROLL_NOT_SEEN
            out.append(Notice(code, dict(sd=m.roll_sd_deg, need=self.protocol.roll_back.max_sd_deg,
                                         move=m.move_camera)))
        if self.settled and m.opening_sd_deg > self.protocol.opening.max_small_rep_sd_deg:
            out.append(Notice(WarningCode.SMALL_REPS_UNSEEN, dict(sd=m.opening_sd_deg)))
        if self.settled and m.knee_pillow_seen:
            out.append(Notice(WarningCode.KNEE_PILLOW_SEEN))
        if self.settled and m.opening_gain_sd_rel > self.protocol.opening.max_gain_sd_rel:
            pillow_known = self.protocol.setup.knee_pillow or m.knee_pillow_seen
            code = WarningCode.OPENING_LOOSE if pillow_known else WarningCode.OPENING_LOOSE_PILLOW
            out.append(Notice(code, dict(pct=100 * m.opening_gain_sd_rel)))
        regained = self.track_lost_at_s
        if self.track_lost_for_good_at_s is not None:
            regained = tuple(t for t in self.track_lost_at_s if t < self.track_lost_for_good_at_s)
        if regained:
            out.append(Notice(WarningCode.TRACK_LOST, dict(spans=", ".join(f"{t:.1f} s" for t in regained))))
        if self.track_lost_for_good_at_s is not None:
            out.append(Notice(WarningCode.TRACK_LOST_FOR_GOOD, dict(at_s=self.track_lost_for_good_at_s)))
        return out

    @property
    def warnings(self) -> list[str]:
        """Every warning of the set in words (the protocol's): the one source for the terminal
        summary, the JSON report and the HTML report."""
        return [n.text(self.protocol) for n in self.notices]

    def all_findings(self) -> list[Finding]:
        out = list(self.setup.findings)
        for rep in self.reps:
            out.extend(rep.findings)
        out.extend(self.set_findings)
        return out

    def clean_reps(self) -> int:
        return sum(1 for r in self.reps if not any(f.severity is not Severity.INFO for f in r.findings))

    def advice(self, n: int = 2) -> list[Finding]:
        """The one or two things to change, most important first (one per code)."""
        found = self.all_findings()
        ranked = rank_codes([f for f in found if f.severity is not Severity.INFO] or found, n)
        first: dict[str, Finding] = {}
        for f in found:
            first.setdefault(f.code, f)
        return [first[code] for code, _ in ranked]

    def to_dict(self, source: dict) -> dict:
        m = self.setup.measures
        return {
            "schema": SCHEMA,
            "source": source,
            "camera_view": self.view,
            "view_can_see_roll": self.view_can_see_roll,
            "top_side": self.top_side,
            "pose_coverage": rounded(self.pose_coverage, 4),
            "camera": {
                "elevation_deg": rounded(m.camera_elevation_deg, 1),
                "azimuth_deg": rounded(m.camera_azimuth_deg, 1),
                "roll_sd_deg": rounded(m.roll_sd_deg),
                "opening_sd_deg": rounded(m.opening_sd_deg),
                "opening_gain_sd_pct": rounded(100 * m.opening_gain_sd_rel, 0),
                "move": m.move_camera or None,
            },
            "setup": {
                "hip_flexion_deg": rounded(m.hip_flexion_deg),
                "knee_flexion_deg": rounded(m.knee_flexion_deg),
                "forward_roll_deg": rounded(m.forward_roll_deg),
                "forward_roll_sd_deg": rounded(m.forward_roll_sd_deg),
                "hand_on_hip": m.hand_on_hip,
                "knee_pillow_seen": m.knee_pillow_seen,
                "settled_at_s": rounded(self.setup.t),
                "findings": [f.to_dict() for f in self.setup.findings],
            },
            "reps": [rep.to_dict() for rep in self.reps],
            "summary": {
                "reps": len(self.reps),
                "clean_reps": self.clean_reps(),
                "findings": dict(Counter(f.code for f in self.all_findings())),
                "advice": [f.code for f in self.advice()],
                "set_findings": [f.to_dict() for f in self.set_findings],
            },
            "warnings": self.warnings,
            "provenance": {
                "program": PROGRAM,
                "protocol": self.protocol.raw,
                "protocol_sha256": protocol_hash(self.protocol),
                "measurement": dict(self.measurement),
            },
        }
