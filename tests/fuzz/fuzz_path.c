/* tests/fuzz/fuzz_path.c: libFuzzer target for layout paths (SEMANTICS 4.5). Byte 0 picks a
 * fixed root layout and the mode: text mode parses the bytes up to the first NUL as path
 * text, step mode builds sj_path_step values from the bytes for sj_path_resolve. A path
 * built either way renders text that parses back to the same path; sj_path_offset is
 * checked against base + sum(index * stride) for index vectors taken from the rest of the
 * input. Shared checks are in fuzz.h; layout text has its own targets. */
#include "fuzz.h"

/* Roots: nested sequences, a union, duplicate and odd names, zero sizes, 9 levels of
 * sequences (one more than SJ_PATH_MAX_FREE), sizes near 2^63. */
static const char *const ROOTS[] = {
    "[[10:[10:[i4(x)i4(y)]]](data)]",
    "[[i4(a)f4(b)](s)|[2:j8](arr)|d8(d)|[3:[2:s2(lo)]](m)](u)",
    "[[3:[j8(id)[4:s2](v)I4(n)x4](rec)](recs)ui4(count)x4(pad)16%[2:d8](al)]",
    "[4:[4:[4:[4:[4:[4:[4:[4:[4:b1]]]]]]]]]",
    "[i4(a)i4(a)[2:i4(x y)](it's)j8(\\)q)b1(#1)x7]",
    "[[0:i4](e)[4:i4](f)[0:[0:j8]](ee)]",
    "[1000000000000:[1000000:b1]](big)",
    "[4611686018427387903:[2:b1(lo)]]",
    "[9223372036854775807:b1]",
    "i4(v)",
    "[3:[5:[7:uS2(w)](r)](p)](q)",
    "[]",
};
#define NROOTS (sizeof ROOTS / sizeof ROOTS[0])

/* Names for step mode: every name in the roots, and ones that need quoting. */
static const char *const NAMES[] = {
    "data", "x", "y",    "u",   "s",  "a",    "b",    "arr", "d",  "m",     "lo",  "id",
    "v",    "n", "recs", "rec", "al", "it's", "x y",  ")q",  "#1", "e",     "f",   "ee",
    "big",  "w", "r",    "p",   "q",  "",     "a\nb", "\\",  "'",  "count", "pad", "z"};
#define NNAMES (sizeof NAMES / sizeof NAMES[0])

typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd;

static uint8_t rd_u8(rd *r) {
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}

static int64_t rd_i64(rd *r) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)rd_u8(r) << (8 * i);
    return (int64_t)v;
}

/* A signed 64-bit number: small most of the time, an edge value sometimes. */
static int64_t rd_num(rd *r) {
    uint8_t b = rd_u8(r);
    switch (b >> 4) {
        case 15:
            switch (b & 7) {
                case 0:
                    return INT64_MIN;
                case 1:
                    return INT64_MAX;
                case 2:
                    return INT64_MIN + 1;
                case 3:
                    return INT64_MAX - 1;
                case 4:
                    return (int64_t)1 << 62;
                case 5:
                    return 4611686018427387903;
                case 6:
                    return 1000000;
                default:
                    return rd_i64(r);
            }
        case 14:
            return -(int64_t)(b & 15) - 1;
        default:
            return b % 24;
    }
}

static sj_layout *root_layout(size_t i) {
    static sj_layout *roots[NROOTS];
    if (!roots[i]) {
        sj_error err = {SJ_OK, ""};
        sj_status st = sj_layout_parse(ROOTS[i], &roots[i], &err);
        FZ_CHECK(st == SJ_OK, "root '%s' does not parse: %s", ROOTS[i], err.message);
    }
    return roots[i];
}

/* The two paths agree on everything a path reports. */
static void check_same(const sj_path *p, const sj_path *q, const char *text) {
    FZ_CHECK(sj_path_base_offset(p) == sj_path_base_offset(q),
             "base differs after re-parse of '%s'", text);
    FZ_CHECK(sj_path_free_count(p) == sj_path_free_count(q),
             "free count differs after re-parse of '%s'", text);
    for (size_t i = 0; i < sj_path_free_count(p); i++) {
        FZ_CHECK(sj_path_stride(p, i) == sj_path_stride(q, i), "stride %zu differs for '%s'", i,
                 text);
        FZ_CHECK(sj_path_bound(p, i) == sj_path_bound(q, i), "bound %zu differs for '%s'", i, text);
    }
    FZ_CHECK(sj_layout_equal(sj_path_leaf(p), sj_path_leaf(q)), "leaf differs for '%s'", text);
    FZ_CHECK(sj_path_root(p) == sj_path_root(q), "root differs for '%s'", text);
    FZ_CHECK(strcmp(sj_path_text(p), sj_path_text(q)) == 0,
             "rendered text not stable: '%s' then '%s'", sj_path_text(p), sj_path_text(q));
}

/* One free index from the input: in range most of the time, at or past an edge sometimes. */
static int64_t pick_index(rd *r, int64_t bound) {
    uint8_t b = rd_u8(r);
    switch (b & 7) {
        case 0:
            return 0;
        case 1:
            return bound - 1;
        case 2:
            return bound;
        case 3:
            return -1;
        case 4:
        case 5:
            return bound > 0 ? (int64_t)(b >> 3) % bound : (int64_t)(b >> 3);
        case 6:
            return rd_i64(r);
        default:
            return (b & 8) ? INT64_MIN : INT64_MAX;
    }
}

/* sj_path_offset against its definition, for a few index vectors. */
static void check_offsets(const sj_path *p, rd *r) {
    const sj_layout *root = sj_path_root(p), *leaf = sj_path_leaf(p);
    uint64_t root_size = sj_layout_size(root), leaf_size = sj_layout_size(leaf);
    size_t nfree = sj_path_free_count(p);
    int64_t base = sj_path_base_offset(p);
    FZ_CHECK(nfree <= SJ_PATH_MAX_FREE, "%zu free indices", nfree);
    FZ_CHECK(base >= 0 && (uint64_t)base <= root_size, "base %lld outside a root of size %llu",
             (long long)base, (unsigned long long)root_size);
    for (size_t i = 0; i < nfree; i++)
        FZ_CHECK(sj_path_bound(p, i) >= 0, "bound %zu is %lld", i, (long long)sj_path_bound(p, i));

    int64_t idx[SJ_PATH_MAX_FREE + 1] = {0};
    sj_error err = {SJ_OK, ""};
    int64_t off = -12345;
    for (int round = 0; round < 4; round++) {
        bool in_range = true;
        int64_t expect = base;
        for (size_t i = 0; i < nfree; i++) {
            int64_t bound = sj_path_bound(p, i);
            idx[i] = round == 0 ? 0 : pick_index(r, bound);
            if (idx[i] < 0 || idx[i] >= bound) in_range = false;
        }
        if (in_range) {
            for (size_t i = 0; i < nfree; i++) {
                int64_t term;
                FZ_CHECK(!__builtin_mul_overflow(idx[i], sj_path_stride(p, i), &term) &&
                             !__builtin_add_overflow(expect, term, &expect),
                         "in-range indices overflow the offset of '%s'", sj_path_text(p));
            }
        }
        off = -12345;
        sj_status st = sj_path_offset(p, idx, nfree, &off, &err);
        if (in_range) {
            FZ_CHECK(st == SJ_OK, "path '%s' offset for in-range indices: %s %s", sj_path_text(p),
                     sj_status_name(st), err.message);
            FZ_CHECK(off == expect, "path '%s' offset %lld, expected %lld", sj_path_text(p),
                     (long long)off, (long long)expect);
            FZ_CHECK(off >= 0 && (uint64_t)off <= root_size &&
                         leaf_size <= root_size - (uint64_t)off,
                     "path '%s' offset %lld + leaf size %llu outside a root of size %llu",
                     sj_path_text(p), (long long)off, (unsigned long long)leaf_size,
                     (unsigned long long)root_size);
        } else {
            FZ_CHECK(off == -12345, "failed sj_path_offset wrote its output");
            fz_check_failure("path offset", NULL, st, &err, FZ_BIT(SJ_E_BOUNDS));
        }
        if (rd_u8(r) & 1) break;
    }
    /* a wrong number of indices */
    off = -12345;
    sj_status st = sj_path_offset(p, idx, nfree + 1, &off, &err);
    FZ_CHECK(off == -12345, "sj_path_offset with too many indices wrote its output");
    fz_check_failure("path offset", NULL, st, &err, FZ_BIT(SJ_E_ARG));
    if (nfree > 0) {
        st = sj_path_offset(p, idx, nfree - 1, &off, &err);
        fz_check_failure("path offset", NULL, st, &err, FZ_BIT(SJ_E_ARG));
    }
}

/* The path's own text parses back to the same path. */
static void check_reparse(const sj_layout *root, const sj_path *p) {
    const char *text = sj_path_text(p);
    FZ_CHECK(text != NULL, "path without text");
    sj_path *q = NULL;
    sj_error err = {SJ_OK, ""};
    sj_status st = sj_path_parse(root, text, &q, &err);
    FZ_CHECK(st == SJ_OK, "rendered path '%s' does not parse: %s %s", text, sj_status_name(st),
             err.message);
    check_same(p, q, text);
    sj_path_free(q);
}

static const unsigned PATH_FAILS = FZ_BIT(SJ_E_PATH) | FZ_BIT(SJ_E_PARSE) | FZ_BIT(SJ_E_ARG) |
                                   FZ_BIT(SJ_E_OVERFLOW) | FZ_BIT(SJ_E_NOMEM);

static void text_mode(const sj_layout *root, const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t tlen = nul ? (size_t)(nul - data) : size;
    char *text = fz_cstr(data, tlen);
    rd r = {nul ? nul + 1 : data + size, nul ? size - tlen - 1 : 0};

    sj_path *sentinel = (sj_path *)&sentinel, *p = sentinel;
    sj_error err = {SJ_OK, ""};
    sj_status st = sj_path_parse(root, text, &p, &err);
    if (st == SJ_OK) {
        FZ_CHECK(p && p != sentinel, "path parse succeeded without a path");
        FZ_CHECK(sj_path_root(p) == root, "path root is not the root given");
        check_reparse(root, p);
        check_offsets(p, &r);
        sj_path_free(p);
    } else {
        FZ_CHECK(p == sentinel, "failed path parse (%s) wrote its output", sj_status_name(st));
        fz_check_failure("path parse", text, st, &err, PATH_FAILS);
    }
    free(text);
}

static void step_mode(const sj_layout *root, const uint8_t *data, size_t size) {
    rd r = {data, size};
    sj_path_step steps[12];
    size_t n = rd_u8(&r) % 12;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = rd_u8(&r);
        memset(&steps[i], 0, sizeof steps[i]);
        steps[i].kind = (sj_step_kind)(b % 5);
        switch (steps[i].kind) {
            case SJ_STEP_NAME:
                steps[i].name = NAMES[(b / 5) % NNAMES];
                break;
            case SJ_STEP_MEMBER:
            case SJ_STEP_INDEX:
                steps[i].index = rd_num(&r);
                break;
            case SJ_STEP_OPEN:
                break;
            case SJ_STEP_RANGE:
                steps[i].index = rd_num(&r);
                steps[i].step = rd_num(&r);
                if ((rd_u8(&r) & 1) && steps[i].step != INT64_MIN) steps[i].step = -steps[i].step;
                break;
        }
    }
    sj_path *p = NULL;
    sj_error err = {SJ_OK, ""};
    sj_status st = sj_path_resolve(root, steps, n, &p, &err);
    if (st == SJ_OK) {
        check_reparse(root, p);
        check_offsets(p, &r);
        sj_path_free(p);
    } else {
        fz_check_failure("path resolve", NULL, st, &err, PATH_FAILS);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    size_t which = (data[0] & 0x7f) % NROOTS;
    const sj_layout *root = root_layout(which);
    if (data[0] & 0x80)
        step_mode(root, data + 1, size - 1);
    else
        text_mode(root, data + 1, size - 1);
    return 0;
}
