/*
 * python.h - the door of the Python room: CPython seen from inside the
 * process, so that a Python program's blocks are charged to its Python
 * lines, as tracemalloc charges them, with the native frames around them.
 *
 *   layout.c  the version table: where 3.11 keeps the fields we read
 *   domain.c  finding CPython, and wrapping its MEM and OBJ allocator
 *             domains (tracemalloc's way: pymalloc stays on)
 *   stack.c   the thread's Python frames spliced into a native stack
 *   code.c    code objects copied into the shim's memory, and PYCODE
 *
 * Everything here runs on the allocating thread with hook_guard set, reads
 * the interpreter's memory only for the thread that holds the GIL, and
 * allocates only from the arena.  A process without CPython pays one test
 * of py_on per recorded allocation.
 */
#ifndef HEAPSNAP_PYTHON_H
#define HEAPSNAP_PYTHON_H

#include <stdint.h>

/* Nonzero once CPython's allocator domains are wrapped (stack.c splices). */
extern int py_on;
/* Nonzero while CPython was found but its domains are not wrapped yet. */
extern int py_waiting;

/* From the constructor (guard set): find CPython's symbols; reads
 * HEAPSNAP_PYTHON.  Costs nothing more in a process without CPython. */
void py_init(void);

/* From a recording hook (guard set), while py_waiting: wraps the domains
 * when the interpreter is initialized and this thread holds the GIL. */
void py_poll(void);

/* The one call of the recorder (hooks.c's hook_record) after the unwind:
 * ip[0..depth) is the native stack (room for max + UNWIND_SLACK), *same
 * the unwinder's memo name.  Returns 0 when the stack is the recorder's to
 * intern as usual; 1 when *id is the trace, Python frames spliced in and
 * interned; -1 when nothing can be recorded. */
int py_trace(uintptr_t *ip, unsigned depth, unsigned max, int truncated, uint32_t same,
             uint32_t *id);

/* The code table's lock (code.c), for fork's handlers (life.c). */
void py_code_lock(void);
void py_code_unlock(void);

/* The snapshot writer: the PYCODE section's payload (see hsnap_format.h),
 * with only the snapshot lock held, after TRACES.  fatal: bounded lock
 * attempts (nothing written if they fail). */
struct sbuf;
void py_put_codes(struct sbuf *b, int fatal);

#endif
