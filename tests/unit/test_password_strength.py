"""A password a person chooses is refused when it is guessed first (NIST SP 800-63B 5.1.1.2, without a leak list)."""

from __future__ import annotations

import pytest

from models.domain.access import check_new_password
from models.errors import InvalidRequest


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("1234567", "phải có từ 8 đến 200 ký tự"),
        ("12345678", "là một dãy liền nhau"),  # accepted at a first login before
        ("87654321", "là một dãy liền nhau"),
        ("abcdefghij", "là một dãy liền nhau"),
        ("QWERTYUIOP", "là một dãy liền nhau"),
        ("11111111", "chỉ lặp lại vài ký tự"),
        ("abababab", "chỉ lặp lại vài ký tự"),
        ("to05b-2026x", "chứa tên đăng nhập"),
        ("Haiphong2025!", "là một từ dễ đoán"),
        ("matkhau123", "là một từ dễ đoán"),
        ("Password1", "là một từ dễ đoán"),
    ],
)
def test_a_password_guessed_first_is_refused_saying_why(password: str, why: str) -> None:
    with pytest.raises(InvalidRequest, match=why):
        check_new_password(password, "to05b")


@pytest.mark.parametrize(
    "password", ["mat-khau-rieng", "Tổ 5 trực 24/7 đêm", "correct horse battery", "a1b2c3d4e5", "demo-diaban-2025"]
)
def test_a_password_of_ones_own_passes(password: str) -> None:
    check_new_password(password, "to05b")
