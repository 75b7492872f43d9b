# tests/report/commands/test_run_summary.sh - the lines `heapsnap run` ends with on
# stderr (summary_print): the peak and the site that held most of it,
# the heap at exit (or why there is no summary), valgrind's LEAK SUMMARY under --leaks (the sums `heapsnap
# leaks` prints) and how long the check stopped the program, the next command (top --peak when the peak dwarfs the heap at
# exit); CMD's stdout and status untouched; -q silences it.
. tests/fixtures/lib.sh
hs_re=$(printf '%s' "$HEAPSNAP" | sed 's/[].[\\*^$()+?{|]/\\&/g') # the command as run, in a regex
FX_TEST=run_summary fx_ready sites forker demo || return 0
if ! tests/shim/leak/classes/leakfix.sh direct_into_cycle >"$T/lf.log" 2>&1; then
  t_fail run_summary "leak fixtures do not build: $(head -c 300 "$T/lf.log")"; return 0
fi
LF=$BUILD/leakfix
# dbg STRACE_LOG: how many files under /usr/lib/debug/ (or their cached copies) it opened
dbg() { t_debug_opens "$1"; }

# --- sites: the peak's top site and the heap at exit ----------------------------
"$HEAPSNAP" run -o "$T/s.%p.hsnap" -- "$FX/sites" >"$T/s.out" 2>"$T/s.err"
snap=$(sed -n 's/^heapsnap: wrote //p' "$T/s.err")
# sites.c:52 holds 1024 KiB of the 1087 KiB live until exit (top_sites_lineno.txt)
if grep -Eq '^heapsnap: peak 1087 KiB in 207 blocks at [0-9.]+ s; most at tests/fixtures/sites\.c:52 \(1024 KiB in 1 blocks\)$' "$T/s.err"; then
  t_pass run_summary_names_peak_and_its_site
else t_fail run_summary_names_peak_and_its_site "$(cat "$T/s.err")"; fi
grep -qx 'heapsnap: at exit 1087 KiB in 207 blocks' "$T/s.err" && t_pass run_summary_names_heap_at_exit \
  || t_fail run_summary_names_heap_at_exit "$(cat "$T/s.err")"
grep -qx "heapsnap: next: $HEAPSNAP top $snap" "$T/s.err" && t_pass run_summary_names_next_command \
  || t_fail run_summary_names_next_command "want 'next: $HEAPSNAP top $snap': $(cat "$T/s.err")"
# named as the user can type it again: "heapsnap" when that is the one on PATH
PATH="${HEAPSNAP%/*}:$PATH" "$HEAPSNAP" run -o "$T/sp.%p.hsnap" -- "$FX/sites" >/dev/null 2>"$T/sp.err"
grep -qx "heapsnap: next: heapsnap top $(sed -n 's/^heapsnap: wrote //p' "$T/sp.err")" "$T/sp.err" &&
  t_pass run_summary_next_is_heapsnap_on_path || t_fail run_summary_next_is_heapsnap_on_path "$(cat "$T/sp.err")"
# what it names runs as written
next=$(sed -n 's/^heapsnap: next: //p' "$T/s.err")
if [ -n "$next" ] && (cd "$T" && eval "$next") >"$T/next.out" 2>&1 &&
   grep -q 'sites.c:52: size=1024 KiB' "$T/next.out"; then t_pass run_summary_next_command_runs
else t_fail run_summary_next_command_runs "'$next': $(head -c 300 "$T/next.out")"; fi

# --- a program that frees its peak before exit: top --peak is the command to run --
cat >"$T/dwarf.c" <<'EOF2'
#include <stdlib.h>
#include <string.h>
static void *volatile keep;
int main(void)
{
    char *p = malloc(1 << 20); /* line 6: the peak */
    memset(p, 1, 1 << 20);
    free(p);
    keep = malloc(100);
    return 0;
}
EOF2
if t_build dwarf "$T/dwarf.c" 2>"$T/cc.err"; then
  "$HEAPSNAP" run -o "$T/p.%p.hsnap" -- "$T/dwarf" >/dev/null 2>"$T/p.err"
  snap=$(sed -n 's/^heapsnap: wrote //p' "$T/p.err")
  if grep -Eq "^heapsnap: next: $hs_re top --peak $snap \(the peak is [0-9]+x the heap at exit\)$" "$T/p.err" &&
     grep -Eq '^heapsnap: peak 1024 KiB in 1 blocks at .* most at .*dwarf\.c:6 \(1024 KiB in 1 blocks\)$' "$T/p.err"; then
    t_pass run_summary_points_at_top_peak
  else t_fail run_summary_points_at_top_peak "$(cat "$T/p.err")"; fi
else t_fail run_summary_points_at_top_peak "cc: $(head -c 200 "$T/cc.err")"; fi
# ... and says so in words when nothing was live at exit
printf '#include <stdlib.h>\n#include <string.h>\nint main(void) { char *p = malloc(1 << 20); memset(p, 1, 1 << 20); free(p); return 0; }\n' >"$T/none.c"
if t_build none "$T/none.c" 2>"$T/cc.err"; then
  "$HEAPSNAP" run -o "$T/n.%p.hsnap" -- "$T/none" >/dev/null 2>"$T/n.err"
  snap=$(sed -n 's/^heapsnap: wrote //p' "$T/n.err")
  grep -Eq "^heapsnap: next: $hs_re top --peak $snap \(nothing was live at exit\)$" "$T/n.err" &&
    t_pass run_summary_nothing_live_at_exit_in_words ||
    t_fail run_summary_nothing_live_at_exit_in_words "$(cat "$T/n.err")"
else t_fail run_summary_nothing_live_at_exit_in_words "cc: $(head -c 200 "$T/cc.err")"; fi

# ... and says why when the only snapshot written does not load (spoil.c:
# a child's, its head zeroed by the parent, which ends writing none)
if t_build spoil tests/report/commands/spoil.c 2>"$T/cc.err"; then
  "$HEAPSNAP" run -o "$T/sp.%p.hsnap" -- "$T/spoil" "$T/sp.%d.hsnap" >/dev/null 2>"$T/sp.err"
  grep -Eq '^heapsnap: no summary: .*/sp\.[0-9]+\.hsnap: not a heapsnap snapshot \(bad magic\)$' "$T/sp.err" &&
    t_pass run_summary_says_why_none ||
    t_fail run_summary_says_why_none "$(cat "$T/sp.err")"
else t_fail run_summary_says_why_none "cc: $(head -c 200 "$T/cc.err")"; fi

# --- the summary symbolizes a native stack up to its site only: the C runtime's
# frames past main (libc's separate debug file, compressed DWARF read whole:
# 16 MB of the CLI's RSS) are not read; top's tracebacks of the same file are
if ! command -v strace >/dev/null; then
  t_skip run_summary_reads_no_frame_past_the_site "no strace (Debian package strace)"
elif [ -x "$T/dwarf" ]; then
  strace -f -qq -e trace=openat -o "$T/st.run" "$HEAPSNAP" run -o "$T/q.%p.hsnap" -- "$T/dwarf" \
    >/dev/null 2>"$T/q.err"
  snap=$(sed -n 's/^heapsnap: wrote //p' "$T/q.err")
  strace -f -qq -e trace=openat -o "$T/st.top" "$HEAPSNAP" top --peak --key traceback "$snap" \
    >/dev/null 2>&1
  if [ "$(dbg "$T/st.top")" = 0 ]; then
    t_skip run_summary_reads_no_frame_past_the_site "no separate debug file for libc (libc6-dbg)"
  elif [ "$(dbg "$T/st.run")" = 0 ] && grep -q 'most at .*dwarf\.c:6 ' "$T/q.err"; then
    t_pass run_summary_reads_no_frame_past_the_site
  else t_fail run_summary_reads_no_frame_past_the_site "$(grep /usr/lib/debug/ "$T/st.run" | grep -v ENOENT | head -2) $(cat "$T/q.err")"; fi
fi

# ... and so do the views that name sites and what holds them (top
# --retainers, leaks --why), though they name the whole stacks' holders:
# each of their lines is a site's (statsopt_site_alone, cmd_leaks); and
# timeline's points (memline's site_of) and trend's lines
if ! command -v strace >/dev/null; then
  t_skip site_views_read_no_frame_past_the_site "no strace (Debian package strace)"
elif [ -x "$T/dwarf" ]; then
  "$HEAPSNAP" run -q --leaks -o "$T/rv.%p.hsnap" -- "$T/dwarf" >/dev/null 2>&1
  rv=$(ls "$T"/rv.*.hsnap 2>/dev/null | head -1)
  strace -f -qq -e trace=openat -o "$T/st.rv" "$HEAPSNAP" top --retainers "$rv" >"$T/rv.out" 2>&1
  strace -f -qq -e trace=openat -o "$T/st.why" "$HEAPSNAP" leaks --why dwarf.c:9 "$rv" \
    >"$T/why.out" 2>&1
  strace -f -qq -e trace=openat -o "$T/st.tl" "$HEAPSNAP" timeline "$rv" >"$T/tl.out" 2>&1
  strace -f -qq -e trace=openat -o "$T/st.tr" "$HEAPSNAP" trend "$rv" "$rv" >"$T/tr.out" 2>&1
  strace -f -qq -e trace=openat -o "$T/st.tb" "$HEAPSNAP" top --key traceback "$rv" \
    >/dev/null 2>&1
  if [ "$(dbg "$T/st.tb")" = 0 ]; then
    t_skip site_views_read_no_frame_past_the_site "no separate debug file for libc (libc6-dbg)"
  elif [ "$(dbg "$T/st.rv")" = 0 ] && [ "$(dbg "$T/st.why")" = 0 ] && [ "$(dbg "$T/st.tl")" = 0 ] &&
       [ "$(dbg "$T/st.tr")" = 0 ] && grep -q '^0 growing sites across 2 snapshots' "$T/tr.out" &&
       grep -q '^peak: 1024 KiB at .*dwarf\.c:6 1024 KiB$' "$T/tl.out" &&
       grep -q 'dwarf\.c:9: 100 B still reachable in 1 blocks, kept alive by:$' "$T/rv.out" &&
       grep -q ': from keep in dwarf$' "$T/why.out"; then
    t_pass site_views_read_no_frame_past_the_site
  else t_fail site_views_read_no_frame_past_the_site "$(grep /usr/lib/debug/ "$T/st.rv" "$T/st.why" "$T/st.tl" "$T/st.tr" | grep -v ENOENT | head -2) $(head -c 300 "$T/rv.out") $(head -c 300 "$T/why.out") $(tail -c 200 "$T/tl.out")"; fi
fi

# --- the peak's top line keyed by a library without debug information
# ("lib_keep (libtopx.so)") that no stack of libc's own sites passes through:
# those stacks are never symbolized (sqlite's case: libc's fopen and stdio
# buffer under the sqlite3 shell, the top line in libsqlite3)
cat >"$T/topx.c" <<'EOF2'
#include <stdlib.h>
void *keep[10];
void lib_keep(void) { for (int i = 0; i < 10; i++) keep[i] = malloc(10240); }
EOF2
cat >"$T/topmain.c" <<'EOF2'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
void lib_keep(void);
static void *volatile own, *volatile dup;
int main(void)
{
    FILE *f = fopen("/dev/null", "r"); /* libc's own site, under main */
    char line[64];
    if (f && fgets(line, sizeof line, f)) return 1;
    own = malloc(3000);
    dup = strdup("a wrapper's block");
    lib_keep();
    return f == NULL;
}
EOF2
if gcc -O1 -shared -fPIC -o "$T/libtopx.so" "$T/topx.c" 2>"$T/cc.err" &&
   t_build topmain "$T/topmain.c" -L"$T" -ltopx -Wl,-rpath,"$T" 2>>"$T/cc.err"; then
  if ! command -v strace >/dev/null; then
    t_skip run_summary_library_top_reads_no_libc "no strace (Debian package strace)"
  else
    strace -f -qq -e trace=openat -o "$T/st.x" "$HEAPSNAP" run -o "$T/x.%p.hsnap" -- "$T/topmain" \
      >/dev/null 2>"$T/x.err"
    snap=$(sed -n 's/^heapsnap: wrote //p' "$T/x.err")
    want=$("$HEAPSNAP" top --peak -n 1 "$snap" 2>/dev/null | head -1 |
      sed -n 's/^\(.*\): size=\(.*\), count=\([0-9]*\),.*/most at \1 (\2 in \3 blocks)/p')
    strace -f -qq -e trace=openat -o "$T/st.xt" "$HEAPSNAP" top --peak -n 100 "$snap" >/dev/null 2>&1
    if [ "$(dbg "$T/st.xt")" = 0 ]; then
      t_skip run_summary_library_top_reads_no_libc "no separate debug file for libc (libc6-dbg)"
    elif [ "$(dbg "$T/st.x")" = 0 ] && [ -n "$want" ] && grep -qF "$want" "$T/x.err" &&
         grep -q 'most at lib_keep (libtopx.so) (100 KiB in 10 blocks)' "$T/x.err"; then
      t_pass run_summary_library_top_reads_no_libc
    else t_fail run_summary_library_top_reads_no_libc "top says '$want'; $(grep /usr/lib/debug/ "$T/st.x" | grep -v ENOENT | head -1) $(cat "$T/x.err")"; fi
  fi
else t_fail run_summary_library_top_reads_no_libc "cc: $(head -c 200 "$T/cc.err")"; fi

# --- --leaks: the LEAK SUMMARY `heapsnap leaks` prints, in its words, and its records
"$HEAPSNAP" run --leaks -o "$T/l.%p.hsnap" -- "$LF/direct_into_cycle" >/dev/null 2>"$T/l.err"
snap=$(sed -n 's/^heapsnap: wrote //p' "$T/l.err")
"$HEAPSNAP" leaks "$snap" >"$T/l.leaks" 2>&1
want=$(sed -n '/^LEAK SUMMARY:/,$p' "$T/l.leaks" | sed -n \
  -e 's/^   \(direct\|indirect\|cycle\|possibly lost\|still reachable\): /heapsnap:    \1: /p')
got=$(sed -n '/^heapsnap: LEAK SUMMARY:$/,/^heapsnap: next/p' "$T/l.err" | grep '^heapsnap:    [a-z]')
if [ -n "$want" ] && [ "$want" = "$got" ] && grep -q '^heapsnap:    direct: 24 bytes in 1 blocks$' "$T/l.err"; then
  t_pass run_leaks_prints_leak_summary
else t_fail run_leaks_prints_leak_summary "want (from heapsnap leaks) '$want', got '$got'"; fi
# and how long the check took and stopped the program (hsnap_leaks_head's
# stop_ns: the threads' hold, never more than the check)
st=$(sed -n 's/^heapsnap: leak check: \([0-9.]*\) \(m*s\) (the program.s exit waited for it); the program.s threads were stopped \([0-9.]*\) \(m*s\) of it$/\1\2 \3\4/p' "$T/l.err")
if [ -n "$st" ] && awk -v a="${st% *}" -v b="${st#* }" 'function ns(x) { return x ~ /ms$/ ? x * 1e6 : x * 1e9 }
     BEGIN { exit !(ns(b) > 0 && ns(b) <= ns(a) * 1.01 + 1e5) }'; then
  t_pass run_leaks_prints_stop
else t_fail run_leaks_prints_stop "'$st': $(grep 'leak check' "$T/l.err")"; fi
# and the largest records with their stacks, as `heapsnap leaks` prints them
rec=$(sed -n '/^[0-9].* in loss record 1 of /,/^$/p' "$T/l.leaks" | sed 's/^/heapsnap: /; s/ *$//')
got=$(sed -n '/^heapsnap: [0-9].* in loss record 1 of /,/^heapsnap:$/p' "$T/l.err")
[ -n "$rec" ] && [ "$rec" = "$got" ] && t_pass run_leaks_prints_largest_records ||
  t_fail run_leaks_prints_largest_records "want '$rec', got '$got'"
grep -qx "heapsnap: next: $HEAPSNAP leaks $snap" "$T/l.err" && t_pass run_leaks_next_is_leaks \
  || t_fail run_leaks_next_is_leaks "$(tail -3 "$T/l.err")"
# the summary reads no RETAINERS nor HOLDERS (summary_skip: only leaks --why and top
# --retainers do): both made unreadable (a compressed payload of 0xff, its checksum
# recomputed), the lines are the same, where top --retainers refuses the file
python3 - "$snap" "$T/lr.hsnap" <<'PY'
import struct, sys, zlib
b, out, off = open(sys.argv[1], "rb").read(), bytearray(), 24
out += b[:off]
while True:
    t, crc, n = struct.unpack_from("<IIQ", b, off)
    p = b[off + 16:off + 16 + n]
    if t & 0xffff in (8, 29):
        t, p = (t & 0xffff) | 0x10000, b"\xff" * 32
    out += struct.pack("<IIQ", t, zlib.crc32(p), len(p)) + p
    off += 16 + n
    if t == 0xffff:
        break
struct.pack_into("<Q", out, 16, len(out))
open(sys.argv[2], "wb").write(out)
PY
"$HEAPSNAP" run --leaks -- env -u LD_PRELOAD sh -c 'printf "%s\n" "$0" >>"$HEAPSNAP_MANIFEST"' \
  "$T/lr.hsnap" >/dev/null 2>"$T/lr.err"
lines() { sed -n '/^heapsnap: peak/,/^heapsnap: next/p' "$1" | grep -v '^heapsnap: \(next\|leak check\):'; }
if lines "$T/l.err" >"$T/l.lines" && lines "$T/lr.err" >"$T/lr.lines" && [ -s "$T/l.lines" ] &&
   cmp -s "$T/l.lines" "$T/lr.lines" && ! "$HEAPSNAP" top --retainers "$T/lr.hsnap" >/dev/null 2>&1; then
  t_pass run_leaks_summary_reads_no_retainers
else t_fail run_leaks_summary_reads_no_retainers "$(diff "$T/l.lines" "$T/lr.lines" | head -c 600)"; fi

# --- several processes: the one of largest peak (forker's child), and a line says so --
"$HEAPSNAP" run -o "$T/f.%p.hsnap" -- sh -c '"$1"; true' sh "$FX/forker" >/dev/null 2>"$T/f.err"
if grep -Eq '^heapsnap: 3 processes wrote snapshots; of largest peak: pid [0-9]+ \(forker\)$' "$T/f.err" &&
   grep -Eq '^heapsnap: peak .* most at tests/fixtures/forker\.c:21 ' "$T/f.err"; then
  t_pass run_summary_of_several_processes_names_largest
else t_fail run_summary_of_several_processes_names_largest "$(cat "$T/f.err")"; fi
# the program's summary (a name without %p), and a line for the process of
# another pid that peaked higher, with the command that shows its peak
"$HEAPSNAP" run -o "$T/w.hsnap" -- sh -c '"$1"; "$1"; true' sh "$FX/forker" >/dev/null 2>"$T/w.err"
other=$(sed -n "s|^heapsnap: pid [0-9]* (forker) peaked higher, at [0-9.]* [KM]*i*B: $hs_re top --peak ||p" "$T/w.err")
if grep -Eq '^heapsnap: [0-9]+ processes wrote snapshots; the program.s: pid [0-9]+ \(dash|sh|bash\)$' "$T/w.err" &&
   [ -n "$other" ] && [ -f "$other" ] && "$HEAPSNAP" top --peak -n 1 "$other" 2>/dev/null | grep -q '^tests/fixtures/forker\.c:21:' &&
   [ "$(grep -n 'peaked higher' "$T/w.err" | cut -d: -f1)" -lt "$(grep -n '^heapsnap: next:' "$T/w.err" | cut -d: -f1)" ]; then
  t_pass run_summary_names_a_process_that_peaked_higher
else t_fail run_summary_names_a_process_that_peaked_higher "'$other': $(cat "$T/w.err")"; fi
"$HEAPSNAP" run -o "$T/one.hsnap" -- "$FX/sites" >/dev/null 2>"$T/one.err"
! grep -q 'peaked higher' "$T/one.err" && t_pass run_summary_one_process_names_no_other ||
  t_fail run_summary_one_process_names_no_other "$(cat "$T/one.err")"
# an interval well under demo's run (0.07-0.10 s under the shim here: at
# 0.1 it sometimes ended before the first, leaving one snapshot)
"$HEAPSNAP" run --interval 0.02 -o "$T/iv.%p.%n.hsnap" -- "$FX/demo" >/dev/null 2>"$T/iv.err"
n=$(grep -c '^heapsnap: wrote ' "$T/iv.err")
last=$(sed -n 's/^heapsnap: wrote //p' "$T/iv.err" | tail -1)
if [ "$n" -ge 2 ] && grep -Eq "^heapsnap: the latest of $n snapshots of pid [0-9]+ \(demo\)$" "$T/iv.err" &&
   grep -qx "heapsnap: next: $HEAPSNAP top $last" "$T/iv.err"; then
  t_pass run_summary_of_a_series_is_its_latest
else t_fail run_summary_of_a_series_is_its_latest "$(cat "$T/iv.err")"; fi

# --- the program's stdout and status stay its own; -q says nothing ----------------
"$HEAPSNAP" run -o "$T/x.%p.hsnap" -- sh -c 'echo out; echo err >&2; exit 7' >"$T/x.out" 2>"$T/x.err"
rc=$?
if [ "$rc" = 7 ] && [ "$(cat "$T/x.out")" = out ] && grep -q '^heapsnap: next:' "$T/x.err"; then
  t_pass run_summary_keeps_stdout_and_status
else t_fail run_summary_keeps_stdout_and_status "status $rc, stdout '$(cat "$T/x.out")'"; fi
"$HEAPSNAP" run -q -o "$T/q.%p.hsnap" -- "$FX/sites" >"$T/q.out" 2>"$T/q.err"
rc=$?
set -- "$T"/q.*.hsnap
if [ "$rc" = 0 ] && [ ! -s "$T/q.err" ] && [ -s "$1" ]; then t_pass run_quiet_says_nothing
else t_fail run_quiet_says_nothing "status $rc, stderr: $(head -c 300 "$T/q.err")"; fi
"$HEAPSNAP" run --quiet -o /nonexistent-dir/q.%p.hsnap -- "$FX/sites" >/dev/null 2>"$T/q2.err"
grep -q 'could not write\|no snapshot was written\|warning' "$T/q2.err" && t_pass run_quiet_keeps_warnings \
  || t_fail run_quiet_keeps_warnings "stderr: $(head -c 300 "$T/q2.err")"
