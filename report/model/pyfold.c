/*
 * pyfold.c - the folded group of a Python stack (pyfold.h): the HTML
 * report's tables fold what its flame graph folds (fold.js's
 * heapsnapFold), so that at load both name the program's own lines.
 * importlib's frames (<frozen importlib._bootstrap>, _bootstrap_external)
 * are skipped: an import is charged to the import line, or to the
 * imported module's own line that made the block.  A stack with nothing
 * left keeps a synthetic group, so the totals stay whole.
 */
#include <string.h>

#include "pyfold.h"

#define PYFOLD_IMP "[import machinery]"
#define PYFOLD_START "[interpreter start-up]"

/* line -1: keyed by the name alone (stats_key); "<folded>" as heapsnapFold's */
static const struct frame pyfold_imp = {0, PYFOLD_IMP, PYFOLD_IMP, PYFOLD_IMP, -1, "<folded>",
                                        "", 0, NULL, FRAMES_NO_IDENT};
static const struct frame pyfold_start = {0, PYFOLD_START, PYFOLD_START, PYFOLD_START, -1,
                                          "<folded>", "", 0, NULL, FRAMES_NO_IDENT};

static int pyfold_is_import(const struct frame *f)
{
    return f->pymodule && !strncmp(f->file, "<frozen importlib._bootstrap", 28);
}

/* heapsnapFold's start-up functions: the interpreter's initialisation and its
 * main entry (in a stack with no Python frame: sys.path's first entry, the
 * main file's compilation, before the program's first line). */
static int pyfold_is_start(const struct frame *f)
{
    static const char *const pre[] = {"Py_Initialize", "_Py_InitializeMain", "pyinit_",
                                      "pymain_"};
    static const char *const whole[] = {"Py_BytesMain", "Py_Main", "Py_RunMain"};
    for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
        if (!strncmp(f->func, pre[i], strlen(pre[i])))
            return 1;
    for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
        if (!strcmp(f->func, whole[i]))
            return 1;
    return 0;
}

static const struct frame *const pyfold_imp_at = &pyfold_imp, *const pyfold_start_at = &pyfold_start;

const struct frame *const *pyfold_site(const struct frames_trace *t,
                                       const struct frame *const *fr, int rest, int *head)
{
    if (t->npy) {
        int i = *head;
        while (i < rest && pyfold_is_import(fr[i]))
            i++;
        if (i == rest)
            return &pyfold_imp_at;
        *head = i;
        return NULL;
    }
    for (int i = 0; i < t->n; i++)
        if (pyfold_is_start(t->fr[i]))
            return &pyfold_start_at;
    return NULL;
}
