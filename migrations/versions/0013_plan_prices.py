"""What the planner's LP charged a seat of each demand (the plan file's `prices`), kept with the
plan so that its suggestions page reads them instead of solving the LP again on every view

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plan') as batch:
        batch.add_column(sa.Column('prices', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('plan') as batch:
        batch.drop_column('prices')
