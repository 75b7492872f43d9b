#!/usr/bin/env bash
# scripts/screenshot.sh - docs/reports.md's picture of the HTML report: runs the
# bundled demo (scripts/demo.sh: tests/fixtures/demo.c under `heapsnap run
# --leaks`, snapshots in $BUILD/demo/), writes its report with `heapsnap
# html` and has headless Chromium photograph it into docs/report.png.
# Usage: scripts/screenshot.sh [OUT.png]   (after `make`)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
out=${1:-docs/report.png}
scripts/demo.sh >/dev/null
page=$PWD/$BUILD/demo/report.html
"$BUILD/heapsnap" html -o "$page" "$BUILD"/demo/*.hsnap
profile=$(mktemp -d); trap 'rm -rf "$profile"' EXIT
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --force-device-scale-factor=1 \
  --window-size=1200,1500 --screenshot="$PWD/$out" "file://$page" 2>/dev/null
echo "wrote $out from $page"
