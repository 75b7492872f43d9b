/*
 * gleak.c - the GObject rule does not hide the program's own leaks.  One
 * GcThing (private data before the instance: its block starts 48 bytes
 * before the pointer g_object_new returns) is dropped; a g_malloc'd
 * buffer is kept only through a pointer 8 bytes into it.
 * Known answer (heapsnap run --leaks; memcheck agrees, docs/leaks.md):
 *   direct: the GcThing's block, 72 bytes in 1 blocks (48 private + 24)
 *   possibly lost: 64 bytes in 1 blocks at gleak.c:44 (g_malloc, not GObject's)
 *   indirect, cycle: 0
 */
#include <glib-object.h>

#define GC_TYPE_THING (gc_thing_get_type())
G_DECLARE_FINAL_TYPE(GcThing, gc_thing, GC, THING, GObject)
struct _GcThing {
    GObject parent;
    int n;
};
typedef struct {
    char name[40];
} GcThingPrivate;
G_DEFINE_TYPE_WITH_PRIVATE(GcThing, gc_thing, G_TYPE_OBJECT)

static void gc_thing_class_init(GcThingClass *k) { (void)k; }
static void gc_thing_init(GcThing *t)
{
    GcThingPrivate *p = gc_thing_get_instance_private(t);
    p->name[0] = 'x';
    t->n = 1;
}

static char *volatile inside; /* aims 8 bytes into its block */

static void __attribute__((noinline)) drop(void)
{
    GcThing *volatile t = g_object_new(GC_TYPE_THING, NULL);
    t->n = 2;
    t = NULL;
}

int main(void)
{
    drop();
    char *buf = g_malloc(64);
    inside = buf + 8;
    return 0;
}
