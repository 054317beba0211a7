/* tests/fake_jit/oom_threads.c: run with SEGJIT_JIT_TEST_OOM=M:2 (the JIT's second compile
 * runs out of memory). One kernel compiles first; then threads compile kernels of their
 * own at once, one of them hitting the failure. Nothing may end or hang the process: every
 * run gives the right bytes (compiled or on the interpreter), the failing compile and every
 * later one decline, and the first kernel's code still runs and is freed (leaked: the JIT
 * no longer enters LLVM). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <segjit/segjit.h>

#include "jit_variant.h"

enum { THREADS = 4, ROUNDS = 8 };

static void *worker(void *arg) {
    int t = (int)(intptr_t)arg, bad = 0;
    for (int r = 0; r < ROUNDS; r++)
        bad |= run_one(1 + t * ROUNDS + r, NULL);
    return (void *)(intptr_t)bad;
}

int main(void) {
    sj_kernel *first = NULL;
    if (run_one(0, &first) || sj_kernel_last_tier(first) != SJ_TIER_JIT) {
        fprintf(stderr, "the first kernel did not compile\n");
        return 1;
    }
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
    int bad = 0;
    for (int t = 0; t < THREADS; t++) {
        void *r = NULL;
        pthread_join(th[t], &r);
        bad |= (int)(intptr_t)r;
    }
    sj_counters c;
    sj_counters_get(&c);
    printf("compiled %llu, declined %llu; last decline: %s\n",
           (unsigned long long)c.kernels_compiled, (unsigned long long)c.declines, c.last_decline);
    /* the failure and every later compile declined; the first kernel's code still runs */
    if (c.declines == 0 || !strstr(c.last_decline, "out of memory")) bad = 1;
    bad |= run_one(0, NULL);
    sj_kernel_free(first); /* after the JIT went off: leaked, not removed */
    if (!bad) puts("no abort, no hang: every run right, the JIT off after the failure");
    return bad;
}
