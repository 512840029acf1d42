"""The hand-made sample report tells the story the report and storage tests rely on, as the
real rules judge it under the shipped protocol."""

from tests.report.samples import make_report


def test_the_samples_findings_come_from_the_rules():
    report = make_report()
    story = {r["index"]: [(f["code"], f["severity"], f["threshold"]) for f in r["findings"]]
             for r in report["reps"]}
    assert story == {1: [], 2: [], 3: [("roll_back", "warn", 10.0)],
                     4: [("roll_back", "error", 15.0), ("lift_too_high", "warn", 60.0)],
                     5: [("no_hold", "info", 1.0)]}
    assert [f["code"] for f in report["setup"]["findings"]] == ["hand_not_on_hip"]
    assert report["summary"] == {"reps": 5, "clean_reps": 3,
                                 "findings": {"hand_not_on_hip": 1, "roll_back": 2,
                                              "lift_too_high": 1, "no_hold": 1}}
