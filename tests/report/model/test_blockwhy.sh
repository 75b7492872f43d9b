# test_blockwhy.sh - `leaks --why SITE` block by block (bwhy_print) on
# tests/fuzz/mkcorpus.c's leaks.hsnap, whose heap and HOLDERS are known
# (snap_writer.h's w_leaks, w_holders): direct leaks, an indirect block
# under its direct one, a cycle's members in cycle order, a cycle under a
# direct leak, a possibly lost block held +24 into it from a block that a
# thread's stack holds (tid and comm), and a site whose blocks all leaked
# answered with exit 0 (it has no retainers).  The committed fuzz seed is
# this file.
if ! ${CC:-gcc} -Ishim tests/fuzz/mkcorpus.c -o "$T/mkcorpus" -lz 2>"$T/cc.err"; then
  t_fail blockwhy_mkcorpus_builds "$(head -c 300 "$T/cc.err")"; return 0
fi
mkdir -p "$T/c" && "$T/mkcorpus" "$T/c"
f=$T/c/leaks.hsnap
"$HEAPSNAP" leaks --why prog+0x40102f "$f" >"$T/leaked.out" 2>/dev/null; rc=$?
cat >"$T/leaked.want" <<'EOF2'
prog+0x40102f: block by block, the reference each rests on:
   indirect leak 16 B at 0x1100: under the direct leak 0x1000 (prog+0x40100f)
   indirect leak 16 B at 0x1200: under the direct leak 0x1000 (prog+0x40100f)
   leaked cycle 8 B at 0x3000: one of 3 blocks: 0x3000 (prog+0x40102f), 0x3100 (prog+0x40102f), 0x3200 (prog+0x40100f)
   leaked cycle 8 B at 0x3100: one of 3 blocks: 0x3000 (prog+0x40102f), 0x3100 (prog+0x40102f), 0x3200 (prog+0x40100f)
   direct leak 32 B at 0x7000: nothing points to it
   leaked cycle 40 B at 0x8000: one of 1 blocks: 0x8000 (prog+0x40102f)

EOF2
if [ $rc = 0 ] && diff -u "$T/leaked.want" "$T/leaked.out" >"$T/leaked.diff"; then
  t_pass blockwhy_leaked_site_direct_indirect_cycle
else t_fail blockwhy_leaked_site_direct_indirect_cycle "rc $rc $(head -c 600 "$T/leaked.diff" | tr '\n' '|')"; fi
"$HEAPSNAP" leaks --why prog+0x40100f "$f" 2>/dev/null | grep '^   leaked cycle 8 B at 0x7' >"$T/under.out"
if [ "$(cat "$T/under.out")" = "   leaked cycle 8 B at 0x7100: in a cycle under the direct leak 0x7000 (prog+0x40102f)
   leaked cycle 8 B at 0x7200: in a cycle under the direct leak 0x7000 (prog+0x40102f)" ]; then
  t_pass blockwhy_cycle_under_a_direct_leak
else t_fail blockwhy_cycle_under_a_direct_leak "$(tr '\n' '|' <"$T/under.out")"; fi
"$HEAPSNAP" leaks --why libc.so.6+0xfff "$f" 2>/dev/null | grep -A9 'block by block' >"$T/held.out"
cat >"$T/held.want" <<'EOF2'
libc.so.6+0xfff: block by block, the reference each rests on:
   possibly lost 100 B at 0x4000: +24 into it, from 0x5000 (libc.so.6+0xfff), 1 block below the stack of thread 77 (worker)
   reachable 4096 B at 0x5000: from the stack of thread 77 (worker)

EOF2
if diff -u "$T/held.want" "$T/held.out" >"$T/held.diff"; then t_pass blockwhy_interior_chain_to_thread_stack
else t_fail blockwhy_interior_chain_to_thread_stack "$(head -c 600 "$T/held.diff" | tr '\n' '|')"; fi
if cmp -s "$f" tests/fuzz/corpus/leaks.hsnap; then t_pass blockwhy_fuzz_seed_current
else t_fail blockwhy_fuzz_seed_current "tests/fuzz/corpus/leaks.hsnap differs from mkcorpus' (copy it)"; fi
"$HEAPSNAP" leaks --why prog+0x40102f --format json "$f" >"$T/why.json" 2>/dev/null; rc=$?
if [ $rc = 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
b = d["blocks"]
assert d["retainers"] is None, d["retainers"]
assert [(x["address"], x["class"]) for x in b] == [(0x1100, "indirect leak"), (0x1200, "indirect leak"),
    (0x3000, "leaked cycle"), (0x3100, "leaked cycle"), (0x7000, "direct leak"), (0x8000, "leaked cycle")], b
assert b[0]["held_by"] == "under the direct leak 0x1000 (prog+0x40100f)", b[0]
assert b[4]["held_by"] == "nothing points to it", b[4]
' "$T/why.json" 2>"$T/why.err"; then t_pass blockwhy_json_blocks
else t_fail blockwhy_json_blocks "rc $rc $(head -c 400 "$T/why.err" | tr '\n' '|')"; fi
