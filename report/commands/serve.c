/*
 * serve.c - `heapsnap serve`: the fleet agent (docs/fleet.md).  One per
 * host, it serves every profiled process of its user (of every user with
 * --all-users, as root) over HTTP to Prometheus and to the continuous
 * profilers that read Go's pprof endpoints; report/serve/ holds the
 * rest.  This file owns the options and the listening socket: TCP on
 * 127.0.0.1 unless told otherwise, or a Unix socket made 0600, so that
 * nothing beyond the host (or the user) reads the heaps by default.  It
 * runs until SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "serve.h"

#define SERVE_PORT "9464"       /* the default port: beside Prometheus exporters' range */
#define SERVE_MAX_CONNS 256u /* Prometheus keeps a connection open per target (process) */
#define SERVE_TIMEOUT_S 10u

static volatile sig_atomic_t serve_stop;

static void serve_on_signal(int sig)
{
    (void)sig;
    serve_stop = 1;
}

static void serve_usage(void)
{
    printf("usage: heapsnap serve [--listen HOST:PORT | --unix PATH] [--top N] [--all-users]\n"
           "                      [--read-limit MIB]\n"
           "The fleet agent: every process of this host that runs heapsnap with its state\n"
           "file (heapsnap run, LD_PRELOAD, HEAPSNAP_STATE=64 heapsnap attach), found as it\n"
           "starts and ends, served over HTTP until SIGINT or SIGTERM:\n"
           "  /metrics[?pid=N]       Prometheus text format (OpenMetrics when asked): live\n"
           "                         heap, blocks, peak, RSS, mmap bytes, allocations,\n"
           "                         frees, failures, the state's health and the top sites\n"
           "                         of every process (of process N); ?agent: the agent's own\n"
           "  /debug/pprof/heap?pid=N, /debug/pprof/allocs?pid=N  gzip'd pprof as Go's\n"
           "                         net/http/pprof serves it; &seconds=N (1-%d): the\n"
           "                         change over N seconds\n"
           "  /targets               Prometheus HTTP service discovery: one target a process\n"
           "  -l, --listen HOST:PORT\n"
           "                         where to listen (default 127.0.0.1:" SERVE_PORT "; port 0:\n"
           "                         any free one); the address is printed on stderr\n"
           "      --unix PATH        listen on a Unix socket instead (made 0600)\n"
           "  -n, --top N            sites per process in /metrics (default 10, at most 100)\n"
           "      --all-users        as root, every user's processes (default: the agent's\n"
           "                         own user's only)\n"
           "      --read-limit MIB   what reading one process's state may allocate (default\n"
           "                         %d): a process whose state needs more is not read\n"
           "                         (503, and its read error in /metrics?agent)\n"
           "A process's state file is read only when its own user owns it.  docs/fleet.md\n"
           "has Prometheus, Parca and Pyroscope configurations and a systemd unit.\n",
           SERVE_MAX_SECONDS, SERVE_READ_MIB);
}

struct serve_args {
    const char *listen, *unix_path;
    int top, all_users;
    uint64_t read_mib;
};

static int serve_getopt(int argc, char **argv, struct serve_args *a, char *err, size_t errlen)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'}, {"unix", required_argument, NULL, 'U'},
        {"top", required_argument, NULL, 'n'}, {"all-users", no_argument, NULL, 'A'},
        {"read-limit", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    uint64_t v;
    int c;
    *a = (struct serve_args){.top = 10, .read_mib = SERVE_READ_MIB};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            serve_usage();
            return 0;
        case 'l':
            a->listen = optarg;
            break;
        case 'U':
            a->unix_path = optarg;
            break;
        case 'n':
            if (cli_parse_count(optarg, 100, &v) != 0) {
                cli_bad_value(err, errlen, "--top", optarg, "0 to 100");
                return cli_prefix(err, errlen, "serve"), 2;
            }
            a->top = (int)v;
            break;
        case 'A':
            a->all_users = 1;
            break;
        case 'R':
            if (cli_parse_count(optarg, 65536, &v) != 0 || v < 1) {
                cli_bad_value(err, errlen, "--read-limit", optarg, "1 to 65536 (MiB)");
                return cli_prefix(err, errlen, "serve"), 2;
            }
            a->read_mib = v;
            break;
        default:
            return cli_bad_option("serve", c, argv, longopts, err, errlen);
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "serve: unexpected argument '%s' (heapsnap serve --help)", argv[optind]);
        return 2;
    }
    if (a->listen && a->unix_path) {
        snprintf(err, errlen, "serve: --listen and --unix: one of them");
        return 2;
    }
    if (a->all_users && geteuid() != 0) {
        snprintf(err, errlen, "serve: --all-users: only root may read other users' processes");
        return 2;
    }
    return -1;
}

/* A TCP socket listening on spec (HOST:PORT, [V6]:PORT), its address as
 * clients name it in addr; the descriptor, or -1 with err. */
static int serve_tcp(const char *spec, char *addr, size_t n, char *err, size_t errlen)
{
    char host[256], port[16];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || strlen(colon + 1) >= sizeof port || !colon[1] ||
        (size_t)(colon - spec) >= sizeof host) {
        snprintf(err, errlen, "serve: bad value for --listen: '%s' (HOST:PORT, e.g. 127.0.0.1:9464)", spec);
        return -1;
    }
    uint64_t pn;
    if (cli_parse_count(colon + 1, 65535, &pn) != 0) {
        snprintf(err, errlen, "serve: bad value for --listen: '%s' (the port: 0 to 65535)", spec);
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = 0;
    snprintf(port, sizeof port, "%s", colon + 1);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE}, *ai;
    int r = getaddrinfo(host, port, &hints, &ai), one = 1;
    if (r != 0) {
        snprintf(err, errlen, "serve: bad value for --listen: '%s' (%s; a numeric address and port)",
                 spec, gai_strerror(r));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        snprintf(err, errlen, "serve: cannot listen on %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char h[INET6_ADDRSTRLEN], p[16];
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(addr, n, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
    return fd;
}

/* A Unix socket listening at path, 0600; -1 with err.  A socket left
 * there by an agent that died is replaced; any other file is not. */
static int serve_unix(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    struct stat sb;
    if (strlen(path) >= sizeof a.sun_path) {
        snprintf(err, errlen, "serve: --unix: the path is longer than a socket's (%zu bytes)",
                 sizeof a.sun_path - 1);
        return -1;
    }
    if (lstat(path, &sb) == 0) {
        if (!S_ISSOCK(sb.st_mode)) {
            snprintf(err, errlen, "serve: --unix: %s exists and is not a socket", path);
            return -1;
        }
        unlink(path);
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    mode_t old = umask(0177); /* a socket is made 0777 less the umask: 0600 */
    int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (r != 0 || listen(fd, 64) != 0) {
        snprintf(err, errlen, "serve: cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int cmd_serve(int argc, char **argv, char *err, size_t errlen)
{
    struct serve_args a;
    char addr[300];
    int rc = serve_getopt(argc, argv, &a, err, errlen);
    if (rc >= 0)
        return rc;
    int fd = a.unix_path ? serve_unix(a.unix_path, err, errlen)
                         : serve_tcp(a.listen ? a.listen : "127.0.0.1:" SERVE_PORT, addr,
                                     sizeof addr, err, errlen);
    if (fd < 0)
        return 2;
    if (a.unix_path)
        snprintf(addr, sizeof addr, "localhost");
    struct serve_cfg cfg = {.listen_fd = fd, .is_unix = a.unix_path != NULL, .addr = addr,
                            .top = a.top, .max_conns = SERVE_MAX_CONNS,
                            .timeout_s = SERVE_TIMEOUT_S};
    /* a descriptor per process served and per connection: the soft limit
     * (often 1024) raised to the hard one */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct procs ps;
    procs_init(&ps, a.all_users ? (uid_t)-1 : geteuid());
    ps.read_bytes = a.read_mib << 20;
    struct sigaction sa = {.sa_handler = serve_on_signal}, old_int, old_term, old_pipe;
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGPIPE, &ign, &old_pipe);
    if (a.unix_path)
        fprintf(stderr, "heapsnap serve: listening on unix:%s\n", a.unix_path);
    else
        fprintf(stderr, "heapsnap serve: listening on http://%s/\n", addr);
    rc = httpd_run(&cfg, &ps, &serve_stop, err, errlen) == 0 ? 0 : 2;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    procs_fini(&ps);
    close(fd);
    if (a.unix_path)
        unlink(a.unix_path);
    return rc;
}
