/* bench/bench.c: segjit-bench's driver and its workloads W1-W7 (shared/BENCH.md): data
 * set-up, one call of each implementation, checksums against the hand-written C, and
 * the interleaved timing rounds. W8 (threads, close time) is in threads.c, output formats
 * in report.c, compile cost in compile.c, the hand-written loops in hand.c.
 *
 * Method. Each workload is set up in its own arena (64-byte aligned, deterministic
 * data). Every implementation first runs once on a poisoned output and its result is
 * compared with the hand-written C result (reductions: the value's bits; moves: a hash
 * of all output bytes); then a warm-up; then R rounds in which every implementation
 * runs once, the starting implementation rotating each round, so that drift of a noisy
 * machine spreads over all of them (W7's rows first read their records, untimed:
 * w7_warm). Reported: median, min and max of the R samples.
 * Reductions are compared again after every timed call.
 *
 * Implementations: jit = sj_kernel_run on native segments, tier JIT (a row is missing
 * when the JIT is unavailable or declined: the reason is printed); jit_unchecked = the
 * same kernel through sj_kernel_run_unchecked (below); interp = tier INTERP on native
 * segments; heap_interp = the interpreter kernel on heap segments (sj_segment_of_array)
 * over the same memory; c = hand.c; memcpy = the source's first bytes into each
 * destination array, as many as the workload writes (W4: 14 bytes per record, which
 * reads less than the conversion does: a lower bound; W5: 24 per record; W6: 4);
 * c_checked_per_element (W3 only) = hand.c's sum with a bounds and an alignment test per
 * element. W5's segjit rows are one gather_many kernel (one pass over the records, four
 * destination arrays), as its c row is the one-pass loop a C programmer writes. W2's floating-point
 * sum uses the 8-lane order of src/plan.h in hand.c too, so the bits match.
 *
 * W7's view (user.c): a user's loop to n over a view's field, built by the bench's
 * compiler; view_clang: the same file built by clang (clang keeps the index check there;
 * gcc splits the loop at the field's count, docs/ACCESS.md section 5).
 *
 * Bytes (GB/s = bytes / median time): read + written by one call: W1, W3 4 per element;
 * W2 24 (every record's cache lines are loaded for its y); W4 24 + 14; W5 24 + 24;
 * W6 4 + 4; memcpy rows twice what they copy.
 *
 * W10 (oneshot.c): rows c and oneshot (sj_copy) of W6's data, ten calls each, and its
 * counts; in the CSV also rows W10,<n>,plans_built|compiles|jit_cache_hits,<count>,, and
 * W10,1,call1_kernel|call1_oneshot|call1_build_run_free,<ns per call>,,.
 *
 * CSV: one row per measured row of the table; rows not measured are left out. The
 * compile cost follows as rows of workload "compile" whose n is the number of samples,
 * impl first_kernel (main() to the first compiled kernel, in a fresh process),
 * first_kernel_process (spawn to exit of that process), distinct_kernel, cache_hit and
 * cache_hit_freed
 * (see compile.c), with the nanoseconds in ns_per_elem and gb_per_s, ratio_vs_c empty. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <segjit/segjit.h>

#include "bench.h"
#include "hand.h"
#include "user.h"

/* Internal hook requested from src/kernel.c (not a public API): runs the executor that
 * sj_kernel_run would use for native memory (the compiled loop for a JIT-tier kernel)
 * with no checks at all. src and dst are the addresses of the call's offsets (segment
 * base + offset, as sj_args gives them); count elements; result as sj_kernel_run.
 * Declared weak so that the bench builds and reports the row as missing until the
 * library provides it. */
sj_status sj_kernel_run_unchecked(const sj_kernel *k, const uint8_t *src, uint8_t *dst,
                                  int64_t count, sj_result *result) __attribute__((weak));

const char *const bench_impl_names[IMPL_COUNT] = {
    "c",
    "jit",
    "jit_unchecked",
    "interp",
    "heap_interp",
    "memcpy",
    "c_checked_per_element",
    "c_call_per_element",
    "get_path",
    "get",
    "accessor",
    "accessor_shared",
    "accessor_1_thread",
    "accessor_2_threads",
    "c_call_1_thread",
    "c_call_2_threads",
    "close_shared",
    "close_confined",
    "oneshot",
    "c_clang",
    "auto",
    "view",
    "heap_pinned_jit",
    "c_1_thread",
    "c_2_threads",
    "view_clang",
    "kernel_1_thread",
    "kernel_2_threads",
};

#define BIT(i) (1u << (i))
#define MAX_K  4

typedef enum wl_id { W1, W2, W3, W4, W5, W6, W7, W8, W_COUNT } wl_id;

typedef struct wl_def {
    const char *name;
    const char *what;
    unsigned impls;
    double bytes_per_elem;  /* read + written by one element, every implementation but memcpy */
    double memcpy_per_elem; /* bytes memcpy copies per element (touched: twice that) */
    bool reduces;
} wl_def;

#define SEGJIT_IMPLS                                                                               \
    (BIT(IMPL_C) | BIT(IMPL_C_CLANG) | BIT(IMPL_JIT) | BIT(IMPL_AUTO) | BIT(IMPL_JIT_UNCHECKED) |  \
     BIT(IMPL_INTERP) | BIT(IMPL_HEAP_INTERP) | BIT(IMPL_HEAP_PINNED_JIT))

#ifdef SEGJIT_BENCH_CLANG
#define VIEW_CLANG BIT(IMPL_VIEW_CLANG)
#else
#define VIEW_CLANG 0u
#endif

static const wl_def defs[W_COUNT] = {
    [W1] = {"W1", "dense sum of int32 (int64 accumulator), [*:i4] reduce SUM [*]", SEGJIT_IMPLS, 4,
            0, true},
    /* W2 counts the 24 bytes of each record: the strided loads pull every cache line. */
    [W2] = {"W2", "strided field sum, [*:[i4(id)i4(x)d8(y)j8(z)]] reduce SUM [*].y", SEGJIT_IMPLS,
            24, 0, true},
    [W3] = {"W3", "W1 with checks per element vs checked once",
            BIT(IMPL_C) | BIT(IMPL_C_CLANG) | BIT(IMPL_JIT) | BIT(IMPL_JIT_UNCHECKED) |
                BIT(IMPL_C_CHECKED),
            4, 0, true},
    /* memcpy copies the 14 destination bytes per record (a lower bound: it reads less). */
    [W4] = {"W4", "convert [i4(a)x4j8(b)s2(c)x6] -> [1%S2(c)1%I4(a)1%J8(b)]",
            SEGJIT_IMPLS | BIT(IMPL_MEMCPY), 24 + 14, 14, false},
    [W5] = {"W5", "AoS -> SoA: W2 records into four dense arrays (one gather_many)",
            SEGJIT_IMPLS | BIT(IMPL_MEMCPY), 24 + 24, 24, false},
    [W6] = {"W6", "int32 copy little-endian -> big-endian, [N:i4] -> [N:I4]",
            SEGJIT_IMPLS | BIT(IMPL_MEMCPY), 4 + 4, 4, false},
    /* W7 and W8 count the 24-byte records, as W2; their ns/elem is the time per access. */
    [W7] = {"W7", "element at a time: W2's y summed by a user loop, one checked access each",
            BIT(IMPL_C) | BIT(IMPL_C_CALL) | BIT(IMPL_GET_PATH) | BIT(IMPL_GET) |
                BIT(IMPL_ACCESSOR) | BIT(IMPL_ACCESSOR_SHARED) | BIT(IMPL_VIEW) | VIEW_CLANG,
            24, 0, true},
    [W8] = {"W8", "W7's accessor loop on one shared arena, 1 and 2 threads; close time", 0, 24, 0,
            true},
};

/* A workload set up at one size. */
typedef struct wl {
    wl_id id;
    const wl_def *def;
    int64_t n;
    sj_arena arena;
    sj_segment src, dst[MAX_K];     /* native */
    sj_segment hsrc, hdst[MAX_K];   /* heap views of the same memory */
    sj_segment hpsrc, hpdst[MAX_K]; /* the same, pinnable (callbacks count pins) */
    int nk;                         /* kernels per call */
    int ndst;                       /* destination arrays (W5: 4, written by one kernel) */
    sj_kernel *kj[MAX_K];           /* JIT tier */
    sj_kernel *ki[MAX_K];           /* interpreter tier */
    sj_kernel *ka[MAX_K];           /* tier AUTO: what a user gets by default */
    uint64_t dst_bytes[MAX_K];
    char jit_missing[160]; /* why the JIT rows are missing ("" when present) */
    /* W7 */
    sj_arena shared; /* a second copy of the records, in a shared arena */
    sj_segment shared_src;
    sj_path *path;    /* [*].y */
    sj_accessor *acc; /* [*].y */
    sj_layout *y;     /* d8 */
} wl;

static bool jit_ok;
static char jit_why[160];

uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_text(char *buf, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* ---- deterministic data ---- */

static uint64_t rng_state;
static uint64_t rng_next(void) {
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Hash of a byte range (word at a time, order-sensitive). */
static uint64_t hash_bytes(uint64_t h, const uint8_t *p, uint64_t n) {
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15u;
        h ^= h >> 32;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h ^ n;
}

/* ---- set-up ---- */

#define TRY(call)                                                                                  \
    do {                                                                                           \
        if ((call) != SJ_OK) {                                                                     \
            fprintf(stderr, "segjit-bench: %s: %s: %s\n", #call, sj_status_name(err.status),       \
                    err.message);                                                                  \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

static int parse_layout(const char *text, sj_layout **out) {
    sj_error err = {0};
    TRY(sj_layout_parse(text, out, &err));
    return 0;
}

/* Both tiers' kernels for index k, from a constructor already called for the JIT one. */
static int finish_kernels(wl *w, int k) {
    sj_kernel_set_tier(w->kj[k], SJ_TIER_JIT);
    sj_kernel_set_tier(w->ki[k], SJ_TIER_INTERP);
    sj_kernel_set_tier(w->ka[k], SJ_TIER_AUTO);
    return 0;
}

static int make_reduce(wl *w, const char *root_text, const char *path_text) {
    sj_error err = {0};
    sj_layout *root = NULL;
    sj_path *path = NULL;
    if (parse_layout(root_text, &root) != 0) return -1;
    int rc = -1;
    if (sj_path_parse(root, path_text, &path, &err) != SJ_OK) {
        fprintf(stderr, "segjit-bench: path %s: %s\n", path_text, err.message);
        goto out;
    }
    if (sj_kernel_reduce(path, SJ_REDUCE_SUM, &w->kj[0], &err) != SJ_OK ||
        sj_kernel_reduce(path, SJ_REDUCE_SUM, &w->ki[0], &err) != SJ_OK ||
        sj_kernel_reduce(path, SJ_REDUCE_SUM, &w->ka[0], &err) != SJ_OK) {
        fprintf(stderr, "segjit-bench: reduce kernel %s %s: %s\n", root_text, path_text,
                err.message);
        goto out;
    }
    w->nk = 1;
    rc = finish_kernels(w, 0);
out:
    sj_path_free(path);
    sj_layout_unref(root);
    return rc;
}

static int make_copy_or_convert(wl *w, const char *src_text, const char *dst_text, bool convert) {
    sj_error err = {0};
    sj_layout *s = NULL, *d = NULL;
    int rc = -1;
    if (parse_layout(src_text, &s) != 0 || parse_layout(dst_text, &d) != 0) goto out;
    sj_status st1, st2;
    if (convert) {
        st1 = sj_kernel_convert(s, d, 0, &w->kj[0], &err);
        st2 = st1 == SJ_OK ? sj_kernel_convert(s, d, 0, &w->ki[0], &err) : st1;
        st2 = st2 == SJ_OK ? sj_kernel_convert(s, d, 0, &w->ka[0], &err) : st2;
    } else {
        st1 = sj_kernel_copy(s, d, &w->kj[0], &err);
        st2 = st1 == SJ_OK ? sj_kernel_copy(s, d, &w->ki[0], &err) : st1;
        st2 = st2 == SJ_OK ? sj_kernel_copy(s, d, &w->ka[0], &err) : st2;
    }
    if (st2 != SJ_OK) {
        fprintf(stderr, "segjit-bench: %s kernel %s -> %s: %s\n", convert ? "convert" : "copy",
                src_text, dst_text, err.message);
        goto out;
    }
    w->nk = 1;
    w->ndst = 1;
    rc = finish_kernels(w, 0);
out:
    sj_layout_unref(s);
    sj_layout_unref(d);
    return rc;
}

/* W5: one kernel gathering the four fields into four arrays in one pass. */
static int make_gather_many(wl *w, const char *root_text) {
    static const char *const paths[4] = {"[*].id", "[*].x", "[*].y", "[*].z"};
    static const char *const elems[4] = {"i4", "i4", "d8", "j8"};
    sj_error err = {0};
    sj_layout *root = NULL;
    sj_path *p[4] = {NULL};
    sj_layout *e[4] = {NULL};
    if (parse_layout(root_text, &root) != 0) return -1;
    int rc = -1;
    int k = 0;
    for (; k < 4; k++) {
        if (parse_layout(elems[k], &e[k]) != 0) break;
        if (sj_path_parse(root, paths[k], &p[k], &err) != SJ_OK) {
            fprintf(stderr, "segjit-bench: path %s: %s\n", paths[k], err.message);
            break;
        }
    }
    if (k == 4) {
        const sj_path *const *cp = (const sj_path *const *)p;
        const sj_layout *const *ce = (const sj_layout *const *)e;
        if (sj_kernel_gather_many(cp, ce, 4, 0, &w->kj[0], &err) == SJ_OK &&
            sj_kernel_gather_many(cp, ce, 4, 0, &w->ki[0], &err) == SJ_OK &&
            sj_kernel_gather_many(cp, ce, 4, 0, &w->ka[0], &err) == SJ_OK)
            rc = finish_kernels(w, 0);
        else
            fprintf(stderr, "segjit-bench: gather_many of %s: %s\n", root_text, err.message);
    }
    for (int i = 0; i < 4; i++) {
        sj_path_free(p[i]);
        sj_layout_unref(e[i]);
    }
    w->nk = 1;
    w->ndst = 4;
    sj_layout_unref(root);
    return rc;
}

static int alloc(wl *w, uint64_t bytes, sj_segment *out) {
    sj_error err = {0};
    TRY(sj_arena_allocate(w->arena, (int64_t)bytes, 64, out, &err));
    return 0;
}

/* A managed runtime's pin: here a counter (the array never moves). */
static long heap_pins;
static void *heap_resolve(void *owner) {
    return owner;
}
static void heap_pin(void *owner) {
    (void)owner;
    heap_pins++;
}
static void heap_unpin(void *owner) {
    (void)owner;
    heap_pins--;
}

/* A heap segment over s's memory (resolved per call, interpreter) and a pinnable one. */
static int heap_view(const sj_segment *s, sj_heap_kind kind, unsigned elem, sj_segment *out,
                     sj_segment *pinned) {
    sj_error err = {0};
    int64_t count = (int64_t)(sj_segment_size(s) / elem);
    TRY(sj_segment_of_array(kind, s->base, count, out, &err));
    TRY(sj_segment_heap_pinned(kind, count, s->base, heap_resolve, heap_pin, heap_unpin, pinned,
                               &err));
    return 0;
}

static void fill_records(hand_rec *r, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint64_t a = rng_next(), b = rng_next();
        r[i].id = (int32_t)i;
        r[i].x = (int32_t)(uint32_t)a;
        /* magnitudes from 2^-20 to 2^20, both signs: the order of the sum shows in the bits */
        r[i].y = (double)(int64_t)(b >> 11) / 9007199254740992.0 * (double)(1 << 20) *
                 ((a >> 40) & 1 ? -1.0 : 1.0) / (double)(1u << ((a >> 48) & 31));
        r[i].z = (int64_t)rng_next();
    }
}

static void teardown(wl *w) {
    for (int k = 0; k < MAX_K; k++) {
        sj_kernel_free(w->kj[k]);
        sj_kernel_free(w->ki[k]);
        sj_kernel_free(w->ka[k]);
    }
    sj_accessor_free(w->acc);
    sj_path_free(w->path);
    sj_layout_unref(w->y);
    if (w->shared.scope) sj_arena_close(w->shared, NULL);
    if (w->arena.scope) sj_arena_close(w->arena, NULL);
    memset(w, 0, sizeof *w);
}

static int setup(wl *w, wl_id id, int64_t n) {
    sj_error err = {0};
    memset(w, 0, sizeof *w);
    w->id = id;
    w->def = &defs[id];
    w->n = n;
    rng_state = 0x5e6a17u + (uint64_t)id * 1000003u + (uint64_t)n;
    TRY(sj_arena_open(SJ_ARENA_CONFINED, &w->arena, &err));
    uint64_t un = (uint64_t)n;
    char text[128];
    int rc = -1;
    switch (id) {
        case W1:
        case W3:
        case W6: {
            if (alloc(w, 4 * un, &w->src) != 0) break;
            int32_t *a = (int32_t *)(void *)w->src.base;
            for (int64_t i = 0; i < n; i++)
                a[i] = (int32_t)(uint32_t)rng_next();
            if (heap_view(&w->src, SJ_HEAP_I32, 4, &w->hsrc, &w->hpsrc) != 0) break;
            if (id == W6) {
                w->dst_bytes[0] = 4 * un;
                if (alloc(w, 4 * un, &w->dst[0]) != 0 ||
                    heap_view(&w->dst[0], SJ_HEAP_I32, 4, &w->hdst[0], &w->hpdst[0]) != 0)
                    break;
                rc = make_copy_or_convert(w, "i4", "I4", false);
            } else {
                snprintf(text, sizeof text, "[*:i4]"); /* open: one kernel for every count */
                rc = make_reduce(w, text, "[*]");
            }
            break;
        }
        case W2:
        case W5: {
            if (alloc(w, 24 * un, &w->src) != 0) break;
            fill_records((hand_rec *)(void *)w->src.base, n);
            if (heap_view(&w->src, SJ_HEAP_I64, 8, &w->hsrc, &w->hpsrc) != 0) break;
            snprintf(text, sizeof text, "[*:[i4(id)i4(x)d8(y)j8(z)]]");
            if (id == W2) {
                rc = make_reduce(w, text, "[*].y");
                break;
            }
            static const unsigned sizes[4] = {4, 4, 8, 8};
            static const sj_heap_kind kinds[4] = {SJ_HEAP_I32, SJ_HEAP_I32, SJ_HEAP_F64,
                                                  SJ_HEAP_I64};
            int k = 0;
            for (; k < 4; k++) {
                w->dst_bytes[k] = sizes[k] * un;
                if (alloc(w, w->dst_bytes[k], &w->dst[k]) != 0 ||
                    heap_view(&w->dst[k], kinds[k], sizes[k], &w->hdst[k], &w->hpdst[k]) != 0)
                    break;
            }
            if (k == 4) rc = make_gather_many(w, text);
            break;
        }
        case W4: {
            if (alloc(w, 24 * un, &w->src) != 0) break;
            hand_w4_src *s = (hand_w4_src *)(void *)w->src.base;
            for (int64_t i = 0; i < n; i++) {
                uint64_t v = rng_next();
                s[i].a = (int32_t)(uint32_t)v;
                s[i].c = (int16_t)(uint16_t)(v >> 32);
                s[i].b = (int64_t)rng_next();
            }
            if (heap_view(&w->src, SJ_HEAP_I64, 8, &w->hsrc, &w->hpsrc) != 0) break;
            w->dst_bytes[0] = HAND_W4_DST_SIZE * un;
            if (alloc(w, w->dst_bytes[0], &w->dst[0]) != 0 ||
                heap_view(&w->dst[0], SJ_HEAP_I8, 1, &w->hdst[0], &w->hpdst[0]) != 0)
                break;
            rc = make_copy_or_convert(w, "[i4(a)x4j8(b)s2(c)x6]", "[1%S2(c)1%I4(a)1%J8(b)]", true);
            break;
        }
        case W7: {
            if (alloc(w, 24 * un, &w->src) != 0) break;
            fill_records((hand_rec *)(void *)w->src.base, n);
            TRY(sj_arena_open(SJ_ARENA_SHARED, &w->shared, &err));
            TRY(sj_arena_allocate(w->shared, (int64_t)(24 * un), 64, &w->shared_src, &err));
            memcpy(w->shared_src.base, w->src.base, 24 * un);
            snprintf(text, sizeof text, "[%" PRId64 ":[i4(id)i4(x)d8(y)j8(z)]]", n);
            sj_layout *root = NULL;
            if (parse_layout(text, &root) != 0 || parse_layout("d8", &w->y) != 0) {
                sj_layout_unref(root);
                break;
            }
            if (sj_path_parse(root, "[*].y", &w->path, &err) == SJ_OK &&
                sj_accessor_new(root, "[*].y", &w->acc, &err) == SJ_OK)
                rc = 0;
            else
                fprintf(stderr, "segjit-bench: W7: %s\n", err.message);
            sj_layout_unref(root);
            break;
        }
        default:
            break;
    }
    if (rc != 0) teardown(w);
    return rc;
}

/* W7's user loops: what a user writes, one checked call per element, the status checked. */
static sj_status w7_loop(const wl *w, bench_impl impl, double *out, sj_error *err) {
    const int64_t n = w->n;
    double s = 0;
    sj_status st = SJ_OK;
    switch (impl) {
        case IMPL_C_CALL: {
            const sj_accessor *acc = w->acc; /* held in a local, as a user's loop would */
            for (int64_t i = 0; i < n && st == SJ_OK; i++) {
                double y;
                st = hand_w7_get_y(acc, w->src.base, 0, &i, 1, &y, err) ? SJ_E_ARG : SJ_OK;
                s += y;
            }
            break;
        }
        case IMPL_GET_PATH:
            for (int64_t i = 0; i < n && st == SJ_OK; i++) {
                sj_value v;
                st = sj_get_path(&w->src, w->path, 0, &i, 1, &v, err);
                s += v.f64;
            }
            break;
        case IMPL_GET:
            for (int64_t i = 0; i < n && st == SJ_OK; i++) {
                sj_value v;
                st = sj_get(&w->src, w->y, 24 * i + 8, &v, err);
                s += v.f64;
            }
            break;
        case IMPL_ACCESSOR:
        case IMPL_ACCESSOR_SHARED: {
            const sj_segment *seg = impl == IMPL_ACCESSOR ? &w->src : &w->shared_src;
            const sj_accessor *acc = w->acc;
            for (int64_t i = 0; i < n && st == SJ_OK; i++) {
                double y = 0;
                st = sj_accessor_get_f64(acc, seg, 0, &i, 1, &y, err);
                s += y;
            }
            break;
        }
        case IMPL_VIEW:
        case IMPL_VIEW_CLANG: {
            sj_view v;
            double vs = 0; /* not &s: the accessor loops' sum must not escape (kept in memory) */
            if ((st = sj_view_open(&w->src, 0, -1, SJ_VIEW_READ, &v, err)) != SJ_OK) break;
#ifdef SEGJIT_BENCH_CLANG
            if (impl == IMPL_VIEW_CLANG)
                st = user_clang_w7_view_sum(&v, w->acc, n, &vs, err);
            else
#endif
                st = user_w7_view_sum(&v, w->acc, n, &vs, err);
            s = vs;
            sj_status cs = sj_view_close(&v, st == SJ_OK ? err : NULL);
            if (st == SJ_OK) st = cs;
            break;
        }
        default:
            break;
    }
    *out = s;
    return st;
}

/* W7's shared row reads a copy of the records in its own arena, and one pass over the
 * records does not take the cache back from the copy (1M records nearly fill the last-level
 * cache). So every W7 row first reads its own records four times, untimed, when they could
 * stay in that cache (at most four times its size); larger ones stream from memory anyway. */
static int w7_warm_passes(const wl *w) {
    long llc = 0;
#ifdef _SC_LEVEL3_CACHE_SIZE
    llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
    return 24.0 * (double)w->n > 4.0 * (double)(llc > 0 ? llc : 32L << 20) ? 0 : 4;
}

static volatile double w7_sink;
static void w7_warm(const wl *w, bench_impl impl, int passes) {
    const sj_segment *s = impl == IMPL_ACCESSOR_SHARED ? &w->shared_src : &w->src;
    for (int k = 0; k < passes; k++)
        w7_sink = hand_w7_sum_y((const hand_rec *)(const void *)s->base, w->n);
}

/* ---- one call of an implementation ---- */

/* Runs impl once. *value: the reduction's bits (0 for moves). Returns SJ_OK or the
 * status of the failed segjit call (its message in err). */
static sj_status run_once(wl *w, bench_impl impl, uint64_t *value, sj_error *err) {
    const int64_t n = w->n;
    sj_result res;
    memset(&res, 0, sizeof res);
    *value = 0;
    switch (impl) {
        case IMPL_JIT:
        case IMPL_AUTO:
        case IMPL_INTERP:
        case IMPL_HEAP_INTERP:
        case IMPL_HEAP_PINNED_JIT: {
            bool heap = impl == IMPL_HEAP_INTERP, pinned = impl == IMPL_HEAP_PINNED_JIT;
            sj_kernel *const *ks = impl == IMPL_JIT || pinned ? w->kj
                                   : impl == IMPL_AUTO        ? w->ka
                                                              : w->ki;
            const sj_segment *src = heap ? &w->hsrc : pinned ? &w->hpsrc : &w->src;
            if (w->id == W5) {
                const sj_segment *d[MAX_K];
                int64_t offs[MAX_K] = {0};
                for (int k = 0; k < w->ndst; k++)
                    d[k] = heap ? &w->hdst[k] : pinned ? &w->hpdst[k] : &w->dst[k];
                sj_args_many a = {.src = src,
                                  .src_offset = 0,
                                  .dsts = d,
                                  .dst_offsets = offs,
                                  .ndst = (size_t)w->ndst,
                                  .count = n};
                sj_status st = sj_kernel_run_many(ks[0], &a, err);
                if (st != SJ_OK) return st;
                break;
            }
            for (int k = 0; k < w->nk; k++) {
                sj_args a = {.src = src,
                             .src_offset = 0,
                             .dst = w->def->reduces ? NULL
                                    : heap          ? &w->hdst[k]
                                    : pinned        ? &w->hpdst[k]
                                                    : &w->dst[k],
                             .dst_offset = 0,
                             .count = n};
                sj_status st = sj_kernel_run(ks[k], &a, w->def->reduces ? &res : NULL, err);
                if (st != SJ_OK) return st;
            }
            break;
        }
        case IMPL_JIT_UNCHECKED:
            for (int k = 0; k < w->nk; k++) {
                uint8_t *d = w->def->reduces ? NULL : w->dst[k].base;
                uint8_t *many[MAX_K];
                if (w->id == W5) { /* a multi-destination kernel takes the arrays' addresses */
                    for (int j = 0; j < w->ndst; j++)
                        many[j] = w->dst[j].base;
                    d = (uint8_t *)many;
                }
                sj_status st = sj_kernel_run_unchecked(w->kj[k], w->src.base, d, n,
                                                       w->def->reduces ? &res : NULL);
                if (st != SJ_OK) {
                    bench_text(err->message, sizeof err->message, "sj_kernel_run_unchecked failed");
                    err->status = st;
                    return st;
                }
            }
            break;
        case IMPL_C_CALL:
        case IMPL_GET_PATH:
        case IMPL_GET:
        case IMPL_ACCESSOR:
        case IMPL_ACCESSOR_SHARED:
        case IMPL_VIEW:
        case IMPL_VIEW_CLANG: {
            sj_status st = w7_loop(w, impl, &res.f64, err);
            if (st != SJ_OK) return st;
            break;
        }
        case IMPL_C:
            switch (w->id) {
                case W1:
                case W3:
                    res.i64 = hand_w1_sum((const int32_t *)(const void *)w->src.base, n);
                    break;
                case W2:
                    res.f64 = hand_w2_sum_y((const hand_rec *)(const void *)w->src.base, n);
                    break;
                case W7:
                    res.f64 = hand_w7_sum_y((const hand_rec *)(const void *)w->src.base, n);
                    break;
                case W4:
                    hand_w4_convert((const hand_w4_src *)(const void *)w->src.base, w->dst[0].base,
                                    n);
                    break;
                case W5:
                    hand_w5_split(
                        (const hand_rec *)(const void *)w->src.base,
                        (int32_t *)(void *)w->dst[0].base, (int32_t *)(void *)w->dst[1].base,
                        (double *)(void *)w->dst[2].base, (int64_t *)(void *)w->dst[3].base, n);
                    break;
                case W6:
                    hand_w6_bswap((const uint32_t *)(const void *)w->src.base,
                                  (uint32_t *)(void *)w->dst[0].base, n);
                    break;
                default:
                    break;
            }
            break;
        case IMPL_C_CLANG:
#ifdef SEGJIT_BENCH_CLANG
            switch (w->id) {
                case W1:
                case W3:
                    res.i64 = hand_clang_w1_sum((const int32_t *)(const void *)w->src.base, n);
                    break;
                case W2:
                    res.f64 = hand_clang_w2_sum_y((const hand_rec *)(const void *)w->src.base, n);
                    break;
                case W4:
                    hand_clang_w4_convert((const hand_w4_src *)(const void *)w->src.base,
                                          w->dst[0].base, n);
                    break;
                case W5:
                    hand_clang_w5_split(
                        (const hand_rec *)(const void *)w->src.base,
                        (int32_t *)(void *)w->dst[0].base, (int32_t *)(void *)w->dst[1].base,
                        (double *)(void *)w->dst[2].base, (int64_t *)(void *)w->dst[3].base, n);
                    break;
                case W6:
                    hand_clang_w6_bswap((const uint32_t *)(const void *)w->src.base,
                                        (uint32_t *)(void *)w->dst[0].base, n);
                    break;
                default:
                    break;
            }
            break;
#else
            bench_text(err->message, sizeof err->message, "no clang found at build time");
            err->status = SJ_E_UNSUPPORTED;
            return SJ_E_UNSUPPORTED;
#endif
        case IMPL_C_CHECKED: {
            int64_t s = 0;
            if (!hand_w3_sum_checked(w->src.base, sj_segment_size(&w->src), n, &s)) {
                bench_text(err->message, sizeof err->message, "per-element check failed");
                err->status = SJ_E_BOUNDS;
                return SJ_E_BOUNDS;
            }
            res.i64 = s;
            break;
        }
        case IMPL_MEMCPY: {
            /* The source's bytes into the destination arrays, as many as they hold. */
            uint64_t off = 0;
            for (int k = 0; k < w->ndst; k++) {
                memcpy(w->dst[k].base, w->src.base + off, w->dst_bytes[k]);
                off += w->dst_bytes[k];
            }
            break;
        }
        default:
            break;
    }
    if (w->def->reduces) {
        /* W1/W3: an i64 sum; W2: an f64 sum; both 8 bytes: compare the bits. */
        memcpy(value, &res, sizeof *value);
    }
    return SJ_OK;
}

static void poison(wl *w) {
    for (int k = 0; k < w->ndst && !w->def->reduces; k++)
        memset(w->dst[k].base, 0x5a, w->dst_bytes[k]);
}

static uint64_t output_hash(const wl *w) {
    uint64_t h = 0x243f6a8885a308d3u;
    for (int k = 0; k < w->ndst && !w->def->reduces; k++)
        h = hash_bytes(h, w->dst[k].base, w->dst_bytes[k]);
    return h;
}

/* ---- measuring one workload at one size ---- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bench_row *bench_add_row(bench_results *r) {
    if (r->count == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        bench_row *p = realloc(r->rows, cap * sizeof *p);
        if (!p) return NULL;
        r->rows = p;
        r->cap = cap;
    }
    bench_row *row = &r->rows[r->count++];
    memset(row, 0, sizeof *row);
    return row;
}

static const char *tier_name(sj_tier t) {
    return t == SJ_TIER_JIT ? "jit" : t == SJ_TIER_INTERP ? "interpreter" : "?";
}

static int measure(wl *w, int warmups, int reps, bench_results *res) {
    bench_row *rows[IMPL_COUNT] = {0};
    bool active[IMPL_COUNT] = {false};
    double *samples[IMPL_COUNT] = {0};
    uint64_t ref_value = 0, ref_hash = 0;

    size_t first = res->count;
    for (int i = 0; i < IMPL_COUNT; i++) {
        if (!(w->def->impls & BIT(i))) continue;
        bench_row *row = bench_add_row(res);
        if (!row) return -1;
        row->workload = w->def->name;
        row->n = w->n;
        row->impl = (bench_impl)i;
        row->bytes = (double)w->n *
                     (i == IMPL_MEMCPY ? 2 * w->def->memcpy_per_elem : w->def->bytes_per_elem);
    }
    for (size_t j = first; j < res->count; j++) /* after the last realloc */
        rows[res->rows[j].impl] = &res->rows[j];

    /* Verification run of each implementation, the hand-written C first. */
    for (int i = 0; i < IMPL_COUNT; i++) {
        bench_row *row = rows[i];
        if (!row) continue;
        if ((i == IMPL_JIT || i == IMPL_JIT_UNCHECKED || i == IMPL_HEAP_PINNED_JIT) &&
            w->jit_missing[0]) {
            bench_text(row->note, sizeof row->note, "%s", w->jit_missing);
            continue;
        }
        if (i == IMPL_JIT_UNCHECKED && !rows[IMPL_JIT]->present) {
            bench_text(row->note, sizeof row->note, "needs the jit row");
            continue;
        }
        if (i == IMPL_JIT_UNCHECKED && !sj_kernel_run_unchecked) {
            bench_text(row->note, sizeof row->note,
                       "missing: sj_kernel_run_unchecked is not in this libsegjit");
            continue;
        }
        poison(w);
        sj_error err = {0};
        uint64_t value = 0;
        sj_status st = run_once(w, (bench_impl)i, &value, &err);
        if (st != SJ_OK) {
            bench_text(row->note, sizeof row->note, "FAILED: %s: %s", sj_status_name(st),
                       err.message);
            row->verified = true;
            row->checksum_ok = false;
            res->any_checksum_failure = true;
            continue;
        }
        if (heap_pins != 0) {
            bench_text(row->note, sizeof row->note, "FAILED: %ld pins left after the call",
                       heap_pins);
            row->verified = true;
            row->checksum_ok = false;
            res->any_checksum_failure = true;
            heap_pins = 0;
            continue;
        }
        if (i == IMPL_JIT || i == IMPL_INTERP || i == IMPL_HEAP_INTERP ||
            i == IMPL_HEAP_PINNED_JIT) {
            bool jit = i == IMPL_JIT || i == IMPL_HEAP_PINNED_JIT;
            sj_tier want = jit ? SJ_TIER_JIT : SJ_TIER_INTERP;
            sj_kernel *const *ks = jit ? w->kj : w->ki;
            sj_tier got = sj_kernel_last_tier(ks[0]);
            if (got != want) {
                sj_counters c;
                sj_counters_get(&c);
                bench_text(row->note, sizeof row->note, "not measured: ran on the %s%s%s",
                           tier_name(got), c.last_decline[0] ? "; JIT declined: " : "",
                           c.last_decline);
                if (i == IMPL_JIT)
                    bench_text(w->jit_missing, sizeof w->jit_missing, "%s", row->note);
                continue;
            }
        }
        uint64_t got = w->def->reduces ? value : output_hash(w);
        if (i == IMPL_C) {
            ref_value = value;
            ref_hash = got;
        }
        if (i != IMPL_MEMCPY) {
            row->verified = true;
            row->checksum_ok = got == (w->def->reduces ? ref_value : ref_hash);
            if (!row->checksum_ok) {
                res->any_checksum_failure = true;
                bench_text(row->note, sizeof row->note,
                           "CHECKSUM DIFFERS: %016" PRIx64 " (c: %016" PRIx64 ")", got,
                           w->def->reduces ? ref_value : ref_hash);
            }
        }
        row->present = true;
        active[i] = true;
        samples[i] = calloc((size_t)reps, sizeof(double));
        if (!samples[i]) return -1;
    }

    /* Warm-up, then interleaved rounds. */
    const int warm_passes = w->id == W7 ? w7_warm_passes(w) : 0;
    for (int r = -warmups; r < reps; r++) {
        int start = (r + warmups) % IMPL_COUNT;
        for (int j = 0; j < IMPL_COUNT; j++) {
            int i = (start + j) % IMPL_COUNT;
            if (!active[i]) continue;
            sj_error err = {0};
            uint64_t value = 0;
            w7_warm(w, (bench_impl)i, warm_passes);
            uint64_t t0 = bench_now_ns();
            sj_status st = run_once(w, (bench_impl)i, &value, &err);
            uint64_t t1 = bench_now_ns();
            bench_row *row = rows[i];
            if (st != SJ_OK) {
                row->checksum_ok = false;
                res->any_checksum_failure = true;
                bench_text(row->note, sizeof row->note, "FAILED in round %d: %s: %s", r,
                           sj_status_name(st), err.message);
                active[i] = false;
                continue;
            }
            if (w->def->reduces && row->checksum_ok && value != ref_value) {
                row->checksum_ok = false;
                res->any_checksum_failure = true;
                bench_text(row->note, sizeof row->note,
                           "RESULT DIFFERS in round %d: %016" PRIx64 " (c: %016" PRIx64 ")", r,
                           value, ref_value);
            }
            if (r >= 0) samples[i][r] = (double)(t1 - t0);
        }
    }

    for (int i = 0; i < IMPL_COUNT; i++) {
        if (samples[i] && active[i]) {
            qsort(samples[i], (size_t)reps, sizeof(double), cmp_double);
            bench_row *row = rows[i];
            row->samples = reps;
            row->min_ns = samples[i][0];
            row->max_ns = samples[i][reps - 1];
            row->med_ns = reps % 2 ? samples[i][reps / 2]
                                   : (samples[i][reps / 2 - 1] + samples[i][reps / 2]) / 2;
        } else if (rows[i] && rows[i]->present) {
            rows[i]->present = false; /* failed during the rounds */
        }
        free(samples[i]);
    }
    return 0;
}

/* ---- options and main ---- */

static void usage(FILE *f) {
    fprintf(f,
            "usage: segjit-bench [--quick] [--csv FILE] [--plot FILE.png] [--workloads W1,W2,...]\n"
            "                    [--reps R] [--no-compile] [--n N]\n"
            "  Workloads W1-W8 (shared/BENCH.md) at N = 1,000,000 and 16,000,000, each\n"
            "  implementation side by side, W9 (wide records: compile time and loop), and W10\n"
            "  (ten one-shot sj_copy calls of W6's data, compiles counted; the fixed cost of a\n"
            "  call with count 1), overlap (W6's conversion in place, shifted and reversed onto\n"
            "  itself, 5M elements);\n"
            "  then the JIT's compile cost.\n"
            "  --quick        fewer repetitions (a run under a minute)\n"
            "  --csv FILE     one row per measurement: workload,n,impl,ns_per_elem,gb_per_s,"
            "ratio_vs_c\n"
            "  --plot FILE    the ratios to hand-written C as a PNG (needs gnuplot)\n"
            "  --workloads L  only these workloads (comma-separated ids, e.g. W10)\n"
            "  --reps R       timed rounds per size (default 41 at 1M, 21 at 16M; quick 5, 3)\n"
            "  --no-compile   skip the compile-cost measurement\n"
            "  --n N          one size N instead of both (for testing the bench only)\n"
            "Exit status: 0, or 1 when any result differs from the hand-written C result\n"
            "(never because of a timing); 2 on a usage or set-up error.\n");
}

static bool parse_i64(const char *s, int64_t *out) {
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!s[0] || *end || v <= 0) return false;
    *out = v;
    return true;
}

static bool wanted(const bench_options *opt, const char *id) {
    if (!opt->workloads) return true;
    size_t len = strlen(id);
    for (const char *p = opt->workloads; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == len && strncmp(p, id, len) == 0) return true;
        p += n + (comma ? 1 : 0);
    }
    return false;
}

/* Rounds per size: enough that a median stands against this shared machine's bursts
 * (a full run takes about a minute). */
static int rounds(const bench_options *opt, int64_t n) {
    if (opt->reps_override) return opt->reps_override;
    if (n >= 4000000) return opt->quick ? 3 : 21;
    return opt->quick ? 5 : 41;
}

int main(int argc, char **argv) {
    uint64_t t_main = bench_now_ns();
    if (argc == 2 && strcmp(argv[1], "--first-kernel") == 0)
        return bench_first_kernel_child(t_main, true);
    if (argc == 2 && strcmp(argv[1], "--first-kernel-cached") == 0)
        return bench_first_kernel_child(t_main, false);
    if (argc == 2 && strcmp(argv[1], "--auto-calls") == 0) return bench_auto_calls_child();
    /* Compile costs are the JIT's: the persistent cache only where a figure asks for it
     * (compile.c sets it for those children), and never the user's directory. */
    setenv("SEGJIT_CACHE", "off", 1);
#ifdef SEGJIT_BENCH_JIT_OBJECT
    setenv("SEGJIT_JIT_LIBRARY", SEGJIT_BENCH_JIT_OBJECT, 0);
#endif
    if (argc == 3 && strcmp(argv[1], "--dlopen") == 0) return bench_dlopen_child(t_main, argv[2]);

    bench_options opt = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (strcmp(a, "--quick") == 0) {
            opt.quick = true;
        } else if (strcmp(a, "--no-compile") == 0) {
            opt.skip_compile = true;
        } else if (strcmp(a, "--csv") == 0 && has_val) {
            opt.csv = argv[++i];
        } else if (strcmp(a, "--plot") == 0 && has_val) {
            opt.plot = argv[++i];
        } else if (strcmp(a, "--workloads") == 0 && has_val) {
            opt.workloads = argv[++i];
        } else if (strcmp(a, "--n") == 0 && has_val) {
            if (!parse_i64(argv[++i], &opt.n_override)) {
                fprintf(stderr, "segjit-bench: --n needs a positive count\n");
                return 2;
            }
        } else if (strcmp(a, "--reps") == 0 && has_val) {
            int64_t r = 0;
            if (!parse_i64(argv[++i], &r) || r > 100000) {
                fprintf(stderr, "segjit-bench: --reps needs a positive count\n");
                return 2;
            }
            opt.reps_override = (int)r;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "segjit-bench: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    int nwanted = wanted(&opt, "W9") + wanted(&opt, "W10") + wanted(&opt, "overlap");
    for (int id = 0; id < W_COUNT; id++)
        nwanted += wanted(&opt, defs[id].name);
    if (nwanted == 0) {
        fprintf(stderr, "segjit-bench: --workloads '%s' names none of W1..W10, overlap\n",
                opt.workloads);
        return 2;
    }

    bench_print_machine();
    const char *why = NULL;
    jit_ok = sj_jit_available(&why);
    if (!jit_ok)
        bench_text(jit_why, sizeof jit_why, "missing: JIT tier unavailable: %s",
                   why ? why : "(no reason given)");

    int64_t sizes[2] = {1000000, 16000000};
    int nsizes = 2;
    if (opt.n_override) {
        sizes[0] = opt.n_override;
        nsizes = 1;
    }
    printf("method: %s; rounds per size: ", opt.quick ? "quick" : "full");
    for (int s = 0; s < nsizes; s++) {
        int reps = rounds(&opt, sizes[s]);
        printf("%s%d at n=%" PRId64, s ? ", " : "", reps, sizes[s]);
    }
    printf(" (after %d warm-up), interleaved; median [min-max]\n\n", opt.quick ? 1 : 2);
    fflush(stdout);

    bench_results res = {0};
    for (int s = 0; s < nsizes; s++) {
        int64_t n = sizes[s];
        int reps = rounds(&opt, n);
        for (int id = 0; id < W_COUNT; id++) {
            if (!wanted(&opt, defs[id].name)) continue;
            if (id == W8) {
                if (bench_threads(n, reps, &res) != 0) return 2;
                continue;
            }
            wl w;
            if (setup(&w, (wl_id)id, n) != 0) {
                fprintf(stderr, "segjit-bench: cannot set up %s at n=%" PRId64 "\n", defs[id].name,
                        n);
                return 2;
            }
            if (!jit_ok) bench_text(w.jit_missing, sizeof w.jit_missing, "%s", jit_why);
            if (measure(&w, opt.quick ? 1 : 2, reps, &res) != 0) {
                fprintf(stderr, "segjit-bench: out of memory\n");
                return 2;
            }
            teardown(&w);
        }
        if (wanted(&opt, "W10") && bench_oneshot_run(&opt, n, reps, s == 0, &res) != 0) return 2;
    }

    bench_print_table(&res);
    if (res.oneshot.nsizes) bench_print_oneshot(&res.oneshot);
    if (wanted(&opt, "W9") && !opt.n_override) bench_wide(&opt, &res);
    if (wanted(&opt, "overlap") && bench_overlap(opt.n_override ? opt.n_override : 5000000,
                                                 opt.reps_override ? opt.reps_override
                                                 : opt.quick       ? 3
                                                                   : 21) != 0)
        res.any_checksum_failure = true;
    if (!opt.skip_compile) {
        bench_compile_cost(&opt, &res.compile);
        bench_print_compile(&res.compile);
    }
    bench_print_targets(&res);

    int rc = res.any_checksum_failure ? 1 : 0;
    if (opt.csv && bench_write_csv(&res, opt.csv) != 0) rc = rc ? rc : 2;
    if (opt.plot && bench_write_plot(&res, opt.plot) != 0) rc = rc ? rc : 2;
    if (res.any_checksum_failure)
        printf("\nFAILED: at least one result differs from the hand-written C result\n");
    free(res.rows);
    return rc;
}
