"""change_reservations: PostgreSQL writers take change numbers outside their transaction

Revision ID: 0011_reservations
Revises: 0010_placededup
Create Date: 2026-12-06 20:00:00

Central took every town's page under the change counter's row lock, one page at a
time. Writers on PostgreSQL now take their numbers in a short transaction of their
own and leave a reservation that readers stop before (fieldapp/db/changes.py).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_reservations'
down_revision = '0010_placededup'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'change_reservations',
        sa.Column('first', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('last', sa.BigInteger(), nullable=False),
        sa.Column('xact', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('first', name=op.f('pk_change_reservations')),
    )


def downgrade() -> None:
    op.drop_table('change_reservations')
