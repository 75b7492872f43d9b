# tests/report/commands/test_run_launchers.sh - `heapsnap run` through the
# launchers Python developers type: pyenv's shim (a bash script whose chain
# runs dozens of helpers before it execs python), a virtualenv's bin/python,
# a console script (`python -m`'s entry point), and a bash wrapper in the
# manner of `uv run`/`poetry run` (helpers, then exec python).  The helpers
# are never traced (no state file of theirs appears while they run, nothing
# is said of them), `-o NAME` names the program's snapshot, and the
# program's own children are still followed (launch_inactive).
. tests/shim/python/lib_py.sh

PY=""
for v in $PY_SUPPORTED; do # pyenv's first, as its shim is the case in point
  for p in "$(py_pyenv_root)"/versions/"$v".*/bin/python"$v"; do [ -x "$p" ] && PY=$p; done
done
[ -n "$PY" ] || PY=$(py_interpreters | head -1 | cut -d' ' -f2)
if [ -z "$PY" ]; then
  t_skip run_launchers "no CPython 3.10-3.13 here (pyenv install 3.12, or python3)"; return 0
fi

# launcher_ok NAME DIR: DIR holds exactly one file, NAME.hsnap (the program
# always writes one, so it is the program's), and its stderr (DIR.err) says
# nothing of helpers, nor of a launcher that wrote nothing.
launcher_ok() {
  [ "$(ls -A "$2")" = "$1.hsnap" ] && ! grep -q 'another process\|left out\|replacing\|could not write\|warning\|heapsnap variable\|a launcher to heapsnap' "$2.err"
}
prog='x = [str(i) * 10 for i in range(20000)]'

# --- pyenv's shim ---------------------------------------------------------------
root=$(py_pyenv_root)
ver=$("$PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
if [ -x "$root/shims/python3" ] && [ -d "$root/versions/$ver" ]; then
  mkdir -p "$T/pyenv"
  (cd "$T/pyenv" && PYENV_VERSION=$ver "$HEAPSNAP" run -q -o py.hsnap -- "$root/shims/python3" -c "$prog") \
    >/dev/null 2>"$T/pyenv.err"
  launcher_ok py "$T/pyenv" && t_pass run_pyenv_shim_names_the_programs_snapshot ||
    t_fail run_pyenv_shim_names_the_programs_snapshot "$(ls -A "$T/pyenv" | head -5 | tr '\n' ' ') $(head -c 300 "$T/pyenv.err")"
else
  t_skip run_pyenv_shim_names_the_programs_snapshot "no pyenv shim with CPython $ver here ($root/shims/python3)"
fi
# one process of pyenv's chain records (the program), and only its pid loads
# the shim (the launcher's images, then the program's): a helper's exec
# leaves it out of LD_PRELOAD (launch_exec_env) - no state file, no
# snapshot, no file in the output directory but the program's (strace -f:
# who loads the shim, who creates)
if [ -x "$root/shims/python3" ] && [ -d "$root/versions/$ver" ] && command -v strace >/dev/null; then
  mkdir -p "$T/pyst"
  PYENV_VERSION=$ver strace -f -o "$T/pyst.trace" -e trace=openat,execve "$HEAPSNAP" run -q -o "$T/pyst/py.hsnap" \
    -- "$root/shims/python3" -c pass >/dev/null 2>"$T/pyst.err"
  loads=$(grep -c 'libheapsnap\.so", O_RDONLY' "$T/pyst.trace")
  loaders=$(grep 'libheapsnap\.so", O_RDONLY' "$T/pyst.trace" | awk '{ print $1 }' | sort -u | wc -l)
  execs=$(grep 'execve(' "$T/pyst.trace" | grep -v ENOENT | awk '{ print $1 }' | sort -u | wc -l)
  states=$(grep 'O_CREAT' "$T/pyst.trace" | grep -c '\.state\.tmp\.')
  writers=$(grep 'O_CREAT' "$T/pyst.trace" | grep -F "$T/pyst/" | awk '{ print $1 }' | sort -u | wc -l)
  if [ "$loads" -ge 3 ] && [ "$loaders" = 1 ] && [ "$execs" -ge 10 ] && [ "$states" = 1 ] &&
     [ "$writers" = 1 ] && [ "$(ls -A "$T/pyst")" = py.hsnap ]
  then t_pass run_pyenv_shim_only_the_program_records
  else t_fail run_pyenv_shim_only_the_program_records "$loads loads of the shim by $loaders pids (of $execs that exec), $states state files, $writers pids create files: $(ls -A "$T/pyst" | tr '\n' ' ')"; fi
else
  t_skip run_pyenv_shim_only_the_program_records "no pyenv shim with CPython $ver, or no strace"
fi

# --- a bash wrapper: helpers ($(...), readlink, a python helper), then exec ------
# The helper that lives on while the wrapper runs looks at the output
# directory: an active helper would have its state file there.
mkdir -p "$T/bin" "$T/wrap"
cat >"$T/bin/pyrun" <<EOF
#!/usr/bin/env bash
set -e
here=\$(dirname "\$(readlink -f "\$0")")
name=\$(basename "\$0")
ver=\$("$PY" -c 'import sys; print(sys.version_info[0])')
seen=\$(sleep 0.1; ls -A "\$WATCH_DIR")
[ -z "\$seen" ] || echo "helpers traced: \$seen" >&2
[ -n "\$here\$name\$ver" ] && exec "$PY" "\$@"
EOF
chmod +x "$T/bin/pyrun"
WATCH_DIR=$T/wrap "$HEAPSNAP" run -q -o "$T/wrap/w.hsnap" -- "$T/bin/pyrun" -c "$prog" >/dev/null 2>"$T/wrap.err"
launcher_ok w "$T/wrap" && ! grep -q 'helpers traced' "$T/wrap.err" &&
  t_pass run_bash_wrapper_helpers_not_traced ||
  t_fail run_bash_wrapper_helpers_not_traced "$(ls -A "$T/wrap" | head -5 | tr '\n' ' ') $(head -c 300 "$T/wrap.err")"

# a helper's exec leaves only the shim out of LD_PRELOAD: a library the
# caller preloaded stays, and the program's exec keeps both
other=$(ldd "$HEAPSNAP" | awk '$1 ~ /^libz\.so/ { print $3 }')
mkdir -p "$T/pre"
printf '#!/bin/sh\nenv | grep "^LD_PRELOAD=" >"$OUT/helper"\nexec "%s" -c "import os; open(os.environ[\\"OUT\\"] + \\"/prog\\", \\"w\\").write(os.environ[\\"LD_PRELOAD\\"])"\n' \
  "$PY" >"$T/bin/pre"
chmod +x "$T/bin/pre"
OUT=$T/pre LD_PRELOAD=$other "$HEAPSNAP" run -q -o "$T/pre/p.hsnap" -- "$T/bin/pre" >/dev/null 2>"$T/pre.err"
[ -n "$other" ] && [ "$(cat "$T/pre/helper" 2>/dev/null)" = "LD_PRELOAD=$other" ] &&
  grep -q "libheapsnap\.so:$other\$" "$T/pre/prog" && [ -f "$T/pre/p.hsnap" ] &&
  t_pass run_launcher_helpers_keep_other_preloads ||
  t_fail run_launcher_helpers_keep_other_preloads "helper: $(cat "$T/pre/helper" 2>&1) program: $(cat "$T/pre/prog" 2>&1) $(head -c 300 "$T/pre.err")"

mkdir -p "$T/none"

# --- a virtualenv's bin/python, and its console script (python -m's entry) --------
if "$PY" -m venv --without-pip "$T/venv" >"$T/venv.log" 2>&1; then
  mkdir -p "$T/v" "$T/m"
  "$HEAPSNAP" run -q -o "$T/v/v.hsnap" -- "$T/venv/bin/python" -c "$prog" >/dev/null 2>"$T/v.err"
  launcher_ok v "$T/v" && t_pass run_venv_python_names_the_programs_snapshot ||
    t_fail run_venv_python_names_the_programs_snapshot "$(ls -A "$T/v" | tr '\n' ' ') $(head -c 300 "$T/v.err")"
  mkdir -p "$T/venv/lib/mod"
  printf 'def main():\n    %s\n' "$prog" >"$T/venv/lib/mod/tool.py"
  printf '#!%s\nimport sys\nsys.path.insert(0, "%s")\nfrom tool import main\nsys.exit(main())\n' \
    "$T/venv/bin/python" "$T/venv/lib/mod" >"$T/venv/bin/tool"
  chmod +x "$T/venv/bin/tool"
  "$HEAPSNAP" run -q -o "$T/m/m.hsnap" -- "$T/venv/bin/tool" >/dev/null 2>"$T/m.err"
  launcher_ok m "$T/m" && t_pass run_console_script_names_the_programs_snapshot ||
    t_fail run_console_script_names_the_programs_snapshot "$(ls -A "$T/m" | tr '\n' ' ') $(head -c 300 "$T/m.err")"
else
  t_skip run_venv_python_names_the_programs_snapshot "$PY -m venv fails: $(head -c 200 "$T/venv.log")"
fi

# --- the program's own children are followed: the variable left with it ----------
mkdir -p "$T/kids"
WATCH_DIR=$T/none "$HEAPSNAP" run -q -o "$T/kids/%e.%p.hsnap" -- "$T/bin/pyrun" -c \
  'import subprocess, sys; subprocess.run([sys.executable, "-c", "y = [bytes(100) for i in range(1000)]"], check=True)' \
  >/dev/null 2>"$T/kids.err"
n=$(ls "$T/kids" | grep -c '^python.*\.hsnap$')
[ "$n" = 2 ] && [ "$(ls -A "$T/kids" | wc -l)" = 2 ] && t_pass run_launched_programs_children_followed ||
  t_fail run_launched_programs_children_followed "$(ls -A "$T/kids" | tr '\n' ' ') $(head -c 300 "$T/kids.err")"

# --- a script that runs its programs without exec is the program, traced whole ---
printf '#!/bin/sh\n"%s" -c "%s"\n"%s" -c pass\n' "$PY" "$prog" "$PY" >"$T/bin/both"
chmod +x "$T/bin/both"
mkdir -p "$T/both"
"$HEAPSNAP" run -q -o "$T/both/%e.%p.hsnap" -- "$T/bin/both" >/dev/null 2>"$T/both.err"
[ "$(ls "$T/both" | grep -c '^python.*\.hsnap$')" = 2 ] && t_pass run_script_without_exec_traced_whole ||
  t_fail run_script_without_exec_traced_whole "$(ls -A "$T/both" | tr '\n' ' ')"

# --- a wrapper that runs Python as its child (`uv run`'s way) hands it the name ---
# It ran no Python itself, started one process that did and ended with it:
# -o names the Python program's snapshot, the wrapper's gets its pid.
printf '#!/bin/sh\n"%s" -c "%s"\nexit $?\n' "$PY" "$prog" >"$T/bin/wrap"
chmod +x "$T/bin/wrap"
mkdir -p "$T/wrap"
"$HEAPSNAP" run -o "$T/wrap/w.hsnap" -- "$T/bin/wrap" >/dev/null 2>"$T/wrap.err"
"$HEAPSNAP" info "$T/wrap/w.hsnap" >"$T/wrap.info" 2>&1
n=$(ls "$T/wrap" | grep -c '^w\.[0-9]*\.hsnap$')
grep -q '^executable: .*python' "$T/wrap.info" && [ "$n" = 1 ] &&
  grep -q 'ran Python as its child' "$T/wrap.err" &&
  "$HEAPSNAP" top -n 1 "$T/wrap/w.hsnap" | grep -q '^<string>:1:' &&
  t_pass run_wrapper_without_exec_hands_its_name_to_python ||
  t_fail run_wrapper_without_exec_hands_its_name_to_python "$(ls -A "$T/wrap" | tr '\n' ' ') $(head -c 300 "$T/wrap.info") $(head -c 300 "$T/wrap.err")"

# One that goes on after it (more than FOLLOW_HAND_NS) keeps its name: it is
# not a wrapper but a program that ran Python along the way.
printf '#!/bin/sh\n"%s" -c pass\nsleep 1.5\n' "$PY" >"$T/bin/linger"
chmod +x "$T/bin/linger"
mkdir -p "$T/linger"
"$HEAPSNAP" run -o "$T/linger/l.hsnap" -- "$T/bin/linger" >/dev/null 2>"$T/linger.err"
"$HEAPSNAP" info "$T/linger/l.hsnap" >"$T/linger.info" 2>&1
! grep -q '^executable: .*python' "$T/linger.info" && grep -q '^executable:' "$T/linger.info" &&
  ! grep -q 'ran Python as its child' "$T/linger.err" &&
  t_pass run_program_that_outlives_its_python_keeps_its_name ||
  t_fail run_program_that_outlives_its_python_keeps_its_name "$(ls -A "$T/linger" | tr '\n' ' ') $(head -c 300 "$T/linger.info")"

# --- without run: a plain LD_PRELOAD finds the launcher itself ------------------
# (launch_inactive: no mark, so the launcher's image is its own); its helpers
# (readlink, basename, a python helper) write nothing, the program writes
# its own; HEAPSNAP_FOLLOW=all traces them all.
mkdir -p "$T/plain" "$T/plainall"
WATCH_DIR=$T/plain LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/plain/%e.%p.hsnap" "$T/bin/pyrun" -c "$prog" \
  >/dev/null 2>"$T/plain.err"
got=$(ls -A "$T/plain" | sed 's/\.[0-9]*\.hsnap$//' | tr '\n' ' ')
case "$got" in python*" ") ok=$([ "$(ls -A "$T/plain" | wc -l)" = 1 ] && echo y) ;; *) ok= ;; esac
[ "$ok" = y ] && ! grep -q 'helpers traced' "$T/plain.err" && t_pass launcher_plain_preload_program_alone_writes ||
  t_fail launcher_plain_preload_program_alone_writes "$got $(head -c 300 "$T/plain.err")"
WATCH_DIR=$T/none LD_PRELOAD=$SHIM HEAPSNAP_FOLLOW=all HEAPSNAP_OUTPUT="$T/plainall/%e.%p.hsnap" \
  "$T/bin/pyrun" -c "$prog" >/dev/null 2>"$T/plainall.err"
n=$(ls "$T/plainall" | grep -c '^python.*\.hsnap$')
ls "$T/plainall" | grep -q '^readlink\.' && [ "$n" = 2 ] && t_pass launcher_plain_preload_follow_all_traces_helpers ||
  t_fail launcher_plain_preload_follow_all_traces_helpers "$(ls -A "$T/plainall" | tr '\n' ' ')"
if [ -x "$root/shims/python3" ] && [ -d "$root/versions/$ver" ]; then
  mkdir -p "$T/plainpy"
  (cd "$T/plainpy" && PYENV_VERSION=$ver LD_PRELOAD=$SHIM "$root/shims/python3" -c "$prog") >/dev/null 2>"$T/plainpy.err"
  got=$(ls -A "$T/plainpy" | tr '\n' ' ')
  # %e: python3, the name the shim exec'd (a symlink to python3.X)
  case "$got" in "python3."[0-9]*".hsnap ") t_pass launcher_plain_preload_pyenv_shim_program_alone_writes ;;
    *) t_fail launcher_plain_preload_pyenv_shim_program_alone_writes "$got $(head -c 300 "$T/plainpy.err")" ;; esac
else
  t_skip launcher_plain_preload_pyenv_shim_program_alone_writes "no pyenv shim with CPython $ver here ($root/shims/python3)"
fi

# --- a launcher the program starts: its helpers are not traced either -----------
# (traced, they would write snapshots that run then leaves out, and says so)
mkdir -p "$T/nest"
WATCH_DIR=$T/none "$HEAPSNAP" run -o "$T/nest/%e.%p.hsnap" -- "$PY" -c \
  "import subprocess; subprocess.run(['$T/bin/pyrun', '-c', 'y = [bytes(100) for i in range(1000)]'], check=True)" \
  >/dev/null 2>"$T/nest.err"
n=$(ls "$T/nest" | grep -c '^python.*\.hsnap$')
[ "$n" = 2 ] && [ "$(ls -A "$T/nest" | wc -l)" = 2 ] && ! grep -q 'left out' "$T/nest.err" && t_pass run_launcher_started_by_the_program_helpers_not_traced ||
  t_fail run_launcher_started_by_the_program_helpers_not_traced "$(ls -A "$T/nest" | tr '\n' ' ') $(head -c 300 "$T/nest.err")"

# --- a launcher that ends without its exec ----------------------------------------
# a wrapper whose `exec` sits in a branch not taken is a launcher all the
# same (the scan is a heuristic), so the Python it runs is not traced: run
# names the wrapper, once, with what to do (it said only that no snapshot
# was written, and to look for a warning that never came), for the command
# itself and for a wrapper the program runs (through system(): a
# subprocess that closes the descriptors closes run's socket, and is not
# named); --follow all traces the Python
cat >"$T/bin/condwrap" <<EOF
#!/bin/sh
if [ -n "\$WRAP_DEBUGGER" ]; then exec \$WRAP_DEBUGGER "$PY" "\$@"; fi
"$PY" "\$@"
EOF
chmod +x "$T/bin/condwrap"
mkdir -p "$T/cond" "$T/condall" "$T/condnest"
"$HEAPSNAP" run -o "$T/cond/%e.%p.hsnap" -- "$T/bin/condwrap" -c "$prog" >/dev/null 2>"$T/cond.err"
"$HEAPSNAP" run --follow all -o "$T/condall/%e.%p.hsnap" -- "$T/bin/condwrap" -c "$prog" >/dev/null 2>"$T/condall.err"
"$HEAPSNAP" run -o "$T/condnest/%e.%p.hsnap" -- "$PY" -c \
  "import os; os.system('$T/bin/condwrap -c pass')" >/dev/null 2>"$T/condnest.err"
said="ran $T/bin/condwrap, a launcher to heapsnap (a script that holds \`exec CMD\`)"
if [ -z "$(ls -A "$T/cond")" ] && [ "$(grep -cF "$said" "$T/cond.err")" = 1 ] &&
   grep -q 'heapsnap run --follow all. traces every process' "$T/cond.err" &&
   ! grep -q 'no snapshot was written' "$T/cond.err"
then t_pass run_names_a_launcher_that_ended_without_its_exec
else t_fail run_names_a_launcher_that_ended_without_its_exec "$(ls -A "$T/cond" | tr '\n' ' ') $(head -c 400 "$T/cond.err")"; fi
if ls "$T/condall" | grep -q '^python.*\.hsnap$' && ! grep -q 'a launcher to heapsnap' "$T/condall.err" &&
   [ "$(grep -cF "$said" "$T/condnest.err")" = 1 ] && [ "$(ls "$T/condnest" | grep -c '^python.*\.hsnap$')" = 1 ]
then t_pass run_follow_all_traces_what_a_launcher_runs
else t_fail run_follow_all_traces_what_a_launcher_runs "all: $(ls -A "$T/condall" | tr '\n' ' ') $(head -c 200 "$T/condall.err") nested: $(ls -A "$T/condnest" | tr '\n' ' ') $(head -c 300 "$T/condnest.err")"; fi
