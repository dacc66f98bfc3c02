"""What an import says about a bad file is Vietnamese only, on the page and on the command line: no English gloss in
brackets after a warning or a refused row, no library's text (Python's JSON parser, openpyxl, GDAL) in a refusal.

Each file goes through the real path: the upload route a page calls, and `diaban … import` in-process. The words are
checked by the browser tests' rule (tests/browser/vietnamese_text.py): a word that is no Vietnamese syllable, nor a
listed name or format, is English left in a message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser.vietnamese_text import foreign_words
from tests.conftest import run_cli

INCIDENT_HEADER = "ref,occurred_at,lon,lat,kind,arrested,ghi chú riêng\n"
#: Incidents whose import warns (a column it does not know, a figure written «-», a totals row passed over) and
#: refuses a row (a kind it does not know), beside one good row.
WARNED_INCIDENTS = (
    INCIDENT_HEADER
    + "V1,2025-03-01 10:00,106.68,20.86,tip,-,x\nV2,2025-03-01 11:00,106.68,20.86,lạ,1,\nTổng cộng,,,,,1,\n"
)
#: Indicators whose import warns (a column it does not know, a figure written «-») and refuses a row (its year), beside
#: one good row.
WARNED_INDICATORS = (
    "year,commune_code,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route,cột thêm\n"
    "2025,10507,30000,-,0,0,1,x\n"
    "20x5,10525,20000,0,0,0,1,\n"  # its reason's English gloss held a dash, which kept it on the page
)


def _feature(properties: dict) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.68, 20.86]}, "properties": properties}


#: Bad incident files, by name: JSON broken mid-file (the parser's English reason was in the message), JSON that is
#: no collection of features, a feature whose property holds a list (its reason quoted the Vietnamese name inside
#: the English gloss, which the pages could not strip), a file named .xlsx that is no workbook.
BAD_INCIDENTS = {
    "hỏng.geojson": b'{"type": "FeatureCollection", "features": [1, 2,]}',
    "rỗng.geojson": b"[]",
    "thuộc-tính.geojson": json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                _feature({"ref": "G1", "số người": [1, 2]}),
                _feature({"ref": "G2", "occurred_at": "2025-03-01", "kind": "lạ"}),
            ],
        },
        ensure_ascii=False,
    ).encode(),
    "bảng.xlsx": b"PK\x03\x04 day khong phai bang tinh",
    "cảnh-báo.csv": WARNED_INCIDENTS.encode(),
}


def _said(body: dict) -> str:
    """Every text of an import's answer that a page shows: the refusal, the warnings, each reported row's message."""
    report = body.get("report", body)
    texts = [body.get("message") or "", *report.get("warnings", [])]
    for part in ("rejected", "duplicates", "flagged"):
        texts += [row["message"] or "" for row in report.get(part, {}).get("rows", [])]
    return "\n".join(texts)


@pytest.fixture
def loaders(make_user, bearer) -> dict[str, dict[str, str]]:
    """Headers of the users who load incidents (command) and indicators (planner)."""
    return {role: bearer(make_user(f"tu-ngu-{role}", role)) for role in ("command", "planner")}


@pytest.mark.parametrize("name", BAD_INCIDENTS)
def test_an_incident_upload_is_answered_in_vietnamese_only(client, loaders, name: str) -> None:
    response = client.post(
        "/api/imports/incidents", headers=loaders["command"], files={"file": (name, BAD_INCIDENTS[name])}
    )
    assert response.status_code in (200, 422), response.text
    said = _said(response.json())
    assert said.strip() and not foreign_words(said), said


def test_an_indicator_upload_warns_in_vietnamese_only(client, loaders) -> None:
    response = client.post(
        "/api/imports/indicators",
        headers=loaders["planner"],
        files={"file": ("chỉ-số.csv", WARNED_INDICATORS.encode())},
    )
    assert response.status_code == 200, response.text
    said = _said(response.json())
    assert response.json()["warnings"] and not foreign_words(said), said


@pytest.fixture
def cli(db_env: dict, monkeypatch: pytest.MonkeyPatch):
    """`diaban` in-process against the test database (only files that store nothing: the database is shared)."""
    monkeypatch.setenv("DIABAN_DATABASE_URL", db_env["DIABAN_DATABASE_URL"])
    return run_cli


@pytest.mark.parametrize(
    ("command", "name", "content"),
    [
        *(
            (("incidents", "import"), name, content)
            for name, content in BAD_INCIDENTS.items()
            if name != "cảnh-báo.csv"
        ),
        # Warned and refused rows, nothing stored: the good row of the page's file left out.
        (("incidents", "import"), "cảnh-báo.csv", WARNED_INCIDENTS.replace("tip,-,x", "lạ,-,x").encode()),
        (("indicators", "import"), "chỉ-số.csv", WARNED_INDICATORS.replace("10507", "99999").encode()),
        (("boundaries", "import"), "ranh-giới.geojson", b"ma\xfe\xc3,t\xean\n1,2\n"),  # GDAL's reason was shown
        (("incidents", "import"), "vụ-việc.pdf", b"%PDF-1.4"),  # the formats it takes were said in English only
    ],
)
def test_the_command_line_says_what_is_wrong_with_a_file_in_vietnamese_only(
    cli, capsys, tmp_path: Path, command: tuple[str, ...], name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = cli(capsys, *command, str(path))
    assert code == 2, err
    said = (out + err).replace(str(path), "").replace(path.suffix, "")  # the name and the kind of file given
    assert "Lỗi" in err and not foreign_words(said), said
    if name.endswith(".pdf"):
        assert ".csv" in err and ".xlsx" in err, err
