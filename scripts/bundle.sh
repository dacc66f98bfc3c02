#!/usr/bin/env bash
# Usage: scripts/bundle.sh PYTHON WHEEL OUTDIR [TARGET_PYTHON] — the offline bundle (`make bundle`; README,
# *Installing on a closed network*): one archive OUTDIR/diaban-VERSION-offline-TAG.tar.gz, and its SHA-256 beside it,
# that installs diaban on a machine without Internet. Run where the registries are reachable. It holds:
#   wheels/               the project's WHEEL and every runtime dependency as a wheel, each at the version PYTHON's
#                         environment has (`pip freeze` as constraints; dependencies only, not the test or bench
#                         extras, which the wheel does not require), for TARGET_PYTHON (PYTHON by default): pip runs
#                         as that interpreter, so markers such as redis' `python_full_version < "3.11.3"` (Debian 12
#                         has 3.11.2) choose the target's dependencies, not those of the build's Python
#   requirements.txt      name==version of every wheel (what install.sh installs, nothing else)
#   python-target.txt     TARGET_PYTHON's full version and machine (install.sh refuses any other)
#   debian-packages.txt   the Debian packages the machine needs to run diaban (scripts/system-deps.sh list)
#   install.sh            scripts/offline-install.sh: checks, then a venv installed with pip --no-index
#   SHA256SUMS            SHA-256 of every other file (`sha256sum -c SHA256SUMS` after a USB transfer)
set -euo pipefail

python=$1
wheel=$2
out=$3
target_python=${4:-$python}
here=$(cd "$(dirname "$0")" && pwd)

wheel_name=$(basename "$wheel")
version=$(cut -d- -f2 <<<"$wheel_name")
target=$("$target_python" -c 'import platform; print(platform.python_version(), platform.machine())')
read -r py machine <<<"$target"
minor=$(cut -d. -f1,2 <<<"$py")
name="diaban-$version-offline-cp${minor/./}-linux_$machine"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/$name"
mkdir -p "$stage/wheels"

# The versions of this environment, as constraints: pip then takes the wheel's runtime dependencies only.
"$python" -m pip freeze --exclude-editable | grep -E '^[A-Za-z0-9._-]+==' >"$work/constraints.txt" || true
"$python" -m pip --python "$target_python" wheel --quiet --wheel-dir "$stage/wheels" --constraint "$work/constraints.txt" "$wheel"

for file in "$stage"/wheels/*.whl; do
  IFS=- read -r dist dist_version _ <<<"$(basename "$file")"
  echo "$dist==$dist_version"
done | LC_ALL=C sort >"$stage/requirements.txt"
echo "$target" >"$stage/python-target.txt"
"$here/system-deps.sh" list >"$stage/debian-packages.txt"
cp "$here/offline-install.sh" "$stage/install.sh"
chmod 755 "$stage/install.sh"
(cd "$stage" && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum) >"$work/SHA256SUMS"
mv "$work/SHA256SUMS" "$stage/SHA256SUMS"

mkdir -p "$out"
tar -czf "$out/$name.tar.gz" -C "$work" "$name"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "$out/$name.tar.gz: $(wc -l <"$stage/requirements.txt") wheels, $(du -h "$out/$name.tar.gz" | cut -f1)"
