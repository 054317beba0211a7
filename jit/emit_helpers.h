/* jit/emit_helpers.h: tiny static inline helpers that emit.c builds IR with, so that
 * each builder call reads like the C expression it stands for (`p + off`, `*(T *)p`).
 * Helpers only: no plan logic, no engine state. */
#ifndef SEGJIT_JIT_EMIT_HELPERS_H
#define SEGJIT_JIT_EMIT_HELPERS_H

#include <stdint.h>

#include <llvm-c/Core.h>

/* What every emit function needs: the context, module, builder, the function being
 * built and the types it uses. */
typedef struct sj_em {
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMValueRef fn;
    LLVMTypeRef i1, i8, i16, i32, i64, f32, f64, ptr;
} sj_em;

static inline LLVMValueRef sj_c64(sj_em *e, int64_t v) {
    return LLVMConstInt(e->i64, (unsigned long long)v, 1);
}
static inline LLVMValueRef sj_cint(LLVMTypeRef t, uint64_t v) {
    return LLVMConstInt(t, v, 0);
}

static inline LLVMTypeRef sj_int_type(sj_em *e, unsigned bytes) {
    return LLVMIntTypeInContext(e->ctx, bytes * 8);
}

/* A new block at the end of the function. */
static inline LLVMBasicBlockRef sj_block(sj_em *e, const char *name) {
    return LLVMAppendBasicBlockInContext(e->ctx, e->fn, name);
}
static inline void sj_at(sj_em *e, LLVMBasicBlockRef bb) {
    LLVMPositionBuilderAtEnd(e->b, bb);
}

/* (uint8_t *)base + off, inbounds: every address the loop forms was proved inside its
 * segment by the call's checks. */
static inline LLVMValueRef sj_gep(sj_em *e, LLVMValueRef base, LLVMValueRef off, const char *name) {
    return LLVMBuildInBoundsGEP2(e->b, e->i8, base, &off, 1, name);
}
static inline LLVMValueRef sj_gep_c(sj_em *e, LLVMValueRef base, uint64_t off, const char *name) {
    return off ? sj_gep(e, base, sj_c64(e, (int64_t)off), name) : base;
}

/* *(T *)p with the alignment the plan proved. */
static inline LLVMValueRef sj_load(sj_em *e, LLVMTypeRef t, LLVMValueRef p, unsigned align,
                                   const char *name) {
    LLVMValueRef v = LLVMBuildLoad2(e->b, t, p, name);
    LLVMSetAlignment(v, align);
    return v;
}
/* *(T *)p = v */
static inline void sj_store(sj_em *e, LLVMValueRef v, LLVMValueRef p, unsigned align) {
    LLVMSetAlignment(LLVMBuildStore(e->b, v, p), align);
}

/* A call of the intrinsic `name` overloaded on types ov[0..nov). */
static inline LLVMValueRef sj_intrinsic(sj_em *e, const char *name, LLVMTypeRef *ov, unsigned nov,
                                        LLVMValueRef *args, unsigned nargs, const char *vname) {
    size_t len = 0;
    while (name[len])
        len++;
    unsigned id = LLVMLookupIntrinsicID(name, len);
    LLVMValueRef decl = LLVMGetIntrinsicDeclaration(e->mod, id, ov, nov);
    return LLVMBuildCall2(e->b, LLVMGlobalGetValueType(decl), decl, args, nargs, vname);
}
static inline LLVMValueRef sj_intrinsic1(sj_em *e, const char *name, LLVMValueRef a,
                                         const char *vname) {
    LLVMTypeRef t = LLVMTypeOf(a);
    return sj_intrinsic(e, name, &t, 1, &a, 1, vname);
}
static inline LLVMValueRef sj_intrinsic2(sj_em *e, const char *name, LLVMValueRef a, LLVMValueRef b,
                                         const char *vname) {
    LLVMTypeRef t = LLVMTypeOf(a);
    LLVMValueRef args[2] = {a, b};
    return sj_intrinsic(e, name, &t, 1, args, 2, vname);
}

/* phi of type t with its first incoming edge; more are added with sj_phi_add. */
static inline LLVMValueRef sj_phi(sj_em *e, LLVMTypeRef t, LLVMValueRef v, LLVMBasicBlockRef from,
                                  const char *name) {
    LLVMValueRef phi = LLVMBuildPhi(e->b, t, name);
    LLVMAddIncoming(phi, &v, &from, 1);
    return phi;
}
static inline void sj_phi_add(LLVMValueRef phi, LLVMValueRef v, LLVMBasicBlockRef from) {
    LLVMAddIncoming(phi, &v, &from, 1);
}

#endif
