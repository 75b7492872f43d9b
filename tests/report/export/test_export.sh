# tests/report/export/test_export.sh - `heapsnap export` read back by the real readers:
# go tool pprof (pprof), a golden (folded), ajv with speedscope's own schema
# (speedscope) and valgrind's ms_print (massif), on fixtures whose answers
# are known from their source (tests/fixtures/sites.c, inlined.c, api.c).
. tests/fixtures/lib.sh
FX_TEST=export fx_ready sites inlined api || return 0
G=tests/golden
fx_profile "$T/sites.hsnap" "$FX/sites" || t_fail export_sites_profiled "sites exited $?"
fx_profile "$T/inl.hsnap" "$FX/inlined" || t_fail export_inlined_profiled "inlined exited $?"
S=$T/sites.hsnap

# exp NAME ARGS...: heapsnap export ARGS into $T/NAME (fails NAME on an error)
exp() {
  local name=$1; shift
  "$HEAPSNAP" export "$@" >"$T/$name" 2>"$T/$name.err" && return 0
  t_fail "$name" "export $* exited $?: $(head -c 300 "$T/$name.err")"; return 1
}
# has NAME FILE PATTERN: FILE has a line matching the extended regex PATTERN
has() {
  if grep -qE -- "$3" "$2"; then t_pass "$1"
  else t_fail "$1" "no line matches '$3' in: $(head -c 600 "$2" | tr '\n' '|')"; fi
}

# --- folded ---------------------------------------------------------------------
# Outermost first, site last; the libc start-up frames above main differ
# between machines, so the golden starts at main.
if exp export_folded -f folded "$S"; then
  sed 's/^.*;main (/main (/' "$T/export_folded" >"$T/folded.txt"
  t_golden export_folded_sites "$G/export_folded_sites.txt" "$T/folded.txt"
  grep -q '^_start;' "$T/export_folded" && t_pass export_folded_outermost_first \
    || t_fail export_folded_outermost_first "$(head -1 "$T/export_folded")"
fi
if exp export_folded_alloc -f folded --value alloc_objects "$S"; then
  # line 59: 40 allocated, 20 freed (inuse 5120 B, alloc 40 blocks)
  has export_folded_alloc_objects "$T/export_folded_alloc" ';main \(tests/fixtures/sites.c:59\) 40$'
fi

# --- pprof ---------------------------------------------------------------------
if ! command -v go >/dev/null; then
  t_fail export_pprof "go is not installed (scripts/install-deps.sh test installs golang-go)"
elif exp export_pprof -f pprof -o "$T/sites.pb.gz" "$S"; then
  pp() { HOME=$T PPROF_TMPDIR=$T timeout 60 go tool pprof "$@" 2>"$T/pprof.err"; }
  gzip -t "$T/sites.pb.gz" && t_pass export_pprof_gzip || t_fail export_pprof_gzip "not gzip"
  # sites.c's header: main holds 1070113 B itself, buf_new 40960 B.
  pp -top -unit=B -nodecount=2 "$T/sites.pb.gz" >"$T/pp.top"
  has export_pprof_top_main "$T/pp.top" '^ +1070113B .* main$'
  has export_pprof_top_buf_new "$T/pp.top" '^ +40960B .* buf_new$'
  has export_pprof_default_inuse "$T/pp.top" '^Type: inuse_space$'
  # every allocation ever made: 227 blocks (20 of line 59's 40 were freed)
  pp -top -sample_index=alloc_objects "$T/sites.pb.gz" >"$T/pp.alloc"
  has export_pprof_alloc_objects "$T/pp.alloc" 'of 227 total'
  pp -top -sample_index=inuse_objects -lines -nodecount=40 "$T/sites.pb.gz" >"$T/pp.lines"
  has export_pprof_lines "$T/pp.lines" '^ +20 .* main tests/fixtures/sites.c:59$'
  pp -traces "$T/sites.pb.gz" >"$T/pp.traces"
  if awk '/node_new/ {getline a; getline b; if (a ~ /tree_build/ && b ~ /^ +main$/) ok=1}
          END {exit !ok}' "$T/pp.traces"; then t_pass export_pprof_traces_callers
  else t_fail export_pprof_traces_callers "no node_new < tree_build < main trace"; fi
  bid=$(readelf -n "$FX/sites" | sed -n 's/.*Build ID: *//p')
  pp -raw "$T/sites.pb.gz" >"$T/pp.raw"
  has export_pprof_mapping_build_id "$T/pp.raw" "^1: 0x[0-9a-f]+/0x[0-9a-f]+/0x0 .*/sites $bid "
  has export_pprof_locations_have_lines "$T/pp.raw" ' main tests/fixtures/sites.c:52 '
  # inlined.c: grab is inlined into fill: one location, two Line entries
  if exp export_pprof_inl -f pprof -o "$T/inl.pb.gz" "$T/inl.hsnap"; then
    pp -traces "$T/inl.pb.gz" >"$T/inl.traces"
    if awk '/grab \(inline\)/ {getline a; if (a ~ /^ +fill$/) ok=1} END {exit !ok}' "$T/inl.traces"
    then t_pass export_pprof_inline_lines
    else t_fail export_pprof_inline_lines "$(head -c 400 "$T/inl.traces" | tr '\n' '|')"; fi
  fi
fi
# pprof is binary: refused on a terminal, written with -o or to a pipe
if command -v script >/dev/null; then
  script -qec "$HEAPSNAP export -f pprof $S" /dev/null >"$T/tty.out" 2>&1; rc=$?
  if [ $rc = 2 ] && grep -q "binary: not writing it to a terminal" "$T/tty.out"; then
    t_pass export_pprof_refuses_terminal
  else t_fail export_pprof_refuses_terminal "exit $rc: $(head -c 200 "$T/tty.out")"; fi
fi
"$HEAPSNAP" export -f pprof "$S" | gzip -t 2>/dev/null && t_pass export_pprof_to_pipe \
  || t_fail export_pprof_to_pipe "not gzip on a pipe"

# --- the command --------------------------------------------------------------
t_status export_needs_format 2 "$HEAPSNAP" export "$S"
t_status export_unknown_format 2 "$HEAPSNAP" export -f svg "$S"
t_status export_unknown_value 2 "$HEAPSNAP" export -f folded --value peak "$S"
t_status export_needs_snapshot 2 "$HEAPSNAP" export -f folded
printf 'old' >"$T/out.folded"
"$HEAPSNAP" export -f folded -o "$T/out.folded" "$S" 2>"$T/o.err"
if cmp -s "$T/out.folded" "$T/export_folded" && [ -z "$(ls -A "$T" | grep '\.tmp\.')" ]; then
  t_pass export_output_replaces_atomically
else t_fail export_output_replaces_atomically "$(head -c 200 "$T/out.folded")"; fi
"$HEAPSNAP" export -f folded -o "$T/nodir/x" "$S" >/dev/null 2>"$T/nodir.err"; rc=$?
[ $rc = 2 ] && grep -q "nodir/x" "$T/nodir.err" && t_pass export_output_error_names_file \
  || t_fail export_output_error_names_file "exit $rc: $(cat "$T/nodir.err")"

# --- speedscope -------------------------------------------------------------------
npmdir=$BUILD/npm/node_modules
schema=$npmdir/speedscope/dist/release/file-format-schema.json
if exp export_speedscope -f speedscope -o "$T/sites.speedscope.json" "$S"; then
  if ! BUILD=$BUILD scripts/install-deps.sh npm >"$T/npm.log" 2>&1 || [ ! -f "$schema" ]; then
    t_fail export_speedscope_schema "speedscope's schema could not be installed: $(tail -c 300 "$T/npm.log")"
  elif "$npmdir/.bin/ajv" validate --spec=draft7 --strict=false -s "$schema" \
         -d "$T/sites.speedscope.json" >"$T/ajv.out" 2>&1; then
    t_pass export_speedscope_schema
  else t_fail export_speedscope_schema "$(head -c 400 "$T/ajv.out")"; fi
  # the schema does not check frame numbers or sums: node does
  cat >"$T/ss.js" <<'JS'
const f = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const n = f.shared.frames.length, p = f.profiles[0];
const bad = f.profiles.filter(q => q.samples.length !== q.weights.length ||
  q.samples.some(s => s.some(i => !Number.isInteger(i) || i < 0 || i >= n)) ||
  q.weights.reduce((a, b) => a + b, 0) !== q.endValue);
const site = f.shared.frames[p.samples[1][p.samples[1].length - 1]];
console.log([f.profiles.length, p.name, p.unit, p.endValue, bad.length,
             site.name + ' ' + site.file + ':' + site.line].join('|'));
JS
  got=$(node "$T/ss.js" "$T/sites.speedscope.json" 2>&1)
  want='6|live bytes|bytes|1113473|0|buf_new tests/fixtures/sites.c:33'
  [ "$got" = "$want" ] && t_pass export_speedscope_profiles \
    || t_fail export_speedscope_profiles "got '$got', want '$want'"
  exp export_speedscope_value -f speedscope --value alloc_objects "$S" &&
    node -e 'const f=JSON.parse(require("fs").readFileSync(process.argv[1]));
             process.exit(f.profiles[0].name==="blocks allocated"&&f.profiles[0].endValue===227?0:1)' \
         "$T/export_speedscope_value" && t_pass export_speedscope_value_first \
    || t_fail export_speedscope_value_first "the first profile is not alloc_objects = 227"
fi

# --- massif -----------------------------------------------------------------------
# api.c (see its header): snapshot A holds 1900 B (lines 58, 59), B 9500 B
# (500 + 4000 + 5000), the exit snapshot the same 9500 B.
fx_profile "$T/api_exit.hsnap" "$FX/api" "$T/api_a.hsnap" "$T/api_b.hsnap"
if exp export_massif -f massif -o "$T/massif.out.1" "$T/api_b.hsnap" "$T/api_exit.hsnap" "$T/api_a.hsnap"
then
  if ms_print "$T/massif.out.1" >"$T/ms.txt" 2>"$T/ms.err"; then
    t_pass export_massif_ms_print_reads
    # three snapshots and the peak (9500 B + the 10000 B api.c frees at once
    # after its reset_peak), marked as massif marks its own
    has export_massif_three_detailed "$T/ms.txt" '^ Detailed snapshots: \[[0-9]+, [0-9]+, [0-9]+ \(peak\), [0-9]+\]$'
    # the first detailed snapshot is A, in time order whatever the order given
    # (the timeline's points between them repeat a total: squeezed).  A point
    # of the timeline may also fall inside the loops between A and B (life_tick
    # takes one at every 64th allocation once 10 ms have passed since the last:
    # the start and the writing of A take about that long on a loaded machine),
    # with a total between theirs (make check failed 1 in ~7 so).
    awk '/^ +[0-9]+ +[0-9,]+ +[0-9,]+ / && $3 != last {print $3; last = $3}' "$T/ms.txt" | tr '\n' ' ' >"$T/ms.totals"
    if grep -Eq '(^| )1,900 ([2-8],[0-9]{3} )*9,500 19,500 9,500 ' "$T/ms.totals"; then
      t_pass export_massif_series_in_time_order
    else t_fail export_massif_series_in_time_order "totals: $(cat "$T/ms.totals")"; fi
    has export_massif_tree_site "$T/ms.txt" '^->42\.11% \(4,000B\) 0x[0-9a-f]+: main \(tests/fixtures/api.c:64\)$'
  else
    t_fail export_massif_ms_print_reads "$(head -c 300 "$T/ms.err")"
  fi
fi
# --no-notes: no note on stderr where the export of two processes has one.
"$HEAPSNAP" export -f tracemalloc "$S" "$T/api_a.hsnap" >/dev/null 2>"$T/note.err"
"$HEAPSNAP" export -f tracemalloc-binary --no-notes "$S" "$T/api_a.hsnap" >/dev/null 2>"$T/nonote.err"
if [ -s "$T/note.err" ] && [ ! -s "$T/nonote.err" ]; then t_pass export_no_notes_quiet
else t_fail export_no_notes_quiet "note: $(head -c 200 "$T/note.err"); --no-notes: $(head -c 200 "$T/nonote.err")"; fi
"$HEAPSNAP" export -f massif "$S" "$T/api_a.hsnap" >/dev/null 2>"$T/ms2.err"; rc=$?
[ $rc = 2 ] && grep -q "of 2 processes" "$T/ms2.err" && t_pass export_massif_one_process \
  || t_fail export_massif_one_process "exit $rc: $(cat "$T/ms2.err")"

# --- tracemalloc (heapsnap.Snapshot.load's input) ----------------------------------
# One line per live stack, innermost first: line 59's 20 live blocks of
# 256 B, its frame MODULE<US>FILE<US>LINE<US>FUNCTION, then its caller.
if exp export_tm -f tracemalloc "$S"; then
  us=$(printf '\037')
  has export_tracemalloc_line "$T/export_tm" \
    "^5120	20	sites${us}tests/fixtures/sites.c${us}59${us}main	"
  if awk -F'\t' 'NF < 3 || $1 !~ /^[0-9]+$/ || $2 !~ /^[0-9]+$/ {bad=1} END {exit bad}' \
    "$T/export_tm"; then t_pass export_tracemalloc_every_line_sized
  else t_fail export_tracemalloc_every_line_sized "$(head -3 "$T/export_tm" | cat -v)"; fi
  # --python-only changes Python stacks alone (their native frames go:
  # python_inproc_snapshot_load); a native program's export is the same.
  if exp export_tm_py -f tracemalloc --python-only "$S"; then
    cmp -s "$T/export_tm" "$T/export_tm_py" && t_pass export_python_only_native_stacks_unchanged \
      || t_fail export_python_only_native_stacks_unchanged "$(diff "$T/export_tm" "$T/export_tm_py" | head -c 300)"
  fi
fi

# tracemalloc-binary: the same live stacks as the text, each frame once
# (rebuilt here into the text's lines, compared as sets: the binary's tie
# order counts live traces alone).
if exp export_tmb -f tracemalloc-binary --no-notes -o "$T/export_tmb.bin" "$S"; then
  python3 - "$T/export_tmb.bin" >"$T/export_tmb.txt" <<'PY'
import array, struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"HSTMB2\n\0", d[:8]
nf, ns, nr, nb = struct.unpack_from("<IIQQ", d, 8)
at = 32
def take(code, n):
    global at
    a = array.array(code); a.frombytes(d[at:at + a.itemsize * n]); at += a.itemsize * n
    return a
size, blocks, depth, ref = take("q", ns), take("q", ns), take("I", ns), take("I", nr)
bstack, bsize = take("I", nb), take("Q", nb)
# each live block under its stack: a stack's blocks are its count and bytes
got = {}
for k, b in zip(bstack, bsize):
    c, s = got.get(k, (0, 0))
    got[k] = (c + 1, s + b)
want = {k: (blocks[k], size[k]) for k in range(ns)}
open(sys.argv[1] + ".blocks", "w").write("%d %s\n" % (nb, got == want))
fr = d[at:].split(b"\0")
assert len(fr) == nf + 1 and fr[-1] == b""
lo = 0
for k in range(ns):
    sys.stdout.buffer.write(b"\t".join([b"%d" % size[k], b"%d" % blocks[k]] +
                                       [fr[i] for i in ref[lo:lo + depth[k]]]) + b"\n")
    lo += depth[k]
PY
  if [ -s "$T/export_tmb.txt" ] && [ "$(sort "$T/export_tm")" = "$(sort "$T/export_tmb.txt")" ]; then
    t_pass export_tracemalloc_binary_same_stacks
  else t_fail export_tracemalloc_binary_same_stacks "$(diff <(sort "$T/export_tm") <(sort "$T/export_tmb.txt") | head -c 400 | cat -v)"; fi
  # tracemalloc's one trace a block: every live block, each under its stack
  read -r nb same <"$T/export_tmb.bin.blocks" 2>/dev/null
  if [ "${nb:-0}" -gt 0 ] && [ "$same" = True ]; then
    t_pass export_tracemalloc_binary_lists_each_live_block
  else t_fail export_tracemalloc_binary_lists_each_live_block "blocks ${nb:-none}, sums as the stacks': ${same:-?}"; fi
fi
