# tests/report/symbols/test_unloaded.sh - a library that leaked and was dlclose'd before
# exit still symbolizes (valgrind's --keep-debuginfo=yes): the shim keeps the
# departed module's record and writes it after the loaded ones.  The library
# is loaded, leaked from and unloaded twice; a reachable block it made is
# charged to its line too.  (before: "0x... (in ??)" and "[??]:0")
cat >"$T/gone.c" <<'CEOF'
#include <stdlib.h>
void *volatile gone_sink;
__attribute__((noinline)) void gone_leak(void) { gone_sink = malloc(77); gone_sink = 0; }
__attribute__((noinline)) void *gone_keep(void) { return malloc(33); }
CEOF
cat >"$T/host.c" <<'CEOF'
#include <dlfcn.h>
#include <stdio.h>
void *kept[2];
int main(int argc, char **argv)
{
    for (int i = 0; i < 2; i++) {
        void *h = dlopen(argv[1], RTLD_NOW);
        if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
        ((void (*)(void))dlsym(h, "gone_leak"))();
        kept[i] = ((void *(*)(void))dlsym(h, "gone_keep"))();
        if (dlclose(h) != 0) return 1;
    }
    return 0;
}
CEOF
if ! (cd "$T" && cc -g -O0 -fPIC -shared gone.c -o libgone.so && cc -g -O0 host.c -o host -ldl) \
     2>"$T/cc.err"; then
  t_fail unloaded_fixture_builds "$(head -c 300 "$T/cc.err")"; return 0
fi
(cd "$T" && HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT=$T/u.hsnap LD_PRELOAD=$SHIM ./host "$T/libgone.so") \
  >"$T/run.out" 2>&1 || t_fail unloaded_host_runs "exit $?: $(head -c 300 "$T/run.out")"
if [ ! -s "$T/u.hsnap" ]; then t_fail unloaded_snapshot_written "no snapshot"; return 0; fi

(cd "$T" && "$HEAPSNAP" top u.hsnap --key lineno -n 0) >"$T/top.txt" 2>"$T/top.err"
grep -qx 'gone.c:4: size=66 B, count=2, average=33 B' "$T/top.txt" &&
  t_pass unloaded_library_reachable_blocks_symbolized ||
  t_fail unloaded_library_reachable_blocks_symbolized "$(head -c 400 "$T/top.txt" | tr '\n' '|')"
(cd "$T" && "$HEAPSNAP" leaks u.hsnap) >"$T/leaks.txt" 2>"$T/leaks.err"
n=$(grep -c ': gone_leak (gone.c:3)$' "$T/leaks.txt")
if [ "$n" -ge 1 ] && ! grep -q '(in ??)' "$T/leaks.txt" &&
   grep -q '^   direct: 154 bytes in 2 blocks$' "$T/leaks.txt"; then
  t_pass unloaded_library_leaks_symbolized
else t_fail unloaded_library_leaks_symbolized "$(head -c 600 "$T/leaks.txt" | tr '\n' '|')"; fi
# the departed record is written once however often the library came and went
# at the same place, and never for a library still loaded
"$HEAPSNAP" info "$T/u.hsnap" >"$T/info.txt" 2>&1
grep -Eq '^modules: +[0-9]+ \([12] unloaded before the snapshot\)$' "$T/info.txt" &&
  t_pass unloaded_module_recorded_once_per_place ||
  t_fail unloaded_module_recorded_once_per_place "$(grep '^modules' "$T/info.txt")"

# Reloaded over where it was, but not at the same place: each time it leaves,
# a page is mapped at the top of its old range, so the next load lands one
# page lower, over most of it.  The records overlap; every address must name
# the load that was there when its stack was taken (before: the latest
# record won, and the older loads' blocks read "[libgone.so]:0").
cat >"$T/over.c" <<'CEOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
void *kept[4];
static uintptr_t lo, hi;
static int span(struct dl_phdr_info *i, size_t n, void *arg)
{
    if (!i->dlpi_name || !strstr(i->dlpi_name, "libgone"))
        return 0;
    lo = UINTPTR_MAX, hi = 0;
    for (int k = 0; k < i->dlpi_phnum; k++)
        if (i->dlpi_phdr[k].p_type == PT_LOAD) {
            uintptr_t a = i->dlpi_addr + i->dlpi_phdr[k].p_vaddr, b = a + i->dlpi_phdr[k].p_memsz;
            lo = a < lo ? a : lo, hi = b > hi ? b : hi;
        }
    return 1;
}
int main(int argc, char **argv)
{
    uintptr_t plo = 0, phi = 0;
    int over = 0;
    for (int k = 0; k < 4; k++) {
        void *h = dlopen(argv[1], RTLD_NOW);
        if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
        dl_iterate_phdr(span, NULL);
        over += k > 0 && lo != plo && lo < phi && hi > plo;
        ((void (*)(void))dlsym(h, "gone_leak"))();
        kept[k] = ((void *(*)(void))dlsym(h, "gone_keep"))();
        plo = lo, phi = hi;
        if (dlclose(h) != 0) return 1;
        uintptr_t top = (phi + 4095) & ~(uintptr_t)4095;
        mmap((void *)(top - 4096), 4096, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    }
    return over ? 0 : 3; /* 3: no two loads overlapped, the case is not made */
}
CEOF
if ! (cd "$T" && cc -g -O0 over.c -o over -ldl) 2>"$T/cc.err"; then
  t_fail unloaded_overlap_fixture_builds "$(head -c 300 "$T/cc.err")"; return 0
fi
(cd "$T" && HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT=$T/o.hsnap LD_PRELOAD=$SHIM ./over "$T/libgone.so") \
  >"$T/over.out" 2>&1
orc=$?
(cd "$T" && "$HEAPSNAP" top o.hsnap --key lineno -n 0) >"$T/otop.txt" 2>&1
(cd "$T" && "$HEAPSNAP" leaks o.hsnap) >"$T/oleaks.txt" 2>&1
if [ "$orc" -ne 0 ]; then
  t_fail unloaded_overlapping_reloads_symbolized "fixture exit $orc (3: no overlapping reload)"
elif grep -qx 'gone.c:4: size=132 B, count=4, average=33 B' "$T/otop.txt" &&
     grep -qx 'gone.c:3: size=308 B, count=4, average=77 B' "$T/otop.txt" &&
     ! grep -q 'libgone.so\]:0' "$T/otop.txt" && ! grep -q '(in ??)' "$T/oleaks.txt" &&
     grep -q '^   direct: 308 bytes in 4 blocks$' "$T/oleaks.txt"; then
  t_pass unloaded_overlapping_reloads_symbolized
else t_fail unloaded_overlapping_reloads_symbolized "$(grep -v mmap "$T/otop.txt" | head -c 400 | tr '\n' '|')"; fi
# merge relocates modules apart: the two eras stay told apart there too
if "$HEAPSNAP" merge -o "$T/om.hsnap" "$T/o.hsnap" "$T/o.hsnap" >"$T/merge.out" 2>&1 &&
   (cd "$T" && "$HEAPSNAP" top om.hsnap --key lineno -n 0) >"$T/omtop.txt" 2>&1 &&
   grep -qx 'gone.c:4: size=264 B, count=8, average=33 B' "$T/omtop.txt"; then
  t_pass unloaded_overlapping_reloads_merged
else t_fail unloaded_overlapping_reloads_merged "$(cat "$T/merge.out" "$T/omtop.txt" | grep -v mmap | head -c 400 | tr '\n' '|')"; fi
