"""A provincial user's upload keeps only their province's rows, so a commune written without its province is read in
their province first: a name one current unit of the province bears is that unit (a Hà Nội user's «Phường Ba Đình» had
been refused with the 34 provinces listed and Thanh Hóa's old ward offered), and a name it does not know is explained in
the province's terms, with one of its units as the example (not Hải Phòng's)."""

from __future__ import annotations

from gis.services.boundary_import import import_boundaries
from gis.unit_directory import unit_directory
from tests.conftest import SECOND_PROVINCE, SECOND_PROVINCE_FILE, requests_in_savepoints

INCIDENTS = "/api/imports/incidents"
INDICATORS = "/api/imports/indicators"


def test_a_provincial_users_commune_without_its_province_is_theirs(client, conn, make_user, bearer) -> None:
    """Quảng Ninh's Phường Việt Hưng bears the name of an old ward of Hạ Long too: written alone it was refused from a
    Quảng Ninh user; «Xã An Khánh» (none in Quảng Ninh) was explained with Hải Phòng's units."""
    requests_in_savepoints(client.app, conn)
    import_boundaries(conn, SECOND_PROVINCE_FILE)
    command = bearer(make_user("qn-nhap-vu-viec", "command", province_code=SECOND_PROVINCE))
    table = "ref,occurred_at,kind,address\nQ1,2025-08-01,tip,Phường Việt Hưng\nQ2,2025-08-02,tip,Xã An Khánh\n"
    files = {"file": ("qn.csv", table.encode())}
    answer = client.post(INCIDENTS, params={"dry_run": "true"}, headers=command, files=files)
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"]["imported"] == 1
    (refused,) = answer.json()["rejected"]["rows"]
    assert refused["line"] == 3 and refused["reason"].startswith(
        "không nhận ra xã/phường «Xã An Khánh» trong các xã/phường của Quảng Ninh: hãy ghi đủ"
    ), refused["reason"]
    assert "ví dụ «Phường Hà Tu, Tỉnh Quảng Ninh»" in refused["reason"] and "Hải Phòng" not in refused["reason"]

    planner = bearer(make_user("qn-nhap-chi-so", "planner", province_code=SECOND_PROVINCE))
    table = (
        "year,address,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route\n"
        "2025,Phường Việt Hưng,9000,3,0,0,0\n"
    )
    answer = client.post(
        INDICATORS, params={"dry_run": "true"}, headers=planner, files={"file": ("qn.csv", table.encode())}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["rejected"]["total"] == 0, answer.json()["rejected"]


def test_a_name_is_resolved_in_the_uploaders_province_and_current_units_are_offered_first() -> None:
    """The probe's national database: a Hà Nội user's «Phường Ba Đình» and «Xã An Khánh» are Hà Nội's current units.
    Nation-wide, «Xã An Khánh» (three current communes bear it) stays unresolved; «Phường Ba Đình», the full name of
    one current ward only, names it (cd81ea1) unless the row is dated before the reorganisation, when it meant the
    old wards of Thanh Hóa too. The current units of a name are offered before the old ones."""
    directory = unit_directory()
    everywhere = set(directory.current_names)
    ha_noi = {code for code, province in directory.province_of.items() if province == "01"}
    for typed, code in (("Phường Ba Đình", "00004"), ("Xã An Khánh", "09877")):
        match, field = directory.locate("", typed, False, everywhere, ha_noi)
        assert (match.found, match.candidates, field) == (True, (code,), "address"), (typed, match.reason)
        assert not directory.locate("", typed, False, everywhere, before=True)[0].found
    assert directory.locate("", "Phường Ba Đình", False, everywhere)[0].candidates == ("00004",)
    assert not directory.locate("", "Xã An Khánh", False, everywhere)[0].found
    # Nation-wide, the current Phường Việt Hưng of Quảng Ninh before the old ward of Hạ Long.
    hai_phong_and_three = {c for c, p in directory.province_of.items() if p == "31"} | {"06652", "06658", "06661"}
    reason = directory.locate("", "Việt Hưng", False, hai_phong_and_three)[0].reason
    assert "có thể là: Phường Việt Hưng, Tỉnh Quảng Ninh (mã 06661); Phường Việt Hưng, Thành phố Hạ Long" in reason
    # An address that writes out another province is read as written (refused later as outside the user's province).
    elsewhere = directory.locate("", "Phường Ba Đình, Thành phố Thanh Hóa, Tỉnh Thanh Hóa", False, everywhere, ha_noi)
    assert elsewhere[0].found and not set(elsewhere[0].candidates) & ha_noi
