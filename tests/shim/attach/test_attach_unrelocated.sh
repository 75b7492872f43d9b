# test_attach_unrelocated.sh - a late-loaded shim's walk of the modules
# (got_poll on the control thread, every 100 ms) leaves alone a module
# that another thread's dlopen has mapped but not relocated yet
# (gotw_module's gotw_ready): written then, a lazy JUMP_SLOT got the
# module's base added by the loader (a wild jump at its first malloc) and
# the RELRO page put back read-only faulted the loader's own relocation
# (sid's python3.14 importing _ssl under pytest --heapsnap, loaded).  An
# LD_AUDIT module (unreloc_audit.c) holds the dlopen in that gap for
# 400 ms, so the poll lands there every time; the program must live and
# make its three blocks through the library.
. tests/lib.sh
late="$(dirname "$HEAPSNAP")/libheapsnap-attach.so"
if [ ! -f "$late" ]; then
  t_skip attach_walk_leaves_unrelocated_module_alone "libheapsnap-attach.so is not built (make all)"
  exit 0
fi
if ! { t_build unreloc_main tests/shim/attach/unreloc_main.c -ldl &&
       t_build unreloc_audit.so tests/shim/attach/unreloc_audit.c -shared -fPIC &&
       t_build unreloc_lib.so tests/shim/attach/unreloc_lib.c -shared -fPIC -Wl,-z,lazy,-z,relro; } \
     2>"$T/build.err"; then
  t_fail attach_walk_leaves_unrelocated_module_alone "does not build: $(head -c 300 "$T/build.err" | tr '\n' ' ')"
  exit 0
fi
env -u LD_PRELOAD HEAPSNAP_OUTPUT="$T/unreloc.%p.hsnap" LD_AUDIT="$T/unreloc_audit.so" \
  "$T/unreloc_main" "$late" "$T/unreloc_lib.so" \
  >"$T/out" 2>&1
rc=$?
if [ "$rc" = 0 ] && [ "$(cat "$T/out")" = "ok 3" ]; then
  t_pass attach_walk_leaves_unrelocated_module_alone
else
  t_fail attach_walk_leaves_unrelocated_module_alone "rc $rc: $(tail -c 600 "$T/out" | tr '\n' ' ')"
fi
