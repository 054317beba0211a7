/* tests/fake_jit/stuck.h: a compile left inside LLVM for ever (SEGJIT_JIT_TEST_STUCK=3),
 * for stuck_check.c and fork_stuck_check.c (which define _GNU_SOURCE first). */
#ifndef SEGJIT_TEST_STUCK_H
#define SEGJIT_TEST_STUCK_H

#include <pthread.h>
#include <unistd.h>

#include "jit_variant.h"

/* Runs `caller` on a new thread *th and returns once its compile, the third of the process
 * (the one SEGJIT_JIT_TEST_STUCK=3 keeps inside LLVM), has begun. */
static inline void start_third_compile(pthread_t *th, void *(*caller)(void *)) {
    pthread_create(th, NULL, caller, NULL);
    sj_counters c;
    for (int i = 0; i < 3000; i++) {
        sj_counters_get(&c);
        if (c.cache_misses >= 3) break;
        usleep(10000);
    }
    usleep(100000);
}

#endif
