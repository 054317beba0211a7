/* tests/test_jit_stress.c: many threads compiling, running and releasing JIT kernels at
 * once, through the provider seam: plans shared by all threads (cache hits, waits on a
 * compile in progress, the last release racing a new compile) and plans of one thread
 * only. Every run's result is checked. Skips when built without the JIT. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit_api.h"
#include "jit_loader.h"
#include "plan.h"

enum { THREADS = 8, ITERS = 60, SHARED = 6, N = 517 };

static const sj_jit_provider *P;
static atomic_int g_failures;
static char g_first_failure[256];
static pthread_mutex_t g_fail_lock = PTHREAD_MUTEX_INITIALIZER;

static void report(const char *fmt, ...) {
    pthread_mutex_lock(&g_fail_lock);
    if (atomic_fetch_add(&g_failures, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g_first_failure, sizeof g_first_failure, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&g_fail_lock);
}

typedef struct plan_box {
    sj_plan p;
    sj_move m[2];
} plan_box;

/* Plan `id`: even ids swap 4-byte units between strided records, odd ids sum an i32
 * field. The id picks offsets and strides, so distinct ids are distinct kernels. */
static void make_plan(plan_box *b, unsigned id) {
    memset(b, 0, sizeof *b);
    sj_plan *p = &b->p;
    p->src.used = true;
    if (id % 2 == 0) {
        unsigned v = id / 2;
        p->op = SJ_PLAN_MOVE;
        p->dst.used = p->dst.writes = true;
        p->src.stride = 8 + 4 * (int64_t)(v % 7);
        p->dst.stride = 4 + 4 * (int64_t)(v / 7 % 5);
        p->src.elem_align = p->dst.elem_align = 4;
        b->m[0].kind = SJ_MOVE_SWAP;
        b->m[0].width = 4;
        b->m[0].len = 4;
        b->m[0].src_off = 4 * (v % 2);
        b->m[0].dst_off = 0;
        p->moves = b->m;
        p->nmoves = 1;
    } else {
        unsigned v = id / 2;
        p->op = SJ_PLAN_REDUCE;
        p->src.stride = 4 + 4 * (int64_t)(v % 9);
        p->src.elem_align = 4;
        p->red.op = SJ_REDUCE_SUM;
        p->red.kind = SJ_I32;
        p->red.off = 0;
    }
}

static uint32_t ld32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Runs plan p through fn on fresh data and checks the result; 0 when right. */
static int run_and_check(const sj_plan *p, sj_loop_fn fn, uint8_t *src, uint8_t *dst,
                         unsigned seed) {
    for (size_t i = 0; i < (size_t)N * 64; i++)
        src[i] = (uint8_t)(i * 131u + seed);
    if (p->op == SJ_PLAN_REDUCE) {
        int64_t got = 0, want = 0;
        fn(src, NULL, N, &got);
        for (int64_t i = 0; i < N; i++)
            want += (int32_t)ld32(src + i * p->src.stride);
        return got == want ? 0 : 1;
    }
    memset(dst, 0xAB, (size_t)N * 64);
    fn(src, dst, N, NULL);
    for (int64_t i = 0; i < N; i++) {
        uint32_t want = __builtin_bswap32(ld32(src + i * p->src.stride + p->moves[0].src_off));
        if (ld32(dst + i * p->dst.stride) != want) return 1;
        for (int64_t k = 4; k < p->dst.stride; k++) /* the gap between elements */
            if (dst[i * p->dst.stride + k] != 0xAB) return 1;
    }
    return 0;
}

static void *worker(void *arg) {
    unsigned t = (unsigned)(uintptr_t)arg;
    uint8_t *src = malloc((size_t)N * 64), *dst = malloc((size_t)N * 64);
    if (!src || !dst) {
        report("thread %u: out of memory", t);
        free(src);
        free(dst);
        return NULL;
    }
    sj_jit_code *held = NULL; /* one kernel kept across iterations */
    for (unsigned it = 0; it < ITERS; it++) {
        /* alternate shared plans (ids 0..SHARED-1) and this thread's own ids */
        unsigned id = it % 3 ? (it * 7 + t) % SHARED : 100 + t * ITERS + it;
        plan_box b;
        make_plan(&b, id);
        sj_loop_fn fn = NULL;
        sj_jit_code *code = NULL;
        char why[256] = "";
        if (P->compile(&b.p, &fn, &code, why, sizeof why) != 0) {
            report("thread %u iteration %u: plan %u declined: %s", t, it, id, why);
            break;
        }
        if (run_and_check(&b.p, fn, src, dst, it + t) != 0) {
            report("thread %u iteration %u: plan %u gave a wrong result", t, it, id);
            P->release(code);
            break;
        }
        if (it % 5 == 0) { /* keep this one a while: the release comes later */
            if (held) P->release(held);
            held = code;
        } else {
            P->release(code);
        }
    }
    if (held) P->release(held);
    free(src);
    free(dst);
    return NULL;
}

static void test_threads(void **state) {
    (void)state;
    sj_jit_stats s0, s1;
    P->stats(&s0);
    pthread_t th[THREADS];
    for (unsigned t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t), 0);
    for (unsigned t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    if (atomic_load(&g_failures))
        fail_msg("%d failures; first: %s", atomic_load(&g_failures), g_first_failure);
    P->stats(&s1);
    print_message("%d threads x %d: %llu compiled, %llu cache hits\n", THREADS, ITERS,
                  (unsigned long long)(s1.compiled - s0.compiled),
                  (unsigned long long)(s1.cache_hits - s0.cache_hits));
    assert_true(s1.cache_hits > s0.cache_hits);
}

/* After every thread released everything, the same plans compile again. */
static void test_recompile_after_release(void **state) {
    (void)state;
    uint8_t *src = malloc((size_t)N * 64), *dst = malloc((size_t)N * 64);
    assert_non_null(src);
    assert_non_null(dst);
    for (unsigned id = 0; id < SHARED; id++) {
        plan_box b;
        make_plan(&b, id);
        sj_loop_fn fn;
        sj_jit_code *code;
        char why[256];
        assert_int_equal(P->compile(&b.p, &fn, &code, why, sizeof why), 0);
        assert_int_equal(run_and_check(&b.p, fn, src, dst, id), 0);
        P->release(code);
    }
    free(src);
    free(dst);
}

int main(void) {
    char why[256] = "";
    P = sj_jit_provider_get(why, sizeof why);
    if (!P) {
        if (strcmp(why, "built without the JIT") == 0) {
            printf("skip: %s\n", why);
            return 0;
        }
        fprintf(stderr, "the JIT is built but did not load: %s\n", why);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_recompile_after_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
