/*
 * pywrap.h - the door of shim/python/wrap/: what CPython's allocator
 * domains, once wrapped, are told and keep.  pydomain.c keeps
 * tracemalloc's domains by address (PyTraceMalloc_Track), and pytrack.c
 * rewrites that function's GOT entries so that a C extension's calls
 * reach it; pygcfreed.c counts what the cycle collector frees; pyreborn.c
 * charges a free list's object where it is born again; pyseed.c and
 * pyseedlive.c (with pygens.c, the collector's generations) find the
 * objects made before the wrap, which preseed.c books as blocks;
 * pytmline.c takes tracemalloc's line for a reused object (3.10-3.12).  It
 * stands on the layout, reads and frames rooms and the tables; what it
 * needs of the root comes as arguments.  Prefix: pyw_ (pyw_domain_,
 * pyw_gcf_, pyw_reborn_, pyw_seed_... name the file).
 */
#ifndef HEAPSNAP_PYWRAP_H
#define HEAPSNAP_PYWRAP_H

#include <stddef.h>
#include <stdint.h>

struct sbuf;

/* The heads of the collector's three generations and its permanent one in
 * the interpreter's state at interp, whose gc.collecting is at collecting
 * (pygens.c): 0, or -1 when no candidate verifies. */
int pyw_gens_find(uintptr_t interp, uint32_t collecting, uintptr_t heads[4]);
/* ... 3.14 on, where the row says (gens: offsetof gc.generations; the
 * permanent generation right after them), verified as pyw_gens_find's. */
int pyw_gens_at(uintptr_t interp, uint32_t gens, uintptr_t heads[4]);

/* pydomain.c: tracemalloc's domains (PyTraceMalloc_Track) by address */
void pyw_domain_set(unsigned domain, uintptr_t p, uint64_t size);
void pyw_domain_unset(unsigned domain, uintptr_t p);
int pyw_domain_any(void);
uint32_t pyw_domain_of(uintptr_t p, uint64_t size); /* 0: none (or another size) */
void pyw_domain_fork(int phase); /* 0 prepare, 1 parent, 2 child */
/* pytrack.c: the domains wrapped (dom_poll): PyTraceMalloc_Track and
 * _Untrack's GOT entries rewritten to ours, found by lookup. */
void pyw_track_arm(void *(*lookup)(const char *));
/* pygcfreed.c: the objects the cycle collector frees, per trace.
 * pyw_gcf_collecting points at the main interpreter's gcstate->collecting
 * once the domains are wrapped (pyw_gcf_arm, under the GIL), at a zero
 * before: the free path's test is pyw_gcf_busy(), two loads.  pyw_gcf_freed:
 * a block of the OBJ domain (its start p, size, trace) is being freed
 * while the collector runs; counted when it holds an object of a gc type. */
extern const volatile int *pyw_gcf_collecting;
static inline int pyw_gcf_busy(void)
{
    return __builtin_expect(*pyw_gcf_collecting != 0, 0);
}
void pyw_gcf_arm(void);
void pyw_gcf_disarm(void); /* finalization began (pyexit.c): the flag's ours again */
void pyw_gcf_freed(const void *p, uint64_t size, uint32_t trace);
/* The snapshot writer, after TRACES (ntraces of them): PYGCFREED into b
 * (hsnap_format.h); nothing when the collector was never watched. */
void pyw_gcf_put(struct sbuf *b, uint32_t ntraces);
/* pyseed.c: each dead list, dict and small tuple the main interpreter's
 * free lists hold (under the GIL): fn(block, size, arg), its block (the
 * PyGC_Head's start) and the size asked for it; how many. */
typedef void (*pyw_seed_fn)(uintptr_t block, uint64_t size, void *arg);
unsigned pyw_seed_each(pyw_seed_fn fn, void *arg);
/* ... the words of each dead list and dict there that still point at what
 * it freed (a list's ob_item, a dict's ma_keys and ma_values: no
 * references), fn([lo, hi), arg); how many objects.  Reads with peek, calls
 * no dlsym and takes no lock: for the leak check, the world stopped. */
typedef void (*pyw_stale_fn)(uintptr_t lo, uintptr_t hi, void *arg);
unsigned pyw_seed_stale(pyw_stale_fn fn, void *arg);
/* pyseedlive.c: each live list, dict (and its small combined keys table)
 * and small tuple the collector tracks, made before the wrap (under the
 * GIL, no collection running): fn as pyw_seed_each's; how many. */
unsigned pyw_seed_live(pyw_seed_fn fn, void *arg);
/* preseed.c: dom_poll's, the domains just wrapped (GIL held, guard set):
 * the dead objects on the free lists (and, unless the session started
 * late, the live ones) booked as blocks made by Py_InitializeFromConfig
 * (lookup: dlsym's), at the snapshot's epoch (epoch); none when the shim
 * samples.  pyw_preseed_again: again at the end of a stretch run with the
 * thread's recording off, the dead objects it left on the free lists. */
void pyw_preseed(void *(*lookup)(const char *), int sample, uint32_t (*epoch)(void));
void pyw_preseed_again(int sample, uint32_t (*epoch)(void));
/* pyreborn.c: an object a free list hands out again, charged where it is
 * born again (3.13 on).  pyw_fresh: the block the domains' wrapper recorded
 * last on this thread (its object's birth is its first).  pyw_reborn_arm:
 * the domains wrapped (GIL held): the interpreter's reference tracer
 * taken, unless another holds it; each birth of a block not fresh is
 * handed to host (the block, the birth's origin), with the guard clear.
 * pyw_reborn_disarm: the tracer given back, if ours (GIL held). */
struct unwind_origin;
extern __thread uintptr_t pyw_fresh;
void pyw_reborn_arm(void *(*lookup)(const char *),
                    void (*host)(uintptr_t block, const struct unwind_origin *origin));
void pyw_reborn_disarm(void);
/* pytmline.c: 3.10-3.12, tracemalloc tracing in the host: an object a
 * free list handed out again, charged at a snapshot to the line
 * tracemalloc moved its block to.  pyw_tml_arm: the domains wrapped (GIL
 * held): its symbols found by lookup; move(block, from, to) is the host's
 * (1: moved).  pyw_tml_pass: the snapshot writer (snapshot lock, guard
 * set, not the fatal path), before the blocks are gathered: each block on
 * the books that holds a dict, list, tuple or float and whose innermost
 * Python line is not that of tracemalloc's trace of it, moved to a trace
 * of tracemalloc's frames; how many moved. */
typedef int (*pyw_tml_move)(uintptr_t block, uint32_t from, uint32_t to);
void pyw_tml_arm(void *(*lookup)(const char *), pyw_tml_move move);
uint64_t pyw_tml_pass(void);

#endif
