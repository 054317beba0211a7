/* tests/test_jdk_segments.c: the JDK foreign-memory suite's cases on segments and single
 * access, ported to segjit's C API (SEMANTICS 1, 3 and 4.1): TestSegments,
 * TestMemoryAccess, TestMemoryAccessInstance, TestMemoryAlignment, TestHeapAlignment,
 * TestSegmentOffset, TestSegmentOverlap, TestMemorySession and TestScope (downcall, linker,
 * ByteBuffer and GC parts left out), plus the check-order cases a JDK 25 probe answered.
 * Each test names the JDK test and case it follows. Expected statuses are the JDK 25
 * exceptions through SEMANTICS 1 (IllegalArgumentException -> SJ_E_ARG, or SJ_E_ALIGN /
 * SJ_E_READONLY; IndexOutOfBoundsException -> SJ_E_BOUNDS; IllegalStateException ->
 * SJ_E_CLOSED; WrongThreadException -> SJ_E_THREAD; UnsupportedOperationException ->
 * SJ_E_UNSUPPORTED; OutOfMemoryError -> SJ_E_NOMEM).
 *
 * Deliberate differences (not tested as the JDK behaves, SEMANTICS or the brief decides):
 * a closed confined arena used or closed from another thread is SJ_E_CLOSED (JDK:
 * WrongThreadException); a write to a read-only segment with an out-of-range index is
 * SJ_E_BOUNDS; a negative open index is SJ_E_BOUNDS (JDK: IllegalArgumentException); open
 * records whose size is not a multiple of their alignment are refused; sj_segment_overlap
 * for an empty segment or for b strictly inside a; an arena held by a view refuses to close
 * with SJ_E_BUSY (JDK: IllegalStateException; SEMANTICS 3.7 lets segjit choose); an open
 * record index so large that index * size overflows is SJ_E_BOUNDS (JDK 25:
 * ArithmeticException; SEMANTICS 4.5: the bound is what fits).
 *
 * A deliberate difference (README, "open record paths"): a path rooted at the JDK's open
 * sequence `[*:rec]` whose first step is `[*]` runs over open records, its bound what fits in
 * the segment (the way segjit spells arrayElementVarHandle() for kernels and accessors); the
 * JDK checks that root whole, so every access through it throws IndexOutOfBoundsException.
 * test_open_sequence_root_path holds segjit to its rule.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "check.h"
#include "segments.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "segjit/accessor.h"
#include "segjit/kernel.h"
#include "segjit/layout.h"
#include "segjit/segment.h"
#include "segjit/view.h"

/* ---- helpers ---- */

static sj_layout *L(const char *text) {
    sj_layout *l = NULL;
    CHECK(SJ_OK, sj_layout_parse(text, &l, &E));
    return l;
}

static sj_path *P(const sj_layout *root, const char *text) {
    sj_path *p = NULL;
    CHECK(SJ_OK, sj_path_parse(root, text, &p, &E));
    return p;
}

static sj_accessor *ACC(const sj_layout *root, const char *path) {
    sj_accessor *a = NULL;
    if (path)
        CHECK(SJ_OK, sj_accessor_new(root, path, &a, &E));
    else
        CHECK(SJ_OK, sj_accessor_of_value(root, &a, &E));
    return a;
}

static sj_arena open_arena(sj_arena_kind kind) {
    sj_arena a;
    CHECK(SJ_OK, sj_arena_open(kind, &a, &E));
    return a;
}

static sj_segment alloc(sj_arena a, int64_t size, int64_t align) {
    sj_segment s;
    CHECK(SJ_OK, sj_arena_allocate(a, size, align, &s, &E));
    return s;
}

static sj_segment heap(sj_heap_kind kind, void *array, int64_t count) {
    sj_segment s;
    CHECK(SJ_OK, sj_segment_of_array(kind, array, count, &s, &E));
    return s;
}

static sj_segment slice(const sj_segment *s, int64_t off, int64_t size) {
    sj_segment r;
    CHECK(SJ_OK, sj_segment_slice(s, off, size, &r, &E));
    return r;
}

static sj_segment slice_to_end(const sj_segment *s, int64_t off) {
    return slice(s, off, (int64_t)sj_segment_size(s) - off);
}

/* 42 (true for bool) in the member of sj_value a kind uses; n varies it. */
static sj_value val_of(sj_kind k, int n) {
    sj_value v;
    memset(&v, 0, sizeof v);
    switch (k) {
        case SJ_BOOL:
            v.z = n != 0;
            break;
        case SJ_I8:
            v.i8 = (int8_t)n;
            break;
        case SJ_U8:
            v.u8 = (uint8_t)n;
            break;
        case SJ_CHAR:
            v.c16 = (uint16_t)n;
            break;
        case SJ_I16:
            v.i16 = (int16_t)n;
            break;
        case SJ_U16:
            v.u16 = (uint16_t)n;
            break;
        case SJ_I32:
            v.i32 = n;
            break;
        case SJ_U32:
            v.u32 = (uint32_t)n;
            break;
        case SJ_F32:
            v.f32 = (float)n;
            break;
        case SJ_I64:
            v.i64 = n;
            break;
        case SJ_U64:
            v.u64 = (uint64_t)n;
            break;
        case SJ_F64:
            v.f64 = (double)n;
            break;
        case SJ_ADDR:
            v.addr = (uint64_t)n;
            break;
        default:
            break;
    }
    return v;
}

static void assert_val(sj_kind k, sj_value got, int n) {
    sj_value want = val_of(k, n);
    unsigned size = k == SJ_BOOL ? 1 : sj_kind_size(k);
    if (k == SJ_BOOL) {
        assert_int_equal(got.z, want.z);
        return;
    }
    assert_memory_equal(&got, &want, size);
}

/* ==== TestSegments ==== */

/* TestSegments.testBadAllocateAlign (-1/8, 1/15, 1/-15), testAllocateTooBig, and a probe:
 * size and alignment are checked before the arena's state (a closed arena answers the
 * argument error first, then "Already closed"). */
static void test_bad_allocate_align(void **state) {
    (void)state;
    sj_segment s;
    sj_arena g = sj_arena_global();
    CHECK(SJ_E_ARG, sj_arena_allocate(g, -1, 8, &s, &E));
    CHECK(SJ_E_ARG, sj_arena_allocate(g, 1, 15, &s, &E));
    CHECK(SJ_E_ARG, sj_arena_allocate(g, 1, -15, &s, &E));
    CHECK(SJ_E_ARG, sj_arena_allocate(g, 8, 0, &s, &E));
    CHECK(SJ_E_NOMEM, sj_arena_allocate(g, INT64_MAX, 1, &s, &E)); /* OutOfMemoryError */
    sj_arena c = open_arena(SJ_ARENA_CONFINED);
    CHECK(SJ_OK, sj_arena_close(c, &E));
    CHECK(SJ_E_ARG, sj_arena_allocate(c, -1, 8, &s, &E));
    CHECK(SJ_E_ARG, sj_arena_allocate(c, 8, 3, &s, &E));
    CHECK(SJ_E_CLOSED, sj_arena_allocate(c, 8, 8, &s, &E));
}

/* TestSegments.testZeroLengthNativeSegment */
static void test_zero_length_native_segment(void **state) {
    (void)state;
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    sj_segment s = alloc(a, 0, 1);
    assert_int_equal(sj_segment_size(&s), 0);
    sj_layout *seq = L("[0:i4]");
    CHECK(SJ_OK, sj_arena_allocate_layout(a, seq, &s, &E));
    assert_int_equal(sj_segment_size(&s), 0);
    assert_int_equal(sj_segment_address(&s) % sj_layout_align(seq), 0);
    s = alloc(a, 0, 4);
    assert_int_equal(sj_segment_size(&s), 0);
    assert_int_equal(sj_segment_address(&s) % 4, 0);
    sj_segment raw;
    CHECK(SJ_OK, sj_segment_native((void *)(uintptr_t)sj_segment_address(&s), 0, &raw, &E));
    assert_int_equal(sj_segment_size(&raw), 0);
    assert_int_equal(sj_segment_address(&raw) % 4, 0);
    CHECK(SJ_OK, sj_arena_close(a, &E));
    sj_layout_unref(seq);
}

/* TestSegments.testNativeSegmentIsZeroed */
static void test_native_segment_is_zeroed(void **state) {
    (void)state;
    sj_layout *b1 = L("b1");
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    sj_segment s = alloc(a, 1000, 1);
    for (int64_t i = 0; i < 1000; i++) {
        sj_value v;
        CHECK(SJ_OK, sj_get(&s, b1, i, &v, &E));
        assert_int_equal(v.i8, 0);
    }
    CHECK(SJ_OK, sj_arena_close(a, &E));
    sj_layout_unref(b1);
}

/* TestSegments.testSlices, and asSlice's bounds (a JDK 25 probe: IndexOutOfBoundsException
 * for offset -1 or 11 of 10 bytes, size -1, 6 bytes at 5, Long.MAX_VALUE offset or size). */
static void test_slices(void **state) {
    (void)state;
    sj_layout *b1 = L("b1");
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    sj_segment s = alloc(a, 10, 1);
    for (int i = 0; i < 10; i++)
        CHECK(SJ_OK, sj_set(&s, b1, i, val_of(SJ_I8, i), &E));
    for (int off = 0; off < 10; off++) {
        sj_segment sl = slice_to_end(&s, off);
        for (int i = off; i < 10; i++) {
            sj_value x, y;
            CHECK(SJ_OK, sj_get(&s, b1, i, &x, &E));
            CHECK(SJ_OK, sj_get(&sl, b1, i - off, &y, &E));
            assert_int_equal(x.i8, y.i8);
        }
    }
    sj_segment r;
    CHECK(SJ_E_BOUNDS, sj_segment_slice(&s, -1, 0, &r, &E));
    CHECK(SJ_E_BOUNDS, sj_segment_slice(&s, 11, 0, &r, &E));
    CHECK(SJ_E_BOUNDS, sj_segment_slice(&s, 0, -1, &r, &E));
    CHECK(SJ_E_BOUNDS, sj_segment_slice(&s, 5, 6, &r, &E));
    CHECK(SJ_E_BOUNDS, sj_segment_slice(&s, INT64_MAX, 1, &r, &E));
    CHECK(SJ_E_BOUNDS, sj_segment_slice(&s, 1, INT64_MAX, &r, &E));
    CHECK(SJ_OK, sj_segment_slice(&s, 10, 0, &r, &E));
    assert_int_equal(sj_segment_size(&r), 0);
    CHECK(SJ_OK, sj_arena_close(a, &E));
    sj_layout_unref(b1);
}

/* The segment factories of TestSegments (and TestSegmentOverlap's heap ones): seven array
 * kinds of four elements, then arena allocations (4, 1), (4, 8) and of JAVA_INT. */
enum { N_FACTORIES = 10 };
static const sj_heap_kind factory_kinds[7] = {SJ_HEAP_I8,  SJ_HEAP_U16, SJ_HEAP_F64, SJ_HEAP_F32,
                                              SJ_HEAP_I32, SJ_HEAP_I64, SJ_HEAP_I16};

static sj_segment factory(int i, sj_arena a, int64_t storage[4]) {
    memset(storage, 0, 4 * sizeof(int64_t));
    if (i < 7) return heap(factory_kinds[i], storage, 4);
    if (i == 7) return alloc(a, 4, 1);
    if (i == 8) return alloc(a, 4, 8);
    sj_layout *i4 = L("i4");
    sj_segment s;
    CHECK(SJ_OK, sj_arena_allocate_layout(a, i4, &s, &E));
    sj_layout_unref(i4);
    return s;
}

/* TestSegments.testDerivedScopes, testScopeConfinedArena/SharedArena/GlobalArena and
 * TestScope.testSameArenaScope / testDifferentArenaScope: slices and read-only views keep
 * their segment's lifetime; two arenas are two lifetimes. */
static void test_derived_scopes(void **state) {
    (void)state;
    sj_arena c = open_arena(SJ_ARENA_CONFINED), sh = open_arena(SJ_ARENA_SHARED);
    sj_arena arenas[3] = {c, sh, sj_arena_global()};
    for (int k = 0; k < 3; k++) {
        sj_segment s = alloc(arenas[k], 100, 1), s2 = alloc(arenas[k], 10, 1);
        sj_segment ro = sj_segment_readonly(&s);
        sj_segment d[4];
        d[0] = slice_to_end(&s, 0);
        d[1] = ro;
        d[2] = sj_segment_readonly(&d[0]);
        d[3] = slice_to_end(&ro, 0);
        for (int j = 0; j < 4; j++) {
            assert_ptr_equal(d[j].arena.scope, s.arena.scope);
            assert_int_equal(d[j].arena.key, s.arena.key);
        }
        assert_ptr_equal(s2.arena.scope, s.arena.scope);
        assert_int_equal(s2.arena.key, s.arena.key);
    }
    assert_true(c.scope != sh.scope || c.key != sh.key);
    sj_arena c2 = open_arena(SJ_ARENA_CONFINED);
    assert_true(c2.key != c.key);
    CHECK(SJ_OK, sj_arena_close(c2, &E));
    CHECK(SJ_OK, sj_arena_close(c, &E));
    CHECK(SJ_OK, sj_arena_close(sh, &E));
}

/* TestSegments.testSmallSegmentMax / testSmallSegmentMin (offsets that wrap to 6 as int)
 * and testSegmentOOBMessage (offset 8, length 4 in the message). */
static void test_small_segment_bounds(void **state) {
    (void)state;
    sj_layout *i4 = L("i4");
    sj_segment s = alloc(sj_arena_global(), 10, 1);
    sj_value v;
    CHECK(SJ_E_BOUNDS, sj_get(&s, i4, (int64_t)INT32_MAX + INT32_MAX + 2 + 6, &v, &E));
    CHECK(SJ_E_BOUNDS, sj_get(&s, i4, (int64_t)INT32_MIN * 2 + 6, &v, &E));
    CHECK(SJ_E_BOUNDS, sj_get(&s, i4, 8, &v, &E));
    CHECK_MSG("offset 8");
    CHECK_MSG("4 bytes");
    sj_layout_unref(i4);
}

/* TestSegments.testAccessModesOfFactories and testHeapBase's read-only view */
static void test_access_modes_of_factories(void **state) {
    (void)state;
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    int64_t storage[4];
    for (int i = 0; i < N_FACTORIES; i++) {
        sj_segment s = factory(i, a, storage);
        assert_false(sj_segment_is_readonly(&s));
        assert_int_equal(sj_segment_is_native(&s), i >= 7);
        sj_segment ro = sj_segment_readonly(&s);
        assert_true(sj_segment_is_readonly(&ro));
        sj_segment rs = slice_to_end(&ro, 1);
        assert_true(sj_segment_is_readonly(&rs));
    }
    CHECK(SJ_OK, sj_arena_close(a, &E));
}

typedef struct thread_job {
    sj_segment seg;
    sj_arena arena;
    sj_status st, st2, st3;
} thread_job;

static void *check_alive_job(void *arg) {
    thread_job *j = arg;
    j->st = sj_segment_check_alive(&j->seg, NULL);
    return NULL;
}

/* TestSegments.testIsAccessibleBy: a confined segment is accessible from its owner only;
 * shared and global ones from any thread. */
static void test_is_accessible_by(void **state) {
    (void)state;
    sj_arena kinds[3] = {open_arena(SJ_ARENA_CONFINED), open_arena(SJ_ARENA_SHARED),
                         sj_arena_global()};
    for (int k = 0; k < 3; k++) {
        thread_job j = {.seg = alloc(kinds[k], 8, 8)};
        CHECK(SJ_OK, sj_segment_check_alive(&j.seg, &E));
        on_other_thread(check_alive_job, &j);
        assert_int_equal(j.st, k == 0 ? SJ_E_THREAD : SJ_OK);
    }
    CHECK(SJ_OK, sj_arena_close(kinds[0], &E));
    CHECK(SJ_OK, sj_arena_close(kinds[1], &E));
}

/* TestSegments.testFill (whole segment, then a slice, enclosing bytes intact) */
static void test_fill(void **state) {
    (void)state;
    sj_layout *b1 = L("b1");
    const uint8_t values[3] = {0xFF, 0x00, 0x45};
    int64_t storage[4];
    for (int i = 0; i < N_FACTORIES; i++) {
        for (int k = 0; k < 3; k++) {
            sj_arena a = open_arena(SJ_ARENA_CONFINED);
            sj_segment s = factory(i, a, storage);
            int64_t n = (int64_t)sj_segment_size(&s);
            CHECK(SJ_OK, sj_fill_bytes(&s, 0, n, values[k], &E));
            sj_value v;
            for (int64_t b = 0; b < n; b++) {
                CHECK(SJ_OK, sj_get(&s, b1, b, &v, &E));
                assert_int_equal(v.u8, values[k]);
            }
            sj_segment sl = slice(&s, 1, n - 2);
            CHECK(SJ_OK, sj_fill_bytes(&sl, 0, n - 2, (uint8_t)~values[k], &E));
            for (int64_t b = 0; b < n - 2; b++) {
                CHECK(SJ_OK, sj_get(&sl, b1, b, &v, &E));
                assert_int_equal(v.u8, (uint8_t)~values[k]);
            }
            CHECK(SJ_OK, sj_get(&s, b1, 0, &v, &E));
            assert_int_equal(v.u8, values[k]);
            for (int64_t b = 1; b < n - 1; b++) {
                CHECK(SJ_OK, sj_get(&s, b1, b, &v, &E));
                assert_int_equal(v.u8, (uint8_t)~values[k]);
            }
            CHECK(SJ_OK, sj_get(&s, b1, n - 1, &v, &E));
            assert_int_equal(v.u8, values[k]);
            CHECK(SJ_OK, sj_arena_close(a, &E));
        }
    }
    sj_layout_unref(b1);
}

/* TestSegments.testFillIllegalAccessMode (read-only: IllegalArgumentException "read-only"
 * in JDK 25), also for an empty read-only segment (a JDK 25 probe), and testFillEmpty. */
static void test_fill_read_only_and_empty(void **state) {
    (void)state;
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    int64_t storage[4];
    for (int i = 0; i < N_FACTORIES; i++) {
        sj_segment s = factory(i, a, storage);
        sj_segment ro = sj_segment_readonly(&s);
        CHECK(SJ_E_READONLY, sj_fill_bytes(&ro, 0, (int64_t)sj_segment_size(&ro), 0xFF, &E));
    }
    int8_t none[1], two[2] = {0, 0};
    sj_segment empty = heap(SJ_HEAP_I8, none, 0);
    CHECK(SJ_OK, sj_fill_bytes(&empty, 0, 0, 0xFF, &E));
    sj_segment h2 = heap(SJ_HEAP_I8, two, 2);
    sj_segment e2 = slice(&h2, 0, 0);
    CHECK(SJ_OK, sj_fill_bytes(&e2, 0, 0, 0xFF, &E));
    assert_int_equal(two[0], 0);
    sj_segment n0 = alloc(a, 0, 1);
    CHECK(SJ_OK, sj_fill_bytes(&n0, 0, 0, 0xFF, &E));
    sj_segment ro0 = sj_segment_readonly(&n0);
    CHECK(SJ_E_READONLY, sj_fill_bytes(&ro0, 0, 0, 0xFF, &E));
    CHECK(SJ_OK, sj_arena_close(a, &E));
}

static void *fill_job(void *arg) {
    thread_job *j = arg;
    j->st = sj_fill_bytes(&j->seg, 0, (int64_t)sj_segment_size(&j->seg), 0xBA, NULL);
    return NULL;
}

/* TestSegments.testFillThread: filling from another thread fails only for confined
 * segments (heap segments are accessible from every thread). */
static void test_fill_thread(void **state) {
    (void)state;
    int64_t storage[4];
    for (int k = 0; k < 2; k++) {
        sj_arena a = open_arena(k == 0 ? SJ_ARENA_CONFINED : SJ_ARENA_SHARED);
        for (int i = 0; i < N_FACTORIES; i++) {
            thread_job j = {.seg = factory(i, a, storage)};
            on_other_thread(fill_job, &j);
            assert_int_equal(j.st, k == 0 && i >= 7 ? SJ_E_THREAD : SJ_OK);
        }
        CHECK(SJ_OK, sj_arena_close(a, &E));
    }
}

/* TestSegments.testVirtualizedBaseAddress: a heap segment's address is 0 and its end slice's
 * address is its size (the virtual address, whatever the array's real address). */
static void test_virtualized_base_address(void **state) {
    (void)state;
    static const sj_heap_kind kinds[7] = {SJ_HEAP_I8,  SJ_HEAP_U16, SJ_HEAP_I16, SJ_HEAP_I32,
                                          SJ_HEAP_F32, SJ_HEAP_I64, SJ_HEAP_F64};
    static const uint64_t factor[7] = {1, 2, 2, 4, 4, 8, 8};
    int64_t storage[10];
    for (int k = 0; k < 7; k++) {
        sj_segment s = heap(kinds[k], storage, 10);
        assert_int_equal(sj_segment_size(&s), 10 * factor[k]);
        assert_int_equal(sj_segment_address(&s), 0);
        sj_segment end = slice(&s, (int64_t)sj_segment_size(&s), 0);
        assert_int_equal(sj_segment_address(&end), sj_segment_size(&s));
        /* a JDK 25 probe: long[10].asSlice(80, 0).address() is 80 */
    }
}

/* ==== heap and native maximum alignment (MemorySegment.maxByteAlignment, JDK 25 probe) ==== */

/* long[10]: 8; sliced at 12: 4; at 16 and 80: 8; long[0]: 8; short[4] at 1: 1; char[]: 2;
 * byte[]: 1; float[]: 4; MemorySegment.NULL: 1L << 62; ofAddress(48): 16. */
static void test_max_byte_alignment(void **state) {
    (void)state;
    int64_t longs[10];
    sj_segment l = heap(SJ_HEAP_I64, longs, 10);
    assert_int_equal(sj_segment_max_align(&l), 8);
    sj_segment x = slice_to_end(&l, 12);
    assert_int_equal(sj_segment_max_align(&x), 4);
    x = slice_to_end(&l, 16);
    assert_int_equal(sj_segment_max_align(&x), 8);
    x = slice_to_end(&l, 80);
    assert_int_equal(sj_segment_max_align(&x), 8);
    x = heap(SJ_HEAP_I64, longs, 0);
    assert_int_equal(sj_segment_max_align(&x), 8);
    x = heap(SJ_HEAP_I16, longs, 4);
    x = slice_to_end(&x, 1);
    assert_int_equal(sj_segment_max_align(&x), 1);
    x = heap(SJ_HEAP_U16, longs, 4);
    assert_int_equal(sj_segment_max_align(&x), 2);
    x = heap(SJ_HEAP_I8, longs, 4);
    assert_int_equal(sj_segment_max_align(&x), 1);
    x = heap(SJ_HEAP_F32, longs, 4);
    assert_int_equal(sj_segment_max_align(&x), 4);
    CHECK(SJ_OK, sj_segment_native(NULL, 0, &x, &E));
    assert_int_equal(sj_segment_max_align(&x), UINT64_C(1) << 62);
    CHECK(SJ_OK, sj_segment_native((void *)(uintptr_t)48, 0, &x, &E));
    assert_int_equal(sj_segment_max_align(&x), 16);
}

/* ==== TestMemoryAccess ==== */

/* The element layouts of TestMemoryAccess's "elements": every carrier, big and little
 * endian (JAVA_BYTE has no order). */
static const char *const access_elems[] = {"b1", "S2", "C2", "I4", "J8", "F4", "D8",
                                           "b1", "s2", "c2", "i4", "j8", "f4", "d8"};
enum { N_ACCESS_ELEMS = sizeof access_elems / sizeof access_elems[0] };

/* A value access through `path` (NULL: the value layout itself) or an accessor on it. */
static sj_status do_set(const sj_segment *s, const sj_layout *root, const sj_path *p,
                        const sj_accessor *acc, const int64_t *ix, size_t n, sj_value v) {
    if (acc) return sj_accessor_set(acc, s, 0, ix, n, v, &E);
    if (p) return sj_set_path(s, p, 0, ix, n, v, &E);
    return sj_set(s, root, 0, v, &E);
}

static sj_status do_get(const sj_segment *s, const sj_layout *root, const sj_path *p,
                        const sj_accessor *acc, const int64_t *ix, size_t n, sj_value *v) {
    if (acc) return sj_accessor_get(acc, s, 0, ix, n, v, &E);
    if (p) return sj_get_path(s, p, 0, ix, n, v, &E);
    return sj_get(s, root, 0, v, &E);
}

/* testAccessInternal: set and get 42 (read-only: the write fails), then an empty slice past
 * the layout is out of bounds, then after close the arena is closed. `form` 0: sj_get/sj_set
 * or the path calls; 1: an accessor. */
static void access_internal(const sj_layout *root, const char *path, sj_kind kind, bool ro,
                            int form) {
    sj_path *p = path ? P(root, path) : NULL;
    sj_accessor *acc = form ? ACC(root, path) : NULL;
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    sj_segment s;
    CHECK(SJ_OK, sj_arena_allocate_layout(a, root, &s, &E));
    if (ro) s = sj_segment_readonly(&s);
    sj_value v = val_of(kind, 42), got;
    if (ro) {
        CHECK(SJ_E_READONLY, do_set(&s, root, p, acc, NULL, 0, v));
    } else {
        CHECK(SJ_OK, do_set(&s, root, p, acc, NULL, 0, v));
        CHECK(SJ_OK, do_get(&s, root, p, acc, NULL, 0, &got));
        assert_val(kind, got, 42);
        sj_segment past = slice(&s, (int64_t)sj_layout_size(root), 0);
        CHECK(SJ_E_BOUNDS, do_set(&past, root, p, acc, NULL, 0, v));
        CHECK(SJ_E_BOUNDS, do_get(&past, root, p, acc, NULL, 0, &got));
    }
    CHECK(SJ_OK, sj_arena_close(a, &E));
    if (!ro) {
        CHECK(SJ_E_CLOSED, do_set(&s, root, p, acc, NULL, 0, v));
        CHECK(SJ_E_CLOSED, do_get(&s, root, p, acc, NULL, 0, &got));
    }
    sj_accessor_free(acc);
    sj_path_free(p);
}

/* [x<size> elem(elem)]: the padded struct of testPaddedAccessByName */
static sj_layout *padded(const sj_layout *elem) {
    sj_layout *pad = NULL, *named = NULL, *st = NULL;
    CHECK(SJ_OK, sj_layout_padding((int64_t)sj_layout_size(elem), &pad, &E));
    CHECK(SJ_OK, sj_layout_with_name(elem, "elem", &named, &E));
    const sj_layout *m[2] = {pad, named};
    CHECK(SJ_OK, sj_layout_struct(m, 2, &st, &E));
    sj_layout_unref(pad);
    sj_layout_unref(named);
    return st;
}

static sj_layout *seq_of(int64_t n, const sj_layout *elem) {
    sj_layout *s = NULL;
    CHECK(SJ_OK, sj_layout_sequence(n, elem, &s, &E));
    return s;
}

static sj_layout *named(const sj_layout *l, const char *name) {
    sj_layout *r = NULL;
    CHECK(SJ_OK, sj_layout_with_name(l, name, &r, &E));
    return r;
}

/* TestMemoryAccess.testAccess, testPaddedAccessByName, testPaddedAccessByIndexSeq */
static void test_memory_access(void **state) {
    (void)state;
    for (int e = 0; e < N_ACCESS_ELEMS; e++) {
        sj_layout *elem = L(access_elems[e]);
        sj_kind kind = sj_layout_kind(elem);
        sj_layout *el = named(elem, "elem"), *pad = padded(elem), *seq2 = seq_of(2, elem);
        for (int ro = 0; ro < 2; ro++) {
            for (int form = 0; form < 2; form++) {
                access_internal(el, NULL, kind, ro, form);
                access_internal(pad, "elem", kind, ro, form);
                access_internal(seq2, "[1]", kind, ro, form);
            }
        }
        sj_layout_unref(el);
        sj_layout_unref(pad);
        sj_layout_unref(seq2);
        sj_layout_unref(elem);
    }
}

/* testArrayAccessInternal / testMatrixAccessInternal: every element set and read back
 * (read-only: the first write fails), then the index one past the end is out of bounds,
 * then after close the arena is closed. `alloc_root` is what is allocated, `root` and `path`
 * what is accessed (the open-record forms run over a bare element or row). */
static void array_internal(const sj_layout *alloc_root, const sj_layout *root, const char *path,
                           sj_kind kind, int64_t n0, int64_t n1, bool ro, int form) {
    sj_path *p = form == 0 ? P(root, path) : NULL;
    sj_accessor *acc = form == 1 ? ACC(root, path) : NULL;
    size_t n = n1 ? 2 : 1;
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    sj_segment s;
    CHECK(SJ_OK, sj_arena_allocate_layout(a, alloc_root, &s, &E));
    if (ro) s = sj_segment_readonly(&s);
    sj_value got;
    if (ro) {
        int64_t ix[2] = {0, 0};
        CHECK(SJ_E_READONLY, do_set(&s, root, p, acc, ix, n, val_of(kind, 1)));
        CHECK(SJ_OK, sj_arena_close(a, &E));
        sj_accessor_free(acc);
        sj_path_free(p);
        return;
    }
    for (int64_t i = 0; i < n0; i++) {
        for (int64_t j = 0; j < (n1 ? n1 : 1); j++) {
            int64_t ix[2] = {i, j};
            int x = (int)(i * 10 + j) % 100 + 1;
            CHECK(SJ_OK, do_set(&s, root, p, acc, ix, n, val_of(kind, x)));
            CHECK(SJ_OK, do_get(&s, root, p, acc, ix, n, &got));
            assert_val(kind, got, x);
        }
    }
    int64_t past[2] = {n0, n1};
    CHECK(SJ_E_BOUNDS, do_set(&s, root, p, acc, past, n, val_of(kind, 1)));
    CHECK(SJ_E_BOUNDS, do_get(&s, root, p, acc, past, n, &got));
    CHECK(SJ_OK, sj_arena_close(a, &E));
    int64_t zero[2] = {0, 0};
    CHECK(SJ_E_CLOSED, do_set(&s, root, p, acc, zero, n, val_of(kind, 1)));
    CHECK(SJ_E_CLOSED, do_get(&s, root, p, acc, zero, n, &got));
    sj_accessor_free(acc);
    sj_path_free(p);
}

/* TestMemoryAccess.testArrayAccess, testArrayAccessAlt (arrayElementVarHandle: open records
 * over the bare element), testPaddedArrayAccessByName, testPaddedArrayAccessByIndexSeq */
static void test_array_access(void **state) {
    (void)state;
    for (int e = 0; e < N_ACCESS_ELEMS; e++) {
        sj_layout *elem = L(access_elems[e]);
        sj_kind kind = sj_layout_kind(elem);
        sj_layout *el = named(elem, "elem"), *seq = seq_of(10, el);
        sj_layout *pad = padded(elem), *pseq = seq_of(10, pad);
        sj_layout *two = seq_of(2, elem), *tseq = seq_of(10, two);
        for (int ro = 0; ro < 2; ro++) {
            for (int form = 0; form < 2; form++) {
                array_internal(seq, seq, "[*]", kind, 10, 0, ro, form);
                array_internal(pseq, pseq, "[*].elem", kind, 10, 0, ro, form);
                array_internal(tseq, tseq, "[*][1]", kind, 10, 0, ro, form);
            }
            array_internal(seq, elem, "[*]", kind, 10, 0, ro, 1);
        }
        sj_layout_unref(tseq);
        sj_layout_unref(two);
        sj_layout_unref(pseq);
        sj_layout_unref(pad);
        sj_layout_unref(seq);
        sj_layout_unref(el);
        sj_layout_unref(elem);
    }
}

/* TestMemoryAccess.testMatrixAccess, testMatrixAccessAlt (arrayElementVarHandle(10): open
 * records of rows), testPaddedMatrixAccessByName, testPaddedMatrixAccessByIndexSeq */
static void test_matrix_access(void **state) {
    (void)state;
    for (int e = 0; e < N_ACCESS_ELEMS; e++) {
        sj_layout *elem = L(access_elems[e]);
        sj_kind kind = sj_layout_kind(elem);
        sj_layout *el = named(elem, "elem"), *row = seq_of(10, el), *m = seq_of(20, row);
        /* rows as open records: the JDK's `[*:[10:elem]]` (a bare row root is a sequence) */
        sj_layout *orow = seq_of(INT64_MAX / (int64_t)sj_layout_size(row), row);
        sj_layout *pad = padded(elem), *prow = seq_of(10, pad), *pm = seq_of(20, prow);
        sj_layout *two = seq_of(2, elem), *trow = seq_of(10, two), *tm = seq_of(20, trow);
        for (int ro = 0; ro < 2; ro++) {
            for (int form = 0; form < 2; form++) {
                array_internal(m, m, "[*][*]", kind, 20, 10, ro, form);
                array_internal(pm, pm, "[*][*].elem", kind, 20, 10, ro, form);
                array_internal(tm, tm, "[*][*][1]", kind, 20, 10, ro, form);
            }
            array_internal(m, orow, "[*][*]", kind, 20, 10, ro, 1);
        }
        sj_layout_unref(tm);
        sj_layout_unref(trow);
        sj_layout_unref(two);
        sj_layout_unref(pm);
        sj_layout_unref(prow);
        sj_layout_unref(pad);
        sj_layout_unref(m);
        sj_layout_unref(orow);
        sj_layout_unref(row);
        sj_layout_unref(el);
        sj_layout_unref(elem);
    }
}

/* ==== TestMemoryAccessInstance ==== */

/* testSegmentAccess: each carrier in native order set at offset 8 of 128 bytes lands as the
 * C value's bytes, and bytes written there read back as the value (ByteBuffer side: raw
 * memory). Both sj_get/sj_set and the typed accessors. */
static void test_instance_access(void **state) {
    (void)state;
    static const char *const kinds[] = {"b1", "z1", "c2", "s2", "i4", "f4", "j8", "d8", "a8"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        sj_layout *l = L(kinds[k]);
        sj_kind kind = sj_layout_kind(l);
        unsigned size = sj_kind_size(kind);
        sj_arena a = open_arena(SJ_ARENA_CONFINED);
        sj_segment s = alloc(a, 128, 1);
        sj_value v = val_of(kind, kind == SJ_BOOL ? 1 : 42), got;
        CHECK(SJ_OK, sj_set(&s, l, 8, v, &E));
        assert_memory_equal(s.base + 8, &v, size);
        memset(s.base + 8, 0, size);
        memcpy(s.base + 8, &v, size);
        CHECK(SJ_OK, sj_get(&s, l, 8, &got, &E));
        assert_val(kind, got, kind == SJ_BOOL ? 1 : 42);
        sj_accessor *acc = ACC(l, NULL);
        memset(&got, 0, sizeof got);
        CHECK(SJ_OK, sj_accessor_get(acc, &s, 8, NULL, 0, &got, &E));
        assert_val(kind, got, kind == SJ_BOOL ? 1 : 42);
        sj_accessor_free(acc);
        CHECK(SJ_OK, sj_arena_close(a, &E));
        sj_layout_unref(l);
    }
    /* the JAVA_BOOLEAN case with false */
    sj_layout *z1 = L("z1");
    sj_segment s = alloc(sj_arena_global(), 16, 1);
    sj_value f = val_of(SJ_BOOL, 0), got;
    CHECK(SJ_OK, sj_set(&s, z1, 8, f, &E));
    assert_int_equal(s.base[8], 0);
    CHECK(SJ_OK, sj_get(&s, z1, 8, &got, &E));
    assert_false(got.z);
    /* a JDK 25 probe: JAVA_BOOLEAN reads any nonzero byte (2, 0x80, 0xFE) as true */
    static const uint8_t nonzero[3] = {2, 0x80, 0xFE};
    for (int i = 0; i < 3; i++) {
        s.base[8] = nonzero[i];
        CHECK(SJ_OK, sj_get(&s, z1, 8, &got, &E));
        assert_true(got.z);
    }
    sj_layout_unref(z1);
}

/* testSegmentAccessHyper: getAtIndex/setAtIndex with a layout aligned to twice its size
 * is IllegalArgumentException ("greater"): open records of such a layout are refused. */
static void test_instance_hyper_aligned(void **state) {
    (void)state;
    static const char *const hyper[] = {"2%b1", "2%z1",  "4%c2",  "4%s2", "8%i4",
                                        "8%f4", "16%j8", "16%d8", "16%a8"};
    for (size_t k = 0; k < sizeof hyper / sizeof hyper[0]; k++) {
        sj_layout *l = L(hyper[k]);
        sj_accessor *acc = NULL;
        CHECK(SJ_E_ARG, sj_accessor_new(l, "[*]", &acc, &E));
        assert_null(acc);
        sj_layout_unref(l);
    }
}

/* badAccessOverflowInIndexedAccess: byte[100], index Long.MAX_VALUE of an element of more
 * than one byte is IndexOutOfBoundsException (also the plain offset Long.MAX_VALUE). */
static void test_instance_overflow_in_indexed_access(void **state) {
    (void)state;
    static const char *const kinds[] = {"c2", "s2", "i4", "f4", "j8", "d8", "a8"};
    int8_t bytes[100];
    memset(bytes, 0, sizeof bytes);
    sj_segment s = heap(SJ_HEAP_I8, bytes, 100);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        sj_layout *l = L(kinds[k]);
        sj_kind kind = sj_layout_kind(l);
        sj_accessor *acc = ACC(l, "[*]");
        int64_t ix = INT64_MAX;
        sj_value v = val_of(kind, 42);
        CHECK(SJ_E_BOUNDS, sj_accessor_get(acc, &s, 0, &ix, 1, &v, &E));
        CHECK(SJ_E_BOUNDS, sj_accessor_set(acc, &s, 0, &ix, 1, v, &E));
        CHECK(SJ_E_BOUNDS, sj_get(&s, l, INT64_MAX, &v, &E));
        CHECK(SJ_E_BOUNDS, sj_set(&s, l, INT64_MAX, v, &E));
        sj_accessor_free(acc);
        sj_layout_unref(l);
    }
}

/* ==== TestMemoryAlignment ==== */

/* testAlignedAccess: I4 aligned to 2^1 .. 2^19, allocated by its layout, set -42 get -42. */
static void test_aligned_access(void **state) {
    (void)state;
    for (int v = 1; v < 20; v++) {
        char text[32];
        snprintf(text, sizeof text, "%ld%%I4", 1L << v);
        sj_layout *l = L(text);
        assert_int_equal(sj_layout_align(l), (uint64_t)1 << v);
        sj_arena a = open_arena(SJ_ARENA_CONFINED);
        sj_segment s;
        CHECK(SJ_OK, sj_arena_allocate_layout(a, l, &s, &E));
        assert_int_equal(sj_segment_address(&s) % ((uint64_t)1 << v), 0);
        sj_value x = {.i32 = -42}, got;
        CHECK(SJ_OK, sj_set(&s, l, 0, x, &E));
        CHECK(SJ_OK, sj_get(&s, l, 0, &got, &E));
        assert_int_equal(got.i32, -42);
        assert_int_equal(s.base[3], (uint8_t)-42); /* big endian */
        CHECK(SJ_OK, sj_arena_close(a, &E));
        sj_layout_unref(l);
    }
}

/* testUnalignedAccess: an aligned I4 written one byte into an allocation fails alignment
 * for every alignment of 2 or more. */
static void test_unaligned_access(void **state) {
    (void)state;
    for (int v = 1; v < 20; v++) {
        char text[32];
        snprintf(text, sizeof text, "%ld%%I4", 1L << v);
        sj_layout *l = L(text);
        sj_arena a = open_arena(SJ_ARENA_CONFINED);
        sj_segment s = alloc(a, 8, (int64_t)1 << v);
        sj_segment at1 = slice_to_end(&s, 1);
        sj_value x = {.i32 = -42};
        CHECK(SJ_E_ALIGN, sj_set(&at1, l, 0, x, &E));
        CHECK(SJ_OK, sj_arena_close(a, &E));
        sj_layout_unref(l);
    }
}

/* testUnalignedPath: [x1 A%I4(value)] is refused at construction unless A is 1, and then
 * the path to `value` works. */
static void test_unaligned_path(void **state) {
    (void)state;
    for (int v = 0; v < 20; v++) {
        char text[40];
        snprintf(text, sizeof text, "[x1%ld%%I4(value)]", 1L << v);
        sj_layout *l = NULL;
        if (v == 0) {
            CHECK(SJ_OK, sj_layout_parse(text, &l, &E));
            sj_path *p = P(l, "value");
            sj_segment s = alloc(sj_arena_global(), 5, 1);
            sj_value x = {.i32 = -42}, got;
            CHECK(SJ_OK, sj_set_path(&s, p, 0, NULL, 0, x, &E));
            CHECK(SJ_OK, sj_get_path(&s, p, 0, NULL, 0, &got, &E));
            assert_int_equal(got.i32, -42);
            sj_path_free(p);
            sj_layout_unref(l);
        } else {
            const sj_layout *m[2];
            sj_layout *pad = L("x1"), *val = NULL;
            snprintf(text, sizeof text, "%ld%%I4(value)", 1L << v);
            val = L(text);
            m[0] = pad;
            m[1] = val;
            CHECK(SJ_E_ARG, sj_layout_struct(m, 2, &l, &E));
            sj_layout_unref(pad);
            sj_layout_unref(val);
        }
    }
}

/* testUnalignedSequence: [5:A%I4] is refused when A > 4; otherwise all five elements are
 * written through `[*]`. */
static void test_unaligned_sequence(void **state) {
    (void)state;
    for (int v = 1; v < 20; v++) {
        char text[40];
        snprintf(text, sizeof text, "%ld%%I4", 1L << v);
        sj_layout *el = L(text), *seq = NULL;
        sj_status st = sj_layout_sequence(5, el, &seq, &E);
        if ((1L << v) > 4) {
            assert_int_equal(st, SJ_E_ARG);
        } else {
            assert_int_equal(st, SJ_OK);
            sj_path *p = P(seq, "[*]");
            sj_arena a = open_arena(SJ_ARENA_CONFINED);
            sj_segment s;
            CHECK(SJ_OK, sj_arena_allocate_layout(a, seq, &s, &E));
            for (int64_t i = 0; i < 5; i++)
                CHECK(SJ_OK, sj_set_path(&s, p, 0, &i, 1, (sj_value){.i32 = -42}, &E));
            CHECK(SJ_OK, sj_arena_close(a, &E));
            sj_path_free(p);
            sj_layout_unref(seq);
        }
        sj_layout_unref(el);
    }
}

/* testPackedAccess: [1%b1(a) 1%S2(b) 1%I4(c)] has alignment 1; the minimum values round trip
 * through each member's path. */
static void test_packed_access(void **state) {
    (void)state;
    sj_layout *g = L("[1%b1(a)1%S2(b)1%I4(c)]");
    assert_int_equal(sj_layout_align(g), 1);
    sj_path *pa = P(g, "a"), *pb = P(g, "b"), *pc = P(g, "c");
    sj_arena ar = open_arena(SJ_ARENA_CONFINED);
    sj_segment s;
    CHECK(SJ_OK, sj_arena_allocate_layout(ar, g, &s, &E));
    sj_value got;
    CHECK(SJ_OK, sj_set_path(&s, pa, 0, NULL, 0, (sj_value){.i8 = INT8_MIN}, &E));
    CHECK(SJ_OK, sj_get_path(&s, pa, 0, NULL, 0, &got, &E));
    assert_int_equal(got.i8, INT8_MIN);
    CHECK(SJ_OK, sj_set_path(&s, pb, 0, NULL, 0, (sj_value){.i16 = INT16_MIN}, &E));
    CHECK(SJ_OK, sj_get_path(&s, pb, 0, NULL, 0, &got, &E));
    assert_int_equal(got.i16, INT16_MIN);
    CHECK(SJ_OK, sj_set_path(&s, pc, 0, NULL, 0, (sj_value){.i32 = INT32_MIN}, &E));
    CHECK(SJ_OK, sj_get_path(&s, pc, 0, NULL, 0, &got, &E));
    assert_int_equal(got.i32, INT32_MIN);
    /* unaligned in the segment, too: the packed record at an odd offset */
    sj_segment big = alloc(ar, 16, 16), odd = slice(&big, 1, 7);
    CHECK(SJ_OK, sj_set_path(&odd, pc, 0, NULL, 0, (sj_value){.i32 = INT32_MIN}, &E));
    CHECK(SJ_OK, sj_arena_close(ar, &E));
    sj_path_free(pa);
    sj_path_free(pb);
    sj_path_free(pc);
    sj_layout_unref(g);
}

/* ==== TestHeapAlignment ==== */

/* testHeapAlignment: on 8-byte heap segments of every array kind (and a native one, which
 * never fails), get/set of each value layout at 0, the same through `[*]` of [1:L], and
 * element copies to and from a segment over an array of the layout's own kind: alignment
 * fails (IllegalArgumentException "alignment", SJ_E_ALIGN) exactly when the layout's
 * alignment exceeds the array's element size. The array storage is deliberately placed at
 * an address 4 mod 8: rule 3.3 never looks at the real address. */
static void test_heap_alignment(void **state) {
    (void)state;
    static const sj_heap_kind seg_kinds[7] = {SJ_HEAP_I8,  SJ_HEAP_I16, SJ_HEAP_U16, SJ_HEAP_I32,
                                              SJ_HEAP_F32, SJ_HEAP_I64, SJ_HEAP_F64};
    static const int64_t seg_align[8] = {1, 2, 2, 4, 4, 8, 8, -1};
    static const char *const layouts[9] = {"b1", "z1", "c2", "s2", "i4", "f4", "j8", "d8", "a8"};
    /* the array kind MemorySegment.copy(array, ...) uses for each layout; -1: none */
    static const int arr_kind[9] = {SJ_HEAP_I8,  -1,          SJ_HEAP_U16, SJ_HEAP_I16, SJ_HEAP_I32,
                                    SJ_HEAP_F32, SJ_HEAP_I64, SJ_HEAP_F64, -1};
    _Alignas(16) static uint8_t storage[32], other[32];
    sj_segment native = alloc(sj_arena_global(), 8, 1);
    for (int k = 0; k < 8; k++) {
        sj_segment seg = k < 7 ? heap(seg_kinds[k], storage + 4, 8 / seg_align[k]) : native;
        assert_int_equal(sj_segment_size(&seg), 8);
        for (int li = 0; li < 9; li++) {
            sj_layout *l = L(layouts[li]);
            sj_kind kind = sj_layout_kind(l);
            bool fail = seg_align[k] != -1 && (int64_t)sj_layout_align(l) > seg_align[k];
            sj_status want = fail ? SJ_E_ALIGN : SJ_OK;
            sj_value v = val_of(kind, 42);
            CHECK(want, sj_get(&seg, l, 0, &v, &E));
            if (fail) CHECK_MSG("aligned");
            CHECK(want, sj_set(&seg, l, 0, v, &E));
            sj_layout *seq = seq_of(1, l);
            sj_path *p = P(seq, "[*]");
            int64_t zero = 0;
            CHECK(want, sj_get_path(&seg, p, 0, &zero, 1, &v, &E));
            CHECK(want, sj_set_path(&seg, p, 0, &zero, 1, v, &E));
            if (arr_kind[li] >= 0) {
                sj_segment arr = heap((sj_heap_kind)arr_kind[li], other + 4, 1);
                CHECK(want, sj_copy(&arr, l, 0, &seg, l, 0, 1, &E));
                CHECK(want, sj_copy(&seg, l, 0, &arr, l, 0, 1, &E));
            }
            sj_path_free(p);
            sj_layout_unref(seq);
            sj_layout_unref(l);
        }
    }
}

/* A JDK 25 probe next to TestHeapAlignment: alignment is checked for a copy of zero
 * elements too (int[] source, JAVA_LONG: "Source segment incompatible with alignment"). */
static void test_heap_alignment_zero_count_copy(void **state) {
    (void)state;
    int32_t ints[2] = {0, 0};
    sj_segment src = heap(SJ_HEAP_I32, ints, 2);
    sj_segment dst = alloc(sj_arena_global(), 16, 16);
    sj_layout *j8 = L("j8");
    CHECK(SJ_E_ALIGN, sj_copy(&src, j8, 0, &dst, j8, 0, 1, &E));
    CHECK(SJ_E_ALIGN, sj_copy(&src, j8, 0, &dst, j8, 0, 0, &E));
    int64_t longs[1] = {0};
    sj_segment l = heap(SJ_HEAP_I64, longs, 1);
    sj_value v;
    sj_layout *i4 = L("i4");
    CHECK(SJ_OK, sj_get(&l, i4, 4, &v, &E)); /* long[] get JAVA_INT at 4 */
    sj_layout_unref(i4);
    sj_layout *a16 = L("16%j8");
    CHECK(SJ_E_ALIGN, sj_get(&l, a16, 0, &v, &E)); /* long[] get 16%j8 */
    int8_t bytes[16];
    sj_segment b = heap(SJ_HEAP_I8, bytes, 16);
    sj_layout *u8 = L("1%j8");
    CHECK(SJ_OK, sj_get(&b, u8, 3, &v, &E)); /* byte[] get JAVA_LONG_UNALIGNED at 3 */
    sj_layout_unref(u8);
    sj_layout_unref(a16);
    sj_layout_unref(j8);
}

/* ==== TestSegmentOffset ==== */

typedef struct seg_slice {
    int kind; /* 0 native, 1 heap byte[] */
    int first, last;
    sj_segment seg;
} seg_slice;

/* testOffset: for every pair of slices (sizes 16, 8, 4, 2, 1) of a 16-byte root holding
 * 0..15: a slice containing another sees its bytes at the address difference; for disjoint
 * slices that offset is out of bounds. */
static void test_segment_offset(void **state) {
    (void)state;
    sj_layout *b1 = L("b1");
    static int8_t array[16];
    seg_slice slices[2 * 31];
    int n = 0;
    for (int kind = 0; kind < 2; kind++) {
        sj_segment root = kind == 0 ? alloc(sj_arena_global(), 16, 1) : heap(SJ_HEAP_I8, array, 16);
        for (int i = 0; i < 16; i++)
            CHECK(SJ_OK, sj_set(&root, b1, i, val_of(SJ_I8, i), &E));
        static const int sizes[5] = {16, 8, 4, 2, 1};
        for (int z = 0; z < 5; z++) {
            for (int at = 0; at < 16; at += sizes[z]) {
                slices[n].kind = kind;
                slices[n].first = at;
                slices[n].last = at + sizes[z] - 1;
                slices[n].seg = slice(&root, at, sizes[z]);
                n++;
            }
        }
    }
    for (int x = 0; x < n; x++) {
        for (int y = 0; y < n; y++) {
            seg_slice *s1 = &slices[x], *s2 = &slices[y];
            if (s1->kind != s2->kind) continue;
            bool contains = s1->first <= s2->first && s1->last >= s2->last;
            bool contained = s2->first <= s1->first && s2->last >= s1->last;
            int64_t offset = (int64_t)(sj_segment_address(&s2->seg) - sj_segment_address(&s1->seg));
            for (int i = 0; i <= s2->last - s2->first; i++) {
                sj_value want, got;
                CHECK(SJ_OK, sj_get(&s2->seg, b1, i, &want, &E));
                if (contains) {
                    CHECK(SJ_OK, sj_get(&s1->seg, b1, i + offset, &got, &E));
                    assert_int_equal(got.i8, want.i8);
                } else if (!contained) {
                    CHECK(SJ_E_BOUNDS, sj_get(&s1->seg, b1, i + offset, &got, &E));
                }
            }
        }
    }
    sj_layout_unref(b1);
}

/* ==== TestSegmentOverlap ==== */

static char overlap_file[64];

/* The factories of TestSegmentOverlap: native 16 bytes, a 16-byte file mapped read-write,
 * and the seven array kinds of four elements (fresh storage on every call). */
enum { N_OVERLAP_FACTORIES = 9 };
static sj_segment overlap_factory(int i, int64_t storage[4]) {
    memset(storage, 0, 4 * sizeof(int64_t));
    if (i == 0) return alloc(sj_arena_global(), 16, 1);
    if (i == 1) {
        sj_segment s;
        CHECK(SJ_OK, sj_arena_map_file(sj_arena_global(), overlap_file, 0, 16, true, &s, &E));
        return s;
    }
    return heap(factory_kinds[i - 2], storage, 4);
}

static int overlap_setup(void **state) {
    (void)state;
    snprintf(overlap_file, sizeof overlap_file, "/tmp/sj-jdk-overlap-%ld", (long)getpid());
    FILE *f = fopen(overlap_file, "wb");
    if (!f) return -1;
    char zero[16] = {0};
    size_t w = fwrite(zero, 1, sizeof zero, f);
    fclose(f);
    return w == sizeof zero ? 0 : -1;
}

static int overlap_teardown(void **state) {
    (void)state;
    unlink(overlap_file);
    return 0;
}

/* testBasic: two segments from the same factory, and a segment of the other kind (heap for
 * native, native for heap), do not overlap. */
static void test_overlap_basic(void **state) {
    (void)state;
    int64_t st1[4], st2[4];
    int8_t other_heap[1] = {16};
    for (int i = 0; i < N_OVERLAP_FACTORIES; i++) {
        sj_segment s1 = overlap_factory(i, st1), s2 = overlap_factory(i, st2), out;
        sj_segment other = sj_segment_is_native(&s1) ? heap(SJ_HEAP_I8, other_heap, 1)
                                                     : alloc(sj_arena_global(), 16, 1);
        assert_false(sj_segment_overlap(&s1, &s2, &out));
        assert_false(sj_segment_overlap(&s2, &s1, &out));
        assert_false(sj_segment_overlap(&s1, &other, &out));
    }
}

/* testIdentical: a segment and its read-only view overlap entirely; the slice is of the
 * receiver (same lifetime, same address). */
static void test_overlap_identical(void **state) {
    (void)state;
    int64_t st[4];
    for (int i = 0; i < N_OVERLAP_FACTORIES; i++) {
        sj_segment s1 = overlap_factory(i, st), s2 = sj_segment_readonly(&s1), out;
        assert_true(sj_segment_overlap(&s1, &s2, &out));
        assert_int_equal(sj_segment_size(&out), sj_segment_size(&s1));
        assert_int_equal(out.arena.key, s1.arena.key);
        assert_false(sj_segment_is_readonly(&out));
        assert_true(sj_segment_overlap(&s2, &s1, &out));
        assert_int_equal(sj_segment_size(&out), sj_segment_size(&s2));
        assert_true(sj_segment_is_readonly(&out)); /* a probe: a slice of the read-only one */
        if (sj_segment_is_native(&s1)) {
            assert_true(sj_segment_overlap(&s1, &s2, &out));
            assert_int_equal(sj_segment_address(&out), sj_segment_address(&s1));
            assert_true(sj_segment_overlap(&s2, &s1, &out));
            assert_int_equal(sj_segment_address(&out), sj_segment_address(&s2));
        }
    }
}

/* testSlices: a segment and its tail slice at 0..3 overlap by the slice; a second segment of
 * the same factory overlaps neither. */
static void test_overlap_slices(void **state) {
    (void)state;
    int64_t st1[4], st2[4];
    for (int i = 0; i < N_OVERLAP_FACTORIES; i++) {
        sj_segment s1 = overlap_factory(i, st1), s2 = overlap_factory(i, st2), out;
        for (int off = 0; off < 4; off++) {
            sj_segment sl = slice_to_end(&s1, off);
            assert_true(sj_segment_overlap(&s1, &sl, &out));
            assert_int_equal(sj_segment_size(&out), sj_segment_size(&s1) - (uint64_t)off);
            assert_int_equal(out.arena.key, s1.arena.key);
            if (sj_segment_is_native(&s1))
                assert_int_equal(sj_segment_address(&out), sj_segment_address(&s1) + off);
            else
                assert_int_equal(sj_segment_address(&out), (uint64_t)off);
            assert_true(sj_segment_overlap(&sl, &s1, &out));
            assert_int_equal(sj_segment_size(&out), sj_segment_size(&sl));
            assert_int_equal(sj_segment_address(&out), sj_segment_address(&sl));
            assert_false(sj_segment_overlap(&s2, &sl, &out));
        }
    }
}

/* JDK 25 probes around TestSegmentOverlap: a inside b (the slice is all of a), a partial
 * overlap, adjacent segments (no overlap), two heap segments over the same array (overlap
 * at the virtual address), and over different arrays (none). */
static void test_overlap_more(void **state) {
    (void)state;
    sj_segment n = alloc(sj_arena_global(), 16, 1), out;
    sj_segment in = slice(&n, 4, 4);
    assert_true(sj_segment_overlap(&in, &n, &out));
    assert_int_equal(sj_segment_size(&out), 4);
    assert_int_equal(sj_segment_address(&out), sj_segment_address(&in));
    sj_segment lo = slice(&n, 0, 8), hi = slice(&n, 4, 8);
    assert_true(sj_segment_overlap(&lo, &hi, &out));
    assert_int_equal(sj_segment_size(&out), 4);
    assert_int_equal(sj_segment_address(&out), sj_segment_address(&n) + 4);
    sj_segment a0 = slice(&n, 0, 4), a1 = slice(&n, 4, 4);
    assert_false(sj_segment_overlap(&a0, &a1, &out));
    assert_false(sj_segment_overlap(&a1, &a0, &out));
    int8_t arr[16], arr2[16];
    sj_segment h1 = heap(SJ_HEAP_I8, arr, 16), h2 = heap(SJ_HEAP_I8, arr, 16);
    sj_segment h2s = slice_to_end(&h2, 2);
    assert_true(sj_segment_overlap(&h1, &h2s, &out));
    assert_int_equal(sj_segment_size(&out), 14);
    assert_int_equal(sj_segment_address(&out), 2);
    sj_segment h3 = heap(SJ_HEAP_I8, arr2, 16);
    assert_false(sj_segment_overlap(&h1, &h3, &out));
}

/* ==== TestMemorySession / arena lifetimes ==== */

static void *close_job(void *arg) {
    thread_job *j = arg;
    j->st = sj_arena_close(j->arena, NULL);
    return NULL;
}

static void *alloc_job(void *arg) {
    thread_job *j = arg;
    sj_segment s;
    j->st = sj_arena_allocate(j->arena, 8, 8, &s, NULL);
    j->st2 = sj_arena_allocate(j->arena, -1, 8, &s, NULL);
    return NULL;
}

/* testCloseEmptyConfinedSession / SharedSession, closing twice (IllegalStateException
 * "Already closed"), testNonCloseableSessions (the global arena: Unsupported...),
 * testCloseConfinedLock's WrongThreadException for a confined close from another thread,
 * and (JDK 25 probes) allocation from another thread of a confined arena: WrongThread, after
 * the size check; a shared arena closes from any thread. */
static void test_arena_close(void **state) {
    (void)state;
    sj_arena c = open_arena(SJ_ARENA_CONFINED), s = open_arena(SJ_ARENA_SHARED);
    CHECK(SJ_OK, sj_arena_close(c, &E));
    CHECK(SJ_OK, sj_arena_close(s, &E));
    CHECK(SJ_E_CLOSED, sj_arena_close(c, &E));
    CHECK(SJ_E_CLOSED, sj_arena_close(s, &E));
    CHECK(SJ_E_UNSUPPORTED, sj_arena_close(sj_arena_global(), &E));

    thread_job j = {.arena = open_arena(SJ_ARENA_CONFINED)};
    on_other_thread(alloc_job, &j);
    assert_int_equal(j.st, SJ_E_THREAD);
    assert_int_equal(j.st2, SJ_E_ARG);
    on_other_thread(close_job, &j);
    assert_int_equal(j.st, SJ_E_THREAD);
    assert_true(sj_arena_is_alive(j.arena));
    CHECK(SJ_OK, sj_arena_close(j.arena, &E));

    thread_job k = {.arena = open_arena(SJ_ARENA_SHARED)};
    on_other_thread(alloc_job, &k);
    assert_int_equal(k.st, SJ_OK);
    on_other_thread(close_job, &k);
    assert_int_equal(k.st, SJ_OK);
    assert_false(sj_arena_is_alive(k.arena));
}

/* testLockSingleThread / testSessionAcquires: while something holds an arena (here a view)
 * it does not close (SJ_E_BUSY, SEMANTICS 3.7's choice for the JDK's IllegalStateException)
 * and stays usable; once released it closes. */
static void test_arena_held_open(void **state) {
    (void)state;
    sj_layout *i4 = L("i4");
    for (int k = 0; k < 2; k++) {
        sj_arena a = open_arena(k ? SJ_ARENA_SHARED : SJ_ARENA_CONFINED);
        sj_segment s = alloc(a, 16, 8);
        sj_view v[5];
        for (int i = 0; i < 5; i++)
            CHECK(SJ_OK, sj_view_open(&s, 0, -1, SJ_VIEW_READ, &v[i], &E));
        for (int i = 0; i < 5; i++) {
            CHECK(SJ_E_BUSY, sj_arena_close(a, &E));
            assert_true(sj_arena_is_alive(a));
            CHECK(SJ_OK, sj_set(&s, i4, 0, (sj_value){.i32 = i}, &E));
            CHECK(SJ_OK, sj_view_close(&v[i], &E));
        }
        CHECK(SJ_OK, sj_arena_close(a, &E));
        sj_value got;
        CHECK(SJ_E_CLOSED, sj_get(&s, i4, 0, &got, &E));
    }
    sj_layout_unref(i4);
}

/* ==== TestScope ==== */

/* testZeroedOfConfined / OfShared / Global: 8102 bytes aligned to 8 match a zeroed array. */
static void test_zeroed(void **state) {
    (void)state;
    static int8_t zeroes[8102];
    sj_segment z = heap(SJ_HEAP_I8, zeroes, 8102);
    for (int k = 0; k < 3; k++) {
        sj_arena a =
            k == 2 ? sj_arena_global() : open_arena(k == 0 ? SJ_ARENA_CONFINED : SJ_ARENA_SHARED);
        /* dirty memory a later allocation may get back */
        sj_segment d = alloc(a, 8102, 8);
        memset(d.base, 0x5A, 8102);
        sj_segment s = alloc(a, 8102, 8);
        assert_int_equal(sj_segment_address(&s) % 8, 0);
        int64_t mm = 0;
        CHECK(SJ_OK, sj_mismatch(&z, 0, 8102, &s, 0, 8102, &mm, &E));
        assert_int_equal(mm, -1);
        if (k < 2) CHECK(SJ_OK, sj_arena_close(a, &E));
    }
}

/* ==== check order (SEMANTICS 4.1), as JDK 25 answers it (probes) ==== */

/* Plain access: read-only before bounds and alignment; bounds before alignment; all of them
 * before the arena's state. */
static void test_check_order_plain(void **state) {
    (void)state;
    sj_layout *i4 = L("i4");
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    sj_segment s = alloc(a, 16, 16), ro = sj_segment_readonly(&s);
    sj_value v = {.i32 = 1};
    CHECK(SJ_E_READONLY, sj_set(&ro, i4, 14, v, &E)); /* "Attempt to write a read-only" */
    CHECK(SJ_E_READONLY, sj_set(&ro, i4, 1, v, &E));
    CHECK(SJ_E_READONLY, sj_set(&ro, i4, -1, v, &E));
    CHECK(SJ_E_BOUNDS, sj_set(&s, i4, 13, v, &E)); /* out of bounds and misaligned */
    CHECK(SJ_OK, sj_arena_close(a, &E));
    CHECK(SJ_E_BOUNDS, sj_get(&s, i4, 14, &v, &E));
    CHECK(SJ_E_ALIGN, sj_get(&s, i4, 1, &v, &E));
    CHECK(SJ_E_CLOSED, sj_get(&s, i4, 0, &v, &E));
    CHECK(SJ_E_READONLY, sj_set(&ro, i4, 0, v, &E));
    sj_layout_unref(i4);
}

/* Path access ([2:i4] by `[*]` and `[1]`, [i4(a)i4(b)j8(c)] by `a`): free indices first, then
 * the root layout at the base: read-only, bounds (of the whole root, even where the leaf
 * would fit), alignment (of the root, even where the leaf is aligned), closed. Also the
 * accessor form of each. */
static void test_check_order_path(void **state) {
    (void)state;
    sj_layout *sq = L("[2:i4]"), *st = L("[i4(a)i4(b)j8(c)]");
    sj_path *open = P(sq, "[*]"), *fixed = P(sq, "[1]"), *pa = P(st, "a");
    sj_accessor *aopen = ACC(sq, "[*]"), *afixed = ACC(sq, "[1]"), *aa = ACC(st, "a");
    sj_arena ar = open_arena(SJ_ARENA_CONFINED);
    sj_segment s = alloc(ar, 16, 16), ro = sj_segment_readonly(&s), big = alloc(ar, 64, 16);
    sj_value v = {.i32 = 1};
    int64_t i2 = 2, i5 = 5, i0 = 0, im = -1, i3 = 3;
    for (int form = 0; form < 2; form++) {
#define PSET(seg, p, acc, base, ix, n)                                                             \
    (form ? sj_accessor_set(acc, seg, base, ix, n, v, &E) : sj_set_path(seg, p, base, ix, n, v, &E))
#define PGET(seg, p, acc, base, ix, n)                                                             \
    (form ? sj_accessor_get(acc, seg, base, ix, n, &v, &E)                                         \
          : sj_get_path(seg, p, base, ix, n, &v, &E))
        CHECK(SJ_E_BOUNDS, PSET(&ro, open, aopen, 0, &i2, 1));    /* Index 2 out of bounds */
        CHECK(SJ_E_READONLY, PSET(&ro, open, aopen, 12, &i0, 1)); /* root out of bounds */
        CHECK(SJ_E_READONLY, PSET(&ro, open, aopen, 2, &i0, 1));  /* root misaligned */
        CHECK(SJ_E_BOUNDS, PSET(&s, open, aopen, 2, &i5, 1));     /* index, root misaligned */
        CHECK(SJ_E_BOUNDS, PSET(&s, open, aopen, 12, &i5, 1));    /* index, root outside */
        CHECK(SJ_E_BOUNDS, PSET(&s, open, aopen, 10, &i0, 1));    /* root outside, misaligned */
        CHECK(SJ_E_BOUNDS, PGET(&s, open, aopen, 0, &im, 1));     /* Index -1 */
        CHECK(SJ_OK, PGET(&s, fixed, afixed, 8, NULL, 0));
        CHECK(SJ_E_BOUNDS, PGET(&s, fixed, afixed, 12, NULL, 0)); /* leaf fits, root does not */
        CHECK(SJ_E_BOUNDS, PGET(&s, pa, aa, 8, NULL, 0));
        CHECK(SJ_E_BOUNDS, PGET(&s, pa, aa, 4, NULL, 0));  /* root 16 bytes at 4 of 16 */
        CHECK(SJ_E_ALIGN, PGET(&big, pa, aa, 4, NULL, 0)); /* root align 8, leaf aligned */
        CHECK(SJ_OK, PGET(&big, pa, aa, 8, NULL, 0));
        int32_t ints[8] = {0};
        sj_segment hi = heap(SJ_HEAP_I32, ints, 8);
        CHECK(SJ_E_ALIGN, PGET(&hi, pa, aa, 0, NULL, 0)); /* int[]: root alignment 8 */
    }
    CHECK(SJ_OK, sj_arena_close(ar, &E));
    CHECK(SJ_E_BOUNDS, sj_get_path(&s, open, 0, &i3, 1, &v, &E)); /* closed, Index 3 */
    CHECK(SJ_E_BOUNDS, sj_accessor_get(aopen, &s, 0, &i3, 1, &v, &E));
    CHECK(SJ_E_CLOSED, sj_get_path(&s, open, 0, &i0, 1, &v, &E));
    CHECK(SJ_E_CLOSED, sj_accessor_get(aopen, &s, 0, &i0, 1, &v, &E));
#undef PSET
#undef PGET
    sj_accessor_free(aopen);
    sj_accessor_free(afixed);
    sj_accessor_free(aa);
    sj_path_free(open);
    sj_path_free(fixed);
    sj_path_free(pa);
    sj_layout_unref(sq);
    sj_layout_unref(st);
}

/* Open records (the JDK's arrayElementVarHandle) on 16 bytes: JAVA_INT index 3 fits, 4 does
 * not; base 1 is misaligned; [i4(x)i4(y)] by `y`: record 1 fits from 0, record 2 does not;
 * from 8 only record 0; from 4 record 0 (records need only their own alignment, 4). */
static void test_check_order_open_records(void **state) {
    (void)state;
    sj_layout *i4 = L("i4"), *rec = L("[i4(x)i4(y)]");
    sj_accessor *ae = ACC(i4, "[*]"), *ry = ACC(rec, "[*].y");
    sj_segment s = alloc(sj_arena_global(), 16, 16), ro = sj_segment_readonly(&s);
    sj_value v = {.i32 = 1};
    int64_t i0 = 0, i1 = 1, i2 = 2, i3 = 3, i4x = 4;
    CHECK(SJ_E_BOUNDS, sj_accessor_get(ae, &s, 0, &i4x, 1, &v, &E));
    CHECK(SJ_OK, sj_accessor_get(ae, &s, 0, &i3, 1, &v, &E));
    CHECK(SJ_E_ALIGN, sj_accessor_get(ae, &s, 1, &i0, 1, &v, &E));
    CHECK(SJ_E_READONLY, sj_accessor_set(ae, &ro, 0, &i3, 1, v, &E));
    CHECK(SJ_OK, sj_accessor_get(ry, &s, 0, &i1, 1, &v, &E));
    CHECK(SJ_E_BOUNDS, sj_accessor_get(ry, &s, 0, &i2, 1, &v, &E));
    CHECK(SJ_OK, sj_accessor_get(ry, &s, 8, &i0, 1, &v, &E));
    CHECK(SJ_E_BOUNDS, sj_accessor_get(ry, &s, 8, &i1, 1, &v, &E));
    CHECK(SJ_OK, sj_accessor_get(ry, &s, 4, &i0, 1, &v, &E));
    sj_accessor_free(ae);
    sj_accessor_free(ry);
    sj_layout_unref(rec);
    sj_layout_unref(i4);
}

/* JDK 25: sequenceLayout(Long.MAX_VALUE / 4, JAVA_INT).varHandle(sequenceElement()) throws
 * IndexOutOfBoundsException on any segment (the root is checked whole). segjit, by its
 * README's rule for `[*:rec]` roots: `[*]` runs over the records that fit (here 4), a fixed
 * `[1]` is checked against the whole root as the JDK does. */
static void test_open_sequence_root_path(void **state) {
    (void)state;
    sj_layout *open = L("[*:i4]");
    sj_path *p = P(open, "[*]"), *p1 = P(open, "[1]");
    sj_segment s = alloc(sj_arena_global(), 16, 16);
    sj_value v = {0};
    int64_t i3 = 3, i4 = 4;
    CHECK(SJ_E_BOUNDS, sj_get_path(&s, p1, 0, NULL, 0, &v, &E));
    v.i32 = 77;
    CHECK(SJ_OK, sj_set_path(&s, p, 0, &i3, 1, v, &E));
    CHECK(SJ_E_BOUNDS, sj_set_path(&s, p, 0, &i4, 1, v, &E));
    sj_accessor *acc = NULL;
    CHECK(SJ_OK, sj_accessor_of_path(p, &acc, &E));
    sj_value got = {0};
    CHECK(SJ_OK, sj_accessor_get(acc, &s, 0, &i3, 1, &got, &E));
    assert_int_equal(got.i32, 77);
    CHECK(SJ_E_BOUNDS, sj_accessor_get(acc, &s, 0, &i4, 1, &got, &E));
    sj_accessor_free(acc);
    sj_path_free(p1);
    sj_path_free(p);
    sj_layout_unref(open);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_allocate_align),
        cmocka_unit_test(test_zero_length_native_segment),
        cmocka_unit_test(test_native_segment_is_zeroed),
        cmocka_unit_test(test_slices),
        cmocka_unit_test(test_derived_scopes),
        cmocka_unit_test(test_small_segment_bounds),
        cmocka_unit_test(test_access_modes_of_factories),
        cmocka_unit_test(test_is_accessible_by),
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_fill_read_only_and_empty),
        cmocka_unit_test(test_fill_thread),
        cmocka_unit_test(test_virtualized_base_address),
        cmocka_unit_test(test_max_byte_alignment),
        cmocka_unit_test(test_memory_access),
        cmocka_unit_test(test_array_access),
        cmocka_unit_test(test_matrix_access),
        cmocka_unit_test(test_instance_access),
        cmocka_unit_test(test_instance_hyper_aligned),
        cmocka_unit_test(test_instance_overflow_in_indexed_access),
        cmocka_unit_test(test_aligned_access),
        cmocka_unit_test(test_unaligned_access),
        cmocka_unit_test(test_unaligned_path),
        cmocka_unit_test(test_unaligned_sequence),
        cmocka_unit_test(test_packed_access),
        cmocka_unit_test(test_heap_alignment),
        cmocka_unit_test(test_heap_alignment_zero_count_copy),
        cmocka_unit_test(test_segment_offset),
        cmocka_unit_test_setup_teardown(test_overlap_basic, overlap_setup, overlap_teardown),
        cmocka_unit_test_setup_teardown(test_overlap_identical, overlap_setup, overlap_teardown),
        cmocka_unit_test_setup_teardown(test_overlap_slices, overlap_setup, overlap_teardown),
        cmocka_unit_test(test_overlap_more),
        cmocka_unit_test(test_arena_close),
        cmocka_unit_test(test_arena_held_open),
        cmocka_unit_test(test_zeroed),
        cmocka_unit_test(test_check_order_plain),
        cmocka_unit_test(test_check_order_path),
        cmocka_unit_test(test_check_order_open_records),
        cmocka_unit_test(test_open_sequence_root_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
