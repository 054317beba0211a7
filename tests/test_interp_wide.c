/* tests/test_interp_wide.c: conversions between wide records of many distinct fields, the
 * plans the interpreter runs as lists of moves grouped by kind (src/interp.c): random
 * layouts from a fixed seed (50-3000 fields, swaps, conversions, unmatched fields, nested
 * arrays of records, packed records at odd offsets, in place), every byte checked against
 * a reference computed here field by field, by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "reference.h"

/* ---- random layouts ---- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* The kinds a field may have (ADDR left out: pointers are not converted). */
static const sj_kind field_kinds[] = {SJ_I8,  SJ_U8,  SJ_I16, SJ_U16, SJ_CHAR, SJ_I32,
                                      SJ_U32, SJ_F32, SJ_I64, SJ_U64, SJ_F64};
#define NKINDS (sizeof field_kinds / sizeof field_kinds[0])

typedef struct field {
    char name[16];
    sj_kind kind;
    bool big;
} field;

typedef struct wide_case {
    int nfields;
    unsigned flags;
    bool packed;     /* every member 1%: records at odd offsets */
    int convert_pct; /* fields whose destination kind differs */
    int big_pct;     /* fields stored big-endian on one side */
    int unmatched;   /* destination fields with no source (SJ_CONVERT_ZERO_UNMATCHED) */
    bool shuffle;    /* destination order shuffled (else reversed) */
    bool nested;     /* plus an array of 3 records of 12 fields on both sides */
} wide_case;

typedef struct text {
    char *s;
    size_t n, cap;
} text;

static void put(text *t, const char *fmt, ...) {
    va_list ap;
    if (!t->s) {
        t->cap = 256;
        t->s = malloc(t->cap);
        assert_non_null(t->s);
    }
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
        va_end(ap);
        if ((size_t)k < t->cap - t->n) {
            t->n += (size_t)k;
            return;
        }
        t->cap = 2 * t->cap + (size_t)k + 64;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
}

static const char *letters(sj_kind k) {
    switch (k) {
        case SJ_BOOL:
            return "z";
        case SJ_I8:
            return "b";
        case SJ_U8:
            return "ub";
        case SJ_CHAR:
            return "c";
        case SJ_I16:
            return "s";
        case SJ_U16:
            return "us";
        case SJ_I32:
            return "i";
        case SJ_U32:
            return "ui";
        case SJ_F32:
            return "f";
        case SJ_I64:
            return "j";
        case SJ_U64:
            return "uj";
        default:
            return "d";
    }
}

/* One value member: [1%][u]letter(size)(name), upper case when big-endian. */
static void put_value(text *t, const field *f, bool packed) {
    const char *l = letters(f->kind);
    char c[3] = {l[0], l[1], 0};
    char *letter = c[0] == 'u' ? &c[1] : &c[0];
    if (f->big) *letter = (char)(*letter - 'a' + 'A');
    put(t, "%s%s%u(%s)", packed ? "1%" : "", c, sj_kind_size(f->kind), f->name);
}

/* Members fields[0..n) from offset off, with the padding natural alignment needs (none when
 * packed); returns the offset after them, *align their largest alignment. */
static uint64_t put_members(text *t, const field *fields, int n, bool packed, uint64_t off,
                            uint64_t *align) {
    for (int i = 0; i < n; i++) {
        uint64_t a = packed ? 1 : sj_kind_size(fields[i].kind);
        if (off % a) put(t, "x%u", (unsigned)(a - off % a));
        off = (off + a - 1) / a * a + sj_kind_size(fields[i].kind);
        if (a > *align) *align = a;
        put_value(t, &fields[i], packed);
    }
    return off;
}

/* A struct of fields[0..n), then `extra` (an 8-aligned member of a multiple of 8 bytes). */
static void put_struct(text *t, const field *fields, int n, bool packed, const char *extra) {
    uint64_t align = 1;
    put(t, "[");
    uint64_t off = put_members(t, fields, n, packed, 0, &align);
    if (extra) {
        if (!packed && off % 8) put(t, "x%u", (unsigned)(8 - off % 8));
        put(t, "%s]", extra);
        return;
    }
    if (off % align) put(t, "x%u", (unsigned)(align - off % align));
    put(t, "]");
}

static sj_kind other_kind(sj_kind k, unsigned flags) {
    for (int tries = 0; tries < 4; tries++) {
        sj_kind to = field_kinds[rnd(NKINDS)];
        if ((flags & SJ_CONVERT_LOSSY) && rnd(16) == 0) to = SJ_BOOL;
        if ((flags & SJ_CONVERT_LOSSY) || !oracle_is_lossy(k, to)) return to;
    }
    return k == SJ_I32 ? SJ_I64 : k == SJ_F32 ? SJ_F64 : k; /* widening, always allowed */
}

/* Source and destination texts of case c (caller frees both). */
static void make_texts(const wide_case *c, char **src, char **dst) {
    int n = c->nfields, nd = n + c->unmatched;
    field *a = calloc((size_t)n, sizeof *a), *b = calloc((size_t)nd, sizeof *b);
    assert_true(a && b);
    for (int i = 0; i < n; i++) {
        snprintf(a[i].name, sizeof a[i].name, "f%d", i);
        a[i].kind = field_kinds[rnd(NKINDS)];
        a[i].big = (int)rnd(100) < c->big_pct / 2;
        b[i] = a[i];
        b[i].big = (int)rnd(100) < c->big_pct ? !a[i].big : a[i].big;
        if ((int)rnd(100) < c->convert_pct) b[i].kind = other_kind(a[i].kind, c->flags);
    }
    for (int i = n; i < nd; i++) {
        snprintf(b[i].name, sizeof b[i].name, "u%d", i);
        b[i].kind = field_kinds[rnd(NKINDS)];
        b[i].big = rnd(2);
    }
    for (int i = 0; i < nd / 2; i++) { /* reversed, or shuffled */
        int j = c->shuffle ? i + (int)rnd((uint32_t)(nd - i)) : nd - 1 - i;
        field x = b[i];
        b[i] = b[j];
        b[j] = x;
    }
    char *ea = NULL, *eb = NULL;
    if (c->nested) { /* 3 records of 12 fields: a loop whose body runs lists */
        field ra[12], rb[12];
        for (int i = 0; i < 12; i++) {
            snprintf(ra[i].name, sizeof ra[i].name, "r%d", i);
            ra[i].kind = i == 0 ? SJ_I64 : field_kinds[rnd(NKINDS)]; /* 8-aligned */
            ra[i].big = false;
            rb[11 - i] = ra[i];
            rb[11 - i].big = true;
        }
        text x = {0}, y = {0};
        put(&x, "[3:");
        put_struct(&x, ra, 12, c->packed, NULL);
        put(&x, "](arr)");
        put(&y, "[3:");
        put_struct(&y, rb, 12, c->packed, NULL);
        put(&y, "](arr)");
        ea = x.s;
        eb = y.s;
    }
    text ta = {0}, tb = {0};
    put_struct(&ta, a, n, c->packed, ea);
    put_struct(&tb, b, nd, c->packed, eb);
    *src = ta.s;
    *dst = tb.s;
    free(ea);
    free(eb);
    free(a);
    free(b);
}

/* ---- the reference: destination d of layout dl from source s of layout sl, by name ---- */

static void reference_fill(const sj_layout *sl, const uint8_t *s, const sj_layout *dl, uint8_t *d) {
    switch (sj_layout_tag(dl)) {
        case SJ_VALUE:
            reference_value(sl, s, dl, d);
            return;
        case SJ_SEQUENCE: {
            uint64_t ds = sj_layout_size(sj_layout_elem(dl)),
                     ss = sj_layout_size(sj_layout_elem(sl));
            for (uint64_t i = 0; i < sj_layout_elem_count(dl); i++)
                reference_fill(sj_layout_elem(sl), s + i * ss, sj_layout_elem(dl), d + i * ds);
            return;
        }
        case SJ_STRUCT:
            for (size_t i = 0; i < sj_layout_member_count(dl); i++) {
                const sj_layout *m = sj_layout_member(dl, i);
                const char *name = sj_layout_name(m);
                size_t j = name ? sj_layout_member_index(sl, name) : SIZE_MAX;
                if (j == SIZE_MAX) continue; /* padding or unmatched: zeros */
                reference_fill(sj_layout_member(sl, j), s + sj_layout_member_offset(sl, j), m,
                               d + sj_layout_member_offset(dl, i));
            }
            return;
        default:
            fail_msg("unexpected layout tag %d", (int)sj_layout_tag(dl));
    }
}

/* ---- runs ---- */

/* Converts `count` records starting one record (plus `odd` bytes) into each buffer and
 * compares every destination byte, guards included, with the reference. */
static void wide_run(sj_kernel *k, const sj_layout *sl, const sj_layout *dl, int64_t count,
                     size_t mis, int64_t odd, unsigned seed) {
    size_t ssz = (size_t)sj_layout_size(sl), dsz = (size_t)sj_layout_size(dl);
    int64_t soff = (int64_t)ssz + odd, doff = (int64_t)dsz + odd;
    size_t stotal = (size_t)soff + ssz * (size_t)count, dtotal = (size_t)doff + dsz * (size_t)count;
    tbuf s, d;
    tbuf_pair_init(&s, stotal, &d, dtotal, mis, false, seed);
    uint8_t *exp = malloc(dtotal ? dtotal : 1);
    assert_non_null(exp);
    memcpy(exp, d.data, dtotal);
    memset(exp + doff, 0, dsz * (size_t)count);
    for (int64_t i = 0; i < count; i++)
        reference_fill(sl, s.data + soff + i * (int64_t)ssz, dl, exp + doff + i * (int64_t)dsz);
    sj_error err = {0};
    sj_args a = {&s.seg, soff, &d.seg, doff, count};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
    for (size_t i = 0; i < dtotal; i++)
        if (d.data[i] != exp[i])
            fail_msg("count %lld, mis %zu, odd %lld: destination byte %zu (record %lld, offset "
                     "%zu) is %02x, expected %02x",
                     (long long)count, mis, (long long)odd, i,
                     i < (size_t)doff ? -1LL : (long long)((i - (size_t)doff) / dsz),
                     i < (size_t)doff ? i : (i - (size_t)doff) % dsz, d.data[i], exp[i]);
    test_check_tier(k, false);
    tbuf_check_guards(&s);
    tbuf_check_guards(&d);
    free(exp);
    tbuf_free(&s);
    tbuf_free(&d);
}

static void wide_case_run(const wide_case *c, uint64_t seed) {
    rng_state = seed;
    char *st, *dt;
    make_texts(c, &st, &dt);
    sj_layout *sl = test_layout(st), *dl = test_layout(dt);
    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_convert(sl, dl, c->flags, &k, &err), &k, &err);
    static const int64_t counts[] = {0, 1, 7, 64, 1000};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        if (c->nfields >= 2000 && counts[i] > 64) continue; /* 1000 records: the 1000s */
        wide_run(k, sl, dl, counts[i], 0, 0, (unsigned)seed + (unsigned)i);
        if (c->packed) /* odd base and odd offsets */
            wide_run(k, sl, dl, counts[i], 1, 3, (unsigned)seed + 7u * (unsigned)i);
    }
    sj_kernel_free(k);
    sj_layout_unref(sl);
    sj_layout_unref(dl);
    free(st);
    free(dt);
}

static void test_wide_swaps(void **state) {
    (void)state;
    /* every field big-endian on one side (swaps and byte copies), reversed or shuffled */
    static const wide_case cases[] = {
        {50, 0, false, 0, 100, 0, false, false},   {300, 0, false, 0, 100, 0, true, false},
        {1000, 0, false, 0, 100, 0, false, false}, {3000, 0, false, 0, 100, 0, true, false},
        {200, 0, false, 0, 50, 0, true, false},    {1000, 0, true, 0, 100, 0, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        wide_case_run(&cases[i], 0x5eed0000u + i);
}

static void test_wide_conversions(void **state) {
    (void)state;
    /* widening only, then anything under LOSSY (floats to integers, narrowing, bool) */
    static const wide_case cases[] = {
        {100, 0, false, 40, 50, 0, true, false},
        {1000, 0, false, 30, 50, 0, false, false},
        {500, SJ_CONVERT_LOSSY, false, 60, 50, 0, true, false},
        {2000, SJ_CONVERT_LOSSY, true, 30, 50, 0, true, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        wide_case_run(&cases[i], 0xc0de0000u + i);
}

static void test_wide_unmatched(void **state) {
    (void)state;
    /* destination fields with no source, zeroed */
    static const wide_case cases[] = {
        {60, SJ_CONVERT_ZERO_UNMATCHED, false, 0, 100, 20, true, false},
        {800, SJ_CONVERT_ZERO_UNMATCHED | SJ_CONVERT_LOSSY, false, 20, 50, 150, true, false},
        {400, SJ_CONVERT_ZERO_UNMATCHED, true, 10, 100, 40, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        wide_case_run(&cases[i], 0x2e200000u + i);
}

static void test_wide_nested(void **state) {
    (void)state;
    /* a record with an array of records: a loop beside the fields (moves kept in order
     * around it), lists inside its body */
    static const wide_case cases[] = {
        {80, 0, false, 0, 100, 0, false, true},
        {300, SJ_CONVERT_LOSSY, false, 30, 50, 0, true, true},
        {150, 0, true, 0, 100, 0, true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        wide_case_run(&cases[i], 0x4e570000u + i);
}

/* A wide record swapped onto itself (every field at the same offset, byte order reversed),
 * run on its own bytes and shifted by a few records. Without one-byte fields the plan runs
 * in place; with them (copies onto themselves) it does not, and overlapping calls take the
 * other overlap paths. */
static void wide_in_place(bool one_byte, uint64_t seed) {
    rng_state = seed;
    enum { N = 400, COUNT = 100 };
    field f[N], g[N];
    for (int i = 0; i < N; i++) {
        snprintf(f[i].name, sizeof f[i].name, "f%d", i);
        do
            f[i].kind = field_kinds[rnd(NKINDS)];
        while (!one_byte && sj_kind_size(f[i].kind) == 1);
        f[i].big = false;
        g[i] = f[i];
        g[i].big = true;
    }
    text a = {0}, b = {0};
    put_struct(&a, f, N, false, NULL);
    put_struct(&b, g, N, false, NULL);
    sj_layout *sl = test_layout(a.s), *dl = test_layout(b.s);
    size_t sz = (size_t)sj_layout_size(sl);
    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_convert(sl, dl, 0, &k, &err), &k, &err);
    static const int64_t shifts[] = {0, 1, -1, 3, -5};
    for (size_t t = 0; t < sizeof shifts / sizeof shifts[0]; t++) {
        size_t total = sz * (COUNT + 10);
        tbuf buf;
        tbuf_init(&buf, total, 0, -1);
        tbuf_pattern(&buf, 77 + (unsigned)t);
        uint8_t *orig = malloc(total), *exp = malloc(total);
        assert_true(orig && exp);
        memcpy(orig, buf.data, total);
        int64_t soff = 5 * (int64_t)sz, doff = soff + shifts[t] * (int64_t)sz;
        memcpy(exp, orig, total);
        memset(exp + doff, 0, sz * COUNT);
        for (int64_t i = 0; i < COUNT; i++) /* memmove semantics: from the original source */
            reference_fill(sl, orig + soff + i * (int64_t)sz, dl, exp + doff + i * (int64_t)sz);
        sj_args args = {&buf.seg, soff, &buf.seg, doff, COUNT};
        assert_status(sj_kernel_run(k, &args, NULL, &err), SJ_OK, &err);
        for (size_t i = 0; i < total; i++)
            if (buf.data[i] != exp[i])
                fail_msg("one-byte fields %d, shift %lld: byte %zu is %02x, expected %02x",
                         one_byte, (long long)shifts[t], i, buf.data[i], exp[i]);
        tbuf_check_guards(&buf);
        free(orig);
        free(exp);
        tbuf_free(&buf);
    }
    sj_kernel_free(k);
    sj_layout_unref(sl);
    sj_layout_unref(dl);
    free(a.s);
    free(b.s);
}

static void test_wide_in_place(void **state) {
    (void)state;
    wide_in_place(false, 0x1a9e);
    wide_in_place(true, 0x1a9f);
}

/* Every field 8 bytes lower in the destination, every other one byte-swapped (so that no
 * two moves merge): a plan that runs in place although later moves write bytes that
 * earlier ones read, so its moves must keep their order when run on their own bytes. */
static void test_wide_shift_in_place(void **state) {
    (void)state;
    rng_state = 0x51f7;
    enum { N = 300, COUNT = 64 };
    field f[N], g[N];
    for (int i = 0; i < N; i++) {
        snprintf(f[i].name, sizeof f[i].name, "f%d", i);
        do
            f[i].kind = field_kinds[rnd(NKINDS)];
        while (sj_kind_size(f[i].kind) == 1);
        f[i].big = i % 2 == 0;
        g[i] = f[i];
        g[i].big = false;
    }
    text a = {0}, b = {0};
    uint64_t align = 8;
    put(&a, "[x8");
    uint64_t end = put_members(&a, f, N, false, 8, &align), tail = 7 - (end + 7) % 8;
    if (tail) put(&a, "x%u", (unsigned)tail);
    put(&a, "]");
    put(&b, "[");
    put_members(&b, g, N, false, 0, &align);
    put(&b, "x%u]", (unsigned)(8 + tail));
    sj_layout *sl = test_layout(a.s), *dl = test_layout(b.s);
    size_t sz = (size_t)sj_layout_size(sl);
    assert_int_equal(sz, sj_layout_size(dl));
    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_convert(sl, dl, 0, &k, &err), &k, &err);
    size_t total = sz * COUNT;
    tbuf buf;
    tbuf_init(&buf, total, 0, -1);
    tbuf_pattern(&buf, 5);
    uint8_t *orig = malloc(total), *exp = calloc(1, total);
    assert_true(orig && exp);
    memcpy(orig, buf.data, total);
    for (size_t i = 0; i < COUNT; i++)
        reference_fill(sl, orig + i * sz, dl, exp + i * sz);
    sj_args args = {&buf.seg, 0, &buf.seg, 0, COUNT};
    assert_status(sj_kernel_run(k, &args, NULL, &err), SJ_OK, &err);
    for (size_t i = 0; i < total; i++)
        if (buf.data[i] != exp[i])
            fail_msg("byte %zu (record %zu, offset %zu) is %02x, expected %02x", i, i / sz, i % sz,
                     buf.data[i], exp[i]);
    tbuf_check_guards(&buf);
    free(orig);
    free(exp);
    tbuf_free(&buf);
    sj_kernel_free(k);
    sj_layout_unref(sl);
    sj_layout_unref(dl);
    free(a.s);
    free(b.s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wide_swaps),     cmocka_unit_test(test_wide_conversions),
        cmocka_unit_test(test_wide_unmatched), cmocka_unit_test(test_wide_nested),
        cmocka_unit_test(test_wide_in_place),  cmocka_unit_test(test_wide_shift_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
