"""Tasking: users, teams and their areas over time, tasks, append-only task events.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

#: Reuses forbid_history_change() from 0002: nobody can edit or delete a task event.
APPEND_ONLY = """
CREATE TRIGGER task_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON task_events
FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_change()
"""


def upgrade() -> None:
    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('team_areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('valid_from', sa.Date(), server_default=sa.text('CURRENT_DATE'), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name='ck_team_areas_period'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id', 'commune_code', 'valid_from', name='uq_team_areas_team_commune_from')
    )
    op.create_index('ix_team_areas_commune', 'team_areas', ['commune_code'], unique=False)
    op.create_index(op.f('ix_team_areas_team_id'), 'team_areas', ['team_id'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(role = 'team') = (team_id IS NOT NULL)", name='ck_users_team_role'),
    sa.CheckConstraint("role IN ('command', 'team', 'planner', 'admin')", name='ck_users_role'),
    sa.CheckConstraint('failed_logins >= 0', name='ck_users_failed_logins'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_index(op.f('ix_users_team_id'), 'users', ['team_id'], unique=False)
    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('hotspot_id', sa.Integer(), nullable=True),
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('priority', sa.String(length=8), nullable=False),
    sa.Column('checklist', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('state_changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind <> 'conversion' OR year IS NOT NULL", name='ck_tasks_conversion_year'),
    sa.CheckConstraint("kind <> 'suppression' OR hotspot_id IS NOT NULL", name='ck_tasks_suppression_hotspot'),
    sa.CheckConstraint("kind IN ('suppression', 'conversion')", name='ck_tasks_kind'),
    sa.CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')", name='ck_tasks_priority'),
    sa.CheckConstraint("state IN ('unassigned', 'assigned', 'in_progress', 'paused', 'completed', 'accepted', 'returned', 'declined', 'canceled')", name='ck_tasks_state'),
    sa.ForeignKeyConstraint(['hotspot_id'], ['hotspots.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_tasks_commune', 'tasks', ['commune_code'], unique=False)
    op.create_index('ix_tasks_open_conversion', 'tasks', ['commune_code', 'year'], unique=True, postgresql_where="kind = 'conversion' AND NOT (state IN ('declined', 'canceled'))")
    op.create_index('ix_tasks_open_suppression', 'tasks', ['hotspot_id'], unique=True, postgresql_where="kind = 'suppression' AND NOT (state IN ('declined', 'canceled'))")
    op.create_index('ix_tasks_team_state', 'tasks', ['team_id', 'state'], unique=False)
    op.create_table('task_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('actor_team_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('event', sa.String(length=24), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_task_events_task_id'), 'task_events', ['task_id'], unique=False)
    op.create_index('ix_task_events_team_at', 'task_events', ['team_id', 'at'], unique=False)
    op.execute(APPEND_ONLY)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS task_events_append_only ON task_events")
    op.drop_index('ix_task_events_team_at', table_name='task_events')
    op.drop_index(op.f('ix_task_events_task_id'), table_name='task_events')
    op.drop_table('task_events')
    op.drop_index('ix_tasks_team_state', table_name='tasks')
    op.drop_index('ix_tasks_open_suppression', table_name='tasks', postgresql_where="kind = 'suppression' AND NOT (state IN ('declined', 'canceled'))")
    op.drop_index('ix_tasks_open_conversion', table_name='tasks', postgresql_where="kind = 'conversion' AND NOT (state IN ('declined', 'canceled'))")
    op.drop_index('ix_tasks_commune', table_name='tasks')
    op.drop_table('tasks')
    op.drop_index(op.f('ix_users_team_id'), table_name='users')
    op.drop_table('users')
    op.drop_index(op.f('ix_team_areas_team_id'), table_name='team_areas')
    op.drop_index('ix_team_areas_commune', table_name='team_areas')
    op.drop_table('team_areas')
    op.drop_table('teams')
