/*
 * keptregs.c - the stopped threads' registers kept past the resume, for
 * the Python objects' pass that follows a leak check (pyleakref.c's word
 * counts, pyroots.c's C stack roots): a reference a thread blocked in a
 * system call holds only in a callee-saved register is in no memory the
 * pass reads, and the threads run again by then.  stop_resume copies each
 * answered slot's tid, stack pointer, pc and general registers into a
 * mapping of the shim's own (no malloc; grown by arena_remap, kept), and
 * stop_kept_regs hands a thread's out only while it still waits where it
 * was stopped: the same stack pointer, the pc the same or just past the
 * syscall instruction (a restarted call's is rewound by its 2 bytes).  A
 * thread woken meanwhile, or one that ran when stopped and is not blocked
 * at that very place now, gets none.  The pass drops them (stop_kept_drop)
 * once heard, so a later snapshot without a check never reads old ones.
 */
#include <string.h>
#include <ucontext.h>

#include "leakinner.h"
#include "stopslot.h"

struct kept_regs {
    pid_t tid;
    uintptr_t sp, pc;
    uintptr_t regs[NGREG];
};

#define KR_SETTLE_MS 200 /* stop_kept_settle's budget a stop, all threads together */

static struct {
    struct kept_regs *k;
    uint32_t n, cap; /* entries kept, room */
    int settle_ms;   /* what is left of KR_SETTLE_MS */
} kr;

/* Registry lock held (stop_resume): every answered slot's registers. */
void stop_keep_regs(void)
{
    int top = atomic_load(&stop.top);
    kr.n = 0;
    kr.settle_ms = KR_SETTLE_MS;
    for (int i = 0; i < top; i++) {
        struct stop_slot *s = stop_slot(i);
        int st = atomic_load(&s->state);
        if ((st != STOP_LIVE && st != STOP_FOREIGN) || !s->stopped || !s->tid)
            continue;
        if (kr.n == kr.cap) {
            uint32_t want = kr.cap ? kr.cap * 2 : 64;
            void *p = kr.k ? arena_remap(kr.k, kr.cap * sizeof *kr.k, want * sizeof *kr.k)
                           : arena_map(want * sizeof *kr.k);
            if (!p)
                return; /* the threads so far kept */
            kr.k = p, kr.cap = want;
        }
        struct kept_regs *k = &kr.k[kr.n++];
        k->tid = s->tid, k->sp = s->sp, k->pc = s->regs[REG_RIP];
        memcpy(k->regs, s->regs, sizeof k->regs);
    }
}

const uintptr_t *stop_kept_regs(int tid, uintptr_t sp, uintptr_t pc, size_t *n)
{
    for (uint32_t i = 0; i < kr.n; i++) {
        const struct kept_regs *k = &kr.k[i];
        if (k->tid == tid && k->sp == sp && sp && (pc == k->pc || pc == k->pc + 2)) {
            *n = NGREG;
            return k->regs;
        }
    }
    return NULL;
}

uintptr_t stop_kept_sp(int tid, uintptr_t *pc)
{
    for (uint32_t i = 0; i < kr.n; i++)
        if (kr.k[i].tid == tid)
            return *pc = kr.k[i].pc, kr.k[i].sp;
    return *pc = 0, 0;
}

int stop_kept_settle(void)
{
    return kr.settle_ms > 0 ? kr.settle_ms--, 1 : 0;
}

void stop_kept_drop(void)
{
    kr.n = 0;
}
