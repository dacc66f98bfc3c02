"""The one check of free text a user types (refuse_names): names refused, officers' included; places accepted."""

from __future__ import annotations

import pytest

from models.domain.personal_names import refuse_names
from models.errors import InvalidRequest


@pytest.mark.parametrize(
    "note",
    [
        "đối tượng Nguyễn Văn Hùng hay bán lẻ ở đây",
        # An officer's title does not exempt the name: the role or the team is written instead.
        "đồng chí Nguyễn Văn An đã xác minh",
        "đ/c Trần Thị Lan báo lại",
        "cán bộ Lê Văn Tám trực",
        "CB Phạm Minh Đức kiểm tra",
        # In capitals, as police documents write a suspect's name (with a common middle name: see MIDDLE_NAMES).
        "đối tượng NGUYỄN VĂN HÙNG bán lẻ ở đây",
        "LÊ THỊ LAN báo lại",
        "hay lui tới nhà Nguyễn Văn Hùng",  # a person's house names the person
        "quán Nguyễn Văn Hùng mở khuya",  # three words after a venue's kind: a person's name as anywhere
        "nhà nghỉ Hà Thành, Nguyễn Văn A thuê phòng",  # the venue's name ends at the comma
        "đường Lê Lợi Nguyễn Văn A đứng chờ",  # a street's name is at most three words
    ],
)
def test_a_name_is_refused_with_the_field_named(note: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        refuse_names(note, "Ghi chú tiến độ")
    assert refused.value.message.startswith("Ghi chú tiến độ có vẻ chứa tên người")
    assert "«tổ 05», «trưởng công an xã»" in refused.value.message


@pytest.mark.parametrize(
    "note",
    [
        "tổ 05 đã xác minh, trưởng công an xã báo lại",
        "quán nước đầu phố Trần Phú",
        "đường Nguyễn Văn Linh, đường Nguyễn Thị Minh Khai",  # the whole street's name («Văn Linh» was refused)
        "tuần tra đường Lê Lợi, phường Lê Chân",
        "người từ tỉnh Thái Bình đến thuê trọ",  # a province written with its word
        # Words beginning with a family name that name no one, capitalised or in capitals (NOT_NAMES).
        "phối hợp Đoàn Thanh niên xã tuyên truyền",
        "ĐOÀN THANH NIÊN xã ra quân",
        "test nhanh DƯƠNG TÍNH, lập HỒ SƠ quản lý",
        "Văn phòng UBND xã, VĂN PHÒNG cơ quan",
        "BÁO CÁO KẾT QUẢ CAO ĐIỂM TẤN CÔNG TRẤN ÁP",
        "PHƯỜNG LÊ THANH NGHỊ",  # a place's word in capitals too
        # Venues, where hotspots are, named after their word.
        "kiểm tra quán karaoke Hoàng Gia, nhà nghỉ Hà Thành",
        "tuyên truyền tại Trường THCS Lê Lợi, khu vực Cao Xanh",
        "kho của Công ty TNHH Hoàng Long, Công ty Cổ phần Vũ Hoàng",
        "",
    ],
)
def test_roles_teams_streets_and_places_pass(note: str) -> None:
    refuse_names(note, "Ghi chú")


#: Places the database knows (gis.store.communes.place_names): communes named after people, a province.
PLACES = frozenset({"Lê Chân", "Chu Văn An", "Nguyễn Bỉnh Khiêm", "Hà Nội", "Hải Phòng", "Hồ Chí Minh"})


@pytest.mark.parametrize(
    "note",
    [
        "tuần tra ở Lê Chân tối qua",
        "giáp ranh Chu Văn An",
        "về từ Hà Nội",
        "Lê Chân, Hải Phòng",
        "Nguyễn Bỉnh Khiêm",
        "giáp ranh CHU VĂN AN",  # in capitals
        "Đoàn TNCS Hồ Chí Minh phường ra quân",
        "người từ TP HỒ CHÍ MINH về",
    ],
)
def test_a_known_place_named_bare_passes(note: str) -> None:
    refuse_names(note, "Ghi chú", lambda: PLACES)
    with pytest.raises(InvalidRequest):  # without the places it looks like a name
        refuse_names(note, "Ghi chú")


@pytest.mark.parametrize("note", ["Lê Chân Hùng bỏ đi", "ở Lê Chân có Nguyễn Thị Lan", "Chu Văn Anh báo lại"])
def test_a_name_beside_or_longer_than_a_place_is_still_refused(note: str) -> None:
    with pytest.raises(InvalidRequest):
        refuse_names(note, "Ghi chú", lambda: PLACES)
