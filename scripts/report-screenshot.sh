#!/usr/bin/env bash
# Renders the weekly report of a small fixture as HTML and takes a screenshot of
# it with headless Chromium (Debian's `chromium` package), to look at the tables
# and charts. Usage: scripts/report-screenshot.sh [OUT.png]   (default report.png)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-report.png}")
OCOP=build/client/ocop
[[ -x "$OCOP" ]] || scripts/build.sh --target ocop
command -v chromium > /dev/null || { echo "install chromium first: apt-get install chromium" >&2; exit 1; }
HOME_DIR=$(mktemp -d)
trap 'rm -rf "$HOME_DIR"' EXIT
o() { "$OCOP" --home "$HOME_DIR/device" "$@"; }
o init --commune 08800 > /dev/null
idea() { o new idea --set subject_name="HTX $1" --set subject_kind=cooperative --set product_name="$1" \
           --set product_group=1 --set description="Sản phẩm của xã Đôn Nhân"; }
for p in "Ổi Đôn Nhân" "Mật ong Sông Lô" "Chè hoa vàng" "Gạo nếp cái" "Dứa Hướng Đạo"; do idea "$p" > /dev/null; done
ids=($(o list idea --json | python3 -c 'import json,sys; print(" ".join(r["id"] for r in json.load(sys.stdin)))'))
o submit "${ids[0]}" > /dev/null 2>&1; o accept "${ids[0]}" > /dev/null
o submit "${ids[1]}" > /dev/null 2>&1; o return "${ids[1]}" --reason "Thiếu câu chuyện sản phẩm" > /dev/null
o submit "${ids[2]}" > /dev/null 2>&1
o new visit --set visited_on="$(date +%d/%m/%Y)" --set purpose=inspection --set findings="Cơ sở sạch" > /dev/null
o new confirmation --set idea_id="${ids[0]}" --set product_name="Ổi Đôn Nhân" --set year=2026 --set workers_total=12 \
  --set workers_local=9 --set 'materials=[{"name":"Ổi","value_vnd":50000000,"local_value_vnd":42000000,"origin":"commune"}]' > /dev/null
o report --format html --target 10 --output "$HOME_DIR/report.html"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$HOME_DIR/chromium" --window-size=1100,900 \
  --screenshot="$OUT" "file://$HOME_DIR/report.html" 2> /dev/null
echo "wrote $OUT"
