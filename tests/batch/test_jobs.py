"""Reading a batch's input: folders, CSV and JSON-lines manifests, patient maps, and every
problem of a bad input in one message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clamcoach.batch.jobs import VideoJob, read_jobs
from clamcoach.errors import InputNotFound, UsageError


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not really a video")
    return path


def test_a_folder_is_searched_in_order_with_ids_from_the_relative_path(tmp_path: Path) -> None:
    touch(tmp_path / "b.mp4")
    touch(tmp_path / "clinic a" / "set 1.MOV")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / ".hidden" / "x.mp4")
    jobs = read_jobs(tmp_path)
    assert jobs == [
        VideoJob("b", (tmp_path / "b.mp4").resolve()),
        VideoJob("clinic_a--set_1", (tmp_path / "clinic a" / "set 1.MOV").resolve()),
    ]


def test_a_csv_manifest_resolves_paths_from_its_folder(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("path,patient,id\nclips/a.mp4,Ann,first\n/abs/b.mp4,,\n\n")
    jobs = read_jobs(tmp_path / "m.csv")
    assert jobs == [VideoJob("first", (tmp_path / "clips" / "a.mp4").resolve(), "Ann"),
                    VideoJob("b", Path("/abs/b.mp4"), None)]


def test_a_json_lines_manifest(tmp_path: Path) -> None:
    rows = [{"path": "a.mp4", "patient": "Ann"}, {"path": "b.mp4", "id": "two"}]
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert [(j.id, j.patient) for j in read_jobs(tmp_path / "m.jsonl")] == [("a", "Ann"), ("two", None)]


def test_every_problem_of_a_manifest_is_in_one_message(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("path,id,colour\na.mp4,x,red\n,y,\nb.mp4,x,\nc.mp4,../up,\n")
    with pytest.raises(UsageError) as err:
        read_jobs(tmp_path / "m.csv")
    text = str(err.value)
    assert "line 2: unknown column(s) colour" in text
    assert "line 3: no path" in text
    assert "id 'x' is used twice" in text
    assert "id '../up' is not a safe file name" in text


def test_bad_json_lines_and_a_missing_path_column(tmp_path: Path) -> None:
    (tmp_path / "m.jsonl").write_text('{"path": "a.mp4"}\nnot json\n[1]\n')
    with pytest.raises(UsageError, match=r"line 2: not JSON.*line 3: not an object"):
        read_jobs(tmp_path / "m.jsonl")
    (tmp_path / "m.csv").write_text("file\na.mp4\n")
    with pytest.raises(UsageError, match="'path' column"):
        read_jobs(tmp_path / "m.csv")


def test_missing_input_and_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InputNotFound):
        read_jobs(tmp_path / "nope")
    with pytest.raises(UsageError, match="no videos"):
        read_jobs(tmp_path)


def test_a_patient_map_by_id_or_path_and_its_conflicts(tmp_path: Path) -> None:
    touch(tmp_path / "v" / "a.mp4")
    touch(tmp_path / "v" / "b.mp4")
    touch(tmp_path / "v" / "c.mp4")
    (tmp_path / "map.csv").write_text("id,path,patient\na,,Ann\n,v/b.mp4,Bob\n")
    jobs = read_jobs(tmp_path / "v", patient_map=tmp_path / "map.csv")
    assert [(j.id, j.patient) for j in jobs] == [("a", "Ann"), ("b", "Bob"), ("c", None)]
    (tmp_path / "m.csv").write_text("path,patient\nv/a.mp4,Zoe\n")
    with pytest.raises(UsageError, match="the manifest says patient 'Zoe', the map 'Ann'"):
        read_jobs(tmp_path / "m.csv", patient_map=tmp_path / "map.csv")
    with pytest.raises(InputNotFound):
        read_jobs(tmp_path / "v", patient_map=tmp_path / "missing.csv")
