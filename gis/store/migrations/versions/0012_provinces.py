"""Provinces: the 34 provinces and centrally-run cities since 1 July 2025; every unit names its province; a command
or planner user may be limited to one province (no province: the whole country, as before).

- `provinces` (code, short and full Vietnamese name), filled from the offline unit directory
  (`gis.unit_directory`, the `vietnamadminunits` package) and by each boundary import.
- `admin_units.province_code` refers to it; units loaded before this revision without a province get the
  one the directory knows for their code (Hải Phòng's 114 units: "31").
- `users.province_code`: only command and planner users may have one.
- The admin audit knows the action "set_user_province".

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from gis.store.sql import in_values
from gis.unit_directory import unit_directory
from models.vocabulary import PROVINCIAL_ROLES, AdminAction

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

#: The user roles a province may limit.
PROVINCE_ROLE_CHECK = f"province_code IS NULL OR {in_values('role', PROVINCIAL_ROLES)}"


def upgrade() -> None:
    op.create_table(
        "provinces",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    directory = unit_directory()
    provinces = [{"c": c, "n": short, "f": full} for c, (short, full) in sorted(directory.provinces.items())]
    op.get_bind().execute(sa.text("INSERT INTO provinces (code, name, full_name) VALUES (:c, :n, :f)"), provinces)
    op.get_bind().execute(
        sa.text("""UPDATE admin_units u SET province_code = d.province
                   FROM unnest(CAST(:codes AS text[]), CAST(:provinces AS text[])) d(code, province)
                   WHERE u.code = d.code AND u.province_code IS NULL"""),
        {"codes": list(directory.province_of), "provinces": list(directory.province_of.values())},
    )
    # A province code a user's own boundary file brought that the directory does not know keeps its code as name.
    op.execute("""INSERT INTO provinces (code, name, full_name)
                  SELECT DISTINCT province_code, province_code, province_code FROM admin_units
                  WHERE province_code IS NOT NULL ON CONFLICT (code) DO NOTHING""")
    op.create_foreign_key("fk_admin_units_province", "admin_units", "provinces", ["province_code"], ["code"])
    op.create_index("ix_admin_units_province", "admin_units", ["province_code", "code"], unique=False)
    op.add_column("users", sa.Column("province_code", sa.String(length=8), nullable=True))
    op.create_foreign_key("fk_users_province", "users", "provinces", ["province_code"], ["code"])
    op.create_check_constraint("ck_users_province_role", "users", PROVINCE_ROLE_CHECK)
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    op.create_check_constraint("ck_admin_audit_action", "admin_audit", in_values("action", AdminAction))


def downgrade() -> None:
    # The audit is append-only: lines of the removed action stay, the older check holds for new lines only.
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    before = in_values("action", [a for a in AdminAction if a != AdminAction.SET_USER_PROVINCE])
    op.execute(f"ALTER TABLE admin_audit ADD CONSTRAINT ck_admin_audit_action CHECK ({before}) NOT VALID")
    op.drop_constraint("ck_users_province_role", "users", type_="check")
    op.drop_constraint("fk_users_province", "users", type_="foreignkey")
    op.drop_column("users", "province_code")
    op.drop_index("ix_admin_units_province", table_name="admin_units")
    op.drop_constraint("fk_admin_units_province", "admin_units", type_="foreignkey")
    op.drop_table("provinces")
