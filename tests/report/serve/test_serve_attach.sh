# test_serve_attach.sh - a process profiled by heapsnap attach (with its state
# file: HEAPSNAP_STATE=64) is found by heapsnap serve though the agent saw it
# before without heapsnap (an unprofiled process is looked at again within
# a few scans), with its site in /metrics; after heapsnap detach it leaves
# /targets.
# tier: full (attach, then the agent)
# serial: its agent serves every profiled process of the host, other tests' too
. tests/shim/attach/lib_attach.sh
. tests/report/serve/lib_serve.sh
t_build target tests/shim/attach/target.c -pthread
at_start "$T/target"
sv_start || { t_fail serve_attach_agent_starts "$(head -c 300 "$T/serve.err")"; return 0; }
# the agent has looked at the target once, without heapsnap
sv_wait_for "/metrics?agent" '^heapsnap_serve_scrapes_total ' >/dev/null
sleep 1.2
if sv_get /targets >/dev/null && grep -q "\"__param_pid\":\"$AT_PID\"" "$T/body"; then
  t_fail serve_attached_process_is_found "served before the attach: $(head -c 200 "$T/body")"
fi
HEAPSNAP_STATE=64 at_attach || t_fail serve_attach_attached "$(head -c 300 "$T/attach.err")"
at_cmd "a 400"                       # grow_site: 40000 B, after the attach
if sv_wait_for /targets "\"__param_pid\":\"$AT_PID\"" &&
   sv_wait_for "/metrics?pid=$AT_PID" 'site="grow_site \(tests/shim/attach/target\.c:36\)"\} 40000$'; then
  t_pass serve_attached_process_is_found
else t_fail serve_attached_process_is_found "$(head -c 300 "$T/body")"; fi
at_detach
if sv_wait_gone /targets "\"__param_pid\":\"$AT_PID\""; then t_pass serve_detached_process_leaves_targets
else t_fail serve_detached_process_leaves_targets "$(head -c 300 "$T/body")"; fi
at_end
