# tests/layout/test_docwalk.sh - every command block of README.md and docs/*.md runs
# as written, in order, in a fresh copy of the tree after the README's set-up (make
# demo), and prints what the page shows, numbers aside (scripts/docwalk.py, whose
# opening gives the block kinds and the "<!-- not run: REASON -->" mark).  The copy
# is the tree's tracked and unignored files (a clone with this worktree's edits)
# with this build's build/ minus its fixtures, snapshots and test outputs, so make
# demo only builds what a clone's `make` must build itself (the docs' fixtures) and
# every block sees only what the blocks before it left.  One PASS/FAIL a block; a
# block marked not run is a SKIP with its reason.
# tier: full (runs every page's examples, about a minute)
command -v python3 >/dev/null || { t_fail docwalk_runs "python3 is needed (scripts/install-deps.sh)"; return 0; }
clone=$T/clone; mkdir -p "$clone"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - 2>/dev/null | tar -xf - -C "$clone"
mkdir -p "$clone/$BUILD"
for f in "$BUILD"/*; do
  case ${f##*/} in fixtures | tests | demo | roots | build.log) ;; *) cp -a "$f" "$clone/$BUILD/" ;; esac
done
if ! (cd "$clone" && BUILD=$BUILD make demo) >"$T/setup.log" 2>&1; then
  t_fail docwalk_setup "make demo in a fresh copy failed: $(tail -c 400 "$T/setup.log")"; return 0
fi
t_pass docwalk_setup
python3 scripts/docwalk.py --dir "$clone" >"$T/walk.out" 2>&1
grep -E '^(PASS|FAIL|SKIP) ' "$T/walk.out"
sum=$(grep '^docwalk: ' "$T/walk.out")
echo "    $sum"
ran=$(echo "$sum" | sed -n 's/^docwalk: \([0-9]*\) blocks run.*/\1/p')
[ "${ran:-0}" -ge 20 ] && t_pass docwalk_blocks_are_run || t_fail docwalk_blocks_are_run "only ${ran:-0} blocks ran: $(tail -c 300 "$T/walk.out")"
