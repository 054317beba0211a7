/* src/jit_api.h: the seam between the core library and the JIT shared object
 * (libsegjit-jit.so, built from jit/). The core dlopens the object on first need and
 * calls sj_jit_provider_init; everything crosses this seam as plans, function pointers
 * and plain C. No LLVM type appears here. */
#ifndef SEGJIT_JIT_API_H
#define SEGJIT_JIT_API_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"

#define SJ_JIT_API_VERSION 1

typedef struct sj_jit_code sj_jit_code; /* a compiled kernel, owned by the JIT */

typedef struct sj_jit_stats {
    uint64_t compiled, cache_hits, cache_misses, declines;
    uint64_t ns_init, ns_ir, ns_opt, ns_codegen;
} sj_jit_stats;

typedef struct sj_jit_provider {
    int api_version;
    /* Compile (or find in the cache) the plan. On success *fn is callable and *code is a
     * handle to release; on decline returns non-zero and writes a reason into why. */
    int (*compile)(const sj_plan *plan, sj_loop_fn *fn, sj_jit_code **code, char *why,
                   size_t why_len);
    /* Drops one reference; the machine code is released when none remain. */
    void (*release)(sj_jit_code *code);
    void (*stats)(sj_jit_stats *out);
    /* Name of the host CPU and LLVM version, e.g. "znver3, LLVM 19.1.7". */
    const char *(*describe)(void);
} sj_jit_provider;

/* Exported by libsegjit-jit.so. Returns NULL and writes why if LLVM cannot start. */
typedef const sj_jit_provider *(*sj_jit_provider_init_fn)(char *why, size_t why_len);
#define SJ_JIT_PROVIDER_INIT_SYMBOL "sj_jit_provider_init"

#endif
