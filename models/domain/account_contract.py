"""The accounts file an administrator imports to set up a city: one row per user, the teams' areas on their rows.

One table (a CSV / text file or an Excel sheet), one row per officer:

| Tên đăng nhập | Vai trò | Tổ công tác | Xã/phường | Tỉnh |
|---|---|---|---|---|
| to-le-chan-1 | Tổ công tác | Tổ Lê Chân | Phường Lê Chân; Phường An Biên | |
| to-le-chan-2 | Tổ công tác | Tổ Lê Chân | | |
| chi-huy-1 | Ban chỉ huy | | | 31 |

A team the file names and the system does not have is created with the communes («Xã/phường»: codes or names,
separated by «;» or line breaks) written on its rows — on one of them, or repeated alike on several. A command or
planner user's «Tỉnh» is a province (code or name) or «Toàn quốc»: never assumed from an empty cell. Pure: the
importer (gis.services.account_import) checks what needs the database.
"""

from __future__ import annotations

import re

import pandas as pd

from models.domain.row_checks import ContractError, canonical_columns, header_key, text_column
from models.vocabulary import ACCOUNT_FIELD_LABELS, AreaLevel, Role, plain_key

#: The contract's columns, in the order the template writes them.
COLUMNS = ("username", "role", "team", "communes", "province")
#: The columns a file must have.
REQUIRED = ("username", "role")
#: Header names accepted for each column (keys as :func:`models.domain.row_checks.header_key` writes them).
ALIASES: dict[str, str] = {
    **dict.fromkeys(("ten_dang_nhap", "tai_khoan", "ten_tai_khoan", "login"), "username"),
    **dict.fromkeys(("vai_tro", "chuc_nang", "quyen"), "role"),
    **dict.fromkeys(("to_cong_tac", "to", "ten_to", "ten_to_cong_tac", "don_vi"), "team"),
    **dict.fromkeys(
        ("xa_phuong", "xa", "phuong", "dia_ban", "dia_ban_phu_trach", "ma_xa", "ma_xa_phuong", "xa_phuong_phu_trach"),
        "communes",
    ),
    **dict.fromkeys(("tinh", "tinh_thanh_pho", "ma_tinh", "pham_vi", "tinh_thanh"), "province"),
}
#: Roles a file may give: an administrator is created one at a time, by another administrator who checks them.
IMPORTABLE_ROLES = (Role.COMMAND, Role.TEAM, Role.PLANNER)
#: What a command or planner row writes in «Tỉnh» to reach the whole country.
NATION_KEYS = frozenset({plain_key(AreaLevel.NATION.label), "toan_quoc", "ca_nuoc", "nation"})
_ROLE_KEYS = {
    **{plain_key(role.value): role for role in Role},
    **{plain_key(label): Role(code) for code, label in Role.labels().items()},
}
_CODES = re.compile(r"^\d+(?:\s*,\s*\d+)*$")


def account_table(raw: pd.DataFrame) -> pd.DataFrame:
    """The file's rows with its columns under the contract's names (aliases and Vietnamese headers accepted), each
    column as stripped text, its ``line`` and what the reader found wrong with it (``error``: broken bytes, cells
    beyond the header, a formula without a result in a column read; empty when nothing); ContractError when «Tên
    đăng nhập» or «Vai trò» is missing."""
    table = canonical_columns(raw, ALIASES, COLUMNS, ACCOUNT_FIELD_LABELS)
    missing = [name for name in REQUIRED if name not in table]
    if missing:
        named = ", ".join(f"«{ACCOUNT_FIELD_LABELS[name]}»" for name in missing)
        raise ContractError(
            f"tệp thiếu cột {named}; các cột: {', '.join(ACCOUNT_FIELD_LABELS[c] for c in COLUMNS)}",
            f"missing column(s): {', '.join(missing)}",
        )
    read = {name: text_column(table, name) for name in COLUMNS}
    return pd.DataFrame({"line": table["line"], **read, "error": text_column(table, "_error")})


def role_of(text: str) -> Role | None:
    """The role a cell names, by its code or Vietnamese label (accents, case and punctuation ignored), else None."""
    return _ROLE_KEYS.get(plain_key(text))


def commune_items(text: str) -> list[str]:
    """The communes a cell lists, in order and each once: items separated by «;» or line breaks; an item of codes
    only may also separate them by commas («10507, 10525»), a name may not (it may carry its province after one)."""
    items: list[str] = []
    for part in re.split(r"[;\n\r]+", text):
        part = part.strip()
        pieces = [p.strip() for p in part.split(",")] if _CODES.match(part) else [part]
        items += [p for p in pieces if p and p not in items]
    return items


def is_nation(text: str) -> bool:
    """Whether a «Tỉnh» cell gives the whole country («Toàn quốc»)."""
    return header_key(text) in NATION_KEYS
