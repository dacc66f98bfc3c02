"""`diaban classify …`: yearly commune classification (run, review, override, approve, discard, history, export, kpi,
evaluate)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli.audit import record_command_read
from api.cli.vi import (
    SCENARIO_INCIDENTS,
    SCENARIO_YEARS,
    cli_int,
    cli_name,
    cli_output_file,
    naming_file,
    parser_options,
)
from models.domain.dates import vn_day, vn_time
from models.numbers import vn_number, vn_percent
from models.vocabulary import (
    DRAFT_ENDED_BY,
    MISSING_DATA_LABEL,
    NO_PREVIOUS_YEAR,
    OVERRIDE_UNDONE,
    UNKNOWN_PERSON,
    Category,
    Level,
    RunStatus,
    UnitBasis,
    class_label,
    version_status_label,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

#: Review lines printed on the terminal.
SHOWN_REVIEW = 30


def _class_name(key: str) -> str:
    """A class as count_classes names it ('trong_diem_I', 'at_risk') by its Vietnamese label: `classify run` printed
    the machine codes."""
    for category in Category.values():
        if key == category or key.startswith(f"{category}_"):
            return class_label(category, key[len(category) + 1 :] or None)
    return key


def as_planner(conn: Connection, args: argparse.Namespace, commune: str | None = None) -> str:
    """The planner account `--as-user` names, which the command's change of the year's classification is made as
    (gis.services.classification.command_line_planner); the access log keeps the operating-system user who ran the
    command beside it."""
    from gis.services.classification import command_line_planner

    planner = command_line_planner(conn, args.as_user, args.year, args.action, commune)
    record_command_read(conn, f"diaban classify {args.action}", vars(args), 1)
    return planner.username


def cmd_run(args: argparse.Namespace) -> int:
    """Create a draft (or a correction of an approved year) as a planner account and print its class counts."""
    from gis.services.classification import draft_year
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        run = draft_year(
            conn, args.year, actor=as_planner(conn, args), replace=args.replace, note=args.note, basis=args.units
        )
    kind = "bản hiệu chỉnh" if run["supersedes_id"] else "bản nháp"
    print(
        f"Năm {run['year']}: {kind} phiên bản {run['version']} (lần chạy #{run['id']}, tiêu chí {run['rules_version']})"
    )
    if run["replaced"]:  # --replace: what it dropped, which the page's confirmation says before
        dropped = run["replaced"]["overrides"]
        lost = f", cùng {vn_number(dropped)} điều chỉnh thủ công trong đó" if dropped else ""
        print(f"  thay bản nháp phiên bản {run['replaced']['version']}{lost} (còn trong lịch sử phiên bản)")
    if run["carried"]:  # a correction keeps the approved version's overrides, its runner's now
        print(
            f"  giữ {vn_number(len(run['carried']))} điều chỉnh của bản đã duyệt (nay do bạn điều chỉnh, lý do ghi lại"
            " lý do cũ; điều chỉnh lại xã nào không còn cần)"
        )
    for name, count in run["counts"].items():
        print(f"  {_class_name(name)}: {vn_number(count)}")
    unplaced = run["ambiguous_incidents"]
    if unplaced:
        print(f"{vn_number(len(unplaced))} vụ việc không tính vào xã nào (xã cũ đã bị chia, cần xác định lại):")
        for item in unplaced[:SHOWN_REVIEW]:
            print(f"  {item['ref']} — xã cũ {item['legacy_code']}, có thể thuộc: {', '.join(item['candidate_codes'])}")
        if len(unplaced) > SHOWN_REVIEW:
            print(
                f"  … và {vn_number(len(unplaced) - SHOWN_REVIEW)} vụ việc khác (đủ danh sách: tệp --rejects của lần nhập vụ việc)"
            )
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """Print the communes to review first: disagreements, changes, likely to leave drug-free."""
    from gis.services.classification import review
    from gis.store.db import get_engine
    from models.domain.classification import changed_count, indicators_reloaded_text

    with get_engine().connect() as conn:
        run, items = review(conn, args.year, args.version)
    changed = changed_count(items)
    print(
        f"Năm {args.year} phiên bản {run['version']} ({RunStatus(run['status']).label.lower()}):"
        f" {vn_number(int(items['disagreement'].sum()))} khác biệt tiêu chí/mô hình, "
        + (NO_PREVIOUS_YEAR if changed is None else f"{vn_number(changed)} thay đổi so với năm trước")
    )
    if run.get("indicators_reloaded"):  # a draft older than its year's figures, as the planner page says
        print(indicators_reloaded_text(args.year, run["version"], run["indicators_reloaded"]))
    for row in items.head(args.limit).to_dict("records"):
        print(review_line(row))
    return 0


def review_line(row: dict[str, Any]) -> str:
    """One commune of `classify review`: its class, what is missing, the model's opinion, why it is listed, and an
    override's author whose password an administrator had just given (``overrider_password_reset_by/at``)."""
    flags = "; ".join(row["flags"]) or "—"
    missing = f" [{row['data_status']}: {', '.join(row['missing_criteria'])}]" if row["incomplete"] else ""
    learned = row["learned_category"]
    given = row.get("overrider_password_reset_by")  # NaN in the review's frame where nobody overrode
    taken = (
        f"; {given_password('điều chỉnh', given, row['overrider_password_reset_at'])}" if isinstance(given, str) else ""
    )
    return (
        f"  {row['commune_code']} {row['name']}: {class_label(row['category'], row['level'])}{missing}"
        f" (mô hình: {Category(learned).label if isinstance(learned, str) else 'không rõ'}) — {flags}{taken}"
    )


def given_password(role: str, by: str, at: datetime) -> str:
    """«mật khẩu người {role} do quản trị viên … cấp ngày …»: the approver («duyệt») or an override's author («điều
    chỉnh») held a password an administrator had just given (gis.store.classifications.password_given), which whoever
    held it could have used to decide as them."""
    return f"mật khẩu người {role} do quản trị viên {by} cấp ngày {vn_day(at)}"


def cmd_override(args: argparse.Namespace) -> int:
    """Override one commune's class in the draft, with its reason, as a planner account."""
    from gis.store.classifications import override
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        actor = as_planner(conn, args, args.commune)
        row = override(conn, args.year, args.commune, args.category, args.level, args.reason, actor=actor)
    print(
        f"Đã điều chỉnh {row['commune_code']}: {class_label(row['category'], row['level'])} (lý do: {row['override_reason']})"
    )
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    """Approve the year's draft as a planner account (four eyes: not the one who ran or overrode in it)."""
    from gis.settings import ClassificationSettings
    from gis.store.classifications import approve
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        run = approve(conn, args.year, actor=as_planner(conn, args), four_eyes=ClassificationSettings().four_eyes)
    print(approved_line(run))
    return 0


def cmd_discard(args: argparse.Namespace) -> int:
    """Discard the year's draft as a planner account (a correction started by mistake: the approved version stays the
    year's result)."""
    from gis.store.classifications import discard_draft, find_run
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        run = discard_draft(conn, args.year, actor=as_planner(conn, args))
        approved = find_run(conn, args.year, approved_only=True)
    lost = f", cùng {run['overrides']} điều chỉnh" if run["overrides"] else ""
    stays = (
        f"kết quả năm là phiên bản {approved['version']} đã phê duyệt" if approved else "năm chưa có kết quả phân loại"
    )
    print(f"Đã bỏ bản nháp năm {run['year']} phiên bản {run['version']}{lost}; {stays}")
    return 0


def in_force_words(v: dict[str, Any]) -> str:
    """Which approved version applies, after its state: «, đang áp dụng» or «, đã được thay bằng phiên bản 2»."""
    if v["status"] != "approved":
        return ""
    return ", đang áp dụng" if v["in_force_until"] is None else f", đã được thay bằng phiên bản {v['in_force_until']}"


def history_lines(year: int, versions: list[dict[str, Any]]) -> list[str]:
    """The history of a year's versions as `classify history` prints it (gis.store.classifications.run_history): each
    version with its state, who ran, approved, discarded or replaced it and when, then each of its overrides."""
    if not versions:
        return [f"Năm {year} chưa có phiên bản phân loại nào"]
    lines = [f"Lịch sử phiên bản phân loại năm {year} ({len(versions)} phiên bản, mới nhất trước):"]
    for v in versions:
        done = [f"chạy bởi {v['created_by']}, {vn_time(v['created_at'])}"]
        if v["approved_by"]:
            done.append(f"phê duyệt bởi {v['approved_by']}, {vn_time(v['approved_at'])}")
        if v["approver_password_reset_by"]:  # a reset or a new account: its one-time password could approve
            done.append(given_password("duyệt", v["approver_password_reset_by"], v["approver_password_reset_at"]))
        if v["ended_by"]:
            done.append(f"{DRAFT_ENDED_BY[v['status']]} {v['ended_by']}, {vn_time(v['ended_at'])}")
        # The run's number tells apart a replaced draft from the one replacing it, which takes its version number.
        correction = ", hiệu chỉnh kết quả đã phê duyệt" if v["supersedes_id"] else ""
        lines.append(
            f"Phiên bản {v['version']} (lần chạy #{v['run_id']}{correction}) — {version_status_label(v['status'])}"
            f"{in_force_words(v)}:"
            f" {'; '.join(done)};"
            f" {v['n_overrides']} điều chỉnh"
        )
        for o in v["overrides"]:
            lines.append(f"  {_override_line(o)}")
        for o in v["replaced_overrides"]:
            lines.append(f"  ({_replaced(o)}, {vn_time(o['replaced_at'])}) {_override_line(o)}")
    return lines


def _replaced(o: dict[str, Any]) -> str:
    """What replaced an override: a later one by a planner, or a change made by hand in the database."""
    if o["replaced_by"] is None:
        return f"{OVERRIDE_UNDONE} ({UNKNOWN_PERSON})"
    return f"đã bị thay bằng điều chỉnh sau của {o['replaced_by']}"


def _override_line(o: dict[str, Any]) -> str:
    """One override of a history: the commune, its class before and after, the reason, who and when, and whether an
    administrator had just given its author their password (as an approval's)."""
    given = o.get("overrider_password_reset_by")
    taken = f"; {given_password('điều chỉnh', given, o['overrider_password_reset_at'])}" if given else ""
    return (
        f"{o['commune_code']} {o['name'] or ''}: {class_label(o['from_category'], o['from_level'])}"
        f" → {class_label(o['to_category'], o['to_level'])} (lý do: {o['reason']}; {o['by'] or UNKNOWN_PERSON},"
        f" {vn_time(o['at'])}{taken})"
    )


def cmd_history(args: argparse.Namespace) -> int:
    """Print every version of the year — approved, the draft, discarded or replaced drafts — with their overrides."""
    from gis.store.classifications import run_history
    from gis.store.db import get_engine

    with get_engine().connect() as conn:
        versions = run_history(conn, args.year)
    print("\n".join(history_lines(args.year, versions)))
    return 0


def approved_line(run: dict[str, Any]) -> str:
    """What `classify approve` prints: the year, version, approver and Hải Phòng day of the approval (the instant as
    the database session gave it printed its UTC day before 07:00 there, the day before the exports' date)."""
    return f"Đã phê duyệt năm {run['year']} phiên bản {run['version']} ({run['approved_by']}, {vn_day(run['approved_at'])})"


def cmd_export(args: argparse.Namespace) -> int:
    """Write the classification as CSV, GeoJSON or Excel to --out or standard output."""
    from gis.services.classification import export_classification
    from gis.store.db import get_engine
    from gis.store.scoping import AreaScope

    with get_engine().begin() as conn:
        scope = AreaScope(province_code=args.province)
        export = export_classification(
            conn,
            args.year,
            args.format,
            args.version,
            raw=args.raw,
            scope=scope,
            issuer=args.province,
            by=getpass.getuser(),
        )
        record_command_read(conn, "diaban classify export", vars(args), export.rows)
    if args.out:
        with naming_file(args.out):
            args.out.write_bytes(export.content)
        print(f"Đã ghi {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(export.content)
    return 0


def cmd_kpi(args: argparse.Namespace) -> int:
    """Print the year's KPIs (in Vietnamese, the Excel report's words; ``--json``: the API's JSON) and optionally write
    the administrative Excel report."""
    from gis.io.exports import kpi_lines
    from gis.services.reports import kpi_report, kpi_report_xlsx
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        report = kpi_report(conn, args.year, args.province, args.version)
        if args.xlsx:
            export = kpi_report_xlsx(
                conn, args.year, args.province, args.version, issuer=args.province, by=getpass.getuser()
            )
            record_command_read(conn, "diaban classify kpi --xlsx", vars(args), export.rows)
            with naming_file(args.xlsx):
                args.xlsx.write_bytes(export.content)
    print(json.dumps(report, ensure_ascii=False, default=str, indent=2) if args.json else "\n".join(kpi_lines(report)))
    return 0


#: The evaluation's measures as the command line names them (PAI and PEI keep the literature's names).
_METRIC_NAMES = {"pai": "PAI", "pei": "PEI", "hit_rate": "tỷ lệ trúng"}


def _metric_column(column: str) -> str:
    """A summary table's column (``pai@5%``) as printed (``PAI@5 %``): the coverage as vn_percent writes it, as the
    verdicts do («ở mức 5 %»)."""
    metric, _, coverage = column.partition("@")
    return f"{_METRIC_NAMES.get(metric, metric)}@{vn_percent(float(coverage.removesuffix('%')) / 100, 0)}"


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate forecasts on synthetic scenarios against baselines and print the leaderboards with intervals: next
    year per commune, then the next 4 weeks per patrollable cell (the SEPP model)."""
    import pandas as pd

    from gis.reference import load_rules
    from gis.services.boundary_import import read_boundary_file
    from gis.settings import DataSettings
    from models.forecast.evaluation import (
        BASELINES,
        GLOSSARY,
        METHOD_LABELS,
        MODEL,
        evaluate_forecasts,
        summary_table,
        verdict,
    )
    from models.forecast.grid_evaluation import BASELINES as GRID_BASELINES
    from models.forecast.grid_evaluation import CELL_M, HELD_OUT_WEEKS, HORIZON_WEEKS, evaluate_grid
    from models.forecast.grid_evaluation import METHOD_LABELS as GRID_LABELS
    from models.forecast.grid_evaluation import MODEL as GRID_MODEL
    from models.forecast.intervals import format_leaderboard, leaderboard, verdict_line

    communes = read_boundary_file(args.boundaries or DataSettings().boundary_file())
    long = evaluate_forecasts(communes, args.seeds, load_rules(), years=args.years, n_incidents=args.incidents)
    table = summary_table(long)
    held_out = sorted(long["year"].unique())
    seeds = ", ".join(str(seed) for seed in args.seeds)
    tested = f"năm {held_out[0]}" if len(held_out) == 1 else f"các năm {held_out[0]}–{held_out[-1]}"
    print(
        f"Kịch bản GIẢ LẬP, hạt giống {seeds}, {args.years} năm, {vn_number(args.incidents)} vụ mỗi kịch bản; "
        f"kiểm tra trên {tested}; trung bình theo hạt giống × năm"
    )
    print(GLOSSARY)
    shown = table.rename(index=METHOD_LABELS, columns=_metric_column).rename_axis("Phương pháp")
    with pd.option_context("display.width", 200, "display.max_columns", None):
        # pandas writes decimal points («10.900» reads ten thousand nine hundred): each figure as vn_number writes it.
        print(shown.to_string(float_format=lambda value: vn_number(value, 3, fixed=True), na_rep=MISSING_DATA_LABEL))
    print(verdict(table))
    yearly = leaderboard(long, MODEL, BASELINES, unit="year")
    print(format_leaderboard(yearly, MODEL, METHOD_LABELS))
    print(verdict_line(yearly, MODEL, METHOD_LABELS))
    grid = evaluate_grid(communes, args.seeds, years=args.grid_years, n_incidents=args.incidents)
    board = leaderboard(grid, GRID_MODEL, GRID_BASELINES)
    print(
        f"\nLưới tuần tra {vn_number(CELL_M)} m, dự báo {HORIZON_WEEKS} tuần, kịch bản GIẢ LẬP có tự kích thích, dịch chuyển"
        f" và sai số định vị, hạt giống {seeds}, {args.grid_years} năm; {HELD_OUT_WEEKS} tuần cuối để kiểm tra;"
        " chênh lệch ghép cặp với khoảng tin cậy bootstrap 95 % theo hạt giống × kỳ"
    )
    print(format_leaderboard(board, GRID_MODEL, GRID_LABELS))
    print(verdict_line(board, GRID_MODEL, GRID_LABELS))
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `diaban classify` and its actions to the main parser."""
    group = sub.add_parser(
        "classify",
        help="phân loại xã, phường hằng năm (QĐ 28/2025), rà soát, chỉ tiêu",
        **parser_options("Phân loại địa bàn hằng năm: tính, rà soát, điều chỉnh, phê duyệt, xuất."),
    )
    actions = group.add_subparsers(
        dest="action", required=True, metavar="run|review|override|approve|discard|history|export|kpi|evaluate"
    )

    def action(
        name: str,
        func: Callable[[argparse.Namespace], int],
        help_text: str,
        *,
        year: bool = True,
        version: bool = False,
        as_user: bool = False,
    ) -> argparse.ArgumentParser:
        """One `classify` action with its common options; ``as_user``: a change made as a planner account."""
        parser = actions.add_parser(name, help=help_text, **parser_options(help_text[:1].upper() + help_text[1:] + "."))
        if year:
            parser.add_argument("--year", type=int, required=True, help="năm phân loại")
        if version:
            parser.add_argument(
                "--version", type=int, help="phiên bản (mặc định: bản đã phê duyệt mới nhất, nếu chưa có thì bản nháp)"
            )
        if as_user:
            parser.add_argument(
                "--as-user",
                required=True,
                type=cli_name("tên đăng nhập của một tài khoản cán bộ tham mưu"),
                help="tài khoản cán bộ tham mưu thực hiện (đang hoạt động, đã đổi mật khẩu được cấp): thay đổi được ghi"
                " dưới tên tài khoản này và xét theo nguyên tắc bốn mắt",
            )
        parser.set_defaults(func=func)
        return parser

    run = action(
        "run",
        cmd_run,
        "tính bản nháp (tiêu chí + mô hình + dự báo), hoặc bản hiệu chỉnh của năm đã phê duyệt",
        as_user=True,
    )
    run.add_argument("--replace", action="store_true", help="bỏ bản nháp hiện có của năm")
    run.add_argument("--note", help="ghi chú của lần tính")
    run.add_argument(
        "--units",
        choices=UnitBasis.values(),
        default=UnitBasis.TODAY.value,
        help="today: tính trên các xã, phường hiện nay; period: trên các đơn vị có hiệu lực ngày cuối năm "
        "(ranh giới cũ nhập bằng boundaries import --valid-to)",
    )
    review = action("review", cmd_review, "các xã cần rà soát trước", version=True)
    review.add_argument("--limit", type=cli_int(0), default=SHOWN_REVIEW, help="số dòng in ra")
    over = action(
        "override", cmd_override, "điều chỉnh phân loại một xã trong bản nháp (bắt buộc nêu lý do)", as_user=True
    )
    over.add_argument("--commune", required=True, help="mã xã, phường")
    over.add_argument(
        "--category",
        required=True,
        choices=Category.values(),
        help="; ".join(f"{code} = {label}" for code, label in Category.labels().items()),
    )
    over.add_argument("--level", choices=Level.values(), help="loại (chỉ với trong_diem)")
    over.add_argument("--reason", required=True, help="lý do điều chỉnh")
    action("approve", cmd_approve, "phê duyệt bản nháp của năm (sau đó không sửa được)", as_user=True)
    action(
        "discard",
        cmd_discard,
        "bỏ bản nháp của năm cùng các điều chỉnh trong đó (bản đã phê duyệt giữ nguyên; bản bỏ còn trong lịch sử)",
        as_user=True,
    )
    action(
        "history",
        cmd_history,
        "lịch sử phiên bản của năm: bản đã phê duyệt, bản nháp, bản đã bỏ, đã thay thế, cùng các điều chỉnh",
    )
    export = action("export", cmd_export, "xuất kết quả phân loại của năm", version=True)
    export.add_argument("--format", choices=["csv", "geojson", "xlsx"], default="csv", help="định dạng")
    export.add_argument("--out", type=cli_output_file, metavar="TỆP", help="tệp ghi (mặc định: đầu ra chuẩn)")
    export.add_argument(
        "--raw",
        action="store_true",
        help="CSV/GeoJSON cho chương trình (không để mở bằng Excel): tên cột máy, mã và giá trị nguyên dạng",
    )
    kpi = action("kpi", cmd_kpi, "chỉ tiêu của năm so với mục tiêu của tỉnh, thành phố hoặc toàn quốc", version=True)
    kpi.add_argument("--xlsx", type=cli_output_file, metavar="TỆP", help="ghi thêm báo cáo Excel vào tệp này")
    kpi.add_argument("--json", action="store_true", help="in dạng JSON như API (tên trường tiếng Anh, cho máy đọc)")
    for command in (export, kpi):
        command.add_argument(
            "--province",
            metavar="MÃ",
            help="chỉ một tỉnh, thành phố (ví dụ 31 = Hải Phòng), tệp Excel mang tên Công an tỉnh, thành phố đó; "
            "không ghi: mọi đơn vị (báo cáo toàn quốc, của Bộ Công an)",
        )
    evaluate = action(
        "evaluate",
        cmd_evaluate,
        "đánh giá dự báo so với các đường cơ sở, có khoảng tin cậy (dữ liệu giả lập)",
        year=False,
    )
    evaluate.add_argument("--seeds", type=cli_int(0), nargs="+", default=[1, 2, 3], help="các hạt giống kịch bản")
    evaluate.add_argument("--years", type=cli_int(*SCENARIO_YEARS), default=5, help="số năm mỗi kịch bản")
    evaluate.add_argument(
        "--incidents", type=cli_int(*SCENARIO_INCIDENTS), default=30_000, help="số vụ việc mỗi kịch bản"
    )
    evaluate.add_argument("--boundaries", type=Path, metavar="TỆP", help="tệp ranh giới (mặc định: DIABAN_BOUNDARIES)")
    evaluate.add_argument(
        "--grid-years", type=cli_int(*SCENARIO_YEARS), default=3, help="số năm của kịch bản đánh giá trên lưới tuần tra"
    )
