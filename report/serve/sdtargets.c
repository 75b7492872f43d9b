/*
 * sdtargets.c - `heapsnap serve`'s /targets (serve.h): the processes in
 * Prometheus' HTTP service discovery format (http_sd_configs), which
 * Parca's scrape configuration reads too:
 *
 *   [{"targets": ["127.0.0.1:9464"],
 *     "labels": {"instance": "127.0.0.1:9464?pid=1234", "__param_pid": "1234",
 *                "__meta_heapsnap_pid": "1234",
 *                "__meta_heapsnap_program": "...", "__meta_heapsnap_exe": "...",
 *                "__meta_heapsnap_service": "..."}}, ...]
 *
 * One group per process, each pointing at the agent itself: __param_pid
 * makes the scrape URL /metrics?pid=N (or /debug/pprof/heap?pid=N), so a
 * process is a target of its own, up while it runs and gone when it ends.
 * The targets share their address, so each is told apart by its instance
 * label (else their up and scrape_* series would be one).  The process's
 * labels are __meta_ ones, which relabelling may keep: as plain labels
 * they would collide with the same labels on every series the agent
 * serves (Prometheus would rename the series' to exported_pid...).
 */
#include <stdio.h>

#include "json.h"
#include "serve.h"

void targets_write(FILE *out, const struct procs *ps, const char *addr)
{
    struct json j;
    char pid[24], inst[320];
    json_init_compact(&j, out, 0);
    json_arr_begin(&j);
    for (size_t i = 0; i < ps->n; i++) {
        const struct proc *p = &ps->v[i];
        snprintf(pid, sizeof pid, "%d", (int)p->pid);
        json_obj_begin(&j);
        json_key(&j, "targets");
        json_arr_begin(&j);
        json_str(&j, addr);
        json_arr_end(&j);
        json_key(&j, "labels");
        json_obj_begin(&j);
        snprintf(inst, sizeof inst, "%s?pid=%s", addr, pid);
        json_kstr(&j, "instance", inst);
        json_kstr(&j, "__param_pid", pid);
        json_kstr(&j, "__meta_heapsnap_pid", pid);
        json_kstr(&j, "__meta_heapsnap_program", p->comm);
        json_kstr(&j, "__meta_heapsnap_exe", p->exe);
        json_kstr(&j, "__meta_heapsnap_service", p->service);
        json_obj_end(&j);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_finish(&j);
}
