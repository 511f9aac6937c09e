"""household_members: the members of each household (form 2024.1, roster members sheet)

Revision ID: 0007_members
Revises: 0006_phone
Create Date: 2026-12-06 17:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0007_members'
down_revision = '0006_phone'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'household_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.String(length=36), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('id_number', sa.String(length=18), nullable=True),
        sa.Column('relation', sa.String(length=20), nullable=True),
        sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('visit_uuid', sa.String(length=36), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['household_id'], ['households.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('household_id', 'position'),
    )
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_members_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_members_id_number'), ['id_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_members_id_number'))
        batch_op.drop_index(batch_op.f('ix_household_members_household_id'))
    op.drop_table('household_members')
