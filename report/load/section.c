/*
 * section.c - a snapshot section's name, the one-line error that names it
 * ("section LEAKS: record 3: ..."), and the budget its decoder charges:
 * what every decoder of a section (snap_load, lset_decode, peak_decode, state_load)
 * shares, below all of them.
 *
 * The budget is what one input file may make the CLI hold: at most
 * SNAP_BUDGET_FLOOR bytes, or SNAP_BUDGET_RATIO times the file's own size
 * when that is more.  A small hostile file can declare huge sizes (a zstd
 * frame of 128 KiB blocks of one repeated byte turns 73 KB into 2 GiB; a
 * count of 0x0fffffff traces asks for gigabytes of structs), so every
 * reader charges what a section declares (its uncompressed length, its
 * count times what it allocates per item) before it inflates or allocates:
 * the refusal costs nothing and names the section.  The ratio is the
 * shim's own files' with room to spare: zstd packs the BLOCKS of a
 * program's 2.5 million equal blocks 41 times (test_bombs's
 * bombs_bound_keeps_a_real_snapshot_of_2_5m_blocks), and a bound of 16
 * times refused that file; a bomb's is in the tens of thousands.  BLOCKS
 * packed (hsnap_packed.h, format 6) compress far more: a record takes 4
 * bytes packed, and zstd packs runs of like ones ~850 times more, so the
 * 2.5 million equal blocks' file is 11.8 KB for 80 MB (~6,800 times).
 * Packed records may take past the file's allowance, up to
 * SNAP_BUDGET_PACKED times its size in all; any other section, and any
 * file too small for that to pass the floor, keeps the bound above.
 */
#include <stdarg.h>
#include <stdio.h>

#include "snap.h"

int snap_section_fail(char *err, size_t errlen, const char *section, const char *fmt, ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "section %s: %s", section, why);
    return -1;
}

const char *snap_section_name(uint32_t type)
{
    static const char *names[] = {NULL,    "META",  "MODULES",  "TRACES",
                                  "STATS", "BLOCKS", "TIMELINE", "LEAKS",
                                  "RETAINERS", "PEAK", "SITELINE", "TEMPS", "PYCODE", NULL, NULL,
                                  "SUPPRESSIONS", "FAILED", "UNLOADED", "STATE", "MAPLINE",
                                  "PYTYPES", "PYOWNED", "PYRETAIN", "PYGCFREED",
                                  "PYCAPPED", "PYUNREAD", "MAPPED", "THREADS", NULL, "HOLDERS",
                                  "INHERITED"};
    static char other[32];
    if (type < sizeof(names) / sizeof(names[0]) && names[type])
        return names[type];
    if (type == HSNAP_SEC_END)
        return "END";
    snprintf(other, sizeof(other), "type %u", type);
    return other;
}

#define SNAP_BUDGET_FLOOR (64ull << 20)
#define SNAP_BUDGET_RATIO 256u
#define SNAP_BUDGET_PACKED 8192u

void snap_budget_init(struct snap_budget *b, uint64_t file_size)
{
    uint64_t r = file_size > UINT64_MAX / SNAP_BUDGET_RATIO ? UINT64_MAX
                                                            : file_size * SNAP_BUDGET_RATIO;
    b->bound = r > SNAP_BUDGET_FLOOR ? r : SNAP_BUDGET_FLOOR;
    b->left = b->bound;
    b->packed = file_size > UINT64_MAX / SNAP_BUDGET_PACKED ? UINT64_MAX
                                                           : file_size * SNAP_BUDGET_PACKED;
    b->skip = 0; /* every section read, unless the caller says otherwise */
    b->capped = 0;
}

int snap_budget_take(struct snap_budget *b, uint64_t bytes, const char *section, char *err,
                     size_t errlen)
{
    if (!b || bytes <= b->left) {
        if (b)
            b->left -= bytes;
        return 0;
    }
    char what[48];
    if (section)
        snprintf(what, sizeof what, "section %s: ", section);
    else
        what[0] = 0;
    if (b->capped)
        snprintf(err, errlen, "%sdeclares %llu bytes, past the %llu MiB a read may cost here",
                 what, (unsigned long long)bytes, (unsigned long long)(b->bound >> 20));
    else
        snprintf(err, errlen,
                 "%sdeclares %llu bytes, past the %llu MiB this file may cost (%u times its "
                 "size, at least %llu MiB)",
                 what, (unsigned long long)bytes, (unsigned long long)(b->bound >> 20),
                 SNAP_BUDGET_RATIO, SNAP_BUDGET_FLOOR >> 20);
    return -1;
}

int snap_budget_take_packed(struct snap_budget *b, uint64_t bytes, const char *section,
                            char *err, size_t errlen)
{
    if (!b || bytes <= b->left)
        return snap_budget_take(b, bytes, section, err, errlen);
    if (bytes > b->packed) {
        snprintf(err, errlen,
                 "section %s: declares %llu bytes of packed records, past the %llu MiB this "
                 "file may cost (%u times its size)",
                 section ? section : "?", (unsigned long long)bytes,
                 (unsigned long long)(b->packed >> 20), SNAP_BUDGET_PACKED);
        return -1;
    }
    b->packed -= bytes; /* the rest keeps what is left */
    return 0;
}
