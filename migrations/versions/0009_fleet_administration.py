"""operators, certificates, depots and active flags for the fleet administration

Revision ID: 0009
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'operator',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('licence_no', sa.String(length=40), nullable=False, server_default=''),
        sa.Column('contact_name', sa.String(length=40), nullable=False, server_default=''),
        sa.Column('phone', sa.String(length=20), nullable=False, server_default=''),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_operator')),
        sa.UniqueConstraint('name', name=op.f('uq_operator_name')),
    )
    # Plain ADD COLUMN: SQLite then keeps the tables, and their rows, as they are; a batch "move
    # and copy" would drop tables that trips still reference.
    flag = dict(nullable=False, server_default=sa.true())
    op.add_column('coach_type', sa.Column('active', sa.Boolean(), **flag))
    _add_reference('driver', 'operator_id', sa.Integer(), 'operator', 'id')
    op.add_column('driver', sa.Column('licence_class', sa.String(length=10), nullable=False, server_default=''))
    op.add_column('driver', sa.Column('qualification_no', sa.String(length=40), nullable=False, server_default=''))
    op.add_column('driver', sa.Column('qualification_expires', sa.Date(), nullable=True))
    op.add_column('driver', sa.Column('active', sa.Boolean(), **flag))
    op.create_index(op.f('ix_driver_operator_id'), 'driver', ['operator_id'], unique=False)
    _add_reference('coach', 'operator_id', sa.Integer(), 'operator', 'id')
    _add_reference('coach', 'depot_site_id', sa.String(length=40), 'site', 'id')
    op.add_column('coach', sa.Column('certificate_no', sa.String(length=40), nullable=False, server_default=''))
    op.add_column('coach', sa.Column('certificate_expires', sa.Date(), nullable=True))
    op.create_index(op.f('ix_coach_operator_id'), 'coach', ['operator_id'], unique=False)
    op.add_column('site', sa.Column('handout_place', sa.String(length=200), nullable=False, server_default=''))
    op.add_column('site', sa.Column('default_window', sa.String(length=20), nullable=False, server_default=''))
    op.add_column('site', sa.Column('active', sa.Boolean(), **flag))
    op.add_column('employer', sa.Column('active', sa.Boolean(), **flag))
    # the operators named on coaches and drivers become operator rows
    op.execute("INSERT INTO operator (name, licence_no, contact_name, phone, active) "
               "SELECT DISTINCT operator, '', '', '', true FROM coach WHERE operator <> '' "
               "UNION SELECT DISTINCT operator, '', '', '', true FROM driver WHERE operator <> ''")
    op.execute("UPDATE coach SET operator_id = (SELECT id FROM operator WHERE operator.name = coach.operator)")
    op.execute("UPDATE driver SET operator_id = (SELECT id FROM operator WHERE operator.name = driver.operator)")


def _add_reference(table, column, type_, target, key):
    """A nullable column with its foreign key; on SQLite inline (REFERENCES), which ADD COLUMN allows."""
    if op.get_bind().dialect.name == 'sqlite':
        kind = 'INTEGER' if isinstance(type_, sa.Integer) else f'VARCHAR({type_.length})'
        op.execute(f'ALTER TABLE {table} ADD COLUMN {column} {kind} REFERENCES {target} ({key})')
        return
    op.add_column(table, sa.Column(column, type_, nullable=True))
    op.create_foreign_key(op.f(f'fk_{table}_{column}_{target}'), table, target, [column], [key])


def downgrade():
    # Columns without keys go by plain DROP COLUMN (rows kept); the keyed ones need SQLite's batch copy.
    for table, column in (('employer', 'active'), ('site', 'active'), ('site', 'default_window'),
                          ('site', 'handout_place'), ('coach', 'certificate_expires'), ('coach', 'certificate_no'),
                          ('driver', 'active'), ('driver', 'qualification_expires'), ('driver', 'qualification_no'),
                          ('driver', 'licence_class'), ('coach_type', 'active')):
        op.drop_column(table, column)
    op.drop_index(op.f('ix_coach_operator_id'), table_name='coach')
    op.drop_index(op.f('ix_driver_operator_id'), table_name='driver')
    sqlite = op.get_bind().dialect.name == 'sqlite'  # its keys are inline and unnamed: they go with the columns
    with op.batch_alter_table('coach') as batch_op:
        if not sqlite:
            batch_op.drop_constraint(batch_op.f('fk_coach_depot_site_id_site'), type_='foreignkey')
            batch_op.drop_constraint(batch_op.f('fk_coach_operator_id_operator'), type_='foreignkey')
        batch_op.drop_column('depot_site_id')
        batch_op.drop_column('operator_id')
    with op.batch_alter_table('driver') as batch_op:
        if not sqlite:
            batch_op.drop_constraint(batch_op.f('fk_driver_operator_id_operator'), type_='foreignkey')
        batch_op.drop_column('operator_id')
    op.drop_table('operator')
