/* bench/oneshot.c: W10 (shared/BENCH.md): one-shot calls. sj_copy of W6's data (n int32
 * little-endian -> big-endian) called 10 times in one process, each call timed beside the
 * hand-written C loop, with the counters' plans, compiles and cache hits over the calls;
 * and the fixed cost of a call with count 1: on a kept kernel, through sj_copy, and by
 * building, running and freeing a kernel (what sj_copy did before it kept kernels).
 * Workloads W1-W6 are bench.c's; output is report.c's. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <segjit/segjit.h>

#include "bench.h"
#include "hand.h"

#define W10_CALLS 10

static void spread(double *v, int n, double *med, double *lo, double *hi) {
    *med = bench_median(v, n);
    *lo = v[0];
    *hi = v[n - 1];
}

/* Calls per sample of the count-1 figures: the clock ticks in tens of nanoseconds here. */
#define CALLS_PER_SAMPLE 32

/* The count-1 calls, interleaved by batches: kept kernel, sj_copy, build + run + free. */
static void fixed_cost(const sj_layout *le, const sj_layout *be, sj_segment *src, sj_segment *dst,
                       int samples, bench_oneshot *o) {
    sj_error err = {0};
    sj_kernel *kept = NULL;
    double *t[3] = {calloc((size_t)samples, sizeof(double)),
                    calloc((size_t)samples, sizeof(double)),
                    calloc((size_t)samples, sizeof(double))};
    if (!t[0] || !t[1] || !t[2]) {
        bench_text(o->note, sizeof o->note, "out of memory");
        goto out;
    }
    if (sj_kernel_copy(le, be, &kept, &err) != SJ_OK) goto fail;
    sj_kernel_set_tier(kept, SJ_TIER_JIT);
    sj_args a = {src, 0, dst, 0, 1};
    if (sj_kernel_run(kept, &a, NULL, &err) != SJ_OK) goto fail;
    for (int i = -10; i < samples; i++) {
        sj_status st = SJ_OK;
        uint64_t t0 = bench_now_ns();
        for (int j = 0; j < CALLS_PER_SAMPLE && st == SJ_OK; j++)
            st = sj_kernel_run(kept, &a, NULL, &err);
        uint64_t t1 = bench_now_ns();
        for (int j = 0; j < CALLS_PER_SAMPLE && st == SJ_OK; j++)
            st = sj_copy(src, le, 0, dst, be, 0, 1, &err);
        uint64_t t2 = bench_now_ns();
        for (int j = 0; j < CALLS_PER_SAMPLE && st == SJ_OK; j++) {
            sj_kernel *k = NULL;
            st = sj_kernel_copy(le, be, &k, &err);
            if (st == SJ_OK) st = sj_kernel_run(k, &a, NULL, &err);
            sj_kernel_free(k);
        }
        uint64_t t3 = bench_now_ns();
        if (st != SJ_OK) goto fail;
        if (i < 0) continue; /* warm-up */
        t[0][i] = (double)(t1 - t0) / CALLS_PER_SAMPLE;
        t[1][i] = (double)(t2 - t1) / CALLS_PER_SAMPLE;
        t[2][i] = (double)(t3 - t2) / CALLS_PER_SAMPLE;
    }
    double lo, hi;
    spread(t[0], samples, &o->call1_kernel_ns, &lo, &hi);
    spread(t[1], samples, &o->call1_oneshot_ns, &lo, &hi);
    spread(t[2], samples, &o->call1_rebuild_ns, &lo, &hi);
    o->call1_tier = sj_kernel_last_tier(kept) == SJ_TIER_JIT ? "jit" : "interpreter";
    o->fixed_samples = samples;
    o->fixed_ok = true;
    goto out;
fail:
    bench_text(o->note, sizeof o->note, "W10 count 1: %s: %s", sj_status_name(err.status),
               err.message);
out:
    sj_kernel_free(kept);
    for (int i = 0; i < 3; i++)
        free(t[i]);
}

int bench_oneshot_run(const bench_options *opt, int64_t n, int reps, bool fixed, bench_results *r) {
    (void)reps; /* the ten calls are the measurement: BENCH.md fixes their number */
    sj_error err = {0};
    sj_arena arena = {0};
    sj_layout *le = NULL, *be = NULL;
    uint32_t *want = malloc((size_t)n * 4);
    int rc = -1;
    if (!want || sj_arena_open(SJ_ARENA_CONFINED, &arena, &err) != SJ_OK) goto out;
    sj_segment src, dst;
    if (sj_arena_allocate(arena, 4 * n, 64, &src, &err) != SJ_OK ||
        sj_arena_allocate(arena, 4 * n, 64, &dst, &err) != SJ_OK ||
        sj_layout_parse("i4", &le, &err) != SJ_OK || sj_layout_parse("I4", &be, &err) != SJ_OK)
        goto out;
    uint32_t *s = (uint32_t *)(void *)src.base, *d = (uint32_t *)(void *)dst.base;
    uint64_t x = 0x5e6a17u + (uint64_t)n;
    for (int64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        s[i] = (uint32_t)(x >> 32);
    }
    hand_w6_bswap(s, want, n);

    if (!bench_add_row(r) || !bench_add_row(r)) goto out; /* the c and oneshot rows */
    static const bench_impl impls[2] = {IMPL_C, IMPL_ONESHOT};
    double samples[2][W10_CALLS];
    sj_counters c0, c1;
    sj_counters_get(&c0);
    bool same = true;
    for (int call = 0; call < W10_CALLS; call++) {
        /* the C loop and the one-shot call take turns going first */
        for (int j = 0; j < 2; j++) {
            int i = (call + j) % 2;
            memset(d, 0x5a, (size_t)n * 4);
            uint64_t t0 = bench_now_ns();
            sj_status st = SJ_OK;
            if (i == 0)
                hand_w6_bswap(s, d, n);
            else
                st = sj_copy(&src, le, 0, &dst, be, 0, n, &err);
            uint64_t t1 = bench_now_ns();
            if (st != SJ_OK) goto out;
            samples[i][call] = (double)(t1 - t0);
            same = same && memcmp(d, want, (size_t)n * 4) == 0;
        }
    }
    sj_counters_get(&c1);
    for (int i = 0; i < 2; i++) {
        bench_row *row = &r->rows[r->count - 2 + i];
        row->workload = "W10";
        row->n = n;
        row->impl = impls[i];
        row->present = row->verified = true;
        row->checksum_ok = same;
        row->bytes = 8.0 * (double)n;
        row->samples = W10_CALLS;
        spread(samples[i], W10_CALLS, &row->med_ns, &row->min_ns, &row->max_ns);
    }
    if (!same) {
        r->any_checksum_failure = true;
        bench_text(r->rows[r->count - 1].note, sizeof r->rows[r->count - 1].note,
                   "OUTPUT DIFFERS from the hand-written C");
    }
    bench_oneshot *o = &r->oneshot;
    if (o->nsizes < 2) {
        o->sizes[o->nsizes++] = (bench_oneshot_size){
            n,
            W10_CALLS,
            c1.plans_built - c0.plans_built,
            c1.kernels_compiled - c0.kernels_compiled,
            c1.cache_hits - c0.cache_hits,
            c1.runs_interp - c0.runs_interp,
            c1.runs_jit - c0.runs_jit,
        };
    }
    if (fixed) fixed_cost(le, be, &src, &dst, opt->quick ? 201 : 2001, o);
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "segjit-bench: W10 at n=%" PRId64 ": %s: %s\n", n,
                sj_status_name(err.status), err.message[0] ? err.message : "out of memory");
    sj_layout_unref(le);
    sj_layout_unref(be);
    if (arena.scope) sj_arena_close(arena, NULL);
    free(want);
    return rc;
}
