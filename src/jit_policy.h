/* src/jit_policy.h: the tier and compile policy in one place: when a kernel of tier AUTO
 * is compiled, how much unreferenced compiled code the cache keeps, and which pass
 * pipelines the engine runs. Read by src/kernel.c and jit/engine.c; plain C, no LLVM.
 * The measurements behind every number here are in docs/JIT.md. */
#ifndef SEGJIT_JIT_POLICY_H
#define SEGJIT_JIT_POLICY_H

#include <stdint.h>

/* Elements a kernel of tier AUTO runs on the interpreter (summed over its calls) before
 * it is compiled: a record conversion's break-even (docs/JIT.md, "Auto tier"). An element
 * weighs 1 + (moves it runs) / SJ_AUTO_MOVES_PER_UNIT: a 1000-field record is compiled
 * after ~25,000 records, near its own break-even. */
#ifndef SJ_AUTO_THRESHOLD
#define SJ_AUTO_THRESHOLD (UINT64_C(1) << 22)
#endif
#define SJ_AUTO_MOVES_PER_UNIT 8u

/* Bytes of compiled code the cache keeps after the last kernel holding it is freed
 * (docs/JIT.md, "Code cache"); sj_jit_set_cache_limit and the environment variable
 * SEGJIT_JIT_CACHE_BYTES override it. An entry counts as its object's size plus
 * SJ_JIT_ENTRY_OVERHEAD, the resident memory measured per entry beyond the object. */
#define SJ_JIT_CACHE_BYTES_DEFAULT (UINT64_C(16) << 20)
#define SJ_JIT_ENTRY_OVERHEAD      UINT64_C(4096)

/* The optimization pipelines (docs/JIT.md, "Pass pipeline"): what the vectorizer needs and
 * the cleanup after it. Interleaving only for reductions over contiguous values; loops that
 * are not vectorized run no loop passes at all. SEGJIT_JIT_PASSES overrides all three. */
#define SJ_PASSES(vectorize)                                                                       \
    "function(instcombine<no-verify-fixpoint>,simplifycfg,loop-simplify,lcssa,indvars," vectorize  \
    ",instcombine<no-verify-fixpoint>,simplifycfg)"
#define SJ_PASSES_INTERLEAVE SJ_PASSES("loop-vectorize")
#define SJ_PASSES_VECTORIZE  SJ_PASSES("loop-vectorize<interleave-forced-only>")
#define SJ_PASSES_SCALAR     "function(instcombine<no-verify-fixpoint>,simplifycfg)"
/* Plans too large for the loop vectorizer (17-128 moves, wide records): the SLP vectorizer
 * turns one element's moves into vector loads, shuffles and stores (docs/JIT.md, W9). */
#define SJ_PASSES_SLP "function(slp-vectorizer,instcombine<no-verify-fixpoint>,simplifycfg)"

#endif
