"""The seam types: Kinematics and its Spread share one declaration of the fitted measures."""

import math

import pytest

from clamcoach.types import MEASURED_WITH_SD, MEASURES, Kinematics, Spread


def test_every_fitted_measure_has_a_value_and_an_sd():
    assert MEASURED_WITH_SD == ("hip_flexion_deg", "knee_flexion_deg", "opening_deg",
                                "knee_lift_cm", "pelvis_roll_deg", "trunk_roll_deg", "ankle_gap_cm")
    assert MEASURES == (*MEASURED_WITH_SD, "hand_on_hip")
    values = {name: float(i) for i, name in enumerate(MEASURED_WITH_SD)}
    sds = {name: 10.0 + i for i, name in enumerate(MEASURED_WITH_SD)}
    kin = Kinematics(t=2.5, sd=Spread(**sds), **values)
    assert kin.t == 2.5
    assert [kin.value(n) for n in MEASURED_WITH_SD] == list(values.values())
    assert [kin.sd_of(n) for n in MEASURED_WITH_SD] == list(sds.values())
    assert math.isnan(kin.sd_of("shin_length_cm"))
    with pytest.raises(KeyError):
        kin.value("hand_on_hip")


def test_kinematics_and_spread_take_keywords_only():
    # A positional number would silently land in the first measure, not in ``t``.
    with pytest.raises(TypeError):
        Kinematics(1.0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        Spread(1.0)  # type: ignore[misc]
