"""Yearly commune classification: versioned runs (draft → approved, immutable) and per-commune results.

Revision ID: 0003b
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003b'
down_revision = '0002'
branch_labels = None
depends_on = None

#: An approved run and its results can never change: corrections are new runs that supersede them.
FORBID_APPROVED_CHANGE = """
CREATE OR REPLACE FUNCTION forbid_approved_classification_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    frozen boolean;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        frozen := EXISTS (SELECT 1 FROM classification_runs WHERE status = 'approved');
    ELSIF TG_TABLE_NAME = 'classification_runs' THEN
        frozen := OLD.status = 'approved';
    ELSE
        SELECT bool_or(r.status = 'approved') INTO frozen FROM classification_runs r
        WHERE r.id IN (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.run_id END,
                       CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.run_id END);
    END IF;
    IF coalesce(frozen, false) THEN
        RAISE EXCEPTION 'kết quả phân loại đã phê duyệt không thể thay đổi (approved classification is immutable: % on % refused)',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$
"""
TRIGGERS = """
CREATE TRIGGER classification_runs_frozen BEFORE UPDATE OR DELETE ON classification_runs
FOR EACH ROW EXECUTE FUNCTION forbid_approved_classification_change();
CREATE TRIGGER classification_runs_no_truncate BEFORE TRUNCATE ON classification_runs
FOR EACH STATEMENT EXECUTE FUNCTION forbid_approved_classification_change();
CREATE TRIGGER classification_results_frozen BEFORE INSERT OR UPDATE OR DELETE ON classification_results
FOR EACH ROW EXECUTE FUNCTION forbid_approved_classification_change();
CREATE TRIGGER classification_results_no_truncate BEFORE TRUNCATE ON classification_results
FOR EACH STATEMENT EXECUTE FUNCTION forbid_approved_classification_change();
"""


def upgrade() -> None:
    op.create_table('classification_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rules_version', sa.Text(), nullable=False),
    sa.Column('method', sa.Text(), nullable=False),
    sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('approved_by', sa.Text(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("(status = 'approved') = (approved_at IS NOT NULL AND approved_by IS NOT NULL)", name='ck_classification_runs_approval'),
    sa.CheckConstraint("status IN ('draft', 'approved')", name='ck_classification_runs_status'),
    sa.ForeignKeyConstraint(['supersedes_id'], ['classification_runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('year', 'version', name='uq_classification_runs_year_version')
    )
    op.create_index('ix_classification_runs_one_draft', 'classification_runs', ['year'], unique=True, postgresql_where="status = 'draft'")
    op.create_table('classification_results',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('legal_category', sa.String(length=16), nullable=False),
    sa.Column('legal_level', sa.String(length=4), nullable=True),
    sa.Column('learned_category', sa.String(length=16), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('risk_next_year', sa.Float(), nullable=True),
    sa.Column('leaving_drug_free', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=4), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('override_by', sa.Text(), nullable=True),
    sa.Column('override_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('indicators', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('sources', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('criteria', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.CheckConstraint("(category = 'trong_diem') = (level IS NOT NULL) AND (level IS NULL OR level IN ('I', 'II', 'III'))", name='ck_classification_results_level'),
    sa.CheckConstraint("category IN ('trong_diem', 'at_risk', 'drug_free')", name='ck_classification_results_category'),
    sa.CheckConstraint("legal_category IN ('trong_diem', 'at_risk', 'drug_free')", name='ck_classification_results_legal_category'),
    sa.CheckConstraint("method <> 'override' OR length(btrim(override_reason)) > 0", name='ck_classification_results_override_reason'),
    sa.ForeignKeyConstraint(['run_id'], ['classification_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'commune_code')
    )
    op.execute(FORBID_APPROVED_CHANGE)
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.drop_table('classification_results')
    op.drop_table('classification_runs')
    op.execute("DROP FUNCTION IF EXISTS forbid_approved_classification_change()")
