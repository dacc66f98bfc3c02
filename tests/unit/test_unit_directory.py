"""The old → new commune directory (vietnamadminunits data, offline) and the assignment a match gives."""

import pandas as pd
import pytest

from gis.unit_directory import normalise_code, unit_directory
from models.domain.unit_mapping import UnitMatch, aggregate_legacy_indicators
from models.vocabulary import plain_key, vietnamese_reason

HAI_PHONG = {"11602", "11311", "11581", "11593", "11617", "10532", "10537", "10678", "11948", "10507"}


@pytest.mark.parametrize(
    ("address", "system", "candidates"),
    [
        # Old form: ward, district, province; the old Phường Quán Toan lies wholly in today's 11602.
        ("12 Lê Lợi, Phường Quán Toan, Quận Hồng Bàng, Thành phố Hải Phòng", "legacy", ("11602",)),
        ("thôn 3, xã lê ninh, thị xã kinh môn, hải dương", "legacy", ("10678",)),
        # An old ward split in three.
        ("Phường Lê Lợi, Quận An Dương, Hải Phòng", "legacy", ("11581", "11593", "11617")),
        # New form: ward, province; abbreviated type too.
        ("Số 5 ngõ 10, Phường Hồng Bàng, Thành phố Hải Phòng", "current", ("11311",)),
        ("P. Hồng Bàng, Hải Phòng", "current", ("11311",)),
        # The island district without wards is today's đặc khu.
        ("Huyện Bạch Long Vĩ, Hải Phòng", "legacy", ("11948",)),
        ("không rõ", "", ()),
    ],
)
def test_addresses_in_old_and_new_form(address: str, system: str, candidates: tuple[str, ...]) -> None:
    match = unit_directory().by_address(address)
    assert (match.system, match.candidates, match.via_address or not match.found) == (system, candidates, True)


def test_an_old_name_the_new_parser_would_misread_is_not_taken_for_a_new_ward() -> None:
    # The new-form parser alone reads the province name "Hải Dương" as today's Phường Hải Dương (10525).
    assert unit_directory().by_address("thôn 3, xã không có, thị xã kinh môn, hải dương").candidates != ("10525",)


def test_codes_by_date_system_and_the_match_assignment() -> None:
    directory = unit_directory()
    legacy, current = directory.by_code("11581", legacy_first=True), directory.by_code("11581", legacy_first=False)
    assert (legacy.system, legacy.candidates, legacy.assignment) == ("legacy", ("11581", "11593", "11617"), "ambiguous")
    assert (current.system, current.commune_code, current.assignment) == ("current", "11581", "code")
    whole = directory.by_code("11296", legacy_first=False)  # abolished: only a legacy code, whatever the date
    assert (whole.commune_code, whole.assignment, whole.legacy_code) == ("11602", "legacy_code", "11296")
    assert not directory.by_code("99999", legacy_first=True).found
    assert directory.legacy_only(["10507", "11296"]) == "11296" and directory.legacy_only(["10507"]) is None
    assert normalise_code("4") == "00004" and normalise_code("11296.0") == "11296"


def test_a_unit_outside_the_loaded_communes_is_not_found() -> None:
    match = unit_directory().by_address("Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh").within(HAI_PHONG)
    assert not match.found and "outside the loaded communes" in match.reason
    assert UnitMatch.legacy("X", ("11602",), "x").within(HAI_PHONG).commune_code == "11602"


def test_old_communes_are_summed_only_when_whole_and_complete() -> None:
    rows = pd.DataFrame(
        {
            "line": [2, 3, 4],
            "year": 2024,
            "legacy_code": ["a", "b", "s"],
            "candidates": [("A",), ("A",), ("B", "C")],
            "population": [100, 50, 10],
            "users_with_records": [1, 2, 3],
            "plants_destroyed": [0, 0, 0],
            "cultivation_m2": [0.0, 1.5, 0.0],
            "organizing_places": [None, 1, None],
            "arrested_offenders": [1, 1, None],
            "on_drug_route": [False, True, False],
            "source": ["x", "x", "x"],
        }
    )
    summed, flagged = aggregate_legacy_indicators(rows, {"A": frozenset({"a", "b"}), "B": frozenset({"s", "t"})})
    assert summed.to_dict("records") == [
        {
            "year": 2024,
            "commune_code": "A",
            "line": 2,
            "population": 150,
            "users_with_records": 3,
            "plants_destroyed": 0,
            "cultivation_m2": 1.5,
            "organizing_places": None,  # unknown in one part: unknown in the sum
            "arrested_offenders": 2,
            "on_drug_route": True,
            "source": "x",
            "method": "legacy_sum",
            "legacy_codes": ["a", "b"],
        }
    ]
    assert list(flagged["ref"]) == ["s"] and "B, C" in flagged.iloc[0]["reason"]
    # Without "b", A is incomplete: flagged, not summed.
    partial, flagged = aggregate_legacy_indicators(rows.iloc[[0]], {"A": frozenset({"a", "b"})})
    assert partial.empty and "b" in flagged.iloc[0]["reason"]
    # What the reader is shown loses the English gloss: it stood mid-sentence, before «; không tính», and stayed.
    shown = vietnamese_reason(flagged.iloc[0]["reason"])
    assert shown.endswith("xã A: thiếu số liệu các xã cũ b; không tính") and "(" not in shown, shown


def test_an_old_ward_named_alone_is_not_said_to_lie_in_another_province() -> None:
    """«Quán Toan» (an old ward of Hải Phòng, given without district or province) read «chỉ nhận ra: Tỉnh Gia Lai», the
    parser's nearest guess: now the message says it is not one of Hải Phòng's units, names the old ward of that name
    and how to write it; «Lãm Hà» is not said to be Lâm Đồng's Huyện Lâm Hà."""
    directory = unit_directory()
    city = {code for code, province in directory.province_of.items() if province == directory.province_of["10507"]}
    quan_toan, field = directory.locate("", "Quán Toan", True, city)
    assert (quan_toan.found, field) == (False, "address")
    assert "Gia Lai" not in quan_toan.reason
    assert quan_toan.reason.startswith("không nhận ra xã/phường «Quán Toan» trong các xã/phường của Hải Phòng")
    assert "có thể là: Phường Quán Toan, Quận Hồng Bàng, Thành phố Hải Phòng (mã 11296)" in quan_toan.reason
    assert "hoặc ghi mã xã" in quan_toan.reason
    assert "Lâm Hà" not in directory.locate("", "Lãm Hà", True, city)[0].reason
    # A name Hải Phòng shares with a commune elsewhere: that one is said to be elsewhere, Hải Phòng's are offered.
    minh_duc = directory.locate("", "Minh Đức", True, city)[0].reason
    assert "chỉ có ở Xã Minh Đức, Tỉnh Đồng Nai, ngoài Hải Phòng" in minh_duc
    assert "Phường Minh Đức, Quận Đồ Sơn, Thành phố Hải Phòng (mã 11465)" in minh_duc
    # An address naming another province keeps saying so.
    elsewhere = directory.locate("", "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh", True, city)[0].reason
    assert "outside the loaded communes" in elsewhere


def test_a_former_name_with_its_kind_or_its_district_kind_written_short_finds_what_the_full_name_finds() -> None:
    """Officers write a unit's kind short («P. Hạ Lý», «Q. Hồng Bàng»): the former-name search read «P. Hạ Lý» as
    «phaly» and found nothing, whereas «phường Hạ Lý» finds the old Phường Thượng Lý that took Hạ Lý in."""
    directory = unit_directory()
    full = directory.former("phường Hạ Lý", HAI_PHONG)
    assert [(f.name, f.code) for f in full] == [("Hạ Lý", "11311")]
    for typed in ("P. Hạ Lý", "P.Hạ Lý", "p ha ly", "Hạ Lý, Q. Hồng Bàng", "P Hạ Lý, Q.Hồng Bàng, TP. Hải Phòng"):
        found = directory.former(typed, HAI_PHONG)
        assert [(plain_key(f.name), f.former, f.code) for f in found] == [("ha_ly", full[0].former, "11311")], typed
    assert directory.former("P. Hạ Lý", HAI_PHONG)[0].name == "Hạ Lý"  # the name as typed, without its kind
    # A town's short kind, with or without its dot: the name, not «TT Núi Đèo».
    towns = {
        f.name
        for typed in ("TT. Núi Đèo", "tt Núi Đèo", "Thị trấn Núi Đèo")
        for f in directory.former(typed, {"11560"})
    }
    assert towns == {"Núi Đèo"}
    # A name that merely begins with a short form's letter keeps it: «Phù Liễn» is not «P.» and «hù Liễn».
    assert [(f.name, f.code) for f in directory.former("Phù Liễn", {"11446"})] == [("Phù Liễn", "11446")]


def test_an_unresolved_address_with_a_short_kind_is_offered_the_unit_of_that_name() -> None:
    """«TT Cát Bà» (a town abolished in 2025, without district or province) was offered nothing: «tt» was not read
    as «thị trấn» the way «P.» was read as «phường»."""
    directory = unit_directory()
    city = {code for code, province in directory.province_of.items() if province == directory.province_of["10507"]}
    for typed in ("TT Cát Bà", "TT. Cát Bà", "tt cat ba"):
        reason = directory.locate("", typed, True, city)[0].reason
        assert "có thể là: Thị trấn Cát Bà, Huyện Cát Hải, Thành phố Hải Phòng (mã 11914)" in reason, typed


def test_a_current_commune_written_by_its_full_name_is_found_without_its_province() -> None:
    """A nation-wide uploader's «Xã/Phường» column holding today's names, kind and all («Xã An Lão», «Phường Hải An»,
    «Phường Thành Đông»): 45 of Hải Phòng's 114 communes were refused «không nhận ra xã/phường» — the parser finds no
    ward without a province — while the reason offered the very unit. Such a name is the one loaded current unit of that
    full name, when no old unit of the same full name is only a part of it (a figure of 2024 may be the old
    commune's). A name without its kind, an old ward's, or one that old units also bore, is not guessed."""
    directory = unit_directory()
    city = {code for code, province in directory.province_of.items() if province == "31"}
    refused = []
    for code in sorted(city):
        written = directory.current_names[code].split(",")[0]
        match, field = directory.locate("", written, False, city)
        if not (match.found and match.candidates == (code,) and field == "address"):
            refused.append(written)
    # Each one left has an old unit of its full name lying in this one as a part only (a figure of 2024 may be the old
    # commune's); an old unit of that name elsewhere no longer keeps today's unit from being named.
    for written in refused:
        reason = directory.locate("", written, False, city)[0].reason
        assert reason.startswith(f"không nhận ra xã/phường «{written}»"), reason
        (code,) = (c for c in city if directory.current_names[c].split(",")[0] == written)
        parts = {c for c in directory.legacy_parts[code] if directory.legacy[c] == (code,)}
        assert any(directory.legacy_names[c].split(",")[0] == written for c in parts), written
        assert set(directory.legacy_parts[code]) != {
            c for c in parts if directory.legacy_names[c].split(",")[0] == written
        }, written
    for written, code in (
        ("Xã An Lão", "11629"),
        ("x. an lao", "11629"),
        ("P.Hải An", "11413"),
        ("Xã Vĩnh Bảo", "11824"),
    ):
        match = directory.locate("", written, False, city)[0]
        assert (match.found, match.candidates) == (True, (code,)), (written, match.reason)
    assert not directory.locate("", "An Lão", False, city)[0].found  # no kind: the old district too
    assert not directory.locate("", "Xã Hợp Tiến", False, city)[0].found  # the old Xã Hợp Tiến is a part of 10615
    assert not directory.locate("", "Quán Toan", True, city)[0].found  # an old ward only


def test_a_current_full_name_an_old_unit_elsewhere_also_bore_names_todays_unit_unless_the_row_says_otherwise() -> None:
    """«Phường Nguyễn Trãi», «Phường Gia Viên», «Xã Kiến Hưng»: one current unit bears each name, and an old unit of that
    name lay elsewhere (an old ward of Thành phố Hải Dương, one split in three, one split in two): 9 of Hải Phòng's
    current names were refused to a nation-wide upload. Today's unit is named — unless the row is dated before the
    reorganisation, when the name was the old unit's, or its address writes out the old unit's district. «Xã Tân An», borne by one current unit of Hải Phòng and five
    elsewhere, names one only with Hải Phòng alone loaded."""
    directory = unit_directory()
    city = {c for c, province in directory.province_of.items() if province == "31"}
    nation = set(directory.current_names)
    cases = [(written, nation) for written in ("Phường Nguyễn Trãi", "Phường Gia Viên", "Xã Kiến Hưng")]
    for written, scope in [*cases, ("Xã Tân An", city), ("Phường Nguyễn Trãi", city)]:
        (code,) = (c for c in scope if directory.current_names[c].split(",")[0] == written)
        olds = [c for c, name in directory.legacy_names.items() if name.split(",")[0] == written]
        assert any(set(directory.legacy.get(c, ())) != {code} for c in olds), written  # an old one elsewhere
        short = written.replace("Phường ", "P. ").replace("Xã ", "x. ")
        for typed in (written, short, plain_key(written).replace("_", " ")):
            match, field = directory.locate("", typed, False, scope)
            assert (match.found, match.candidates, field) == (True, (code,), "address"), (typed, match.reason)
        before = directory.locate("", written, False, scope, before=True)[0]
        assert not before.found and "không nhận ra xã/phường" in before.reason, written
    assert not directory.locate("", "Xã Tân An", False, nation)[0].found  # six current units bear it
    # The row's address names the old unit's city: it means the old Phường Nguyễn Trãi of Thành phố Hà Giang.
    assert directory.locate("", "Phường Nguyễn Trãi, Hải Phòng", False, nation)[0].candidates == ("10552",)
    assert not directory.locate("", "Phường Nguyễn Trãi, Thành phố Hà Giang", False, nation)[0].found


def test_a_name_the_parser_reads_without_its_accents_is_not_another_provinces_unit() -> None:
    """The new-form parser compares names without accents: «Phường Bình Dương» (Hồ Chí Minh City) was placed in Xã
    Phương Bình of Cần Thơ, «Xã Cẩm Giang» (Hải Phòng) in Xã Cẩm Giàng of Thái Nguyên, «Phường Tiền Phong» in Xã Phượng
    Tiến — rows stored in another province without a word. A name written with accents names a unit spelt so; where
    its tone sits («Hoà», «Hòa») does not matter, and a name written without accents is read as before."""
    directory = unit_directory()
    nation = set(directory.current_names)
    for written in ("Phường Bình Dương", "Xã Cẩm Giang", "Phường Tiền Phong", "Phường Bình Định"):
        match = directory.locate("", written, False, nation)[0]
        own = {c for c in nation if directory.current_names[c].split(",")[0] == written}
        assert not match.found or set(match.candidates) <= own, (written, match)
    assert directory.locate("", "Phường Bình Dương", False, nation)[0].candidates == ("25760",)
    for typed in ("Phường Hòa Khánh, Thành phố Đà Nẵng", "Phường Hoà Khánh, Đà Nẵng", "phuong hoa khanh, da nang"):
        match = directory.locate("", typed, False, nation)[0]
        assert [directory.current_names[c] for c in match.candidates] == ["Phường Hòa Khánh, Thành phố Đà Nẵng"], typed
