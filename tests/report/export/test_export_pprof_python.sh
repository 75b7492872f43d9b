# test_export_pprof_python.sh - a Python program's pprof profile as pprof
# readers show it: `go tool pprof -top` names its functions as Python does
# ("<module>", "build.<locals>.<listcomp>"), where a reader that takes <...>
# for C++ template arguments stripped them to nothing ("<unknown>"), and
# -lines gives the script's own lines.  Debian's python3 (3.11).
py=/usr/bin/python3
[ -x "$py" ] || { t_fail export_pprof_python "no /usr/bin/python3 (scripts/install-deps.sh)"; return 0; }
command -v go >/dev/null || { t_fail export_pprof_python "go is not installed (scripts/install-deps.sh test installs golang-go)"; return 0; }
cat >"$T/grow.py" <<'PY'
KEEP = [str(i) * 20 for i in range(20000)]
def build():
    return [bytes(200) for _ in range(5000)]
X = build()
PY
if ! LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/g.hsnap" "$py" "$T/grow.py" 2>"$T/run.err" ||
   ! "$HEAPSNAP" export -f pprof -o "$T/g.pb.gz" "$T/g.hsnap" 2>>"$T/run.err"; then
  t_fail export_pprof_python "$(head -c 300 "$T/run.err")"; return 0
fi
pp() { HOME=$T PPROF_TMPDIR=$T timeout 60 go tool pprof "$@" 2>"$T/pprof.err"; }
pp -top -unit=B "$T/g.pb.gz" >"$T/top"
# the list of 5000 bytes(200): 5000 x 233 B and the list's own block
if grep -Eq '^ +1[12][0-9]{5}B .* build\.<locals>\.<listcomp>$' "$T/top" &&
   grep -Eq ' <module>$' "$T/top" && ! grep -q '<unknown>' "$T/top"; then
  t_pass export_pprof_python_names_kept
else t_fail export_pprof_python_names_kept "$(sed -n '/flat/,+6p' "$T/top" | tr '\n' '|') $(head -c 200 "$T/pprof.err")"; fi
pp -top -lines -unit=B "$T/g.pb.gz" >"$T/lines"
if grep -Eq ' build\.<locals>\.<listcomp> .*grow\.py:3$' "$T/lines" &&
   grep -Eq ' <listcomp> .*grow\.py:1$' "$T/lines"; then t_pass export_pprof_python_lines
else t_fail export_pprof_python_lines "$(sed -n '/flat/,+6p' "$T/lines" | tr '\n' '|')"; fi
