/*
 * threadret.c - an ended thread's return value.  argv[1]:
 *   joinable  a thread returns malloc(48) and is never joined
 *   exit      the same through pthread_exit
 *   detached  a detached thread returns malloc(48)
 *   joined    main joins it, then drops the value
 * main waits until the thread is gone (/proc/self/task back to its count
 * before the thread), scrubs its stack
 * and exits: the exit check classifies the 48-byte block.  Valgrind 3.19
 * (memcheck --leak-check=full): joinable and exit "still reachable: 48
 * bytes in 1 blocks"; detached and joined "definitely lost: 48 bytes in
 * 1 blocks".  pthread_join can still fetch the first two.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int use_exit;

static void *body(void *arg)
{
    void *p = malloc(48);
    memset(p, 0x5a, 48);
    if (use_exit)
        pthread_exit(p);
    return p;
}

static int tasks(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

__attribute__((noinline)) static void scrub(void)
{
    volatile char pad[16384];
    for (unsigned i = 0; i < sizeof pad; i++)
        pad[i] = 0;
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "joinable";
    pthread_attr_t a;
    pthread_t t;
    int before = tasks();
    pthread_attr_init(&a);
    use_exit = !strcmp(m, "exit");
    if (!strcmp(m, "detached"))
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &a, body, NULL) != 0)
        return 2;
    if (!strcmp(m, "joined")) {
        void *r;
        pthread_join(t, &r);
        r = NULL;
    }
    for (int i = 0; i < 5000 && tasks() > before; i++)
        usleep(1000);
    scrub();
    printf("%s\n", tasks() == before ? "gone" : "running");
    return 0;
}
