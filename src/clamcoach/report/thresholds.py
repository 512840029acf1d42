"""The thresholds a report was made with: the protocol recorded in the report
(``provenance.protocol``, or a top-level ``protocol``), else the packaged defaults."""

from __future__ import annotations

import math
from typing import Any, Mapping

from clamcoach.protocol import default_data


def used(report: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Section -> {key: value} for the numeric sections, report values over defaults."""
    base = default_data()
    given = (report.get("provenance") or {}).get("protocol") or report.get("protocol")
    out: dict[str, dict[str, Any]] = {}
    for section, values in base.items():
        if not isinstance(values, dict) or section in ("cues", "messages"):
            continue
        merged = dict(values)
        if isinstance(given, Mapping) and isinstance(given.get(section), Mapping):
            merged.update(given[section])
        out[section] = merged
    return out


def get(report: Mapping[str, Any], section: str, key: str) -> float:
    value = used(report).get(section, {}).get(key)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
