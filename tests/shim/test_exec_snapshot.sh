# test_exec_snapshot.sh - the exec family under the shim: by default an image
# that execs writes nothing (the program it becomes writes the pid's
# snapshot); HEAPSNAP_EXEC_SNAPSHOT=1 makes each image of an exec chain
# (execer -> dash -> sites, one pid) write its own first, reason exec, with
# what it held (HEAPSNAP_FOLLOW=all: dash runs a script that execs, a
# launcher, untraced by default).  The wrappers change nothing else: execl/execlp/execle/execvp
# with their arguments and environment, and a failed exec's errno.
. tests/shim/lib_shim.sh
. tests/fixtures/lib.sh
FX_TEST=exec_snapshot fx_ready execer sites || return 0
mkdir -p "$T/on" "$T/prog"
LD_PRELOAD=$SHIM HEAPSNAP_FOLLOW=all HEAPSNAP_EXEC_SNAPSHOT=1 HEAPSNAP_OUTPUT="$T/on/%e.%p.hsnap" \
  "$FX/execer" "$FX/sites" >/dev/null 2>&1
want="execer exec
sh exec
sites exit"   # sh: the name the image was started by (%e), not dash, its symlink's target
got=$(for f in "$T"/on/*.hsnap; do
  printf '%s %s\n' "$(basename "$f" | cut -d. -f1)" "$("$HEAPSNAP" info "$f" | sed -n 's/^reason: *//p')"; done)
if [ "$got" = "$want" ] && "$HEAPSNAP" top "$T"/on/execer.*.hsnap 2>/dev/null | grep -q 'execer.c:19: size=8991 B, count=9'; then
  t_pass exec_snapshot_every_image
else t_fail exec_snapshot_every_image "$(echo "$got" | tr '\n' ' ')"; fi
# By default (HEAPSNAP_FOLLOW=program) the shell image is a launcher (a
# script that execs): untraced, it writes nothing; the others write theirs.
LD_PRELOAD=$SHIM HEAPSNAP_EXEC_SNAPSHOT=1 HEAPSNAP_OUTPUT="$T/prog/%e.%p.hsnap" \
  "$FX/execer" "$FX/sites" >/dev/null 2>&1
got=$(cd "$T/prog" && ls | cut -d. -f1 | tr '\n' ' ')
[ "$got" = "execer sites " ] && t_pass exec_snapshot_launcher_image_writes_nothing ||
  t_fail exec_snapshot_launcher_image_writes_nothing "$got"

cat >"$T/ex.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    char *envp[] = {"HS_EXEC_TEST=le", NULL};
    char *v[] = {"sh", "-c", "echo vp $0 $1", "a", "b", NULL};
    if (argc > 1) {
        switch (argv[1][0]) {
        case 'l': execl("/bin/sh", "sh", "-c", "echo l $0 $1", "x", "y", (char *)NULL); break;
        case 'p': execlp("sh", "sh", "-c", "echo lp $#", "x", "y", "z", (char *)NULL); break;
        case 'e': execle("/bin/sh", "sh", "-c", "echo $HS_EXEC_TEST", (char *)NULL, envp); break;
        case 'v': execvp("sh", v); break;
        }
        return 3;
    }
    errno = 0;
    int r = execlp("no-such-program-here", "x", (char *)NULL);
    printf("failed %d %s\n", r, strerror(errno));
    r = execl("/nonexistent/x", "x", (char *)NULL);
    printf("failed %d %s\n", r, strerror(errno));
    return 0;
}
C
if gcc -O1 "$T/ex.c" -o "$T/ex"; then
  for m in l p e v f; do
    HEAPSNAP_EXEC_SNAPSHOT=1 HEAPSNAP_OUTPUT="$T/ex.%p.hsnap" s_same "exec_wrapper_unchanged_$m" "$T/ex" $( [ $m = f ] || echo $m )
  done
else t_fail exec_wrapper_builds gcc; fi
