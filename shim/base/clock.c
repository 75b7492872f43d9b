/*
 * clock.c - the shim's clocks: wall and monotonic time, and the moment
 * recording started (life.c's start-up sets it once, before any thread of
 * the shim runs; it is read without a lock after that).
 */
#include <time.h>

#include "base.h"

static struct {
    uint64_t start_ns;   /* CLOCK_REALTIME at start-up */
    uint64_t start_mono; /* CLOCK_MONOTONIC at start-up */
} clk;

static uint64_t life_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t clock_now_ns(void)
{
    return life_clock(CLOCK_REALTIME);
}

uint64_t clock_mono_ns(void)
{
    return life_clock(CLOCK_MONOTONIC);
}

uint64_t clock_uptime_ns(uint64_t mono)
{
    return mono > clk.start_mono ? mono - clk.start_mono : 0;
}

uint64_t clock_start_ns(void)
{
    return clk.start_ns;
}

void clock_start(void)
{
    clk.start_ns = clock_now_ns();
    clk.start_mono = clock_mono_ns();
}

/* Recording started late: the shim was loaded into a running process by
 * heapsnap attach, so the start time above is the attach's. */
static int clk_late;

void clock_mark_late(void)
{
    clk_late = 1;
}

int clock_is_late(void)
{
    return clk_late;
}
