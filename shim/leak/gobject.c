/*
 * gobject.c - GObject's blocks, whose pointers aim past a header by design.
 *
 * GLib's type system hands the program a pointer into the middle of the
 * block it allocated: a fundamental type's node sits after its
 * TypeFundamentalInfo (static_fundamental_type_nodes holds block + 8), a
 * closure after its GRealClosure header, an instance after its private
 * data, and GSlice's chunks inside their slab.  Those interior pointers are
 * the ones the program uses; GLib itself tells memcheck so, with
 * VALGRIND_MALLOCLIKE_BLOCK on the object's part (type_node_any_new_W,
 * g_type_create_instance, g_closure_new_simple) and GSlice's always-malloc
 * when RUNNING_ON_VALGRIND, which is why memcheck
 * calls them reachable and LeakSanitizer (every interior pointer counts)
 * does too.  So a block allocated for libgobject (the first frame of its
 * stack outside libglib, whose g_malloc, g_slice_alloc and lists are the
 * allocation path, lies in libgobject-2.0) takes any reference into it as
 * a start reference (MODEL_START_ANY); every other block keeps Valgrind's
 * rule.  Modules are recognised by name in roots' module walk, before the
 * stop (gobj_note); the marks are set per trace once, then per block.
 */
#include <link.h>
#include <string.h>

#include "leakinner.h"

#define GOBJ_DEPTH 32u /* frames of a trace looked at */

static struct {
    uintptr_t glib_lo, glib_hi;     /* libglib-2.0's PT_LOADs, or 0 */
    uintptr_t gobj_lo, gobj_hi;     /* libgobject-2.0's */
} gobj;

static void gobj_range(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi)
{
    *lo = UINTPTR_MAX;
    *hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type != PT_LOAD)
            continue;
        *lo = a < *lo ? a : *lo;
        *hi = a + ph->p_memsz > *hi ? a + ph->p_memsz : *hi;
    }
}

void gobj_reset(void)
{
    memset(&gobj, 0, sizeof gobj);
}

/* One loaded module (roots' dl_iterate_phdr walk): GLib's two noted. */
void gobj_note(const struct dl_phdr_info *info)
{
    const char *base = strrchr(info->dlpi_name, '/');
    base = base ? base + 1 : info->dlpi_name;
    if (!strncmp(base, "libglib-2.0.so", 14))
        gobj_range(info, &gobj.glib_lo, &gobj.glib_hi);
    else if (!strncmp(base, "libgobject-2.0.so", 17))
        gobj_range(info, &gobj.gobj_lo, &gobj.gobj_hi);
}

/* Whether the stack ip[0, n) (innermost first) allocated for libgobject. */
static int gobj_trace(const uintptr_t *ip, unsigned n)
{
    unsigned i = 0;
    while (i < n && ip[i] >= gobj.glib_lo && ip[i] < gobj.glib_hi)
        i++;
    return i < n && ip[i] >= gobj.gobj_lo && ip[i] < gobj.gobj_hi;
}

/* gobj_trace on the frames shown; more asked for while every one is
 * GLib's and the stack has more within GOBJ_DEPTH. */
static int gobj_pick(const uintptr_t *ip, unsigned n, unsigned depth, unsigned flags, void *arg)
{
    unsigned m = n < GOBJ_DEPTH ? n : GOBJ_DEPTH, i = 0;
    while (i < m && ip[i] >= gobj.glib_lo && ip[i] < gobj.glib_hi)
        i++;
    if (i == m && m < depth && m < GOBJ_DEPTH)
        return TRACE_PICK_MORE;
    return gobj_trace(ip, m);
}

int gobj_job(struct trace_pick_job *j, struct trace_pick *out)
{
    if (!gobj.gobj_hi)
        return 0;
    *j = (struct trace_pick_job){gobj_pick, NULL, GOBJ_DEPTH, out};
    return 1;
}

/* Marks b[0, n)'s blocks allocated for libgobject (s: gobj_job's answers)
 * MODEL_START_ANY (in reserved, which the caller clears after the model);
 * how many. */
uint64_t gobj_mark(struct hsnap_block *b, uint64_t n, const struct trace_pick *s)
{
    uint64_t marked = 0;
    for (uint64_t i = 0; s->nt && i < n; i++)
        if (trace_picked(s, b[i].trace)) {
            b[i].reserved = MODEL_START_ANY;
            marked++;
        }
    return marked;
}
