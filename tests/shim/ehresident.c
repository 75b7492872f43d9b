/*
 * ehresident.c - how much of the unwind tables stays resident once the
 * stacks are known (test_footprint.sh).  It allocates from a thread and
 * from main, so the shim's walks step through libc's frames (start_thread,
 * __libc_start_call_main) and read libc's .eh_frame_hdr and .eh_frame,
 * then waits, and prints from its own page table (/proc/self/pagemap's
 * present bits) the KiB resident of:
 *   libc_eh_kb   libc's tables: from the first page boundary after its
 *                PT_GNU_EH_FRAME to the end of the PT_LOAD holding it
 *   lzma_text_kb liblzma's executable segment (-1: not loaded)
 * It looks again every 100 ms, up to 3 s, until both are 0, and prints the
 * last figures.  No malloc while it looks: a new call site would be a new
 * walk, and a new lookup in those tables.
 *
 * With "poke" it first writes a byte into liblzma's text (as a debugger's
 * breakpoint would: a page of its own) and prints "poke_kept 1" when the
 * byte is still there after the wait: that segment is not given back.
 *
 * Usage: ehresident        prints "libc_eh_kb N" and "lzma_text_kb N".
 *        ehresident poke   also "poke_kept 0|1" (-1: no liblzma).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int pagemap = -1;

static void *ehresident_thread(void *arg)
{
    for (int i = 0; i < 1000; i++)
        free(malloc(32 + (size_t)(i % 5) * 16));
    return arg;
}

/* KiB of [a, b) present in this process's page table. */
static long ehresident_kb(uintptr_t a, uintptr_t b)
{
    long kb = 0;
    a = (a + 4095) & ~(uintptr_t)4095;
    for (uintptr_t p = a; p + 4096 <= b; p += 4096) {
        uint64_t e = 0;
        if (pread(pagemap, &e, sizeof e, (off_t)(p / 4096 * 8)) != sizeof e)
            return -2;
        kb += (e >> 63) ? 4 : 0;
    }
    return kb;
}

struct ehresident_found {
    long libc_eh, lzma_text;
    unsigned char *lzma_at;       /* liblzma's first page of text */
};

static int ehresident_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct ehresident_found *f = arg;
    (void)size;
    const char *name = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
    int libc = name && strncmp(name, "/libc.so", 8) == 0;
    int lzma = name && strncmp(name, "/liblzma.so", 11) == 0;
    uintptr_t eh = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_EH_FRAME)
            eh = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type != PT_LOAD)
            continue;
        if (libc && eh && eh - lo < ph->p_filesz)
            f->libc_eh = ehresident_kb(eh, lo + ph->p_filesz);
        if (lzma && (ph->p_flags & PF_X)) {
            f->lzma_text = ehresident_kb(lo, lo + ph->p_filesz);
            f->lzma_at = (unsigned char *)((lo + 4095) & ~(uintptr_t)4095);
        }
    }
    return 0;
}

/* Writes ~byte over the first byte of liblzma's text; its address, or NULL. */
static unsigned char *ehresident_poke(void)
{
    struct ehresident_found f = {-1, -1, NULL};
    dl_iterate_phdr(ehresident_module, &f);
    if (!f.lzma_at || mprotect(f.lzma_at, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) != 0)
        return NULL;
    f.lzma_at[0] = (unsigned char)~f.lzma_at[0];
    mprotect(f.lzma_at, 4096, PROT_READ | PROT_EXEC);
    return f.lzma_at;
}

int main(int argc, char **argv)
{
    unsigned char *poked = NULL, was = 0;
    if (argc > 1 && strcmp(argv[1], "poke") == 0 && (poked = ehresident_poke()) != NULL)
        was = poked[0];
    pthread_t t;
    if (pthread_create(&t, NULL, ehresident_thread, NULL) != 0)
        return 1;
    pthread_join(t, NULL);
    for (int i = 0; i < 1000; i++)
        free(malloc(48 + (size_t)(i % 3) * 16));
    pagemap = open("/proc/self/pagemap", O_RDONLY);
    struct ehresident_found f = {-1, -1, NULL};
    for (int tries = 0; tries < 30; tries++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        f = (struct ehresident_found){-1, -1, NULL};
        dl_iterate_phdr(ehresident_module, &f);
        if (f.libc_eh <= 0 && (f.lzma_text <= 0 || (poked && tries >= 5)))
            break;
    }
    printf("libc_eh_kb %ld\nlzma_text_kb %ld\n", f.libc_eh, f.lzma_text);
    if (argc > 1)
        printf("poke_kept %d\n", poked ? poked[0] == was : -1);
    return 0;
}
