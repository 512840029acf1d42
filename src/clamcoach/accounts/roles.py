"""Who is asking: the two roles, and the signed-in user as a typed value."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    THERAPIST = "therapist"
    PATIENT = "patient"


@dataclass(frozen=True)
class Principal:
    """A signed-in user. ``patient_id`` is the patient record of a patient user (None for a
    therapist)."""

    user_id: int
    username: str
    role: Role
    patient_id: int | None = None

    @property
    def is_therapist(self) -> bool:
        return self.role is Role.THERAPIST
