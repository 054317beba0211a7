/* jit/emit.h: the interface between engine.c and emit.c: which plans the JIT takes,
 * the plan's cache key, and plan -> LLVM IR. Nothing about the engine, the cache's
 * storage or threads here. */
#ifndef SEGJIT_JIT_EMIT_H
#define SEGJIT_JIT_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <llvm-c/Core.h>

#include "plan.h"

/* The host the function is built for (written into its attributes). */
typedef struct sj_emit_target {
    const char *cpu;
    const char *features;
    bool big_endian;
} sj_emit_target;

/* Writes the message into why (when not NULL); returns reason (an sj_decline): every
 * reason the JIT gives, from emit.c and engine.c. */
int sj_jit_fail(char *why, size_t len, int reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* 0 when the JIT can compile the plan; otherwise non-zero with the reason in why.
 * Cheap: runs before any LLVM work. */
int sj_emit_check(const sj_plan *p, char *why, size_t why_len);

/* "move", "reduce" or "mismatch": for symbol and dump file names. */
const char *sj_emit_op_name(const sj_plan *p);

/* Whether vectorizing a MOVE plan's loop pays (the engine then runs the vectorizer). */
bool sj_emit_move_vectorizes(const sj_plan *p);

/* Whether a plan too large for the loop vectorizer gets the SLP vectorizer instead. */
bool sj_emit_slp(const sj_plan *p);

/* Whether a MOVE plan is wide: its moves are emitted in chunk functions of a bounded
 * size, called per element, so that compile time grows linearly with the moves. */
bool sj_emit_chunked(const sj_plan *p);

/* Whether code generation takes the fast path (no vectorizer ran, and the plan is large
 * enough that the full instruction selector's time would dominate: docs/JIT.md). */
bool sj_emit_fast_codegen(const sj_plan *p);

/* Whether the loop reads and writes whole elements back to back (dense sums, array
 * copies and swaps, mismatch): 512-bit vectors, and for sums an interleaved vector loop. */
bool sj_emit_dense(const sj_plan *p);

/* Adds to mod the function `name` with the signature of sj_loop_fn:
 * i64 (ptr noalias src, ptr noalias dst, i64 count, ptr noalias aux).
 * 0 on success; non-zero with why filled otherwise. */
int sj_emit_plan(const sj_plan *p, LLVMModuleRef mod, const char *name, const sj_emit_target *t,
                 char *why, size_t why_len);

#endif
