/*
 * selfbuf.c - structs whose pointer aims at their own buffer
 * (`s->p = s->buf`, an interior self-reference, the shape of every C++
 * object holding a short std::string).  One is lost on its own: a direct
 * leak.  Another is owned by a lost holder: indirect, and the holder is
 * the direct leak.  No cycle: a block that points only into itself is not
 * one (memcheck: definitely lost 48 in 2, indirectly lost 32 in 1).
 *
 * Expected:
 *   direct:   32 bytes in 1 blocks at selfbuf.c:33 (the lone struct)
 *             16 bytes in 1 blocks at selfbuf.c:36 (the holder)
 *   indirect: 32 bytes in 1 blocks (the held struct, selfbuf.c:37)
 *   record:   direct 32 + 0 indirect; direct 16 + 32 indirect
 *   cycle, possibly lost, suppressed: 0; still reachable: runtime only
 */
#include <stdlib.h>
#include <string.h>

#include "leakfix.h"

struct sb { char *p; char buf[24]; };        /* 32 bytes */
struct holder { struct sb *s; long pad; };  /* 16 bytes */
static void *volatile sink;

static LF_NOINLINE void point_home(struct sb *s)
{
    s->p = s->buf;
    strcpy(s->buf, "short");
}

static LF_NOINLINE void build(void)
{
    struct sb *lone = malloc(sizeof(*lone));
    point_home(lone);
    sink = lone;
    struct holder *h = calloc(1, sizeof(*h));
    h->s = malloc(sizeof(*h->s));
    point_home(h->s);
    sink = h;
    sink = NULL;
    lone = NULL;
    h = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
