# test_serve_access.sh - who heapsnap serve serves, and where: an agent serves
# its own user's processes, another user's only as root with --all-users
# (which a user's agent refuses); a state file is read only when the
# process's user owns it (a root process mapping a copy owned by nobody is
# not served; the same copy owned by root is); --unix listens on a socket
# made 0600; bad options exit 2 with one line.
# serial: its agent serves every profiled process of the host, other tests' too
. tests/report/serve/lib_serve.sh
# A directory every user may write (the test's $T is 0700), removed at the end.
W=$(mktemp -d /tmp/hs-serve-XXXXXX); chmod 1777 "$W"
trap 'sv_end; rm -rf "$W"' EXIT

# --- options --------------------------------------------------------------
ok=1
for args in "--top 101" "--top x" "--listen nowhere" "--listen 127.0.0.1:99999" \
            "--listen 127.0.0.1:1 --unix $W/s.sock" "--bogus" "extra"; do
  # shellcheck disable=SC2086
  timeout 10 "$HEAPSNAP" serve $args >"$T/o" 2>"$T/e"; rc=$?
  if [ $rc != 2 ] || [ "$(wc -l <"$T/e")" != 1 ] || ! grep -q '^heapsnap: serve: ' "$T/e"; then
    ok=0; echo "$args: exit $rc: $(head -c 100 "$T/e")" >>"$T/bad"
  fi
done
[ $ok = 1 ] && t_pass serve_bad_options_exit_2_one_line ||
  t_fail serve_bad_options_exit_2_one_line "$(tr '\n' ';' <"$T/bad" | head -c 400)"

# --- a Unix socket, 0600 -----------------------------------------------------
"$HEAPSNAP" serve --unix "$W/s.sock" 2>"$T/userr" &
UPID=$!; SV_PIDS="$SV_PIDS $UPID"
for _ in $(seq 500); do [ -S "$W/s.sock" ] && break; sleep 0.02; done
code=$(curl -s -m 10 --unix-socket "$W/s.sock" -o "$T/ubody" -w '%{http_code}' "http://localhost/metrics?agent")
mode=$(stat -c %a "$W/s.sock" 2>/dev/null)
if [ "$code" = 200 ] && [ "$mode" = 600 ] && grep -q '^heapsnap_serve_processes ' "$T/ubody" &&
   ! grep -q '^heapsnap_heap_' "$T/ubody"; then
  t_pass serve_unix_socket_0600_and_agent_metrics
else t_fail serve_unix_socket_0600_and_agent_metrics "status $code, mode $mode: $(head -c 200 "$T/ubody") $(head -c 200 "$T/userr")"; fi
kill "$UPID"; wait "$UPID" 2>/dev/null
[ ! -e "$W/s.sock" ] && t_pass serve_unix_socket_removed_at_the_end ||
  t_fail serve_unix_socket_removed_at_the_end "still there"

# --- users -----------------------------------------------------------------
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
  t_skip serve_users "needs root and setpriv to run a process as another user"
  return 0
fi
cp "$SHIM" "$W/libheapsnap.so"; chmod 755 "$W/libheapsnap.so"
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
as_nobody() { $NOBODY "$@"; }
$NOBODY env LD_PRELOAD="$W/libheapsnap.so" HEAPSNAP_OUTPUT="$W/nb.%p.hsnap" sleep 60 &
NB=$!; SV_PIDS="$SV_PIDS $NB"
env LD_PRELOAD="$W/libheapsnap.so" HEAPSNAP_OUTPUT="$W/rt.%p.hsnap" sleep 60 &
RT=$!; SV_PIDS="$SV_PIDS $RT"
sv_start
if sv_wait_for /targets "\"__param_pid\":\"$RT\"" && ! grep -q "\"__param_pid\":\"$NB\"" "$T/body"; then
  t_pass serve_root_agent_serves_root_processes_only
else t_fail serve_root_agent_serves_root_processes_only "root $RT, nobody $NB: $(head -c 300 "$T/body")"; fi
kill "$SV_PID"; wait "$SV_PID" 2>/dev/null
sv_start --all-users
if sv_wait_for /targets "\"__param_pid\":\"$NB\"" && grep -q "\"__param_pid\":\"$RT\"" "$T/body"; then
  t_pass serve_all_users_serves_every_user
else t_fail serve_all_users_serves_every_user "root $RT, nobody $NB: $(head -c 300 "$T/body")"; fi
as_nobody "$HEAPSNAP" serve --all-users --listen 127.0.0.1:0 >"$T/o" 2>"$T/e"; rc=$?
if [ $rc = 2 ] && grep -q 'only root' "$T/e"; then t_pass serve_all_users_refused_to_a_user
else t_fail serve_all_users_refused_to_a_user "exit $rc: $(head -c 200 "$T/e")"; fi
# a user's agent: its own process, not root's
$NOBODY "$HEAPSNAP" serve --listen 127.0.0.1:0 2>"$W/nbserve.err" &
NBS=$!; SV_PIDS="$SV_PIDS $NBS"
port=
for _ in $(seq 500); do
  port=$(sed -n 's|.*127\.0\.0\.1:\([0-9]*\)/$|\1|p' "$W/nbserve.err"); [ -n "$port" ] && break; sleep 0.02
done
got=""
for _ in $(seq 100); do
  got=$(curl -s -m 5 "http://127.0.0.1:$port/targets"); echo "$got" | grep -q "\"$NB\"" && break; sleep 0.1
done
if echo "$got" | grep -q "\"__param_pid\":\"$NB\"" && ! echo "$got" | grep -q "\"__param_pid\":\"$RT\""; then
  t_pass serve_user_agent_serves_its_own_user
else t_fail serve_user_agent_serves_its_own_user "nobody $NB, root $RT: $(echo "$got" | head -c 300)"; fi

# --- a state file not owned by the process's user --------------------------
st=$(ls "$W"/rt.$RT.hsnap.state 2>/dev/null)
cp "$st" "$W/own.state"; cp "$st" "$W/other.state"; chown 65534:65534 "$W/other.state"
# python3 mapping FILE's first page, saying ready, waiting for stdin to close
mapper='import mmap, sys
f = open(sys.argv[1], "rb")
m = mmap.mmap(f.fileno(), 4096, prot=mmap.PROT_READ)
print("ready", flush=True)
sys.stdin.read()'
mkfifo "$W/m1" "$W/m2"
python3 -c "$mapper" "$W/own.state" <"$W/m1" >"$T/m1.out" & M1=$!
python3 -c "$mapper" "$W/other.state" <"$W/m2" >"$T/m2.out" & M2=$!
exec 5>"$W/m1" 6>"$W/m2"
for _ in $(seq 500); do grep -q ready "$T/m1.out" && grep -q ready "$T/m2.out" && break; sleep 0.02; done
if sv_wait_for /targets "\"__param_pid\":\"$M1\"" && ! grep -q "\"__param_pid\":\"$M2\"" "$T/body"; then
  t_pass serve_reads_only_state_files_of_the_process_user
else t_fail serve_reads_only_state_files_of_the_process_user "own $M1, other $M2: $(head -c 300 "$T/body")"; fi
exec 5>&- 6>&-
wait $M1 $M2 2>/dev/null
