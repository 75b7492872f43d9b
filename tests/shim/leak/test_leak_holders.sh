# tests/shim/leak/test_leak_holders.sh - `leaks --why SITE` block by block
# (the HOLDERS section): each block of a site says what its class rests
# on, its root named as the program's developer names it.  The fixture
# (written below) knows every answer from its source:
#   holders.c:L_ITEMS  64 B kept by g_items, a global of libitems.so
#                      (stripped: the name comes from .dynsym)
#   holders.c:L_STACK  48 B kept only on the stack of a thread named "keeper"
#   holders.c:L_TLS    40 B kept by t_cache, a __thread variable of the program
#   holders.c:L_RING   56 B kept only by g_ring = block + 24 (possibly lost:
#                      "+24 into it, from g_ring in holders")
#   holders.c:L_LOST   a direct leak (nothing points to it)
#   holders.c:L_CYCLE  a leaked cycle of 3 blocks (its members listed)
#   holders.c:L_HEAD / L_TAIL  a direct block and the indirect one under it
# Addresses vary (ASLR): lines are matched with 0x[0-9a-f]+ in their place.

cat >"$T/items.c" <<'EOF2'
#include <stdlib.h>
void *g_items;
void items_keep(void *p) { g_items = p; }
EOF2
cat >"$T/holders.c" <<'EOF2'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

void items_keep(void *p);
__attribute__((weak)) int heapsnap_take_snapshot(const char *path);
void *g_ring;
__thread void *t_cache;
struct node { struct node *next; char pad[8]; };
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, done;

__attribute__((noinline)) static void *keeper(void *arg)
{
    volatile void *held;
    pthread_setname_np(pthread_self(), "keeper");
    printf("keeper %d\n", (int)syscall(SYS_gettid));
    fflush(stdout);
    held = malloc(48); /* L_STACK */
    pthread_mutex_lock(&mu);
    ready = 1;
    pthread_cond_broadcast(&cv);
    while (!done)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    free((void *)held);
    return arg;
}
__attribute__((noinline)) static struct node *node_new(struct node *next)
{
    struct node *n = malloc(sizeof *n); /* L_CYCLE */
    n->next = next;
    return n;
}
__attribute__((noinline)) static void lose_all(void)
{
    struct node *a = node_new(0), *b = node_new(a), *c = node_new(b);
    a->next = c;
    struct node *head = malloc(sizeof *head); /* L_HEAD */
    head->next = malloc(sizeof *head); /* L_TAIL */
    head->next->next = 0;
    head = 0;
    char *lost = malloc(24); /* L_LOST */
    lost[0] = 1;
}
__attribute__((noinline)) static void scrub(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}
int main(void)
{
    pthread_t th;
    items_keep(malloc(64)); /* L_ITEMS */
    t_cache = malloc(40); /* L_TLS */
    g_ring = (char *)malloc(56) + 24; /* L_RING */
    lose_all();
    scrub();
    pthread_create(&th, 0, keeper, 0);
    pthread_mutex_lock(&mu);
    while (!ready)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    if (!heapsnap_take_snapshot || heapsnap_take_snapshot("holders.hsnap") != 0)
        return 1;
    pthread_mutex_lock(&mu);
    done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(th, 0);
    return 0;
}
EOF2

(cd "$T" && ${CC:-gcc} -shared -fPIC -o libitems.so items.c && strip libitems.so &&
   ${CC:-gcc} -g -O0 -fno-omit-frame-pointer -o holders holders.c -L. -litems \
     -Wl,-rpath,'$ORIGIN' -pthread) 2>"$T/cc.err" || t_fail leak_holders_builds "$(head -c 300 "$T/cc.err")"
(cd "$T" && HEAPSNAP_LEAKS=1 LD_PRELOAD=$SHIM ./holders) >"$T/run.out" 2>"$T/run.err"
if [ ! -s "$T/holders.hsnap" ]; then t_fail leak_holders_snapshot "$(head -c 300 "$T/run.err")"; return 0; fi
if readelf -S "$T/libitems.so" | grep -q '\.symtab'; then t_fail leak_holders_lib_stripped "libitems.so has .symtab"; fi
keeper=$(sed -n 's/^keeper //p' "$T/run.out")
line() { grep -n "/\* $1 \*/" "$T/holders.c" | head -1 | cut -d: -f1; }
A='0x[0-9a-f]+'
# why SITE NAME: leaks --why holders.c:LINE into $T/NAME.out, its exit in $T/NAME.rc
why() { (cd "$T" && "$HEAPSNAP" leaks --why "holders.c:$(line "$1")" holders.hsnap) >"$T/$2.out" 2>"$T/$2.err"
        echo $? >"$T/$2.rc"; }
# has NAME CASE REGEX: one line of NAME.out matches REGEX whole, exit 0
has() {
  if [ "$(cat "$T/$1.rc")" = 0 ] && grep -Eqx "$3" "$T/$1.out"; then t_pass "$2"
  else t_fail "$2" "rc $(cat "$T/$1.rc"): $(head -c 600 "$T/$1.out" "$T/$1.err" | tr '\n' '|')"; fi
}
why L_ITEMS items
has items leak_holders_global_named_in_stripped_lib "   reachable 64 B at $A: from g_items in libitems\.so"
why L_STACK stack
has stack leak_holders_thread_stack_by_tid_and_name "   reachable 48 B at $A: from the stack of thread $keeper \(keeper\)"
why L_TLS tls
pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' <(cd "$T" && "$HEAPSNAP" leaks --format json holders.hsnap 2>/dev/null) | head -1)
has tls leak_holders_tls_variable_named "   reachable 40 B at $A: from t_cache \(thread-local\) in holders, of thread $pid \(holders\)"
why L_RING ring
has ring leak_holders_interior_pointer_offset_and_global "   possibly lost 56 B at $A: \+24 into it, from g_ring in holders"
why L_LOST lost
has lost leak_holders_direct_leak_said "   direct leak 24 B at $A: nothing points to it"
why L_CYCLE cycle
c="$A \(holders\.c:$(line L_CYCLE)\)"
has cycle leak_holders_cycle_members_listed "   leaked cycle 16 B at $A: one of 3 blocks: $c, $c, $c"
own=$(grep -oE '^   leaked cycle 16 B at 0x[0-9a-f]+' "$T/cycle.out" | grep -oE '0x[0-9a-f]+' | sort | tr '\n' ' ')
listed=$(grep -m1 -oE 'one of 3 blocks: .*' "$T/cycle.out" | grep -oE '0x[0-9a-f]+' | sort | tr '\n' ' ')
if [ "$(grep -c '^   leaked cycle' "$T/cycle.out")" = 3 ] && [ "$own" = "$listed" ]; then t_pass leak_holders_cycle_members_are_the_blocks
else t_fail leak_holders_cycle_members_are_the_blocks "own '$own' listed '$listed'"; fi
why L_HEAD head
why L_TAIL tail
headaddr=$(grep -oE "^   direct leak 16 B at $A" "$T/head.out" | grep -oE "$A")
has tail leak_holders_indirect_under_its_direct_block "   indirect leak 16 B at $A: under the direct leak ${headaddr:-none} \(holders\.c:$(line L_HEAD)\)"
why nosuch_fn none
if [ "$(cat "$T/none.rc")" = 2 ] && [ ! -s "$T/none.out" ] && grep -q 'no allocation site by that name' "$T/none.err"; then
  t_pass leak_holders_unknown_site_exit_2
else t_fail leak_holders_unknown_site_exit_2 "rc $(cat "$T/none.rc"): $(head -c 300 "$T/none.err")"; fi
