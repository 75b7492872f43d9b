/*
 * stopslot.h - the stop's thread registry, shared by stop.c (the
 * registered threads, the stop itself, the roots) and foreign.c (the
 * threads the shim did not see start): the slots, their states, and the
 * registry's one struct with its lock.  Never included outside shim/leak/.
 */
#ifndef HEAPSNAP_LEAK_STOPSLOT_H
#define HEAPSNAP_LEAK_STOPSLOT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <ucontext.h>

#include "base.h"
#include "fpstate.h"

#define STOP_MAX 1024
#define STOP_STOP_NS 200000000ull /* a thread's time to answer the stop */
#define STOP_REDZONE 128          /* below SP, the x86-64 ABI's red zone */

/* A slot's vector save area: xmm (256 bytes) and the components this CPU
 * has (AVX-512: 64 + 512 + 1024 more after ymm's 256), in chunks of
 * STOP_VEC_CHUNK slots mapped when a slot of the chunk is first claimed
 * and kept (a handler that runs late may still write there): the
 * address space grows with the threads a program has at once, never with
 * STOP_MAX. */
#define STOP_VEC_CHUNK 64

/* The slots past the main thread's (slot 0, in the registry itself): in
 * chunks of STOP_SLOT_CHUNK, mapped in order when a claim finds every
 * mapped slot taken (stop_grow) and kept, as the vector areas are: a
 * program that starts no thread maps none, and a handler that runs late
 * never finds its slot unmapped.  Every slot below top is in a mapped
 * chunk. */
#define STOP_SLOT_CHUNK 64

/* STOP_FOREIGN: a thread the shim did not see start (started through
 * the pthread_create that dlsym(RTLD_NEXT) finds, or a raw clone), found
 * in /proc/self/task by a stop and given a slot for that stop only.  Its
 * handler finds the slot by its tid, and may run late: after that stop
 * gave up on it, or ended and freed the slot, or while a later stop gives
 * the slot to another thread.  So it writes only while it holds the
 * slot's writer word (its tid, taken from 0), and checks, holding it,
 * that the slot is still its own; the collector takes the word too (-1)
 * while it gives a slot to a thread, and passes over a slot held: a late
 * answer never lands in a slot reused by another thread. */
enum { STOP_FREE, STOP_PENDING, STOP_LIVE, STOP_FOREIGN };

struct stop_slot {
    atomic_int state;           /* STOP_* */
    pid_t tid;                  /* kernel thread id, for tgkill */
    uintptr_t tp;               /* pthread_self(): the thread pointer (TCB) */
    uintptr_t lo, hi;           /* stack bounds (lo: lowest usable address) */
    void *(*start)(void *);     /* pending: the program's start routine */
    void *arg;                  /* pending: its argument (scanned as a root) */
    atomic_uint ack;            /* last stop generation answered */
    atomic_int writer;          /* 0, a foreign handler's tid, or -1 (see above) */
    int stopped;                /* answered the current stop */
    int index;                  /* its place in the registry (stop_slot) */
    uintptr_t sp;               /* stack pointer when stopped */
    uintptr_t alo, ahi;         /* its alternate signal stack when stopped, or 0 */
    uintptr_t regs[NGREG];      /* general registers when stopped */
    uintptr_t *vec;             /* vector registers when stopped: nvec words */
    unsigned nvec;
    atomic_int ending;          /* its start routine is over; live until gone */
    uintptr_t dtv;              /* its DTV block's start (a root word) */
};

struct stop_registry {
    lock_t lock;                 /* slot claims and frees; held by a stop */
    size_t tls_static;           /* _dl_get_tls_static_info: static TLS + TCB */
    size_t tcb;                  /* sizeof(struct pthread): the TCB */
    size_t tid_off;              /* offsetof(struct pthread, tid), or 0 */
    struct fpstate_layout fp;    /* the vector registers' place in a signal frame */
    size_t vec_words;            /* a slot's vector save area, in words */
    _Atomic(uintptr_t *) vec_chunk[STOP_MAX / STOP_VEC_CHUNK];
    int sig;                     /* stop signal; 0 = never stop */
    int installed;               /* our handler is on sig */
    atomic_int warned;           /* the stop signal had another handler */
    atomic_uint gen;             /* current stop generation */
    atomic_uint go;              /* generation released */
    atomic_int nending;          /* live slots whose start routine is over */
    uintptr_t caller_lo, caller_hi; /* the collecting thread's stack */
    uintptr_t caller_dtv;        /* its DTV block, when not registered */
    atomic_int top;              /* slots ever claimed: [0, top) (a fork's child) */
    atomic_int own_tid;          /* the shim's helper thread, or 0 */
    _Atomic(uintptr_t) own_tp;   /* its pthread_t, or 0 */
    atomic_int aux_tid;          /* the attach's control thread (stop_aux_thread), or 0 */
    uintptr_t main_tp;           /* the main thread's TCB, or 0: ld.so maps it beside the
                                  * static TLS, in a mapping that is no stack */
    struct stop_slot slot0;      /* the main thread's */
    _Atomic(struct stop_slot *) slot_chunk[STOP_MAX / STOP_SLOT_CHUNK];
};
extern struct stop_registry stop;

/* Slot i: slot0, or its place in a mapped chunk; NULL when its chunk is
 * not mapped (never for i below top). */
static inline struct stop_slot *stop_slot(int i)
{
    if (i == 0)
        return &stop.slot0;
    struct stop_slot *c = atomic_load(&stop.slot_chunk[i / STOP_SLOT_CHUNK]);
    return c ? c + i % STOP_SLOT_CHUNK : NULL;
}

/* stop.c, with the registry lock: a free slot whose writer word is ours
 * (-1), or NULL; stop_give hands it over (its state, then the writer
 * word back); a slot's vector save area, mapped once per chunk. */
struct stop_slot *stop_take(void);
void stop_give(struct stop_slot *s, int state);
uintptr_t *stop_vec_area(const struct stop_slot *s);
/* The next chunk of slots mapped (0; also when another thread mapped it
 * meanwhile), or -1: every chunk is mapped, or no memory.  Takes the
 * arena's mapping lock: never called with the registry lock held unless
 * that lock is held already (the stop's, under the host's lock_all). */
int stop_grow(void);

/* foreign.c: with the registry lock, every task no slot knows signalled
 * (returns how many; *failed counts those that could not be); and, with
 * the world stopped, the stacks of foreign threads that did not answer. */
uint32_t stop_foreign(pid_t pid, unsigned gen, uint32_t *failed);
void stop_find_unanswered(void);
void stop_keep_regs(void); /* keptregs.c: stop_resume's, the registry lock held */

#endif
