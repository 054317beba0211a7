/* jit/emit.c: plan -> LLVM IR, and the plan's cache key. One function per plan with the
 * signature of sj_loop_fn, reproducing plan.h's semantics bit for bit: moves and their
 * conversions, the 8-lane float sum, min/max, mismatch. No engine, cache or passes here.
 *
 *   plan ─sj_emit_check─▶ accepted? ─sj_emit_plan─▶ IR ─engine.c: passes, LLJIT─▶ code
 *                                    └sj_plan_key─▶ cache key (engine.c, plan_key.c)
 */
#include "emit.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "emit_helpers.h"

/* Plans weighing more (an inner loop weighs its header and 2 more) run on the interpreter:
 * the compile would take seconds (docs/JIT.md, "Wide records"). */
#define SJ_EMIT_MAX_MOVES   65536u
#define SJ_EMIT_LOOP_WEIGHT 2u
/* Wide plans: every run of moves weighing more is split into functions of at most this
 * weight, called once per element, so code generation's time stays linear in the moves
 * (docs/JIT.md, "Wide records"). */
#define SJ_EMIT_CHUNK_MOVES 64u
#define SJ_EMIT_MAX_ALIGN   4096u /* larger proofs add nothing to code generation */
/* Wide plans: inner loops unrolled up to this weight (more: an inner loop); a vector
 * weighs its lanes up to this many. */
#define SJ_EMIT_MAX_UNROLL 16u
/* Swaps of several units: vectors of at most this many bytes; two or more in a loop in wide
 * plans, more than SJ_EMIT_SWAP_UNROLL elsewhere (at most 128 moves: bounded); outside
 * wide plans, swaps of dense elements shorter than SJ_EMIT_SWAP_VECTOR_MIN bytes stay
 * scalar for the loop vectorizer. */
#define SJ_EMIT_SWAP_BLOCK      64u
#define SJ_EMIT_SWAP_UNROLL     4u
#define SJ_EMIT_SWAP_VECTOR_MIN 16u
/* Conversion loops longer than SJ_EMIT_MAX_UNROLL: vectors of this many values. */
#define SJ_EMIT_CONVERT_BLOCK 16u
/* Wide plans: at most this many conversions continuing each other become one vector. */
#define SJ_EMIT_MAX_LANES 64u
/* Plans with more moves take the scalar pipeline: the vectorizer's time grows with the
 * moves it weighs (docs/JIT.md, W9: 64 moves 24 ms vectorized). */
#define SJ_EMIT_VECTOR_MAX_MOVES 16u
/* ... and plans with more inner loops: each is vectorized on its own, ~2-3 ms apiece
 * (8 loops of one conversion: 23 ms against 2 ms on the scalar pipeline). */
#define SJ_EMIT_VECTOR_MAX_LOOPS 2u
/* Up to this many moves, plans past the loop vectorizer's bound get the SLP vectorizer
 * (64 moves: ~3 ms of passes, loop at C's speed; its time grows faster beyond). */
#define SJ_EMIT_SLP_MAX_MOVES 128u

/* ---- Value kinds (kept here: the JIT object does not link the core library) ---- */

static const uint8_t kind_size_tab[SJ_KIND_COUNT] = {
    [SJ_BOOL] = 1, [SJ_I8] = 1,  [SJ_U8] = 1,  [SJ_CHAR] = 2, [SJ_I16] = 2,
    [SJ_U16] = 2,  [SJ_I32] = 4, [SJ_U32] = 4, [SJ_F32] = 4,  [SJ_I64] = 8,
    [SJ_U64] = 8,  [SJ_F64] = 8, [SJ_ADDR] = 8};

static unsigned ksize(unsigned k) {
    return kind_size_tab[k];
}

static bool kfloat(unsigned k) {
    return k == SJ_F32 || k == SJ_F64;
}
static bool ksigned(unsigned k) {
    return k == SJ_I8 || k == SJ_I16 || k == SJ_I32 || k == SJ_I64;
}

int sj_jit_fail(char *why, size_t len, int reason, const char *fmt, ...) {
    if (why && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return reason;
}

/* ---- Alignment the plan proved ---- */

/* Alignment of every element base of a side: the plan's elem_align as a power of two
 * (1 when unknown). */
static unsigned base_align(uint64_t elem_align) {
    if (elem_align == 0) return 1;
    uint64_t a = elem_align & (~elem_align + 1);
    return a > SJ_EMIT_MAX_ALIGN ? SJ_EMIT_MAX_ALIGN : (unsigned)a;
}

/* Alignment of (element base + off): min(base, lowest set bit of off). */
static unsigned align_at(unsigned base, uint64_t off) {
    if (off) {
        uint64_t o = off & (~off + 1);
        if (o < base) return (unsigned)o;
    }
    return base;
}

/* The source stride a MOVE loop steps by: an unused source (fill: the kernel passes the
 * value's bytes) is read at element 0 for every element, as the interpreter does. */
static int64_t move_src_stride(const sj_plan *p) {
    return p->src.used ? p->src.stride : 0;
}

static uint64_t abs_stride(int64_t s) {
    return s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
}

static bool pow2_upto16(uint32_t n) {
    return n && n <= 16 && (n & (n - 1)) == 0;
}

/* ---- Which plans the JIT takes ---- */

static size_t plan_loops(const sj_plan *p) {
    size_t n = 0;
    for (size_t i = 0; i < p->nmoves; i++)
        n += p->moves[i].kind == SJ_MOVE_LOOP;
    return n;
}

/* Whether a conversion compiles to a few instructions per vector: not float to integer
 * (saturating: a long legalization) and not to bool (a compare per value). */
static bool cheap_convert(unsigned from, unsigned to) {
    return to != SJ_BOOL && !(kfloat(from) && !kfloat(to));
}

/* Whether loop m converts more values than are written out, packed back to back on both
 * sides, cheaply: then in vectors (emit_convert_blocks). */
static bool long_convert_loop(const sj_move *m) {
    const sj_move *b = m + 1;
    return m->body == 1 && b->kind == SJ_MOVE_CONVERT && m->len > SJ_EMIT_MAX_UNROLL &&
           m->src_stride == ksize(b->src_kind) && m->dst_stride == ksize(b->dst_kind) &&
           cheap_convert(b->src_kind, b->dst_kind);
}

/* The weight of n units emitted as blocks of `per` in a wide plan (emit_swap_vectors,
 * emit_convert_blocks): a vector weighs its lanes, up to SJ_EMIT_MAX_UNROLL; a loop of
 * blocks, its body and 1 + SJ_EMIT_LOOP_WEIGHT. */
static size_t blocks_weight(uint32_t n, uint32_t per) {
    const uint32_t blocks = n / per, rest = n % per;
    const size_t lanes = per < SJ_EMIT_MAX_UNROLL ? per : SJ_EMIT_MAX_UNROLL;
    size_t w = blocks > 1 ? 1 + SJ_EMIT_LOOP_WEIGHT + lanes : blocks * lanes;
    return w + (rest < SJ_EMIT_MAX_UNROLL ? rest : SJ_EMIT_MAX_UNROLL);
}

/* Whether an inner loop of body weight bw is emitted unrolled (wide plans only). */
static bool loop_unrolls(const sj_move *m, size_t bw) {
    return m->len <= SJ_EMIT_MAX_UNROLL && bw * m->len <= SJ_EMIT_MAX_UNROLL;
}

/* The weight of moves[0..n) as a wide plan emits them, which bounds its code generation:
 * a move 1, a swap 1 per unit it emits, an inner loop SJ_EMIT_LOOP_WEIGHT plus its body
 * and 1, a short one unrolled its body as many times as it runs. */
static size_t moves_weight(const sj_move *moves, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        const sj_move *m = &moves[i];
        if (m->kind == SJ_MOVE_LOOP) { /* a body said to run past n is cut there */
            size_t body = sj_move_body(m, n - i);
            size_t bw = moves_weight(m + 1, body);
            if (body == 1 && long_convert_loop(m))
                w += blocks_weight(m->len, SJ_EMIT_CONVERT_BLOCK);
            else
                w += loop_unrolls(m, bw) ? bw * m->len : 1 + SJ_EMIT_LOOP_WEIGHT + bw;
            i += body;
        } else if (m->kind == SJ_MOVE_SWAP && m->width && m->len / m->width > 1) {
            w += blocks_weight(m->len / m->width, SJ_EMIT_SWAP_BLOCK / m->width);
        } else {
            w++;
        }
    }
    return w;
}

int sj_emit_check(const sj_plan *p, char *why, size_t why_len) {
    if (p->ndst && (p->op != SJ_PLAN_MOVE || p->ndst > SJ_MAX_STREAMS))
        return sj_jit_fail(why, why_len, SJ_DECLINE_PLAN,
                           "plan has %u destination streams (at most %d, moves only)", p->ndst,
                           SJ_MAX_STREAMS);
    switch (p->op) {
        case SJ_PLAN_MOVE:
            if (p->nmoves && !p->moves)
                return sj_jit_fail(why, why_len, SJ_DECLINE_PLAN,
                                   "plan has %zu moves but no move list", p->nmoves);
            if (moves_weight(p->moves, p->nmoves) > SJ_EMIT_MAX_MOVES)
                return sj_jit_fail(why, why_len, SJ_DECLINE_PLAN,
                                   "plan has %zu moves weighing %zu, %zu of them inner loops (the "
                                   "JIT takes at most %u: a move weighs 1 per unit it writes "
                                   "unrolled, a loop %u more than its body)",
                                   p->nmoves, moves_weight(p->moves, p->nmoves), plan_loops(p),
                                   SJ_EMIT_MAX_MOVES, SJ_EMIT_LOOP_WEIGHT + 1);
            for (size_t i = 0; i < p->nmoves; i++) {
                const sj_move *m = &p->moves[i];
                if (p->ndst ? m->dst_stream >= p->ndst : m->dst_stream != 0)
                    return sj_jit_fail(why, why_len, SJ_DECLINE_PLAN,
                                       "move %zu writes stream %u of %u", i, m->dst_stream,
                                       p->ndst);
                switch (m->kind) {
                    case SJ_MOVE_COPY:
                    case SJ_MOVE_ZERO:
                        break;
                    case SJ_MOVE_SWAP:
                        if ((m->width != 2 && m->width != 4 && m->width != 8) ||
                            m->len % m->width != 0)
                            return sj_jit_fail(why, why_len, SJ_DECLINE_PLAN,
                                               "move %zu swaps %u bytes in units of %u (units must "
                                               "be 2, 4 or 8 bytes and divide the length)",
                                               i, m->len, m->width);
                        break;
                    case SJ_MOVE_CONVERT:
                        if (m->src_kind >= SJ_KIND_COUNT || m->dst_kind >= SJ_KIND_COUNT)
                            return sj_jit_fail(why, why_len, SJ_DECLINE_PLAN,
                                               "move %zu converts between unknown kinds %u -> %u",
                                               i, m->src_kind, m->dst_kind);
                        break;
                    case SJ_MOVE_LOOP:
                        if (m->body == 0 || m->body > p->nmoves - i - 1)
                            return sj_jit_fail(why, why_len, SJ_DECLINE_PLAN,
                                               "move %zu is a loop over %u moves, %zu follow it", i,
                                               m->body, p->nmoves - i - 1);
                        break;
                    default:
                        return sj_jit_fail(why, why_len, SJ_DECLINE_PLAN,
                                           "move %zu has unknown kind %u", i, m->kind);
                }
            }
            return 0;
        case SJ_PLAN_REDUCE:
            if (p->red.op > SJ_REDUCE_MAX) /* the last operation */
                return sj_jit_fail(why, why_len, SJ_DECLINE_PLAN, "unknown reduction %u",
                                   p->red.op);
            if (p->red.kind >= SJ_KIND_COUNT)
                return sj_jit_fail(why, why_len, SJ_DECLINE_PLAN, "reduction over unknown kind %u",
                                   p->red.kind);
            return 0;
        case SJ_PLAN_MISMATCH:
            return 0;
        default:
            return sj_jit_fail(why, why_len, SJ_DECLINE_PLAN, "unknown plan operation %d",
                               (int)p->op);
    }
}

const char *sj_emit_op_name(const sj_plan *p) {
    switch (p->op) {
        case SJ_PLAN_MOVE:
            return "move";
        case SJ_PLAN_REDUCE:
            return "reduce";
        case SJ_PLAN_MISMATCH:
            return "mismatch";
        default:
            return "unknown";
    }
}

/* ---- The function being built ---- */

typedef struct emitter {
    sj_em e;
    const sj_plan *p;
    LLVMValueRef src, dst, count, aux;
    unsigned src_align, dst_align; /* of every element base */
    bool big_endian;
    /* Multi-destination plans: each stream's element-0 pointer (loaded from dst once)
     * and element alignment. */
    LLVMValueRef streams[SJ_MAX_STREAMS];
    unsigned stream_align[SJ_MAX_STREAMS];
    /* Wide plans: the main function's name and attributes, copied onto each chunk. */
    const char *name;
    const sj_emit_target *t;
    bool chunked, noalias;
    bool dense; /* sj_emit_dense: the loop reads and writes whole elements back to back */
    unsigned nchunks;
} emitter;

/* t, or a vector of t with as many lanes as v has (a short dense loop emitted whole). */
static LLVMTypeRef lanes_like(LLVMValueRef v, LLVMTypeRef t) {
    LLVMTypeRef vt = LLVMTypeOf(v);
    return LLVMGetTypeKind(vt) == LLVMVectorTypeKind ? LLVMVectorType(t, LLVMGetVectorSize(vt)) : t;
}

/* *(kind *)p, byte-reversed first when swap, as the kind's IR value: iN for integers,
 * i1 for bool (byte != 0), float or double; lanes > 1: a vector of lanes of them. */
static LLVMValueRef load_kind(emitter *x, LLVMValueRef p, unsigned kind, bool swap, unsigned lanes,
                              unsigned align, const char *name) {
    sj_em *e = &x->e;
    unsigned n = ksize(kind);
    LLVMTypeRef it = sj_int_type(e, n);
    LLVMValueRef v = sj_load(e, lanes > 1 ? LLVMVectorType(it, lanes) : it, p, align, name);
    if (swap && n > 1) v = sj_intrinsic1(e, "llvm.bswap", v, "v_native");
    if (kind == SJ_BOOL)
        return LLVMBuildICmp(e->b, LLVMIntNE, v, LLVMConstNull(LLVMTypeOf(v)), "v_bool");
    if (kfloat(kind))
        return LLVMBuildBitCast(e->b, v, lanes_like(v, kind == SJ_F32 ? e->f32 : e->f64),
                                "v_float");
    return v;
}

/* *(kind *)p = v, byte-reversed when swap; v as load_kind returns it. */
static void store_kind(emitter *x, LLVMValueRef v, LLVMValueRef p, unsigned kind, bool swap,
                       unsigned align) {
    sj_em *e = &x->e;
    unsigned n = ksize(kind);
    LLVMTypeRef it = lanes_like(v, sj_int_type(e, n));
    if (kind == SJ_BOOL)
        v = LLVMBuildZExt(e->b, v, it, "v_bool_byte");
    else if (kfloat(kind))
        v = LLVMBuildBitCast(e->b, v, it, "v_bits");
    if (swap && n > 1) v = sj_intrinsic1(e, "llvm.bswap", v, "v_stored_order");
    sj_store(e, v, p, align);
}

/* C conversion from one kind to another, as plan.h defines it. */
static LLVMValueRef convert(emitter *x, LLVMValueRef v, unsigned from, unsigned to) {
    sj_em *e = &x->e;
    LLVMBuilderRef b = e->b;
    LLVMTypeRef ft = lanes_like(v, to == SJ_F32 ? e->f32 : e->f64);
    LLVMTypeRef it = lanes_like(v, sj_int_type(e, ksize(to)));
    if (to == SJ_BOOL) { /* value != 0 (NaN != 0 too) */
        if (from == SJ_BOOL) return v;
        if (kfloat(from))
            return LLVMBuildFCmp(b, LLVMRealUNE, v, LLVMConstNull(LLVMTypeOf(v)), "v_nonzero");
        return LLVMBuildICmp(b, LLVMIntNE, v, LLVMConstNull(LLVMTypeOf(v)), "v_nonzero");
    }
    if (from == SJ_BOOL) /* 0 or 1 */
        return kfloat(to) ? LLVMBuildUIToFP(b, v, ft, "v_conv") : LLVMBuildZExt(b, v, it, "v_conv");
    if (kfloat(from) && kfloat(to)) {
        if (from == to) return v;
        return to == SJ_F64 ? LLVMBuildFPExt(b, v, ft, "v_conv")
                            : LLVMBuildFPTrunc(b, v, ft, "v_conv");
    }
    if (kfloat(from)) { /* toward zero, saturating, NaN -> 0: exactly fpto[su]i.sat */
        LLVMTypeRef ov[2] = {it, LLVMTypeOf(v)};
        return sj_intrinsic(e, ksigned(to) ? "llvm.fptosi.sat" : "llvm.fptoui.sat", ov, 2, &v, 1,
                            "v_conv");
    }
    if (kfloat(to))
        return ksigned(from) ? LLVMBuildSIToFP(b, v, ft, "v_conv")
                             : LLVMBuildUIToFP(b, v, ft, "v_conv");
    unsigned nf = ksize(from), nt = ksize(to);
    if (nt < nf) return LLVMBuildTrunc(b, v, it, "v_conv");
    if (nt > nf)
        return ksigned(from) ? LLVMBuildSExt(b, v, it, "v_conv")
                             : LLVMBuildZExt(b, v, it, "v_conv");
    return v;
}

/* if (count > 0) { loop } ; return 0.  The loop's body is left to the caller: returns
 * the index phi with the builder in the body; close with end_count_loop. */
typedef struct count_loop {
    LLVMBasicBlockRef body, exit;
    LLVMValueRef i;
} count_loop;

static count_loop begin_count_loop(emitter *x, LLVMValueRef n, const char *name) {
    sj_em *e = &x->e;
    count_loop l;
    char nb[40];
    LLVMBasicBlockRef from = LLVMGetInsertBlock(e->b);
    snprintf(nb, sizeof nb, "b_%s", name);
    l.body = sj_block(e, nb);
    snprintf(nb, sizeof nb, "b_%s_done", name);
    l.exit = sj_block(e, nb);
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSGT, n, sj_c64(e, 0), "v_any"), l.body,
                    l.exit);
    sj_at(e, l.body);
    l.i = sj_phi(e, e->i64, sj_c64(e, 0), from, "v_i");
    return l;
}

static void end_count_loop(emitter *x, count_loop *l, LLVMValueRef n) {
    sj_em *e = &x->e;
    LLVMValueRef next = LLVMBuildNUWAdd(e->b, l->i, sj_c64(e, 1), "v_i_next");
    sj_phi_add(l->i, next, LLVMGetInsertBlock(e->b));
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, next, n, "v_last"), l->exit, l->body);
    sj_at(e, l->exit);
}

static LLVMValueRef elem_at(emitter *x, LLVMValueRef p, LLVMValueRef i, int64_t stride,
                            const char *name);

/* Whether a swap of several units is emitted as vectors: in wide plans always; elsewhere
 * unless the loop vectorizer will run over whole elements of a few units each, which it
 * does better across elements (docs/JIT.md, "Swaps and conversions of arrays"). */
static bool swap_as_vectors(const emitter *x, const sj_move *m) {
    return x->chunked || !(x->dense && m->len < SJ_EMIT_SWAP_VECTOR_MIN);
}

/* Whole blocks written out before they run in a loop: in wide plans one (blocks_weight
 * counts what they emit), elsewhere SJ_EMIT_SWAP_UNROLL (a loop of 4 blocks ran 1.07-1.21x
 * C against 1.02 written out, docs/JIT.md). */
static uint32_t blocks_unrolled(const emitter *x) {
    return x->chunked ? 1 : SJ_EMIT_SWAP_UNROLL;
}

/* What one vector of n lanes does at (sp, dp), aligned to sa and da. */
typedef void (*lanes_fn)(emitter *x, const sj_move *m, size_t k, LLVMValueRef sp, LLVMValueRef dp,
                         unsigned sa, unsigned da, uint32_t n);

/* n lanes from sp and dp (ss and ds bytes apart, aligned to sa and da) as vectors of `per`
 * lanes: whole blocks (in a loop past blocks_unrolled), then one vector for the rest. */
static void emit_blocks(emitter *x, const sj_move *m, size_t k, lanes_fn lanes, uint32_t n,
                        uint32_t per, LLVMValueRef sp, int64_t ss, LLVMValueRef dp, int64_t ds,
                        unsigned sa, unsigned da) {
    sj_em *e = &x->e;
    const uint32_t blocks = n / per;
    const int64_t sb = (int64_t)per * ss, db = (int64_t)per * ds;
    uint32_t done = 0;
    if (blocks > blocks_unrolled(x)) {
        LLVMValueRef nb = sj_c64(e, blocks);
        count_loop l = begin_count_loop(x, nb, "blocks");
        lanes(x, m, k, elem_at(x, sp, l.i, sb, "v_block_src"),
              elem_at(x, dp, l.i, db, "v_block_dst"), align_at(sa, (uint64_t)sb),
              align_at(da, (uint64_t)db), per);
        end_count_loop(x, &l, nb);
        done = blocks * per;
    }
    while (done < n) {
        uint32_t c = n - done < per ? n - done : per;
        uint64_t os = (uint64_t)done * (uint64_t)ss, od = (uint64_t)done * (uint64_t)ds;
        lanes(x, m, k, sj_gep_c(e, sp, os, "v_lanes_src"), sj_gep_c(e, dp, od, "v_lanes_dst"),
              align_at(sa, os), align_at(da, od), c);
        done += c;
    }
}

/* dp[u] = bswap(sp[u]) for n units of swap m (one unit: a scalar). */
static void swap_lanes(emitter *x, const sj_move *m, size_t k, LLVMValueRef sp, LLVMValueRef dp,
                       unsigned sa, unsigned da, uint32_t n) {
    (void)k;
    sj_em *e = &x->e;
    LLVMTypeRef ut = sj_int_type(e, m->width);
    LLVMValueRef v = sj_load(e, n > 1 ? LLVMVectorType(ut, n) : ut, sp, sa, "v_swap");
    sj_store(e, sj_intrinsic1(e, "llvm.bswap", v, "v_swapped"), dp, da);
}

/* One move of element i: se and de are the element bases, every source element base
 * aligned to sbase and every destination element base to dbase. */
static void emit_move(emitter *x, const sj_move *m, size_t k, LLVMValueRef se, LLVMValueRef de,
                      unsigned sbase, unsigned dbase, unsigned lanes) {
    sj_em *e = &x->e;
    char ns[32], nd[32], nv[32];
    snprintf(ns, sizeof ns, "v_m%zu_src", k);
    snprintf(nd, sizeof nd, "v_m%zu_dst", k);
    snprintf(nv, sizeof nv, "v_m%zu", k);
    unsigned sa = align_at(sbase, m->src_off);
    unsigned da = align_at(dbase, m->dst_off);
    LLVMValueRef dp = sj_gep_c(e, de, m->dst_off, nd);
    switch (m->kind) {
        case SJ_MOVE_COPY: {
            if (m->len == 0) return;
            LLVMValueRef sp = sj_gep_c(e, se, m->src_off, ns);
            if (pow2_upto16(m->len)) { /* *(uintN_t *)dp = *(uintN_t *)sp */
                sj_store(e, sj_load(e, sj_int_type(e, m->len), sp, sa, nv), dp, da);
            } else { /* memcpy(dp, sp, len) */
                LLVMBuildMemCpy(e->b, dp, da, sp, sa, sj_c64(e, m->len));
            }
            return;
        }
        case SJ_MOVE_ZERO:
            if (m->len == 0) return;
            if (pow2_upto16(m->len))
                sj_store(e, sj_cint(sj_int_type(e, m->len), 0), dp, da);
            else
                LLVMBuildMemSet(e->b, dp, sj_cint(e->i8, 0), sj_c64(e, m->len), da);
            return;
        case SJ_MOVE_SWAP: {
            LLVMValueRef sp = sj_gep_c(e, se, m->src_off, ns);
            LLVMTypeRef ut = sj_int_type(e, m->width);
            uint32_t units = m->len / m->width;
            if (units > 1 && swap_as_vectors(x, m)) {
                emit_blocks(x, m, k, swap_lanes, units, SJ_EMIT_SWAP_BLOCK / m->width, sp, m->width,
                            dp, m->width, sa, da);
                return;
            }
            for (uint32_t u = 0; u < units; u++) { /* each unit: dp[u] = bswap(sp[u]) */
                uint64_t off = (uint64_t)u * m->width;
                LLVMValueRef v =
                    sj_load(e, ut, sj_gep_c(e, sp, off, ns), align_at(sbase, m->src_off + off), nv);
                v = sj_intrinsic1(e, "llvm.bswap", v, "v_swapped");
                sj_store(e, v, sj_gep_c(e, dp, off, nd), align_at(dbase, m->dst_off + off));
            }
            return;
        }
        case SJ_MOVE_CONVERT: {
            LLVMValueRef sp = sj_gep_c(e, se, m->src_off, ns);
            LLVMValueRef v = load_kind(x, sp, m->src_kind, m->src_swap, lanes, sa, nv);
            v = convert(x, v, m->src_kind, m->dst_kind);
            store_kind(x, v, dp, m->dst_kind, m->dst_swap, da);
            return;
        }
        default:
            return; /* refused by sj_emit_check */
    }
}

/* i * stride as a byte offset (the checks proved it fits). */
static LLVMValueRef elem_offset(emitter *x, LLVMValueRef i, int64_t stride, const char *name) {
    return LLVMBuildNSWMul(x->e.b, i, sj_c64(&x->e, stride), name);
}

static void emit_counted(emitter *x, LLVMValueRef cnt, LLVMValueRef sp, int64_t ss, LLVMValueRef dp,
                         int64_t ds, const sj_move *moves, size_t n, unsigned sa, unsigned da);

/* Whether loop m converts a short run of values packed back to back on both sides. */
static bool dense_convert_loop(const sj_move *m) {
    const sj_move *b = m + 1;
    return m->body == 1 && b->kind == SJ_MOVE_CONVERT && m->len <= SJ_EMIT_MAX_UNROLL &&
           m->src_stride == ksize(b->src_kind) && m->dst_stride == ksize(b->dst_kind);
}

/* Moves k.. of moves[0..n) as one vector conversion: conversions (single, or dense short
 * loops) of one treatment, each continuing the last on both sides, at most
 * SJ_EMIT_MAX_LANES values. Returns how many moves that covers (0: fewer than 2 values),
 * with the first value's move in *run and the count in *lanes. */
static size_t convert_run(const sj_move *moves, size_t n, size_t k, sj_move *run, unsigned *lanes) {
    size_t at = k;
    *lanes = 0;
    while (at < n) {
        const sj_move *m = &moves[at], *c = m;
        uint64_t so = m->src_off, dof = m->dst_off, len = 1;
        size_t span = 1;
        if (m->kind == SJ_MOVE_LOOP && dense_convert_loop(m)) {
            c = m + 1;
            so += c->src_off;
            dof += c->dst_off;
            len = m->len;
            span += m->body;
        } else if (m->kind != SJ_MOVE_CONVERT) {
            break;
        }
        if (!*lanes) {
            *run = *c;
            run->src_off = (uint32_t)so;
            run->dst_off = (uint32_t)dof;
        } else if (c->src_kind != run->src_kind || c->dst_kind != run->dst_kind ||
                   c->src_swap != run->src_swap || c->dst_swap != run->dst_swap ||
                   so != run->src_off + (uint64_t)*lanes * ksize(run->src_kind) ||
                   dof != run->dst_off + (uint64_t)*lanes * ksize(run->dst_kind) ||
                   *lanes + len > SJ_EMIT_MAX_LANES) {
            break;
        }
        *lanes += (unsigned)len;
        at += span;
    }
    return *lanes >= 2 ? at - k : 0;
}

/* n values of conversion m (offsets 0) at sp and dp: one vector conversion. */
static void convert_lanes(emitter *x, const sj_move *m, size_t k, LLVMValueRef sp, LLVMValueRef dp,
                          unsigned sa, unsigned da, uint32_t n) {
    emit_move(x, m, k, sp, dp, sa, da, n);
}

/* Loop m (long_convert_loop) as vectors of SJ_EMIT_CONVERT_BLOCK values (emit_blocks). */
static void emit_convert_blocks(emitter *x, const sj_move *m, size_t k, LLVMValueRef se,
                                LLVMValueRef de, unsigned sbase, unsigned dbase) {
    sj_em *e = &x->e;
    sj_move c = m[1];
    const uint64_t so = m->src_off + c.src_off, dof = m->dst_off + c.dst_off;
    c.src_off = c.dst_off = 0;
    emit_blocks(x, &c, k, convert_lanes, m->len, SJ_EMIT_CONVERT_BLOCK,
                sj_gep_c(e, se, so, "v_conv_src"), m->src_stride,
                sj_gep_c(e, de, dof, "v_conv_dst"), m->dst_stride, align_at(sbase, so),
                align_at(dbase, dof));
}

/* moves[0..n) of one element in the function being built (bases se and de, aligned to
 * sbase and dbase); an inner loop is a counted loop over its body, each iteration's
 * bases stepped by its strides. */
static void emit_moves_here(emitter *x, const sj_move *moves, size_t n, LLVMValueRef se,
                            LLVMValueRef de, unsigned sbase, unsigned dbase) {
    sj_em *e = &x->e;
    for (size_t k = 0; k < n; k++) {
        const sj_move *m = &moves[k];
        sj_move run;
        unsigned lanes;
        size_t span = convert_run(moves, n, k, &run, &lanes);
        if (span && !x->chunked &&
            ((x->dense && lanes * ksize(run.src_kind) < SJ_EMIT_SWAP_VECTOR_MIN) ||
             !cheap_convert(run.src_kind, run.dst_kind)))
            span = 0; /* short dense elements (the loop vectorizer does better across them),
                       * or a conversion costly to vectorize */
        if (span) {   /* one vector conversion */
            emit_move(x, &run, k, se, de, sbase, dbase, lanes);
            k += span - 1;
            continue;
        }
        if (m->kind != SJ_MOVE_LOOP) {
            emit_move(x, m, k, se, de, sbase, dbase, 1);
            continue;
        }
        if (x->chunked && loop_unrolls(m, moves_weight(m + 1, m->body))) {
            for (uint32_t i = 0; i < m->len; i++) {
                uint64_t so = m->src_off + (uint64_t)i * m->src_stride;
                uint64_t dof = m->dst_off + (uint64_t)i * m->dst_stride;
                emit_moves_here(x, m + 1, m->body, sj_gep_c(e, se, so, "v_iter_src"),
                                sj_gep_c(e, de, dof, "v_iter_dst"), align_at(sbase, so),
                                align_at(dbase, dof));
            }
            k += m->body;
            continue;
        }
        if (long_convert_loop(m)) {
            emit_convert_blocks(x, m, k, se, de, sbase, dbase);
            k += m->body;
            continue;
        }
        LLVMValueRef sl = sj_gep_c(e, se, m->src_off, "v_loop_src");
        LLVMValueRef dl = sj_gep_c(e, de, m->dst_off, "v_loop_dst");
        unsigned sa = align_at(align_at(sbase, m->src_off), m->src_stride);
        unsigned da = align_at(align_at(dbase, m->dst_off), m->dst_stride);
        emit_counted(x, sj_c64(e, m->len), sl, m->src_stride, dl, m->dst_stride, m + 1, m->body, sa,
                     da);
        k += m->body;
    }
}

static void add_param_attrs(sj_em *e, unsigned param, bool readonly);
static void add_fn_string_attr(sj_em *e, const char *k, const char *v);
static void add_target_attrs(emitter *x);

/* chunk(se, de): moves[0..n) in a function of their own, called here. */
static void emit_chunk_call(emitter *x, const sj_move *moves, size_t n, LLVMValueRef se,
                            LLVMValueRef de, unsigned sbase, unsigned dbase) {
    sj_em *e = &x->e;
    char name[112];
    snprintf(name, sizeof name, "%s.c%u", x->name, x->nchunks++);
    LLVMTypeRef params[2] = {e->ptr, e->ptr};
    LLVMTypeRef ft = LLVMFunctionType(LLVMVoidTypeInContext(e->ctx), params, 2, 0);
    LLVMValueRef fn = LLVMAddFunction(e->mod, name, ft);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    LLVMValueRef caller = e->fn;
    LLVMBasicBlockRef at = LLVMGetInsertBlock(e->b);
    e->fn = fn;
    if (x->noalias) {
        add_param_attrs(e, 0, true);
        add_param_attrs(e, 1, false);
    }
    add_target_attrs(x);
    unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateEnumAttribute(e->ctx, noinline, 0));
    sj_at(e, sj_block(e, "b_entry"));
    emit_moves_here(x, moves, n, LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), sbase, dbase);
    LLVMBuildRetVoid(e->b);
    e->fn = caller;
    sj_at(e, at);
    LLVMValueRef args[2] = {se, de};
    LLVMBuildCall2(e->b, ft, fn, args, 2, "");
}

/* moves[0..n) of one element. In a wide plan, runs weighing more than SJ_EMIT_CHUNK_MOVES
 * become calls of chunk functions, in order; an inner loop heavier than that stays here,
 * its body chunked in turn. */
static void emit_moves(emitter *x, const sj_move *moves, size_t n, LLVMValueRef se, LLVMValueRef de,
                       unsigned sbase, unsigned dbase) {
    if (!x->chunked || moves_weight(moves, n) <= SJ_EMIT_CHUNK_MOVES) {
        emit_moves_here(x, moves, n, se, de, sbase, dbase);
        return;
    }
    size_t g0 = 0, gw = 0; /* the group being gathered: moves[g0..k), weight gw */
    for (size_t k = 0; k <= n;) {
        size_t len = k < n && moves[k].kind == SJ_MOVE_LOOP ? 1u + moves[k].body : 1u;
        size_t w = k < n ? moves_weight(&moves[k], len) : 0;
        if (k == n || gw + w > SJ_EMIT_CHUNK_MOVES) {
            if (k > g0) emit_chunk_call(x, &moves[g0], k - g0, se, de, sbase, dbase);
            if (k == n) break;
            g0 = k;
            gw = 0;
            if (w > SJ_EMIT_CHUNK_MOVES) { /* a heavy inner loop: here, its body chunked */
                emit_moves_here(x, &moves[k], len, se, de, sbase, dbase);
                k += len;
                g0 = k;
                continue;
            }
        }
        gw += w;
        k += len;
    }
}

/* Element i's base: p + i * stride (p itself for stride 0). */
static LLVMValueRef elem_at(emitter *x, LLVMValueRef p, LLVMValueRef i, int64_t stride,
                            const char *name) {
    return stride ? sj_gep(&x->e, p, elem_offset(x, i, stride, "v_off"), name) : p;
}

/* for (i = 0; i < cnt; i++) moves[0..n) on elements (sp + i*ss, dp + i*ds). */
static void emit_counted(emitter *x, LLVMValueRef cnt, LLVMValueRef sp, int64_t ss, LLVMValueRef dp,
                         int64_t ds, const sj_move *moves, size_t n, unsigned sa, unsigned da) {
    count_loop l = begin_count_loop(x, cnt, "loop");
    emit_moves(x, moves, n, elem_at(x, sp, l.i, ss, "v_src_elem"),
               elem_at(x, dp, l.i, ds, "v_dst_elem"), sa, da);
    end_count_loop(x, &l, cnt);
}

/* A top-level move of a wide plan with its loop body: moves[at..at+len), the bytes of an
 * element it writes [lo, hi), and the source byte it reads first (key). */
typedef struct unit {
    size_t at, len;
    uint64_t lo, hi, key;
} unit;

/* The bytes of an element that moves[0..n) write, [*lo, *hi) (empty: lo >= hi). */
static void write_extent(const sj_move *moves, size_t n, uint64_t *lo, uint64_t *hi) {
    *lo = UINT64_MAX;
    *hi = 0;
    for (size_t i = 0; i < n; i++) {
        const sj_move *m = &moves[i];
        uint64_t a = m->dst_off, b;
        if (m->kind == SJ_MOVE_LOOP) {
            uint64_t blo, bhi;
            write_extent(m + 1, m->body, &blo, &bhi);
            i += m->body;
            if (!m->len || blo >= bhi) continue;
            a += blo;
            b = m->dst_off + (uint64_t)(m->len - 1) * m->dst_stride + bhi;
        } else {
            b = a + (m->kind == SJ_MOVE_CONVERT ? ksize(m->dst_kind) : m->len);
        }
        if (a >= b) continue;
        if (a < *lo) *lo = a;
        if (b > *hi) *hi = b;
    }
}

static int by_lo(const void *a, const void *b) {
    const unit *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int by_key(const void *a, const void *b) {
    const unit *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at; /* stable */
}

/* A wide plan's top-level moves in the order of the source bytes they read (zeroing last),
 * where reordering cannot change the result: source and destination never overlap, and no
 * two moves write the same byte. Records read front to back stream at C's speed; read in
 * the destination's order, a reordered 1000-field record ran 1.3-1.5x C (docs/JIT.md).
 * NULL: keep the plan's order (or out of memory). */
static sj_move *source_order(const sj_plan *p) {
    size_t n = 0;
    for (size_t i = 0; i < p->nmoves;
         i += 1u + (p->moves[i].kind == SJ_MOVE_LOOP ? p->moves[i].body : 0))
        n++;
    unit *u = malloc(n * sizeof *u);
    sj_move *out = malloc(p->nmoves * sizeof *out);
    bool ok = u && out;
    for (size_t i = 0, k = 0; ok && i < p->nmoves; k++) {
        const sj_move *m = &p->moves[i];
        size_t len = 1u + (m->kind == SJ_MOVE_LOOP ? m->body : 0);
        u[k] = (unit){i, len, 0, 0, m->kind == SJ_MOVE_ZERO ? UINT64_MAX : m->src_off};
        write_extent(m, len, &u[k].lo, &u[k].hi);
        i += len;
    }
    if (ok) { /* every unit's bytes after the previous unit's, in destination order */
        qsort(u, n, sizeof *u, by_lo);
        for (size_t k = 1; ok && k < n; k++)
            ok = u[k - 1].lo >= u[k - 1].hi || u[k].lo >= u[k - 1].hi;
    }
    if (ok) {
        qsort(u, n, sizeof *u, by_key);
        size_t w = 0;
        for (size_t k = 0; k < n; k++) {
            memcpy(&out[w], &p->moves[u[k].at], u[k].len * sizeof *out);
            w += u[k].len;
        }
    }
    free(u);
    if (!ok) {
        free(out);
        return NULL;
    }
    return out;
}

/* SJ_PLAN_MOVE: for (i = 0; i < count; i++) for each move m: dst elem <- f(src elem). */
static void emit_move_plan(emitter *x) {
    sj_em *e = &x->e;
    const sj_plan *p = x->p;
    const sj_move *m0 = p->nmoves == 1 ? &p->moves[0] : NULL;
    if (p->block_copy && m0 && m0->kind == SJ_MOVE_COPY && m0->src_off == 0 && m0->dst_off == 0 &&
        m0->len > 0 && move_src_stride(p) == (int64_t)m0->len &&
        p->dst.stride == (int64_t)m0->len) {
        /* contiguous elements: memmove(dst, src, count * stride) */
        LLVMBasicBlockRef copy = sj_block(e, "b_block_copy"), exit = sj_block(e, "b_exit");
        LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSGT, x->count, sj_c64(e, 0), "v_any"),
                        copy, exit);
        sj_at(e, copy);
        LLVMValueRef bytes = elem_offset(x, x->count, p->src.stride, "v_bytes");
        LLVMBuildMemMove(e->b, x->dst, x->dst_align, x->src, x->src_align, bytes);
        LLVMBuildBr(e->b, exit);
        sj_at(e, exit);
        LLVMBuildRet(e->b, sj_c64(e, 0));
        return;
    }
    if (m0 && m0->kind == SJ_MOVE_SWAP && m0->src_off == 0 && m0->dst_off == 0 && m0->width &&
        m0->len > m0->width && move_src_stride(p) == (int64_t)m0->len &&
        p->dst.stride == (int64_t)m0->len && (x->noalias || p->in_place)) {
        /* elements that are one swap each, back to back: one loop over all their units,
         * the loop vectorizer's simplest form (W6's) */
        sj_move unit = *m0;
        unit.len = m0->width;
        LLVMValueRef units =
            LLVMBuildNUWMul(e->b, x->count, sj_c64(e, m0->len / m0->width), "v_units");
        emit_counted(x, units, x->src, m0->width, x->dst, m0->width, &unit, 1,
                     align_at(x->src_align, m0->width), align_at(x->dst_align, m0->width));
        LLVMBuildRet(e->b, sj_c64(e, 0));
        return;
    }
    sj_move *sorted = x->chunked && x->noalias ? source_order(p) : NULL;
    emit_counted(x, x->count, x->src, move_src_stride(p), x->dst, p->dst.stride,
                 sorted ? sorted : p->moves, p->nmoves, x->src_align, x->dst_align);
    free(sorted);
    LLVMBuildRet(e->b, sj_c64(e, 0));
}

/* The root an address is formed from: p with its GEPs stripped. */
static LLVMValueRef address_root(LLVMValueRef p) {
    while (p && LLVMIsAGetElementPtrInst(p))
        p = LLVMGetOperand(p, 0);
    return p;
}

/* Scoped no-alias metadata of a multi-destination loop: one scope for the source and one
 * per stream (kernel.c never runs compiled code on overlapping ranges); every load and
 * store in the function whose address derives from src or from a stream pointer gets
 * !alias.scope {its scope} and !noalias {every other scope}, so that the vectorizer needs
 * no run-time overlap checks. */
static void mark_stream_scopes(emitter *x) {
    sj_em *e = &x->e;
    unsigned n = x->p->ndst + 1u; /* scope 0: the source; 1 + i: stream i */
    LLVMMetadataRef scopes[SJ_MAX_STREAMS + 1];
    char name[32];
    LLVMMetadataRef dname = LLVMMDStringInContext2(e->ctx, "segjit.streams", 14);
    LLVMMetadataRef domain = LLVMMDNodeInContext2(e->ctx, &dname, 1);
    for (unsigned s = 0; s < n; s++) {
        int len = s ? snprintf(name, sizeof name, "segjit.dst%u", s - 1)
                    : snprintf(name, sizeof name, "segjit.src");
        LLVMMetadataRef ops[2] = {LLVMMDStringInContext2(e->ctx, name, (size_t)len), domain};
        scopes[s] = LLVMMDNodeInContext2(e->ctx, ops, 2);
    }
    LLVMValueRef own[SJ_MAX_STREAMS + 1], others[SJ_MAX_STREAMS + 1];
    for (unsigned s = 0; s < n; s++) {
        LLVMMetadataRef rest[SJ_MAX_STREAMS + 1];
        unsigned nr = 0;
        for (unsigned t = 0; t < n; t++)
            if (t != s) rest[nr++] = scopes[t];
        own[s] = LLVMMetadataAsValue(e->ctx, LLVMMDNodeInContext2(e->ctx, &scopes[s], 1));
        others[s] = LLVMMetadataAsValue(e->ctx, LLVMMDNodeInContext2(e->ctx, rest, nr));
    }
    unsigned k_scope = LLVMGetMDKindIDInContext(e->ctx, "alias.scope", 11);
    unsigned k_noalias = LLVMGetMDKindIDInContext(e->ctx, "noalias", 7);
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(e->fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
            LLVMValueRef addr = NULL;
            if (LLVMIsALoadInst(in))
                addr = LLVMGetOperand(in, 0);
            else if (LLVMIsAStoreInst(in))
                addr = LLVMGetOperand(in, 1);
            LLVMValueRef root = address_root(addr);
            if (!root) continue;
            int s = root == x->src ? 0 : -1;
            for (unsigned t = 0; t + 1 < n && s < 0; t++)
                if (root == x->streams[t]) s = (int)t + 1;
            if (s < 0) continue;
            LLVMSetMetadata(in, k_scope, own[s]);
            LLVMSetMetadata(in, k_noalias, others[s]);
        }
}

/* SJ_PLAN_MOVE with ndst streams: dst holds the streams' element-0 pointers, loaded once;
 * for (i = 0; i < count; i++) for each move m: stream[m.dst_stream] elem <- f(src elem). */
static void emit_streams_plan(emitter *x) {
    sj_em *e = &x->e;
    const sj_plan *p = x->p;
    for (unsigned t = 0; t < p->ndst; t++) { /* uint8_t *d_t = ((uint8_t **)dst)[t] */
        char nv[24];
        snprintf(nv, sizeof nv, "v_stream%u", t);
        x->streams[t] =
            sj_load(e, e->ptr, sj_gep_c(e, x->dst, (uint64_t)t * 8, "v_stream_slot"), 8, nv);
        x->stream_align[t] = base_align(p->dsts[t].elem_align);
    }
    count_loop l = begin_count_loop(x, x->count, "loop");
    int64_t ss = move_src_stride(p);
    LLVMValueRef se =
        ss ? sj_gep(e, x->src, elem_offset(x, l.i, ss, "v_src_off"), "v_src_elem") : x->src;
    LLVMValueRef de[SJ_MAX_STREAMS];
    for (unsigned t = 0; t < p->ndst; t++) {
        char nv[24];
        snprintf(nv, sizeof nv, "v_dst%u_elem", t);
        de[t] = p->dsts[t].stride ? sj_gep(e, x->streams[t],
                                           elem_offset(x, l.i, p->dsts[t].stride, "v_dst_off"), nv)
                                  : x->streams[t];
    }
    for (size_t k = 0; k < p->nmoves; k++) {
        const sj_move *m = &p->moves[k];
        emit_move(x, m, k, se, de[m->dst_stream], x->src_align, x->stream_align[m->dst_stream], 1);
    }
    end_count_loop(x, &l, x->count);
    LLVMBuildRet(e->b, sj_c64(e, 0));
    mark_stream_scopes(x);
}

/* Address of the reduced value of element i. */
static LLVMValueRef reduce_ptr(emitter *x, LLVMValueRef i, const char *name) {
    sj_em *e = &x->e;
    LLVMValueRef ep =
        x->p->src.stride
            ? sj_gep(e, x->src, elem_offset(x, i, x->p->src.stride, "v_src_off"), "v_src_elem")
            : x->src;
    return sj_gep_c(e, ep, x->p->red.off, name);
}

/* The reduced value at vp (the value of some element), as a double (floats) or an i64
 * (integers: sign- or zero-extended per the kind, bool as 0 or 1). */
static LLVMValueRef reduce_load_at(emitter *x, LLVMValueRef vp) {
    sj_em *e = &x->e;
    unsigned kind = x->p->red.kind;
    unsigned align = align_at(x->src_align, x->p->red.off);
    LLVMValueRef v = load_kind(x, vp, kind, x->p->red.swap, 1, align, "v_value");
    if (kind == SJ_F32) return LLVMBuildFPExt(e->b, v, e->f64, "v_value_d");
    if (kind == SJ_F64) return v;
    if (ksize(kind) == 8) return v;
    return ksigned(kind) ? LLVMBuildSExt(e->b, v, e->i64, "v_value_64")
                         : LLVMBuildZExt(e->b, v, e->i64, "v_value_64");
}

/* The reduced value of element i. */
static LLVMValueRef reduce_load(emitter *x, LLVMValueRef i) {
    return reduce_load_at(x, reduce_ptr(x, i, "v_value_ptr"));
}

/* The reduced value of element (first + t), from vfirst, the value of element first. */
static LLVMValueRef reduce_load_next(emitter *x, LLVMValueRef vfirst, unsigned t) {
    int64_t off = (int64_t)t * x->p->src.stride;
    return reduce_load_at(x,
                          off ? sj_gep(&x->e, vfirst, sj_c64(&x->e, off), "v_value_ptr") : vfirst);
}

/* r, or the default NaN (0x7ff8000000000000) when r is a NaN. Which NaN an addition or
 * minimum returns is not specified (operand order is the compiler's), so a NaN result of
 * a float reduction is always this one, in both tiers. */
static LLVMValueRef default_nan_if_nan(emitter *x, LLVMValueRef r) {
    sj_em *e = &x->e;
    LLVMValueRef isnan = LLVMBuildFCmp(e->b, LLVMRealUNO, r, r, "v_is_nan");
    uint64_t bits = UINT64_C(0x7ff8000000000000);
    double d;
    memcpy(&d, &bits, sizeof d);
    LLVMValueRef dnan = LLVMConstReal(e->f64, d); /* the exact bits: no arithmetic on d */
    return LLVMBuildSelect(e->b, isnan, dnan, r, "v_result");
}

/* Integer SUM (wrapping), MIN, MAX in 64 bits; the identity for empty ranges. */
static void emit_int_reduce(emitter *x) {
    sj_em *e = &x->e;
    unsigned kind = x->p->red.kind, op = x->p->red.op;
    unsigned bits = ksize(kind) * 8;
    bool sgn = ksigned(kind);
    uint64_t init = 0;
    if (op == SJ_REDUCE_MIN) /* the kind's maximum */
        init = kind == SJ_BOOL ? 1
               : sgn           ? (bits == 64 ? INT64_MAX : (UINT64_C(1) << (bits - 1)) - 1)
                               : (bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1);
    else if (op == SJ_REDUCE_MAX && sgn) /* the kind's minimum */
        init = bits == 64 ? (uint64_t)INT64_MIN : ~((UINT64_C(1) << (bits - 1)) - 1);
    LLVMValueRef vinit = sj_cint(e->i64, init);
    LLVMBasicBlockRef entry = LLVMGetInsertBlock(e->b);
    count_loop l = begin_count_loop(x, x->count, "loop");
    LLVMValueRef acc = sj_phi(e, e->i64, vinit, entry, "v_acc");
    LLVMValueRef v = reduce_load(x, l.i), next;
    if (op == SJ_REDUCE_SUM)
        next = LLVMBuildAdd(e->b, acc, v, "v_acc_next"); /* wraps modulo 2^64 */
    else if (op == SJ_REDUCE_MIN)
        next = sj_intrinsic2(e, sgn ? "llvm.smin" : "llvm.umin", acc, v, "v_acc_next");
    else
        next = sj_intrinsic2(e, sgn ? "llvm.smax" : "llvm.umax", acc, v, "v_acc_next");
    sj_phi_add(acc, next, l.body);
    end_count_loop(x, &l, x->count);
    LLVMValueRef res = sj_phi(e, e->i64, vinit, entry, "v_result");
    sj_phi_add(res, next, l.body);
    sj_store(e, res, x->aux, 8);
    LLVMBuildRet(e->b, sj_c64(e, 0));
}

/* Float MIN/MAX: NaN if any value is NaN, -0.0 below +0.0: exactly llvm.minimum and
 * llvm.maximum, a NaN result then the default NaN. Empty: +inf (MIN) or -inf (MAX). */
static void emit_float_minmax(emitter *x) {
    sj_em *e = &x->e;
    bool is_min = x->p->red.op == SJ_REDUCE_MIN;
    LLVMValueRef vinit = LLVMConstReal(e->f64, is_min ? (double)INFINITY : -(double)INFINITY);
    LLVMBasicBlockRef entry = LLVMGetInsertBlock(e->b);
    count_loop l = begin_count_loop(x, x->count, "loop");
    LLVMValueRef acc = sj_phi(e, e->f64, vinit, entry, "v_acc");
    LLVMValueRef next = sj_intrinsic2(e, is_min ? "llvm.minimum" : "llvm.maximum", acc,
                                      reduce_load(x, l.i), "v_acc_next");
    sj_phi_add(acc, next, l.body);
    end_count_loop(x, &l, x->count);
    LLVMValueRef res = sj_phi(e, e->f64, vinit, entry, "v_result");
    sj_phi_add(res, next, l.body);
    sj_store(e, default_nan_if_nan(x, res), x->aux, 8);
    LLVMBuildRet(e->b, sj_c64(e, 0));
}

/* Float SUM in plan.h's order: 8 double lanes, element i into lane i % 8 in increasing
 * i, then ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)). The lanes are one <8 x double>: blocks
 * of 8 elements are one vector add, the last count % 8 go to lanes 0.. in order. A NaN
 * result is the default NaN. */
static void emit_float_sum(emitter *x) {
    sj_em *e = &x->e;
    LLVMBuilderRef b = e->b;
    const sj_plan *p = x->p;
    unsigned kind = p->red.kind, n = ksize(kind);
    LLVMTypeRef vt = LLVMVectorType(e->f64, SJ_REDUCE_LANES);
    LLVMValueRef zero = LLVMConstNull(vt);
    LLVMBasicBlockRef entry = LLVMGetInsertBlock(b);
    /* n = max(count, 0); blocks = n / 8; rest = n % 8 */
    LLVMValueRef cnt =
        LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSGT, x->count, sj_c64(e, 0), "v_any"), x->count,
                        sj_c64(e, 0), "v_n");
    LLVMValueRef nblocks = LLVMBuildLShr(b, cnt, sj_c64(e, 3), "v_blocks");
    LLVMValueRef rest = LLVMBuildAnd(b, cnt, sj_c64(e, SJ_REDUCE_LANES - 1), "v_rest");
    LLVMBasicBlockRef bblock = sj_block(e, "b_block"), bafter = sj_block(e, "b_blocks_done");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntNE, nblocks, sj_c64(e, 0), "v_any_block"), bblock,
                    bafter);

    /* for (j = 0; j < blocks; j++) lanes += elements[8j .. 8j+7] */
    sj_at(e, bblock);
    LLVMValueRef j = sj_phi(e, e->i64, sj_c64(e, 0), entry, "v_block");
    LLVMValueRef acc = sj_phi(e, vt, zero, entry, "v_lanes");
    LLVMValueRef first = LLVMBuildNUWMul(b, j, sj_c64(e, SJ_REDUCE_LANES), "v_first");
    LLVMValueRef vals;
    if (p->src.stride == (int64_t)n) { /* dense: one vector load */
        LLVMTypeRef ivt = LLVMVectorType(sj_int_type(e, n), SJ_REDUCE_LANES);
        vals = sj_load(e, ivt, reduce_ptr(x, first, "v_block_ptr"),
                       align_at(x->src_align, p->red.off), "v_block_bits");
        if (p->red.swap && n > 1) vals = sj_intrinsic1(e, "llvm.bswap", vals, "v_block_native");
        vals = LLVMBuildBitCast(b, vals,
                                LLVMVectorType(kind == SJ_F32 ? e->f32 : e->f64, SJ_REDUCE_LANES),
                                "v_block_float");
        if (kind == SJ_F32) vals = LLVMBuildFPExt(b, vals, vt, "v_block_d");
    } else { /* strided: eight loads */
        vals = LLVMGetUndef(vt);
        LLVMValueRef vfirst = reduce_ptr(x, first, "v_block_ptr");
        for (unsigned t = 0; t < SJ_REDUCE_LANES; t++)
            vals = LLVMBuildInsertElement(b, vals, reduce_load_next(x, vfirst, t),
                                          sj_cint(e->i32, t), "v_block_vals");
    }
    LLVMValueRef acc_next = LLVMBuildFAdd(b, acc, vals, "v_lanes_next");
    LLVMValueRef j_next = LLVMBuildNUWAdd(b, j, sj_c64(e, 1), "v_block_next");
    sj_phi_add(j, j_next, bblock);
    sj_phi_add(acc, acc_next, bblock);
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, j_next, nblocks, "v_last_block"), bafter,
                    bblock);

    /* tail: lanes[t] += element[8 * blocks + t] for t < rest, one block per lane */
    sj_at(e, bafter);
    LLVMValueRef acc_b = sj_phi(e, vt, zero, entry, "v_lanes_blocks");
    sj_phi_add(acc_b, acc_next, bblock);
    LLVMValueRef tail0 = LLVMBuildNUWMul(b, nblocks, sj_c64(e, SJ_REDUCE_LANES), "v_tail_first");
    LLVMBasicBlockRef btail[SJ_REDUCE_LANES - 1];
    for (unsigned k = 0; k < SJ_REDUCE_LANES - 1; k++) {
        char nb[24];
        snprintf(nb, sizeof nb, "b_tail_%u", k);
        btail[k] = sj_block(e, nb);
    }
    LLVMBasicBlockRef bcomb = sj_block(e, "b_combine");
    LLVMValueRef vtail0 = reduce_ptr(x, tail0, "v_tail_ptr"); /* loaded only when rest > 0 */
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntNE, rest, sj_c64(e, 0), "v_any_tail"), btail[0],
                    bcomb);
    LLVMValueRef ins[SJ_REDUCE_LANES];
    LLVMBasicBlockRef from[SJ_REDUCE_LANES];
    ins[0] = acc_b;
    from[0] = bafter;
    LLVMValueRef cur = acc_b;
    for (unsigned k = 0; k < SJ_REDUCE_LANES - 1; k++) {
        sj_at(e, btail[k]);
        LLVMValueRef v = reduce_load_next(x, vtail0, k);
        LLVMValueRef lane = LLVMBuildExtractElement(b, cur, sj_cint(e->i32, k), "v_lane");
        cur = LLVMBuildInsertElement(b, cur, LLVMBuildFAdd(b, lane, v, "v_lane_next"),
                                     sj_cint(e->i32, k), "v_lanes_tail");
        if (k + 1 < SJ_REDUCE_LANES - 1)
            LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntUGT, rest, sj_c64(e, k + 1), "v_more"),
                            btail[k + 1], bcomb);
        else
            LLVMBuildBr(b, bcomb);
        ins[k + 1] = cur;
        from[k + 1] = btail[k];
    }

    /* ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)) */
    sj_at(e, bcomb);
    LLVMValueRef lanes = LLVMBuildPhi(b, vt, "v_lanes_final");
    LLVMAddIncoming(lanes, ins, from, SJ_REDUCE_LANES);
    LLVMValueRef l[SJ_REDUCE_LANES];
    for (unsigned k = 0; k < SJ_REDUCE_LANES; k++)
        l[k] = LLVMBuildExtractElement(b, lanes, sj_cint(e->i32, k), "v_l");
    LLVMValueRef s01 = LLVMBuildFAdd(b, l[0], l[1], "v_s01");
    LLVMValueRef s23 = LLVMBuildFAdd(b, l[2], l[3], "v_s23");
    LLVMValueRef s45 = LLVMBuildFAdd(b, l[4], l[5], "v_s45");
    LLVMValueRef s67 = LLVMBuildFAdd(b, l[6], l[7], "v_s67");
    LLVMValueRef sum = LLVMBuildFAdd(b, LLVMBuildFAdd(b, s01, s23, "v_s0123"),
                                     LLVMBuildFAdd(b, s45, s67, "v_s4567"), "v_sum");
    sj_store(e, default_nan_if_nan(x, sum), x->aux, 8);
    LLVMBuildRet(b, sj_c64(e, 0));
}

/* SJ_PLAN_MISMATCH: first i in [0, count) with src[i] != dst[i], or -1. Sixteen bytes
 * at a time (compare, mask, count trailing zeros), then byte by byte. */
static void emit_mismatch(emitter *x) {
    sj_em *e = &x->e;
    LLVMBuilderRef b = e->b;
    LLVMValueRef cnt =
        LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSGT, x->count, sj_c64(e, 0), "v_any"), x->count,
                        sj_c64(e, 0), "v_n");
    LLVMBasicBlockRef entry = LLVMGetInsertBlock(b);
    LLVMBasicBlockRef bvec = sj_block(e, "b_chunk"), bvec_next = sj_block(e, "b_chunk_next");
    LLVMBasicBlockRef bvec_found = sj_block(e, "b_chunk_found"),
                      bbytes_pre = sj_block(e, "b_bytes_start");
    LLVMBasicBlockRef bbytes = sj_block(e, "b_byte"), bbytes_next = sj_block(e, "b_byte_next");
    LLVMBasicBlockRef bfound = sj_block(e, "b_found"), bnone = sj_block(e, "b_equal");
    LLVMValueRef chunks =
        x->big_endian ? sj_c64(e, 0) : LLVMBuildLShr(b, cnt, sj_c64(e, 4), "v_chunks");
    LLVMValueRef start = LLVMBuildShl(b, chunks, sj_c64(e, 4), "v_bytes_first");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntNE, chunks, sj_c64(e, 0), "v_any_chunk"), bvec,
                    bbytes_pre);

    /* for (w = 0; w < chunks; w++) { mask = bits of (src16[w] != dst16[w]); if (mask) ... } */
    sj_at(e, bvec);
    LLVMTypeRef v16 = LLVMVectorType(e->i8, 16);
    LLVMValueRef w = sj_phi(e, e->i64, sj_c64(e, 0), entry, "v_chunk");
    LLVMValueRef off = LLVMBuildNUWMul(b, w, sj_c64(e, 16), "v_chunk_off");
    LLVMValueRef a = sj_load(e, v16, sj_gep(e, x->src, off, "v_src_chunk"), 1, "v_a");
    LLVMValueRef c = sj_load(e, v16, sj_gep(e, x->dst, off, "v_dst_chunk"), 1, "v_b");
    LLVMValueRef ne = LLVMBuildICmp(b, LLVMIntNE, a, c, "v_ne");
    LLVMValueRef mask = LLVMBuildBitCast(b, ne, e->i16, "v_mask");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntNE, mask, sj_cint(e->i16, 0), "v_differs"),
                    bvec_found, bvec_next);
    sj_at(e, bvec_next);
    LLVMValueRef w_next = LLVMBuildNUWAdd(b, w, sj_c64(e, 1), "v_chunk_next");
    sj_phi_add(w, w_next, bvec_next);
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, w_next, chunks, "v_last_chunk"), bbytes_pre,
                    bvec);
    sj_at(e, bvec_found); /* return 16w + ctz(mask) */
    LLVMValueRef tz = sj_intrinsic2(e, "llvm.cttz", mask, LLVMConstInt(e->i1, 1, 0), "v_tz");
    LLVMBuildRet(b, LLVMBuildNUWAdd(b, off, LLVMBuildZExt(b, tz, e->i64, "v_tz64"), "v_index"));

    /* for (k = start; k < n; k++) if (src[k] != dst[k]) return k; */
    sj_at(e, bbytes_pre);
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntULT, start, cnt, "v_any_byte"), bbytes, bnone);
    sj_at(e, bbytes);
    LLVMValueRef k = sj_phi(e, e->i64, start, bbytes_pre, "v_k");
    LLVMValueRef ba = sj_load(e, e->i8, sj_gep(e, x->src, k, "v_src_byte"), 1, "v_a");
    LLVMValueRef bb = sj_load(e, e->i8, sj_gep(e, x->dst, k, "v_dst_byte"), 1, "v_b");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntNE, ba, bb, "v_differs"), bfound, bbytes_next);
    sj_at(e, bbytes_next);
    LLVMValueRef k_next = LLVMBuildNUWAdd(b, k, sj_c64(e, 1), "v_k_next");
    sj_phi_add(k, k_next, bbytes_next);
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, k_next, cnt, "v_last_byte"), bnone, bbytes);
    sj_at(e, bfound);
    LLVMBuildRet(b, k);
    sj_at(e, bnone);
    LLVMBuildRet(b, sj_c64(e, -1));
}

static void add_param_attrs(sj_em *e, unsigned param, bool readonly) {
    static const char *const names[] = {"noalias", "readonly"};
    unsigned idx = param + 1;
    LLVMAttributeRef nc = sj_compat_nocapture(e->ctx);
    if (nc) LLVMAddAttributeAtIndex(e->fn, idx, nc);
    for (unsigned i = 0; i < (readonly ? 2u : 1u); i++) {
        unsigned kind = LLVMGetEnumAttributeKindForName(names[i], strlen(names[i]));
        LLVMAddAttributeAtIndex(e->fn, idx, LLVMCreateEnumAttribute(e->ctx, kind, 0));
    }
}

static void add_fn_string_attr(sj_em *e, const char *k, const char *v) {
    if (v && *v)
        LLVMAddAttributeAtIndex(
            e->fn, LLVMAttributeFunctionIndex,
            LLVMCreateStringAttribute(e->ctx, k, (unsigned)strlen(k), v, (unsigned)strlen(v)));
}

/* nounwind, and the host's CPU and features, on the function being built. */
static void add_target_attrs(emitter *x) {
    sj_em *e = &x->e;
    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    LLVMAddAttributeAtIndex(e->fn, LLVMAttributeFunctionIndex,
                            LLVMCreateEnumAttribute(e->ctx, nounwind, 0));
    if (!x->t) return;
    add_fn_string_attr(e, "target-cpu", x->t->cpu);
    add_fn_string_attr(e, "target-features", x->t->features);
    add_fn_string_attr(e, "prefer-vector-width", sj_emit_dense(x->p) || x->p->ndst ? "512" : "256");
}

/* Per element of a MOVE plan: bytes read from the source, and per destination stream
 * (0 for a single destination) bytes written and moves writing them. */
typedef struct move_bytes {
    uint64_t reads;
    uint64_t writes[SJ_MAX_STREAMS];
    unsigned movers[SJ_MAX_STREAMS];
} move_bytes;

/* Adds moves[0..n) of one element to b, an inner loop's body as many times as it runs. */
static void add_move_bytes(move_bytes *b, const sj_plan *p, const sj_move *moves, size_t n,
                           uint64_t times) {
    for (size_t i = 0; i < n; i++) {
        const sj_move *m = &moves[i];
        unsigned s = p->ndst ? m->dst_stream : 0;
        if (m->kind == SJ_MOVE_LOOP) {
            add_move_bytes(b, p, m + 1, m->body, times * m->len);
            i += m->body;
            continue;
        }
        if (m->kind != SJ_MOVE_ZERO)
            b->reads += times * (m->kind == SJ_MOVE_CONVERT ? ksize(m->src_kind) : m->len);
        b->writes[s] += times * (m->kind == SJ_MOVE_CONVERT ? ksize(m->dst_kind) : m->len);
        b->movers[s]++;
    }
}

static move_bytes count_move_bytes(const sj_plan *p) {
    move_bytes b;
    memset(&b, 0, sizeof b);
    add_move_bytes(&b, p, p->moves, p->nmoves, 1);
    return b;
}

/* Whether vectorizing a MOVE loop pays: every destination element written whole and the
 * source read at more than 1/8 density (measurements: docs/JIT.md). */
bool sj_emit_move_vectorizes(const sj_plan *p) {
    if (p->nmoves > SJ_EMIT_VECTOR_MAX_MOVES || plan_loops(p) > SJ_EMIT_VECTOR_MAX_LOOPS)
        return false;
    move_bytes b = count_move_bytes(p);
    uint64_t src_stride = p->src.used ? abs_stride(p->src.stride) : 0;
    if (src_stride && b.reads * 8 <= src_stride) return false;
    unsigned n = p->ndst ? p->ndst : 1;
    for (unsigned s = 0; s < n; s++) {
        const sj_side *d = p->ndst ? &p->dsts[s] : &p->dst;
        if (b.writes[s] < abs_stride(d->stride)) return false;
        /* records rebuilt field by field from records with gaps: scalar (docs/JIT.md) */
        if (b.movers[s] > 1 && src_stride != b.reads) return false;
    }
    return true;
}

bool sj_emit_slp(const sj_plan *p) {
    if (sj_emit_chunked(p)) return true; /* chunk by chunk */
    return p->op == SJ_PLAN_MOVE && p->nmoves > SJ_EMIT_VECTOR_MAX_MOVES &&
           p->nmoves <= SJ_EMIT_SLP_MAX_MOVES;
}

bool sj_emit_chunked(const sj_plan *p) {
    return p->op == SJ_PLAN_MOVE && !p->ndst && p->nmoves > SJ_EMIT_SLP_MAX_MOVES;
}

bool sj_emit_fast_codegen(const sj_plan *p) {
    if (sj_emit_chunked(p)) return false; /* full: chunks keep its time linear */
    return p->op == SJ_PLAN_MOVE && p->nmoves > SJ_EMIT_VECTOR_MAX_MOVES;
}

/* Whether the loop reads and writes whole elements back to back (a dense sum, a byte
 * swap of an array, mismatch): 512-bit vectors where the host has them (docs/JIT.md). */
bool sj_emit_dense(const sj_plan *p) {
    switch (p->op) {
        case SJ_PLAN_REDUCE:
            return p->src.stride == (int64_t)ksize(p->red.kind);
        case SJ_PLAN_MISMATCH:
            return true;
        case SJ_PLAN_MOVE: {
            if (p->ndst) return false;
            move_bytes b = count_move_bytes(p);
            int64_t ss = move_src_stride(p);
            return (ss == 0 || (uint64_t)ss == b.reads) && (uint64_t)p->dst.stride == b.writes[0];
        }
        default:
            return false;
    }
}

int sj_emit_plan(const sj_plan *p, LLVMModuleRef mod, const char *name, const sj_emit_target *t,
                 char *why, size_t why_len) {
    if (sj_emit_check(p, why, why_len)) return 1;
    emitter x;
    memset(&x, 0, sizeof x);
    sj_em *e = &x.e;
    e->ctx = LLVMGetModuleContext(mod);
    e->mod = mod;
    e->i1 = LLVMInt1TypeInContext(e->ctx);
    e->i8 = LLVMInt8TypeInContext(e->ctx);
    e->i16 = LLVMInt16TypeInContext(e->ctx);
    e->i32 = LLVMInt32TypeInContext(e->ctx);
    e->i64 = LLVMInt64TypeInContext(e->ctx);
    e->f32 = LLVMFloatTypeInContext(e->ctx);
    e->f64 = LLVMDoubleTypeInContext(e->ctx);
    e->ptr = LLVMPointerTypeInContext(e->ctx, 0);
    x.p = p;
    x.big_endian = t && t->big_endian;
    x.src_align = base_align(p->src.elem_align);
    x.dst_align = base_align(p->dst.elem_align);

    /* int64_t fn(const uint8_t *src, uint8_t *dst, int64_t count, void *aux) */
    LLVMTypeRef params[4] = {e->ptr, e->ptr, e->i64, e->ptr};
    e->fn = LLVMAddFunction(mod, name, LLVMFunctionType(e->i64, params, 4, 0));
    static const char *const pnames[4] = {"src", "dst", "count", "aux"};
    for (unsigned i = 0; i < 4; i++)
        LLVMSetValueName2(LLVMGetParam(e->fn, i), pnames[i], strlen(pnames[i]));
    x.src = LLVMGetParam(e->fn, 0);
    x.dst = LLVMGetParam(e->fn, 1);
    x.count = LLVMGetParam(e->fn, 2);
    x.aux = LLVMGetParam(e->fn, 3);
    /* Out of place, src, dst and aux never overlap within a call (kernel.c stages
     * overlapping sources), and nothing keeps them. In place, each element is read where
     * it is written: the source is dst itself, so every dependence is visible to LLVM. */
    x.noalias = !p->in_place && !p->direct; /* direct: may overlap, every dependence kept */
    if (p->in_place) x.src = x.dst;
    if (x.noalias) {
        add_param_attrs(e, 0, true);
        add_param_attrs(e, 1, p->op == SJ_PLAN_MISMATCH || p->ndst); /* streams: read */
    }
    add_param_attrs(e, 3, false);
    x.name = name;
    x.t = t;
    x.chunked = sj_emit_chunked(p);
    x.dense = sj_emit_dense(p);
    add_target_attrs(&x);

    e->b = LLVMCreateBuilderInContext(e->ctx);
    sj_at(e, sj_block(e, "b_entry"));
    switch (p->op) {
        case SJ_PLAN_MOVE:
            if (p->ndst)
                emit_streams_plan(&x);
            else
                emit_move_plan(&x);
            break;
        case SJ_PLAN_REDUCE:
            if (!kfloat(p->red.kind))
                emit_int_reduce(&x);
            else if (p->red.op == SJ_REDUCE_SUM)
                emit_float_sum(&x);
            else
                emit_float_minmax(&x);
            break;
        default:
            emit_mismatch(&x);
            break;
    }
    LLVMDisposeBuilder(e->b);
    return 0;
}
