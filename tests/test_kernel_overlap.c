/* tests/test_kernel_overlap.c: calls whose source and destination share bytes behave as
 * if the source were read whole first (SEMANTICS 4.2, memmove), decided from the bytes
 * themselves: a heap segment and a native one over the same array; in-place calls run
 * without a copy of the source when each element is its own source, a chunk at a time in
 * a safe direction otherwise, from a copy of the whole source only when no direction is
 * safe (sj_counters says which). */
#include <inttypes.h>
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
        sj_tier last_in_place = sj_kernel_last_tier(k);
        sj_counters_get(&c1);
        memcpy(want, b.data, b.size);
        memcpy(b.data, src.data, b.size);
        assert_status(sj_kernel_run(k, &ref, NULL, &err), SJ_OK, &err);
        assert_memory_equal(want, b.data, b.size);
        /* in place on either tier: the JIT compiles the kernel's in-place loop */
        assert_int_equal(c1.overlap_in_place - c0.overlap_in_place, 1);
        assert_int_equal(c1.overlap_chunked - c0.overlap_chunked, 0);
        assert_int_equal(c1.overlap_copies - c0.overlap_copies, 0);
        assert_int_equal(c1.fallbacks_overlap - c0.fallbacks_overlap, 0);
        assert_int_equal(last_in_place, test_tier());
        free(want);
        tbuf_free(&src);
        tbuf_free(&b);
        sj_kernel_free(k);
    }
}

/* Fields swapped in place (the second move reads what the first wrote) and records shifted
 * by half a record, a whole one or many either way. Where an element's writes meet its own
 * source (in place, half a record) it runs a chunk at a time (several chunks here) through
 * a bounded buffer, forward or backward, nothing copied whole; a whole record apart it
 * runs straight on compiled loops (the interpreter runs a block move by move: pieces of
 * one record would be slower than the buffer), and APART_PIECE_MIN records apart (64) or
 * more straight on either tier, the interpreter in pieces whose writes miss their sources. */
static void test_chunked(void **state) {
    (void)state;
    enum { N = 20000, FAR = 8 * 64, FARTHER = 8 * 1000 };
    sj_kernel *k = kernel_convert("[i4(a)i4(b)]", "[i4(b)i4(a)]");
    tbuf b;
    tbuf_init(&b, N * 8 + FARTHER, 0, -1);
    tbuf_pattern(&b, 3);
    const int shifts[] = {-FARTHER, -FAR, -FAR + 8, -8, -4, 0, 4, 8, FAR - 8, FAR, FARTHER};
    for (size_t si = 0; si < sizeof shifts / sizeof *shifts; si++) {
        int shift = shifts[si];
        bool far = shift <= -FAR || shift >= FAR;
        uint8_t *orig = snapshot(&b);
        sj_counters c0, c1;
        sj_counters_get(&c0);
        sj_error err = {0};
        int64_t so = shift < 0 ? -shift : 0, dof = shift > 0 ? shift : 0;
        sj_args a = {&b.seg, so, &b.seg, dof, N};
        assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
        test_check_tier(k, false);
        sj_counters_get(&c1);
        bool apart = shift <= -8 || shift >= 8;
        bool straight = far || (apart && sj_kernel_last_tier(k) == SJ_TIER_JIT);
        if (test_tier() == SJ_TIER_JIT && apart && sj_kernel_last_tier(k) != SJ_TIER_JIT) {
            sj_kernel_info in; /* not compiled: the variants must have declined */
            assert_status(sj_kernel_stats(k, &in, &err), SJ_OK, &err);
            assert_true(in.variants_declined > 0 || in.fallbacks_overlap > 0);
        }
        assert_int_equal(c1.overlap_direct - c0.overlap_direct, straight ? 1 : 0);
        assert_int_equal(c1.overlap_chunked - c0.overlap_chunked, straight ? 0 : 1);
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

/* test_chunked with strides that differ: two fields swapped into records twice as long
 * (8 -> 16 bytes) and back (16 -> 8), so the distance from an element's destination to
 * its own source changes by 8 bytes per element. Where it stays far enough the call runs
 * straight on either tier (the interpreter in pieces); where it crosses zero, or
 * pieces would shrink below 64 elements, the rest goes through the bounded buffer;
 * nothing is copied whole. Destination padding is zeroed (SEMANTICS 4.3). The expected bytes come
 * from the snapshot, not from a kernel. */
static void test_chunked_strides(void **state) {
    (void)state;
    enum { N = 2000, B = 20000 };
    static const struct {
        const char *from, *to;
        int S, D;
    } k2[] = {{"[i4(a)i4(b)]", "[i4(b)i4(a)x8]", 8, 16}, {"[i4(a)i4(b)x8]", "[i4(b)i4(a)]", 16, 8}};
    for (int t = 0; t < 2; t++) {
        sj_kernel *k = kernel_convert(k2[t].from, k2[t].to);
        int S = k2[t].S, D = k2[t].D, g = D - S; /* distance(j) = shift + g * j */
        /* shifts for g = 8; mirrored for g = -8 */
        const int base[] = {1024,         512,          8,     0, -4, -8 * N - 1024, -8 * N - 512,
                            -8 * N + 100, -8 * N - 240, -8 * N};
        tbuf b;
        tbuf_init(&b, (size_t)B + 16 * N + B, 0, -1);
        for (size_t h = 0; h < sizeof base / sizeof *base; h++) {
            int shift = g > 0 ? base[h] : -base[h];
            tbuf_pattern(&b, (unsigned)(t * 16 + h));
            uint8_t *orig = snapshot(&b), *want = snapshot(&b);
            int64_t so = B, dof = B + shift;
            int64_t mind = INT64_MAX;        /* the least |distance| over the elements */
            bool above = true, below = true; /* every element writes after / before what it
                                                reads (8 bytes read, D written) */
            for (int j = 0; j < N; j++) {
                memcpy(want + dof + (int64_t)j * D, orig + so + (int64_t)j * S + 4, 4);
                memcpy(want + dof + (int64_t)j * D + 4, orig + so + (int64_t)j * S, 4);
                memset(want + dof + (int64_t)j * D + 8, 0, (size_t)(D - 8)); /* padding */
                int64_t d = (int64_t)shift + (int64_t)g * j;
                if ((d < 0 ? -d : d) < mind) mind = d < 0 ? -d : d;
                above = above && d >= 8;
                below = below && d + D <= 0;
            }
            sj_counters c0, c1;
            sj_counters_get(&c0);
            sj_error err = {0};
            sj_args a = {&b.seg, so, &b.seg, dof, N};
            assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
            test_check_tier(k, false);
            sj_counters_get(&c1);
            assert_memory_equal(b.data, want, b.size);
            assert_int_equal(c1.overlap_copies - c0.overlap_copies, 0);
            assert_int_equal((c1.overlap_direct - c0.overlap_direct) +
                                 (c1.overlap_chunked - c0.overlap_chunked),
                             1);
            /* Compiled loops run element by element in a safe direction: straight exactly
             * when every element's writes lie on one side of its own reads. The
             * interpreter's pieces end where a piece's writes would reach its own sources,
             * which |distance| / max(S, D) elements from anywhere never do: straight when
             * that is 64 elements or more. Otherwise through the buffer on either tier. */
            bool jit = sj_kernel_last_tier(k) == SJ_TIER_JIT;
            if (jit ? above || below : mind >= 64 * (S > D ? S : D))
                assert_int_equal(c1.overlap_direct - c0.overlap_direct, 1);
            if (!above && !below) assert_int_equal(c1.overlap_chunked - c0.overlap_chunked, 1);
            free(orig);
            free(want);
        }
        tbuf_free(&b);
        sj_kernel_free(k);
    }
}

/* One value per element, byte-swapped, shifted either way by bytes, whole values and more
 * than a group of values (the interpreter swaps a descending run 16 values at a time): the
 * result of memmove then swap, straight (no buffer) on either tier. The expected bytes come
 * from the snapshot and __builtin_bswap, not from a kernel. */
static void test_shift_swaps(void **state) {
    (void)state;
    static const char *const pairs[][2] = {{"1%s2", "1%S2"}, {"1%i4", "1%I4"}, {"1%j8", "1%J8"}};
    static const int counts[] = {1, 15, 16, 17, 33, 1000};
    for (int w = 0; w < 3; w++) {
        int W = 2 << w;
        sj_kernel *k = kernel_copy(pairs[w][0], pairs[w][1]);
        const int shifts[] = {1, W - 1, W, 5 * W, 17 * W + 3, -1, -W, -17 * W - 1};
        tbuf b;
        tbuf_init(&b, 1000 * 8 + 512, 0, -1);
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            for (size_t h = 0; h < sizeof shifts / sizeof shifts[0]; h++) {
                int n = counts[c], shift = shifts[h];
                int64_t so = 200 - (shift < 0 ? shift : 0) - 100, dof = so + shift;
                tbuf_pattern(&b, (unsigned)(c * 8 + h));
                uint8_t *want = snapshot(&b), *orig = snapshot(&b);
                for (int i = 0; i < n; i++) {
                    const uint8_t *from = orig + so + (int64_t)i * W;
                    for (int j = 0; j < W; j++)
                        want[dof + (int64_t)i * W + j] = from[W - 1 - j];
                }
                sj_counters c0, c1;
                sj_counters_get(&c0);
                sj_error err = {0};
                sj_args a = {&b.seg, so, &b.seg, dof, n};
                assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
                test_check_tier(k, false);
                sj_counters_get(&c1);
                bool meet = (shift < 0 ? -shift : shift) < n * W;
                assert_int_equal(c1.overlap_direct - c0.overlap_direct, meet ? 1 : 0);
                assert_int_equal(c1.overlap_chunked - c0.overlap_chunked, 0);
                assert_int_equal(c1.overlap_copies - c0.overlap_copies, 0);
                assert_memory_equal(b.data, want, b.size);
                free(want);
                free(orig);
            }
        }
        tbuf_free(&b);
        sj_kernel_free(k);
    }
}

/* Strides that differ: i4 -> j8 with the destination starting 4000 bytes before the
 * source. Element j's destination starts at 8j, its source at 4000 + 4j: up to j = 1000 no
 * destination reaches a later source, so 1001 elements run forward; from 1002 on the
 * elements from 1000 up run backward first, then the rest forward; one value moves per
 * element, so each runs straight (no buffer), the backward part compiled. */
static void test_direction_by_count(void **state) {
    (void)state;
    enum { N = 1001, MAX = 3000 };
    sj_kernel *k = kernel_convert("[i4(a)]", "[j8(a)]");
    tbuf b;
    tbuf_init(&b, 8 * MAX + 64, 0, -1);
    static const int counts[] = {N, N + 1, 2000, MAX};
    for (size_t t = 0; t < sizeof counts / sizeof counts[0]; t++) {
        int n = counts[t];
        tbuf_pattern(&b, 7);
        uint8_t *orig = snapshot(&b);
        sj_counters c0, c1;
        sj_counters_get(&c0);
        sj_error err = {0};
        sj_args a = {&b.seg, 4000, &b.seg, 0, n};
        assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
        test_check_tier(k, false);
        sj_counters_get(&c1);
        /* one value per element: straight, no buffer, on either tier (the backward part
         * on the interpreter from its backward variant's loops) */
        assert_int_equal(c1.overlap_direct - c0.overlap_direct, 1);
        assert_int_equal(c1.overlap_chunked - c0.overlap_chunked, 0);
        assert_int_equal(c1.overlap_copies - c0.overlap_copies, 0);
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

/* Widening and narrowing conversions over one buffer at random offsets and counts,
 * against the same kernel run from a copy of the source: every order the strides need
 * (forward, backward, split either way) runs straight (one value per element) or through
 * the chunk buffer (two fields), nothing is copied whole. */
static void test_overlap_random(void **state) {
    (void)state;
    enum { SIZE = 1 << 20, ROUNDS = 100 };
    /* conversions of records (s2 <-> j8: the gap where the order splits need not be a
     * multiple of the strides' difference, so the part that runs first matters); then a
     * gather and a scatter between i4 and a field of 16-byte records; then byte-aligned
     * conversions */
    static const char *const pairs[][2] = {
        {"[i4(a)]", "[j8(a)]"},
        {"[j8(a)]", "[i4(a)]"},
        {"[s2(a)]", "[j8(a)]"},
        {"[J8(a)]", "[s2(a)]"},
        {"[s2(a)x2i4(b)]", "[I4(b)S2(a)]"},
        {"[i4(a)s2(b)x2]", "[j8(b)]"},
        {"[j8(a)j8(b)]", "i4"},
        {"i4", "[j8(a)j8(b)]"},
        /* byte-aligned records at any offset */
        {"[1%s2(a)]", "[1%j8(a)]"},
        {"[1%i4(a)1%s2(b)]", "[1%J8(b)1%I4(a)]"},
    };
    tbuf b, ref;
    tbuf_init(&b, SIZE, 0, -1);
    tbuf_init(&ref, SIZE, 0, -1);
    uint64_t r = 0x9e3779b97f4a7c15u, direct = 0, chunked = 0;
    for (size_t c = 0; c < sizeof pairs / sizeof pairs[0]; c++) {
        sj_layout *sl = test_layout(pairs[c][0]), *dl = test_layout(pairs[c][1]);
        sj_kernel *k = NULL;
        if (c < 6 || c >= 8) {
            k = kernel_convert(pairs[c][0], pairs[c][1]);
        } else { /* over `[*].a` of open records */
            bool gather = c == 6;
            sj_layout *root = NULL;
            sj_error err = {0};
            assert_status(sj_layout_sequence(INT64_MAX / 16, gather ? sl : dl, &root, &err), SJ_OK,
                          &err);
            sj_path *pa = test_path(root, "[*].a");
            k = test_kernel(gather ? sj_kernel_gather(pa, dl, SJ_CONVERT_LOSSY, &k, &err)
                                   : sj_kernel_scatter(sl, pa, SJ_CONVERT_LOSSY, &k, &err),
                            &k, &err);
            sj_path_free(pa);
            sj_layout_unref(root);
        }
        int64_t ss = (int64_t)sj_layout_size(sl), ds = (int64_t)sj_layout_size(dl);
        int64_t sa = (int64_t)sj_layout_align(sl), da = (int64_t)sj_layout_align(dl);
        for (int round = 0; round < ROUNDS; round++) {
            /* counts up to several chunks (64 KiB of source each) */
            r = r * 6364136223846793005u + 1442695040888963407u;
            int64_t n = (int64_t)((r >> 33) % (uint64_t)(SIZE / 2 / (ss > ds ? ss : ds)));
            int64_t room_s = SIZE - n * ss, room_d = SIZE - n * ds;
            r = r * 6364136223846793005u + 1442695040888963407u;
            int64_t so = (int64_t)((r >> 20) % (uint64_t)(room_s / sa + 1)) * sa;
            int64_t dof = (int64_t)((r >> 44) % (uint64_t)(room_d / da + 1)) * da;
            if (round % 2 == 0) { /* near the source: orders split within the count */
                dof = (so + ((int64_t)(r % 64) - 32) * da) / da * da;
                dof = dof < 0 ? 0 : dof > room_d ? room_d / da * da : dof;
            }
            tbuf_pattern(&b, (unsigned)round);
            memcpy(ref.data, b.data, SIZE);
            sj_counters c0, c1;
            sj_counters_get(&c0);
            sj_error err = {0};
            sj_args a = {&b.seg, so, &b.seg, dof, n};
            assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
            sj_counters_get(&c1);
            assert_int_equal(c1.overlap_copies - c0.overlap_copies, 0);
            direct += c1.overlap_direct - c0.overlap_direct;
            chunked += c1.overlap_chunked - c0.overlap_chunked;
            /* the same call from a copy of the source into ref's bytes */
            tbuf src;
            tbuf_init(&src, SIZE, 0, -1);
            memcpy(src.data, ref.data, SIZE);
            sj_args o = {&src.seg, so, &ref.seg, dof, n};
            assert_status(sj_kernel_run(k, &o, NULL, &err), SJ_OK, &err);
            tbuf_free(&src);
            if (memcmp(b.data, ref.data, SIZE) != 0)
                fail_msg("%s -> %s: %" PRId64 " elements from %" PRId64 " to %" PRId64 " differ",
                         pairs[c][0], pairs[c][1], n, so, dof);
        }
        sj_layout_unref(sl);
        sj_layout_unref(dl);
        sj_kernel_free(k);
    }
    /* one-value pairs ran straight, the two-field one through the buffer */
    assert_true(direct > 0 && chunked > 0);
    tbuf_free(&ref);
    tbuf_free(&b);
}

/* An array reversed onto itself (a gather over a path with a negative step): element j
 * writes where element N-1-j reads, so no order of elements is safe. Chunks from both ends
 * run together through a bounded buffer (several here, 64 KiB of source each), nothing is
 * copied whole. */
static void test_no_safe_direction(void **state) {
    (void)state;
    enum { N = 100000 };
    sj_layout *root = test_layout("[100000:i4]"), *i4 = test_layout("i4");
    sj_path *pb = test_path(root, "[99999::-1]");
    sj_kernel *k = NULL;
    sj_error err = {0};
    k = test_kernel(sj_kernel_gather(pb, i4, 0, &k, &err), &k, &err);
    tbuf b;
    tbuf_init(&b, N * 4, 0, -1);
    tbuf_pattern(&b, 5);
    uint8_t *orig = snapshot(&b);
    sj_counters c0, c1;
    sj_counters_get(&c0);
    sj_args a = {&b.seg, 0, &b.seg, 0, N};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
    test_check_tier(k, false);
    sj_counters_get(&c1);
    assert_int_equal(c1.overlap_copies - c0.overlap_copies, 0);
    assert_int_equal(c1.overlap_chunked - c0.overlap_chunked, 1);
    for (int i = 0; i < N; i++)
        assert_memory_equal(b.data + i * 4, orig + (N - 1 - i) * 4, 4);
    free(orig);
    tbuf_free(&b);
    sj_kernel_free(k);
    sj_path_free(pb);
    sj_layout_unref(root);
    sj_layout_unref(i4);
}

/* Calls with no order of elements, at random offsets and counts over one buffer, against
 * the same kernel run from a copy of the source: reversed paths (gather and scatter,
 * widening and narrowing) and two destinations of a gather_many near the source. Most run
 * in chunks from both ends; a shape no chunk order serves is copied whole (counted). */
static void test_walk_random(void **state) {
    (void)state;
    enum { SIZE = 1 << 20, M = 60000, ROUNDS = 60 };
    /* source element, destination element, path (on [M:elem] of the reversed side) */
    static const struct {
        const char *src, *dst;
        int kind;   /* 0 gather (path on the source), 1 scatter, 2 gather_many of a and b */
        int64_t al; /* the offsets' step: byte-aligned layouts (1%) take any offset */
    } cases[] = {
        {"i4", "i4", 0, 8},     {"i4", "J8", 0, 8},     {"j8", "s2", 0, 8},
        {"i4", "I4", 1, 8},     {"s2", "j8", 1, 8},     {"[i4(a)s2(b)x2]", "j8", 2, 8},
        {"1%i4", "1%J8", 0, 1}, {"1%s2", "1%j8", 1, 1}, {"[1%i4(a)1%s2(b)]", "1%I4", 2, 1},
    };
    tbuf b, ref;
    tbuf_init(&b, SIZE, 0, -1);
    tbuf_init(&ref, SIZE, 0, -1);
    uint64_t r = 0x243f6a8885a308d3u, chunked = 0, copies = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sj_layout *sl = test_layout(cases[c].src), *dl = test_layout(cases[c].dst);
        sj_layout *root = NULL;
        sj_error err = {0};
        bool many = cases[c].kind == 2;
        assert_status(sj_layout_sequence(M, cases[c].kind == 1 ? dl : sl, &root, &err), SJ_OK,
                      &err);
        char rev[32];
        snprintf(rev, sizeof rev, "[%d::-1]", M - 1);
        sj_kernel *k = NULL;
        sj_path *pa = test_path(root, many ? "[*].a" : rev);
        sj_path *pbb = many ? test_path(root, "[*].b") : NULL;
        if (cases[c].kind == 0) {
            k = test_kernel(sj_kernel_gather(pa, dl, SJ_CONVERT_LOSSY, &k, &err), &k, &err);
        } else if (cases[c].kind == 1) {
            k = test_kernel(sj_kernel_scatter(sl, pa, SJ_CONVERT_LOSSY, &k, &err), &k, &err);
        } else {
            const sj_path *ps[2] = {pa, pbb};
            const sj_layout *ds[2] = {dl, dl};
            k = test_kernel(sj_kernel_gather_many(ps, ds, 2, SJ_CONVERT_LOSSY, &k, &err), &k, &err);
        }
        int64_t rs = (int64_t)sj_layout_size(root), es = (int64_t)sj_layout_size(dl);
        int64_t ss = (int64_t)sj_layout_size(sl);
        int64_t al = cases[c].al;
        for (int round = 0; round < ROUNDS; round++) {
            r = r * 6364136223846793005u + 1442695040888963407u;
            int64_t n = (int64_t)((r >> 33) % (uint64_t)(many ? M / 3 : M)) + 1;
            /* the source (a root, or n elements) and destinations near it */
            int64_t sbytes = cases[c].kind == 1 ? n * ss : rs,
                    dbytes = cases[c].kind == 1 ? rs : n * es;
            int64_t so = (int64_t)((r >> 13) % (uint64_t)((SIZE - sbytes) / al + 1)) * al;
            int64_t d1 = so + ((int64_t)((r >> 7) % 4001) - 2000) * al;
            int64_t d2 = d1 + dbytes + (int64_t)((r >> 3) % 64) * al;
            if (round % 3 == 0) d2 = d1 - dbytes - (int64_t)((r >> 3) % 64) * al;
            d1 = d1 < 0 ? 0 : d1 > SIZE - dbytes ? (SIZE - dbytes) / al * al : d1;
            bool two_fit =
                d2 >= 0 && d2 <= SIZE - dbytes && (d2 >= d1 + dbytes || d1 >= d2 + dbytes);
            if (many && !two_fit) d2 = d1 + dbytes <= SIZE - dbytes ? d1 + dbytes : d1 - dbytes;
            tbuf_pattern(&b, (unsigned)round + 17);
            memcpy(ref.data, b.data, SIZE);
            sj_counters c0, c1;
            sj_counters_get(&c0);
            const sj_segment *dsegs[2] = {&b.seg, &b.seg}, *rsegs[2] = {&ref.seg, &ref.seg};
            int64_t doffs[2] = {d1, d2};
            tbuf src;
            tbuf_init(&src, SIZE, 0, -1);
            memcpy(src.data, ref.data, SIZE);
            if (many) {
                sj_args_many a = {&b.seg, so, dsegs, doffs, 2, n};
                assert_status(sj_kernel_run_many(k, &a, &err), SJ_OK, &err);
                sj_args_many o = {&src.seg, so, rsegs, doffs, 2, n};
                sj_counters_get(&c1);
                assert_status(sj_kernel_run_many(k, &o, &err), SJ_OK, &err);
            } else {
                sj_args a = {&b.seg, so, &b.seg, d1, n};
                assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
                sj_counters_get(&c1);
                sj_args o = {&src.seg, so, &ref.seg, d1, n};
                assert_status(sj_kernel_run(k, &o, NULL, &err), SJ_OK, &err);
            }
            tbuf_free(&src);
            chunked += c1.overlap_chunked - c0.overlap_chunked;
            copies += c1.overlap_copies - c0.overlap_copies;
            if (memcmp(b.data, ref.data, SIZE) != 0)
                fail_msg("case %zu: %" PRId64 " elements from %" PRId64 " to %" PRId64
                         " (and %" PRId64 ") differ",
                         c, n, so, d1, d2);
        }
        sj_path_free(pa);
        sj_path_free(pbb);
        sj_layout_unref(root);
        sj_layout_unref(sl);
        sj_layout_unref(dl);
        sj_kernel_free(k);
    }
    print_message("walk: %" PRIu64 " calls in chunks, %" PRIu64 " copied whole\n", chunked, copies);
    assert_true(chunked > copies);
    tbuf_free(&ref);
    tbuf_free(&b);
}

/* The loops of overlapping calls in a kernel's statistics, and AUTO work counted once per
 * call: [i4(a)] -> [j8(a)] (destination stride 8, source 4) shifted so that calls run backward
 * only, then split (a backward part, then a forward one). With the backward loop's work
 * past the threshold after the split call, and the forward loop's not, only the backward
 * loop compiles. */
static void test_variant_stats(void **state) {
    (void)state;
    const char *why = NULL;
    if (!sj_jit_available(&why)) skip();
    const int64_t n = (int64_t)(UINT64_C(1) << 22) * 6 / 10; /* 0.6 of the AUTO threshold */
    sj_kernel *k = kernel_convert("[i4(a)]", "[j8(a)]");
    sj_kernel_set_tier(k, SJ_TIER_AUTO);
    tbuf b;
    tbuf_init(&b, (size_t)n * 8 + 64, 0, -1);
    tbuf_pattern(&b, 9);
    sj_error err = {0};
    sj_kernel_info in;
    /* destination 8 bytes past the source: every gap >= 0, backward only */
    sj_args back = {&b.seg, 0, &b.seg, 8, n};
    assert_status(sj_kernel_run(k, &back, NULL, &err), SJ_OK, &err);
    assert_status(sj_kernel_stats(k, &in, &err), SJ_OK, &err);
    assert_int_equal(in.variants_compiled, 0); /* 0.6 of the threshold: interpreted */
    /* destination 64 bytes before the source: the gap rises through 0 at element 16 */
    uint8_t *orig = snapshot(&b);
    sj_args split = {&b.seg, 64, &b.seg, 0, n};
    assert_status(sj_kernel_run(k, &split, NULL, &err), SJ_OK, &err);
    assert_status(sj_kernel_stats(k, &in, &err), SJ_OK, &err);
    assert_int_equal(in.variants_compiled + in.variants_declined, 1);
    assert_false(in.compiled); /* the kernel's own loop ran no call */
    if (in.variants_compiled) {
        assert_true(in.variants_code_bytes > 0);
        assert_true(in.runs_jit > 0);
    }
    for (int64_t i = 0; i < n; i += 9973) {
        int32_t v;
        int64_t w;
        memcpy(&v, orig + 64 + i * 4, 4);
        memcpy(&w, b.data + i * 8, 8);
        assert_int_equal(w, (int64_t)v);
    }
    free(orig);
    tbuf_free(&b);
    sj_kernel_free(k);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_native_same_bytes),
        cmocka_unit_test(test_in_place),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_chunked_strides),
        cmocka_unit_test(test_no_safe_direction),
        cmocka_unit_test(test_walk_random),
        cmocka_unit_test(test_shift_swaps),
        cmocka_unit_test(test_direction_by_count),
        cmocka_unit_test(test_overlap_random),
        cmocka_unit_test(test_variant_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
