"""A login name is unique up to letter case, and a login finds it whatever the case typed: «To01» beside «to01» were two
accounts (one person's typo made a second login the audit told apart by one letter), and a phone that capitalises the
first letter typed «To01» for «to01», a refused login that counted towards the lock-out.

Revision ID: 0021
Revises: 0020
"""

from alembic import op
from sqlalchemy import text

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    clashes = (
        op.get_bind()
        .execute(
            text("""SELECT string_agg(username, ', ' ORDER BY username) FROM users
                    GROUP BY lower(username) HAVING count(*) > 1""")
        )
        .scalars()
        .all()
    )
    if clashes:
        raise RuntimeError(
            "tên đăng nhập chỉ khác nhau chữ hoa, chữ thường: " + "; ".join(clashes) + " — hãy đổi tên một tài khoản"
            " của mỗi nhóm rồi nâng cấp lại (usernames differing only in letter case)"
        )
    op.create_index("uq_users_username_folded", "users", [text("lower(username)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_users_username_folded", table_name="users")
