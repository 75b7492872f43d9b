/*
 * hashfn.c - hashfn.h's per-process seed, from getrandom(2) before main;
 * a fixed one when the kernel has none to give (the hash stays right,
 * only guessable).
 */
#include <sys/random.h>

#include "hashfn.h"

uint64_t hashfn_seed = 0x2545f4914f6cdd1dull;

__attribute__((constructor)) static void hashfn_seed_init(void)
{
    uint64_t s;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) == (ssize_t)sizeof s)
        hashfn_seed = s;
}
