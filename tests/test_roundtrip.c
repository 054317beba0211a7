/* tests/test_roundtrip.c: parse(print(L)) == L over thousands of random valid layouts (own
 * xorshift generator, fixed seeds): equality, hash, byte-identical reprint, parse_auto and
 * the table; then mutated texts must fail cleanly with a line:column message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "segjit/layout.h"

#define MAX_DEPTH 4

static uint64_t rng;

static uint64_t next_u64(void) { /* xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t below(uint64_t n) {
    return next_u64() % n;
}
static bool chance(unsigned percent) {
    return below(100) < percent;
}

static void seed(uint64_t s) {
    rng = s ? s : 0x9E3779B97F4A7C15ull;
}

/* NULL, or a name made of letters and the characters that need care in the text form. */
static char *random_name(void) {
    static const char *const pieces[] = {"a",  "b",  "x",      "id", ")", "\\",       "(",   "%",
                                         "|",  " ",  "[",      "]",  ":", "1",        "16%", "\\)",
                                         "\n", "\t", "struct", ";",  "{", "\xc3\xa9", "#"};
    if (chance(45)) return NULL;
    char *s = malloc(64);
    assert_non_null(s);
    size_t n = 0, parts = below(6); /* 0 parts: the empty name */
    s[0] = 0;
    for (size_t i = 0; i < parts; i++) {
        const char *p = pieces[below(sizeof pieces / sizeof pieces[0])];
        size_t len = strlen(p);
        memcpy(s + n, p, len + 1);
        n += len;
    }
    return s;
}

static sj_layout *decorate(sj_layout *l, bool may_align) {
    char *name = random_name();
    sj_layout *r;
    if (name) {
        assert_int_equal(sj_layout_with_name(l, name, &r, NULL), SJ_OK);
        sj_layout_unref(l);
        l = r;
        free(name);
    }
    if (may_align && chance(20)) {
        /* Any power of two for values and padding; at least the natural one for groups. */
        uint64_t a = (uint64_t)1 << below(chance(5) ? 63 : 7);
        sj_tag t = sj_layout_tag(l);
        if (t != SJ_VALUE && t != SJ_PADDING && a < sj_layout_align(l)) {
            a = sj_layout_align(l);
            for (uint64_t k = below(3); k > 0 && a < ((uint64_t)1 << 62); k--)
                a <<= 1;
        }
        assert_int_equal(sj_layout_with_align(l, (int64_t)a, &r, NULL), SJ_OK);
        sj_layout_unref(l);
        l = r;
    }
    return l;
}

static sj_layout *random_layout(unsigned depth);

static sj_layout *random_leaf(void) {
    sj_layout *l, *r;
    if (chance(15)) {
        assert_int_equal(
            sj_layout_padding((int64_t)(1 + below(chance(10) ? 100000 : 16)), &l, NULL), SJ_OK);
    } else {
        assert_int_equal(sj_layout_value((sj_kind)below(SJ_KIND_COUNT), &l, NULL), SJ_OK);
        sj_order o = chance(50) ? SJ_ORDER_BIG : SJ_ORDER_LITTLE;
        assert_int_equal(sj_layout_with_order(l, o, &r, NULL), SJ_OK);
        sj_layout_unref(l);
        l = r;
    }
    return decorate(l, true);
}

static sj_layout *random_struct(unsigned depth) {
    sj_layout *m[24] = {0};
    size_t n = 0, want = below(6);
    uint64_t size = 0;
    for (size_t i = 0; i < want; i++) {
        sj_layout *x = random_layout(depth + 1);
        uint64_t a = sj_layout_align(x);
        uint64_t pad = (a - size % a) % a;
        if (pad > ((uint64_t)1 << 20)) { /* keep sizes small: skip hugely aligned members */
            sj_layout_unref(x);
            continue;
        }
        if (pad) {
            assert_int_equal(sj_layout_padding((int64_t)pad, &m[n++], NULL), SJ_OK);
            size += pad;
        }
        m[n++] = x;
        size += sj_layout_size(x);
    }
    sj_layout *l;
    assert_int_equal(sj_layout_struct((const sj_layout *const *)m, n, &l, NULL), SJ_OK);
    for (size_t i = 0; i < n; i++)
        sj_layout_unref(m[i]);
    return decorate(l, true);
}

static sj_layout *random_union(unsigned depth) {
    sj_layout *m[8] = {0};
    size_t n = below(5);
    for (size_t i = 0; i < n; i++)
        m[i] = random_layout(depth + 1);
    sj_layout *l;
    assert_int_equal(sj_layout_union((const sj_layout *const *)m, n, &l, NULL), SJ_OK);
    for (size_t i = 0; i < n; i++)
        sj_layout_unref(m[i]);
    return decorate(l, true);
}

static sj_layout *random_sequence(unsigned depth) {
    for (int tries = 0; tries < 8; tries++) {
        sj_layout *e = random_layout(depth + 1);
        if (sj_layout_size(e) % sj_layout_align(e) != 0 || sj_layout_size(e) > 4096) {
            sj_layout_unref(e);
            continue;
        }
        sj_layout *l;
        assert_int_equal(sj_layout_sequence((int64_t)below(5), e, &l, NULL), SJ_OK);
        sj_layout_unref(e);
        return decorate(l, true);
    }
    return random_leaf();
}

static sj_layout *random_layout(unsigned depth) {
    if (depth >= MAX_DEPTH || chance(35)) return random_leaf();
    switch (below(3)) {
        case 0:
            return random_struct(depth);
        case 1:
            return random_union(depth);
        default:
            return random_sequence(depth);
    }
}

static void check_roundtrip(const sj_layout *l) {
    char *text = NULL, *again = NULL, *table = NULL;
    sj_error err = {0};
    assert_int_equal(sj_layout_print(l, &text, NULL), SJ_OK);
    sj_layout *back = NULL;
    if (sj_layout_parse(text, &back, &err) != SJ_OK) fail_msg("parse '%s': %s", text, err.message);
    if (!sj_layout_equal(l, back)) fail_msg("not equal after reparse: %s", text);
    assert_int_equal(sj_layout_hash(l), sj_layout_hash(back));
    assert_int_equal(sj_layout_print(back, &again, NULL), SJ_OK);
    assert_string_equal(text, again);
    sj_layout *autol = NULL;
    if (sj_layout_parse_auto(text, &autol, &err) != SJ_OK)
        fail_msg("parse_auto '%s': %s", text, err.message);
    assert_true(sj_layout_equal(l, autol));
    assert_int_equal(sj_layout_table(l, &table, NULL), SJ_OK);
    assert_true(strlen(table) > 0);
    sj_layout_unref(autol);
    sj_layout_unref(back);
    free(text);
    free(again);
    free(table);
}

static void test_random_roundtrip(void **state) {
    (void)state;
    static const uint64_t seeds[] = {1, 42, 0xdeadbeef, 20240601, 7777777};
    unsigned counts[5] = {0};
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        seed(seeds[s]);
        for (int i = 0; i < 1000; i++) {
            sj_layout *l = random_layout(0);
            counts[sj_layout_tag(l)]++;
            check_roundtrip(l);
            sj_layout_unref(l);
        }
    }
    /* The generator reaches every kind at the root. */
    for (int t = 0; t < 5; t++)
        assert_true(counts[t] > 50);
}

/* Texts from the C parser go through the canonical form unchanged too. */
static void test_c_roundtrip(void **state) {
    (void)state;
    static const char *const texts[] = {
        "struct particle { u32 id; f64 pos[3]; be i16 charge; f32 mass align(16); }",
        "packed struct wire { be u16 len; be u32 seq; u8 flags; }",
        "union value { i64 i; f64 d; } value[3]",
        "struct s { u8 a; struct { u16 x; u8 y; } in; union { u32 q; f32 r; }; u64 z; }",
        "struct t { u8 a; u32 b align(64); } align(128)",
        "union tail { u8 a[5]; u32 b; }",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        sj_layout *l = NULL;
        sj_error err = {0};
        if (sj_layout_parse_c(texts[i], &l, &err) != SJ_OK) fail_msg("%s", err.message);
        check_roundtrip(l);
        sj_layout_unref(l);
    }
}

/* A failed parse: a known status and a message that starts with "L:C: ". */
static void check_clean_failure(sj_status st, const sj_error *err) {
    if (st == SJ_OK) return;
    assert_true(st == SJ_E_PARSE || st == SJ_E_ARG || st == SJ_E_OVERFLOW);
    assert_int_equal(err->status, st);
    unsigned line, col;
    char colon;
    if (sscanf(err->message, "%u:%u%c", &line, &col, &colon) != 3 || colon != ':' || line == 0 ||
        col == 0)
        fail_msg("message without line:column: %s", err->message);
}

/* Mutated texts (a byte deleted, inserted or replaced) parse or fail cleanly. */
static void test_mutations(void **state) {
    (void)state;
    static const char alphabet[] = "[]|:%()\\xiuIjbsdfazc0123456789 \n;{}*";
    seed(99);
    for (int i = 0; i < 3000; i++) {
        sj_layout *l = random_layout(0);
        char *text = NULL;
        assert_int_equal(sj_layout_print(l, &text, NULL), SJ_OK);
        size_t n = strlen(text);
        char *m = malloc(n + 2);
        assert_non_null(m);
        size_t at = below(n + 1);
        char c = alphabet[below(sizeof alphabet - 1)];
        switch (below(3)) {
            case 0: /* delete */
                memcpy(m, text, n + 1);
                if (at < n) memmove(m + at, m + at + 1, n - at);
                break;
            case 1: /* insert */
                memcpy(m, text, at);
                m[at] = c;
                memcpy(m + at + 1, text + at, n - at + 1);
                break;
            default: /* replace */
                memcpy(m, text, n + 1);
                if (at < n) m[at] = c;
                break;
        }
        sj_layout *p = NULL;
        sj_error err = {0};
        sj_status st = sj_layout_parse(m, &p, &err);
        check_clean_failure(st, &err);
        if (st == SJ_OK) check_roundtrip(p);
        sj_layout_unref(p);
        p = NULL;
        st = sj_layout_parse_auto(m, &p, &err);
        check_clean_failure(st, &err);
        sj_layout_unref(p);
        free(m);
        free(text);
        sj_layout_unref(l);
    }
}

static void test_c_mutations(void **state) {
    (void)state;
    static const char base[] =
        "typedef struct { u8 a; } t; /* c */ struct particle { u32 id; f64 pos[3][2];\n"
        "  be i16 charge; f32 mass align(16); t x; union { u8 q; u16 r; }; void *p; }\n"
        "packed struct wire { be u16 len; unsigned long long seq; char flags; }\n"
        "particle[10]";
    static const char alphabet[] = "{}[]();*,:-/ \nabu0123456789_";
    seed(7);
    sj_layout *ok = NULL;
    assert_int_equal(sj_layout_parse_c(base, &ok, NULL), SJ_OK);
    sj_layout_unref(ok);
    size_t n = strlen(base);
    char m[sizeof base + 4];
    for (int i = 0; i < 5000; i++) {
        memcpy(m, base, n + 1);
        for (int k = 0, edits = 1 + (int)below(3); k < edits; k++) {
            size_t len = strlen(m), at = below(len + 1);
            char c = alphabet[below(sizeof alphabet - 1)];
            if (chance(50) && at < len) {
                memmove(m + at, m + at + 1, len - at); /* delete */
            } else if (len + 1 < sizeof m) {
                memmove(m + at + 1, m + at, len - at + 1); /* insert */
                m[at] = c;
            }
        }
        sj_layout *p = NULL;
        sj_error err = {0};
        sj_status st = sj_layout_parse_c(m, &p, &err);
        check_clean_failure(st, &err);
        if (st == SJ_OK) check_roundtrip(p);
        sj_layout_unref(p);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_roundtrip),
        cmocka_unit_test(test_c_roundtrip),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_c_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
