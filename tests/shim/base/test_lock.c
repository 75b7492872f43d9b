// link: shim/base/lock.c
/*
 * test_lock.c - the fatal path's bounded lock attempt: after its tries it
 * gives up, unless the thread was made patient (lock_be_patient), when it
 * waits for another thread's holder up to the deadline and no longer.
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "base.h"
#include "unit.h"

static lock_t held;
static atomic_int holding, release;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Takes the lock, holds it for arg ms (0: until let_go), lets go.  A
 * holder the test lets go itself keeps the lock however long a busy
 * machine keeps the test from running: one that went by the clock could
 * let go before the test even tried, and the test then took the lock. */
static void *holder(void *arg)
{
    lock_take(&held);
    atomic_store(&holding, 1);
    long n = (long)(intptr_t)arg;
    struct timespec ms = {n / 1000, n % 1000 * 1000000L}, tick = {0, 1000000L};
    if (n)
        nanosleep(&ms, NULL);
    else
        while (!atomic_load(&release))
            nanosleep(&tick, NULL);
    lock_drop(&held);
    return NULL;
}

static pthread_t hold_for(long ms)
{
    pthread_t t;
    atomic_store(&holding, 0);
    atomic_store(&release, 0);
    pthread_create(&t, NULL, holder, (void *)(intptr_t)ms);
    while (!atomic_load(&holding))
        sched_yield();
    return t;
}

/* The holder of hold_for(0) lets go and ends. */
static void let_go(pthread_t t)
{
    atomic_store(&release, 1);
    pthread_join(t, NULL);
}

TEST_BEGIN(bounded_gives_up_on_a_held_lock_when_not_patient)
    pthread_t t = hold_for(0);
    int got = lock_take_bounded(&held, 2000);
    if (got) /* never, but a lock left taken would stop every case after */
        lock_drop(&held);
    let_go(t);
    expect_true(!got, "took a lock another thread held");
TEST_END

TEST_BEGIN(patient_waits_for_the_holder_to_let_go)
    pthread_t t = hold_for(100);
    uint64_t t0 = now_ms();
    lock_be_patient(2000000000ull);
    int got = lock_take_bounded(&held, 2000);
    lock_be_patient(0);
    uint64_t waited = now_ms() - t0;
    if (got)
        lock_drop(&held);
    pthread_join(t, NULL);
    expect_true(got, "gave up after %llu ms on a lock held for 100 ms", (unsigned long long)waited);
    expect_true(lock_patient_until == 0, "still patient after lock_be_patient(0)");
TEST_END

TEST_BEGIN(patient_gives_up_at_its_deadline)
    pthread_t t = hold_for(0);
    uint64_t t0 = now_ms();
    lock_be_patient(100000000ull); /* 100 ms */
    int got = lock_take_bounded(&held, 10);
    lock_be_patient(0);
    uint64_t waited = now_ms() - t0;
    if (got)
        lock_drop(&held);
    let_go(t);
    expect_true(!got, "took a lock held to the end with 100 ms of patience");
    /* not waiting for the holder, which lets go only after: a busy
     * machine may keep the test off the processor well past the 100 ms */
    expect_true(waited >= 100 && waited < 10000, "waited %llu ms with 100 ms of patience",
                (unsigned long long)waited);
TEST_END

int main(void)
{
    bounded_gives_up_on_a_held_lock_when_not_patient();
    patient_waits_for_the_holder_to_let_go();
    patient_gives_up_at_its_deadline();
    return 0;
}
