"""planning as a durable job: the claim, heartbeat and attempts of a plan run

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("plan", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("plan", sa.Column("restarts", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("plan", sa.Column("claimed_by", sa.String(length=120), nullable=True))
    op.add_column("plan", sa.Column("claim_token", sa.String(length=40), nullable=True))
    op.add_column("plan", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("plan", sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("plan", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    # A plan left "running" by the old in-process runner has nobody running it: it failed.
    op.execute("UPDATE plan SET status = 'failed', error = 'interrupted' WHERE status = 'running'")


def downgrade():
    for column in (
        "finished_at",
        "started_at",
        "heartbeat_at",
        "claim_token",
        "claimed_by",
        "restarts",
        "attempts",
    ):
        op.drop_column("plan", column)
