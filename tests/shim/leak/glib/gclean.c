/*
 * gclean.c - a clean GObject program: a type of its own with private data,
 * an instance with a signal handler (a closure), a GHashTable, a GSList
 * (GSlice's chunks), all released.  What stays is GLib's own: its type
 * system (fundamental type nodes, classes, the signal table), reached
 * through the pointers GLib uses, which aim past a header.
 * Known answer (heapsnap run --leaks; memcheck agrees, docs/leaks.md):
 *   direct, indirect, cycle, possibly lost: 0; still reachable: GLib's.
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

static void on_notify(GObject *o, GParamSpec *s, gpointer d) { (void)o; (void)s; (void)d; }

int main(void)
{
    GcThing *t = g_object_new(GC_TYPE_THING, NULL);
    g_signal_connect(t, "notify", G_CALLBACK(on_notify), NULL);
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert(h, g_strdup("a"), t);
    GSList *l = g_slist_prepend(NULL, t);
    g_slist_free(l);
    g_hash_table_destroy(h);
    g_object_unref(t);
    return 0;
}
