/* tests/test_accessor.c: accessors (SEMANTICS 3.7, 4.1): every typed get and set in both
 * byte orders on native and heap segments, agreement with sj_get_path/sj_set_path and
 * sj_get/sj_set (same bytes, same status, same message) over calls that fail each check
 * and several at once, failed calls writing nothing, creation errors, and lifetime and
 * thread checks. Threads closing arenas under accessors: tests/test_concurrency.c. */
#define _GNU_SOURCE /* syscall(SYS_gettid) under -std=c11 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <ctype.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "segjit/accessor.h"
#include "tier.h"
#if SJ__RSEQ
#include <sys/rseq.h>
#endif

/* ---- typed calls by kind ---- */

/* Calls the typed getter or setter for `kind` through an sj_value. */
static sj_status typed_get(const sj_accessor *a, const sj_segment *s, int64_t off,
                           const int64_t *idx, size_t n, sj_kind kind, sj_value *out,
                           sj_error *err) {
    sj_value v;
    memset(&v, 0, sizeof v);
    sj_status st = SJ_E_ARG;
    switch (kind) {
        case SJ_BOOL:
            st = sj_accessor_get_bool(a, s, off, idx, n, &v.z, err);
            break;
        case SJ_I8:
            st = sj_accessor_get_i8(a, s, off, idx, n, &v.i8, err);
            break;
        case SJ_U8:
            st = sj_accessor_get_u8(a, s, off, idx, n, &v.u8, err);
            break;
        case SJ_CHAR:
            st = sj_accessor_get_char(a, s, off, idx, n, &v.c16, err);
            break;
        case SJ_I16:
            st = sj_accessor_get_i16(a, s, off, idx, n, &v.i16, err);
            break;
        case SJ_U16:
            st = sj_accessor_get_u16(a, s, off, idx, n, &v.u16, err);
            break;
        case SJ_I32:
            st = sj_accessor_get_i32(a, s, off, idx, n, &v.i32, err);
            break;
        case SJ_U32:
            st = sj_accessor_get_u32(a, s, off, idx, n, &v.u32, err);
            break;
        case SJ_F32:
            st = sj_accessor_get_f32(a, s, off, idx, n, &v.f32, err);
            break;
        case SJ_I64:
            st = sj_accessor_get_i64(a, s, off, idx, n, &v.i64, err);
            break;
        case SJ_U64:
            st = sj_accessor_get_u64(a, s, off, idx, n, &v.u64, err);
            break;
        case SJ_F64:
            st = sj_accessor_get_f64(a, s, off, idx, n, &v.f64, err);
            break;
        case SJ_ADDR:
            st = sj_accessor_get_addr(a, s, off, idx, n, &v.addr, err);
            break;
        default:
            fail_msg("kind %d", (int)kind);
    }
    if (st == SJ_OK) *out = v;
    return st;
}

static sj_status typed_set(const sj_accessor *a, const sj_segment *s, int64_t off,
                           const int64_t *idx, size_t n, sj_kind kind, sj_value v, sj_error *err) {
    switch (kind) {
        case SJ_BOOL:
            return sj_accessor_set_bool(a, s, off, idx, n, v.z, err);
        case SJ_I8:
            return sj_accessor_set_i8(a, s, off, idx, n, v.i8, err);
        case SJ_U8:
            return sj_accessor_set_u8(a, s, off, idx, n, v.u8, err);
        case SJ_CHAR:
            return sj_accessor_set_char(a, s, off, idx, n, v.c16, err);
        case SJ_I16:
            return sj_accessor_set_i16(a, s, off, idx, n, v.i16, err);
        case SJ_U16:
            return sj_accessor_set_u16(a, s, off, idx, n, v.u16, err);
        case SJ_I32:
            return sj_accessor_set_i32(a, s, off, idx, n, v.i32, err);
        case SJ_U32:
            return sj_accessor_set_u32(a, s, off, idx, n, v.u32, err);
        case SJ_F32:
            return sj_accessor_set_f32(a, s, off, idx, n, v.f32, err);
        case SJ_I64:
            return sj_accessor_set_i64(a, s, off, idx, n, v.i64, err);
        case SJ_U64:
            return sj_accessor_set_u64(a, s, off, idx, n, v.u64, err);
        case SJ_F64:
            return sj_accessor_set_f64(a, s, off, idx, n, v.f64, err);
        case SJ_ADDR:
            return sj_accessor_set_addr(a, s, off, idx, n, v.addr, err);
        default:
            fail_msg("kind %d", (int)kind);
    }
    return SJ_E_ARG;
}

/* A value of `kind` whose bytes are all distinct (so a wrong byte order shows). */
static sj_value sample(sj_kind kind, unsigned seed) {
    sj_value v;
    memset(&v, 0, sizeof v);
    uint64_t bits = 0x0102030405060708ull + seed * 0x1111111111111111ull;
    switch (kind) {
        case SJ_BOOL:
            v.z = seed % 2 == 0;
            break;
        case SJ_F32:
            v.f32 = 1.25f + (float)seed;
            break;
        case SJ_F64:
            v.f64 = -3.5 - seed;
            break;
        default:
            memcpy(&v, &bits, sj_kind_size(kind));
            break;
    }
    return v;
}

/* The canonical text of kind in order `big` ("i4", "I4", "uI4"). */
static void kind_text(sj_kind kind, bool big, char *out, size_t cap) {
    snprintf(out, cap, "%s", sj_kind_name(kind));
    if (big) {
        char *c = out[0] == 'u' ? out + 1 : out;
        *c = (char)toupper((unsigned char)*c);
    }
}

/* ---- 1. every kind, both orders, native and heap ---- */

static void round_trip(sj_kind kind, bool big, int heap_kind) {
    char k[8], text[64];
    kind_text(kind, big, k, sizeof k);
    snprintf(text, sizeof text, "[3:[%s(v)%s(w)]]", k, k);
    sj_layout *root = test_layout(text);
    sj_error err = {0};
    sj_accessor *acc = NULL;
    assert_status(sj_accessor_new(root, "[*].w", &acc, &err), SJ_OK, &err);
    assert_int_equal(sj_accessor_kind(acc), kind);
    assert_int_equal(sj_accessor_free_count(acc), 1);
    sj_path *p = test_path(root, "[*].w");
    sj_layout *leaf = test_layout(k);
    sj_accessor *vacc = NULL;
    assert_status(sj_accessor_of_value(leaf, &vacc, &err), SJ_OK, &err);

    tbuf b;
    tbuf_init(&b, 64, 0, heap_kind);
    tbuf_pattern(&b, 3);
    unsigned size = sj_kind_size(kind);
    for (int64_t i = 0; i < 3; i++) {
        /* typed set, read back by the path access and the typed get */
        sj_value want = sample(kind, (unsigned)i), got;
        assert_status(typed_set(acc, &b.seg, 8, &i, 1, kind, want, &err), SJ_OK, &err);
        assert_status(sj_get_path(&b.seg, p, 8, &i, 1, &got, &err), SJ_OK, &err);
        assert_memory_equal(&got, &want, size);
        memset(&got, 0, sizeof got);
        assert_status(typed_get(acc, &b.seg, 8, &i, 1, kind, &got, &err), SJ_OK, &err);
        assert_memory_equal(&got, &want, size);
        /* the bytes in memory, in the layout's order */
        uint8_t expect[8];
        memcpy(expect, &want, size);
        if (kind == SJ_BOOL) expect[0] = want.z ? 1 : 0;
        bool host_big = sj_native_order() == SJ_ORDER_BIG;
        if (big != host_big)
            for (unsigned x = 0; x < size / 2; x++) {
                uint8_t t = expect[x];
                expect[x] = expect[size - 1 - x];
                expect[size - 1 - x] = t;
            }
        assert_memory_equal(b.data + 8 + (uint64_t)i * 2 * size + size, expect, size);
        /* the untyped forms and the value accessor agree */
        sj_value u;
        assert_status(sj_accessor_get(acc, &b.seg, 8, &i, 1, &u, &err), SJ_OK, &err);
        assert_memory_equal(&u, &want, size);
        int64_t at = 8 + i * 2 * (int64_t)size + (int64_t)size;
        assert_status(typed_get(vacc, &b.seg, at, NULL, 0, kind, &u, &err), SJ_OK, &err);
        assert_memory_equal(&u, &want, size);
        sj_value w2 = sample(kind, (unsigned)i + 7);
        assert_status(typed_set(vacc, &b.seg, at, NULL, 0, kind, w2, &err), SJ_OK, &err);
        assert_status(sj_get(&b.seg, leaf, at, &u, &err), SJ_OK, &err);
        assert_memory_equal(&u, &w2, size);
        assert_status(sj_accessor_set(acc, &b.seg, 8, &i, 1, want, &err), SJ_OK, &err);
        assert_status(sj_get(&b.seg, leaf, at, &u, &err), SJ_OK, &err);
        assert_memory_equal(&u, &want, size);
    }
    /* the v members and the bytes outside the root were not touched */
    for (int64_t i = 0; i < 3; i++)
        for (unsigned x = 0; x < size; x++) {
            size_t at = 8 + (size_t)i * 2 * size + x;
            assert_int_equal(b.data[at], tbuf_pattern_byte(at, 3));
        }
    tbuf_check_guards(&b);
    tbuf_free(&b);
    sj_accessor_free(acc);
    sj_accessor_free(vacc);
    sj_path_free(p);
    sj_layout_unref(leaf);
    sj_layout_unref(root);
}

static void test_kinds_orders_segments(void **state) {
    (void)state;
    for (int kind = 0; kind < SJ_KIND_COUNT; kind++)
        for (int big = 0; big < 2; big++) {
            if (big && sj_kind_size((sj_kind)kind) == 1) continue;
            round_trip((sj_kind)kind, big, -1);
            /* heap arrays whose element is the value's size, and of 8-byte elements */
            unsigned size = sj_kind_size((sj_kind)kind);
            round_trip((sj_kind)kind, big,
                       size == 1   ? SJ_HEAP_I8
                       : size == 2 ? SJ_HEAP_I16
                       : size == 4 ? SJ_HEAP_I32
                                   : SJ_HEAP_I64);
            round_trip((sj_kind)kind, big, SJ_HEAP_I64);
        }
}

/* ---- 2. the same status and message as the path access, call by call ---- */

typedef struct probe {
    const char *what;
    int64_t off;
    int64_t idx[2];
    size_t n;
    bool write;
} probe;

/* Runs the accessor call and the path call; both must give `want` and one message. */
static void agree(const sj_accessor *acc, const sj_path *p, const sj_segment *s, const probe *pr,
                  sj_status want, const char *want_msg) {
    sj_error ea, ep;
    memset(&ea, 0, sizeof ea);
    memset(&ep, 0, sizeof ep);
    sj_status sa, sp;
    const int64_t *idx = pr->n ? pr->idx : NULL;
    if (pr->write) {
        sa = sj_accessor_set_i32(acc, s, pr->off, idx, pr->n, 42, &ea);
        sp = sj_set_path(s, p, pr->off, idx, pr->n, (sj_value){.i32 = 42}, &ep);
    } else {
        int32_t out = 77;
        sj_value v = {.i32 = 99};
        sa = sj_accessor_get_i32(acc, s, pr->off, idx, pr->n, &out, &ea);
        sp = sj_get_path(s, p, pr->off, idx, pr->n, &v, &ep);
        if (sa != SJ_OK) assert_int_equal(out, 77); /* a failed call writes nothing */
        if (sa == SJ_OK) assert_int_equal(out, v.i32);
    }
    if (sa != want || sp != want)
        fail_msg("%s: accessor %s (%s), path %s (%s), expected %s", pr->what, sj_status_name(sa),
                 ea.message, sj_status_name(sp), ep.message, sj_status_name(want));
    if (strcmp(ea.message, ep.message) != 0)
        fail_msg("%s: accessor says \"%s\", path says \"%s\"", pr->what, ea.message, ep.message);
    if (want_msg && strcmp(ea.message, want_msg) != 0)
        fail_msg("%s: message \"%s\", expected \"%s\"", pr->what, ea.message, want_msg);
}

/* Root [2:[4:[i4(a)i4(b)]]] (64 bytes, align 4), path [*][*].b: indices (i < 2, j < 4). */
static void check_order_on(const sj_segment *s, const sj_segment *ro, bool heap,
                           sj_arena_kind arena_kind, sj_arena *arena) {
    sj_layout *root = test_layout("[2:[4:[i4(a)i4(b)]]]");
    sj_path *p = test_path(root, "[*][*].b");
    sj_error err = {0};
    sj_accessor *acc = NULL;
    assert_status(sj_accessor_new(root, "[*][*].b", &acc, &err), SJ_OK, &err);
    const char *pre = "path '[*][*].b' (root layout of 64 bytes): ";
    char m[256];

    agree(acc, p, s, &(probe){"ok get", 0, {1, 3}, 2, false}, SJ_OK, "");
    agree(acc, p, s, &(probe){"ok set", 4, {0, 2}, 2, true}, SJ_OK, "");
    /* index count */
    agree(acc, p, s, &(probe){"one index", 0, {1}, 1, false}, SJ_E_ARG,
          "path '[*][*].b' has 2 free indices, 1 given");
    /* indices, each against its bound, before everything else */
    agree(acc, p, s, &(probe){"index 1 past", 0, {1, 4}, 2, false}, SJ_E_BOUNDS,
          "path '[*][*].b': free index 1 is 4, outside [0, 4)");
    agree(acc, p, s, &(probe){"index 0 negative", 0, {-1, 0}, 2, true}, SJ_E_BOUNDS,
          "path '[*][*].b': free index 0 is -1, outside [0, 2)");
    agree(acc, p, ro ? ro : s,
          &(probe){"index past, read-only, out of bounds", 99, {2, 0}, 2, true}, SJ_E_BOUNDS,
          "path '[*][*].b': free index 0 is 2, outside [0, 2)");
    /* read-only (writes) before bounds and alignment */
    if (ro) {
        snprintf(m, sizeof m, "%swrite of 64 bytes at offset 99 to a read-only segment", pre);
        agree(acc, p, ro, &(probe){"read-only, out of bounds", 99, {0, 0}, 2, true}, SJ_E_READONLY,
              m);
        agree(acc, p, ro, &(probe){"read-only segment, a read", 4, {1, 1}, 2, false}, SJ_OK, "");
    }
    /* the root's bounds at the base */
    snprintf(m, sizeof m,
             "%saccess of 64 bytes at offset 66 is out of bounds for segment of size 128", pre);
    agree(acc, p, s, &(probe){"root past the end, misaligned", 66, {0, 0}, 2, false}, SJ_E_BOUNDS,
          m);
    snprintf(m, sizeof m,
             "%saccess of 64 bytes at offset -4 is out of bounds for segment of size 128", pre);
    agree(acc, p, s, &(probe){"negative base", -4, {0, 0}, 2, true}, SJ_E_BOUNDS, m);
    agree(acc, p, s, &(probe){"huge base", INT64_MAX, {0, 0}, 2, false}, SJ_E_BOUNDS, NULL);
    /* the root's alignment at the base (even where the leaf itself would be aligned) */
    if (heap)
        snprintf(m, sizeof m,
                 "%soffset 2 is not aligned to 4 for heap segment of max alignment %" PRIu64
                 " (virtual address %" PRIu64 ")",
                 pre, sj_segment_max_align(s), sj_segment_address(s) + 2);
    else
        snprintf(m, sizeof m,
                 "%soffset 2 is not aligned to 4 for native segment (address 0x%" PRIx64 ")", pre,
                 sj_segment_address(s) + 2);
    agree(acc, p, s, &(probe){"misaligned base", 2, {0, 0}, 2, false}, SJ_E_ALIGN, m);
    agree(acc, p, s, &(probe){"misaligned base, write", 6, {1, 3}, 2, true}, SJ_E_ALIGN, NULL);
    if (arena) { /* lifetime last: close, then every check above still wins over CLOSED */
        assert_status(sj_arena_close(*arena, &err), SJ_OK, &err);
        agree(acc, p, s, &(probe){"closed, index past", 0, {0, 9}, 2, false}, SJ_E_BOUNDS, NULL);
        if (ro)
            agree(acc, p, ro, &(probe){"closed, read-only", 0, {0, 0}, 2, true}, SJ_E_READONLY,
                  NULL);
        agree(acc, p, s, &(probe){"closed, out of bounds", 100, {0, 0}, 2, true}, SJ_E_BOUNDS,
              NULL);
        agree(acc, p, s, &(probe){"closed, misaligned", 2, {0, 0}, 2, false}, SJ_E_ALIGN, NULL);
        agree(acc, p, s, &(probe){"closed", 0, {1, 1}, 2, false}, SJ_E_CLOSED,
              "get: segment: its arena is closed");
        agree(acc, p, s, &(probe){"closed, write", 4, {1, 1}, 2, true}, SJ_E_CLOSED,
              "set: segment: its arena is closed");
    }
    (void)arena_kind;
    sj_accessor_free(acc);
    sj_path_free(p);
    sj_layout_unref(root);
}

static void test_check_order_native(void **state) {
    (void)state;
    for (int k = 0; k < 2; k++) {
        sj_arena_kind kind = k ? SJ_ARENA_SHARED : SJ_ARENA_CONFINED;
        sj_arena a;
        sj_error err = {0};
        assert_status(sj_arena_open(kind, &a, &err), SJ_OK, &err);
        sj_segment s;
        assert_status(sj_arena_allocate(a, 128, 16, &s, &err), SJ_OK, &err);
        sj_segment ro = sj_segment_readonly(&s);
        check_order_on(&s, &ro, false, kind, &a);
    }
    /* caller memory (global arena): no lifetime check */
    int32_t mem[32];
    sj_segment n;
    sj_error err = {0};
    assert_status(sj_segment_native(mem, sizeof mem, &n, &err), SJ_OK, &err);
    sj_segment ro = sj_segment_readonly(&n);
    check_order_on(&n, &ro, false, SJ_ARENA_SHARED, NULL);
}

static void test_check_order_heap(void **state) {
    (void)state;
    /* i16 array sliced at 2: max alignment 2, so the root (align 4) is misaligned at 0 */
    int16_t arr[80];
    memset(arr, 0, sizeof arr);
    sj_segment whole, s, s4;
    sj_error err = {0};
    assert_status(sj_segment_of_array(SJ_HEAP_I16, arr, 80, &whole, &err), SJ_OK, &err);
    assert_status(sj_segment_slice(&whole, 2, 128, &s, &err), SJ_OK, &err);
    sj_layout *root = test_layout("[2:[4:[i4(a)i4(b)]]]");
    sj_path *p = test_path(root, "[*][*].b");
    sj_accessor *acc = NULL;
    assert_status(sj_accessor_new(root, "[*][*].b", &acc, &err), SJ_OK, &err);
    agree(acc, p, &s, &(probe){"heap i16 max align 2", 0, {0, 0}, 2, false}, SJ_E_ALIGN,
          "path '[*][*].b' (root layout of 64 bytes): offset 0 is not aligned to 4 for heap "
          "segment of max alignment 2 (virtual address 2)");
    agree(acc, p, &s, &(probe){"heap index first", 0, {0, 4}, 2, false}, SJ_E_BOUNDS, NULL);
    /* an i32 array: the full order as on native segments */
    int32_t arr4[40];
    memset(arr4, 0, sizeof arr4);
    assert_status(sj_segment_of_array(SJ_HEAP_I32, arr4, 32, &s4, &err), SJ_OK, &err);
    sj_segment ro = sj_segment_readonly(&s4);
    check_order_on(&s4, &ro, true, SJ_ARENA_SHARED, NULL);
    sj_accessor_free(acc);
    sj_path_free(p);
    sj_layout_unref(root);
}

/* ---- 3. value accessors answer as sj_get/sj_set ---- */

static void test_value_accessor_messages(void **state) {
    (void)state;
    sj_layout *i4 = test_layout("8%i4");
    sj_accessor *acc = NULL;
    sj_error err = {0};
    assert_status(sj_accessor_of_value(i4, &acc, &err), SJ_OK, &err);
    sj_arena a;
    assert_status(sj_arena_open(SJ_ARENA_CONFINED, &a, &err), SJ_OK, &err);
    sj_segment s;
    assert_status(sj_arena_allocate(a, 32, 16, &s, &err), SJ_OK, &err);
    sj_segment ro = sj_segment_readonly(&s);
    const int64_t offs[] = {0, 4, 8, 28, 29, 30, 32, -1, INT64_MIN};
    for (int close = 0; close < 2; close++) {
        for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
            for (int w = 0; w < 2; w++)
                for (int r = 0; r < 2; r++) {
                    const sj_segment *seg = r ? &ro : &s;
                    sj_error ea, eg;
                    memset(&ea, 0, sizeof ea);
                    memset(&eg, 0, sizeof eg);
                    sj_status sa, sg;
                    if (w) {
                        sa = sj_accessor_set_i32(acc, seg, offs[i], NULL, 0, 5, &ea);
                        sg = sj_set(seg, i4, offs[i], (sj_value){.i32 = 5}, &eg);
                    } else {
                        int32_t x;
                        sj_value v;
                        sa = sj_accessor_get_i32(acc, seg, offs[i], NULL, 0, &x, &ea);
                        sg = sj_get(seg, i4, offs[i], &v, &eg);
                    }
                    if (sa != sg || strcmp(ea.message, eg.message) != 0)
                        fail_msg("offset %lld %s%s: accessor %s \"%s\", sj_%s %s \"%s\"",
                                 (long long)offs[i], w ? "set" : "get", r ? " read-only" : "",
                                 sj_status_name(sa), ea.message, w ? "set" : "get",
                                 sj_status_name(sg), eg.message);
                }
        if (!close) assert_status(sj_arena_close(a, &err), SJ_OK, &err);
    }
    /* a value accessor takes no indices */
    int64_t i = 0;
    int32_t x;
    assert_int_equal(sj_accessor_get_i32(acc, &s, 0, &i, 1, &x, &err), SJ_E_ARG);
    assert_string_equal(err.message, "access: a value layout has no free indices, 1 given");
    sj_accessor_free(acc);
    sj_layout_unref(i4);
}

/* ---- 4. wrong kind, NULLs, creation errors ---- */

static void test_arguments_and_creation(void **state) {
    (void)state;
    sj_layout *root = test_layout("[4:[i4(a)x4d8(b)]]");
    sj_error err = {0};
    sj_accessor *acc = NULL;
    assert_status(sj_accessor_new(root, "[*].a", &acc, &err), SJ_OK, &err);
    int64_t mem[8] = {0};
    sj_segment s;
    assert_status(sj_segment_native(mem, 64, &s, &err), SJ_OK, &err);
    int64_t i = 1;
    double d = 1.5;
    int32_t x = 3;
    /* the typed function must match the accessor's kind: checked first */
    assert_int_equal(sj_accessor_get_f64(acc, &s, 0, &i, 1, &d, &err), SJ_E_ARG);
    assert_string_equal(err.message, "accessor get: the accessor's value is i4, called through "
                                     "sj_accessor_get_f64 (use sj_accessor_get_i32)");
    assert_true(d == 1.5);
    int64_t nine[9] = {1}; /* a count must come with that many indices */
    assert_int_equal(sj_accessor_set_u32(acc, &s, 0, nine, 9, 1u, &err), SJ_E_ARG);
    assert_int_equal(mem[2], 0);
    /* NULLs */
    assert_int_equal(sj_accessor_get_i32(NULL, &s, 0, &i, 1, &x, &err), SJ_E_ARG);
    assert_string_equal(err.message, "accessor get: accessor, segment or output is NULL");
    assert_int_equal(sj_accessor_get_i32(acc, NULL, 0, &i, 1, &x, &err), SJ_E_ARG);
    assert_int_equal(sj_accessor_get_i32(acc, &s, 0, &i, 1, NULL, &err), SJ_E_ARG);
    assert_int_equal(sj_accessor_get(acc, &s, 0, &i, 1, NULL, &err), SJ_E_ARG);
    assert_int_equal(sj_accessor_set_i32(NULL, &s, 0, &i, 1, 1, &err), SJ_E_ARG);
    assert_string_equal(err.message, "accessor set: accessor, segment or value is NULL");
    assert_int_equal(sj_accessor_get_i32(acc, &s, 0, NULL, 1, &x, &err), SJ_E_ARG);
    assert_string_equal(err.message, "path offset: NULL argument");
    assert_int_equal(x, 3);
    /* the success path, for contrast */
    assert_status(sj_accessor_set_i32(acc, &s, 0, &i, 1, 17, &err), SJ_OK, &err);
    assert_status(sj_accessor_get_i32(acc, &s, 0, &i, 1, &x, &err), SJ_OK, &err);
    assert_int_equal(x, 17);
    assert_int_equal(sj_accessor_kind(NULL), SJ_KIND_COUNT);
    assert_int_equal(sj_accessor_free_count(NULL), 0);
    sj_accessor_free(acc);
    sj_accessor_free(NULL);

    /* creation: the path errors of sj_path_parse, and a path that ends on no value */
    sj_accessor *bad = (sj_accessor *)&i;
    assert_int_equal(sj_accessor_new(root, "[*]", &bad, &err), SJ_E_PATH);
    assert_string_equal(err.message, "path '[*]' does not end on a value (it selects a struct)");
    assert_ptr_equal(bad, (sj_accessor *)&i);
    assert_int_equal(sj_accessor_new(root, "[*].c", &bad, &err), SJ_E_PATH);
    assert_int_equal(sj_accessor_new(root, "[*.a", &bad, &err), SJ_E_PARSE);
    assert_int_equal(sj_accessor_new(root, "[9].a", &bad, &err), SJ_E_PATH);
    assert_int_equal(sj_accessor_new(NULL, "[*].a", &bad, &err), SJ_E_ARG);
    assert_int_equal(sj_accessor_new(root, NULL, &bad, &err), SJ_E_ARG);
    assert_int_equal(sj_accessor_new(root, "[*].a", NULL, &err), SJ_E_ARG);
    assert_int_equal(sj_accessor_of_value(root, &bad, &err), SJ_E_ARG);
    assert_string_equal(err.message, "access: sequence layout is not a value layout");
    assert_int_equal(sj_accessor_of_value(NULL, &bad, &err), SJ_E_ARG);
    assert_int_equal(sj_accessor_of_path(NULL, &bad, &err), SJ_E_ARG);
    assert_ptr_equal(bad, (sj_accessor *)&i);

    /* of_path: the same accessor as from the text, independent of the path's life */
    sj_path *p = test_path(root, "[2::-1].b");
    assert_status(sj_accessor_of_path(p, &acc, &err), SJ_OK, &err);
    sj_path_free(p);
    assert_int_equal(sj_accessor_free_count(acc), 1);
    assert_status(sj_accessor_set_f64(acc, &s, 0, &i, 1, 2.5, &err), SJ_OK, &err);
    double *recs = (double *)(void *)mem; /* record k at 16 k, b at 16 k + 8: element 2 - i */
    assert_true(recs[3] == 2.5);
    i = 3; /* bound ceil(3 / 1) = 3 */
    assert_int_equal(sj_accessor_get_f64(acc, &s, 0, &i, 1, &d, &err), SJ_E_BOUNDS);
    assert_string_equal(err.message, "path '[2::-1].b': free index 0 is 3, outside [0, 3)");
    sj_accessor_free(acc);
    sj_layout_unref(root);
}

/* ---- 5. threads: confined arenas from another thread ---- */

typedef struct thread_job {
    const sj_accessor *acc;
    const sj_path *p;
    sj_segment seg;
    sj_status sa, sp, sa_set;
    sj_error ea, ep;
    int32_t out;
    long tid; /* the other thread's OS id */
} thread_job;

static void *other_thread(void *arg) {
    thread_job *j = arg;
    int64_t i = 1;
    sj_value v;
    j->out = 55;
    j->tid = syscall(SYS_gettid);
    j->sa = sj_accessor_get_i32(j->acc, &j->seg, 0, &i, 1, &j->out, &j->ea);
    j->sp = sj_get_path(&j->seg, j->p, 0, &i, 1, &v, &j->ep);
    j->sa_set = sj_accessor_set_i32(j->acc, &j->seg, 0, &i, 1, 9, NULL);
    return NULL;
}

static void run_other(thread_job *j) {
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_threads(void **state) {
    (void)state;
    sj_layout *root = test_layout("[4:i4]");
    sj_path *p = test_path(root, "[*]");
    sj_accessor *acc = NULL;
    sj_error err = {0};
    assert_status(sj_accessor_new(root, "[*]", &acc, &err), SJ_OK, &err);
    sj_arena c;
    assert_status(sj_arena_open(SJ_ARENA_CONFINED, &c, &err), SJ_OK, &err);
    thread_job j = {.acc = acc, .p = p};
    assert_status(sj_arena_allocate(c, 16, 16, &j.seg, &err), SJ_OK, &err);
    assert_status(sj_accessor_set_i32(acc, &j.seg, 0, (int64_t[]){1}, 1, 4, &err), SJ_OK, &err);
    run_other(&j);
    assert_int_equal(j.sa, SJ_E_THREAD);
    assert_int_equal(j.sp, SJ_E_THREAD);
    assert_int_equal(j.sa_set, SJ_E_THREAD);
    assert_string_equal(j.ea.message, j.ep.message);
    char want[160]; /* both threads named by their OS ids */
    snprintf(want, sizeof want,
             "get: segment: its arena is confined to thread %ld, used from thread %ld (OS thread "
             "ids)",
             (long)syscall(SYS_gettid), j.tid);
    assert_string_equal(j.ea.message, want);
    assert_int_equal(j.out, 55);
    assert_int_equal(((int32_t *)(void *)j.seg.base)[1], 4); /* nothing written */
    assert_status(sj_arena_close(c, &err), SJ_OK, &err);
    run_other(&j); /* closed: CLOSED on every thread */
    assert_int_equal(j.sa, SJ_E_CLOSED);
    assert_int_equal(j.sp, SJ_E_CLOSED);
    assert_int_equal(j.sa_set, SJ_E_CLOSED);
    assert_string_equal(j.ea.message, "get: segment: its arena is closed");

    /* shared: every thread; a stale handle whose scope was reused answers CLOSED */
    sj_arena s;
    assert_status(sj_arena_open(SJ_ARENA_SHARED, &s, &err), SJ_OK, &err);
    assert_status(sj_arena_allocate(s, 16, 16, &j.seg, &err), SJ_OK, &err);
    run_other(&j);
    assert_int_equal(j.sa, SJ_OK);
    assert_int_equal(j.sa_set, SJ_OK);
    assert_int_equal(((int32_t *)(void *)j.seg.base)[1], 9);
    sj_segment stale = j.seg;
    assert_status(sj_arena_close(s, &err), SJ_OK, &err);
    sj_arena again; /* likely the same pooled scope, a newer generation */
    assert_status(sj_arena_open(SJ_ARENA_CONFINED, &again, &err), SJ_OK, &err);
    int32_t x;
    assert_int_equal(sj_accessor_get_i32(acc, &stale, 0, (int64_t[]){1}, 1, &x, &err), SJ_E_CLOSED);
    j.seg = stale;
    run_other(&j);
    assert_int_equal(j.sa, SJ_E_CLOSED);
    /* and a stale confined handle whose scope a shared arena reuses: CLOSED, inline too */
    sj_segment stale_c;
    assert_status(sj_arena_allocate(again, 16, 16, &stale_c, &err), SJ_OK, &err);
    assert_status(sj_arena_close(again, &err), SJ_OK, &err);
    assert_status(sj_arena_open(SJ_ARENA_SHARED, &s, &err), SJ_OK, &err);
    assert_int_equal(sj_accessor_get_i32(acc, &stale_c, 0, (int64_t[]){1}, 1, &x, &err),
                     SJ_E_CLOSED);
    assert_string_equal(err.message, "get: segment: its arena is closed");
    j.seg = stale_c;
    run_other(&j);
    assert_int_equal(j.sa, SJ_E_CLOSED);
    assert_status(sj_arena_close(s, &err), SJ_OK, &err);
    sj_accessor_free(acc);
    sj_path_free(p);
    sj_layout_unref(root);
}

/* A thread remembers the confined arena it last found open and its own, and skips the
 * scope for it (fast.h): that needs keys unique over all arenas ever opened, and a close that
 * forgets the arena. Pooled scopes are reused here, so equal per-scope generations would
 * collide. */
static void test_remembered_arena(void **state) {
    (void)state;
    enum { N = 48 };
    sj_error err = {0};
    uint64_t keys[2 * N];
    sj_arena live[N];
    for (int i = 0; i < N; i++) { /* open, close, open: every scope reused at least once */
        sj_arena a;
        assert_status(sj_arena_open(i % 3 ? SJ_ARENA_CONFINED : SJ_ARENA_SHARED, &a, &err), SJ_OK,
                      &err);
        keys[2 * i] = a.key;
        assert_status(sj_arena_close(a, &err), SJ_OK, &err);
        assert_status(sj_arena_open(i % 2 ? SJ_ARENA_CONFINED : SJ_ARENA_SHARED, &live[i], &err),
                      SJ_OK, &err);
        keys[2 * i + 1] = live[i].key;
    }
    for (int i = 0; i < 2 * N; i++)
        for (int k = 0; k < i; k++)
            assert_true(keys[i] != keys[k]);
    /* A scope open as shared (here mostly reused ones) has an owner no thread's id equals,
     * not even the 0 of a thread that has none yet: a thread whose stale confined handle
     * loads the word before a reuse and the owner after cannot take the arena as its own. */
    for (int i = 0; i < N; i++)
        if (!(live[i].key & SJ__SCOPE_CONFINED))
            assert_true(atomic_load(&live[i].scope->owner) == SJ__NO_OWNER);
    for (int i = 0; i < N; i++)
        assert_status(sj_arena_close(live[i], &err), SJ_OK, &err);

    /* two confined arenas in turn; each close makes its segment CLOSED, inline too, while
     * the other goes on */
    sj_layout *root = test_layout("[4:i4]");
    sj_accessor *acc = NULL;
    assert_status(sj_accessor_new(root, "[*]", &acc, &err), SJ_OK, &err);
    sj_arena a, b;
    sj_segment sa, sb;
    assert_status(sj_arena_open(SJ_ARENA_CONFINED, &a, &err), SJ_OK, &err);
    assert_status(sj_arena_open(SJ_ARENA_CONFINED, &b, &err), SJ_OK, &err);
    assert_status(sj_arena_allocate(a, 16, 16, &sa, &err), SJ_OK, &err);
    assert_status(sj_arena_allocate(b, 16, 16, &sb, &err), SJ_OK, &err);
    int32_t x = 0;
    for (int64_t i = 0; i < 4; i++) {
        assert_status(sj_accessor_set_i32(acc, &sa, 0, &i, 1, (int32_t)i, &err), SJ_OK, &err);
        assert_status(sj_accessor_set_i32(acc, &sb, 0, &i, 1, (int32_t)(10 + i), &err), SJ_OK,
                      &err);
    }
    assert_status(sj_accessor_get_i32(acc, &sb, 0, (int64_t[]){3}, 1, &x, &err), SJ_OK, &err);
    assert_int_equal(x, 13);
    assert_status(sj_arena_close(b, &err), SJ_OK, &err); /* b was the last one used */
    assert_int_equal(sj_accessor_get_i32(acc, &sb, 0, (int64_t[]){3}, 1, &x, &err), SJ_E_CLOSED);
    assert_string_equal(err.message, "get: segment: its arena is closed");
    assert_status(sj_accessor_get_i32(acc, &sa, 0, (int64_t[]){2}, 1, &x, &err), SJ_OK, &err);
    assert_int_equal(x, 2);
    sj_arena c; /* likely b's scope again */
    assert_status(sj_arena_open(SJ_ARENA_CONFINED, &c, &err), SJ_OK, &err);
    sj_segment sc;
    assert_status(sj_arena_allocate(c, 16, 16, &sc, &err), SJ_OK, &err);
    assert_status(sj_accessor_set_i32(acc, &sc, 0, (int64_t[]){0}, 1, 7, &err), SJ_OK, &err);
    assert_int_equal(sj_accessor_get_i32(acc, &sb, 0, (int64_t[]){0}, 1, &x, &err), SJ_E_CLOSED);
    assert_status(sj_arena_close(a, &err), SJ_OK, &err); /* a was not the last one used */
    assert_int_equal(sj_accessor_get_i32(acc, &sa, 0, (int64_t[]){0}, 1, &x, &err), SJ_E_CLOSED);
    assert_status(sj_accessor_get_i32(acc, &sc, 0, (int64_t[]){0}, 1, &x, &err), SJ_OK, &err);
    assert_int_equal(x, 7);
    /* another thread: still THREAD, however often the owner used it */
    sj_path *p = test_path(root, "[*]");
    thread_job j = {.acc = acc, .p = p, .seg = sc};
    run_other(&j);
    assert_int_equal(j.sa, SJ_E_THREAD);
    assert_int_equal(j.sa_set, SJ_E_THREAD);
    assert_status(sj_arena_close(c, &err), SJ_OK, &err);
    assert_int_equal(sj_accessor_get_i32(acc, &sc, 0, (int64_t[]){0}, 1, &x, &err), SJ_E_CLOSED);
    sj_path_free(p);
    sj_accessor_free(acc);
    sj_layout_unref(root);
}

/* Whether this process runs shared accesses as restartable sequences (fast.h SJ__CS_LOAD):
 * x86-64 with glibc's rseq registered and membarrier's rseq command, unless a test turns
 * them off. */
static bool restartable_expected(void) {
#if SJ__RSEQ
    const char *a = getenv("SEGJIT_TEST_NO_RSEQ"), *b = getenv("SEGJIT_TEST_NO_MEMBARRIER");
    if ((a && strcmp(a, "1") == 0) || (b && strcmp(b, "1") == 0)) return false;
    long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    return __rseq_size > 0 && cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ);
#else
    return false;
#endif
}

typedef struct closer_job {
    sj_arena a;
    sj_status st;
} closer_job;

static void *closer_thread(void *p) {
    closer_job *j = p;
    sj_error err = {0};
    j->st = sj_arena_close(j->a, &err);
    return NULL;
}

/* A thread keeps the key of the shared arena it last leased (where accesses restart), and
 * a close from another thread takes it back: the next access answers CLOSED, inline or not,
 * with sj_get_path's message. */
static void test_shared_kept_key(void **state) {
    (void)state;
    sj_error err = {0};
    sj_layout *i4 = test_layout("i4");
    sj_accessor *acc = NULL;
    assert_status(sj_accessor_new(i4, "[*]", &acc, &err), SJ_OK, &err);
    sj_arena a;
    sj_segment s;
    assert_status(sj_arena_open(SJ_ARENA_SHARED, &a, &err), SJ_OK, &err);
    assert_status(sj_arena_allocate(a, 64, 4, &s, &err), SJ_OK, &err);
    int64_t i = 5;
    int32_t x = 0;
    assert_status(sj_accessor_set_i32(acc, &s, 0, &i, 1, 77, &err), SJ_OK, &err);
    bool kept = __atomic_load_n(&sj__self.mine, __ATOMIC_RELAXED) == a.key;
    assert_int_equal(kept, restartable_expected());
    assert_status(sj_accessor_get_i32(acc, &s, 0, &i, 1, &x, &err), SJ_OK, &err);
    assert_int_equal(x, 77);
    closer_job j = {.a = a};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, closer_thread, &j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(j.st, SJ_OK);
    assert_true(__atomic_load_n(&sj__self.mine, __ATOMIC_RELAXED) != a.key);
    assert_int_equal(sj_accessor_get_i32(acc, &s, 0, &i, 1, &x, &err), SJ_E_CLOSED);
    assert_string_equal(err.message, "get: segment: its arena is closed");
    assert_int_equal(sj_accessor_set_i32(acc, &s, 0, &i, 1, 1, &err), SJ_E_CLOSED);
    assert_string_equal(err.message, "set: segment: its arena is closed");
    sj_accessor_free(acc);
    sj_layout_unref(i4);
}

/* Readers that keep going while another thread closes the shared arena: each access returns
 * the value written or CLOSED, never OK after CLOSED. The memory is 1 MiB (mapped, and
 * unmapped by the close), so an access let through after the close would fault. */
typedef struct reader_job {
    const sj_accessor *acc;
    sj_segment seg;
    _Atomic bool started;
    long ok, closed;
    int id;  /* writes only elements of its parity: the readers never write one element */
    int bad; /* 1: wrong value, 2: OK after CLOSED, 3: other status */
} reader_job;

enum { BIG_WORDS = (1 << 20) / 4 };

static void *reader_thread(void *p) {
    reader_job *r = p;
    sj_error err = {0};
    bool seen_closed = false;
    for (int64_t k = 0;; k++) {
        int64_t i = (k * 7919) % BIG_WORDS;
        if ((k & 7) == 7) i = (i & ~(int64_t)1) | r->id;
        int32_t x = 0;
        sj_status st = (k & 7) == 7
                           ? sj_accessor_set_i32(r->acc, &r->seg, 0, &i, 1, (int32_t)i, &err)
                           : sj_accessor_get_i32(r->acc, &r->seg, 0, &i, 1, &x, &err);
        if (k == 64) atomic_store(&r->started, true);
        if (st == SJ_OK) {
            if (seen_closed) r->bad = 2;
            if ((k & 7) != 7 && x != (int32_t)i) r->bad = 1;
            r->ok++;
        } else if (st == SJ_E_CLOSED) {
            seen_closed = true;
            if (++r->closed == 1000) break;
        } else {
            r->bad = 3;
            break;
        }
        if (r->bad) break;
    }
    if (!atomic_load(&r->started)) atomic_store(&r->started, true);
    return NULL;
}

static void test_shared_close_under_readers(void **state) {
    (void)state;
    sj_error err = {0};
    sj_layout *i4 = test_layout("i4");
    sj_accessor *acc = NULL;
    assert_status(sj_accessor_new(i4, "[*]", &acc, &err), SJ_OK, &err);
    for (int round = 0; round < 100; round++) {
        sj_arena a;
        reader_job r[2] = {{.acc = acc, .id = 0}, {.acc = acc, .id = 1}};
        assert_status(sj_arena_open(SJ_ARENA_SHARED, &a, &err), SJ_OK, &err);
        assert_status(sj_arena_allocate(a, 4 * BIG_WORDS, 64, &r[0].seg, &err), SJ_OK, &err);
        int32_t *w = (int32_t *)(void *)r[0].seg.base;
        for (int32_t k = 0; k < BIG_WORDS; k++)
            w[k] = k;
        r[1].seg = r[0].seg;
        pthread_t t[2];
        for (int k = 0; k < 2; k++)
            assert_int_equal(pthread_create(&t[k], NULL, reader_thread, &r[k]), 0);
        for (int k = 0; k < 2; k++)
            while (!atomic_load(&r[k].started))
                sched_yield();
        for (volatile int spin = 0; spin < (round % 10) * 1000; spin++)
            ;
        assert_status(sj_arena_close(a, &err), SJ_OK, &err);
        for (int k = 0; k < 2; k++) {
            assert_int_equal(pthread_join(t[k], NULL), 0);
            if (r[k].bad) fail_msg("round %d, reader %d: failure %d", round, k, r[k].bad);
            assert_int_equal(r[k].closed, 1000);
        }
    }
    sj_accessor_free(acc);
    sj_layout_unref(i4);
}

/* SEMANTICS rule (CONCURRENCY.md 2.2): an access that starts after a close has begun
 * answers CLOSED, also on a thread that kept the arena's key and while the close still
 * waits (here for a kernel run whose heap segment's pin callback blocks). */
static sj_kernel *begun_k;
static sj_segment begun_src;
static uint64_t begun_heap[4];
static atomic_int begun_in_pin, begun_release;
static void *begun_resolve(void *o) {
    (void)o;
    return begun_heap;
}
static void begun_pin(void *o) {
    (void)o;
    atomic_store(&begun_in_pin, 1);
    while (!atomic_load(&begun_release))
        usleep(1000);
}
static void begun_unpin(void *o) {
    (void)o;
}
static void *begun_runner(void *p) {
    sj_status *st = p;
    sj_error err = {0};
    sj_segment h;
    if (sj_segment_heap_pinned(SJ_HEAP_I64, 4, NULL, begun_resolve, begun_pin, begun_unpin, &h,
                               &err) != SJ_OK)
        *st = SJ_E_ARG;
    else
        *st = sj_kernel_run(begun_k, &(sj_args){&begun_src, 0, &h, 0, 4}, NULL, &err);
    return NULL;
}

static void test_access_after_close_begun(void **state) {
    (void)state;
    sj_error err = {0};
    sj_layout *j8 = test_layout("j8");
    assert_status(sj_kernel_copy(j8, j8, &begun_k, &err), SJ_OK, &err);
    sj_layout *rec = test_layout("[4:j8]");
    sj_accessor *acc = NULL;
    assert_status(sj_accessor_new(rec, "[*]", &acc, &err), SJ_OK, &err);
    sj_path *p = test_path(rec, "[*]");
    closer_job c = {0};
    assert_status(sj_arena_open(SJ_ARENA_SHARED, &c.a, &err), SJ_OK, &err);
    assert_status(sj_arena_allocate(c.a, 32, 8, &begun_src, &err), SJ_OK, &err);
    int64_t i = 1, x = 0;
    assert_status(sj_accessor_set_i64(acc, &begun_src, 0, &i, 1, 9, &err), SJ_OK, &err);
    assert_status(sj_accessor_get_i64(acc, &begun_src, 0, &i, 1, &x, &err), SJ_OK, &err);
    assert_int_equal(__atomic_load_n(&sj__self.mine, __ATOMIC_RELAXED) == c.a.key,
                     restartable_expected());
    atomic_store(&begun_in_pin, 0);
    atomic_store(&begun_release, 0);
    sj_status run_st = SJ_E_ARG;
    pthread_t runner, closer;
    assert_int_equal(pthread_create(&runner, NULL, begun_runner, &run_st), 0);
    while (!atomic_load(&begun_in_pin))
        usleep(1000);
    assert_int_equal(pthread_create(&closer, NULL, closer_thread, &c), 0);
    while (sj_arena_is_alive(c.a)) /* the close has begun: CLOSING */
        usleep(1000);
    sj_value v;
    assert_int_equal(sj_get_path(&begun_src, p, 0, &i, 1, &v, &err), SJ_E_CLOSED);
    assert_int_equal(sj_accessor_get_i64(acc, &begun_src, 0, &i, 1, &x, &err), SJ_E_CLOSED);
    assert_string_equal(err.message, "get: segment: its arena is closed");
    assert_int_equal(sj_accessor_set_i64(acc, &begun_src, 0, &i, 1, 3, &err), SJ_E_CLOSED);
    assert_string_equal(err.message, "set: segment: its arena is closed");
    atomic_store(&begun_release, 1);
    assert_int_equal(pthread_join(runner, NULL), 0);
    assert_int_equal(pthread_join(closer, NULL), 0);
    assert_int_equal(run_st, SJ_OK);
    assert_int_equal(c.st, SJ_OK);
    assert_int_equal(begun_heap[1], 9);
    sj_path_free(p);
    sj_accessor_free(acc);
    sj_kernel_free(begun_k);
    sj_layout_unref(rec);
    sj_layout_unref(j8);
}

/* A module that made inline accessor calls is unloaded; the thread then goes on, is
 * preempted and takes signals. The kernel must find no pointer into the module (a
 * restartable sequence's descriptor): before the descriptor was cleared after each access,
 * the next preemption or signal ended the thread with SIGSEGV. */
static volatile sig_atomic_t usr1_seen;
static void on_usr1(int sig) {
    (void)sig;
    usr1_seen++;
}

static void test_unloaded_module(void **state) {
    (void)state;
    sj_error err = {0};
    sj_layout *rec = test_layout("[8:j8]");
    sj_accessor *acc = NULL;
    assert_status(sj_accessor_new(rec, "[*]", &acc, &err), SJ_OK, &err);
    sj_arena kinds[2];
    assert_status(sj_arena_open(SJ_ARENA_CONFINED, &kinds[0], &err), SJ_OK, &err);
    assert_status(sj_arena_open(SJ_ARENA_SHARED, &kinds[1], &err), SJ_OK, &err);
    struct sigaction sa = {.sa_handler = on_usr1}, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    for (int k = 0; k < 2; k++) {
        sj_segment s;
        assert_status(sj_arena_allocate(kinds[k], 64, 8, &s, &err), SJ_OK, &err);
        for (int64_t i = 0; i < 8; i++)
            assert_status(sj_accessor_set_i64(acc, &s, 0, &i, 1, i + 1, &err), SJ_OK, &err);
        void *m = dlopen(SEGJIT_TEST_PLUGIN, RTLD_NOW | RTLD_LOCAL);
        if (!m) fail_msg("dlopen: %s", dlerror());
        sj_status (*sum_fn)(const sj_accessor *, const sj_segment *, int64_t, int64_t *);
        *(void **)&sum_fn = dlsym(m, "plugin_sum");
        assert_non_null(sum_fn);
        int64_t sum = 0;
        for (int r = 0; r < 3; r++) { /* the first call keeps the key, the next ones use it */
            assert_int_equal(sum_fn(acc, &s, 8, &sum), SJ_OK);
            assert_int_equal(sum, 36);
        }
        assert_int_equal(dlclose(m), 0);
        usr1_seen = 0;
        for (int r = 0; r < 20; r++) {
            raise(SIGUSR1);
            usleep(500);
            sched_yield();
        }
        assert_int_equal(usr1_seen, 20);
    }
    assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
    for (int k = 0; k < 2; k++)
        assert_status(sj_arena_close(kinds[k], &err), SJ_OK, &err);
    sj_accessor_free(acc);
    sj_layout_unref(rec);
}

/* ---- 6. open records: a leading [*] whose bound comes from the segment (SEMANTICS 4.5) ---- */

static void test_open_records(void **state) {
    (void)state;
    sj_layout *rec = test_layout("[i4(id)i4(x)d8(y)j8(z)]");
    sj_error err = {0};
    sj_accessor *acc = NULL;
    assert_status(sj_accessor_new(rec, "[*].y", &acc, &err), SJ_OK, &err);
    assert_int_equal(sj_accessor_free_count(acc), 1);
    /* the same with whitespace and `[]`, and on the JDK's open sequence [*:rec] */
    sj_accessor *acc2 = NULL, *acc3 = NULL;
    assert_status(sj_accessor_new(rec, " [ ] . y", &acc2, &err), SJ_OK, &err);
    sj_layout *open = NULL; /* [*:rec], the largest count that fits (built: the parser lacks it) */
    assert_status(sj_layout_sequence(INT64_MAX / 24, rec, &open, &err), SJ_OK, &err);
    assert_status(sj_accessor_new(open, "[*].y", &acc3, &err), SJ_OK, &err);
    /* sj_get_path and an accessor made from the parsed path run the records open too */
    sj_path *open_path = test_path(open, "[*].y");
    sj_accessor *acc_p = NULL;
    assert_status(sj_accessor_of_path(open_path, &acc_p, &err), SJ_OK, &err);
    const sj_accessor *accs[] = {acc, acc2, acc3, acc_p};

    /* one accessor, every count: 0, 1, 1000 records (and a tail shorter than a record) */
    const int64_t counts[] = {0, 1, 1000};
    for (size_t c = 0; c < 3; c++) {
        int64_t n = counts[c];
        sj_arena a;
        sj_segment seg;
        assert_status(sj_arena_open(SJ_ARENA_SHARED, &a, &err), SJ_OK, &err);
        assert_status(sj_arena_allocate(a, 24 * n + 20, 16, &seg, &err), SJ_OK, &err);
        for (int64_t i = 0; i < n; i++)
            assert_status(sj_accessor_set_f64(acc, &seg, 0, &i, 1, 0.5 * (double)i, &err), SJ_OK,
                          &err);
        for (size_t k = 0; k < 4; k++)
            for (int64_t i = 0; i < n; i++) {
                double y = -1;
                assert_status(sj_accessor_get_f64(accs[k], &seg, 0, &i, 1, &y, &err), SJ_OK, &err);
                assert_true(y == 0.5 * (double)i);
            }
        for (int64_t i = 0; i < n; i++) {
            sj_value v;
            assert_status(sj_get_path(&seg, open_path, 0, &i, 1, &v, &err), SJ_OK, &err);
            assert_true(v.f64 == 0.5 * (double)i);
        }
        /* the record past the last whole one is out of bounds, with the bound in the message */
        double y = 7;
        char m[200];
        snprintf(m, sizeof m,
                 "path '[*].y': free index 0 is %lld, outside [0, %lld) (records of 24 bytes "
                 "that fit from offset 0)",
                 (long long)n, (long long)n);
        for (size_t k = 0; k < 4; k++) {
            sj_status st = sj_accessor_get_f64(accs[k], &seg, 0, &n, 1, &y, &err);
            if (st != SJ_E_BOUNDS)
                fail_msg("%lld records, accessor %zu: %s (%s)", (long long)n, k, sj_status_name(st),
                         err.message);
            assert_string_equal(err.message, m);
        }
        sj_value pv = {.f64 = 7};
        assert_int_equal(sj_get_path(&seg, open_path, 0, &n, 1, &pv, &err), SJ_E_BOUNDS);
        assert_string_equal(err.message, m);
        assert_true(pv.f64 == 7);
        assert_true(y == 7);
        /* from offset 24 one record fewer fits (the tail is 20 bytes) */
        if (n > 0) {
            int64_t last = n - 1;
            assert_int_equal(sj_accessor_set_f64(acc, &seg, 24, &last, 1, 1.0, &err), SJ_E_BOUNDS);
            if (n > 1) {
                last = n - 2;
                assert_status(sj_accessor_set_f64(acc, &seg, 24, &last, 1, 3.0, &err), SJ_OK, &err);
                /* record n-2 from offset 24 is record n-1 from offset 0 */
                assert_status(sj_accessor_get_f64(acc, &seg, 0, (int64_t[]){n - 1}, 1, &y, &err),
                              SJ_OK, &err);
                assert_true(y == 3.0);
            }
        }
        assert_status(sj_arena_close(a, &err), SJ_OK, &err);
        assert_int_equal(sj_accessor_get_f64(acc, &seg, 0, (int64_t[]){0}, 1, &y, &err),
                         n ? SJ_E_CLOSED : SJ_E_BOUNDS);
    }

    /* the order of 4.1: index (with the segment's bound), read-only, alignment, lifetime */
    sj_arena a;
    sj_segment seg;
    assert_status(sj_arena_open(SJ_ARENA_CONFINED, &a, &err), SJ_OK, &err);
    assert_status(sj_arena_allocate(a, 24 * 4, 16, &seg, &err), SJ_OK, &err);
    sj_segment ro = sj_segment_readonly(&seg);
    double y = 0;
    assert_int_equal(sj_accessor_set_f64(acc, &ro, 4, (int64_t[]){-1}, 1, 1, &err), SJ_E_BOUNDS);
    assert_string_equal(err.message, "path '[*].y': free index 0 is -1, outside [0, 3) (records "
                                     "of 24 bytes that fit from offset 4)");
    assert_int_equal(sj_accessor_get_f64(acc, &seg, 97, (int64_t[]){0}, 1, &y, &err), SJ_E_BOUNDS);
    assert_string_equal(err.message, "path '[*].y': free index 0 is 0, outside [0, 0) (records "
                                     "of 24 bytes that fit from offset 97)");
    assert_int_equal(sj_accessor_get_f64(acc, &seg, -24, (int64_t[]){1}, 1, &y, &err), SJ_E_BOUNDS);
    assert_int_equal(sj_accessor_set_f64(acc, &ro, 4, (int64_t[]){0}, 1, 1, &err), SJ_E_READONLY);
    assert_int_equal(sj_accessor_get_f64(acc, &seg, 4, (int64_t[]){0}, 1, &y, &err), SJ_E_ALIGN);
    char m[200];
    snprintf(m, sizeof m,
             "path '[*].y' (root layout of 24 bytes): offset 4 is not aligned to 8 for native "
             "segment (address 0x%" PRIx64 ")",
             sj_segment_address(&seg) + 4);
    assert_string_equal(err.message, m);
    assert_int_equal(sj_accessor_get_f64(acc, &seg, 0, NULL, 1, &y, &err), SJ_E_ARG);
    assert_int_equal(sj_accessor_get_f64(acc, &seg, 0, (int64_t[]){0, 0}, 2, &y, &err), SJ_E_ARG);
    assert_string_equal(err.message, "path '[*].y' has 1 free indices, 2 given");
    assert_status(sj_arena_close(a, &err), SJ_OK, &err);
    assert_int_equal(sj_accessor_get_f64(acc, &seg, 0, (int64_t[]){3}, 1, &y, &err), SJ_E_CLOSED);
    assert_int_equal(sj_accessor_get_f64(acc, &seg, 0, (int64_t[]){4}, 1, &y, &err), SJ_E_BOUNDS);

    /* a second open index inside the record keeps its layout bound */
    sj_layout *rec2 = test_layout("[i4(n)[3:i4](v)]");
    sj_accessor *acc4 = NULL;
    assert_status(sj_accessor_new(rec2, "[*].v[*]", &acc4, &err), SJ_OK, &err);
    int32_t mem[16] = {0};
    sj_segment ns;
    assert_status(sj_segment_native(mem, sizeof mem, &ns, &err), SJ_OK, &err);
    assert_status(sj_accessor_set_i32(acc4, &ns, 0, (int64_t[]){3, 2}, 2, 9, &err), SJ_OK, &err);
    assert_int_equal(mem[15], 9);
    assert_int_equal(sj_accessor_set_i32(acc4, &ns, 0, (int64_t[]){3, 3}, 2, 9, &err), SJ_E_BOUNDS);
    assert_string_equal(err.message, "path '[*].v[*]': free index 1 is 3, outside [0, 3)");
    assert_int_equal(sj_accessor_set_i32(acc4, &ns, 0, (int64_t[]){4, 0}, 2, 9, &err), SJ_E_BOUNDS);

    /* records that cannot follow each other, and a sequence root keeps its count */
    sj_layout *odd = test_layout("[i4(a)b1(b)]"), *empty = test_layout("[]");
    sj_accessor *bad = NULL;
    assert_int_equal(sj_accessor_new(odd, "[*].a", &bad, &err), SJ_E_ARG);
    assert_int_equal(sj_accessor_new(empty, "[*]", &bad, &err), SJ_E_ARG);
    assert_null(bad);
    sj_layout *seq = test_layout("[2:[i4(id)i4(x)d8(y)j8(z)]]");
    sj_accessor *acc5 = NULL;
    assert_status(sj_accessor_new(seq, "[*].y", &acc5, &err), SJ_OK, &err);
    uint8_t big[24 * 4];
    assert_status(sj_segment_native(big, sizeof big, &ns, &err), SJ_OK, &err);
    assert_int_equal(sj_accessor_get_f64(acc5, &ns, 0, (int64_t[]){2}, 1, &y, &err), SJ_E_BOUNDS);
    assert_string_equal(err.message, "path '[*].y': free index 0 is 2, outside [0, 2)");

    sj_accessor_free(acc);
    sj_accessor_free(acc2);
    sj_accessor_free(acc3);
    sj_accessor_free(acc_p);
    sj_path_free(open_path);
    sj_accessor_free(acc4);
    sj_accessor_free(acc5);
    sj_layout_unref(rec);
    sj_layout_unref(rec2);
    sj_layout_unref(open);
    sj_layout_unref(odd);
    sj_layout_unref(empty);
    sj_layout_unref(seq);
}

/* This file is built twice: the typed calls are accessor.h's inline ones unless
 * SJ_NO_INLINE, and the other build calls the library. */
static void test_build_variant(void **state) {
    (void)state;
#if defined(SJ_NO_INLINE)
    bool inline_calls = false;
#elif defined(sj_accessor_get_f64) && defined(sj_accessor_set_bool)
    bool inline_calls = true;
#else
    bool inline_calls = false;
    fail_msg("accessor.h did not make its typed calls inline in a C build");
#endif
    printf("typed accessor calls: %s\n", inline_calls ? "inline" : "library");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_variant),
        cmocka_unit_test(test_kinds_orders_segments),
        cmocka_unit_test(test_check_order_native),
        cmocka_unit_test(test_check_order_heap),
        cmocka_unit_test(test_value_accessor_messages),
        cmocka_unit_test(test_arguments_and_creation),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_remembered_arena),
        cmocka_unit_test(test_shared_kept_key),
        cmocka_unit_test(test_shared_close_under_readers),
        cmocka_unit_test(test_access_after_close_begun),
        cmocka_unit_test(test_unloaded_module),
        cmocka_unit_test(test_open_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
