# tests/report/commands/test_top_counts.sh - one site, one number: a group's counts
# (live blocks, allocations) are the same whatever the sort, the -n, the format.
# deadpath.c's line 17 is reached by a stack that keeps 100 blocks and one that
# freed its 300: JSON said allocated_blocks=100 under the default sort and 400 under
# --sort allocations, because the live order skipped the stack with nothing live.
# Over every key, --cumulative, --sort and -n, the text and the JSON of top on one
# snapshot list the same groups in the same order with the same counts, and each
# group's counts agree between all the runs of its key.
. tests/fixtures/lib.sh
FX_TEST=top_counts fx_ready || return 0
command -v python3 >/dev/null || { t_skip top_counts "no python3"; return 0; }
t_build deadpath tests/report/commands/deadpath.c || { t_fail top_counts_build "deadpath.c"; return 0; }
if ! fx_profile "$T/dp.hsnap" "$T/deadpath" || [ ! -s "$T/dp.hsnap" ]; then
  t_fail top_counts_profiled "exit $? or no snapshot: $(head -c 300 "$T/fx.err")"; return 0
fi
: >"$T/runs"
for key in lineno filename function module traceback; do
  for cum in "" --cumulative; do
    [ "$key" = traceback ] && [ -n "$cum" ] && continue
    for sort in live allocations allocated; do
      for n in 0 2; do
        name=$key${cum:+_cum}_${sort}_n$n
        args=(--key "$key" --sort "$sort" -n "$n" $cum)
        "$HEAPSNAP" top "$T/dp.hsnap" "${args[@]}" >"$T/$name.txt" 2>"$T/$name.err" &&
          "$HEAPSNAP" top "$T/dp.hsnap" "${args[@]}" --format json >"$T/$name.json" 2>>"$T/$name.err" ||
          { t_fail "top_counts_$name" "exit $?: $(head -c 300 "$T/$name.err")"; continue; }
        echo "$key${cum:+_cum} $sort $n $T/$name.txt $T/$name.json" >>"$T/runs"
      done
    done
  done
done
why=$(python3 - "$T/runs" <<'PY' 2>&1
import json, re, sys
live = re.compile(r'^(.*): size=[^,]*, count=(-?\d+), average=')
alloc = re.compile(r'^(.*): allocations=(\d+), allocated=.*\(live: size=[^,]*, count=(\d+)\)$')
bad, seen = [], {}
for line in open(sys.argv[1]):
    key, sort, n, txt, js = line.split()
    rows = []  # (key, live count, allocations or None) in text order
    for l in open(txt):
        if l.startswith(' '):
            continue
        m = alloc.match(l.rstrip('\n'))
        if m:
            rows.append((m[1], int(m[3]), int(m[2])))
            continue
        m = live.match(l)
        if not m:
            bad.append(f'{key} {sort} -n {n}: unread text line {l!r}')
            continue
        rows.append((m[1], int(m[2]), None))
    groups = json.load(open(js))['groups']
    jrows = [(g['key'], g['blocks'], g['allocated_blocks'] if sort != 'live' else None)
             for g in groups]
    if rows != jrows:
        bad.append(f'{key} {sort} -n {n}: text {rows} json {jrows}')
    for g in groups:  # every run of a key must give a group the same counts
        ident = (key, g['key'], json.dumps(g.get('frames')))
        got = (g['blocks'], g['allocated_blocks'], g['bytes'], g['allocated_bytes'])
        if seen.setdefault(ident, (got, f'{sort} -n {n}'))[0] != got:
            bad.append(f'{ident[:2]}: {got} under {sort} -n {n}, {seen[ident][0]} under {seen[ident][1]}')
site = [v for k, v in seen.items() if k[0] == 'lineno' and k[1].endswith('deadpath.c:17')]
if not site or site[0][0][:2] != (100, 400):
    bad.append(f'deadpath.c:17 under lineno: {site and site[0][0]}, want 100 live, 400 allocations')
print('\n'.join(bad[:8]))
PY
)
[ -z "$why" ] && [ -s "$T/runs" ] && t_pass top_counts_same_in_every_sort_and_format ||
  t_fail top_counts_same_in_every_sort_and_format "$why"
