"""the question log learns: feedback on answers (right, wrong, a person's SQL), imported questions,
who gave each record, when it reached the log, and what a continuous run on the log waits for

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("asked_questions") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=10), nullable=False, server_default="ask"))
        batch.add_column(sa.Column("asked_by", sa.String(length=128), nullable=False, server_default=""))
        batch.add_column(sa.Column("gold_sql", sa.Text(), nullable=True))
        batch.add_column(sa.Column("feedback", sa.String(length=8), nullable=False, server_default=""))
        batch.add_column(sa.Column("feedback_note", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("feedback_by", sa.String(length=128), nullable=False, server_default=""))
        batch.add_column(sa.Column("feedback_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column(
                "logged_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
    op.create_index(op.f("ix_asked_questions_created_at"), "asked_questions", ["created_at"], unique=False)
    op.create_index(op.f("ix_asked_questions_logged_at"), "asked_questions", ["logged_at"], unique=False)
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("waiting_for", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("waiting_for")
    op.drop_index(op.f("ix_asked_questions_logged_at"), table_name="asked_questions")
    op.drop_index(op.f("ix_asked_questions_created_at"), table_name="asked_questions")
    with op.batch_alter_table("asked_questions") as batch:
        for column in (
            "logged_at",
            "feedback_at",
            "feedback_by",
            "feedback_note",
            "feedback",
            "gold_sql",
            "asked_by",
            "origin",
        ):
            batch.drop_column(column)
