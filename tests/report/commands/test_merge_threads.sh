# test_merge_threads.sh - what `heapsnap merge` carries of THREADS and
# HOLDERS.  Two runs of tests/fixtures/namedthreads.c (one with "many":
# threads past the shim's table, "[other threads]") merged with --threads
# read under --key thread as the two snapshots summed (each process's
# threads apart, by name and tid; the shared group once), --thread TID
# keeps one process's thread, and the default view is unchanged by the
# traces kept apart per thread; without --threads THREADS is dropped (and
# the traces interned across processes as before); --threads refuses an
# input without THREADS in one line, exit 2; HOLDERS
# (tests/fuzz/mkcorpus.c's leaks.hsnap has one) is dropped, as merge's
# opening says why.
. tests/fixtures/lib.sh
FX_TEST=merge_threads fx_ready namedthreads || return 0
if ! fx_profile "$T/a.hsnap" "$FX/namedthreads" || ! fx_profile "$T/m.hsnap" "$FX/namedthreads" many ||
   ! "$HEAPSNAP" merge --threads "$T/a.hsnap" "$T/m.hsnap" -o "$T/am.hsnap" 2>"$T/merge.err"; then
  t_fail merge_threads_fixture "$(head -c 300 "$T/fx.err" "$T/merge.err")"
  return 0
fi
# sections FILE: the section types of FILE, one per line (ZSTD bit off)
sections() {
  python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
at = 24
while at + 16 <= len(d):
    typ, _, ln = struct.unpack_from("<IIQ", d, at)
    print(typ & 0xffff)
    at += 16 + ln
PY
}
same() { # CASE A B: files A and B are equal and not empty
  if [ -s "$2" ] && cmp -s "$2" "$3"; then t_pass "$1"
  else t_fail "$1" "$(diff "$2" "$3" | head -6 | tr '\n' '|')"; fi
}

"$HEAPSNAP" top --key thread -n 0 "$T/am.hsnap" >"$T/am.thr" 2>/dev/null
"$HEAPSNAP" top --key thread -n 0 "$T/a.hsnap" "$T/m.hsnap" >"$T/sum.thr" 2>/dev/null
same merge_threads_key_thread_as_summed "$T/sum.thr" "$T/am.thr"
mains=$(grep -c '^namedthreads \[tid [0-9]*, main\]' "$T/am.thr")
if sections "$T/am.hsnap" | grep -qx 27 && [ "$mains" = 2 ] &&
   [ "$(grep -c '^\[other threads\]: size=176 B, count=11' "$T/am.thr")" = 1 ]; then
  t_pass merge_threads_processes_apart_others_shared
else t_fail merge_threads_processes_apart_others_shared "$mains mains: $(grep -v 'size=16 B' "$T/am.thr" | tr '\n' '|')"; fi

tid=$("$HEAPSNAP" top --key thread -n 0 "$T/a.hsnap" 2>/dev/null |
      sed -n 's/^parser \[tid \([0-9]*\)\].*/\1/p')
"$HEAPSNAP" top --thread "$tid" -n 0 "$T/am.hsnap" >"$T/am.tid" 2>/dev/null
"$HEAPSNAP" top --thread "$tid" -n 0 "$T/a.hsnap" >"$T/a.tid" 2>/dev/null
same merge_threads_filter_by_tid "$T/a.tid" "$T/am.tid"

"$HEAPSNAP" top -n 0 "$T/am.hsnap" >"$T/am.top" 2>/dev/null
"$HEAPSNAP" top -n 0 "$T/a.hsnap" "$T/m.hsnap" >"$T/sum.top" 2>/dev/null
same merge_threads_default_view_unchanged "$T/sum.top" "$T/am.top"

# without --threads: no THREADS, one trace per stack across the processes
"$HEAPSNAP" merge "$T/a.hsnap" "$T/m.hsnap" -o "$T/plain.hsnap" 2>/dev/null
"$HEAPSNAP" top --key thread "$T/plain.hsnap" >/dev/null 2>"$T/plain.err"; rc=$?
nt() { "$HEAPSNAP" info "$1" 2>/dev/null | sed -n 's/^traces: *//p'; }
if [ $rc = 2 ] && ! sections "$T/plain.hsnap" | grep -qx 27 &&
   grep -q "needs a snapshot that names its threads" "$T/plain.err" &&
   [ "$(nt "$T/plain.hsnap")" -lt "$(nt "$T/am.hsnap")" ]; then
  t_pass merge_threads_only_when_asked
else t_fail merge_threads_only_when_asked "rc $rc, traces $(nt "$T/plain.hsnap") vs $(nt "$T/am.hsnap"): $(cat "$T/plain.err")"; fi

# --threads and an input without THREADS (the section cut out, as an older
# shim wrote it): one line, exit 2
python3 - "$T/a.hsnap" "$T/old.hsnap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
at, body = 24, b""
while at < len(d):
    typ, _, ln = struct.unpack_from("<IIQ", d, at)
    if typ & 0xffff != 27:
        body += d[at:at + 16 + ln]
    at += 16 + ln
open(sys.argv[2], "wb").write(d[:16] + struct.pack("<Q", 24 + len(body)) + body)
PY
"$HEAPSNAP" merge --threads "$T/old.hsnap" "$T/m.hsnap" -o "$T/om.hsnap" 2>"$T/om.err"; rc=$?
if [ $rc = 2 ] && [ "$(wc -l <"$T/om.err")" = 1 ] && [ ! -e "$T/om.hsnap" ] &&
   grep -q "merge: --threads: .*old.hsnap names no threads" "$T/om.err"; then
  t_pass merge_threads_refuses_input_without
else t_fail merge_threads_refuses_input_without "rc $rc: $(cat "$T/om.err")"; fi

# HOLDERS: block addresses of different processes cannot share one section
if ${CC:-gcc} -Ishim tests/fuzz/mkcorpus.c -o "$T/mkcorpus" -lz 2>"$T/cc.err" &&
   mkdir -p "$T/c" && "$T/mkcorpus" "$T/c" >/dev/null &&
   "$HEAPSNAP" merge "$T/c/leaks.hsnap" "$T/c/leaks.hsnap" -o "$T/ll.hsnap" 2>"$T/ll.err" &&
   sections "$T/c/leaks.hsnap" | grep -qx 29 && ! sections "$T/ll.hsnap" | grep -qx 29 &&
   "$HEAPSNAP" info "$T/ll.hsnap" >/dev/null 2>&1; then
  t_pass merge_holders_dropped
else t_fail merge_holders_dropped "$(head -c 300 "$T/cc.err" "$T/ll.err")"; fi
