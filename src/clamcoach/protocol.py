"""The exercise as data: defaults from ``protocols/clamshell.toml``, overridable per run.

``load_protocol(file=None, overrides=())`` merges, in order: the packaged defaults, an
optional TOML file holding only the keys to change, and ``section.key=value`` overrides. Every
key is checked against the defaults (unknown keys and wrong types are errors), and all the
problems are reported in one message.
"""

from __future__ import annotations

import copy
import functools
import re
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

from clamcoach.errors import ProtocolError


@dataclass(frozen=True)
class Prescription:
    sets: int
    reps: int
    hold_s: float
    rest_s: float
    side: str
    band: str
    tempo: str                # "up-hold-down" seconds, e.g. "3-3-3"; "" when not prescribed
    tolerance: float          # fraction a rep's hold or tempo may differ before it is said


@dataclass(frozen=True)
class SetupRules:
    hip_min_deg: float
    hip_max_deg: float
    hip_flag_min_deg: float
    hip_flag_max_deg: float
    knee_min_deg: float
    knee_max_deg: float
    flag_hold_s: float
    forward_roll_min_deg: float
    forward_roll_max_deg: float
    forward_roll_max_sd_deg: float
    hand_on_hip_required: bool
    #: The patient rests the knees on a pillow between them (the method allows one).
    knee_pillow: bool


@dataclass(frozen=True)
class RollBackRules:
    warn_deg: float
    error_deg: float
    sustain_s: float
    check_trunk: bool
    max_sd_deg: float


@dataclass(frozen=True)
class OpeningRules:
    min_rep_deg: float
    typical_min_deg: float
    typical_max_deg: float
    too_high_deg: float
    #: A placement's opening SD near closed above this may miss small reps (said, not hidden).
    max_small_rep_sd_deg: float
    #: A placement whose opening is known only to this share of itself (SD) says so.
    max_gain_sd_rel: float = 0.4


@dataclass(frozen=True)
class FeetRules:
    max_gap_shin_fraction: float


@dataclass(frozen=True)
class TempoRules:
    min_up_s: float
    min_down_s: float
    hold_min_s: float


@dataclass(frozen=True)
class Protocol:
    name: str
    version: int
    prescription: Prescription
    setup: SetupRules
    roll_back: RollBackRules
    opening: OpeningRules
    feet: FeetRules
    tempo: TempoRules
    cues: dict[str, str]
    messages: dict[str, str]
    labels: dict[str, str]
    #: The analysis warnings' texts by code (``clamcoach.notices.WarningCode``).
    warnings: dict[str, str]
    #: How to move the camera, in words, by ``clamcoach.measure.placement.CameraMove`` value.
    camera_moves: dict[str, str]
    raw: dict[str, Any]

    def cue(self, code: str) -> str:
        return self.cues.get(code, "")

    def message(self, code: str) -> str:
        return self.messages.get(code, "")

    def label(self, code: str) -> str:
        return label(code, self.labels)

    def warning(self, code: str) -> str:
        return self.warnings[code]


def label(code: str, labels: Mapping[str, str] | None = None) -> str:
    """The plain-words name of a finding or note code (the protocol file's ``[labels]``, the
    one registry for CLI, reports and pages); an unknown code reads as its words."""
    table = default_labels() if labels is None else labels
    return table.get(code) or code.replace("_", " ").capitalize()


@functools.cache
def _default_labels() -> tuple[tuple[str, str], ...]:
    return tuple(default_data()["labels"].items())


def default_labels() -> dict[str, str]:
    return dict(_default_labels())


_SECTIONS = {
    "prescription": Prescription,
    "setup": SetupRules,
    "roll_back": RollBackRules,
    "opening": OpeningRules,
    "feet": FeetRules,
    "tempo": TempoRules,
}


def default_data() -> dict[str, Any]:
    text = resources.files("clamcoach.protocols").joinpath("clamshell.toml").read_text("utf-8")
    return tomllib.loads(text)


def load_protocol(
    file: str | Path | None = None,
    overrides: Iterable[str] = (),
    *,
    patch: dict[str, Any] | None = None,
) -> Protocol:
    """The default protocol, changed by ``file``, then ``patch`` (a nested dict, e.g. a
    prescription's overrides), then ``overrides`` (``"section.key=value"`` strings)."""
    data = default_data()
    problems: list[str] = []
    if file is not None:
        path = Path(file)
        try:
            user = tomllib.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ProtocolError(f"protocol file not found: {path}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProtocolError(f"protocol file {path} is not valid TOML: {exc}") from None
        data = merge(data, user, problems=problems)
    if patch:
        data = merge(data, patch, problems=problems)
    data = merge(data, _parse_overrides(overrides, problems), problems=problems)
    if not problems:
        problems = contradictions(data)
    if problems:
        raise ProtocolError("; ".join(problems))
    return from_dict(data)


#: (section, lower key, upper key): pairs whose order the method needs.
_ORDERED = (
    ("roll_back", "warn_deg", "error_deg"),
    ("setup", "hip_min_deg", "hip_max_deg"),
    ("setup", "hip_flag_min_deg", "hip_flag_max_deg"),
    ("setup", "knee_min_deg", "knee_max_deg"),
    ("setup", "forward_roll_min_deg", "forward_roll_max_deg"),
    ("opening", "typical_min_deg", "typical_max_deg"),
    ("opening", "min_rep_deg", "too_high_deg"),
)
#: Values that must be above zero (a 0 s hold or 0 reps prescribe nothing; a roll-back that
#: need not last is no sustained roll-back, and the check's window cannot be empty).
_POSITIVE = (("prescription", "sets"), ("prescription", "reps"), ("prescription", "hold_s"),
             ("roll_back", "warn_deg"), ("roll_back", "sustain_s"))


def contradictions(data: Mapping[str, Any]) -> list[str]:
    """Every way the merged protocol data contradicts itself, one phrase each."""
    out = []
    for section, key in _POSITIVE:
        if data[section][key] <= 0:
            out.append(f"'{section}.{key}' must be above 0, got {data[section][key]:g}")
    for section, lo, hi in _ORDERED:
        a, b = data[section][lo], data[section][hi]
        if a > b:
            out.append(f"'{section}.{lo}' ({a:g}) is above '{section}.{hi}' ({b:g})")
    rx = data["prescription"]
    if not 0 <= rx["tolerance"] < 1:
        out.append("'prescription.tolerance' must be a fraction from 0 to 1")
    if rx["side"] not in SIDES:
        out.append(f"'prescription.side' must be one of {', '.join(SIDES)}, got {rx['side']!r}")
    if rx["tempo"]:
        tempo = parse_tempo(rx["tempo"])
        if tempo is None:
            out.append(f"'prescription.tempo' must be up-hold-down seconds like 3-3-3, got {rx['tempo']!r}")
        elif abs(tempo.hold_s - rx["hold_s"]) > 1e-6:
            out.append(f"'prescription.hold_s' ({rx['hold_s']:g} s) contradicts the hold of "
                       f"'prescription.tempo' {rx['tempo']} ({tempo.hold_s:g} s)")
    return out


SIDES = ("left", "right", "both")
_TEMPO = re.compile(r"^\s*(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Tempo:
    """A prescribed tempo: seconds up, held at the top, and down."""

    up_s: float
    hold_s: float
    down_s: float

    def __str__(self) -> str:
        return f"{self.up_s:g}-{self.hold_s:g}-{self.down_s:g}"


def parse_tempo(text: str) -> Tempo | None:
    """``"3-3-3"`` as a Tempo; None when the text is not of that form or has a 0 s phase."""
    found = _TEMPO.match(text or "")
    if not found:
        return None
    up, hold, down = (float(x) for x in found.groups())
    return Tempo(up, hold, down) if min(up, hold, down) > 0 else None


def from_dict(data: dict[str, Any]) -> Protocol:
    built = {}
    for section, cls in _SECTIONS.items():
        values = data[section]
        built[section] = cls(**{f.name: values[f.name] for f in fields(cls)})
    return Protocol(
        name=data["name"],
        version=int(data["version"]),
        cues=dict(data["cues"]),
        messages=dict(data["messages"]),
        labels=dict(data["labels"]),
        warnings=dict(data["warnings"]),
        camera_moves=dict(data["camera_moves"]),
        raw=copy.deepcopy(data),
        **built,
    )


#: Keys that protocol files once had and no check reads: named, so an old file's error says why.
RETIRED = {
    "setup.hip_target_deg": "the setup is judged by its range, setup.hip_min_deg to setup.hip_max_deg",
    "setup.knee_target_deg": "the setup is judged by its range, setup.knee_min_deg to setup.knee_max_deg",
    "setup.settle_s": "the setup is measured once the body has been still for a moment (not a protocol value)",
    "tempo.hold_target_s": "the hold to reach is prescription.hold_s",
    "tempo.hold_max_s": "a hold longer than prescribed is said by the prescription check (prescription.tolerance)",
}


def merge(base: Mapping[str, Any], new: Mapping[str, Any], *, problems: list[str] | None = None,
          _prefix: str = "") -> dict[str, Any]:
    """``new`` merged into a deep copy of ``base`` (``new`` wins, neither input changes): the
    one deep merge of protocol data and of prescription overrides.

    With ``problems``, ``base`` is also the schema: a key it lacks, a value where it has a
    table, or a value of another type is a problem (appended as one phrase; the key keeps
    base's value), and numbers take base's type (5 -> 5.0)."""
    out = copy.deepcopy(dict(base))
    for key, value in new.items():
        where = f"{_prefix}{key}"
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, Mapping):
            out[key] = merge(old, value, problems=problems, _prefix=where + ".")
        elif problems is None:
            out[key] = copy.deepcopy(value)
        elif key not in out:
            hint = RETIRED.get(where)
            problems.append(f"protocol key '{where}' is no longer used: {hint}" if hint
                            else f"unknown protocol key '{where}'")
        elif isinstance(old, dict):
            problems.append(f"'{where}' must be a table")
        elif (coerced := _coerce(old, value)) is None:
            problems.append(f"'{where}' must be {type(old).__name__}, got {value!r}")
        else:
            out[key] = coerced
    return out


def _coerce(default: Any, value: Any) -> Any:
    """``value`` in the type of ``default``, or None when it cannot be."""
    if isinstance(default, bool):
        return value if isinstance(value, bool) else None
    if isinstance(default, (int, float)) and not isinstance(value, bool):
        if isinstance(value, (int, float)):
            return type(default)(value) if isinstance(default, float) or float(value).is_integer() else float(value)
        return None
    if isinstance(default, str):
        return value if isinstance(value, str) else None
    return None


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["roll_back.error_deg=12", ...]`` as a nested patch (values are TOML; a bare word is
    text): the one parser of ``--set`` overrides. Raises ProtocolError naming every bad item;
    the keys are checked when the patch is merged (``load_protocol``)."""
    problems: list[str] = []
    patch = _parse_overrides(items, problems)
    if problems:
        raise ProtocolError("; ".join(problems))
    return patch


def _parse_overrides(items: Iterable[str], problems: list[str]) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        *path, name = key.strip().split(".")
        if not sep or not path or not all(path) or not name:
            problems.append(f"override '{item}' is not of the form section.key=value")
            continue
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()  # a bare word: a string
        node = patch
        for part in path:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                problems.append(f"override '{item}' conflicts with another override")
                break
        else:
            node[name] = value
    return patch
