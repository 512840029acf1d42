"""A session's hand on hip is yes, no or unknown: a boolean column (it was a float holding
1.0, 0.0 or NULL).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not batch mode: rebuilding ``sessions`` would drop it, and dropping it cascades to
        # every rep, finding and series of the history. A new column, copied, renamed instead.
        op.execute("ALTER TABLE sessions ADD COLUMN hand_on_hip_new BOOLEAN")
        op.execute("UPDATE sessions SET hand_on_hip_new = (hand_on_hip <> 0) WHERE hand_on_hip IS NOT NULL")
        op.execute("ALTER TABLE sessions DROP COLUMN hand_on_hip")
        op.execute("ALTER TABLE sessions RENAME COLUMN hand_on_hip_new TO hand_on_hip")
    else:
        op.alter_column("sessions", "hand_on_hip", existing_type=sa.Float(), type_=sa.Boolean(),
                        existing_nullable=True, postgresql_using="hand_on_hip <> 0")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE sessions ADD COLUMN hand_on_hip_old FLOAT")
        op.execute("UPDATE sessions SET hand_on_hip_old = hand_on_hip * 1.0")
        op.execute("ALTER TABLE sessions DROP COLUMN hand_on_hip")
        op.execute("ALTER TABLE sessions RENAME COLUMN hand_on_hip_old TO hand_on_hip")
    else:
        op.alter_column("sessions", "hand_on_hip", existing_type=sa.Boolean(), type_=sa.Float(),
                        existing_nullable=True,
                        postgresql_using="CASE WHEN hand_on_hip THEN 1.0 ELSE 0.0 END")
