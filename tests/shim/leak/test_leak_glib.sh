# tests/shim/leak/test_leak_glib.sh - GLib's own memory is not a leak (issue 65).
# GObject hands out pointers past a header (type nodes, closures, instances
# after their private data, GSlice's chunks); a clean GObject program has
# nothing possibly lost, as memcheck says, while the program's own leaks
# stay: a dropped GObject is direct, a g_malloc'd buffer held 8 bytes in
# is possibly lost.  The fixtures (tests/shim/leak/glib/) state their
# answers; libglib2.0-dev comes from scripts/install-deps.sh glib.
# GSlice (GLib < 2.76) carves instances out of its slabs, where no block
# checker sees them: the dropped-object case runs with G_SLICE=always-malloc,
# as GLib's docs ask of memory checkers (memcheck gets it on its own).
# Cases: leak_glib_deps, leak_glib_clean_nothing_lost,
# leak_glib_clean_slab_nothing_lost, leak_glib_dropped_object_direct,
# leak_glib_interior_gmalloc_possibly_lost.
# tier: full (it may apt-get install libglib2.0-dev)
G=tests/shim/leak/glib

if ! pkg-config --exists gobject-2.0 2>/dev/null; then
  BUILD=$BUILD scripts/install-deps.sh glib >"$T/deps.log" 2>&1
fi
if ! pkg-config --exists gobject-2.0 2>/dev/null; then
  t_fail leak_glib_deps "libglib2.0-dev missing and scripts/install-deps.sh glib failed: $(tail -n 1 "$T/deps.log")"
  return 0 2>/dev/null || exit 0
fi
# shellcheck disable=SC2046
if ! t_build gclean "$G/gclean.c" $(pkg-config --cflags --libs gobject-2.0) 2>"$T/cc.err" ||
   ! t_build gleak "$G/gleak.c" $(pkg-config --cflags --libs gobject-2.0) 2>>"$T/cc.err"; then
  t_fail leak_glib_deps "the fixtures do not build: $(head -c 300 "$T/cc.err" | tr '\n' ' ')"
  return 0 2>/dev/null || exit 0
fi
t_pass leak_glib_deps

# lg_summary NAME SNAP: `heapsnap leaks` of SNAP into $T/NAME.txt; 0 when it ran
lg_summary() {
  "$HEAPSNAP" leaks -n 0 --kinds possible,direct,indirect,cycle "$2" >"$T/$1.txt" 2>"$T/$1.err"
  [ $? -le 1 ]
}
# lg_line NAME CLASS: the summary's "CLASS: N bytes in M blocks" value
lg_line() { sed -n "s/^   $2: //p" "$T/$1.txt" | head -n 1; }

# lg_clean CASE [ENV...]: gclean run under ENV has nothing lost of any kind
lg_clean() {
  local name=$1 c got bad=""; shift
  if ! env "$@" "$HEAPSNAP" run --leaks -o "$T/$name.hsnap" -- "$T/gclean" >"$T/$name.run" 2>&1 ||
     ! lg_summary "$name" "$T/$name.hsnap"; then
    t_fail "$name" "run or leaks failed: $(tail -c 300 "$T/$name.run" "$T/$name.err" | tr '\n' ' ')"; return
  fi
  for c in direct indirect cycle "possibly lost"; do
    got=$(lg_line "$name" "$c")
    [ "$got" = "0 bytes in 0 blocks" ] || bad="$bad $c: '$got';"
  done
  grep -q "^   still reachable: [1-9]" "$T/$name.txt" || bad="$bad nothing reachable (GLib's type system is);"
  if [ -z "$bad" ]; then t_pass "$name"; else t_fail "$name" "$bad"; fi
}
lg_clean leak_glib_clean_nothing_lost
lg_clean leak_glib_clean_slab_nothing_lost G_SLICE=always-malloc

if G_SLICE=always-malloc "$HEAPSNAP" run --leaks -o "$T/gleak.hsnap" -- "$T/gleak" >"$T/gleak.run" 2>&1 &&
   lg_summary gleak "$T/gleak.hsnap"; then
  got=$(lg_line gleak direct)
  if [ "$got" = "80 bytes in 1 blocks" ] && grep -q "g_type_create_instance" "$T/gleak.txt"; then
    t_pass leak_glib_dropped_object_direct
  else t_fail leak_glib_dropped_object_direct "direct: '$got', want 80 bytes in 1 blocks at g_type_create_instance"; fi
  got=$(lg_line gleak "possibly lost")
  if [ "$got" = "64 bytes in 1 blocks" ] && grep -q "main (tests/shim/leak/glib/gleak.c:44)" "$T/gleak.txt"; then
    t_pass leak_glib_interior_gmalloc_possibly_lost
  else t_fail leak_glib_interior_gmalloc_possibly_lost "possibly lost: '$got', want 64 bytes in 1 blocks at gleak.c:44"; fi
else
  why="run or leaks failed: $(tail -c 300 "$T/gleak.run" | tr '\n' ' ')"
  t_fail leak_glib_dropped_object_direct "$why"
  t_fail leak_glib_interior_gmalloc_possibly_lost "$why"
fi
