"""the grammar strength a candidate's SQL and an evaluation's answers were written under

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("candidates", "evaluations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("constrain", sa.String(length=12), nullable=True))


def downgrade() -> None:
    for table in ("candidates", "evaluations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("constrain")
