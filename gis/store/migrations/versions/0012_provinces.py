"""Provinces: the 34 provinces and centrally-run cities since 1 July 2025; every unit names its province; a command
or planner user may be limited to one province (no province: the whole country, as before).

- `provinces` (code, short and full Vietnamese name), filled with the 34 rows the offline unit directory (the
  `vietnamadminunits` package, 1.0.4) held when this revision was written, written out below, and by each boundary
  import.
- `admin_units.province_code` refers to it; units loaded before this revision without a province get the
  one the directory knows for their code (Hải Phòng's 114 units: "31"). That table of 3,321 codes is read from
  the package itself, whose version the project pins (not from `gis.unit_directory`, which may change), and only
  while such units are stored (a new database has none).
- `users.province_code`: only command and planner users may have one.
- The admin audit knows the action "set_user_province".

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from gis.store.sql import add_check_valid_when_rows_allow, in_values

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
#: The user roles a province may limit.
PROVINCIAL_ROLES = ("command", "planner")
PROVINCE_ROLE_CHECK = f"province_code IS NULL OR {in_values('role', PROVINCIAL_ROLES)}"
#: The admin actions before this revision (as 0009 wrote them) and after it.
ADMIN_ACTIONS_BEFORE = (
    "create_user",
    "deactivate_user",
    "activate_user",
    "reset_password",
    "unlock_user",
    "create_team",
    "change_team_area",
)
ADMIN_ACTIONS = (*ADMIN_ACTIONS_BEFORE, "set_user_province")
#: The provinces and centrally-run cities since 1 July 2025: code, short and full name.
PROVINCES = (
    ("01", "Hà Nội", "Thành phố Hà Nội"),
    ("04", "Cao Bằng", "Tỉnh Cao Bằng"),
    ("08", "Tuyên Quang", "Tỉnh Tuyên Quang"),
    ("11", "Điện Biên", "Tỉnh Điện Biên"),
    ("12", "Lai Châu", "Tỉnh Lai Châu"),
    ("14", "Sơn La", "Tỉnh Sơn La"),
    ("15", "Lào Cai", "Tỉnh Lào Cai"),
    ("19", "Thái Nguyên", "Tỉnh Thái Nguyên"),
    ("20", "Lạng Sơn", "Tỉnh Lạng Sơn"),
    ("22", "Quảng Ninh", "Tỉnh Quảng Ninh"),
    ("24", "Bắc Ninh", "Tỉnh Bắc Ninh"),
    ("25", "Phú Thọ", "Tỉnh Phú Thọ"),
    ("31", "Hải Phòng", "Thành phố Hải Phòng"),
    ("33", "Hưng Yên", "Tỉnh Hưng Yên"),
    ("37", "Ninh Bình", "Tỉnh Ninh Bình"),
    ("38", "Thanh Hóa", "Tỉnh Thanh Hóa"),
    ("40", "Nghệ An", "Tỉnh Nghệ An"),
    ("42", "Hà Tĩnh", "Tỉnh Hà Tĩnh"),
    ("44", "Quảng Trị", "Tỉnh Quảng Trị"),
    ("46", "Huế", "Thành phố Huế"),
    ("48", "Đà Nẵng", "Thành phố Đà Nẵng"),
    ("51", "Quảng Ngãi", "Tỉnh Quảng Ngãi"),
    ("52", "Gia Lai", "Tỉnh Gia Lai"),
    ("56", "Khánh Hòa", "Tỉnh Khánh Hòa"),
    ("66", "Đắk Lắk", "Tỉnh Đắk Lắk"),
    ("68", "Lâm Đồng", "Tỉnh Lâm Đồng"),
    ("75", "Đồng Nai", "Tỉnh Đồng Nai"),
    ("79", "Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
    ("80", "Tây Ninh", "Tỉnh Tây Ninh"),
    ("82", "Đồng Tháp", "Tỉnh Đồng Tháp"),
    ("86", "Vĩnh Long", "Tỉnh Vĩnh Long"),
    ("91", "An Giang", "Tỉnh An Giang"),
    ("92", "Cần Thơ", "Thành phố Cần Thơ"),
    ("96", "Cà Mau", "Tỉnh Cà Mau"),
)


def _province_of_units() -> dict[str, str]:
    """The province code of each current commune code, from the pinned directory package's own table (imported
    here: it is read only for a database that holds units without a province)."""
    from vietnamadminunits.database import query

    return {r["wardCode"]: r["provinceCode"] for r in query("SELECT wardCode, provinceCode FROM admin_units")}


def upgrade() -> None:
    op.create_table(
        "provinces",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    provinces = [{"c": c, "n": short, "f": full} for c, short, full in PROVINCES]
    op.get_bind().execute(sa.text("INSERT INTO provinces (code, name, full_name) VALUES (:c, :n, :f)"), provinces)
    if op.get_bind().execute(sa.text("SELECT EXISTS (SELECT 1 FROM admin_units WHERE province_code IS NULL)")).scalar():
        province_of = _province_of_units()
        op.get_bind().execute(
            sa.text("""UPDATE admin_units u SET province_code = d.province
                       FROM unnest(CAST(:codes AS text[]), CAST(:provinces AS text[])) d(code, province)
                       WHERE u.code = d.code AND u.province_code IS NULL"""),
            {"codes": list(province_of), "provinces": list(province_of.values())},
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
    op.execute(
        add_check_valid_when_rows_allow("admin_audit", "ck_admin_audit_action", in_values("action", ADMIN_ACTIONS))
    )


def downgrade() -> None:
    # The audit is append-only: lines of the removed action stay, the older check holds for new lines only.
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    before = in_values("action", ADMIN_ACTIONS_BEFORE)
    op.execute(f"ALTER TABLE admin_audit ADD CONSTRAINT ck_admin_audit_action CHECK ({before}) NOT VALID")
    op.drop_constraint("ck_users_province_role", "users", type_="check")
    op.drop_constraint("fk_users_province", "users", type_="foreignkey")
    op.drop_column("users", "province_code")
    op.drop_index("ix_admin_units_province", table_name="admin_units")
    op.drop_constraint("fk_admin_units_province", "admin_units", type_="foreignkey")
    op.drop_table("provinces")
