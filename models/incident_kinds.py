"""Incident kinds recorded by police, with their Vietnamese aliases and labels."""

from types import MappingProxyType

#: Canonical kind code -> Vietnamese label (legal basis in the domain brief).
KIND_LABELS_VI = MappingProxyType(
    {
        "trafficking": "Mua bán trái phép chất ma túy",
        "possession": "Tàng trữ trái phép chất ma túy",
        "transport": "Vận chuyển trái phép chất ma túy",
        "organizing_use": "Tổ chức sử dụng trái phép chất ma túy",
        "harboring": "Chứa chấp việc sử dụng trái phép chất ma túy",
        "production": "Sản xuất trái phép chất ma túy",
        "cultivation": "Trồng cây có chứa chất ma túy",
        "drug_use": "Sử dụng trái phép chất ma túy",
        "tip": "Tin báo, tố giác",
    }
)

KINDS: tuple[str, ...] = tuple(KIND_LABELS_VI)

#: Vietnamese (unaccented) aliases accepted on import.
KIND_ALIASES = MappingProxyType(
    {
        "mua_ban": "trafficking",
        "tang_tru": "possession",
        "van_chuyen": "transport",
        "to_chuc_su_dung": "organizing_use",
        "chua_chap": "harboring",
        "san_xuat": "production",
        "trong_cay": "cultivation",
        "su_dung": "drug_use",
        "tin_bao": "tip",
    }
)

#: Kinds that indicate a place organising or harbouring drug use (QĐ 28/2025 criterion b).
ORGANIZING_KINDS: frozenset[str] = frozenset({"organizing_use", "harboring"})


def normalise_kind(value: str) -> str | None:
    """Return the canonical kind for a code or alias (case and spaces ignored), else None."""
    key = value.strip().lower().replace(" ", "_").replace("-", "_")
    if key in KIND_LABELS_VI:
        return key
    return KIND_ALIASES.get(key)
