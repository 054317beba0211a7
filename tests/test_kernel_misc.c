/* tests/test_kernel_misc.c: fill, mismatch and reduction kernels (SEMANTICS 4.4): fill of
 * every kind in both byte orders, the JDK's mismatch semantics, and reductions (integer
 * wrap, unsigned, the documented 8-lane float order, NaN, -0.0, empty ranges). Copies,
 * conversions, gathers and the check-order table have their own files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>

#include "tier.h"

/* ---- fill ---- */

static const char *const fill_layouts[] = {
    "b1", "ub1", "z1", "c2", "C2",  "s2",  "S2", "us2", "uS2", "i4", "I4",   "ui4",  "uI4",
    "f4", "F4",  "j8", "J8", "uj8", "uJ8", "d8", "D8",  "a8",  "A8", "1%i4", "2%J8",
};

static sj_value fill_value(sj_kind k) {
    sj_value v;
    memset(&v, 0, sizeof v);
    switch (k) {
        case SJ_BOOL:
            v.z = true;
            break;
        case SJ_I8:
            v.i8 = -3;
            break;
        case SJ_U8:
            v.u8 = 0xC1;
            break;
        case SJ_CHAR:
            v.c16 = 0x1234;
            break;
        case SJ_I16:
            v.i16 = -2;
            break;
        case SJ_U16:
            v.u16 = 0xBEEF;
            break;
        case SJ_I32:
            v.i32 = 0x01020304;
            break;
        case SJ_U32:
            v.u32 = 0xDEADBEEFu;
            break;
        case SJ_F32:
            v.f32 = -1.5f;
            break;
        case SJ_I64:
            v.i64 = INT64_C(0x0102030405060708);
            break;
        case SJ_U64:
            v.u64 = UINT64_C(0xF0E0D0C0B0A09080);
            break;
        case SJ_F64:
            v.f64 = 3.25;
            break;
        case SJ_ADDR:
            v.addr = UINT64_C(0x00007fff12345678);
            break;
        default:
            break;
    }
    return v;
}

static void fill_case(const char *text, bool heap, size_t mis, int64_t count) {
    sj_layout *l = test_layout(text);
    size_t size = (size_t)sj_layout_size(l);
    sj_value v = fill_value(sj_layout_kind(l));
    /* the element's bytes, as the checked single access writes them */
    uint8_t one[8];
    sj_segment os;
    sj_error err = {0};
    assert_int_equal(sj_segment_native(one, (int64_t)size, &os, &err), SJ_OK);
    sj_layout *un = NULL;
    assert_int_equal(sj_layout_with_align(l, 1, &un, &err), SJ_OK);
    assert_status(sj_set(&os, un, 0, v, &err), SJ_OK, &err);
    sj_layout_unref(un);

    int64_t off = (int64_t)size;
    size_t total = size * (size_t)(count + 2);
    tbuf d;
    tbuf_init(&d, total, mis, heap ? SJ_HEAP_I64 : -1);
    tbuf_pattern(&d, 4);
    uint8_t *before = malloc(total), *expect = malloc(total);
    memcpy(before, d.data, total);
    memcpy(expect, d.data, total);
    for (int64_t i = 0; i < count; i++)
        memcpy(expect + off + (size_t)i * size, one, size);

    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_fill(l, v, &k, &err), &k, &err);
    sj_args a = {NULL, 0, &d.seg, off, count};
    bool misaligned = mis % sj_layout_align(l) != 0;
    sj_status st = sj_kernel_run(k, &a, NULL, &err);
    if (misaligned) {
        assert_int_equal(st, SJ_E_ALIGN);
        assert_memory_equal(d.data, before, total); /* nothing written */
    } else {
        if (st != SJ_OK) fail_msg("fill %s: %s: %s", text, sj_status_name(st), err.message);
        assert_memory_equal(d.data, expect, total);
        test_check_tier(k, heap);
    }
    tbuf_check_guards(&d);
    free(before);
    free(expect);
    sj_kernel_free(k);
    tbuf_free(&d);
    sj_layout_unref(l);
}

static void test_fill_every_kind(void **state) {
    (void)state;
    static const int64_t counts[] = {0, 1, 5, 33, 1000};
    for (size_t i = 0; i < sizeof fill_layouts / sizeof fill_layouts[0]; i++)
        for (int heap = 0; heap < 2; heap++)
            for (size_t mis = 0; mis < 2; mis++)
                for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
                    fill_case(fill_layouts[i], heap, mis, counts[c]);
    fill_case("i4", false, 0, 200000);
}

static void test_fill_errors(void **state) {
    (void)state;
    sj_layout *s = test_layout("[i4(a)]"), *big = test_layout("8%i4");
    sj_value v = {0};
    sj_error err = {0};
    sj_kernel *k = NULL;
    assert_int_equal(sj_kernel_fill(s, v, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_fill(big, v, &k, &err), SJ_E_ARG);
    sj_layout_unref(s);
    sj_layout_unref(big);

    sj_layout *l = test_layout("i4");
    k = test_kernel(sj_kernel_fill(l, v, &k, &err), &k, &err);
    tbuf d;
    tbuf_init(&d, 40, 0, -1);
    tbuf_pattern(&d, 1);
    uint8_t before[40];
    memcpy(before, d.data, 40);
    sj_segment ro = sj_segment_readonly(&d.seg);
    sj_args a = {NULL, 0, &ro, 0, 10};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_E_READONLY, &err);
    sj_args b = {NULL, 0, &d.seg, 4, 10};
    assert_status(sj_kernel_run(k, &b, NULL, &err), SJ_E_BOUNDS, &err);
    sj_args c = {NULL, 0, &d.seg, 0, -1};
    assert_status(sj_kernel_run(k, &c, NULL, &err), SJ_E_BOUNDS, &err);
    sj_args e = {NULL, 0, &d.seg, 2, 1};
    assert_status(sj_kernel_run(k, &e, NULL, &err), SJ_E_ALIGN, &err);
    assert_memory_equal(d.data, before, 40);
    tbuf_check_guards(&d);
    tbuf_free(&d);
    sj_kernel_free(k);
    sj_layout_unref(l);
}

static void test_fill_bytes(void **state) {
    (void)state;
    for (int heap = 0; heap < 2; heap++) {
        tbuf d;
        tbuf_init(&d, 300, 1, heap ? SJ_HEAP_I32 : -1);
        memset(d.data, 0, 300);
        sj_error err = {0};
        assert_status(sj_fill_bytes(&d.seg, 3, 290, 0x5A, &err), SJ_OK, &err);
        for (int i = 0; i < 300; i++)
            assert_int_equal(d.data[i], i >= 3 && i < 293 ? 0x5A : 0);
        assert_status(sj_fill_bytes(&d.seg, 3, 298, 1, &err), SJ_E_BOUNDS, &err);
        assert_status(sj_fill_bytes(&d.seg, 0, -1, 1, &err), SJ_E_BOUNDS, &err);
        sj_segment ro = sj_segment_readonly(&d.seg);
        assert_status(sj_fill_bytes(&ro, 0, 1, 1, &err), SJ_E_READONLY, &err);
        assert_status(sj_fill_bytes(&d.seg, 300, 0, 1, &err), SJ_OK, &err);
        tbuf_check_guards(&d);
        tbuf_free(&d);
    }
}

/* ---- mismatch ---- */

static void test_mismatch_semantics(void **state) {
    (void)state;
    for (int heap = 0; heap < 2; heap++) {
        tbuf a, b;
        tbuf_init(&a, 600, 0, heap ? SJ_HEAP_I8 : -1);
        tbuf_init(&b, 600, 3, -1);
        tbuf_pattern(&a, 7);
        memcpy(b.data, a.data, 600);
        sj_error err = {0};
        int64_t r = 0;
        assert_status(sj_mismatch(&a.seg, 0, 600, &b.seg, 0, 600, &r, &err), SJ_OK, &err);
        assert_int_equal(r, -1);
        /* each position of a difference, through every path of the comparison */
        for (int64_t pos = 0; pos < 600; pos += (pos < 20 ? 1 : 37)) {
            b.data[pos] ^= 0x10;
            assert_status(sj_mismatch(&a.seg, 0, 600, &b.seg, 0, 600, &r, &err), SJ_OK, &err);
            assert_int_equal(r, pos);
            /* relative to the ranges' starts */
            if (pos >= 5) {
                assert_status(sj_mismatch(&a.seg, 5, 600, &b.seg, 5, 600, &r, &err), SJ_OK, &err);
                assert_int_equal(r, pos - 5);
            }
            b.data[pos] ^= 0x10;
        }
        /* different lengths: the shorter length when one is a prefix of the other */
        assert_status(sj_mismatch(&a.seg, 0, 100, &b.seg, 0, 200, &r, &err), SJ_OK, &err);
        assert_int_equal(r, 100);
        assert_status(sj_mismatch(&a.seg, 0, 300, &b.seg, 0, 20, &r, &err), SJ_OK, &err);
        assert_int_equal(r, 20);
        b.data[10] ^= 1;
        assert_status(sj_mismatch(&a.seg, 0, 300, &b.seg, 0, 20, &r, &err), SJ_OK, &err);
        assert_int_equal(r, 10);
        b.data[10] ^= 1;
        assert_status(sj_mismatch(&a.seg, 0, 0, &b.seg, 0, 0, &r, &err), SJ_OK, &err);
        assert_int_equal(r, -1);
        assert_status(sj_mismatch(&a.seg, 0, 0, &b.seg, 0, 4, &r, &err), SJ_OK, &err);
        assert_int_equal(r, 0);
        /* shifted ranges differ where the pattern does */
        assert_status(sj_mismatch(&a.seg, 1, 50, &b.seg, 0, 49, &r, &err), SJ_OK, &err);
        assert_int_equal(r, 0);
        /* ranges outside the segments */
        assert_status(sj_mismatch(&a.seg, 0, 601, &b.seg, 0, 10, &r, &err), SJ_E_BOUNDS, &err);
        assert_status(sj_mismatch(&a.seg, -1, 10, &b.seg, 0, 10, &r, &err), SJ_E_BOUNDS, &err);
        assert_status(sj_mismatch(&a.seg, 10, 5, &b.seg, 0, 10, &r, &err), SJ_E_BOUNDS, &err);
        assert_status(sj_mismatch(&a.seg, 0, 10, &b.seg, 0, 601, &r, &err), SJ_E_BOUNDS, &err);
        tbuf_check_guards(&a);
        tbuf_check_guards(&b);
        tbuf_free(&a);
        tbuf_free(&b);
    }
}

static void test_mismatch_kernel(void **state) {
    (void)state;
    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_mismatch(&k, &err), &k, &err);
    uint8_t x[1000], y[1000];
    for (int i = 0; i < 1000; i++)
        x[i] = y[i] = (uint8_t)(i * 3);
    y[777] = 1;
    sj_segment sx, sy;
    assert_int_equal(sj_segment_native(x, 1000, &sx, &err), SJ_OK);
    assert_int_equal(sj_segment_native(y, 1000, &sy, &err), SJ_OK);
    sj_segment ro = sj_segment_readonly(&sy); /* mismatch writes nothing */
    sj_result r;
    sj_args a = {&sx, 0, &ro, 0, 1000};
    assert_status(sj_kernel_run(k, &a, &r, &err), SJ_OK, &err);
    assert_int_equal(r.i64, 777);
    sj_args b = {&sx, 0, &sy, 0, 777};
    assert_status(sj_kernel_run(k, &b, &r, &err), SJ_OK, &err);
    assert_int_equal(r.i64, -1);
    sj_args c = {&sx, 1, &sy, 0, 1000};
    assert_status(sj_kernel_run(k, &c, &r, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_E_ARG, &err);
    sj_kernel_free(k);
}

/* ---- reductions ---- */

/* The documented order: 8 double lanes, element i into lane i % 8, then
 * ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)). */
static double reference_fsum(const double *v, int64_t n) {
    double l[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t i = 0; i < n; i++)
        l[i % 8] += v[i];
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

static uint64_t bits_of(double d) {
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

typedef struct red_fixture {
    sj_layout *root;
    sj_path *path;
    tbuf buf;
} red_fixture;

/* A root layout from text, a path in it, a buffer of `size` bytes. */
static void red_open(red_fixture *f, const char *root, const char *path, bool heap) {
    f->root = test_layout(root);
    f->path = test_path(f->root, path);
    tbuf_init(&f->buf, (size_t)sj_layout_size(f->root), 0, heap ? SJ_HEAP_F64 : -1);
    memset(f->buf.data, 0, f->buf.size);
}

static void red_close(red_fixture *f) {
    tbuf_check_guards(&f->buf);
    tbuf_free(&f->buf);
    sj_path_free(f->path);
    sj_layout_unref(f->root);
}

static sj_result red_run(red_fixture *f, sj_reduce_op op, int64_t count) {
    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_reduce(f->path, op, &k, &err), &k, &err);
    sj_args a = {&f->buf.seg, 0, NULL, 0, count};
    sj_result r;
    memset(&r, 0x77, sizeof r);
    assert_status(sj_kernel_run(k, &a, &r, &err), SJ_OK, &err);
    test_check_tier(k, !sj_segment_is_native(&f->buf.seg));
    sj_kernel_free(k);
    return r;
}

/* Sets value i of the path to v (through the checked single access). */
static void red_set(red_fixture *f, int64_t i, sj_value v) {
    sj_error err = {0};
    assert_status(sj_set_path(&f->buf.seg, f->path, 0, &i, 1, v, &err), SJ_OK, &err);
}

static void test_reduce_float_order(void **state) {
    (void)state;
    /* W2's record, y at stride 24, in both byte orders, native and heap */
    static const char *const roots[] = {"[1003:[i4(id)i4(x)d8(y)j8(z)]]",
                                        "[1003:[i4(id)i4(x)D8(y)j8(z)]]"};
    for (int heap = 0; heap < 2; heap++)
        for (int o = 0; o < 2; o++) {
            red_fixture f;
            red_open(&f, roots[o], "[*].y", heap);
            double *v = malloc(1003 * sizeof *v);
            uint64_t seed = 12345;
            for (int64_t i = 0; i < 1003; i++) {
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                v[i] = ((double)(int64_t)(seed >> 11) / 9007199254740992.0) * 1e6 + 1.0 / 3.0;
                red_set(&f, i, (sj_value){.f64 = v[i]});
            }
            static const int64_t counts[] = {0, 1, 7, 8, 9, 15, 16, 17, 100, 1003};
            for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
                sj_result r = red_run(&f, SJ_REDUCE_SUM, counts[c]);
                assert_int_equal(bits_of(r.f64), bits_of(reference_fsum(v, counts[c])));
            }
            sj_result mn = red_run(&f, SJ_REDUCE_MIN, 1003), mx = red_run(&f, SJ_REDUCE_MAX, 1003);
            double emn = INFINITY, emx = -INFINITY;
            for (int i = 0; i < 1003; i++) {
                if (v[i] < emn) emn = v[i];
                if (v[i] > emx) emx = v[i];
            }
            assert_true(mn.f64 == emn);
            assert_true(mx.f64 == emx);
            free(v);
            red_close(&f);
        }
}

static void test_reduce_f32(void **state) {
    (void)state;
    red_fixture f;
    red_open(&f, "[500:F4]", "[*]", false);
    double v[500];
    for (int i = 0; i < 500; i++) {
        float x = (float)(i * 0.37) - 50.0f + 1.0f / 7.0f;
        v[i] = x;
        red_set(&f, i, (sj_value){.f32 = x});
    }
    sj_result r = red_run(&f, SJ_REDUCE_SUM, 500);
    assert_int_equal(bits_of(r.f64), bits_of(reference_fsum(v, 500)));
    r = red_run(&f, SJ_REDUCE_MIN, 500);
    assert_true(r.f64 == (double)(-50.0f + 1.0f / 7.0f));
    red_close(&f);
}

static void test_reduce_float_special(void **state) {
    (void)state;
    red_fixture f;
    red_open(&f, "[10:d8]", "[*]", false);
    /* empty ranges give the identities */
    sj_result r = red_run(&f, SJ_REDUCE_SUM, 0);
    assert_int_equal(bits_of(r.f64), bits_of(0.0));
    r = red_run(&f, SJ_REDUCE_MIN, 0);
    assert_true(isinf(r.f64) && r.f64 > 0);
    r = red_run(&f, SJ_REDUCE_MAX, 0);
    assert_true(isinf(r.f64) && r.f64 < 0);
    /* -0.0 orders below +0.0 */
    red_set(&f, 0, (sj_value){.f64 = 0.0});
    red_set(&f, 1, (sj_value){.f64 = -0.0});
    red_set(&f, 2, (sj_value){.f64 = 0.0});
    r = red_run(&f, SJ_REDUCE_MIN, 3);
    assert_int_equal(bits_of(r.f64), bits_of(-0.0));
    r = red_run(&f, SJ_REDUCE_MAX, 3);
    assert_int_equal(bits_of(r.f64), bits_of(0.0));
    red_set(&f, 0, (sj_value){.f64 = -0.0});
    red_set(&f, 2, (sj_value){.f64 = -0.0});
    r = red_run(&f, SJ_REDUCE_MAX, 3);
    assert_int_equal(bits_of(r.f64), bits_of(-0.0));
    /* NaN anywhere: NaN (the default NaN) for MIN and MAX, NaN for SUM */
    for (int i = 0; i < 10; i++)
        red_set(&f, i, (sj_value){.f64 = i - 4.5});
    red_set(&f, 6, (sj_value){.f64 = NAN});
    r = red_run(&f, SJ_REDUCE_MIN, 10);
    assert_int_equal(bits_of(r.f64), UINT64_C(0x7ff8000000000000));
    r = red_run(&f, SJ_REDUCE_MAX, 10);
    assert_int_equal(bits_of(r.f64), UINT64_C(0x7ff8000000000000));
    r = red_run(&f, SJ_REDUCE_SUM, 10);
    assert_true(isnan(r.f64));
    r = red_run(&f, SJ_REDUCE_MIN, 6);
    assert_true(r.f64 == -4.5);
    red_close(&f);
}

static void test_reduce_int(void **state) {
    (void)state;
    for (int heap = 0; heap < 2; heap++) {
        /* signed sum wraps modulo 2^64 */
        red_fixture f;
        red_open(&f, "[4:J8]", "[*]", heap);
        red_set(&f, 0, (sj_value){.i64 = INT64_MAX});
        red_set(&f, 1, (sj_value){.i64 = 2});
        red_set(&f, 2, (sj_value){.i64 = -5});
        red_set(&f, 3, (sj_value){.i64 = INT64_MIN});
        sj_result r = red_run(&f, SJ_REDUCE_SUM, 2);
        assert_int_equal(r.u64, (uint64_t)INT64_MAX + 2u);
        r = red_run(&f, SJ_REDUCE_SUM, 4);
        assert_int_equal(r.i64, (int64_t)((uint64_t)INT64_MAX + 2u - 5u + (uint64_t)INT64_MIN));
        r = red_run(&f, SJ_REDUCE_MIN, 4);
        assert_int_equal(r.i64, INT64_MIN);
        r = red_run(&f, SJ_REDUCE_MAX, 4);
        assert_int_equal(r.i64, INT64_MAX);
        red_close(&f);

        /* narrow signed values widen with their sign */
        red_open(&f, "[300:b1]", "[*]", heap);
        int64_t sum = 0;
        for (int i = 0; i < 300; i++) {
            int8_t x = (int8_t)(i * 37);
            sum += x;
            red_set(&f, i, (sj_value){.i8 = x});
        }
        r = red_run(&f, SJ_REDUCE_SUM, 300);
        assert_int_equal(r.i64, sum);
        r = red_run(&f, SJ_REDUCE_MIN, 300);
        assert_int_equal(r.i64, -128);
        r = red_run(&f, SJ_REDUCE_MAX, 300);
        assert_int_equal(r.i64, 127);
        r = red_run(&f, SJ_REDUCE_MIN, 0);
        assert_int_equal(r.i64, 127);
        r = red_run(&f, SJ_REDUCE_MAX, 0);
        assert_int_equal(r.i64, -128);
        red_close(&f);

        /* unsigned: zero-extended, u64 accumulator */
        red_open(&f, "[3:uI4]", "[*]", heap);
        red_set(&f, 0, (sj_value){.u32 = 0xFFFFFFFFu});
        red_set(&f, 1, (sj_value){.u32 = 0xFFFFFFFFu});
        red_set(&f, 2, (sj_value){.u32 = 5});
        r = red_run(&f, SJ_REDUCE_SUM, 3);
        assert_int_equal(r.u64, UINT64_C(0x1FFFFFFFE) + 5u);
        r = red_run(&f, SJ_REDUCE_MIN, 3);
        assert_int_equal(r.u64, 5);
        r = red_run(&f, SJ_REDUCE_MAX, 3);
        assert_int_equal(r.u64, 0xFFFFFFFFu);
        r = red_run(&f, SJ_REDUCE_MIN, 0);
        assert_int_equal(r.u64, 0xFFFFFFFFu);
        red_close(&f);

        /* bool counts true values; char is unsigned */
        red_open(&f, "[5:[z1(b)x1c2(c)]]", "[*].b", heap);
        for (int i = 0; i < 5; i++)
            red_set(&f, i, (sj_value){.z = i != 2});
        r = red_run(&f, SJ_REDUCE_SUM, 5);
        assert_int_equal(r.u64, 4);
        red_close(&f);
        red_open(&f, "[5:[z1(b)x1c2(c)]]", "[*].c", heap);
        for (int i = 0; i < 5; i++)
            red_set(&f, i, (sj_value){.c16 = (uint16_t)(0xFFF0 + i)});
        r = red_run(&f, SJ_REDUCE_MAX, 5);
        assert_int_equal(r.u64, 0xFFF4);
        r = red_run(&f, SJ_REDUCE_SUM, 5);
        assert_int_equal(r.u64, 5u * 0xFFF0 + 10);
        red_close(&f);
    }
}

/* W1: a dense sum of int32 into an int64, large enough for vector loops. */
static void test_reduce_dense_i32(void **state) {
    (void)state;
    red_fixture f;
    red_open(&f, "[100003:i4]", "[*]", false);
    int32_t *v = (int32_t *)f.buf.data;
    int64_t sum = 0;
    for (int i = 0; i < 100003; i++) {
        v[i] = (int32_t)(i * 2654435761u);
        sum += v[i];
    }
    sj_result r = red_run(&f, SJ_REDUCE_SUM, 100003);
    assert_int_equal(r.i64, sum);
    red_close(&f);
}

/* Paths with steps: a negative step walks backwards from its start. */
static void test_reduce_path_steps(void **state) {
    (void)state;
    red_fixture f;
    red_open(&f, "[10:[i4(a)i4(b)]]", "[9::-2].b", false);
    for (int64_t i = 0; i < 10; i++) {
        int64_t off = i * 8 + 4;
        int32_t x = (int32_t)(i * 100);
        memcpy(f.buf.data + off, &x, 4);
    }
    sj_result r = red_run(&f, SJ_REDUCE_SUM, 5); /* 9, 7, 5, 3, 1 */
    assert_int_equal(r.i64, 2500);
    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_reduce(f.path, SJ_REDUCE_SUM, &k, &err), &k, &err);
    sj_args a = {&f.buf.seg, 0, NULL, 0, 6};
    assert_status(sj_kernel_run(k, &a, &r, &err), SJ_E_BOUNDS, &err);
    assert_non_null(strstr(err.message, "bound"));
    sj_kernel_free(k);
    red_close(&f);
}

/* Misaligned bases: unaligned layouts reduce anywhere, aligned ones are refused. */
static void test_reduce_misaligned(void **state) {
    (void)state;
    for (int heap = 0; heap < 2; heap++) {
        sj_layout *ok = test_layout("[50:[b1(t)1%J8(v)]]"),
                  *al = test_layout("[50:[j8(v)b1(t)x7]]");
        sj_path *pok = test_path(ok, "[*].v"), *pal = test_path(al, "[*].v");
        tbuf b;
        tbuf_init(&b, 800, 1, heap ? SJ_HEAP_I16 : -1);
        memset(b.data, 0, 800);
        sj_error err = {0};
        int64_t sum = 0;
        for (int64_t i = 0; i < 50; i++) {
            sj_value v = {.i64 = i * i - 1000};
            sum += v.i64;
            assert_status(sj_set_path(&b.seg, pok, 3, &i, 1, v, &err), SJ_OK, &err);
        }
        sj_kernel *k = NULL, *ka = NULL;
        k = test_kernel(sj_kernel_reduce(pok, SJ_REDUCE_SUM, &k, &err), &k, &err);
        ka = test_kernel(sj_kernel_reduce(pal, SJ_REDUCE_SUM, &ka, &err), &ka, &err);
        sj_args a = {&b.seg, 3, NULL, 0, 50};
        sj_result r;
        assert_status(sj_kernel_run(k, &a, &r, &err), SJ_OK, &err);
        assert_int_equal(r.i64, sum);
        test_check_tier(k, heap);
        sj_args aa = {&b.seg, 0, NULL, 0, 50};
        assert_status(sj_kernel_run(ka, &aa, &r, &err), SJ_E_ALIGN, &err);
        tbuf_check_guards(&b);
        tbuf_free(&b);
        sj_kernel_free(k);
        sj_kernel_free(ka);
        sj_path_free(pok);
        sj_path_free(pal);
        sj_layout_unref(ok);
        sj_layout_unref(al);
    }
}

static void test_reduce_errors(void **state) {
    (void)state;
    sj_layout *root = test_layout("[4:[2:i4]]");
    sj_path *two = test_path(root, "[*][*]"), *none = test_path(root, "[1][1]");
    sj_path *group = test_path(root, "[*]");
    sj_error err = {0};
    sj_kernel *k = NULL;
    assert_int_equal(sj_kernel_reduce(two, SJ_REDUCE_SUM, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_reduce(none, SJ_REDUCE_SUM, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_reduce(group, SJ_REDUCE_SUM, &k, &err), SJ_E_PATH);
    assert_int_equal(sj_kernel_reduce(NULL, SJ_REDUCE_SUM, &k, &err), SJ_E_ARG);
    sj_path_free(two);
    sj_path_free(none);
    sj_path_free(group);
    sj_layout_unref(root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_every_kind),   cmocka_unit_test(test_fill_errors),
        cmocka_unit_test(test_fill_bytes),        cmocka_unit_test(test_mismatch_semantics),
        cmocka_unit_test(test_mismatch_kernel),   cmocka_unit_test(test_reduce_float_order),
        cmocka_unit_test(test_reduce_f32),        cmocka_unit_test(test_reduce_float_special),
        cmocka_unit_test(test_reduce_int),        cmocka_unit_test(test_reduce_dense_i32),
        cmocka_unit_test(test_reduce_path_steps), cmocka_unit_test(test_reduce_misaligned),
        cmocka_unit_test(test_reduce_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
