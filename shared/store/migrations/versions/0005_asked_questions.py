"""the question log: every question asked through Ask and how it was answered

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "asked_questions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("db_id", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("few_shot_k", sa.Integer(), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("agreement_votes", sa.Integer(), nullable=False),
        sa.Column("executable", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("elapsed_ms", sa.Float(), nullable=False),
        sa.Column("repaired_sql", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_asked_questions_db_id"), "asked_questions", ["db_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_asked_questions_db_id"), table_name="asked_questions")
    op.drop_table("asked_questions")
