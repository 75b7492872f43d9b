/*
 * statelife.c - the state file (state.c) across the process's life.  A
 * fork's child moves every piece, at the same address, to a file of its
 * own or to private memory; exec takes the file's name away first (the
 * program it becomes owns the pid's name), and an exec that failed gets
 * it back from the helper; a clean end removes the file, and on a full
 * disk first gives the helper's blocks to the last snapshot.  A change of
 * the effective uid (creds.c) gives the file to the new user, so that the
 * helper can still open it and the process remove it at its end.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/sysmap.h"
#include "statefile.h"

/* Whether path is still the file this process put there. */
static int state_ours(void)
{
    struct stat sb;
    return stat(st.path, &sb) == 0 && sb.st_dev == st.dev && sb.st_ino == st.ino;
}

/* A clean end (exit, written or not: the process was not killed), or a
 * fatal signal's snapshot written: the state goes, its mapping stays (the
 * hooks may still write to it) until the process ends. */
void state_done(void)
{
    if (!st.h || !state_own())
        return;
    st.h->state = HSTATE_EXITED;
    atomic_store(&st.done, 1);
    if (state_ours())
        unlink(st.path);
}

/* The file given to uid, if it is still the one this process put at its
 * name (by its name: no descriptor on the caller's thread), unless done.
 * Its group stays (the mode is the owner's).  0, or -1 (not permitted:
 * the caller has no CAP_CHOWN; no file). */
int state_owner(uid_t uid)
{
    struct stat sb;
    if (!st.h || atomic_load(&st.done) || !state_own() ||
        lstat(st.path, &sb) != 0 || sb.st_dev != st.dev || sb.st_ino != st.ino)
        return -1;
    if (sb.st_uid == uid)
        return 0;
    return fchownat(AT_FDCWD, st.path, uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW);
}

/* Piece [at, at + len) of the mapping replaced, at the same address, by
 * a copy of what the file before holds there, read with pread from pfd (a
 * fork's child has none of its parent's pages mapped: reading them
 * through the mapping would fault each in), or through the mapping (pfd
 * -1: a file removed): into fd at off (a file of the process's own), or,
 * fd -1, into private memory, only the pages that are not zero.  0 or -1. */
static int state_move(void *at, uint64_t len, int pfd, int fd, uint64_t off)
{
    uint64_t buf[4096 / 8];
    if (fd >= 0 && state_reserve_fd(fd, off, len) != 0)
        return -1;
    void *m = fd >= 0 ? sys_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off)
                      : sys_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    for (uint64_t p = 0; p < len; p += sizeof buf) {
        if (pread(pfd, buf, sizeof buf, (off_t)(off + p)) != (ssize_t)sizeof buf)
            memcpy(buf, (const char *)at + p, sizeof buf); /* faults it in: still right */
        unsigned k = 0;
        while (k < sizeof buf / 8 && !buf[k])
            k++;
        if (k == sizeof buf / 8)
            continue; /* a hole, or zeros: both files read as zero there */
        if (fd < 0 || pwrite(fd, buf, sizeof buf, (off_t)(off + p)) != (ssize_t)sizeof buf)
            memcpy((char *)m + p, buf, sizeof buf);
    }
    if (sys_mremap(m, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, at) == MAP_FAILED) {
        sys_munmap(m, len);
        return -1;
    }
    return 0;
}

/* Every piece moved (state_move) from pfd to fd (or private memory); the
 * helper's segments dropped.  0 or -1. */
static int state_move_all(int pfd, int fd)
{
    int r = state_move(st.h, HSTATE_PAGE, pfd, fd, 0);
    uint32_t nc = atomic_load(&st.ncells);
    /* only the directory's and the segments' entries ever set are read: in a
     * fork's child each page of them read is a fault */
    for (uint32_t i = 0; i < nc && i < st.maxcells && r == 0; i++) {
        void *c = atomic_load(&st.cells[i]);
        if (c)
            r = state_move(c, HSTATE_CHUNK, pfd, fd, st.h->cells_off + (uint64_t)i * HSTATE_CHUNK);
    }
    for (uint32_t j = 0; j < st.nseg; j++)
        if (st.seg[j]) {
            uint64_t n = st.size - st.h->traces_off - (uint64_t)j * STATE_SEG;
            sys_munmap(st.seg[j], n < STATE_SEG ? n : STATE_SEG);
            st.seg[j] = NULL;
        }
    st.nseg = 0;
    return r;
}

#define STATE_YIELD_WAIT_NS 1000000000ull /* a heartbeat or a hook is waited for this long */

/* Until the count *n is 0, or STATE_YIELD_WAIT_NS: 0, or -1 (it is not:
 * on a fatal signal, the thread in there may be the one that faulted). */
static int state_wait_zero(atomic_int *n)
{
    uint64_t until = clock_mono_ns() + STATE_YIELD_WAIT_NS;
    while (atomic_load(n))
        if (clock_mono_ns() >= until)
            return -1;
        else
            lock_yield();
    return 0;
}

/* The last snapshot found the disk full: the file is done (as at a clean
 * end, state_done, which follows) and gives all its blocks back.  Once a
 * heartbeat in progress is over (none starts again), every piece moves to
 * private memory at the same address (the hooks of other threads still
 * write their cells: a page of the file punched under them would be
 * allocated again on a full disk, a SIGBUS), then the whole file is
 * punched.  When the hooks cannot be held off, only the helper's regions
 * are.  0 when blocks were given back, -1 (nothing changed but done). */
int state_yield(void)
{
    if (!st.h || atomic_load(&st.done) || !state_own())
        return -1;
    int fd = state_open_as(O_RDWR), r = -1;
    atomic_store(&st.done, 1); /* state_beat sees it, or we see beating */
    if (fd < 0 || state_wait_zero(&st.beating) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    uint64_t from = st.h->traces_off, size = st.size;
    atomic_store(&st.moving, 1); /* state_cells sees it, or we see takers */
    if (state_wait_zero(&st.takers) == 0 && state_move_all(fd, -1) == 0)
        from = 0;
    else
        opt_debug("the state file's cells keep their blocks: ", "they could not be moved", "");
    atomic_store(&st.moving, 0);
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from,
                  (off_t)(size - from)) == 0)
        r = 0;
    close(fd);
    return r;
}

/* The pieces are a new file's now (state_move_all): the helper's regions
 * start empty there, and the stacks and a document are written again
 * from the next beat. */
static void state_restart(void)
{
    struct hsnap_state_head *h = st.h;
    h->doc_slot = HSTATE_NO_DOC;
    h->doc[0].len = h->doc[1].len = 0;
    h->stacks_n = 0;
    h->stacks_len = 0;
    h->flags &= ~HSTATE_FULL_DOC;
    st.doc_room[0] = st.doc_room[1] = 0;
    state_stacks_restart();
    st.last_traces = 0;
    st.due = st.doc_at = st.doc_pcpu = 0;
}

/* The helper, after an exec failed (state_exec_failed): the file made
 * again at its name, every piece moved to it, read through the mappings
 * of the old one (removed, still mapped).  No chunk of cells is taken
 * meanwhile; a hook of another thread that moves a live sum while its
 * page is copied may see that move lost (the exit snapshot's sums come
 * from the table, whole). */
void state_rename_back(void)
{
    atomic_store(&st.moving, 1);
    for (unsigned spins = 0; atomic_load(&st.takers); spins++)
        lock_wait(NULL, spins + 65);
    char t[NAME_MAX_PATH + 64];
    int fd = state_create_file(t), moved = fd >= 0 && state_move_all(-1, fd) == 0;
    if (moved)
        state_restart();
    if (moved && state_name_file(t) == 0) {
        atomic_store(&st.unnamed, 0);
    } else { /* the pieces stay mapped and up to date, with no name */
        if (fd >= 0 && !moved)
            unlink(t);
        atomic_store(&st.unnamed, 1);
        opt_debug("after a failed exec, the state file cannot be made again: ", st.path, "");
    }
    if (fd >= 0)
        close(fd);
    atomic_store(&st.moving, 0);
}

/* A fork's child: the pieces are the parent's file.  They move, at the
 * same addresses, to a file of the child's own (named from its own output
 * name) or, when children write nothing or that fails, to private memory;
 * only the pages resident are copied (a fork costs no fault for the rest). */
void state_after_fork_child(void)
{
    if (!st.h)
        return;
    if (st_doc_fd >= 0)
        close(st_doc_fd);
    st_doc_fd = st_fd = -1;
    st.doc_room[0] = st.doc_room[1] = 0;
    atomic_store(&st.takers, 0); /* the parent's threads are not here */
    atomic_store(&st.unnamed, 0);
    int pfd = state_open_as(O_RDWR); /* the parent's file (-1: the mapping is read instead) */
    if (opt_int(OPT_CHILDREN) != OPT_CHILDREN_NONE) {
        char parent[sizeof st.path];
        memcpy(parent, st.path, sizeof parent);
        state_name(st.path);
        char t[NAME_MAX_PATH + 64];
        int fd = strcmp(parent, st.path) ? state_create_file(t) : -1;
        if (fd >= 0 && state_move_all(pfd, fd) == 0) {
            close(fd);
            if (pfd >= 0)
                close(pfd);
            state_restart(); /* its own stacks and documents, from the next beat */
            state_identity();
            if (state_name_file(t) == 0) /* named once its header is the child's */
                rchan_tell_state(st.path);
            else
                st.h = NULL; /* the pieces stay mapped, in a file with no name */
            return;
        }
        if (fd >= 0) {
            unlink(t);
            close(fd);
        }
    }
    /* no file: private memory at the same addresses, the sums kept */
    state_move_all(pfd, -1);
    if (pfd >= 0)
        close(pfd);
    st.h = NULL; /* nothing more is written: the hooks' cells stay valid */
}

/* exec replaces the image: the program it becomes (the shim again, or
 * not) owns the pid's name from now on, so the file goes first (else, if
 * that program does not keep one of the same name, it would stay as if
 * this one had been killed).  Not a vfork child's: the file is its
 * parent's.  path (NULL: unknown, as for a search of PATH): an exec that
 * cannot start it (no such file, not executable) fails without taking the
 * name away. */
void state_exec(const char *path)
{
    if (!st.h || atomic_load(&st.done) || !state_own() ||
        (path && faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) != 0))
        return;
    if (state_ours() && unlink(st.path) == 0)
        atomic_store(&st.unnamed, 1);
}

/* The exec returned (it failed): the file is given its name back by the
 * helper (state_rename_back), which owns the pieces and opens no
 * descriptor in the program's table.  1 when the helper must be woken. */
int state_exec_failed(void)
{
    int one = 1;
    return st.h && state_own() && atomic_compare_exchange_strong(&st.unnamed, &one, 2);
}

/* The file made again under the session's name after state_done took it
 * away, every piece moved to it at the same addresses (the hooks' cells
 * stay valid), its stacks and documents from the next beat. */
static void state_again(void)
{
    state_name(st.path);
    char t[NAME_MAX_PATH + 64];
    int fd = state_create_file(t);
    if (fd < 0 || state_move_all(-1, fd) != 0) {
        if (fd >= 0) {
            unlink(t);
            close(fd);
        }
        opt_debug("a new session has no state file: cannot make ", st.path, "");
        return;
    }
    close(fd);
    state_restart();
    state_identity();
    st.h->state = HSTATE_RUNNING;
    if (state_name_file(t) != 0) { /* the pieces stay mapped, with no name */
        atomic_store(&st.unnamed, 1);
        opt_debug("a new session's state file cannot be named ", st.path, "");
    }
    atomic_store(&st.warned_full, 0);
    atomic_store(&st.done, 0);
    rchan_tell_state(st.path);
}

/* heapsnap attach again after a detach (state_done took the file away):
 * state_again; or the file made for the first time, when the sessions
 * before had none (a plain attach keeps no state). */
void state_reattach(void)
{
    if (!st.h) {
        state_init();
        return;
    }
    if (!atomic_load(&st.done) || opt_int(OPT_STATE) == 0)
        return;
    state_again();
}

/* heapsnap live asks for the file in a session that keeps none (a plain
 * attach, HEAPSNAP_STATE=0): made now, while the hooks record, with the
 * helper paused (it beats on the header), as at start-up (64 MiB unless
 * HEAPSNAP_STATE says) or as state_again makes it; one taken away by
 * state_done only when again (an attach's session: in a preloaded
 * process the file goes at the end).  0 once there is a file, else -1
 * (the peak's sums off, secure execution, no room). */
int state_late(int again)
{
    if (st.h && !atomic_load(&st.done))
        return 0;
    if ((st.h && !again) || !state_own() || opt_int(OPT_PEAK) == OPT_PEAK_OFF ||
        cred_secure())
        return -1;
    int paused = st.host->helper_pause();
    if (!st.h)
        state_init_as(opt_int(OPT_STATE) ? opt_int(OPT_STATE) : 64);
    else
        state_again();
    if (paused)
        st.host->helper_resume();
    st.host->helper_wake();
    return st.h && !atomic_load(&st.done) ? 0 : -1;
}
