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

enum { N = 256, THREADS = 4, ROUNDS = 8 };

/* Runs i4 -> (I4, or the thread's own record) on the JIT tier; 0 when the bytes are right. */
static int run_one(int variant, sj_kernel **keep) {
    char to[64];
    if (variant == 0)
        snprintf(to, sizeof to, "I4");
    else
        snprintf(to, sizeof to, "[I4(v)x%d]", variant); /* a plan of its own per variant */
    sj_error err = {0};
    sj_layout *a = NULL, *b = NULL;
    sj_kernel *k = NULL;
    int32_t src[N];
    uint8_t dst[N * 64];
    memset(dst, 0xee, sizeof dst);
    for (int i = 0; i < N; i++)
        src[i] = i * 77 + variant;
    sj_segment s, d;
    if (sj_layout_parse(variant ? "[i4(v)]" : "i4", &a, &err) || sj_layout_parse(to, &b, &err) ||
        (variant ? sj_kernel_convert(a, b, 0, &k, &err) : sj_kernel_copy(a, b, &k, &err)) ||
        sj_segment_native(src, sizeof src, &s, &err) ||
        sj_segment_native(dst, sizeof dst, &d, &err)) {
        fprintf(stderr, "set-up %s: %s\n", to, err.message);
        return 1;
    }
    sj_kernel_set_tier(k, SJ_TIER_JIT);
    int bad = sj_kernel_run(k, &(sj_args){&s, 0, &d, 0, N}, NULL, &err) != SJ_OK;
    size_t stride = variant ? 4 + (size_t)variant : 4;
    for (int i = 0; i < N && !bad; i++) {
        uint32_t v;
        memcpy(&v, dst + i * stride, 4);
        bad = v != __builtin_bswap32((uint32_t)src[i]);
    }
    if (bad) fprintf(stderr, "%s: wrong bytes or status (%s)\n", to, err.message);
    sj_layout_unref(a);
    sj_layout_unref(b);
    if (keep)
        *keep = k;
    else
        sj_kernel_free(k);
    return bad;
}

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
