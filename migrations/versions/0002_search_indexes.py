"""trigram indexes for the worker search (PostgreSQL)

Revision ID: 0002
Revises: 0001

The worker search matches ``LIKE '%text%'`` on name and phone and ``LIKE '%digits'`` on the
ID number: no B-tree serves that, a pg_trgm GIN index does. SQLite gets nothing here (it
scans; fine at the sizes one SQLite file serves). A trip's seats are served by the unique
index of (trip_id, seat_no) and due messages by ix_outbound_message_due (both in 0001).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

COLUMNS = ("name", "phone", "id_number")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        op.create_index(
            f"ix_worker_{column}_trgm", "worker", [column],
            postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.drop_index(f"ix_worker_{column}_trgm", table_name="worker")
    # The extension stays: other objects may use it, and it holds no data.
