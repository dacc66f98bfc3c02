#!/bin/sh
# The offline bundle's install.sh (scripts/bundle.sh copies it in; README, *Installing on a closed network*).
# Usage: sh install.sh DIR — checks the bundle's files against SHA256SUMS, the Python version (to the patch: a
# dependency's markers may differ between 3.11.2 and 3.11.7) and machine against python-target.txt and the Debian packages of debian-packages.txt (dpkg), then creates a venv in DIR and installs
# requirements.txt from the bundle's wheels/ with `pip --no-index`: nothing comes from the network. PYTHON chooses
# the interpreter (python3 by default). Re-running it with a newer bundle upgrades the venv in place.
# Its messages are for the operator, in Vietnamese; it stops at the first problem with a non-zero status.
set -eu

fail() {
  echo "LỖI: $*" >&2
  exit 1
}

if [ $# -ne 1 ]; then
  fail "cách dùng: sh install.sh THƯ_MỤC_CÀI (ví dụ: sh install.sh /opt/diaban)"
fi
dest=$1
# The venv and its checks see the bundle's packages only, not a PYTHONPATH of the operator's shell.
unset PYTHONPATH PYTHONHOME
bundle=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
cd "$bundle"

echo "Kiểm tra tính toàn vẹn của các tệp trong gói (SHA256SUMS)…"
[ -f SHA256SUMS ] || fail "không thấy tệp SHA256SUMS trong $bundle: gói không đầy đủ, hãy chép lại cả gói."
if ! sha256sum --check --quiet --strict SHA256SUMS; then
  fail "có tệp bị hỏng hoặc bị thiếu (xem danh sách trên). Hãy chép lại gói từ máy đã tạo ra nó."
fi
for file in wheels/*; do
  cut -c67- SHA256SUMS | grep -Fqx "$file" || fail "tệp $file không có trong SHA256SUMS: gói đã bị thay đổi, hãy chép lại gói."
done

command -v "$python" >/dev/null 2>&1 || fail "không tìm thấy Python ($python). Hãy cài gói Debian python3."
wanted=$(cat python-target.txt)
found=$("$python" -c 'import platform; print(platform.python_version(), platform.machine())')
if [ "$found" != "$wanted" ]; then
  fail "gói này dành cho Python $wanted, còn máy này có Python $found ($python). Hãy tạo gói cho đúng Python này (make bundle TARGET_PYTHON=…) trên máy cùng phiên bản Debian."
fi

if command -v dpkg-query >/dev/null 2>&1; then
  missing=""
  while read -r package; do
    [ -n "$package" ] || continue
    if ! dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing="$missing $package"
    fi
  done <debian-packages.txt
  if [ -n "$missing" ]; then
    fail "máy này thiếu các gói Debian:$missing. Hãy cài chúng từ kho Debian nội bộ hoặc đĩa cài đặt Debian (apt-get install$missing) rồi chạy lại."
  fi
else
  echo "Không kiểm tra được các gói Debian (không có dpkg-query); máy cần: $(tr '\n' ' ' <debian-packages.txt)"
fi

echo "Tạo môi trường Python tại $dest…"
"$python" -m venv "$dest" || fail "không tạo được môi trường Python tại $dest (cần gói Debian python3-venv và quyền ghi)."

echo "Cài diaban và các thư viện từ gói (không dùng mạng)…"
# Only the bundle's wheels: no index, none of this machine's pip configuration, links or constraints.
unset PIP_FIND_LINKS PIP_CONSTRAINT
if ! PIP_CONFIG_FILE=/dev/null "$dest/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-index --find-links "$bundle/wheels" --requirement requirements.txt; then
  fail "pip không cài được các thư viện từ gói (xem thông báo trên)."
fi
"$dest/bin/diaban" --help >/dev/null || fail "đã cài nhưng lệnh $dest/bin/diaban không chạy được (xem thông báo trên)."

echo "Đã cài xong $(grep '^diaban==' requirements.txt) vào $dest."
echo "Lệnh: $dest/bin/diaban (ví dụ: $dest/bin/diaban serve). Cấu hình: xem phần Deployment trong README."
