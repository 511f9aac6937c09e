"""household_progress.household_id without a foreign key to households

Revision ID: 0009_rollup
Revises: 0008_photos
Create Date: 2026-12-06 18:10:00

The rollup is derived data. On PostgreSQL the key made every refresh lock the
households it counted (KEY SHARE), which deadlocked with central storing a town's
page (its upserts lock the same households in another order).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_rollup'
down_revision = '0008_photos'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('household_progress', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_household_progress_household_id_households'), type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('household_progress', schema=None) as batch_op:
        batch_op.create_foreign_key(op.f('fk_household_progress_household_id_households'), 'households',
                                    ['household_id'], ['id'])
