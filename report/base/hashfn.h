/*
 * hashfn.h - the CLI's uthash, with a hash that takes a word a step.
 *
 * Include this instead of <uthash.h>.  The frame tables key on arrays of
 * pointers and identifiers hundreds of bytes long (a stack of 50 frames is
 * 400 bytes), and uthash's default (Jenkins) mixes 12 bytes a round: the
 * hashing was a large part of `run`'s summary.  This one multiplies a
 * word at a time (the finaliser is MurmurHash3's fmix64), seeded per process
 * from the kernel's random bytes, so a hostile snapshot cannot lay out its
 * stacks to collide: uthash's own bucket expansion stays the bound.
 */
#ifndef REPORT_HASHFN_H
#define REPORT_HASHFN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

/* Each file that includes this has its own seed, set before main (a
 * header alone: nothing more to link); a fixed one when the kernel has
 * no random bytes to give (the hash stays right, only guessable). */
static uint64_t hashfn_seed = 0x2545f4914f6cdd1dull;

__attribute__((constructor)) static void hashfn_seed_init(void)
{
    uint64_t s;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) == (ssize_t)sizeof s)
        hashfn_seed = s;
}

/* The whole 64 bits (hidx.h's tables compare them); uthash takes the low 32. */
static inline uint64_t hashfn_bytes64(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = hashfn_seed ^ (len * 0x9e3779b97f4a7c15ull), w;
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    if (len) {
        w = 0;
        memcpy(&w, p, len);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
    }
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static inline unsigned hashfn_bytes(const void *key, size_t len)
{
    return (unsigned)hashfn_bytes64(key, len);
}

#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = hashfn_bytes((keyptr), (size_t)(keylen)))
#include <uthash.h>

#endif
