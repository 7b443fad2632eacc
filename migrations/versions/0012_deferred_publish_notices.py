"""When a published plan's notices were written: a season's are written by the scheduler

Revision ID: 0012
Revises: 0011_aliyun_receipts
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011_aliyun_receipts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plan') as batch:
        batch.add_column(sa.Column('notices_written_at', sa.DateTime(timezone=True), nullable=True))
    # Plans published before this revision had their notices written as they were published.
    op.execute("UPDATE plan SET notices_written_at = published_at WHERE published_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('plan') as batch:
        batch.drop_column('notices_written_at')
