"""Which cue is said when: one at a time, corrections first, the method's priority, no nagging."""

from clamcoach.coach import Coach, CoachParams, CueKind, Offer
from clamcoach.protocol import load_protocol

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
