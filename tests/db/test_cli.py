"""The command line as a user meets it: dates as printed, refused windows, libpq URLs, a busy port, Vietnamese help."""

from __future__ import annotations

import argparse
import codecs
import collections
import csv
import getpass
import http.client
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import Engine, text

from api.cli.classify import approved_line
from api.cli.main import build_parser
from gis.ops.postgres import ManagedCluster
from gis.ops.redis import free_port
from gis.store.db import SCHEMA_HEAD
from models.vocabulary import NO_PREVIOUS_YEAR, class_label, local_today
from tests.browser.vietnamese_text import foreign_words
from tests.conftest import SECOND_PROVINCE_FILE, SECOND_PROVINCE_UNITS, footprint, run_cli


@pytest.fixture
def cli(db_env: dict, monkeypatch: pytest.MonkeyPatch):
    """Run `diaban` in-process against the test database; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("DIABAN_DATABASE_URL", db_env["DIABAN_DATABASE_URL"])

    return run_cli


@pytest.fixture
def planners(engine: Engine) -> Iterator[None]:
    """Committed accounts that `classify run|override|approve|discard --as-user` may name (tham-muu-cli,
    tham-muu-cli-2), one whose administrator-given password is still to change (tham-muu-cli-moi), and one of another
    role (chi-huy-cli)."""
    from gis.store.accounts import create_user

    accounts = (
        ("tham-muu-cli", "planner", False),
        ("tham-muu-cli-2", "planner", False),
        ("tham-muu-cli-moi", "planner", True),
        ("chi-huy-cli", "command", False),
    )
    with engine.begin() as conn:
        for name, role, must_change in accounts:
            create_user(conn, name, "x", role, None, must_change_password=must_change)
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE username = ANY(:names)"), {"names": [a[0] for a in accounts]})


def _runs(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM detection_runs")).scalar_one()


def test_reversed_window_is_refused_and_records_nothing(cli, capsys, engine: Engine) -> None:
    before = _runs(engine)
    code, _, err = cli(capsys, "hotspots", "detect", "--from", "2026-10-01", "--to", "2026-01-01")
    assert code == 2 and "khoảng ngày đảo ngược" in err and "01/10/2026" in err
    assert _runs(engine) == before


def test_days_as_printed_are_accepted_and_the_window_is_printed_inclusive(cli, capsys, engine: Engine) -> None:
    before = _runs(engine)
    code, out, _ = cli(capsys, "hotspots", "detect", "--from", "01/07/2026", "--to", "30/09/2026")
    assert code == 0, out
    assert "01/07/2026–30/09/2026" in out and "01/10/2026" not in out
    assert _runs(engine) == before + 1
    with engine.begin() as conn:  # the run is real data of the session database: leave no trace for other tests
        conn.execute(text("DELETE FROM detection_runs WHERE id = (SELECT max(id) FROM detection_runs)"))


def test_a_run_of_the_past_is_refused_and_its_dry_run_writes_nothing(cli, capsys, engine: Engine) -> None:
    before = _runs(engine)
    code, out, _ = cli(capsys, "hotspots", "detect", "--from", "01/07/2026", "--to", "30/09/2026")
    assert code == 0, out
    try:
        code, _, err = cli(capsys, "hotspots", "detect", "--to", "31/08/2026")
        assert code == 3 and "31/08/2026" in err and "30/09/2026" in err and "--dry-run" in err, err
        code, out, _ = cli(capsys, "hotspots", "detect", "--to", "31/08/2026", "--days", "31", "--dry-run")
        assert code == 0 and out.startswith("Kiểm tra — chưa ghi gì") and "(kiểm tra, 01/08/2026–31/08/2026)" in out
        assert _runs(engine) == before + 1
        code, out, _ = cli(capsys, "hotspots", "detect", "--to", "31/08/2026", "--dry-run", "--json")
        summary = json.loads(out)  # no run number: the one drawn was rolled back, a script took it for a run recorded
        assert code == 0 and summary["dry_run"] is True and summary["run_id"] is None, out
        code, _, err = cli(capsys, "hotspots", "detect", "--days", "0")  # the bound a person reads, not 40.542
        assert code == 2 and "từ 1 đến 3.650" in err, err
    finally:
        with engine.begin() as conn:  # the run is real data of the session database: leave no trace for other tests
            conn.execute(text("DELETE FROM detection_runs WHERE id = (SELECT max(id) FROM detection_runs)"))


@pytest.mark.parametrize("bad", ["32/01/2026", "2026-13-01", "hôm qua"])
def test_a_wrong_day_is_a_usage_error_in_vietnamese(cli, capsys, bad: str) -> None:
    code, _, err = cli(capsys, "hotspots", "detect", "--from", bad)
    assert code == 2 and "lỗi: tham số --from: ngày" in err


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        (("classify", "kpi", "--year", "2025", "--out", "x"), "cách dùng: diaban classify kpi [-h] --year NĂM"),
        (("users", "list", "--bogus"), "cách dùng: diaban users list [-h] [--json]"),
        (("db", "status", "thừa"), "cách dùng: diaban db status [-h]"),
    ],
)
def test_an_unknown_argument_shows_the_usage_of_its_subcommand(
    cli, capsys, command: tuple[str, ...], usage: str
) -> None:
    """argparse leaves a subcommand's unknown arguments to the top parser, which showed «cách dùng: diaban [-h]
    LỆNH ...»: the refusal now shows the usage of the subcommand they were given to."""
    code, _, err = cli(capsys, *command)
    assert code == 2 and err.startswith(usage), err
    assert f"lỗi: tham số không nhận ra: {' '.join(command[-2:] if command[-1] == 'x' else command[-1:])}" in err


def test_db_url_for_psql_is_a_libpq_url(cli, capsys) -> None:
    code, out, _ = cli(capsys, "db", "url", "--psql")
    url = out.strip()
    assert code == 0 and url.startswith("postgresql://") and "+psycopg" not in url
    psql = subprocess.run(["psql", url, "-tAc", "SELECT 42"], capture_output=True, text=True, timeout=30)
    assert psql.stdout.strip() == "42", psql.stderr


def test_serve_on_a_busy_port_says_so_and_never_announces(db_env: dict) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            env={**db_env, "DIABAN_WARM_CONNECTIONS": "0"},
            capture_output=True,
            text=True,
            timeout=120,
            cwd=os.getcwd(),
        )
    assert proc.returncode == 1
    assert f"không mở được cổng {port} trên 127.0.0.1 (cổng đang bận: chọn --port khác)" in proc.stderr
    assert "đang phục vụ" not in proc.stdout


def test_serve_on_an_address_that_is_none_of_this_machines_names_the_address(db_env: dict) -> None:
    """DIABAN_HOST=999.1.1.1 was said to be a busy port («cổng đang bận? chọn --port khác»): the host is wrong."""
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", "0"],
        env={**db_env, "DIABAN_WARM_CONNECTIONS": "0", "DIABAN_HOST": "999.1.1.1"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.getcwd(),
    )
    assert (proc.returncode, proc.stdout) == (1, ""), proc.stderr
    assert proc.stderr.strip() == (
        "Lỗi: không mở được cổng 0 trên 999.1.1.1 (địa chỉ không hợp lệ hoặc không thuộc máy này: sửa --host hoặc"
        " DIABAN_HOST)"
    ), proc.stderr


def test_serve_on_port_0_lets_the_system_choose_even_with_a_port_configured(db_env: dict) -> None:
    """`--port 0` is a port the system chooses: it was taken for «not given», and DIABAN_PORT (here a busy one)
    served instead."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", "0"],
            env={**db_env, "DIABAN_WARM_CONNECTIONS": "0", "DIABAN_PORT": str(busy)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            assert server.stdout is not None and server.stderr is not None
            announced = server.stdout.readline()
            assert announced.startswith("diaban đang phục vụ tại http://127.0.0.1:"), server.stderr.read()
            port = int(announced.split("127.0.0.1:")[1].split()[0])
            assert port not in (0, busy)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/health")
            assert connection.getresponse().status == 200
            connection.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(60)


def test_serve_with_workers_and_a_broken_setting_stops_before_any_worker(db_env: dict, tmp_path) -> None:
    broken = tmp_path / "criteria.toml"
    broken.write_text("this is [not toml", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", "0", "--workers", "2"],
        env={**db_env, "DIABAN_WARM_CONNECTIONS": "0", "DIABAN_CRITERIA_FILE": str(broken)},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.getcwd(),
    )
    assert proc.returncode != 0 and "đang phục vụ" not in proc.stdout
    # refused by the command itself (one error), not by two workers failing one after the other under the supervisor
    assert "Traceback" not in proc.stderr and "tiến trình phục vụ không khởi động được" not in proc.stderr
    assert f"không đọc được tệp tham chiếu {broken}" in proc.stderr


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("DIABAN_SECRET_KEY", "ngan-qua", "DIABAN_SECRET_KEY='***' quá ngắn: cần ít nhất 32 byte"),
        ("DIABAN_CACHE_URL", "cache-host:6379", "DIABAN_CACHE_URL='***' phải là địa chỉ Redis dạng redis://máy:6379/0"),
        ("DIABAN_TOKEN_MINUTES", "0", "DIABAN_TOKEN_MINUTES='0' phải lớn hơn hoặc bằng 1"),
        ("DIABAN_PHOTO_MAX_MB", "0", "DIABAN_PHOTO_MAX_MB='0' phải lớn hơn 0\n"),
    ],
)
def test_serve_with_a_setting_it_cannot_use_stops_in_one_line(
    db_env: dict, setting: str, value: str, said: str
) -> None:
    """Read only by the server: the key and the Redis URL were a traceback (exit 70), a token or photo limit of 0 a
    server nobody could log in to or attach a photo on; the key and the URL, which may hold secrets, are not echoed.
    Each is refused before the database is reached (here it cannot be) and the web application loaded: it took
    2.5 s to be said, now 0.4 s."""
    nowhere = "postgresql+psycopg://diaban@127.0.0.1:1/diaban"  # port 1: nothing listens there
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", "0"],
        env={**db_env, "DIABAN_DATABASE_URL": nowhere, "DIABAN_WARM_CONNECTIONS": "0", setting: value},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.getcwd(),
    )
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    assert proc.stderr.startswith(f"Lỗi cấu hình: {said}") and proc.stderr.count("\n") == 1, proc.stderr


def test_a_replica_url_that_is_no_postgresql_url_stops_the_server_in_one_line(db_env: dict) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", "0"],
        env={**db_env, "DIABAN_WARM_CONNECTIONS": "0", "DIABAN_REPLICA_URLS": "standby1:5432/diaban"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.getcwd(),
    )
    assert proc.returncode == 1 and proc.stdout == "", proc.stderr
    assert proc.stderr.startswith("Lỗi: DIABAN_REPLICA_URLS không phải địa chỉ PostgreSQL hợp lệ"), proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "standby1" not in proc.stderr, proc.stderr


def _tcp_sockets(port: int) -> dict[str, str]:
    """Inode → state ("0A" listening, "01" established) of this machine's IPv4 TCP sockets on local ``port``."""
    sockets = {}
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            sockets[fields[9]] = fields[3]
    return sockets


def _sockets_of(pid: int) -> set[str]:
    """Inodes of the sockets process ``pid`` holds open."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _parent(pid: int) -> int | None:
    """The parent of process ``pid`` (None once it has ended)."""
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def test_serve_workers_listen_on_sockets_of_their_own_and_share_the_connections(db_env: dict) -> None:
    """Each worker accepts on its own socket (SO_REUSEPORT): 40 connections opened one after another reach both.
    On the one socket uvicorn's workers share, the worker that waited last took them: 39/1, 39/1 and 40/0 in three
    runs, and under load the busier worker answered its users more slowly (issue 18)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
        env={**db_env, "DIABAN_WARM_CONNECTIONS": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its workers are in its process group, stopped with it
    )
    connections = []
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith(f"diaban đang phục vụ tại http://127.0.0.1:{port} (2 tiến trình)")
        for _ in range(40):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/health")
            assert connection.getresponse().read()
            connections.append(connection)
        states = _tcp_sockets(port)
        workers = [int(pid) for pid in os.listdir("/proc") if pid.isdigit() and _parent(int(pid)) == server.pid]
        held = {pid: collections.Counter(states[i] for i in _sockets_of(pid) if i in states) for pid in workers}
        listening = [i for pid in workers for i in _sockets_of(pid) if states.get(i) == "0A"]
    finally:
        for connection in connections:
            connection.close()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
    assert len(listening) == len(set(listening)) == 2, held  # one socket each, not one shared
    counts = sorted(held[pid]["01"] for pid in held if held[pid]["0A"])
    # Spread by the kernel's hash of each connection's addresses: either worker below 8 of 40 has a chance of 4 in
    # 100,000.
    assert len(counts) == 2 and sum(counts) == 40 and counts[0] >= 8, held


def test_help_is_vietnamese_with_formats_and_defaults(cli, capsys) -> None:
    code, out, _ = cli(capsys, "hotspots", "detect", "--help")
    out = " ".join(out.split())  # argparse wraps lines at the terminal width
    assert code == 0
    assert "cách dùng:" in out and "tùy chọn:" in out and "dd/mm/yyyy" in out and "(mặc định: 90)" in out


@pytest.mark.parametrize(
    ("what", "rows", "expected"),
    [
        (
            "incidents",
            "ref,occurred_at,lon,lat,kind\nV1,không-phải-ngày,106.68,20.86,tip\nV2,2025-01-01,106.68,20.86,x\n"
            "V3,2025-01-01,106.68,,tip\n",
            [
                "Vụ việc: đã nhập 0, bị loại 3\n",  # no zero count beside the outcome
                "dòng 2 [V1] Thời gian:",
                "dòng 3 [V2] Loại vụ việc:",
                "dòng 4 [V3] Kinh độ/Vĩ độ:",  # a pair refused together
            ],
        ),
        (
            "indicators",
            "year,commune_code,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route\n"
            "2025,31,nhiều,1,0,0,0\n",
            ["Chỉ số: đã nhập 0, bị loại 1\n", "dòng 2 [31] Dân số: Dân số phải là số nguyên"],
        ),
    ],
)
def test_an_import_prints_its_counts_and_rejected_columns_in_vietnamese(
    cli, capsys, tmp_path, what: str, rows: str, expected: list[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(rows)
    code, out, err = cli(capsys, what, "import", str(bad))
    assert code == 2, err
    assert "=" not in out.splitlines()[0], out  # no English key=value summary
    assert all(line in out for line in expected), out


def test_an_import_dry_run_prints_the_imports_report_after_saying_nothing_is_written(
    cli, capsys, tmp_path, engine: Engine
) -> None:
    """`--dry-run`: the same import rolled back, its summary and rejects as the import prints them (Vietnamese first
    line saying nothing was written; `"dry_run": true` in the JSON), its exit code too, and nothing stored."""
    path = tmp_path / "chi-so.csv"
    path.write_text(
        "year,commune_code,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route\n"
        "2025,10507,30000,1,0,0,0\n2025,10525,nhiều,1,0,0,0\n"
    )
    with engine.connect() as conn:
        before = footprint(conn)
    code, out, err = cli(capsys, "indicators", "import", str(path), "--dry-run")
    assert code == 0, err
    assert out.splitlines()[:2] == ["Kiểm tra — chưa ghi gì vào cơ sở dữ liệu", "Chỉ số: sẽ nhập 1, bị loại 1"], out
    assert "dòng 3 [10525] Dân số: Dân số phải là số nguyên" in out
    code, out, err = cli(capsys, "indicators", "import", str(path), "--dry-run", "--json")
    assert code == 0 and json.loads(out) == {"imported": 1, "rejected": 1, "flagged": 0, "dry_run": True}, out
    with engine.connect() as conn:
        assert footprint(conn) == before


def test_a_boundary_import_dry_run_says_nothing_is_written_and_writes_nothing(cli, capsys, engine: Engine) -> None:
    """`boundaries import --dry-run` as the other imports': the notice first, the import's counts, `"dry_run": true` in
    its JSON, and the second province's units neither stored nor recorded as an import run."""
    units = "SELECT count(*), coalesce(max(id), 0) FROM admin_units"
    with engine.connect() as conn:
        before = footprint(conn), tuple(conn.execute(text(units)).one())
    code, out, err = cli(capsys, "boundaries", "import", str(SECOND_PROVINCE_FILE), "--dry-run")
    assert code == 0, err
    assert out.splitlines() == [
        "Kiểm tra — chưa ghi gì vào cơ sở dữ liệu",
        f"Ranh giới, nếu nhập: thêm mới {SECOND_PROVINCE_UNITS}",
    ]
    code, out, err = cli(capsys, "boundaries", "import", str(SECOND_PROVINCE_FILE), "--dry-run", "--json")
    printed = json.loads(out)
    assert code == 0 and printed["dry_run"] is True and printed["inserted"] == SECOND_PROVINCE_UNITS, out
    with engine.connect() as conn:
        assert (footprint(conn), tuple(conn.execute(text(units)).one())) == before


@pytest.mark.parametrize(
    "command",
    [
        ("incidents", "import", "{dir}/vụ-việc.csv"),  # a folder named like the file
        ("incidents", "import", "{dir}/vụ-việc.geojson"),
        ("hotspots", "export", "--out", "{dir}/vụ-việc.csv"),  # the output path is a folder
    ],
)
def test_a_folder_given_for_a_file_is_bad_input_in_vietnamese(cli, capsys, tmp_path, command: tuple[str, ...]) -> None:
    (tmp_path / "vụ-việc.csv").mkdir()
    (tmp_path / "vụ-việc.geojson").mkdir()
    code, out, err = cli(capsys, *(part.format(dir=tmp_path) for part in command))
    assert code == 2, err
    assert err.splitlines()[-1].endswith("là một thư mục, không phải tệp") and "Lỗi nội bộ" not in err, err


@pytest.mark.parametrize(
    "command",
    [
        ("hotspots", "export", "--out", "/dev/full"),
        ("incidents", "import", "{rows}", "--rejects", "/dev/full"),
    ],
)
def test_a_full_disk_while_writing_the_output_is_bad_input_naming_the_file(
    cli, capsys, tmp_path, command: tuple[str, ...]
) -> None:
    """`/dev/full` opens but every write fails with ENOSPC, as a full disk does: a write error carries no file name
    of its own, and used to end as an internal error with a traceback."""
    rows = tmp_path / "vụ-việc.csv"
    rows.write_text("ref,occurred_at,lon,lat,kind\nDAY-2,hôm qua,1,2,tip\n")  # a reject only: the database is shared
    code, _, err = cli(capsys, *(part.format(rows=rows) for part in command))
    assert code == 2, err
    assert err.splitlines()[-1] == "Lỗi: hết chỗ trống trên đĩa khi ghi /dev/full" and "Lỗi nội bộ" not in err, err


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("DIABAN_ACCESS_LOG_DAYS", "0", "phải lớn hơn hoặc bằng 1"),
        ("DIABAN_LOG_LEVEL", "LOUD", "phải là một trong: DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("DIABAN_PORT", "tám nghìn", "phải là số nguyên"),
        ("DIABAN_PORT", "99999", "phải nhỏ hơn hoặc bằng 65535"),  # bind()'s OverflowError
        ("DIABAN_WORKERS", "0", "phải lớn hơn hoặc bằng 1"),
        ("DIABAN_STATEMENT_TIMEOUT_S", "-5", "phải lớn hơn hoặc bằng 0"),  # "database unreachable", exit 1
        ("DIABAN_ALLOWED_ORIGINS", "https://cong.local", 'phải là JSON, ví dụ ["https://cong.local"]'),  # a traceback
    ],
)
def test_a_setting_that_cannot_be_used_is_named_in_one_vietnamese_line(
    cli, capsys, monkeypatch: pytest.MonkeyPatch, setting: str, value: str, said: str
) -> None:
    """Each used to end in a pydantic (or logging) traceback, exit 70."""
    monkeypatch.setenv(setting, value)
    code, _, err = cli(capsys, "audit", "--prune")
    assert (code, err.strip()) == (2, f"Lỗi cấu hình: {setting}={value!r} {said}"), err


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("DIABAN_MONITORING_DAYS", "-5"),  # a ValueError in the app's set-up: a traceback at `diaban serve`
        ("DIABAN_STATEMENT_TIMEOUT_S", "inf"),  # an OverflowError in get_engine
        ("DIABAN_STATEMENT_TIMEOUT_S", "99999999"),  # above PostgreSQL's 2^31 - 1 ms: «không kết nối được CSDL»
        ("DIABAN_CACHE_MB", "inf"),
        ("DIABAN_IMPORT_WORK_MEM_MB", "0"),  # an import then failed on set_config('work_mem', '0MB')
        ("DIABAN_IMPORT_WORK_MEM_MB", "-5"),
        ("DIABAN_ACCESS_LOG_DAYS", "999999999"),  # `audit --prune` then failed with DatetimeFieldOverflow
        ("DIABAN_SESSION_DAYS", "999999999"),
        ("DIABAN_NEAREST_COMMUNE_M", "-100"),  # the import report said «(> -100 m)»
        ("DIABAN_NEAREST_COMMUNE_M", "nan"),
        ("DIABAN_CITY_MARGIN_M", "-1"),
        ("DIABAN_CITY_MARGIN_M", "inf"),
        ("DIABAN_TOKEN_MINUTES", "0"),  # checked by `serve` only: `users list` ran with these
        ("DIABAN_SESSION_DAYS", "-1"),
        ("DIABAN_LOCKOUT_MINUTES", "-1"),
    ],
)
def test_every_setting_is_checked_at_every_commands_start(
    cli, capsys, monkeypatch: pytest.MonkeyPatch, setting: str, value: str
) -> None:
    """Each setting has finite bounds that fit its use, and every command reads them all before it does anything: a
    value it cannot use is one line naming the variable, exit 2 (these were accepted, or a traceback, exit 70)."""
    monkeypatch.setenv(setting, value)
    code, out, err = cli(capsys, "users", "list")
    assert (code, out) == (2, ""), err
    assert err.startswith(f"Lỗi cấu hình: {setting}={value!r} phải ") and err.count("\n") == 1, err


def test_db_status_tells_the_schema_revision_beside_the_codes(
    cli, capsys, monkeypatch: pytest.MonkeyPatch, cluster: ManagedCluster
) -> None:
    """An operator sees which schema the database holds and whether this code's is the same, without migrating it:
    `db status` showed the cluster only (and, on a configured database, migrated it first)."""
    code, out, err = cli(capsys, "db", "status")
    assert (code, out) == (
        0,
        f"Dùng CSDL cấu hình sẵn (DIABAN_DATABASE_URL): kết nối được; lược đồ {SCHEMA_HEAD}, đúng phiên bản của mã\n",
    ), err
    monkeypatch.delenv("DIABAN_DATABASE_URL")  # the managed cluster (the test session's): JSON, its keys in English
    monkeypatch.setenv("DIABAN_HOME", str(cluster.home))
    code, out, err = cli(capsys, "db", "status")
    assert code == 0, err
    status = json.loads(out)
    assert status["running"] is True and status["port"] == cluster.status().port
    assert (status["schema_revision"], status["schema_head"], status["schema_current"]) == (
        SCHEMA_HEAD,
        SCHEMA_HEAD,
        True,
    )


def test_a_log_level_is_taken_in_any_case(cli, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIABAN_LOG_LEVEL", "debug")
    assert cli(capsys, "provinces", "list")[0] == 0


def test_a_refusal_is_one_vietnamese_line_without_a_log_line_before_it(tmp_path) -> None:
    """At the default log level stderr holds the refusal alone, not an English log line repeating it; and the file is
    refused before any database is started (without DIABAN_DATABASE_URL the command had initialised and started a
    managed cluster under DIABAN_HOME, left running after it)."""
    (tmp_path / "vụ-việc.csv").mkdir()
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIABAN_")} | {"DIABAN_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "incidents", "import", str(tmp_path / "vụ-việc.csv")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [proc.stderr.strip()] and "INFO" not in proc.stderr, proc.stderr
    assert not (home / "pgdata").exists()


def test_ctrl_c_ends_a_command_in_one_vietnamese_line_and_keeps_nothing(
    cli, capsys, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    class Interrupted:
        """Standard input on which the user pressed Ctrl-C before typing the password."""

        def readline(self) -> str:
            raise KeyboardInterrupt

    monkeypatch.setattr(sys, "stdin", Interrupted())
    code, _, err = cli(capsys, "users", "add", "bi-ngat", "--role", "admin", "--password-stdin")
    assert code == 130 and "Đã dừng theo yêu cầu (Ctrl-C)" in err and "Traceback" not in err
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE username = 'bi-ngat'")).scalar_one() == 0


def test_a_reader_that_goes_away_ends_the_command_quietly(db_env: dict) -> None:
    read, write = os.pipe()
    command = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "provinces", "list"], env=db_env, stdout=write, stderr=subprocess.PIPE
    )
    os.close(write)
    os.close(read)  # `diaban provinces list | head -0`: the reader is gone before the first line
    _, err = command.communicate(timeout=60)
    assert command.returncode == 141 and b"Traceback" not in err and b"BrokenPipe" not in err, err


@pytest.mark.parametrize("rejects", ["{dir}", "{dir}/không-có/loại.csv"])
def test_an_import_whose_rejects_file_cannot_be_written_stops_before_importing(
    cli, capsys, tmp_path, engine: Engine, rejects: str
) -> None:
    rows = tmp_path / "vụ-việc.csv"
    rows.write_text("ref,occurred_at,lon,lat,kind\nGHI-LOI-1,2025-03-01 10:00,106.68,20.86,tip\n")
    code, _, err = cli(capsys, "incidents", "import", str(rows), "--rejects", rejects.format(dir=tmp_path))
    with engine.connect() as conn:  # told it failed, the user imports again: nothing was kept the first time
        assert conn.execute(text("SELECT count(*) FROM incidents WHERE ref = 'GHI-LOI-1'")).scalar_one() == 0
    assert code == 2 and "tham số --rejects:" in err, err


@pytest.mark.parametrize(
    "command", [("demo-data", "generate", "--incidents", "1000", "--years", "1"), ("demo-data", "samples")]
)
def test_demo_data_reads_a_boundary_file_with_upper_case_attributes(
    cli, capsys, tmp_path, boundaries_path: Path, command: tuple[str, ...]
) -> None:
    """A shapefile from ArcGIS names its fields CODE and NAME; the import took them, demo data stopped on them."""
    frame = gpd.read_file(boundaries_path).head(12)
    shapefile = tmp_path / "ranh-gioi.shp"
    frame.rename(columns={c: c.upper() for c in frame.columns if c != "geometry"}).to_file(shapefile)
    code, out, err = cli(capsys, *command, "--out", str(tmp_path / "ra"), "--boundaries", str(shapefile))
    assert code == 0, err
    assert any((tmp_path / "ra").iterdir()) and out, out


@pytest.mark.parametrize(
    "command", [("boundaries", "import"), ("demo-data", "generate", "--out", "{dir}", "--boundaries")]
)
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"ma\xfe\xc3,t\xean\n1,2\n", "không đọc được tệp ranh giới"),  # a header that is not UTF-8: pyogrio failed
        (
            b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"a": 1},'
            b' "geometry": {"type": "Point", "coordinates": [106.6, 20.8]}}]}',
            "thiếu thuộc tính mã đơn vị (code)",
        ),
    ],
)
def test_a_file_that_is_no_boundary_file_is_bad_input(
    cli, capsys, tmp_path, command: tuple[str, ...], content: bytes, expected: str
) -> None:
    path = tmp_path / "ranh-giới.csv"
    path.write_bytes(content)
    code, _, err = cli(capsys, *(part.format(dir=tmp_path) for part in command), str(path))
    assert code == 2 and expected in err and "Lỗi nội bộ" not in err, err
    assert "RuntimeWarning" not in err  # GDAL's guesses about the separator, in English


@pytest.mark.parametrize("url", ["postgresql//diaban@localhost/diaban", "mysql://diaban:bí-mật@localhost/diaban"])
def test_a_database_url_that_is_no_postgresql_url_is_one_line_naming_the_setting(
    cli, capsys, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DIABAN_DATABASE_URL", url)
    code, _, err = cli(capsys, "users", "list")
    assert code == 1 and "DIABAN_DATABASE_URL không phải địa chỉ PostgreSQL hợp lệ" in err, err
    assert "Lỗi nội bộ" not in err and "bí-mật" not in err  # nor the password it holds


@pytest.mark.parametrize(
    "command",
    [
        ("demo-data", "generate", "--out", "{dir}", "--incidents", "10"),  # ScenarioConfig's ValueError
        ("demo-data", "generate", "--out", "{dir}", "--years", "0"),
        ("classify", "evaluate", "--seeds", "-2"),
        ("hotspots", "detect", "--eps", "nan"),  # NaN cannot become a grid cell count
        ("hotspots", "detect", "--eps", "1e308"),
        ("hotspots", "detect", "--min-samples", "0"),
        ("hotspots", "detect", "--days", "999999999"),  # the window's first day before year 1
        ("audit", "--limit", "-1"),  # PostgreSQL: LIMIT must not be negative
        ("serve", "--port", "70000"),  # bind(): port must be 0-65535
        ("users", "demo", "--areas", "0"),
    ],
)
def test_a_number_out_of_range_is_a_usage_error_in_vietnamese(cli, capsys, tmp_path, command: tuple[str, ...]) -> None:
    code, _, err = cli(capsys, *(part.format(dir=tmp_path) for part in command))
    assert code == 2 and f"lỗi: tham số {command[-2]}: cần một số" in err and "Lỗi nội bộ" not in err, err


def test_more_demo_areas_than_communes_is_bad_input(cli, capsys) -> None:
    code, _, err = cli(capsys, "users", "demo", "--areas", "100000")  # 114 communes; none before an import
    assert code == 2 and "cần ít nhất 100000 xã/phường hiện hành, có 114" in err and "Lỗi nội bộ" not in err, err


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--radius-m", "-5", "bán kính phạm vi phải lớn hơn 0"),  # was stored: a hotspot with an empty footprint
        ("--radius-m", "inf", "bán kính phạm vi phải lớn hơn 0"),  # was a database error (exit 70)
        ("--note", " ", "ghi chú cần từ 1 đến 2000 ký tự"),  # was stored
        ("--note", "đ/c Nguyễn Văn An đã xác minh", "Mô tả có vẻ chứa tên người"),  # the API's refusal too
    ],
)
def test_a_hand_made_hotspot_is_checked_as_the_api_checks_it(
    cli, capsys, engine: Engine, option: str, value: str, expected: str
) -> None:
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM hotspots")).scalar_one()
    options = {"--lon": "106.68", "--lat": "20.86", "--note": "tin báo", "--radius-m": "50", option: value}
    code, _, err = cli(capsys, "hotspots", "add", *(f"{k}={v}" for k, v in options.items()))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM hotspots")).scalar_one() == before
    assert code == 2 and expected in err, err


@pytest.mark.parametrize(
    ("name", "communes", "expected"),
    [
        ("   ", "{code}", "tên tổ công tác cần từ 1 đến 200 ký tự"),  # was created: a team without a name
        ("x" * 201, "{code}", "tên tổ công tác cần từ 1 đến 200 ký tự"),  # the API refuses it
        ("Tổ không địa bàn", ",", "tổ công tác cần phụ trách ít nhất một xã, phường"),  # was created with no area
    ],
)
def test_a_team_is_checked_as_the_api_checks_it(
    cli, capsys, engine: Engine, name: str, communes: str, expected: str
) -> None:
    with engine.connect() as conn:
        code_ = conn.execute(text("SELECT min(code) FROM admin_units")).scalar_one()
        before = conn.execute(text("SELECT count(*) FROM teams")).scalar_one()
    code, _, err = cli(capsys, "teams", "add", name, "--communes", communes.format(code=code_))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM teams")).scalar_one() == before
    assert code == 2 and expected in err, err


def test_users_list_names_each_users_province_or_the_country(cli, capsys, engine: Engine) -> None:
    """`users list` wrote a provincial user's area as «tỉnh 31» and a nation-wide one's as «-»: the province by its
    name and «toàn quốc», as the users page says them."""
    try:
        for name, where in (("chi-huy-tinh-thu", ("--province", "31")), ("chi-huy-ca-nuoc-thu", ())):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(sys, "stdin", io.StringIO("mật-khẩu-đủ-dài\n"))
                code, _, err = cli(capsys, "users", "add", name, "--role", "command", *where, "--password-stdin")
            assert code == 0, err
        code, out, err = cli(capsys, "users", "list")
        assert code == 0, err
        lines = {line.split()[0]: line for line in out.splitlines()}
        assert "Thành phố Hải Phòng" in lines["chi-huy-tinh-thu"] and "tỉnh 31" not in out, out
        assert "toàn quốc" in lines["chi-huy-ca-nuoc-thu"], out
        assert lines["chi-huy-tinh-thu"].endswith("chưa đăng nhập lần nào"), out
        with engine.begin() as conn:  # a login at 17:30 UTC, 00:30 the next day in Hải Phòng; and locked meanwhile
            conn.execute(
                text("""UPDATE users SET last_login_at = '2026-12-07 17:30+00',
                        locked_until = now() + interval '5 minutes' WHERE username = 'chi-huy-tinh-thu'""")
            )
        code, out, err = cli(capsys, "users", "list")
        lines = {line.split()[0]: line for line in out.splitlines()}
        assert lines["chi-huy-tinh-thu"].endswith("đăng nhập gần nhất 08/12/2026 00:30"), out
        # as JSON, times in ISO 8601: a locked user's `locked_until` had stopped the listing (not serialisable)
        code, out, err = cli(capsys, "users", "list", "--json")
        assert code == 0, err
        listed = {user["username"]: user for user in json.loads(out)}
        assert listed["chi-huy-tinh-thu"]["last_login_at"] == "2026-12-07T17:30:00+00:00", listed
        assert listed["chi-huy-tinh-thu"]["locked"] and listed["chi-huy-tinh-thu"]["locked_until"], listed
    finally:
        with engine.begin() as conn:  # committed by the commands: leave no trace for other tests
            conn.execute(text("DELETE FROM users WHERE username LIKE 'chi-huy-%-thu'"))


def test_a_team_name_typed_decomposed_is_the_same_team(cli, capsys, engine: Engine) -> None:
    with engine.connect() as conn:
        code_ = conn.execute(text("SELECT min(code) FROM admin_units")).scalar_one()
    composed = "Tổ Đồ Sơn thử"
    try:
        assert cli(capsys, "teams", "add", composed, "--communes", code_)[0] == 0
        code, _, err = cli(capsys, "teams", "add", unicodedata.normalize("NFD", composed), "--communes", code_)
        assert code == 3 and f"tổ công tác «{composed}» đã tồn tại" in err, err
        password = io.StringIO("mật-khẩu-đủ-dài\n")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, "stdin", password)
            args = ("--role", "team", "--team", unicodedata.normalize("NFD", composed), "--password-stdin")
            code, _, err = cli(capsys, "users", "add", "to-do-son-thu", *args)
        assert code == 0, err  # the team found by the name as typed
    finally:
        with engine.begin() as conn:  # committed by the commands: leave no trace for other tests
            conn.execute(text("DELETE FROM users WHERE username = 'to-do-son-thu'"))
            conn.execute(
                text("DELETE FROM team_areas WHERE team_id IN (SELECT id FROM teams WHERE name LIKE 'Tổ Đồ%')")
            )
            conn.execute(text("DELETE FROM teams WHERE name LIKE 'Tổ Đồ%'"))


@pytest.mark.parametrize(
    ("stdin", "options", "expected"),
    [
        (b"\xff\xfe-not-utf-8-password\n", ("--password-stdin",), "mật khẩu không phải văn bản UTF-8 hợp lệ"),
        (b"a" * 201 + b"\n", ("--password-stdin",), "mật khẩu phải có từ 8 đến 200 ký tự"),  # the API's limit
        (b"12345678\n", ("--password-stdin",), "mật khẩu quá dễ đoán: là một dãy liền nhau"),
        (b"", (), "không có màn hình dòng lệnh để gõ mật khẩu kín: dùng --password-stdin"),  # no terminal
    ],
)
def test_a_password_that_cannot_be_used_is_refused_in_vietnamese(
    db_env: dict, engine: Engine, stdin: bytes, options: tuple[str, ...], expected: str
) -> None:
    command = [sys.executable, "-m", "api.cli", "users", "add", "mat-khau-hong", "--role", "admin", *options]
    # A session of its own: no terminal for getpass to fall back on, as under cron or a deployment script.
    done = subprocess.run(command, env=db_env, input=stdin, capture_output=True, timeout=60, start_new_session=True)
    err = done.stderr.decode()
    assert done.returncode == 2 and expected in err, err
    assert "Traceback" not in err and "Warning" not in err  # getpass's English warnings, the password echoed
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE username = 'mat-khau-hong'")).scalar_one() == 0


@pytest.mark.parametrize("year", ["1800", "20255", "-5"])
def test_a_classification_of_a_year_out_of_range_is_refused_and_stores_nothing(
    cli, capsys, engine: Engine, year: str, planners: None
) -> None:
    code, _, err = cli(capsys, "classify", "run", "--year", year, "--as-user", "tham-muu-cli")
    with engine.connect() as conn:  # was stored: a draft the API (years 2000-2100) could never show nor approve
        assert (
            conn.execute(
                text("SELECT count(*) FROM classification_runs WHERE year = :y"), {"y": int(year)}
            ).scalar_one()
            == 0
        )
    assert code == 2 and f"năm ngoài khoảng 2000–2100: {year}" in err, err


def test_a_classification_of_a_year_to_come_is_refused_and_stores_nothing(
    cli, capsys, engine: Engine, planners: None
) -> None:
    """`classify run` of the year after Hải Phòng's current one stored a draft with every commune «có nguy cơ» for want
    of data, which could be approved: refused by the same service as the API, in Vietnamese."""
    year = local_today().year + 1
    code, out, err = cli(capsys, "classify", "run", "--year", str(year), "--as-user", "tham-muu-cli")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM classification_runs WHERE year = :y"), {"y": year})
        assert stored.scalar_one() == 0
    assert code == 2 and f"Năm {year} chưa bắt đầu" in err and not out, (out, err)


def test_classify_review_says_the_draft_predates_its_years_indicators(
    cli, capsys, owner_engine: Engine, tmp_path: Path, planners: None
) -> None:
    """`classify review` of a draft whose year's indicator table was loaded again after the run says so under its
    status line, as the planner page does, and `classify approve` refuses it (exit 3); before, nothing said it."""
    table = tmp_path / "chi-so-2001.csv"
    table.write_text(
        "year,commune_code,population,users_with_records,plants_destroyed,cultivation_m2,on_drug_route\n"
        "2001,10507,30000,200,0,0,1\n",
        encoding="utf-8",
    )
    try:
        assert cli(capsys, "classify", "run", "--year", "2001", "--as-user", "tham-muu-cli")[0] == 0
        code, out, err = cli(capsys, "classify", "review", "--year", "2001", "--limit", "1")
        assert code == 0 and "nhập lại" not in out, out
        assert cli(capsys, "indicators", "import", str(table))[0] == 0
        code, out, err = cli(capsys, "classify", "review", "--year", "2001", "--limit", "1")
        assert code == 0, err
        note = out.splitlines()[1]
        assert note.startswith("Chỉ số năm 2001 đã được nhập lại (tệp «chi-so-2001.csv», "), out
        assert note.endswith(
            " sau khi chạy bản nháp phiên bản 1: hãy chạy lại phân loại năm 2001 để dùng số liệu mới rồi mới phê duyệt"
        ), out
        code, out, err = cli(capsys, "classify", "approve", "--year", "2001", "--as-user", "tham-muu-cli")
        assert code == 3 and "Chỉ số năm 2001 đã được nhập lại" in err, (out, err)
    finally:
        with owner_engine.begin() as conn:  # committed by the commands: leave no trace for other tests
            conn.execute(text("DELETE FROM classification_runs WHERE year = 2001"))
            conn.execute(text("DELETE FROM commune_indicators WHERE year = 2001"))


def test_classify_run_and_review_name_classes_and_status_in_vietnamese(
    cli, capsys, owner_engine: Engine, planners: None
) -> None:
    try:
        code, out, err = cli(capsys, "classify", "run", "--year", "2003", "--as-user", "tham-muu-cli")
        assert code == 0, err
        assert "  Có tệ nạn ma túy: " in out and "at_risk" not in out, out  # was "  at_risk: 114"
        assert "(lần chạy #" in out and "run #" not in out, out
        # The KPIs in the Excel report's words (they were the API's JSON, its English keys); --json keeps that.
        code, out, err = cli(capsys, "classify", "kpi", "--year", "2003", "--json")
        assert code == 0 and json.loads(out)["year"] == 2003, out
        version = json.loads(out)["targets_version"]  # an identifier, as the Excel report's subtitle names it
        code, out, err = cli(capsys, "classify", "kpi", "--year", "2003")
        assert code == 0 and out.startswith("Chỉ tiêu năm 2003 — ") and "bản nháp" in out.lower(), out
        assert "- Tỷ lệ xã" in out and '"kpis"' not in out, out
        # In the Excel file's number format («tối thiểu 60%», «32,46%»), not one of its own («60,0 %»).
        assert "; chỉ tiêu đề ra: tối thiểu 60%; " in out and "60,0 %" not in out, out
        assert not foreign_words(out.replace("2003", "").replace(version, "")), out
        code, out, err = cli(capsys, "classify", "review", "--year", "2003", "--limit", "3")
        assert code == 0 and "Năm 2003 phiên bản 1 (bản nháp):" in out, out  # was "(draft)"
        # No approved 2002 to compare with: not «0 thay đổi so với năm trước».
        assert f"khác biệt tiêu chí/mô hình, {NO_PREVIOUS_YEAR}\n" in out and "thay đổi so với năm trước" not in out, (
            out
        )
        # Why each commune is listed first, without its English gloss («Thiếu dữ liệu: … (incomplete data)»).
        assert "Thiếu dữ liệu" in out and not foreign_words(out.replace("2003", "")), out
    finally:
        with owner_engine.begin() as conn:  # committed by the command: leave no trace for other tests
            conn.execute(text("DELETE FROM classification_runs WHERE year = 2003"))


def test_a_reversed_audit_window_is_refused_not_answered_with_no_lines(cli, capsys) -> None:
    code, out, err = cli(capsys, "audit", "--from", "01/01/2027", "--to", "01/01/2026")
    assert code == 2 and "khoảng ngày đảo ngược" in err and "01/01/2027" in err, err
    assert "0 dòng truy cập" not in out  # was the answer: as if nobody had read anything


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                yield from _parsers(subparser)


def test_every_value_has_a_vietnamese_placeholder_in_help_and_errors(cli, capsys) -> None:
    english = [
        f"{parser.prog} {action.dest}"
        for parser in _parsers(build_parser())
        for action in parser._actions
        if action.nargs != 0 and action.choices is None and action.metavar is None and action.dest != "help"
    ]
    assert english == []  # were --team TEAM, --port PORT, --seeds SEEDS [SEEDS ...], a positional "name", …
    code, _, err = cli(capsys, "users", "add")
    assert code == 2 and "thiếu tham số bắt buộc: TÊN, --role" in err, err


def test_an_approval_is_printed_on_its_hai_phong_day() -> None:
    """18:30 UTC on 31/12/2025 is 01:30 on 01/01/2026 in Hải Phòng: the day the exports of the run show."""
    run = {
        "year": 2025,
        "version": 2,
        "approved_by": "lanh.dao",
        "approved_at": datetime(2025, 12, 31, 18, 30, tzinfo=UTC),
    }
    assert approved_line(run) == "Đã phê duyệt năm 2025 phiên bản 2 (lanh.dao, 01/01/2026)"


def test_an_approved_year_cannot_be_changed_from_the_command_line(
    cli, capsys, engine: Engine, owner_engine: Engine, planners: None
) -> None:
    """`classify run` and `approve` name the planner account that acts (`--as-user`, required): an OS user, whoever
    had the shell, ran and approved before. No such active account, an account of another role and one whose
    administrator-given password is still unchanged are refused in Vietnamese (exit 2, 3, 3). Four eyes: the planner
    who ran the year is refused (exit 3, Vietnamese, saying who is to approve); another planner approves it. After
    that, `classify override` and a second approval are refused (exit 3, Vietnamese) and the snapshot keeps its
    classes, method, approver and date; a new `classify run` is a correction, a new version, which `classify discard`
    removes (the approved version it cannot)."""
    snapshot = (
        "SELECT r.version, r.status, r.rules_version, r.method, r.approved_by, r.approved_at,"
        " array_agg(c.category || coalesce(c.level, '') || c.method || coalesce(c.indicators::text, '')"
        " ORDER BY c.commune_code) FROM classification_runs r JOIN classification_results c ON c.run_id = r.id"
        " WHERE r.year = 2004 AND r.version = 1 GROUP BY r.id"
    )
    try:
        code, out, err = cli(capsys, "classify", "run", "--year", "2004")
        assert code == 2 and "--as-user" in err and not out, err
        assert cli(capsys, "classify", "run", "--year", "2004", "--as-user", "tham-muu-cli")[0] == 0
        code, out, err = cli(capsys, "classify", "approve", "--year", "2004")
        assert code == 2 and "--as-user" in err and not out, err
        code, out, err = cli(capsys, "classify", "approve", "--year", "2004", "--as-user", "khong-co-ai")
        assert code == 2 and "không có người dùng đang hoạt động tên «khong-co-ai»" in err, err
        code, out, err = cli(capsys, "classify", "approve", "--year", "2004", "--as-user", "chi-huy-cli")
        assert code == 3 and "«chi-huy-cli» không phải tài khoản cán bộ tham mưu" in err, err
        code, out, err = cli(capsys, "classify", "approve", "--year", "2004", "--as-user", "tham-muu-cli-moi")
        assert code == 3 and "«tham-muu-cli-moi» chưa đổi mật khẩu do quản trị viên cấp" in err, err
        code, out, err = cli(capsys, "classify", "approve", "--year", "2004", "--as-user", "tham-muu-cli")
        assert code == 3 and "Nguyên tắc bốn mắt: tham-muu-cli đã chạy phân loại tạo bản nháp này" in err, err
        assert "cần một cán bộ tham mưu khác xem xét và phê duyệt" in err and not out
        code, out, err = cli(capsys, "classify", "approve", "--year", "2004", "--as-user", "THAM-MUU-CLI-2")
        assert code == 0 and "Đã phê duyệt năm 2004 phiên bản 1 (tham-muu-cli-2," in out, err
        with engine.connect() as conn:  # who ran the commands at the shell, beside the planner each acted as
            logged = conn.execute(
                text(
                    "SELECT DISTINCT ON (route) route, username, params ->> 'as_user' FROM access_log"
                    " WHERE route IN ('diaban classify run', 'diaban classify approve') ORDER BY route, id DESC"
                )
            ).all()
        assert [tuple(line) for line in logged] == [
            ("diaban classify approve", getpass.getuser(), "THAM-MUU-CLI-2"),
            ("diaban classify run", getpass.getuser(), "tham-muu-cli"),
        ]
        with engine.connect() as conn:
            before = conn.execute(text(snapshot)).one()
            commune = conn.execute(text("SELECT min(code) FROM admin_units WHERE valid_to IS NULL")).scalar_one()
        code, _, err = cli(
            capsys, "classify", "override", "--year", "2004", "--commune", commune,
            "--category", "drug_free", "--reason", "thử sửa bản đã duyệt", "--as-user", "tham-muu-cli",
        )  # fmt: skip
        assert code == 3 and "đã được phê duyệt, không thể thay đổi" in err, err
        code, _, err = cli(capsys, "classify", "approve", "--year", "2004", "--as-user", "tham-muu-cli-2")
        assert code == 3 and "đã được phê duyệt" in err, err
        code, out, err = cli(capsys, "classify", "run", "--year", "2004", "--as-user", "tham-muu-cli")
        assert code == 0 and "bản hiệu chỉnh phiên bản 2" in out, err
        with engine.connect() as conn:
            assert conn.execute(text(snapshot)).one() == before
        # The correction is discarded; the approved version is the year's result again, and cannot be discarded.
        code, out, err = cli(capsys, "classify", "discard", "--year", "2004", "--as-user", "tham-muu-cli")
        assert (code, out.strip()) == (
            0,
            "Đã bỏ bản nháp năm 2004 phiên bản 2; kết quả năm là phiên bản 1 đã phê duyệt",
        ), err
        code, _, err = cli(capsys, "classify", "discard", "--year", "2004", "--as-user", "tham-muu-cli")
        assert code == 3 and "đã được phê duyệt" in err, err
        with engine.connect() as conn:
            assert conn.execute(text(snapshot)).one() == before
            assert conn.execute(text("SELECT count(*) FROM classification_runs WHERE year = 2004")).scalar_one() == 1
        # The discarded correction stays in the year's history, in Vietnamese, by whom it was run and discarded.
        code, out, err = cli(capsys, "classify", "history", "--year", "2004")
        lines = out.splitlines()
        assert code == 0 and lines[0] == "Lịch sử phiên bản phân loại năm 2004 (2 phiên bản, mới nhất trước):", err
        assert re.fullmatch(
            r"Phiên bản 2 \(lần chạy #\d+, hiệu chỉnh kết quả đã phê duyệt\) — Đã bỏ: chạy bởi tham-muu-cli,"
            r" [0-9/: ]+; bỏ bởi tham-muu-cli, [0-9/: ]+; 0 điều chỉnh",
            lines[1],
        ), lines
        assert (
            re.match(r"Phiên bản 1 \(lần chạy #\d+\) — Đã phê duyệt, đang áp dụng: chạy bởi", lines[2])
            and "phê duyệt bởi" in lines[2]
        )
    finally:
        _forget_year(owner_engine, 2004)


def test_a_planner_who_overrode_at_the_command_line_cannot_approve(
    cli, capsys, engine: Engine, owner_engine: Engine, planners: None
) -> None:
    """`classify override` and `discard` name the planner account too (`--as-user`, required, checked as for an
    approval: another role and a password still to change are refused, exit 3). An override made at the shell was the
    OS user's, so the planner who typed it could approve the draft on the page: four eyes now refuses them. A run
    over the draft (`--replace`) says the overrides it drops; it said nothing of them."""
    try:
        assert cli(capsys, "classify", "run", "--year", "2005", "--as-user", "tham-muu-cli")[0] == 0
        with engine.connect() as conn:
            commune = conn.execute(text("SELECT min(code) FROM admin_units WHERE valid_to IS NULL")).scalar_one()
        change = (
            "classify",
            "override",
            "--year",
            "2005",
            "--commune",
            commune,
            "--category",
            "trong_diem",
            "--level",
            "III",
        )
        code, out, err = cli(capsys, *change, "--reason", "tin báo mới")
        assert code == 2 and "--as-user" in err and not out, err
        code, out, err = cli(capsys, *change, "--reason", "tin báo mới", "--as-user", "chi-huy-cli")
        assert code == 3 and "«chi-huy-cli» không phải tài khoản cán bộ tham mưu: chỉ cán bộ tham mưu điều chỉnh" in err
        code, out, err = cli(capsys, *change, "--reason", "tin báo mới", "--as-user", "tham-muu-cli-2")
        assert code == 0 and out.startswith(f"Đã điều chỉnh {commune}: {class_label('trong_diem', 'III')} (lý do"), (
            out,
            err,
        )
        code, out, err = cli(capsys, "classify", "approve", "--year", "2005", "--as-user", "tham-muu-cli-2")
        assert code == 3 and "Nguyên tắc bốn mắt: tham-muu-cli-2 đã điều chỉnh kết quả của 1 xã" in err, err
        code, out, err = cli(capsys, "classify", "discard", "--year", "2005", "--as-user", "tham-muu-cli-moi")
        assert code == 3 and "«tham-muu-cli-moi» chưa đổi mật khẩu do quản trị viên cấp" in err, err
        # Run again over the draft (--replace): the override it drops is said, as the page's confirmation says it.
        code, out, err = cli(capsys, "classify", "run", "--year", "2005", "--replace", "--as-user", "tham-muu-cli-2")
        assert (
            code == 0 and "\n  thay bản nháp phiên bản 1, cùng 1 điều chỉnh thủ công trong đó (còn trong lịch sử" in out
        )
        code, out, err = cli(capsys, "classify", "discard", "--year", "2005", "--as-user", "tham-muu-cli")
        # The new draft is version 2: version 1, replaced, is in the history (it took number 1 again, two versions
        # of one number in the history an inspector reads).
        assert code == 0 and out.startswith("Đã bỏ bản nháp năm 2005 phiên bản 2; năm chưa có"), (out, err)
        code, out, err = cli(capsys, "classify", "history", "--year", "2005")
        assert (
            code == 0 and "chạy bởi tham-muu-cli, " in out and "thay bằng lần chạy mới của tham-muu-cli-2, " in out
        ), out
        assert "chạy bởi tham-muu-cli-2, " in out and "bỏ bởi tham-muu-cli, " in out, out
    finally:
        _forget_year(owner_engine, 2005)


def _forget_year(owner_engine: Engine, year: int) -> None:
    """Remove a year's runs and trail that CLI commands committed: the owner lifts the freeze to leave no trace."""
    with owner_engine.begin() as conn:
        conn.execute(text("ALTER TABLE classification_trail DISABLE TRIGGER classification_trail_append_only"))
        conn.execute(text("DELETE FROM classification_trail WHERE year = :y"), {"y": year})
        conn.execute(text("ALTER TABLE classification_trail ENABLE TRIGGER classification_trail_append_only"))
        conn.execute(text("ALTER TABLE classification_runs DISABLE TRIGGER classification_runs_frozen"))
        conn.execute(text("ALTER TABLE classification_results DISABLE TRIGGER classification_results_frozen"))
        conn.execute(text("DELETE FROM classification_runs WHERE year = :y"), {"y": year})
        conn.execute(text("ALTER TABLE classification_runs ENABLE TRIGGER classification_runs_frozen"))
        conn.execute(text("ALTER TABLE classification_results ENABLE TRIGGER classification_results_frozen"))


def test_an_import_lists_each_duplicate_with_the_line_kept_on_screen_and_in_the_listing(
    cli, capsys, tmp_path, engine: Engine
) -> None:
    ref = f"CLI-DUP-{tmp_path.name[-12:]}"  # committed: a ref of its own, removed afterwards
    rows = tmp_path / "trung.csv"
    rows.write_text(
        "ref,occurred_at,lon,lat,kind\n"
        f"{ref},2025-03-01,106.683,20.86,tip\n"
        f"{ref},2025-03-02,106.683,20.86,tip\n"
        "=X,sai,106.683,20.86,tip\n"
    )
    listing = tmp_path / "ds.csv"
    try:
        code, out, err = cli(capsys, "incidents", "import", str(rows), "--rejects", str(listing))
        assert code == 0, err
        assert "Trùng, bỏ qua:" in out, out
        assert f"  dòng 3 [{ref}] Số hiệu: trùng mã với dòng 2\n" in out, out  # no English gloss
        raw = listing.read_bytes()  # for Excel, as the other CSV exports: UTF-8 with BOM, ';', Vietnamese only
        assert raw.startswith(codecs.BOM_UTF8), raw[:20]
        listed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
        assert listed[0] == ["Dòng", "Số hiệu, mã", "Cột", "Lý do", "Xử lý"]
        assert listed[1] == ["3", ref, "Số hiệu", "trùng mã với dòng 2", "Trùng, bỏ qua"]
        assert listed[2][:3] == ["4", "'=X", "Thời gian"] and listed[2][4] == "Bị loại", listed
        assert not any(re.search(r"\([ -~]*[a-z]{3}[ -~]*\)$", row[3]) for row in listed[1:]), listed  # no gloss
    finally:  # committed by the command: the next tests of this worker's database count every incident
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM incidents WHERE ref = :ref"), {"ref": ref})


def test_users_import_refuses_a_bad_file_whole_and_writes_the_passwords_of_a_good_one_for_its_owner_only(
    cli, capsys, tmp_path, engine: Engine
) -> None:
    from openpyxl import load_workbook

    from gis.store.accounts import dissolve_team, team_id_by_name, team_version

    header = "Tên đăng nhập,Vai trò,Tổ công tác,Xã/phường,Tỉnh\n"
    good = header + "cli-to-1,Tổ công tác,Tổ dòng lệnh,10507,\ncli-chihuy,command,,,Hải Phòng\n"
    (tmp_path / "sai.csv").write_text(good + "cli-x,Thủ trưởng,,,\n")
    (tmp_path / "dung.csv").write_text(good)
    out = tmp_path / "mat-khau.xlsx"
    code, _, err = cli(capsys, "users", "import", str(tmp_path / "sai.csv"), "--out", str(out))
    assert code == 2 and "dòng 4: Vai trò «Thủ trưởng»: vai trò «Thủ trưởng» không có" in err, err
    assert not out.exists()
    code, printed, err = cli(capsys, "users", "import", str(tmp_path / "dung.csv"), "--out", str(out), "--dry-run")
    assert code == 0, err
    assert printed.startswith("Kiểm tra — chưa ghi gì vào cơ sở dữ liệu\nSẽ tạo 1 tổ công tác và 2 người dùng;"), (
        printed
    )
    assert not out.exists()  # no password made, no sheet written
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE username LIKE 'cli-%'")).scalar_one() == 0
    try:
        code, printed, err = cli(capsys, "users", "import", str(tmp_path / "dung.csv"), "--out", str(out))
        assert code == 0, err
        assert "Đã tạo 1 tổ công tác và 2 người dùng" in printed
        assert out.stat().st_mode & 0o777 == 0o600
        rows = list(load_workbook(out).active.iter_rows(values_only=True))
        given = {row[1]: row[4] for row in rows if isinstance(row[0], int)}
        assert sorted(given) == ["cli-chihuy", "cli-to-1"] and not any(p in printed for p in given.values())
        with engine.connect() as conn:  # the import as a whole audited, by the operating-system user; the refused none
            audited = conn.execute(
                text(
                    "SELECT actor, details FROM admin_audit WHERE action = 'import_accounts' AND details->>'file' = :f"
                ),
                {"f": "dung.csv"},
            ).all()
            assert [tuple(row) for row in audited] == [
                (getpass.getuser(), {"file": "dung.csv", "teams": 1, "users": 2})
            ]
            refused = "SELECT count(*) FROM admin_audit WHERE details->>'file' = 'sai.csv'"
            assert conn.execute(text(refused)).scalar_one() == 0
        again, _, err = cli(capsys, "users", "import", str(tmp_path / "dung.csv"), "--out", str(out))
        assert again == 2 and "đã có" in err
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username LIKE 'cli-%'"))
            team = team_id_by_name(conn, "Tổ dòng lệnh")
            dissolve_team(conn, team, team_version(conn, team))


def test_users_import_into_a_missing_folder_says_the_folder_is_missing(cli, capsys, tmp_path, engine: Engine) -> None:
    """The password sheet's folder does not exist: said as the other commands' --out say it, before anything is
    created (it read «không tìm thấy tệp …», as if the file to import were missing)."""
    (tmp_path / "dung.csv").write_text(
        "Tên đăng nhập,Vai trò,Tổ công tác,Xã/phường,Tỉnh\ncli-thu-muc,command,,,Hải Phòng\n"
    )
    out = tmp_path / "khong-co" / "x.xlsx"
    code, _, err = cli(capsys, "users", "import", str(tmp_path / "dung.csv"), "--out", str(out))
    assert code == 2 and err.splitlines()[-1].endswith(f"không có thư mục {out.parent} để ghi x.xlsx"), err
    assert "không tìm thấy" not in err
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE username = 'cli-thu-muc'")).scalar_one() == 0


def test_a_database_that_does_not_answer_is_said_in_vietnamese_with_what_to_check(
    capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The line ended with psycopg's English («connection failed: … Connection refused») after a Vietnamese start."""
    monkeypatch.setenv("DIABAN_DATABASE_URL", f"postgresql://diaban@127.0.0.1:{free_port()}/diaban")
    code, out, err = run_cli(capsys, "provinces", "list")
    assert (code, out) == (1, ""), err
    assert err.startswith("Lỗi: không kết nối được CSDL (127.0.0.1, cổng") and "DIABAN_DATABASE_URL" in err, err
    assert not foreign_words(err.replace("DIABAN_DATABASE_URL", "")), err


def test_a_user_who_does_not_exist_is_named_in_vietnamese_only(cli, capsys) -> None:
    """The line went on with «(no active user 'khong-co-ai')» after the Vietnamese one."""
    code, out, err = cli(capsys, "demo-data", "lifecycle", "--as-user", "khong-co-ai")
    assert (code, out) == (2, ""), err
    assert err == "Lỗi: không có người dùng đang hoạt động tên «khong-co-ai»\n", err


def test_the_last_administrators_refusal_on_the_command_line_exits_3(cli, capsys, engine: Engine) -> None:
    """`diaban users deactivate` and `users role` refusing the last active administrator exited 2 («bad input») where
    the exit table says 3 for a refusal that conflicts with the current state: it exits 3, changing nothing."""
    from gis.store.accounts import create_user

    with engine.begin() as conn:
        others = list(
            conn.execute(text("UPDATE users SET active = false WHERE role = 'admin' AND active RETURNING id")).scalars()
        )
        last = create_user(conn, "qt-cuoi-dong-lenh", "x", "admin", None)
    try:
        for command in (("deactivate", "qt-cuoi-dong-lenh"), ("role", "qt-cuoi-dong-lenh", "--role", "planner")):
            code, out, err = cli(capsys, "users", *command)
            assert (code, out) == (3, ""), err
            assert err.startswith("Bị từ chối") and "quản trị viên cuối cùng còn hoạt động" in err, err
        with engine.connect() as conn:
            assert conn.execute(text("SELECT role, active FROM users WHERE id = :id"), {"id": last}).one() == (
                "admin",
                True,
            )
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": last})
            conn.execute(text("UPDATE users SET active = true WHERE id = ANY(:ids)"), {"ids": others})
