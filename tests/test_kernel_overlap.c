/* tests/test_kernel_overlap.c: calls whose source and destination share bytes behave as
 * if the source were read whole first (SEMANTICS 4.2, memmove), decided from the bytes
 * themselves: a heap segment and a native one over the same array; in-place calls run
 * without a copy of the source when each element is its own source, a chunk at a time in
 * a safe direction otherwise, from a copy of the whole source only when no direction is
 * safe (sj_counters says which). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tier.h"

static sj_kernel *kernel_copy(const char *from, const char *to) {
    sj_layout *a = test_layout(from), *b = test_layout(to);
    sj_kernel *k = NULL;
    sj_error err = {0};
    test_kernel(sj_kernel_copy(a, b, &k, &err), &k, &err);
    sj_layout_unref(a);
    sj_layout_unref(b);
    return k;
}

static sj_kernel *kernel_convert(const char *from, const char *to) {
    sj_layout *a = test_layout(from), *b = test_layout(to);
    sj_kernel *k = NULL;
    sj_error err = {0};
    test_kernel(sj_kernel_convert(a, b, SJ_CONVERT_LOSSY, &k, &err), &k, &err);
    sj_layout_unref(a);
    sj_layout_unref(b);
    return k;
}

/* A copy of the buffer's bytes before a call (free it). */
static uint8_t *snapshot(const tbuf *b) {
    uint8_t *copy = malloc(b->size);
    assert_non_null(copy);
    memcpy(copy, b->data, b->size);
    return copy;
}

/* A heap source and a native destination over the same int64 array, j8 -> J8 shifted by
 * one element both ways: every element is the source's, byte-swapped, as with memmove. */
static void test_heap_native_same_bytes(void **state) {
    (void)state;
    enum { N = 1000 };
    sj_kernel *k = kernel_copy("j8", "J8");
    for (int dir = 0; dir < 2; dir++) {
        int64_t *arr = calloc(N + 1, sizeof *arr), want[N + 1];
        assert_non_null(arr);
        for (int i = 0; i <= N; i++)
            arr[i] = (int64_t)i * 0x0101010101 + 7;
        memcpy(want, arr, sizeof want);
        int so = dir ? 1 : 0, dof = dir ? 0 : 1;
        for (int i = 0; i < N; i++)
            want[i + dof] = (int64_t)__builtin_bswap64((uint64_t)arr[i + so]);
        sj_segment heap, native;
        sj_error err = {0};
        assert_status(sj_segment_of_array(SJ_HEAP_I64, arr, N + 1, &heap, &err), SJ_OK, &err);
        assert_status(sj_segment_native(arr, (int64_t)sizeof(int64_t) * (N + 1), &native, &err),
                      SJ_OK, &err);
        sj_args a = {&heap, so * 8, &native, dof * 8, N};
        assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
        test_check_tier(k, true);
        assert_memory_equal(arr, want, sizeof want);
        free(arr);
    }
    sj_kernel_free(k);
}

/* i4 -> I4 over the same bytes (the byte order fixed in place): nothing copied. */
static void test_in_place(void **state) {
    (void)state;
    enum { N = 100000 };
    static const char *const pairs[][2] = {
        {"i4", "I4"},
        {"[i4(a)I4(b)]", "[I4(a)i4(b)]"},     /* two swaps, each of its own bytes */
        {"[s2(a)x2i4(b)]", "[S2(a)x2f4(b)]"}, /* a conversion of equal width, padding kept */
    };
    for (size_t c = 0; c < sizeof pairs / sizeof pairs[0]; c++) {
        bool rec = pairs[c][0][0] == '[';
        sj_kernel *k =
            rec ? kernel_convert(pairs[c][0], pairs[c][1]) : kernel_copy(pairs[c][0], pairs[c][1]);
        size_t n = rec ? N / 2 : N;
        tbuf b;
        tbuf_init(&b, n * (rec ? 8 : 4), 0, -1);
        tbuf_pattern(&b, (unsigned)c);
        uint8_t *want = malloc(b.size);
        assert_non_null(want);
        /* the result computed from a copy of the source: a second kernel, other memory */
        tbuf src;
        tbuf_init(&src, b.size, 0, -1);
        memcpy(src.data, b.data, b.size);
        sj_args ref = {&src.seg, 0, &b.seg, 0, (int64_t)n};
        sj_error err = {0};
        sj_counters c0, c1;
        sj_counters_get(&c0);
        sj_args a = {&b.seg, 0, &b.seg, 0, (int64_t)n};
        assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
        test_check_tier(k, false);
        sj_counters_get(&c1);
        memcpy(want, b.data, b.size);
        memcpy(b.data, src.data, b.size);
        assert_status(sj_kernel_run(k, &ref, NULL, &err), SJ_OK, &err);
        assert_memory_equal(want, b.data, b.size);
        /* on either tier the interpreter runs it in place (a JIT-tier call counts the
         * fallback) */
        assert_int_equal(c1.overlap_in_place - c0.overlap_in_place, 1);
        assert_int_equal(c1.overlap_chunked - c0.overlap_chunked, 0);
        assert_int_equal(c1.overlap_copies - c0.overlap_copies, 0);
        assert_int_equal(c1.fallbacks_overlap - c0.fallbacks_overlap,
                         test_tier() == SJ_TIER_JIT ? 1 : 0);
        free(want);
        tbuf_free(&src);
        tbuf_free(&b);
        sj_kernel_free(k);
    }
}

/* Fields swapped in place (the second move reads what the first wrote) and records shifted
 * by one either way: each runs a chunk at a time (several chunks here) through a bounded
 * buffer, forward or backward, nothing copied whole. */
static void test_chunked(void **state) {
    (void)state;
    enum { N = 20000 };
    sj_kernel *k = kernel_convert("[i4(a)i4(b)]", "[i4(b)i4(a)]");
    tbuf b;
    tbuf_init(&b, N * 8 + 8, 0, -1);
    tbuf_pattern(&b, 3);
    for (int shift = -1; shift < 2; shift++) {
        uint8_t *orig = snapshot(&b);
        sj_counters c0, c1;
        sj_counters_get(&c0);
        sj_error err = {0};
        int64_t so = shift < 0 ? 8 : 0, dof = shift > 0 ? 8 : 0;
        sj_args a = {&b.seg, so, &b.seg, dof, N};
        assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
        test_check_tier(k, false);
        sj_counters_get(&c1);
        assert_int_equal(c1.overlap_chunked - c0.overlap_chunked, 1);
        assert_int_equal(c1.overlap_copies - c0.overlap_copies, 0);
        assert_int_equal(c1.overlap_in_place - c0.overlap_in_place, 0);
        for (int i = 0; i < N; i++) {
            assert_memory_equal(b.data + dof + i * 8, orig + so + i * 8 + 4, 4);
            assert_memory_equal(b.data + dof + i * 8 + 4, orig + so + i * 8, 4);
        }
        free(orig);
    }
    tbuf_free(&b);
    sj_kernel_free(k);
}

/* Strides that differ the "wrong" way, but apart enough for this count: i4 -> j8 with the
 * destination starting 4000 bytes before the source. Element j's destination starts at 8j,
 * its source at 4000 + 4j: up to j = 1000 no destination reaches a later source, so 1001
 * elements run forward, chunked, nothing copied whole; at 1002 no direction is safe. */
static void test_direction_by_count(void **state) {
    (void)state;
    enum { N = 1001 };
    sj_kernel *k = kernel_convert("[i4(a)]", "[j8(a)]");
    tbuf b;
    tbuf_init(&b, 8 * N + 64, 0, -1);
    for (int n = N; n <= N + 1; n++) {
        tbuf_pattern(&b, 7);
        uint8_t *orig = snapshot(&b);
        sj_counters c0, c1;
        sj_counters_get(&c0);
        sj_error err = {0};
        sj_args a = {&b.seg, 4000, &b.seg, 0, n};
        assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
        test_check_tier(k, false);
        sj_counters_get(&c1);
        assert_int_equal(c1.overlap_chunked - c0.overlap_chunked, n == N ? 1 : 0);
        assert_int_equal(c1.overlap_copies - c0.overlap_copies, n == N ? 0 : 1);
        for (int i = 0; i < n; i++) {
            int32_t v;
            int64_t w;
            memcpy(&v, orig + 4000 + 4 * i, 4);
            memcpy(&w, b.data + 8 * i, 8);
            assert_int_equal(w, v);
        }
        free(orig);
    }
    tbuf_free(&b);
    sj_kernel_free(k);
}

/* A gather whose dense destination starts inside a later record: going forward would
 * overwrite records not yet read, going backward too, so the source range is copied
 * whole first (counted). */
static void test_no_safe_direction(void **state) {
    (void)state;
    enum { N = 1000 };
    sj_layout *root = test_layout("[*:[i4(a)i4(b)]]"), *i4 = test_layout("i4");
    sj_path *pb = test_path(root, "[*].b");
    sj_kernel *k = NULL;
    sj_error err = {0};
    k = test_kernel(sj_kernel_gather(pb, i4, 0, &k, &err), &k, &err);
    tbuf b;
    tbuf_init(&b, N * 8 + 16, 0, -1);
    tbuf_pattern(&b, 5);
    uint8_t *orig = snapshot(&b);
    sj_counters c0, c1;
    sj_counters_get(&c0);
    sj_args a = {&b.seg, 0, &b.seg, 12, N};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
    test_check_tier(k, false);
    sj_counters_get(&c1);
    assert_int_equal(c1.overlap_copies - c0.overlap_copies, 1);
    assert_int_equal(c1.overlap_chunked - c0.overlap_chunked, 0);
    for (int i = 0; i < N; i++)
        assert_memory_equal(b.data + 12 + i * 4, orig + i * 8 + 4, 4);
    free(orig);
    tbuf_free(&b);
    sj_kernel_free(k);
    sj_path_free(pb);
    sj_layout_unref(root);
    sj_layout_unref(i4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_native_same_bytes),
        cmocka_unit_test(test_in_place),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_no_safe_direction),
        cmocka_unit_test(test_direction_by_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
