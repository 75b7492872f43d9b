# tests/shim/leak/test_leaks_real.sh - `heapsnap leaks` on a real process run with
# `heapsnap run --leaks`: a fixture (written below, built in $T) whose answer
# is known from its source:
#   a list of 3 nodes lost from make_list: 1 direct (leaky.c:11) + 2 indirect
#   a ring of 3 nodes, lost: a cycle of 3 blocks, all from make_node (leaky.c:11)
#   a string lost through strdup (a recorded wrapper frame, folded unless
#   --all-frames): direct, leaky.c:33
#   a 100-byte block kept by a global: still reachable (leaky.c:38)
# Addresses vary from run to run (ASLR), so they are masked, and the frames
# below main (libc's start-up) are dropped before comparing with the golden;
# libc's strdup frame is shown as plain "strdup" (its name and line depend on
# libc's debug info being installed).

cat >"$T/leaky.c" <<'EOF2'
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; char pad[8]; };
static void *keep;

__attribute__((noinline)) static struct node *make_node(struct node *next)
{
    struct node *n;
    /* one allocation line for every node */
    n = malloc(sizeof(*n));
    n->next = next;
    return n;
}
__attribute__((noinline)) static void make_list(void)
{
    struct node *head = 0;
    for (int i = 0; i < 3; i++)
        head = make_node(head);
}
__attribute__((noinline)) static void make_ring(void)
{
    struct node *a = make_node(0), *b = make_node(a), *c = make_node(b);
    a->next = c;
}
__attribute__((noinline)) static void scrub(void)
{
    volatile char buf[8192];
    memset((char *)buf, 0, sizeof(buf));
}
__attribute__((noinline)) static void lose_string(void)
{
    char *s = strdup("lost string");
    s[0] = 'L';
}
int main(void)
{
    keep = malloc(100);
    make_list();
    make_ring();
    lose_string();
    scrub();
    return 0;
}
EOF2
if ! (cd "$T" && ${CC:-gcc} -g -O0 -fno-omit-frame-pointer -o leaky leaky.c) 2>"$T/cc.err"; then
  t_fail leaky_builds "$(head -c 300 "$T/cc.err")"
fi
(cd "$T" && "$HEAPSNAP" run --leaks -o leaky.hsnap -- ./leaky) >"$T/run.out" 2>&1
if [ ! -s "$T/leaky.hsnap" ]; then t_fail leaky_snapshot "$(head -c 300 "$T/run.out")"; fi

mask() { sed -E -e 's/0x[0-9a-f]+: /0xADDR: /' -e '/__libc_start|: _start /d' \
                -e 's/: [^ ]*strdup .*\[wrapper\]$/: strdup [wrapper]/'; }

(cd "$T" && "$HEAPSNAP" leaks leaky.hsnap) >"$T/default.raw" 2>"$T/err"
mask <"$T/default.raw" >"$T/default.out"
t_golden leaks_real_default tests/golden/leaks_real_default.txt "$T/default.out"

(cd "$T" && "$HEAPSNAP" leaks --kinds all --refs --sort size leaky.hsnap) 2>/dev/null | mask >"$T/all.out"
t_golden leaks_real_all_refs_sorted tests/golden/leaks_real_all_refs_sorted.txt "$T/all.out"

# The strdup record opens at its site, strdup folded into it; --all-frames
# shows strdup as a marked wrapper frame, then the site.
(cd "$T" && "$HEAPSNAP" leaks --all-frames leaky.hsnap) >"$T/allfr.raw" 2>/dev/null
if ! grep -q 'strdup' "$T/default.raw" &&
   grep -A1 'definitely lost' "$T/default.raw" | grep -q 'at 0x[0-9a-f]*: lose_string (leaky.c:33)$' &&
   grep -A1 'strdup' "$T/allfr.raw" | head -2 | grep -q '\[wrapper\]' &&
   grep -A1 'strdup.*\[wrapper\]' "$T/allfr.raw" | grep -q 'at 0x[0-9a-f]*: lose_string (leaky.c:33)$'; then
  t_pass leaks_real_wrapper_folded_shown_by_all_frames
else t_fail leaks_real_wrapper_folded_shown_by_all_frames "$(grep -B1 -A2 'strdup\|lose_string' "$T/default.raw" "$T/allfr.raw" | tr '\n' '|')"; fi

# JSON of the same run: the direct list record and the ring, by line.
(cd "$T" && "$HEAPSNAP" leaks --format json leaky.hsnap) >"$T/real.json" 2>/dev/null
t_check leaks_real_json python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
recs = {(r["class"], r["site"], r["blocks"]): r for r in d["records"]}
lst = recs[("direct", "leaky.c:11", 1)]
assert (lst["bytes"], lst["indirect_bytes"], lst["indirect_blocks"]) == (16, 32, 2), lst
ring = recs[("cycle", "leaky.c:11", 3)]
assert ring["cycle"]["sites"] == ["leaky.c:11"] * 3, ring
site = [f for f in ring["frames"] if f["site"]][0]
assert (site["function"], site["file"], site["line"]) == ("make_node", "leaky.c", 11), site
s = d["summary"]
assert s["direct"] == {"bytes": 28, "blocks": 2}, s
assert s["indirect"] == {"bytes": 32, "blocks": 2} and s["cycle"] == {"bytes": 48, "blocks": 3}, s
' "$T/real.json"

# --why: the global keeps leaky.c:38 alive.
(cd "$T" && "$HEAPSNAP" leaks --why leaky.c:38 leaky.hsnap) >"$T/why.out" 2>"$T/why.err"
if [ "$(head -1 "$T/why.out")" = "leaky.c:38: 100 B still reachable in 1 blocks, kept alive by:" ] &&
   grep -q '^   module data (globals): 1 refs, first to reach 1 blocks, 100 B$' "$T/why.out"; then
  t_pass leaks_real_why_global
else t_fail leaks_real_why_global "$(cat "$T/why.out" "$T/why.err" | tr '\n' '|')"; fi
