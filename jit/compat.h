/* jit/compat.h: the one place where LLVM versions differ (18 to 22). Every
 * `#if LLVM_VERSION_MAJOR` of the JIT lives here, behind small static inline helpers;
 * emit.c and engine.c call the helpers and never test the version themselves.
 * (LLVM 21 also removed LLVMOrcThreadSafeContextGetContext: the engine needs no
 * ThreadSafeContext at all, since it hands LLJIT object code, not IR.) */
#ifndef SEGJIT_JIT_COMPAT_H
#define SEGJIT_JIT_COMPAT_H

#include <llvm-c/Core.h>
#include <llvm/Config/llvm-config.h>

#if LLVM_VERSION_MAJOR < 18 || LLVM_VERSION_MAJOR > 22
#error "segjit's JIT supports LLVM 18 to 22"
#endif

/* The "pointer is not captured" parameter attribute: `nocapture` up to LLVM 20,
 * `captures(none)` (an integer attribute whose value 0 means none) from LLVM 21. */
static inline LLVMAttributeRef sj_compat_nocapture(LLVMContextRef ctx) {
#if LLVM_VERSION_MAJOR >= 21
    static const char name[] = "captures";
#else
    static const char name[] = "nocapture";
#endif
    unsigned kind = LLVMGetEnumAttributeKindForName(name, sizeof name - 1);
    return kind ? LLVMCreateEnumAttribute(ctx, kind, 0) : NULL;
}

#endif
