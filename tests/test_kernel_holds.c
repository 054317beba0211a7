/* tests/test_kernel_holds.c: kernel holds (docs/CONCURRENCY.md 2.5, 7.4) under threads.
 * Small kernel calls on shared arenas that another thread keeps closing and reopening,
 * some from a pinned heap segment whose pin callback runs nested kernels (up to 10 deep,
 * past the 16-entry hold stack) and closes the call's own arena (SJ_E_BUSY, or SJ_E_CLOSED
 * when another thread's close came first: never SJ_OK); every call answers SJ_OK or
 * SJ_E_CLOSED, and the sanitizer builds see no use after free. The per-thread call counts
 * stay exact over waves of threads that exit and whose blocks later threads reuse, across a
 * reset. A fork while another thread holds an arena (in a callback) leaves a child that
 * closes it; a thread that exits from a callback lets the arena close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tier.h"

enum { SLOTS = 4, SEG = 512, WORKERS = 3 };

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned rnd(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* Shared arenas, replaced and closed by the closer; a is only read, b is written by
 * worker w in bytes [128 w, 128 w + 128) only (no race between workers' data). */
typedef struct slot {
    pthread_mutex_t lock;
    sj_arena arena;
    sj_segment a, b;
} slot;

static slot slots[SLOTS];
static sj_kernel *K; /* j8 -> J8 */
static atomic_bool stop;
static atomic_int bad; /* first unexpected status, as 1000 + status (0: none) */
static atomic_long n_busy, n_nested;
static _Thread_local int wid;
static _Thread_local uint64_t priv[SEG / 8];

static void note_bad(int code) {
    int none = 0;
    atomic_compare_exchange_strong(&bad, &none, code);
}

static void ok_or_closed(sj_status st) {
    if (st != SJ_OK && st != SJ_E_CLOSED) note_bad(1000 + (int)st);
}

static void take(int i, sj_arena *ar, sj_segment *a, sj_segment *b) {
    pthread_mutex_lock(&slots[i].lock);
    *ar = slots[i].arena;
    *a = slots[i].a;
    *b = slots[i].b;
    pthread_mutex_unlock(&slots[i].lock);
}

static void fresh(sj_arena *ar, sj_segment *a, sj_segment *b) {
    sj_error err = {0};
    assert_int_equal(sj_arena_open(SJ_ARENA_SHARED, ar, &err), SJ_OK);
    assert_int_equal(sj_arena_allocate(*ar, SEG, 8, a, &err), SJ_OK);
    assert_int_equal(sj_arena_allocate(*ar, SEG, 8, b, &err), SJ_OK);
    memset(a->base, 0x5a, SEG);
}

/* count 1..64 from src into private memory */
static void run_small(const sj_segment *src, unsigned *seed) {
    int64_t count = 1 + rnd(seed) % 64;
    int64_t so = 8 * (int64_t)(rnd(seed) % (unsigned)(SEG / 8 - count + 1));
    sj_segment p;
    assert_int_equal(sj_segment_native(priv, sizeof priv, &p, NULL), SJ_OK);
    ok_or_closed(sj_kernel_run(K, &(sj_args){src, so, &p, 0, count}, NULL, NULL));
}

typedef struct cbctx {
    uint64_t arr[SEG / 8];
    sj_arena outer;    /* the arena of the call's other segment: the call holds it */
    sj_segment ra, wb; /* its segments: read, written in this worker's bytes */
    unsigned seed;
    int depth;
    int pins, unpins;
} cbctx;

static void *cb_resolve(void *p) {
    return ((cbctx *)p)->arr;
}
static void cb_unpin(void *p) {
    ((cbctx *)p)->unpins++;
}
static void nested_call(cbctx *c);

static void cb_pin(void *p) {
    cbctx *c = p;
    c->pins++;
    if (c->depth < 7) { /* below 16 holds: a close of the held arena never waits */
        sj_status st = sj_arena_close(c->outer, NULL);
        if (st == SJ_E_BUSY)
            atomic_fetch_add(&n_busy, 1);
        else if (st != SJ_E_CLOSED)
            note_bad(2000 + (int)st);
    }
    run_small(&c->ra, &c->seed); /* the held arena again */
    atomic_fetch_add(&n_nested, 1);
    sj_arena ar;
    sj_segment a, b;
    take((int)(rnd(&c->seed) % SLOTS), &ar, &a, &b);
    if (c->depth < 10) {
        cbctx *in = calloc(1, sizeof *in);
        assert_non_null(in);
        *in = (cbctx){.outer = ar, .ra = a, .wb = b, .seed = c->seed + 17, .depth = c->depth + 1};
        nested_call(in);
        free(in);
    } else {
        run_small(&a, &c->seed);
    }
}

static void nested_call(cbctx *c) {
    sj_segment h;
    assert_int_equal(
        sj_segment_heap_pinned(SJ_HEAP_I64, SEG / 8, c, cb_resolve, cb_pin, cb_unpin, &h, NULL),
        SJ_OK);
    int64_t count = 1 + rnd(&c->seed) % 16;
    sj_status st = rnd(&c->seed) & 1
                       ? sj_kernel_run(K, &(sj_args){&h, 0, &c->wb, 128 * wid, count}, NULL, NULL)
                       : sj_kernel_run(K, &(sj_args){&c->ra, 0, &h, 0, count}, NULL, NULL);
    ok_or_closed(st);
    if (c->pins != c->unpins) note_bad(3000);
}

static void *worker(void *arg) {
    wid = (int)(intptr_t)arg;
    unsigned seed = 7919u * (unsigned)(wid + 1);
    while (!atomic_load_explicit(&stop, memory_order_relaxed) && !atomic_load(&bad)) {
        sj_arena ar;
        sj_segment a, b;
        take((int)(rnd(&seed) % SLOTS), &ar, &a, &b);
        unsigned op = rnd(&seed) % 8;
        if (op < 5) {
            run_small(&a, &seed);
        } else if (op < 7) {
            cbctx *c = calloc(1, sizeof *c);
            assert_non_null(c);
            *c = (cbctx){.outer = ar, .ra = a, .wb = b, .seed = seed, .depth = op == 5 ? 0 : 8};
            nested_call(c);
            seed = c->seed;
            free(c);
        } else {
            ok_or_closed(sj_fill_bytes(&b, 128 * wid, 1 + rnd(&seed) % 128, 7, NULL));
        }
    }
    return NULL;
}

static void test_nested_calls_under_close(void **state) {
    (void)state;
    sj_layout *j8 = test_layout("j8"), *J8 = test_layout("J8");
    sj_error err = {0};
    K = test_kernel(sj_kernel_copy(j8, J8, &K, &err), &K, &err);
    for (int i = 0; i < SLOTS; i++) {
        pthread_mutex_init(&slots[i].lock, NULL);
        fresh(&slots[i].arena, &slots[i].a, &slots[i].b);
    }
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i), 0);
    unsigned seed = 99;
    long closes = 0;
    for (double end = now_s() + 2; now_s() < end && !atomic_load(&bad); closes++) {
        int i = (int)(rnd(&seed) % SLOTS);
        sj_arena ar, old;
        sj_segment a, b;
        fresh(&ar, &a, &b);
        pthread_mutex_lock(&slots[i].lock);
        old = slots[i].arena;
        slots[i].arena = ar, slots[i].a = a, slots[i].b = b;
        pthread_mutex_unlock(&slots[i].lock);
        if (rnd(&seed) % 4 == 0) sched_yield();
        assert_status(sj_arena_close(old, &err), SJ_OK, &err);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&bad), 0);
    assert_true(closes > 0);
    assert_true(atomic_load(&n_busy) > 0);
    for (int i = 0; i < SLOTS; i++)
        assert_status(sj_arena_close(slots[i].arena, &err), SJ_OK, &err);
    sj_kernel_free(K);
    sj_layout_unref(j8);
    sj_layout_unref(J8);
}

/* ---- exact counts over waves of threads ---- */

enum { CALLS = 1000 };
static uint64_t csrc[64];

static void *count_thread(void *arg) {
    (void)arg;
    uint64_t out[64];
    sj_segment s, d;
    assert_int_equal(sj_segment_native(csrc, sizeof csrc, &s, NULL), SJ_OK);
    assert_int_equal(sj_segment_native(out, sizeof out, &d, NULL), SJ_OK);
    for (int i = 0; i < CALLS; i++)
        assert_int_equal(sj_kernel_run(K, &(sj_args){&s, 0, &d, 0, 1 + i % 64}, NULL, NULL), SJ_OK);
    return NULL;
}

static uint64_t runs(const sj_counters *c) {
    return c->runs_interp + c->runs_jit;
}

static void test_counts_exact_over_thread_waves(void **state) {
    (void)state;
    sj_layout *j8 = test_layout("j8"), *J8 = test_layout("J8");
    sj_error err = {0};
    K = test_kernel(sj_kernel_copy(j8, J8, &K, &err), &K, &err);
    uint64_t since_reset = 0, kernel_total = 0;
    for (int wave = 0; wave < 6; wave++) {
        if (wave == 3) {
            sj_counters_reset();
            since_reset = 0;
        }
        sj_counters c0, c1;
        sj_counters_get(&c0);
        int nt = 2 + wave % 3 * 3; /* 2, 5, 8: later waves reuse the blocks of earlier ones */
        pthread_t th[8];
        for (int i = 0; i < nt; i++)
            assert_int_equal(pthread_create(&th[i], NULL, count_thread, NULL), 0);
        for (int i = 0; i < nt; i++)
            pthread_join(th[i], NULL);
        uint64_t want = (uint64_t)nt * CALLS;
        since_reset += want;
        kernel_total += want;
        sj_counters_get(&c1);
        assert_int_equal(runs(&c1) - runs(&c0), want);
        if (wave >= 3) assert_int_equal(runs(&c1), since_reset);
        sj_kernel_info ki;
        assert_status(sj_kernel_stats(K, &ki, &err), SJ_OK, &err);
        assert_int_equal(ki.runs_interp + ki.runs_jit, kernel_total);
    }
    sj_kernel_free(K);
    sj_layout_unref(j8);
    sj_layout_unref(J8);
}

/* ---- fork and thread exit while a call holds an arena ---- */

static sj_arena FA;
static sj_segment FS;
static atomic_int in_cb;
static int cb_mode; /* 0: stay in the callback; 1: exit the thread from it */

static void *f_resolve(void *p) {
    return p;
}
static void f_nop(void *p) {
    (void)p;
}
static void f_pin(void *p) {
    (void)p;
    atomic_store(&in_cb, 1);
    if (cb_mode == 1) pthread_exit(NULL);
    for (;;)
        pause();
}

static void *f_runner(void *arg) {
    (void)arg;
    static uint64_t arr[64];
    sj_segment h;
    assert_int_equal(
        sj_segment_heap_pinned(SJ_HEAP_I64, 64, arr, f_resolve, f_pin, f_nop, &h, NULL), SJ_OK);
    sj_kernel_run(K, &(sj_args){&FS, 0, &h, 0, 8}, NULL, NULL);
    return NULL;
}

static void test_fork_and_exit_while_holding(void **state) {
    (void)state;
    sj_layout *j8 = test_layout("j8"), *J8 = test_layout("J8");
    sj_error err = {0};
    K = test_kernel(sj_kernel_copy(j8, J8, &K, &err), &K, &err);
    for (cb_mode = 0; cb_mode < 2; cb_mode++) {
        assert_int_equal(sj_arena_open(SJ_ARENA_SHARED, &FA, &err), SJ_OK);
        assert_int_equal(sj_arena_allocate(FA, 512, 8, &FS, &err), SJ_OK);
        atomic_store(&in_cb, 0);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, f_runner, NULL), 0);
        while (!atomic_load(&in_cb))
            sched_yield();
        if (cb_mode == 0) { /* the child has no other thread: its close does not wait */
            pid_t pid = fork();
            assert_true(pid >= 0);
            if (pid == 0) {
                alarm(20);
                _exit(sj_arena_close(FA, NULL) == SJ_OK ? 0 : 1);
            }
            int ws = 0;
            assert_int_equal(waitpid(pid, &ws, 0), pid);
            assert_true(WIFEXITED(ws));
            assert_int_equal(WEXITSTATUS(ws), 0);
            pthread_cancel(t); /* pause() is a cancellation point; the call's hold stays */
            pthread_join(t, NULL);
            /* the cancelled thread's slot was given back: the close goes through */
        } else {
            pthread_join(t, NULL);
        }
        assert_status(sj_arena_close(FA, &err), SJ_OK, &err);
    }
    sj_kernel_free(K);
    sj_layout_unref(j8);
    sj_layout_unref(J8);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_calls_under_close),
        cmocka_unit_test(test_counts_exact_over_thread_waves),
        cmocka_unit_test(test_fork_and_exit_while_holding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
