/* tests/test_jit_diff.c: differential test of the two tiers (SEMANTICS 4.6). Thousands of
 * random layouts and operations (seeded: SEGJIT_DIFF_SEED, SEGJIT_DIFF_ITERS) built
 * through the public kernel API; every call runs once on the interpreter and once on the
 * JIT from the same bytes, and must give the same bytes, status, message and result -
 * calls that fail their checks included. Skips when built without the JIT. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segjit/kernel.h"
#include "segjit/layout.h"
#include "segjit/segment.h"

/* ---- Random numbers (xorshift64*, seeded) ---- */

static uint64_t g_rng;
static uint64_t rnd(void) {
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1Dull;
}
static unsigned pick(unsigned n) {
    return (unsigned)(rnd() % n);
}
static bool chance(unsigned percent) {
    return pick(100) < percent;
}

/* ---- Random layouts, as canonical text ---- */

typedef struct kind_info {
    sj_kind kind;
    const char *le, *be;
    unsigned size;
} kind_info;

static const kind_info KINDS[] = {
    {SJ_BOOL, "z1", "z1", 1}, {SJ_I8, "b1", "b1", 1},    {SJ_U8, "ub1", "ub1", 1},
    {SJ_CHAR, "c2", "C2", 2}, {SJ_I16, "s2", "S2", 2},   {SJ_U16, "us2", "uS2", 2},
    {SJ_I32, "i4", "I4", 4},  {SJ_U32, "ui4", "uI4", 4}, {SJ_F32, "f4", "F4", 4},
    {SJ_I64, "j8", "J8", 8},  {SJ_U64, "uj8", "uJ8", 8}, {SJ_F64, "d8", "D8", 8},
    {SJ_ADDR, "a8", "A8", 8},
};
#define NKINDS (sizeof KINDS / sizeof KINDS[0])
#define MAXF   6

typedef struct field {
    unsigned kind; /* index into KINDS */
    bool big;
    unsigned name; /* f<name> */
} field;

typedef struct rec {
    field f[MAXF];
    unsigned n;
    bool packed;
} rec;

static void random_field(field *f, unsigned name) {
    f->kind = pick(NKINDS);
    f->big = chance(40);
    f->name = name;
}

/* n fields with distinct names drawn from f0..f7. */
static void random_rec(rec *r) {
    unsigned names[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (unsigned i = 7; i > 0; i--) {
        unsigned j = pick(i + 1), t = names[i];
        names[i] = names[j];
        names[j] = t;
    }
    r->n = 1 + pick(MAXF);
    r->packed = chance(25);
    for (unsigned i = 0; i < r->n; i++)
        random_field(&r->f[i], names[i]);
}

static size_t put(char *buf, size_t cap, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + len, len < cap ? cap - len : 0, fmt, ap);
    va_end(ap);
    return len + (n > 0 ? (size_t)n : 0);
}

static const char *kind_text(const field *f) {
    return f->big ? KINDS[f->kind].be : KINDS[f->kind].le;
}

/* Fields f[0..n) as members from offset *off, C padded (*align: the largest seen) or
 * packed; appended to buf at len. Returns the new length. */
static size_t members_text(const field *f, unsigned n, bool packed, char *buf, size_t cap,
                           size_t len, unsigned *off, unsigned *align) {
    for (unsigned i = 0; i < n; i++) {
        unsigned sz = KINDS[f[i].kind].size;
        if (packed) {
            len = put(buf, cap, len, "%s%s(f%u)", sz > 1 ? "1%" : "", kind_text(&f[i]), f[i].name);
        } else {
            if (*off % sz) len = put(buf, cap, len, "x%u", sz - *off % sz);
            *off += (sz - *off % sz) % sz;
            len = put(buf, cap, len, "%s(f%u)", kind_text(&f[i]), f[i].name);
            if (sz > *align) *align = sz;
        }
        *off += sz;
    }
    return len;
}

/* The struct of fields f[0..n) (tail padded to its alignment), or packed, appended at len;
 * its size and alignment in *size and *align. */
static size_t struct_text(const field *f, unsigned n, bool packed, char *buf, size_t cap,
                          size_t len, unsigned *size, unsigned *align) {
    unsigned off = 0;
    *align = 1;
    len = members_text(f, n, packed, buf, cap, put(buf, cap, len, "["), &off, align);
    if (!packed && off % *align) {
        len = put(buf, cap, len, "x%u", *align - off % *align);
        off += *align - off % *align;
    }
    *size = off;
    return put(buf, cap, len, "]");
}

/* The record as a struct with C padding (tail padded to its alignment), or packed. */
static void rec_text(const rec *r, char *buf, size_t cap) {
    unsigned size, align;
    struct_text(r->f, r->n, r->packed, buf, cap, 0, &size, &align);
}

static sj_layout *parse(const char *text) {
    sj_layout *l = NULL;
    sj_error err = {0};
    if (sj_layout_parse(text, &l, &err) != SJ_OK)
        fail_msg("layout '%s' does not parse: %s", text, err.message);
    return l;
}

static sj_path *path(const sj_layout *root, const char *text) {
    sj_path *p = NULL;
    sj_error err = {0};
    if (sj_path_parse(root, text, &p, &err) != SJ_OK)
        fail_msg("path '%s' does not parse: %s", text, err.message);
    return p;
}

/* Records per array so that the array stays well inside half a region. */
static unsigned records_for(const char *rec_text_, unsigned max) {
    sj_layout *l = parse(rec_text_);
    uint64_t sz = sj_layout_size(l);
    sj_layout_unref(l);
    uint64_t fit = 3000 / (sz ? sz : 1);
    if (fit < 1) fit = 1;
    return 1 + pick((unsigned)(fit < max ? fit : max));
}

/* ---- Memory and calls ---- */

enum { REGION = 8192, SLACK = 64 };

typedef struct region {
    uint8_t *mem; /* REGION + 2 * SLACK bytes, 64-aligned */
    uint8_t *data;
} region;

static void region_init(region *r) {
    r->mem = aligned_alloc(64, REGION + 2 * SLACK);
    assert_non_null(r->mem);
    r->data = r->mem + SLACK;
}

static void region_fill(region *r, bool floats_too) {
    for (size_t i = 0; i < REGION + 2 * SLACK; i += 8) {
        uint64_t v = rnd();
        if (floats_too && chance(10)) { /* specials where float fields may fall */
            static const double sp[] = {0.0, -0.0, 1e300, -1e300, 0.5, -3.5, 65536.0};
            v = 0;
            double d = sp[pick(sizeof sp / sizeof sp[0])];
            memcpy(&v, &d, 8);
            if (chance(30))
                v = UINT64_C(0x7ff8000000000001) | (rnd() & UINT64_C(0x8000000000000000));
        }
        memcpy(r->mem + i, &v, 8);
    }
}

typedef struct outcome {
    sj_status st;
    char msg[SJ_ERROR_MAX];
    uint64_t result;
    sj_tier tier;
} outcome;

static struct stats {
    unsigned cases, built, ran_jit, failed_checks, heap, pinned, overlap;
    unsigned loops, nested, unions, over, big; /* coverage of the kernels built */
    unsigned negative, open;                   /* paths with a negative step, over [*:rec] */
    unsigned wide;                             /* records of 100-350 fields */
    unsigned wide_arrays;                      /* ... of 130-180 fields holding arrays */
    unsigned mixed;    /* overlapping calls over heap and native views of the same bytes */
    unsigned in_place; /* overlapping calls whose source and destination start together */
    unsigned by_op[9];
} S;

/* Runs k on the region's current bytes with the given tier; returns the outcome and
 * leaves the bytes after the call in `after`. */
static outcome run_tier(sj_kernel *k, sj_tier tier, const sj_args *a, const sj_args_many *am,
                        region *r, const uint8_t *before, uint8_t *after) {
    memcpy(r->mem, before, REGION + 2 * SLACK);
    sj_kernel_set_tier(k, tier);
    outcome o;
    memset(&o, 0, sizeof o);
    sj_error err;
    memset(&err, 0, sizeof err);
    sj_result res;
    memset(&res, 0, sizeof res);
    o.st = am ? sj_kernel_run_many(k, am, &err) : sj_kernel_run(k, a, &res, &err);
    memcpy(o.msg, err.message, sizeof o.msg);
    memcpy(&o.result, &res, sizeof o.result);
    o.tier = sj_kernel_last_tier(k);
    memcpy(after, r->mem, REGION + 2 * SLACK);
    return o;
}

/* Pins held by pinned heap segments: back to 0 after every call. */
static long g_pins;
static void *pin_resolve(void *owner) {
    return owner;
}
static void pin_hold(void *owner) {
    (void)owner;
    g_pins++;
}
static void pin_release(void *owner) {
    (void)owner;
    g_pins--;
}

static uint8_t g_before[REGION + 2 * SLACK], g_after_i[REGION + 2 * SLACK],
    g_after_j[REGION + 2 * SLACK];

/* The differential check of one call (of sj_kernel_run_many when am is not NULL). */
static void diff_call(sj_kernel *k, const sj_args *a, const sj_args_many *am, region *r,
                      const char *what, bool native, bool overlap) {
    memcpy(g_before, r->mem, sizeof g_before);
    outcome oi = run_tier(k, SJ_TIER_INTERP, a, am, r, g_before, g_after_i);
    sj_kernel_info k0, k1;
    sj_error err = {0};
    assert_int_equal(sj_kernel_stats(k, &k0, &err), SJ_OK);
    outcome oj = run_tier(k, SJ_TIER_JIT, a, am, r, g_before, g_after_j);
    assert_int_equal(sj_kernel_stats(k, &k1, &err), SJ_OK);
    if (g_pins != 0) fail_msg("%s: %ld pins left after the calls", what, g_pins);
    int64_t count = am ? am->count : a->count;
    if (oi.st != oj.st || strcmp(oi.msg, oj.msg) != 0)
        fail_msg("%s: interpreter %s \"%s\", JIT %s \"%s\"", what, sj_status_name(oi.st), oi.msg,
                 sj_status_name(oj.st), oj.msg);
    if (oi.st == SJ_OK && oi.result != oj.result)
        fail_msg("%s: result %#" PRIx64 " (interpreter) vs %#" PRIx64 " (JIT)", what, oi.result,
                 oj.result);
    if (memcmp(g_after_i, g_after_j, sizeof g_after_i) != 0) {
        for (size_t i = 0; i < sizeof g_after_i; i++)
            if (g_after_i[i] != g_after_j[i])
                fail_msg("%s: byte %zd of the region: interpreter %02x, JIT %02x (was %02x)", what,
                         (ptrdiff_t)i - SLACK, g_after_i[i], g_after_j[i], g_before[i]);
    }
    if (oi.st != SJ_OK) {
        S.failed_checks++;
        if (memcmp(g_after_i, g_before, sizeof g_before) != 0)
            fail_msg("%s: a failed call (%s) wrote bytes", what, sj_status_name(oi.st));
        return;
    }
    if (oi.tier != SJ_TIER_INTERP)
        fail_msg("%s: the interpreter tier ran on tier %d", what, oi.tier);
    if (native && !overlap && count > 0) {
        if (oj.tier != SJ_TIER_JIT) {
            sj_counters c;
            sj_counters_get(&c);
            fail_msg("%s: the JIT tier ran the interpreter (last decline: %s)", what,
                     c.last_decline);
        }
        S.ran_jit++;
    } else if (native && count > 0 && oj.tier != SJ_TIER_JIT &&
               k1.fallbacks_overlap == k0.fallbacks_overlap) {
        /* overlapping calls run compiled too, in place or chunked; only a block copy's
         * memmove takes the interpreter, counted */
        fail_msg("%s: an overlapping call ran the interpreter without a counted fallback", what);
    } else if (!native && oj.tier != SJ_TIER_INTERP) {
        fail_msg("%s: a heap segment ran compiled code", what);
    }
}

enum { SEG_NATIVE, SEG_HEAP, SEG_PINNED };

/* A segment over [off, off + size) of the region: native, or heap over an i64 array
 * (its max alignment 8) that may move, or the same with pin callbacks (compiled code may
 * run on it). Sometimes read-only. */
static sj_segment segment(region *r, size_t off, size_t size, int mode, bool readonly) {
    sj_segment s;
    sj_error err = {0};
    if (mode != SEG_NATIVE) {
        sj_segment whole;
        if (mode == SEG_HEAP)
            assert_int_equal(sj_segment_of_array(SJ_HEAP_I64, r->data, REGION / 8, &whole, &err),
                             SJ_OK);
        else
            assert_int_equal(sj_segment_heap_pinned(SJ_HEAP_I64, REGION / 8, r->data, pin_resolve,
                                                    pin_hold, pin_release, &whole, &err),
                             SJ_OK);
        assert_int_equal(sj_segment_slice(&whole, (int64_t)off, (int64_t)size, &s, &err), SJ_OK);
    } else {
        assert_int_equal(sj_segment_native(r->data + off, (int64_t)size, &s, &err), SJ_OK);
    }
    return readonly ? sj_segment_readonly(&s) : s;
}

/* Offsets: usually multiples of `unit`, sometimes off by a few bytes. */
static int64_t random_offset(uint64_t unit, uint64_t room) {
    uint64_t o = unit ? pick(4) * unit : 0;
    if (chance(12)) o += 1 + pick(7);
    return (int64_t)(o < room ? o : 0);
}

/* count elements, sometimes too many, rarely negative. */
static int64_t random_count(int64_t fit) {
    if (chance(3)) return -1 - pick(3);
    if (chance(8)) return fit + 1 + pick(3);
    if (fit <= 0) return 0;
    return chance(10) ? fit : (int64_t)(rnd() % (uint64_t)(fit + 1));
}

/* Runs kernel k over elements of src_size/dst_size bytes per element (or a root of
 * fixed size when *_fixed): picks segments, offsets and counts, and diffs. */
static void exercise(sj_kernel *k, const char *what, uint64_t src_unit, uint64_t src_per,
                     uint64_t src_fixed, uint64_t dst_unit, uint64_t dst_per, uint64_t dst_fixed,
                     bool has_src, int64_t max_count) {
    region r;
    region_init(&r);
    for (int call = 0; call < 3; call++) {
        region_fill(&r, true);
        int mode = chance(5) ? SEG_HEAP : chance(6) ? SEG_PINNED : SEG_NATIVE;
        bool heap = mode == SEG_HEAP, overlap = has_src && chance(6);
        size_t half = REGION / 2;
        size_t src_base = 0, dst_base = overlap ? pick(64) : half;
        int64_t so = random_offset(src_unit, 256), doff = random_offset(dst_unit, 256);
        if (overlap && chance(30)) { /* in place when the strides agree */
            dst_base = src_base;
            doff = so;
            S.in_place++;
        }
        uint64_t room_s = half - 256 - src_fixed, room_d = half - 256 - dst_fixed;
        int64_t fit = max_count;
        if (src_per && (int64_t)(room_s / src_per) < fit) fit = (int64_t)(room_s / src_per);
        if (dst_per && (int64_t)(room_d / dst_per) < fit) fit = (int64_t)(room_d / dst_per);
        int64_t count = random_count(fit);
        uint64_t need_s = src_fixed + src_per * (uint64_t)(count > 0 ? count : 0);
        uint64_t need_d = dst_fixed + dst_per * (uint64_t)(count > 0 ? count : 0);
        /* segments end where the call's bytes end (plus a little), or a bit short */
        size_t ssz = (size_t)so + need_s + (chance(10) ? 0 : pick(16));
        size_t dsz = (size_t)doff + need_d + (chance(10) ? 0 : pick(16));
        if (chance(5) && ssz > 2) ssz -= 1 + pick(2);
        if (ssz > half) ssz = half;
        if (dsz > half) dsz = half;
        sj_segment sseg = segment(&r, src_base, ssz, mode, false);
        /* an overlapping call may see the same bytes as heap on one side, native on the
         * other (overlap is decided from the bytes) */
        int dmode = overlap && mode != SEG_NATIVE && chance(75) ? SEG_NATIVE : mode;
        S.mixed += dmode != mode;
        sj_segment dseg = segment(&r, dst_base, dsz, dmode, chance(5));
        sj_args a = {has_src ? &sseg : NULL, so, &dseg, doff, count};
        char label[160];
        snprintf(label, sizeof label,
                 "case %u %s (count %" PRId64 ", offsets %" PRId64 "/%" PRId64 "%s%s%s)", S.cases,
                 what, count, so, doff,
                 heap                 ? ", heap"
                 : mode == SEG_PINNED ? ", pinned heap"
                                      : "",
                 overlap ? ", overlap" : "", dmode != mode ? " with a native destination" : "");
        S.heap += heap;
        S.pinned += mode == SEG_PINNED;
        S.overlap += overlap;
        diff_call(k, &a, NULL, &r, label, !heap, overlap);
    }
    free(r.mem);
}

/* Runs a gather_many kernel of nd destinations (elements of dsz[i] bytes, alignment
 * dal[i]) over records of a root of rs bytes (alignment ra): destination i in its own
 * slot of the region's second half, sometimes inside the records (overlapping the
 * source) or on another destination's slot (overlapping each other, refused). */
static void exercise_many(sj_kernel *k, const char *what, uint64_t rs, uint64_t ra, size_t nd,
                          const uint64_t *dsz, const uint64_t *dal, int64_t max_count) {
    region r;
    region_init(&r);
    size_t half = REGION / 2, slot = half / 4;
    for (int call = 0; call < 3; call++) {
        region_fill(&r, true);
        int mode = chance(5) ? SEG_HEAP : chance(6) ? SEG_PINNED : SEG_NATIVE;
        bool heap = mode == SEG_HEAP, overlap = chance(6), clash = nd > 1 && chance(6);
        int64_t so = random_offset(ra, 256);
        int64_t fit = max_count;
        for (size_t i = 0; i < nd; i++)
            if ((int64_t)((slot - 256) / dsz[i]) < fit) fit = (int64_t)((slot - 256) / dsz[i]);
        int64_t count = random_count(fit);
        uint64_t n = (uint64_t)(count > 0 ? count : 0);
        size_t ssz = (size_t)so + rs + (chance(10) ? 0 : pick(16));
        if (chance(5) && ssz > 2) ssz -= 1 + pick(2);
        if (ssz > half) ssz = half;
        sj_segment sseg = segment(&r, 0, ssz, mode, false), dseg[4];
        const sj_segment *dp[4];
        int64_t doffs[4];
        size_t clash_at = clash ? 1 + pick((unsigned)nd - 1) : 0;
        for (size_t i = 0; i < nd; i++) {
            size_t base = half + (clash && i == clash_at ? 0 : i) * slot;
            if (overlap && i == 0) base = pick(64);
            doffs[i] = random_offset(dal[i], 256);
            size_t dsize = (size_t)doffs[i] + dsz[i] * n + (chance(10) ? 0 : pick(16));
            if (chance(3) && dsize > 2) dsize -= 1 + pick(2);
            if (dsize > slot) dsize = slot;
            dseg[i] = segment(&r, base, dsize, mode, chance(3));
            dp[i] = &dseg[i];
        }
        sj_args_many a = {&sseg, so, dp, doffs, nd, count};
        char label[1100];
        snprintf(label, sizeof label,
                 "case %u %s (count %" PRId64 ", source offset %" PRId64 "%s%s%s)", S.cases, what,
                 count, so,
                 heap                 ? ", heap"
                 : mode == SEG_PINNED ? ", pinned heap"
                                      : "",
                 overlap ? ", overlap" : "", clash ? ", destinations clash" : "");
        S.heap += heap;
        S.pinned += mode == SEG_PINNED;
        S.overlap += overlap;
        diff_call(k, NULL, &a, &r, label, !heap, overlap);
    }
    free(r.mem);
}

/* ---- Cases, one per operation ---- */

static void case_copy(void) {
    char t1[256], t2[256];
    rec r;
    random_rec(&r);
    if (chance(50)) { /* a value, maybe to the other byte order */
        r.n = 1;
        r.packed = false;
        snprintf(t1, sizeof t1, "%s", kind_text(&r.f[0]));
        r.f[0].big = !r.f[0].big;
        snprintf(t2, sizeof t2, "%s", chance(50) ? kind_text(&r.f[0]) : t1);
    } else {
        rec_text(&r, t1, sizeof t1);
        for (unsigned i = 0; i < r.n; i++)
            if (chance(30)) r.f[i].big = !r.f[i].big;
        rec_text(&r, t2, sizeof t2);
    }
    sj_layout *a = parse(t1), *b = parse(t2);
    sj_kernel *k = NULL;
    sj_error err = {0};
    if (sj_kernel_copy(a, b, &k, &err) == SJ_OK) {
        S.built++;
        uint64_t sz = sj_layout_size(a);
        char what[600];
        snprintf(what, sizeof what, "copy %s -> %s", t1, t2);
        exercise(k, what, sj_layout_align(a), sz, 0, sj_layout_align(b), sz, 0, true, 300);
        sj_kernel_free(k);
    }
    sj_layout_unref(a);
    sj_layout_unref(b);
}

/* A conversion t1 -> t2 under random flags, exercised when it builds; whether it did. */
static bool convert_texts(const char *t1, const char *t2, const char *label, int64_t max_count) {
    sj_layout *a = parse(t1), *b = parse(t2);
    unsigned flags =
        (chance(85) ? SJ_CONVERT_LOSSY : 0) | (chance(85) ? SJ_CONVERT_ZERO_UNMATCHED : 0);
    sj_kernel *k = NULL;
    sj_error err = {0};
    bool built = sj_kernel_convert(a, b, flags, &k, &err) == SJ_OK;
    if (built) {
        S.built++;
        char what[600];
        snprintf(what, sizeof what, "%s %.280s -> %.280s flags %u", label, t1, t2, flags);
        exercise(k, what, sj_layout_align(a), sj_layout_size(a), 0, sj_layout_align(b),
                 sj_layout_size(b), 0, true, max_count);
        sj_kernel_free(k);
    }
    sj_layout_unref(a);
    sj_layout_unref(b);
    return built;
}

static void case_convert(void) {
    rec s, d;
    random_rec(&s);
    random_rec(&d);
    /* reuse some source names so that fields match */
    for (unsigned i = 0; i < d.n; i++)
        if (chance(70)) d.f[i].name = s.f[pick(s.n)].name;
    for (unsigned i = 0; i < d.n; i++) /* names stay distinct */
        for (unsigned j = 0; j < i; j++)
            if (d.f[j].name == d.f[i].name) d.f[i].name = 8 + i;
    char t1[256], t2[256];
    rec_text(&s, t1, sizeof t1);
    rec_text(&d, t2, sizeof t2);
    convert_texts(t1, t2, "convert", 200);
}

/* ---- Wide records (jit/emit.c splits plans of over 128 moves into chunk functions) ---- */

/* n fields f0..f(n-1) of random kinds; as a destination (of src), the names shuffled and
 * one in ten replaced by a name the source lacks. */
static void wide_fields(field *f, unsigned n, bool dst) {
    for (unsigned i = 0; i < n; i++) {
        random_field(&f[i], i);
        if (dst && chance(10)) f[i].name = n + i;
    }
    for (unsigned i = n - 1; dst && i > 0; i--) {
        unsigned j = pick(i + 1);
        field t = f[i];
        f[i] = f[j];
        f[j] = t;
    }
}

/* A record of 100-250 fields, some ending in an array of a struct of 65-100 fields (a loop
 * whose body is chunked in turn), converted to the fields reordered, their kinds and byte
 * orders changed. */
static void case_convert_wide(void) {
    enum { CAP = 16384 };
    unsigned n = 100 + pick(151), m = chance(40) ? 65 + pick(36) : 0, count = 2 + pick(2);
    bool packed = chance(25);
    field *f = malloc((n + m) * sizeof *f);
    char *t[2] = {malloc(CAP), malloc(CAP)};
    assert_true(f && t[0] && t[1]);
    for (int side = 0; side < 2; side++) {
        unsigned off = 0, align = 1, isize = 0, ialign = 1;
        wide_fields(f, n, side == 1);
        size_t len =
            members_text(f, n, packed, t[side], CAP, put(t[side], CAP, 0, "["), &off, &align);
        if (m) {
            wide_fields(f + n, m, side == 1);
            char inner[4096];
            struct_text(f + n, m, packed, inner, sizeof inner, 0, &isize, &ialign);
            if (!packed && off % ialign) {
                len = put(t[side], CAP, len, "x%u", ialign - off % ialign);
                off += ialign - off % ialign;
            }
            len = put(t[side], CAP, len, "[%u:%s](arr)", count, inner);
            off += count * isize;
            if (ialign > align) align = ialign;
        }
        if (!packed && off % align) len = put(t[side], CAP, len, "x%u", align - off % align);
        put(t[side], CAP, len, "]");
    }
    char label[64];
    snprintf(label, sizeof label, "wide convert (%u fields, %u in the array)", n, m);
    if (convert_texts(t[0], t[1], label, 8)) S.wide++;
    free(t[0]);
    free(t[1]);
    free(f);
}

/* ---- Records holding arrays (inner loops, plan.h's SJ_MOVE_LOOP) ---- */

/* A value (over-aligned sometimes), an array of values, an array of a two-field struct
 * {p, q}, that struct nested once, or a union [p|q]. */
typedef struct afield {
    unsigned name, count;
    unsigned shape; /* 0 value, 1 array of k[0], 2 array of {p, q}, 3 {p, q}, 4 [p|q] */
    unsigned k[2];
    bool big[2], q_first;
    unsigned over; /* shape 0: an alignment above the natural one (0: none) */
} afield;

#define AREC_MAX 180 /* fields of a wide record holding arrays */

typedef struct arec {
    afield f[AREC_MAX];
    unsigned n;
    bool packed;
} arec;

static const unsigned ACOUNTS[] = {2, 3, 5, 17, 40};
static const unsigned ACOUNTS_WIDE[] = {2, 3, 4, 5, 16, 17}; /* about emit.c's unroll bound */

static const char *akind(unsigned k, bool big) {
    return big ? KINDS[k].be : KINDS[k].le;
}

/* The element of field f (the value, or the struct) as text, with its size and alignment. */
static size_t aelem_text(const afield *f, bool packed, char *buf, size_t cap, unsigned *size,
                         unsigned *align) {
    const char *pre1 = packed && KINDS[f->k[0]].size > 1 ? "1%" : "";
    if (f->shape == 0 && f->over && !packed) {
        *size = KINDS[f->k[0]].size;
        *align = f->over;
        return put(buf, cap, 0, "%u%%%s", f->over, akind(f->k[0], f->big[0]));
    }
    if (f->shape < 2) {
        *size = KINDS[f->k[0]].size;
        *align = packed ? 1 : *size;
        return put(buf, cap, 0, "%s%s", pre1, akind(f->k[0], f->big[0]));
    }
    if (f->shape == 4) { /* a union: its size the larger member's, rounded to its alignment */
        unsigned s0 = KINDS[f->k[0]].size, s1 = KINDS[f->k[1]].size;
        unsigned al = packed ? 1 : s0 > s1 ? s0 : s1;
        *size = s0 > s1 ? s0 : s1;
        *align = al;
        return put(buf, cap, 0, "[%s%s(p)|%s%s(q)]", packed && s0 > 1 ? "1%" : "",
                   akind(f->k[0], f->big[0]), packed && s1 > 1 ? "1%" : "",
                   akind(f->k[1], f->big[1]));
    }
    size_t len = put(buf, cap, 0, "[");
    unsigned off = 0, al = 1;
    for (unsigned j = 0; j < 2; j++) {
        unsigned w = f->q_first ? 1 - j : j, sz = KINDS[f->k[w]].size;
        if (!packed && off % sz) {
            len = put(buf, cap, len, "x%u", sz - off % sz);
            off += sz - off % sz;
        }
        if (!packed && sz > al) al = sz;
        len = put(buf, cap, len, "%s%s(%c)", packed && sz > 1 ? "1%" : "",
                  akind(f->k[w], f->big[w]), w ? 'q' : 'p');
        off += sz;
    }
    if (off % al) {
        len = put(buf, cap, len, "x%u", al - off % al);
        off += al - off % al;
    }
    *size = off;
    *align = al;
    return put(buf, cap, len, "]");
}

/* The record as text (C padding, or packed); its size in *size. */
static void arec_text(const arec *r, char *buf, size_t cap, unsigned *size) {
    size_t len = put(buf, cap, 0, "[");
    unsigned off = 0, al = 1;
    for (unsigned i = 0; i < r->n; i++) {
        const afield *f = &r->f[i];
        char el[96];
        unsigned esz, eal;
        aelem_text(f, r->packed, el, sizeof el, &esz, &eal);
        if (!r->packed && off % eal) {
            len = put(buf, cap, len, "x%u", eal - off % eal);
            off += eal - off % eal;
        }
        if (eal > al) al = eal;
        if (f->shape == 0 || f->shape >= 3)
            len = put(buf, cap, len, "%s(f%u)", el, f->name);
        else
            len = put(buf, cap, len, "[%u:%s](f%u)", f->count, el, f->name);
        off += esz * (f->shape == 1 || f->shape == 2 ? f->count : 1);
    }
    if (!r->packed && off % al) {
        len = put(buf, cap, len, "x%u", al - off % al);
        off += al - off % al;
    }
    put(buf, cap, len, "]");
    *size = off;
}

/* Another kind of kind k's size (k itself for the one-byte kinds' last). */
static unsigned same_size_kind(unsigned k) {
    for (unsigned j = 1; j < NKINDS; j++) {
        unsigned c = (k + j) % NKINDS;
        if (KINDS[c].size == KINDS[k].size) return c;
    }
    return k;
}

/* Converts records holding arrays (some short enough to unroll, most inner loops, some of
 * structs) to a reordered record of the same shapes, kinds and byte orders changed. Wide:
 * 130-180 fields, arrays of 2-17 (chunked plans: short loops unrolled or vectors). */
static void case_convert_arrays(bool wide) {
    enum { CAP = 32768 };
    static arec s, d;
    unsigned ssz = 0, dsz = 0;
    char *t1 = malloc(CAP), *t2 = malloc(CAP);
    assert_true(t1 && t2);
    do {
        s.n = wide ? 130 + pick(51) : 1 + pick(4);
        s.packed = chance(25);
        for (unsigned i = 0; i < s.n; i++) {
            afield *f = &s.f[i];
            f->name = i;
            unsigned sh = pick(20);
            f->shape = sh < 4 ? 0 : sh < 11 ? 1 : sh < 15 ? 2 : sh < 18 ? 3 : 4;
            f->over = f->shape == 0 && chance(30) ? 8u << pick(2) : 0;
            f->count = wide ? ACOUNTS_WIDE[pick(sizeof ACOUNTS_WIDE / sizeof ACOUNTS_WIDE[0])]
                            : ACOUNTS[pick(sizeof ACOUNTS / sizeof ACOUNTS[0])];
            for (unsigned j = 0; j < 2; j++) {
                f->k[j] = pick(NKINDS);
                f->big[j] = chance(40);
            }
            f->q_first = false;
        }
        /* wide, sometimes: runs of one element kind kept in order (one vector per run) */
        bool runs = wide && chance(40);
        for (unsigned i = 0; runs && i < s.n; i++) {
            if (chance(80)) s.f[i].shape = pick(2); /* mostly values and arrays of them */
            if (i && s.f[i].shape < 2 && s.f[i - 1].shape < 2 && chance(75)) {
                s.f[i].k[0] = s.f[i - 1].k[0]; /* the kind, in the other order sometimes */
                s.f[i].big[0] = s.f[i - 1].big[0] != chance(15);
                if (chance(15)) s.f[i].k[0] = same_size_kind(s.f[i].k[0]);
                s.f[i].over = s.f[i - 1].over = 0;
            }
        }
        d = s;
        d.packed = chance(25);
        for (unsigned i = runs ? 0 : d.n - 1; i > 0; i--) { /* shuffled */
            unsigned j = pick(i + 1);
            afield t = d.f[i];
            d.f[i] = d.f[j];
            d.f[j] = t;
        }
        for (unsigned i = 0; i < d.n; i++) {
            afield *f = &d.f[i];
            /* a union converts only from an equal one: mostly kept as it is */
            bool same = runs && i && s.f[i].shape < 2 && s.f[i - 1].shape < 2 &&
                        KINDS[s.f[i].k[0]].size == KINDS[s.f[i - 1].k[0]].size;
            for (unsigned j = 0; j < 2 && (f->shape != 4 || chance(wide ? 1 : 15)); j++) {
                if (chance(40)) f->k[j] = pick(NKINDS);
                if (chance(30)) f->big[j] = !f->big[j];
            }
            if (same && chance(90)) { /* the run converted alike, or to the other order */
                f->k[0] = d.f[i - 1].k[0];
                f->big[0] = d.f[i - 1].big[0] != chance(15);
                f->over = d.f[i - 1].over = 0;
                if (chance(15)) f->k[0] = same_size_kind(f->k[0]);
            }
            if (f->shape != 4) f->q_first = chance(50);
            if (f->shape == 0 && !same && chance(50)) f->over = chance(50) ? 0 : 8u << pick(2);
            if (!wide && chance(3)) f->count++;               /* a count mismatch: refused */
            if (chance(wide ? 1 : 8)) f->name = AREC_MAX + i; /* unmatched: zeroed, or refused */
        }
        arec_text(&s, t1, CAP, &ssz);
        arec_text(&d, t2, CAP, &dsz);
    } while (!wide && (ssz > 1800 || dsz > 1800));
    sj_layout *a = parse(t1), *b = parse(t2);
    unsigned flags =
        (chance(85) ? SJ_CONVERT_LOSSY : 0) | (chance(85) ? SJ_CONVERT_ZERO_UNMATCHED : 0);
    sj_kernel *k = NULL;
    sj_error err = {0};
    if (sj_kernel_convert(a, b, flags, &k, &err) == SJ_OK) {
        S.built++;
        char *plan = NULL;
        if (sj_kernel_describe(k, &plan, &err) == SJ_OK && strstr(plan, "  loop ")) S.loops++;
        free(plan);
        bool nested = false, unions = false, over = false;
        for (unsigned i = 0; i < s.n; i++) {
            nested |= s.f[i].shape == 2 || s.f[i].shape == 3;
            unions |= s.f[i].shape == 4;
            over |= s.f[i].over != 0 && !s.packed;
        }
        S.nested += nested;
        S.unions += unions;
        S.over += over;
        S.big += sj_layout_size(a) > 64 || sj_layout_size(b) > 64;
        S.wide_arrays += wide;
        char what[2200];
        snprintf(what, sizeof what, "convert %.1000s -> %.1000s flags %u", t1, t2, flags);
        exercise(k, what, sj_layout_align(a), sj_layout_size(a), 0, sj_layout_align(b),
                 sj_layout_size(b), 0, true, wide ? 4 : 20);
        sj_kernel_free(k);
    }
    sj_layout_unref(a);
    sj_layout_unref(b);
    free(t1);
    free(t2);
}

/* Records of 1-4 arrays (or values) of 2-, 4- and 8-byte kinds converted to the other byte
 * order, same kinds: swaps of up to 257 units, around emit.c's vector blocks (64 bytes, 4
 * written out, more in a loop); one field alone is elements that are one swap each (one
 * loop over all units). Sometimes to other kinds: conversion loops in blocks of 16 values.
 * The fields reordered or not, packed or not. */
static void case_convert_swaps(void) {
    static const unsigned counts[] = {1,  2,  3,  4,  7,  8,  15, 16,  17,  31,  32, 33,
                                      48, 63, 64, 65, 79, 80, 81, 100, 128, 129, 257};
    static const unsigned kinds[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; /* 2, 4, 8 bytes */
    unsigned n = chance(40) ? 1 : 2 + pick(3), order[4] = {0, 1, 2, 3};
    unsigned k[2][4], c[4];
    bool big = chance(50), packed = chance(30), convert = chance(40);
    for (unsigned i = 0; i < n; i++) {
        k[0][i] = k[1][i] = kinds[pick(sizeof kinds / sizeof kinds[0])];
        if (convert && chance(80)) k[1][i] = kinds[pick(sizeof kinds / sizeof kinds[0])];
        c[i] = counts[pick(sizeof counts / sizeof counts[0])];
    }
    for (unsigned i = n - 1; chance(60) && i > 0; i--) {
        unsigned j = pick(i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    char t[2][256];
    for (unsigned side = 0; side < 2; side++) { /* C padding, or packed (alignment 1) */
        bool pk = packed && side == 1;
        size_t len = put(t[side], sizeof t[side], 0, "[");
        unsigned off = 0, al = 1;
        for (unsigned j = 0; j < n; j++) {
            unsigned i = side ? order[j] : j, sz = KINDS[k[side][i]].size;
            const char *kt = akind(k[side][i], (big != (side == 1)) != (convert && chance(30)));
            if (!pk && off % sz) {
                len = put(t[side], sizeof t[side], len, "x%u", sz - off % sz);
                off += sz - off % sz;
            }
            if (!pk && sz > al) al = sz;
            len = c[i] == 1 ? put(t[side], sizeof t[side], len, "%s%s(f%u)", pk ? "1%" : "", kt, i)
                            : put(t[side], sizeof t[side], len, "[%u:%s%s](f%u)", c[i],
                                  pk ? "1%" : "", kt, i);
            off += sz * c[i];
        }
        if (off % al) len = put(t[side], sizeof t[side], len, "x%u", al - off % al);
        put(t[side], sizeof t[side], len, "]");
    }
    convert_texts(t[0], t[1], "convert swaps", 64);
}

/* The selection of records of a path over [n:rec]: all, every other from 1, or a negative
 * step (all reversed, every other from the last), counted. */
static void records_step(unsigned n, char *out, size_t cap) {
    unsigned c = n < 2 ? 0 : pick(10);
    if (c < 6) {
        snprintf(out, cap, "[*]");
    } else if (c < 7) {
        snprintf(out, cap, "[1::2]");
    } else if (c < 9) {
        snprintf(out, cap, "[%u::-1]", n - 1);
        S.negative++;
    } else {
        snprintf(out, cap, "[%u::-2]", n - 1);
        S.negative++;
    }
}

/* Gather (scatter when back): field fK of every record of [N:rec] from/to a dense array. */
static void case_gather_scatter(bool back) {
    rec r;
    random_rec(&r);
    char t[256], root_text[300], ptext[32];
    rec_text(&r, t, sizeof t);
    unsigned n = records_for(t, 150);
    bool open = chance(15); /* [*:rec]: one kernel for every count, checked per call */
    if (open)
        snprintf(root_text, sizeof root_text, "[*:%s]", t);
    else
        snprintf(root_text, sizeof root_text, "[%u:%s]", n, t);
    const field *f = &r.f[pick(r.n)];
    char step[24] = "[*]";
    if (!open) records_step(n, step, sizeof step);
    snprintf(ptext, sizeof ptext, "%s.f%u", step, f->name);
    field e = *f;
    if (chance(50)) random_field(&e, 0);
    char et[16];
    snprintf(et, sizeof et, "%s", kind_text(&e));
    sj_layout *root = parse(root_text), *elem = parse(et), *recl = parse(t);
    uint64_t rec_size = sj_layout_size(recl);
    sj_layout_unref(recl);
    sj_path *p = path(root, ptext);
    unsigned flags = chance(85) ? SJ_CONVERT_LOSSY : 0;
    sj_kernel *k = NULL;
    sj_error err = {0};
    sj_status st = back ? sj_kernel_scatter(elem, p, flags, &k, &err)
                        : sj_kernel_gather(p, elem, flags, &k, &err);
    if (st == SJ_OK) {
        S.built++;
        char what[600];
        snprintf(what, sizeof what, "%s %s%s %s", back ? "scatter" : "gather", root_text, ptext,
                 et);
        uint64_t es = sj_layout_size(elem), ea = sj_layout_align(elem);
        uint64_t ra = sj_layout_align(root);
        /* an open root's extent grows with the count (a record each); a fixed one's not */
        uint64_t rs_fixed = open ? 0 : sj_layout_size(root), rs_per = open ? rec_size : 0;
        int64_t bound = open ? (int64_t)n : sj_path_bound(p, 0);
        S.open += open;
        if (back)
            exercise(k, what, ea, es, 0, ra, rs_per, rs_fixed, true, bound);
        else
            exercise(k, what, ra, rs_per, rs_fixed, ea, es, 0, true, bound);
        sj_kernel_free(k);
    }
    sj_path_free(p);
    sj_layout_unref(root);
    sj_layout_unref(elem);
}

/* One to four fields of a random record (maybe one twice), each into its own array. */
static void case_gather_many(void) {
    rec r;
    random_rec(&r);
    char t[256], root_text[300];
    rec_text(&r, t, sizeof t);
    unsigned n = records_for(t, 150);
    snprintf(root_text, sizeof root_text, "[%u:%s]", n, t);
    char step[24];
    records_step(n, step, sizeof step);
    size_t nd = 1 + pick(4);
    sj_layout *root = parse(root_text), *elems[4] = {NULL};
    sj_path *paths[4] = {NULL};
    uint64_t dsz[4], dal[4];
    char what[900];
    size_t len = (size_t)snprintf(what, sizeof what, "gather_many %s", root_text);
    for (size_t i = 0; i < nd; i++) {
        const field *f = &r.f[pick(r.n)];
        char ptext[32], et[16];
        snprintf(ptext, sizeof ptext, "%s.f%u", step, f->name);
        field e = *f;
        if (chance(50)) random_field(&e, 0);
        snprintf(et, sizeof et, "%s", kind_text(&e));
        paths[i] = path(root, ptext);
        elems[i] = parse(et);
        dsz[i] = sj_layout_size(elems[i]);
        dal[i] = sj_layout_align(elems[i]);
        if (len < sizeof what)
            len += (size_t)snprintf(what + len, sizeof what - len, " %s->%s", ptext, et);
    }
    unsigned flags = chance(85) ? SJ_CONVERT_LOSSY : 0;
    sj_kernel *k = NULL;
    sj_error err = {0};
    if (sj_kernel_gather_many((const sj_path *const *)paths, (const sj_layout *const *)elems, nd,
                              flags, &k, &err) == SJ_OK) {
        S.built++;
        exercise_many(k, what, sj_layout_size(root), sj_layout_align(root), nd, dsz, dal,
                      sj_path_bound(paths[0], 0));
        sj_kernel_free(k);
    }
    for (size_t i = 0; i < nd; i++) {
        sj_path_free(paths[i]);
        sj_layout_unref(elems[i]);
    }
    sj_layout_unref(root);
}

static void case_fill(void) {
    field f;
    random_field(&f, 0);
    sj_layout *l = parse(kind_text(&f));
    sj_value v;
    uint64_t bits = rnd();
    memset(&v, 0, sizeof v);
    memcpy(&v, &bits, sizeof bits);
    if (KINDS[f.kind].kind == SJ_BOOL) v.z = bits & 1;
    sj_kernel *k = NULL;
    sj_error err = {0};
    if (sj_kernel_fill(l, v, &k, &err) == SJ_OK) {
        S.built++;
        char what[64];
        snprintf(what, sizeof what, "fill %s with %#" PRIx64, kind_text(&f), bits);
        uint64_t sz = sj_layout_size(l);
        exercise(k, what, 0, 0, 0, sz, sz, 0, false, 400);
        sj_kernel_free(k);
    }
    sj_layout_unref(l);
}

static void case_reduce(void) {
    rec r;
    random_rec(&r);
    char t[256], root_text[300], ptext[32];
    rec_text(&r, t, sizeof t);
    unsigned n = records_for(t, 200);
    snprintf(root_text, sizeof root_text, "[%u:%s]", n, t);
    const field *f = &r.f[pick(r.n)];
    char step[24];
    records_step(n, step, sizeof step);
    snprintf(ptext, sizeof ptext, "%s.f%u", step, f->name);
    sj_layout *root = parse(root_text);
    sj_path *p = path(root, ptext);
    sj_reduce_op op = (sj_reduce_op)pick(3);
    sj_kernel *k = NULL;
    sj_error err = {0};
    if (sj_kernel_reduce(p, op, &k, &err) == SJ_OK) {
        S.built++;
        char what[400];
        snprintf(what, sizeof what, "reduce %d %s%s", (int)op, root_text, ptext);
        exercise(k, what, sj_layout_align(root), 0, sj_layout_size(root), 0, 0, 0, true,
                 sj_path_bound(p, 0));
        sj_kernel_free(k);
    }
    sj_path_free(p);
    sj_layout_unref(root);
}

static void case_mismatch(void) {
    sj_kernel *k = NULL;
    sj_error err = {0};
    assert_int_equal(sj_kernel_mismatch(&k, &err), SJ_OK);
    S.built++;
    region r;
    region_init(&r);
    for (int call = 0; call < 4; call++) {
        region_fill(&r, false);
        int64_t n = (int64_t)pick(700);
        memcpy(r.data + REGION / 2, r.data, (size_t)n + 16);
        if (chance(70) && n > 0) r.data[REGION / 2 + pick((unsigned)n)] ^= (uint8_t)(1 + pick(255));
        /* the ranges at offsets within the segments (the same bytes shifted) */
        int64_t ao = chance(50) ? (int64_t)pick(40) : 0, bo = chance(50) ? (int64_t)pick(40) : 0;
        memmove(r.data + ao, r.data, (size_t)n + 16);
        memmove(r.data + REGION / 2 + bo, r.data + REGION / 2, (size_t)n + 16);
        sj_segment a = segment(&r, 0, (size_t)(ao + n) + pick(8), false, false);
        sj_segment b = segment(&r, REGION / 2, (size_t)(bo + n) + pick(8), false, chance(20));
        sj_args args = {&a, ao, &b, bo, chance(5) ? n + 20 : n};
        char what[64];
        snprintf(what, sizeof what, "case %u mismatch of %" PRId64 " bytes", S.cases, n);
        diff_call(k, &args, NULL, &r, what, true, false);
    }
    free(r.mem);
    sj_kernel_free(k);
}

/* Seeds that once found a difference run on every run (add any failing seed here). */
static const uint64_t regression_seeds[] = {20240611u};

static void run_seed(uint64_t seed, unsigned iters) {
    memset(&S, 0, sizeof S);
    g_rng = seed * 0x9E3779B97F4A7C15ull + 1;
    print_message("seed %" PRIu64 ", %u cases (SEGJIT_DIFF_SEED=%" PRIu64 " repeats it)\n", seed,
                  iters, seed);
    for (S.cases = 0; S.cases < iters; S.cases++) {
        unsigned op = pick(100);
        if (op < 18)
            case_copy(), S.by_op[0]++;
        else if (op < 31)
            case_convert(), S.by_op[1]++;
        else if (op < 33)
            case_convert_wide(), S.by_op[1]++;
        else if (op < 43)
            case_convert_arrays(false), S.by_op[8]++;
        else if (op < 45)
            case_convert_arrays(true), S.by_op[8]++;
        else if (op < 48)
            case_convert_swaps(), S.by_op[1]++;
        else if (op < 60)
            case_gather_scatter(false), S.by_op[2]++;
        else if (op < 72)
            case_gather_scatter(true), S.by_op[3]++;
        else if (op < 80)
            case_fill(), S.by_op[4]++;
        else if (op < 87)
            case_gather_many(), S.by_op[7]++;
        else if (op < 96)
            case_reduce(), S.by_op[5]++;
        else
            case_mismatch(), S.by_op[6]++;
    }
    print_message("%u cases (copy %u, convert %u, gather %u, scatter %u, fill %u, reduce %u, "
                  "mismatch %u, gather_many %u, convert with arrays %u): %u kernels built, %u "
                  "calls ran compiled code, %u failed their checks, %u on heap segments, %u on "
                  "pinned heap segments, %u overlapping (%u of them heap against native, %u "
                  "starting together)\n",
                  S.cases, S.by_op[0], S.by_op[1], S.by_op[2], S.by_op[3], S.by_op[4], S.by_op[5],
                  S.by_op[6], S.by_op[7], S.by_op[8], S.built, S.ran_jit, S.failed_checks, S.heap,
                  S.pinned, S.overlap, S.mixed, S.in_place);
    sj_counters cs;
    sj_counters_get(&cs);
    print_message("overlapping runs: %" PRIu64 " in place, %" PRIu64 " straight, %" PRIu64
                  " in chunks, %" PRIu64 " from a whole copy\n",
                  cs.overlap_in_place, cs.overlap_direct, cs.overlap_chunked, cs.overlap_copies);
    print_message("coverage of kernels built: %u with inner loops, %u with nested structs, %u "
                  "with unions, %u with over-aligned members, %u records over 64 bytes, %u "
                  "wide records, %u wide holding arrays; paths: %u with a negative step, %u "
                  "over open records\n",
                  S.loops, S.nested, S.unions, S.over, S.big, S.wide, S.wide_arrays, S.negative,
                  S.open);
    assert_true(S.ran_jit > S.cases / 2);
    if (S.cases >= 1000) /* every shape the generator makes was reached */
        assert_true(S.nested && S.unions && S.over && S.big && S.wide && S.wide_arrays &&
                    S.negative && S.open && S.heap && S.pinned && S.overlap && S.mixed &&
                    S.in_place);
    assert_true(S.loops > S.by_op[8] / 4);
}

/* SEGJIT_TEST_PCACHE (ctest's test_jit_diff_pcache_*, one cache directory): `store`,
 * every compiled plan made an image and was written; `load`, the same plans again (the
 * regression seeds only), every one served from the files, same results. */
static void check_pcache(void) {
    const char *pc = getenv("SEGJIT_TEST_PCACHE");
    sj_counters c;
    sj_counters_get(&c);
    print_message("persistent cache: %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64
                  " stored, %" PRIu64 " refused, %" PRIu64 " not persistable; %" PRIu64
                  " compiled\n",
                  c.pcache_hits, c.pcache_misses, c.pcache_stores, c.pcache_rejects, c.pcache_skips,
                  c.kernels_compiled);
    if (pc && strcmp(pc, "store") == 0) {
        assert_true(c.kernels_compiled > 0);
        assert_int_equal(c.pcache_skips, 0);
        assert_int_equal(c.pcache_rejects, 0);
        assert_int_equal(c.pcache_stores, c.kernels_compiled);
    } else if (pc && strcmp(pc, "load") == 0) {
        assert_int_equal(c.kernels_compiled, 0);
        assert_int_equal(c.pcache_rejects, 0);
        assert_int_equal(c.pcache_misses, 0);
        assert_true(c.pcache_hits > 0);
    }
}

/* SEGJIT_DIFF_SEED: that seed alone. Otherwise the regression seeds and a new seed. */
static void test_differential(void **state) {
    (void)state;
    const char *se = getenv("SEGJIT_DIFF_SEED"), *ie = getenv("SEGJIT_DIFF_ITERS");
    unsigned iters = ie ? (unsigned)strtoul(ie, NULL, 0) : 1500;
    if (se) {
        run_seed(strtoull(se, NULL, 0), iters);
        return;
    }
    for (size_t i = 0; i < sizeof regression_seeds / sizeof regression_seeds[0]; i++)
        run_seed(regression_seeds[i], iters);
    if (getenv("SEGJIT_TEST_PCACHE")) { /* the same plans in both runs */
        check_pcache();
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    run_seed((uint64_t)ts.tv_sec * 1000003u + (uint64_t)ts.tv_nsec % 1000003u, iters);
}

int main(void) {
    const char *why = NULL;
    if (!sj_jit_available(&why)) {
        if (why && strcmp(why, "built without the JIT") == 0) {
            printf("skip: %s\n", why);
            return 0;
        }
        fprintf(stderr, "the JIT is built but did not load: %s\n", why ? why : "?");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
