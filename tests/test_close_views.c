/* tests/test_close_views.c: threads read and write one shared arena through inline
 * accessors, views and kernels while the main thread closes it and opens the next (issue
 * 12). Every access, view open and kernel run either succeeds and sees the arena's own
 * bytes (never freed or reused memory) or answers SJ_E_CLOSED; a close answers SJ_E_BUSY
 * while a view is open and succeeds once none is. Run under ThreadSanitizer by run.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "segjit/accessor.h"
#include "segjit/view.h"
#include "tier.h"

/* Elements [0, SHARED) are only read; thread t writes only its own SLICE after them (two
 * threads touching one element, one of them writing, would be the test's own data race). */
enum { NTHREADS = 3, NROUNDS = 60, SHARED = 512, SLICE = 128, NVALUES = SHARED + NTHREADS * SLICE };

typedef struct round {
    sj_arena arena;
    sj_segment seg; /* NVALUES int32, each the round's number */
} round_t;

static round_t rounds[NROUNDS];
static _Atomic int current = -1;
static atomic_bool stop;
static sj_accessor *acc;      /* [*] over i32 records: open */
static sj_kernel *sum;        /* reduce SUM over [*:i4] */
static atomic_long succeeded; /* calls that succeeded, all threads */

typedef struct worker {
    int id;
    unsigned seed;
    long ok, closed, views, busy_seen;
    char failure[400];
} worker;

static void failed(worker *w, const char *what, sj_status st, const sj_error *err) {
    if (!w->failure[0])
        snprintf(w->failure, sizeof w->failure, "%.40s: %s: %.300s", what, sj_status_name(st),
                 err ? err->message : "");
}

static void count_ok(worker *w) {
    w->ok++;
    atomic_fetch_add(&succeeded, 1);
}

static void *work(void *p) {
    worker *w = p;
    while (!atomic_load(&stop)) {
        int r = atomic_load(&current);
        if (r < 0) {
            sched_yield();
            continue;
        }
        const round_t *rd = &rounds[r];
        sj_error err = {0};
        int64_t i = (int64_t)(rand_r(&w->seed) % SHARED);
        int64_t mine = SHARED + w->id * SLICE + (int64_t)(rand_r(&w->seed) % SLICE);
        switch (rand_r(&w->seed) % 8) {
            case 0:
            case 1:
            case 2: { /* an inline accessor read */
                int32_t v = -1;
                sj_status st = sj_accessor_get_i32(acc, &rd->seg, 0, &i, 1, &v, &err);
                if (st == SJ_OK && v != r) failed(w, "accessor read a foreign value", st, &err);
                if (st == SJ_OK)
                    count_ok(w);
                else if (st == SJ_E_CLOSED)
                    w->closed++;
                else
                    failed(w, "accessor get", st, &err);
                break;
            }
            case 3: { /* an inline accessor write of the value already there */
                sj_status st = sj_accessor_set_i32(acc, &rd->seg, 0, &mine, 1, r, &err);
                if (st == SJ_OK)
                    count_ok(w);
                else if (st == SJ_E_CLOSED)
                    w->closed++;
                else
                    failed(w, "accessor set", st, &err);
                break;
            }
            case 4: { /* a view: a whole loop over the field while the arena is held */
                sj_view v;
                sj_field f;
                sj_status st = sj_view_open(&rd->seg, 0, -1, SJ_VIEW_WRITE, &v, &err);
                if (st == SJ_E_CLOSED) {
                    w->closed++;
                    break;
                }
                if (st != SJ_OK) {
                    failed(w, "view open", st, &err);
                    break;
                }
                w->views++;
                if ((st = sj_view_field(&v, acc, NULL, 0, &f, &err)) != SJ_OK)
                    failed(w, "view field", st, &err);
                int64_t n = sj_field_count(&f), bad = 0;
                for (int64_t j = 0; j < SHARED; j++)
                    bad += sj_field_get_i32(&f, j) != r;
                for (int64_t j = SHARED + w->id * SLICE; j < SHARED + (w->id + 1) * SLICE; j++)
                    sj_field_set_i32(&f, j, r);
                if (n != NVALUES || bad) failed(w, "view read a foreign value", SJ_OK, NULL);
                if ((st = sj_field_status(&f, &err)) != SJ_OK) failed(w, "field", st, &err);
                if ((st = sj_view_close(&v, &err)) != SJ_OK) failed(w, "view close", st, &err);
                count_ok(w);
                break;
            }
            default: { /* a kernel over the whole segment */
                sj_result res;
                sj_status st =
                    sj_kernel_run(sum, &(sj_args){&rd->seg, 0, NULL, 0, SHARED}, &res, &err);
                if (st == SJ_OK && res.i64 != (int64_t)r * SHARED)
                    failed(w, "kernel read a foreign value", st, &err);
                if (st == SJ_OK)
                    count_ok(w);
                else if (st == SJ_E_CLOSED)
                    w->closed++;
                else
                    failed(w, "kernel run", st, &err);
                break;
            }
        }
    }
    return NULL;
}

static void test_close_under_views(void **state) {
    (void)state;
    sj_error err = {0};
    sj_layout *i4 = test_layout("i4"), *root = test_layout("[*:i4]");
    assert_int_equal(sj_accessor_new(i4, "[*]", &acc, &err), SJ_OK);
    sj_path *all = test_path(root, "[*]");
    sum = test_kernel(sj_kernel_reduce(all, SJ_REDUCE_SUM, &sum, &err), &sum, &err);
    worker ws[NTHREADS];
    pthread_t th[NTHREADS];
    memset(ws, 0, sizeof ws);
    atomic_store(&stop, false);
    for (int t = 0; t < NTHREADS; t++) {
        ws[t].id = t;
        ws[t].seed = 17u * (unsigned)t + 1;
        assert_int_equal(pthread_create(&th[t], NULL, work, &ws[t]), 0);
    }
    long busy = 0;
    for (int r = 0; r < NROUNDS; r++) {
        round_t *rd = &rounds[r];
        assert_status(sj_arena_open(SJ_ARENA_SHARED, &rd->arena, &err), SJ_OK, &err);
        assert_status(sj_arena_allocate(rd->arena, NVALUES * 4, 8, &rd->seg, &err), SJ_OK, &err);
        for (int j = 0; j < NVALUES; j++)
            ((int32_t *)(void *)rd->seg.base)[j] = r;
        atomic_store(&current, r);
        for (int spin = 0; spin < r % 3; spin++) /* let calls pile up, sometimes */
            sched_yield();
        /* the first round waits (up to 30 s: a library that never succeeds fails below,
         * it does not hang) for a call to succeed: on a loaded machine the workers may
         * otherwise not run at all before the last close */
        for (time_t t0 = time(NULL);
             r == 0 && atomic_load(&succeeded) == 0 && time(NULL) - t0 < 30;)
            sched_yield();
        sj_status st;
        while ((st = sj_arena_close(rd->arena, &err)) == SJ_E_BUSY) {
            assert_non_null(strstr(err.message, "of the arena"));
            busy++;
            sched_yield();
        }
        assert_status(st, SJ_OK, &err);
        assert_int_equal(sj_arena_close(rd->arena, NULL), SJ_E_CLOSED);
    }
    atomic_store(&stop, true);
    long ok = 0, closed = 0, views = 0;
    for (int t = 0; t < NTHREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        if (ws[t].failure[0]) fail_msg("thread %d: %s", t, ws[t].failure);
        ok += ws[t].ok;
        closed += ws[t].closed;
        views += ws[t].views;
    }
    print_message("%d rounds: %ld calls succeeded, %ld answered closed, %ld views, %ld closes "
                  "refused while a view was open\n",
                  NROUNDS, ok, closed, views, busy);
    assert_true(ok > 0);
    sj_kernel_free(sum);
    sj_accessor_free(acc);
    sj_path_free(all);
    sj_layout_unref(i4);
    sj_layout_unref(root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_under_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
