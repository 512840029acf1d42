"""clamcoach: a clamshell-exercise coach that measures from one camera, offline.

    from clamcoach import analyze_video, load_protocol
    result = analyze_video("set.mp4", load_protocol())
    print(result.report()["summary"])

Names are imported on first use, so ``import clamcoach`` loads no video or pose library and
has no side effects.
"""

from __future__ import annotations

import importlib as _importlib

__version__ = "0.1.0"

_EXPORTS = {
    "analyze_video": "clamcoach.pipeline",
    "LiveAnalyzer": "clamcoach.pipeline",
    "make_analyzer": "clamcoach.pipeline",
    "Engine": "clamcoach.engine",
    "Analysis": "clamcoach.engine",
    "Step": "clamcoach.engine",
    "load_protocol": "clamcoach.protocol",
    "Protocol": "clamcoach.protocol",
    "open_estimator": "clamcoach.pose",
    "Finding": "clamcoach.types",
    "Kinematics": "clamcoach.types",
    "PoseFrame": "clamcoach.types",
    "Rep": "clamcoach.types",
    "ClamcoachError": "clamcoach.errors",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'clamcoach' has no attribute {name!r}")
    return getattr(_importlib.import_module(module), name)


def __dir__() -> list[str]:
    return list(__all__)
