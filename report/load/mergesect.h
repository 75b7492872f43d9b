/*
 * mergesect.h - the merge in progress (struct merge) and the sections that
 * cmd_merge carries over item by item through a trace map (merge_blocks,
 * merge_leaks, merge_sites_add and their folds): the load room's part of a
 * merge, beside the snapshot they read and snap_save that writes the result.
 * The driver, the modules and the traces are the command's (cmd_merge).
 */
#ifndef REPORT_MERGESECT_H
#define REPORT_MERGESECT_H

#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "snapsave.h"

/* Items of a per-trace section (FAILED, PYGCFREED), each opening with its
 * u32 TRACES index, gathered from every input. */
struct msites {
    void *items;
    uint32_t n;
    size_t cap;
};

struct mtrace {           /* an interned merged trace */
    uint8_t *key;         /* u16 depth, u16 flags, relocated ips */
    size_t keylen;
    uint32_t id;
    UT_hash_handle hh;
};

struct mcode {             /* a merged PYCODE entry, interned by content */
    uint8_t *key;
    size_t keylen;
    uint32_t id;
    UT_hash_handle hh;
};

struct merge {
    struct snap out;          /* the view snap_save writes */
    struct mcode *codes;      /* uthash by content; out.pycodes by id */
    size_t capcodes;
    struct snap_module *mods; /* merged modules (out.modules) */
    size_t capmods;
    uint64_t cursor;          /* next free synthetic address */
    struct mtrace *traces;    /* uthash by key */
    struct snap_trace *tv;    /* out.traces */
    struct hsnap_stat *stats; /* out.stats; zero past out.ntraces */
    size_t captv, capstats;   /* equal unless growing one of the two failed */
    struct hsnap_block *blocks;
    size_t capblocks;
    uint8_t *leaks;
    struct hsnap_retainer *rets;  /* out.retainers, sorted and unique at the end */
    uint32_t nrets;
    size_t caprets;
    struct msites fails;          /* out.failed, by trace and unique at the end */
    struct msites gcf;            /* out.gcfreed, the same way */
    struct hsnap_thread *thr;     /* out.threads: every input's records */
    uint32_t nthr;
    size_t capthr;
    uint32_t thr_base;            /* index - place: 0 when place 0 is "[other threads]" */
    uint16_t *tt;                 /* out.trace_thread, grown with the traces */
    size_t captt;
};

/* 1 when s's blocks already carry an input index in bits 48..63 (s is a
 * merged snapshot): a second tag would reorder them, so merge refuses. */
int merged_blocks(const struct snap *s);

/* Append s's BLOCKS (tagged with input) and RETAINERS, their traces mapped
 * through tmap (s's trace id -> merged id); 0, or -1 out of memory. */
int merge_blocks(struct merge *mg, const struct snap *s, uint64_t input, const uint32_t *tmap);
int merge_rets(struct merge *mg, const struct snap *s, const uint32_t *tmap);

/* Appends n items of size bytes, their leading trace mapped through tmap;
 * 0, or -1 out of memory. */
int merge_sites_add(struct msites *ms, const void *items, uint32_t n, size_t size,
                    const uint32_t *tmap);

/* The merged LEAKS from every input (all have one): 0, 1 when one is
 * unreadable (LEAKS is dropped), -1 out of memory. */
int merge_leaks(struct merge *mg, const struct snap *in, int n);

/* THREADS is carried when every input has it and their records fit the
 * format's u16 indexes: merge_threads_plan says so (mg->out.has_threads)
 * and makes room; merge_threads then appends s's records (each input's
 * threads kept apart, the "[other threads]" of all inputs one record at
 * index 0) and fills ttmap[ti] with the merged place of s's trace ti's
 * thread, or HSNAP_THREAD_NONE.  0, or -1 out of memory. */
int merge_threads_plan(struct merge *mg, const struct snap *in, int n);
int merge_threads(struct merge *mg, const struct snap *s, uint16_t *ttmap);

/* Once every input is in: RETAINERS, FAILED and PYGCFREED sorted in the
 * format's order, equal items folded, and set in mg->out. */
void merge_retainers(struct merge *mg);
void merge_failed(struct merge *mg);
void merge_gcfreed(struct merge *mg, const struct snap *in, int n);

#endif
