/* tests/test_segment.c: arenas (kinds, allocation, close, stale handles, threads), file
 * mapping, segment constructors, slices, max alignment, the rule 3.3 predicate and
 * overlap (SEMANTICS 3). Checked get/set and path access are tested in test_access.c. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "check.h"
#include "segments.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scope.h"
#include "segjit/layout.h"
#include "segjit/segment.h"

static sj_layout *value(sj_kind k) {
    sj_layout *l = NULL;
    CHECK(SJ_OK, sj_layout_value(k, &l, &E));
    return l;
}

/* ---- arenas ---- */

static void test_arena_kinds(void **state) {
    (void)state;
    sj_arena c, s, g = sj_arena_global();
    CHECK(SJ_OK, sj_arena_open(SJ_ARENA_CONFINED, &c, &E));
    CHECK(SJ_OK, sj_arena_open(SJ_ARENA_SHARED, &s, &E));
    assert_non_null(c.scope);
    assert_non_null(s.scope);
    assert_ptr_not_equal(c.scope, s.scope);
    assert_null(g.scope);
    assert_true(sj_arena_is_alive(c));
    assert_true(sj_arena_is_alive(s));
    assert_true(sj_arena_is_alive(g));
    CHECK(SJ_E_ARG, sj_arena_open((sj_arena_kind)7, &c, &E));
    sj_segment seg;
    CHECK(SJ_OK, sj_arena_allocate(g, 24, 8, &seg, &E)); /* global memory is never freed */
    assert_true(sj_segment_is_native(&seg));
    CHECK(SJ_OK, sj_segment_check_alive(&seg, &E));
    CHECK(SJ_E_UNSUPPORTED, sj_arena_close(g, &E));
    CHECK_MSG("global arena");
    CHECK(SJ_OK, sj_arena_close(c, &E));
    CHECK(SJ_OK, sj_arena_close(s, &E));
    assert_false(sj_arena_is_alive(c));
    assert_false(sj_arena_is_alive(s));
}

static void test_allocate_zeroed_aligned(void **state) {
    (void)state;
    sj_arena a;
    /* round 0 dirties memory that round 1 (after close) is likely to get back */
    for (int round = 0; round < 2; round++) {
        CHECK(SJ_OK, sj_arena_open(SJ_ARENA_CONFINED, &a, &E));
        for (int64_t align = 1; align <= 8192; align *= 2) {
            for (int64_t size = 0; size <= 100; size += 33) {
                sj_segment s;
                CHECK(SJ_OK, sj_arena_allocate(a, size, align, &s, &E));
                uint64_t want = align < 16 ? 16 : (uint64_t)align;
                assert_int_equal(sj_segment_address(&s) % want, 0);
                assert_int_equal(sj_segment_size(&s), size);
                assert_true(sj_segment_max_align(&s) >= want);
                assert_false(sj_segment_is_readonly(&s));
                for (int64_t i = 0; i < size; i++)
                    assert_int_equal(s.base[i], 0);
                if (size) memset(s.base, 0x5A, (size_t)size); /* writable */
            }
        }
        if (round == 0) CHECK(SJ_OK, sj_arena_close(a, &E));
    }
    sj_segment s;
    CHECK(SJ_E_ARG, sj_arena_allocate(a, -1, 8, &s, &E));
    CHECK_MSG("-1");
    CHECK(SJ_E_ARG, sj_arena_allocate(a, 8, 0, &s, &E));
    CHECK(SJ_E_ARG, sj_arena_allocate(a, 8, 3, &s, &E));
    CHECK_MSG("alignment 3");
    CHECK(SJ_E_ARG, sj_arena_allocate(a, 8, -4, &s, &E));
    CHECK(SJ_E_NOMEM, sj_arena_allocate(a, INT64_MAX, 8, &s, &E));

    sj_layout *i4 = value(SJ_I32), *big = NULL;
    CHECK(SJ_OK, sj_layout_with_align(i4, 64, &big, &E));
    CHECK(SJ_OK, sj_arena_allocate_layout(a, big, &s, &E));
    assert_int_equal(sj_segment_size(&s), 4);
    assert_int_equal(sj_segment_address(&s) % 64, 0);
    CHECK(SJ_OK, sj_arena_allocate_layout(a, i4, &s, &E));
    assert_int_equal(sj_segment_address(&s) % 16, 0);
    sj_layout_unref(big);
    sj_layout_unref(i4);
    CHECK(SJ_OK, sj_arena_close(a, &E));
}

static void test_close(void **state) {
    (void)state;
    sj_arena a;
    sj_segment s, sl;
    CHECK(SJ_OK, sj_arena_open(SJ_ARENA_SHARED, &a, &E));
    CHECK(SJ_OK, sj_arena_allocate(a, 64, 8, &s, &E));
    CHECK(SJ_OK, sj_segment_slice(&s, 8, 8, &sl, &E));
    CHECK(SJ_OK, sj_segment_check_alive(&s, &E));
    CHECK(SJ_OK, sj_arena_close(a, &E));
    CHECK(SJ_E_CLOSED, sj_segment_check_alive(&s, &E));
    CHECK_MSG("closed");
    CHECK(SJ_E_CLOSED, sj_segment_check_alive(&sl, &E)); /* slices share the arena */
    sj_segment ro = sj_segment_readonly(&s);
    CHECK(SJ_E_CLOSED, sj_segment_check_alive(&ro, &E));
    CHECK(SJ_E_CLOSED, sj_scope_acquire(&s, &E));
    CHECK(SJ_E_CLOSED, sj_arena_close(a, &E)); /* twice */
    CHECK_MSG("already closed");
    CHECK(SJ_E_CLOSED, sj_arena_allocate(a, 8, 8, &s, &E));
    assert_false(sj_arena_is_alive(a));
}

static void test_stale_handle(void **state) {
    (void)state;
    sj_arena old, fresh;
    sj_segment so, sn;
    CHECK(SJ_OK, sj_arena_open(SJ_ARENA_CONFINED, &old, &E));
    CHECK(SJ_OK, sj_arena_allocate(old, 16, 8, &so, &E));
    CHECK(SJ_OK, sj_arena_close(old, &E));
    CHECK(SJ_OK, sj_arena_open(SJ_ARENA_SHARED, &fresh, &E));
    /* the pool hands the closed scope out again: the stale path is really exercised */
    assert_ptr_equal(fresh.scope, old.scope);
    assert_true(fresh.key != old.key);
    CHECK(SJ_OK, sj_arena_allocate(fresh, 16, 8, &sn, &E));
    assert_false(sj_arena_is_alive(old));
    assert_true(sj_arena_is_alive(fresh));
    CHECK(SJ_E_CLOSED, sj_arena_close(old, &E));
    CHECK(SJ_E_CLOSED, sj_segment_check_alive(&so, &E));
    CHECK(SJ_E_CLOSED, sj_arena_allocate(old, 8, 8, &so, &E));
    CHECK(SJ_OK, sj_segment_check_alive(&sn, &E));
    assert_true(sj_arena_is_alive(fresh)); /* the stale close did not touch it */
    CHECK(SJ_OK, sj_arena_close(fresh, &E));
    CHECK(SJ_E_CLOSED, sj_segment_check_alive(&sn, &E));
}

/* ---- threads ---- */

typedef struct thread_job {
    sj_arena arena;
    sj_segment seg;
    sj_status alive, alloc, close;
    uint64_t tid;
} thread_job;

static void *other_thread(void *arg) {
    thread_job *j = arg;
    sj_segment s;
    j->tid = sj_thread_id();
    j->alive = sj_segment_check_alive(&j->seg, NULL);
    j->alloc = sj_arena_allocate(j->arena, 8, 8, &s, NULL);
    j->close = sj_arena_close(j->arena, NULL);
    return NULL;
}

static void test_confined_other_thread(void **state) {
    (void)state;
    thread_job j;
    memset(&j, 0, sizeof j);
    CHECK(SJ_OK, sj_arena_open(SJ_ARENA_CONFINED, &j.arena, &E));
    CHECK(SJ_OK, sj_arena_allocate(j.arena, 16, 8, &j.seg, &E));
    on_other_thread(other_thread, &j);
    assert_int_equal(j.alive, SJ_E_THREAD);
    assert_int_equal(j.alloc, SJ_E_THREAD);
    assert_int_equal(j.close, SJ_E_THREAD);
    assert_true(j.tid != 0 && j.tid != sj_thread_id());
    assert_true(sj_arena_is_alive(j.arena)); /* the foreign close did nothing */
    CHECK(SJ_OK, sj_segment_check_alive(&j.seg, &E));
    CHECK(SJ_OK, sj_scope_acquire(&j.seg, &E));
    sj_scope_release(&j.seg);
    CHECK(SJ_OK, sj_arena_close(j.arena, &E));
}

static void test_shared_other_thread(void **state) {
    (void)state;
    thread_job j;
    memset(&j, 0, sizeof j);
    CHECK(SJ_OK, sj_arena_open(SJ_ARENA_SHARED, &j.arena, &E));
    CHECK(SJ_OK, sj_arena_allocate(j.arena, 16, 8, &j.seg, &E));
    on_other_thread(other_thread, &j);
    assert_int_equal(j.alive, SJ_OK);
    assert_int_equal(j.alloc, SJ_OK);
    assert_int_equal(j.close, SJ_OK); /* any thread may close a shared arena */
    assert_false(sj_arena_is_alive(j.arena));
    CHECK(SJ_E_CLOSED, sj_segment_check_alive(&j.seg, &E));
}

/* Readers hammer a shared arena while it closes: every access either succeeds on live
 * memory or answers CLOSED (ASan would catch a touch of freed memory). */
typedef struct hammer {
    sj_segment seg;
    atomic_int started;
    long ok;
    sj_status last;
} hammer;

static void *hammer_thread(void *arg) {
    hammer *h = arg;
    atomic_fetch_add(&h->started, 1);
    for (;;) {
        sj_status st = sj_scope_acquire(&h->seg, NULL);
        if (st != SJ_OK) {
            h->last = st;
            return NULL;
        }
        for (uint64_t i = 0; i < h->seg.size; i++)
            h->seg.base[i]++;
        sj_scope_release(&h->seg);
        h->ok++;
    }
}

static void test_close_waits_for_inflight(void **state) {
    (void)state;
    enum { N = 4 };
    for (int round = 0; round < 20; round++) {
        sj_arena a;
        CHECK(SJ_OK, sj_arena_open(SJ_ARENA_SHARED, &a, &E));
        hammer h[N];
        pthread_t t[N];
        for (int i = 0; i < N; i++) {
            memset(&h[i], 0, sizeof h[i]);
            atomic_init(&h[i].started, 0);
            CHECK(SJ_OK, sj_arena_allocate(a, 4096, 16, &h[i].seg, &E));
            assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
        }
        for (int i = 0; i < N; i++)
            while (atomic_load(&h[i].started) == 0)
                sched_yield();
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        CHECK(SJ_OK, sj_arena_close(a, &E));
        for (int i = 0; i < N; i++) {
            assert_int_equal(pthread_join(t[i], NULL), 0);
            assert_int_equal(h[i].last, SJ_E_CLOSED);
        }
    }
}

/* ---- mapped files ---- */

static char tmp_path[64];

static void make_file(size_t n) {
    strcpy(tmp_path, "/tmp/segjit-test-XXXXXX");
    int fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc((int)(i * 7 % 251), f);
    fclose(f);
}

static void test_map_file(void **state) {
    (void)state;
    enum { FSIZE = 10000 };
    make_file(FSIZE);
    sj_arena a;
    sj_segment s;
    CHECK(SJ_OK, sj_arena_open(SJ_ARENA_CONFINED, &a, &E));

    /* read-only, at an offset that is not page aligned */
    CHECK(SJ_OK, sj_arena_map_file(a, tmp_path, 5001, 100, false, &s, &E));
    assert_int_equal(sj_segment_size(&s), 100);
    assert_true(sj_segment_is_readonly(&s));
    assert_true(sj_segment_is_native(&s));
    assert_true(s.flags & SJ_SEG_MAPPED);
    for (int i = 0; i < 100; i++)
        assert_int_equal(s.base[i], (5001 + i) * 7 % 251);

    /* to the end of the file */
    CHECK(SJ_OK, sj_arena_map_file(a, tmp_path, 9000, -1, false, &s, &E));
    assert_int_equal(sj_segment_size(&s), 1000);
    assert_int_equal(s.base[999], (FSIZE - 1) * 7 % 251);
    CHECK(SJ_OK, sj_arena_map_file(a, tmp_path, FSIZE, -1, false, &s, &E));
    assert_int_equal(sj_segment_size(&s), 0);
    CHECK(SJ_OK, sj_arena_map_file(a, tmp_path, 0, 0, true, &s, &E));
    assert_int_equal(sj_segment_size(&s), 0);

    /* read-write: writes reach the file */
    CHECK(SJ_OK, sj_arena_map_file(a, tmp_path, 4097, 8, true, &s, &E));
    assert_false(sj_segment_is_readonly(&s));
    memcpy(s.base, "segjit!!", 8);

    /* read-write past the end: the file grows first (zero bytes between), as in the JDK */
    CHECK(SJ_OK, sj_arena_map_file(a, tmp_path, FSIZE + 100, 50, true, &s, &E));
    assert_int_equal(sj_segment_size(&s), 50);
    for (int i = 0; i < 50; i++)
        assert_int_equal(s.base[i], 0);
    memcpy(s.base + 42, "grown!!!", 8);
    sj_segment tail;
    CHECK(SJ_OK, sj_arena_map_file(a, tmp_path, FSIZE - 10, -1, false, &tail, &E));
    assert_int_equal(sj_segment_size(&tail), 160);
    assert_int_equal(tail.base[9], (FSIZE - 1) * 7 % 251);
    for (int i = 10; i < 152; i++)
        assert_int_equal(tail.base[i], 0);
    assert_memory_equal(tail.base + 152, "grown!!!", 8);

    /* errors */
    CHECK(SJ_E_BOUNDS, sj_arena_map_file(a, tmp_path, FSIZE + 151, -1, false, &s, &E));
    CHECK_MSG("beyond the end");
    CHECK(SJ_E_BOUNDS, sj_arena_map_file(a, tmp_path, FSIZE + 149, 2, false, &s, &E));
    CHECK(SJ_E_BOUNDS, sj_arena_map_file(a, tmp_path, 0, FSIZE + 151, false, &s, &E));
    CHECK(SJ_E_OVERFLOW, sj_arena_map_file(a, tmp_path, INT64_MAX - 2, 8, true, &s, &E));
    CHECK_MSG("overflows");
    /* more than the disk holds: refused before anything is allocated */
    CHECK(SJ_E_NOMEM, sj_arena_map_file(a, tmp_path, 0, INT64_MAX / 2, true, &s, &E));
    CHECK_MSG("bytes are free");
    struct stat sb;
    assert_int_equal(stat(tmp_path, &sb), 0);
    assert_int_equal(sb.st_size, FSIZE + 150); /* the failed calls left the file alone */
    /* size 0 past the end: the file grows to the offset, as in the JDK */
    CHECK(SJ_OK, sj_arena_map_file(a, tmp_path, FSIZE + 170, 0, true, &s, &E));
    assert_int_equal(sj_segment_size(&s), 0);
    assert_int_equal(stat(tmp_path, &sb), 0);
    assert_int_equal(sb.st_size, FSIZE + 170);
    CHECK(SJ_E_ARG, sj_arena_map_file(a, tmp_path, -1, 8, false, &s, &E));
    CHECK(SJ_E_ARG, sj_arena_map_file(a, tmp_path, 0, -2, false, &s, &E));
    CHECK(SJ_E_ARG, sj_arena_map_file(a, "/nonexistent/segjit/file", 0, -1, false, &s, &E));
    CHECK_MSG("/nonexistent/segjit/file");
    CHECK_MSG("No such file");
    CHECK(SJ_E_ARG, sj_arena_map_file(a, "/tmp", 0, -1, false, &s, &E));

    CHECK(SJ_OK, sj_arena_close(a, &E)); /* unmaps */
    CHECK(SJ_E_CLOSED, sj_segment_check_alive(&s, &E));
    CHECK(SJ_E_CLOSED, sj_arena_map_file(a, tmp_path, 0, 8, false, &s, &E));

    FILE *f = fopen(tmp_path, "rb");
    assert_non_null(f);
    char buf[8];
    assert_int_equal(fseek(f, 4097, SEEK_SET), 0);
    assert_int_equal(fread(buf, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(buf, "segjit!!", 8);
    unlink(tmp_path);
}

/* ---- constructors, slices, queries ---- */

static void test_constructors(void **state) {
    (void)state;
    sj_segment s;
    int32_t arr[4] = {0};
    CHECK(SJ_OK, sj_segment_native(arr, sizeof arr, &s, &E));
    assert_int_equal(sj_segment_size(&s), 16);
    assert_int_equal(sj_segment_address(&s), (uint64_t)(uintptr_t)arr);
    assert_true(sj_segment_is_native(&s));
    CHECK(SJ_OK, sj_segment_check_alive(&s, &E));
    CHECK(SJ_E_UNSUPPORTED, sj_arena_close(s.arena, &E));
    CHECK(SJ_E_ARG, sj_segment_native(arr, -1, &s, &E));
    CHECK(SJ_E_ARG, sj_segment_native(NULL, 4, &s, &E));
    CHECK(SJ_OK, sj_segment_native(NULL, 0, &s, &E));
    assert_int_equal(sj_segment_max_align(&s), UINT64_C(1) << 62); /* JDK 25: MemorySegment.NULL */

    static const struct {
        sj_heap_kind kind;
        uint32_t size;
    } kinds[] = {{SJ_HEAP_I8, 1},  {SJ_HEAP_I16, 2}, {SJ_HEAP_U16, 2}, {SJ_HEAP_I32, 4},
                 {SJ_HEAP_F32, 4}, {SJ_HEAP_I64, 8}, {SJ_HEAP_F64, 8}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        CHECK(SJ_OK, sj_segment_of_array(kinds[k].kind, arr, 2, &s, &E));
        assert_false(sj_segment_is_native(&s));
        assert_int_equal(sj_segment_size(&s), 2 * kinds[k].size);
        assert_int_equal(sj_segment_address(&s), 0);
        assert_int_equal(sj_segment_max_align(&s), kinds[k].size);
        assert_null(s.base);
        CHECK(SJ_OK, sj_segment_check_alive(&s, &E));
        assert_ptr_equal(sj_segment_data(&s), arr);
    }
    CHECK(SJ_E_ARG, sj_segment_of_array(SJ_HEAP_I32, arr, -1, &s, &E));
    CHECK(SJ_E_ARG, sj_segment_of_array(SJ_HEAP_I32, NULL, 1, &s, &E));
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I32, NULL, 0, &s, &E));
    CHECK(SJ_E_ARG, sj_segment_of_array((sj_heap_kind)99, arr, 1, &s, &E));
    CHECK(SJ_E_OVERFLOW, sj_segment_of_array(SJ_HEAP_I64, arr, INT64_MAX / 4, &s, &E));
    CHECK(SJ_E_ARG, sj_segment_heap(SJ_HEAP_I32, 4, arr, NULL, &s, &E));
}

static void test_max_align(void **state) {
    (void)state;
    sj_arena a;
    sj_segment s, sl;
    CHECK(SJ_OK, sj_arena_open(SJ_ARENA_CONFINED, &a, &E));
    CHECK(SJ_OK, sj_arena_allocate(a, 64, 64, &s, &E));
    assert_true(sj_segment_max_align(&s) >= 64);
    for (int64_t off = 1; off < 64; off++) {
        CHECK(SJ_OK, sj_segment_slice(&s, off, 0, &sl, &E));
        assert_int_equal(sj_segment_max_align(&sl), off & -off); /* lowest set bit */
    }
    CHECK(SJ_OK, sj_arena_close(a, &E));

    int64_t arr[4];
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I64, arr, 4, &s, &E));
    /* the JDK: the lowest set bit of the slice's offset, at most the element size */
    for (int64_t off = 0; off < 32; off++) {
        CHECK(SJ_OK, sj_segment_slice(&s, off, 0, &sl, &E));
        int64_t want = off == 0 || (off & -off) > 8 ? 8 : (off & -off);
        assert_int_equal(sj_segment_max_align(&sl), want);
    }
    CHECK(SJ_OK, sj_segment_slice(&s, 12, 8, &sl, &E));
    assert_int_equal(sj_segment_max_align(&sl), 4); /* an i64 array at byte 12 */
}

static void test_slice(void **state) {
    (void)state;
    sj_arena a;
    sj_segment s, sl, sl2;
    CHECK(SJ_OK, sj_arena_open(SJ_ARENA_CONFINED, &a, &E));
    CHECK(SJ_OK, sj_arena_allocate(a, 16, 16, &s, &E));
    CHECK(SJ_OK, sj_segment_slice(&s, 4, 8, &sl, &E));
    assert_ptr_equal(sl.base, s.base + 4);
    assert_int_equal(sj_segment_size(&sl), 8);
    assert_int_equal(sj_segment_address(&sl), sj_segment_address(&s) + 4);
    assert_ptr_equal(sl.arena.scope, a.scope);
    CHECK(SJ_OK, sj_segment_slice(&sl, 8, 0, &sl2, &E)); /* empty slice at the end */
    CHECK(SJ_OK, sj_segment_slice(&s, 0, 16, &sl2, &E));
    CHECK(SJ_OK, sj_segment_slice(&s, 16, 0, &sl2, &E));

    memset(&sl2, 0x77, sizeof sl2);
    sj_segment before = sl2;
    CHECK(SJ_E_BOUNDS, sj_segment_slice(&s, 12, 8, &sl2, &E));
    assert_string_equal(E.message,
                        "slice of 8 bytes at offset 12 is out of bounds for segment of size 16");
    assert_memory_equal(&sl2, &before, sizeof sl2); /* a failed call writes nothing */
    CHECK(SJ_E_BOUNDS, sj_segment_slice(&s, -1, 1, &sl2, &E));
    CHECK(SJ_E_BOUNDS, sj_segment_slice(&s, 0, -1, &sl2, &E));
    CHECK(SJ_E_BOUNDS, sj_segment_slice(&s, 17, 0, &sl2, &E));
    CHECK(SJ_E_BOUNDS, sj_segment_slice(&s, INT64_MAX, INT64_MAX, &sl2, &E));
    CHECK(SJ_E_BOUNDS, sj_segment_slice(&sl, 4, 5, &sl2, &E)); /* relative to the slice */

    /* read-only views */
    sj_segment ro = sj_segment_readonly(&s);
    assert_true(sj_segment_is_readonly(&ro));
    assert_false(sj_segment_is_readonly(&s));
    CHECK(SJ_OK, sj_segment_slice(&ro, 2, 2, &sl2, &E));
    assert_true(sj_segment_is_readonly(&sl2));

    /* heap slices shift the virtual address */
    int16_t arr[8];
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I16, arr, 8, &s, &E));
    CHECK(SJ_OK, sj_segment_slice(&s, 6, 10, &sl, &E));
    assert_int_equal(sj_segment_address(&sl), 6);
    assert_null(sl.base);
    CHECK(SJ_OK, sj_segment_slice(&sl, 3, 4, &sl2, &E));
    assert_int_equal(sj_segment_address(&sl2), 9);
    assert_ptr_equal(sj_segment_data(&sl2), (uint8_t *)arr + 9);
    assert_ptr_equal(sl2.owner, arr);
    CHECK(SJ_OK, sj_arena_close(a, &E));
}

/* Rule 3.3 straight from its definition, for the predicate test. */
static bool rule33(uint64_t vaddr, uint64_t maxalignbits, uint64_t off, uint64_t align) {
    return (((vaddr + off) | maxalignbits) & (align - 1)) == 0;
}

static void test_is_aligned(void **state) {
    (void)state;
    sj_arena a;
    sj_segment nat, heap, sl;
    CHECK(SJ_OK, sj_arena_open(SJ_ARENA_CONFINED, &a, &E));
    CHECK(SJ_OK, sj_arena_allocate(a, 64, 16, &nat, &E));
    int64_t arr[8];
    static const sj_heap_kind kinds[] = {SJ_HEAP_I8,  SJ_HEAP_I16, SJ_HEAP_U16, SJ_HEAP_I32,
                                         SJ_HEAP_F32, SJ_HEAP_I64, SJ_HEAP_F64};
    static const int64_t kind_size[] = {1, 2, 2, 4, 4, 8, 8};
    for (uint64_t align = 1; align <= 16; align *= 2) {
        for (int64_t off = 0; off < 16; off++) {
            assert_int_equal(sj_segment_is_aligned(&nat, off, align), off % (int64_t)align == 0);
            for (int64_t start = 0; start < 8; start++) {
                CHECK(SJ_OK, sj_segment_slice(&nat, start, 32, &sl, &E));
                assert_int_equal(sj_segment_is_aligned(&sl, off, align),
                                 (start + off) % (int64_t)align == 0);
            }
            for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
                CHECK(SJ_OK, sj_segment_of_array(kinds[k], arr, 64 / kind_size[k], &heap, &E));
                uint64_t es = heap.elem_size;
                bool want = align <= es && off % (int64_t)align == 0;
                assert_int_equal(sj_segment_is_aligned(&heap, off, align), want);
                assert_int_equal(want, rule33(0, es, (uint64_t)off, align));
                for (int64_t start = 0; start < 8; start++) {
                    CHECK(SJ_OK, sj_segment_slice(&heap, start, 16, &sl, &E));
                    want = align <= es && (start + off) % (int64_t)align == 0;
                    assert_int_equal(sj_segment_is_aligned(&sl, off, align), want);
                    assert_int_equal(want, rule33((uint64_t)start, es, (uint64_t)off, align));
                }
            }
        }
    }
    assert_false(sj_segment_is_aligned(&nat, 0, 3)); /* not a power of two */
    CHECK(SJ_OK, sj_arena_close(a, &E));
}

static void *other_resolve(void *owner) {
    return owner;
}

static void test_overlap(void **state) {
    (void)state;
    sj_arena a;
    sj_segment s, t, x, y, o;
    CHECK(SJ_OK, sj_arena_open(SJ_ARENA_CONFINED, &a, &E));
    CHECK(SJ_OK, sj_arena_allocate(a, 32, 16, &s, &E));
    CHECK(SJ_OK, sj_arena_allocate(a, 32, 16, &t, &E));
    CHECK(SJ_OK, sj_segment_slice(&s, 0, 8, &x, &E));
    CHECK(SJ_OK, sj_segment_slice(&s, 4, 8, &y, &E));
    assert_true(sj_segment_overlap(&x, &y, &o));
    assert_ptr_equal(o.base, s.base + 4);
    assert_int_equal(sj_segment_size(&o), 4);
    assert_true(sj_segment_overlap(&y, &x, &o)); /* a slice of the first argument */
    assert_ptr_equal(o.base, s.base + 4);
    assert_int_equal(sj_segment_size(&o), 4);
    sj_segment rx = sj_segment_readonly(&s);
    assert_true(sj_segment_overlap(&rx, &y, &o));
    assert_true(sj_segment_is_readonly(&o));
    assert_ptr_equal(o.base, s.base + 4);
    assert_int_equal(sj_segment_size(&o), 8);
    assert_true(sj_segment_overlap(&s, &s, &o));
    assert_int_equal(sj_segment_size(&o), 32);
    assert_true(sj_segment_overlap(&s, &y, NULL));
    assert_true(sj_segment_overlap(&s, &y, &o)); /* y inside s: y's bytes, not to s's end */
    assert_ptr_equal(o.base, s.base + 4);
    assert_int_equal(sj_segment_size(&o), 8);
    CHECK(SJ_OK, sj_segment_slice(&s, 8, 8, &y, &E)); /* adjacent, not overlapping */
    assert_false(sj_segment_overlap(&x, &y, &o));
    assert_false(sj_segment_overlap(&s, &t, &o));     /* different allocations */
    CHECK(SJ_OK, sj_segment_slice(&s, 4, 0, &y, &E)); /* empty */
    assert_false(sj_segment_overlap(&s, &y, &o));
    assert_false(sj_segment_overlap(&y, &s, &o));
    sj_segment alias;
    CHECK(SJ_OK, sj_segment_native(s.base + 16, 16, &alias, &E)); /* other arena, same bytes */
    assert_true(sj_segment_overlap(&s, &alias, &o));
    assert_ptr_equal(o.base, s.base + 16);

    int32_t arr[8], arr2[8];
    sj_segment h, hx, hy, h2, hr;
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I32, arr, 8, &h, &E));
    CHECK(SJ_OK, sj_segment_slice(&h, 4, 12, &hx, &E));
    CHECK(SJ_OK, sj_segment_slice(&h, 12, 12, &hy, &E));
    assert_true(sj_segment_overlap(&hx, &hy, &o));
    assert_int_equal(sj_segment_address(&o), 12);
    assert_int_equal(sj_segment_size(&o), 4);
    assert_ptr_equal(sj_segment_data(&o), (uint8_t *)arr + 12);
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I32, arr2, 8, &h2, &E));
    assert_false(sj_segment_overlap(&h, &h2, &o)); /* other array */
    CHECK(SJ_OK, sj_segment_heap(SJ_HEAP_I32, 8, arr, other_resolve, &hr, &E));
    assert_false(sj_segment_overlap(&h, &hr, &o));                   /* other resolve */
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I8, arr, 32, &hr, &E)); /* same array, other kind */
    assert_true(sj_segment_overlap(&h, &hr, &o));
    sj_segment n;
    CHECK(SJ_OK, sj_segment_native(arr, sizeof arr, &n, &E));
    assert_false(sj_segment_overlap(&h, &n, &o)); /* native vs heap: never */
    assert_false(sj_segment_overlap(&n, &h, &o));
    CHECK(SJ_OK, sj_arena_close(a, &E));
}

/* Readers of shared arenas: with membarrier, the thread's slot is in sj__self and the
 * inline lease uses it; without (SEGJIT_TEST_NO_MEMBARRIER=1, ctest test_segment_fenced),
 * sj__self has none, so every shared access goes to the library, which fences. Either
 * way an access works and a close afterwards does not wait. */
static void test_reader_slots(void **state) {
    (void)state;
    sj_error err = {0};
    sj_arena a;
    assert_int_equal(sj_arena_open(SJ_ARENA_SHARED, &a, &err), SJ_OK);
    sj_segment s;
    assert_int_equal(sj_arena_allocate(a, 8, 8, &s, &err), SJ_OK);
    sj_layout *l = NULL;
    assert_int_equal(sj_layout_parse("j8", &l, &err), SJ_OK);
    sj_value v = {.i64 = 0};
    assert_int_equal(sj_set(&s, l, 0, (sj_value){.i64 = 42}, &err), SJ_OK);
    assert_int_equal(sj_get(&s, l, 0, &v, &err), SJ_OK);
    assert_int_equal(v.i64, 42);
    const char *off = getenv("SEGJIT_TEST_NO_MEMBARRIER");
    if (off && strcmp(off, "1") == 0) assert_null(sj_self.rec);
    assert_int_equal(sj_arena_close(a, &err), SJ_OK);
    assert_int_equal(sj_get(&s, l, 0, &v, &err), SJ_E_CLOSED);
    sj_layout_unref(l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_kinds),
        cmocka_unit_test(test_allocate_zeroed_aligned),
        cmocka_unit_test(test_close),
        cmocka_unit_test(test_stale_handle),
        cmocka_unit_test(test_confined_other_thread),
        cmocka_unit_test(test_shared_other_thread),
        cmocka_unit_test(test_close_waits_for_inflight),
        cmocka_unit_test(test_map_file),
        cmocka_unit_test(test_constructors),
        cmocka_unit_test(test_max_align),
        cmocka_unit_test(test_slice),
        cmocka_unit_test(test_is_aligned),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_reader_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
