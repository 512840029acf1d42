"""Numbers for JSON, in one place: the report's rounding, NaN to null, and the serialiser.

JSON has no NaN or infinity, so a missing number is written as null. Every writer of the
analysis report (``analyze --json``, ``batch``, the outbox, the history's copy of the report)
goes through ``json_safe``/``report_json``, and every rounded number through ``rounded``, so
they cannot disagree on a digit.
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping

import numpy as np


def rounded(x: float | None, digits: int = 2) -> float | None:
    """A number for the JSON contract: rounded, None for missing (NaN, inf, None)."""
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), digits)


def json_safe(obj: Any) -> Any:
    """``obj`` (mappings, lists, tuples, numbers, numpy scalars and arrays) as plain JSON
    values: every non-finite float becomes None, keys become strings."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, (str, int)) and not isinstance(obj, np.integer):
        return obj
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [json_safe(v) for v in obj]
    return obj


def report_json(report: Mapping[str, Any]) -> str:
    """The analysis report as JSON text: what ``analyze --json`` and ``batch`` write."""
    return json.dumps(json_safe(report), indent=2, allow_nan=False) + "\n"


__all__ = ["rounded", "json_safe", "report_json"]
