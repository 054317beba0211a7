/* segjit/kernel.h: bulk operations as kernels: copy, record conversion, gather,
 * scatter, fill, mismatch and reductions. A kernel is built once from layouts (all
 * layout checks happen then), and each run checks the call once (bounds, alignment,
 * read-only, lifetime, thread) before any byte moves. Rules: SEMANTICS.md 4.2-4.6. */
#ifndef SEGJIT_KERNEL_H
#define SEGJIT_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segjit/layout.h"
#include "segjit/segment.h"
#include "segjit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sj_kernel sj_kernel;

/* Which executor runs a kernel. AUTO: the interpreter answers small calls and a kernel
 * is compiled once its work crosses a measured threshold: in the background while its
 * calls go on on the interpreter, or inline by a call whose own work reaches the threshold
 * (SEGJIT_AUTO_COMPILE=inline: always inline; README, tiers). Heap segments run on the
 * interpreter unless they can be pinned (sj_segment_heap_pinned: pinned for the call, then
 * compiled code may run; sj_segment_of_array has no pin and runs on the interpreter). The
 * environment variable SEGJIT_TIER=interp|jit|auto sets the default for kernels whose tier was not
 * set through the API.
 */
typedef enum sj_tier { SJ_TIER_DEFAULT, SJ_TIER_AUTO, SJ_TIER_INTERP, SJ_TIER_JIT } sj_tier;

typedef enum sj_reduce_op { SJ_REDUCE_SUM, SJ_REDUCE_MIN, SJ_REDUCE_MAX } sj_reduce_op;

enum {
    SJ_CONVERT_LOSSY = 1u,          /* allow narrowing and float<->int conversions */
    SJ_CONVERT_ZERO_UNMATCHED = 2u, /* destination fields with no source are zeroed */
};

/* The arguments of one run. Unused fields are ignored (e.g. src for fill). */
typedef struct sj_args {
    const sj_segment *src;
    int64_t src_offset;
    const sj_segment *dst;
    int64_t dst_offset;
    int64_t count; /* elements (records, path indices); bytes for mismatch */
} sj_args;

/* Result of reductions (SUM of signed integers: i64; unsigned, bool, char, address: u64;
 * floating point: f64; MIN/MAX likewise) and of mismatch (i64: index or -1). */
typedef sj_value sj_result;

/* Element copy: src_elem and dst_elem of equal size; byte-swapped per element when both
 * are value layouts wider than one byte whose orders differ. */
SJ_API sj_status sj_kernel_copy(const sj_layout *src_elem, const sj_layout *dst_elem,
                                sj_kernel **out, sj_error *err);
/* Record conversion between two layouts, fields matched by name (nested). */
SJ_API sj_status sj_kernel_convert(const sj_layout *src_rec, const sj_layout *dst_rec,
                                   unsigned flags, sj_kernel **out, sj_error *err);
/* Gather: the value at src_path (one free index) into a dense array of dst_elem. */
SJ_API sj_status sj_kernel_gather(const sj_path *src_path, const sj_layout *dst_elem,
                                  unsigned flags, sj_kernel **out, sj_error *err);
/* Gather of several values in one pass ("unzip", array of structs to struct of arrays):
 * value i at src_paths[i] into its own dense array of dst_elems[i], for i < k,
 * 1 <= k <= SJ_GATHER_MANY_MAX. Every path is on an equal root layout (sj_layout_equal)
 * and has exactly one free index, of the same bound and stride in every path; each
 * dst_elems[i] is a value layout, converted as gather converts (SJ_CONVERT_LOSSY as for
 * gather). Run it with sj_kernel_run_many, not sj_kernel_run. */
#define SJ_GATHER_MANY_MAX 8
SJ_API sj_status sj_kernel_gather_many(const sj_path *const *src_paths,
                                       const sj_layout *const *dst_elems, size_t k, unsigned flags,
                                       sj_kernel **out, sj_error *err);
/* Scatter: a dense array of src_elem into the value at dst_path (one free index). */
SJ_API sj_status sj_kernel_scatter(const sj_layout *src_elem, const sj_path *dst_path,
                                   unsigned flags, sj_kernel **out, sj_error *err);
/* Fill: `count` elements of the value layout `elem` set to v, from dst_offset. v is read
 * through the member of elem's kind, as sj_set reads it (v.f32 for an f4 layout). */
SJ_API sj_status sj_kernel_fill(const sj_layout *elem, sj_value v, sj_kernel **out, sj_error *err);
/* Reduction over the numeric value at path (one free index), indices 0..count-1. Over
 * count 0 the identities: SUM 0, MIN the kind's largest value (+inf for floats), MAX its
 * smallest (-inf). A path
 * over a count known only at the call is built on an open root: the layout made by
 * sj_layout_sequence(INT64_MAX / size, rec) and the path "[*]..." (SEMANTICS 4.5). */
SJ_API sj_status sj_kernel_reduce(const sj_path *path, sj_reduce_op op, sj_kernel **out,
                                  sj_error *err);
/* Mismatch: first differing byte of src[src_offset, +count) and dst[dst_offset, +count). */
SJ_API sj_status sj_kernel_mismatch(sj_kernel **out, sj_error *err);

SJ_API void sj_kernel_free(sj_kernel *k);
SJ_API void sj_kernel_set_tier(sj_kernel *k, sj_tier tier);
SJ_API sj_tier sj_kernel_tier(const sj_kernel *k);
/* The tier that ran the last call of this kernel (INTERP or JIT). */
SJ_API sj_tier sj_kernel_last_tier(const sj_kernel *k);

/* Runs the kernel. result may be NULL for operations that have none. */
SJ_API sj_status sj_kernel_run(const sj_kernel *k, const sj_args *args, sj_result *result,
                               sj_error *err);

/* The arguments of one run of a multi-destination kernel (sj_kernel_gather_many):
 * destination #i is dsts[i] at dst_offsets[i], for i < ndst; ndst must equal the kernel's k. */
typedef struct sj_args_many {
    const sj_segment *src;
    int64_t src_offset;
    const sj_segment *const *dsts;
    const int64_t *dst_offsets;
    size_t ndst;
    int64_t count; /* elements (path indices) */
} sj_args_many;

/* Runs a multi-destination kernel. Checks, first failure reported (SEMANTICS 4.2 with
 * one source and ndst destinations): count < 0, count > the paths' bound, source
 * alignment, each destination's alignment (in index order), source bounds, each
 * destination read-only, each destination's bounds, destinations overlapping one another
 * (SJ_E_ARG "destinations #i and #j overlap"), then lifetime and thread of the source
 * and of each destination. A destination overlapping the source behaves as if the source
 * were read in full before any byte is written. */
SJ_API sj_status sj_kernel_run_many(const sj_kernel *k, const sj_args_many *args, sj_error *err);

/* The kernel's plan in readable form (malloc'd; caller frees). */
SJ_API sj_status sj_kernel_describe(const sj_kernel *k, char **out, sj_error *err);

/* Convenience one-shot forms (MemorySegment.copy, fill, mismatch). They keep their
 * kernels: sj_copy those of its 64 most recently used layout pairs (found again by
 * sj_layout_equal; it holds a reference to each kept layout), so that repeated calls build
 * no plan and compile at most once; sj_fill_bytes one per byte value. */
SJ_API sj_status sj_copy(const sj_segment *src, const sj_layout *src_elem, int64_t src_offset,
                         const sj_segment *dst, const sj_layout *dst_elem, int64_t dst_offset,
                         int64_t count, sj_error *err);
SJ_API sj_status sj_copy_bytes(const sj_segment *src, int64_t src_offset, const sj_segment *dst,
                               int64_t dst_offset, int64_t bytes, sj_error *err);
SJ_API sj_status sj_fill_bytes(const sj_segment *dst, int64_t offset, int64_t bytes, uint8_t byte,
                               sj_error *err);
/* JDK MemorySegment.mismatch: relative offset of the first difference of the two ranges,
 * the shorter length when one is a prefix of the other, -1 when equal. When either range
 * is empty nothing is read, and the answer (0, or -1 for two) comes after the range checks
 * only, with no lifetime or thread check, as the JDK's. */
SJ_API sj_status sj_mismatch(const sj_segment *a, int64_t a_from, int64_t a_to, const sj_segment *b,
                             int64_t b_from, int64_t b_to, int64_t *out, sj_error *err);

/* ---- statistics ---- */

/* Why the JIT tier did not compile a kernel (sj_kernel_info, sj_counters). */
typedef enum sj_decline {
    SJ_DECLINE_NONE,        /* not declined */
    SJ_DECLINE_UNAVAILABLE, /* no JIT in this process: built without it, libsegjit-jit.so or
                               libLLVM not loadable or of another version, LLVM did not start */
    SJ_DECLINE_PLAN,        /* the JIT does not take this plan (a shape or size it refuses) */
    SJ_DECLINE_LLVM,        /* LLVM failed on the plan: optimization, code generation, linking,
                               or invalid IR (a segjit bug) */
    SJ_DECLINE_NOMEM,       /* out of memory */
    SJ_DECLINE_COUNT
} sj_decline;

/* "none", "unavailable", "plan", "llvm", "nomem"; "?" for anything else. */
SJ_API const char *sj_decline_name(sj_decline reason);

/* One kernel's statistics (sj_kernel_stats). */
typedef struct sj_kernel_info {
    sj_tier tier;      /* as set with sj_kernel_set_tier (DEFAULT when never set) */
    sj_tier last_tier; /* of the last run: INTERP or JIT; DEFAULT before the first */
    /* Runs on each tier, the loops for overlapping calls (below) included. */
    uint64_t runs_interp, runs_jit;
    /* Runs of a kernel of tier JIT or AUTO that took the interpreter because a segment was
     * a heap segment, or because the source overlapped the destination while compiled
     * code was ready (both counted in runs_interp too). */
    uint64_t fallbacks_heap, fallbacks_overlap;
    bool compiled;         /* holds compiled code */
    bool cache_hit;        /* that code was already in the process's code cache */
    uint64_t ns_jit;       /* time its code took to come (compile or cache hit) */
    uint64_t ns_compile;   /* time that code took to compile (when it was compiled) */
    uint64_t code_bytes;   /* object size of that code (its image's, when persisted_hit) */
    sj_decline decline;    /* why the JIT declined it; NONE when not declined (or not asked) */
    char decline_why[160]; /* the JIT's message for the decline */
    bool persisted_hit;    /* that code came from the persistent cache (a file, or an image
                              another kernel of this process loaded), not from the JIT */
    uint64_t retry_at_ns;  /* after a nomem decline: CLOCK_MONOTONIC ns of the retry; else 0 */
    /* Overlapping calls (README, overlap) run loops of their own, compiled on first need
     * (in place, forward, backward; each decides AUTO on the work of the calls it runs):
     * how many of them hold code, how many the JIT declined, and their code's size. The
     * fields above are the kernel's own loop. */
    uint32_t variants_compiled, variants_declined;
    uint64_t variants_code_bytes;
    /* AUTO: the kernel is queued for, or in, a background compile (README, tiers); its
     * calls run on the interpreter until the code is ready. */
    bool compile_pending;
} sj_kernel_info;

/* Fills *out with k's statistics; SJ_E_ARG when k or out is NULL. */
SJ_API sj_status sj_kernel_stats(const sj_kernel *k, sj_kernel_info *out, sj_error *err);

/* ---- counters (process-wide) ---- */
typedef struct sj_counters {
    uint64_t plans_built;
    uint64_t kernels_compiled;
    uint64_t cache_hits;
    uint64_t cache_misses;
    uint64_t declines;
    uint64_t runs_interp;
    uint64_t runs_jit;
    uint64_t ns_plan;    /* time building plans */
    uint64_t ns_ir;      /* time building IR */
    uint64_t ns_opt;     /* time optimizing */
    uint64_t ns_codegen; /* time emitting machine code and linking */
    uint64_t ns_jit_init;
    char last_decline[160];                     /* message of the most recent decline */
    uint64_t declines_by[SJ_DECLINE_COUNT];     /* declines per reason (index sj_decline) */
    uint64_t fallbacks_heap, fallbacks_overlap; /* as in sj_kernel_info, every kernel */
    uint64_t oneshot_hits, oneshot_misses;      /* one-shot calls (sj_copy) finding their
                                                   kernel kept, or building it */
    /* The compiled code cache: entries released to stay within the limit (counted), and
     * now: entries, their bytes (as sj_jit_set_cache_limit counts them), the part no
     * kernel holds, the limit on that part. */
    uint64_t cache_evictions;
    uint64_t cache_entries, cache_bytes, cache_bytes_unreferenced, cache_limit;
    /* compiles of code evicted before (among the last 4096 evictions): the limit's misses */
    uint64_t cache_recompiles;
    /* Calls whose source and destination share bytes (memmove semantics, SEMANTICS 4.2):
     * run in place (each element its own source, nothing copied), or from a copy of the
     * whole source range when no order of elements is safe (a block copy needs neither:
     * it is a memmove); overlap_chunked and overlap_direct below count the others. */
    uint64_t overlap_in_place, overlap_copies;
    /* The persistent cache (compiled kernels kept in files, docs/JIT.md): kernels served
     * from it without the JIT, lookups that found no file, images written, files or
     * directories refused by its trust rules or checks (and removed), compiled code the
     * JIT could not make an image of, and the time spent loading the files that hit. */
    uint64_t pcache_hits, pcache_misses, pcache_stores, pcache_rejects, pcache_skips;
    uint64_t ns_pcache_load;
    /* Overlapping calls run a chunk of elements at a time through a bounded buffer, in the
     * direction that reads each source element before it is overwritten (either tier). */
    uint64_t overlap_chunked;
    /* ... or straight, in that order, with no buffer (one value moved per element). */
    uint64_t overlap_direct;
} sj_counters;
SJ_API void sj_counters_get(sj_counters *out);
SJ_API void sj_counters_reset(void);
SJ_API sj_status sj_counters_print(char **out, sj_error *err);

/* Whether the JIT tier could be loaded in this process (loads it if needed), and why
 * not when it could not. */
SJ_API bool sj_jit_available(const char **why);

/* Bound on the compiled code that the process keeps after the last kernel holding it was
 * freed (least recently used code is released first); code a live kernel holds is never
 * released. Each kernel's code counts as its object size plus 4 KiB (what an entry costs
 * resident beyond its object). 0 releases code with its last kernel. Default 16 MiB, or
 * the environment variable SEGJIT_JIT_CACHE_BYTES (bytes, with an optional K, M or G
 * suffix) read once; this call overrides both. Takes effect at once; never loads the JIT. */
SJ_API void sj_jit_set_cache_limit(uint64_t bytes);
/* The bound now in effect. */
SJ_API uint64_t sj_jit_cache_limit(void);

#ifdef __cplusplus
}
#endif
#endif
