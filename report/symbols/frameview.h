/*
 * frameview.h - frames.c's view of each snapshot it expands (frameview.c):
 * the snapshot's modules in the registry, its words' frame records, each
 * word resolved and judged once, and the per-snapshot caches frames.c
 * keeps on it (stacks by trace, node chains, tmlike).  Inside the symbols
 * room only.
 */
#ifndef FRAMEVIEW_H
#define FRAMEVIEW_H
#include <stdint.h>

#include "framerec.h"
#include "frames.h"
#include "snap.h"

/* A trace's word resolved in one snapshot: its records (n of them; 0 for
 * heapsnap's own frames); n < 0 marks an empty slot. */
struct word_slot {
    uint64_t w;
    struct frec *const *recs;
    int32_t n;
};

/* One snapshot's view: its modules in the registry, its words' records
 * (open addressing, a power of two, at most half full), its traces'
 * stacks. */
struct frames_snap {
    int *mods;                            /* nmodules registry indices */
    const struct frames_trace **traces;   /* ntraces, filled on first use */
    struct word_slot *words;
    size_t capwords, nwords;
    struct tmlike *tm;                    /* tmlike_new's, on first use */
    uint32_t *chains[2];                  /* by node of a compressed TRACES: 1 + the
                                             chain of its words from it outward (all
                                             of them; its Python ones), 0 not yet,
                                             NODE_ERA when trace-dependent */
    uint8_t *haspy;                       /* by node: 0 not yet, 1 no Python word
                                             from it outward, 2 one */
    int siteonly;                         /* frames_site_only_of */
};

#define NODE_ERA UINT32_MAX

/* Snapshot s's view, made on first use (NULL: s was not loaded by
 * snap_load, or out of memory).  Views live until fview_fini. */
struct frames_snap *fview_of(const struct snap *s);

/* The records of word w of trace ti (judged), in *out: how many, or -1;
 * *era is 1 when they depend on the trace (an unloaded module's range
 * holds w: such a word is not cached). */
int fview_word(const struct snap *s, struct frames_snap *v, uint32_t ti, uint64_t w,
               struct frec *const **out, int *era);

/* Whether registry module mod is heapsnap's own library, whose frames are
 * never part of the user's stack. */
int fview_is_self(int mod);

/* Frees s's view (a snapshot freed, never to be expanded again): what
 * its words resolved to stays in the records. */
void fview_forget(const struct snap *s);

/* Frees every view and what frames_get keeps on them. */
void fview_fini(void);
#endif
