/*
 * clean.c - `heapsnap clean [--dry-run] [--min-age S] DIR...`: removes the
 * temporary files a snapshot writer left behind when it was killed in the
 * middle of a write (SIGKILL, a crash, power loss).  The shim and the CLI
 * name their temporaries the same way, ".BASE.tmp." and random letters and
 * digits, beside the final file (save_begin), so such leftovers can be
 * recognised; the CLI's own use O_TMPFILE where it can and leave none.
 * Only regular files older than --min-age seconds (default 60) are taken,
 * so a write in progress is left alone; symlinks are never followed.
 * The manifest file of a `heapsnap run` that a SIGKILL ended
 * (heapsnap-manifest.PID.XXXXXX, mf_name) is taken too, once no process
 * PID is left.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "escape.h"
#include "manifest.h"
#include "snapsave.h"

static void clean_usage(void)
{
    printf("usage: heapsnap clean [--dry-run] [--min-age S] DIR...\n"
           "Removes the temporary files (.NAME.tmp.XXXXXX) that a snapshot writer killed\n"
           "in the middle of a write left in DIR, and the manifest files\n"
           "(heapsnap-manifest.PID.XXXXXX) of a `heapsnap run` killed by SIGKILL once\n"
           "process PID is gone, prints each one, and how many it removed in each DIR\n"
           "on stderr.\n\n"
           "  -n, --dry-run     list them, remove nothing\n"
           "      --min-age S   only files not modified for S seconds (default 60)\n");
}

/* What clean did in one directory, said on stderr once it is done. */
struct clean_tally {
    unsigned files;
    long long bytes;
};

static void clean_said(const char *dir, int dry, uint64_t min_age, const struct clean_tally *t)
{
    char shown[4200];
    esc_text(dir, shown, sizeof(shown));
    if (!t->files)
        fprintf(stderr, "heapsnap: clean: %s: no temporary file older than %llu s to %s\n",
                shown, (unsigned long long)min_age, dry ? "list" : "remove");
    else
        fprintf(stderr, "heapsnap: clean: %s: %s %u temporary file%s (%lld bytes)%s\n", shown,
                dry ? "found" : "removed", t->files, t->files == 1 ? "" : "s", t->bytes,
                dry ? "; --dry-run removed nothing" : "");
}

/* Whether name is a manifest file of a run whose process is gone. */
static int clean_run_gone(const char *name)
{
    pid_t pid = mf_name_pid(name);
    return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

/* One directory; returns how many could not be removed, or -1. */
static int clean_dir(const char *dir, int dry, uint64_t min_age, char *err, size_t errlen)
{
    struct clean_tally tally = {0, 0};
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), bad = 0;
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    struct dirent *de;
    char path[4200], shown[4200];
    if (!d) {
        snprintf(err, errlen, "clean: %s: %s", dir, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    time_t now = time(NULL);
    while ((de = readdir(d))) {
        struct stat st;
        if (!(save_is_tmp_name(de->d_name) || clean_run_gone(de->d_name)) ||
            fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
            (uint64_t)(now - st.st_mtime) < min_age)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        esc_text(path, shown, sizeof(shown));
        if (!dry && unlinkat(dfd, de->d_name, 0) < 0) {
            fprintf(stderr, "heapsnap: clean: %s: %s\n", shown, strerror(errno));
            bad++;
            continue;
        }
        printf("%s %s (%lld bytes)\n", dry ? "stale" : "removed", shown, (long long)st.st_size);
        tally.files++;
        tally.bytes += (long long)st.st_size;
    }
    closedir(d);
    clean_said(dir, dry, min_age, &tally);
    return bad;
}

int cmd_clean(int argc, char **argv, char *err, size_t errlen)
{
    static const struct option longopts[] = {{"dry-run", no_argument, NULL, 'n'},
                                             {"min-age", required_argument, NULL, 'a'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c, dry = 0, bad = 0;
    uint64_t min_age = 60;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":nh", longopts, NULL)) != -1) {
        if (c == 'h') {
            clean_usage();
            return 0;
        } else if (c == 'n') {
            dry = 1;
        } else if (c == 'a') {
            if (cli_parse_count(optarg, 100u * 365 * 86400, &min_age) < 0) {
                snprintf(err, errlen, "clean: bad value for --min-age: '%s' (seconds, an integer)",
                         optarg);
                return 2;
            }
        } else {
            return cli_bad_option("clean", c, argv, longopts, err, errlen);
        }
    }
    if (optind >= argc) {
        snprintf(err, errlen, "clean: no directory given (heapsnap clean DIR...)");
        return 2;
    }
    for (int i = optind; i < argc; i++) {
        int r = clean_dir(argv[i], dry, min_age, err, errlen);
        if (r < 0)
            return 2;
        bad += r;
    }
    if (bad)
        snprintf(err, errlen, "clean: %d file%s could not be removed", bad, bad == 1 ? "" : "s");
    return bad ? 2 : 0;
}
