/* src/kernel.c: the public kernel API (kernel.h): kernels built from plans, the checks of a
 * call (SEMANTICS 4.2 order, evaluated once before any byte moves), tier choice between
 * the interpreter and the JIT (thresholds: jit_policy.h), per-kernel statistics and
 * process-wide counters. The checks themselves are checks.c's, the one-shot calls
 * oneshot.c's. Plans are built in plan.c, executed by interp.c or through jit_api.h. */
#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checks.h"
#include "internal.h"
#include "interp.h"
#include "jit_api.h"
#include "jit_loader.h"
#include "jit_policy.h"
#include "kcache.h"
#include "plan.h"
#include "scope.h"

enum { JIT_NONE, JIT_READY, JIT_DECLINED };

/* Overlapping runs (SEMANTICS 4.2, memmove) go through a bounded buffer, a chunk of
 * elements at a time, in the direction that never overwrites a source element not yet
 * read; the buffer keeps the source's address modulo OVERLAP_ALIGN, so compiled code
 * finds the alignment its plan assumed. README, overlap. */
enum { OVERLAP_CHUNK = 64 * 1024, OVERLAP_ALIGN = 4096 };

/* What an element reads and writes, relative to its addresses, for overlapping runs:
 * the source's bytes [slo, shi), destination i's [dlo[i], dhi[i]). ok: every side touches
 * bytes and staging keeps the plan's alignment. */
typedef struct ov_feet {
    bool ok;
    uint64_t slo, shi, dlo[SJ_MAX_STREAMS], dhi[SJ_MAX_STREAMS];
} ov_feet;

static ov_feet plan_feet(const sj_plan *p) {
    ov_feet f = {0};
    size_t nd = p->ndst ? p->ndst : 1;
    f.ok = p->op == SJ_PLAN_MOVE && p->src.used && p->src.align <= OVERLAP_ALIGN &&
           sj_plan_footprint(p, false, 0, &f.slo, &f.shi);
    for (size_t i = 0; i < nd && f.ok; i++)
        f.ok = sj_plan_footprint(p, true, i, &f.dlo[i], &f.dhi[i]);
    return f;
}

/* Whether a chunked overlapping run has cells: one destination, and element j of a side
 * touches only [base + j * stride + lo, + hi - lo) with hi - lo <= stride, so the cells
 * [base + lo + j * stride, + stride) hold one element each. */
static bool plan_cells(const sj_plan *p, const ov_feet *f) {
    return f->ok && !p->ndst && p->src.stride > 0 && p->dst.stride > 0 &&
           f->shi - f->slo <= (uint64_t)p->src.stride &&
           f->dhi[0] - f->dlo[0] <= (uint64_t)p->dst.stride;
}

/* Whether overlapping calls run straight in a safe order, with no buffer. DIRECT_ALWAYS:
 * each element one load and one store (a conversion, or a swap of one value), so that an
 * element's own bytes never overwrite what it has still to read, and both tiers keep the
 * order (the interpreter's one-move loops, the JIT's direct variants). DIRECT_APART:
 * several moves, straight only when each element's destination bytes miss its own source
 * bytes (own_apart); the interpreter, which runs a block move by move, in pieces
 * (apart_piece). */
enum { DIRECT_NONE, DIRECT_ALWAYS, DIRECT_APART };

static int direct_ok(const sj_plan *p, bool cells) {
    if (!cells) return DIRECT_NONE;
    if (p->nmoves != 1) return DIRECT_APART;
    const sj_move *m = &p->moves[0];
    return m->kind == SJ_MOVE_CONVERT || (m->kind == SJ_MOVE_SWAP && m->width == m->len)
               ? DIRECT_ALWAYS
               : DIRECT_APART;
}

/* A kernel's run counts, in shards a cache line apart: threads running one kernel count
 * in different shards (their per-thread block's index), so small calls do not serialize. */
#define KSHARDS 8
typedef struct kshard {
    _Alignas(64) _Atomic uint64_t runs_interp, runs_jit, fallbacks_heap, fallbacks_overlap;
    _Atomic uint64_t work; /* elements run (AUTO) */
} kshard;

struct sj_kernel {
    sj_plan *plan;
    sj_interp *interp;
    bool in_place; /* sj_plan_in_place: may run on its own source without a copy */
    int direct;    /* overlapping ranges may run in a safe order with no buffer (direct_ok) */
    /* the loops of overlapping calls (plans from sj_plan_variant), made on first need;
     * they count their runs and fallbacks on their parent and take its tier */
    _Atomic(struct sj_kernel *) variants[SJ_VARIANT_COUNT];
    struct sj_kernel *parent;
    ov_feet feet;          /* for overlapping runs */
    bool cells;            /* ... which have an order of elements (plan_cells) */
    _Atomic int tier;      /* as set (sj_tier) */
    _Atomic int last_tier; /* INTERP or JIT once run; DEFAULT before */
    atomic_bool auto_due;  /* AUTO: the work of its shards reached SJ_AUTO_THRESHOLD */
    uint64_t auto_weight;  /* AUTO: the work of one element (plan_auto_weight) */
    pthread_mutex_t jit_lock;
    /* JIT_*: fn, code and the fields below are written before READY or DECLINED is
     * published, and never again */
    _Atomic int jit_state;
    _Atomic uint64_t jit_retry_ns; /* after a transient decline: no compile before this */
    uint64_t jit_backoff_ms;       /* under jit_lock */
    sj_loop_fn jit_fn;
    sj_jit_code *jit_code;
    const sj_jit_provider *jit;
    sj_kimage *pimage; /* the code's image, when it came from the persistent cache */
    sj_jit_report jit_report;
    uint64_t ns_jit;
    sj_decline decline;
    char decline_why[160];
    /* AUTO's background compile (bg_request): the user's reference and the queue's */
    _Atomic unsigned refs;
    atomic_bool bg_asked;      /* queued or compiling (cleared when it may be asked again) */
    struct sj_kernel *bg_next; /* queue link, under bg_lock */
    /* runs and fallbacks, summed by sj_kernel_stats; each shard on a cache line of its own
     * (kernels are allocated aligned: kernel_alloc) */
    kshard shard[KSHARDS];
};

/* ---- counters ---- */

static _Atomic uint64_t c_plans, c_ns_plan, c_declines, c_declines_by[SJ_DECLINE_COUNT];
static pthread_mutex_t counters_lock = PTHREAD_MUTEX_INITIALIZER;

/* Per-call counts: in the thread's reader slot (scope.h sj_reader_ext), which only the
 * thread writes; tc_spill takes the counts of a thread that could get no slot (out of
 * memory), with atomic adds. */
static _Atomic uint64_t tc_spill[SJ_TC_COUNT];
static uint64_t tc_base[SJ_TC_COUNT]; /* the sums at the last reset, under counters_lock */

/* The calling thread's slot extension; NULL when out of memory (then tc_spill). */
static sj_reader_ext *tc_self(void) {
    sj_reader *r = sj_my_reader();
    return r ? sj_ext_of(r) : NULL;
}

static void tc_add(sj_reader_ext *t, int which) {
    if (!t)
        atomic_fetch_add_explicit(&tc_spill[which], 1, memory_order_relaxed);
    else /* only this thread writes its block: no read-modify-write */
        atomic_store_explicit(&t->counts[which],
                              atomic_load_explicit(&t->counts[which], memory_order_relaxed) + 1,
                              memory_order_relaxed);
}

void sj_tc_add(int which) {
    tc_add(tc_self(), which);
}

static void tc_sums(uint64_t sum[SJ_TC_COUNT]) {
    for (int i = 0; i < SJ_TC_COUNT; i++)
        sum[i] = atomic_load_explicit(&tc_spill[i], memory_order_relaxed);
    sj_thread_counts_sum(sum);
}

/* Thread t's shard of a kernel's counts. */
static kshard *shard_of(sj_kernel *k, const sj_reader_ext *t) {
    return &k->shard[t ? t->index % KSHARDS : 0];
}

static kshard *my_shard(sj_kernel *k) {
    return shard_of(k, tc_self());
}
static char c_last_decline[160];               /* under counters_lock */
static sj_jit_stats c_jit_base;                /* JIT stats at the last reset */
static _Atomic(const sj_jit_provider *) c_jit; /* the provider once loaded */

uint64_t sj_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count_decline(sj_decline reason, const char *why) {
    atomic_fetch_add(&c_declines, 1);
    atomic_fetch_add(&c_declines_by[(unsigned)reason < SJ_DECLINE_COUNT ? reason : 0], 1);
    pthread_mutex_lock(&counters_lock);
    snprintf(c_last_decline, sizeof c_last_decline, "%s", why);
    pthread_mutex_unlock(&counters_lock);
}

const char *sj_decline_name(sj_decline reason) {
    static const char *const names[SJ_DECLINE_COUNT] = {"none", "unavailable", "plan", "llvm",
                                                        "nomem"};
    return (unsigned)reason < SJ_DECLINE_COUNT ? names[reason] : "?";
}

/* ---- the code cache's limit ---- */

/* Under limit_lock: the limit (UINT64_MAX until first needed: then the environment's or
 * the default), and whether the loaded provider has been told it. */
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t cache_limit = UINT64_MAX;
static bool limit_pushed;

/* SEGJIT_JIT_CACHE_BYTES: digits with an optional K, M or G; else the default. */
static uint64_t env_cache_limit(void) {
    const char *e = getenv("SEGJIT_JIT_CACHE_BYTES");
    if (!e || *e < '0' || *e > '9') return SJ_JIT_CACHE_BYTES_DEFAULT;
    char *end = NULL;
    unsigned long long v = strtoull(e, &end, 10);
    unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
    if (shift) end++;
    if (*end || v > (UINT64_MAX >> shift)) return SJ_JIT_CACHE_BYTES_DEFAULT;
    return (uint64_t)v << shift;
}

static uint64_t limit_locked(void) {
    if (cache_limit == UINT64_MAX) cache_limit = env_cache_limit();
    return cache_limit;
}

void sj_jit_set_cache_limit(uint64_t bytes) {
    pthread_mutex_lock(&limit_lock);
    cache_limit = bytes == UINT64_MAX ? UINT64_MAX - 1 : bytes;
    const sj_jit_provider *jp = atomic_load(&c_jit);
    if (jp && jp->set_cache_limit) jp->set_cache_limit(cache_limit);
    limit_pushed = jp != NULL;
    pthread_mutex_unlock(&limit_lock);
}

uint64_t sj_jit_cache_limit(void) {
    pthread_mutex_lock(&limit_lock);
    uint64_t v = limit_locked();
    pthread_mutex_unlock(&limit_lock);
    return v;
}

/* The provider, told the limit before its first compile. */
static void fork_setup_once(void);
static const sj_jit_provider *load_jit(char *why, size_t why_len) {
    const sj_jit_provider *jp = sj_jit_provider_get(why, why_len);
    if (jp && !atomic_load(&c_jit)) {
        pthread_mutex_lock(&limit_lock);
        if (!limit_pushed && jp->set_cache_limit) jp->set_cache_limit(limit_locked());
        limit_pushed = true;
        atomic_store(&c_jit, jp);
        pthread_mutex_unlock(&limit_lock);
        fork_setup_once();
    }
    return jp;
}

void sj_counters_get(sj_counters *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    out->plans_built = atomic_load(&c_plans);
    out->ns_plan = atomic_load(&c_ns_plan);
    out->declines = atomic_load(&c_declines);
    for (int i = 0; i < SJ_DECLINE_COUNT; i++)
        out->declines_by[i] = atomic_load(&c_declines_by[i]);
    out->cache_limit = sj_jit_cache_limit();
    sj_kcache_stats ks;
    sj_kcache_stats_get(&ks);
    out->pcache_hits = ks.hits;
    out->pcache_misses = ks.misses;
    out->pcache_stores = ks.stores;
    out->pcache_rejects = ks.rejects;
    out->pcache_skips = ks.skips;
    out->ns_pcache_load = ks.ns_load;
    const sj_jit_provider *jp = atomic_load(&c_jit);
    pthread_mutex_lock(&counters_lock);
    uint64_t n[SJ_TC_COUNT];
    tc_sums(n);
    for (int i = 0; i < SJ_TC_COUNT; i++)
        n[i] = n[i] > tc_base[i] ? n[i] - tc_base[i] : 0;
    out->runs_interp = n[SJ_TC_RUNS_INTERP];
    out->runs_jit = n[SJ_TC_RUNS_JIT];
    out->fallbacks_heap = n[SJ_TC_FB_HEAP];
    out->fallbacks_overlap = n[SJ_TC_FB_OVERLAP];
    out->oneshot_hits = n[SJ_TC_ONESHOT_HITS];
    out->oneshot_misses = n[SJ_TC_ONESHOT_MISSES];
    out->overlap_in_place = n[SJ_TC_IN_PLACE];
    out->overlap_copies = n[SJ_TC_OV_COPIES];
    out->overlap_chunked = n[SJ_TC_OV_CHUNKED];
    out->overlap_direct = n[SJ_TC_OV_DIRECT];
    memcpy(out->last_decline, c_last_decline, sizeof out->last_decline);
    if (jp && jp->stats) {
        sj_jit_stats s;
        memset(&s, 0, sizeof s);
        jp->stats(&s);
        out->kernels_compiled = s.compiled - c_jit_base.compiled;
        out->cache_hits = s.cache_hits - c_jit_base.cache_hits;
        out->cache_misses = s.cache_misses - c_jit_base.cache_misses;
        out->ns_jit_init = s.ns_init - c_jit_base.ns_init;
        out->ns_ir = s.ns_ir - c_jit_base.ns_ir;
        out->ns_opt = s.ns_opt - c_jit_base.ns_opt;
        out->ns_codegen = s.ns_codegen - c_jit_base.ns_codegen;
        out->cache_evictions = s.evictions - c_jit_base.evictions;
        out->cache_recompiles = s.recompiles - c_jit_base.recompiles;
        out->cache_entries = s.entries;
        out->cache_bytes = s.bytes;
        out->cache_bytes_unreferenced = s.bytes_unreferenced;
    }
    pthread_mutex_unlock(&counters_lock);
}

void sj_counters_reset(void) {
    atomic_store(&c_plans, 0);
    atomic_store(&c_ns_plan, 0);
    atomic_store(&c_declines, 0);
    for (int i = 0; i < SJ_DECLINE_COUNT; i++)
        atomic_store(&c_declines_by[i], 0);
    sj_kcache_stats_reset();
    const sj_jit_provider *jp = atomic_load(&c_jit);
    pthread_mutex_lock(&counters_lock);
    tc_sums(tc_base);
    c_last_decline[0] = '\0';
    memset(&c_jit_base, 0, sizeof c_jit_base);
    if (jp && jp->stats) jp->stats(&c_jit_base);
    pthread_mutex_unlock(&counters_lock);
}

sj_status sj_counters_print(char **out, sj_error *err) {
    if (!out) return sj_fail(err, SJ_E_ARG, "counters print: output is NULL");
    sj_counters c;
    sj_counters_get(&c);
    sj_buf b = {0};
    sj_buf_printf(&b, "plans built        %" PRIu64 " (%.3f ms)\n", c.plans_built,
                  (double)c.ns_plan / 1e6);
    sj_buf_printf(&b, "runs               %" PRIu64 " interpreter, %" PRIu64 " jit\n",
                  c.runs_interp, c.runs_jit);
    sj_buf_printf(&b,
                  "kernels compiled   %" PRIu64 " (cache %" PRIu64 " hits, %" PRIu64 " misses)\n",
                  c.kernels_compiled, c.cache_hits, c.cache_misses);
    sj_buf_printf(&b, "jit time           init %.3f ms, ir %.3f ms, opt %.3f ms, codegen %.3f ms\n",
                  (double)c.ns_jit_init / 1e6, (double)c.ns_ir / 1e6, (double)c.ns_opt / 1e6,
                  (double)c.ns_codegen / 1e6);
    sj_buf_printf(&b,
                  "code cache         %" PRIu64 " entries, %.1f KiB (%.1f KiB held by no kernel, "
                  "limit %.1f KiB), %" PRIu64 " evicted, %" PRIu64 " compiled again\n",
                  c.cache_entries, (double)c.cache_bytes / 1024,
                  (double)c.cache_bytes_unreferenced / 1024, (double)c.cache_limit / 1024,
                  c.cache_evictions, c.cache_recompiles);
    sj_buf_printf(&b,
                  "persistent cache   %s: %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64
                  " stored, %" PRIu64 " refused, %" PRIu64 " not persistable (load %.3f ms)\n",
                  sj_kcache_enabled() ? "on" : "off", c.pcache_hits, c.pcache_misses,
                  c.pcache_stores, c.pcache_rejects, c.pcache_skips,
                  (double)c.ns_pcache_load / 1e6);
    sj_buf_printf(&b, "one-shot calls     %" PRIu64 " found their kernel, %" PRIu64 " built it\n",
                  c.oneshot_hits, c.oneshot_misses);
    sj_buf_printf(&b,
                  "interp fallbacks   %" PRIu64 " heap, %" PRIu64 " overlap (kernels of tier "
                  "jit or auto)\n",
                  c.fallbacks_heap, c.fallbacks_overlap);
    sj_buf_printf(&b,
                  "overlapping calls  %" PRIu64 " in place, %" PRIu64 " straight, %" PRIu64
                  " in chunks, %" PRIu64 " from a copy\n",
                  c.overlap_in_place, c.overlap_direct, c.overlap_chunked, c.overlap_copies);
    sj_buf_printf(&b, "declines           %" PRIu64, c.declines);
    for (int i = 1; i < SJ_DECLINE_COUNT; i++)
        sj_buf_printf(&b, "%s%s %" PRIu64, i == 1 ? " (" : ", ", sj_decline_name((sj_decline)i),
                      c.declines_by[i]);
    sj_buf_printf(&b, ")%s%s", c.last_decline[0] ? ", last: " : "", c.last_decline);
    return sj_buf_finish(&b, out, err);
}

/* ---- kernels ---- */

/* A zeroed kernel, aligned for its counter shards. */
static sj_kernel *kernel_alloc(void) {
    sj_kernel *k = aligned_alloc(_Alignof(sj_kernel), sizeof *k);
    if (k) memset(k, 0, sizeof *k);
    return k;
}

/* Moves one element of moves[0..n) runs, inner loops counted as often as they run,
 * saturating at cap. */
static uint64_t moves_run(const sj_move *moves, size_t n, uint64_t cap) {
    uint64_t r = 0;
    for (size_t i = 0; i < n && r < cap; i++) {
        if (moves[i].kind != SJ_MOVE_LOOP) {
            r++;
            continue;
        }
        uint64_t body = moves_run(&moves[i + 1], moves[i].body, cap);
        r += moves[i].len && body > cap / moves[i].len ? cap : body * moves[i].len;
        i += moves[i].body;
    }
    return r < cap ? r : cap;
}

/* An element's weight in the AUTO threshold: 1, and 1 more per SJ_AUTO_MOVES_PER_UNIT moves
 * it runs, so that wide records compile after as much work as narrow ones (docs/JIT.md). */
static uint64_t plan_auto_weight(const sj_plan *p) {
    if (p->op != SJ_PLAN_MOVE) return 1;
    return 1 + moves_run(p->moves, p->nmoves, SJ_AUTO_THRESHOLD) / SJ_AUTO_MOVES_PER_UNIT;
}

static void kernel_init(sj_kernel *k, sj_plan *p) {
    k->plan = p;
    k->auto_weight = plan_auto_weight(p);
    k->in_place = sj_plan_in_place(p);
    k->feet = plan_feet(p);
    k->cells = plan_cells(p, &k->feet);
    k->direct = direct_ok(p, k->cells);
    for (int v = 0; v < SJ_VARIANT_COUNT; v++)
        atomic_init(&k->variants[v], NULL);
    atomic_init(&k->tier, SJ_TIER_DEFAULT);
    atomic_init(&k->last_tier, SJ_TIER_DEFAULT);
    atomic_init(&k->auto_due, false);
    for (int i = 0; i < KSHARDS; i++) {
        atomic_init(&k->shard[i].runs_interp, 0);
        atomic_init(&k->shard[i].runs_jit, 0);
        atomic_init(&k->shard[i].fallbacks_heap, 0);
        atomic_init(&k->shard[i].fallbacks_overlap, 0);
        atomic_init(&k->shard[i].work, 0);
    }
    atomic_init(&k->jit_state, JIT_NONE);
    atomic_init(&k->jit_retry_ns, 0);
    k->jit_backoff_ms = 0;
    pthread_mutex_init(&k->jit_lock, NULL);
    atomic_init(&k->refs, 1);
    atomic_init(&k->bg_asked, false);
}

static sj_status kernel_from_plan(sj_plan *p, sj_kernel **out, sj_error *err) {
    sj_kernel *k = kernel_alloc();
    if (!k) {
        sj_plan_free(p);
        return sj_fail(err, SJ_E_NOMEM, "%s: out of memory building the kernel", p->what);
    }
    sj_status st = sj_interp_prepare(p, &k->interp, err);
    if (st != SJ_OK) {
        sj_plan_free(p);
        free(k);
        return st;
    }
    kernel_init(k, p);
    *out = k;
    return SJ_OK;
}

/* The kernel of k's loops for overlapping calls of one kind (sj_plan_variant), made on
 * first need; NULL without memory. In place and forward, a NULL loop means k's
 * interpreter, which runs the same order; a backward variant has an interpreter of its
 * own (its strides negated: last element first). */
static sj_kernel *variant_kernel(sj_kernel *k, sj_plan_variant_kind kind) {
    sj_kernel *vk = atomic_load_explicit(&k->variants[kind], memory_order_acquire);
    if (vk) return vk;
    /* no lock (the call holds arenas; k's jit_lock may be held by a compile): made, then
     * published unless another thread published one first */
    sj_plan *p = sj_plan_variant(k->plan, kind);
    sj_kernel *mine = p ? kernel_alloc() : NULL;
    if (!mine || (kind == SJ_VARIANT_BACKWARD && sj_interp_prepare(p, &mine->interp, NULL))) {
        sj_plan_free(p);
        free(mine);
        return NULL;
    }
    kernel_init(mine, p);
    mine->parent = k;
    if (atomic_compare_exchange_strong_explicit(&k->variants[kind], &vk, mine, memory_order_acq_rel,
                                                memory_order_acquire))
        return mine;
    sj_kernel_free(mine);
    return vk;
}

/* Counts and times the plan builder's call, then wraps the plan. */
#define BUILD_KERNEL(out, err, call)                                                               \
    do {                                                                                           \
        if (!(out)) return sj_fail(err, SJ_E_ARG, "kernel: output is NULL");                       \
        sj_plan *plan_ = NULL;                                                                     \
        uint64_t t0_ = sj_now_ns();                                                                \
        sj_status st_ = (call);                                                                    \
        atomic_fetch_add(&c_ns_plan, sj_now_ns() - t0_);                                           \
        if (st_ != SJ_OK) return st_;                                                              \
        atomic_fetch_add(&c_plans, 1);                                                             \
        return kernel_from_plan(plan_, out, err);                                                  \
    } while (0)

sj_status sj_kernel_copy(const sj_layout *src_elem, const sj_layout *dst_elem, sj_kernel **out,
                         sj_error *err) {
    BUILD_KERNEL(out, err, sj_plan_copy(src_elem, dst_elem, &plan_, err));
}

sj_status sj_kernel_convert(const sj_layout *src_rec, const sj_layout *dst_rec, unsigned flags,
                            sj_kernel **out, sj_error *err) {
    BUILD_KERNEL(out, err, sj_plan_convert(src_rec, dst_rec, flags, &plan_, err));
}

sj_status sj_kernel_gather(const sj_path *src_path, const sj_layout *dst_elem, unsigned flags,
                           sj_kernel **out, sj_error *err) {
    BUILD_KERNEL(out, err, sj_plan_gather(src_path, dst_elem, flags, &plan_, err));
}

sj_status sj_kernel_gather_many(const sj_path *const *src_paths, const sj_layout *const *dst_elems,
                                size_t k, unsigned flags, sj_kernel **out, sj_error *err) {
    BUILD_KERNEL(out, err, sj_plan_gather_many(src_paths, dst_elems, k, flags, &plan_, err));
}

sj_status sj_kernel_scatter(const sj_layout *src_elem, const sj_path *dst_path, unsigned flags,
                            sj_kernel **out, sj_error *err) {
    BUILD_KERNEL(out, err, sj_plan_scatter(src_elem, dst_path, flags, &plan_, err));
}

sj_status sj_kernel_fill(const sj_layout *elem, sj_value v, sj_kernel **out, sj_error *err) {
    BUILD_KERNEL(out, err, sj_plan_fill(elem, v, &plan_, err));
}

sj_status sj_kernel_reduce(const sj_path *path, sj_reduce_op op, sj_kernel **out, sj_error *err) {
    BUILD_KERNEL(out, err, sj_plan_reduce(path, op, &plan_, err));
}

sj_status sj_kernel_mismatch(sj_kernel **out, sj_error *err) {
    BUILD_KERNEL(out, err, sj_plan_mismatch(&plan_, err));
}

static bool bg_unqueue_orphan(sj_kernel *k);

void sj_kernel_free(sj_kernel *k) {
    /* the last reference frees: a background compile keeps the kernel until it ends */
    if (!k) return;
    unsigned left = atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) - 1;
    /* the queue's reference, in a fork's child whose queue has no thread yet */
    if (left == 1 && atomic_load(&k->bg_asked) && bg_unqueue_orphan(k))
        left = atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) - 1;
    if (left != 0) return;
    for (int v = 0; v < SJ_VARIANT_COUNT; v++)
        sj_kernel_free(atomic_load(&k->variants[v]));
    if (atomic_load(&k->jit_state) == JIT_READY && k->jit && k->jit->release)
        k->jit->release(k->jit_code);
    sj_kcache_release(k->pimage);
    pthread_mutex_destroy(&k->jit_lock);
    sj_interp_free(k->interp);
    sj_plan_free(k->plan);
    free(k);
}

void sj_kernel_set_tier(sj_kernel *k, sj_tier tier) {
    if (k && (unsigned)tier <= SJ_TIER_JIT) atomic_store(&k->tier, (int)tier);
}

sj_tier sj_kernel_tier(const sj_kernel *k) {
    return k ? (sj_tier)atomic_load(&((sj_kernel *)k)->tier) : SJ_TIER_DEFAULT;
}

sj_tier sj_kernel_last_tier(const sj_kernel *k) {
    return k ? (sj_tier)atomic_load(&((sj_kernel *)k)->last_tier) : SJ_TIER_DEFAULT;
}

sj_status sj_kernel_stats(const sj_kernel *ck, sj_kernel_info *out, sj_error *err) {
    if (!ck || !out) return sj_fail(err, SJ_E_ARG, "kernel stats: NULL kernel or output");
    sj_kernel *k = (sj_kernel *)ck; /* atomics only */
    memset(out, 0, sizeof *out);
    out->tier = (sj_tier)atomic_load(&k->tier);
    out->last_tier = (sj_tier)atomic_load(&k->last_tier);
    for (int i = 0; i < KSHARDS; i++) {
        const kshard *sh = &k->shard[i];
        out->runs_interp += atomic_load_explicit(&sh->runs_interp, memory_order_relaxed);
        out->runs_jit += atomic_load_explicit(&sh->runs_jit, memory_order_relaxed);
        out->fallbacks_heap += atomic_load_explicit(&sh->fallbacks_heap, memory_order_relaxed);
        out->fallbacks_overlap +=
            atomic_load_explicit(&sh->fallbacks_overlap, memory_order_relaxed);
    }
    for (int v = 0; v < SJ_VARIANT_COUNT; v++) {
        const sj_kernel *vk = atomic_load_explicit(&k->variants[v], memory_order_acquire);
        int vs = vk ? atomic_load_explicit(&((sj_kernel *)vk)->jit_state, memory_order_acquire)
                    : JIT_NONE;
        if (vs == JIT_READY) {
            out->variants_compiled++;
            out->variants_code_bytes += vk->jit_report.code_bytes;
        }
        out->variants_declined += vs == JIT_DECLINED;
    }
    int state = atomic_load_explicit(&k->jit_state, memory_order_acquire);
    if (state == JIT_NONE && atomic_load_explicit(&k->jit_retry_ns, memory_order_relaxed)) {
        /* after a transient decline: its fields change under jit_lock at each retry */
        pthread_mutex_lock(&k->jit_lock);
        state = atomic_load_explicit(&k->jit_state, memory_order_acquire);
        if (state == JIT_NONE) {
            out->retry_at_ns = atomic_load_explicit(&k->jit_retry_ns, memory_order_relaxed);
            out->ns_jit = k->ns_jit;
            out->decline = k->decline;
            memcpy(out->decline_why, k->decline_why, sizeof out->decline_why);
        }
        pthread_mutex_unlock(&k->jit_lock);
    }
    out->compile_pending =
        state == JIT_NONE && atomic_load_explicit(&k->bg_asked, memory_order_acquire);
    if (state == JIT_NONE) return SJ_OK;
    out->ns_jit = k->ns_jit;
    out->decline = k->decline;
    memcpy(out->decline_why, k->decline_why, sizeof out->decline_why);
    if (state == JIT_READY) {
        out->compiled = true;
        out->cache_hit = k->jit_report.cache_hit;
        out->ns_compile = k->jit_report.ns_compile;
        out->code_bytes = k->jit_report.code_bytes;
        out->persisted_hit = k->pimage != NULL;
    }
    return SJ_OK;
}

sj_status sj_kernel_describe(const sj_kernel *k, char **out, sj_error *err) {
    if (!k || !out) return sj_fail(err, SJ_E_ARG, "describe: NULL kernel or output");
    return sj_plan_print(k->plan, out, err);
}

/* ---- tiers ---- */

/* SEGJIT_TIER, read once: interp, jit or auto (the default, and for anything else). */
static sj_tier env_tier(void) {
    static _Atomic int cached = -1;
    int t = atomic_load(&cached);
    if (t >= 0) return (sj_tier)t;
    const char *e = getenv("SEGJIT_TIER");
    t = SJ_TIER_AUTO;
    if (e && strcmp(e, "interp") == 0) t = SJ_TIER_INTERP;
    if (e && strcmp(e, "jit") == 0) t = SJ_TIER_JIT;
    atomic_store(&cached, t);
    return (sj_tier)t;
}

/* Code for k without compiling: an image this process loaded, the loaded JIT's cache, or
 * the persistent cache's file (docs/JIT.md, "Persistent cache"). Returns whether k got it. */
static bool code_found(sj_kernel *k, const uint8_t *key, size_t klen) {
    sj_loop_fn fn = NULL;
    sj_kimage *im = sj_kcache_find(key, klen, &fn);
    const sj_jit_provider *jp = atomic_load(&c_jit);
    if (!im && jp && jp->find) { /* the JIT is loaded: its cache hit costs no file */
        sj_jit_code *code = NULL;
        if (jp->find(k->plan, &fn, &code, &k->jit_report) == 0 && fn) {
            k->jit = jp;
            k->jit_fn = fn;
            k->jit_code = code;
            return true;
        }
    }
    if (!im) im = sj_kcache_load(key, klen, &fn);
    if (!im) return false;
    k->pimage = im;
    k->jit_fn = fn;
    k->jit_report = (sj_jit_report){true, sj_kcache_image_bytes(im), 0};
    return true;
}

/* Writes the image of the code k just compiled into the persistent cache, when the JIT
 * is the one this library was built with and could make an image of it. */
static void code_store(const sj_jit_provider *jp, const sj_kernel *k, const uint8_t *key,
                       size_t klen) {
    const uint8_t *bytes = NULL;
    size_t len = 0;
    const char *why = NULL;
    if (k->jit_report.cache_hit) return; /* compiled (and stored) before */
    if (jp->image && jp->build_id && jp->llvm_version &&
        strcmp(jp->build_id, sj_kcache_build_id()) == 0 &&
        strcmp(jp->llvm_version, sj_kcache_llvm_version()) == 0 &&
        jp->image(k->jit_code, &bytes, &len, &why))
        sj_kcache_store(key, klen, bytes, len);
    else
        sj_kcache_count_skip();
}

static atomic_bool bg_off; /* the JIT is not exit_safe: AUTO compiles stay inline */
/* Whether the JIT built with this library keeps its static objects past exit() (a static
 * LLVM), so that the compile thread may load it (CMakeLists.txt). */
#ifdef SEGJIT_JIT_EXIT_SAFE
#define JIT_LOADS_IN_BACKGROUND 1
#else
#define JIT_LOADS_IN_BACKGROUND 0
#endif

/* The compiled loop of k, compiling it on first need; NULL when the JIT declined. From the
 * compile thread (bg), a JIT that is not exit_safe (an object other than the one built
 * with this library) does not compile: k stays as it was, and calls compile inline from
 * then on. */
static sj_loop_fn kernel_jit(sj_kernel *k, bool bg) {
    int state = atomic_load_explicit(&k->jit_state, memory_order_acquire);
    if (state == JIT_READY) return k->jit_fn;
    if (state == JIT_DECLINED) return NULL;
    /* after a transient decline (memory), the next try waits a while: the run goes on
     * the interpreter meanwhile */
    if (atomic_load_explicit(&k->jit_retry_ns, memory_order_relaxed) > sj_now_ns()) return NULL;
    pthread_mutex_lock(&k->jit_lock);
    if (atomic_load_explicit(&k->jit_state, memory_order_relaxed) == JIT_NONE &&
        atomic_load_explicit(&k->jit_retry_ns, memory_order_relaxed) <= sj_now_ns()) {
        char *why = k->decline_why;
        size_t why_len = sizeof k->decline_why;
        uint64_t t0 = sj_now_ns();
        /* the plan key, for the persistent cache */
        uint8_t kbuf[512];
        uint8_t *key = NULL;
        size_t klen = 0;
        if (sj_kcache_enabled()) {
            klen = sj_plan_key(k->plan, kbuf, sizeof kbuf);
            key = klen <= sizeof kbuf ? kbuf : malloc(klen);
            if (key && key != kbuf) sj_plan_key(k->plan, key, klen);
        }
        int reason = SJ_DECLINE_UNAVAILABLE;
        const sj_jit_provider *jp = NULL;
        if (key && code_found(k, key, klen)) {
            reason = 0;
        } else if (!(jp = load_jit(why, why_len))) {
            if (!why[0]) snprintf(why, why_len, "the JIT is not available");
        } else if (jp->api_version != SJ_JIT_API_VERSION || !jp->compile_report) {
            snprintf(why, why_len, "the JIT speaks API version %d, not %d", jp->api_version,
                     SJ_JIT_API_VERSION);
        } else if (bg && !jp->exit_safe) {
            atomic_store(&bg_off, true);
            reason = -1;
        } else {
            sj_loop_fn fn = NULL;
            sj_jit_code *code = NULL;
            reason = jp->compile_report(k->plan, &fn, &code, &k->jit_report, why, why_len);
            if (reason == 0 && fn) {
                k->jit = jp;
                k->jit_fn = fn;
                k->jit_code = code;
                why[0] = '\0';
                if (key) code_store(jp, k, key, klen);
            } else {
                if (reason <= SJ_DECLINE_NONE || reason >= SJ_DECLINE_COUNT)
                    reason = SJ_DECLINE_LLVM; /* a provider's answer we do not know */
                if (!why[0]) snprintf(why, why_len, "the JIT declined the plan");
            }
        }
        if (key != kbuf) free(key);
        if (reason < 0) {
            pthread_mutex_unlock(&k->jit_lock);
            return NULL;
        }
        k->ns_jit = sj_now_ns() - t0;
        k->decline = (sj_decline)reason;
        if (reason) count_decline(k->decline, why);
        if (reason == SJ_DECLINE_NOMEM) { /* transient: try again in 50 ms, then 2x up to 60 s */
            k->jit_backoff_ms = k->jit_backoff_ms ? k->jit_backoff_ms * 2 : 50;
            if (k->jit_backoff_ms > 60000) k->jit_backoff_ms = 60000;
            atomic_store_explicit(&k->jit_retry_ns, sj_now_ns() + k->jit_backoff_ms * 1000000u,
                                  memory_order_relaxed);
        } else {
            atomic_store_explicit(&k->jit_state, reason ? JIT_DECLINED : JIT_READY,
                                  memory_order_release);
        }
    }
    pthread_mutex_unlock(&k->jit_lock);
    return atomic_load_explicit(&k->jit_state, memory_order_acquire) == JIT_READY ? k->jit_fn
                                                                                  : NULL;
}

/* ---- AUTO: compiles in the background (docs/JIT.md, "Background compiles") ----
 * A kernel of tier AUTO whose work crosses the threshold through calls each below it is
 * compiled by one thread of the library's while its calls go on on the interpreter; a call
 * whose own work reaches the threshold compiles inline and runs compiled (or waits for a
 * background compile of its kernel in progress). SEGJIT_AUTO_COMPILE=inline: always inline. */
static pthread_mutex_t bg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bg_wake = PTHREAD_COND_INITIALIZER; /* a job queued */
static pthread_cond_t bg_idle = PTHREAD_COND_INITIALIZER; /* a job ended (for fork) */
static sj_kernel *bg_head, *bg_tail;                      /* queued, each holding a reference */
static sj_kernel *bg_current;                             /* compiling */
static atomic_bool bg_running; /* the thread exists (false again in a fork's child) */

static bool bg_enabled(void) {
    static _Atomic int cached = -1;
    int v = atomic_load(&cached);
    if (v < 0) {
        const char *e = getenv("SEGJIT_AUTO_COMPILE");
        v = !(e && strcmp(e, "inline") == 0);
        atomic_store(&cached, v);
    }
    return v && JIT_LOADS_IN_BACKGROUND && !atomic_load_explicit(&bg_off, memory_order_relaxed);
}

static void *bg_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&bg_lock);
    for (;;) {
        while (!bg_head)
            pthread_cond_wait(&bg_wake, &bg_lock);
        sj_kernel *k = bg_head;
        bg_head = k->bg_next;
        if (!bg_head) bg_tail = NULL;
        bg_current = k;
        pthread_mutex_unlock(&bg_lock);
        /* not for a kernel its user has freed (the queue's reference is the last) or has
         * set to the interpreter since */
        if (atomic_load_explicit(&k->refs, memory_order_acquire) > 1 &&
            atomic_load(&k->tier) != SJ_TIER_INTERP)
            kernel_jit(k, true);
        pthread_mutex_lock(&bg_lock);
        /* a transient decline (memory): a later call may ask again once its wait is over
         * (cleared with bg_current, so that a fork child never finds it queued twice) */
        if (atomic_load_explicit(&k->jit_state, memory_order_acquire) == JIT_NONE)
            atomic_store_explicit(&k->bg_asked, false, memory_order_release);
        bg_current = NULL;
        pthread_cond_broadcast(&bg_idle);
        pthread_mutex_unlock(&bg_lock);
        sj_kernel_free(k); /* the queue's reference */
        pthread_mutex_lock(&bg_lock);
    }
    return NULL;
}

/* fork: one handler for the compile thread and the JIT, in this order. Before the fork it
 * waits (up to 2 s) for the compile thread to leave kernel_jit (a JIT load or compile
 * inherited mid-way would leave the child LLVM's state half made), then runs the JIT's
 * own preparation (which waits for compiles inside LLVM and holds its locks). In the child
 * there is no compile thread: a job still compiling goes back to the head of the queue,
 * its kernel's lock made afresh (the JIT drops entries left compiling), and the next
 * request, or call of a queued kernel, starts a thread for the queue. */
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static const sj_jit_provider *fork_jp; /* the JIT prepared for this fork */
static long fork_bg_wait_ms = 2000;    /* SEGJIT_TEST_FORK_WAIT_MS: tests of a fork mid-compile */

static void before_fork(void) {
    pthread_mutex_lock(&bg_lock);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += fork_bg_wait_ms / 1000;
    until.tv_nsec += fork_bg_wait_ms % 1000 * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    while (bg_current && pthread_cond_timedwait(&bg_idle, &bg_lock, &until) == 0)
        ;
    fork_jp = atomic_load(&c_jit);
    if (fork_jp && fork_jp->fork_prepare) fork_jp->fork_prepare();
}
static void after_fork_parent(void) {
    if (fork_jp && fork_jp->fork_parent) fork_jp->fork_parent();
    pthread_mutex_unlock(&bg_lock);
}
static void after_fork_child(void) {
    if (fork_jp && fork_jp->fork_child) fork_jp->fork_child();
    if (bg_current) {
        pthread_mutex_init(&bg_current->jit_lock, NULL);
        atomic_store(&bg_current->bg_asked, true); /* a finished compile returns at once */
        bg_current->bg_next = bg_head;
        bg_head = bg_current;
        if (!bg_tail) bg_tail = bg_current;
        bg_current = NULL;
    }
    atomic_store(&bg_running, false);
    pthread_cond_init(&bg_wake, NULL);
    pthread_cond_init(&bg_idle, NULL);
    pthread_mutex_unlock(&bg_lock); /* taken by this thread before the fork */
}
static void fork_setup(void) {
    const char *ms = sj_secure_getenv("SEGJIT_TEST_FORK_WAIT_MS");
    if (ms && *ms >= '0' && *ms <= '9') fork_bg_wait_ms = strtol(ms, NULL, 10) % 100000;
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}
static void fork_setup_once(void) {
    pthread_once(&fork_once, fork_setup);
}

/* In a fork's child no thread serves the queue until a queued kernel is called again: take
 * out a kernel its user freed (true: the caller drops the queue's reference). */
static bool bg_unqueue_orphan(sj_kernel *k) {
    bool found = false;
    pthread_mutex_lock(&bg_lock);
    if (!atomic_load(&bg_running))
        for (sj_kernel **at = &bg_head, *prev = NULL; *at; prev = *at, at = &(*at)->bg_next)
            if (*at == k) {
                *at = k->bg_next;
                if (bg_tail == k) bg_tail = prev;
                found = true;
                break;
            }
    pthread_mutex_unlock(&bg_lock);
    return found;
}

/* Starts the thread (bg_lock held); false when it cannot be made. */
static bool bg_start(void) {
    if (atomic_load(&bg_running)) return true;
    fork_setup_once();
    pthread_attr_t attr;
    sigset_t all, old;
    if (pthread_attr_init(&attr) != 0) return false;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread takes no signal of the program's */
    pthread_t t;
    bool ok = pthread_create(&t, &attr, bg_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (ok) atomic_store(&bg_running, true);
    return ok;
}

/* Has k compiled in the background (once until it may be asked again); false when the
 * caller must compile inline (no thread could be made). */
static bool bg_request(sj_kernel *k) {
    bool asked = false;
    if (atomic_load_explicit(&k->bg_asked, memory_order_relaxed) || /* no write while asked */
        !atomic_compare_exchange_strong(&k->bg_asked, &asked, true)) {
        if (atomic_load_explicit(&bg_running, memory_order_relaxed)) return true;
        /* asked before a fork: this child's queue needs a thread */
        pthread_mutex_lock(&bg_lock);
        bool ok = bg_start();
        pthread_mutex_unlock(&bg_lock);
        return ok;
    }
    atomic_fetch_add_explicit(&k->refs, 1, memory_order_relaxed);
    pthread_mutex_lock(&bg_lock);
    bool ok = bg_start();
    if (ok) {
        k->bg_next = NULL;
        if (bg_tail)
            bg_tail->bg_next = k;
        else
            bg_head = k;
        bg_tail = k;
        pthread_cond_signal(&bg_wake);
    }
    pthread_mutex_unlock(&bg_lock);
    if (!ok) {
        atomic_store(&k->bg_asked, false);
        atomic_fetch_sub_explicit(&k->refs, 1, memory_order_relaxed); /* the caller holds one */
    }
    return ok;
}

/* Why compiled code may not run a call: its addresses are virtual or misplaced (heap), or
 * its bytes overlap in a way only the interpreter runs (in place, block memmove). */
enum { FB_NONE, FB_MOVING, FB_HEAP, FB_OVERLAP };

static void count_fallback(sj_kernel *k, int fb) {
    bool heap = fb != FB_OVERLAP;
    kshard *sh = my_shard(k);
    atomic_fetch_add_explicit(heap ? &sh->fallbacks_heap : &sh->fallbacks_overlap, 1,
                              memory_order_relaxed);
    sj_tc_add(heap ? SJ_TC_FB_HEAP : SJ_TC_FB_OVERLAP);
}

/* The tier k's calls take: as set, else SEGJIT_TIER's. */
static sj_tier kernel_tier(const sj_kernel *k) {
    sj_tier t = (sj_tier)atomic_load(&((sj_kernel *)k)->tier);
    return t == SJ_TIER_DEFAULT ? env_tier() : t;
}

/* AUTO: adds a call's work (count x weight) to the calling thread's shard of k's work (once:
 * *added); true once the shards' total reaches SJ_AUTO_THRESHOLD. The total is summed only when a
 * shard crosses a multiple of AUTO_STEP (or when asked again), so that calls read no line
 * that other threads' calls write: one thread compiles where one counter would have, several
 * within a step each. */
#define AUTO_STEP (SJ_AUTO_THRESHOLD / 64 ? SJ_AUTO_THRESHOLD / 64 : 1)
static bool auto_due(sj_kernel *k, int64_t count, bool *added) {
    if (atomic_load_explicit(&k->auto_due, memory_order_relaxed)) return true;
    if (!*added) {
        *added = true;
        uint64_t w = (uint64_t)count > SJ_AUTO_THRESHOLD / k->auto_weight
                         ? SJ_AUTO_THRESHOLD
                         : (uint64_t)count * k->auto_weight;
        uint64_t was = atomic_fetch_add_explicit(&my_shard(k)->work, w, memory_order_relaxed);
        uint64_t now = was + w;
        if (was / AUTO_STEP == now / AUTO_STEP &&
            !(was < SJ_AUTO_THRESHOLD && now >= SJ_AUTO_THRESHOLD))
            return false;
    }
    uint64_t w = 0;
    for (int i = 0; i < KSHARDS; i++)
        w += atomic_load_explicit(&k->shard[i].work, memory_order_relaxed);
    if (w < SJ_AUTO_THRESHOLD) return false;
    atomic_store_explicit(&k->auto_due, true, memory_order_relaxed);
    return true;
}

/* The tier policy, in one place: the loop a call runs on (NULL: the interpreter). A call
 * the policy would give compiled code runs on the interpreter when `fb` says it must
 * (counted, whether or not the code exists yet); when the code is wanted but
 * not compiled yet, *compile asks the caller to compile (kernel_jit) with no arena held
 * and ask again with first = false. A call adds its count to k's AUTO work once: while
 * *added is false (then set when it does). */
static sj_loop_fn tier_for(sj_kernel *k, int64_t count, int fb, bool first, bool *added,
                           bool *compile) {
    *compile = false;
    sj_kernel *owner = k->parent ? k->parent : k;
    sj_tier tier = kernel_tier(owner);
    if (tier == SJ_TIER_INTERP) return NULL;
    if (fb == FB_MOVING) {
        count_fallback(owner, fb);
        return NULL;
    }
    if (atomic_load_explicit(&k->jit_state, memory_order_acquire) == JIT_READY) {
        if (fb == FB_NONE) return k->jit_fn;
        count_fallback(owner, fb);
        return NULL;
    }
    if (!first) return NULL; /* compiled for this call already: declined */
    /* declined (or backing off) first: such a kernel's calls add no work (a shared write) */
    uint64_t retry = atomic_load_explicit(&k->jit_retry_ns, memory_order_relaxed);
    if (atomic_load_explicit(&k->jit_state, memory_order_acquire) == JIT_DECLINED ||
        (retry && retry > sj_now_ns()))
        return NULL;
    if (tier == SJ_TIER_AUTO && !auto_due(k, count, added)) return NULL;
    if (fb != FB_NONE) { /* a call compiled code could not run does not compile it */
        count_fallback(owner, fb);
        return NULL;
    }
    /* AUTO: a call of less work than the threshold does not wait for the compile */
    if (tier == SJ_TIER_AUTO && !k->parent && bg_enabled() &&
        (uint64_t)count <= (SJ_AUTO_THRESHOLD - 1) / k->auto_weight && bg_request(k))
        return NULL;
    *compile = true;
    return NULL;
}

/* The tier of a call that holds nothing (unchecked runs): compiles on the spot. */
static sj_loop_fn tier_now(sj_kernel *k, int64_t count) {
    bool compile;
    bool added = false;
    sj_loop_fn fn = tier_for(k, count, FB_NONE, true, &added, &compile);
    return compile ? kernel_jit(k, false) : fn;
}

/* ---- the checks of a call ---- */

/* A heap segment whose storage cannot be held still for the call (virtual addresses). */
static bool is_moving(const sj_segment *s) {
    return (s->flags & (SJ_SEG_HEAP | SJ_SEG_PINNABLE)) == SJ_SEG_HEAP;
}

/* The data of a segment for the call: pinned storage when it can be held still (*pinned
 * set), else resolved once (NULL: resolve or pin gave NULL). */
static uint8_t *call_data(const sj_segment *s, bool *pinned) {
    *pinned = (s->flags & SJ_SEG_PINNABLE) != 0;
    uint8_t *p = *pinned ? sj_segment_pin(s) : sj_segment_data(s);
    if (!p) *pinned = false;
    return p;
}

/* Runs the loop (fn, or the interpreter ip) and counts the tier on k. */
static int64_t execute_on(sj_kernel *k, const sj_interp *ip, sj_loop_fn fn, const uint8_t *s,
                          uint8_t *d, int64_t count, void *aux) {
    sj_tier t = fn ? SJ_TIER_JIT : SJ_TIER_INTERP;
    sj_reader_ext *me = tc_self();
    kshard *sh = shard_of(k, me);
    atomic_fetch_add_explicit(fn ? &sh->runs_jit : &sh->runs_interp, 1, memory_order_relaxed);
    tc_add(me, fn ? SJ_TC_RUNS_JIT : SJ_TC_RUNS_INTERP);
    /* written only when it changes: threads running k in one tier only read the line */
    if (atomic_load_explicit(&k->last_tier, memory_order_relaxed) != (int)t)
        atomic_store_explicit(&k->last_tier, (int)t, memory_order_relaxed);
    return fn ? fn(s, d, count, aux) : sj_interp_run(ip, s, d, count, aux);
}

static int64_t execute(sj_kernel *k, sj_loop_fn fn, const uint8_t *s, uint8_t *d, int64_t count,
                       void *aux) {
    return execute_on(k, k->interp, fn, s, d, count, aux);
}

/* The order of a chunked overlapping run: elements [back[0], back[1]) last to first,
 * then [fwd[0], fwd[1]) first to last (either may be empty). */
typedef struct ov_order {
    int64_t back[2], fwd[2];
} ov_order;

/* In what order count elements whose source and destination cells start at s0 and d0
 * run chunk by chunk without overwriting a source element not yet read. Element j's cells
 * start at s0 + S j and d0 + D j; with f(j) = d0 + D j - (s0 + S j), forward is safe over
 * a range when f <= 0 at each of its elements but the first (a write ends before any later
 * source starts), backward when f >= 0 there. f is linear: where it changes sign within
 * [1, count), the part where f >= 0 runs backward first (its writes stay clear of the
 * other part's sources), then the rest forward. */
static ov_order overlap_order(int64_t S, int64_t D, uintptr_t s0, uintptr_t d0, int64_t count) {
    ov_order o = {{0, 0}, {0, 0}};
    int64_t n = count - 1;
    /* addresses within the checked extents: no term overflows */
    int64_t delta = (int64_t)(d0 - s0), f1 = delta + (D - S), fn = delta + (D - S) * n;
    if (n == 0 || (f1 <= 0 && fn <= 0)) {
        o.fwd[1] = count;
    } else if (f1 >= 0 && fn >= 0) {
        o.back[1] = count;
    } else if (D > S) { /* f rises through 0: from j = ceil(-delta / (D - S)) it is >= 0 */
        int64_t j = (-delta + (D - S) - 1) / (D - S);
        o.back[0] = j, o.back[1] = count, o.fwd[1] = j;
    } else { /* f falls through 0: up to j = ceil(delta / (S - D)) it is > 0 */
        int64_t j = (delta + (S - D) - 1) / (S - D);
        o.back[1] = j, o.fwd[0] = j, o.fwd[1] = count;
    }
    return o;
}

/* A buffer for `len` bytes staged at any position modulo OVERLAP_ALIGN (aligned_alloc
 * takes a multiple of the alignment). */
static uint8_t *stage_alloc(uint64_t len) {
    uint64_t n = (len + 2 * OVERLAP_ALIGN - 1) / OVERLAP_ALIGN * OVERLAP_ALIGN;
    return n > len ? aligned_alloc(OVERLAP_ALIGN, (size_t)n) : NULL;
}

/* Places base at buf's position congruent to it and copies the source bytes
 * [base + skip, + len) there; returns where base went (buf has room for skip + len). */
static const uint8_t *stage(uint8_t *buf, const uint8_t *base, size_t skip, size_t len) {
    uint8_t *at = buf + ((uintptr_t)base % OVERLAP_ALIGN);
    memcpy(at + skip, base + skip, len);
    return at;
}

/* Source elements per chunk of a chunked run. */
static int64_t chunk_elems(const sj_plan *p, int64_t count) {
    int64_t m = OVERLAP_CHUNK / p->src.stride > 0 ? OVERLAP_CHUNK / p->src.stride : 1;
    return m < count ? m : count;
}

/* The bytes a chunk stages from its first element's address: up to the last footprint. */
static uint64_t chunk_bytes(const sj_kernel *k, int64_t count) {
    return (uint64_t)((chunk_elems(k->plan, count) - 1) * k->plan->src.stride) + k->feet.shi;
}

/* Runs elements [lo, hi) chunk by chunk through buf (room for chunk_bytes) in direction
 * dir: sp and dp are element 0's source and destination addresses. Each chunk stages the
 * source bytes from its first element's footprint to its last one's. */
static void run_chunked(sj_kernel *k, sj_loop_fn fn, uint8_t *buf, const uint8_t *sp, uint8_t *dp,
                        int64_t lo, int64_t hi, int dir) {
    const sj_plan *p = k->plan;
    const ov_feet *f = &k->feet;
    int64_t S = p->src.stride, D = p->dst.stride, m = chunk_elems(p, hi - lo);
    if (hi <= lo) return;
    int64_t nchunks = (hi - lo + m - 1) / m;
    for (int64_t c = 0; c < nchunks; c++) {
        int64_t a = lo + (dir > 0 ? c : nchunks - 1 - c) * m;
        int64_t n = hi - a < m ? hi - a : m;
        size_t len = (size_t)((n - 1) * S) + (size_t)(f->shi - f->slo);
        const uint8_t *at = stage(buf, sp + a * S, (size_t)f->slo, len);
        execute(k, fn, at, dp + a * D, n, NULL);
    }
}

/* An overlapping call whose elements have no safe order (a reversal onto its own bytes;
 * destinations that want opposite orders): chunks of at most chunk_elems elements taken
 * from either end of the elements left, each staged before it runs, a chunk (or the two
 * end chunks together) only when its writes miss the source bytes of every element left
 * after it. Once the two ends meet, nothing is left to protect. Element j reads
 * [sp + S j + slo, ...) and writes [dp[i] + D[i] j + dlo[i], ...). */
typedef struct ov_walk {
    sj_kernel *k;
    sj_loop_fn fn;
    const uint8_t *sp;
    uint8_t *const *dp;
    int64_t S, D[SJ_MAX_STREAMS];
    size_t nd;
    bool streams; /* the loop takes an array of destination pointers */
} ov_walk;

/* The bytes [*from, *to) that elements [a, b) (a < b) of a side touch. */
static void range_bytes(const uint8_t *x, int64_t stride, uint64_t lo, uint64_t hi, int64_t a,
                        int64_t b, uintptr_t *from, uintptr_t *to) {
    int64_t e1 = stride * a, e2 = stride * (b - 1); /* inside the checked extents */
    *from = (uintptr_t)x + (uintptr_t)(e1 < e2 ? e1 : e2) + lo;
    *to = (uintptr_t)x + (uintptr_t)(e1 < e2 ? e2 : e1) + hi;
}

/* Whether elements [a, b) may run now: their writes miss the sources of [ra, rb). */
static bool walk_safe(const ov_walk *w, int64_t a, int64_t b, int64_t ra, int64_t rb) {
    const ov_feet *f = &w->k->feet;
    if (rb <= ra) return true;
    uintptr_t s0, s1, d0, d1;
    range_bytes(w->sp, w->S, f->slo, f->shi, ra, rb, &s0, &s1);
    for (size_t i = 0; i < w->nd; i++) {
        range_bytes(w->dp[i], w->D[i], f->dlo[i], f->dhi[i], a, b, &d0, &d1);
        if (d0 < s1 && s0 < d1) return false;
    }
    return true;
}

/* Copies the source bytes of elements [a, b) into buf at their address modulo
 * OVERLAP_ALIGN; returns where element a's source went. */
static const uint8_t *walk_stage(const ov_walk *w, uint8_t *buf, int64_t a, int64_t b) {
    uintptr_t from, to;
    range_bytes(w->sp, w->S, w->k->feet.slo, w->k->feet.shi, a, b, &from, &to);
    assert((uintptr_t)buf % OVERLAP_ALIGN == 0);
    uint8_t *at = buf + from % OVERLAP_ALIGN;
    memcpy(at, (const void *)from, to - from);
    return at + ((uintptr_t)(w->sp + w->S * a) - from);
}

/* Runs elements [a, a + n) reading their staged source at src. */
static void walk_exec(const ov_walk *w, const uint8_t *src, int64_t a, int64_t n) {
    uint8_t *d[SJ_MAX_STREAMS];
    for (size_t i = 0; i < w->nd; i++)
        d[i] = w->dp[i] + w->D[i] * a;
    execute(w->k, w->fn, src, w->streams ? (uint8_t *)d : d[0], n, NULL);
}

/* The elements a walk has left: [l[0], r[0]) and [l[1], r[1]) (either may be empty). It
 * takes chunks at two ends, each a range's left or right end: outside in, range 0's two
 * ends; from the middle out, range 0's right end and range 1's left end. */
typedef struct ov_left {
    int64_t l[2], r[2];
} ov_left;

typedef struct ov_ends {
    int k[2];      /* the range of each end */
    bool right[2]; /* its right end (else its left) */
} ov_ends;

static const ov_ends WALK_IN = {{0, 0}, {false, true}}, WALK_OUT = {{0, 1}, {true, false}};

/* Takes t elements at end e of x; returns the first of them. */
static int64_t walk_take(ov_left *x, const ov_ends *e, int i, int64_t t) {
    int k = e->k[i];
    if (e->right[i]) return x->r[k] -= t;
    x->l[k] += t;
    return x->l[k] - t;
}

/* Whether elements [a, b) may run when x is left: their writes miss x's sources. */
static bool walk_safe_left(const ov_walk *w, int64_t a, int64_t b, const ov_left *x) {
    return walk_safe(w, a, b, x->l[0], x->r[0]) && walk_safe(w, a, b, x->l[1], x->r[1]);
}

/* Whether chunks of t[0] and t[1] elements at the two ends may run together (t[i] 0: none). */
static bool walk_safe_ends(const ov_walk *w, ov_left x, const ov_ends *e, const int64_t t[2]) {
    int64_t a[2];
    for (int i = 0; i < 2; i++)
        a[i] = walk_take(&x, e, i, t[i]);
    for (int i = 0; i < 2; i++)
        if (t[i] && !walk_safe_left(w, a[i], a[i] + t[i], &x)) return false;
    return true;
}

/* The most elements, up to m, that may run alone at end i; 0 when none. A longer chunk
 * writes more and leaves fewer, so safety falls with the size: found by bisection. */
static int64_t walk_most(const ov_walk *w, const ov_left *x, const ov_ends *e, int i, int64_t m) {
    int64_t lo = 0, hi = x->r[e->k[i]] - x->l[e->k[i]];
    hi = hi < m ? hi : m;
    while (lo < hi) {
        int64_t t[2] = {0, 0};
        t[i] = lo + (hi - lo + 1) / 2;
        if (walk_safe_ends(w, *x, e, t))
            lo = t[i];
        else
            hi = t[i] - 1;
    }
    return lo;
}

/* Runs chunks of t[0] and t[1] elements at the two ends: both staged, then both run. */
static void walk_run(const ov_walk *w, ov_left *x, const ov_ends *e, const int64_t t[2],
                     uint8_t *buf, size_t half) {
    const uint8_t *staged[2] = {NULL, NULL};
    int64_t a[2];
    for (int i = 0; i < 2; i++) {
        a[i] = walk_take(x, e, i, t[i]);
        if (buf && t[i]) staged[i] = walk_stage(w, buf + (size_t)i * half, a[i], a[i] + t[i]);
    }
    for (int i = 0; i < 2; i++)
        if (buf && t[i]) walk_exec(w, staged[i], a[i], t[i]);
}

/* Walks what x leaves at ends e with chunks of at most m through buf (two halves of `half`
 * bytes, each room for m elements' source); buf NULL: decides only, runs nothing. Each step
 * takes a chunk of at least m/2 at one end, else chunks at both ends together, else the
 * longest chunk that may run alone (a short one brings the ends into step). True when all
 * ran; false with x left as it stood when nothing could run. */
static bool walk(const ov_walk *w, ov_left *x, const ov_ends *e, int64_t m, uint8_t *buf,
                 size_t half) {
    for (;;) {
        int64_t n0 = x->r[e->k[0]] - x->l[e->k[0]], n1 = x->r[e->k[1]] - x->l[e->k[1]];
        bool one = e->k[0] == e->k[1];
        if (one ? n0 <= 2 * m : n0 <= m && n1 <= m) { /* the ends meet: nothing to protect */
            int64_t t[2] = {one ? (n0 + 1) / 2 : n0, one ? n0 / 2 : n1};
            walk_run(w, x, e, t, buf, half);
            return true;
        }
        int64_t most[2] = {walk_most(w, x, e, 0, m), 0};
        most[1] = most[0] >= m ? 0 : walk_most(w, x, e, 1, m);
        int64_t t[2] = {n0 < m ? n0 : m, n1 < m ? n1 : m};
        if (!(most[0] < (m + 1) / 2 && most[1] < (m + 1) / 2 && t[0] && t[1] &&
              walk_safe_ends(w, *x, e, t))) { /* not both: the longer chunk alone */
            int i = most[0] >= most[1] ? 0 : 1;
            if (!most[i]) return false;
            t[i] = most[i], t[1 - i] = 0;
        }
        walk_run(w, x, e, t, buf, half);
    }
}

/* The middle a walk from the middle out starts with, within what an outside-in walk left
 * ([x->l[0], x->r[0])): the chunk around the element whose destination starts where its
 * source does (one destination, whose stride is the smaller and of the other sign: the
 * conflicts converge on it). False when there is none or it may not run first; else *mid
 * is the chunk and *out what is left on either side. */
static bool walk_middle(const ov_walk *w, const ov_left *x, int64_t m, int64_t mid[2],
                        ov_left *out) {
    int64_t L = x->l[0], R = x->r[0];
    if (w->nd != 1 || R <= L) return false;
    const ov_feet *f = &w->k->feet;
    int64_t g0 = (int64_t)(((uintptr_t)w->dp[0] + f->dlo[0]) - ((uintptr_t)w->sp + f->slo));
    int64_t dg = w->D[0] - w->S, j = dg ? -g0 / dg : L;
    j = j < L ? L : j > R - 1 ? R - 1 : j;
    mid[0] = j - m / 2 < L ? L : j - m / 2;
    mid[1] = mid[0] + m < R ? mid[0] + m : R;
    *out = (ov_left){{L, mid[1]}, {mid[0], R}};
    return walk_safe_left(w, mid[0], mid[1], out);
}

/* A checked call's segments and what holding them gave: data resolved or pinned, and the
 * destinations' element-0 addresses. */
typedef struct call {
    const sj_segment *src;
    int64_t src_offset, count;
    size_t nd, held; /* destinations; arenas held, the source's first */
    sj_hold *holds;  /* [1 + SJ_MAX_STREAMS], set as each is taken (not zeroed per call) */
    const sj_segment *const *dsts;
    const int64_t *doffs;
    uint64_t src_ext, dst_ext[SJ_MAX_STREAMS];
    uint8_t *sdata, *dps[SJ_MAX_STREAMS];
    bool src_pinned, dst_pinned[SJ_MAX_STREAMS];
    ov_order order; /* OV_CHUNKED, OV_DIRECT */
    int64_t piece;  /* OV_DIRECT on the interpreter of a DIRECT_APART kernel: elements per run */
} call;

/* Lifetime and thread (SEMANTICS 4.2's last checks), holding each arena open, then the
 * data of every side resolved (or pinned) once. */
static sj_status call_hold(const sj_kernel *k, call *c, sj_error *err) {
    const sj_plan *p = k->plan;
    char nm[48];
    sj_status st;
    size_t n = (c->src ? 1 : 0) + c->nd;
    for (c->held = 0; c->held < n; c->held++) {
        bool is_src = c->src && c->held == 0;
        size_t i = c->held - (c->src ? 1 : 0);
        if ((st = sj_scope_hold(is_src ? c->src : c->dsts[i], &c->holds[c->held], err)) != SJ_OK)
            return sj_name_side(err, st, p->what,
                                is_src ? "source" : sj_dst_name(p, i, nm, sizeof nm));
    }
    if (c->count == 0) return SJ_OK;
    bool resolved = !c->src || (c->sdata = call_data(c->src, &c->src_pinned)) != NULL;
    for (size_t i = 0; i < c->nd && resolved; i++) {
        uint8_t *d = call_data(c->dsts[i], &c->dst_pinned[i]);
        resolved = d != NULL;
        if (d) c->dps[i] = d + c->doffs[i] + sj_dst_side(p, i)->origin;
    }
    if (!resolved)
        return sj_fail(err, SJ_E_ARG, "%s: a heap segment's resolve function returned NULL",
                       p->what);
    /* Destinations sharing bytes through a heap segment: known only now (checks.c refused
     * native pairs, and heap pairs of one array, before anything was held). */
    for (size_t i = 0; i < c->nd; i++)
        for (size_t j = i + 1; j < c->nd; j++) {
            if (!((c->dsts[i]->flags | c->dsts[j]->flags) & SJ_SEG_HEAP)) continue;
            uintptr_t a0 = (uintptr_t)(c->dps[i] - sj_dst_side(p, i)->origin),
                      b0 = (uintptr_t)(c->dps[j] - sj_dst_side(p, j)->origin);
            if (c->dst_ext[i] && c->dst_ext[j] && a0 < b0 + c->dst_ext[j] &&
                b0 < a0 + c->dst_ext[i])
                return sj_fail(err, SJ_E_ARG,
                               "%s: destinations #%zu and #%zu overlap (offsets %" PRId64
                               " and %" PRId64 ", %" PRIu64 " and %" PRIu64 " bytes)",
                               p->what, i, j, c->doffs[i], c->doffs[j], c->dst_ext[i],
                               c->dst_ext[j]);
        }
    return SJ_OK;
}

/* Lets go of what call_hold took (any part of it). */
static void call_release(call *c) {
    for (size_t i = 0; i < c->nd; i++)
        if (c->dst_pinned[i]) sj_segment_unpin(c->dsts[i]);
    if (c->src_pinned) sj_segment_unpin(c->src);
    c->src_pinned = false;
    memset(c->dst_pinned, 0, sizeof c->dst_pinned);
    while (c->held > 0)
        sj_scope_unhold(&c->holds[--c->held]);
    c->sdata = NULL;
    memset(c->dps, 0, sizeof c->dps);
}

/* How an overlapping call runs (SEMANTICS 4.2, memmove; README, overlap). */
enum {
    OV_NONE,    /* no shared byte */
    OV_BLOCK,   /* a block copy: the interpreter's memmove */
    OV_INPLACE, /* each element its own source: in place (compiled, or the interpreter) */
    OV_DIRECT,  /* straight in the order of c->order, no buffer (direct_ok) */
    OV_CHUNKED, /* chunks through a bounded buffer in the order of c->order */
    OV_WALK,    /* no order of elements: chunks from both ends through a bounded buffer */
    OV_STAGED,  /* none of the above: the whole source copied first */
};

/* Whether no element's destination bytes meet its own source bytes (element j's gap
 * between the two is linear in j: its first and last elements on one side say it). */
static bool own_apart(const sj_kernel *k, const uint8_t *sp, const call *c) {
    const ov_feet *f = &k->feet;
    const sj_plan *p = k->plan;
    int64_t g0 = (int64_t)((uintptr_t)c->dps[0] - (uintptr_t)sp),
            gn = g0 + (p->dst.stride - p->src.stride) * (c->count - 1);
    int64_t above = (int64_t)f->shi - (int64_t)f->dlo[0], /* dst starts at src's end */
        below = (int64_t)f->slo - (int64_t)f->dhi[0];     /* dst ends at src's start */
    return (g0 >= above && gn >= above) || (g0 <= below && gn <= below);
}

/* The interpreter runs a block of elements move by move, so a DIRECT_APART kernel runs
 * straight on it in pieces whose destination bytes all miss their source bytes: the most
 * elements a piece may hold at every element of the call (on own_apart's side for all of
 * them; linear in the piece's first element, so its ends say it). Below APART_PIECE_MIN
 * the bounded buffer is faster (docs/JIT.md, overlap on the interpreter): 0. */
enum { APART_PIECE_MIN = 64 };
static int64_t apart_piece(const sj_kernel *k, const uint8_t *sp, const call *c) {
    const ov_feet *f = &k->feet;
    const sj_plan *p = k->plan;
    int64_t S = p->src.stride, D = p->dst.stride, piece = c->count;
    int64_t g0 = (int64_t)((uintptr_t)c->dps[0] - (uintptr_t)sp);
    bool above = g0 >= (int64_t)f->shi - (int64_t)f->dlo[0];
    for (int e = 0; e < 2; e++) {
        int64_t g = g0 + (D - S) * (e ? c->count - 1 : 0), n;
        if (above) /* the piece's writes start after its last source ends */
            n = 1 + (g + (int64_t)f->dlo[0] - (int64_t)f->shi) / S;
        else /* its writes end before its first source starts */
            n = 1 + ((int64_t)f->slo - (int64_t)f->dhi[0] - g) / D;
        if (n < piece) piece = n;
    }
    return piece >= APART_PIECE_MIN ? piece : 0;
}

/* How a DIRECT_APART call runs on the interpreter: straight in pieces (c->piece), or
 * through the bounded buffer when pieces would be short. */
static int interp_pieces(const sj_kernel *k, call *c) {
    c->piece = apart_piece(k, c->sdata + c->src_offset + k->plan->src.origin, c);
    return c->piece ? OV_DIRECT : OV_CHUNKED;
}

/* Overlap of the bytes themselves (a heap segment and a native one may share them). */
static int call_overlap(const sj_kernel *k, call *c) {
    const sj_plan *p = k->plan;
    if (c->count == 0 || !c->src || p->op != SJ_PLAN_MOVE) return OV_NONE;
    uintptr_t s0 = (uintptr_t)(c->sdata + c->src_offset);
    bool overlap = false;
    for (size_t i = 0; i < c->nd && !overlap; i++) {
        uintptr_t d0 = (uintptr_t)(c->dps[i] - sj_dst_side(p, i)->origin);
        overlap = c->src_ext && c->dst_ext[i] && s0 < d0 + c->dst_ext[i] && d0 < s0 + c->src_ext;
    }
    if (!overlap) return OV_NONE;
    if (p->block_copy) return OV_BLOCK;
    if (c->nd != 1) return k->feet.ok ? OV_WALK : OV_STAGED;
    const uint8_t *sp = c->sdata + c->src_offset + p->src.origin;
    if (k->in_place && sp == c->dps[0]) return OV_INPLACE;
    if (!k->cells) return k->feet.ok ? OV_WALK : OV_STAGED;
    c->order = overlap_order(p->src.stride, p->dst.stride, (uintptr_t)(sp + k->feet.slo),
                             (uintptr_t)(c->dps[0] + k->feet.dlo[0]), c->count);
    if (k->direct == DIRECT_ALWAYS || (k->direct == DIRECT_APART && own_apart(k, sp, c)))
        return OV_DIRECT;
    return OV_CHUNKED;
}

/* What keeps compiled code from this call: compiled code assumes real addresses at the
 * plan's alignment (pinned storage off its element size is misplaced) and no aliasing. */
static int call_fallback(const sj_kernel *k, const call *c, int ov) {
    bool moving = c->src && is_moving(c->src), misplaced = false;
    for (size_t i = 0; i < c->nd; i++)
        moving = moving || is_moving(c->dsts[i]);
    if (moving) return FB_MOVING;
    if (c->src_pinned) misplaced = (uintptr_t)(c->sdata - c->src->vaddr) % c->src->elem_size;
    for (size_t i = 0; i < c->nd; i++)
        misplaced = misplaced || (c->dst_pinned[i] &&
                                  (uintptr_t)(c->dps[i] - c->doffs[i] -
                                              sj_dst_side(k->plan, i)->origin - c->dsts[i]->vaddr) %
                                      c->dsts[i]->elem_size);
    if (misplaced) return FB_HEAP;
    return ov == OV_BLOCK ? FB_OVERLAP : FB_NONE;
}

/* Runs a held call in mode OV_WALK (walk); what no chunk order reaches is staged whole. */
static sj_status call_walk(sj_kernel *k, sj_loop_fn fn, const call *c, sj_error *err) {
    const sj_plan *p = k->plan;
    ov_walk w = {.k = k,
                 .fn = fn,
                 .sp = c->sdata + c->src_offset + p->src.origin,
                 .dp = c->dps,
                 .S = p->src.stride,
                 .nd = c->nd,
                 .streams = p->ndst > 0};
    for (size_t i = 0; i < c->nd; i++)
        w.D[i] = sj_dst_side(p, i)->stride;
    uint64_t as = (uint64_t)(w.S < 0 ? -w.S : w.S), width = k->feet.shi - k->feet.slo;
    int64_t m = as ? (int64_t)(OVERLAP_CHUNK / as) : c->count;
    if (m < 1) m = 1;
    if (m > c->count) m = c->count;
    /* each half starts at a multiple of OVERLAP_ALIGN: staging keeps addresses modulo it */
    size_t half = (size_t)(((uint64_t)(m - 1) * as + width + 2 * OVERLAP_ALIGN - 1) /
                           OVERLAP_ALIGN * OVERLAP_ALIGN);
    /* decided first, so that a failed allocation comes before any write: from both ends,
     * then what is left from its middle out, else the rest staged whole */
    ov_left x = {{0, 0}, {c->count, 0}}, left = x, around = x;
    int64_t mid[2] = {0, 0};
    bool ends = walk(&w, &left, &WALK_IN, m, NULL, 0), out = false;
    if (!ends && walk_middle(&w, &left, m, mid, &around)) {
        ov_left y = around;
        out = walk(&w, &y, &WALK_OUT, m, NULL, 0);
    }
    bool whole = !ends && !out;
    uintptr_t from = 0, to = 0;
    if (whole) range_bytes(w.sp, w.S, k->feet.slo, k->feet.shi, left.l[0], left.r[0], &from, &to);
    uint8_t *buf = aligned_alloc(OVERLAP_ALIGN, 2 * half);
    uint8_t *tmp = whole ? stage_alloc(to - from) : NULL;
    if (!buf || (whole && !tmp)) {
        free(buf);
        free(tmp);
        return sj_fail(err, SJ_E_NOMEM,
                       "%s: cannot allocate %" PRIu64 " bytes to stage an overlapping source",
                       p->what, (uint64_t)(2 * half + (to - from)));
    }
    walk(&w, &x, &WALK_IN, m, buf, half);
    if (out) {
        walk_exec(&w, walk_stage(&w, buf, mid[0], mid[1]), mid[0], mid[1] - mid[0]);
        walk(&w, &around, &WALK_OUT, m, buf, half);
    }
    free(buf);
    if (whole) {
        walk_exec(&w, walk_stage(&w, tmp, left.l[0], left.r[0]), left.l[0], left.r[0] - left.l[0]);
        free(tmp);
    }
    sj_tc_add(whole ? SJ_TC_OV_COPIES : SJ_TC_OV_CHUNKED);
    return SJ_OK;
}

/* Runs a held call in overlap mode ov on the loop fns[0] (k's, or its in-place variant's),
 * or for a direct run fns[0] and fns[1] (its backward and forward parts; a NULL backward
 * loop runs on the interpreter of back, k's backward variant), counting on k. */
static sj_status call_run(sj_kernel *k, const sj_loop_fn *fns, const sj_kernel *back, call *c,
                          int ov, sj_result *result, sj_error *err) {
    const sj_plan *p = k->plan;
    sj_loop_fn fn = fns[0];
    const uint8_t *sp = c->src && c->count > 0 ? c->sdata + c->src_offset + p->src.origin : NULL;
    const uint8_t *s0 = c->src && c->count > 0 ? c->sdata + c->src_offset : NULL;
    if (ov == OV_DIRECT && c->piece) { /* the interpreter, a piece at a time in each part's order */
        int64_t S = p->src.stride, D = p->dst.stride;
        const ov_order *o = &c->order;
        for (int64_t e = o->back[1]; e > o->back[0];) {
            int64_t n = e - o->back[0] < c->piece ? e - o->back[0] : c->piece;
            e -= n;
            execute_on(k, k->interp, NULL, sp + e * S, c->dps[0] + e * D, n, NULL);
        }
        for (int64_t e = o->fwd[0]; e < o->fwd[1]; e += c->piece) {
            int64_t n = o->fwd[1] - e < c->piece ? o->fwd[1] - e : c->piece;
            execute_on(k, k->interp, NULL, sp + e * S, c->dps[0] + e * D, n, NULL);
        }
        sj_tc_add(SJ_TC_OV_DIRECT);
        return SJ_OK;
    }
    if (ov == OV_DIRECT) { /* the backward part from its last element, then the forward part */
        int64_t S = p->src.stride, D = p->dst.stride;
        const ov_order *o = &c->order;
        for (int i = 0; i < 2; i++) {
            int64_t a = i ? o->fwd[0] : o->back[0], b = i ? o->fwd[1] : o->back[1];
            int64_t e0 = i ? a : b - 1; /* the part's element 0 */
            if (b > a)
                execute_on(k, i ? k->interp : back->interp, fns[i], sp + e0 * S, c->dps[0] + e0 * D,
                           b - a, NULL);
        }
        sj_tc_add(SJ_TC_OV_DIRECT);
        return SJ_OK;
    }
    if (ov == OV_WALK) return call_walk(k, fn, c, err);
    uint64_t len = ov == OV_CHUNKED ? chunk_bytes(k, c->count) : ov == OV_STAGED ? c->src_ext : 0;
    uint8_t *tmp = len ? stage_alloc(len) : NULL;
    if (len && !tmp)
        return sj_fail(err, SJ_E_NOMEM,
                       "%s: cannot allocate %" PRIu64 " bytes to copy an overlapping source",
                       p->what, len);
    if (ov == OV_CHUNKED) {
        run_chunked(k, fn, tmp, sp, c->dps[0], c->order.back[0], c->order.back[1], -1);
        run_chunked(k, fn, tmp, sp, c->dps[0], c->order.fwd[0], c->order.fwd[1], 1);
        sj_tc_add(SJ_TC_OV_CHUNKED);
        free(tmp);
        return SJ_OK;
    }
    if (ov == OV_STAGED) {
        sp = stage(tmp, s0, 0, c->src_ext) + p->src.origin;
        sj_tc_add(SJ_TC_OV_COPIES);
    }
    if (ov == OV_INPLACE) sj_tc_add(SJ_TC_IN_PLACE);
    if (p->op == SJ_PLAN_MOVE && !p->src.used) sp = (const uint8_t *)p->fill_bits;
    sj_result res;
    memset(&res, 0, sizeof res);
    int64_t r = execute(k, fn, sp, p->ndst ? (uint8_t *)c->dps : c->dps[0], c->count, &res);
    if (p->op == SJ_PLAN_MISMATCH) res.i64 = r;
    if (result && p->op != SJ_PLAN_MOVE) *result = res;
    free(tmp);
    return SJ_OK;
}

/* One checked call with nd destinations (0 or 1 for a plan's dst, ndst for streams), one
 * way: the checks in SEMANTICS 4.2 order, arenas held, overlap, tier, run. A kernel's
 * first compile holds no arena (a close need not wait for LLVM): the call lets go, has
 * it compiled, and holds again, so a close meanwhile answers SJ_E_CLOSED. */
static sj_status run_call(sj_kernel *k, const sj_segment *src, int64_t src_offset, size_t nd,
                          const sj_segment *const *dsts, const int64_t *doffs, int64_t count,
                          sj_result *result, sj_error *err) {
    sj_hold holds[1 + SJ_MAX_STREAMS];
    call c = {.src = src,
              .src_offset = src_offset,
              .count = count,
              .nd = nd,
              .dsts = dsts,
              .doffs = doffs,
              .holds = holds};
    sj_status st =
        sj_check_call(k->plan, src, src_offset, nd, dsts, doffs, count, &c.src_ext, c.dst_ext, err);
    if (st != SJ_OK) return st;
    /* the kernels compiled for this call already (each at most once: then ready or declined);
     * the call's AUTO work counts on its first pass */
    const sj_kernel *compiled[2] = {NULL, NULL};
    for (bool first_pass = true;; first_pass = false) {
        if ((st = call_hold(k, &c, err)) != SJ_OK) break;
        int ov = call_overlap(k, &c), fb = call_fallback(k, &c, ov);
        /* the kernels whose loops run the call: k, or its variants for overlapping calls
         * (in place; a direct run's backward part, then its forward part) */
        sj_kernel *tk[2] = {k, NULL};
        if (ov == OV_INPLACE && kernel_tier(k) != SJ_TIER_INTERP &&
            !(tk[0] = variant_kernel(k, SJ_VARIANT_IN_PLACE))) {
            tk[0] = k; /* no memory for it: in place on the interpreter */
            fb = fb == FB_NONE ? FB_OVERLAP : fb;
        }
        bool back = c.order.back[1] > c.order.back[0], fwd = c.order.fwd[1] > c.order.fwd[0];
        /* several moves an element: compiled loops run straight, the interpreter in pieces */
        bool apart = k->direct == DIRECT_APART;
        c.piece = 0;
        if (ov == OV_DIRECT && apart && kernel_tier(k) == SJ_TIER_INTERP) ov = interp_pieces(k, &c);
        if (ov == OV_DIRECT && !c.piece) {
            tk[0] = back ? variant_kernel(k, SJ_VARIANT_BACKWARD) : NULL;
            tk[1] = fwd ? variant_kernel(k, SJ_VARIANT_FORWARD) : NULL;
            if ((back && !tk[0]) || (fwd && !tk[1])) { /* no memory for them: chunked */
                ov = OV_CHUNKED;
                tk[0] = k, tk[1] = NULL;
            }
        }
        sj_loop_fn fns[2] = {NULL, NULL};
        sj_kernel *compile_k = NULL;
        for (int i = 0; i < 2; i++) {
            bool compile = false;
            bool first = tk[i] && tk[i] != compiled[0] && tk[i] != compiled[1];
            bool added = !first_pass;
            if (tk[i]) fns[i] = tier_for(tk[i], count, fb, first, &added, &compile);
            if (compile && !compile_k) compile_k = tk[i];
        }
        if (!compile_k && ov == OV_DIRECT && apart && !c.piece &&
            ((back && !fns[0]) || (fwd && !fns[1]))) { /* not compiled: the interpreter's */
            ov = interp_pieces(k, &c);
            tk[0] = k, tk[1] = NULL;
            fns[0] = fns[1] = NULL;
        }
        if (!compile_k) {
            st = call_run(k, fns, tk[0], &c, ov, result, err);
            break;
        }
        call_release(&c);
        kernel_jit(compile_k, false);
        compiled[compiled[0] ? 1 : 0] = compile_k;
    }
    call_release(&c);
    return st;
}

sj_status sj_kernel_run(const sj_kernel *ck, const sj_args *a, sj_result *result, sj_error *err) {
    if (!ck || !a) return sj_fail(err, SJ_E_ARG, "kernel run: NULL kernel or arguments");
    sj_kernel *k = (sj_kernel *)ck; /* tier state only; the plan is never changed */
    const sj_plan *p = k->plan;
    if (p->ndst)
        return sj_fail(err, SJ_E_ARG,
                       "%s: a kernel with %u destinations runs with sj_kernel_run_many", p->what,
                       p->ndst);
    if (p->op != SJ_PLAN_MOVE && !result)
        return sj_fail(err, SJ_E_ARG, "%s: result is NULL", p->what);
    const sj_segment *src = p->src.used ? a->src : NULL;
    const sj_segment *dst = p->dst.used ? a->dst : NULL;
    if (p->src.used && !src) return sj_fail(err, SJ_E_ARG, "%s: source segment is NULL", p->what);
    if (p->dst.used && !dst)
        return sj_fail(err, SJ_E_ARG, "%s: destination segment is NULL", p->what);
    return run_call(k, src, a->src_offset, dst ? 1 : 0, &dst, &a->dst_offset, a->count, result,
                    err);
}

sj_status sj_kernel_run_many(const sj_kernel *ck, const sj_args_many *a, sj_error *err) {
    if (!ck || !a) return sj_fail(err, SJ_E_ARG, "kernel run: NULL kernel or arguments");
    sj_kernel *k = (sj_kernel *)ck;
    const sj_plan *p = k->plan;
    if (!p->ndst)
        return sj_fail(err, SJ_E_ARG, "%s: a single-destination kernel runs with sj_kernel_run",
                       p->what);
    if (a->ndst != p->ndst)
        return sj_fail(err, SJ_E_ARG, "%s: %zu destinations passed, the kernel writes %u", p->what,
                       a->ndst, p->ndst);
    if (!a->dsts || !a->dst_offsets)
        return sj_fail(err, SJ_E_ARG, "%s: destination or offset array is NULL", p->what);
    if (!a->src) return sj_fail(err, SJ_E_ARG, "%s: source segment is NULL", p->what);
    for (size_t i = 0; i < a->ndst; i++)
        if (!a->dsts[i])
            return sj_fail(err, SJ_E_ARG, "%s: destination #%zu segment is NULL", p->what, i);
    return run_call(k, a->src, a->src_offset, a->ndst, a->dsts, a->dst_offsets, a->count, NULL,
                    err);
}

sj_status sj_kernel_run_unchecked(const sj_kernel *ck, const uint8_t *src, uint8_t *dst,
                                  int64_t count, sj_result *result) {
    sj_kernel *k = (sj_kernel *)ck;
    const sj_plan *p = k->plan;
    const uint8_t *sp = p->src.used && src ? src + p->src.origin : NULL;
    uint8_t *dp = p->dst.used && dst ? dst + p->dst.origin : NULL;
    uint8_t *dps[SJ_MAX_STREAMS] = {NULL};
    if (p->ndst) { /* dst: the streams' addresses */
        uint8_t *const *in = (uint8_t *const *)(void *)dst;
        for (unsigned i = 0; i < p->ndst && in; i++)
            dps[i] = in[i] ? in[i] + p->dsts[i].origin : NULL;
        dp = (uint8_t *)dps;
    }
    if (p->op == SJ_PLAN_MOVE && !p->src.used) sp = (const uint8_t *)p->fill_bits;
    sj_result res;
    memset(&res, 0, sizeof res);
    int64_t r = execute(k, tier_now(k, count), sp, dp, count, &res);
    if (p->op == SJ_PLAN_MISMATCH) res.i64 = r;
    if (result && p->op != SJ_PLAN_MOVE) *result = res;
    return SJ_OK;
}
