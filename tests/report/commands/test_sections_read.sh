# tests/report/commands/test_sections_read.sh - each command inflates the
# sections its report reads and leaves the others as they are stored
# (snap_load_skip with leaks_skip, gate_skip, statsopt_skip, TL_SKIP,
# export_skip, trend_skip and INFO_SKIP): on a big Python snapshot the
# blocks, the objects and the peak's capture decode to hundreds of MiB
# that `top` and `leaks` never look at.  A snapshot with a leak check is
# copied with one section made unreadable (its checksum made again, so
# that only its reading finds it): a command that reads that section
# names it (a warning that it left it out, or its error); one that does
# not read it says nothing and prints what it printed from the whole
# file.  And SNAP@peak with an option that --peak refuses is refused the
# same way (exit 2, one line), where --key type there used to crash in
# stats' grouping.
. tests/lib.sh
cat >"$T/prog.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
void *volatile keep;
__attribute__((noinline)) static void lose(void) { char *volatile p = malloc(100); memset(p, 1, 100); p = NULL; }
__attribute__((noinline)) static void *hold(size_t n) { void *p = malloc(n); memset(p, 2, n); return p; }
int main(void)
{
    void *big = hold(1 << 20); /* the peak */
    for (int i = 0; i < 50; i++)
        free(malloc(64)); /* temporaries */
    free(big);
    keep = hold(4096);
    lose();
    return 0;
}
EOF
t_build prog "$T/prog.c" || { t_fail sections_read_build "prog.c does not compile"; return 0; }
HEAPSNAP_OUTPUT="$T/whole.hsnap" HEAPSNAP_LEAKS=1 HEAPSNAP_SITELINE=0 LD_PRELOAD="$SHIM" "$T/prog"
[ -s "$T/whole.hsnap" ] || { t_fail sections_read_snapshot "no snapshot"; return 0; }

# spoil NAME TYPE: $T/NAME.hsnap, whole.hsnap with section TYPE unreadable
# (a compressed one's length uncompressed off by 8, a stored one's bytes all
# 0xff) and its checksum made again
spoil() {
  python3 - "$T/whole.hsnap" "$T/$1.hsnap" "$2" <<'EOF'
import struct, sys, zlib
d = bytearray(open(sys.argv[1], 'rb').read())
want, o, done = int(sys.argv[3]), 24, False
while o < len(d):
    t, crc, n = struct.unpack_from('<IIQ', d, o)
    if t & 0xffff == want:
        if t & 0x10000:  # compressed: its length uncompressed off by 8
            raw = struct.unpack_from('<Q', d, o + 16)[0]
            struct.pack_into('<Q', d, o + 16, raw + 8)
        else:  # stored: every byte 0xff (its counts past its length)
            d[o + 16:o + 16 + n] = b'\xff' * n
        struct.pack_into('<I', d, o + 4, zlib.crc32(bytes(d[o + 16:o + 16 + n])))
        done = True
    if t == 0xffff:
        break
    o += 16 + n
open(sys.argv[2], 'wb').write(d)
sys.exit(0 if done else 1)
EOF
}
# same NAME CMD...: the command's output on the spoiled copy is the whole
# file's, and it warns of nothing
same() {
  local name=$1; shift
  "$HEAPSNAP" "$@" "$T/whole.hsnap" >"$T/w.out" 2>"$T/w.err"; local rw=$?
  "$HEAPSNAP" "$@" "$T/$name.hsnap" 2>"$T/s.err" | sed "s|$name\.hsnap|whole.hsnap|g" >"$T/s.out"
  local rs=${PIPESTATUS[0]}
  if [ "$rw" = "$rs" ] && cmp -s "$T/w.out" "$T/s.out" && ! grep -q warning "$T/s.err"; then
    return 0
  fi
  echo "exit $rw/$rs, $(diff "$T/w.out" "$T/s.out" | head -3 | tr '\n' ' ') $(head -c 200 "$T/s.err")"
  return 1
}
# warns NAME CMD...: the command read the section: it names it, as left out
# (a warning) or as its error (a section the command cannot do without)
warns() {
  local name=$1; shift
  "$HEAPSNAP" "$@" "$T/$name.hsnap" >/dev/null 2>"$T/x.err"
  grep -q "section ${name^^}: " "$T/x.err" || { echo "not read: $(head -c 200 "$T/x.err")"; return 1; }
}
# check NAME WHAT...: every WHAT holds
check() {
  local case=$1 why; shift
  if why=$("$@"); then t_pass "$case"; else t_fail "$case" "$why"; fi
}

spoil peak 9 || t_fail sections_read_spoil_peak "no compressed PEAK"
spoil blocks 5 || t_fail sections_read_spoil_blocks "no compressed BLOCKS"
spoil temps 11 || t_fail sections_read_spoil_temps "no compressed TEMPS"
spoil retainers 8 || t_fail sections_read_spoil_retainers "no compressed RETAINERS"
spoil stats 4 || t_fail sections_read_spoil_stats "no compressed STATS"

check sections_read_top_leaves_peak_blocks_temps_retainers eval \
  'same peak top && same blocks top && same temps top && same retainers top &&
   same blocks top --peak && same peak top --key function --format json'
check sections_read_top_reads_what_its_options_ask eval \
  'warns peak top --peak && warns blocks top --leaked && warns temps top --temporary && warns retainers top --retainers'
check sections_read_leaks_leaves_peak_temps_stats_retainers eval \
  'same peak leaks && same temps leaks && same stats leaks && same retainers leaks && same stats leaks --format json'
check sections_read_leaks_why_reads_retainers eval 'warns retainers leaks --why lose'
check sections_read_gate_leaves_peak_temps_stats eval \
  'same peak gate && same temps gate && same stats gate --format json && same retainers gate'
check sections_read_gate_growth_reads_stats eval \
  'warns stats gate --baseline '"$T"'/whole.hsnap --max-growth 10%'
check sections_read_diff_leaves_blocks_and_peak eval \
  'same blocks diff '"$T"'/whole.hsnap && same peak diff '"$T"'/whole.hsnap'
check sections_read_timeline_leaves_blocks_temps_retainers eval \
  'same blocks timeline && same temps timeline && same retainers timeline --format json'
check sections_read_export_leaves_what_its_format_does_not_write eval \
  'same retainers export --format folded && same blocks export --format speedscope &&
   same temps export --format tracemalloc && warns blocks export --format tracemalloc-binary'
check sections_read_trend_leaves_peak_temps_retainers eval \
  'same peak trend '"$T"'/whole.hsnap && same temps trend '"$T"'/whole.hsnap &&
   same retainers trend '"$T"'/whole.hsnap && warns blocks trend '"$T"'/whole.hsnap'
# info reads every section but the retainers' rows and the holders' chains
check sections_read_info_reads_all_but_the_chains eval \
  'warns peak info && warns blocks info && warns stats info && same retainers info &&
   same retainers info --format json'

# SNAP@peak takes what --peak takes
bad=""
for opt in "--key type" "--leaked" "--temporary" "--garbage" "--retained" "--collected"; do
  # shellcheck disable=SC2086
  "$HEAPSNAP" top "$T/whole.hsnap@peak" $opt >"$T/p.out" 2>"$T/p.err"; rc=$?
  if [ "$rc" != 2 ] || [ "$(wc -l <"$T/p.err")" != 1 ] || ! grep -q "@peak reads its peak" "$T/p.err"; then
    bad="$bad top $opt: exit $rc $(head -c 160 "$T/p.err");"
  fi
done
"$HEAPSNAP" diff "$T/whole.hsnap@peak" "$T/whole.hsnap" --key type >/dev/null 2>"$T/d.err"; rc=$?
[ "$rc" = 2 ] && grep -q "@peak reads its peak" "$T/d.err" || bad="$bad diff --key type: exit $rc;"
"$HEAPSNAP" top "$T/whole.hsnap@peak" --key function >"$T/f.out" 2>"$T/f.err" ||
  bad="$bad top @peak --key function: $(head -c 160 "$T/f.err");"
[ -z "$bad" ] && t_pass sections_read_at_peak_refuses_what_peak_refuses ||
  t_fail sections_read_at_peak_refuses_what_peak_refuses "$bad"
