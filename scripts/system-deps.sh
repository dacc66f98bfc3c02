#!/usr/bin/env bash
# Install the Debian packages diaban needs, only those missing: PostgreSQL 15 + PostGIS, Python venv,
# Node.js + npm (the web pages' libraries are npm packages served by the app itself) and, with the
# argument `test`, Chromium for the browser tests, Redis + nginx for the tests of several app servers
# (tests/ops/test_several_servers.py starts its own, the packages' services are not used) and PgBouncer for the
# read-routing tests; with `bench`, gdal-bin (ogr2ogr, the GIS analyst's loader that bench/bench_ingest.py measures
# against) and redis-server (bench/bench_cache.py). As root apt-get runs directly; otherwise through sudo.
set -euo pipefail

need=()
pg_share=/usr/share/postgresql/15/extension
[ -f "$pg_share/postgis.control" ] || need+=(postgresql-15-postgis-3)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
command -v runuser >/dev/null || need+=(util-linux)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
command -v npm >/dev/null || need+=(nodejs npm)
if [ "${1:-}" = "test" ]; then
  command -v chromium >/dev/null || need+=(chromium)
  command -v redis-server >/dev/null || need+=(redis-server)
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || need+=(nginx-light)
  [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)  # tests/ops/test_read_routing.py runs the app through it
fi
if [ "${1:-}" = "bench" ]; then
  command -v ogr2ogr >/dev/null || need+=(gdal-bin)
  command -v redis-server >/dev/null || need+=(redis-server)
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "diaban needs Python >= 3.11 (python3 is $(python3 -V))" >&2; exit 1; }

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing system packages: ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then
  apt=(apt-get)
elif command -v sudo >/dev/null; then
  apt=(sudo apt-get)
else
  echo "Missing packages ${need[*]}: install them as root (apt-get install ${need[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq --no-install-recommends "${need[@]}"
