/* tests/test_kernel_copy.c: element copy kernels and the one-shot copies (SEMANTICS 4.2):
 * raw and byte-swapped copies over native and heap segments, aligned and misaligned bases,
 * overlap in both directions, heap maximum alignments, guard bytes. Conversions, gathers
 * and the check-order table have their own files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tier.h"

/* The bytes a copy of `count` elements must produce: each element as it is, or reversed
 * when both layouts are values wider than one byte of different orders. */
static void reference_copy(const sj_layout *sl, const sj_layout *dl, const uint8_t *src,
                           uint8_t *dst, int64_t count) {
    size_t size = (size_t)sj_layout_size(sl);
    bool swap = sj_layout_tag(sl) == SJ_VALUE && sj_layout_tag(dl) == SJ_VALUE && size > 1 &&
                sj_layout_order(sl) != sj_layout_order(dl);
    uint8_t *tmp = malloc(size * (size_t)count + 1);
    assert_non_null(tmp);
    memcpy(tmp, src, size * (size_t)count); /* memmove semantics */
    for (int64_t i = 0; i < count; i++)
        for (size_t j = 0; j < size; j++)
            dst[(size_t)i * size + j] = tmp[(size_t)i * size + (swap ? size - 1 - j : j)];
    free(tmp);
}

static const char *const pairs[][2] = {
    {"b1", "b1"},         {"i4", "i4"},
    {"i4", "I4"},         {"I4", "i4"},
    {"s2", "S2"},         {"c2", "C2"},
    {"j8", "J8"},         {"d8", "D8"},
    {"i4", "f4"},         {"i4", "F4"},
    {"1%i4", "1%I4"},     {"1%j8", "1%j8"},
    {"2%j8", "2%J8"},     {"[i4(a)s2(b)s2(c)]", "[i4(a)s2(b)s2(c)]"},
    {"[3:i4]", "[3:I4]"}, {"[j8(x)d8(y)]", "[j8(p)d8(q)]"},
    {"[5:b1]", "[5:b1]"},
};

/* One copy case: src and dst in separate buffers (native or heap), each misaligned by
 * `mis` bytes; the expected status follows from the layouts' alignments. */
static void copy_case(const char *stext, const char *dtext, bool heap, size_t mis, int64_t count) {
    sj_layout *sl = test_layout(stext), *dl = test_layout(dtext);
    size_t size = (size_t)sj_layout_size(sl);
    int64_t soff = (int64_t)(2 * size), doff = (int64_t)size;
    size_t ssize = (size_t)soff + size * (size_t)count + size,
           dsize = (size_t)doff + size * (size_t)count + 3;
    tbuf s, d;
    tbuf_init(&s, ssize, mis, heap ? SJ_HEAP_I64 : -1);
    tbuf_init(&d, dsize, mis, heap ? SJ_HEAP_I64 : -1);
    tbuf_pattern(&s, 1);
    tbuf_pattern(&d, 2);
    uint8_t *before = malloc(dsize), *expect = malloc(dsize);
    memcpy(before, d.data, dsize);
    memcpy(expect, d.data, dsize);

    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_copy(sl, dl, &k, &err), &k, &err);
    sj_args a = {&s.seg, soff, &d.seg, doff, count};
    bool misaligned = mis % sj_layout_align(sl) != 0 || mis % sj_layout_align(dl) != 0;
    sj_status st = sj_kernel_run(k, &a, NULL, &err);
    if (misaligned) {
        if (st != SJ_E_ALIGN)
            fail_msg("%s -> %s misaligned by %zu: got %s", stext, dtext, mis, sj_status_name(st));
        assert_memory_equal(d.data, before, dsize);
    } else {
        if (st != SJ_OK)
            fail_msg("%s -> %s (%s, misaligned %zu, count %lld): %s: %s", stext, dtext,
                     heap ? "heap" : "native", mis, (long long)count, sj_status_name(st),
                     err.message);
        reference_copy(sl, dl, s.data + soff, expect + doff, count);
        assert_memory_equal(d.data, expect, dsize);
        test_check_tier(k, heap);
    }
    tbuf_check_guards(&s);
    tbuf_check_guards(&d);

    /* The one-shot form gives the same bytes. */
    if (!misaligned) {
        memcpy(d.data, before, dsize);
        assert_status(sj_copy(&s.seg, sl, soff, &d.seg, dl, doff, count, &err), SJ_OK, &err);
        assert_memory_equal(d.data, expect, dsize);
        tbuf_check_guards(&d);
    }
    free(before);
    free(expect);
    sj_kernel_free(k);
    tbuf_free(&s);
    tbuf_free(&d);
    sj_layout_unref(sl);
    sj_layout_unref(dl);
}

static void test_copy_matrix(void **state) {
    (void)state;
    static const int64_t counts[] = {0, 1, 7, 64, 1000};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        for (int heap = 0; heap < 2; heap++)
            for (size_t mis = 0; mis < 2; mis++)
                for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
                    copy_case(pairs[i][0], pairs[i][1], heap, mis, counts[c]);
}

/* Large enough for several interpreter blocks and the AUTO/JIT threshold paths. */
static void test_copy_large(void **state) {
    (void)state;
    copy_case("i4", "I4", false, 0, 300000);
    copy_case("[j8(x)d8(y)]", "[j8(p)d8(q)]", false, 0, 50000);
    copy_case("j8", "J8", true, 0, 100000);
}

/* Overlapping source and destination in one segment behave like memmove, whichever comes
 * first, for raw copies and swapping copies alike. */
static void overlap_case(const char *stext, const char *dtext, int64_t soff, int64_t doff,
                         int64_t count, bool heap) {
    sj_layout *sl = test_layout(stext), *dl = test_layout(dtext);
    size_t size = (size_t)sj_layout_size(sl);
    size_t total = size * (size_t)count + 64;
    tbuf b;
    tbuf_init(&b, total, 0, heap ? SJ_HEAP_I64 : -1);
    tbuf_pattern(&b, 3);
    uint8_t *expect = malloc(total);
    memcpy(expect, b.data, total);
    reference_copy(sl, dl, b.data + soff, expect + doff, count);
    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_copy(sl, dl, &k, &err), &k, &err);
    sj_args a = {&b.seg, soff, &b.seg, doff, count};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
    assert_memory_equal(b.data, expect, total);
    tbuf_check_guards(&b);
    free(expect);
    sj_kernel_free(k);
    tbuf_free(&b);
    sj_layout_unref(sl);
    sj_layout_unref(dl);
}

static void test_copy_overlap(void **state) {
    (void)state;
    for (int heap = 0; heap < 2; heap++) {
        overlap_case("i4", "i4", 0, 4, 10, heap);  /* dst after src */
        overlap_case("i4", "i4", 8, 0, 10, heap);  /* dst before src */
        overlap_case("i4", "I4", 0, 4, 10, heap);  /* swapping, dst after src */
        overlap_case("i4", "I4", 12, 0, 10, heap); /* swapping, dst before src */
        overlap_case("i4", "I4", 0, 0, 10, heap);  /* in place */
        overlap_case("1%j8", "1%J8", 0, 3, 9, heap);
        overlap_case("1%j8", "1%J8", 5, 0, 9, heap);
        overlap_case("[i4(a)s2(b)s2(c)]", "[i4(a)s2(b)s2(c)]", 0, 8, 5, heap);
    }
    overlap_case("i4", "I4", 0, 4, 5000, false);
}

/* Slices of one native buffer: distinct segments that share memory. */
static void test_copy_overlap_slices(void **state) {
    (void)state;
    uint8_t buf[64];
    for (int i = 0; i < 64; i++)
        buf[i] = (uint8_t)i;
    sj_error err = {0};
    sj_segment whole, lo, hi;
    assert_int_equal(sj_segment_native(buf, 64, &whole, &err), SJ_OK);
    assert_int_equal(sj_segment_slice(&whole, 0, 40, &lo, &err), SJ_OK);
    assert_int_equal(sj_segment_slice(&whole, 2, 40, &hi, &err), SJ_OK);
    assert_status(sj_copy_bytes(&lo, 0, &hi, 0, 40, &err), SJ_OK, &err);
    for (int i = 0; i < 40; i++)
        assert_int_equal(buf[2 + i], i);
    assert_int_equal(buf[0], 0);
    assert_int_equal(buf[1], 1);
}

/* Rule 3.3 on heap segments: an access of alignment A is aligned only when A does not
 * exceed the backing array's element size, whatever the real address. */
static void test_copy_heap_max_align(void **state) {
    (void)state;
    static const struct {
        const char *layout;
        uint64_t align;
    } ls[] = {{"b1", 1}, {"s2", 2}, {"i4", 4}, {"j8", 8}, {"1%j8", 1}, {"2%j8", 2}, {"4%J8", 4}};
    for (int kind = SJ_HEAP_I8; kind <= SJ_HEAP_F64; kind++) {
        unsigned e = test_heap_elem(kind);
        for (size_t i = 0; i < sizeof ls / sizeof ls[0]; i++) {
            sj_layout *l = test_layout(ls[i].layout);
            sj_error err = {0};
            sj_kernel *k = NULL;
            k = test_kernel(sj_kernel_copy(l, l, &k, &err), &k, &err);
            tbuf src, dst;
            tbuf_init(&src, 64, 0, -1);
            tbuf_init(&dst, 64, 0, kind);
            tbuf_pattern(&src, 5);
            memset(dst.data, 0, 64);
            /* into the heap segment, at offset 0 and at one element of the array */
            for (int64_t off = 0; off <= 8; off += (int64_t)e) {
                sj_args a = {&src.seg, 0, &dst.seg, off, 2};
                bool ok = ls[i].align <= e && off % (int64_t)ls[i].align == 0;
                sj_status st = sj_kernel_run(k, &a, NULL, &err);
                if (st != (ok ? SJ_OK : SJ_E_ALIGN))
                    fail_msg("%s into heap kind %d at %lld: %s (%s)", ls[i].layout, kind,
                             (long long)off, sj_status_name(st), err.message);
                if (ok) assert_memory_equal(dst.data + off, src.data, 2 * sj_layout_size(l));
                /* and out of it */
                sj_args b = {&dst.seg, off, &src.seg, 0, 2};
                st = sj_kernel_run(k, &b, NULL, &err);
                assert_int_equal(st, ok ? SJ_OK : SJ_E_ALIGN);
            }
            tbuf_check_guards(&dst);
            tbuf_free(&src);
            tbuf_free(&dst);
            sj_kernel_free(k);
            sj_layout_unref(l);
        }
    }
}

static void test_copy_layout_errors(void **state) {
    (void)state;
    sj_layout *i4 = test_layout("i4"), *j8 = test_layout("j8"), *a8i4 = test_layout("8%i4");
    sj_layout *empty = test_layout("[]");
    sj_error err = {0};
    sj_kernel *k = NULL;
    assert_int_equal(sj_kernel_copy(i4, j8, &k, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "size"));
    assert_int_equal(sj_kernel_copy(a8i4, i4, &k, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "alignment"));
    assert_non_null(strstr(err.message, "source"));
    assert_int_equal(sj_kernel_copy(i4, a8i4, &k, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "destination"));
    assert_int_equal(sj_kernel_copy(empty, empty, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_copy(NULL, i4, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_copy(i4, i4, NULL, &err), SJ_E_ARG);
    sj_layout_unref(i4);
    sj_layout_unref(j8);
    sj_layout_unref(a8i4);
    sj_layout_unref(empty);
}

static void test_copy_bytes(void **state) {
    (void)state;
    tbuf s, d;
    tbuf_init(&s, 100, 1, -1);
    tbuf_init(&d, 100, 3, SJ_HEAP_I16);
    tbuf_pattern(&s, 9);
    memset(d.data, 0, 100);
    sj_error err = {0};
    /* no alignment constraint, native to heap at odd offsets */
    assert_status(sj_copy_bytes(&s.seg, 3, &d.seg, 5, 90, &err), SJ_OK, &err);
    assert_memory_equal(d.data + 5, s.data + 3, 90);
    assert_int_equal(d.data[4], 0);
    assert_int_equal(d.data[95], 0);
    assert_status(sj_copy_bytes(&s.seg, 3, &d.seg, 11, 90, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy_bytes(&s.seg, -1, &d.seg, 0, 1, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy_bytes(&s.seg, 0, &d.seg, 0, -1, &err), SJ_E_BOUNDS, &err);
    sj_segment ro = sj_segment_readonly(&d.seg);
    assert_status(sj_copy_bytes(&s.seg, 0, &ro, 0, 1, &err), SJ_E_READONLY, &err);
    /* a read-only source is fine */
    sj_segment sro = sj_segment_readonly(&s.seg);
    assert_status(sj_copy_bytes(&sro, 0, &d.seg, 0, 100, &err), SJ_OK, &err);
    assert_memory_equal(d.data, s.data, 100);
    /* zero bytes at the very end is fine, one past it is not */
    assert_status(sj_copy_bytes(&s.seg, 100, &d.seg, 100, 0, &err), SJ_OK, &err);
    assert_status(sj_copy_bytes(&s.seg, 101, &d.seg, 100, 0, &err), SJ_E_BOUNDS, &err);
    tbuf_check_guards(&s);
    tbuf_check_guards(&d);
    tbuf_free(&s);
    tbuf_free(&d);
}

static void test_copy_describe(void **state) {
    (void)state;
    sj_layout *a = test_layout("i4"), *b = test_layout("I4"), *c = test_layout("[j8(b)i4(a)]");
    sj_error err = {0};
    sj_kernel *k1 = NULL, *k2 = NULL;
    k1 = test_kernel(sj_kernel_copy(a, b, &k1, &err), &k1, &err);
    k2 = test_kernel(sj_kernel_copy(c, c, &k2, &err), &k2, &err);
    char *t1 = NULL, *t2 = NULL;
    assert_int_equal(sj_kernel_describe(k1, &t1, &err), SJ_OK);
    assert_int_equal(sj_kernel_describe(k2, &t2, &err), SJ_OK);
    assert_non_null(strstr(t1, "copy"));
    assert_non_null(strstr(t1, "swap 4 bytes"));
    assert_non_null(strstr(t2, "block copy"));
    free(t1);
    free(t2);
    assert_int_equal(sj_kernel_tier(k1), test_tier());
    assert_int_equal(sj_kernel_last_tier(k1), SJ_TIER_DEFAULT);
    sj_kernel_free(k1);
    sj_kernel_free(k2);
    sj_layout_unref(a);
    sj_layout_unref(b);
    sj_layout_unref(c);
}

static void test_counters(void **state) {
    (void)state;
    sj_counters_reset();
    sj_layout *a = test_layout("i4");
    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_copy(a, a, &k, &err), &k, &err);
    int32_t x[4] = {1, 2, 3, 4}, y[4] = {0};
    sj_segment sx, sy;
    assert_int_equal(sj_segment_native(x, sizeof x, &sx, &err), SJ_OK);
    assert_int_equal(sj_segment_native(y, sizeof y, &sy, &err), SJ_OK);
    sj_args args = {&sx, 0, &sy, 0, 4};
    assert_status(sj_kernel_run(k, &args, NULL, &err), SJ_OK, &err);
    assert_memory_equal(x, y, sizeof x);
    sj_counters c;
    sj_counters_get(&c);
    assert_int_equal(c.plans_built, 1);
    assert_int_equal(c.runs_interp + c.runs_jit, 1);
    char *text = NULL;
    assert_int_equal(sj_counters_print(&text, &err), SJ_OK);
    assert_non_null(strstr(text, "plans built"));
    free(text);
    sj_kernel_free(k);
    sj_layout_unref(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_matrix),
        cmocka_unit_test(test_copy_large),
        cmocka_unit_test(test_copy_overlap),
        cmocka_unit_test(test_copy_overlap_slices),
        cmocka_unit_test(test_copy_heap_max_align),
        cmocka_unit_test(test_copy_layout_errors),
        cmocka_unit_test(test_copy_bytes),
        cmocka_unit_test(test_copy_describe),
        cmocka_unit_test(test_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
