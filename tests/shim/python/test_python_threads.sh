# test_python_threads.sh - memory per thread in a Python process:
# tests/shim/python/threadpool.py's named threading.Thread objects
# ("loader", "cruncher"), a ThreadPoolExecutor's two workers and the main
# thread each keep bytearrays of known sizes through one line (MARK_KEEP).
# For each thread (by threading.get_native_id), top --thread TID gives that
# line exactly the bytes sys.getsizeof says the thread keeps (plus the
# list holding them: under 1 KiB), and top --key thread's group of that
# tid holds at least as much; the main thread's group is named MainThread
# (threading's name, read at the exit snapshot) and marked main; the other
# threads ended before any snapshot, so from CPython 3.14 on, which gives
# threading's names to the OS, they are named by it (cut to 15 bytes), and
# before it by comm.
# Thread names as threading has them (tests/shim/python/threadnames.py):
# at a snapshot taken while five workers run, each thread that
# threading.enumerate() lists (the program prints it just before) has its
# --key thread group named by its Python name cut at 15 bytes (worker-1,
# the default "Thread-4 (work)", a long one, and worker-2 renamed to
# renamed-2 by the main thread after start: on 3.14 the OS name stays
# worker-2), on every version; at the exit snapshot, after the workers
# ended, each keeps the name that snapshot read.  On every CPython
# 3.10-3.15 found (tests/shim/python/lib_py.sh); a SKIP line names each
# one absent.
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
if (int(ver) >= 314 or name == "MainThread") and g[0]["thread"]["name"] != name[:15]:
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

# threading's names, read at a snapshot: while the threads run, and kept
# after they end (the exit snapshot).
script=tests/shim/python/threadnames.py
while read -r tag py; do
  rm -f "$T"/exit.*.hsnap
  if ! py_run "$py" "$T/names-$tag" $script "$T/names-$tag.hsnap" || [ ! -s "$T/names-$tag.hsnap" ] ||
     ! e=$(ls "$T"/exit.*.hsnap 2>/dev/null | head -1) || [ ! -s "$e" ]; then
    t_fail "python_thread_names_run_$tag" "$(tail -c 300 "$T/names-$tag.err")"; continue
  fi
  mv "$e" "$T/names-exit-$tag.hsnap"
  for at in names names-exit; do
    "$HEAPSNAP" top "$T/$at-$tag.hsnap" --key thread --format json -n 0 >"$T/$at-$tag.json" \
      2>"$T/$at-$tag.jerr" || echo "top: $(tail -c 200 "$T/$at-$tag.jerr")" >>"$T/$at-$tag.json"
  done
  python3 - "$T/names-$tag.out" "$T/names-$tag.json" "$T/names-exit-$tag.json" \
    >"$T/names-$tag.check" 2>&1 <<'PY'
import json, sys
want = [l.rsplit(" ", 1) for l in open(sys.argv[1]).read().splitlines()]
bad = []
if len(want) != 6:
    bad.append("threading.enumerate() printed %d threads, not 6" % len(want))
for at, path in (("snapshot", sys.argv[2]), ("exit", sys.argv[3])):
    groups = json.load(open(path))["groups"]
    for name, tid in want:
        cut = name.encode()[:15].decode(errors="ignore")
        # a group per kind of memory (malloc, mmap) the thread holds
        g = [x["thread"] for x in groups if x.get("thread") and x["thread"]["tid"] == int(tid)]
        if not g or any(x["name"] != cut for x in g):
            bad.append("%s: tid %s is %r, threading says %r" % (at, tid, [x["name"] for x in g], cut))
        elif at == "exit" and any((name == "MainThread") == x["ended"] for x in g):
            bad.append("exit: %s ended is %s" % (name, [x["ended"] for x in g]))
print("\n".join(bad) or "ok")
PY
  if [ "$(cat "$T/names-$tag.check")" = ok ]; then t_pass "python_thread_names_as_threading_$tag"
  else t_fail "python_thread_names_as_threading_$tag" "$(head -c 400 "$T/names-$tag.check" | tr '\n' ' ')"; fi
done < <(py_interpreters)
