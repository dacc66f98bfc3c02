"""`diaban classify …`: yearly commune classification (run, review, override, approve, export, kpi, evaluate)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path

from api.cli.audit import record_command_read
from gis.store.db import get_engine
from models.vocabulary import Category, Level, class_label

#: Review lines printed on the terminal.
SHOWN_REVIEW = 30


def cmd_run(args: argparse.Namespace) -> int:
    """Create a draft (or a correction of an approved year) and print its class counts."""
    from gis.services.classification import draft_year

    with get_engine().begin() as conn:
        run = draft_year(conn, args.year, actor=getpass.getuser(), replace=args.replace, note=args.note)
    kind = "bản hiệu chỉnh" if run["supersedes_id"] else "bản nháp"
    print(f"Năm {run['year']}: {kind} phiên bản {run['version']} (run #{run['id']}, tiêu chí {run['rules_version']})")
    for name, count in run["counts"].items():
        print(f"  {name}: {count}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """Print the communes to review first: disagreements, changes, likely to leave drug-free."""
    from gis.services.classification import review

    with get_engine().connect() as conn:
        run, items = review(conn, args.year, args.version)
    print(
        f"Năm {args.year} phiên bản {run['version']} ({run['status']}): {int(items['disagreement'].sum())} khác biệt"
        f" tiêu chí/mô hình, {int(items['changed'].sum())} thay đổi so với năm trước"
    )
    for row in items.head(args.limit).itertuples():
        flags = "; ".join(row.flags) or "—"
        print(
            f"  {row.commune_code} {row.name}: {class_label(row.category, row.level)}"
            f" (mô hình: {row.learned_category if isinstance(row.learned_category, str) else 'không rõ'}) — {flags}"
        )
    return 0


def cmd_override(args: argparse.Namespace) -> int:
    """Override one commune's class in the draft, with its reason."""
    from gis.store.classifications import override

    with get_engine().begin() as conn:
        row = override(conn, args.year, args.commune, args.category, args.level, args.reason, actor=getpass.getuser())
    print(
        f"Đã điều chỉnh {row['commune_code']}: {class_label(row['category'], row['level'])} (lý do: {row['override_reason']})"
    )
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    """Approve the year's draft."""
    from gis.store.classifications import approve

    with get_engine().begin() as conn:
        run = approve(conn, args.year, actor=getpass.getuser())
    print(
        f"Đã phê duyệt năm {run['year']} phiên bản {run['version']} ({run['approved_by']}, {run['approved_at']:%d/%m/%Y})"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the classification as CSV, GeoJSON or Excel to --out or standard output."""
    from gis.services.classification import export_classification

    with get_engine().begin() as conn:
        export = export_classification(conn, args.year, args.format, args.version)
        record_command_read(conn, "diaban classify export", vars(args), export.rows)
    if args.out:
        args.out.write_bytes(export.content)
        print(f"Đã ghi {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(export.content)
    return 0


def cmd_kpi(args: argparse.Namespace) -> int:
    """Print the year's KPIs (JSON) and optionally write the administrative Excel report."""
    from gis.services.reports import kpi_report, kpi_report_xlsx

    with get_engine().begin() as conn:
        report = kpi_report(conn, args.year)
        if args.xlsx:
            export = kpi_report_xlsx(conn, args.year)
            record_command_read(conn, "diaban classify kpi --xlsx", vars(args), export.rows)
            args.xlsx.write_bytes(export.content)
    print(json.dumps(report, ensure_ascii=False, default=str, indent=2))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate next-year forecasts on synthetic scenarios against baselines and print the table."""
    import geopandas as gpd
    import pandas as pd

    from gis.reference import load_rules
    from gis.settings import DataSettings
    from models.forecast.evaluation import evaluate_forecasts, summary_table, verdict

    communes = gpd.read_file(args.boundaries or DataSettings().boundaries)
    long = evaluate_forecasts(communes, args.seeds, load_rules(), years=args.years, n_incidents=args.incidents)
    table = summary_table(long)
    held_out = sorted(long["year"].unique())
    print(
        f"SYNTHETIC scenarios, seeds {args.seeds}, {args.years} years, {args.incidents:,} incidents each; "
        f"held-out years {held_out[0]}–{held_out[-1]}; means over seeds × years"
    )
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(table.round(3).to_string())
    print(verdict(table))
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `diaban classify` and its actions to the main parser."""
    group = sub.add_parser("classify", help="yearly commune classification (QĐ 28/2025), review, KPIs")
    actions = group.add_subparsers(dest="action", required=True)

    def action(
        name: str,
        func: Callable[[argparse.Namespace], int],
        help_text: str,
        *,
        year: bool = True,
        version: bool = False,
    ) -> argparse.ArgumentParser:
        """One `classify` action with its common options."""
        parser = actions.add_parser(name, help=help_text)
        if year:
            parser.add_argument("--year", type=int, required=True)
        if version:
            parser.add_argument("--version", type=int, help="default: newest approved, else the draft")
        parser.set_defaults(func=func)
        return parser

    run = action("run", cmd_run, "compute a draft (legal + learned + forecast), or a correction of an approved year")
    run.add_argument("--replace", action="store_true", help="discard the year's existing draft")
    run.add_argument("--note")
    review = action("review", cmd_review, "communes to review first", version=True)
    review.add_argument("--limit", type=int, default=SHOWN_REVIEW)
    over = action("override", cmd_override, "override a commune's class in the draft (reason required)")
    over.add_argument("--commune", required=True)
    over.add_argument("--category", required=True, choices=Category.values())
    over.add_argument("--level", choices=Level.values())
    over.add_argument("--reason", required=True)
    action("approve", cmd_approve, "approve the year's draft (immutable afterwards)")
    export = action("export", cmd_export, "export a year's classification", version=True)
    export.add_argument("--format", choices=["csv", "geojson", "xlsx"], default="csv")
    export.add_argument("--out", type=Path)
    kpi = action("kpi", cmd_kpi, "KPIs against the city's targets")
    kpi.add_argument("--xlsx", type=Path, help="also write the Excel report here")
    evaluate = action("evaluate", cmd_evaluate, "evaluate next-year forecasts vs baselines (synthetic)", year=False)
    evaluate.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    evaluate.add_argument("--years", type=int, default=5)
    evaluate.add_argument("--incidents", type=int, default=30_000)
    evaluate.add_argument("--boundaries", type=Path)
