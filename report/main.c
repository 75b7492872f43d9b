/*
 * main.c - `heapsnap <command> [options]`: dispatch and nothing else.  Each
 * command lives in its own file and returns the exit code; errors come back
 * as one line, printed here as "heapsnap: <line>" (exit 2).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hsnap_format.h"

#include "cli.h"
#include "commands.h"
#include "escape.h"
#include "gate.h"
#include "progress.h"
#include "version.h"


struct command {
    const char *name;
    int (*fn)(int argc, char **argv, char *err, size_t errlen);
    const char *help;
};

static const struct command commands[] = {
    {"run", cmd_run, "run CMD with the shim preloaded; prints where snapshots went"},
    {"attach", cmd_attach, "profile a running process from now on (ptrace; no restart)"},
    {"detach", cmd_detach, "end an attach: last snapshot, the process runs on as before"},
    {"live", cmd_live, "a terminal view of a running process's heap, refreshed each second"},
    {"serve", cmd_serve, "the fleet agent: every profiled process to Prometheus and pprof"},
    {"top", cmd_top, "live memory by line, file, function, module or traceback"},
    {"diff", cmd_diff, "what changed between two snapshots (tracemalloc compare_to)"},
    {"leaks", cmd_leaks, "loss records and LEAK SUMMARY from the reference model"},
    {"info", cmd_info, "a snapshot's metadata"},
    {"gate", cmd_gate, "CI gate: leak and growth rules; text, json, junit, sarif, github"},
    {"trend", cmd_trend, "call sites whose live memory grows across a series of snapshots"},
    {"timeline", cmd_timeline, "memory over time: heap, RSS and the largest sites"},
    {"export", cmd_export, "write pprof, folded stacks, speedscope or massif files"},
    {"html", cmd_html, "a self-contained HTML report: flame graph, timeline, tables"},
    {"merge", cmd_merge, "combine the snapshots of many processes into one"},
    {"clean", cmd_clean, "remove temporary files left by a snapshot write that was killed"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: heapsnap <command> [options]   (heapsnap <command> --help)\n\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nheapsnap help COMMAND (or heapsnap COMMAND --help) describes a command;\n"
                 "heapsnap --version prints the version.\n"
                 "Exit status: 0 ok, 1 a gate found something, 2 trouble.\n");
}

int main(int argc, char **argv)
{
    char err[4096] = "";
    cli_set_self(argv[0]);
    if (argc < 2) {
        fprintf(stderr, "heapsnap: no command given (see heapsnap --help)\n");
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        (!strcmp(argv[1], "help") && argc == 2)) {
        usage(stdout);
        return 0;
    }
    char help_opt[] = "--help", *help_argv[] = {argv[0], argv[argc > 2 ? 2 : 1], help_opt, NULL};
    if (!strcmp(argv[1], "help")) { /* help COMMAND: COMMAND --help */
        if (argc > 3) {
            fprintf(stderr, "heapsnap: help takes one command (heapsnap help COMMAND)\n");
            return 2;
        }
        argc = 3;
        argv = help_argv;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("heapsnap %s (snapshot format %u)\n", HEAPSNAP_VERSION, HSNAP_VERSION);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        progress_start();
        int rc = commands[i].fn(argc - 1, argv + 1, err, sizeof(err));
        progress_end();
        char line[sizeof(err)];
        if (rc == 2 && err[0]) /* one line, whatever names it quotes */
            fprintf(stderr, "heapsnap: %s\n", esc_text(err, line, sizeof(line)));
        fflush(stdout);
        return rc;
    }
    const char *names[NCOMMANDS], *near;
    for (size_t i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i].name;
    char word[256];
    esc_text(argv[1], word, sizeof(word));
    if ((near = cli_nearest(argv[1], names, NCOMMANDS)))
        fprintf(stderr, "heapsnap: unknown command '%s': did you mean '%s'? (see heapsnap --help)\n",
                word, near);
    else
        fprintf(stderr, "heapsnap: unknown command '%s' (see heapsnap --help)\n", word);
    return 2;
}
