/* src/jit_api.h: the seam between the core library and the JIT shared object
 * (libsegjit-jit.so, built from jit/). The core dlopens the object on first need and
 * calls sj_jit_provider_init; everything crosses this seam as plans, function pointers
 * and plain C. No LLVM type appears here. */
#ifndef SEGJIT_JIT_API_H
#define SEGJIT_JIT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

#define SJ_JIT_API_VERSION 4

typedef struct sj_jit_code sj_jit_code; /* a compiled kernel, owned by the JIT */

typedef struct sj_jit_stats {
    uint64_t compiled, cache_hits, cache_misses, declines;
    uint64_t ns_init, ns_ir, ns_opt, ns_codegen;
    uint64_t evictions;  /* unreferenced entries released to stay within the limit */
    uint64_t recompiles; /* misses on a key evicted recently (among the last 4096 evictions) */
    /* The cache now: entries (compiled or being compiled), the bytes of the compiled
     * ones (object + a fixed overhead each, jit_policy.h), the part of those no kernel
     * holds, and the bound on that part. */
    uint64_t entries, bytes, bytes_unreferenced, limit;
} sj_jit_stats;

/* What one compile call did. */
typedef struct sj_jit_report {
    bool cache_hit;      /* the code was in the cache (or another thread compiled it meanwhile) */
    uint64_t code_bytes; /* object size of the code */
    uint64_t ns_compile; /* IR, passes, code generation and link of that code, when compiled */
} sj_jit_report;

typedef struct sj_jit_provider {
    int api_version;
    /* Compile (or find in the cache) the plan. On success returns 0, *fn is callable and
     * *code is a handle to release; on decline returns an sj_decline (non-zero) and
     * writes a reason into why. */
    int (*compile)(const sj_plan *plan, sj_loop_fn *fn, sj_jit_code **code, char *why,
                   size_t why_len);
    /* Drops one reference. Code no kernel holds stays cached, least recently used
     * released first once the unreferenced code exceeds the limit. */
    void (*release)(sj_jit_code *code);
    void (*stats)(sj_jit_stats *out);
    /* Name of the host CPU and LLVM version, e.g. "znver3, LLVM 19.1.7". */
    const char *(*describe)(void);
    /* compile, also filling *report (may be NULL). */
    int (*compile_report)(const sj_plan *plan, sj_loop_fn *fn, sj_jit_code **code,
                          sj_jit_report *report, char *why, size_t why_len);
    /* Bound on the object bytes of unreferenced code; releases code at once to meet it
     * (0: code goes with the last kernel holding it). */
    void (*set_cache_limit)(uint64_t bytes);
    /* The persistable image of code (src/kimage.h: relocated, position-independent),
     * valid while the caller holds code: true with *bytes and *len, or false with the
     * reason it is not persisted in *why (docs/JIT.md, "Persistent cache"). */
    bool (*image)(const sj_jit_code *code, const uint8_t **bytes, size_t *len, const char **why);
    /* compile_report without compiling: returns 0 (as compile does) when the plan's code
     * is ready in the cache, non-zero otherwise. */
    int (*find)(const sj_plan *plan, sj_loop_fn *fn, sj_jit_code **code, sj_jit_report *report);
    /* The JIT build's identity (SEGJIT_BUILD_ID) and the LLVM version it was built with
     * (SEGJIT_LLVM_VERSION): the core persists code only from the JIT it was built with. */
    const char *build_id;
    const char *llvm_version;
    /* exit() destroys none of the JIT's static objects (LLVM's), so a compile may still run
     * while the process exits: the core compiles in the background only then. */
    bool exit_safe;
    /* fork: the core registers one pthread_atfork handler, which calls these in its
     * (after waiting for its own compile thread to leave the JIT). */
    void (*fork_prepare)(void);
    void (*fork_parent)(void);
    void (*fork_child)(void);
} sj_jit_provider;

/* Exported by libsegjit-jit.so as data, read before anything in it runs: the core loads
 * only an object built from its own sources (build id: version and source hash) with the
 * same structures across this seam. */
typedef struct sj_jit_identity {
    char build_id[96];
    uint32_t api_version;
    uint32_t sizeof_plan, sizeof_side, sizeof_move, sizeof_provider, sizeof_report, sizeof_stats;
} sj_jit_identity;
#define SJ_JIT_IDENTITY_SYMBOL "sj_jit_build_identity"
#define SJ_JIT_IDENTITY_INIT(id)                                                                   \
    {                                                                                              \
        id, SJ_JIT_API_VERSION, sizeof(sj_plan), sizeof(sj_side), sizeof(sj_move),                 \
            sizeof(sj_jit_provider), sizeof(sj_jit_report), sizeof(sj_jit_stats)                   \
    }

/* Exported by libsegjit-jit.so. Returns NULL and writes why if LLVM cannot start. */
typedef const sj_jit_provider *(*sj_jit_provider_init_fn)(char *why, size_t why_len);
#define SJ_JIT_PROVIDER_INIT_SYMBOL "sj_jit_provider_init"

#endif
