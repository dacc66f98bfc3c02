"""Classification runs and results in PostGIS: create versions, override, approve, read back, and the trail of each
year's versions.

The code refuses to change an approved run (RunApproved) before the database trigger of migration
0003 would; a correction is a new version whose ``supersedes_id`` names the approved one. A draft that ends unapproved
(discarded, or replaced by a new run) leaves classification_runs, so that nothing reads it as the year's result, and is
archived with its overrides in the append-only classification_trail (migration 0025): `run_history` reads both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from gis.store.audit import recent_resets
from gis.store.communes import place_names
from gis.store.indicators import hold_indicators, indicators_digest, newest_indicator_import
from gis.store.scoping import UNRESTRICTED, AreaScope
from gis.store.sql import current_unit, display_geojson, display_params, valid_on
from models.domain.classification import (
    RunApproved,
    RunNotFound,
    check_four_eyes,
    check_indicators_unchanged,
    check_override,
    check_override_changes,
    check_seen,
    check_year_begun,
    refuse_existing_draft,
)
from models.frames import frame_records
from models.lazy import lazy_module
from models.vocabulary import LOCAL_TZ_NAME, MISSING_DATA_LABEL, Category, DraftEnd

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

RESULT_COLUMNS = (
    "commune_code",
    "legal_category",
    "legal_level",
    "learned_category",
    "risk_next_year",
    "leaving_drug_free",
    "category",
    "level",
    "incomplete",
    "possible_level",
    "method",
    "override_reason",
    "override_by",
    "override_at",
    "indicators",
    "sources",
    "criteria",
    "explanation",
)
_RUN_COLUMNS = (
    "id, year, version, status, rules_version, method, params, created_by, created_at, approved_by,"
    " approved_at, supersedes_id, note, last_override_by, last_override_at"
)
_JSON_TYPES = {
    "indicators": "jsonb",
    "sources": "jsonb",
    "criteria": "jsonb",
    "risk_next_year": "float8",
    "leaving_drug_free": "boolean",
    "incomplete": "boolean",
}


def find_run(
    conn: Connection,
    year: int,
    version: int | None = None,
    *,
    approved_only: bool = False,
    draft_first: bool = False,
    lock: bool = False,
) -> dict[str, Any] | None:
    """The run of a year: that version, else the newest approved one, else the draft; ``draft_first``: the draft (a
    correction awaiting approval too) before the approved one, what a planner works on. A draft names its newest
    override (``last_override_by/at``, `_last_override`), which an approved run keeps from its approval: a client
    approves the draft it read by sending it back (check_seen); a draft's run said None, and the approval was refused
    as overridden since."""
    where = "year = :year" + (" AND version = :version" if version is not None else "")
    where += " AND status = 'approved'" if approved_only else ""
    first = "status = 'draft'" if draft_first else "status = 'approved'"
    row = (
        conn.execute(
            text(
                f"SELECT {_RUN_COLUMNS} FROM classification_runs WHERE {where}"
                f" ORDER BY {first} DESC, version DESC LIMIT 1{' FOR UPDATE' if lock else ''}"
            ),
            {"year": year, "version": version},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    run = dict(row)
    if run["status"] == "draft":
        run["last_override_by"], run["last_override_at"] = _last_override(conn, run["id"])
        run["indicators_reloaded"] = indicators_reloaded(conn, run)
    return run | last_overrider_reset(conn, run)


def indicators_reloaded(conn: Connection, draft: Mapping[str, Any]) -> dict[str, Any] | None:
    """The import that changed the draft's year's indicator figures after it was run (id, file_name, imported_by,
    started_at of the year's newest), None when the draft uses the year's figures (or was run before drafts recorded
    them, `indicators_digest`): the page says so and offers no approval, which `approve` refuses
    (check_indicators_unchanged)."""
    if "indicators_digest" not in draft["params"]:
        return None
    if indicators_digest(conn, draft["year"]) == draft["params"]["indicators_digest"]:
        return None
    return newest_indicator_import(conn, draft["year"])  # None: every row removed by hand, no import to name


def require_run(
    conn: Connection, year: int, version: int | None = None, *, draft_first: bool = False
) -> dict[str, Any]:
    """The run of a year (see find_run), RunNotFound when there is none."""
    run = find_run(conn, year, version, draft_first=draft_first)
    if run is None:
        which = f" phiên bản {version}" if version is not None else ""
        raise RunNotFound(
            f"chưa có kết quả phân loại năm {year}{which}",
            f"no classification run for {year}{f' v{version}' if version is not None else ''}",
        )
    return run


def _draft(conn: Connection, year: int) -> dict[str, Any]:
    """The year's draft, locked; RunApproved if only approved versions exist, RunNotFound if none."""

    def locked() -> dict[str, Any] | None:
        statement = f"SELECT {_RUN_COLUMNS} FROM classification_runs WHERE year = :year AND status = 'draft' FOR UPDATE"
        row = conn.execute(text(statement), {"year": year}).mappings().first()
        return dict(row) if row else None

    draft = locked()
    if draft is None:
        run = require_run(conn, year, draft_first=True)
        # A draft replaced while this statement waited for the old one's row: the new one (was "approved", 409).
        draft = locked() if run["status"] == "draft" else None
        if draft is None:
            raise RunApproved(year, run["version"])
    return draft


def create_run(
    conn: Connection,
    year: int,
    results: pd.DataFrame,
    *,
    actor: str,
    rules_version: str,
    method: str,
    params: dict[str, Any],
    replace: bool = False,
    note: str | None = None,
) -> dict[str, Any]:
    """Store a new draft version of a year (a correction when an approved version exists); ``replaced``: the draft
    ``replace`` ended (its version and number of overrides; None: there was none), for the command line to say what
    it dropped; ``carried``: the communes whose override in the approved version the correction keeps
    (:func:`_carry_overrides`)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(7312026, :year)"), {"year": year})
    replaced = None
    # Locked: a draft being approved meanwhile is waited for, then no longer a draft (a correction follows it); it
    # was deleted once approved, refused by the freeze trigger (a 500).
    existing = conn.execute(
        text("SELECT id, version FROM classification_runs WHERE year = :year AND status = 'draft' FOR UPDATE"),
        {"year": year},
    ).first()
    if existing is not None:
        if not replace:
            overridden, overriders = conn.execute(
                text(
                    "SELECT count(*), coalesce(array_agg(DISTINCT override_by ORDER BY override_by), '{}')"
                    " FROM classification_results WHERE run_id = :id AND method = 'override'"
                ),
                {"id": existing.id},
            ).one()
            raise refuse_existing_draft(year, existing.version, overridden, overriders)
        replaced = {"version": existing.version, "overrides": _end_draft(conn, existing.id, DraftEnd.REPLACED, actor)}
    approved = find_run(conn, year, approved_only=True)
    run = (
        conn.execute(
            text(
                "INSERT INTO classification_runs (year, version, status, rules_version, method, params, created_by,"
                " supersedes_id, note)"
                " SELECT :year, coalesce(max(version), 0) + 1, 'draft', :rules, :method, CAST(:params AS jsonb), :actor,"
                " :supersedes, :note FROM (SELECT version FROM classification_runs WHERE year = :year"
                " UNION ALL SELECT version FROM classification_trail WHERE year = :year) AS used"
                f" RETURNING {_RUN_COLUMNS}"
            ),
            {
                "year": year,
                "rules": rules_version,
                "method": method,
                "params": json.dumps(params),
                "actor": actor,
                "supersedes": approved["id"] if approved else None,
                "note": note,
            },
        )
        .mappings()
        .one()
    )
    _insert_results(conn, run["id"], results)
    carried = _carry_overrides(conn, run["id"], approved, actor) if approved else []
    return {**run, "replaced": replaced, "carried": carried}


def _carry_overrides(conn: Connection, run_id: int, approved: Mapping[str, Any], actor: str) -> list[str]:
    """Keep in a correction the overrides of the approved version it corrects, where the criteria's class differs
    from the override's, each a new override by the planner who ran the correction, its reason quoting the first
    («Giữ điều chỉnh của phiên bản 1 đã duyệt (thammuu2, 12/03/2026): …»); the codes of those kept. A correction run
    for one commune's figures dropped every approved override unsaid, a reasoned decision two planners had taken
    (a walk-through's Lai Khê came back loại III, no reason on record). The runner owns them now: approving, the second
    planner approves them again under four eyes; one that is no longer wanted is overridden back in the draft."""
    return list(
        conn.execute(
            text(
                "UPDATE classification_results r SET category = o.category, level = o.level, method = 'override',"
                " override_reason = format('Giữ điều chỉnh của phiên bản %s đã duyệt (%s, %s): %s', CAST(:version AS int),"
                " o.override_by, to_char(o.override_at AT TIME ZONE :zone, 'DD/MM/YYYY'), o.override_reason),"
                " override_by = :actor, override_at = now()"
                " FROM classification_results o WHERE r.run_id = :run AND o.run_id = :approved AND o.method = 'override'"
                " AND o.commune_code = r.commune_code AND (r.category, r.level) IS DISTINCT FROM (o.category, o.level)"
                " RETURNING r.commune_code"
            ),
            {
                "run": run_id,
                "approved": approved["id"],
                "version": approved["version"],
                "actor": actor,
                "zone": LOCAL_TZ_NAME,
            },
        ).scalars()
    )


def _insert_results(conn: Connection, run_id: int, results: pd.DataFrame) -> None:
    """Insert every commune's result in one statement (jsonb_to_recordset over one JSON payload)."""
    columns = [c for c in RESULT_COLUMNS if c in results.columns]
    payload = json.dumps(frame_records(results.loc[:, columns]), ensure_ascii=False)
    typed = ", ".join(f"{c} {_JSON_TYPES.get(c, 'text')}" for c in columns)
    conn.execute(
        text(
            f"INSERT INTO classification_results (run_id, {', '.join(columns)})"
            f" SELECT :run_id, {', '.join(columns)} FROM jsonb_to_recordset(CAST(:payload AS jsonb)) AS r({typed})"
        ),
        {"run_id": run_id, "payload": payload},
    )


def override(
    conn: Connection, year: int, commune_code: str, category: str, level: str | None, reason: str | None, *, actor: str
) -> dict[str, Any]:
    """Set a commune's final class in the year's draft, with the mandatory reason; returns the row. An override to the
    class the commune already has is refused (check_override_changes) before anything is written or logged, unless
    it corrects a standing override's reason (the trigger of migration 0027 logs the one it replaces)."""
    draft = _draft(conn, year)
    now = (
        conn.execute(
            text(
                "SELECT r.incomplete, r.category, r.level, coalesce(u.full_name, r.commune_code) AS name,"
                " CASE WHEN r.method = 'override' THEN r.override_reason END AS reason"
                " FROM classification_results r LEFT JOIN LATERAL (SELECT full_name FROM admin_units"
                " WHERE code = r.commune_code ORDER BY valid_to IS NULL DESC, valid_from DESC LIMIT 1) u ON true"
                " WHERE r.run_id = :run_id AND r.commune_code = :code"
            ),
            {"run_id": draft["id"], "code": commune_code},
        )
        .mappings()
        .first()
    )
    category, level, reason = check_override(
        category, level, reason, incomplete=bool(now and now["incomplete"]), places=lambda: place_names(conn)
    )
    if now is not None:
        check_override_changes(
            now["name"], year, (now["category"], now["level"]), (category, level), (now["reason"], reason)
        )
    row = (
        conn.execute(
            text(
                "UPDATE classification_results SET category = :category, level = :level, method = 'override',"
                " override_reason = :reason, override_by = :actor, override_at = now()"
                " WHERE run_id = :run_id AND commune_code = :code"
                " RETURNING run_id, commune_code, legal_category, legal_level, category, level, method, override_reason,"
                " override_by, override_at"
            ),
            {
                "category": category,
                "level": level,
                "reason": reason,
                "actor": actor,
                "run_id": draft["id"],
                "code": commune_code,
            },
        )
        .mappings()
        .first()
    )
    if row is None:
        raise RunNotFound(
            f"không có xã mã {commune_code} trong bản nháp năm {year}",
            f"commune {commune_code} is not in the {year} draft",
        )
    return dict(row)


def _last_override(conn: Connection, run_id: int) -> tuple[str | None, datetime | None]:
    """Who overrode a commune's class in a run last, and when ((None, None) when nobody did)."""
    last = conn.execute(
        text(
            "SELECT override_by, override_at FROM classification_results WHERE run_id = :id AND method = 'override'"
            " ORDER BY override_at DESC, commune_code LIMIT 1"
        ),
        {"id": run_id},
    ).first()
    return (last.override_by, last.override_at) if last else (None, None)


#: Each override a run holds, as the trail keeps it: the commune, its class before (the draft's own: the criteria's) and
#: after, the reason, who and when.
_OVERRIDES_JSON = """(SELECT coalesce(jsonb_agg(jsonb_build_object(
        'commune_code', r.commune_code, 'from_category', r.legal_category, 'from_level', r.legal_level,
        'to_category', r.category, 'to_level', r.level, 'reason', r.override_reason, 'by', r.override_by,
        'at', r.override_at) ORDER BY r.override_at, r.commune_code), '[]')
    FROM classification_results r WHERE r.run_id = run.id AND r.method = 'override')"""


def _end_draft(conn: Connection, run_id: int, ended: DraftEnd, actor: str) -> int:
    """Archive the draft ``run_id`` in the append-only classification_trail (``ended`` by ``actor`` now, with each
    override it holds), then delete it and its results, so that no read of the year finds it; the number of its
    overrides. A discarded or replaced draft was deleted alone: a planner could try overrides, discard and run again
    until an approver let one pass, leaving no trace."""
    overrides = conn.execute(
        text(
            "INSERT INTO classification_trail (run_id, year, version, rules_version, method, params, created_by,"
            " created_at, supersedes_id, note, ended, ended_by, overrides)"
            " SELECT id, year, version, rules_version, method, params, created_by, created_at, supersedes_id, note,"
            f" :ended, :actor, {_OVERRIDES_JSON} FROM classification_runs run WHERE run.id = :id"
            " RETURNING jsonb_array_length(overrides)"
        ),
        {"id": run_id, "ended": ended.value, "actor": actor},
    ).scalar_one()
    conn.execute(text("DELETE FROM classification_runs WHERE id = :id"), {"id": run_id})
    return int(overrides)


def discard_draft(
    conn: Connection, year: int, seen: tuple[int, datetime | None] | None = None, *, actor: str
) -> dict[str, Any]:
    """Discard the year's draft, as a re-run that replaces it does (into the trail, `_end_draft`), and return it with
    its number of ``overrides``: a correction started by mistake leaves the approved version the year's result,
    unapproved itself. ``seen``, the draft as the planner read it (run id, newest override instant), must still be the
    draft (check_seen). An approved version is never touched (RunApproved when only those exist)."""
    draft = _draft(conn, year)
    if seen is not None:
        check_seen(year, (draft["id"], _last_override(conn, draft["id"])[1]), seen, "bỏ bản nháp")
    draft["overrides"] = _end_draft(conn, draft["id"], DraftEnd.DISCARDED, actor)
    return draft


#: Every version of a year, live (classification_runs: the draft, the approved ones) or ended (classification_trail),
#: in the shape of one history entry; ordered by run id, the order they were run in.
_VERSIONS = """
SELECT id AS run_id, version, status, rules_version, note, supersedes_id, created_by, created_at, approved_by,
       approved_at, last_override_by, last_override_at, CAST(NULL AS text) AS ended_by,
       CAST(NULL AS timestamptz) AS ended_at
FROM classification_runs WHERE year = :year
UNION ALL
SELECT run_id, version, ended, rules_version, note, supersedes_id, created_by, created_at, NULL, NULL, NULL, NULL,
       ended_by, ended_at
FROM classification_trail WHERE year = :year
ORDER BY run_id DESC"""
#: Every override of every version of a year (see _VERSIONS), with the commune's newest name.
_VERSION_OVERRIDES = """
SELECT o.run_id, o.commune_code, u.name, o.from_category, o.from_level, o.to_category, o.to_level, o.reason, o."by",
       o."at"
FROM (
    SELECT r.run_id, r.commune_code, r.legal_category AS from_category, r.legal_level AS from_level,
           r.category AS to_category, r.level AS to_level, r.override_reason AS reason, r.override_by AS "by",
           r.override_at AS "at"
    FROM classification_results r JOIN classification_runs run ON run.id = r.run_id
    WHERE run.year = :year AND r.method = 'override'
    UNION ALL
    SELECT t.run_id, o.* FROM classification_trail t CROSS JOIN jsonb_to_recordset(t.overrides) AS o(
        commune_code text, from_category text, from_level text, to_category text, to_level text, reason text,
        "by" text, "at" timestamptz)
    WHERE t.year = :year
) o
LEFT JOIN LATERAL (
    SELECT name FROM admin_units WHERE code = o.commune_code ORDER BY valid_to IS NULL DESC, valid_from DESC LIMIT 1
) u ON true
WHERE {scope}
ORDER BY o."at", o.commune_code"""


#: The overrides of a year's versions that a later change of the same commune in the same version replaced
#: (classification_override_log, migration 0027), each with who replaced it and when (None: undone by hand, not by an
#: override); the class before is the one it replaced (the criteria's, or an earlier override's).
_REPLACED_OVERRIDES = """
SELECT o.run_id, o.commune_code, u.name, o.from_category, o.from_level, o.to_category, o.to_level, o.reason, o."by",
       o."at", o.replaced_by, o.replaced_at
FROM (
    SELECT l.*, lead(CASE WHEN l.method = 'override' THEN l."by" END) OVER w AS replaced_by,
           lead(l."at") OVER w AS replaced_at
    FROM classification_override_log l
    WHERE l.run_id IN (SELECT id FROM classification_runs WHERE year = :year
                       UNION ALL SELECT run_id FROM classification_trail WHERE year = :year)
    WINDOW w AS (PARTITION BY l.run_id, l.commune_code ORDER BY l."at", l.id)
) o
LEFT JOIN LATERAL (
    SELECT name FROM admin_units WHERE code = o.commune_code ORDER BY valid_to IS NULL DESC, valid_from DESC LIMIT 1
) u ON true
WHERE o.method = 'override' AND o.replaced_at IS NOT NULL AND {scope}
ORDER BY o."at", o.commune_code"""


def run_history(conn: Connection, year: int, scope: AreaScope = UNRESTRICTED) -> list[dict[str, Any]]:
    """Every version of a year, newest first: approved ones, the draft, and the drafts discarded or replaced (status
    a RunStatus or a DraftEnd), each with who ran, approved or ended it and when, its overrides of the communes in
    ``scope`` (commune, class before and after, reason, who, when, whether an administrator had just given its author
    their password, `overriders_reset`; ``n_overrides`` of them) and the overrides a later one of the same commune
    replaced (``replaced_overrides``, each with who replaced it and when), the approver's password likewise. What an
    inspector reads of how the year's classification was reached; nothing else reads the ended drafts or replaced
    overrides."""
    versions = [dict(v) for v in conn.execute(text(_VERSIONS), {"year": year}).mappings()]
    for version in versions:  # the draft's newest override, as find_run names it
        if version["status"] == "draft":
            version["last_override_by"], version["last_override_at"] = _last_override(conn, version["run_id"])
    standing: dict[int, list[dict[str, Any]]] = {v["run_id"]: [] for v in versions}
    replaced: dict[int, list[dict[str, Any]]] = {v["run_id"]: [] for v in versions}
    params = {"year": year, **scope.params}
    for statement, by_run in ((_VERSION_OVERRIDES, standing), (_REPLACED_OVERRIDES, replaced)):
        for row in conn.execute(text(statement.format(scope=scope.communes("o.commune_code"))), params).mappings():
            by_run[row["run_id"]].append({k: v for k, v in row.items() if k != "run_id"})
    entries = [entry for by_run in (standing, replaced) for run in by_run.values() for entry in run]
    for entry, given in zip(entries, overriders_reset(conn, [(e["by"], e["at"]) for e in entries]), strict=True):
        entry.update(given)
    return [
        {
            **v,
            **approver_reset(conn, v),
            **last_overrider_reset(conn, v),
            "n_overrides": len(standing[v["run_id"]]),
            "overrides": standing[v["run_id"]],
            "replaced_overrides": replaced[v["run_id"]],
            "in_force_until": _in_force_until(versions, v),
        }
        for v in versions
    ]


def _in_force_until(versions: Sequence[Mapping[str, Any]], v: Mapping[str, Any]) -> int | None:
    """An approved version no longer in force: the version of the next one approved (its correction); None for the
    one in force and for a version never approved. A history listed two «Đã phê duyệt» and said not which applied."""
    if v["status"] != "approved":
        return None
    later = [w["version"] for w in versions if w["status"] == "approved" and w["version"] > v["version"]]
    return min(later, default=None)


def approve(
    conn: Connection,
    year: int,
    *,
    actor: str,
    four_eyes: bool = True,
    seen: tuple[int, datetime | None] | None = None,
) -> dict[str, Any]:
    """Approve the year's draft: from now on it is an immutable snapshot naming both who last overrode a class
    (and when) and who approved (and when). With ``four_eyes`` neither the planner who ran the draft (a correction
    too) nor one whose override stands in it may approve it (check_four_eyes); ``seen``, the draft as the approver
    read it (run id, newest override instant), must still be the draft (check_seen). A draft of a year that has not
    begun (check_year_begun: one stored before runs of such years were refused) is never approved, nor one whose
    year's indicator table was loaded again after it was run (check_indicators_unchanged: run the year again); an
    import being written is waited for, then refused so, and one that begins waits for the approval (hold_indicators)."""
    hold_indicators(conn)  # before the draft's row: every holder takes the two in this order
    draft = _draft(conn, year)
    check_year_begun(year)
    last_by, last_at = _last_override(conn, draft["id"])
    if seen is not None:
        check_seen(year, (draft["id"], last_at), seen)
    check_indicators_unchanged(year, draft["version"], indicators_reloaded(conn, draft))
    if four_eyes:
        own, own_at = conn.execute(
            text(
                "SELECT count(*), max(override_at) FROM classification_results"
                " WHERE run_id = :id AND method = 'override' AND override_by = :actor"
            ),
            {"id": draft["id"], "actor": actor},
        ).one()
        check_four_eyes(actor, draft["created_by"], own, own_at)
    run = dict(
        conn.execute(
            text(
                "UPDATE classification_runs SET status = 'approved', approved_by = :actor, approved_at = now(),"
                f" last_override_by = :last_by, last_override_at = :last_at WHERE id = :id RETURNING {_RUN_COLUMNS}"
            ),
            {"actor": actor, "id": draft["id"], "last_by": last_by, "last_at": last_at},
        )
        .mappings()
        .one()
    )
    return run | approver_reset(conn, run) | last_overrider_reset(conn, run)


def approver_reset(conn: Connection, run: Mapping[str, Any]) -> dict[str, Any]:
    """``approver_password_reset_by/at``: who gave an approved run's approver the password they held and when — a
    reset, or the account's creation (`recent_reset`) — within :data:`~models.domain.access.RECENT_RESET_DAYS` before
    the approval (None when not): whoever held the one-time password could have approved as that planner, around four
    eyes — the approval's record says so."""
    return password_given(conn, run["approved_by"], run["approved_at"], "approver")


def overriders_reset(conn: Connection, overrides: Sequence[tuple[object, datetime | None]]) -> list[dict[str, Any]]:
    """``overrider_password_reset_by/at`` of each override (by, at), in one statement: the same as `approver_reset`
    of an override by ``by`` at ``at``: an override decides a commune's class as an approval decides the year's, and
    whoever held the one-time password could have made it as that planner — a colleague's approval then passed four
    eyes on it. Only approvals were marked. Nobody named (a commune not overridden: None, NaN) has None."""
    named = [(by, at) if isinstance(by, str) else (None, None) for by, at in overrides]  # a frame's NaN and NaT
    return passwords_given(conn, named, "overrider")


def last_overrider_reset(conn: Connection, run: Mapping[str, Any]) -> dict[str, Any]:
    """``last_overrider_password_reset_by/at``: the same (`overriders_reset`) of the run's newest override, the one its
    line names («điều chỉnh lần cuối»): that line named the author alone, each override's own line said it."""
    return password_given(conn, run["last_override_by"], run["last_override_at"], "last_overrider")


def password_given(conn: Connection, username: str | None, at: datetime | None, who: str) -> dict[str, Any]:
    """``{who}_password_reset_by/at``: who gave ``username`` the password they held at ``at`` and when, a reset or the
    account's creation within RECENT_RESET_DAYS before (`recent_reset`); None when none, or nobody is named (a draft's
    approver, an override set by hand)."""
    return passwords_given(conn, [(username, at)], who)[0]


def passwords_given(conn: Connection, asked: Sequence[tuple[str | None, datetime | None]], who: str) -> list[dict]:
    """:func:`password_given` of each (username, at), in one statement (`recent_resets`)."""
    return [{f"{who}_password_reset_by": g.by, f"{who}_password_reset_at": g.at} for g in recent_resets(conn, asked)]


#: The version of a result's unit: the one valid on the run's `units_valid_on` (a year classified on its own
#: units, see gis.store.indicators.yearly_indicators), else the current one — or, for a unit closed since the run
#: (merged away by a later reorganisation), its last version: the run's record keeps its name, boundary and
#: province (before, the approved results of the commune lost their names in the exports, vanished from the classes
#: map, and the KPI report counted them in a province of their own, «None»).
_RUN_DAY = "CAST(run.params ->> 'units_valid_on' AS date)"
_LAST_VERSION = (
    "(SELECT v.id FROM admin_units v WHERE v.code = r.commune_code ORDER BY v.valid_to DESC NULLS FIRST LIMIT 1)"
)
_RUN_UNIT = (
    "JOIN classification_runs run ON run.id = r.run_id"
    " {join} admin_units u ON u.code = r.commune_code AND CASE WHEN run.params ? 'units_valid_on'"
    f" THEN {valid_on('u', _RUN_DAY)} ELSE u.id = {_LAST_VERSION} END"
)


def run_results(conn: Connection, run_id: int, scope: AreaScope = UNRESTRICTED) -> pd.DataFrame:
    """Every commune's result of a run in the scope with its name and its province's, ordered by commune code."""
    rows = conn.execute(
        text(
            f"SELECT r.{', r.'.join(RESULT_COLUMNS)}, u.name, u.full_name, p.name FROM classification_results r"
            f" {_RUN_UNIT.format(join='LEFT JOIN')} LEFT JOIN provinces p ON p.code = u.province_code"
            f" WHERE r.run_id = :run_id AND {scope.communes('r.commune_code')} ORDER BY r.commune_code"
        ),
        {"run_id": run_id, **scope.params},
    ).all()
    return pd.DataFrame(rows, columns=[*RESULT_COLUMNS, "name", "full_name", "province"])


def final_classes(
    conn: Connection, year: int, approved_only: bool = True, scope: AreaScope = UNRESTRICTED
) -> pd.DataFrame | None:
    """commune_code, category, level, incomplete of the communes in ``scope`` in a year's newest approved run (None
    when there is none)."""
    run = find_run(conn, year, approved_only=approved_only)
    return None if run is None else run_classes(conn, run["id"], scope)


def run_classes(conn: Connection, run_id: int, scope: AreaScope = UNRESTRICTED) -> pd.DataFrame:
    """commune_code, category, level, incomplete of the communes in ``scope`` in one run (the version a report was
    asked for)."""
    rows = conn.execute(
        text(
            "SELECT commune_code, category, level, incomplete FROM classification_results"
            f" WHERE run_id = :id AND {scope.communes('commune_code')}"
        ),
        {"id": run_id, **scope.params},
    ).all()
    return pd.DataFrame(rows, columns=["commune_code", "category", "level", "incomplete"])


def drug_free_by_province(conn: Connection, run_id: int) -> list[dict[str, Any]]:
    """Per province of a run's communes: units, drug-free units and units with missing data (province None: units
    that name none)."""
    rows = conn.execute(
        text(f"""
        SELECT u.province_code, p.name AS province, count(*) AS units,
               count(*) FILTER (WHERE r.category = '{Category.DRUG_FREE}') AS drug_free,
               count(*) FILTER (WHERE r.incomplete) AS incomplete
        FROM classification_results r
        {_RUN_UNIT.format(join="LEFT JOIN")}
        LEFT JOIN provinces p ON p.code = u.province_code
        WHERE r.run_id = :run_id GROUP BY u.province_code, p.name ORDER BY u.province_code"""),
        {"run_id": run_id},
    ).mappings()
    return [dict(r) for r in rows]


#: What a map of the classes needs of each commune (``detail=False``): its names and class.
_MAP_PROPERTIES = """'code', r.commune_code, 'name', u.name, 'full_name', u.full_name,
                'category', r.category, 'level', r.level, 'incomplete', r.incomplete"""
#: Everything else a run holds of a commune: the opinions, the override, the criteria and the reasons.
_DETAIL_PROPERTIES = """, 'method', r.method, 'possible_level', r.possible_level,
                'data_status', CASE WHEN r.incomplete THEN CAST(:missing_label AS text) END,
                'legal_category', r.legal_category, 'legal_level', r.legal_level,
                'learned_category', r.learned_category, 'risk_next_year', r.risk_next_year,
                'leaving_drug_free', r.leaving_drug_free, 'override_reason', r.override_reason,
                'override_by', r.override_by, 'override_at', r.override_at,
                'criteria', r.criteria, 'indicators', r.indicators, 'sources', r.sources,
                'explanation', r.explanation"""


def classification_geojson_text(
    conn: Connection,
    run_id: int,
    simplify_m: float = 0.0,
    scope: AreaScope = UNRESTRICTED,
    detail: bool = True,
    current_geometry: bool = True,
) -> str:
    """GeoJSON features of a run's communes in the scope, assembled in PostGIS (simplified on request), as the JSON
    text of an array: an answer passes it on as written, not decoded into Python objects to be encoded again. Without
    ``detail``, only what a map of the classes shows (Hải Phòng at 20 m: 1.17 MB with every criterion, 0.41 MB
    without; compressed 205 and 127 KB). Without ``current_geometry`` the current units' features have a null
    geometry (a page that has drawn the current units from /api/communes paints them by code: nation-wide the
    planner page downloaded the 3,321 units' shapes twice); only a year classified on its period's units, no longer
    current, keeps theirs."""
    where = scope.communes("r.commune_code")
    properties = _MAP_PROPERTIES + (_DETAIL_PROPERTIES if detail else "")
    return conn.execute(
        text(f"""
        SELECT CAST(coalesce(json_agg(json_build_object(
            'type', 'Feature', 'id', r.commune_code,
            'geometry', CASE WHEN :current_geometry OR NOT {current_unit("u")} THEN
                {display_geojson("u.geom")} END,
            'properties', json_build_object({properties})
        ) ORDER BY r.commune_code), '[]') AS text)
        FROM classification_results r
        {_RUN_UNIT.format(join="JOIN")}
        WHERE r.run_id = :run_id AND {where}"""),
        {
            "run_id": run_id,
            "current_geometry": current_geometry,
            **display_params(simplify_m),
            "missing_label": MISSING_DATA_LABEL,
            **scope.params,
        },
    ).scalar_one()
