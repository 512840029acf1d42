"""The Ray-free task: the model opened once per process and reset for every video, and a
bad video's failure returned with analyze's exit code and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from clamcoach.batch import AnalysisOptions, TaskStatus, analyze_one
from clamcoach.batch import task as task_module
from tests.batch.helpers import EVAL, short_clip

pytestmark = pytest.mark.slow


def test_one_model_per_process_and_a_fresh_tracker_per_video(tmp_path: Path, proto) -> None:
    first_clip = short_clip(EVAL / "e1_oblique.mp4", tmp_path / "a.mp4", 4.0)
    other_clip = short_clip(EVAL / "e2_overhead.mp4", tmp_path / "b.mp4", 3.0)
    options = AnalysisOptions(proto, html=True)
    first = analyze_one(first_clip, options)
    estimator = task_module._ESTIMATORS["blazepose", 1]
    analyze_one(other_clip, options)
    again = analyze_one(first_clip, options)
    assert task_module._ESTIMATORS["blazepose", 1] is estimator  # opened once
    # A batch gives each video one core: a second interpreter thread would fight the other
    # workers for it (1 -> 2 workers was 1.13x faster with two threads each).
    assert estimator.threads == 1
    assert first.status is TaskStatus.OK and first.exit_code == 0
    assert again.report_json == first.report_json  # no tracking state carried over
    assert first.html is not None and "clamcoach report" in first.html
    assert len(first.series_frames) > 0 and first.series_frames.landmarks is None
    assert len(first.content_sha256 or "") == 64


@pytest.mark.parametrize(("content", "code", "words"), [
    (None, 4, "no such file"),
    (b"", 5, "the file is empty"),
    (b"\x1aE\xdf\xa3 not really matroska" * 10, 5, "not a video"),
])
def test_a_bad_video_is_a_failed_result_not_an_exception(tmp_path: Path, proto, content, code, words) -> None:
    path = tmp_path / "bad.mp4"
    if content is not None:
        path.write_bytes(content)
    result = analyze_one(path, AnalysisOptions(proto))
    assert (result.status, result.exit_code) == (TaskStatus.FAILED, code)
    assert words in result.message and "\n" not in result.message
    assert result.report is None
