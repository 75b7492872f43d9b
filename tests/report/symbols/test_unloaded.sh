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
