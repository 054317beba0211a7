/* bench/threads.c: W8 (shared/BENCH.md): W7's accessor loop over one shared arena from one
 * and from two threads at once, time per access per thread; beside it the same for an
 * unchecked out-of-line getter, for the hand-written loop (that loop's own two-thread
 * ratio) and for small kernel calls (one kept kernel run once per record, count 1, over the
 * first fifth of the records); and the median time of sj_arena_close for a shared and a
 * confined arena.
 * Rows go to the common table.
 *
 * A thread's time is its CPU time (CLOCK_THREAD_CPUTIME_ID): on a machine whose cores are
 * shared with other work, two threads are often not running at once, and wall time would
 * measure that, not the loop; contention on shared cache lines stalls the thread and counts
 * in its CPU time. The wall time of the two-thread rounds is in the row's note.
 * Where the process may run on two CPUs, every thread is pinned: each round times one
 * thread on the first CPU, one on the second, then one on each at once, so both rows hold
 * each CPU's samples equally and a CPU slowed by other work weighs on both alike
 * (docs/ACCESS.md, session 14). The 2 / 1 ratio is the median over rounds of each round's
 * own ratio, per CPU (the worse CPU counts); the ratio of the two medians is printed beside
 * it (docs/ACCESS.md, session 24). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <segjit/segjit.h>

#include "bench.h"
#include "hand.h"

/* The accessor loop, hand_w7_get_y calls, the hand-written loop (hand_w7_sum_y), or a kept
 * reduce kernel run on each record with count 1. */
typedef enum w8_mode { W8_ACCESSOR, W8_CALL, W8_LOOP, W8_KERNEL } w8_mode;
#define W8_KERNEL_SHARE 5 /* the kernel rows call for the first n / 5 records */

typedef struct w8 {
    int64_t n;
    sj_segment seg; /* the records, in a shared arena */
    sj_accessor *acc;
    sj_kernel *sum;   /* SUM of `[*].y` over an open root: one record per call */
    w8_mode mode;     /* which loop the threads run */
    int64_t calls;    /* elements the loop covers (n, or fewer for W8_KERNEL) */
    atomic_int ready; /* threads that have read the records once (untimed) */
    atomic_int go;    /* the threads start together */
} w8;

typedef struct w8_thread {
    w8 *w;
    pthread_t th;
    int cpu;          /* pinned to this CPU, or -1 */
    uint64_t ns;      /* CPU time of the loop */
    uint64_t wall_ns; /* wall time of the loop */
    double sum;
    sj_status st;
    sj_error err;
} w8_thread;

static uint64_t cpu_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The user loop of W7 through the accessor, timed from the common start. */
static void *w8_main(void *arg) {
    w8_thread *t = arg;
    const w8 *w = t->w;
    if (t->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(t->cpu, &set);
        if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) t->cpu = -1;
    }
    /* The records once, untimed, on this thread's CPU: every round starts with them as cached
     * as the CPU can hold them, whichever CPU last read them (as W7's rows do). */
    t->sum = hand_w7_sum_y((const hand_rec *)(const void *)w->seg.base, w->n);
    atomic_fetch_add(&t->w->ready, 1);
    while (!atomic_load(&t->w->go))
        sched_yield();
    uint64_t t0 = bench_now_ns(), c0 = cpu_now_ns();
    double s = 0;
    sj_status st = SJ_OK;
    const sj_accessor *acc = w->acc;
    const sj_segment *seg = &w->seg;
    const int64_t n = w->calls;
    if (w->mode == W8_KERNEL) {
        for (int64_t i = 0; i < n && st == SJ_OK; i++) {
            sj_result r;
            st = sj_kernel_run(w->sum, &(sj_args){seg, 24 * i, NULL, 0, 1}, &r, &t->err);
            s += r.f64;
        }
    } else if (w->mode == W8_LOOP) {
        s = hand_w7_sum_y((const hand_rec *)(const void *)seg->base, n);
    } else if (w->mode == W8_CALL) {
        for (int64_t i = 0; i < n && st == SJ_OK; i++) {
            double y;
            st = hand_w7_get_y(acc, seg->base, 0, &i, 1, &y, &t->err) ? SJ_E_ARG : SJ_OK;
            s += y;
        }
    } else {
        for (int64_t i = 0; i < n && st == SJ_OK; i++) {
            double y = 0;
            st = sj_accessor_get_f64(acc, seg, 0, &i, 1, &y, &t->err);
            s += y;
        }
    }
    t->ns = cpu_now_ns() - c0;
    t->wall_ns = bench_now_ns() - t0;
    t->sum = s;
    t->st = st;
    return NULL;
}

/* Runs the loop in `k` threads at once, thread i pinned to cpus[i] (cpus NULL: not pinned);
 * thread i's CPU time goes to ns[i], its wall time to wall[i]. */
static void w8_round(w8 *w, int k, const int *cpus, double want, bool *ok, double *ns, double *wall,
                     char *note, size_t len) {
    w8_thread t[2];
    memset(t, 0, sizeof t);
    atomic_store(&w->go, 0);
    atomic_store(&w->ready, 0);
    int started = 0;
    for (; started < k; started++) {
        t[started].w = w;
        t[started].cpu = cpus ? cpus[started] : -1;
        if (pthread_create(&t[started].th, NULL, w8_main, &t[started]) != 0) break;
    }
    while (atomic_load(&w->ready) < started)
        sched_yield();
    atomic_store(&w->go, 1);
    if (started < k) {
        for (int i = 0; i < started; i++)
            pthread_join(t[i].th, NULL);
        bench_text(note, len, "FAILED: cannot start a thread");
        *ok = false;
        return;
    }
    for (int i = 0; i < k; i++) {
        pthread_join(t[i].th, NULL);
        if (t[i].st != SJ_OK) {
            bench_text(note, len, "FAILED: %s: %s", sj_status_name(t[i].st), t[i].err.message);
            *ok = false;
        } else if (memcmp(&t[i].sum, &want, sizeof want) != 0) {
            bench_text(note, len, "CHECKSUM DIFFERS: %.17g (c: %.17g)", t[i].sum, want);
            *ok = false;
        } else if (cpus && t[i].cpu < 0) {
            bench_text(note, len, "FAILED: cannot pin a thread to CPU %d", cpus[i]);
            *ok = false;
        }
        ns[i] = (double)t[i].ns;
        wall[i] = (double)t[i].wall_ns;
    }
}

/* The first two CPUs this process may run on, or false when it may run on fewer. */
static bool w8_cpus(int cpus[2]) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return false;
    int found = 0;
    for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
        if (CPU_ISSET(c, &set)) cpus[found++] = c;
    return found == 2;
}

static bench_row *w8_row(bench_results *res, int64_t n, bench_impl impl) {
    bench_row *row = bench_add_row(res);
    if (!row) return NULL;
    row->workload = "W8";
    row->n = n;
    row->impl = impl;
    row->bytes = 24.0 * (double)n;
    return row;
}

static void w8_fill(bench_row *row, double *samples, int count, bool ok) {
    row->verified = true;
    row->checksum_ok = ok;
    if (!ok) return;
    row->present = true;
    row->samples = count;
    row->med_ns = bench_median(samples, count);
    row->min_ns = samples[0];
    row->max_ns = samples[count - 1];
}

/* Median time of sj_arena_close for an arena of `kind` holding one 4 KiB allocation. */
static int w8_close(bench_results *res, sj_arena_kind kind, int reps) {
    bench_row *row =
        w8_row(res, 1, kind == SJ_ARENA_SHARED ? IMPL_CLOSE_SHARED : IMPL_CLOSE_CONFINED);
    double *v = calloc((size_t)reps, sizeof *v);
    if (!row || !v) {
        free(v);
        return -1;
    }
    row->bytes = 0;
    bool ok = true;
    for (int r = 0; r < reps && ok; r++) {
        sj_arena a;
        sj_segment s;
        sj_error err = {0};
        if (sj_arena_open(kind, &a, &err) != SJ_OK ||
            sj_arena_allocate(a, 4096, 64, &s, &err) != SJ_OK) {
            bench_text(row->note, sizeof row->note, "FAILED: %s", err.message);
            ok = false;
            break;
        }
        uint64_t t0 = bench_now_ns();
        sj_status st = sj_arena_close(a, &err);
        v[r] = (double)(bench_now_ns() - t0);
        if (st != SJ_OK) {
            bench_text(row->note, sizeof row->note, "FAILED: %s", err.message);
            ok = false;
        }
    }
    w8_fill(row, v, reps, ok);
    free(v);
    return 0;
}

/* One loop's pair of rows and their samples, stored by CPU (thread c of a round at
 * [c * reps + round]), so a CPU's own median and the pooled one come from the same arrays. */
typedef struct w8_pair {
    w8_mode mode;
    bench_impl impl1, impl2;
    int64_t calls;
    double want;
    size_t row1; /* index of the 1-thread row in res->rows (the 2-thread row follows) */
    double *s1, *s2, *w1, *w2;
    bool ok1, ok2;
} w8_pair;

/* Every loop's pair of rows, the rounds interleaved: round k runs each loop in turn, each
 * pinned to one CPU then the other, then on both at once; a phase of the host (memory
 * bandwidth taken by other guests lasts seconds) then weighs on every loop's rows alike
 * instead of on whichever loop it fell on. */
static int w8_pairs(w8 *w, w8_pair *p, int count, int reps, bench_results *res) {
    int cpus[2];
    const bool pinned = w8_cpus(cpus);
    const int per1 = pinned ? 2 : 1; /* 1-thread samples per round */
    size_t cells = (size_t)reps * 2;
    int rc = 0;
    for (int m = 0; m < count; m++) {
        p[m].row1 = res->count;
        p[m].ok1 = p[m].ok2 = true;
        p[m].s1 = calloc(cells, sizeof(double));
        p[m].s2 = calloc(cells, sizeof(double));
        p[m].w1 = calloc(cells, sizeof(double));
        p[m].w2 = calloc(cells, sizeof(double));
        if (!w8_row(res, p[m].calls, p[m].impl1) || !w8_row(res, p[m].calls, p[m].impl2) ||
            !p[m].s1 || !p[m].s2 || !p[m].w1 || !p[m].w2)
            rc = -1;
    }
    for (int k = -1; k < reps && rc == 0; k++) { /* one warm-up round, then alternating */
        for (int m = 0; m < count; m++) {
            w8_pair *q = &p[m];
            bench_row *r1 = &res->rows[q->row1], *r2 = &res->rows[q->row1 + 1];
            double a[2] = {0, 0}, b[2] = {0, 0}, wa[2] = {0, 0}, wb[2] = {0, 0};
            w->mode = q->mode;
            w->calls = q->calls;
            for (int c = 0; c < per1; c++)
                w8_round(w, 1, pinned ? &cpus[c] : NULL, q->want, &q->ok1, &a[c], &wa[c], r1->note,
                         sizeof r1->note);
            w8_round(w, 2, pinned ? cpus : NULL, q->want, &q->ok2, b, wb, r2->note,
                     sizeof r2->note);
            if (k < 0) continue;
            for (int c = 0; c < 2; c++) {
                if (c < per1) {
                    q->s1[c * reps + k] = a[c];
                    q->w1[c * reps + k] = wa[c];
                }
                q->s2[c * reps + k] = b[c];
                q->w2[c * reps + k] = wb[c];
            }
        }
    }
    for (int m = 0; m < count && rc == 0; m++) {
        w8_pair *q = &p[m];
        bench_row *r1 = &res->rows[q->row1], *r2 = &res->rows[q->row1 + 1];
        const double n = (double)q->calls;
        if (q->ok1 && q->ok2) {
            char per_cpu[96] = "not pinned";
            if (pinned) { /* before the pooled medians sort the whole arrays */
                /* each round's 2-thread sample against the same CPU's 1-thread sample of that
                 * round (paired, computed before any median sorts the arrays); beside it the
                 * ratio of the two medians */
                double r[2], m[2], *pr = calloc((size_t)reps, sizeof *pr);
                for (int c = 0; c < 2; c++) {
                    for (int k = 0; pr && k < reps; k++)
                        pr[k] = q->s2[c * reps + k] / q->s1[c * reps + k];
                    r[c] = pr ? bench_median(pr, reps) : -1;
                }
                for (int c = 0; c < 2; c++)
                    m[c] =
                        bench_median(q->s2 + c * reps, reps) / bench_median(q->s1 + c * reps, reps);
                free(pr);
                r2->pair_ratio = r[0] > r[1] ? r[0] : r[1];
                snprintf(per_cpu, sizeof per_cpu,
                         "pinned; per CPU 2/1: %d %.2f (%.2f), %d %.2f (%.2f)", cpus[0], r[0], m[0],
                         cpus[1], r[1], m[1]);
            }
            bench_text(r2->note, sizeof r2->note,
                       "CPU time per thread, %s; wall time per access %.2f ns (1 thread %.2f)",
                       per_cpu, bench_median(q->w2, 2 * reps) / n,
                       bench_median(q->w1, per1 * reps) / n);
        }
        w8_fill(r1, q->s1, per1 * reps, q->ok1);
        w8_fill(r2, q->s2, 2 * reps, q->ok2);
    }
    for (int m = 0; m < count; m++) {
        free(p[m].s1);
        free(p[m].s2);
        free(p[m].w1);
        free(p[m].w2);
    }
    return rc;
}

int bench_threads(int64_t n, int reps, bench_results *res) {
    w8 w;
    memset(&w, 0, sizeof w);
    w.n = n;
    sj_error err = {0};
    sj_arena arena;
    char text[96];
    snprintf(text, sizeof text, "[%" PRId64 ":[i4(id)i4(x)d8(y)j8(z)]]", n);
    sj_layout *root = NULL;
    if (sj_arena_open(SJ_ARENA_SHARED, &arena, &err) != SJ_OK ||
        sj_arena_allocate(arena, 24 * n, 64, &w.seg, &err) != SJ_OK ||
        sj_layout_parse(text, &root, &err) != SJ_OK ||
        sj_accessor_new(root, "[*].y", &w.acc, &err) != SJ_OK) {
        fprintf(stderr, "segjit-bench: W8 set-up: %s\n", err.message);
        sj_layout_unref(root);
        return -1;
    }
    sj_layout_unref(root);
    hand_rec *r = (hand_rec *)(void *)w.seg.base;
    for (int64_t i = 0; i < n; i++) /* the sum is exact in any order: compare the bits */
        r[i].y = (double)(i % 1024);
    double want = hand_w7_sum_y(r, n);

    /* a kept kernel over an open root, as a user would keep it */
    sj_layout *open = NULL;
    sj_path *path = NULL;
    int rc = 0;
    if (sj_layout_parse("[*:[i4(id)i4(x)d8(y)j8(z)]]", &open, &err) != SJ_OK ||
        sj_path_parse(open, "[*].y", &path, &err) != SJ_OK ||
        sj_kernel_reduce(path, SJ_REDUCE_SUM, &w.sum, &err) != SJ_OK) {
        fprintf(stderr, "segjit-bench: W8 set-up: %s\n", err.message);
        rc = -1;
    } else {
        sj_kernel_set_tier(w.sum, SJ_TIER_JIT);
        const int64_t fifth = n / W8_KERNEL_SHARE ? n / W8_KERNEL_SHARE : n;
        w8_pair p[] = {
            {.mode = W8_ACCESSOR, IMPL_THREADS_1, IMPL_THREADS_2, n, want},
            {.mode = W8_CALL, IMPL_CALL_THREADS_1, IMPL_CALL_THREADS_2, n, want},
            {.mode = W8_LOOP, IMPL_LOOP_THREADS_1, IMPL_LOOP_THREADS_2, n, want},
            {.mode = W8_KERNEL,
             IMPL_KERNEL_THREADS_1,
             IMPL_KERNEL_THREADS_2,
             fifth,
             hand_w7_sum_y(r, fifth)},
        };
        rc = w8_pairs(&w, p, (int)(sizeof p / sizeof p[0]), reps, res);
    }
    sj_kernel_free(w.sum);
    sj_path_free(path);
    sj_layout_unref(open);
    sj_accessor_free(w.acc);
    sj_arena_close(arena, NULL);
    if (rc == 0) rc = w8_close(res, SJ_ARENA_SHARED, 101);
    if (rc == 0) rc = w8_close(res, SJ_ARENA_CONFINED, 101);
    if (rc != 0) fprintf(stderr, "segjit-bench: W8: out of memory\n");
    return rc;
}
