# test_rooms.sh - the tree is the architecture: calls between rooms (folders)
# go one way, in the shim and in the CLI.  The rooms are the Makefile's
# (SHIM_ROOMS, CLI_ROOMS), and every folder of shim/ and report/ that holds
# a source must be one of them, so that no file escapes the check; the
# folders of tests/ that hold tests are rooms too, or shared places.
# scripts/callgraph.py reads the references from the built objects (nm's
# undefined, weak ones too, against defined functions and data, thread-locals
# too), so it sees what the linker sees, and fails on a cycle of files across
# rooms and on a cycle of rooms.  An #include of another room's header is an
# edge too (the shared contracts below aside): a file includes only the doors
# of its own room and of the rooms below.  And the script itself must see
# each kind of cycle and each kind of reference when there is one.
contracts=--shared=hsnap_format.h,hsnap_pyformat.h,hsnap_pyline.h,hsnap_planes.h,hsnap_packed.h,hsnap_state.h,hsnap_shells.h,options_table.h,heapsnap.h
shim_rooms=$(make -s --no-print-directory print-SHIM_ROOMS)
cli_rooms=$(make -s --no-print-directory print-CLI_ROOMS)
unlisted=""
for d in $(find shim report -name '*.c' -o -name '*.cc' | xargs -n1 dirname | sort -u); do
  case " $shim_rooms $cli_rooms " in *" $d "*) ;; *) unlisted="$unlisted $d" ;; esac
done
if [ -z "$unlisted" ]; then t_pass rooms_every_source_folder_is_a_room
else t_fail rooms_every_source_folder_is_a_room "not in the Makefile's rooms:$unlisted"; fi

# The tests mirror the rooms: a folder of tests/ that holds a test is a room
# (tests/shim/record/ for shim/record/) or one of the shared places.
shared="fixtures golden fuzz services layout scripts"
strays=""
for d in $(find tests -name 'test_*.sh' -o -name 'test_*.c' | xargs -n1 dirname | sort -u); do
  case " $shim_rooms $cli_rooms $shared " in *" ${d#tests/} "*) ;; *) strays="$strays $d" ;; esac
done
if [ -z "$strays" ]; then t_pass rooms_every_test_folder_is_a_room
else t_fail rooms_every_test_folder_is_a_room "neither a room nor a shared place ($shared):$strays"; fi

# shellcheck disable=SC2086
if out=$(scripts/callgraph.py "$contracts" "$BUILD/obj" $shim_rooms 2>&1); then
  t_pass callgraph_no_cycle_between_shim_rooms
else t_fail callgraph_no_cycle_between_shim_rooms "$(echo "$out" | grep -A3 CYCLE | head -c 400 | tr '\n' ' ')"; fi
# shellcheck disable=SC2086
if out=$(scripts/callgraph.py "$contracts" "$BUILD/obj" $cli_rooms 2>&1); then
  t_pass callgraph_no_cycle_between_report_rooms
else t_fail callgraph_no_cycle_between_report_rooms "$(echo "$out" | grep -A3 CYCLE | head -c 400 | tr '\n' ' ')"; fi

# The shim's root only composes (issue 71): the hooks and the state file are
# rooms of their own, and what the root's files call of each other makes no
# circle of more than two files (a pair such as leakrun and lsan may answer
# each other; a knot of three or more is a room waiting to be made).
# shellcheck disable=SC2086
knots=$(scripts/callgraph.py "$contracts" "$BUILD/obj" $shim_rooms 2>&1 |
  sed -n 's|^within shim/ (allowed): \([0-9]*\) files call each other in circles: |\1 |p' |
  awk '$1 > 2')
if [ -z "$knots" ] && echo "$shim_rooms" | grep -qw shim/hooks && echo "$shim_rooms" | grep -qw shim/state; then
  t_pass callgraph_shim_root_circles_are_pairs_at_most
else t_fail callgraph_shim_root_circles_are_pairs_at_most "rooms: $shim_rooms; circles in shim/: $knots"; fi

# docs/design.md draws the room order the code has: its "shim:" and
# "report:" lines, against callgraph.py's order (the root of each tree is
# "shim/ (the root)" and "main.c" there; a room nested in another is
# drawn from the tree's top, "shim/python/graph/", a path citations.py
# can check).
docs_order() { # TREE: the docs' line for TREE, as callgraph.py prints it
  sed -n "s|^$1: *||p" docs/design.md | head -1 | sed 's/([^)]*)//g; s/ //g' |
    tr '<' '\n' | sed "s/^-//; s|^main\.c\$|$1/|; s|^\([a-z]\)|$1/\1|; s|^$1/$1/\$|$1/|" |
    sed "s/|/|$1\//g; s#\(^\||\)$1/$1/#\1$1/#g" | paste -sd'<' | sed 's/</ <- /g'
}
for tree in shim report; do
  rooms=$shim_rooms; [ "$tree" = report ] && rooms=$cli_rooms
  # shellcheck disable=SC2086
  have=$(scripts/callgraph.py "$contracts" "$BUILD/obj" $rooms 2>&1 | sed -n 's/^room order, lowest first: //p')
  drawn=$(docs_order $tree)
  if [ -n "$have" ] && [ "$have" = "$drawn" ]; then t_pass "design_doc_draws_the_${tree}_room_order"
  else t_fail "design_doc_draws_the_${tree}_room_order" "docs/design.md: '$drawn'; the code: '$have'"; fi
done

# Two tiny rooms whose files call each other in a circle.
mkdir -p "$T/r/up" "$T/r/up/down" "$T/obj/up/down"
printf 'int down_f(void);\nint up_f(void) { return down_f(); }\nint up_g(void) { return 1; }\n' >"$T/r/up/a.c"
printf 'int up_g(void);\nint down_f(void) { return up_g(); }\n' >"$T/r/up/down/b.c"
cc -c "$T/r/up/a.c" -o "$T/obj/up/a.o" && cc -c "$T/r/up/down/b.c" -o "$T/obj/up/down/b.o"
script=$PWD/scripts/callgraph.py
if out=$(cd "$T/r" && "$script" "$T/obj" up up/down 2>&1); then
  t_fail callgraph_reports_a_cycle_between_rooms "exit 0: $(echo "$out" | tr '\n' ' ' | head -c 300)"
elif echo "$out" | grep -q '^CYCLE between rooms up, up/down: up/a up/down/b'; then
  t_pass callgraph_reports_a_cycle_between_rooms
else t_fail callgraph_reports_a_cycle_between_rooms "$(echo "$out" | tr '\n' ' ' | head -c 300)"; fi

# Two rooms that call each other through different files: no file is on a
# cycle (hi/a -> lo/b, lo/c -> hi/d), the rooms are.
mkdir -p "$T/q/hi" "$T/q/lo" "$T/qobj/hi" "$T/qobj/lo"
printf 'int lo_b(void);\nint hi_a(void) { return lo_b(); }\n' >"$T/q/hi/a.c"
printf 'int hi_d(void) { return 4; }\n' >"$T/q/hi/d.c"
printf 'int lo_b(void) { return 2; }\n' >"$T/q/lo/b.c"
printf 'int hi_d(void);\nint lo_c(void) { return hi_d(); }\n' >"$T/q/lo/c.c"
for f in hi/a hi/d lo/b lo/c; do cc -c "$T/q/$f.c" -o "$T/qobj/$f.o"; done
if out=$(cd "$T/q" && "$script" "$T/qobj" lo hi 2>&1); then
  t_fail callgraph_reports_a_room_cycle_without_a_file_cycle "exit 0: $(echo "$out" | tr '\n' ' ' | head -c 300)"
elif echo "$out" | grep -q '^ROOM CYCLE: hi, lo call each other' && ! echo "$out" | grep -q '^CYCLE between'; then
  t_pass callgraph_reports_a_room_cycle_without_a_file_cycle
else t_fail callgraph_reports_a_room_cycle_without_a_file_cycle "$(echo "$out" | tr '\n' ' ' | head -c 300)"; fi
# ... and the same rooms, once lo no longer calls up, pass in order.
printf 'int lo_c(void) { return 3; }\n' >"$T/q/lo/c.c"
cc -c "$T/q/lo/c.c" -o "$T/qobj/lo/c.o"
if out=$(cd "$T/q" && "$script" "$T/qobj" lo hi 2>&1) && echo "$out" | grep -q '^room order, lowest first: lo/ <- hi/'; then
  t_pass callgraph_orders_rooms_that_call_one_way
else t_fail callgraph_orders_rooms_that_call_one_way "$(echo "$out" | tr '\n' ' ' | head -c 300)"; fi

# Each kind of reference counts, not calls alone: lo reaching back up to hi
# through a thread-local, a data symbol (written, or read-only) or a weak
# hook makes the same room cycle as a call would.
plant_lo() { # NAME SOURCE: lo/c.c is SOURCE; the rooms must then fail
  printf '%b' "$2" >"$T/q/lo/c.c"
  cc -c "$T/q/lo/c.c" -o "$T/qobj/lo/c.o" || { t_fail "$1" "planted source does not build"; return; }
  if out=$(cd "$T/q" && "$script" "$T/qobj" lo hi 2>&1); then
    t_fail "$1" "exit 0: $(echo "$out" | tr '\n' ' ' | head -c 300)"
  elif echo "$out" | grep -q '^ROOM CYCLE: hi, lo call each other'; then t_pass "$1"
  else t_fail "$1" "$(echo "$out" | tr '\n' ' ' | head -c 300)"; fi
}
printf 'int lo_b(void);\nint hi_a(void) { return lo_b(); }\n' >"$T/q/hi/a.c"
printf '__thread int hi_tls;\nint hi_data = 4;\nint hi_bss;\nconst int hi_ro[2] = {1, 2};\nint hi_hook(void) { return 5; }\n' >"$T/q/hi/d.c"
for f in hi/a hi/d; do cc -c "$T/q/$f.c" -o "$T/qobj/$f.o"; done
plant_lo callgraph_sees_an_upward_thread_local \
  'extern __thread int hi_tls;\nint lo_c(void) { return hi_tls; }\n'
plant_lo callgraph_sees_an_upward_data_symbol \
  'extern int hi_data, hi_bss;\nint lo_c(void) { return hi_data + hi_bss; }\n'
plant_lo callgraph_sees_an_upward_read_only_table \
  'extern const int hi_ro[2];\nint lo_c(void) { return hi_ro[1]; }\n'
plant_lo callgraph_sees_an_upward_weak_hook \
  'int hi_hook(void) __attribute__((weak));\nint lo_c(void) { return hi_hook ? hi_hook() : 0; }\n'
# ... and, with --shared, an include of the room above's header, though no
# symbol of it is used (a macro, a type); a shared contract is no edge.
printf '#define HI_LIMIT 4\n' >"$T/q/hi/hi.h"
printf '#define LO_SHARED 1\n' >"$T/q/hi/contract.h"
printf '#include "hi.h"\nint lo_c(void) { return HI_LIMIT; }\n' >"$T/q/lo/c.c"
cc -I"$T/q/hi" -c "$T/q/lo/c.c" -o "$T/qobj/lo/c.o"
if out=$(cd "$T/q" && "$script" --shared=contract.h "$T/qobj" lo hi 2>&1); then
  t_fail callgraph_sees_an_upward_include "exit 0: $(echo "$out" | tr '\n' ' ' | head -c 300)"
elif echo "$out" | grep -q '^ROOM CYCLE: hi, lo call each other' &&
     echo "$out" | grep -q 'lo/ -> hi/: c.c includes hi/hi.h'; then t_pass callgraph_sees_an_upward_include
else t_fail callgraph_sees_an_upward_include "$(echo "$out" | tr '\n' ' ' | head -c 300)"; fi
printf '#include "contract.h"\nint lo_c(void) { return LO_SHARED; }\n' >"$T/q/lo/c.c"
cc -I"$T/q/hi" -c "$T/q/lo/c.c" -o "$T/qobj/lo/c.o"
if out=$(cd "$T/q" && "$script" --shared=contract.h "$T/qobj" lo hi 2>&1); then
  t_pass callgraph_lets_any_room_include_a_shared_contract
else t_fail callgraph_lets_any_room_include_a_shared_contract "$(echo "$out" | tr '\n' ' ' | head -c 300)"; fi

# The same on the real shim: its rooms' objects pass as built, and one
# planted object in base/ that reaches up to a higher room's thread-local
# (collect_entry_sp, the leak room's), to record's data (sample_estimates) or to a root
# function through a weak reference (hook_is_active) fails the check.
objdir=$(cd "$BUILD/obj" && pwd)
mkdir -p "$T/plant" "$T/plantobj"
for d in $shim_rooms; do
  mkdir -p "$T/plant/$d" "$T/plantobj/$d"
  for f in "$d"/*.c; do
    : >"$T/plant/$f"
    ln -sf "$objdir/${f%.c}.o" "$T/plantobj/${f%.c}.o"
  done
  for f in "$d"/*.h; do : >"$T/plant/$f"; done
done
# shellcheck disable=SC2086
if out=$(cd "$T/plant" && "$script" "$contracts" "$T/plantobj" $shim_rooms 2>&1); then
  t_pass callgraph_shim_rooms_pass_unplanted
else t_fail callgraph_shim_rooms_pass_unplanted "$(echo "$out" | grep -A3 CYCLE | head -c 400 | tr '\n' ' ')"; fi
plant_shim() { # NAME SOURCE
  printf '%b' "$2" >"$T/plant/shim/base/planted.c"
  cc -I"$T/plant/shim" -c "$T/plant/shim/base/planted.c" -o "$T/plantobj/shim/base/planted.o" ||
    { t_fail "$1" "planted source does not build"; return; }
  # shellcheck disable=SC2086
  if out=$(cd "$T/plant" && "$script" "$contracts" "$T/plantobj" $shim_rooms 2>&1); then
    t_fail "$1" "exit 0 with shim/base/planted.o"
  elif echo "$out" | grep -q '^ROOM CYCLE: .*shim/base'; then t_pass "$1"
  else t_fail "$1" "$(echo "$out" | tr '\n' ' ' | head -c 300)"; fi
  rm -f "$T/plant/shim/base/planted.c" "$T/plantobj/shim/base/planted.o"
}
plant_shim callgraph_fails_on_a_planted_upward_thread_local_in_the_shim \
  '#include <stdint.h>\nextern __thread uintptr_t collect_entry_sp;\nuintptr_t planted(void) { return collect_entry_sp; }\n'
plant_shim callgraph_fails_on_a_planted_upward_data_symbol_in_the_shim \
  'extern int sample_estimates;\nint planted(void) { return sample_estimates; }\n'
plant_shim callgraph_fails_on_a_planted_upward_weak_hook_in_the_shim \
  'int hook_is_active(void) __attribute__((weak));\nint planted(void) { return hook_is_active ? hook_is_active() : 0; }\n'
# base/ including the root's door (shim.h's old way) fails too; the plant's
# object is empty, its source only includes (cc does not read it: the
# planted headers are empty copies).
plant_shim callgraph_fails_on_a_planted_upward_include_in_the_shim \
  '#include "root.h"\nint planted(void) { return 0; }\n'
