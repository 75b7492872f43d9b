# test_prefixes.sh - one prefix a room: every global symbol (function or
# data) that the built objects of a room whose door says "Prefix: X"
# (one prefix) define starts with X, so that a name says where its code
# lives (issue 71): the state file, CPython's domains and every Python
# room (the layout, the reads, the frames, what the wrapped domains keep,
# the heap, the retained sizes, the graph, the leaked references, the exit
# snapshot, and shim/python/ itself, whose own sources only are its
# room's).  And the check names a planted global of another prefix.
# Each ROOM's door is the header of ROOM that says "Prefix: ".
rooms="shim/state shim/python/domain shim/python/layout shim/python/reads shim/python/frames
       shim/python/wrap shim/python/heap shim/python/retain shim/python/graph
       shim/python/leakref shim/python/exit shim/python"

# strays PREFIX OBJ...: the global symbols the objects define without PREFIX
strays() {
  local prefix=$1; shift
  nm --defined-only "$@" 2>/dev/null | awk -v p="$prefix" \
    'NF == 3 && $2 ~ /^[TDBRVWi]$/ && index($3, p) != 1 { print $3 }' | sort -u
}

for room in $rooms; do
  name=prefix_one_per_room_$(echo "${room#shim/}" | tr / _)
  door=$(grep -l "Prefix: " "$room"/*.h 2>/dev/null | head -1)
  prefix=$(sed -n 's/.*Prefix: \([a-z_]*\).*/\1/p' "$door" 2>/dev/null | head -1)
  # the objects of the room's sources only: one left in the build folder
  # by a source since removed (another branch's build) is not the room's
  objs=$(for c in "$room"/*.c; do o=$BUILD/obj/${c%.c}.o; [ -f "$o" ] && echo "$o"; done)
  if [ -z "$prefix" ] || [ -z "$objs" ]; then
    t_fail "$name" "no door saying 'Prefix: ' in $room, or no objects in $BUILD/obj/$room"
    continue
  fi
  # shellcheck disable=SC2086
  bad=$(strays "$prefix" $objs)
  if [ -z "$bad" ]; then t_pass "$name"
  else t_fail "$name" "not $prefix: $(echo "$bad" | head -8 | tr '\n' ' ')"; fi
done

# A planted object beside graph's, defining one global of another prefix
# (and a static one, which is free), is named.
printf 'int pyg_kept(void) { return 1; }\nint pym_stray(void) { return 2; }\nstatic int pyq_free(void) { return 3; }\nint pyg_uses(void) { return pyq_free(); }\n' >"$T/plant.c"
if cc -c "$T/plant.c" -o "$T/plant.o"; then
  bad=$(strays pyg_ "$T/plant.o")
  if [ "$bad" = pym_stray ]; then t_pass prefix_check_names_a_planted_stray
  else t_fail prefix_check_names_a_planted_stray "named: '$(echo "$bad" | tr '\n' ' ')'"; fi
else t_fail prefix_check_names_a_planted_stray "the planted source does not build"; fi
