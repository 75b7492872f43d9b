# tests/report/symbols/test_debug_cache.sh - a debug file whose DWARF sections are
# compressed (as Debian's -dbgsym packages ship them) is read from a decompressed copy
# the CLI keeps by build ID (report/symbols/debugcache.c, HEAPSNAP_DEBUG_CACHE): the
# first report makes it and prints what a report without the cache prints; the next
# ones read it (the original then truncated: the lines still come); a damaged copy
# is made again; a cache that cannot be written changes nothing; "0" turns it off;
# HEAPSNAP_DEBUG_CACHE_MAX bounds it, the copies used least lately removed first.
cat >"$T/dbgc.c" <<'C'
#include <stdlib.h>
void *volatile keep[3];
__attribute__((noinline)) void grow(int i) { keep[i] = malloc(4000 + i); }
int main(void) { for (int i = 0; i < 3; i++) grow(i); return 0; }
C
if ! t_build dbgc "$T/dbgc.c" -Wl,--build-id 2>"$T/cc.err" ||
   ! objcopy --only-keep-debug --compress-debug-sections=zlib "$T/dbgc" "$T/dbgc.debug" 2>>"$T/cc.err" ||
   ! objcopy --strip-debug --add-gnu-debuglink="$T/dbgc.debug" "$T/dbgc" 2>>"$T/cc.err"; then
  t_fail debug_cache_fixture_builds "$(head -c 300 "$T/cc.err")"; return 0 2>/dev/null || exit 0
fi
if ! readelf -St "$T/dbgc.debug" | grep -q COMPRESSED; then
  t_skip debug_cache_copy_made "objcopy left dbgc.debug's sections uncompressed"
  return 0 2>/dev/null || exit 0
fi
HEAPSNAP_OUTPUT=$T/dbgc.hsnap LD_PRELOAD=$SHIM "$T/dbgc"
id=$(readelf -n "$T/dbgc" | sed -n 's/.*Build ID: *//p')
C=$T/cache
top() { HEAPSNAP_DEBUG_CACHE=$1 "$HEAPSNAP" top -n 5 "$T/dbgc.hsnap" 2>&1; }
top 0 >"$T/off.txt"
top "$C" >"$T/first.txt"
if grep -q 'dbgc\.c:3' "$T/off.txt" && cmp -s "$T/off.txt" "$T/first.txt" &&
   [ -n "$id" ] && [ -f "$C/$id.debug" ] && ! readelf -St "$C/$id.debug" | grep -q COMPRESSED &&
   [ -z "$(find "$C" -name '.tmp.*')" ]; then
  t_pass debug_cache_copy_made
else t_fail debug_cache_copy_made "id=$id $(ls -a "$C" 2>&1 | tr '\n' ' ') $(tr '\n' '|' <"$T/first.txt")"; fi
cp "$T/dbgc.debug" "$T/dbgc.debug.orig"
: >"$T/dbgc.debug" # the original gone: only the copy has the lines
top "$C" >"$T/second.txt"
top 0 >"$T/gone.txt"
if cmp -s "$T/off.txt" "$T/second.txt" && ! grep -q 'dbgc\.c:3' "$T/gone.txt"; then
  t_pass debug_cache_copy_read
else t_fail debug_cache_copy_read "$(tr '\n' '|' <"$T/second.txt") / $(tr '\n' '|' <"$T/gone.txt")"; fi
cp "$T/dbgc.debug.orig" "$T/dbgc.debug"
head -c 100 "$T/dbgc.debug.orig" >"$C/$id.debug" # damaged: not used, made again
top "$C" >"$T/damaged.txt"
if cmp -s "$T/off.txt" "$T/damaged.txt" && ! readelf -St "$C/$id.debug" | grep -q COMPRESSED &&
   [ "$(stat -c %s "$C/$id.debug")" -gt 100 ]; then
  t_pass debug_cache_damaged_copy_made_again
else t_fail debug_cache_damaged_copy_made_again "$(tr '\n' '|' <"$T/damaged.txt")"; fi
top /proc/heapsnap-no-such-dir >"$T/unwritable.txt"; rc=$?
if [ "$rc" = 0 ] && cmp -s "$T/off.txt" "$T/unwritable.txt"; then
  t_pass debug_cache_unwritable_changes_nothing
else t_fail debug_cache_unwritable_changes_nothing "rc=$rc $(tr '\n' '|' <"$T/unwritable.txt")"; fi
# The cache's bound (HEAPSNAP_DEBUG_CACHE_MAX, MiB): three planted copies of 400 KiB,
# the oldest first, and a new copy to make at a bound of 1 MiB: the oldest goes, the
# two newer ones stay beside the new copy.
B=$T/bounded
mkdir -p "$B"
for k in 1 2 3; do
  head -c 409600 /dev/zero >"$B/00$k.debug"
  touch -d "@$((1700000000 + k * 1000))" "$B/00$k.debug"
done
HEAPSNAP_DEBUG_CACHE_MAX=1 top "$B" >"$T/bounded.txt"
if cmp -s "$T/off.txt" "$T/bounded.txt" && [ -f "$B/$id.debug" ] && [ -f "$B/003.debug" ] &&
   [ ! -e "$B/001.debug" ] && [ -f "$B/002.debug" ]; then
  t_pass debug_cache_bound_removes_least_lately_used
else t_fail debug_cache_bound_removes_least_lately_used "$(ls "$B" | tr '\n' ' ')"; fi
