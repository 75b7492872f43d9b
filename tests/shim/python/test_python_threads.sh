# test_python_threads.sh - memory per thread in a Python process:
# tests/shim/python/threadpool.py's named threading.Thread objects
# ("loader", "cruncher"), a ThreadPoolExecutor's two workers and the main
# thread each keep bytearrays of known sizes through one line (MARK_KEEP).
# For each thread (by threading.get_native_id), top --thread TID gives that
# line exactly the bytes sys.getsizeof says the thread keeps (plus the
# list holding them: under 1 KiB), and top --key thread's group of that
# tid holds at least as much; from CPython 3.14 on, which gives threading's
# names to the OS, the group is named by the thread's Python name (cut to
# 15 bytes; the main thread keeps the process's name, and is marked main).  On every CPython 3.10-3.15 found (tests/shim/python/lib_py.sh);
# a SKIP line names each one absent.
. tests/shim/python/lib_py.sh

script=tests/shim/python/threadpool.py
l_keep=$(py_line $script MARK_KEEP)

for v in $(py_versions_missing); do
  t_skip "python_threads_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

while read -r tag py; do
  rm -f "$T"/exit.*.hsnap
  if ! py_run "$py" "$T/run-$tag" $script || ! s=$(ls "$T"/exit.*.hsnap 2>/dev/null | head -1) ||
     [ ! -s "$s" ]; then
    t_fail "python_threads_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  mv "$s" "$T/t-$tag.hsnap"; s=$T/t-$tag.hsnap
  ver=$("$py" -c 'import sys; print("%d%02d" % sys.version_info[:2])')
  "$HEAPSNAP" top "$s" --key thread --format json -n 0 >"$T/key-$tag.json" 2>"$T/key-$tag.err" ||
    { t_fail "python_threads_key_$tag" "$(tail -c 300 "$T/key-$tag.err")"; continue; }
  bad=""
  while read -r name tid bytes count; do
    "$HEAPSNAP" top "$s" --thread "$tid" --format json -n 0 >"$T/one-$tag-$tid.json" 2>/dev/null
    r=$(python3 - "$T/one-$tag-$tid.json" "$T/key-$tag.json" "$name" "$tid" "$bytes" "$count" \
        "$l_keep" "$ver" 2>&1 <<'PY'
import json, sys
one, key, name, tid, want, count, line, ver = sys.argv[1:]
tid, want, count, line = int(tid), int(want), int(count), int(line)
site = [g for g in json.load(open(one))["groups"]
        if g.get("frames") and (g["frames"][0]["file"] or "").endswith("threadpool.py") and g["frames"][0]["line"] == line]
if len(site) != 1:
    sys.exit(f"{name}: no single group at line {line}: {site}")
got = site[0]
if not (want <= got["bytes"] <= want + 1024) or got["blocks"] < count:
    sys.exit(f"{name}: line {line} holds {got['bytes']} B in {got['blocks']}, getsizeof says {want} B in {count}")
g = [x for x in json.load(open(key))["groups"] if x.get("thread") and x["thread"]["tid"] == tid]
if len(g) != 1 or g[0]["bytes"] < want:
    sys.exit(f"{name}: --key thread's group of tid {tid}: {g}")
if int(ver) >= 314 and name != "MainThread" and g[0]["thread"]["name"] != name[:15]:
    sys.exit(f"{name}: named {g[0]['thread']['name']!r}")
if (name == "MainThread") != g[0]["thread"]["main"]:
    sys.exit(f"{name}: main is {g[0]['thread']['main']}")
print("ok")
PY
)
    [ "$r" = ok ] || bad="$bad $(echo "$r" | tail -1);"
  done <"$T/run-$tag.out"
  n=$(wc -l <"$T/run-$tag.out")
  if [ -z "$bad" ] && [ "$n" = 5 ]; then t_pass "python_threads_bytes_by_thread_$tag"
  else t_fail "python_threads_bytes_by_thread_$tag" "$n threads printed;$bad"; fi
done < <(py_interpreters)
