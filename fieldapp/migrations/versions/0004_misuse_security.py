"""misuse: the digest of a push batch's record uuids (a batch id reused for other records is
refused); the device of a login attempt (known devices are not locked out by others' failures);
the users' session version (logout, a password reset or a role change ends web sessions)

Revision ID: 0004_misuse
Revises: 0003
Create Date: 2026-12-06 13:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004_misuse'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batches stored before keep NULL: they are compared by the uuids their results name.
    with op.batch_alter_table('sync_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('records_digest', sa.String(length=64), nullable=True))
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_login_attempts_username_device', ['username', 'device'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_username_device')
        batch_op.drop_column('device')
    with op.batch_alter_table('sync_batches', schema=None) as batch_op:
        batch_op.drop_column('records_digest')
