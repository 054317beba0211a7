/* tests/test_soak.c: a bounded long-running loop that parses layouts and paths, compiles,
 * runs and frees kernels on both tiers, and opens, allocates, maps and closes arenas,
 * sampling the resident set size (/proc/self/statm) as it goes; fails when RSS grows more
 * than SOAK_RSS_BOUND_MIB over the sample taken after the warm-up. Duration: environment
 * variable SEGJIT_SOAK_SECONDS (default 5). Correctness of each operation is tested in the
 * other test files; this one checks results only as a guard against silent corruption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <time.h>
#include <unistd.h>

#include "tier.h"

#define SOAK_DEFAULT_SECONDS 5.0
#define SOAK_RSS_BOUND_MIB   32.0
#define SOAK_MAX_ITERATIONS  100000000L
#define SOAK_SAMPLE_EVERY_S  0.25

#if defined(__SANITIZE_ADDRESS__)
#define SOAK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_ASAN 1
#endif
#endif

#ifdef SOAK_ASAN
/* Freed memory sits in ASan's quarantine (256 MiB by default), which would read as growth;
 * a small quarantine keeps RSS meaningful while use-after-free is still caught. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "quarantine_size_mb=4";
}
#endif

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident set size in MiB (second field of /proc/self/statm, in pages); -1 if unknown. */
static double rss_mib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2) return -1;
    long page = sysconf(_SC_PAGESIZE);
    return (double)resident * (double)(page > 0 ? page : 4096) / (1024.0 * 1024.0);
}

static double soak_seconds(void) {
    const char *e = getenv("SEGJIT_SOAK_SECONDS");
    if (!e || !*e) return SOAK_DEFAULT_SECONDS;
    char *end = NULL;
    double s = strtod(e, &end);
    if (end == e || s <= 0) return SOAK_DEFAULT_SECONDS;
    return s;
}

/* Layouts of the copy kernels the loop cycles through (source, destination). */
static const char *const soak_pairs[][2] = {
    {"i4", "i4"},         {"i4", "I4"},
    {"j8", "J8"},         {"[i4(a)s2(b)s2(c)]", "[i4(a)s2(b)s2(c)]"},
    {"[3:d8]", "[3:d8]"}, {"b1", "b1"},
    {"1%j8", "1%J8"},
};
#define NSOAK_PAIRS (sizeof soak_pairs / sizeof soak_pairs[0])

/* C-like descriptions parsed, printed and freed each iteration. */
static const char *const soak_texts[] = {
    "struct particle { u32 id; f64 pos[3]; be i16 charge; f32 mass align(16); }",
    "packed struct wire { be u16 len; be u32 seq; u8 flags; }",
    "union value { i64 i; f64 d; }",
};
#define NSOAK_TEXTS (sizeof soak_texts / sizeof soak_texts[0])

typedef struct soak_state {
    char file[96];
    sj_layout *i4, *seq;
    sj_path *all;
    sj_kernel *long_lived; /* kept for the whole run: its JIT code stays cached */
} soak_state;

#define SOAK_ELEMS 4096 /* i32 elements per segment */

static void expect_ok(sj_status st, const sj_error *err, const char *what) {
    if (st != SJ_OK) fail_msg("soak: %s: %s: %s", what, sj_status_name(st), err->message);
}

/* One iteration: everything it creates is released before it returns. */
static void soak_iteration(soak_state *s, long it) {
    sj_error err = {0};
    sj_tier tier = it % 3 == 0 ? SJ_TIER_JIT : it % 3 == 1 ? SJ_TIER_INTERP : SJ_TIER_AUTO;

    /* text forms */
    sj_layout *parsed = NULL;
    expect_ok(sj_layout_parse_c(soak_texts[it % NSOAK_TEXTS], &parsed, &err), &err, "parse");
    char *printed = NULL, *table = NULL;
    expect_ok(sj_layout_print(parsed, &printed, &err), &err, "print");
    expect_ok(sj_layout_table(parsed, &table, &err), &err, "table");
    sj_layout *again = NULL;
    expect_ok(sj_layout_parse(printed, &again, &err), &err, "reparse");
    assert_true(sj_layout_equal(parsed, again));
    free(printed);
    free(table);
    sj_layout_unref(again);
    sj_layout_unref(parsed);

    /* an arena with a few segments */
    sj_arena a;
    expect_ok(sj_arena_open(it % 2 ? SJ_ARENA_SHARED : SJ_ARENA_CONFINED, &a, &err), &err, "open");
    sj_segment src, dst, extra;
    expect_ok(sj_arena_allocate(a, 4 * SOAK_ELEMS, 64, &src, &err), &err, "allocate");
    expect_ok(sj_arena_allocate(a, 4 * SOAK_ELEMS, 64, &dst, &err), &err, "allocate");
    expect_ok(sj_arena_allocate(a, 1 + (int64_t)(it % 7) * 10000, 1 << (it % 8), &extra, &err),
              &err, "allocate");
    for (int i = 0; i < SOAK_ELEMS; i++)
        ((int32_t *)(void *)src.base)[i] = i;

    /* a copy kernel built, run and freed */
    const char *const *pair = soak_pairs[it % NSOAK_PAIRS];
    sj_layout *sl = test_layout(pair[0]), *dl = test_layout(pair[1]);
    sj_kernel *k = NULL;
    expect_ok(sj_kernel_copy(sl, dl, &k, &err), &err, "kernel copy");
    sj_kernel_set_tier(k, tier);
    int64_t count = (int64_t)(4 * SOAK_ELEMS / sj_layout_size(sl));
    sj_args ca = {&src, 0, &dst, 0, count};
    expect_ok(sj_kernel_run(k, &ca, NULL, &err), &err, "copy");
    sj_kernel_free(k);
    sj_layout_unref(sl);
    sj_layout_unref(dl);

    /* a plan no earlier iteration had (until it wraps): a cache miss, a compile and a
     * release of the machine code on the JIT tier */
    char text[48];
    int64_t n = 1 + it % 65536; /* above 8192 elements the run has count 0 */
    snprintf(text, sizeof text, "[%lld:s2]", (long long)n);
    sl = test_layout(text);
    snprintf(text, sizeof text, "[%lld:S2]", (long long)n);
    dl = test_layout(text);
    k = NULL;
    expect_ok(sj_kernel_copy(sl, dl, &k, &err), &err, "kernel copy (distinct)");
    sj_kernel_set_tier(k, SJ_TIER_JIT);
    sj_args da = {&src, 0, &dst, 0, (int64_t)(4 * SOAK_ELEMS) / (2 * n)};
    expect_ok(sj_kernel_run(k, &da, NULL, &err), &err, "copy (distinct)");
    sj_kernel_free(k);
    sj_layout_unref(sl);
    sj_layout_unref(dl);

    /* the long-lived kernel: a plain i4 copy back, and the data checked by a reduction */
    sj_args back = {&src, 0, &dst, 0, SOAK_ELEMS};
    expect_ok(sj_kernel_run(s->long_lived, &back, NULL, &err), &err, "long-lived copy");
    sj_kernel *sum = NULL;
    expect_ok(sj_kernel_reduce(s->all, SJ_REDUCE_SUM, &sum, &err), &err, "kernel reduce");
    sj_kernel_set_tier(sum, tier);
    sj_result r;
    sj_args ra = {&dst, 0, NULL, 0, SOAK_ELEMS};
    expect_ok(sj_kernel_run(sum, &ra, &r, &err), &err, "reduce");
    if (r.i64 != (int64_t)SOAK_ELEMS * (SOAK_ELEMS - 1) / 2)
        fail_msg("soak: iteration %ld: sum %lld", it, (long long)r.i64);
    sj_kernel_free(sum);

    /* a fill, a mismatch and the one-shot forms */
    sj_kernel *fill = NULL;
    expect_ok(sj_kernel_fill(s->i4, (sj_value){.i32 = (int32_t)it}, &fill, &err), &err,
              "kernel fill");
    sj_kernel_set_tier(fill, tier);
    sj_args fa = {NULL, 0, &dst, 0, SOAK_ELEMS};
    expect_ok(sj_kernel_run(fill, &fa, NULL, &err), &err, "fill");
    sj_kernel_free(fill);
    int64_t at = 0;
    expect_ok(sj_mismatch(&src, 0, 4 * SOAK_ELEMS, &dst, 0, 4 * SOAK_ELEMS, &at, &err), &err,
              "mismatch");
    expect_ok(sj_copy_bytes(&src, 0, &dst, 0, 4 * SOAK_ELEMS, &err), &err, "copy bytes");
    expect_ok(sj_fill_bytes(&extra, 0, (int64_t)sj_segment_size(&extra), 0x5a, &err), &err,
              "fill bytes");

    /* a mapped file now and then */
    if (it % 8 == 0) {
        sj_segment m;
        expect_ok(sj_arena_map_file(a, s->file, 0, -1, false, &m, &err), &err, "map");
        sj_value v;
        expect_ok(sj_get(&m, s->i4, 4, &v, &err), &err, "get mapped");
    }
    expect_ok(sj_arena_close(a, &err), &err, "close");
    assert_int_equal(sj_get(&src, s->i4, 0, &(sj_value){.i32 = 0}, NULL), SJ_E_CLOSED);
}

static void test_soak(void **state) {
    (void)state;
    double seconds = soak_seconds();
    double warmup = seconds / 5 < 1.0 ? seconds / 5 : 1.0;
    soak_state s;
    memset(&s, 0, sizeof s);
    snprintf(s.file, sizeof s.file, "/tmp/sj-soak-%ld", (long)getpid());
    FILE *f = fopen(s.file, "wb");
    assert_non_null(f);
    for (int i = 0; i < 8192; i++)
        fputc(i & 0xff, f);
    assert_int_equal(fclose(f), 0);
    s.i4 = test_layout("i4");
    char text[32];
    snprintf(text, sizeof text, "[%d:i4]", SOAK_ELEMS);
    s.seq = test_layout(text);
    s.all = test_path(s.seq, "[*]");
    /* Freed kernels' code stays cached up to the limit (16 MiB by default, test_jit_memory
     * measures it); a small limit keeps this RSS check sensitive to leaks. */
    sj_jit_set_cache_limit(UINT64_C(1) << 20);
    sj_error err = {0};
    expect_ok(sj_kernel_copy(s.i4, s.i4, &s.long_lived, &err), &err, "long-lived kernel");
    sj_kernel_set_tier(s.long_lived, SJ_TIER_JIT);

    const char *why = NULL;
    bool jit = sj_jit_available(&why);
    printf("soak: %.1f s (SEGJIT_SOAK_SECONDS), warm-up %.2f s, bound +%.0f MiB RSS over the "
           "warm-up sample; JIT %s%s%s\n",
           seconds, warmup, SOAK_RSS_BOUND_MIB, jit ? "available" : "not available",
           jit ? "" : ": ", jit ? "" : why);

    double t0 = now_s(), next_sample = t0 + warmup, baseline = -1, peak = -1;
    long it = 0;
    while (it < SOAK_MAX_ITERATIONS) {
        double t = now_s();
        if (t - t0 >= seconds) break;
        soak_iteration(&s, it++);
        if (now_s() >= next_sample) {
            double rss = rss_mib();
            double at = now_s() - t0;
            if (baseline < 0) {
                baseline = rss;
                printf("soak: t=%6.2f s  iterations %8ld  rss %7.1f MiB  (warm-up sample)\n", at,
                       it, rss);
            } else {
                printf("soak: t=%6.2f s  iterations %8ld  rss %7.1f MiB  (%+.1f MiB)\n", at, it,
                       rss, rss - baseline);
                if (rss > peak) peak = rss;
            }
            fflush(stdout);
            if (baseline >= 0 && peak - baseline > SOAK_RSS_BOUND_MIB) break; /* fail now */
            next_sample += SOAK_SAMPLE_EVERY_S;
        }
    }
    double end_rss = rss_mib();
    if (end_rss > peak) peak = end_rss;
    sj_counters c;
    sj_counters_get(&c);
    printf("soak: %ld iterations in %.1f s; rss at warm-up %.1f MiB, peak after %.1f MiB, end "
           "%.1f MiB; %llu plans, %llu kernels compiled, %llu cache hits, %llu interpreter "
           "runs, %llu JIT runs\n",
           it, now_s() - t0, baseline, peak, end_rss, (unsigned long long)c.plans_built,
           (unsigned long long)c.kernels_compiled, (unsigned long long)c.cache_hits,
           (unsigned long long)c.runs_interp, (unsigned long long)c.runs_jit);

    sj_kernel_free(s.long_lived);
    sj_path_free(s.all);
    sj_layout_unref(s.seq);
    sj_layout_unref(s.i4);
    unlink(s.file);

    assert_true(it > 0);
    if (baseline < 0) {
        printf("soak: too short for an RSS sample after the warm-up; growth not checked\n");
        return;
    }
    if (peak - baseline > SOAK_RSS_BOUND_MIB)
        fail_msg("RSS grew by %.1f MiB (from %.1f to %.1f MiB), more than the bound of %.0f MiB",
                 peak - baseline, baseline, peak, SOAK_RSS_BOUND_MIB);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_soak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
