/* bench/wide.c: W9 (shared/BENCH.md), wide records: records of n floats converted to
 * records of n doubles ([[n:f4](v)] -> [[n:d8](v)], n = 16, 256, 4096) and a record of 64
 * int32 fields reordered, 16M values per call; beyond BENCH.md, records of 256, 1024 and
 * 4096 distinct fields of mixed kinds reversed and made big-endian, and of 600 [3:f4] arrays
 * converted to [3:d8] (hand_wide.c). Per shape: the
 * compile time a user sees (kernel built, first JIT run of one record; median over five distinct
 * plans of the same shape, which differ only in the destination's tail padding, so that no compile
 * is a cache hit), and the loop against hand.c's loop for that exact struct, interleaved rounds
 * into one destination buffer (where memory lands changes a streaming loop's time on some hosts),
 * outputs compared byte for byte with the C loop's first. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <segjit/segjit.h>

#include "bench.h"
#include "hand.h"

#define W9_VALUES   (16 * 1024 * 1024)
#define W9_VARIANTS 5

typedef struct w9_shape {
    int n; /* floats per record; 0: the 64-field record or a distinct-field one */
    void (*c_f4)(const float *, double *, int64_t);
    const hand_wide_shape *wide; /* a record of distinct fields */
} w9_shape;

static const w9_shape shapes[] = {
    {16, hand_w9_f4_d8_16, NULL},     {256, hand_w9_f4_d8_256, NULL},
    {4096, hand_w9_f4_d8_4096, NULL}, {0, NULL, NULL},
    {0, NULL, &hand_wide_256},        {0, NULL, &hand_wide_1024},
    {0, NULL, &hand_wide_4096},       {0, NULL, &hand_wide_arrays},
    {0, NULL, &hand_wide_swaps},
};

/* Values (fields) per record, and bytes per source and destination record. */
static int shape_per(const w9_shape *s) {
    return s->wide ? s->wide->values : s->n ? s->n : 64;
}
static size_t shape_bytes(const w9_shape *s, bool dst) {
    if (s->wide) return dst ? s->wide->dst_size : s->wide->src_size;
    return (size_t)shape_per(s) * (s->n && dst ? 8 : 4);
}

/* The pieces of a text joined into buf; the length. */
static size_t join(const char *const *piece, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    for (; *piece; piece++)
        len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s", *piece);
    return len < cap ? len : cap - 1;
}

/* Layout texts of a shape; variant v pads the destination's tail by 8v bytes. */
static void shape_text(const w9_shape *s, int v, char *src, char *dst, size_t cap) {
    if (s->wide) { /* the padding before the final ']' */
        join(s->wide->src_text, src, cap);
        size_t len = join(s->wide->dst_text, dst, cap);
        if (v && len) snprintf(dst + len - 1, cap - len + 1, "x%d]", 8 * v);
        return;
    }
    if (s->n) {
        snprintf(src, cap, "[[%d:f4](v)]", s->n);
        if (v)
            snprintf(dst, cap, "[[%d:d8](v)x%d]", s->n, 8 * v);
        else
            snprintf(dst, cap, "[[%d:d8](v)]", s->n);
        return;
    }
    size_t a = 0, b = 0;
    a += (size_t)snprintf(src + a, cap - a, "[");
    b += (size_t)snprintf(dst + b, cap - b, "[");
    for (int i = 0; i < 64; i++) {
        a += (size_t)snprintf(src + a, cap - a, "i4(f%d)", i);
        b += (size_t)snprintf(dst + b, cap - b, "i4(f%d)", 63 - i);
    }
    snprintf(src + a, cap - a, "]");
    if (v)
        snprintf(dst + b, cap - b, "x%d]", 8 * v);
    else
        snprintf(dst + b, cap - b, "]");
}

static sj_kernel *shape_kernel(const w9_shape *s, int v, sj_tier tier) {
    enum { CAP = 65536 };
    char *a = malloc(CAP), *b = malloc(CAP);
    if (!a || !b) {
        free(a), free(b);
        return NULL;
    }
    shape_text(s, v, a, b, CAP);
    sj_layout *la = NULL, *lb = NULL;
    sj_kernel *k = NULL;
    sj_error err = {0};
    if (sj_layout_parse(a, &la, &err) == SJ_OK && sj_layout_parse(b, &lb, &err) == SJ_OK &&
        sj_kernel_convert(la, lb, 0, &k, &err) == SJ_OK)
        sj_kernel_set_tier(k, tier);
    else
        fprintf(stderr, "segjit-bench: W9 %.60s... -> %.60s...: %s\n", a, b, err.message);
    sj_layout_unref(la);
    sj_layout_unref(lb);
    free(a), free(b);
    return k;
}

/* Build + first JIT run of one record, for W9_VARIANTS distinct plans: the median ns. */
static double compile_ns(const w9_shape *s, double *lo, double *hi, bool *all_jit) {
    double t[W9_VARIANTS];
    static uint8_t in[64 * 1024], out[64 * 1024]; /* one record of any shape */
    _Static_assert(sizeof in >= 4096 * 8, "W9's largest record fits");
    *all_jit = true;
    for (int v = 0; v < W9_VARIANTS; v++) {
        uint64_t t0 = bench_now_ns();
        sj_kernel *k = shape_kernel(s, v + 1, SJ_TIER_JIT);
        sj_segment a, b;
        sj_error err = {0};
        sj_segment_native(in, sizeof in, &a, &err);
        sj_segment_native(out, sizeof out, &b, &err);
        sj_args args = {&a, 0, &b, 0, 1};
        if (!k || sj_kernel_run(k, &args, NULL, &err) != SJ_OK) *all_jit = false;
        t[v] = (double)(bench_now_ns() - t0);
        if (k && sj_kernel_last_tier(k) != SJ_TIER_JIT) *all_jit = false;
        sj_kernel_free(k);
    }
    double m = bench_median(t, W9_VARIANTS);
    *lo = t[0];
    *hi = t[W9_VARIANTS - 1];
    return m;
}

enum { R_C, R_JIT, R_INTERP, R_COUNT };
static const char *const rname[R_COUNT] = {"c", "jit", "interp"};

static void run_one(int impl, const w9_shape *s, sj_kernel *const *k, const sj_args *args,
                    const void *src, void *dst, int64_t recs) {
    if (impl == R_C) {
        if (s->wide)
            s->wide->loop(src, dst, recs);
        else if (s->n)
            s->c_f4(src, dst, recs);
        else
            hand_w9_reverse64(src, dst, recs);
        return;
    }
    sj_error err = {0};
    if (sj_kernel_run(k[impl], args, NULL, &err) != SJ_OK)
        fprintf(stderr, "segjit-bench: W9 %s: %s\n", rname[impl], err.message);
}

void bench_wide(const bench_options *opt, bench_results *res) {
    int reps = opt->reps_override ? opt->reps_override : opt->quick ? 3 : 11;
    printf("\nW9 wide records: %d values per call, %d rounds interleaved, median [min-max]\n",
           W9_VALUES, reps);
    printf("%-26s %22s %10s %10s %10s %7s %7s  %s\n", "shape", "compile ms", "C ms", "JIT ms",
           "interp ms", "JIT/C", "int/C", "checksum");
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const w9_shape *s = &shapes[si];
        int64_t recs = W9_VALUES / shape_per(s);
        size_t ssz = (size_t)recs * shape_bytes(s, false),
               dsz = (size_t)recs * shape_bytes(s, true);
        uint8_t *src = aligned_alloc(64, ssz), *dst = aligned_alloc(64, dsz);
        uint8_t *ref = aligned_alloc(64, dsz);
        if (!src || !dst || !ref) {
            fprintf(stderr, "segjit-bench: W9: out of memory\n");
            free(src), free(dst), free(ref);
            return;
        }
        for (size_t i = 0; i < ssz / 4; i++) {
            float f = (float)(i % 100003) * 0.5f;
            int32_t x = (int32_t)(i * 2654435761u);
            memcpy(src + i * 4, s->n ? (const void *)&f : (const void *)&x, 4);
        }
        for (size_t i = ssz / 4 * 4; i < ssz; i++)
            src[i] = (uint8_t)i;
        double clo, chi;
        bool all_jit;
        double cms = compile_ns(s, &clo, &chi, &all_jit);
        sj_kernel *k[R_COUNT] = {NULL, shape_kernel(s, 0, SJ_TIER_JIT),
                                 shape_kernel(s, 0, SJ_TIER_INTERP)};
        sj_segment a, b;
        sj_error err = {0};
        sj_segment_native(src, (int64_t)ssz, &a, &err);
        sj_segment_native(dst, (int64_t)dsz, &b, &err);
        sj_args args = {&a, 0, &b, 0, recs};
        bool ok = k[R_JIT] && k[R_INTERP];
        memset(ref, 0, dsz);
        run_one(R_C, s, k, &args, src, ref, recs);
        for (int i = R_JIT; ok && i < R_COUNT; i++) { /* verify, and warm up */
            memset(dst, 0x5A, dsz);
            run_one(i, s, k, &args, src, dst, recs);
            ok = memcmp(dst, ref, dsz) == 0;
        }
        if (ok && sj_kernel_last_tier(k[R_JIT]) != SJ_TIER_JIT) all_jit = false;
        double *t[R_COUNT];
        for (int i = 0; i < R_COUNT; i++)
            t[i] = calloc((size_t)reps, sizeof(double));
        for (int r = 0; ok && r < reps; r++)
            for (int j = 0; j < R_COUNT; j++) {
                int i = (j + r) % R_COUNT;
                uint64_t t0 = bench_now_ns();
                run_one(i, s, k, &args, src, dst, recs);
                t[i][r] = (double)(bench_now_ns() - t0);
            }
        char name[32];
        if (s->wide)
            snprintf(name, sizeof name, "%s", s->wide->label);
        else if (s->n)
            snprintf(name, sizeof name, "[[%d:f4]] -> [[%d:d8]]", s->n, s->n);
        else
            snprintf(name, sizeof name, "64 fields reversed");
        double m[R_COUNT], lo[R_COUNT], hi[R_COUNT];
        for (int i = 0; i < R_COUNT; i++) {
            m[i] = ok ? bench_median(t[i], reps) : 0;
            lo[i] = ok ? t[i][0] : 0;
            hi[i] = ok ? t[i][reps - 1] : 0;
        }
        printf("%-26s %6.2f [%5.2f-%5.2f] %10.2f %10.2f %10.2f %7.3f %7.3f  %s%s\n", name,
               cms / 1e6, clo / 1e6, chi / 1e6, m[R_C] / 1e6, m[R_JIT] / 1e6, m[R_INTERP] / 1e6,
               ok ? m[R_JIT] / m[R_C] : 0, ok ? m[R_INTERP] / m[R_C] : 0, ok ? "ok" : "DIFFERS",
               all_jit ? "" : " (not all on the JIT tier)");
        if (!ok) res->any_checksum_failure = true;
        bench_w9 *w = &res->w9[res->nw9++];
        w->n = shape_per(s);
        w->fields = s->n == 0 && !s->wide;
        w->distinct = s->wide != NULL;
        w->arrays = s->wide == &hand_wide_arrays;
        w->swaps = s->wide == &hand_wide_swaps;
        w->compile_ns = cms;
        w->all_jit = all_jit;
        w->ok = ok;
        for (int i = 0; i < R_COUNT; i++) {
            w->ns[i] = m[i];
            (void)lo[i], (void)hi[i];
        }
        w->bytes = (double)(ssz + dsz);
        for (int i = 0; i < R_COUNT; i++)
            free(t[i]);
        sj_kernel_free(k[R_JIT]);
        sj_kernel_free(k[R_INTERP]);
        free(src), free(dst), free(ref);
    }
}
