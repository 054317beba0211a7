/* tests/test_kernel_convert.c: record conversion kernels (SEMANTICS 4.3, plan.h's rules):
 * fields matched by name (nested, sequences), byte order, widening, narrowing with
 * SJ_CONVERT_LOSSY, float<->int saturation and NaN, bool, padding zeroed, unmatched fields,
 * every kind pair against tests/oracle.h, native and heap, aligned and misaligned, guards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>

#include "reference.h"

/* ---- records ---- */

typedef struct rec_case {
    const char *src, *dst;
    unsigned flags;
    const char *fields[12]; /* pairs: destination path, source path (NULL: zeroed) */
} rec_case;

static const rec_case rec_cases[] = {
    /* W4: C-padded little-endian record to a packed big-endian one, reordered */
    {"[i4(a)x4j8(b)s2(c)x6]", "[S2(c)1%I4(a)1%J8(b)]", 0, {"c", "c", "a", "a", "b", "b"}},
    /* widening, no flag needed */
    {"[i4(a)s2(b)b1(c)ub1(d)]",
     "[j8(a)j8(b)j8(c)j8(d)]",
     0,
     {"a", "a", "b", "b", "c", "c", "d", "d"}},
    {"[i4(a)s2(b)c2(c)us2(d)]",
     "[d8(a)f4(b)f4(c)ui4(d)]",
     0,
     {"a", "a", "b", "b", "c", "c", "d", "d"}},
    /* byte orders */
    {"[I4(a)i4(b)I4(c)]",
     "[j8(a)J8(b)J8(c)i4(d)x4]",
     SJ_CONVERT_ZERO_UNMATCHED,
     {"a", "a", "b", "b", "c", "c", "d", NULL}},
    {"[D8(x)F4(y)x4]", "[d8(y)f4(x)x4]", SJ_CONVERT_LOSSY, {"x", "x", "y", "y"}},
    /* narrowing and float -> int, asked for */
    {"[j8(a)d8(b)d8(c)i4(d)x4]",
     "[b1(a)x3i4(b)f4(c)us2(d)x2]",
     SJ_CONVERT_LOSSY,
     {"a", "a", "b", "b", "c", "c", "d", "d"}},
    {"[i4(a)i4(b)]", "[z1(a)z1(b)]", SJ_CONVERT_LOSSY, {"a", "a", "b", "b"}},
    /* padding zeroed, fields reordered */
    {"[s2(x)s2(y)i4(z)]", "[i4(z)x4s2(y)x2s2(x)x2]", 0, {"z", "z", "y", "y", "x", "x"}},
    /* nested structs by name path */
    {"[[i4(x)i4(y)](p)j8(t)]", "[j8(t)[j8(y)j8(x)](p)]", 0, {"t", "t", "p.y", "p.y", "p.x", "p.x"}},
    /* sequences element-wise */
    {"[[3:i4](v)s2(n)x2]",
     "[[3:J8](v)s2(n)x6]",
     0,
     {"v[0]", "v[0]", "v[1]", "v[1]", "v[2]", "v[2]", "n", "n"}},
    /* unaligned records (usable on a misaligned base) */
    {"[1%i4(a)1%d8(b)]", "[1%D8(b)1%J8(a)]", 0, {"b", "b", "a", "a"}},
    /* identical layouts: one block copy */
    {"[i4(a)i4(b)]", "[i4(a)i4(b)]", 0, {"a", "a", "b", "b"}},
    /* single values */
    {"i4", "J8", 0, {"", ""}},
    {"I4", "i4", 0, {"", ""}},
};

static int64_t path_off(const sj_layout *root, const char *text, const sj_layout **leaf) {
    sj_path *p = test_path(root, text);
    int64_t off = sj_path_base_offset(p);
    *leaf = sj_path_leaf(p);
    sj_path_free(p); /* the leaf lives in root */
    return off;
}

static void rec_run(const rec_case *c, bool heap, size_t mis, int64_t count) {
    sj_layout *sl = test_layout(c->src), *dl = test_layout(c->dst);
    size_t ssz = (size_t)sj_layout_size(sl), dsz = (size_t)sj_layout_size(dl);
    /* the records start one (aligned) record in */
    size_t dal = (size_t)sj_layout_align(dl);
    int64_t doff = (int64_t)((dsz + dal - 1) / dal * dal);
    size_t stotal = ssz * (size_t)(count + 1), dtotal = (size_t)doff + dsz * (size_t)(count + 1);
    tbuf s, d;
    tbuf_pair_init(&s, stotal, &d, dtotal, mis, heap, 21);
    uint8_t *before = malloc(dtotal), *exp = malloc(dtotal);
    memcpy(before, d.data, dtotal);
    memcpy(exp, d.data, dtotal);
    memset(exp + doff, 0, dsz * (size_t)count);
    for (size_t f = 0; f + 1 < sizeof c->fields / sizeof c->fields[0] && c->fields[f]; f += 2) {
        const sj_layout *dleaf, *sleaf;
        int64_t dfo = path_off(dl, c->fields[f], &dleaf);
        if (!c->fields[f + 1]) continue;
        int64_t sfo = path_off(sl, c->fields[f + 1], &sleaf);
        for (int64_t i = 0; i < count; i++)
            reference_value(sleaf, s.data + i * (int64_t)ssz + sfo, dleaf,
                            exp + doff + i * (int64_t)dsz + dfo);
    }
    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_convert(sl, dl, c->flags, &k, &err), &k, &err);
    sj_args a = {&s.seg, 0, &d.seg, doff, count};
    bool misaligned = mis % sj_layout_align(sl) != 0 || mis % sj_layout_align(dl) != 0;
    sj_status st = sj_kernel_run(k, &a, NULL, &err);
    if (misaligned) {
        assert_int_equal(st, SJ_E_ALIGN);
        assert_memory_equal(d.data, before, dtotal);
    } else {
        if (st != SJ_OK)
            fail_msg("%s -> %s: %s: %s", c->src, c->dst, sj_status_name(st), err.message);
        if (memcmp(d.data, exp, dtotal) != 0) {
            for (size_t i = 0; i < dtotal; i++)
                if (d.data[i] != exp[i])
                    fail_msg("%s -> %s (%s, mis %zu, count %lld): byte %zu is %02x, expected %02x",
                             c->src, c->dst, heap ? "heap" : "native", mis, (long long)count, i,
                             d.data[i], exp[i]);
        }
        test_check_tier(k, heap);
    }
    tbuf_check_guards(&s);
    tbuf_check_guards(&d);
    free(before);
    free(exp);
    sj_kernel_free(k);
    tbuf_free(&s);
    tbuf_free(&d);
    sj_layout_unref(sl);
    sj_layout_unref(dl);
}

static void test_convert_records(void **state) {
    (void)state;
    static const int64_t counts[] = {0, 1, 5, 700};
    for (size_t i = 0; i < sizeof rec_cases / sizeof rec_cases[0]; i++)
        for (int heap = 0; heap < 2; heap++)
            for (size_t mis = 0; mis < 2; mis++)
                for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
                    rec_run(&rec_cases[i], heap, mis, counts[c]);
}

static void test_convert_large(void **state) {
    (void)state;
    rec_run(&rec_cases[0], false, 0, 200000);
    rec_run(&rec_cases[5], false, 0, 50000);
}

static void test_convert_overlap(void **state) {
    (void)state;
    /* widening in place and narrowing in place: memmove semantics */
    sj_layout *a = test_layout("[i4(v)]"), *b = test_layout("[J8(v)]");
    sj_error err = {0};
    sj_kernel *wide = NULL, *narrow = NULL;
    wide = test_kernel(sj_kernel_convert(a, b, 0, &wide, &err), &wide, &err);
    narrow = test_kernel(sj_kernel_convert(b, a, SJ_CONVERT_LOSSY, &narrow, &err), &narrow, &err);
    int32_t vals[16];
    for (int i = 0; i < 16; i++)
        vals[i] = (i - 8) * 1000003;
    tbuf t;
    tbuf_init(&t, 8 * 16, 0, -1);
    memcpy(t.data, vals, sizeof vals);
    sj_args w = {&t.seg, 0, &t.seg, 0, 16};
    assert_status(sj_kernel_run(wide, &w, NULL, &err), SJ_OK, &err);
    for (int i = 0; i < 16; i++) {
        uint64_t be;
        memcpy(&be, t.data + 8 * i, 8);
        if (sj_native_order() == SJ_ORDER_LITTLE) be = __builtin_bswap64(be);
        assert_int_equal((int64_t)be, vals[i]);
    }
    assert_status(sj_kernel_run(narrow, &w, NULL, &err), SJ_OK, &err);
    assert_memory_equal(t.data, vals, sizeof vals);
    tbuf_check_guards(&t);
    tbuf_free(&t);
    sj_kernel_free(wide);
    sj_kernel_free(narrow);
    sj_layout_unref(a);
    sj_layout_unref(b);
}

/* ---- errors found when the kernel is built ---- */

static void expect_build(const char *src, const char *dst, unsigned flags, sj_status status,
                         const char *word) {
    sj_layout *sl = test_layout(src), *dl = test_layout(dst);
    sj_error err = {0};
    sj_kernel *k = NULL;
    sj_status st = sj_kernel_convert(sl, dl, flags, &k, &err);
    if (st != status || (word && !strstr(err.message, word)))
        fail_msg("%s -> %s: got %s \"%s\", expected %s with '%s'", src, dst, sj_status_name(st),
                 err.message, sj_status_name(status), word ? word : "");
    sj_kernel_free(k);
    sj_layout_unref(sl);
    sj_layout_unref(dl);
}

static void test_convert_errors(void **state) {
    (void)state;
    expect_build("[i4(a)]", "[i4(a)i4(extra)]", 0, SJ_E_ARG, "extra");
    expect_build("[i4(a)]", "[i4(a)i4(extra)]", SJ_CONVERT_ZERO_UNMATCHED, SJ_OK, NULL);
    expect_build("[[i4(x)i4(y)](p)]", "[[i4(x)i4(z)](p)]", 0, SJ_E_ARG, "p.z");
    expect_build("[j8(a)]", "[i4(a)]", 0, SJ_E_ARG, "LOSSY");
    expect_build("[j8(a)]", "[i4(a)]", 0, SJ_E_ARG, "'a'");
    expect_build("[j8(a)]", "[i4(a)]", SJ_CONVERT_LOSSY, SJ_OK, NULL);
    expect_build("[d8(a)]", "[j8(a)]", 0, SJ_E_ARG, "LOSSY");
    expect_build("[i4(a)]", "[z1(a)]", 0, SJ_E_ARG, "bool");
    expect_build("[z1(a)]", "[d8(a)]", 0, SJ_OK, NULL);
    /* unions: bytes from an equal union; zeroed when unmatched; refused otherwise */
    expect_build("[[i4|f4](u)]", "[i4(u)]", SJ_CONVERT_LOSSY, SJ_E_ARG, "union");
    expect_build("[i4(a)]", "[i4(a)[i4|f4](u)]", SJ_CONVERT_ZERO_UNMATCHED, SJ_OK, NULL);
    expect_build("[[i4|f4](u)]", "[[i4|f4](u)]", 0, SJ_OK, NULL);
    expect_build("[[i4|f4](u)]", "[[I4|f4](u)]", SJ_CONVERT_LOSSY, SJ_E_UNSUPPORTED, "equal union");
    expect_build("[[i4(a)|f4(b)](u)]", "[[i4(b)|f4(a)](u)]", SJ_CONVERT_LOSSY, SJ_E_UNSUPPORTED,
                 "union ([i4(b)|f4(a)](u)) in the destination");
    expect_build("[[3:i4](v)]", "[[4:i4](v)]", 0, SJ_E_ARG, "v");
    expect_build("[[3:i4](v)]", "[i4(v)]", 0, SJ_E_ARG, "v");
    expect_build("[i4(v)]", "[[1:i4](v)]", 0, SJ_E_ARG, "v");
    expect_build("[i4(a)]", "[i4(a)]", 0x40, SJ_E_ARG, "flags");
    expect_build("8%i4", "i4", 0, SJ_E_ARG, "alignment");
    expect_build("i4", "[i4(a)]", 0, SJ_E_ARG, NULL);
    /* source fields without a destination counterpart are ignored */
    expect_build("[i4(a)i4(b)j8(c)]", "[i4(b)]", 0, SJ_OK, NULL);
}

/* A wide record (matched through a name index, not a scan per field): reversed and
 * widened, the first of a repeated name taken, a padding member of a field's name skipped,
 * an unnamed member matched by index; a missing name still named in the error. */
static void test_convert_wide(void **state) {
    (void)state;
    enum { N = 300 };
    char *src = malloc(N * 16 + 64), *dst = malloc(N * 16 + 64);
    size_t ls = (size_t)sprintf(src, "[i4x4(f7)"), ld = (size_t)sprintf(dst, "[j8");
    for (int i = 1; i < N; i++)
        ls += (size_t)sprintf(src + ls, "i4(f%d)", i);
    ls += (size_t)sprintf(src + ls, "i4(f5)]"); /* member N+1, a second f5 */
    for (int i = N - 1; i >= 1; i--)
        ld += (size_t)sprintf(dst + ld, "j8(f%d)", i);
    sprintf(dst + ld, "]");
    sj_layout *sl = test_layout(src), *dl = test_layout(dst);
    size_t ssz = (size_t)sj_layout_size(sl), dsz = (size_t)sj_layout_size(dl);
    const int64_t count = 3;
    int32_t *in = calloc(ssz * count / 4, 4);
    int64_t *out = calloc(dsz * count / 8, 8);
    for (size_t r = 0; r < (size_t)count; r++)
        for (size_t m = 0; m < ssz / 4; m++)
            in[r * (ssz / 4) + m] = (int32_t)(r * 1000 + m) - 500;
    sj_segment s, d;
    sj_error err = {0};
    assert_int_equal(sj_segment_native(in, (int64_t)ssz * count, &s, &err), SJ_OK);
    assert_int_equal(sj_segment_native(out, (int64_t)dsz * count, &d, &err), SJ_OK);
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_convert(sl, dl, 0, &k, &err), &k, &err);
    sj_args a = {&s, 0, &d, 0, count};
    assert_int_equal(sj_kernel_run(k, &a, NULL, &err), SJ_OK);
    test_check_tier(k, false);
    for (size_t r = 0; r < (size_t)count; r++) {
        const int32_t *ir = in + r * (ssz / 4);
        const int64_t *orec = out + r * (dsz / 8);
        assert_int_equal(orec[0], ir[0]); /* unnamed, by index; f7 at member 1 is padding */
        for (int i = N - 1; i >= 1; i--) {
            /* f_i is member i + 1 of the source (member 1 is the padding) */
            int64_t got = orec[N - i], want = ir[i + 1];
            if (got != want)
                fail_msg("record %zu field f%d: %lld, expected %lld", r, i, (long long)got,
                         (long long)want);
        }
    }
    sj_kernel_free(k);
    sj_layout_unref(dl);
    /* a name the wide source lacks */
    ld = (size_t)sprintf(dst, "[j8(f1)j8(f%d)j8(nope)]", N - 1);
    expect_build(src, dst, 0, SJ_E_ARG, "'nope'");
    free(in);
    free(out);
    sj_layout_unref(sl);
    free(src);
    free(dst);
}

/* Equal unions at matched names convert as their bytes, reordered with the other fields,
 * inside a loop too. */
static void test_convert_unions(void **state) {
    (void)state;
    sj_layout *a = test_layout("[i4(n)[i4(i)|f4(f)](u)[20:[s2(p)|ub1(q)]](w)]");
    sj_layout *b = test_layout("[[20:[s2(p)|ub1(q)]](w)[i4(i)|f4(f)](u)x4j8(n)]");
    sj_kernel *k = NULL;
    sj_error err = {0};
    test_kernel(sj_kernel_convert(a, b, 0, &k, &err), &k, &err);
    enum { RECS = 9, SS = 48, DS = 56 };
    tbuf s, d;
    tbuf_init(&s, SS * RECS, 0, -1);
    tbuf_init(&d, DS * RECS, 0, -1);
    tbuf_pattern(&s, 5);
    sj_args args = {&s.seg, 0, &d.seg, 0, RECS};
    assert_status(sj_kernel_run(k, &args, NULL, &err), SJ_OK, &err);
    test_check_tier(k, false);
    tbuf_check_guards(&d);
    for (int r = 0; r < RECS; r++) {
        const uint8_t *sr = s.data + r * SS, *dr = d.data + r * DS;
        assert_memory_equal(dr, sr + 8, 40);     /* w */
        assert_memory_equal(dr + 40, sr + 4, 4); /* u */
        assert_int_equal(dr[44] | dr[45] | dr[46] | dr[47], 0);
        int32_t n;
        int64_t wide;
        memcpy(&n, sr, 4);
        memcpy(&wide, dr + 48, 8);
        assert_int_equal(wide, n);
    }
    tbuf_free(&s);
    tbuf_free(&d);
    sj_kernel_free(k);
    sj_layout_unref(a);
    sj_layout_unref(b);
}

/* ---- scalar semantics ---- */

/* Converts one value given as sj_value of the source kind; returns the destination's. */
static sj_value conv1(const char *src, sj_value v, const char *dst, unsigned flags) {
    sj_layout *sl = test_layout(src), *dl = test_layout(dst);
    _Alignas(8) uint8_t sb[8] = {0};
    _Alignas(8) uint8_t db[8]; /* aligned for every value: not left to the stack's layout */
    memset(db, 0xEE, sizeof db);
    sj_segment ss, ds;
    sj_error err = {0};
    assert_int_equal(sj_segment_native(sb, 8, &ss, &err), SJ_OK);
    assert_int_equal(sj_segment_native(db, 8, &ds, &err), SJ_OK);
    if (sj_layout_kind(sl) == SJ_BOOL)
        sb[0] = v.u8; /* raw byte, possibly not 0 or 1 */
    else
        assert_status(sj_set(&ss, sl, 0, v, &err), SJ_OK, &err);
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_convert(sl, dl, flags, &k, &err), &k, &err);
    sj_args a = {&ss, 0, &ds, 0, 1};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
    sj_value out;
    memset(&out, 0, sizeof out);
    if (sj_layout_kind(dl) == SJ_BOOL)
        out.u8 = db[0];
    else
        assert_status(sj_get(&ds, dl, 0, &out, &err), SJ_OK, &err);
    sj_kernel_free(k);
    sj_layout_unref(sl);
    sj_layout_unref(dl);
    return out;
}

#define L SJ_CONVERT_LOSSY

static void test_convert_float_to_int(void **state) {
    (void)state;
    const struct {
        double in;
        int32_t i4;
        int64_t j8;
        uint8_t ub1;
        uint64_t uj8;
        int16_t s2;
    } t[] = {
        {3.9, 3, 3, 3, 3, 3},
        {-3.9, -3, -3, 0, 0, -3},
        {-0.5, 0, 0, 0, 0, 0},
        {1e300, INT32_MAX, INT64_MAX, 255, UINT64_MAX, INT16_MAX},
        {-1e300, INT32_MIN, INT64_MIN, 0, 0, INT16_MIN},
        {INFINITY, INT32_MAX, INT64_MAX, 255, UINT64_MAX, INT16_MAX},
        {-INFINITY, INT32_MIN, INT64_MIN, 0, 0, INT16_MIN},
        {NAN, 0, 0, 0, 0, 0},
        {2147483647.9, INT32_MAX, 2147483647, 255, 2147483647, INT16_MAX},
        {-2147483648.9, INT32_MIN, -2147483648LL, 0, 0, INT16_MIN},
        {255.99, 255, 255, 255, 255, 255},
        {256.0, 256, 256, 255, 256, 256},
        {9223372036854775807.0, INT32_MAX, INT64_MAX, 255, UINT64_C(9223372036854775808),
         INT16_MAX},
        {18446744073709551616.0, INT32_MAX, INT64_MAX, 255, UINT64_MAX, INT16_MAX},
        {-32768.7, -32768, -32768, 0, 0, INT16_MIN},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        sj_value v = {.f64 = t[i].in};
        assert_int_equal(conv1("d8", v, "i4", L).i32, t[i].i4);
        assert_int_equal(conv1("D8", v, "J8", L).i64, t[i].j8);
        assert_int_equal(conv1("d8", v, "ub1", L).u8, t[i].ub1);
        assert_int_equal(conv1("d8", v, "uj8", L).u64, t[i].uj8);
        assert_int_equal(conv1("d8", v, "S2", L).i16, t[i].s2);
        /* through f32 where the value survives the narrowing unchanged */
        if (isnan(t[i].in) || isinf(t[i].in) || fabs(t[i].in) > 1e30) {
            sj_value f = {.f32 = (float)t[i].in};
            assert_int_equal(conv1("f4", f, "i4", L).i32, t[i].i4);
            assert_int_equal(conv1("F4", f, "j8", L).i64, t[i].j8);
        }
    }
    assert_int_equal(conv1("f4", (sj_value){.f32 = 16777217.0f}, "j8", L).i64, 16777216);
    assert_int_equal(conv1("c2", (sj_value){.c16 = 0xFFFF}, "i4", 0).i32, 65535);
}

static void test_convert_ints(void **state) {
    (void)state;
    /* narrowing keeps the low bits; widening extends by the source's signedness */
    assert_int_equal(conv1("j8", (sj_value){.i64 = INT64_C(0x123456789)}, "i4", L).i32, 0x23456789);
    assert_int_equal(conv1("i4", (sj_value){.i32 = -1}, "us2", L).u16, 0xFFFF);
    assert_int_equal(conv1("b1", (sj_value){.i8 = -1}, "uj8", L).u64, UINT64_MAX);
    assert_int_equal(conv1("ub1", (sj_value){.u8 = 255}, "j8", 0).i64, 255);
    assert_int_equal(conv1("ub1", (sj_value){.u8 = 255}, "b1", L).i8, -1);
    assert_int_equal(conv1("uj8", (sj_value){.u64 = UINT64_MAX}, "j8", L).i64, -1);
    assert_int_equal(conv1("S2", (sj_value){.i16 = -300}, "I4", 0).i32, -300);
    assert_int_equal(conv1("ui4", (sj_value){.u32 = 0x80000000u}, "j8", 0).i64, 0x80000000LL);
    assert_int_equal(conv1("a8", (sj_value){.addr = 0x1234}, "uj8", 0).u64, 0x1234);
    assert_int_equal(conv1("uj8", (sj_value){.u64 = 0x1234}, "A8", 0).addr, 0x1234);
    assert_int_equal(conv1("c2", (sj_value){.c16 = 0xABCD}, "us2", 0).u16, 0xABCD);
    /* integer -> float rounds to nearest even */
    assert_true(conv1("j8", (sj_value){.i64 = (INT64_C(1) << 53) + 1}, "d8", L).f64 ==
                9007199254740992.0);
    assert_true(conv1("i4", (sj_value){.i32 = 16777217}, "f4", L).f32 == 16777216.0f);
    assert_true(conv1("uj8", (sj_value){.u64 = UINT64_MAX}, "D8", L).f64 == 18446744073709551616.0);
    assert_true(conv1("uj8", (sj_value){.u64 = UINT64_MAX}, "f4", L).f32 ==
                18446744073709551616.0f);
    assert_true(conv1("i4", (sj_value){.i32 = INT32_MIN}, "d8", 0).f64 == -2147483648.0);
    /* float -> float */
    assert_true(conv1("d8", (sj_value){.f64 = 0.1}, "f4", L).f32 == 0.1f);
    assert_true(conv1("F4", (sj_value){.f32 = 0.1f}, "D8", 0).f64 == (double)0.1f);
    assert_true(isinf(conv1("d8", (sj_value){.f64 = 1e300}, "f4", L).f32));
    assert_true(isnan(conv1("d8", (sj_value){.f64 = NAN}, "F4", L).f32));
}

static void test_convert_bool(void **state) {
    (void)state;
    assert_int_equal(conv1("i4", (sj_value){.i32 = 5}, "z1", L).u8, 1);
    assert_int_equal(conv1("i4", (sj_value){.i32 = 0}, "z1", L).u8, 0);
    assert_int_equal(conv1("J8", (sj_value){.i64 = INT64_MIN}, "z1", L).u8, 1);
    assert_int_equal(conv1("d8", (sj_value){.f64 = NAN}, "z1", L).u8, 1);
    assert_int_equal(conv1("d8", (sj_value){.f64 = -0.0}, "z1", L).u8, 0);
    assert_int_equal(conv1("f4", (sj_value){.f32 = 0.25f}, "z1", L).u8, 1);
    /* bool -> anything: 0 or 1, whatever byte the bool holds */
    assert_int_equal(conv1("z1", (sj_value){.u8 = 2}, "i4", 0).i32, 1);
    assert_int_equal(conv1("z1", (sj_value){.u8 = 0}, "J8", 0).i64, 0);
    assert_true(conv1("z1", (sj_value){.u8 = 0x80}, "d8", 0).f64 == 1.0);
    assert_int_equal(conv1("z1", (sj_value){.u8 = 7}, "b1", 0).i8, 1);
}

/* The lossy classification of every pair, as the brief states it. */
static void test_convert_lossy_table(void **state) {
    (void)state;
    static const struct {
        sj_kind from, to;
        bool lossy;
    } t[] = {
        {SJ_I64, SJ_F64, true},    {SJ_U64, SJ_F64, true},   {SJ_I32, SJ_F64, false},
        {SJ_U32, SJ_F64, false},   {SJ_I32, SJ_F32, true},   {SJ_U32, SJ_F32, true},
        {SJ_I16, SJ_F32, false},   {SJ_CHAR, SJ_F32, false}, {SJ_I64, SJ_F32, true},
        {SJ_F64, SJ_F32, true},    {SJ_F32, SJ_F64, false},  {SJ_F32, SJ_I64, true},
        {SJ_F64, SJ_I8, true},     {SJ_U8, SJ_I16, false},   {SJ_U8, SJ_I8, true},
        {SJ_I8, SJ_U8, true},      {SJ_I8, SJ_U64, true},    {SJ_U32, SJ_I64, false},
        {SJ_U32, SJ_I32, true},    {SJ_I64, SJ_I32, true},   {SJ_I32, SJ_I64, false},
        {SJ_CHAR, SJ_I32, false},  {SJ_CHAR, SJ_I16, true},  {SJ_CHAR, SJ_U16, false},
        {SJ_U16, SJ_CHAR, false},  {SJ_ADDR, SJ_U64, false}, {SJ_U64, SJ_ADDR, false},
        {SJ_I64, SJ_ADDR, true},   {SJ_ADDR, SJ_I64, true},  {SJ_BOOL, SJ_I8, false},
        {SJ_BOOL, SJ_F32, false},  {SJ_I8, SJ_BOOL, true},   {SJ_F64, SJ_BOOL, true},
        {SJ_BOOL, SJ_BOOL, false}, {SJ_U8, SJ_CHAR, false},  {SJ_I8, SJ_CHAR, true},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (oracle_is_lossy(t[i].from, t[i].to) != t[i].lossy)
            fail_msg("%s -> %s should be %s", sj_kind_name(t[i].from), sj_kind_name(t[i].to),
                     t[i].lossy ? "lossy" : "lossless");
}

/* Every kind pair, both byte orders on each side: the kernel agrees with tests/oracle.h, and a
 * kernel without SJ_CONVERT_LOSSY is refused exactly for the lossy pairs. */
static void test_convert_every_pair(void **state) {
    (void)state;
    static const uint64_t patterns[] = {
        0,
        1,
        UINT64_C(0xFFFFFFFFFFFFFFFF),
        UINT64_C(0x8000000000000000),
        UINT64_C(0x7FFFFFFFFFFFFFFF),
        UINT64_C(0x0123456789ABCDEF),
        UINT64_C(0xFEDCBA9876543210),
        UINT64_C(0x000000007F800000), /* +inf as f32 */
        UINT64_C(0x7FF8000000000001), /* NaN as f64 */
        UINT64_C(0x41DFFFFFFFC00000), /* 2147483647.0 as f64 */
        UINT64_C(0x43E0000000000000), /* 2^63 as f64 */
        UINT64_C(0xC3E0000000000000), /* -2^63 as f64 */
        UINT64_C(0x00000000CF000000), /* -2^31 as f32 */
        UINT64_C(0x000000004F800000), /* 2^32 as f32 */
        UINT64_C(0x3FF8000000000000), /* 1.5 */
        UINT64_C(0x00000000BFC00000), /* -1.5 as f32 */
        UINT64_C(0x0000000000008000),
        UINT64_C(0x0000000000000080),
        UINT64_C(0x000000004EFFFFFF), /* 2147483520 as f32, the last below 2^31 */
        UINT64_C(0x000000005F000000), /* 2^63 as f32 */
        UINT64_C(0x000000005F800000), /* 2^64 as f32 */
        UINT64_C(0x00000000DF000000), /* -2^63 as f32 */
        UINT64_C(0x43F0000000000000), /* 2^64 as f64 */
        UINT64_C(0x43EFFFFFFFFFFFFF), /* the last f64 below 2^64 */
        UINT64_C(0x0000000080000000), /* -0 as f32 */
        UINT64_C(0x000000007FC00001), /* a NaN with a payload as f32 */
        UINT64_C(0x7FF0000000000001), /* a signalling NaN as f64 */
        UINT64_C(0x000000007F7FFFFF), /* the largest f32 */
        UINT64_C(0x40EFFFF000000000), /* 65535.5 as f64 */
        UINT64_C(0xBFE0000000000000), /* -0.5 */
        UINT64_C(0x47EFFFFFE0000000), /* the largest f32 as f64 */
        UINT64_C(0x47EFFFFFF0000000), /* halfway above it: rounds to infinity as f32 */
    };
    enum { N = sizeof patterns / sizeof patterns[0] };
    for (int sk = 0; sk < SJ_KIND_COUNT; sk++)
        for (int dk = 0; dk < SJ_KIND_COUNT; dk++)
            for (int so = 0; so < 2; so++)
                for (int dor = 0; dor < 2; dor++) {
                    sj_error err = {0};
                    sj_layout *sv = NULL, *dv = NULL, *sl = NULL, *dl = NULL;
                    assert_int_equal(sj_layout_value((sj_kind)sk, &sv, &err), SJ_OK);
                    assert_int_equal(sj_layout_value((sj_kind)dk, &dv, &err), SJ_OK);
                    assert_int_equal(
                        sj_layout_with_order(sv, so ? SJ_ORDER_BIG : SJ_ORDER_LITTLE, &sl, &err),
                        SJ_OK);
                    assert_int_equal(
                        sj_layout_with_order(dv, dor ? SJ_ORDER_BIG : SJ_ORDER_LITTLE, &dl, &err),
                        SJ_OK);
                    sj_kernel *k = NULL;
                    sj_status st = sj_kernel_convert(sl, dl, 0, &k, &err);
                    bool lossy = oracle_is_lossy((sj_kind)sk, (sj_kind)dk);
                    assert_int_equal(st, lossy ? SJ_E_ARG : SJ_OK);
                    sj_kernel_free(k);
                    k = NULL;
                    k = test_kernel(sj_kernel_convert(sl, dl, SJ_CONVERT_LOSSY, &k, &err), &k,
                                    &err);
                    size_t ssz = sj_kind_size((sj_kind)sk), dsz = sj_kind_size((sj_kind)dk);
                    uint8_t src[N * 8], dst[N * 8 + 8], exp[N * 8 + 8];
                    for (int i = 0; i < N; i++) {
                        uint64_t p = patterns[i];
                        if (sk == SJ_BOOL) p &= 1;      /* raw bools are copied as they are */
                        memcpy(src + i * ssz, &p, ssz); /* low bytes, little-endian hosts */
                    }
                    memset(dst, 0xEE, sizeof dst);
                    memset(exp, 0xEE, sizeof exp);
                    for (int i = 0; i < N; i++)
                        reference_value(sl, src + i * ssz, dl, exp + i * dsz);
                    sj_segment ss, ds;
                    assert_int_equal(sj_segment_native(src, (int64_t)(N * ssz), &ss, &err), SJ_OK);
                    assert_int_equal(sj_segment_native(dst, (int64_t)(N * dsz), &ds, &err), SJ_OK);
                    /* the arrays may be misaligned for wide kinds: use unaligned layouts */
                    sj_layout *sl1 = NULL, *dl1 = NULL;
                    assert_int_equal(sj_layout_with_align(sl, 1, &sl1, &err), SJ_OK);
                    assert_int_equal(sj_layout_with_align(dl, 1, &dl1, &err), SJ_OK);
                    sj_kernel *k1 = NULL;
                    k1 = test_kernel(sj_kernel_convert(sl1, dl1, SJ_CONVERT_LOSSY, &k1, &err), &k1,
                                     &err);
                    sj_args a = {&ss, 0, &ds, 0, N};
                    assert_status(sj_kernel_run(k1, &a, NULL, &err), SJ_OK, &err);
                    if (memcmp(dst, exp, sizeof dst) != 0)
                        fail_msg("%s (%s) -> %s (%s) differs from the reference",
                                 sj_kind_name((sj_kind)sk), so ? "big" : "little",
                                 sj_kind_name((sj_kind)dk), dor ? "big" : "little");
                    sj_kernel_free(k);
                    sj_kernel_free(k1);
                    sj_layout_unref(sv);
                    sj_layout_unref(dv);
                    sj_layout_unref(sl);
                    sj_layout_unref(dl);
                    sj_layout_unref(sl1);
                    sj_layout_unref(dl1);
                }
}

static void test_convert_describe(void **state) {
    (void)state;
    sj_layout *a = test_layout("[i4(x)s2(y)x2]"), *b = test_layout("[j8(y)J8(x)]");
    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_convert(a, b, 0, &k, &err), &k, &err);
    char *t = NULL;
    assert_int_equal(sj_kernel_describe(k, &t, &err), SJ_OK);
    assert_non_null(strstr(t, "convert s2@4 -> j8@0"));
    assert_non_null(strstr(t, "convert i4@0 -> J8@8 (swap dst)"));
    free(t);
    sj_kernel_free(k);
    sj_layout_unref(a);
    sj_layout_unref(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convert_records),     cmocka_unit_test(test_convert_large),
        cmocka_unit_test(test_convert_overlap),     cmocka_unit_test(test_convert_errors),
        cmocka_unit_test(test_convert_unions),      cmocka_unit_test(test_convert_float_to_int),
        cmocka_unit_test(test_convert_ints),        cmocka_unit_test(test_convert_bool),
        cmocka_unit_test(test_convert_lossy_table), cmocka_unit_test(test_convert_every_pair),
        cmocka_unit_test(test_convert_describe),    cmocka_unit_test(test_convert_wide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
