"""Trunk roll-back per rep, a thinned per-frame series per session, and the index the
history and trend queries use (sessions of one patient in time order).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: reps saved before this revision simply have no trunk measure.
    with op.batch_alter_table("reps") as batch:
        batch.add_column(sa.Column("trunk_roll_back_deg", sa.Float, nullable=True))
    op.create_index(
        "ix_sessions_patient_recorded", "sessions", ["patient_id", "recorded_at"]
    )
    op.create_table(
        "session_series",
        sa.Column("session_id", sa.Integer, nullable=False),
        sa.Column("hz", sa.Float, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_series"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], ondelete="CASCADE",
            name="fk_session_series_session_id_sessions",
        ),
    )


def downgrade() -> None:
    op.drop_table("session_series")
    op.drop_index("ix_sessions_patient_recorded", table_name="sessions")
    with op.batch_alter_table("reps") as batch:
        batch.drop_column("trunk_roll_back_deg")
