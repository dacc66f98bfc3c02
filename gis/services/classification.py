"""The planner's yearly cycle on the database: derive indicators, draft (legal + learned + forecast), review."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from gis.io.exports import (
    FORMATS,
    ExportFile,
    check_raw,
    classification_features,
    classification_file,
    download_name,
    run_meta,
)
from gis.reference import criteria_basis, load_rules
from gis.store.accounts import principal_by_username
from gis.store.classifications import (
    classification_geojson_text,
    create_run,
    final_classes,
    overriders_reset,
    require_run,
    run_results,
)
from gis.store.communes import refuse_personal_names
from gis.store.incidents import ambiguous_incidents
from gis.store.indicators import hold_indicators, indicators_digest, register_since, year_units_day, yearly_indicators
from gis.store.provinces import document_heading, require_province_units, require_run_covers, scope_label
from gis.store.scoping import UNRESTRICTED, AreaScope, require_commune_in_scope, units_outside
from models.domain.access import Principal
from models.domain.classification import METHOD, build_draft, changed_count, check_year_begun, review_order
from models.domain.dates import check_year
from models.domain.legal_rules import LegalRules
from models.errors import InvalidRequest, PermissionDenied
from models.frames import frame_records
from models.lazy import lazy_module
from models.vocabulary import Role, UnitBasis

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

#: Years of history that train the next-year forecast (the draft year included).
HISTORY_YEARS = 5


def draft_year(
    conn: Connection,
    year: int,
    *,
    actor: str,
    rules: LegalRules | None = None,
    replace: bool = False,
    note: str | None = None,
    basis: str = UnitBasis.TODAY,
) -> dict[str, Any]:
    """Compute and store a new draft of a year's classification; returns the run with its counts and the year's
    incidents that no commune counts (an old commune split in 2025: `ambiguous_incidents`, with candidates). A year
    outside FIRST_YEAR..LAST_YEAR is refused: `diaban classify run --year 1800` stored a draft the API cannot read; so
    is a year that has not begun (check_year_begun: 2027 in 2026 came out all «có nguy cơ» for want of data), and a
    ``note`` that looks like it holds a person's name (refuse_personal_names)."""
    check_year_begun(check_year(year))
    refuse_personal_names(conn, note or "", "Ghi chú của lần tính")
    rules = rules or load_rules()
    # The figures it reads and the digest it records are one state: an import committing between them let a draft
    # built on the old figures record the new ones' digest, and be approved.
    hold_indicators(conn)
    history = yearly_indicators(conn, year - HISTORY_YEARS + 1, year, basis, rules)
    draft = build_draft(history, year, rules, register_since(conn))
    units: dict[str, str] = {"units": basis}
    if basis == UnitBasis.PERIOD:  # the units of the year's last day: their names and shapes go with the results
        units["units_valid_on"] = year_units_day(year).isoformat()
    run = create_run(
        conn,
        year,
        draft,
        actor=actor,
        rules_version=rules.version,
        method=METHOD,
        params={
            "history_years": HISTORY_YEARS,
            "rules_source": rules.source,
            **units,
            # the year's figures it used: an approval refuses it once they change (check_indicators_unchanged)
            "indicators_digest": indicators_digest(conn, year),
        },
        replace=replace,
        note=note,
    )
    return {**run, "counts": count_classes(draft), "ambiguous_incidents": ambiguous_incidents(conn, year)}


def require_whole_country(conn: Connection, scope: AreaScope, year: int) -> None:
    """PermissionDenied unless the planner of ``scope`` may create or approve a year's run (`units_outside`)."""
    outside = units_outside(conn, scope)
    if outside:
        raise PermissionDenied(
            f"kết quả phân loại năm {year} gồm cả {outside} đơn vị ngoài tỉnh, thành phố của bạn: chỉ cán bộ tham mưu"
            " cấp toàn quốc được tính lại hoặc phê duyệt; bạn điều chỉnh được các xã, phường của tỉnh mình",
            "the run covers units outside the planner's province",
        )


#: What a planner account named on the command line (`diaban classify … --as-user`) does, in the refusals' words.
COMMAND_LINE_ACTIONS = {
    "run": "chạy phân loại",
    "override": "điều chỉnh phân loại",
    "approve": "phê duyệt phân loại",
    "discard": "bỏ bản nháp phân loại",
}


def command_line_planner(
    conn: Connection, username: str, year: int, action: str, commune: str | None = None
) -> Principal:
    """The planner account a command-line change of ``year``'s classification is made as (`diaban classify run`,
    `override`, `approve`, `discard` with `--as-user`; ``action`` a key of COMMAND_LINE_ACTIONS): an active planner
    account (NotFound, else PermissionDenied) whose administrator-given password was changed (as the API would refuse
    it, 403 password_change_required) and who may do it through the API: a run, an approval or a discard covers the
    whole run (require_whole_country), an override the planner's own communes (``commune``). The change is recorded
    under that account and four eyes compares it: the operating-system user acted before, whoever had the shell, a
    name no planner account need bear, which four eyes could not tell apart from the planners' (a planner overriding
    at the shell could approve the draft on the page)."""
    doing = COMMAND_LINE_ACTIONS[action]
    planner = principal_by_username(conn, username)
    if planner.role != Role.PLANNER:
        raise PermissionDenied(
            f"«{planner.username}» không phải tài khoản cán bộ tham mưu: chỉ cán bộ tham mưu {doing}",
            f"only a planner account may {action} a classification",
        )
    if planner.must_change_password:
        raise PermissionDenied(
            f"«{planner.username}» chưa đổi mật khẩu do quản trị viên cấp: người dùng cần đăng nhập và đổi mật khẩu"
            f" trước khi {doing}",
            "the planner has not changed the password an administrator gave",
        )
    scope = AreaScope.of(planner)
    if commune is None:
        require_whole_country(conn, scope, year)
    else:
        require_commune_in_scope(conn, scope, commune)
    return planner


def count_classes(results: pd.DataFrame) -> dict[str, int]:
    """Communes per final class ('trong_diem_I', 'at_risk', 'drug_free', …)."""
    key = results["category"] + results["level"].fillna("").map(lambda lvl: f"_{lvl}" if lvl else "")
    return {str(k): int(v) for k, v in key.value_counts().sort_index().items()}


def classification_collection_json(
    conn: Connection,
    year: int,
    version: int | None,
    simplify_m: float,
    scope: AreaScope,
    detail: bool = True,
    draft_first: bool = False,
    current_geometry: bool = True,
) -> str:
    """A run of a year (``draft_first``: see :func:`gis.store.classifications.find_run`) as the JSON text of a GeoJSON
    collection of the communes in scope, with the run (``detail``, ``current_geometry``: see
    :func:`gis.store.classifications.classification_geojson_text`); a province the run holds no unit of is refused
    (NotFound, as the review and the KPI report), not sent as an empty collection: a map with no class at all.

    Text, not objects: the features are passed on as PostGIS wrote them (decoding them, to encode them again at once,
    was 5 % of the samples of a profile of the planner API tests, test_classification_api.py)."""
    run = require_run(conn, year, version, draft_first=draft_first)
    if scope.province_code is not None:
        require_run_covers(conn, run, scope.province_code)
    features = classification_geojson_text(conn, run["id"], simplify_m, scope, detail, current_geometry)
    written = json.dumps(run, ensure_ascii=False, default=_iso)
    return f'{{"type": "FeatureCollection", "run": {written}, "features": {features}}}'


def _iso(value: Any) -> str:
    """A run's dates and times in ISO 8601, for :func:`json.dumps`."""
    return value.isoformat()


def review_report(
    conn: Connection,
    year: int,
    version: int | None = None,
    scope: AreaScope = UNRESTRICTED,
    draft_first: bool = False,
) -> dict[str, Any]:
    """A run with its communes in the scope in review order and the counts of disagreements and changes (no
    per-criterion detail)."""
    run, items = review(conn, year, version, scope, draft_first)
    shown = items.drop(columns=["indicators", "sources", "criteria"]).astype(object)
    return {
        "run": run,
        "n_disagreements": int(items["disagreement"].sum()),
        "n_changed": changed_count(items),
        "items": frame_records(shown),
    }


def review(
    conn: Connection,
    year: int,
    version: int | None = None,
    scope: AreaScope = UNRESTRICTED,
    draft_first: bool = False,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """A run (``draft_first``: see :func:`gis.store.classifications.find_run`) and its communes in the scope in review
    order (disagreements and changes vs the previous approved year first), each override with whether an administrator
    had just given its author their password (``overrider_password_reset_by/at``, `overriders_reset`)."""
    run = require_run(conn, year, version, draft_first=draft_first)
    if scope.province_code is not None:  # the planner page: «… không gồm đơn vị nào của …», not every class 0
        require_run_covers(conn, run, scope.province_code)
    previous = final_classes(conn, year - 1, scope=scope)
    items = review_order(run_results(conn, run["id"], scope), previous)
    # Each override's author's password, as the history says it (overriders_reset): the planner page and `classify
    # review` mark an override made with a password an administrator had just given.
    given = pd.DataFrame(
        overriders_reset(conn, list(zip(items["override_by"], items["override_at"], strict=True))),
        columns=["overrider_password_reset_by", "overrider_password_reset_at"],
        index=items.index,
    )
    return run, pd.concat([items, given], axis=1)


def export_classification(
    conn: Connection,
    year: int,
    fmt: str,
    version: int | None = None,
    *,
    raw: bool = False,
    scope: AreaScope = UNRESTRICTED,
    issuer: str | None,
    by: str,
) -> ExportFile:
    """The run's classification of the communes in the scope (a province, or all) in the requested format, ready to
    write or send, with its number of communes; an Excel file is issued by the police of province ``issuer`` (the
    reader's; None: the Ministry), exported now by ``by`` on the basis of the criteria's decision, named for download
    by its year, version, approval and province; a province the system holds no unit of is refused (NotFound), not
    sent as a file of headers only."""
    check_raw(fmt, raw)
    if scope.province_code is not None:
        require_province_units(conn, scope.province_code)
    run = require_run(conn, year, version)
    if scope.province_code is not None:
        require_run_covers(conn, run, scope.province_code)
    # The raw file named apart: the people's CSV of the same version had the same name, one overwriting the other.
    name = download_name("phân-loại-dạng-thô" if raw else "phân-loại", year, run, scope.province_code, fmt)
    if fmt == "geojson" and raw:
        features = json.loads(classification_geojson_text(conn, run["id"], scope=scope))
        machine = {"type": "FeatureCollection", "run": run_meta(run), "features": features}
        return ExportFile(json.dumps(machine, ensure_ascii=False, default=str).encode("utf-8"), len(features), name)
    if fmt == "geojson":
        shapes = json.loads(classification_geojson_text(conn, run["id"], scope=scope, detail=False))
        content = classification_features(run_results(conn, run["id"], scope), run, shapes)
        return ExportFile(content, len(shapes), name)
    if fmt in ("csv", "xlsx"):
        results = run_results(conn, run["id"], scope)
        heading = document_heading(conn, issuer, by)
        scope_name = scope_label(conn, scope.province_code)
        basis = criteria_basis(run["rules_version"])
        table = classification_file(results, run, fmt, heading=heading, scope=scope_name, basis=basis, raw=raw)
        return ExportFile(table, len(results), name)
    raise InvalidRequest(f"định dạng không hỗ trợ: {fmt!r} (chọn {', '.join(FORMATS)})", "unsupported format")
