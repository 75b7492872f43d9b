/*
 * dlsymuser.c - a program for test_attach_dlsym.sh: it calls the malloc
 * family by the addresses dlsym gives (as ctypes' CDLL(None).malloc does),
 * through no GOT entry of its own.  Commands, one a line on stdin, each
 * answered by one line on stdout:
 *   d N   dlsym(RTLD_DEFAULT, "malloc") now, then 100 blocks of N bytes
 *         through it at dlsym_site (kept)                    "allocated K"
 *   f     frees them through dlsym's free                    "freed"
 *   q     leaves                                             "bye"
 * It starts by printing "ready PID", after one plain malloc and free
 * (which `heapsnap attach` needs: a module that imports the family).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *keep[10000];
static int nk;

__attribute__((noinline)) void *dlsym_site(void *(*m)(size_t), size_t n) { return m(n); }

int main(void)
{
    char line[64];
    free(malloc(16));
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) {
        int n = atoi(line + 1);
        if (line[0] == 'd') {
            void *(*m)(size_t) = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "malloc");
            for (int i = 0; i < 100 && nk < 10000; i++)
                keep[nk++] = dlsym_site(m, (size_t)n);
            printf("allocated %d\n", nk);
        } else if (line[0] == 'f') {
            void (*f)(void *) = (void (*)(void *))dlsym(RTLD_DEFAULT, "free");
            for (int i = 0; i < nk; i++)
                f(keep[i]);
            nk = 0;
            printf("freed\n");
        } else if (line[0] == 'q') {
            printf("bye\n");
            return 0;
        }
        fflush(stdout);
    }
    return 0;
}
