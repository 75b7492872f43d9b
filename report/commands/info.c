/*
 * info.c - `heapsnap info SNAP`: what a snapshot says about itself (who,
 * when, why, how much), symbolizing nothing but the peak's top three sites
 * and the site of the largest failed allocation.
 * --format json writes the same facts as the "heapsnap-info" document of
 * docs/json.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "escape.h"
#include "frames.h"
#include "fmt.h"
#include "jsondoc.h"
#include "pycollected.h"
#include "peakread.h"
#include "procrole.h"
#include "snap.h"
#include "stateread.h"
#include "stats.h"

static const char *info_reason(uint32_t r)
{
    static const char *names[] = {"?", "exit", "signal", "interval", "api", "fatal signal",
                                  "collect", "lsan", "exec", "killed", "detach"};
    return r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

/* The fatal signal's name (SIGSEGV), into buf; NULL when the snapshot is
 * not a fatal signal's or does not say which (files before it was kept). */
static const char *info_fatal_sig(const struct hsnap_meta *m, char *buf, size_t n)
{
    unsigned sig = HSNAP_META_SIG(m->flags);
    if (m->reason != HSNAP_REASON_FATAL || !sig)
        return NULL;
    const char *abbrev = sigabbrev_np((int)sig);
    if (abbrev)
        snprintf(buf, n, "SIG%s", abbrev);
    else
        snprintf(buf, n, "signal %u", sig);
    return buf;
}

/* ISO 8601 local time with the UTC offset, e.g. 2026-11-21T10:54:53+0100. */
static void info_time(char *buf, size_t n, uint64_t ns)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%S%z", &tm))
        snprintf(buf, n, "?");
}

static void info_bytes(const char *label, uint64_t v)
{
    char sz[64];
    fmt_size(sz, sizeof(sz), (double)v, 0);
    printf("%-17s %s (%llu bytes)\n", label, sz, (unsigned long long)v);
}

/* The file's size had its sections been stored uncompressed. */
static uint64_t info_raw_bytes(const struct snap *s)
{
    uint64_t n = s->len;
    for (int i = 0; i < SNAP_MAX_SECTIONS; i++)
        n += s->sizes[i].raw - s->sizes[i].stored;
    return n;
}

/* "on disk": the file's size, per live block, and what compression saved. */
static void info_disk(const struct snap *s)
{
    char sz[64], raw[64], per[48] = "";
    uint64_t r = info_raw_bytes(s);
    fmt_size(sz, sizeof(sz), (double)s->len, 0);
    if (s->meta.live_blocks)
        snprintf(per, sizeof(per), ", %.1f B per live block",
                 (double)s->len / (double)s->meta.live_blocks);
    if (r == s->len) {
        printf("%-17s %s%s, not compressed\n", "on disk:", sz, per);
        return;
    }
    fmt_size(raw, sizeof(raw), (double)r, 0);
    printf("%-17s %s%s, compressed (zstd) from %s\n", "on disk:", sz, per, raw);
}

/* The leak check's verdict in blocks: what `leaks` sums in its LEAK SUMMARY
 * (its loss records group these blocks by stack, so they are fewer). */
static void info_leaks(const struct snap *s)
{
    const struct hsnap_leak_total *t = s->lk.total;
    uint64_t d = t[HSNAP_CLASS_DIRECT].blocks, i = t[HSNAP_CLASS_INDIRECT].blocks,
             c = t[HSNAP_CLASS_CYCLE].blocks;
    char sz[64];
    fmt_size(sz, sizeof(sz), (double)(t[HSNAP_CLASS_DIRECT].bytes + t[HSNAP_CLASS_INDIRECT].bytes +
                                      t[HSNAP_CLASS_CYCLE].bytes), 0);
    printf("%-17s yes, %llu blocks lost (%s: %llu direct, %llu indirect, %llu in cycles), "
           "%llu possibly lost\n", "leak check:", (unsigned long long)(d + i + c), sz,
           (unsigned long long)d, (unsigned long long)i, (unsigned long long)c,
           (unsigned long long)t[HSNAP_CLASS_POSSIBLE].blocks);
    if (!s->npycodes || !t[HSNAP_CLASS_IGNORED].blocks)
        return;
    /* in a Python process: what the runtime keeps for good (shim's
     * collect_mark_runtime, collect_mark_init), the loader's, the ignored */
    fmt_size(sz, sizeof(sz), (double)t[HSNAP_CLASS_IGNORED].bytes, 0);
    printf("%-17s %llu blocks (%s): the runtime's own (immortal objects, C extensions' "
           "initialisation constants no pointer reaches), ld.so's, and those the program "
           "ignored; not leaks\n", "ignored:", (unsigned long long)t[HSNAP_CLASS_IGNORED].blocks, sz);
}

/* When the peak was captured, how near, and its three biggest sites
 * (tracemalloc lines, by line). */
static void info_peak(const struct snap *s)
{
    const struct hsnap_peak *p = &s->peak;
    char sz[64], near[96];
    if (!s->has_peak) {
        printf("%-17s no (%s)\n", "peak held:", peak_missing_why(s));
        return;
    }
    fmt_size(sz, sizeof(sz), (double)p->bytes, 0);
    if (p->step_ppm)
        snprintf(near, sizeof(near), "captured within %g%% or %u KiB of the peak",
                 p->step_ppm / 10000.0, p->floor / 1024);
    else
        snprintf(near, sizeof(near), "captured at every new peak");
    printf("%-17s %.3f s after start\n", "peak time:", p->t_ns / 1e9);
    printf("%-17s %s in %llu blocks (%s)\n", "peak held:", sz, (unsigned long long)p->blocks,
           near);
    uint64_t untouched = 0;
    uint64_t *resident = peak_resident(s, &untouched); /* mapped pages nothing touched */
    if (untouched && untouched < p->bytes) {
        char t[64], u[64];
        fmt_size(t, sizeof(t), (double)(p->bytes - untouched), 0);
        fmt_size(u, sizeof(u), (double)untouched, 0);
        printf("%-17s %s (%s mapped and not touched by the snapshot left out)\n",
               "peak touched:", t, u);
    }
    struct stats_opts o = {.key = KEY_LINENO, .limit = 3};
    struct stats *st = stats_new(&o);
    size_t n = 0;
    if (st)
        stats_residency(st, resident);
    struct stat_entry **e = st && stats_add_values(st, s, s->peak_stats) == 0
                                ? stats_sort(st, 0, &n) : NULL;
    if (st)
        stats_residency(st, NULL);
    free(resident);
    for (size_t i = 0; e && i < n && i < 3; i++) {
        char key[4200], line[4600];
        stats_key(KEY_LINENO, e[i], key, sizeof(key));
        fmt_statistic(line, sizeof(line), key, e[i]->size, e[i]->count);
        printf("%-17s %s\n", i ? "" : "peak sites:", line);
    }
    stats_free(st);
}

/* FAILED summed: calls, sites, the largest size asked and its item (the
 * most failed calls among equals); NULL when nothing failed. */
static const struct hsnap_failed *info_failed_sum(const struct snap *s, uint64_t *calls)
{
    const struct hsnap_failed *big = NULL;
    *calls = 0;
    for (uint32_t i = 0; i < s->nfailed; i++) {
        const struct hsnap_failed *f = &s->failed[i];
        *calls += f->count;
        if (!big || f->max_size > big->max_size ||
            (f->max_size == big->max_size && f->count > big->count))
            big = f;
    }
    return big;
}

/* The largest size asked as printed: "1024 GiB", or the overflow. */
static void info_failed_size(char *buf, size_t n, uint64_t v)
{
    if (v == HSNAP_FAILED_OVERFLOW)
        snprintf(buf, n, "n * size > 2^64");
    else
        fmt_size(buf, n, (double)v, 0);
}

/* Live bytes and blocks by kind (k 0: malloc, 1: mmap) from STATS; 1
 * when the snapshot holds an mmap-kind site or file mappings were made
 * (a program without either shows neither line). */
static int info_kinds(const struct snap *s, uint64_t bytes[2], uint64_t count[2])
{
    int any = s->meta.file_maps != 0;
    bytes[0] = bytes[1] = count[0] = count[1] = 0;
    for (uint32_t i = 0; i < s->ntraces; i++) {
        int k = (s->traces[i].flags & HSNAP_TRACE_MMAP) != 0;
        any |= k;
        bytes[k] += s->stats[i].live_bytes;
        count[k] += s->stats[i].live_count;
    }
    return any;
}

/* "by kind:" and "file mappings:", when info_kinds says so. */
static void info_kind_lines(const struct snap *s)
{
    uint64_t b[2], c[2];
    char m[64], p[64];
    if (!info_kinds(s, b, c))
        return;
    fmt_size(m, sizeof(m), (double)b[0], 0);
    fmt_size(p, sizeof(p), (double)b[1], 0);
    printf("%-17s malloc %s in %llu block%s, mmap %s in %llu range%s\n", "by kind:", m,
           (unsigned long long)c[0], c[0] == 1 ? "" : "s", p, (unsigned long long)c[1],
           c[1] == 1 ? "" : "s");
    printf("%-17s %u made (files: not heap, not counted)\n", "file mappings:",
           s->meta.file_maps);
}

/* The same in JSON: "kinds" {malloc:{bytes,blocks}, mmap:{bytes,ranges,
 * resident_bytes (with MAPPED)}, file_maps}, only when info_kinds says so. */
static void info_kinds_json(struct json *j, const struct snap *s)
{
    uint64_t b[2], c[2];
    if (!info_kinds(s, b, c))
        return;
    json_key(j, "kinds");
    json_obj_begin(j);
    json_key(j, "malloc");
    json_obj_begin(j);
    json_ku64(j, "bytes", b[0]);
    json_ku64(j, "blocks", c[0]);
    json_obj_end(j);
    json_key(j, "mmap");
    json_obj_begin(j);
    json_ku64(j, "bytes", b[1]);
    json_ku64(j, "ranges", c[1]);
    if (s->has_mapped) /* pages touched at the snapshot (MAPPED) */
        json_ku64(j, "resident_bytes", s->mapped.resident_bytes);
    json_obj_end(j);
    json_ku64(j, "file_maps", s->meta.file_maps);
    json_obj_end(j);
}

/* MAPPED: "reserved: SIZE in N ranges (address space, not counted)" and
 * how much of the mapped ranges was resident; nothing without it. */
static void info_mapped_lines(const struct snap *s)
{
    char r[64], in[64], all[64];
    if (!s->has_mapped)
        return;
    fmt_size(r, sizeof(r), (double)s->mapped.reserved_bytes, 0);
    printf("%-17s %s in %llu range%s (address space, not counted)\n", "reserved:", r,
           (unsigned long long)s->mapped.reserved_ranges,
           s->mapped.reserved_ranges == 1 ? "" : "s");
    uint64_t b[2], c[2];
    if (!info_kinds(s, b, c))
        return;
    fmt_size(in, sizeof(in), (double)s->mapped.resident_bytes, 0);
    fmt_size(all, sizeof(all), (double)b[1], 0);
    printf("%-17s %s of the %s mapped (pages touched at the snapshot)\n", "mmap resident:",
           in, all);
}

/* The same in JSON: "reserved" {bytes, ranges} and "mmap_resident_bytes",
 * only with MAPPED (a program that mapped nothing has neither). */
static void info_mapped_json(struct json *j, const struct snap *s)
{
    if (!s->has_mapped)
        return;
    json_key(j, "reserved");
    json_obj_begin(j);
    json_ku64(j, "bytes", s->mapped.reserved_bytes);
    json_ku64(j, "ranges", s->mapped.reserved_ranges);
    json_obj_end(j);
    json_ku64(j, "mmap_resident_bytes", s->mapped.resident_bytes);
}

/* "failed allocations: N at M sites, largest SIZE (from file.c:12)". */
static void info_failed(const struct snap *s)
{
    uint64_t calls;
    const struct hsnap_failed *big = info_failed_sum(s, &calls);
    if (!big) {
        printf("%-17s none\n", "failed allocations:");
        return;
    }
    char sz[64];
    const struct frames_trace *t = frames_get(s, big->trace);
    info_failed_size(sz, sizeof(sz), big->max_size);
    printf("%-17s %llu at %u site%s, largest %s (from %s)\n", "failed allocations:",
           (unsigned long long)calls, s->nfailed, s->nfailed == 1 ? "" : "s", sz,
           t && t->site_name ? t->site_name : "?");
}

/* The state file (HEAPSNAP_STATE), when the snapshot is read from one. */
static void info_state(const struct snap *s)
{
    const char *full = state_full_why(s->state_flags);
    char behind[64] = "";
    if (s->state_behind_ns) /* live sums are the cells', current; totals are the document's */
        snprintf(behind, sizeof behind, " (allocation totals %.1f s before it)",
                 (double)s->state_behind_ns / 1e9);
    if (s->state_size)
        printf("%-17s %s; last update as of time above%s; "
               "%llu KiB in use of %llu KiB%s%s%s\n", "state file:",
               s->state_live ? "the process still runs" : "cut short: the process was killed",
               behind, (unsigned long long)(s->state_used / 1024),
               (unsigned long long)(s->state_size / 1024), full ? " (" : "",
               full ? full : "", full ? ": some sites are missing)" : "");
    else if (s->state_bound)
        printf("%-17s %llu KiB at most in use of %llu KiB (HEAPSNAP_STATE)%s%s%s\n",
               "state file:", (unsigned long long)(s->state_max / 1024),
               (unsigned long long)(s->state_bound / 1024), full ? "; " : "",
               full ? full : "", full ? ": some sites were kept in memory only" : "");
}

/* info_print's steps, in its order: the process and why it wrote, */
static void info_process(const struct snap *s)
{
    const struct hsnap_meta *m = &s->meta;
    char when[64], start[64];
    info_time(when, sizeof(when), m->time_ns);
    info_time(start, sizeof(start), m->start_ns);
    char *cmd = esc_text_dup(s->cmdline), *exe = esc_text_dup(s->exe); /* the program's words */
    printf("%-17s %s\n", "command:", cmd ? cmd : "?");
    printf("%-17s %s\n", "executable:", exe ? exe : "?");
    free(cmd);
    free(exe);
    printf("%-17s %u (parent %u)\n", "pid:", m->pid, m->ppid);
    char role[320];
    if (procrole_of(s, role, sizeof role))
        printf("%-17s %s (a multiprocessing worker)\n", "runs:", role);
    printf("%-17s %s (started %s)\n", "time:", when, start);
    char note[128];
    if (snap_attached_note(s, note, sizeof note))
        printf("%-17s %s\n", "attached:", note);
    char signame[32];
    if (info_fatal_sig(m, signame, sizeof signame))
        printf("%-17s %s %s (%s)\n", "reason:", info_reason(m->reason), signame,
               strsignal((int)HSNAP_META_SIG(m->flags)));
    else
        printf("%-17s %s\n", "reason:", s->state_live ? "running" : info_reason(m->reason));
    printf("%-17s %u\n", "sequence:", m->seq);
}

/* A fork child's heap from its parent, summed apart (INHERITED): not in
 * the sums above nor in top. */
static void info_inherited(const struct snap *s)
{
    char sz[64];
    if (!s->has_inherited)
        return;
    fmt_size(sz, sizeof(sz), (double)s->inherited.bytes, 0);
    printf("%-17s %s in %llu blocks from pid %u at the fork, still live (not in the sums "
           "above nor in top: HEAPSNAP_INHERITED=blocks lists them)\n", "inherited:", sz,
           (unsigned long long)s->inherited.blocks, s->inherited.ppid);
}

/* what was traced and how (depth, sampling, the sums, the traces), */
static void info_traced(const struct snap *s)
{
    const struct hsnap_meta *m = &s->meta;
    printf("%-17s %u frames\n", "depth:", m->depth);
    if (m->sample_interval)
        printf("%-17s %llu bytes\n", "sample interval:", (unsigned long long)m->sample_interval);
    else
        printf("%-17s every allocation\n", "sample interval:");
    info_bytes("traced current:", m->current_bytes);
    info_bytes("traced peak:", m->peak_bytes);
    info_peak(s);
    printf("%-17s %llu\n", "live blocks:", (unsigned long long)m->live_blocks);
    info_inherited(s);
    info_kind_lines(s);
    info_mapped_lines(s);
    printf("%-17s %llu allocations, %llu frees\n", "total:",
           (unsigned long long)m->total_allocs, (unsigned long long)m->total_frees);
    printf("%-17s %llu\n", "foreign frees:", (unsigned long long)m->foreign_frees);
    info_failed(s);
    info_bytes("shim memory:", m->shim_bytes);
    printf("%-17s %u\n", "traces:", s->ntraces);
}

/* the Python interpreter's part, */
static void info_python(const struct snap *s)
{
    char unread[320];
    int unread_said = pytypes_unread_note(s, unread, sizeof unread);
    if (s->npycodes)
        printf("%-17s CPython %u.%u, %u code objects\n", "python:", s->py_version >> 24,
               (s->py_version >> 16) & 0xff, s->npycodes);
    if (unread_said) /* not read, or (with its lines) its objects not read */
        printf("%-17s %s\n", s->npycodes ? "" : "python:", unread);
    if (s->has_gcfreed) { /* PYGCFREED: what the cycle collector freed over the run */
        gcfreed_print_total(s, 1, "gc collected:    ", stdout);
    }
    if (s->py.graph) /* PYTYPES' graph; PYRETAIN's leaked references */
        printf("%-17s %llu, %llu garbage awaiting the collector, %llu with leaked references\n",
               "python objects:", (unsigned long long)s->py.nobjects,
               (unsigned long long)s->py.garbage, (unsigned long long)s->py.leakrefs);
}

/* the modules and the blocks, */
static void info_modules_blocks(const struct snap *s)
{
    uint32_t gone = 0;
    for (uint32_t i = 0; i < s->nmodules; i++)
        gone += (s->modules[i].flags & HSNAP_MODULE_UNLOADED) != 0;
    if (gone)
        printf("%-17s %u (%u unloaded before the snapshot)\n", "modules:", s->nmodules, gone);
    else
        printf("%-17s %u\n", "modules:", s->nmodules);
    if (s->has_blocks)
        printf("%-17s %llu\n", "blocks:", (unsigned long long)s->nblocks);
    else
        printf("%-17s not recorded\n", "blocks:");
}

/* the leak check, or why none ran, and the program's suppressions, */
static void info_leak_check(const struct snap *s)
{
    const struct hsnap_meta *m = &s->meta;
    if (s->lk.present)
        info_leaks(s);
    else if (m->reason == HSNAP_REASON_FATAL)
        printf("%-17s no (written at a fatal signal: no check runs in a crashing process)\n",
               "leak check:");
    else if (m->flags & HSNAP_META_CUT_SHORT)
        printf("%-17s no (%s: a state file has no block list)\n", "leak check:",
               s->state_live ? "the process still runs" : "the process was killed");
    else if (m->flags & HSNAP_META_LSAN_CHECKED)
        printf("%-17s no (the program's __lsan_do_leak_check() ran it earlier)\n",
               "leak check:");
    else if (m->flags & HSNAP_META_LEAKS_SKIPPED && m->flags & HSNAP_META_LEAKS_FAILED)
        printf("%-17s no answer (it ran out of memory, or its copy of the process ended "
               "without one)\n", "leak check:");
    else if (m->flags & HSNAP_META_LEAKS_SKIPPED)
        printf("%-17s skipped (a thread could not be stopped, and the check could not run "
               "on a fork of the process)\n", "leak check:");
    else if (m->flags & HSNAP_META_LSAN_OFF)
        printf("%-17s no (the program's __lsan_is_turned_off() turned it off)\n",
               "leak check:");
    else
        printf("%-17s no (run with --leaks or HEAPSNAP_LEAKS=1)\n", "leak check:");
    if (s->supp_text) {
        unsigned lines = 0;
        for (const char *c = s->supp_text; *c; c++)
            lines += *c == '\n' || !c[1];
        printf("%-17s %u lines from the program's __lsan_default_suppressions()\n",
               "suppressions:", lines);
    }
}

/* and memory over time. */
static void info_over_time(const struct snap *s)
{
    printf("%-17s %u\n", "timeline points:", s->npoints);
    if (s->sl.present)
        printf("%-17s %u points, RSS and the %u largest sites at each (heapsnap timeline)\n",
               "memory over time:", s->sl.head.count, s->sl.head.nsites);
    else
        printf("%-17s not recorded (%s)\n", "memory over time:",
               s->version < 2 ? "snapshot format 1" : "HEAPSNAP_SITELINE=0");
}

static void info_print(const struct snap *s)
{
    info_process(s);
    info_traced(s);
    info_python(s);
    info_modules_blocks(s);
    info_disk(s);
    info_leak_check(s);
    info_over_time(s);
    info_state(s);
    printf("%-17s %s\n", "degraded:", (s->meta.flags & HSNAP_META_DEGRADED)
                                          ? "yes (recording stopped early: out of memory)"
                                          : "no");
}

/* One snapshot of the "heapsnap-info" document: info_print's facts. */
/* info_json_snap's steps, in its order: the process and why it wrote, */
static void info_json_process(struct json *j, const struct snap *s, const char *path)
{
    const struct hsnap_meta *m = &s->meta;
    json_kstr(j, "path", path);
    json_kstr(j, "command", s->cmdline);
    json_kstr(j, "exe", s->exe);
    json_ku64(j, "pid", m->pid);
    json_ku64(j, "ppid", m->ppid);
    char role[320];
    if (procrole_of(s, role, sizeof role))
        json_kstr(j, "runs", role);
    json_ku64(j, "time_ns", m->time_ns);
    json_ku64(j, "start_ns", m->start_ns);
    json_kstr(j, "reason", s->state_live ? "running" : info_reason(m->reason));
    char signame[32];
    if (info_fatal_sig(m, signame, sizeof signame))
        json_kstr(j, "signal", signame);
    if (m->flags & HSNAP_META_CUT_SHORT)
        json_kbool(j, "cut_short", 1);
    if (s->state_size) {
        json_ku64(j, "state_kib", s->state_used / 1024);
        if (s->state_behind_ns)
            json_ku64(j, "state_totals_behind_ms", s->state_behind_ns / 1000000);
    } else if (s->state_bound) {
        json_ku64(j, "state_kib", s->state_max / 1024);
        json_ku64(j, "state_bound_kib", s->state_bound / 1024);
    }
    if (m->flags & HSNAP_META_ATTACHED)
        json_kbool(j, "attached", 1);
    json_ku64(j, "sequence", m->seq);
}

/* what was traced (the sums, traces, modules, blocks, the file's size), */
static void info_json_traced(struct json *j, const struct snap *s)
{
    const struct hsnap_meta *m = &s->meta;
    uint32_t gone = 0;
    for (uint32_t i = 0; i < s->nmodules; i++)
        gone += (s->modules[i].flags & HSNAP_MODULE_UNLOADED) != 0;
    json_ku64(j, "depth", m->depth);
    json_ku64(j, "sample_interval", m->sample_interval);
    json_ku64(j, "current_bytes", m->current_bytes);
    json_ku64(j, "peak_bytes", m->peak_bytes);
    json_ku64(j, "live_blocks", m->live_blocks);
    if (s->has_inherited) {
        json_key(j, "inherited");
        json_obj_begin(j);
        json_ku64(j, "ppid", s->inherited.ppid);
        json_ku64(j, "bytes", s->inherited.bytes);
        json_ku64(j, "blocks", s->inherited.blocks);
        json_obj_end(j);
    }
    info_kinds_json(j, s);
    info_mapped_json(j, s);
    json_ku64(j, "total_allocs", m->total_allocs);
    json_ku64(j, "total_frees", m->total_frees);
    json_ku64(j, "foreign_frees", m->foreign_frees);
    json_ku64(j, "shim_bytes", m->shim_bytes);
    json_ku64(j, "traces", s->ntraces);
    json_ku64(j, "modules", s->nmodules);
    json_ku64(j, "modules_unloaded", gone);
    json_key(j, "blocks");
    if (s->has_blocks)
        json_u64(j, s->nblocks);
    else
        json_null(j);
    json_ku64(j, "file_bytes", s->len);
    json_ku64(j, "uncompressed_bytes", info_raw_bytes(s));
}

/* the leak check, the timeline and the peak, */
static void info_json_checks(struct json *j, const struct snap *s)
{
    json_kbool(j, "leak_check", s->lk.present);
    json_ku64(j, "loss_records", s->lk.present ? s->lk.head.nrecords : 0);
    json_ku64(j, "lost_blocks", s->lk.present ? s->lk.total[HSNAP_CLASS_DIRECT].blocks +
                                                    s->lk.total[HSNAP_CLASS_INDIRECT].blocks +
                                                    s->lk.total[HSNAP_CLASS_CYCLE].blocks
                                              : 0);
    json_ku64(j, "timeline_points", s->npoints);
    json_key(j, "peak"); /* what the traced peak held (PEAK), or null */
    if (s->has_peak) {
        json_obj_begin(j);
        json_ku64(j, "t_ns", s->peak.t_ns);
        json_ku64(j, "bytes", s->peak.bytes);
        json_ku64(j, "blocks", s->peak.blocks);
        json_ku64(j, "step_ppm", s->peak.step_ppm);
        uint64_t untouched = 0;
        free(peak_resident(s, &untouched));
        json_ku64(j, "touched_bytes", s->peak.bytes - (untouched < s->peak.bytes ? untouched : 0));
        json_obj_end(j);
    } else {
        json_null(j);
    }
}

/* and the collector's frees and the failed allocations. */
static void info_json_failed(struct json *j, const struct snap *s)
{
    uint64_t calls;
    const struct hsnap_failed *big = info_failed_sum(s, &calls);
    const struct frames_trace *t = big ? frames_get(s, big->trace) : NULL;
    if (s->has_gcfreed)
        gcfreed_json(j, s, 1); /* "collector", as top --collected's */
    json_key(j, "failed"); /* FAILED summed: calls that returned NULL */
    json_obj_begin(j);
    json_ku64(j, "calls", calls);
    json_ku64(j, "sites", s->nfailed);
    json_key(j, "largest_size");
    if (big && big->max_size == HSNAP_FAILED_OVERFLOW)
        json_null(j);
    else
        json_u64(j, big ? big->max_size : 0);
    json_kstr(j, "largest_site", t ? t->site_name : NULL);
    json_obj_end(j);
}

/* The sections info never reads, left as they are stored (snap_load_skip;
 * their checksums are still checked, their sizes counted): the retainers'
 * rows and the holders' chains, the leak check's biggest. */
#define INFO_SKIP (SNAP_SEC(RETAINERS) | SNAP_SEC(HOLDERS))

static void info_json_snap(struct json *j, const struct snap *s, const char *path)
{
    json_obj_begin(j);
    info_json_process(j, s, path);
    info_json_traced(j, s);
    info_json_checks(j, s);
    info_json_failed(j, s);
    json_kbool(j, "degraded", (s->meta.flags & HSNAP_META_DEGRADED) != 0);
    json_obj_end(j);
}

/* --format json: every snapshot loaded first, so that a bad one leaves no
 * half document. */
static int info_json(char **paths, int n, char *err, size_t errlen)
{
    struct snap *s = calloc((size_t)n, sizeof(*s));
    int loaded = 0, rc = 0;
    if (!s) {
        snprintf(err, errlen, "info: out of memory");
        return 2;
    }
    for (; loaded < n && rc == 0; loaded++)
        if (snap_load_skip(paths[loaded], &s[loaded], INFO_SKIP, err, errlen) < 0)
            rc = 2;
    if (rc == 0) {
        struct json j;
        jdoc_begin(&j, stdout, "heapsnap-info", 1);
        json_key(&j, "snapshots");
        json_arr_begin(&j);
        for (int i = 0; i < n; i++)
            info_json_snap(&j, &s[i], paths[i]);
        json_arr_end(&j);
        jdoc_end(&j);
    }
    for (int i = 0; i < loaded; i++)
        snap_free(&s[i]);
    free(s);
    return rc;
}

int cmd_info(int argc, char **argv, char *err, size_t errlen)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {"format", required_argument, NULL, 'f'},
                                             {NULL, 0, NULL, 0}};
    int c, json = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'f' && cli_parse_format(optarg, &json, err, errlen) < 0)
            return cli_prefix(err, errlen, "info"), 2;
        if (c == 'f')
            continue;
        if (c != 'h')
            return cli_bad_option("info", c, argv, longopts, err, errlen);
        printf("usage: heapsnap info SNAP... [--format text|json]\n"
               "Prints each snapshot's metadata (JSON: docs/json.md).\n");
        return 0;
    }
    if (optind >= argc) {
        snprintf(err, errlen, "info: no snapshot given (heapsnap info SNAP)");
        return 2;
    }
    frames_site_only(); /* its peak sites and failed site name a site alone */
    if (json)
        return info_json(argv + optind, argc - optind, err, errlen);
    for (int i = optind; i < argc; i++) {
        struct snap s;
        if (snap_load_skip(argv[i], &s, INFO_SKIP, err, errlen) < 0)
            return 2;
        char name[4200];
        if (argc - optind > 1)
            printf("%s%s:\n", i > optind ? "\n" : "", esc_text(argv[i], name, sizeof(name)));
        info_print(&s);
        snap_free(&s);
    }
    return 0;
}
