/* src/jit_loader.h: the core's side of the JIT seam: finds and loads libsegjit-jit.so
 * once per process and hands out its provider (jit_api.h). Tier choice and kernels are
 * kernel.c's; nothing about LLVM here. */
#ifndef SEGJIT_JIT_LOADER_H
#define SEGJIT_JIT_LOADER_H

#include <stddef.h>

#include "jit_api.h"

/* The JIT provider, loaded on the first call (thread-safe); NULL when the JIT is not
 * available, with the reason written into why (when not NULL). Where the object is
 * looked for, in order: $SEGJIT_JIT_LIBRARY (only there, when set); the directory of
 * libsegjit itself + "/libsegjit-jit.so"; dlopen("libsegjit-jit.so") (the loader's
 * search path). Built with -DSEGJIT_JIT=OFF it always says "built without the JIT". */
const sj_jit_provider *sj_jit_provider_get(char *why, size_t why_len);

#endif
