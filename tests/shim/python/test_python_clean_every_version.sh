# test_python_clean_every_version.sh - issue 46's "clean programs are clean
# on every supported CPython": test_python_clean_program_* runs the clean
# program (json, re, dataclasses, asyncio, a thread) on Debian's python3
# and pyenv's 3.10 and 3.11 only; this runs the same program under the leak
# check on every other CPython 3.10-3.13 found (pyenv's 3.12 and 3.13 on the
# farm) and asks `info` for no direct leak, no cycle and nothing possibly
# lost (`info` reads no symbols: under a second a version).  A SKIP line
# names each supported version absent.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_clean_every_version_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
cat >"$T/clean.py" <<'PY'
import dataclasses, json, re, threading
import asyncio
@dataclasses.dataclass
class P:
    x: int
json.dumps({"a": [P(1).x]}); re.compile(r"a+b"); asyncio.run(asyncio.sleep(0))
t = threading.Thread(target=lambda: None); t.start(); t.join()
PY
ran=0
while read -r tag py; do
  case "$tag" in debian|pyenv-3.10|pyenv-3.11) continue ;; esac  # test_python_clean's
  ran=$((ran + 1))
  mkdir -p "$T/$tag"
  HEAPSNAP_LEAKS=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/$tag/c.%p.hsnap" "$py" "$T/clean.py" \
    >"$T/$tag.out" 2>"$T/$tag.err"
  set -- "$T/$tag"/c.*.hsnap
  "$HEAPSNAP" info "$1" >"$T/$tag.info" 2>&1
  if [ "$#" = 1 ] && grep -q 'leak check: *yes, 0 blocks lost (0 B: 0 direct, 0 indirect, 0 in cycles), 0 possibly lost' "$T/$tag.info"; then
    t_pass "python_clean_every_version_nothing_lost_$tag"
  else t_fail "python_clean_every_version_nothing_lost_$tag" "$# snapshots; $(grep 'leak check' "$T/$tag.info") $(tail -c 200 "$T/$tag.err")"; fi
done < <(py_interpreters)
if [ "$ran" = 0 ]; then
  t_skip python_clean_every_version "no CPython here beyond Debian's python3 and pyenv's 3.10 and 3.11 (test_python_clean's)"
fi
