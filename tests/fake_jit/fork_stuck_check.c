/* tests/fake_jit/fork_stuck_check.c: run with SEGJIT_JIT_TEST_STUCK=3. A child forked while
 * a compile of the parent is inside LLVM (the third, which never ends) cannot trust LLVM's
 * state or the JIT's locks: its compiles decline at once, saying why, and run on the
 * interpreter with the right bytes; they never wait for the parent's threads (the fork
 * waits 200 ms for the compile, then gives up). (A child forked
 * while no compile runs compiles as usual: fork_check.c.) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <segjit/segjit.h>

#include "stuck.h"

static void *stuck_caller(void *arg) {
    (void)arg;
    run_one(2, NULL); /* the third compile: never returns while the JIT is on */
    return NULL;
}

/* In a child: variant v's kernel; 0 when its bytes are right and it ran on the tier the
 * child expects (compiled, or declined for the fork). */
static int child(int v, bool want_jit) {
    sj_kernel *k = NULL;
    if (run_one(v, &k)) return 1;
    sj_counters c;
    sj_counters_get(&c);
    bool jit = sj_kernel_last_tier(k) == SJ_TIER_JIT;
    sj_kernel_free(k);
    if (jit != want_jit) {
        fprintf(stderr, "child: variant %d ran %s (last decline: %s)\n", v,
                jit ? "compiled" : "interpreted", c.last_decline);
        return 1;
    }
    if (!want_jit && !strstr(c.last_decline, "forked while 1 compile ran in LLVM")) {
        fprintf(stderr, "child: the decline does not say why: %s\n", c.last_decline);
        return 1;
    }
    return 0;
}

static int in_child(int v, bool want_jit) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) _exit(child(v, want_jit));
    int st = 0;
    return pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
}

int main(void) {
    /* both pipelines compiled once, so the third compile holds LLVM shared */
    if (run_one(0, NULL) || run_one(1, NULL)) {
        fprintf(stderr, "the first kernels did not compile\n");
        return 1;
    }
    pthread_t th;
    start_third_compile(&th, stuck_caller);
    int bad = in_child(5, false) || in_child(6, false);
    if (bad)
        fprintf(stderr, "a child forked during a compile did not decline cleanly\n");
    else
        puts("children forked during a compile declined at once, with the right bytes");
    fflush(NULL);
    _exit(bad); /* the stuck compile never ends: no exit handlers wait for it */
}
