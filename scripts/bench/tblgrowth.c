/*
 * tblgrowth.c - a model of how the live-block table could grow, outside the
 * shim: one group of 16 stripes (the hash's top 4 bits), clusters of 15
 * 16-byte slots (256 bytes with their control bytes), home clusters from
 * the hash's bits 28-59, as table.c has them, and three growth policies:
 *
 *   ladder R   table.c's: a stripe past 7/8 full is rebuilt into the next
 *              size of its own ladder (tbl_next_size: steps of R, whole
 *              pages, each stripe of a group a sixteenth of a step apart)
 *   linear A   linear hashing: one cluster appended and split (its entries
 *              rehashed on one more bit) each time a stripe passes A full
 *   extendible a directory of clusters by the hash's top bits; a full
 *              cluster splits in two (the directory doubles when needed)
 *
 * Blocks are only added, as issue 68's kept programs do, at the addresses
 * of kept.c's 64-byte blocks (80 bytes apart, as glibc places them) or at
 * random 16-aligned ones (a heap fragmented by frees).  Each figure is
 * the mean over 64 counts spread evenly in log over one doubling from N0
 * (default 1,000,000): bytes a block (extendible: with its directories,
 * the old ones included, which an unlocked prefetch may still read),
 * clusters a hit reads, the share of inserts whose home cluster has room
 * and no overflow (tbl_hash_insert_in's fast path), the longest probe,
 * and entries placed again a block by growth from an empty table (linear:
 * every entry of the split cluster; extendible: those that leave it).
 * Probes run on into spare clusters past the end instead of wrapping.
 *
 *   cc -O2 -o /tmp/tblgrowth scripts/bench/tblgrowth.c -lm && /tmp/tblgrowth [N0]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 15
#define STRIPES 16
#define INITIAL 16u /* clusters in a stripe's first array (TBL_INITIAL) */
#define SPARE 64u   /* clusters past the end that probes may run into */

enum policy { LADDER, LINEAR, EXTENDIBLE };

struct cluster {
    uint64_t key[SLOTS];
    uint8_t n;     /* live slots */
    uint8_t over;  /* probes that passed it full, saturating (TBL_OVER) */
    uint8_t depth; /* extendible: the hash bits it is split on */
};

struct stripe {
    struct cluster *cl;
    uint32_t nc;    /* clusters in use (addressed) */
    uint32_t cap;   /* clusters mapped */
    uint32_t count; /* live entries */
    uint32_t limit; /* ladder: entries before it grows */
    uint32_t level, split; /* linear: 2^level x INITIAL clusters at the round's start; next to split */
    uint32_t *dir;  /* extendible: cluster number by the top `depth` bits */
    uint32_t depth, dir_all; /* ... its depth; entries of every directory it ever had */
};

static struct model {
    enum policy policy;
    double ratio; /* ladder: the step */
    double alpha; /* linear: the fill before a split */
    int random;   /* addresses: random, or kept.c's */
    uint64_t moves;
    struct stripe s[STRIPES];
} m;

static inline uint64_t hash(uint64_t p)
{
    return p * 0x9e3779b97f4a7c15ULL; /* tbl_hash */
}

static inline uint32_t hx(uint64_t h)
{
    return (uint32_t)(h >> 28);
}

static uint64_t address(uint64_t i)
{
    if (!m.random)
        return 0x555555560000ULL + 80 * i;
    uint64_t z = (i + 1) * 0x9e3779b97f4a7c15ULL; /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31)) & 0x7ffffffffff0ULL;
}

static uint32_t home(const struct stripe *s, uint64_t h)
{
    if (m.policy == LADDER)
        return (uint32_t)((uint64_t)hx(h) * s->nc >> 32); /* tbl_home */
    if (m.policy == EXTENDIBLE)
        return s->dir[s->depth ? hx(h) >> (32 - s->depth) : 0];
    uint32_t round = INITIAL << s->level, b = hx(h) & (round - 1);
    return b < s->split ? hx(h) & (2 * round - 1) : b;
}

static void reserve(struct stripe *s, uint32_t want)
{
    if (want <= s->cap)
        return;
    uint32_t cap = s->cap ? s->cap : INITIAL;
    while (cap < want)
        cap *= 2;
    s->cl = realloc(s->cl, (size_t)cap * sizeof *s->cl);
    if (!s->cl)
        exit(2);
    memset(s->cl + s->cap, 0, (size_t)(cap - s->cap) * sizeof *s->cl);
    s->cap = cap;
}

/* tbl_vacancy and tbl_place: the first cluster with room from the home on,
 * each full one passed counting an overflow. */
static void place(struct stripe *s, uint64_t key)
{
    for (uint32_t g = home(s, hash(key));; g++) {
        reserve(s, g + 1);
        struct cluster *c = &s->cl[g];
        if (c->n < SLOTS) {
            c->key[c->n++] = key;
            s->count++;
            return;
        }
        if (c->over < 255)
            c->over++;
    }
}

/* tbl_next_size: INITIAL x R^(g + k/16) for stripe k, in whole pages. */
static uint32_t ladder_next(int k, uint32_t old)
{
    double x = INITIAL * pow(m.ratio, k / 16.0);
    uint32_t c;
    while ((c = (uint32_t)(ceil(x / INITIAL) * INITIAL)) <= old)
        x *= m.ratio;
    return c;
}

static void ladder_rebuild(struct stripe *s, uint32_t nc)
{
    struct cluster *old = s->cl;
    uint32_t old_cap = s->cap;
    s->cl = NULL;
    s->cap = s->count = 0;
    s->nc = nc;
    s->limit = (uint32_t)((uint64_t)nc * SLOTS * 7 / 8);
    reserve(s, nc + SPARE);
    for (uint32_t g = 0; g < old_cap; g++)
        for (unsigned j = 0; j < old[g].n; j++, m.moves++)
            place(s, old[g].key[j]);
    free(old);
}

/* Takes every entry of home cluster p out (from p on, to the first
 * cluster no probe passed), then splits p: one cluster more. */
static void linear_split(struct stripe *s)
{
    uint32_t p = s->split, n = 0, cap = 64;
    uint64_t *out = malloc(cap * sizeof *out);
    for (uint32_t g = p; g < s->cap; g++) {
        struct cluster *c = &s->cl[g];
        for (unsigned j = 0; j < c->n;) {
            if (home(s, hash(c->key[j])) != p) {
                j++;
                continue;
            }
            if (n == cap)
                out = realloc(out, (cap *= 2) * sizeof *out);
            out[n++] = c->key[j];
            c->key[j] = c->key[--c->n];
            s->count--;
            for (uint32_t q = p; q < g; q++)
                if (s->cl[q].over < 255)
                    s->cl[q].over--;
        }
        if (!c->over)
            break;
    }
    s->nc++;
    if (++s->split == INITIAL << s->level) {
        s->level++;
        s->split = 0;
    }
    reserve(s, s->nc + SPARE);
    for (uint32_t i = 0; i < n; i++, m.moves++)
        place(s, out[i]);
    free(out);
}

/* Splits the full cluster at b on its next bit, doubling the directory
 * first when the cluster is split on all of its bits. */
static void extendible_split(struct stripe *s, uint32_t b, uint32_t x)
{
    if (s->cl[b].depth == s->depth) {
        uint32_t *dir = malloc(sizeof *dir << (s->depth + 1));
        for (uint32_t i = 0; i < 1u << s->depth; i++)
            dir[2 * i] = dir[2 * i + 1] = s->dir[i];
        free(s->dir);
        s->dir = dir;
        s->depth++;
        s->dir_all += 1u << s->depth;
    }
    uint32_t nb = s->nc++;
    reserve(s, s->nc);
    struct cluster *c = &s->cl[b], *d = &s->cl[nb];
    unsigned depth = ++c->depth, bit = 32 - depth;
    d->depth = (uint8_t)depth;
    for (unsigned j = 0; j < c->n;)
        if (hx(hash(c->key[j])) >> bit & 1) {
            d->key[d->n++] = c->key[j];
            c->key[j] = c->key[--c->n];
            m.moves++;
        } else {
            j++;
        }
    uint32_t span = 1u << (s->depth - depth), first = (x >> (32 - s->depth)) & ~(2 * span - 1);
    for (uint32_t i = first + span; i < first + 2 * span; i++)
        s->dir[i] = nb;
}

static void insert(uint64_t key)
{
    uint64_t h = hash(key);
    struct stripe *s = &m.s[h >> 60];
    if (m.policy == LADDER && s->count >= s->limit)
        ladder_rebuild(s, ladder_next((int)(s - m.s), s->nc));
    while (m.policy == LINEAR && s->count + 1 > m.alpha * s->nc * SLOTS)
        linear_split(s);
    while (m.policy == EXTENDIBLE && s->cl[home(s, h)].n == SLOTS)
        extendible_split(s, home(s, h), hx(h));
    place(s, key);
}

static void start(void)
{
    for (int k = 0; k < STRIPES; k++) {
        struct stripe *s = &m.s[k];
        free(s->cl);
        free(s->dir);
        memset(s, 0, sizeof *s);
        if (m.policy == LADDER) {
            ladder_rebuild(s, INITIAL);
        } else if (m.policy == LINEAR) {
            s->nc = INITIAL;
            reserve(s, INITIAL + SPARE);
        } else {
            s->nc = 1;
            reserve(s, 1);
            s->dir = calloc(1, sizeof *s->dir);
            s->dir_all = 1;
        }
    }
    m.moves = 0;
}

struct figures {
    double bytes, hit, fast;
    uint32_t longest;
};

static void measure(uint64_t n, struct figures *f)
{
    double bytes = 0, hit = 0, fast = 0;
    static uint64_t draw = 1;
    for (int k = 0; k < STRIPES; k++) {
        const struct stripe *s = &m.s[k];
        for (uint32_t g = 0; g < s->cap; g++) {
            const struct cluster *c = &s->cl[g];
            bytes += (g < s->nc || c->n) ? 256 : 0;
            for (unsigned j = 0; j < c->n; j++) {
                uint32_t d = g - home(s, hash(c->key[j]));
                hit += d + 1;
                if (d > f->longest)
                    f->longest = d;
            }
        }
        bytes += 4.0 * s->dir_all;
        for (int t = 0; t < 1024; t++) { /* a new key's home: room and no overflow */
            uint64_t h = hash(draw++ * 0x2545f4914f6cdd1dULL) & ~(0xfULL << 60);
            const struct cluster *c = &s->cl[home(s, h | (uint64_t)k << 60)];
            fast += c->n < SLOTS && !c->over;
        }
    }
    f->bytes += bytes / (double)n;
    f->hit += hit / (double)n;
    f->fast += fast / (1024.0 * STRIPES);
}

static void row(const char *name, uint64_t n0)
{
    const int points = 64;
    struct figures f = {0};
    uint64_t n = 0;
    start();
    for (int i = 0; i < points; i++) {
        uint64_t want = (uint64_t)((double)n0 * pow(2, (double)i / points));
        while (n < want)
            insert(address(n++));
        measure(n, &f);
    }
    printf("| %-13s | %-6s | %6.2f | %6.3f | %5.3f | %7u | %5.2f |\n", name,
           m.random ? "random" : "kept", f.bytes / points, f.hit / points, f.fast / points,
           f.longest, (double)m.moves / (double)n);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    uint64_t n0 = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    static const struct {
        const char *name;
        enum policy policy;
        double ratio, alpha;
    } rows[] = {
        {"ladder 4/3", LADDER, 4.0 / 3, 0},  {"ladder 5/4", LADDER, 5.0 / 4, 0},
        {"ladder 3/2", LADDER, 3.0 / 2, 0},  {"ladder 2", LADDER, 2, 0},
        {"linear 7/8", LINEAR, 0, 7.0 / 8},  {"linear 0.6", LINEAR, 0, 0.6},
        {"linear 0.55", LINEAR, 0, 0.55},    {"extendible", EXTENDIBLE, 0, 0},
    };
    printf("| policy        | blocks | B/block | hit reads | fast | longest | moves |\n");
    printf("|---|---|--:|--:|--:|--:|--:|\n");
    for (m.random = 0; m.random < 2; m.random++)
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            m.policy = rows[r].policy;
            m.ratio = rows[r].ratio;
            m.alpha = rows[r].alpha;
            row(rows[r].name, n0);
        }
    return 0;
}
