/* src/plan.h: the plan, the one backend-neutral description of a kernel's loop, read
 * by the interpreter (interp.c) and the JIT (jit/). Neither executor re-derives layout
 * facts: everything they need is here. Plans are values: they hash and compare, and
 * (op, sides, moves, reduction) is the JIT cache key. No LLVM here. */
#ifndef SEGJIT_PLAN_H
#define SEGJIT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segjit/kernel.h"

typedef enum sj_plan_op {
    /* For i in [0, count): for each move m: dst[i*dst.stride + m.dst_off ...] <-
     * f(src[i*src.stride + m.src_off ...]). Copy, convert, gather, scatter and fill
     * (fill: the source is the value's bytes, src.stride 0). With ndst > 0 (gather_many)
     * each move writes its own destination stream: dsts[m.dst_stream] replaces dst. */
    SJ_PLAN_MOVE,
    /* acc <- op(acc, load(src[i*src.stride + red.off])) for i in [0, count). */
    SJ_PLAN_REDUCE,
    /* First i in [0, count) with src[i] != dst[i] (bytes), or -1. */
    SJ_PLAN_MISMATCH
} sj_plan_op;

typedef enum sj_move_kind {
    SJ_MOVE_COPY,    /* len bytes copied as they are */
    SJ_MOVE_SWAP,    /* len/width units of `width` bytes (2, 4, 8), each byte-reversed */
    SJ_MOVE_CONVERT, /* one value: load src_kind (swapped if src_swap), convert with C
                        semantics (below), store dst_kind (swapped if dst_swap) */
    SJ_MOVE_ZERO,    /* len bytes of zeros stored (destination padding, unmatched) */
    /* An inner loop (a sequence inside a record): for k in [0, len), the `body` moves that
     * follow run on the element at (src_off + k*src_stride, dst_off + k*dst_stride), their
     * offsets relative to it. Bodies nest; `body` counts every move of the subtree. */
    SJ_MOVE_LOOP
} sj_move_kind;

/* Conversions (SJ_MOVE_CONVERT), identical in both tiers:
 * - integer -> integer: two's complement truncation or sign/zero extension per the
 *   source signedness (C conversion; narrowing keeps the low bits);
 * - integer -> float: C conversion (round to nearest even);
 * - float -> integer: truncation toward zero, saturating to the destination's range,
 *   NaN -> 0 (C leaves out-of-range undefined; we define it as Java does);
 * - float -> float: C conversion (round to nearest even);
 * - anything -> bool: value != 0 gives 1, else 0; bool -> anything: 0 or 1. */
typedef struct sj_move {
    uint8_t kind;     /* sj_move_kind */
    uint8_t width;    /* SWAP: unit size */
    uint8_t src_kind; /* CONVERT: sj_kind */
    uint8_t dst_kind; /* CONVERT: sj_kind */
    uint8_t src_swap; /* CONVERT */
    uint8_t dst_swap; /* CONVERT */
    /* the destination stream written (plans with ndst > 0), else 0 */
    uint8_t dst_stream;
    uint8_t pad_;
    uint32_t len;                    /* COPY, SWAP, ZERO: bytes; LOOP: iterations */
    uint32_t src_off;                /* within a source element */
    uint32_t dst_off;                /* within a destination element */
    uint32_t src_stride, dst_stride; /* LOOP: bytes between iterations */
    uint32_t body;                   /* LOOP: moves in the body (nested bodies included) */
} sj_move;

/* Loop m's body length, cut at the left - 1 moves that follow it (readers of a plan not
 * yet validated never walk past its end). */
static inline size_t sj_move_body(const sj_move *m, size_t left) {
    return m->body < left - 1 ? m->body : left - 1;
}

/* One side (source or destination) of a call: what the call must pass and what the
 * loop may assume once it has. */
typedef struct sj_side {
    bool used;
    bool writes;
    int64_t stride;                /* bytes between consecutive elements (may be 0 or < 0) */
    int64_t origin;                /* offset of element 0 from the call's offset (path base) */
    uint64_t extent_fixed;         /* bytes that must fit at the call's offset, any count */
    uint64_t extent_per;           /* plus this many per element (count * extent_per) */
    int64_t bound;                 /* count must be <= bound; -1: no bound */
    uint64_t align;                /* required alignment of the call's offset (rule 3.3) */
    uint64_t elem_align;           /* alignment every element base then has: gcd(align, |stride|) */
    const sj_layout *check_layout; /* for messages: the layout checked at the offset */
} sj_side;

typedef struct sj_reduce {
    uint8_t op;   /* sj_reduce_op */
    uint8_t kind; /* sj_kind of the value loaded */
    uint8_t swap; /* value stored in non-native order */
    uint32_t off; /* within an element */
} sj_reduce;

/* Floating-point reductions, identical bits in both tiers: 8 lanes of double
 * accumulators, element i added to lane i % 8 in increasing i, each f32 first converted
 * to double; lanes combined as ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)). Integer SUM wraps
 * modulo 2^64 in an i64 (signed source) or u64 accumulator. MIN/MAX: NaN if any value is
 * NaN, -0.0 below +0.0. A float result that is a NaN is always the default NaN
 * 0x7ff8000000000000 (which NaN an addition yields differs between compilers); empty ranges give
 * the identity (SUM 0, MIN +inf or the type's maximum, MAX -inf or the type's minimum). */
#define SJ_REDUCE_LANES 8

/* Destination streams a plan may write (gather_many); kernel.h's SJ_GATHER_MANY_MAX. */
#define SJ_MAX_STREAMS 8

typedef struct sj_plan {
    sj_plan_op op;
    sj_side src, dst; /* dst unused when ndst > 0 */
    uint8_t ndst;     /* > 0: a multi-destination MOVE plan writing dsts[0..ndst) */
    sj_side dsts[SJ_MAX_STREAMS];
    sj_reduce red;
    size_t nmoves;
    sj_move *moves;
    bool block_copy;  /* every move merged into one COPY of the whole element */
    bool in_place;    /* compiled to read each element where it writes it (src is dst) */
    int8_t direct;    /* +1, -1: compiled for ranges that may overlap, run in this order (-1: the
                         strides negated, element 0 the last); 0: never overlapping */
    const char *what; /* "copy", "convert", "gather", ... (for messages, not the key) */
    sj_layout *layouts[2]; /* references kept for messages (not the key) */
    uint64_t fill_bits[2]; /* fill: the value's bytes in destination order (the source) */
} sj_plan;

/* The bytes of an element a move reads (nothing for ZERO) or writes: [lo, lo + len). */
typedef struct sj_span {
    uint64_t lo, len;
} sj_span;
sj_span sj_move_read_span(const sj_move *m);
sj_span sj_move_write_span(const sj_move *m);

/* Whether the MOVE plan may run on memory where each destination element is its source
 * element (same base, same stride) without a copy of the source: within an element every
 * move reads what no earlier move wrote, and reads and writes either the same bytes (a
 * swap or conversion of equal width) or separate ones. */
bool sj_plan_in_place(const sj_plan *p);

/* Variants of a MOVE plan for overlapping calls (NULL without memory): IN_PLACE has
 * in_place set (the JIT compiles it with one pointer for source and destination); FORWARD
 * and BACKWARD have direct set (compiled with no no-alias promise), BACKWARD with both
 * strides negated so that its element 0 is the call's last. */
typedef enum sj_plan_variant_kind {
    SJ_VARIANT_IN_PLACE,
    SJ_VARIANT_FORWARD,
    SJ_VARIANT_BACKWARD,
    SJ_VARIANT_COUNT
} sj_plan_variant_kind;
sj_plan *sj_plan_variant(const sj_plan *p, sj_plan_variant_kind kind);

/* The bytes [*lo, *hi) an element of a MOVE plan reads from its source element (or writes,
 * dst: in destination `stream`, 0 without streams), relative to the element's address;
 * false when it touches none. */
bool sj_plan_footprint(const sj_plan *p, bool dst, size_t stream, uint64_t *lo, uint64_t *hi);

/* Moves an inner loop's body is unrolled into at most (count * body moves); longer
 * sequences stay loops, so a plan's size follows the layout's text, not its counts. */
#define SJ_PLAN_UNROLL_MAX 2u

/* The plan's identity (plan_key.c, also built into the JIT object): canonical bytes of
 * everything that determines the loop (op, strides, alignments the loop may assume,
 * destination streams, moves and loops, reduction), and nothing kept only for messages or
 * checks. Equal keys run identically; the JIT cache compares keys in full. Writes at most
 * cap bytes and returns the full length. */
size_t sj_plan_key(const sj_plan *p, uint8_t *buf, size_t cap);
sj_status sj_plan_print(const sj_plan *p, char **out, sj_error *err);
void sj_plan_free(sj_plan *p);

/* ---- Plan builders (plan.c) ----
 * Each builds a new plan into *out (free with sj_plan_free) and reports every layout
 * error here, so that a kernel's runs only check the call. SEMANTICS 4.2-4.4. */
sj_status sj_plan_copy(const sj_layout *src_elem, const sj_layout *dst_elem, sj_plan **out,
                       sj_error *err);
sj_status sj_plan_convert(const sj_layout *src_rec, const sj_layout *dst_rec, unsigned flags,
                          sj_plan **out, sj_error *err);
sj_status sj_plan_gather(const sj_path *src_path, const sj_layout *dst_elem, unsigned flags,
                         sj_plan **out, sj_error *err);
/* k paths (same root, one free index of equal bound and stride) into k dense arrays. */
sj_status sj_plan_gather_many(const sj_path *const *src_paths, const sj_layout *const *dst_elems,
                              size_t k, unsigned flags, sj_plan **out, sj_error *err);
sj_status sj_plan_scatter(const sj_layout *src_elem, const sj_path *dst_path, unsigned flags,
                          sj_plan **out, sj_error *err);
sj_status sj_plan_fill(const sj_layout *elem, sj_value v, sj_plan **out, sj_error *err);
sj_status sj_plan_reduce(const sj_path *path, sj_reduce_op op, sj_plan **out, sj_error *err);
sj_status sj_plan_mismatch(sj_plan **out, sj_error *err);

/* The executor sj_kernel_run would use, with no checks at all: src and dst are the
 * segments' data + call offset (origins are added here). For a multi-destination plan,
 * dst is (uint8_t *) of an array of ndst `uint8_t *`, each destination's data + offset.
 * For the bench's "checks off" row only, never for users: it exists to show that the
 * checks cost nothing. */
sj_status sj_kernel_run_unchecked(const sj_kernel *k, const uint8_t *src, uint8_t *dst,
                                  int64_t count, sj_result *result);

/* The compiled or interpreted entry point. src and dst point at element 0 of each side
 * (call offset + origin already applied), count elements. For a multi-destination plan
 * (ndst > 0), dst points at an array of ndst `uint8_t *`, element 0 of each stream
 * (`(uint8_t *)(uint8_t *[ndst]){...}`); the streams never overlap one another nor the
 * source (kernel.c refuses the first and runs the second from a copy of the source).
 * aux: REDUCE the accumulator result (int64_t, uint64_t or double per sj_result rules).
 * Returns the mismatch index (or -1) for MISMATCH, 0 otherwise. */
typedef int64_t (*sj_loop_fn)(const uint8_t *src, uint8_t *dst, int64_t count, void *aux);

#endif
