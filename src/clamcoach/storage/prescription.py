"""Prescriptions as plain data: check the fields, parse ``--set`` overrides (with the
protocol's parser), and turn a prescription into the nested patch that
``load_protocol(patch=...)`` applies.

Pure functions, no database: the CLI and the web app validate with them before saving.
"""

from __future__ import annotations

from typing import Any, Mapping

from clamcoach.errors import ProtocolError
# The one override parser and deep merge are the protocol's (re-exported for the CLI and workspace).
from clamcoach.protocol import SIDES, default_data, load_protocol, merge, parse_overrides, parse_tempo

FIELDS = ("sets", "reps", "hold_s", "tempo", "side", "band", "sessions_per_week")


def clean_fields(**fields: Any) -> dict[str, Any]:
    """The given prescription fields checked and normalised; None means "not given".

    Raises ProtocolError naming every bad field at once."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    unknown = set(fields) - set(FIELDS)
    if unknown:
        problems.append(f"unknown prescription field(s): {', '.join(sorted(unknown))}")

    def number(name: str, kind: type, lo: float, hi: float) -> None:
        value = fields.get(name)
        if value is None:
            return
        try:
            num = kind(value)
        except (TypeError, ValueError):
            problems.append(f"{name} must be a number, got {value!r}")
            return
        if isinstance(value, float) and kind is int and not value.is_integer():
            problems.append(f"{name} must be a whole number, got {value!r}")
        elif not lo <= num <= hi:
            problems.append(f"{name} must be between {lo:g} and {hi:g}, got {value!r}")
        else:
            out[name] = num

    number("sets", int, 1, 20)
    number("reps", int, 1, 100)
    number("hold_s", float, 0.1, 30)
    number("sessions_per_week", int, 1, 21)
    if fields.get("tempo") is not None:
        tempo = parse_tempo(str(fields["tempo"]))
        if tempo is not None:
            out["tempo"] = str(tempo)
        else:
            problems.append("tempo must be up-hold-down seconds above 0 like 2-2-2, got "
                            f"{fields['tempo']!r}")
    if fields.get("side") is not None:
        side = str(fields["side"]).strip().lower()
        if side in SIDES:
            out["side"] = side
        else:
            problems.append(f"side must be one of {', '.join(SIDES)}, got {fields['side']!r}")
    if fields.get("band") is not None:
        band = str(fields["band"]).strip().lower()
        if 0 < len(band) <= 40:
            out["band"] = band
        else:
            problems.append("band must be a short name such as 'light' (1-40 characters)")
    if problems:
        raise ProtocolError("; ".join(problems))
    return out


def protocol_patch(prescription: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``load_protocol(patch=...)`` patch for a prescription dict (as stored).

    The dose fields go to ``[prescription]``; a prescribed hold (or the tempo's hold) shorter
    than ``tempo.hold_min_s`` lowers it, so a prescribed short hold is not flagged as no hold;
    the therapist's explicit overrides are applied last and win."""
    if not prescription:
        return {}
    patch: dict[str, Any] = {"prescription": {}}
    for name in ("sets", "reps", "hold_s", "tempo", "side", "band"):
        if prescription.get(name) is not None:
            patch["prescription"][name] = prescription[name]
    tempo = parse_tempo(prescription.get("tempo") or "")
    if tempo is not None and prescription.get("hold_s") is None:
        patch["prescription"]["hold_s"] = tempo.hold_s
    hold = patch["prescription"].get("hold_s")
    if hold is not None and hold < default_data()["tempo"]["hold_min_s"]:
        patch["tempo"] = {"hold_min_s": float(hold)}
    if not patch["prescription"]:
        del patch["prescription"]
    return merge(patch, prescription.get("overrides") or {})


def validate(prescription: Mapping[str, Any]) -> None:
    """Raise ProtocolError unless the prescription's patch makes a valid protocol."""
    load_protocol(patch=protocol_patch(prescription))


__all__ = ["FIELDS", "clean_fields", "merge", "parse_overrides", "protocol_patch", "validate"]
