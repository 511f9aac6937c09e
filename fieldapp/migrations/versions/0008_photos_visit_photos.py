"""visit photos (入户照片, uploaded in resumable chunks) and the number a visit expects

Revision ID: 0008_photos
Revises: 0007_members
Create Date: 2026-12-06 16:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_photos'
down_revision = '0007_members'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'visit_photos',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('visit_uuid', sa.String(length=36), nullable=False),
        sa.Column('worker_id', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=20), nullable=False),
        sa.Column('length', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('storage_key', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('change_seq', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['visit_uuid'], ['visits.uuid'], name=op.f('fk_visit_photos_visit_uuid_visits')),
        sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_visit_photos_worker_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_photos')),
        sa.UniqueConstraint('visit_uuid', 'sha256', name='uq_visit_photos_visit_uuid'),
    )
    with op.batch_alter_table('visit_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_photos_visit_uuid'), ['visit_uuid'], unique=False)
        batch_op.create_index('ix_visit_photos_change_seq', ['change_seq'], unique=False)
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photos_expected', sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('photos_expected')
    with op.batch_alter_table('visit_photos', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_photos_change_seq')
        batch_op.drop_index(batch_op.f('ix_visit_photos_visit_uuid'))
    op.drop_table('visit_photos')
