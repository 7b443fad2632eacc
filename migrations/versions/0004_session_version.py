"""login sessions that can be revoked; named API tokens

Revision ID: 0004
Revises: 0003

``user.session_version`` is part of the id a login session carries: logging out, a new
password or disabling the account raises it and every older session cookie stops working.
``api_token.label`` says what a token is for on the users page.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="1", nullable=False)
        )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("label", sa.String(length=60), server_default="", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("label")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_version")
