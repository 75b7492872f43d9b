# tests/shim/record/test_peak.sh - the peak (PEAK section, peak_live) and temporary
# allocations (TEMPS) on tests/fixtures/peak.c, whose answers its header gives:
# at the peak site A (line 36) holds 10 x 1000 B, freed before site B (line 40)
# grows to 8 x 1000 B; line 26 makes 7 temporaries.  Exact mode vs
# stepped mode, HEAPSNAP_PEAK=off, a version-1 file, diff SNAP@peak, info,
# heapsnap_reset_peak, and the massif export's peak read by ms_print.
. tests/fixtures/lib.sh
FX_TEST=peak fx_ready peak || return 0
G=tests/golden
P=$FX/peak

# peak_top NAME SNAP ARGS...: heapsnap top ARGS SNAP into $T/NAME.txt (exit 0 wanted)
peak_top() {
  local name=$1 snap=$2; shift 2
  "$HEAPSNAP" top "$@" "$snap" >"$T/$name.txt" 2>"$T/$name.err" \
    || { t_fail "$name" "top $* exited $?: $(head -c 300 "$T/$name.err")"; return 1; }
}

# stored plain (HEAPSNAP_COMPRESS=0): the scripts below edit its sections
HEAPSNAP_PEAK=exact HEAPSNAP_COMPRESS=0 fx_profile "$T/exact.hsnap" "$P"
if peak_top peak_top_exact "$T/exact.hsnap" --peak; then
  t_golden peak_top_exact "$G/peak_top_exact.txt" "$T/peak_top_exact.txt"
fi
# The live view is untouched: site B, 8000 B.
peak_top peak_live_unchanged "$T/exact.hsnap" &&
  grep -qx 'tests/fixtures/peak.c:40: size=8000 B, count=8, average=1000 B' "$T/peak_live_unchanged.txt" \
  && t_pass peak_live_unchanged || t_fail peak_live_unchanged "$(cat "$T/peak_live_unchanged.txt")"
# Every key and --cumulative work on the peak as on live memory.
peak_top peak_top_function "$T/exact.hsnap" --peak --key function &&
  grep -qx 'main: size=10000 B, count=10, average=1000 B' "$T/peak_top_function.txt" \
  && t_pass peak_top_function || t_fail peak_top_function "$(cat "$T/peak_top_function.txt")"
peak_top peak_top_cumulative "$T/exact.hsnap" --peak --cumulative --key filename &&
  grep -qx 'tests/fixtures/peak.c:0: size=10000 B, count=10, average=1000 B' "$T/peak_top_cumulative.txt" \
  && t_pass peak_top_cumulative || t_fail peak_top_cumulative "$(cat "$T/peak_top_cumulative.txt")"
peak_top peak_top_exclude "$T/exact.hsnap" --peak --exclude '*peak.c' &&
  [ ! -s "$T/peak_top_exclude.txt" ] && t_pass peak_top_exclude \
  || t_fail peak_top_exclude "$(cat "$T/peak_top_exclude.txt")"

# diff SNAP@peak SNAP: what was freed after the peak, and what grew.
if "$HEAPSNAP" diff "$T/exact.hsnap@peak" "$T/exact.hsnap" >"$T/peak_diff.txt" 2>"$T/peak_diff.err"; then
  t_golden peak_diff_at_peak "$G/peak_diff_at_peak.txt" "$T/peak_diff.txt"
else t_fail peak_diff_at_peak "diff exited $?: $(cat "$T/peak_diff.err")"; fi
"$HEAPSNAP" diff --peak "$T/exact.hsnap" "$T/exact.hsnap" >"$T/peak_diff_both.txt" 2>&1 &&
  grep -qx 'tests/fixtures/peak.c:36: size=10000 B (+0 B), count=10 (+0), average=1000 B' "$T/peak_diff_both.txt" \
  && t_pass peak_diff_option || t_fail peak_diff_option "$(cat "$T/peak_diff_both.txt")"

# Temporary allocations: 7 of 7 (line 26), none of lines 30 and 31 (u's free
# comes between v's birth and its free) nor of A (tests/shim/record/test_temporaries.sh).
if peak_top peak_top_temporary "$T/exact.hsnap" --temporary; then
  t_golden peak_top_temporary "$G/peak_top_temporary.txt" "$T/peak_top_temporary.txt"
fi

# info: the peak's time and its top sites.
"$HEAPSNAP" info "$T/exact.hsnap" >"$T/peak_info.txt" 2>&1
grep -qE '^peak time: +[0-9]+\.[0-9]{3} s after start$' "$T/peak_info.txt" &&
  grep -qx 'peak held:        10000 B in 10 blocks (captured at every new peak)' "$T/peak_info.txt" &&
  grep -qx 'peak sites:       tests/fixtures/peak.c:36: size=10000 B, count=10, average=1000 B' "$T/peak_info.txt" \
  && t_pass peak_info_time_and_sites || t_fail peak_info_time_and_sites "$(grep -i peak "$T/peak_info.txt")"

# Stepped mode (the default: 1% or 4 KiB): a climb of 1000 x 1000 B is caught
# within a step of the peak (P / 1.01 < captured <= P), with far fewer captures.
fx_profile "$T/stepped.hsnap" "$P" 1000 1000
HEAPSNAP_PEAK=exact fx_profile "$T/stepped_exact.hsnap" "$P" 1000 1000
peak_top peak_stepped "$T/stepped.hsnap" --peak --key function &&
  n=$(sed -n 's/^main: size=.*, count=\([0-9]*\),.*/\1/p' "$T/peak_stepped.txt") &&
  [ -n "$n" ] && [ "$n" -le 1000 ] && [ "$n" -ge 991 ] && t_pass peak_stepped_within_step \
  || t_fail peak_stepped_within_step "want 991..1000 blocks of main: $(cat "$T/peak_stepped.txt")"
peak_top peak_stepped_exact "$T/stepped_exact.hsnap" --peak --key function &&
  grep -qx 'main: size=977 KiB, count=1000, average=1000 B' "$T/peak_stepped_exact.txt" \
  && t_pass peak_exact_mode_exact || t_fail peak_exact_mode_exact "$(cat "$T/peak_stepped_exact.txt")"

# HEAPSNAP_PEAK=off: no PEAK section, and top --peak says so in one line (exit 2).
HEAPSNAP_PEAK=off fx_profile "$T/off.hsnap" "$P"
t_status peak_off_exit_2 2 "$HEAPSNAP" top --peak "$T/off.hsnap"
[ "$(wc -l <"$T/status.out")" = 1 ] && grep -q 'no peak in this snapshot (written with HEAPSNAP_PEAK=off, or by heapsnap merge)' "$T/status.out" \
  && t_pass peak_off_one_line || t_fail peak_off_one_line "$(cat "$T/status.out")"

# A version-1 file (this snapshot without PEAK and TEMPS, its header saying 1)
# still loads: top works, top --peak and --temporary say why not.
python3 - "$T/exact.hsnap" "$T/v1.hsnap" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
out, off = [b[:24]], 24
while True:
    t, crc, n = struct.unpack_from("<IIQ", b, off)
    if t not in (9, 11):
        out.append(b[off:off + 16 + n])
    off += 16 + n
    if t == 0xffff:
        break
data = b"".join(out)
data = data[:8] + struct.pack("<IIQ", 1, 24, len(data)) + data[24:]
open(sys.argv[2], "wb").write(data)
EOF
peak_top peak_v1_loads "$T/v1.hsnap" && grep -q 'peak.c:40: size=8000 B' "$T/peak_v1_loads.txt" \
  && t_pass peak_v1_loads || t_fail peak_v1_loads "$(cat "$T/peak_v1_loads.txt" "$T/peak_v1_loads.err")"
t_status peak_v1_no_peak 2 "$HEAPSNAP" top --peak "$T/v1.hsnap"
grep -q 'no peak in this snapshot (written by a heapsnap before format version 2)' "$T/status.out" \
  && t_pass peak_v1_says_why || t_fail peak_v1_says_why "$(cat "$T/status.out")"
t_status peak_v1_no_temporary 2 "$HEAPSNAP" top --temporary "$T/v1.hsnap"

# heapsnap_reset_peak: the capture restarts too.  10 x 1000 B held and freed,
# reset, then 5 x 100 B: the peak is the 5 x 100 B.
cat >"$T/reset.c" <<'EOF'
#include <stdlib.h>
#include "heapsnap.h"
static void *keep[16];
int main(void)
{
    for (int i = 0; i < 10; i++) keep[i] = malloc(1000);
    for (int i = 0; i < 10; i++) free(keep[i]);
    heapsnap_reset_peak();
    for (int i = 0; i < 5; i++) keep[i] = malloc(100);
    return 0;
}
EOF
if t_build reset "$T/reset.c"; then
  HEAPSNAP_PEAK=exact fx_profile "$T/reset.hsnap" "$T/reset"
  peak_top peak_reset_restarts_capture "$T/reset.hsnap" --peak --key function &&
    grep -qx 'main: size=500 B, count=5, average=100 B' "$T/peak_reset_restarts_capture.txt" \
    && t_pass peak_reset_restarts_capture \
    || t_fail peak_reset_restarts_capture "$(cat "$T/peak_reset_restarts_capture.txt")"
else t_fail peak_reset_restarts_capture "cannot build reset.c"; fi

# Options that exclude each other, and --temporary is top's alone.
t_status peak_and_leaked_exclusive 2 "$HEAPSNAP" top --peak --leaked "$T/exact.hsnap"
t_status peak_diff_temporary_refused 2 "$HEAPSNAP" diff --temporary "$T/exact.hsnap" "$T/exact.hsnap"

# massif: the peak is a detailed snapshot of its own, heap_tree=peak, which
# ms_print marks "(peak)" and draws with its tree: site A's 10,000 B.
if "$HEAPSNAP" export -f massif -o "$T/massif.out" "$T/exact.hsnap" 2>"$T/ms.err" &&
   ms_print "$T/massif.out" >"$T/ms.txt" 2>>"$T/ms.err"; then
  grep -qxE ' Detailed snapshots: \[[0-9]+ \(peak\), [0-9]+\]' "$T/ms.txt" &&
    grep -qE '^->100\.00% \(10,000B\) 0x[0-9a-f]+: main \(tests/fixtures/peak\.c:36\)$' "$T/ms.txt" \
    && t_pass peak_massif_ms_print || t_fail peak_massif_ms_print "$(grep -E 'Detailed|peak.c' "$T/ms.txt")"
else t_fail peak_massif_ms_print "$(head -c 300 "$T/ms.err")"; fi

# pprof carries the peak as two more sample types (peak_objects, peak_space),
# read by go tool pprof: site A's 10000 B at the peak, site B's 8000 B live.
if command -v go >/dev/null && "$HEAPSNAP" export -f pprof -o "$T/peak.pb.gz" "$T/exact.hsnap" 2>"$T/pp.err"; then
  HOME=$T PPROF_TMPDIR=$T timeout 60 go tool pprof -top -lines -unit=B -sample_index=peak_space \
    "$T/peak.pb.gz" >"$T/pp.peak" 2>>"$T/pp.err"
  grep -qE '^ +10000B .* main tests/fixtures/peak\.c:36$' "$T/pp.peak" && grep -q '^Type: peak_space$' "$T/pp.peak" \
    && t_pass peak_pprof_sample_type || t_fail peak_pprof_sample_type "$(cat "$T/pp.peak" "$T/pp.err" | head -c 400)"
else t_fail peak_pprof_sample_type "go missing or export failed: $(head -c 300 "$T/pp.err")"; fi

# Damaged PEAK and TEMPS sections are refused with one line naming the section
# (the payload changed, its checksum recomputed, so only the reader's checks stand).
damage() { # damage OUT WHAT: a copy of exact.hsnap with one field of PEAK or TEMPS changed
  python3 - "$T/exact.hsnap" "$1" "$2" <<'PY'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
what, off = sys.argv[3], 24
while True:
    t, crc, n = struct.unpack_from("<IIQ", b, off)
    p = off + 16
    if t == 9 and what == "trace":      # the first item's trace id, far out of range
        struct.pack_into("<I", b, p + 40, 999999)
    elif t == 9 and what == "sum":      # the head's bytes no longer the items' sum
        struct.pack_into("<Q", b, p + 8, struct.unpack_from("<Q", b, p + 8)[0] + 1)
    elif t == 11 and what == "count":   # TEMPS' count != the trace count
        struct.pack_into("<I", b, p, struct.unpack_from("<I", b, p)[0] + 1)
    else:
        off = p + n
        if t == 0xffff:
            break
        continue
    struct.pack_into("<I", b, off + 4, zlib.crc32(bytes(b[p:p + n])))
    off = p + n
open(sys.argv[2], "wb").write(b)
PY
}
# PEAK is derived (the capture, by trace): a damaged one is dropped with one
# warning and the rest read (snap_derived); a question about the peak then
# exits 2 saying so
damage "$T/bad_trace.hsnap" trace && t_status peak_bad_trace_dropped_rest_read 0 "$HEAPSNAP" info "$T/bad_trace.hsnap"
grep -q 'warning: .*section PEAK: item 0: trace id 999999 out of range.*that section is left out' "$T/status.out" &&
  grep -q '^traces:' "$T/status.out" && t_pass peak_bad_trace_says_why \
  || t_fail peak_bad_trace_says_why "$(cat "$T/status.out")"
damage "$T/bad_sum.hsnap" sum && t_status peak_bad_sum_refused 2 "$HEAPSNAP" top --peak "$T/bad_sum.hsnap"
grep -q 'section PEAK: items add up to' "$T/status.out" &&
  grep -q 'no peak in this snapshot (its PEAK section was damaged and dropped)' "$T/status.out" &&
  t_pass peak_bad_sum_says_why || t_fail peak_bad_sum_says_why "$(cat "$T/status.out")"
# (top --temporary reads TEMPS; top's other views leave it stored: statsopt_skip)
damage "$T/bad_temps.hsnap" count && t_status peak_bad_temps_refused 2 "$HEAPSNAP" top --temporary "$T/bad_temps.hsnap"
grep -q 'section TEMPS: count' "$T/status.out" && t_pass peak_bad_temps_says_why \
  || t_fail peak_bad_temps_says_why "$(cat "$T/status.out")"
