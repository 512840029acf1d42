"""The therapist's workspace: users and their sign-in sessions, which therapist looks after
which patient, the audit log, pain ratings; each session keeps its whole report, and a
prescription says how many sessions a week.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: rows saved before this revision keep what they had.
    with op.batch_alter_table("prescriptions") as batch:
        batch.add_column(sa.Column("sessions_per_week", sa.Integer, nullable=True))
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("report", sa.JSON, nullable=True))
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("patient_id", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.UniqueConstraint("patient_id", name="uq_users_patient_id"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], ondelete="CASCADE",
                                name="fk_users_patient_id_patients"),
        sa.CheckConstraint("role IN ('therapist', 'patient')", name="ck_users_role"),
    )
    op.create_table(
        "patient_therapist",
        sa.Column("patient_id", sa.Integer, nullable=False),
        sa.Column("therapist_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("patient_id", name="pk_patient_therapist"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], ondelete="CASCADE",
                                name="fk_patient_therapist_patient_id_patients"),
        sa.ForeignKeyConstraint(["therapist_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_patient_therapist_therapist_id_users"),
    )
    op.create_index("ix_patient_therapist_therapist_id", "patient_therapist", ["therapist_id"])
    op.create_table(
        "auth_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_auth_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_auth_sessions_user_id_users"),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("actor_role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("patient_id", sa.Integer),
        sa.Column("detail", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_patient_at", "audit_log", ["patient_id", "at"])
    op.create_table(
        "pain_ratings",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("patient_id", sa.Integer, nullable=False),
        sa.Column("session_id", sa.Integer),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_pain_ratings"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], ondelete="CASCADE",
                                name="fk_pain_ratings_patient_id_patients"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="SET NULL",
                                name="fk_pain_ratings_session_id_sessions"),
        sa.CheckConstraint("rating >= 0 AND rating <= 10", name="ck_pain_ratings_rating"),
    )
    op.create_index("ix_pain_ratings_patient_at", "pain_ratings", ["patient_id", "recorded_at"])


def downgrade() -> None:
    op.drop_table("pain_ratings")
    op.drop_table("audit_log")
    op.drop_table("auth_sessions")
    op.drop_table("patient_therapist")
    op.drop_table("users")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("report")
    with op.batch_alter_table("prescriptions") as batch:
        batch.drop_column("sessions_per_week")
