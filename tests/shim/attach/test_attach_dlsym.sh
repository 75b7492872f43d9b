# test_attach_dlsym.sh - after an attach, a malloc found by dlsym is the
# hook: ctypes' CDLL(None).malloc, and any program that looks the malloc
# family up by name, calls the function's address through no GOT, so the
# GOT rewrite alone left those blocks unseen (a PIE program's dlsym gives
# libc's own malloc; got.c's dlsym wrapper gives the hook's).  Blocks got
# that way after the attach are recorded at their site, and their frees
# through dlsym's free take them off the books.
. tests/shim/attach/lib_attach.sh
t_build dlsymuser tests/shim/attach/dlsymuser.c -ldl
site=$(grep -n '^__attribute__((noinline)) void \*dlsym_site' tests/shim/attach/dlsymuser.c | cut -d: -f1)

at_start "$T/dlsymuser"
if ! at_attach; then
  t_fail attach_dlsym_malloc_is_recorded "attach: $(head -c 300 "$T/attach.err")"
  at_end
  exit 0
fi
at_cmd "d 48"
at_cmd "d 96"
at_cmd f
at_cmd "d 80"
at_detach
at_end
"$HEAPSNAP" top "$(at_snap)" >"$T/top.txt" 2>"$T/top.err"
if grep -q "dlsymuser.c:$site: size=8000 B, count=100, average=80 B" "$T/top.txt" &&
   ! grep -q "size=4800 B\|size=9600 B\|count=200\|count=300" "$T/top.txt" &&
   [ "$AT_STATUS" = 0 ] && printf 'allocated 100\nallocated 200\nfreed\nallocated 100\nbye\n' |
   diff - "$T/transcript" >/dev/null; then
  t_pass attach_dlsym_malloc_is_recorded
else
  t_fail attach_dlsym_malloc_is_recorded "exit $AT_STATUS: $(head -c 400 "$T/top.txt") $(tr '\n' ' ' <"$T/transcript")"
fi
