"""Initial schema: patients, versioned prescriptions, sessions, reps, findings.

Revision ID: 0001
Revises:
Create Date: 2026-11-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
        sa.UniqueConstraint("name", name="uq_patients_name"),
    )
    op.create_table(
        "prescriptions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("patient_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sets", sa.Integer),
        sa.Column("reps", sa.Integer),
        sa.Column("hold_s", sa.Float),
        sa.Column("tempo", sa.String(40)),
        sa.Column("side", sa.String(10)),
        sa.Column("band", sa.String(40)),
        sa.Column("overrides", sa.JSON, nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_prescriptions"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], ondelete="CASCADE",
            name="fk_prescriptions_patient_id_patients",
        ),
        sa.UniqueConstraint("patient_id", "version", name="uq_prescriptions_version"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("patient_id", sa.Integer, nullable=False),
        sa.Column("prescription_id", sa.Integer),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("schema", sa.String(40)),
        sa.Column("source_name", sa.String(300)),
        sa.Column("fps", sa.Float),
        sa.Column("frames", sa.Integer),
        sa.Column("duration_s", sa.Float),
        sa.Column("camera_view", sa.String(20)),
        sa.Column("top_side", sa.String(10)),
        sa.Column("pose_coverage", sa.Float),
        sa.Column("hip_flexion_deg", sa.Float),
        sa.Column("knee_flexion_deg", sa.Float),
        sa.Column("forward_roll_deg", sa.Float),
        sa.Column("hand_on_hip", sa.Float),
        sa.Column("rep_count", sa.Integer, nullable=False),
        sa.Column("clean_reps", sa.Integer, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("video_path", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], ondelete="CASCADE",
            name="fk_sessions_patient_id_patients",
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"], ["prescriptions.id"], ondelete="SET NULL",
            name="fk_sessions_prescription_id_prescriptions",
        ),
        sa.CheckConstraint("kind IN ('analyze', 'live')", name="ck_sessions_kind"),
    )
    op.create_table(
        "reps",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("session_id", sa.Integer, nullable=False),
        sa.Column("index", sa.Integer, nullable=False),
        sa.Column("start_s", sa.Float),
        sa.Column("peak_s", sa.Float),
        sa.Column("end_s", sa.Float),
        sa.Column("opening_deg", sa.Float),
        sa.Column("knee_lift_cm", sa.Float),
        sa.Column("roll_back_deg", sa.Float),
        sa.Column("ankle_gap_cm", sa.Float),
        sa.Column("up_s", sa.Float),
        sa.Column("hold_s", sa.Float),
        sa.Column("down_s", sa.Float),
        sa.Column("roll_confidence", sa.Float),
        sa.Column("clean", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reps"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], ondelete="CASCADE",
            name="fk_reps_session_id_sessions",
        ),
    )
    op.create_index("ix_reps_session_id", "reps", ["session_id"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("session_id", sa.Integer, nullable=False),
        sa.Column("rep_id", sa.Integer),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("threshold", sa.Float),
        sa.Column("message", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_findings"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], ondelete="CASCADE",
            name="fk_findings_session_id_sessions",
        ),
        sa.ForeignKeyConstraint(
            ["rep_id"], ["reps.id"], ondelete="CASCADE", name="fk_findings_rep_id_reps"
        ),
        sa.CheckConstraint(
            "severity IN ('info', 'warn', 'error')", name="ck_findings_severity"
        ),
    )
    op.create_index("ix_findings_session_id", "findings", ["session_id"])


def downgrade() -> None:
    op.drop_table("findings")
    op.drop_table("reps")
    op.drop_table("sessions")
    op.drop_table("prescriptions")
    op.drop_table("patients")
