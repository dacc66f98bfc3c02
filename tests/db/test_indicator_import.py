"""Yearly indicators import: rejects with lines, unknown communes, a re-import replaces the communes it gives."""

import threading
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Connection, Engine, text
from test_tasks import wait_for_a_lock_wait

from gis.services.indicator_import import import_indicators
from models.domain.row_checks import ContractError
from models.vocabulary import local_today
from tests.form_workbooks import TOTALS_ROW, indicator_form

HEADER = (
    "year,commune_code,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route,organizing_places\n"
)


def test_valid_rows_kept_bad_rows_reported(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "ind.csv"
    path.write_text(
        HEADER + "2025,10507,30000,120,0,0,1,2\n"
        "2025,10525,20000,0,0,0,không,\n"
        "2025,00000,1000,0,0,0,0,\n"
        "2025,10532,-5,0,0,0,0,\n"
        "20x5,10532,100,0,0,0,0,\n"
        "2025,10532,100,0,0,0,maybe,\n"
        "2025,10507,30000,120,0,0,1,2\n",
        encoding="utf-8",
    )
    report = import_indicators(conn, path, imported_by="test")
    assert report.imported == 2
    assert sorted(report.rejects.frame()["line"]) == [4, 5, 6, 7, 8]
    fields = dict(zip(report.rejects.frame()["line"], report.rejects.frame()["field"]))
    assert fields == {4: "commune_code", 5: "population", 6: "year", 7: "on_drug_route", 8: "commune_code"}
    rows = conn.execute(
        text(
            "SELECT commune_code, population, on_drug_route, organizing_places"
            " FROM commune_indicators WHERE year = 2025 ORDER BY 1"
        )
    ).all()
    assert [tuple(r) for r in rows] == [("10507", 30000, True, 2), ("10525", 20000, False, None)]


def test_a_reimport_replaces_the_communes_it_gives_and_keeps_the_rest(conn: Connection, tmp_path: Path) -> None:
    """A corrected file of one commune replaces that commune's year; a commune it leaves out, or whose row it gets
    wrong, keeps its figures (the typo is reported with its line). Before, the whole year was deleted first: 10525
    and 10532 read «thiếu dữ liệu» after a correction of 10507."""
    first = tmp_path / "a.csv"
    first.write_text(
        HEADER + "2024,10507,30000,120,0,0,1,\n2024,10525,20000,5,0,0,0,\n2024,10532,15000,7,0,0,0,\n"
        "2023,10507,29000,100,0,0,1,\n"
    )
    import_indicators(conn, first, imported_by="test")
    second = tmp_path / "b.csv"
    second.write_text(HEADER + "2024,10507,31000,90,0,0,1,\n2024,10532,15000,7O,0,0,0,\n")
    report = import_indicators(conn, second, imported_by="test")
    assert (report.imported, list(report.rejects.frame()["line"])) == (1, [3])
    rows = conn.execute(
        text(
            "SELECT year, commune_code, users_with_records FROM commune_indicators"
            " WHERE year IN (2023, 2024) ORDER BY 1, 2"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        (2023, "10507", 100),
        (2024, "10507", 90),
        (2024, "10525", 5),
        (2024, "10532", 7),
    ]


def test_blank_cells_stay_unknown(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text(HEADER + "2025,10507,30000,,,,,\n2025,10525,,0,0,0,0,\n", encoding="utf-8")
    report = import_indicators(conn, path, imported_by="test")
    assert report.imported == 2 and report.rejected == 0
    rows = conn.execute(
        text(
            "SELECT commune_code, population, users_with_records, plants_destroyed, cultivation_m2, on_drug_route"
            " FROM commune_indicators WHERE year = 2025 ORDER BY 1"
        )
    ).all()
    assert [tuple(r) for r in rows] == [("10507", 30000, None, None, None, None), ("10525", None, 0, 0, 0.0, False)]


def test_counts_typed_with_grouped_thousands_are_stored_whole(conn: Connection, tmp_path: Path) -> None:
    """A Vietnamese workbook saved with semicolons writes «30.000» residents: 30000, not 30 (a decimal point would make
    the commune's rates a thousand times too high), and «1.234» people with records is 1234, not a refusal."""
    path = tmp_path / "grouped.csv"
    path.write_text(
        HEADER.replace(",", ";") + "2025;10507;30.000;1.234;0;0;1;\n2025;10525;1.234.567;5;2.000;0;0;\n",
        encoding="utf-8",
    )
    report = import_indicators(conn, path, imported_by="test")
    assert report.imported == 2 and report.rejected == 0
    rows = conn.execute(
        text(
            "SELECT commune_code, population, users_with_records, plants_destroyed FROM commune_indicators"
            " WHERE year = 2025 ORDER BY 1"
        )
    ).all()
    assert [tuple(r) for r in rows] == [("10507", 30000, 1234, 0), ("10525", 1234567, 5, 2000)]


def test_population_must_be_positive(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "zero.csv"
    path.write_text(HEADER + "2025,10507,0,0,0,0,0,\n2025,10525,20000,0,0,0,0,\n", encoding="utf-8")
    report = import_indicators(conn, path, imported_by="test")
    assert report.imported == 1
    assert report.rejects.frame().loc[0, ["line", "field"]].tolist() == [2, "population"]
    assert (
        "lớn hơn 0" in report.rejects.frame().loc[0, "reason"]
        and "must be > 0" in report.rejects.frame().loc[0, "reason"]
    )


def test_a_count_beyond_what_is_stored_is_a_reject(conn: Connection, tmp_path: Path) -> None:
    """A population of 5.7e107 (an integer to pandas) stopped the import with a traceback; 3e9 would have been
    refused by the integer column, losing the whole file (found by fuzzing the importer)."""
    path = tmp_path / "big.csv"
    path.write_text(
        HEADER + "2025,10507,5.6728180998893346e+107,0,0,0,0,\n2025,10525,20000,3000000000,0,0,0,\n"
        "2025,10532,2147483647,0,0,0,0,\n",
        encoding="utf-8",
    )
    report = import_indicators(conn, path, imported_by="test")
    assert report.imported == 1
    rejects = report.rejects.frame()
    assert rejects[["line", "field"]].values.tolist() == [[2, "population"], [3, "users_with_records"]]
    assert rejects["reason"].str.contains("quá lớn").all()


def test_more_people_with_records_than_residents_is_a_reject(conn: Connection, tmp_path: Path) -> None:
    """A commune of 1.000 residents with 2.000 people with records (the two columns swapped) was stored, and its
    rate of 200 % classified; now refused with both figures. As many as the residents, or a population unknown
    (blank), is kept."""
    path = tmp_path / "ind.csv"
    path.write_text(
        HEADER + "2025,10507,1000,2000,0,0,0,\n2025,10525,1000,1000,0,0,0,\n2025,10532,,2000,0,0,0,\n",
        encoding="utf-8",
    )
    report = import_indicators(conn, path, imported_by="test")
    assert report.imported == 2
    rejects = report.rejects.frame()
    assert rejects[["line", "field"]].values.tolist() == [[2, "users_with_records"]]
    assert rejects["reason"][0].startswith("Người nghiện và sử dụng có hồ sơ nhiều hơn dân số: 2.000 > 1.000")


def test_a_repeated_year_and_commune_names_the_line_kept_and_a_refused_row_keeps_none(
    conn: Connection, tmp_path: Path
) -> None:
    """The repeat said «với một dòng trước» (which one?), and a row repeating a refused one was refused too: neither
    was imported."""
    path = tmp_path / "ind.csv"
    path.write_text(
        HEADER + "2025,10507,-5,120,0,0,1,2\n"  # refused: a negative population
        "2025,10507,30000,120,0,0,1,2\n"  # kept
        "2025,10525,20000,0,0,0,0,\n"
        "2025,10507,31000,120,0,0,1,2\n",
        encoding="utf-8",
    )
    report = import_indicators(conn, path, imported_by="test")
    assert report.imported == 2
    assert [(line, field, reason) for line, _, field, reason in report.rejects.rows()] == [
        (2, "population", "Dân số âm: -5 (population: negative value)"),
        (5, "commune_code", "trùng năm và xã với dòng 3 (same year and commune as line 3)"),
    ]
    stored = conn.execute(
        text("SELECT population FROM commune_indicators WHERE year = 2025 AND commune_code = '10507'")
    )
    assert stored.scalar_one() == 30000


def test_a_commune_given_by_its_code_and_again_by_its_names_is_one_repeat_not_a_crash(
    conn: Connection, tmp_path: Path
) -> None:
    """Both rows reached the table's key: the import stopped on a unique violation (a traceback, a 500 upload)."""
    name = conn.execute(text("SELECT name FROM admin_units WHERE code = '10507'")).scalar_one()
    path = tmp_path / "ind.csv"
    path.write_text(
        "year,commune_code,commune,province,population,users_with_records,plants_destroyed,cultivation_m2,"
        "on_drug_route\n"
        "2025,10507,,,30000,1,0,0,1\n"
        f"2025,,{name},Thành phố Hải Phòng,31000,1,0,0,1\n",
        encoding="utf-8",
    )
    report = import_indicators(conn, path, imported_by="test")
    assert report.imported == 1
    assert list(report.rejects.rows()) == [
        (3, "10507", "commune_code", "trùng năm và xã với dòng 2 (same year and commune as line 2)")
    ]


def test_two_imports_of_one_year_at_once_both_succeed_and_the_later_one_wins(
    engine: Engine, owner_engine: Engine, tmp_path: Path
) -> None:
    """Two planners load the same year at once, each on their own connection: the second waits for the first's commit,
    then replaces its rows — it had deleted the year before the first committed and failed on the table's key (500).
    The race is made by holding the first transaction open until the second waits on a lock."""
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(HEADER + "2001,10507,30000,120,0,0,1,\n2001,10525,20000,5,0,0,0,\n")
    second.write_text(HEADER + "2001,10507,31000,90,0,0,1,\n2001,10525,21000,4,0,0,0,\n")
    failures: list[Exception] = []

    def load_second() -> None:
        try:
            with engine.begin() as conn:
                import_indicators(conn, second, imported_by="cung-luc-2")
        except Exception as error:  # told below, where the test can fail
            failures.append(error)

    try:
        with engine.connect() as held, engine.connect() as watch:
            with held.begin():
                import_indicators(held, first, imported_by="cung-luc-1")
                racing = threading.Thread(target=load_second)
                racing.start()
                wait_for_a_lock_wait(watch)
            racing.join()
        assert not failures, failures
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT commune_code, population FROM commune_indicators WHERE year = 2001 ORDER BY 1")
            ).all()
        assert [tuple(r) for r in rows] == [("10507", 31000), ("10525", 21000)]
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM commune_indicators WHERE year = 2001"))
            conn.execute(text("ALTER TABLE import_runs DISABLE TRIGGER import_runs_append_only"))  # committed history
            conn.execute(text("DELETE FROM import_runs WHERE imported_by IN ('cung-luc-1', 'cung-luc-2')"))
            conn.execute(text("ALTER TABLE import_runs ENABLE TRIGGER import_runs_append_only"))


def test_a_statistical_form_imports_as_excel_shows_it(conn: Connection, tmp_path: Path) -> None:
    """The steering committee's form (two-row header with a merged group, units and numbering rows, «STT», a totals row,
    rows numbered but blank) imports its three wards; «-» is stored unknown (NULL), never 0."""
    report = import_indicators(conn, indicator_form(tmp_path / "bieu.xlsx"), imported_by="test")
    assert (report.imported, report.rejected) == (3, 0)
    assert any(f"dòng tổng cộng: dòng {TOTALS_ROW}" in w for w in report.warnings)
    rows = conn.execute(
        text(
            "SELECT commune_code, population, users_with_records, plants_destroyed FROM commune_indicators"
            " WHERE year = 2025 AND commune_code IN ('10507', '10525', '10532') ORDER BY 1"
        )
    ).all()
    assert [tuple(r) for r in rows] == [("10507", 30000, 120, 0), ("10525", 20000, None, 0), ("10532", 15000, 40, None)]


def test_missing_columns_name_the_sheet_read_and_the_others(conn: Connection, tmp_path: Path) -> None:
    """A workbook opening on its instructions: the refusal listed the columns read but not where they were read."""
    book = Workbook()
    notes = book.active
    notes.title = "Hướng dẫn"
    notes.append(["Ghi chú", "Cách điền"])
    notes.append(["Cột năm", "ghi 4 chữ số"])
    book.create_sheet("Biểu 01").append(["year", "commune_code"])
    book.create_sheet("Danh mục").sheet_state = "hidden"
    path = tmp_path / "nhieu-trang.xlsx"
    book.save(path)
    with pytest.raises(ContractError) as refused:
        import_indicators(conn, path, imported_by="test")
    assert refused.value.message.endswith(
        "; trang tính đã đọc: «Hướng dẫn»; tệp có các trang tính «Hướng dẫn», «Biểu 01»: nếu bảng ở trang khác, hãy"
        " ghi tên trang vào ô «Trang tính» (dòng lệnh: --sheet TÊN)"
    )
    assert "thiếu cột bắt buộc" in refused.value.message


def test_old_communes_kept_as_given_survive_a_refused_row(conn: Connection, tmp_path: Path) -> None:
    """A 2024 row of an old commune (11296, Phường Quán Toan before 2025) whose current commune lacks its other parts is
    stored as given (`legacy_given`) and reported «Vẫn lưu, cần xem lại». A typo in another row made the import count
    nothing imported and refuse the whole file as having no valid row (exit 2 / 422, rolled back), so the row the report
    said was kept was not; alone, the same row was stored."""
    path = tmp_path / "cu.csv"
    path.write_text(HEADER + "2024,11296,30000,12,0,0,1,\n2024,11299,abc,12,0,0,1,\n")
    report = import_indicators(conn, path, imported_by="test")
    assert not report.nothing_usable
    assert (report.rejected, len(report.flagged)) == (1, 1)
    stored = conn.execute(
        text("SELECT commune_code, population FROM commune_indicators WHERE year = 2024 AND method = 'legacy_given'")
    ).all()
    assert [tuple(r) for r in stored] == [("11296", 30000)]


def test_a_year_that_has_not_begun_is_refused(conn: Connection, tmp_path: Path) -> None:
    """A yearly figure of a year not yet begun is a typing mistake (2052 for 2025): it was stored, and a later
    classification of that year refused («chưa bắt đầu») while its figures stayed. The current year is allowed."""
    this_year = local_today().year
    path = tmp_path / "tuong-lai.csv"
    path.write_text(HEADER + f"{this_year},10507,30000,120,0,0,1,\n{this_year + 1},10525,20000,5,0,0,0,\n")
    report = import_indicators(conn, path, imported_by="test")
    assert report.imported == 1
    [(line, _ref, field, reason)] = list(report.rejects.rows())
    assert (line, field) == (3, "year")
    assert f"«{this_year + 1}»" in reason and "chưa bắt đầu" in reason
    future = conn.execute(text("SELECT count(*) FROM commune_indicators WHERE year > :y"), {"y": this_year})
    assert future.scalar_one() == 0


def test_marks_of_no_figure_are_unknown_in_every_column(conn: Connection, tmp_path: Path) -> None:
    """«-» in the route column and «không có số liệu» in a figure mean «no figure», as «-» in a figure does: read as
    unknown, never as a value, instead of refusing the commune's whole row."""
    path = tmp_path / "khong-so-lieu.csv"
    path.write_text(
        HEADER + "2023,10507,30000,không có số liệu,0,0,-,\n2023,10525,Chưa có số liệu,5,0,0,không,\n",
        encoding="utf-8",
    )
    report = import_indicators(conn, path, imported_by="test")
    assert (report.imported, report.rejected) == (2, 0), list(report.rejects.rows())
    rows = conn.execute(
        text(
            "SELECT commune_code, population, users_with_records, on_drug_route FROM commune_indicators"
            " WHERE year = 2023 AND commune_code IN ('10507', '10525') ORDER BY 1"
        )
    ).all()
    assert [tuple(r) for r in rows] == [("10507", 30000, None, None), ("10525", None, 5, False)]
    assert any("không phải 0" in w for w in report.warnings)


def test_counts_grouped_by_spaces_are_whole_numbers(conn: Connection, tmp_path: Path) -> None:
    """«25 000» (a space, or Excel's no-break space, between groups of three digits) is 25000 residents; it was
    refused as not a number."""
    path = tmp_path / "cach.csv"
    path.write_text(
        HEADER + "2022,10507,25 000,120,0,0,1,\n2022,10525,1\u00a0234\u00a0567,5,0,0,0,\n", encoding="utf-8"
    )
    report = import_indicators(conn, path, imported_by="test")
    assert (report.imported, report.rejected) == (2, 0), list(report.rejects.rows())
    rows = conn.execute(
        text("SELECT commune_code, population FROM commune_indicators WHERE year = 2022 ORDER BY 1")
    ).all()
    assert [tuple(r) for r in rows if r[0] in ("10507", "10525")] == [("10507", 25000), ("10525", 1234567)]
