/*
 * boot.c - the bootstrap buffer: what the hooks serve before the real
 * allocator is known (hook_init resolves it by dlsym, which may
 * allocate) or while another thread resolves it.  A bump allocator over a
 * static 256 KiB: each block has its size in the 16 bytes before it, is
 * zero (the buffer is never reused), and is never freed - free ignores
 * it, realloc moves it to the real heap, malloc_usable_size reads its size
 * (boot_has, record.h: one compare).  Its address is pinned in the presence
 * filter, so that a sampled free's fast path never passes it on to the
 * real free.
 */
#include <string.h>

#include "record.h"

#define BOOT_HDR 16u

_Alignas(64) char boot_buf[BOOT_SIZE];
static atomic_size_t boot_used;

size_t boot_size(const void *p)
{
    size_t n;
    memcpy(&n, (const char *)p - sizeof n, sizeof n);
    return n;
}

/* n bytes aligned to align (at least 16); NULL when the buffer is full. */
void *boot_alloc(size_t n, size_t align)
{
    if (align < BOOT_HDR)
        align = BOOT_HDR;
    size_t need = n + BOOT_HDR + align;
    if (n > BOOT_SIZE)
        return NULL;
    size_t off = atomic_fetch_add(&boot_used, need);
    if (off + need > BOOT_SIZE)
        return NULL;
    uintptr_t p = (uintptr_t)boot_buf + off + BOOT_HDR;
    p = (p + align - 1) & ~(uintptr_t)(align - 1);
    memcpy((char *)p - sizeof n, &n, sizeof n);
    tbl_filter_pin((void *)p); /* a sampled free's fast path must not pass it on */
    return (void *)p;
}
