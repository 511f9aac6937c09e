"""visits.return_kind: why a visit was returned (correct the answers, or 仅需重签)

Revision ID: 0006_phone
Revises: 0005_pages
Create Date: 2026-12-06 15:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_phone'
down_revision = '0005_pages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('return_kind', sa.String(length=12), nullable=True))
    # Visits returned before the kind existed were returned for correction.
    op.execute("UPDATE visits SET return_kind = 'correct' WHERE review_status = 'returned'")


def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('return_kind')
