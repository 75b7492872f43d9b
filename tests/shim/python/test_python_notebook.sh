# test_python_notebook.sh - notebooks: `python3 -m heapsnap.kernel install
# --prefix` writes the kernel "Python 3 (heapsnap)", and a notebook executed
# under it by Debian's nbclient and ipykernel runs a %%heapsnap cell: its
# output names the cell's own lines (not IPython's) with their sizes, the
# cell's peak over its start and the line that held it, the value of its last
# expression, and the flame graph (the CLI's HTML page, inline); between
# cells the shim is stopped and out of the kernel's environment.  Under the
# plain python3 kernel, `%load_ext heapsnap` works and the magic loads the
# shim into the kernel (heapsnap.load) and measures the cell; with no shim
# to find, it says in one line why the cell ran unmeasured, and how, and
# still runs the cell.  Jupyter's and IPython's directories are the test's own (HOME,
# JUPYTER_*, IPYTHONDIR): nothing reaches the user's.  Debian's python3
# only: Debian's ipykernel's pyzmq and psutil are compiled for it (a SKIP
# line names each other interpreter).
. tests/shim/python/lib_py.sh
py=/usr/bin/python3
while read -r tag other; do
  [ "$tag" = debian ] && continue
  t_skip "python_notebook_$tag" "runs on Debian's python3 only, with Debian's nbclient and ipykernel (whose pyzmq and psutil are compiled for its 3.11), not on $other"
done < <(py_interpreters)
if ! "$py" -c 'import nbclient, nbformat, ipykernel, jupyter_client' 2>"$T/imp.err"; then
  t_skip python_notebook "Debian's python3-nbclient and python3-ipykernel are not installed (scripts/install-deps.sh test): $(tail -n 1 "$T/imp.err")"
  return 0
fi
export HOME=$T/home JUPYTER_CONFIG_DIR=$T/jconf JUPYTER_DATA_DIR=$T/jdata \
  JUPYTER_RUNTIME_DIR=$T/jrun JUPYTER_PATH=$T/prefix/share/jupyter IPYTHONDIR=$T/ipython \
  JUPYTER_PLATFORM_DIRS=1 HEAPSNAP PYDEVD_DISABLE_FILE_VALIDATION=1
mkdir -p "$HOME"
unset LD_PRELOAD HEAPSNAP_SHIM

PYTHONPATH=$PWD/python timeout 60 "$py" -m heapsnap.kernel install --prefix "$T/prefix" \
  >"$T/install.out" 2>&1
spec=$T/prefix/share/jupyter/kernels/heapsnap/kernel.json
if [ -f "$spec" ] && grep -q '"display_name": "Python 3 (heapsnap)"' "$spec" &&
   grep -q '"heapsnap.kernel"' "$spec" && grep -q "installed the kernel" "$T/install.out"; then
  t_pass python_notebook_kernel_installs_with_one_command
else t_fail python_notebook_kernel_installs_with_one_command "$(cat "$T/install.out" | head -c 300)"; fi

# the measured cell: 50 x 100 kB kept at its line 1, a 20 MB temporary at line 2
cell='%%heapsnap
keep = [bytearray(100000) for _ in range(50)]
tmp = bytearray(20_000_000)
del tmp
len(keep)'
# a second measured cell: the first's dump must stay alive while its items
# are read (a freed dump read there killed the kernel at the second cell)
cell2='%%heapsnap
more = [bytearray(1000) for _ in range(10)]
len(more)'
# then: the shim stopped again between cells, and out of the children's environment
after='import heapsnap, os
(heapsnap.is_loaded(), heapsnap._lib.heapsnap_is_tracing(), "libheapsnap" in os.environ.get("LD_PRELOAD", ""))'
timeout 150 "$py" tests/shim/python/notebook_run.py heapsnap "$T/shim.json" "$cell" "$cell2" "$after" \
  >"$T/run.out" 2>&1 &
nb1=$!
# the plain kernel (ipykernel's, its spec in the test's prefix), at the same time
mkdir -p "$T/prefix/share/jupyter/kernels/python3"
printf '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Python 3", "language": "python"}\n' \
  "$py" >"$T/prefix/share/jupyter/kernels/python3/kernel.json"
HEAPSNAP=/nonexistent/heapsnap PATH=/usr/bin:/bin PYTHONPATH=$PWD/python timeout 150 \
  "$py" tests/shim/python/notebook_run.py python3 "$T/plain.json" '%load_ext heapsnap' '%%heapsnap
x = 40
x + 2' >"$T/plain.out" 2>&1 &
nb2=$!
wait "$nb1" "$nb2"
# the plain kernel, the shim loaded into it by the magic
PYTHONPATH=$PWD/python timeout 150 "$py" tests/shim/python/notebook_run.py python3 "$T/loaded.json" \
  '%load_ext heapsnap' '%%heapsnap --no-flamegraph
keep = [bytearray(100000) for _ in range(50)]
len(keep)' '%%heapsnap --no-flamegraph
more = [bytearray(200000) for _ in range(10)]
len(more)' 'import heapsnap, os
(heapsnap.is_loaded(), heapsnap._lib.heapsnap_is_tracing(), "libheapsnap" in os.environ.get("LD_PRELOAD", ""))' \
  >"$T/loaded.out" 2>&1
if python3 - "$T/shim.json" >"$T/check.out" 2>&1 <<'PY'
import json, re, sys
outs = json.load(open(sys.argv[1]))[0]
text = "".join(o.get("text", "") for o in outs if o["output_type"] == "stream" and o["name"] == "stdout")
err = "".join(o.get("text", "") for o in outs if o["output_type"] == "stream" and o["name"] == "stderr")
html = [o["data"]["text/html"] for o in outs if o["output_type"] == "display_data" and "text/html" in o["data"]]
value = [o["data"]["text/plain"] for o in outs if o["output_type"] == "execute_result"]
errors = [o for o in outs if o["output_type"] == "error"]
print(text, err, errors, value, sep="\n")
m = re.search(r"<cell (\d+)> peak ([0-9.]+) MiB over its start", text)
assert m and 23.0 <= float(m.group(2)) <= 25.0, "no peak of about 23.9 MiB"
cellname = "<cell %s>" % m.group(1)
assert re.search(r"at the peak:\n(  .*\n)*  %s:2: size=19\.1 MiB +tmp = bytearray" % re.escape(cellname), text), "peak line"
assert re.search(r"still live:\n  %s:1: size=4\.8 MiB +keep = \[bytearray" % re.escape(cellname), text), "live line"
assert "IPython" not in text and "ipykernel" not in text, "the machinery's lines"
assert value == ["50"], "the last expression's value"
assert html and 'class="heapsnap-flamegraph"' in html[0] and "srcdoc=" in html[0] and len(html[0]) > 10000, "flame graph"
assert not errors and "not run under" not in err
second = json.load(open(sys.argv[1]))[1]
assert [o["data"]["text/plain"] for o in second if o["output_type"] == "execute_result"] == ["10"], "the second cell: %s" % second
assert not [o for o in second if o["output_type"] == "error"], "the second cell failed"
after = [o["data"]["text/plain"] for o in json.load(open(sys.argv[1]))[2] if o["output_type"] == "execute_result"]
assert after == ["(True, 0, False)"], "paused between cells, not in the environment: %s" % after
PY
then t_pass python_notebook_cell_magic_shows_lines_peak_and_flame_graph
else t_fail python_notebook_cell_magic_shows_lines_peak_and_flame_graph "$(tail -n 3 "$T/check.out" | tr '\n' ' ') $(tail -c 300 "$T/run.out")"; fi

if python3 - "$T/plain.json" >"$T/check2.out" 2>&1 <<'PY'
import json, sys
outs = json.load(open(sys.argv[1]))
print(outs)
assert not any(o["output_type"] == "error" for c in outs for o in c), "an error"
err = [o["text"] for o in outs[1] if o["output_type"] == "stream" and o["name"] == "stderr"]
assert len(err) == 1 and err[0].count("\n") == 1, "one line"
assert "does not run under heapsnap's shim and it could not be loaded into it (no libheapsnap.so found" in err[0] and "heapsnap.kernel install" in err[0]
assert [o["data"]["text/plain"] for o in outs[1] if o["output_type"] == "execute_result"] == ["42"]
PY
then t_pass python_notebook_without_the_shim_says_how_in_one_line
else t_fail python_notebook_without_the_shim_says_how_in_one_line "$(tail -c 400 "$T/check2.out") $(tail -c 300 "$T/plain.out")"; fi

if python3 - "$T/loaded.json" >"$T/check3.out" 2>&1 <<'PY'
import json, re, sys
outs = json.load(open(sys.argv[1]))
assert not any(o["output_type"] == "error" for c in outs for o in c), "an error"
for cell, size, value in ((1, r"4\.8 MiB +keep = \[bytearray", "50"), (2, r"1\.9 MiB +more = \[bytearray", "10")):
    text = "".join(o.get("text", "") for o in outs[cell] if o["output_type"] == "stream")
    assert re.search(r"still live:\n  <cell \d+>:1: size=" + size, text), "cell %d's line: %s" % (cell, text)
    assert "unmeasured" not in text, text
    assert [o["data"]["text/plain"] for o in outs[cell] if o["output_type"] == "execute_result"] == [value]
after = [o["data"]["text/plain"] for o in outs[3] if o["output_type"] == "execute_result"]
assert after == ["(True, 0, False)"], "loaded, stopped between cells, not preloaded: %s" % after
PY
then t_pass python_notebook_plain_kernel_loads_the_shim_and_measures
else t_fail python_notebook_plain_kernel_loads_the_shim_and_measures "$(tail -c 700 "$T/check3.out" | tr "\n" "|") $(tail -c 300 "$T/loaded.out" | tr "\n" "|")"; fi
