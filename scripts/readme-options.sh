#!/usr/bin/env bash
# scripts/readme-options.sh - rewrites the option list of docs/options.md
# (between the options:begin/end markers) from the shim's option table, as
# `heapsnap run --help` prints it.  tests/layout/test_readme.sh checks they agree.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DOC=docs/options.md
help=$("$BUILD/heapsnap" run --help 2>&1 | sed -n '/^Environment read by the shim/,$p' | tail -n +2)
HELP="$help" DOC="$DOC" python3 - <<'PY'
import os, re
doc = os.environ["DOC"]
s = open(doc).read()
block = "```text\n" + os.environ["HELP"] + "\n```\n"
s, n = re.subn(r"(<!-- options:begin[^\n]*-->\n).*?(<!-- options:end -->)",
               lambda m: m.group(1) + block + m.group(2), s, flags=re.S)
if n != 1:
    raise SystemExit("readme-options: markers not found in " + doc)
open(doc, "w").write(s)
PY
