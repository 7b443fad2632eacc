"""bus numbers that sort, and a planner run's last sign of life

Revision ID: 0005
Revises: 0004

trip.number is the number of the bus code (T12 → 12) so that buses sort T2 before T10;
plan.progress_at lets a page tell a stalled run from a working one, and plan.time_limit_s
lets a re-plan reuse the budget the coordinator chose.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("trip", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("time_limit_s", sa.Double(), nullable=True))
    # Every code so far is "T" and a number.
    op.execute("UPDATE trip SET number = CAST(substr(code, 2) AS INTEGER) WHERE code LIKE 'T%'")


def downgrade():
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("time_limit_s")
        batch_op.drop_column("progress_at")
    with op.batch_alter_table("trip", schema=None) as batch_op:
        batch_op.drop_column("number")
