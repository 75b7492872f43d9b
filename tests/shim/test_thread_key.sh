# test_thread_key.sh - memory per thread: tests/fixtures/namedthreads.c's
# three named threads keep known bytes through one allocation line, so only
# the thread tells their traces apart.  top --key thread gives each its
# bytes and count by its name and tid (a name set after the allocations is
# read at the thread's end; main is marked), --thread (a name pattern, a
# tid) keeps one thread's memory under any key, blocks freed by another
# thread leave their allocator's sums, the JSON groups carry the thread,
# diff --key thread matches threads across snapshots, a snapshot without
# THREADS (one from before it) is refused with one line and exit 2, and a
# damaged THREADS names the section; past the shim's 1023 threads the rest
# share "[other threads]".
. tests/fixtures/lib.sh
FX_TEST=thread_key fx_ready namedthreads || return 0
NX=tests/fixtures/namedthreads.c
L=$(grep -n "the one allocation line" $NX | cut -d: -f1)

if ! fx_profile "$T/n.hsnap" "$FX/namedthreads" || [ ! -s "$T/n.hsnap" ]; then
  t_fail thread_key_fixture "exit $?: $(head -c 300 "$T/fx.err")"
  return 0
fi
fx_top thread_key_top "$T/n.hsnap" --key thread -n 0 || return 0
out=$T/thread_key_top.txt
row() { # NAME REGEX: the top line of that thread
  if grep -qE "$2" "$out"; then t_pass "$1"; else t_fail "$1" "$(tr '\n' '|' <"$out")"; fi
}
row thread_key_named_first 'ingest \[tid [0-9]+\]: size=1024 KiB, count=4, average=256 KiB$'
row thread_key_cross_freed_leave_allocator 'parser \[tid [0-9]+\]: size=586 KiB, count=2, average=293 KiB$'
row thread_key_named_after_allocating 'writer \[tid [0-9]+\]: size=10000 B, count=10, average=1000 B$'
row thread_key_main_marked "namedthreads \[tid [0-9]+, main\]: size="
[ "$(head -3 "$out" | cut -d' ' -f1 | tr '\n' ' ')" = "ingest parser writer " ] &&
  t_pass thread_key_order_by_size || t_fail thread_key_order_by_size "$(tr '\n' '|' <"$out")"

# --thread: by name pattern or tid, under the default key: the one line's share
tid=$(sed -n 's/^parser \[tid \([0-9]*\)\].*/\1/p' "$out")
fx_top thread_key_by_name "$T/n.hsnap" --thread 'pars*' -n 0 &&
  [ "$(cat "$T/thread_key_by_name.txt")" = "$NX:$L: size=586 KiB, count=2, average=293 KiB" ] &&
  t_pass thread_key_filter_by_name || t_fail thread_key_filter_by_name "$(tr '\n' '|' <"$T/thread_key_by_name.txt")"
fx_top thread_key_by_tid "$T/n.hsnap" --thread "$tid" -n 0 &&
  cmp -s "$T/thread_key_by_tid.txt" "$T/thread_key_by_name.txt" &&
  t_pass thread_key_filter_by_tid || t_fail thread_key_filter_by_tid "tid $tid: $(tr '\n' '|' <"$T/thread_key_by_tid.txt")"
main=$(sed -n 's/^namedthreads \[tid \([0-9]*\), main\].*/\1/p' "$out")
fx_top thread_key_main_line "$T/n.hsnap" --thread "$main" -n 0 &&
  grep -qxF "$NX:$L: size=5000 B, count=1, average=5000 B" "$T/thread_key_main_line.txt" &&
  t_pass thread_key_main_keeps_own || t_fail thread_key_main_keeps_own "$(tr '\n' '|' <"$T/thread_key_main_line.txt")"
# all threads through the one line: still one group under lineno
fx_top thread_key_lineno "$T/n.hsnap" -n 1 &&
  grep -qxF "$NX:$L: size=1625 KiB, count=17, average=95.6 KiB" "$T/thread_key_lineno.txt" &&
  t_pass thread_key_lineno_one_group || t_fail thread_key_lineno_one_group "$(tr '\n' '|' <"$T/thread_key_lineno.txt")"
fx_top thread_key_none "$T/n.hsnap" --thread nosuchthread -n 0 && [ ! -s "$T/thread_key_none.txt" ] &&
  t_pass thread_key_filter_nothing || t_fail thread_key_filter_nothing "$(head -c 200 "$T/thread_key_none.txt")"

# JSON: each group's thread
"$HEAPSNAP" top "$T/n.hsnap" --key thread --format json -n 0 >"$T/t.json" 2>"$T/t.err" &&
python3 - "$T/t.json" "$tid" >"$T/j.err" 2>&1 <<'PY' && t_pass thread_key_json || t_fail thread_key_json "$(tail -c 300 "$T/j.err")"
import json, sys
doc = json.load(open(sys.argv[1]))
g = {x["thread"]["name"]: x for x in doc["groups"] if x.get("thread")}
p = g["parser"]
assert p["thread"]["tid"] == int(sys.argv[2]) and p["thread"]["ended"] and not p["thread"]["main"], p
assert p["bytes"] == 600000 and p["blocks"] == 2, p
assert g["ingest"]["bytes"] == 1048576 and g["writer"]["bytes"] == 10000, g
assert [x for x in g.values() if x["thread"]["main"]], g
PY

# diff --key thread: a snapshot against itself moves nothing
"$HEAPSNAP" diff "$T/n.hsnap" "$T/n.hsnap" --key thread -n 0 >"$T/d.txt" 2>"$T/d.err" &&
  grep -qE '^parser \[tid [0-9]+\]: size=586 KiB \(\+0 B\), count=2 \(\+0\), average=293 KiB$' "$T/d.txt" &&
  t_pass thread_key_diff || t_fail thread_key_diff "$(head -c 300 "$T/d.txt" "$T/d.err" | tr '\n' '|')"

# a snapshot without THREADS (as before it): one line, exit 2; other keys read it
python3 - "$T/n.hsnap" "$T/old.hsnap" "$T/bad.hsnap" <<'PY' 2>"$T/strip.err"
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
head, at, old, bad = d[:24], 24, [], []
while at < len(d):
    typ, crc, ln = struct.unpack_from("<IIQ", d, at)
    sec = d[at:at + 16 + ln]
    if typ & 0xffff == 27:
        if typ & 0x10000:
            sys.exit("THREADS stored compressed: the test damages raw ones")
        p = bytearray(d[at + 16:at + 16 + ln])
        p[8] = 33  # record_size
        bad.append(struct.pack("<IIQ", typ, zlib.crc32(bytes(p)), ln) + bytes(p))
    else:
        old.append(sec)
        bad.append(sec)
    at += 16 + ln
for path, secs in ((sys.argv[2], old), (sys.argv[3], bad)):
    body = b"".join(secs)
    open(path, "wb").write(head[:16] + struct.pack("<Q", 24 + len(body)) + body)
PY
"$HEAPSNAP" top "$T/old.hsnap" --key thread >"$T/o.out" 2>"$T/o.err"; rc=$?
[ $rc = 2 ] && [ "$(wc -l <"$T/o.err")" = 1 ] && grep -q "needs a snapshot that names its threads" "$T/o.err" &&
  "$HEAPSNAP" top "$T/old.hsnap" -n 1 >/dev/null 2>&1 &&
  t_pass thread_key_old_snapshot_refused || t_fail thread_key_old_snapshot_refused "rc $rc: $(cat "$T/o.err" "$T/strip.err")"
"$HEAPSNAP" top "$T/bad.hsnap" >"$T/b.out" 2>"$T/b.err"; rc=$?
[ $rc = 2 ] && grep -q "section THREADS: records of 33 bytes" "$T/b.err" &&
  t_pass thread_key_damaged_section || t_fail thread_key_damaged_section "rc $rc: $(cat "$T/b.err")"

# bad input: one line, exit 2
"$HEAPSNAP" top "$T/n.hsnap" --key thread --cumulative >/dev/null 2>"$T/c.err"; rc=$?
[ $rc = 2 ] && [ "$(wc -l <"$T/c.err")" = 1 ] && t_pass thread_key_cumulative_refused ||
  t_fail thread_key_cumulative_refused "rc $rc: $(cat "$T/c.err")"
"$HEAPSNAP" top "$T/n.hsnap" --key thread,type >/dev/null 2>"$T/c2.err"; rc=$?
[ $rc = 2 ] && [ "$(wc -l <"$T/c2.err")" = 1 ] && t_pass thread_key_by_type_refused ||
  t_fail thread_key_by_type_refused "rc $rc: $(cat "$T/c2.err")"

# past the table: 1030 more threads of 16 B each, the last 11 share one group
if fx_profile "$T/many.hsnap" "$FX/namedthreads" many && fx_top thread_key_many "$T/many.hsnap" --key thread -n 0; then
  own=$(grep -c ' \[tid [0-9]*\]: size=16 B, count=1, average=16 B$' "$T/thread_key_many.txt")
  [ "$own" = 1019 ] && grep -qxF "[other threads]: size=176 B, count=11, average=16 B" "$T/thread_key_many.txt" &&
    t_pass thread_key_past_the_table_shared || t_fail thread_key_past_the_table_shared "$own own; $(grep -v 'size=16 B' "$T/thread_key_many.txt" | tr '\n' '|')"
else t_fail thread_key_past_the_table_shared "exit $?: $(head -c 300 "$T/fx.err")"; fi
