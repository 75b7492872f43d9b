/*
 * options_table.h - the ONE declarative table of HEAPSNAP_* environment
 * variables: name, type, default, one line of help (and a range or the
 * choices where they apply).  opt_init parses it at start-up;
 * report/ includes this header to print the same list in
 * `heapsnap run --help`, and docs/options.md's list is that output.
 *
 * Keep enum opt_id in the same order as opt_table (a static assert in
 * options.c checks the count).
 */
#ifndef HEAPSNAP_OPTIONS_TABLE_H
#define HEAPSNAP_OPTIONS_TABLE_H

#include <signal.h>

enum opt_type {
    OPT_INT,    /* decimal integer within [lo, hi] */
    OPT_BOOL,   /* 0/1, yes/no, true/false, on/off */
    OPT_STR,    /* copied at start-up; file names made absolute */
    OPT_SIGNAL, /* off/0, a name (USR2, SIGUSR2) or a number */
    OPT_CHOICE, /* one of the '|'-separated choices; value = its index */
    OPT_MSEC,   /* seconds, DIGITS[.DDD]; value = milliseconds within [lo, hi] */
};

enum opt_id {
    OPT_OUTPUT,
    OPT_DEPTH,
    OPT_SIGNAL_ID,
    OPT_INTERVAL,
    OPT_BLOCKS,
    OPT_UNWIND,
    OPT_UNWIND_CHECK,
    OPT_SAMPLE,
    OPT_LEAKS,
    OPT_STOP_SIGNAL,
    OPT_LEAK_FORK,
    OPT_FATAL,
    OPT_MANIFEST,
    OPT_MANIFEST_FD,
    OPT_VERBOSE,
    OPT_SAMPLE_SEED,
    OPT_CHILDREN,
    OPT_INHERITED,
    OPT_MODE,
    OPT_PEAK,
    OPT_SITELINE,
    OPT_SITELINE_COST,
    OPT_SITELINE_CHECK,
    OPT_PYTHON,
    OPT_PYTHON_NATIVE,
    OPT_PYTHON_OBJECTS,
    OPT_OBJECTS_THREAD,
    OPT_EXEC_SNAPSHOT,
    OPT_FOLLOW,
    OPT_COMPRESS,
    OPT_MAPPED_ROOTS,
    OPT_STATE,
    OPT_LIVE,
    OPT_SERVICE,
    OPT_PAUSED,
    OPT_RUN_START,
    OPT_RUN_PID,
    OPT_COUNT
};

/* OPT_UNWIND choices, in the order of the choices string (unwind.h's UNWIND_*). */
enum { OPT_UNWIND_AUTO, OPT_UNWIND_FP, OPT_UNWIND_LIBUNWIND };
/* OPT_CHILDREN choices: which forked children (that have not exec'd) write */
enum { OPT_CHILDREN_EXIT, OPT_CHILDREN_ALL, OPT_CHILDREN_NONE };
/* OPT_INHERITED choices: what a fork child's snapshots hold of its parent's heap */
enum { OPT_INHERITED_SUMMARY, OPT_INHERITED_BLOCKS };
/* OPT_PYTHON_NATIVE choices */
enum { OPT_PYTHON_NATIVE_TRIM, OPT_PYTHON_NATIVE_ALL, OPT_PYTHON_NATIVE_CALLER };
/* OPT_PEAK choices */
enum { OPT_PEAK_ON, OPT_PEAK_EXACT, OPT_PEAK_OFF };

struct opt_def {
    const char *name;    /* environment variable */
    enum opt_type type;
    const char *def;     /* default, as text */
    const char *help;    /* one line */
    long lo, hi;         /* OPT_INT: accepted range */
    const char *choices; /* OPT_CHOICE: "a|b|c" */
};

/* Designated by id, so that the enum's order and the table's need not agree. */
static const struct opt_def opt_table[OPT_COUNT] = {
    [OPT_OUTPUT] = {"HEAPSNAP_OUTPUT", OPT_STR, "%e.%p.hsnap",
     "snapshot file name; %p pid, %n sequence, %e program name (as started: a symlink's), %% a '%'", 0, 0, 0},
    [OPT_DEPTH] = {"HEAPSNAP_DEPTH", OPT_INT, "64",
     "frames kept per allocation stack (1-256)", 1, 256, 0},
    [OPT_SIGNAL_ID] = {"HEAPSNAP_SIGNAL", OPT_SIGNAL, "off",
     "signal that writes a snapshot (e.g. USR2, SIGUSR2 or a number)", 0, 0, 0},
    [OPT_INTERVAL] = {"HEAPSNAP_INTERVAL", OPT_MSEC, "0",
     "write a snapshot every N seconds, 0.001 to 31536000, decimals allowed (0 = off)",
     0, 31536000000L, 0},
    [OPT_BLOCKS] = {"HEAPSNAP_BLOCKS", OPT_BOOL, "1",
     "write every live block (address, size, trace, epoch) into snapshots", 0, 1, 0},
    [OPT_UNWIND] = {"HEAPSNAP_UNWIND", OPT_CHOICE, "auto",
     "stack capture: auto walks each frame by its .eh_frame rules, cached per address (exact "
     "as libunwind, falls back to it on any doubt); fp trusts frame pointers; libunwind "
     "unw_backtrace", 0, 0, "auto|fp|libunwind"},
    [OPT_UNWIND_CHECK] = {"HEAPSNAP_UNWIND_CHECK", OPT_BOOL, "0",
     "auto only: also walk every stack from scratch, without the memo of the thread's "
     "earlier walks, and count the stacks where the two differ (a warning at the first; "
     "HEAPSNAP_VERBOSE prints the counts at exit); slow: for tests", 0, 1, 0},
    [OPT_SAMPLE] = {"HEAPSNAP_SAMPLE", OPT_INT, "0",
     "mean sampling interval in bytes (0 = every allocation; 524288 is a good choice)",
     0, 1L << 40, 0},
    [OPT_LEAKS] = {"HEAPSNAP_LEAKS", OPT_BOOL, "0",
     "run the leak check (reference model) for each snapshot; implies HEAPSNAP_BLOCKS", 0, 1, 0},
    [OPT_STOP_SIGNAL] = {"HEAPSNAP_STOP_SIGNAL", OPT_STR, "RTMAX-1",
     "signal that pauses threads during a leak check (RTMAX-k, a name, a number, off)", 0, 0, 0},
    [OPT_LEAK_FORK] = {"HEAPSNAP_LEAK_FORK", OPT_CHOICE, "auto",
     "run the leak check on a fork of the process, so that threads stop only for the fork: "
     "auto does, except at exit with at most 16384 live blocks and a stop signal (in place "
     "is faster there, and the process is ending); 1 always; 0 never (in place, with every "
     "thread stopped until the scan ends; no check when a thread cannot be stopped)", 0, 0, "auto|0|1|no|yes|false|true|off|on"},
    [OPT_FATAL] = {"HEAPSNAP_FATAL", OPT_BOOL, "1",
     "write a snapshot on SIGSEGV/SIGBUS/SIGABRT/SIGFPE/SIGILL, then re-raise; also on "
     "SIGTERM left at its default in a process that ran Python code (0 turns both off)", 0, 1, 0},
    [OPT_MANIFEST] = {"HEAPSNAP_MANIFEST", OPT_STR, "",
     "file to which the path of every snapshot written is appended, each ended by a NUL byte", 0, 0, 0},
    [OPT_MANIFEST_FD] = {"HEAPSNAP_MANIFEST_FD", OPT_STR, "",
     "set by heapsnap run: FD:INODE of its socket, told of every snapshot written or failed "
     "by any process it started, whatever user that became; else HEAPSNAP_MANIFEST", 0, 0, 0},
    [OPT_VERBOSE] = {"HEAPSNAP_VERBOSE", OPT_BOOL, "0",
     "print what the shim does on stderr", 0, 1, 0},
    [OPT_SAMPLE_SEED] = {"HEAPSNAP_SAMPLE_SEED", OPT_INT, "0",
     "seed of the sampling PRNG (0 = from the clock; fixed for reproducible tests)",
     0, 1L << 62, 0},
    [OPT_CHILDREN] = {"HEAPSNAP_CHILDREN", OPT_CHOICE, "exit",
     "forked children that do not exec: exit writes when they call exit(), and at _exit "
     "when they ran Python code (a multiprocessing worker; not a C server's worker or save "
     "child, which leaves that way with the whole heap inherited), all also at _exit, none never (valgrind's --child-silent-after-fork); an image that "
     "execs writes nothing, the program it becomes writes its own", 0, 0, "exit|all|none"},
    [OPT_INHERITED] = {"HEAPSNAP_INHERITED", OPT_CHOICE, "summary",
     "what a fork child's snapshots hold of the heap it inherited from its parent (a forked "
     "worker's): summary writes the child's own blocks (born since the fork) and the inherited "
     "ones still live as one sum (memray --follow-fork's view: a worker costs what its own "
     "work does), blocks writes every inherited block too, as the parent's; a leak check "
     "always reads them all", 0, 0, "summary|blocks"},
    [OPT_MODE] = {"HEAPSNAP_MODE", OPT_STR, "0600",
     "permissions of the snapshot files, in octal up to 0777 (they hold the command line)",
     0, 0, 0},
    [OPT_PEAK] = {"HEAPSNAP_PEAK", OPT_CHOICE, "on",
     "what each site held at the peak (PEAK section): on captures it whenever the peak has "
     "grown by 1% (at least 4 KiB and 16 B per allocation stack) since the last capture, "
     "exact at every new peak "
     "(slow: for tests), off never", 0, 0, "on|exact|off"},
    [OPT_SITELINE] = {"HEAPSNAP_SITELINE", OPT_MSEC, "0.1",
     "memory over time: every N seconds a helper thread records the traced heap, the "
     "resident set and the 8 largest sites' live bytes; 512 points kept, then every other "
     "one goes and the spacing doubles (0 = off)", 0, 3600000L, 0},
    [OPT_SITELINE_COST] = {"HEAPSNAP_SITELINE_COST", OPT_INT, "1",
     "most of the program's CPU time, in percent, that HEAPSNAP_SITELINE's points may take "
     "(a tenth of that of one core while it idles); a point is skipped until it is paid "
     "for (0 = no limit)", 0, 100, 0},
    [OPT_SITELINE_CHECK] = {"HEAPSNAP_SITELINE_CHECK", OPT_BOOL, "0",
     "at each snapshot, also sum the live bytes per site as HEAPSNAP_SITELINE's points do "
     "from the hooks' per-site sums, and count the sites where they differ from the "
     "snapshot's walk (a warning at the first; HEAPSNAP_VERBOSE prints the counts at each "
     "snapshot); for tests", 0, 1, 0},
    [OPT_PYTHON] = {"HEAPSNAP_PYTHON", OPT_STR, "auto",
     "CPython in the process: auto charges its objects to Python lines, with Python frames in "
     "the stacks; off leaves it to native frames; X.Y claims that version (tests: any but the "
     "real one gets native frames only)", 0, 0, 0},
    [OPT_PYTHON_NATIVE] = {"HEAPSNAP_PYTHON_NATIVE", OPT_CHOICE, "trim",
     "the native frames of a stack with Python frames: trim leaves out the interpreter's own "
     "(libpython's, the python executable's) outward of the innermost Python frame, and "
     "those under it but the innermost when all under it are the interpreter's; "
     "HEAPSNAP_DEPTH counts the Python frames; all keeps every one; caller keeps only the "
     "allocator's caller (past libc's and GLib's frames) and walks no "
     "native stack where a thread runs Python code, at about tracemalloc=1's cost "
     "(docs/python.md)",
     0, 0, "trim|all|caller"},
    [OPT_PYTHON_OBJECTS] = {"HEAPSNAP_PYTHON_OBJECTS", OPT_INT, "4000000",
     "a snapshot of at most this many live blocks reads the Python objects' types and their "
     "reference graph (top --key type, --garbage, leaks --why), about 0.4 microseconds "
     "and 24 bytes of peak RSS a block added to the snapshot (docs/python.md, Cost); over "
     "it, a warning and no types (0 = never)",
     0, 2000000000, 0},
    [OPT_OBJECTS_THREAD] = {"HEAPSNAP_PYTHON_OBJECTS_THREAD", OPT_CHOICE, "auto",
     "make a snapshot's Python object sections (types, owners, retained sizes) on a second "
     "thread while the first writes the stacks' sections: auto does for a snapshot of at "
     "least 32768 live blocks where the process may run on two CPUs; 1 always; 0 never "
     "(the same snapshot either way)",
     0, 0, "auto|0|1|no|yes|false|true|off|on"},
    [OPT_EXEC_SNAPSHOT] = {"HEAPSNAP_EXEC_SNAPSHOT", OPT_BOOL, "0",
     "an image that execs writes a snapshot first (reason exec, NAME.<n>.hsnap as mid-run "
     "snapshots are named; %e tells the images of one pid apart); 0: the program it becomes "
     "writes the pid's snapshot, the image it leaves nothing", 0, 1, 0},
    [OPT_FOLLOW] = {"HEAPSNAP_FOLLOW", OPT_CHOICE, "program",
     "program: a launcher (env, a shell running a script that execs, as pyenv's python3 "
     "shim) and the helpers it starts before its exec are not traced, the program it "
     "becomes is (read at start-up; heapsnap run --follow sets it); all: every process",
     0, 0, "program|all"},
    [OPT_COMPRESS] = {"HEAPSNAP_COMPRESS", OPT_INT, "1",
     "zstd level of the sections of snapshots of about 48 KiB or more (2048 live blocks, or "
     "96 long stacks), 1 (fastest) to 9 "
     "(0 = off: files about 12 times larger, in format 2, which a heapsnap from before "
     "compression reads)", 0, 9, 0},
    [OPT_MAPPED_ROOTS] = {"HEAPSNAP_MAPPED_ROOTS", OPT_BOOL, "1",
     "the leak check's roots include the memory the program maps itself (anonymous mmap, shmat, memfd), as memcheck's do; 0 leaves it out, as LeakSanitizer does (then heapsnap_register_root names such ranges)", 0, 1, 0},
    [OPT_STATE] = {"HEAPSNAP_STATE", OPT_INT, "64",
     "the state file beside the output (NAME.state), kept up to date while the process runs "
     "so that a SIGKILL leaves a readable, cut-short snapshot: its bound in MiB (sparse: "
     "only what is used is resident; when full, new sites stay in memory only, with a warning "
     "when the bound was set, not when it is the default; at most "
     "1024; 0 = no state file)", 0, 1024, 0},
    [OPT_LIVE] = {"HEAPSNAP_LIVE", OPT_BOOL, "0",
     "1: serve `heapsnap live PID` on /tmp/heapsnap-UID/PID.sock (0600, in a 0700 directory) "
     "and keep the state file on (64 MiB if HEAPSNAP_STATE is 0); `heapsnap run --live` "
     "sets it; 0: no socket, nothing served", 0, 1, 0},
    [OPT_SERVICE] = {"HEAPSNAP_SERVICE", OPT_STR, "",
     "the service this process belongs to, kept in its state file's header (up to 39 bytes) "
     "for `heapsnap serve`, whose metrics carry it as the label service", 0, 0, 0},
    [OPT_PAUSED] = {"HEAPSNAP_PAUSED", OPT_BOOL, "0",
     "1: recording stopped from start-up until the program calls heapsnap_start() "
     "(heapsnap.start() in Python; the pytest plugin sets it); a process that ends stopped "
     "writes no exit snapshot", 0, 1, 0},
    [OPT_RUN_START] = {"HEAPSNAP_RUN_START", OPT_INT, "0",
     "set by heapsnap run: when it started (ns since the epoch); a file under a name without "
     "%p written before it is an earlier run's and is replaced, never renamed around",
     0, 0x7fffffffffffffffL, 0},
    [OPT_RUN_PID] = {"HEAPSNAP_RUN_PID", OPT_INT, "0",
     "set by heapsnap run: the pid it started; under a name without %p only the program in "
     "that pid takes the bare name, every other process (a spawned worker, a child) adds "
     "its pid, silently", 0, 0x7fffffffL, 0},
};

/* HEAPSNAP_* variables that are not the shim's (the CLI reads them, or
 * scripts/debian-root.sh: where its roots live, HEAPSNAP_ROOTS): the
 * shim's warning about names it does not know leaves these alone. */
static const char *const opt_other_vars[] = {"HEAPSNAP_PROGRESS", "HEAPSNAP_LAUNCHER",
                                              "HEAPSNAP_DEBUG", "HEAPSNAP_SHIM",
                                              "HEAPSNAP_SYSROOT", "HEAPSNAP_OS_RELEASE",
                                              "HEAPSNAP_ROOTS", "HEAPSNAP_DEBUG_CACHE",
                                              "HEAPSNAP_DEBUG_CACHE_MAX"};

/* Signals no program survives as a snapshot trigger, refused by the shim
 * and by `heapsnap run` alike: the faults re-run the faulting instruction
 * after the handler (a loop of snapshots), ABRT and TRAP are how programs
 * and debuggers end or stop them, KILL and STOP cannot be caught. */
static inline int opt_signal_unsafe(int sig)
{
    switch (sig) {
    case SIGSEGV: case SIGILL: case SIGBUS: case SIGFPE:
    case SIGTRAP: case SIGABRT: case SIGKILL: case SIGSTOP:
        return 1;
    }
    return 0;
}

/* OPT_MSEC's parser, shared by the shim and `heapsnap run` so that both
 * take the same text: digits, then optionally '.' and 1 to 3 digits; no
 * sign, exponent or blank.  0 and *ms filled, or -1. */
static inline int opt_parse_msec(const char *s, long lo, long hi, long *ms)
{
    long v = 0, frac = 0;
    int n = 0, f = 0;
    for (; *s >= '0' && *s <= '9' && n < 12; s++, n++)
        v = v * 10 + (*s - '0');
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9' && f < 3; s++, f++)
            frac = frac * 10 + (*s - '0');
    if (n == 0 || *s || (f == 0 && s[-1] == '.'))
        return -1;
    for (; f < 3; f++)
        frac *= 10;
    v = v * 1000 + frac;
    if (v < lo || v > hi)
        return -1;
    *ms = v;
    return 0;
}

#endif
