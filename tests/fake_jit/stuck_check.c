/* tests/fake_jit/stuck_check.c: run with SEGJIT_JIT_TEST_STUCK=3 and SEGJIT_JIT_TEST_OOM=1:3.
 * The third compile never ends inside LLVM, as one waiting for a one-time initialiser's
 * guard that a jump out of LLVM left taken; the next compile, on another thread, runs out
 * of memory and turns the JIT off. The stuck compile's caller must not wait for ever: it
 * declines and its call runs on the interpreter (right bytes), as does the failing one;
 * code compiled before still runs. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <segjit/segjit.h>

#include "stuck.h"

static void *stuck_caller(void *arg) {
    (void)arg;
    return (void *)(intptr_t)run_one(2, NULL); /* the third compile */
}

int main(void) {
    sj_kernel *first = NULL;
    /* both pipelines compiled once, so the later compiles hold LLVM shared, in parallel */
    if (run_one(0, &first) || sj_kernel_last_tier(first) != SJ_TIER_JIT || run_one(1, NULL)) {
        fprintf(stderr, "the first kernels did not compile\n");
        return 1;
    }
    pthread_t th;
    start_third_compile(&th, stuck_caller);
    int bad = run_one(3, NULL); /* out of memory: the JIT goes off */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    void *r = NULL;
    if (pthread_timedjoin_np(th, &r, &until) != 0) {
        fprintf(stderr, "the stuck compile's caller still waits after 60 s\n");
        return 1;
    }
    bad |= (int)(intptr_t)r;
    sj_counters c;
    sj_counters_get(&c);
    printf("compiled %llu, declined %llu; last decline: %s\n",
           (unsigned long long)c.kernels_compiled, (unsigned long long)c.declines, c.last_decline);
    if (c.declines < 2 || !strstr(c.last_decline, "out of memory")) bad = 1;
    bad |= run_one(0, NULL);
    sj_kernel_free(first);
    if (!bad) puts("no hang: the stuck compile's caller declined, every run right");
    return bad;
}
