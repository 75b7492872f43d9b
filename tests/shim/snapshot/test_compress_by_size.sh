# tests/shim/snapshot/test_compress_by_size.sh - a snapshot is compressed by
# its estimated size (snap_level: live blocks and traces), not by its count of
# live blocks: a program with 100 live blocks but 360 distinct stacks (the old
# rule, 2048 live blocks, left it raw) is compressed; the README's Python
# one-liner's snapshot is under 1 MB (test_python_exit.sh pins its lines).
t_build fewblocks tests/shim/snapshot/fewblocks.c -O1 -fno-omit-frame-pointer || {
  t_fail compress_by_size "fewblocks does not build"; return 0; }
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/m.%p.hsnap" "$T/fewblocks" 2>"$T/m.err"
set -- "$T"/m.*.hsnap
"$HEAPSNAP" info "$1" >"$T/m.info" 2>&1
blocks=$(sed -n 's/^live blocks: *//p' "$T/m.info")
if [ -n "$blocks" ] && [ "$blocks" -lt 2048 ] && grep -q '^on disk: .*compressed (zstd)' "$T/m.info"; then
  t_pass compress_few_blocks_many_stacks
else t_fail compress_few_blocks_many_stacks "$blocks live: $(grep '^on disk' "$T/m.info") $(head -c 200 "$T/m.err")"; fi

PY=/usr/bin/python3
if [ -x "$PY" ]; then
  mkdir -p "$T/py"
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/py/x.%p.hsnap" "$PY" -c 'x = [str(i) * 10 for i in range(100000)]' 2>"$T/py.err"
  set -- "$T"/py/*.hsnap
  size=$(stat -c %s "$1" 2>/dev/null || echo 0)
  if [ $# = 1 ] && [ "$size" -gt 0 ] && [ "$size" -lt 1000000 ]; then t_pass compress_readme_one_liner_under_1mb
  else t_fail compress_readme_one_liner_under_1mb "$# files, $size bytes: $(head -c 200 "$T/py.err")"; fi
else t_skip compress_readme_one_liner_under_1mb "no /usr/bin/python3"; fi
