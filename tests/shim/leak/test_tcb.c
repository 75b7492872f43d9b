// link: shim/leak/foreign.c shim/base/peek.c
/*
 * test_tcb.c - which mappings are thread stacks (foreign.c's TCB test,
 * stop_is_thread_stack and stop_stack_tid), on synthetic mappings: a TCB
 * (two words pointing to it) near the top names a glibc stack and its
 * tid word the thread; the main thread's TCB, which ld.so maps beside the
 * static TLS with no stack around it, names none (a program's mapping
 * merged with that one is data to scan, not a stack to skip); a thread of
 * the shim's own has its stack told apart (STOP_STACK_SHIM).
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "leakinner.h"
#include "leak.h"
#include "stopslot.h"
#include "unit.h"

/* What foreign.c needs of the rest of the room, none of it reached here. */
struct stop_registry stop;
struct stop_slot *stop_take(void) { return NULL; }
void stop_give(struct stop_slot *s, int state) { (void)s, (void)state; }
uintptr_t *stop_vec_area(const struct stop_slot *s) { (void)s; return NULL; }
int stop_grow(void) { return -1; }
int task_dead(pid_t tid) { (void)tid; return 0; }
int task_each(void (*fn)(pid_t tid, void *arg), void *arg) { (void)fn, (void)arg; return 0; }

#define expect_tid(got, want) expect_eq_u64((uint64_t)(int64_t)(got), (uint64_t)(int64_t)(want))

#define MAP_LEN (64u * 1024u)
#define TCB 2304u   /* a struct pthread's size, as _thread_db_sizeof_pthread says */
#define TID_OFF 720u

static char *map;

/* A mapping whose TCB sits below bytes under its top, holding tid. */
static uintptr_t tcb_at(size_t below, pid_t tid)
{
    memset(map, 0, MAP_LEN);
    uintptr_t p = ((uintptr_t)map + MAP_LEN - below) & ~(uintptr_t)63;
    ((uintptr_t *)p)[0] = p;
    ((uintptr_t *)p)[2] = p;
    memcpy((char *)p + TID_OFF, &tid, sizeof tid);
    return p;
}

static void reset(void)
{
    memset(&stop, 0, sizeof stop);
    stop.tcb = TCB;
    stop.tid_off = TID_OFF;
}

TEST_BEGIN(a_tcb_near_the_top_is_a_thread_stack)
    reset();
    tcb_at(TCB + 128, 4242);
    uintptr_t lo = (uintptr_t)map, hi = lo + MAP_LEN;
    expect_true(stop_is_thread_stack(lo, hi), "a TCB near the top is no stack");
    expect_tid(stop_stack_tid(lo, hi), 4242);
TEST_END

TEST_BEGIN(no_tcb_is_no_stack)
    reset();
    memset(map, 0, MAP_LEN);
    uintptr_t lo = (uintptr_t)map, hi = lo + MAP_LEN;
    expect_true(!stop_is_thread_stack(lo, hi), "a mapping of zeros is a stack");
    expect_tid(stop_stack_tid(lo, hi), -1);
TEST_END

TEST_BEGIN(the_main_threads_tcb_is_no_stack)
    reset();
    stop.main_tp = tcb_at(TCB + 128, getpid());
    uintptr_t lo = (uintptr_t)map, hi = lo + MAP_LEN;
    expect_true(!stop_is_thread_stack(lo, hi), "the main thread's TLS mapping is a stack");
    expect_tid(stop_stack_tid(lo, hi), -1);
TEST_END

TEST_BEGIN(a_shim_threads_stack_is_told_apart)
    reset();
    uintptr_t lo = (uintptr_t)map, hi = lo + MAP_LEN;
    atomic_store(&stop.own_tp, tcb_at(TCB + 128, 4243));
    expect_tid(stop_stack_tid(lo, hi), STOP_STACK_SHIM);
    atomic_store(&stop.own_tp, 0);
    atomic_store(&stop.own_tid, 4243);
    expect_tid(stop_stack_tid(lo, hi), STOP_STACK_SHIM);
    atomic_store(&stop.own_tid, 0);
    atomic_store(&stop.aux_tid, 4243);
    expect_tid(stop_stack_tid(lo, hi), STOP_STACK_SHIM);
    expect_true(stop_is_thread_stack(lo, hi), "the shim's thread's stack is no stack");
TEST_END

int main(void)
{
    map = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return 1;
    a_tcb_near_the_top_is_a_thread_stack();
    no_tcb_is_no_stack();
    the_main_threads_tcb_is_no_stack();
    a_shim_threads_stack_is_told_apart();
    return 0;
}
