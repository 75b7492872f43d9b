# tests/layout/test_readme_runs.sh - the README's examples run as written, on this
# build, each block in a fresh directory with build/ in it (make demo's bundled
# program, build/fixtures/demo, built first): a ```sh block runs line by line and
# every line must succeed; a ```console block runs each "$ COMMAND" and the lines
# shown under it must be lines it prints, in order ("..." skips any; addresses,
# pids in snapshot names and times in seconds are masked).  A ```text block is
# not commands; a block that cannot run here says why in a "<!-- not run by
# test_readme_runs: ... -->" line above it, and a block with no kind fails, so
# that no example escapes the test.
# tier: full (runs the README's examples)
if ! tests/fixtures/build.sh demo >"$T/fx.log" 2>&1; then
  t_fail readme_runs "the demo fixture does not build: $(head -c 300 "$T/fx.log")"; return 0
fi
command -v python3 >/dev/null || { t_fail readme_runs "python3 is needed (scripts/install-deps.sh)"; return 0; }
mkdir -p "$T/blocks"
# Split README.md into $T/blocks/N.KIND (KIND: sh, console, text, skip, none).
python3 - "$T/blocks" <<'PY'
import re, sys
out, lines, n, i = sys.argv[1], open("README.md").read().split("\n"), 0, 0
skip = False
while i < len(lines):
    line = lines[i]
    if line.startswith("<!-- not run by test_readme_runs:"):
        skip = True
    m = re.match(r"^```(\w*)\s*$", line)
    if m:
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        n += 1
        kind = "skip" if skip else (m.group(1) or "none")
        with open("%s/%02d.%s" % (out, n, kind), "w") as f:
            f.write("\n".join(lines[i + 1:j]) + "\n")
        skip, i = False, j
    i += 1
PY
mask() { sed -E 's/0x[0-9a-f]+/0xADDR/g; s/\.[0-9]+\.hsnap/.PID.hsnap/g; s/\b[0-9]+\.[0-9]+ s\b/T s/g'; }
ran=0
for b in "$T"/blocks/*; do
  name=readme_block_$(basename "$b" | tr . _)
  dir=$T/run.$(basename "$b"); mkdir -p "$dir"; ln -s "$PWD/$BUILD" "$dir/build"
  case $b in
  *.text|*.skip) continue ;;
  *.none) t_fail "$name" "a README code block without a kind (sh, console, text): $(head -1 "$b")"; continue ;;
  *.sh)
    ran=$((ran + 1)); bad=
    while IFS= read -r cmd; do
      [ -n "$cmd" ] || continue
      (cd "$dir" && bash -c "$cmd") >"$dir/out" 2>&1 || { bad="'$cmd' exited $?: $(tail -c 300 "$dir/out")"; break; }
    done <"$b"
    [ -z "$bad" ] && t_pass "$name" || t_fail "$name" "$bad" ;;
  *.console)
    ran=$((ran + 1)); bad=; : >"$dir/want"
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in
      '$ '*)
        [ -z "$bad" ] && [ -s "$dir/want" ] && ! python3 -c '
import sys
want = [l for l in open(sys.argv[1]).read().split("\n") if l]
got = open(sys.argv[2]).read().split("\n")
k = 0
for w in want:
    if w == "...":
        continue
    while k < len(got) and got[k] != w:
        k += 1
    if k == len(got):
        sys.exit("not printed (or not in this order): " + w)
    k += 1' "$dir/want" "$dir/got" 2>"$dir/why" && bad="$(cat "$dir/why")"
        : >"$dir/want"
        [ -n "$bad" ] && continue
        cmd=${line#\$ }
        (cd "$dir" && bash -c "$cmd") 2>&1 | mask >"$dir/got"
        [ "${PIPESTATUS[0]}" = 0 ] || bad="'$cmd' failed: $(tail -c 300 "$dir/got")" ;;
      *) printf '%s\n' "$line" | mask >>"$dir/want" ;;
      esac
    done < <(cat "$b"; echo '$ true')
    [ -z "$bad" ] && t_pass "$name" || t_fail "$name" "$bad" ;;
  esac
done
[ "$ran" -ge 4 ] && t_pass readme_blocks_are_run || t_fail readme_blocks_are_run "only $ran blocks of README.md ran"
