/*
 * foreign.c - the threads the shim did not see start (STOP_FOREIGN in
 * stopslot.h: a raw clone, or one started through the pthread_create
 * that dlsym(RTLD_NEXT) finds).  A stop finds them in /proc/self/task,
 * gives each a slot for that stop only and signals it; one that does not
 * answer (it blocks every signal) left no stack pointer, and its whole
 * stack is found here among the mappings: the glibc stack mapping whose
 * TCB holds its tid.  The same TCB test says whether a range is a glibc
 * thread stack at all (stop_is_thread_stack).
 */
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/peek.h"
#include "leakinner.h"
#include "procmaps.h"
#include "stopslot.h"

/* With the registry lock: a slot of this stop for each task of
 * /proc/self/task that no slot knows, signalled (task_each: raw reads, no
 * opendir, no malloc). */
struct stop_foreign {
    pid_t pid, self, own;
    unsigned gen;
    uint32_t sent, failed;
};

static void stop_foreign_task(pid_t tid, void *arg)
{
    struct stop_foreign *f = arg;
    int known = tid <= 0 || tid == f->self || tid == f->own || tid == atomic_load(&stop.aux_tid);
    int top = atomic_load(&stop.top);
    for (int i = 0; i < top && !known; i++) {
        int st = atomic_load(&stop_slot(i)->state);
        known = (st == STOP_LIVE || st == STOP_FOREIGN) && stop_slot(i)->tid == tid;
    }
    if (known || task_dead(tid))
        return;
    struct stop_slot *s = stop_take();
    if (!s && stop_grow() == 0) /* the stop holds the mapping lock already */
        s = stop_take();
    if (!s) {
        f->failed++;
        return;
    }
    if (!s->vec)
        s->vec = stop_vec_area(s);
    s->tid = tid;
    s->tp = 0;
    s->lo = s->hi = 0;
    s->stopped = 0;
    atomic_store(&s->ending, 0);
    atomic_store(&s->ack, f->gen - 1);
    int i = s->index;
    if (i >= atomic_load(&stop.top))
        atomic_store(&stop.top, i + 1);
    stop_give(s, STOP_FOREIGN);
    if (stop.installed && syscall(SYS_tgkill, f->pid, tid, stop.sig) == 0)
        f->sent++;
    else
        f->failed++;
}

/* How many foreign tasks were signalled (*failed: could not be). */
uint32_t stop_foreign(pid_t pid, unsigned gen, uint32_t *failed)
{
    struct stop_foreign f = {pid, (pid_t)syscall(SYS_gettid), atomic_load(&stop.own_tid), gen, 0, 0};
    uintptr_t tp = atomic_load(&stop.own_tp);
    if (!f.own && tp && stop.tid_off) /* started before stop_init, not run yet */
        memcpy(&f.own, (const char *)tp + stop.tid_off, sizeof f.own);
    task_each(stop_foreign_task, &f);
    *failed += f.failed;
    return f.sent;
}

#define STOP_TCB_WINDOW 8192u /* bytes below a stack's top searched for its TCB */

/* The TCB at the top of glibc thread stack [lo, hi): its first and third
 * words (tcbhead_t's tcb and self) point to itself; 0 when none is found
 * (see stop_is_thread_stack).  The window is copied first (peek.h): the
 * mapping may have changed since the maps were read.  The main thread's
 * TCB is no stack's: ld.so maps it with the static TLS in an anonymous
 * mapping that later mappings of the program (a pymalloc arena) may join,
 * and that mapping is data, its TLS a root of the main thread's. */
static uintptr_t stop_tcb_in(uintptr_t lo, uintptr_t hi)
{
    static uintptr_t win[(STOP_TCB_WINDOW + 64) / sizeof(uintptr_t)]; /* one check at a time */
    if (!stop.tcb || hi - lo < stop.tcb + 64)
        return 0;
    uintptr_t top = (hi - stop.tcb) & ~(uintptr_t)63;
    uintptr_t bottom = top > lo + STOP_TCB_WINDOW ? top - STOP_TCB_WINDOW : lo;
    bottom = (bottom + 63) & ~(uintptr_t)63;
    if (bottom > top || !peek(win, bottom, top - bottom + 3 * sizeof(uintptr_t)))
        return 0;
    for (uintptr_t p = top; p >= bottom; p -= 64) {
        const uintptr_t *w = win + (p - bottom) / sizeof(uintptr_t);
        if (w[0] == p && w[2] == p)
            return p == stop.main_tp ? 0 : p;
        if (p == bottom)
            break;
    }
    return 0;
}

/* A foreign thread that did not answer the stop (it blocks every signal,
 * as jemalloc's background threads do) left no stack pointer: its stack
 * is the glibc stack mapping whose TCB's tid word is its tid, found here
 * for every such slot in one pass over the mappings (slot lo, hi, tp). */
static void stop_unanswered_line(const struct procmaps_line *l, void *arg)
{
    uintptr_t tp;
    pid_t tid;
    /* anonymous and writable (as glibc maps a stack): no path after the
     * inode ("[vvar]" may fault when read, a file past its end too) */
    const char *perm = memchr(l->text, ' ', l->len), *end = l->text + l->len, *at = perm;
    for (int field = 0; at && field < 4; field++) {
        while (at < end && *at == ' ')
            at++;
        while (at < end && *at != ' ')
            at++;
    }
    while (at && at < end && *at == ' ')
        at++;
    if (!l->readable || !perm || end - perm < 3 || perm[2] != 'w' || at != end ||
        !(tp = stop_tcb_in(l->lo, l->hi)))
        return;
    memcpy(&tid, (const char *)tp + stop.tid_off, sizeof tid);
    int top = atomic_load(&stop.top);
    for (int i = 0; i < top; i++) {
        struct stop_slot *s = stop_slot(i);
        if (atomic_load(&s->state) == STOP_FOREIGN && !s->stopped && s->tid == tid) {
            s->lo = l->lo;
            s->hi = l->hi;
            s->tp = tp;
        }
    }
}

void stop_find_unanswered(void)
{
    static char buf[8192]; /* one check at a time */
    int top = atomic_load(&stop.top), any = 0;
    for (int i = 0; i < top; i++) {
        struct stop_slot *s = stop_slot(i);
        if (atomic_load(&s->state) == STOP_FOREIGN && !s->stopped) {
            s->lo = s->hi = s->tp = 0;
            any = 1;
        }
    }
    if (any && stop.tid_off)
        procmaps_each(buf, sizeof buf, stop_unanswered_line, NULL);
}

/* Whether [lo, hi) is a glibc thread stack, live or cached for reuse:
 * its top holds the thread's descriptor (TCB), whose first and third
 * words (tcbhead_t's tcb and self) point to itself.  A live thread's
 * stack is the stop's to scan (from its stack pointer), a dead one's is
 * no root. */
int stop_is_thread_stack(uintptr_t lo, uintptr_t hi)
{
    return stop_tcb_in(lo, hi) != 0;
}

/* The tid of the glibc thread whose stack is [lo, hi) (live or cached), 0
 * when its descriptor does not say; -1: no thread stack; STOP_STACK_SHIM:
 * the stack of a thread the shim started (its helper, the attach's
 * control thread), which holds no word of the program's. */
int stop_stack_tid(uintptr_t lo, uintptr_t hi)
{
    uintptr_t tp = stop_tcb_in(lo, hi);
    pid_t tid = 0;
    if (!tp)
        return -1;
    if (tp == atomic_load(&stop.own_tp))
        return STOP_STACK_SHIM;
    if (stop.tid_off && !peek(&tid, tp + stop.tid_off, sizeof tid))
        tid = 0;
    if (tid && (tid == atomic_load(&stop.own_tid) || tid == atomic_load(&stop.aux_tid)))
        return STOP_STACK_SHIM;
    return tid;
}
