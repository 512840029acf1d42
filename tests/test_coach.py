"""Which cue is said when: one at a time, corrections first, the method's priority, no nagging."""

from clamcoach.coach import Coach, CoachParams, CueKind, Offer, corrections
from clamcoach.protocol import load_protocol
from clamcoach.rules import finding
from clamcoach.types import Rep, Severity

PROTO = load_protocol()


def coach(**kw):
    return Coach(PROTO, CoachParams(**kw))


def test_a_correction_outranks_praise_and_the_roll_back_outranks_everything():
    c = coach()
    cue = c.choose(0.0, [Offer("praise_control", CueKind.PRAISE), Offer("lift_too_high", CueKind.CORRECTION),
                         Offer("roll_back", CueKind.CORRECTION)])
    assert cue.code == "roll_back" and cue.kind is CueKind.CORRECTION
    assert cue.text == PROTO.cue("roll_back")


def test_one_cue_per_gap_and_the_same_cue_not_again_too_soon():
    c = coach(gap_s=3.0, repeat_s=10.0)
    assert c.choose(0.0, [Offer("roll_back", CueKind.CORRECTION)]).code == "roll_back"
    assert c.choose(2.9, [Offer("feet_apart", CueKind.CORRECTION)]) is None        # within the gap
    assert c.choose(3.1, [Offer("roll_back", CueKind.CORRECTION)]) is None         # repeated too soon
    assert c.choose(3.2, [Offer("roll_back", CueKind.CORRECTION),
                          Offer("feet_apart", CueKind.CORRECTION)]).code == "feet_apart"
    assert c.choose(10.5, [Offer("roll_back", CueKind.CORRECTION)]).code == "roll_back"


def test_a_code_without_a_cue_text_is_never_said():
    assert coach().choose(0.0, [Offer("no_such_code", CueKind.INFO)]) is None


def test_praise_comes_every_third_clean_rep_and_a_mistake_restarts_the_count():
    c = coach(praise_every=3)
    assert [c.praise_due(True) for _ in range(3)] == [False, False, True]
    assert c.praise_due(True) is False and c.praise_due(False) is False
    assert [c.praise_due(True) for _ in range(3)] == [False, False, True]


def _rep(*found: tuple[str, Severity]) -> Rep:
    return Rep(index=1, start_s=0.0, peak_s=1.0, end_s=2.0, opening_deg=20.0, knee_lift_cm=8.0,
               roll_back_deg=2.0, trunk_roll_back_deg=1.0, ankle_gap_cm=1.0, ankle_gap_limit_cm=10.0,
               up_s=1.0, hold_s=2.0, down_s=1.0, roll_back_sustained_s=0.0, roll_judged=True,
               findings=tuple(finding(PROTO, code, sev, 1.0, 1.0, rep=1) for code, sev in found))


def test_an_offer_is_a_correction_unless_said_otherwise_and_corrections_rank_first():
    assert Offer("roll_back").kind is CueKind.CORRECTION
    assert [k.rank for k in CueKind] == [0, 1, 1]
    assert corrections([_rep(("feet_apart", Severity.WARN)).findings[0]]) == [Offer("feet_apart")]


def test_after_a_rep_each_finding_is_offered_and_every_third_clean_rep_is_praised():
    c = coach(praise_every=3)
    flawed = _rep(("roll_back", Severity.ERROR), ("no_hold", Severity.INFO))
    assert c.after_rep(flawed) == [Offer("roll_back"), Offer("no_hold")]
    # an info finding does not spoil a clean rep
    assert [c.after_rep(_rep(("no_hold", Severity.INFO))) for _ in range(2)] == [[Offer("no_hold")]] * 2
    assert c.after_rep(_rep()) == [Offer("praise_control", CueKind.PRAISE)]
    assert c.after_rep(_rep()) == []


def test_nobody_in_view_is_asked_back_only_after_two_seconds():
    c = coach()
    assert c.nobody(2.0) == [] and c.nobody(2.01) == [Offer("get_in_frame", CueKind.INFO)]
    assert coach(away_s=5.0).nobody(4.0) == []
