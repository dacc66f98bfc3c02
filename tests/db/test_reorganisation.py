"""A second reorganisation of communes (renamed, merged into a new code, re-coded) imported as boundaries:
nothing is silently lost or counted twice, and what the file cannot say is refused with a Vietnamese reason."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Connection, text

from gis.services.boundary_import import import_boundaries
from models.errors import Conflict

#: Two neighbours of the Hải Phòng file, and a third unit renamed.
FIRST, SECOND, RENAMED = "10507", "10525", "10532"
#: The day the reorganisation takes effect (in the past, as an import must be).
REORG = date(2026, 7, 1)


def _file(tmp_path: Path, frame: gpd.GeoDataFrame, name: str) -> Path:
    path = tmp_path / f"{name}.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def _units(conn: Connection, code: str) -> list[tuple]:
    sql = "SELECT full_name, valid_from, valid_to FROM admin_units WHERE code = :c ORDER BY valid_from"
    return [tuple(r) for r in conn.execute(text(sql), {"c": code})]


def _state(conn: Connection) -> tuple:
    return conn.execute(
        text("SELECT count(*), max(id), count(*) FILTER (WHERE valid_to IS NULL) FROM admin_units")
    ).one()


def test_a_renamed_commune_opens_a_new_version_under_its_new_name(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    """A unit renamed from a later date, its boundary unchanged: the old name stays the name of its past, the new one
    is current (before, the file's new name was counted «không đổi» and dropped). The same file again changes
    nothing."""
    frame = gpd.read_file(boundaries_path)
    frame = frame[frame["code"] == RENAMED].copy()
    frame[["name", "full_name"]] = ["Tân Bình", "Phường Tân Bình"]
    path = _file(tmp_path, frame, "renamed")
    before = _units(conn, RENAMED)
    report = import_boundaries(conn, path, valid_from=REORG)
    assert (report.closed, report.inserted, report.unchanged) == (1, 1, 0)
    old_name = before[0][0]
    assert _units(conn, RENAMED) == [(old_name, date(2025, 7, 1), REORG), ("Phường Tân Bình", REORG, None)]
    again = import_boundaries(conn, path, valid_from=REORG)
    assert (again.closed, again.inserted, again.unchanged) == (0, 0, 1)


def _merged_into_a_new_code(boundaries_path: Path) -> gpd.GeoDataFrame:
    """The two neighbours merged into one unit under a new code, 99001, as one feature."""
    frame = gpd.read_file(boundaries_path)
    pair = frame[frame["code"].isin([FIRST, SECOND])]
    merged = pair.iloc[[0]].copy()
    merged["code"], merged["name"], merged["full_name"] = "99001", "Hải Dương Mới", "Phường Hải Dương Mới"
    merged["geometry"] = [shapely.union_all(pair.geometry.to_numpy())]
    return merged


def test_a_new_unit_covering_current_units_missing_from_a_partial_file_is_refused(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    """A file of the merged unit alone, not declared whole: storing it would leave 10507 and 10525 current under
    it — the same ground, incidents and people counted in two communes. Refused, naming both and saying to declare
    the file whole; nothing written. Declared whole with the rest of the province, the merger goes in."""
    merged = _merged_into_a_new_code(boundaries_path)
    path = _file(tmp_path, merged, "merged-only")
    before = _state(conn)
    with pytest.raises(Conflict) as refused, conn.begin_nested():
        import_boundaries(conn, path, valid_from=REORG)
    message = refused.value.message
    assert "99001" in message and FIRST in message and SECOND in message, message
    assert "toàn bộ" in message, message
    assert _state(conn) == before

    frame = gpd.read_file(boundaries_path)
    rest = frame[~frame["code"].isin([FIRST, SECOND])]
    whole = _file(
        tmp_path, gpd.GeoDataFrame(list(rest.to_dict("records")) + list(merged.to_dict("records")), crs=4326), "whole"
    )
    report = import_boundaries(conn, whole, valid_from=REORG, whole=True)
    assert (report.inserted, report.closed_missing) == (1, 2)


def test_a_recoded_commune_in_a_partial_file_is_refused(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    """A unit given a new code, its boundary unchanged, in a file not declared whole: refused (both codes would be
    current over one ground)."""
    frame = gpd.read_file(boundaries_path)
    recoded = frame[frame["code"] == RENAMED].copy()
    recoded["code"] = "99003"
    before = _state(conn)
    with pytest.raises(Conflict, match=r"99003.*10532"), conn.begin_nested():
        import_boundaries(conn, _file(tmp_path, recoded, "recoded"), valid_from=REORG)
    assert _state(conn) == before


def test_a_moved_border_in_a_partial_file_is_still_accepted(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    """A unit grown by 50 m over its neighbours (a border survey) is no merger: it goes in as before."""
    frame = gpd.read_file(boundaries_path)
    grown = frame[frame["code"] == FIRST].copy()
    grown["geometry"] = grown.geometry.to_crs(32648).buffer(50).to_crs(4326)
    report = import_boundaries(conn, _file(tmp_path, grown, "grown"), valid_from=REORG)
    assert (report.closed, report.inserted) == (1, 1)


def _reorganised(conn: Connection, boundaries_path: Path, tmp_path: Path) -> None:
    """Hải Phòng's whole file with 10507 and 10525 merged into 99001 (a code the offline unit directory, which holds
    the 2025 units, does not know), imported from `REORG`."""
    frame = gpd.read_file(boundaries_path)
    rest = frame[~frame["code"].isin([FIRST, SECOND])]
    merged = _merged_into_a_new_code(boundaries_path)
    rows = list(rest.to_dict("records")) + list(merged.to_dict("records"))
    import_boundaries(
        conn, _file(tmp_path, gpd.GeoDataFrame(rows, crs=4326), "reorganised"), valid_from=REORG, whole=True
    )


def test_a_new_code_gets_the_province_it_lies_in(conn: Connection, boundaries_path: Path, tmp_path: Path) -> None:
    """A unit under a code the directory does not know, its file naming no province (Hải Phòng's names none), is in
    the province of the units it lies on — before, it had none: left out of every provincial user's map and lists,
    and a team's area holding it was refused as spanning «Thành phố Hải Phòng» and «None»."""
    _reorganised(conn, boundaries_path, tmp_path)
    province = "SELECT province_code FROM admin_units WHERE code = '99001' AND valid_to IS NULL"
    assert conn.execute(text(province)).scalar_one() == "31"


def test_incidents_and_indicators_keyed_by_a_new_code_are_imported(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    """After the reorganisation the police's register and the yearly indicators name the new unit by its code: a code
    of a current stored unit is that unit (before, «mã đơn vị «99001» không có trong danh mục»: every row refused)."""
    from gis.services.incident_import import import_incidents
    from gis.services.indicator_import import import_indicators

    _reorganised(conn, boundaries_path, tmp_path)
    incidents = tmp_path / "incidents.csv"
    incidents.write_text("ref,occurred_at,kind,commune_code\nR-1,2026-08-01T10:00:00,possession,99001\n", "utf-8")
    report = import_incidents(conn, incidents, imported_by="test")
    assert (report.imported, report.rejected) == (1, 0), report
    commune = "SELECT commune_code FROM incidents WHERE ref = 'R-1'"
    assert conn.execute(text(commune)).scalar_one() == "99001"

    indicators = tmp_path / "indicators.csv"
    indicators.write_text(
        "year,commune_code,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route\n"
        "2026,99001,50000,10,0,0,0\n",
        "utf-8",
    )
    report = import_indicators(conn, indicators, imported_by="test")
    assert (report.imported, report.rejected) == (1, 0), report
    population = "SELECT population FROM commune_indicators WHERE commune_code = '99001' AND year = 2026"
    assert conn.execute(text(population)).scalar_one() == 50000


def test_a_year_classified_before_the_reorganisation_keeps_its_closed_communes_names_shapes_and_province(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    """A run made on the 114 communes, then 10507 and 10525 merged away: its results of those two still name them,
    draw them (their last boundary) and count them in Hải Phòng — before, the approved record lost their names in
    the exports, the classes map dropped them, and the KPI report counted them in a province «None»."""
    from gis.services.classification import draft_year
    from gis.store.classifications import classification_geojson_text, drug_free_by_province, run_results

    run = draft_year(conn, 2026, actor="planner")
    _reorganised(conn, boundaries_path, tmp_path)
    results = run_results(conn, run["id"]).set_index("commune_code")
    assert results.loc[FIRST, "full_name"] == "Phường Thành Đông", results.loc[FIRST]
    assert {f["id"] for f in json.loads(classification_geojson_text(conn, run["id"]))} >= {FIRST, SECOND}
    assert [line["province_code"] for line in drug_free_by_province(conn, run["id"])] == ["31"]


def _without_point(conn: Connection, tmp_path: Path, codes: dict[str, str]) -> None:
    """Incidents of 2026 without a point, placed by the code of their commune (ref → code)."""
    from gis.services.incident_import import import_incidents

    path = tmp_path / "by-code.csv"
    lines = "".join(f"{ref},2026-03-01T10:00:00,possession,{code}\n" for ref, code in codes.items())
    path.write_text("ref,occurred_at,kind,commune_code\n" + lines, "utf-8")
    assert import_incidents(conn, path, imported_by="test").imported == len(codes)


def _placed(conn: Connection, ref: str) -> tuple:
    sql = "SELECT commune_code, assignment, period_code, candidate_codes FROM incidents WHERE ref = :r"
    return tuple(conn.execute(text(sql), {"r": ref}).one())


def test_incidents_without_a_point_follow_a_merged_commune_into_its_successor(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    """An incident placed by its commune's code, that commune then merged wholly into 99001: it is 99001's (its unit
    at its date still 10525) — before, it kept the closed code and no current commune counted it, unsaid."""
    _without_point(conn, tmp_path, {"P-1": SECOND, "P-2": RENAMED})
    _reorganised(conn, boundaries_path, tmp_path)
    assert _placed(conn, "P-1") == ("99001", "code", SECOND, None)
    assert _placed(conn, "P-2")[0] == RENAMED  # untouched: its commune is still current


def test_incidents_without_a_point_in_a_split_commune_are_kept_with_their_candidates(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    """10525 split between two new units (west and east halves): its incident without a point cannot be placed in
    either; it is kept in no commune with both as candidates (listed by `classify run`, like an old commune split in
    2025), and the import counts it."""
    _without_point(conn, tmp_path, {"P-3": SECOND})
    frame = gpd.read_file(boundaries_path)
    old = frame[frame["code"] == SECOND].iloc[0]
    x0, y0, x1, y1 = old.geometry.bounds
    middle = (x0 + x1) / 2
    halves = []
    for code, box in (
        ("99011", shapely.box(x0 - 1, y0 - 1, middle, y1 + 1)),
        ("99012", shapely.box(middle, y0 - 1, x1 + 1, y1 + 1)),
    ):
        half = old.to_dict()
        half["code"], half["geometry"] = code, old.geometry.intersection(box)
        halves.append(half)
    rest = frame[frame["code"] != SECOND]
    path = _file(tmp_path, gpd.GeoDataFrame(list(rest.to_dict("records")) + halves, crs=4326), "split")
    report = import_boundaries(conn, path, valid_from=REORG, whole=True)
    assert report.incidents_ambiguous == 1
    assert _placed(conn, "P-3") == (None, "ambiguous", SECOND, ["99011", "99012"])


def test_the_import_names_each_team_left_with_closed_communes_and_each_unit_whose_ground_nobody_took(
    conn: Connection, boundaries_path: Path, tmp_path: Path, make_team
) -> None:
    """10507 and 10525 merged into 99001, Bạch Long Vĩ (11948) left out of the whole file: the team of 10525 alone
    has no current commune left, the team of 10507 and 10532 keeps one; both are named with where their ground went,
    and 11948 is named as taken by no unit (before: one count, «tổ công tác … cần vẽ lại địa bàn 2», no name)."""
    make_team("Tổ Hải Dương", [SECOND])
    make_team("Tổ Thành Đông", [FIRST, RENAMED])
    frame = gpd.read_file(boundaries_path)
    rest = frame[~frame["code"].isin([FIRST, SECOND, "11948"])]
    rows = list(rest.to_dict("records")) + list(_merged_into_a_new_code(boundaries_path).to_dict("records"))
    path = _file(tmp_path, gpd.GeoDataFrame(rows, crs=4326), "reorganised")
    report = import_boundaries(conn, path, valid_from=REORG, whole=True)
    assert report.team_areas_to_redraw == 2
    by_team = {w.split("»")[0]: w for w in report.warnings}
    lone = by_team["tổ «Tổ Hải Dương"]
    assert "10525 «Phường Hải Dương» (nay thuộc 99001 «Phường Hải Dương Mới»)" in lone, lone
    assert "tổ không còn xã/phường hiện hành nào" in lone, lone
    kept = by_team["tổ «Tổ Thành Đông"]
    assert "10507 «Phường Thành Đông» (nay thuộc 99001" in kept and "không còn xã/phường" not in kept, kept
    assert any(w.startswith("đơn vị 11948 «Đặc khu Bạch Long Vĩ» đã khép lại mà không") for w in report.warnings)


def test_a_change_imported_under_the_current_versions_date_says_it_rewrote_that_version(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    """A renamed unit imported without its date of effect (the default, 01/07/2025, the current version's own):
    the version is corrected in place, as meant for a correction — but a reorganisation imported so rewrites the
    past (the old name gone from every earlier record), so the report says which units and how to keep the history
    (before: «cập nhật 1», nothing more)."""
    frame = gpd.read_file(boundaries_path)
    frame = frame[frame["code"] == RENAMED].copy()
    frame[["name", "full_name"]] = ["Tân Bình", "Phường Tân Bình"]
    report = import_boundaries(conn, _file(tmp_path, frame, "renamed"))
    assert report.updated == 1
    assert any(
        "sửa tại chỗ 1 đơn vị" in w and RENAMED in w and "01/07/2025" in w and "--valid-from" in w
        for w in report.warnings
    ), report.warnings


def test_incidents_keyed_by_a_commune_merged_away_are_placed_in_its_successor(
    conn: Connection, boundaries_path: Path, tmp_path: Path
) -> None:
    """A register still naming 10525 by its code after its merger into 99001: the row is 99001's, its unit at its
    date 10525, as a 2025 legacy code is placed (before: refused «đơn vị 10525 nằm ngoài các xã/phường đã nạp»,
    though it was loaded until the merger)."""
    from gis.services.incident_import import import_incidents

    _reorganised(conn, boundaries_path, tmp_path)
    path = tmp_path / "old-register.csv"
    path.write_text("ref,occurred_at,kind,commune_code\nO-1,2026-03-01T10:00:00,possession,10525\n", "utf-8")
    report = import_incidents(conn, path, imported_by="test")
    assert (report.imported, report.rejected) == (1, 0), report
    assert _placed(conn, "O-1") == ("99001", "legacy_code", SECOND, None)
