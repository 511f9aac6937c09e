"""villages.lat, villages.lon: the 村委会's position, the review page's reference for a
household's first positioned visit

Revision ID: 0010_placededup
Revises: 0009_rollup
Create Date: 2026-12-07 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_placededup'
down_revision = '0009_rollup'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('villages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('lon', sa.Float(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy of the table: the copy
    # drops ``villages`` under the households and users that point at it, which SQLite's
    # foreign keys refuse once the table holds rows.
    op.drop_column('villages', 'lon')
    op.drop_column('villages', 'lat')
