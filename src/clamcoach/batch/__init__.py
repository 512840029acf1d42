"""Clinic-scale analysis: many videos as Ray tasks (``clamcoach batch``; docs/BATCH.md).

    from clamcoach.batch import AnalysisOptions, analyze_one
    result = analyze_one("set.mp4", AnalysisOptions(load_protocol()))   # no Ray needed

``analyze_one`` is the task: Ray-free, so the workspace's uploads run through it too. Ray
itself (the ``batch`` extra) is imported only when a batch starts.
"""

from __future__ import annotations

from clamcoach.batch.task import AnalysisOptions, TaskResult, TaskStatus, analyze_one

__all__ = ["AnalysisOptions", "TaskResult", "TaskStatus", "analyze_one"]
