/* tests/test_concurrency.c: lifetimes under threads (docs/CONCURRENCY.md): shared arenas
 * closed while other threads run kernels and single accesses on them, close waiting for an
 * in-flight call, racing closers, confined arenas used from other threads, and the kernel
 * cache under concurrent compile, run and free on the JIT tier; views opened and used
 * while the arena is closed again and again (close refused with SJ_E_BUSY meanwhile). Every loop is
 * bounded by iterations and by a wall-clock deadline; a watchdog ends the process if one passes.
 * Single-threaded check order and results belong in the other test files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "scope.h" /* white box: a scope's count of open views */
#include "segjit/accessor.h"
#include "segjit/view.h"
#include "tier.h"

/* ---- time, deadlines, the watchdog ---- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Seconds a test may take before it is declared deadlocked (sanitizers make it slower). */
#define TEST_DEADLINE_S 240.0

/* A thread that ends the process when a test outlives its deadline: a deadlock inside
 * the library would otherwise hang the test instead of failing it. */
static struct {
    pthread_mutex_t lock;
    const char *what;
    double deadline;
    bool armed, quit;
    pthread_t thread;
    bool started;
} dog = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *watchdog_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&dog.lock);
    while (!dog.quit) {
        if (dog.armed && now_s() > dog.deadline) {
            fprintf(stderr, "FAIL: %s did not finish within its deadline of %.0f s (deadlock?)\n",
                    dog.what, TEST_DEADLINE_S);
            fflush(stderr);
            _exit(1);
        }
        pthread_mutex_unlock(&dog.lock);
        sleep_us(50000);
        pthread_mutex_lock(&dog.lock);
    }
    pthread_mutex_unlock(&dog.lock);
    return NULL;
}

static void watchdog_arm(const char *what) {
    pthread_mutex_lock(&dog.lock);
    dog.what = what;
    dog.deadline = now_s() + TEST_DEADLINE_S;
    dog.armed = true;
    if (!dog.started) {
        assert_int_equal(pthread_create(&dog.thread, NULL, watchdog_main, NULL), 0);
        dog.started = true;
    }
    pthread_mutex_unlock(&dog.lock);
}

static void watchdog_disarm(void) {
    pthread_mutex_lock(&dog.lock);
    dog.armed = false;
    pthread_mutex_unlock(&dog.lock);
}

static int group_teardown(void **state) {
    (void)state;
    pthread_mutex_lock(&dog.lock);
    dog.quit = true;
    bool started = dog.started;
    pthread_mutex_unlock(&dog.lock);
    if (started) pthread_join(dog.thread, NULL);
    return 0;
}

/* xorshift64 */
static uint64_t rnd(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Failures seen by worker threads: counted, the first one kept for the report. */
static struct {
    pthread_mutex_t lock;
    atomic_int count;
    char first[512];
} fails = {PTHREAD_MUTEX_INITIALIZER, 0, ""};

static void worker_fail(const char *fmt, ...) {
    if (atomic_fetch_add(&fails.count, 1) != 0) return;
    pthread_mutex_lock(&fails.lock);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fails.first, sizeof fails.first, fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&fails.lock);
}

static void fails_reset(void) {
    atomic_store(&fails.count, 0);
    fails.first[0] = '\0';
}

static void fails_check(void) {
    int n = atomic_load(&fails.count);
    if (n) fail_msg("%d failures in worker threads; first: %s", n, fails.first);
}

/* ---- 1. shared arenas closed under running calls ---- */

#define NTHREADS 6
#define NROUNDS  200
#define NELEMS   (64 * 1024) /* i32 elements of a source segment: 256 KiB */
#define MAX_OPS  2000000L    /* per worker */

/* One arena's life. Written by the main thread before it is published (current), then
 * read-only except for the atomics. Each worker writes only its own destination. */
typedef struct arena_round {
    sj_arena arena;
    sj_segment src;           /* i32 value i at index i */
    sj_segment dst[NTHREADS]; /* one per worker: no two threads write the same bytes */
    atomic_bool closing;      /* set just before sj_arena_close is called */
    atomic_bool closed;       /* set once sj_arena_close has returned */
    atomic_long calls;        /* calls started on this round */
    atomic_long held;         /* views of it that workers hold open (test 6) */
    atomic_bool no_views;     /* workers open no more views of it (test 6) */
} arena_round;

static arena_round rounds[NROUNDS];
static atomic_int current_round;
static atomic_bool stop_workers;
static atomic_int workers_running;

typedef enum tier_ix { TI_INTERP, TI_JIT, TI_COUNT } tier_ix;

/* Kernels shared by every worker: built once, run from many threads at once. */
static struct {
    sj_layout *i4, *i4be, *seq;
    sj_path *all;
    sj_kernel *copy[TI_COUNT], *swap[TI_COUNT], *sum[TI_COUNT], *max[TI_COUNT], *fill[TI_COUNT];
    sj_accessor *elem; /* [*] of seq: element i, i32 */
    sj_accessor *rec;  /* [*] over i4 records: element i of a view, i32 */
} K;

static void kernels_build(void) {
    sj_error err = {0};
    K.i4 = test_layout("i4");
    K.i4be = test_layout("I4");
    char text[64];
    snprintf(text, sizeof text, "[%d:i4]", NELEMS);
    K.seq = test_layout(text);
    K.all = test_path(K.seq, "[*]");
    assert_status(sj_accessor_new(K.seq, "[*]", &K.elem, &err), SJ_OK, &err);
    assert_status(sj_accessor_new(K.i4, "[*]", &K.rec, &err), SJ_OK, &err);
    for (int t = 0; t < TI_COUNT; t++) {
        sj_tier tier = t == TI_JIT ? SJ_TIER_JIT : SJ_TIER_INTERP;
        assert_status(sj_kernel_copy(K.i4, K.i4, &K.copy[t], &err), SJ_OK, &err);
        assert_status(sj_kernel_copy(K.i4, K.i4be, &K.swap[t], &err), SJ_OK, &err);
        assert_status(sj_kernel_reduce(K.all, SJ_REDUCE_SUM, &K.sum[t], &err), SJ_OK, &err);
        assert_status(sj_kernel_reduce(K.all, SJ_REDUCE_MAX, &K.max[t], &err), SJ_OK, &err);
        assert_status(sj_kernel_fill(K.i4, (sj_value){.i32 = -7}, &K.fill[t], &err), SJ_OK, &err);
        sj_kernel *ks[] = {K.copy[t], K.swap[t], K.sum[t], K.max[t], K.fill[t]};
        for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
            sj_kernel_set_tier(ks[i], tier);
    }
}

static void kernels_free(void) {
    for (int t = 0; t < TI_COUNT; t++) {
        sj_kernel_free(K.copy[t]);
        sj_kernel_free(K.swap[t]);
        sj_kernel_free(K.sum[t]);
        sj_kernel_free(K.max[t]);
        sj_kernel_free(K.fill[t]);
    }
    sj_path_free(K.all);
    sj_accessor_free(K.elem);
    sj_accessor_free(K.rec);
    sj_layout_unref(K.i4);
    sj_layout_unref(K.i4be);
    sj_layout_unref(K.seq);
    memset(&K, 0, sizeof K);
}

static uint32_t bswap32(uint32_t v) {
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

enum {
    OP_COPY,
    OP_SWAP,
    OP_SUM,
    OP_MAX,
    OP_GET,
    OP_SETGET,
    OP_BYTES,
    OP_FILL,
    OP_ALLOC,
    OP_ACC_READS,
    OP_ACC_WRITES,
    NOPS
};
static const char *const op_names[NOPS] = {
    "copy",           "swap",           "sum", "max", "get", "set", "bytes", "fill", "allocate",
    "accessor reads", "accessor writes"};

/* Accessor calls per OP_ACC_* operation: a run of single accesses that close may cut. */
#define ACC_RUN 256

typedef struct worker {
    int id;
    uint64_t seed;
    double deadline;
    int done_round; /* saw the live round closed: wait for the next one */
    long ops, ok, closed, after_close, overlapped;
    long per_op_ok[NOPS];
} worker;

/* Reads dst[j] back through sj_get and checks it against the source element it was copied
 * from (byte-swapped for the swapping kernel). CLOSED is fine: the arena may be gone. */
static void check_copied(worker *w, arena_round *rd, int64_t j, int64_t first, bool swapped) {
    sj_error err = {0};
    sj_value v;
    sj_status st = sj_get(&rd->dst[w->id], K.i4, 4 * j, &v, &err);
    if (st == SJ_E_CLOSED) return;
    if (st != SJ_OK) {
        worker_fail("worker %d: get after copy: %s: %s", w->id, sj_status_name(st), err.message);
        return;
    }
    uint32_t want = (uint32_t)(first + j);
    if (swapped) want = bswap32(want);
    if ((uint32_t)v.i32 != want)
        worker_fail("worker %d: element %lld after %s copy is %u, expected %u", w->id, (long long)j,
                    swapped ? "swapping" : "plain", (unsigned)v.i32, want);
}

/* One call on round rd: returns its status; checks any result it produced. */
static sj_status one_op(worker *w, arena_round *rd, int op, int t) {
    sj_error err = {0};
    sj_result r;
    sj_value v;
    const sj_segment *dst = &rd->dst[w->id];
    int64_t first = (int64_t)(rnd(&w->seed) % 1024);
    int64_t n = NELEMS - first - (int64_t)(rnd(&w->seed) % 1024);
    sj_status st = SJ_OK;
    switch (op) {
        case OP_COPY:
        case OP_SWAP: {
            sj_args a = {&rd->src, 4 * first, dst, 0, n};
            st = sj_kernel_run(op == OP_COPY ? K.copy[t] : K.swap[t], &a, NULL, &err);
            if (st == SJ_OK) {
                check_copied(w, rd, 0, first, op == OP_SWAP);
                check_copied(w, rd, n - 1, first, op == OP_SWAP);
                check_copied(w, rd, (int64_t)(rnd(&w->seed) % (uint64_t)n), first, op == OP_SWAP);
            }
            break;
        }
        case OP_SUM:
        case OP_MAX: {
            sj_args a = {&rd->src, 0, NULL, 0, NELEMS};
            st = sj_kernel_run(op == OP_SUM ? K.sum[t] : K.max[t], &a, &r, &err);
            int64_t want = op == OP_SUM ? (int64_t)NELEMS * (NELEMS - 1) / 2 : NELEMS - 1;
            if (st == SJ_OK && r.i64 != want)
                worker_fail("worker %d: %s is %lld, expected %lld", w->id, op_names[op],
                            (long long)r.i64, (long long)want);
            break;
        }
        case OP_GET: {
            int64_t i = (int64_t)(rnd(&w->seed) % NELEMS);
            st = sj_get(&rd->src, K.i4, 4 * i, &v, &err);
            if (st == SJ_OK && v.i32 != (int32_t)i)
                worker_fail("worker %d: src[%lld] is %d", w->id, (long long)i, v.i32);
            break;
        }
        case OP_SETGET: {
            int64_t i = (int64_t)(rnd(&w->seed) % NELEMS);
            int32_t x = (int32_t)rnd(&w->seed);
            st = sj_set(dst, K.i4, 4 * i, (sj_value){.i32 = x}, &err);
            if (st == SJ_OK) {
                sj_status st2 = sj_get(dst, K.i4, 4 * i, &v, &err);
                if (st2 == SJ_OK && v.i32 != x)
                    worker_fail("worker %d: read %d after writing %d", w->id, v.i32, x);
                else if (st2 != SJ_OK && st2 != SJ_E_CLOSED)
                    worker_fail("worker %d: get after set: %s", w->id, sj_status_name(st2));
            }
            break;
        }
        case OP_BYTES:
            st = sj_copy_bytes(&rd->src, 4 * first, dst, 0, 4 * n, &err);
            if (st == SJ_OK) check_copied(w, rd, n / 2, first, false);
            break;
        case OP_FILL: {
            sj_args a = {NULL, 0, dst, 0, n};
            st = sj_kernel_run(K.fill[t], &a, NULL, &err);
            if (st == SJ_OK) {
                sj_status st2 = sj_get(dst, K.i4, 4 * (n - 1), &v, &err);
                if (st2 == SJ_OK && v.i32 != -7)
                    worker_fail("worker %d: filled element is %d", w->id, v.i32);
            }
            break;
        }
        case OP_ALLOC: {
            sj_segment s;
            st = sj_arena_allocate(rd->arena, 256, 64, &s, &err);
            if (st == SJ_OK) {
                sj_status st2 = sj_set(&s, K.i4, 252, (sj_value){.i32 = 5}, &err);
                if (st2 != SJ_OK && st2 != SJ_E_CLOSED)
                    worker_fail("worker %d: set in a fresh allocation: %s", w->id,
                                sj_status_name(st2));
            }
            break;
        }
        case OP_ACC_READS:
        case OP_ACC_WRITES: {
            /* Each access succeeds or says CLOSED, and once one says CLOSED every later one
             * does (the arena never reopens under a handle). The op's status is the last. */
            bool writes = op == OP_ACC_WRITES;
            const sj_segment *seg = writes ? dst : &rd->src;
            bool seen_closed = false;
            for (int k = 0; k < ACC_RUN; k++) {
                int64_t i = (first + k * 61) % NELEMS;
                int32_t x = 0;
                bool was_closed = atomic_load(&rd->closed);
                st = writes ? sj_accessor_set_i32(K.elem, seg, 0, &i, 1, (int32_t)(i ^ 0x55), &err)
                            : sj_accessor_get_i32(K.elem, seg, 0, &i, 1, &x, &err);
                if (st == SJ_OK && (seen_closed || was_closed))
                    worker_fail("worker %d: %s: SJ_OK after %s", w->id, op_names[op],
                                was_closed ? "close returned" : "an SJ_E_CLOSED");
                if (st == SJ_OK && writes)
                    st = sj_accessor_get_i32(K.elem, seg, 0, &i, 1, &x, &err);
                if (st == SJ_OK && x != (int32_t)(writes ? i ^ 0x55 : i))
                    worker_fail("worker %d: %s: element %lld is %d", w->id, op_names[op],
                                (long long)i, x);
                if (st == SJ_E_CLOSED) seen_closed = true;
                if (st != SJ_OK && st != SJ_E_CLOSED) break;
            }
            break;
        }
    }
    if (st != SJ_OK && st != SJ_E_CLOSED)
        worker_fail("worker %d: %s (%s tier) returned %s: %s", w->id, op_names[op],
                    t == TI_JIT ? "jit" : "interp", sj_status_name(st), err.message);
    return st;
}

/* A worker's call into a round: the live round when it began (cur), the round called (r,
 * rd), and whether that round's close had returned before the call. */
typedef struct round_call {
    int cur, r;
    arena_round *rd;
    bool closed_before;
} round_call;

/* Begins a worker's next call: false (after a short sleep) while there is no live round or
 * the worker saw this one closed. Mostly the live round; sometimes the one before it,
 * closed (its scope likely reused by the live one: a stale handle). */
static bool round_call_begin(worker *w, round_call *c) {
    c->cur = atomic_load(&current_round);
    if (c->cur < 0 || c->cur == w->done_round) {
        sleep_us(20);
        return false;
    }
    c->r = (c->cur > 0 && rnd(&w->seed) % 4 == 0) ? c->cur - 1 : c->cur;
    c->rd = &rounds[c->r];
    c->closed_before = atomic_load(&c->rd->closed);
    atomic_fetch_add(&c->rd->calls, 1);
    return true;
}

/* Counts the call's status st (`what` names its operation): once its round's close has
 * returned, a call answers SJ_E_CLOSED and nothing else. */
static void round_call_end(worker *w, const round_call *c, sj_status st, const char *what) {
    w->ops++;
    if (st == SJ_OK) {
        w->ok++;
    } else if (st == SJ_E_CLOSED) {
        w->closed++;
        if (c->r == c->cur && c->closed_before) w->done_round = c->cur;
        /* the live round is closing: leave the cores to the calls close waits for */
        if (c->r == c->cur) sleep_us(10);
    }
    if (c->closed_before) {
        w->after_close++;
        if (st != SJ_E_CLOSED)
            worker_fail("worker %d: %s on round %d returned %s after its close returned", w->id,
                        what, c->r, sj_status_name(st));
    }
}

static void *close_worker(void *arg) {
    worker *w = arg;
    while (!atomic_load(&stop_workers) && w->ops < MAX_OPS && now_s() < w->deadline) {
        round_call c;
        if (!round_call_begin(w, &c)) continue;
        int op = (int)(rnd(&w->seed) % NOPS);
        int t = (int)(rnd(&w->seed) % TI_COUNT);
        sj_status st = one_op(w, c.rd, op, t);
        if (st == SJ_OK) {
            w->per_op_ok[op]++;
            /* still running when the main thread called close: it had passed its lifetime
             * check before close marked the arena, and close had to wait for it */
            if (atomic_load(&c.rd->closing)) w->overlapped++;
        }
        round_call_end(w, &c, st, op_names[op]);
    }
    atomic_fetch_sub(&workers_running, 1);
    return NULL;
}

static void round_open(arena_round *rd) {
    sj_error err = {0};
    assert_status(sj_arena_open(SJ_ARENA_SHARED, &rd->arena, &err), SJ_OK, &err);
    assert_status(sj_arena_allocate(rd->arena, 4 * NELEMS, 64, &rd->src, &err), SJ_OK, &err);
    int32_t *p = (int32_t *)(void *)rd->src.base;
    for (int i = 0; i < NELEMS; i++)
        p[i] = i;
    for (int t = 0; t < NTHREADS; t++)
        assert_status(sj_arena_allocate(rd->arena, 4 * NELEMS, 64, &rd->dst[t], &err), SJ_OK, &err);
    atomic_init(&rd->closing, false);
    atomic_init(&rd->closed, false);
    atomic_init(&rd->calls, 0);
    atomic_init(&rd->held, 0);
    atomic_init(&rd->no_views, false);
}

/* The start of a test of rounds closed under workers: its watchdog, no failures yet, the
 * shared kernels, no live round, NTHREADS workers about to run. Returns its deadline. */
static double rounds_test_begin(const char *name) {
    watchdog_arm(name);
    fails_reset();
    kernels_build();
    double deadline = now_s() + TEST_DEADLINE_S - 10;
    atomic_store(&current_round, -1);
    atomic_store(&stop_workers, false);
    atomic_store(&workers_running, NTHREADS);
    return deadline;
}

/* A worker's id, seed and deadline; it has seen no round closed. */
static void worker_init(worker *w, int id, uint64_t seed, double deadline) {
    w->id = id;
    w->seed = seed;
    w->deadline = deadline;
    w->done_round = -1;
}

/* Opens round r and makes it the live one, then waits (while workers run, half a second at
 * most) for the calls it should see before its close: none, one, one per worker or four per
 * worker by turns, so that close comes at once or once calls have piled up. */
static arena_round *round_start(int r) {
    arena_round *rd = &rounds[r];
    round_open(rd);
    atomic_store(&current_round, r);
    long want = (long[]){0, 1, NTHREADS, 4 * NTHREADS}[r % 4];
    double until = now_s() + 0.5;
    while (atomic_load(&rd->calls) < want && atomic_load(&workers_running) > 0 && now_s() < until)
        sched_yield();
    return rd;
}

/* The end of such a test: the kernels freed, the workers' failures reported, every round
 * run and some call answered SJ_OK. */
static void rounds_test_end(int rounds_done, long ok) {
    kernels_free();
    fails_check();
    if (rounds_done < NROUNDS)
        fail_msg("deadline passed after %d of %d arenas", rounds_done, NROUNDS);
    assert_true(ok > 0);
}

static void test_close_under_running_calls(void **state) {
    (void)state;
    double deadline = rounds_test_begin("close_under_running_calls");
    worker ws[NTHREADS];
    pthread_t th[NTHREADS];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < NTHREADS; i++) {
        worker_init(&ws[i], i, 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1), deadline);
        assert_int_equal(pthread_create(&th[i], NULL, close_worker, &ws[i]), 0);
    }
    double close_wait = 0;
    int rounds_done = 0;
    for (int r = 0; r < NROUNDS && now_s() < deadline; r++) {
        arena_round *rd = round_start(r);
        sj_error err = {0};
        double t0 = now_s();
        atomic_store(&rd->closing, true);
        assert_status(sj_arena_close(rd->arena, &err), SJ_OK, &err);
        close_wait += now_s() - t0;
        atomic_store(&rd->closed, true);
        /* closed for good: this thread too, and a second close */
        sj_value v;
        assert_int_equal(sj_get(&rd->src, K.i4, 0, &v, NULL), SJ_E_CLOSED);
        assert_int_equal(sj_arena_close(rd->arena, NULL), SJ_E_CLOSED);
        assert_false(sj_arena_is_alive(rd->arena));
        rounds_done++;
    }
    atomic_store(&stop_workers, true);
    long ops = 0, ok = 0, closed = 0, after = 0, overlapped = 0, per_op[NOPS] = {0};
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        ops += ws[i].ops;
        ok += ws[i].ok;
        closed += ws[i].closed;
        after += ws[i].after_close;
        overlapped += ws[i].overlapped;
        for (int o = 0; o < NOPS; o++)
            per_op[o] += ws[i].per_op_ok[o];
    }
    printf("close under running calls: %d arenas, %d threads, %ld calls (%ld OK, %ld CLOSED, "
           "%ld made after close returned); %ld OK calls were still running when close was called; "
           "%.1f ms spent in close\n",
           rounds_done, NTHREADS, ops, ok, closed, after, overlapped, close_wait * 1e3);
    printf("  OK calls per operation:");
    for (int o = 0; o < NOPS; o++)
        printf(" %s %ld", op_names[o], per_op[o]);
    printf("\n");
    rounds_test_end(rounds_done, ok);
    assert_true(closed > 0);
    watchdog_disarm();
}

/* ---- 2. close waits for an in-flight call ---- */

/* A heap segment whose resolve blocks: a kernel run resolves it after it has pinned the
 * other (arena) segment, so the run is provably in flight while it blocks. */
static struct {
    pthread_mutex_t lock;
    bool entered, released;
    int32_t array[64];
} blk = {PTHREAD_MUTEX_INITIALIZER, false, false, {0}};

static void *blocking_resolve(void *owner) {
    pthread_mutex_lock(&blk.lock);
    blk.entered = true;
    double limit = now_s() + 30;
    while (!blk.released && now_s() < limit) {
        pthread_mutex_unlock(&blk.lock);
        sleep_us(500);
        pthread_mutex_lock(&blk.lock);
    }
    pthread_mutex_unlock(&blk.lock);
    return owner;
}

typedef struct run_call {
    const sj_kernel *k;
    sj_args args;
    sj_status st;
    sj_error err;
} run_call;

static void *run_call_main(void *arg) {
    run_call *c = arg;
    c->st = sj_kernel_run(c->k, &c->args, NULL, &c->err);
    return NULL;
}

typedef struct closer {
    sj_arena arena;
    sj_status st;
    atomic_bool returned;
} closer;

static void *closer_main(void *arg) {
    closer *c = arg;
    c->st = sj_arena_close(c->arena, NULL);
    atomic_store(&c->returned, true);
    return NULL;
}

static bool wait_flag(bool *flag, double seconds) {
    double limit = now_s() + seconds;
    for (;;) {
        pthread_mutex_lock(&blk.lock);
        bool v = *flag;
        pthread_mutex_unlock(&blk.lock);
        if (v) return true;
        if (now_s() > limit) return false;
        sleep_us(200);
    }
}

static void test_close_waits_for_inflight_call(void **state) {
    (void)state;
    watchdog_arm("close_waits_for_inflight_call");
    sj_error err = {0};
    sj_layout *i4 = test_layout("i4");
    for (int t = 0; t < TI_COUNT; t++) {
        for (int rep = 0; rep < 5; rep++) {
            sj_kernel *k = NULL;
            k = test_kernel(sj_kernel_copy(i4, i4, &k, &err), &k, &err);
            sj_kernel_set_tier(k, t == TI_JIT ? SJ_TIER_JIT : SJ_TIER_INTERP);
            sj_arena a;
            sj_segment src, heap;
            assert_status(sj_arena_open(SJ_ARENA_SHARED, &a, &err), SJ_OK, &err);
            assert_status(sj_arena_allocate(a, 256, 64, &src, &err), SJ_OK, &err);
            for (int i = 0; i < 64; i++)
                ((int32_t *)(void *)src.base)[i] = 1000 + i + rep;
            memset(blk.array, 0, sizeof blk.array);
            assert_status(
                sj_segment_heap(SJ_HEAP_I32, 64, blk.array, blocking_resolve, &heap, &err), SJ_OK,
                &err);
            blk.entered = blk.released = false;

            run_call rc = {k, {&src, 0, &heap, 0, 64}, SJ_OK, {0}};
            pthread_t rth, cth;
            assert_int_equal(pthread_create(&rth, NULL, run_call_main, &rc), 0);
            assert_true(wait_flag(&blk.entered, 30));

            closer cl = {a, SJ_OK, false};
            assert_int_equal(pthread_create(&cth, NULL, closer_main, &cl), 0);
            double limit = now_s() + 30;
            while (sj_arena_is_alive(a) && now_s() < limit)
                sleep_us(100);
            assert_false(sj_arena_is_alive(a)); /* close has begun */

            /* Calls that start now fail, on any thread, while close waits. */
            sj_value v;
            assert_int_equal(sj_get(&src, i4, 0, &v, NULL), SJ_E_CLOSED);
            sj_segment other;
            assert_int_equal(sj_arena_allocate(a, 16, 16, &other, NULL), SJ_E_CLOSED);
            assert_int_equal(sj_arena_close(a, NULL), SJ_E_CLOSED);
            sleep_us(20000);
            assert_false(atomic_load(&cl.returned)); /* close still waits for the run */

            pthread_mutex_lock(&blk.lock);
            blk.released = true;
            pthread_mutex_unlock(&blk.lock);
            assert_int_equal(pthread_join(rth, NULL), 0);
            assert_int_equal(pthread_join(cth, NULL), 0);
            if (rc.st != SJ_OK)
                fail_msg("in-flight run: %s: %s", sj_status_name(rc.st), rc.err.message);
            assert_int_equal(cl.st, SJ_OK);
            for (int i = 0; i < 64; i++)
                assert_int_equal(blk.array[i], 1000 + i + rep);
            sj_kernel_free(k);
        }
    }
    sj_layout_unref(i4);
    watchdog_disarm();
}

/* ---- 3. racing closers ---- */

#define NCLOSERS 6

typedef struct race {
    pthread_barrier_t *barrier;
    sj_arena arena;
    sj_status st;
} race;

static void *race_close(void *arg) {
    race *r = arg;
    pthread_barrier_wait(r->barrier);
    r->st = sj_arena_close(r->arena, NULL);
    return NULL;
}

static void test_racing_closers(void **state) {
    (void)state;
    watchdog_arm("racing_closers");
    sj_error err = {0};
    double deadline = now_s() + TEST_DEADLINE_S - 10;
    for (int r = 0; r < 200 && now_s() < deadline; r++) {
        sj_arena a;
        sj_segment s;
        assert_status(sj_arena_open(SJ_ARENA_SHARED, &a, &err), SJ_OK, &err);
        for (int i = 0; i < 4; i++)
            assert_status(sj_arena_allocate(a, 4096, 16, &s, &err), SJ_OK, &err);
        pthread_barrier_t b;
        pthread_barrier_init(&b, NULL, NCLOSERS);
        race rs[NCLOSERS];
        pthread_t th[NCLOSERS];
        for (int i = 0; i < NCLOSERS; i++) {
            rs[i] = (race){&b, a, SJ_OK};
            assert_int_equal(pthread_create(&th[i], NULL, race_close, &rs[i]), 0);
        }
        int oks = 0;
        for (int i = 0; i < NCLOSERS; i++) {
            assert_int_equal(pthread_join(th[i], NULL), 0);
            if (rs[i].st == SJ_OK)
                oks++;
            else
                assert_int_equal(rs[i].st, SJ_E_CLOSED);
        }
        pthread_barrier_destroy(&b);
        assert_int_equal(oks, 1);
    }
    watchdog_disarm();
}

/* ---- 4. confined arenas from other threads ---- */

typedef struct confined_probe {
    sj_arena arena;
    sj_segment seg;
    sj_segment shared_seg;
    sj_status expect; /* THREAD while open, CLOSED once closed */
    int failures;
    char first[256];
} confined_probe;

static void probe_expect(confined_probe *p, const char *what, sj_status st, const sj_error *err) {
    if (st == p->expect) return;
    if (p->failures++ == 0)
        snprintf(p->first, sizeof p->first, "%s: %s (%.180s), expected %s", what,
                 sj_status_name(st), err->message, sj_status_name(p->expect));
}

static void *confined_other_thread(void *arg) {
    confined_probe *p = arg;
    sj_error err = {0};
    for (int t = 0; t < TI_COUNT; t++) {
        sj_args in = {&p->seg, 0, &p->shared_seg, 0, 16};
        sj_args out = {&p->shared_seg, 0, &p->seg, 0, 16};
        sj_args red = {&p->seg, 0, NULL, 0, 16};
        sj_args fill = {NULL, 0, &p->seg, 0, 16};
        sj_result r;
        probe_expect(p, "copy from", sj_kernel_run(K.copy[t], &in, NULL, &err), &err);
        probe_expect(p, "copy into", sj_kernel_run(K.swap[t], &out, NULL, &err), &err);
        probe_expect(p, "reduce", sj_kernel_run(K.sum[t], &red, &r, &err), &err);
        probe_expect(p, "fill", sj_kernel_run(K.fill[t], &fill, NULL, &err), &err);
    }
    sj_value v;
    sj_segment s;
    int64_t n;
    probe_expect(p, "get", sj_get(&p->seg, K.i4, 0, &v, &err), &err);
    probe_expect(p, "set", sj_set(&p->seg, K.i4, 0, v, &err), &err);
    probe_expect(p, "copy_bytes", sj_copy_bytes(&p->seg, 0, &p->shared_seg, 0, 8, &err), &err);
    probe_expect(p, "fill_bytes", sj_fill_bytes(&p->seg, 0, 8, 1, &err), &err);
    probe_expect(p, "mismatch", sj_mismatch(&p->seg, 0, 8, &p->shared_seg, 0, 8, &n, &err), &err);
    probe_expect(p, "check_alive", sj_segment_check_alive(&p->seg, &err), &err);
    probe_expect(p, "allocate", sj_arena_allocate(p->arena, 16, 16, &s, &err), &err);
    probe_expect(p, "close", sj_arena_close(p->arena, &err), &err);
    return NULL;
}

static void test_confined_from_other_threads(void **state) {
    (void)state;
    watchdog_arm("confined_from_other_threads");
    kernels_build();
    sj_error err = {0};
    sj_arena shared;
    confined_probe p;
    memset(&p, 0, sizeof p);
    assert_status(sj_arena_open(SJ_ARENA_SHARED, &shared, &err), SJ_OK, &err);
    assert_status(sj_arena_allocate(shared, 64, 64, &p.shared_seg, &err), SJ_OK, &err);
    assert_status(sj_arena_open(SJ_ARENA_CONFINED, &p.arena, &err), SJ_OK, &err);
    assert_status(sj_arena_allocate(p.arena, 4 * NELEMS, 64, &p.seg, &err), SJ_OK, &err);
    for (int i = 0; i < 64; i++)
        p.seg.base[i] = (uint8_t)i;
    uint8_t before[64];
    memcpy(before, p.seg.base, 64);

    for (int phase = 0; phase < 2; phase++) {
        /* phase 0: open, other threads get THREAD; phase 1: closed, they get CLOSED */
        p.expect = phase == 0 ? SJ_E_THREAD : SJ_E_CLOSED;
        pthread_t th[4];
        confined_probe ps[4];
        for (int i = 0; i < 4; i++) {
            ps[i] = p;
            assert_int_equal(pthread_create(&th[i], NULL, confined_other_thread, &ps[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            assert_int_equal(pthread_join(th[i], NULL), 0);
            if (ps[i].failures)
                fail_msg("confined arena (%s) from another thread: %d calls wrong; first: %s",
                         phase == 0 ? "open" : "closed", ps[i].failures, ps[i].first);
        }
        if (phase == 0) {
            /* nothing was written, the arena is still open, and its owner may use it */
            assert_memory_equal(p.seg.base, before, 64);
            assert_true(sj_arena_is_alive(p.arena));
            for (int t = 0; t < TI_COUNT; t++) {
                sj_args a = {&p.seg, 0, &p.shared_seg, 0, 16};
                assert_status(sj_kernel_run(K.copy[t], &a, NULL, &err), SJ_OK, &err);
                assert_memory_equal(p.shared_seg.base, before, 64);
            }
            assert_status(sj_arena_close(p.arena, &err), SJ_OK, &err);
        }
    }
    assert_status(sj_arena_close(shared, &err), SJ_OK, &err);
    kernels_free();
    watchdog_disarm();
}

/* ---- 5. the kernel cache under concurrent compile, run and free ---- */

#define CACHE_THREADS 6
#define CACHE_ITERS   60

/* Layout pairs every thread builds (the same plans from several threads at once). */
static const char *const cache_pairs[][2] = {
    {"i4", "i4"},     {"i4", "I4"},         {"j8", "J8"},
    {"s2", "S2"},     {"d8", "D8"},         {"[i4(a)s2(b)s2(c)]", "[i4(a)s2(b)s2(c)]"},
    {"b1", "b1"},     {"[3:i4]", "[3:I4]"}, {"[j8(x)d8(y)]", "[j8(p)d8(q)]"},
    {"1%j8", "1%J8"},
};
#define NPAIRS (sizeof cache_pairs / sizeof cache_pairs[0])

/* Kernels built once and run by every cache thread while others come and go. */
static sj_kernel *shared_kernels[NPAIRS];
static sj_layout *shared_layouts[NPAIRS][2];

static void reference_copy(const sj_layout *sl, const sj_layout *dl, const uint8_t *src,
                           uint8_t *dst, int64_t count) {
    size_t size = (size_t)sj_layout_size(sl);
    bool swap = sj_layout_tag(sl) == SJ_VALUE && sj_layout_tag(dl) == SJ_VALUE && size > 1 &&
                sj_layout_order(sl) != sj_layout_order(dl);
    for (int64_t i = 0; i < count; i++)
        for (size_t j = 0; j < size; j++)
            dst[(size_t)i * size + j] = src[(size_t)i * size + (swap ? size - 1 - j : j)];
}

typedef struct cache_worker {
    int id;
    uint64_t seed;
    double deadline;
    long built, runs, jit_runs;
} cache_worker;

static void cache_run_check(cache_worker *w, const sj_kernel *k, const sj_layout *sl,
                            const sj_layout *dl, const char *what) {
    size_t size = (size_t)sj_layout_size(sl);
    int64_t count = 1 + (int64_t)(rnd(&w->seed) % 300);
    size_t bytes = size * (size_t)count;
    size_t cap = (bytes + 63) / 64 * 64; /* aligned_alloc wants a multiple of 64 */
    uint8_t *src = aligned_alloc(64, cap), *dst = aligned_alloc(64, cap);
    uint8_t *want = malloc(bytes);
    if (!src || !dst || !want) {
        worker_fail("out of memory");
        free(src);
        free(dst);
        free(want);
        return;
    }
    for (size_t i = 0; i < bytes; i++)
        src[i] = (uint8_t)(rnd(&w->seed) >> 24);
    memset(dst, 0, bytes);
    reference_copy(sl, dl, src, want, count);
    sj_segment ss, ds;
    sj_error err = {0};
    sj_status st = sj_segment_native(src, (int64_t)bytes, &ss, &err);
    if (st == SJ_OK) st = sj_segment_native(dst, (int64_t)bytes, &ds, &err);
    if (st == SJ_OK) {
        sj_args a = {&ss, 0, &ds, 0, count};
        st = sj_kernel_run(k, &a, NULL, &err);
    }
    w->runs++;
    if (sj_kernel_last_tier(k) == SJ_TIER_JIT) w->jit_runs++;
    if (st != SJ_OK)
        worker_fail("cache worker %d: %s: %s: %s", w->id, what, sj_status_name(st), err.message);
    else if (memcmp(dst, want, bytes) != 0)
        worker_fail("cache worker %d: %s copied wrong bytes (count %lld)", w->id, what,
                    (long long)count);
    free(src);
    free(dst);
    free(want);
}

static void *cache_worker_main(void *arg) {
    cache_worker *w = arg;
    sj_error err = {0};
    for (int it = 0; it < CACHE_ITERS && now_s() < w->deadline; it++) {
        /* a kernel of a shared pair, one distinct to this thread and iteration, and a
         * long-lived one built by the main thread */
        size_t pi = (size_t)(rnd(&w->seed) % NPAIRS);
        sj_layout *sl = NULL, *dl = NULL;
        if (sj_layout_parse(cache_pairs[pi][0], &sl, &err) != SJ_OK ||
            sj_layout_parse(cache_pairs[pi][1], &dl, &err) != SJ_OK) {
            worker_fail("cache worker %d: parse: %s", w->id, err.message);
            sj_layout_unref(sl);
            break;
        }
        sj_kernel *k = NULL;
        if (sj_kernel_copy(sl, dl, &k, &err) != SJ_OK) {
            worker_fail("cache worker %d: build %s: %s", w->id, cache_pairs[pi][0], err.message);
        } else {
            w->built++;
            sj_kernel_set_tier(k, SJ_TIER_JIT);
            cache_run_check(w, k, sl, dl, cache_pairs[pi][0]);
            cache_run_check(w, k, sl, dl, cache_pairs[pi][0]);
            sj_kernel_free(k);
        }
        sj_layout_unref(sl);
        sj_layout_unref(dl);

        char text[48];
        snprintf(text, sizeof text, "[%d:%s]", 1 + w->id * CACHE_ITERS + it, it % 2 ? "i4" : "s2");
        char text2[48];
        snprintf(text2, sizeof text2, "[%d:%s]", 1 + w->id * CACHE_ITERS + it,
                 it % 2 ? "I4" : "s2");
        sl = dl = NULL;
        k = NULL;
        if (sj_layout_parse(text, &sl, &err) != SJ_OK ||
            sj_layout_parse(text2, &dl, &err) != SJ_OK) {
            worker_fail("cache worker %d: parse %s: %s", w->id, text, err.message);
        } else if (sj_kernel_copy(sl, dl, &k, &err) != SJ_OK) {
            worker_fail("cache worker %d: build %s: %s", w->id, text, err.message);
        } else {
            w->built++;
            sj_kernel_set_tier(k, SJ_TIER_JIT);
            cache_run_check(w, k, sl, dl, text);
            sj_kernel_free(k);
        }
        sj_layout_unref(sl);
        sj_layout_unref(dl);

        size_t si = (size_t)(rnd(&w->seed) % NPAIRS);
        cache_run_check(w, shared_kernels[si], shared_layouts[si][0], shared_layouts[si][1],
                        "shared kernel");
    }
    return NULL;
}

static void test_kernel_cache_concurrent(void **state) {
    (void)state;
    watchdog_arm("kernel_cache_concurrent");
    fails_reset();
    const char *why = NULL;
    bool jit = sj_jit_available(&why);
    if (!jit) printf("kernel cache: the JIT is not available (%s); runs on the interpreter\n", why);
    sj_counters before;
    sj_counters_get(&before);
    sj_error err = {0};
    for (size_t i = 0; i < NPAIRS; i++) {
        shared_layouts[i][0] = test_layout(cache_pairs[i][0]);
        shared_layouts[i][1] = test_layout(cache_pairs[i][1]);
        assert_status(
            sj_kernel_copy(shared_layouts[i][0], shared_layouts[i][1], &shared_kernels[i], &err),
            SJ_OK, &err);
        sj_kernel_set_tier(shared_kernels[i], SJ_TIER_JIT);
    }
    double deadline = now_s() + TEST_DEADLINE_S - 10;
    cache_worker ws[CACHE_THREADS];
    pthread_t th[CACHE_THREADS];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < CACHE_THREADS; i++) {
        ws[i].id = i;
        ws[i].seed = 0x2545f4914f6cdd1dull * (uint64_t)(i + 3);
        ws[i].deadline = deadline;
        assert_int_equal(pthread_create(&th[i], NULL, cache_worker_main, &ws[i]), 0);
    }
    long built = 0, runs = 0, jit_runs = 0;
    for (int i = 0; i < CACHE_THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        built += ws[i].built;
        runs += ws[i].runs;
        jit_runs += ws[i].jit_runs;
    }
    for (size_t i = 0; i < NPAIRS; i++) {
        sj_kernel_free(shared_kernels[i]);
        sj_layout_unref(shared_layouts[i][0]);
        sj_layout_unref(shared_layouts[i][1]);
    }
    sj_counters after;
    sj_counters_get(&after);
    printf("kernel cache: %d threads built %ld kernels and ran %ld calls (%ld on the JIT); "
           "process counters: %llu compiled, %llu cache hits, %llu declines%s%s\n",
           CACHE_THREADS, built, runs, jit_runs,
           (unsigned long long)(after.kernels_compiled - before.kernels_compiled),
           (unsigned long long)(after.cache_hits - before.cache_hits),
           (unsigned long long)(after.declines - before.declines),
           after.last_decline[0] ? ", last decline: " : "", after.last_decline);
    fails_check();
    if (now_s() > deadline) fail_msg("deadline passed");
    assert_int_equal(built, (long)CACHE_THREADS * CACHE_ITERS * 2);
    if (jit) {
        /* every run of a JIT-tier native kernel took the JIT */
        assert_int_equal(jit_runs, runs);
        assert_true(after.kernels_compiled > before.kernels_compiled);
    }
    watchdog_disarm();
}

/* ---- 6. views, accessors and kernels while the arena is closed again and again ---- */

/* Views per view operation: one view open for a run of field accesses. */
#define VIEW_RUN 512

typedef struct vworker {
    worker w;
    long views_ok, views_closed;
} vworker;

static atomic_bool vpause; /* workers wait (counted in vpaused) while set */
static atomic_int vpaused;

/* Opens a view of rd (the source to read, or this worker's destination to write) over a
 * random range, uses it through a field, closes it. SJ_E_CLOSED when the open says so; a
 * failure of anything else is the worker's failure. */
static sj_status view_op(vworker *vw, arena_round *rd, bool write) {
    worker *w = &vw->w;
    sj_error err = {0};
    const sj_segment *seg = write ? &rd->dst[w->id] : &rd->src;
    int64_t first = (int64_t)(rnd(&w->seed) % 1024);
    int64_t n = 1 + (int64_t)(rnd(&w->seed) % (NELEMS - 1024));
    sj_view v;
    sj_status st =
        sj_view_open(seg, 4 * first, 4 * n, write ? SJ_VIEW_WRITE : SJ_VIEW_READ, &v, &err);
    if (st == SJ_E_CLOSED) {
        vw->views_closed++;
        return st;
    }
    if (st != SJ_OK) {
        worker_fail("worker %d: view open returned %s: %s", w->id, sj_status_name(st), err.message);
        return st;
    }
    vw->views_ok++;
    atomic_fetch_add(&rd->held, 1);
    if (atomic_load(&rd->closed)) worker_fail("worker %d: a view opened after close", w->id);
    sj_field f;
    st = sj_view_field(&v, K.rec, NULL, 0, &f, &err);
    if (st != SJ_OK) {
        worker_fail("worker %d: view field: %s: %s", w->id, sj_status_name(st), err.message);
    } else if (sj_field_count(&f) != n) {
        worker_fail("worker %d: field count %lld, expected %lld", w->id,
                    (long long)sj_field_count(&f), (long long)n);
    } else {
        for (int k = 0; k < VIEW_RUN; k++) {
            int64_t i = (int64_t)(rnd(&w->seed) % (uint64_t)n);
            if (write) {
                sj_field_set_i32(&f, i, (int32_t)(i * 3));
                if (sj_field_get_i32(&f, i) != (int32_t)(i * 3))
                    worker_fail("worker %d: view element %lld lost its write", w->id, (long long)i);
            } else if (sj_field_get_i32(&f, i) != (int32_t)(first + i)) {
                worker_fail("worker %d: view element %lld is %d", w->id, (long long)i,
                            sj_field_get_i32(&f, i));
            }
        }
        if (sj_field_status(&f, &err) != SJ_OK)
            worker_fail("worker %d: field status: %s", w->id, err.message);
    }
    /* close cannot have succeeded while this view was open */
    if (atomic_load(&rd->closed))
        worker_fail("worker %d: the arena closed under an open view", w->id);
    atomic_fetch_sub(&rd->held, 1);
    if (sj_view_close(&v, &err) != SJ_OK)
        worker_fail("worker %d: view close: %s", w->id, err.message);
    return SJ_OK;
}

/* A thread's pause point: while *pause is set (and *stop is not) it waits there, counted
 * in *paused. True when it waited. */
static bool wait_while_paused(atomic_bool *pause, atomic_int *paused, atomic_bool *stop) {
    if (!atomic_load(pause)) return false;
    atomic_fetch_add(paused, 1);
    while (atomic_load(pause) && !atomic_load(stop))
        sched_yield();
    atomic_fetch_sub(paused, 1);
    return true;
}

static void *view_worker(void *arg) {
    vworker *vw = arg;
    worker *w = &vw->w;
    while (!atomic_load(&stop_workers) && w->ops < MAX_OPS && now_s() < w->deadline) {
        if (wait_while_paused(&vpause, &vpaused, &stop_workers)) continue;
        round_call c;
        if (!round_call_begin(w, &c)) continue;
        /* half the operations are views, the rest accessors, single access and kernels */
        int op = (int)(rnd(&w->seed) % (2 * NOPS));
        int t = (int)(rnd(&w->seed) % TI_COUNT);
        bool view = op >= NOPS && !atomic_load(&c.rd->no_views);
        sj_status st = view ? view_op(vw, c.rd, op % 2 == 1) : one_op(w, c.rd, op % NOPS, t);
        round_call_end(w, &c, st,
                       view ? (op % 2 ? "view write" : "view read") : op_names[op % NOPS]);
    }
    atomic_fetch_sub(&workers_running, 1);
    return NULL;
}

/* A close that says BUSY names the count of open views. */
static void check_busy_message(const char *msg) {
    const char *one = "arena close: 1 view of the arena is open";
    const char *pre = "arena close: ", *many = " views of the arena are open";
    if (strcmp(msg, one) == 0) return;
    size_t lp = strlen(pre), lm = strlen(many), l = strlen(msg);
    if (l > lp + lm && strncmp(msg, pre, lp) == 0 && strcmp(msg + l - lm, many) == 0) return;
    fail_msg("unexpected SJ_E_BUSY message: %s", msg);
}

static void test_views_under_close(void **state) {
    (void)state;
    double deadline = rounds_test_begin("views_under_close");
    atomic_store(&vpause, false);
    atomic_store(&vpaused, 0);
    vworker ws[NTHREADS];
    pthread_t th[NTHREADS];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < NTHREADS; i++) {
        worker_init(&ws[i].w, i, 0x2545f4914f6cdd1dull * (uint64_t)(i + 3), deadline);
        assert_int_equal(pthread_create(&th[i], NULL, view_worker, &ws[i]), 0);
    }
    int rounds_done = 0;
    long busy_workers = 0;
    for (int r = 0; r < NROUNDS && now_s() < deadline; r++) {
        arena_round *rd = round_start(r);
        sj_error err = {0};
        atomic_store(&rd->closing, true);
        /* a view of this thread's: close is refused, whatever the workers do */
        sj_view mine;
        assert_status(sj_view_open(&rd->src, 0, 64, SJ_VIEW_READ, &mine, &err), SJ_OK, &err);
        assert_status(sj_arena_close(rd->arena, &err), SJ_E_BUSY, &err);
        check_busy_message(err.message);
        assert_status(sj_view_close(&mine, &err), SJ_OK, &err);
        /* then until it closes: refused only while views are open; after some refusals the
         * workers stop opening new views of this round, so that it ends */
        int busy = 0;
        sj_status st;
        while ((st = sj_arena_close(rd->arena, &err)) == SJ_E_BUSY) {
            check_busy_message(err.message);
            if (++busy == 8) atomic_store(&rd->no_views, true);
            sched_yield();
        }
        assert_status(st, SJ_OK, &err);
        if (atomic_load(&rd->held) != 0) fail_msg("round %d closed while a view was held", r);
        atomic_store(&rd->closed, true);
        busy_workers += busy;
        sj_value v;
        assert_int_equal(sj_get(&rd->src, K.i4, 0, &v, NULL), SJ_E_CLOSED);
        assert_int_equal(sj_view_open(&rd->src, 0, 4, SJ_VIEW_READ, &mine, NULL), SJ_E_CLOSED);
        /* every few rounds, with the workers paused (none touching the scope): the scope's
         * count of open views is back to 0, whatever the close raced with */
        if (r % 8 == 7) {
            atomic_store(&vpause, true);
            while (atomic_load(&vpaused) + (NTHREADS - atomic_load(&workers_running)) < NTHREADS &&
                   now_s() < deadline)
                sched_yield();
            uint64_t views = atomic_load(&rd->arena.scope->views);
            atomic_store(&vpause, false);
            if (views != 0)
                fail_msg("round %d: the closed scope counts %#llx views", r,
                         (unsigned long long)views);
        }
        rounds_done++;
    }
    atomic_store(&stop_workers, true);
    long ops = 0, ok = 0, closed = 0, vok = 0, vclosed = 0;
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        ops += ws[i].w.ops;
        ok += ws[i].w.ok;
        closed += ws[i].w.closed;
        vok += ws[i].views_ok;
        vclosed += ws[i].views_closed;
    }
    printf("views under close: %d arenas, %d threads, %ld calls (%ld OK, %ld CLOSED); views "
           "%ld opened, %ld refused CLOSED; %ld closes refused BUSY by workers' views\n",
           rounds_done, NTHREADS, ops, ok, closed, vok, vclosed, busy_workers);
    rounds_test_end(rounds_done, ok);
    assert_true(vok > 0);
    watchdog_disarm();
}

/* ---- 7. view opens racing close: the scope's count of views stays right ---- */

#define SPAMMERS    3
#define SPAM_ROUNDS 2000

static _Atomic(sj_segment *) spam_seg;
static atomic_bool spam_stop, spam_pause;
static atomic_int spam_paused;
static atomic_long spam_opened;

/* Opens and closes views of the published segment as fast as it can. */
static void *view_spammer(void *arg) {
    (void)arg;
    while (!atomic_load(&spam_stop)) {
        if (wait_while_paused(&spam_pause, &spam_paused, &spam_stop)) continue;
        sj_segment *s = atomic_load(&spam_seg);
        if (!s) {
            sched_yield();
            continue;
        }
        sj_view v;
        sj_error err = {0};
        sj_status st = sj_view_open(s, 0, 8, SJ_VIEW_READ, &v, &err);
        if (st == SJ_OK) {
            atomic_fetch_add(&spam_opened, 1);
            sj_view_close(&v, NULL);
        } else if (st != SJ_E_CLOSED) {
            worker_fail("view open returned %s: %s", sj_status_name(st), err.message);
        }
    }
    return NULL;
}

/* Closes arenas whose segments other threads keep opening views of; after each close,
 * with those threads paused, the (pooled, reused) scope counts no view: a count left
 * wrong would make its next arena refuse every close or spin in every view open. */
static void test_view_opens_racing_close(void **state) {
    (void)state;
    watchdog_arm("view_opens_racing_close");
    fails_reset();
    double deadline = now_s() + TEST_DEADLINE_S - 10;
    atomic_store(&spam_seg, NULL);
    atomic_store(&spam_stop, false);
    atomic_store(&spam_pause, false);
    atomic_store(&spam_paused, 0);
    atomic_store(&spam_opened, 0);
    pthread_t th[SPAMMERS];
    for (int i = 0; i < SPAMMERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, view_spammer, NULL), 0);
    static sj_segment segs[2];
    int r = 0;
    long busy = 0;
    for (; r < SPAM_ROUNDS && now_s() < deadline; r++) {
        sj_arena a;
        sj_error err = {0};
        assert_status(sj_arena_open(SJ_ARENA_SHARED, &a, &err), SJ_OK, &err);
        sj_segment *s = &segs[r & 1];
        assert_status(sj_arena_allocate(a, 64, 8, s, &err), SJ_OK, &err);
        atomic_store(&spam_seg, s);
        /* every other round, once a view of it has been opened (or a while) */
        long seen = atomic_load(&spam_opened);
        for (int y = 0; r % 2 && y < 500 && atomic_load(&spam_opened) == seen; y++)
            sched_yield();
        sj_status st;
        /* BUSY is an answer, not a wait: back-to-back views can refuse every close, so after
         * a while (1000 tries, or 5 ms on a crowded machine, where each yield is long) the
         * spammers pause and the close goes through */
        double pause_at = now_s() + 0.005;
        for (int tries = 1; (st = sj_arena_close(a, &err)) == SJ_E_BUSY; tries++) {
            busy++;
            if (tries == 1000 || now_s() > pause_at) atomic_store(&spam_pause, true);
            sched_yield();
        }
        assert_status(st, SJ_OK, &err);
        atomic_store(&spam_pause, true);
        while (atomic_load(&spam_paused) < SPAMMERS && now_s() < deadline)
            sched_yield();
        uint64_t views = atomic_load(&a.scope->views);
        atomic_store(&spam_seg, NULL);
        atomic_store(&spam_pause, false);
        if (views != 0) {
            atomic_store(&spam_stop, true);
            for (int i = 0; i < SPAMMERS; i++)
                pthread_join(th[i], NULL);
            fail_msg("round %d: the closed scope counts %#llx views", r, (unsigned long long)views);
        }
    }
    atomic_store(&spam_stop, true);
    for (int i = 0; i < SPAMMERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    printf("view opens racing close: %d arenas, %ld views opened, %ld closes refused BUSY\n", r,
           atomic_load(&spam_opened), busy);
    fails_check();
    /* the rounds stop at the deadline on a crowded machine: a bound on the run, not a
     * failure, as long as enough of them ran to mean something */
    if (r < SPAM_ROUNDS / 10) fail_msg("deadline passed after %d of %d arenas", r, SPAM_ROUNDS);
    watchdog_disarm();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_waits_for_inflight_call),
        cmocka_unit_test(test_racing_closers),
        cmocka_unit_test(test_confined_from_other_threads),
        cmocka_unit_test(test_close_under_running_calls),
        cmocka_unit_test(test_kernel_cache_concurrent),
        cmocka_unit_test(test_views_under_close),
        cmocka_unit_test(test_view_opens_racing_close),
    };
    return cmocka_run_group_tests(tests, NULL, group_teardown);
}
