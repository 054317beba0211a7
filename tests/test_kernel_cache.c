/* tests/test_kernel_cache.c: compiled code that outlives its kernels (the bounded LRU code
 * cache, sj_jit_set_cache_limit), one-shot calls that keep their kernel, per-kernel
 * statistics (sj_kernel_stats) and the counters by decline reason and fallback, all
 * through the public API. Run on both tiers, and once with the JIT made unloadable
 * (test_kernel_cache_nojit: every JIT-tier kernel declines as "unavailable"). Each test
 * uses layouts of its own, so that no other test compiled its plans first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "internal.h"
#include "jit_api.h"
#include "jit_loader.h"
#include "tier.h"

/* Whether kernels of the tier under test may run compiled code in this process. */
static bool jit_on(void) {
    return test_tier() == SJ_TIER_JIT && sj_jit_available(NULL);
}

/* A copy kernel from layout text `from` to `to`, on the tier under test; *elem (when not
 * NULL) gets the element size. */
static sj_kernel *copy_kernel_sized(const char *from, const char *to, size_t *elem) {
    sj_layout *a = test_layout(from), *b = test_layout(to);
    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_copy(a, b, &k, &err), &k, &err);
    if (elem) *elem = (size_t)sj_layout_size(a);
    sj_layout_unref(a);
    sj_layout_unref(b);
    return k;
}

static sj_kernel *copy_kernel(const char *from, const char *to) {
    return copy_kernel_sized(from, to, NULL);
}

/* test_run_copy, then the tier check. */
static void run_copy(sj_kernel *k, size_t elem, size_t n, size_t unit) {
    test_run_copy(k, elem, n, unit);
    test_check_tier(k, false);
}

/* Create, run, free; create again with the same plan: one compile, one cache hit. */
static void test_create_free_create(void **state) {
    (void)state;
    sj_counters_reset();
    sj_kernel *k = copy_kernel("[3:s2]", "[3:S2]");
    run_copy(k, 6, 100, 0); /* sequences: copied as they are (copy swaps values only) */
    sj_kernel_info first = test_info(k);
    sj_kernel_free(k);
    k = copy_kernel("[3:s2]", "[3:S2]");
    sj_kernel_info fresh = test_info(k);
    assert_false(fresh.compiled);
    assert_int_equal(fresh.runs_interp + fresh.runs_jit, 0);
    assert_int_equal(fresh.last_tier, SJ_TIER_DEFAULT);
    run_copy(k, 6, 100, 0);
    sj_kernel_info second = test_info(k);
    sj_kernel_free(k);

    sj_counters c;
    sj_counters_get(&c);
    assert_int_equal(c.plans_built, 2);
    if (jit_on()) {
        assert_int_equal(c.kernels_compiled, 1);
        assert_int_equal(c.cache_hits, 1);
        assert_true(first.compiled && !first.cache_hit);
        assert_true(second.compiled && second.cache_hit);
        assert_true(first.code_bytes > 0 && first.code_bytes == second.code_bytes);
        assert_true(first.ns_compile > 0 && second.ns_compile == first.ns_compile);
        assert_int_equal(first.runs_jit, 1);
        assert_int_equal(second.last_tier, SJ_TIER_JIT);
        assert_true(c.cache_entries >= 1 && c.cache_bytes_unreferenced > 0);
    } else {
        assert_int_equal(c.kernels_compiled, 0);
        assert_false(first.compiled || second.compiled);
        assert_int_equal(second.runs_interp, 1);
        assert_int_equal(second.last_tier, SJ_TIER_INTERP);
    }
}

/* Compiles and frees a kernel of plan `from` -> `to` (JIT tier); returns how many bytes the
 * cache's unreferenced part grew by. */
static uint64_t compile_free(const char *from, const char *to, bool *hit) {
    sj_counters c0, c1;
    sj_counters_get(&c0);
    size_t elem = 0;
    sj_kernel *k = copy_kernel_sized(from, to, &elem);
    sj_kernel_set_tier(k, SJ_TIER_JIT);
    run_copy(k, elem, 33, 0);
    sj_kernel_info in = test_info(k);
    assert_true(in.compiled);
    if (hit) *hit = in.cache_hit;
    sj_kernel_free(k);
    sj_counters_get(&c1);
    return c1.cache_bytes_unreferenced - c0.cache_bytes_unreferenced;
}

/* A small bound: the least recently used unreferenced code goes first; code a live kernel
 * holds stays whatever the bound. */
static void test_lru_eviction(void **state) {
    (void)state;
    if (!jit_on()) {
        print_message("skip: needs the JIT tier\n");
        skip();
    }
    static const char *const plans[3][2] = {
        {"[2:[1%i4(a)x1]]", "[2:[1%i4(a)x1]]"}, /* copies of 10-, 14- and 18-byte records */
        {"[2:[1%i4(a)x5]]", "[2:[1%i4(a)x5]]"},
        {"[2:[1%i4(a)x9]]", "[2:[1%i4(a)x9]]"},
    };
    uint64_t saved = sj_jit_cache_limit();
    sj_counters c0, c1;
    /* each plan's cost, all three kept under a large bound, then none under 0 */
    sj_jit_set_cache_limit(UINT64_C(1) << 40);
    uint64_t cost[3];
    for (int i = 0; i < 3; i++) {
        cost[i] = compile_free(plans[i][0], plans[i][1], NULL);
        assert_true(cost[i] > 0);
    }
    sj_counters_get(&c0);
    sj_jit_set_cache_limit(0);
    sj_counters_get(&c1);
    assert_true(c1.cache_evictions - c0.cache_evictions >= 3);
    assert_int_equal(c1.cache_bytes_unreferenced, 0);
    assert_int_equal(sj_jit_cache_limit(), 0);

    /* bound = B + C: after A, B, C are freed in turn only A has gone */
    sj_jit_set_cache_limit(cost[1] + cost[2]);
    sj_counters_get(&c0);
    for (int i = 0; i < 3; i++)
        compile_free(plans[i][0], plans[i][1], NULL);
    sj_counters_get(&c1);
    assert_int_equal(c1.kernels_compiled - c0.kernels_compiled, 3);
    assert_int_equal(c1.cache_recompiles - c0.cache_recompiles, 3); /* evicted by the 0 */
    assert_int_equal(c1.cache_evictions - c0.cache_evictions, 1);
    assert_int_equal(c1.cache_bytes_unreferenced, cost[1] + cost[2]);
    bool hit = false;
    sj_counters_get(&c0);
    compile_free(plans[1][0], plans[1][1], &hit); /* B: kept */
    assert_true(hit);
    compile_free(plans[0][0], plans[0][1], &hit); /* A: compiled again, evicting C */
    assert_false(hit);
    sj_counters_get(&c1);
    assert_int_equal(c1.kernels_compiled - c0.kernels_compiled, 1);
    assert_int_equal(c1.cache_recompiles - c0.cache_recompiles, 1);
    assert_int_equal(c1.cache_hits - c0.cache_hits, 1);

    /* a live kernel's code survives a bound of 0 and the churn of other kernels */
    size_t elem = 0;
    sj_kernel *live = copy_kernel_sized(plans[2][0], plans[2][1], &elem);
    sj_kernel_set_tier(live, SJ_TIER_JIT);
    run_copy(live, elem, 33, 0);
    sj_jit_set_cache_limit(0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(compile_free(plans[i][0], plans[i][1], NULL), 0);
    sj_counters_get(&c0);
    assert_int_equal(c0.cache_bytes_unreferenced, 0);
    assert_true(c0.cache_entries >= 1);
    run_copy(live, elem, 33, 0);
    assert_int_equal(sj_kernel_last_tier(live), SJ_TIER_JIT);
    assert_true(test_info(live).compiled);
    sj_kernel_free(live); /* now unreferenced: released at once under a bound of 0 */
    sj_counters_get(&c1);
    assert_int_equal(c1.cache_evictions - c0.cache_evictions, 1);
    assert_int_equal(c1.cache_entries, c0.cache_entries - 1);
    sj_jit_set_cache_limit(saved);
}

/* Kernels compiled, run and freed on one thread while another runs a kept kernel and a
 * third keeps setting the bound to 0 and back: nothing crashes, the bytes stay right. */
typedef struct churn {
    sj_kernel *live;
    _Atomic bool stop;
} churn;

static void *run_live(void *arg) {
    churn *c = arg;
    while (!atomic_load(&c->stop))
        run_copy(c->live, 7, 64, 0);
    return NULL;
}

static void *flip_limit(void *arg) {
    churn *c = arg;
    for (unsigned i = 0; !atomic_load(&c->stop); i++)
        sj_jit_set_cache_limit(i % 2 ? 0 : UINT64_C(1) << 20);
    return NULL;
}

static void test_evict_while_running(void **state) {
    (void)state;
    if (!jit_on()) {
        print_message("skip: needs the JIT tier\n");
        skip();
    }
    uint64_t saved = sj_jit_cache_limit();
    churn c = {copy_kernel("[1%i4(a)x3]", "[1%i4(a)x3]"), false};
    sj_kernel_set_tier(c.live, SJ_TIER_JIT);
    run_copy(c.live, 7, 16, 0);
    pthread_t t1, t2;
    assert_int_equal(pthread_create(&t1, NULL, run_live, &c), 0);
    assert_int_equal(pthread_create(&t2, NULL, flip_limit, &c), 0);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 4; i++) {
            char t[32];
            snprintf(t, sizeof t, "[1%%i4(a)x%d]", 12 + i);
            compile_free(t, t, NULL);
        }
    atomic_store(&c.stop, true);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(test_info(c.live).runs_interp, 0);
    sj_kernel_free(c.live);
    sj_jit_set_cache_limit(saved);
}

/* Ten one-shot copies of equal layouts (new layout objects each time): one plan, one
 * kernel kept, at most one compile. */
static void test_oneshot_copy(void **state) {
    (void)state;
    enum { N = 1 << 20, CALLS = 10 };
    uint32_t *src = malloc(4u * N), *dst = malloc(4u * N);
    assert_non_null(src);
    assert_non_null(dst);
    for (uint32_t i = 0; i < N; i++)
        src[i] = i * 2654435761u;
    sj_segment s, d;
    sj_error err = {0};
    assert_int_equal(sj_segment_native(src, 4 * (int64_t)N, &s, &err), SJ_OK);
    assert_int_equal(sj_segment_native(dst, 4 * (int64_t)N, &d, &err), SJ_OK);
    sj_counters_reset();
    for (int call = 0; call < CALLS; call++) {
        sj_layout *a = test_layout("ui4(n)"), *b = test_layout("uI4(n)");
        memset(dst, 0, 4u * N);
        assert_status(sj_copy(&s, a, 0, &d, b, 0, N, &err), SJ_OK, &err);
        for (uint32_t i = 0; i < N; i += 4093)
            if (dst[i] != __builtin_bswap32(src[i])) fail_msg("call %d, element %u", call, i);
        sj_layout_unref(a);
        sj_layout_unref(b);
    }
    sj_counters c;
    sj_counters_get(&c);
    assert_int_equal(c.plans_built, 1);
    assert_int_equal(c.oneshot_misses, 1);
    assert_int_equal(c.oneshot_hits, CALLS - 1);
    assert_int_equal(c.runs_interp + c.runs_jit, CALLS);
    /* the one-shot kernel's tier is SEGJIT_TIER's, auto by default: it compiles once its
     * calls have run the auto threshold (4M elements) */
    const char *env = getenv("SEGJIT_TIER");
    bool may_compile = sj_jit_available(NULL) && !(env && strcmp(env, "interp") == 0);
    assert_int_equal(c.kernels_compiled + c.cache_hits, may_compile ? 1 : 0);
    if (may_compile) assert_true(c.runs_jit > 0);

    /* more distinct pairs than the kept slots: the first is built again, bounded */
    sj_counters_reset();
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < SJ_ONESHOT_SLOTS + 4; i++) {
            char t[32];
            snprintf(t, sizeof t, "[%d:ub1]", i + 1);
            sj_layout *a = test_layout(t);
            assert_status(sj_copy(&s, a, 0, &d, a, 0, 3, &err), SJ_OK, &err);
            sj_layout_unref(a);
        }
    sj_counters_get(&c);
    assert_int_equal(c.oneshot_misses, 2 * (SJ_ONESHOT_SLOTS + 4));
    assert_int_equal(c.plans_built, 2 * (SJ_ONESHOT_SLOTS + 4));
    /* bad input still answers as before */
    sj_layout *a = test_layout("ui4");
    assert_status(sj_copy(&s, a, 0, &d, NULL, 0, 1, &err), SJ_E_ARG, &err);
    assert_status(sj_copy(&s, a, 0, &d, a, 0, -1, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy(&s, a, 1, &d, a, 0, 1, &err), SJ_E_ALIGN, &err);
    sj_layout_unref(a);
    free(src);
    free(dst);
}

/* Threads making one-shot copies over more layout pairs than there are kept slots: kernels
 * are replaced while other threads run them; every copy is right, every call counted. */
enum { OS_THREADS = 4, OS_CALLS = 600, OS_PAIRS = SJ_ONESHOT_SLOTS + 8 };

static void *oneshot_worker(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    uint8_t src[OS_PAIRS * 4], dst[OS_PAIRS * 4];
    sj_segment s, d;
    sj_error err = {0};
    if (sj_segment_native(src, sizeof src, &s, &err) != SJ_OK ||
        sj_segment_native(dst, sizeof dst, &d, &err) != SJ_OK)
        return (void *)1;
    for (int call = 0; call < OS_CALLS; call++) {
        int pair = (int)((seed * 7u + (unsigned)call * 13u) % OS_PAIRS);
        char t[32];
        snprintf(t, sizeof t, "[%d:b1]", pair + 1);
        sj_layout *l = NULL;
        if (sj_layout_parse(t, &l, &err) != SJ_OK) return (void *)1;
        for (size_t i = 0; i < sizeof src; i++)
            src[i] = (uint8_t)(i + seed + (unsigned)call);
        memset(dst, 0, sizeof dst);
        sj_status st = sj_copy(&s, l, 0, &d, l, 0, 4, &err);
        sj_layout_unref(l);
        if (st != SJ_OK || memcmp(src, dst, 4u * (unsigned)(pair + 1)) != 0) return (void *)1;
    }
    return NULL;
}

static void test_oneshot_threads(void **state) {
    (void)state;
    sj_counters_reset();
    pthread_t t[OS_THREADS];
    for (int i = 0; i < OS_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, oneshot_worker, (void *)(uintptr_t)i), 0);
    for (int i = 0; i < OS_THREADS; i++) {
        void *rc = NULL;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
    sj_counters c;
    sj_counters_get(&c);
    assert_int_equal(c.oneshot_hits + c.oneshot_misses, OS_THREADS * OS_CALLS);
    assert_true(c.oneshot_misses >= OS_PAIRS);
    assert_int_equal(c.plans_built, c.oneshot_misses);
}

/* Each thread keeps its last call's kernel (no lock when the next call has the same
 * layouts): threads repeating one pair while others evict it from the kept slots, and a call
 * nested in a pin callback of a call running the kept kernel, copy right and count every
 * call once. */
enum { KEPT_CALLS = 3000 };
static sj_layout *kept_a, *kept_b;

static void *kept_worker(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    uint32_t src[8], dst[8];
    sj_segment s, d;
    sj_error err = {0};
    if (sj_segment_native(src, sizeof src, &s, &err) != SJ_OK ||
        sj_segment_native(dst, sizeof dst, &d, &err) != SJ_OK)
        return (void *)1;
    for (int call = 0; call < KEPT_CALLS; call++) {
        bool other = (call + (int)seed) % 10 == 0; /* now and then another pair */
        sj_layout *l = NULL;
        if (other) {
            char t[32];
            snprintf(t, sizeof t, "[%d:z1]", 1 + (call / 10) % 3); /* pairs no other test uses */
            if (sj_layout_parse(t, &l, &err) != SJ_OK) return (void *)1;
        }
        for (int i = 0; i < 8; i++)
            src[i] = (uint32_t)(i + call) * 2654435761u + seed;
        memset(dst, 0, sizeof dst);
        sj_status st = other ? sj_copy(&s, l, 0, &d, l, 0, 4, &err)
                             : sj_copy(&s, kept_a, 0, &d, kept_b, 0, 8, &err);
        sj_layout_unref(l);
        if (st != SJ_OK) return (void *)1;
        for (int i = 0; i < 8 && !other; i++)
            if (dst[i] != __builtin_bswap32(src[i])) return (void *)1;
        if (other && memcmp(src, dst, 4 * (size_t)(1 + (call / 10) % 3)) != 0) return (void *)1;
    }
    return NULL;
}

typedef struct nest_array {
    uint32_t data[8];
    uint32_t inner_src[8], inner_dst[8];
    sj_status inner;
} nest_array;

static void *nest_resolve(void *p) {
    return ((nest_array *)p)->data;
}
static void nest_pin(void *p) { /* a copy with the same layouts, from inside the outer call */
    nest_array *n = p;
    sj_segment s, d;
    sj_error err = {0};
    sj_segment_native(n->inner_src, sizeof n->inner_src, &s, &err);
    sj_segment_native(n->inner_dst, sizeof n->inner_dst, &d, &err);
    n->inner = sj_copy(&s, kept_a, 0, &d, kept_b, 0, 8, &err);
}
static void nest_unpin(void *p) {
    (void)p;
}

static void test_oneshot_kept(void **state) {
    (void)state;
    kept_a = test_layout("ui4");
    kept_b = test_layout("uI4");
    sj_counters_reset();
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, kept_worker, (void *)(uintptr_t)i), 0);
    /* meanwhile: more pairs than slots, so the kept pair leaves its slot again and again */
    uint8_t buf[256];
    sj_segment s;
    sj_error err = {0};
    assert_int_equal(sj_segment_native(buf, sizeof buf, &s, &err), SJ_OK);
    int evicting = 0;
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < SJ_ONESHOT_SLOTS + 8; i++, evicting++) {
            char txt[32];
            snprintf(txt, sizeof txt, "[%d:z1]", i + 10);
            sj_layout *l = test_layout(txt);
            assert_status(sj_copy(&s, l, 0, &s, l, 128, 1, &err), SJ_OK, &err);
            sj_layout_unref(l);
        }
    for (int i = 0; i < 2; i++) {
        void *rc = NULL;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
    sj_counters c;
    sj_counters_get(&c);
    assert_int_equal(c.oneshot_hits + c.oneshot_misses, 2 * KEPT_CALLS + evicting);
    assert_int_equal(c.plans_built, c.oneshot_misses);

    /* nested: the outer call runs the kept kernel; its pin callback copies with it too */
    nest_array n;
    memset(&n, 0, sizeof n);
    uint32_t src[8];
    for (int i = 0; i < 8; i++)
        src[i] = n.inner_src[i] = 0x01020304u * (uint32_t)(i + 1);
    sj_segment ns, hs;
    assert_int_equal(sj_segment_native(src, sizeof src, &ns, &err), SJ_OK);
    assert_int_equal(
        sj_segment_heap_pinned(SJ_HEAP_I32, 8, &n, nest_resolve, nest_pin, nest_unpin, &hs, &err),
        SJ_OK);
    for (int rep = 0; rep < 3; rep++) { /* the second and third find the kept entry */
        memset(n.data, 0, sizeof n.data);
        memset(n.inner_dst, 0, sizeof n.inner_dst);
        assert_status(sj_copy(&ns, kept_a, 0, &hs, kept_b, 0, 8, &err), SJ_OK, &err);
        assert_int_equal(n.inner, SJ_OK);
        for (int i = 0; i < 8; i++) {
            assert_int_equal(n.data[i], __builtin_bswap32(src[i]));
            assert_int_equal(n.inner_dst[i], __builtin_bswap32(src[i]));
        }
    }
    sj_layout_unref(kept_a);
    sj_layout_unref(kept_b);
}

/* sj_fill_bytes keeps a kernel per byte value; the values share one compiled loop. */
static void test_oneshot_fill(void **state) {
    (void)state;
    enum { N = 1 << 23 };
    uint8_t *buf = malloc(N);
    assert_non_null(buf);
    sj_segment s;
    sj_error err = {0};
    assert_int_equal(sj_segment_native(buf, N, &s, &err), SJ_OK);
    sj_counters_reset();
    for (int call = 0; call < 10; call++) {
        uint8_t v = call % 2 ? 0x5c : 0xc5;
        assert_status(sj_fill_bytes(&s, 0, N, v, &err), SJ_OK, &err);
        for (size_t i = 0; i < N; i += 65521)
            if (buf[i] != v) fail_msg("call %d: byte %zu is %u", call, i, buf[i]);
    }
    sj_counters c;
    sj_counters_get(&c);
    assert_int_equal(c.plans_built, 2);
    const char *env = getenv("SEGJIT_TIER");
    bool may_compile = sj_jit_available(NULL) && !(env && strcmp(env, "interp") == 0);
    assert_int_equal(c.kernels_compiled, may_compile ? 1 : 0);
    assert_int_equal(c.cache_hits, may_compile ? 1 : 0);
    free(buf);
}

/* The limit: SEGJIT_JIT_CACHE_BYTES when set (test_kernel_cache_nojit sets 3K), else, or
 * when malformed (test_kernel_cache_badenv sets 64Q), the documented default of 16 MiB.
 * Runs first, before any test sets it. */
static void test_cache_limit_env(void **state) {
    (void)state;
    const char *env = getenv("SEGJIT_JIT_CACHE_BYTES");
    if (env && strcmp(env, "3K") == 0)
        assert_int_equal(sj_jit_cache_limit(), 3072);
    else if (!env || strcmp(env, "64Q") == 0)
        assert_int_equal(sj_jit_cache_limit(), UINT64_C(16) << 20);
    sj_counters c;
    sj_counters_get(&c);
    assert_int_equal(c.cache_limit, sj_jit_cache_limit());
}

/* Per-kernel statistics: runs per tier, heap and overlap fallbacks. */
static void test_kernel_stats(void **state) {
    (void)state;
    sj_kernel_info in;
    assert_int_equal(sj_kernel_stats(NULL, &in, NULL), SJ_E_ARG);
    sj_kernel *k = copy_kernel("[2:j8(q)]", "[2:J8(q)]");
    assert_int_equal(sj_kernel_stats(k, NULL, NULL), SJ_E_ARG);
    in = test_info(k);
    assert_int_equal(in.tier, test_tier());
    assert_int_equal(in.last_tier, SJ_TIER_DEFAULT);
    assert_false(in.compiled);
    assert_int_equal(in.decline, SJ_DECLINE_NONE);
    assert_int_equal(in.ns_jit, 0);
    assert_int_equal(in.retry_at_ns, 0);
    sj_counters c0, c1;
    sj_counters_get(&c0);

    enum { N = 64 };
    tbuf nat, heap;
    tbuf_init(&nat, 16 * N, 0, -1);
    tbuf_init(&heap, 16 * N, 0, SJ_HEAP_I64);
    tbuf_pattern(&nat, 1);
    tbuf_pattern(&heap, 2);
    sj_error err = {0};
    sj_args a = {&nat.seg, 0, &nat.seg, 16 * (N / 2), N / 2};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err); /* apart: may compile */
    a = (sj_args){&heap.seg, 0, &heap.seg, 16 * (N / 2), N / 2};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err); /* heap */
    a = (sj_args){&nat.seg, 0, &nat.seg, 16, N / 2};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err); /* overlapping */
    in = test_info(k);
    sj_counters_get(&c1);
    bool jit = test_tier() == SJ_TIER_JIT;
    assert_int_equal(in.fallbacks_heap, jit ? 1 : 0);
    assert_int_equal(c1.fallbacks_heap - c0.fallbacks_heap, jit ? 1 : 0);
    if (jit_on()) {
        assert_true(in.compiled && in.ns_jit > 0 && in.code_bytes > 0);
        assert_int_equal(in.runs_jit, 1);
        assert_int_equal(in.runs_interp, 2);
        assert_int_equal(in.fallbacks_overlap, 1);
        assert_int_equal(c1.fallbacks_overlap - c0.fallbacks_overlap, 1);
        assert_int_equal(in.decline, SJ_DECLINE_NONE);
    } else {
        assert_int_equal(in.runs_interp, 3);
        assert_int_equal(in.fallbacks_overlap, 0);
        assert_false(in.compiled);
    }
    assert_int_equal(in.last_tier, SJ_TIER_INTERP);
    assert_int_equal(in.retry_at_ns, 0); /* compiled, declined for good, or never asked */
    tbuf_check_guards(&nat);
    tbuf_check_guards(&heap);
    tbuf_free(&nat);
    tbuf_free(&heap);
    sj_kernel_free(k);
}

/* Declines are counted by reason; a kernel says why it was declined. */
static void test_decline_reasons(void **state) {
    (void)state;
    assert_string_equal(sj_decline_name(SJ_DECLINE_NONE), "none");
    assert_string_equal(sj_decline_name(SJ_DECLINE_UNAVAILABLE), "unavailable");
    assert_string_equal(sj_decline_name(SJ_DECLINE_PLAN), "plan");
    assert_string_equal(sj_decline_name(SJ_DECLINE_LLVM), "llvm");
    assert_string_equal(sj_decline_name(SJ_DECLINE_NOMEM), "nomem");
    assert_string_equal(sj_decline_name(SJ_DECLINE_COUNT), "?");
    assert_string_equal(sj_decline_name((sj_decline)-1), "?");

    sj_counters_reset();
    sj_kernel *k = copy_kernel("[5:ub1]", "[5:ub1]");
    run_copy(k, 5, 8, 0);
    sj_kernel_info in = test_info(k);
    sj_counters c;
    sj_counters_get(&c);
    uint64_t sum = 0;
    for (int i = 0; i < SJ_DECLINE_COUNT; i++)
        sum += c.declines_by[i];
    assert_int_equal(sum, c.declines);
    assert_int_equal(c.declines_by[SJ_DECLINE_NONE], 0);
    if (test_tier() == SJ_TIER_INTERP) {
        assert_false(in.compiled);
        assert_int_equal(in.decline, SJ_DECLINE_NONE);
        assert_int_equal(c.declines, 0);
    } else if (sj_jit_available(NULL)) {
        assert_true(in.compiled);
        assert_int_equal(c.declines, 0);
    } else {
        assert_false(in.compiled);
        assert_int_equal(in.decline, SJ_DECLINE_UNAVAILABLE);
        assert_true(in.decline_why[0] != '\0');
        assert_int_equal(c.declines, 1);
        assert_int_equal(c.declines_by[SJ_DECLINE_UNAVAILABLE], 1);
        assert_string_equal(c.last_decline, in.decline_why);
        assert_int_equal(in.retry_at_ns, 0); /* unavailable is final: no retry waits */
        /* a kernel is declined once; its later runs add nothing */
        run_copy(k, 5, 8, 0);
        sj_counters_get(&c);
        assert_int_equal(c.declines, 1);
    }
    if (sj_jit_available(NULL)) {
        /* the JIT's own answer for a plan it refuses */
        const sj_jit_provider *p = sj_jit_provider_get(NULL, 0);
        sj_move m = {.kind = SJ_MOVE_SWAP, .width = 4, .len = 6};
        sj_plan bad;
        memset(&bad, 0, sizeof bad);
        bad.op = SJ_PLAN_MOVE;
        bad.src.used = bad.dst.used = bad.dst.writes = true;
        bad.src.stride = bad.dst.stride = 8;
        bad.src.elem_align = bad.dst.elem_align = 1;
        bad.moves = &m;
        bad.nmoves = 1;
        sj_loop_fn fn = NULL;
        sj_jit_code *code = NULL;
        char why[160] = "";
        assert_int_equal(p->compile(&bad, &fn, &code, why, sizeof why), SJ_DECLINE_PLAN);
        assert_true(why[0] != '\0');
    }
    /* A conversion of records holding a 5000-element array: a plan the JIT may refuse
     * (one move per element) or compile (an inner loop); a refusal is a "plan" decline. */
    if (test_tier() == SJ_TIER_JIT && sj_jit_available(NULL)) {
        sj_layout *from = test_layout("[[5000:f4](v)]"), *to = test_layout("[[5000:d8](v)]");
        sj_error e = {0};
        sj_kernel *wide = NULL;
        wide = test_kernel(sj_kernel_convert(from, to, 0, &wide, &e), &wide, &e);
        tbuf a, b;
        tbuf_init(&a, 4 * 5000, 0, -1);
        tbuf_init(&b, 8 * 5000, 0, -1);
        memset(a.data, 0, a.size);
        sj_args args = {&a.seg, 0, &b.seg, 0, 1};
        sj_counters_reset();
        assert_status(sj_kernel_run(wide, &args, NULL, &e), SJ_OK, &e);
        sj_kernel_info wi = test_info(wide);
        sj_counters_get(&c);
        if (!wi.compiled) {
            assert_int_equal(wi.decline, SJ_DECLINE_PLAN);
            assert_int_equal(c.declines_by[SJ_DECLINE_PLAN], 1);
            assert_int_equal(c.declines, 1);
        } else {
            assert_int_equal(c.declines, 0);
        }
        tbuf_free(&a);
        tbuf_free(&b);
        sj_kernel_free(wide);
        sj_layout_unref(from);
        sj_layout_unref(to);
    }
    char *text = NULL;
    sj_error err = {0};
    assert_int_equal(sj_counters_print(&text, &err), SJ_OK);
    assert_non_null(strstr(text, "code cache"));
    assert_non_null(strstr(text, "unavailable "));
    assert_non_null(strstr(text, "one-shot calls"));
    free(text);
    sj_kernel_free(k);
}

int main(void) {
    /* the call that crosses the AUTO threshold compiles (test_kernel_background.c has the
     * background compiles) */
    setenv("SEGJIT_AUTO_COMPILE", "inline", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_limit_env),     cmocka_unit_test(test_create_free_create),
        cmocka_unit_test(test_lru_eviction),        cmocka_unit_test(test_oneshot_fill),
        cmocka_unit_test(test_oneshot_threads),     cmocka_unit_test(test_oneshot_kept),
        cmocka_unit_test(test_evict_while_running), cmocka_unit_test(test_oneshot_copy),
        cmocka_unit_test(test_kernel_stats),        cmocka_unit_test(test_decline_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
