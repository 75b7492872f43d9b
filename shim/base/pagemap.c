/*
 * pagemap.c - /proc/self/pagemap read for whether a page was written
 * (pagemap.h): its entries in windows, and the check that its flags are
 * not hidden.  System calls only (open, pread): no allocation.
 */
#include "pagemap.h"

#include <fcntl.h>
#include <unistd.h>

void pagemap_open(struct pagemap *pm)
{
    volatile uint64_t here = 1; /* a page of this stack, written by now */
    pm->n = 0;
    pm->fd1 = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC) + 1;
    if (pm->fd1 && pagemap_written(pm, (uintptr_t)&here, (uintptr_t)&here) != 1)
        pagemap_close(pm);
    pm->n = 0;
}

void pagemap_close(struct pagemap *pm)
{
    if (pm->fd1)
        close(pm->fd1 - 1);
    pm->fd1 = 0;
    pm->n = 0;
}

int pagemap_written(struct pagemap *pm, uintptr_t p, uintptr_t far)
{
    uint64_t pg = p / PAGEMAP_PAGE, end = far / PAGEMAP_PAGE;
    if (!pm->fd1)
        return -1;
    if (pg - pm->first >= pm->n) {
        int down = end < pg;
        uint64_t lo = down ? (pg - end >= PAGEMAP_BATCH ? pg - (PAGEMAP_BATCH - 1) : end) : pg;
        uint64_t n = down ? pg - lo + 1
                          : (end - pg >= PAGEMAP_BATCH ? PAGEMAP_BATCH : end - pg + 1);
        ssize_t got = pread(pm->fd1 - 1, pm->e, n * 8, (off_t)(lo * 8));
        pm->first = lo;
        pm->n = got > 0 ? (uint64_t)got / 8 : 0;
        if (pg - pm->first >= pm->n)
            return -1;
    }
    uint64_t e = pm->e[pg - pm->first];
    int present = e >> 63 & 1, swapped = e >> 62 & 1, file = e >> 61 & 1;
    return swapped || (present && !file);
}

int pagemap_piece(struct pagemap *pm, uintptr_t *at, uintptr_t hi, unsigned gap, uintptr_t *lo,
                  uintptr_t *end)
{
    uintptr_t p = *at & ~(uintptr_t)(PAGEMAP_PAGE - 1);
    unsigned run = 0;
    int open = 0;
    for (; p < hi; p += PAGEMAP_PAGE) {
        if (pagemap_written(pm, p, hi - 1) == 0) { /* never written */
            if (open && ++run >= gap) {
                p += PAGEMAP_PAGE;
                break;
            }
            continue;
        }
        run = 0;
        if (!open) {
            *lo = p < *at ? *at : p;
            open = 1;
        }
        *end = p + PAGEMAP_PAGE < hi ? p + PAGEMAP_PAGE : hi;
    }
    *at = p;
    return open;
}
