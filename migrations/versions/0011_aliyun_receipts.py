"""Alibaba Cloud SMS: when to next poll a message's delivery receipt, and error codes wide
enough for the provider's (isv.TEMPLATE_MISSING_PARAMETERS)

Revision ID: 0011_aliyun_receipts
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_aliyun_receipts'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbound_message') as batch:
        batch.add_column(sa.Column('receipt_due_at', sa.DateTime(timezone=True), nullable=True))
        batch.alter_column('error_code', existing_type=sa.String(length=20),
                           type_=sa.String(length=64), existing_nullable=True)
        batch.create_index(batch.f('ix_outbound_message_receipt_due_at'), ['receipt_due_at'])


def downgrade():
    with op.batch_alter_table('outbound_message') as batch:
        batch.drop_index(batch.f('ix_outbound_message_receipt_due_at'))
        batch.alter_column('error_code', existing_type=sa.String(length=64),
                           type_=sa.String(length=20), existing_nullable=True)
        batch.drop_column('receipt_due_at')
