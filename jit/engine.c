/* jit/engine.c: the JIT engine behind the provider that libsegjit dlopens: LLVM start,
 * the one LLJIT of the process, passes and code generation, the kernel cache, counters
 * and the SEGJIT_DUMP output. Plan -> IR is emit.c's; version differences are compat.h's.
 *
 *   compile(plan) ─key─▶ cache ──hit──▶ fn (reference + 1)
 *                          └─miss─▶ emit.c: IR ─▶ passes ─▶ object code ─▶ LLJIT link ─▶ fn
 *   release(code) ─▶ reference - 1 ─▶ last one: resource tracker removed, code unmapped
 *
 * Threads: a compile builds its IR in a context of its own and optimizes and generates
 * code with a target machine taken from a pool (one per compiling thread at a time), so
 * compiles run in parallel. LLJIT only links the object: adding it, looking its symbol up
 * and removing a tracker are serialized by g_jit_lock. (Handing LLJIT IR instead would
 * compile inside the lookup with LLJIT's one shared TargetMachine, and concurrent lookups
 * crash there; linking is ~5% of a compile, so this lock costs nothing measurable.) A
 * compile of a plan that another thread is compiling waits for that one.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "compat.h"
#include "emit.h"
#include "jit_api.h"

#define SJ_EXPORT __attribute__((visibility("default")))

SJ_EXPORT const sj_jit_provider *sj_jit_provider_init(char *why, size_t why_len);

/* The optimization pipeline: what the vectorizer needs and the cleanup after it. Measured
 * on the bench's W1-W6 plans (znver4, LLVM 19): default<O2> spends ~2.5x as long in the
 * passes for the same loops; code generation costs ~5x the passes either way, so the
 * codegen level stays Default (Less saves 2% on znver4 and 12% on znver5 with no loop
 * measurably faster or slower, None halves the compile but the loops run 2-4x slower).
 * What pays most is not vectorizing where it does not pay: sj_emit_move_vectorizes().
 * SEGJIT_JIT_PASSES overrides the pipeline, for measurements.
 *
 * The vectorizer interleaves (unrolls the vector loop, 4 copies on znver4, plus an
 * epilogue vector loop) only for reductions over contiguous values: there the
 * accumulator's add latency is the limit and interleaving hides it (W1 runs 3x slower
 * without). Everywhere else memory or the loads are the limit, interleaving gains nothing
 * measurable (W2, W4-W6, strided reductions) and the extra copies are code to select:
 * without them a strided reduction compiles in ~60% of the time (LLVM 22, znver4). */
#define SJ_PASSES(vectorize)                                                                       \
    "function(instcombine<no-verify-fixpoint>,simplifycfg,loop-simplify,lcssa,indvars," vectorize  \
    ",instcombine<no-verify-fixpoint>,simplifycfg)"
static const char *const k_passes_interleave = SJ_PASSES("loop-vectorize");
static const char *const k_passes = SJ_PASSES("loop-vectorize<interleave-forced-only>");
/* Reductions over strided values (a field of records, W2) are not vectorized at all: the
 * loop is limited by the memory the strided loads pull in, vectorizing them builds wide
 * loads and shuffles that bought nothing measurable (W2 at 0.96-1.03 of C either way),
 * and selecting that code was most of the compile time: a distinct strided reduction
 * compiles in ~1.8 ms without it against ~5.2 ms with it (LLVM 19, znver4). Float sums
 * keep their explicit 8 lanes, so the bits do not change. A loop that is not vectorized
 * needs no loop passes either (loop-simplify, lcssa and indvars prepare loops for the
 * vectorizer; code generation's strength reduction forms the addresses): without them W2
 * runs at the same speed (0.96-1.01 of C, 1M and 16M) and the passes take 0.17 ms
 * instead of 0.40 (LLVM 19, znver5). */
static const char *const k_passes_scalar = "function(instcombine<no-verify-fixpoint>,simplifycfg)";
/* Plans of many moves (wide records, sj_emit_slp): the moves of one element become vector
 * loads, shuffles and stores (docs/JIT.md, W9). */
static const char *const k_passes_slp =
    "function(slp-vectorizer,instcombine<no-verify-fixpoint>,simplifycfg)";

#define SJ_CODEGEN_LEVEL LLVMCodeGenLevelDefault

enum { ENTRY_PENDING, ENTRY_READY, ENTRY_FAILED };

/* A compiled kernel: a cache entry, handed to the core as sj_jit_code. */
struct sj_jit_code {
    struct sj_jit_code *next; /* bucket chain */
    uint64_t hash;
    size_t refs; /* under g_cache_lock; waiters on a pending entry hold one too */
    int state;
    sj_loop_fn fn;
    LLVMOrcResourceTrackerRef rt;
    char why[200]; /* ENTRY_FAILED */
    size_t key_len;
    uint8_t key[]; /* sj_plan_key() bytes: the plan's identity */
};

/* ---- Process state ---- */

static pthread_once_t g_init_once = PTHREAD_ONCE_INIT;
static bool g_init_ok;
static char g_init_why[256];
static char *g_cpu, *g_features, *g_triple;
static char g_describe[160];
static const char *g_passes;
static const char *g_dump_dir;
static bool g_big_endian;
static uint64_t g_key_seed; /* host CPU, features and LLVM version */
static LLVMTargetRef g_target;

static pthread_once_t g_jit_once = PTHREAD_ONCE_INIT;
static LLVMOrcLLJITRef g_jit;
static char g_jit_why[256];
static char *g_data_layout;
static pthread_mutex_t g_jit_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_mutex_t g_tm_lock = PTHREAD_MUTEX_INITIALIZER;
#define SJ_TM_POOL 64
static LLVMTargetMachineRef g_tm_pool[2][SJ_TM_POOL]; /* [fast codegen] */
static size_t g_tm_free[2];

static pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cache_cond = PTHREAD_COND_INITIALIZER;
static struct sj_jit_code **g_buckets;
static size_t g_nbuckets, g_nentries;

static atomic_uint_fast64_t g_seq;
static atomic_uint_fast64_t st_compiled, st_hits, st_misses, st_declines;
static atomic_uint_fast64_t st_ns_init, st_ns_ir, st_ns_opt, st_ns_codegen;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count(atomic_uint_fast64_t *c, uint64_t v) {
    atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t len, const char *fmt, ...) {
    if (why && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return 1;
}

/* The one place an LLVMErrorRef becomes our message: "what: LLVM's text", and the error
 * is disposed of. Returns 1 (a decline). */
static int llvm_fail(LLVMErrorRef err, const char *what, char *why, size_t len) {
    char *msg = LLVMGetErrorMessage(err); /* consumes err */
    fail(why, len, "%s: %s", what, msg ? msg : "unknown LLVM error");
    LLVMDisposeErrorMessage(msg);
    return 1;
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    return h ^ (h >> 32);
}

/* ---- LLVM start (provider init) ---- */

static void init_once(void) {
    uint64_t t0 = now_ns();
    if (LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter()) {
        fail(g_init_why, sizeof g_init_why, "LLVM has no native target for this host");
        return;
    }
    g_triple = LLVMGetDefaultTargetTriple();
    char *err = NULL;
    if (LLVMGetTargetFromTriple(g_triple, &g_target, &err)) {
        fail(g_init_why, sizeof g_init_why, "LLVM cannot target %s: %s", g_triple, err ? err : "?");
        LLVMDisposeMessage(err);
        return;
    }
    g_cpu = LLVMGetHostCPUName();
    g_features = LLVMGetHostCPUFeatures();
    unsigned major = 0, minor = 0, patch = 0;
    LLVMGetVersion(&major, &minor, &patch);
    snprintf(g_describe, sizeof g_describe, "%s, LLVM %u.%u.%u", g_cpu, major, minor, patch);
    g_key_seed = hash_bytes(0xcbf29ce484222325ull, g_describe, strlen(g_describe));
    g_key_seed = hash_bytes(g_key_seed, g_features, strlen(g_features));
    const char *passes = getenv("SEGJIT_JIT_PASSES");
    g_passes = passes && *passes ? strdup(passes) : NULL; /* NULL: passes_for() chooses */
    const char *dump = getenv("SEGJIT_DUMP");
    g_dump_dir = dump && *dump ? strdup(dump) : NULL;
    g_init_ok = true;
    count(&st_ns_init, now_ns() - t0);
}

/* fast: the fast instruction selector and register allocator (sj_emit_fast_codegen). */
static LLVMTargetMachineRef new_tm(bool fast) {
    return LLVMCreateTargetMachine(g_target, g_triple, g_cpu, g_features,
                                   fast ? LLVMCodeGenLevelNone : SJ_CODEGEN_LEVEL, LLVMRelocDefault,
                                   LLVMCodeModelJITDefault);
}

/* Only these process symbols are visible to generated code. */
static int allow_symbol(void *ctx, LLVMOrcSymbolStringPoolEntryRef sym) {
    (void)ctx;
    const char *s = LLVMOrcSymbolStringPoolEntryStr(sym);
    return strcmp(s, "memcpy") == 0 || strcmp(s, "memmove") == 0 || strcmp(s, "memset") == 0;
}

/* ---- The LLJIT (first compile) ---- */

static void drop_jit(void) {
    LLVMErrorRef err = LLVMOrcDisposeLLJIT(g_jit);
    if (err) LLVMConsumeError(err);
    g_jit = NULL;
}

static void jit_once(void) {
    uint64_t t0 = now_ns();
    LLVMTargetMachineRef tm = new_tm(false);
    if (!tm) {
        fail(g_jit_why, sizeof g_jit_why, "LLVM could not create a target machine for %s (%s)",
             g_triple, g_cpu);
        return;
    }
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(
        builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm));
    LLVMErrorRef err = LLVMOrcCreateLLJIT(&g_jit, builder); /* consumes builder */
    if (err) {
        g_jit = NULL;
        llvm_fail(err, "LLVM could not start its JIT", g_jit_why, sizeof g_jit_why);
        return;
    }
    LLVMOrcDefinitionGeneratorRef gen = NULL;
    err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
        &gen, LLVMOrcLLJITGetGlobalPrefix(g_jit), allow_symbol, NULL);
    if (err) {
        llvm_fail(err, "LLVM could not resolve memcpy/memmove/memset", g_jit_why, sizeof g_jit_why);
        drop_jit();
        return;
    }
    LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(g_jit), gen);
    g_data_layout = strdup(LLVMOrcLLJITGetDataLayoutStr(g_jit));
    if (!g_data_layout) {
        fail(g_jit_why, sizeof g_jit_why, "out of memory starting the JIT");
        drop_jit();
        return;
    }
    LLVMTargetDataRef td = LLVMCreateTargetData(g_data_layout);
    g_big_endian = LLVMByteOrder(td) == LLVMBigEndian;
    LLVMDisposeTargetData(td);
    count(&st_ns_init, now_ns() - t0);
}

/* ---- Target machines for the pass pipeline (one per compiling thread at a time) ---- */

static LLVMTargetMachineRef tm_take(bool fast) {
    LLVMTargetMachineRef tm = NULL;
    pthread_mutex_lock(&g_tm_lock);
    if (g_tm_free[fast]) tm = g_tm_pool[fast][--g_tm_free[fast]];
    pthread_mutex_unlock(&g_tm_lock);
    return tm ? tm : new_tm(fast);
}

static void tm_give(LLVMTargetMachineRef tm, bool fast) {
    pthread_mutex_lock(&g_tm_lock);
    if (g_tm_free[fast] < SJ_TM_POOL) {
        g_tm_pool[fast][g_tm_free[fast]++] = tm;
        tm = NULL;
    }
    pthread_mutex_unlock(&g_tm_lock);
    if (tm) LLVMDisposeTargetMachine(tm);
}

/* ---- Cache (under g_cache_lock) ---- */

static struct sj_jit_code *cache_find(uint64_t h, const uint8_t *key, size_t len) {
    if (!g_nbuckets) return NULL;
    for (struct sj_jit_code *c = g_buckets[h & (g_nbuckets - 1)]; c; c = c->next)
        if (c->hash == h && c->key_len == len && memcmp(c->key, key, len) == 0) return c;
    return NULL;
}

static bool cache_insert(struct sj_jit_code *c) {
    if (g_nentries >= g_nbuckets) {
        size_t n = g_nbuckets ? g_nbuckets * 2 : 256;
        struct sj_jit_code **nb = calloc(n, sizeof *nb);
        if (!nb && !g_nbuckets) return false;
        for (size_t i = 0; nb && i < g_nbuckets; i++) {
            struct sj_jit_code *e = g_buckets[i];
            while (e) {
                struct sj_jit_code *next = e->next;
                e->next = nb[e->hash & (n - 1)];
                nb[e->hash & (n - 1)] = e;
                e = next;
            }
        }
        if (nb) { /* else: a longer chain, no harm */
            free(g_buckets);
            g_buckets = nb;
            g_nbuckets = n;
        }
    }
    struct sj_jit_code **b = &g_buckets[c->hash & (g_nbuckets - 1)];
    c->next = *b;
    *b = c;
    g_nentries++;
    return true;
}

static void cache_remove(struct sj_jit_code *c) {
    for (struct sj_jit_code **p = &g_buckets[c->hash & (g_nbuckets - 1)]; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            g_nentries--;
            return;
        }
}

/* ---- One compile: IR, passes, machine code ---- */

static void dump_module(LLVMModuleRef mod, const sj_plan *p, uint64_t h) {
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/sj_%s_%016llx.ll", g_dump_dir, sj_emit_op_name(p),
                     (unsigned long long)h);
    if (n < 0 || (size_t)n >= sizeof path) return;
    char *err = NULL;
    LLVMPrintModuleToFile(mod, path, &err); /* best effort: a dump never fails a compile */
    LLVMDisposeMessage(err);
}

/* The pipeline for p (above: where interleaving pays). A value of at most 8 bytes per
 * element is a contiguous (or 2-way interleaved) load stream the vectorizer reads with
 * whole-vector loads. */
static const char *passes_for(const sj_plan *p) {
    if (g_passes) return g_passes;
    switch (p->op) {
        case SJ_PLAN_REDUCE:
            return sj_emit_dense(p) ? k_passes_interleave : k_passes_scalar;
        case SJ_PLAN_MOVE:
            if (sj_emit_move_vectorizes(p)) return k_passes;
            return sj_emit_slp(p) ? k_passes_slp : k_passes_scalar;
        default:
            return k_passes;
    }
}

static int build(struct sj_jit_code *c, const sj_plan *p, char *why, size_t why_len) {
    pthread_once(&g_jit_once, jit_once);
    if (!g_jit) return fail(why, why_len, "%s", g_jit_why);

    /* IR, in a context of its own */
    uint64_t t0 = now_ns();
    char name[80];
    snprintf(name, sizeof name, "sj_%s_%016llx_%llu", sj_emit_op_name(p),
             (unsigned long long)c->hash,
             (unsigned long long)atomic_fetch_add_explicit(&g_seq, 1, memory_order_relaxed));
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext(name, ctx);
    LLVMSetDataLayout(mod, g_data_layout);
    LLVMSetTarget(mod, g_triple);
    sj_emit_target target = {g_cpu, g_features, g_big_endian};
    int rc = sj_emit_plan(p, mod, name, &target, why, why_len);
    if (rc == 0) {
        char *msg = NULL;
        if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg))
            rc = fail(why, why_len, "generated IR is invalid (a segjit bug): %.120s",
                      msg ? msg : "?");
        LLVMDisposeMessage(msg);
    }
    uint64_t t1 = now_ns();
    count(&st_ns_ir, t1 - t0);

    /* passes and machine code, on this thread's target machine for the host (the
     * vectorizer needs the real target) */
    LLVMMemoryBufferRef obj = NULL;
    bool fast = sj_emit_fast_codegen(p);
    LLVMTargetMachineRef tm = rc ? NULL : tm_take(fast);
    if (rc == 0 && !tm)
        rc = fail(why, why_len, "LLVM could not create a target machine for %s", g_cpu);
    if (rc == 0) {
        LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
        LLVMPassBuilderOptionsSetLoopVectorization(opts, 1);
        LLVMPassBuilderOptionsSetLoopInterleaving(opts, 1);
        LLVMErrorRef err = LLVMRunPasses(mod, passes_for(p), tm, opts);
        LLVMDisposePassBuilderOptions(opts);
        if (err) rc = llvm_fail(err, "LLVM optimization failed", why, why_len);
    }
    uint64_t t2 = now_ns();
    count(&st_ns_opt, t2 - t1);
    if (rc == 0 && g_dump_dir) dump_module(mod, p, c->hash);
    if (rc == 0) {
        char *msg = NULL;
        if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &msg, &obj))
            rc = fail(why, why_len, "LLVM code generation failed: %.120s", msg ? msg : "?");
        LLVMDisposeMessage(msg);
    }
    if (tm) tm_give(tm, fast);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    if (rc) {
        if (obj) LLVMDisposeMemoryBuffer(obj);
        return rc;
    }

    /* link: add the object under a fresh resource tracker and look the symbol up */
    LLVMOrcExecutorAddress addr = 0;
    pthread_mutex_lock(&g_jit_lock);
    LLVMOrcResourceTrackerRef rt =
        LLVMOrcJITDylibCreateResourceTracker(LLVMOrcLLJITGetMainJITDylib(g_jit));
    LLVMErrorRef err = LLVMOrcLLJITAddObjectFileWithRT(g_jit, rt, obj); /* consumes obj */
    if (err) {
        rc = llvm_fail(err, "LLVM could not add the kernel", why, why_len);
    } else if ((err = LLVMOrcLLJITLookup(g_jit, &addr, name))) {
        rc = llvm_fail(err, "LLVM could not link the kernel", why, why_len);
    } else if (!addr) {
        rc = fail(why, why_len, "LLVM linked the kernel at address 0");
    }
    if (rc) {
        LLVMErrorRef rerr = LLVMOrcResourceTrackerRemove(rt);
        if (rerr) LLVMConsumeError(rerr);
        LLVMOrcReleaseResourceTracker(rt);
        rt = NULL;
    }
    pthread_mutex_unlock(&g_jit_lock);
    count(&st_ns_codegen, now_ns() - t2);
    if (rc) return rc;
    c->rt = rt;
    c->fn = (sj_loop_fn)(uintptr_t)addr;
    count(&st_compiled, 1);
    return 0;
}

static void code_destroy(struct sj_jit_code *c) {
    if (c->rt) {
        pthread_mutex_lock(&g_jit_lock);
        LLVMErrorRef err = LLVMOrcResourceTrackerRemove(c->rt);
        if (err) LLVMConsumeError(err); /* nothing to tell anyone: the code is gone either way */
        LLVMOrcReleaseResourceTracker(c->rt);
        LLVMOrcSymbolStringPoolClearDeadEntries(
            LLVMOrcExecutionSessionGetSymbolStringPool(LLVMOrcLLJITGetExecutionSession(g_jit)));
        pthread_mutex_unlock(&g_jit_lock);
    }
    free(c);
}

/* Drops one reference under g_cache_lock; true when the caller must destroy c (after
 * unlocking). The entry leaves the table when its last reference goes. */
static bool unref_locked(struct sj_jit_code *c) {
    if (--c->refs) return false;
    if (c->state != ENTRY_FAILED) /* failed entries left the table already */
        cache_remove(c);
    return true;
}

/* ---- The provider ---- */

static int jit_compile(const sj_plan *plan, sj_loop_fn *fn, sj_jit_code **code, char *why,
                       size_t why_len) {
    if (!plan || !fn || !code) {
        count(&st_declines, 1);
        return fail(why, why_len, "no plan to compile");
    }
    if (sj_emit_check(plan, why, why_len)) {
        count(&st_declines, 1);
        return 1;
    }
    uint8_t kbuf[1024];
    uint8_t *key = kbuf;
    size_t klen = sj_plan_key(plan, kbuf, sizeof kbuf);
    if (klen > sizeof kbuf) {
        key = malloc(klen);
        if (!key) {
            count(&st_declines, 1);
            return fail(why, why_len, "out of memory for a %zu-byte cache key", klen);
        }
        sj_plan_key(plan, key, klen);
    }
    uint64_t h = hash_bytes(g_key_seed, key, klen);

    pthread_mutex_lock(&g_cache_lock);
    struct sj_jit_code *c = cache_find(h, key, klen);
    if (c) { /* ready, or being compiled by another thread: wait for it */
        c->refs++;
        while (c->state == ENTRY_PENDING)
            pthread_cond_wait(&g_cache_cond, &g_cache_lock);
        if (key != kbuf) free(key);
        if (c->state == ENTRY_READY) {
            pthread_mutex_unlock(&g_cache_lock);
            count(&st_hits, 1);
            *fn = c->fn;
            *code = c;
            return 0;
        }
        fail(why, why_len, "%s", c->why);
        bool destroy = unref_locked(c);
        pthread_mutex_unlock(&g_cache_lock);
        if (destroy) code_destroy(c);
        count(&st_declines, 1);
        return 1;
    }
    c = calloc(1, sizeof *c + klen);
    if (c) {
        c->hash = h;
        c->refs = 1; /* the caller's */
        c->state = ENTRY_PENDING;
        c->key_len = klen;
        memcpy(c->key, key, klen);
        if (!cache_insert(c)) {
            free(c);
            c = NULL;
        }
    }
    pthread_mutex_unlock(&g_cache_lock);
    if (key != kbuf) free(key);
    if (!c) {
        count(&st_declines, 1);
        return fail(why, why_len, "out of memory for a cache entry");
    }
    count(&st_misses, 1);

    char reason[sizeof c->why] = "";
    int rc = build(c, plan, reason, sizeof reason);
    bool destroy = false;
    pthread_mutex_lock(&g_cache_lock);
    if (rc == 0) {
        c->state = ENTRY_READY;
    } else { /* waiters decline with the same reason; the next compile tries again */
        c->state = ENTRY_FAILED;
        memcpy(c->why, reason, sizeof reason);
        cache_remove(c);
        destroy = unref_locked(c);
    }
    pthread_cond_broadcast(&g_cache_cond);
    pthread_mutex_unlock(&g_cache_lock);
    if (rc) {
        if (destroy) code_destroy(c);
        count(&st_declines, 1);
        return fail(why, why_len, "%s", reason);
    }
    *fn = c->fn;
    *code = c;
    return 0;
}

static void jit_release(sj_jit_code *code) {
    if (!code) return;
    pthread_mutex_lock(&g_cache_lock);
    bool destroy = unref_locked(code);
    pthread_mutex_unlock(&g_cache_lock);
    if (destroy) code_destroy(code);
}

static void jit_stats(sj_jit_stats *out) {
    if (!out) return;
    out->compiled = atomic_load(&st_compiled);
    out->cache_hits = atomic_load(&st_hits);
    out->cache_misses = atomic_load(&st_misses);
    out->declines = atomic_load(&st_declines);
    out->ns_init = atomic_load(&st_ns_init);
    out->ns_ir = atomic_load(&st_ns_ir);
    out->ns_opt = atomic_load(&st_ns_opt);
    out->ns_codegen = atomic_load(&st_ns_codegen);
}

static const char *jit_describe(void) {
    return g_describe;
}

static const sj_jit_provider g_provider = {
    .api_version = SJ_JIT_API_VERSION,
    .compile = jit_compile,
    .release = jit_release,
    .stats = jit_stats,
    .describe = jit_describe,
};

SJ_EXPORT const sj_jit_provider *sj_jit_provider_init(char *why, size_t why_len) {
    pthread_once(&g_init_once, init_once);
    if (!g_init_ok) {
        fail(why, why_len, "%s", g_init_why);
        return NULL;
    }
    return &g_provider;
}
