/* tests/tier.h: helpers shared by the kernel tests: the tier under test (environment
 * variable SEGJIT_TEST_TIER=interp|jit, default interp), layouts and paths from text,
 * guarded buffers (native or heap) whose bytes around the segment must stay untouched, and
 * a copy run checked byte by byte.
 * Include after cmocka's prerequisites and cmocka.h. Test cases do not belong here. */
#ifndef SEGJIT_TESTS_TIER_H
#define SEGJIT_TESTS_TIER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segjit/kernel.h"
#include "segjit/layout.h"
#include "segjit/segment.h"

/* The tier every kernel of the test runs on. */
static inline sj_tier test_tier(void) {
    const char *e = getenv("SEGJIT_TEST_TIER");
    if (e && strcmp(e, "jit") == 0) return SJ_TIER_JIT;
    return SJ_TIER_INTERP;
}

/* The kernel *k just built with status st, set to the tier under test (asserts that it
 * was built). Use as `k = test_kernel(sj_kernel_copy(a, b, &k, &err), &k, &err)`. */
static inline sj_kernel *test_kernel(sj_status st, sj_kernel **k, const sj_error *err) {
    if (st != SJ_OK) fail_msg("kernel not built: %s: %s", sj_status_name(st), err->message);
    assert_non_null(*k);
    sj_kernel_set_tier(*k, test_tier());
    return *k;
}

/* After a successful run of k: heap segments and the interpreter tier run on the
 * interpreter; the JIT tier runs compiled code, or the interpreter after this kernel's
 * own decline, with its reason (the JIT may be unavailable or refuse a plan, and says so),
 * or after an overlap fallback. */
static inline void test_check_tier(const sj_kernel *k, bool heap) {
    sj_tier last = sj_kernel_last_tier(k);
    if (heap || test_tier() == SJ_TIER_INTERP) {
        assert_int_equal(last, SJ_TIER_INTERP);
        return;
    }
    if (last == SJ_TIER_JIT) return;
    assert_int_equal(last, SJ_TIER_INTERP);
    sj_kernel_info info;
    sj_error err = {0};
    assert_int_equal(sj_kernel_stats(k, &info, &err), SJ_OK);
    if (info.fallbacks_overlap > 0) return;
    if (info.decline == SJ_DECLINE_NONE || info.decline_why[0] == 0)
        fail_msg("the JIT tier ran the interpreter without this kernel declining");
}

/* k's statistics (asserts that sj_kernel_stats answered). */
static inline sj_kernel_info test_info(const sj_kernel *k) {
    sj_kernel_info in;
    assert_int_equal(sj_kernel_stats(k, &in, NULL), SJ_OK);
    return in;
}

static inline sj_layout *test_layout(const char *text) {
    sj_layout *l = NULL;
    sj_error err = {0};
    sj_status st = sj_layout_parse(text, &l, &err);
    if (st != SJ_OK) fail_msg("layout '%s': %s: %s", text, sj_status_name(st), err.message);
    return l;
}

/* A conversion kernel between two layouts given as text, set to tier. */
static inline sj_kernel *test_convert_kernel(const char *from, const char *to, sj_tier tier) {
    sj_layout *a = test_layout(from), *b = test_layout(to);
    sj_kernel *k = NULL;
    sj_error err = {0};
    if (sj_kernel_convert(a, b, 0, &k, &err) != SJ_OK)
        fail_msg("convert %s -> %s: %s", from, to, err.message);
    sj_kernel_set_tier(k, tier);
    sj_layout_unref(a);
    sj_layout_unref(b);
    return k;
}

static inline sj_path *test_path(const sj_layout *root, const char *text) {
    sj_path *p = NULL;
    sj_error err = {0};
    sj_status st = sj_path_parse(root, text, &p, &err);
    if (st != SJ_OK) fail_msg("path '%s': %s: %s", text, sj_status_name(st), err.message);
    return p;
}

/* 1 when a line of /proc/self/maps names `what`, 0 when none does, -1 without the file. */
static inline int test_mapped(const char *what) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, what) != NULL;
    fclose(f);
    return found;
}

#define TEST_GUARD      64
#define TEST_GUARD_BYTE 0xA5

/* A segment of `size` bytes inside a larger allocation; `misalign` bytes past a
 * 64-aligned start. heap_kind < 0: native; else a heap segment of that element kind over
 * the whole allocation, sliced. */
typedef struct tbuf {
    uint8_t *mem;
    size_t total, start, size;
    uint8_t *data; /* first byte of the segment */
    sj_segment seg;
} tbuf;

static inline unsigned test_heap_elem(int kind) {
    switch (kind) {
        case SJ_HEAP_I8:
            return 1;
        case SJ_HEAP_I16:
        case SJ_HEAP_U16:
            return 2;
        case SJ_HEAP_I32:
        case SJ_HEAP_F32:
            return 4;
        default:
            return 8;
    }
}

static inline void tbuf_init(tbuf *b, size_t size, size_t misalign, int heap_kind) {
    memset(b, 0, sizeof *b);
    b->start = TEST_GUARD + misalign;
    b->size = size;
    b->total = (b->start + size + TEST_GUARD + 63) / 64 * 64;
    b->mem = aligned_alloc(64, b->total);
    assert_non_null(b->mem);
    memset(b->mem, TEST_GUARD_BYTE, b->total);
    b->data = b->mem + b->start;
    sj_error err = {0};
    if (heap_kind < 0) {
        assert_int_equal(sj_segment_native(b->data, (int64_t)size, &b->seg, &err), SJ_OK);
    } else {
        unsigned e = test_heap_elem(heap_kind);
        sj_segment whole;
        assert_int_equal(sj_segment_of_array((sj_heap_kind)heap_kind, b->mem,
                                             (int64_t)(b->total / e), &whole, &err),
                         SJ_OK);
        assert_int_equal(sj_segment_slice(&whole, (int64_t)b->start, (int64_t)size, &b->seg, &err),
                         SJ_OK);
    }
}

/* Fills the segment's bytes with a pattern derived from seed. */
/* Byte i of pattern `seed`: a mix of both, so no run of bytes repeats at a short period (an
 * element read from the wrong index differs). */
static inline uint8_t tbuf_pattern_byte(size_t i, unsigned seed) {
    uint64_t x = (uint64_t)i * UINT64_C(0x9E3779B97F4A7C15) + seed * UINT64_C(0xD1B54A32D192ED03);
    x ^= x >> 31;
    x *= UINT64_C(0xBF58476D1CE4E5B9);
    x ^= x >> 29;
    return (uint8_t)(x >> 56);
}

static inline void tbuf_pattern(tbuf *b, unsigned seed) {
    for (size_t i = 0; i < b->size; i++)
        b->data[i] = tbuf_pattern_byte(i, seed);
}

/* Are the bytes around the segment still the guard byte? */
static inline void tbuf_check_guards(const tbuf *b) {
    for (size_t i = 0; i < b->total; i++) {
        if (i >= b->start && i < b->start + b->size) continue;
        if (b->mem[i] != TEST_GUARD_BYTE)
            fail_msg("guard byte %zd (relative to the segment) was overwritten",
                     (ptrdiff_t)i - (ptrdiff_t)b->start);
    }
}

static inline void tbuf_free(tbuf *b) {
    free(b->mem);
    b->mem = NULL;
}

/* Asserts a status, printing the error's message when it differs. */
#define assert_status(call, expected, err)                                                         \
    do {                                                                                           \
        sj_status st_ = (call);                                                                    \
        if (st_ != (expected))                                                                     \
            fail_msg("%s: got %s (%s), expected %s", #call, sj_status_name(st_), (err)->message,   \
                     sj_status_name(expected));                                                    \
    } while (0)

/* Runs k over n elements of `elem` bytes of fresh data and checks the copied bytes: as
 * they are (unit 0) or byte-reversed in units of `unit` bytes. */
static inline void test_run_copy(sj_kernel *k, size_t elem, size_t n, size_t unit) {
    size_t len = elem * n;
    uint8_t *src = malloc(len), *dst = calloc(1, len);
    assert_non_null(src);
    assert_non_null(dst);
    for (size_t i = 0; i < len; i++)
        src[i] = (uint8_t)(i * 29 + 3);
    sj_segment s, d;
    sj_error err = {0};
    assert_int_equal(sj_segment_native(src, (int64_t)len, &s, &err), SJ_OK);
    assert_int_equal(sj_segment_native(dst, (int64_t)len, &d, &err), SJ_OK);
    sj_args a = {&s, 0, &d, 0, (int64_t)n};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
    for (size_t i = 0; i < len; i++) {
        size_t j = unit ? i - i % unit + (unit - 1 - i % unit) : i;
        if (dst[i] != src[j]) fail_msg("byte %zu: %u, expected %u", i, dst[i], src[j]);
    }
    free(src);
    free(dst);
}

#endif
