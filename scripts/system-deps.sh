#!/usr/bin/env bash
# Install the Debian packages diaban needs, only those missing: PostgreSQL 15 + PostGIS, Python venv,
# Node.js + npm (the web pages' libraries are npm packages served by the app itself) and, with the
# argument `test`, Chromium's headless shell for the browser tests, Redis + nginx for the tests of several app
# servers (tests/ops/test_several_servers.py starts its own, the packages' services are not used) and PgBouncer for
# the read-routing tests; with `bench`, gdal-bin (ogr2ogr, the GIS analyst's loader that bench/bench_ingest.py
# measures against), redis-server (bench/bench_cache.py) and Chromium (bench/bench_pages.py). As root apt-get runs
# directly; otherwise through sudo.
# With `list`, it installs nothing and prints, one a line, the packages a machine needs to run an installed diaban
# (not to build it: no Node.js, the wheel carries the pages' libraries) — the offline bundle's debian-packages.txt.
set -euo pipefail

mode=${1:-}
need=()

# want PACKAGES CHECK...: PACKAGES (space-separated) are needed unless the command CHECK succeeds; in `list` mode
# they are printed instead (the run-time ones only: `list` stops before the build, test and bench groups).
want() {
  local packages=$1
  shift
  if [ "$mode" = list ]; then
    printf '%s\n' $packages
  elif ! "$@" >/dev/null 2>&1; then
    need+=($packages)
  fi
}

nginx_present() { [ -x /usr/sbin/nginx ] || command -v nginx; }

# To run: the managed cluster (as root it runs as postgres through runuser) and the venv of the install.
want postgresql-15-postgis-3 test -f /usr/share/postgresql/15/extension/postgis.control
want postgresql-15 test -x /usr/lib/postgresql/15/bin/initdb
want util-linux command -v runuser
want python3-venv python3 -c 'import ensurepip, venv'
if [ "$mode" = list ]; then
  exit 0
fi
# To build: the pages' npm packages (make's vendor step).
want "nodejs npm" command -v npm
if [ "$mode" = test ]; then
  want chromium-headless-shell command -v chromium-headless-shell
  want redis-server command -v redis-server
  want nginx-light nginx_present
  want pgbouncer test -x /usr/sbin/pgbouncer # tests/ops/test_read_routing.py runs the app through it
  want poppler-utils command -v pdftoppm # tests/browser/test_map_reading.py looks at a printed map
fi
if [ "$mode" = bench ]; then
  want gdal-bin command -v ogr2ogr
  want chromium command -v chromium # bench/bench_pages.py: the desktop browser a user opens
  want redis-server command -v redis-server
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
