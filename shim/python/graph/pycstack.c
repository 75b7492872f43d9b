/*
 * pycstack.c - a thread's C stack as the Python objects' passes read it:
 * its live part and the function whose frame holds a word of it.
 *   Live part: a thread blocked in a system call (a C extension waiting
 * on a read, a lock's futex, Python's own waits with the GIL released)
 * has its stack pointer and pc in /proc/self/task/TID/syscall; its words
 * below that sp (less the ABI's red zone) are dead frames' slots, stale
 * pointers that kept objects alive falsely (a garbage cycle read as held
 * by "C stack of thread TID", a leaked reference's count matched).  A
 * thread that runs, or whose file cannot be read, is scanned whole.  The
 * file is read with raw open/read, no allocation.
 *   Frame: the nearest word below the object's word that is a return
 * address (it follows a call instruction and lies in a loaded module)
 * points into the function whose frame holds the word; none down to the
 * live part's start: the innermost frame, the thread's pc.  A stale
 * return address left in a frame's uninitialised slot can name a callee
 * instead: the naming is a hint (the CLI symbolizes it), never a count.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pygraph.h"
#include "leak.h"
#include "peek.h"

#define PYCS_REDZONE 128        /* below sp, the x86-64 ABI's red zone */
#define PYCS_SEARCH (64u << 10) /* bytes below a word searched for a return address */

/* The hex number at s (its 0x optional). */
static uintptr_t pycs_hex(const char *s)
{
    uintptr_t v = 0;
    if (s[0] == '0' && s[1] == 'x')
        s += 2;
    for (;; s++) {
        unsigned d = *s >= '0' && *s <= '9' ? (unsigned)(*s - '0')
                   : *s >= 'a' && *s <= 'f' ? (unsigned)(*s - 'a' + 10) : 16u;
        if (d == 16)
            return v;
        v = v << 4 | d;
    }
}

/* Thread tid's stack pointer and pc as /proc/self/task/TID/syscall gives
 * them: 1 when it is blocked (in a call or outside one), else 0. */
static int pycs_read(int tid, uintptr_t *sp, uintptr_t *pc)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0 || buf[0] == 'r') /* "running": its sp moves */
        return 0;
    buf[n] = 0;
    /* "NR A1 .. A6 SP PC" in a call, "-1 SP PC" blocked outside one */
    char *sp_at = NULL, *pc_at = NULL;
    for (char *s = buf; *s; s++)
        if (*s == ' ')
            sp_at = pc_at, pc_at = s + 1;
    if (!sp_at)
        return 0;
    *sp = pycs_hex(sp_at), *pc = pycs_hex(pc_at);
    return 1;
}

/* A thread the leak check's stop held is resumed before the Python passes
 * read it, and may not be back where it was stopped yet: still in the
 * stop's signal handler (its frame holds the saved registers, a copy a
 * scan would name "in stop_on_signal"), or on its way back to its call
 * (running: scanned whole, the old signal frame's copy with it).  One
 * that was blocked in a call when stopped (its kept pc at or just past a
 * syscall instruction) is given up to PYCS_SETTLE_TRIES milliseconds to
 * get back (all of a stop's threads share one budget, stop_kept_settle);
 * one that went on elsewhere meanwhile is read where it is, and one that
 * ran when stopped is not waited for. */
#define PYCS_SETTLE_TRIES 50

/* Whether pc is at, or just past, a syscall instruction (0f 05). */
static int pycs_at_syscall(uintptr_t pc)
{
    uint8_t b[4];
    return pc > 4096 && peek(b, pc - 2, sizeof b) &&
           ((b[0] == 0x0f && b[1] == 0x05) || (b[2] == 0x0f && b[3] == 0x05));
}

int pyg_cstack_live(int tid, uintptr_t lo, uintptr_t hi, uintptr_t *from, uintptr_t *pc)
{
    uintptr_t sp = 0;
    *from = lo, *pc = 0;
    if (tid <= 0)
        return 0;
    uintptr_t kept_pc, kept = stop_kept_sp(tid, &kept_pc);
    if (kept && !pycs_at_syscall(kept_pc))
        kept = 0;
    int blocked = pycs_read(tid, &sp, pc);
    for (int t = 0; kept && (!blocked || sp != kept) && t < PYCS_SETTLE_TRIES && stop_kept_settle();
         t++) {
        const struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        blocked = pycs_read(tid, &sp, pc);
    }
    if (!blocked)
        return *pc = 0, 0;
    if (sp < lo + PYCS_REDZONE || sp >= hi)
        return *pc = 0, 0; /* on an alternate signal stack, or not this stack */
    *from = (sp - PYCS_REDZONE) & ~(uintptr_t)7;
    return 1;
}

const uintptr_t *pyg_cstack_regs(int tid, uintptr_t from, uintptr_t pc, size_t *n)
{
    return stop_kept_regs(tid, from + PYCS_REDZONE, pc, n);
}

/* Whether w reads as a return address: a call instruction ends at it
 * (e8 rel32; ff /2 in its 2- to 7-byte forms, a REX prefix's too) and it
 * lies in a loaded module. */
static int pycs_return_address(uintptr_t w)
{
    uint8_t b[8];
    if (w < 4096 || w >> 47 || !peek(b, w - 8, sizeof b))
        return 0;
    int call = b[3] == 0xe8;
    for (int len = 2; !call && len <= 7; len++) {
        uint8_t op = b[8 - len], modrm = b[8 - len + 1];
        call = op == 0xff && (modrm & 0x38) == 0x10;
    }
    if (!call)
        return 0;
    Dl_info di;
    loader_enter();
    int in = dladdr((void *)w, &di) != 0;
    loader_leave();
    return in;
}

uintptr_t pyg_cstack_frame_pc(uintptr_t at, uintptr_t from, uintptr_t pc)
{
    uintptr_t buf[64];
    uintptr_t stop = at - from > PYCS_SEARCH ? at - PYCS_SEARCH : from;
    for (uintptr_t hi = at; hi > stop;) {
        uintptr_t lo = hi - stop > sizeof buf ? hi - sizeof buf : stop;
        if (!peek(buf, lo, hi - lo))
            return 0;
        for (size_t k = (hi - lo) / 8; k-- > 0;)
            if (pycs_return_address(buf[k]))
                return buf[k];
        hi = lo;
    }
    return stop == from ? pc : 0;
}
