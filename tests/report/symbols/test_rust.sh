# tests/report/symbols/test_rust.sh - Rust programs built by Debian's rustc
# (tests/fixtures/rs_leaks.rs) are charged to their own lines: the
# standard library's allocating wrappers (__rust_alloc, Box::new, Rc::new,
# RawVec, Vec's growth) are allocator frames, the user's frames carry the
# .rs file and line from DWARF, and names read demangled in both manglings
# (legacy without its ::h hash, v0), at opt-level 0 and 2.
# (before: "cycle of 2 blocks: alloc.rs:95 -> alloc.rs:95 -> back", and
# "rs_rc_cycle::make_cycle::h530... (in rs_rc_cycle)" without a line)
# Skips without Debian's rustc (scripts/install-deps.sh test installs it).
RUSTC=${RUSTC:-/usr/bin/rustc}
if [ ! -x "$RUSTC" ]; then
  t_skip rust_programs "no $RUSTC (Debian's rustc: scripts/install-deps.sh test)"; return 0
fi
if [ ! -x "$HEAPSNAP" ] || [ ! -f "$SHIM" ]; then
  t_fail rust_programs "build/heapsnap or build/libheapsnap.so is not built (run make)"; return 0
fi
src=tests/fixtures/rs_leaks.rs
build_rs() { # NAME FLAGS...
  local name=$1; shift
  "$RUSTC" -g "$@" -o "$T/$name" "$src" 2>"$T/$name.build" ||
    { t_fail "rust_${name}_builds" "$(head -c 300 "$T/$name.build" | tr '\n' ' ')"; return 1; }
}

for fx in rs_O0 rs_O2 rs_v0; do
  case $fx in
    rs_O0) build_rs $fx -C opt-level=0 || continue ;;
    rs_O2) build_rs $fx -C opt-level=2 || continue ;;
    rs_v0) build_rs $fx -C opt-level=0 -C symbol-mangling-version=v0 || continue ;;
  esac
  if ! "$HEAPSNAP" run --leaks -o "$T/$fx.hsnap" "$T/$fx" >"$T/$fx.out" 2>"$T/$fx.err" ||
     [ ! -s "$T/$fx.hsnap" ]; then
    t_fail "rust_${fx}_profiled" "$(head -c 300 "$T/$fx.err" | tr '\n' ' ')"; continue
  fi
  "$HEAPSNAP" leaks "$T/$fx.hsnap" >"$T/$fx.leaks" 2>&1
  want="    cycle of 2 blocks: $src:15 -> $src:16 -> back"
  alt="    cycle of 2 blocks: $src:16 -> $src:15 -> back"
  if grep -qxF -- "$want" "$T/$fx.leaks" || grep -qxF -- "$alt" "$T/$fx.leaks"; then
    t_pass "rust_${fx}_rc_cycle_names_user_lines"
  else
    t_fail "rust_${fx}_rc_cycle_names_user_lines" "$(grep 'cycle of' "$T/$fx.leaks")"
  fi
  # the Box::leak'd block: its first frame past the wrappers is leak_box's line
  site=$(awk '/definitely lost/ { f = 1; next } f && !/\[wrapper\]/ { print; exit }' "$T/$fx.leaks")
  case $site in
    *": rs_leaks::leak_box ($src:22)") t_pass "rust_${fx}_box_leak_at_user_line" ;;
    *) t_fail "rust_${fx}_box_leak_at_user_line" "$site" ;;
  esac
  # every block, the Vec grown in grow_kept (still reachable) included, at
  # the fixture's lines
  "$HEAPSNAP" top "$T/$fx.hsnap" --key lineno -n 0 >"$T/$fx.top" 2>&1
  sites=$(sed -n 's/: size=.*//p' "$T/$fx.top" | sort | tr '\n' ' ')
  if [ "$sites" = "$src:15 $src:16 $src:22 $src:31 " ]; then
    t_pass "rust_${fx}_every_block_at_user_lines"
  else
    t_fail "rust_${fx}_every_block_at_user_lines" "$sites"
  fi
  if grep -q 'rs_leaks::make_cycle (' "$T/$fx.leaks" && ! grep -qE '::h[0-9a-f]{16}|\$LT\$|_ZN|_RN' "$T/$fx.leaks"; then
    t_pass "rust_${fx}_names_demangled"
  else
    t_fail "rust_${fx}_names_demangled" "$(grep -m3 -E 'make_cycle|::h[0-9a-f]{16}|_ZN|_RN' "$T/$fx.leaks" | tr '\n' '|')"
  fi
done
