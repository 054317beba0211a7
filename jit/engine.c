/* jit/engine.c: the JIT engine behind the provider that libsegjit dlopens: LLVM start,
 * the one LLJIT of the process, passes and code generation, the code cache, counters
 * and the SEGJIT_DUMP output. Plan -> IR is emit.c's; version differences are compat.h's;
 * pipelines and limits are src/jit_policy.h's; the reasons behind them docs/JIT.md's.
 *
 *   compile(plan) ─key─▶ cache ──hit──▶ fn (reference + 1)
 *                          └─miss─▶ emit.c: IR ─▶ passes ─▶ object code ─▶ LLJIT link ─▶ fn
 *   release(code) ─▶ reference - 1 ─▶ last one: kept, unreferenced (LRU list)
 *   unreferenced bytes > limit ─▶ least recently used: resource tracker removed, unmapped
 *
 * Threads: compiles run in parallel, each with its own LLVM context and a target machine
 * from a pool; LLJIT only links, serialized by g_jit_lock; a compile of a plan that
 * another thread is compiling waits for that one (docs/JIT.md, "Threads").
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/ErrorHandling.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "compat.h"
#include "emit.h"
#include "image.h"
#include "jit_api.h"
#include "jit_policy.h"

#define SJ_EXPORT __attribute__((visibility("default")))

SJ_EXPORT const sj_jit_provider *sj_jit_provider_init(char *why, size_t why_len);
/* What the core checks before it runs anything here (jit_api.h). */
SJ_EXPORT const sj_jit_identity sj_jit_build_identity = SJ_JIT_IDENTITY_INIT(SEGJIT_BUILD_ID);

/* Pipelines: src/jit_policy.h; the measurements behind them: docs/JIT.md. */
static const char *const k_passes_interleave = SJ_PASSES_INTERLEAVE;
static const char *const k_passes = SJ_PASSES_VECTORIZE;
static const char *const k_passes_scalar = SJ_PASSES_SCALAR;
static const char *const k_passes_slp = SJ_PASSES_SLP;

/* Default, not Less or None: docs/JIT.md, "Code generation level". */
#define SJ_CODEGEN_LEVEL LLVMCodeGenLevelDefault

enum { ENTRY_PENDING, ENTRY_READY, ENTRY_FAILED };

/* A compiled kernel: a cache entry, handed to the core as sj_jit_code. */
struct sj_jit_code {
    struct sj_jit_code *next;          /* bucket chain; once out of the table, a free list */
    struct sj_jit_code *older, *newer; /* LRU list, while ready and unreferenced */
    uint64_t hash;
    size_t refs; /* under g_cache_lock; waiters on a pending entry hold one too */
    int state;
    int reason; /* ENTRY_FAILED: the sj_decline */
    sj_loop_fn fn;
    LLVMOrcResourceTrackerRef rt;
    uint64_t obj_bytes; /* object size (ENTRY_READY) */
    uint64_t bytes;     /* what it counts against the limit: object + SJ_JIT_ENTRY_OVERHEAD */
    uint64_t ns_build;  /* its compile */
    uint8_t *image;     /* its persistable image (image.c), or NULL and image_why */
    size_t image_len;
    char image_why[120];
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

/* Calls into LLVM after the provider's start (docs/JIT.md, "When LLVM fails"): compiles
 * hold g_llvm_rw shared and run in parallel; the first compile of each pipeline (LLVM's
 * first-time initialisations, and the LLJIT's creation) holds it exclusively; linking and
 * removing code also hold g_jit_lock. Once g_broken is set no thread enters LLVM again. */
#ifdef PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
/* glibc prefers readers by default: a steady stream of compiles could keep a pipeline's
 * first compile waiting for ever. No thread takes it twice, so writers may go first. */
#define SJ_LLVM_RW_INIT PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
#else
#define SJ_LLVM_RW_INIT PTHREAD_RWLOCK_INITIALIZER
#endif
static pthread_rwlock_t g_llvm_rw = SJ_LLVM_RW_INIT;
static _Thread_local int t_llvm_hold; /* g_llvm_rw: 0 not held, 1 shared, 2 exclusive */
static atomic_int g_llvm_inside;      /* threads holding g_llvm_rw (read by a child of fork) */
static _Thread_local bool t_fast_ran; /* the last build() generated code the fast way */
static bool g_jit_tried;              /* the LLJIT's creation ran (exclusive) */
/* pipelines (passes, fast codegen) compiled once already: written exclusively */
#define SJ_WARM_MAX 16
static struct {
    const char *passes;
    bool fast;
} g_warm[SJ_WARM_MAX];
static size_t g_nwarm;
static bool g_full_codegen_warm; /* full code generation ran (exclusive): written so */
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
/* Ready entries no kernel holds, most recently released at g_newest; their bytes, the
 * bytes of every ready entry, and the bound on the unreferenced ones. */
static struct sj_jit_code *g_oldest, *g_newest;
static uint64_t g_unref_bytes, g_ready_bytes;
static uint64_t g_limit = SJ_JIT_CACHE_BYTES_DEFAULT;
/* Key hashes of the last SJ_GHOSTS evicted entries (0: empty), so that a miss on one of
 * them counts as a recompile: how often the limit was too small. */
#define SJ_GHOSTS 4096
static uint64_t g_ghosts[SJ_GHOSTS];
static size_t g_ghost_next;

static atomic_uint_fast64_t g_seq;
static atomic_uint_fast64_t st_compiled, st_hits, st_misses, st_declines, st_evictions;
static atomic_uint_fast64_t st_recompiles;
static atomic_uint_fast64_t st_ns_init, st_ns_ir, st_ns_opt, st_ns_codegen;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count(atomic_uint_fast64_t *c, uint64_t v) {
    atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

/* The one place an LLVMErrorRef becomes our message: "what: LLVM's text", and the error
 * is disposed of. Returns SJ_DECLINE_LLVM. */
static int llvm_fail(LLVMErrorRef err, const char *what, char *why, size_t len) {
    char *msg = LLVMGetErrorMessage(err); /* consumes err */
    sj_jit_fail(why, len, SJ_DECLINE_LLVM, "%s: %s", what, msg ? msg : "unknown LLVM error");
    LLVMDisposeErrorMessage(msg);
    return SJ_DECLINE_LLVM;
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

/* ---- LLVM fatal errors (docs/JIT.md, "When LLVM fails") ----
 * LLVM ends the process after its fatal-error handler returns. A compile runs under a
 * jump buffer: the handler jumps back to it, the compile declines with LLVM's reason, and
 * the JIT is off for the rest of the process (LLVM may have been left mid-update, with its
 * own locks held; what the compile had allocated is leaked). Outside a compile there is
 * nothing to return to, and LLVM's own handling applies. */
static _Thread_local jmp_buf *t_fatal_jmp;
static _Thread_local char t_fatal_why[200];
static _Thread_local bool t_holds_jit_lock; /* g_jit_lock, to release after a jump */
static _Atomic int g_broken; /* 0 fine, 1 being recorded, 2 off (g_broken_why written) */
static char g_broken_why[200];
/* SEGJIT_JIT_TEST_FATAL (tests only): N > 0 makes the Nth compile run LLVM's
 * trigger-verifier-error and verify passes, so that LLVM itself reports a fatal error;
 * N < 0 makes the |N|th compile call the handler while it holds the link lock. */
static int g_test_fatal;
static _Atomic int g_compiles;
/* SEGJIT_JIT_TEST_NOMEM (tests only): N > 0 makes the first N compiles that miss the cache
 * fail to allocate their entry, so that they decline as nomem (transient: the core tries
 * again later). */
static int g_test_nomem;
static _Atomic int g_nomem_given;

/* SEGJIT_JIT_TEST_STUCK (tests only): the Nth compile never ends, as one waiting for a
 * one-time initialiser whose guard a jump on another thread left taken. */
static int g_test_stuck;
static _Atomic int g_stuck_compiles;

static bool test_nomem(void) {
    return g_test_nomem > 0 && atomic_load(&g_nomem_given) < g_test_nomem &&
           atomic_fetch_add(&g_nomem_given, 1) < g_test_nomem;
}

static void on_llvm_fatal(const char *reason) {
    snprintf(t_fatal_why, sizeof t_fatal_why, "%s", reason ? reason : "(no reason)");
    if (t_fatal_jmp) longjmp(*t_fatal_jmp, 1);
}

/* Allocation failures have handlers of their own, reachable only through LLVM's and the
 * C++ runtime's C++ entry points (the C API has none): declared here by their Itanium
 * names, weak, so a runtime without them leaves LLVM's own handling (an abort). LLVM's
 * bad-alloc handler (its containers' failures) and the C++ new handler (operator new)
 * jump back to the compile as a fatal error does (PostgreSQL installs the same two). */
typedef void (*llvm_bad_alloc_fn)(void *user, const char *reason, bool gen_crash_diag);
extern void llvm_install_bad_alloc(llvm_bad_alloc_fn fn, void *user) __asm__(
    "_ZN4llvm31install_bad_alloc_error_handlerEPFvPvPKcbES0_") __attribute__((weak));
extern void llvm_report_bad_alloc(const char *reason, bool gen_crash_diag) __asm__(
    "_ZN4llvm22report_bad_alloc_errorEPKcb") __attribute__((weak));
typedef void (*new_handler_fn)(void);
extern new_handler_fn cxx_set_new_handler(new_handler_fn fn) __asm__("_ZSt15set_new_handlerPFvvE")
    __attribute__((weak));
extern void *cxx_operator_new(size_t n) __asm__("_Znwm") __attribute__((weak));
static new_handler_fn g_prev_new_handler; /* under g_new_lock */
static pthread_mutex_t g_new_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_llvm_bad_alloc(void *user, const char *reason, bool gen_crash_diag) {
    (void)user;
    (void)gen_crash_diag;
    char r[160];
    snprintf(r, sizeof r, "out of memory (%s)", reason ? reason : "LLVM");
    on_llvm_fatal(r);
    /* outside a compile (a host using LLVM itself): LLVM's handler must not return */
    fprintf(stderr, "LLVM ERROR: %s\n", r);
    abort();
}

/* operator new failed: inside a compile, jump back; on any other thread (the program's
 * own C++ code, while a compile runs) step aside for the handler there was before, which
 * operator new then calls (none: it throws std::bad_alloc as usual). */
static void on_new_fail(void) {
    if (t_fatal_jmp) on_llvm_fatal("out of memory (operator new)");
    pthread_mutex_lock(&g_new_lock);
    cxx_set_new_handler(g_prev_new_handler);
    pthread_mutex_unlock(&g_new_lock);
}

/* The new handler is the JIT's only while compiles run: armed by the first, disarmed by
 * the last (t_new_armed: this thread's part, given back after a jump too). */
static int g_new_armed;
static _Thread_local bool t_new_armed;

static void arm_new_handler(void) {
    if (!cxx_set_new_handler) return;
    pthread_mutex_lock(&g_new_lock);
    if (g_new_armed++ == 0) g_prev_new_handler = cxx_set_new_handler(on_new_fail);
    t_new_armed = true;
    pthread_mutex_unlock(&g_new_lock);
}

static void disarm_new_handler(void) {
    if (!t_new_armed) return;
    pthread_mutex_lock(&g_new_lock);
    t_new_armed = false;
    if (--g_new_armed == 0) {
        new_handler_fn h = cxx_set_new_handler(g_prev_new_handler);
        if (h != on_new_fail) cxx_set_new_handler(h); /* replaced meanwhile: keep that one */
    }
    pthread_mutex_unlock(&g_new_lock);
}

/* SEGJIT_JIT_TEST_OOM=M[:N] (tests only): the Nth compile (default the first) reports an
 * allocation failure through LLVM (M = 1) or calls operator new for more than can be had
 * (M = 2). */
static int g_test_oom, g_test_oom_at = 1;
static _Atomic int g_oom_compiles;

static void test_oom(void) {
    if (!g_test_oom || atomic_fetch_add(&g_oom_compiles, 1) + 1 != g_test_oom_at) return;
    if (g_test_oom == 1 && llvm_report_bad_alloc)
        llvm_report_bad_alloc("segjit test: SEGJIT_JIT_TEST_OOM", false);
    if (g_test_oom == 2 && cxx_operator_new) cxx_operator_new((size_t)1 << 62);
}

static void init_once(void) {
    uint64_t t0 = now_ns();
    if (LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter()) {
        sj_jit_fail(g_init_why, sizeof g_init_why, SJ_DECLINE_UNAVAILABLE,
                    "LLVM has no native target for this host");
        return;
    }
    g_triple = LLVMGetDefaultTargetTriple();
    char *err = NULL;
    if (LLVMGetTargetFromTriple(g_triple, &g_target, &err)) {
        sj_jit_fail(g_init_why, sizeof g_init_why, SJ_DECLINE_UNAVAILABLE,
                    "LLVM cannot target %s: %s", g_triple, err ? err : "?");
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
    const char *passes = secure_getenv("SEGJIT_JIT_PASSES"); /* not in setuid programs */
    g_passes = passes && *passes ? strdup(passes) : NULL;    /* NULL: passes_for() chooses */
    const char *dump = secure_getenv("SEGJIT_DUMP");
    g_dump_dir = dump && *dump ? strdup(dump) : NULL;
    const char *fatal = secure_getenv("SEGJIT_JIT_TEST_FATAL");
    g_test_fatal = fatal && *fatal ? atoi(fatal) : 0;
    const char *nomem = secure_getenv("SEGJIT_JIT_TEST_NOMEM");
    g_test_nomem = nomem && *nomem ? atoi(nomem) : 0;
    const char *stuck = secure_getenv("SEGJIT_JIT_TEST_STUCK");
    g_test_stuck = stuck && *stuck ? atoi(stuck) : 0;
    const char *oom = secure_getenv("SEGJIT_JIT_TEST_OOM");
    if (oom && *oom) {
        char *end = NULL;
        g_test_oom = (int)strtol(oom, &end, 10);
        if (end && *end == ':') g_test_oom_at = (int)strtol(end + 1, NULL, 10);
    }
    LLVMInstallFatalErrorHandler(on_llvm_fatal);
    if (llvm_install_bad_alloc) llvm_install_bad_alloc(on_llvm_bad_alloc, NULL);
    g_init_ok = true;
    count(&st_ns_init, now_ns() - t0);
}

/* fast: the fast instruction selector and register allocator (sj_emit_fast_codegen). */
/* Position-independent, small code model: the code reaches its constants and the C
 * library PC-relative, so that its image runs wherever it is mapped (image.c; the loop
 * speed is unchanged, docs/JIT.md "Persistent cache"). */
static LLVMTargetMachineRef new_tm(bool fast) {
    return LLVMCreateTargetMachine(g_target, g_triple, g_cpu, g_features,
                                   fast ? LLVMCodeGenLevelNone : SJ_CODEGEN_LEVEL, LLVMRelocPIC,
                                   LLVMCodeModelSmall);
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

static void jit_start(void) {
    uint64_t t0 = now_ns();
    LLVMTargetMachineRef tm = new_tm(false);
    if (!tm) {
        sj_jit_fail(g_jit_why, sizeof g_jit_why, SJ_DECLINE_UNAVAILABLE,
                    "LLVM could not create a target machine for %s (%s)", g_triple, g_cpu);
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
        sj_jit_fail(g_jit_why, sizeof g_jit_why, SJ_DECLINE_UNAVAILABLE,
                    "out of memory starting the JIT");
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

/* The clock of the timed waits below: monotonic where the C library takes a clock (a
 * wall clock stepped back would stretch a slice); TSan builds keep the calls it intercepts. */
#if defined(SEGJIT_HAVE_CLOCKLOCK) && !defined(SEGJIT_TSAN_BUILD)
#define SJ_CLOCKED    1
#define SJ_WAIT_CLOCK CLOCK_MONOTONIC
#else
#define SJ_CLOCKED    0
#define SJ_WAIT_CLOCK CLOCK_REALTIME
#endif

/* SJ_WAIT_CLOCK ms from now. */
static struct timespec deadline_ms(long ms) {
    struct timespec t;
    clock_gettime(SJ_WAIT_CLOCK, &t);
    t.tv_nsec += ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

/* Locks that a thread stuck inside LLVM may hold for ever once the JIT is off (a guard a
 * jump left taken): waited for in slices, given up (false) once the JIT is off. */
static bool lock_unless_broken(int (*timed)(void *, const struct timespec *), void *lock) {
    for (;;) {
        if (atomic_load(&g_broken)) return false;
        struct timespec t = deadline_ms(20);
        if (timed(lock, &t) == 0) return true;
    }
}
#if SJ_CLOCKED
static int rd_timed(void *l, const struct timespec *t) {
    return pthread_rwlock_clockrdlock(l, SJ_WAIT_CLOCK, t);
}
static int wr_timed(void *l, const struct timespec *t) {
    return pthread_rwlock_clockwrlock(l, SJ_WAIT_CLOCK, t);
}
static int mutex_timed(void *l, const struct timespec *t) {
    return pthread_mutex_clocklock(l, SJ_WAIT_CLOCK, t);
}
static int cond_timed(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t) {
    return pthread_cond_clockwait(c, m, SJ_WAIT_CLOCK, t);
}
#else
static int rd_timed(void *l, const struct timespec *t) {
    return pthread_rwlock_timedrdlock(l, t);
}
static int wr_timed(void *l, const struct timespec *t) {
    return pthread_rwlock_timedwrlock(l, t);
}
static int mutex_timed(void *l, const struct timespec *t) {
    return pthread_mutex_timedlock(l, t);
}
static int cond_timed(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t) {
    return pthread_cond_timedwait(c, m, t);
}
#endif

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

static bool g_broken_by_fork; /* this child of fork was made while LLVM was in use */

static int broken_decline(char *why, size_t why_len) {
    int broken = atomic_load(&g_broken);
    if (g_broken_by_fork) return sj_jit_fail(why, why_len, SJ_DECLINE_LLVM, "%s", g_broken_why);
    return sj_jit_fail(why, why_len, SJ_DECLINE_LLVM,
                       "the JIT is off in this process after an LLVM fatal error: %s",
                       broken == 2 ? g_broken_why : "(being recorded)");
}

/* The pipeline for p: where vectorizing and interleaving pay (docs/JIT.md). */
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

/* Whether a module planned for fast code generation (many moves) should get full code
 * generation after all: the passes left at most SJ_FULL_CODEGEN_MAX_MEMOPS loads and
 * stores (the SLP vectorizer merged the moves; full code generation's time grows with
 * them). Fast code generation spills the loop's variables on every iteration: 1.3-1.4x C
 * for the W9 64-field record (docs/JIT.md). */
static bool llvm_hold(bool exclusive);
static void llvm_unhold(void);
#define SJ_FULL_CODEGEN_MAX_MEMOPS 32u
static bool full_codegen_pays(LLVMModuleRef mod) {
    unsigned memops = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
        for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(f); b; b = LLVMGetNextBasicBlock(b))
            for (LLVMValueRef i = LLVMGetFirstInstruction(b); i; i = LLVMGetNextInstruction(i)) {
                LLVMOpcode op = LLVMGetInstructionOpcode(i);
                if ((op == LLVMLoad || op == LLVMStore) && ++memops > SJ_FULL_CODEGEN_MAX_MEMOPS)
                    return false;
            }
    return true;
}

/* Under g_llvm_rw (build_guarded); links under g_jit_lock. */
static int build(struct sj_jit_code *c, const sj_plan *p, char *why, size_t why_len) {
    if (!g_jit_tried) { /* the first compile holds g_llvm_rw exclusively */
        g_jit_tried = true;
        jit_start();
    }
    if (!g_jit) return sj_jit_fail(why, why_len, SJ_DECLINE_UNAVAILABLE, "%s", g_jit_why);

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
    int rc = sj_emit_plan(p, mod, name, &target, why, why_len) ? SJ_DECLINE_PLAN : 0;
    if (rc == 0) {
        char *msg = NULL;
        if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg))
            rc = sj_jit_fail(why, why_len, SJ_DECLINE_LLVM,
                             "generated IR is invalid (a segjit bug): %.120s", msg ? msg : "?");
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
        rc = sj_jit_fail(why, why_len, SJ_DECLINE_LLVM,
                         "LLVM could not create a target machine for %s", g_cpu);
    if (rc == 0) {
        LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
        LLVMPassBuilderOptionsSetLoopVectorization(opts, 1);
        LLVMPassBuilderOptionsSetLoopInterleaving(opts, 1);
        test_oom();
        bool test_fatal = g_test_fatal > 0 && atomic_fetch_add(&g_compiles, 1) + 1 == g_test_fatal;
        LLVMErrorRef err = LLVMRunPasses(
            mod, test_fatal ? "function(trigger-verifier-error),verify" : passes_for(p), tm, opts);
        LLVMDisposePassBuilderOptions(opts);
        if (err) rc = llvm_fail(err, "LLVM optimization failed", why, why_len);
    }
    uint64_t t2 = now_ns();
    count(&st_ns_opt, t2 - t1);
    if (rc == 0 && g_dump_dir) dump_module(mod, p, c->hash);
    if (rc == 0 && fast && full_codegen_pays(mod)) { /* the vectorizer left few memory ops */
        /* full code generation's first run in the process runs alone, as a pipeline's first */
        if (!g_full_codegen_warm && t_llvm_hold == 1) {
            llvm_unhold();
            if (!llvm_hold(true)) rc = broken_decline(why, why_len);
        }
        LLVMTargetMachineRef full = rc ? NULL : tm_take(false);
        if (full) {
            tm_give(tm, fast);
            tm = full;
            fast = false;
        }
    }
    if (rc == 0) {
        char *msg = NULL;
        if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &msg, &obj))
            rc = sj_jit_fail(why, why_len, SJ_DECLINE_LLVM, "LLVM code generation failed: %.120s",
                             msg ? msg : "?");
        LLVMDisposeMessage(msg);
    }
    t_fast_ran = fast;
    if (!t_llvm_hold) { /* turned exclusive midway and found the JIT off: leak, as elsewhere */
        if (obj) LLVMDisposeMemoryBuffer(obj);
        return rc;
    }
    if (tm) tm_give(tm, fast);
    if (rc == 0 && !fast && t_llvm_hold == 2) g_full_codegen_warm = true;
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    if (rc) {
        if (obj) LLVMDisposeMemoryBuffer(obj);
        return rc;
    }

    /* the image the core may persist, from the object before LLJIT takes it */
    uint64_t obj_bytes = LLVMGetBufferSize(obj);
    if (sj_image_build((const uint8_t *)LLVMGetBufferStart(obj), (size_t)obj_bytes, name, &c->image,
                       &c->image_len, c->image_why, sizeof c->image_why) != 0) {
        c->image = NULL;
        c->image_len = 0;
    }

    /* link: add the object under a fresh resource tracker and look the symbol up */
    LLVMOrcExecutorAddress addr = 0;
    bool locked = lock_unless_broken(mutex_timed, &g_jit_lock);
    t_holds_jit_lock = locked;
    if (!locked || atomic_load(&g_broken)) { /* another compile jumped out of LLVM meanwhile */
        t_holds_jit_lock = false;
        if (locked) pthread_mutex_unlock(&g_jit_lock);
        LLVMDisposeMemoryBuffer(obj);
        return broken_decline(why, why_len);
    }
    if (g_test_fatal < 0 && atomic_fetch_add(&g_compiles, 1) + 1 == -g_test_fatal)
        on_llvm_fatal("segjit test: a fatal error while linking (SEGJIT_JIT_TEST_FATAL)");
    LLVMOrcResourceTrackerRef rt =
        LLVMOrcJITDylibCreateResourceTracker(LLVMOrcLLJITGetMainJITDylib(g_jit));
    LLVMErrorRef err = LLVMOrcLLJITAddObjectFileWithRT(g_jit, rt, obj); /* consumes obj */
    if (err) {
        rc = llvm_fail(err, "LLVM could not add the kernel", why, why_len);
    } else if ((err = LLVMOrcLLJITLookup(g_jit, &addr, name))) {
        rc = llvm_fail(err, "LLVM could not link the kernel", why, why_len);
    } else if (!addr) {
        rc = sj_jit_fail(why, why_len, SJ_DECLINE_LLVM, "LLVM linked the kernel at address 0");
    }
    if (rc) {
        LLVMErrorRef rerr = LLVMOrcResourceTrackerRemove(rt);
        if (rerr) LLVMConsumeError(rerr);
        LLVMOrcReleaseResourceTracker(rt);
        rt = NULL;
    }
    t_holds_jit_lock = false;
    pthread_mutex_unlock(&g_jit_lock);
    count(&st_ns_codegen, now_ns() - t2);
    if (rc) return rc;
    c->rt = rt;
    c->fn = (sj_loop_fn)(uintptr_t)addr;
    c->obj_bytes = obj_bytes;
    c->bytes = obj_bytes + SJ_JIT_ENTRY_OVERHEAD;
    c->ns_build = now_ns() - t0;
    count(&st_compiled, 1);
    return 0;
}

/* Takes g_llvm_rw (exclusive or shared) to enter LLVM: false (not held) once the JIT is off. */
static bool llvm_hold(bool exclusive) {
    if (!lock_unless_broken(exclusive ? wr_timed : rd_timed, &g_llvm_rw)) return false;
    if (atomic_load(&g_broken)) {
        pthread_rwlock_unlock(&g_llvm_rw);
        return false;
    }
    t_llvm_hold = exclusive ? 2 : 1;
    atomic_fetch_add(&g_llvm_inside, 1);
    return true;
}

/* Lets go of g_llvm_rw if this thread holds it (a compile that went exclusive midway and
 * found the JIT off holds nothing). */
static void llvm_unhold(void) {
    if (!t_llvm_hold) return;
    t_llvm_hold = 0;
    atomic_fetch_sub(&g_llvm_inside, 1);
    pthread_rwlock_unlock(&g_llvm_rw);
}

/* After a jump out of LLVM: the JIT is off (recorded before any lock is let go, so no
 * thread waiting for one enters LLVM again), then this thread's locks are released. */
static void llvm_jumped(void) {
    t_fatal_jmp = NULL;
    int fine = 0;
    if (atomic_compare_exchange_strong(&g_broken, &fine, 1)) {
        snprintf(g_broken_why, sizeof g_broken_why, "%s", t_fatal_why);
        atomic_store(&g_broken, 2);
    }
    disarm_new_handler();
    if (t_holds_jit_lock) {
        t_holds_jit_lock = false;
        pthread_mutex_unlock(&g_jit_lock);
    }
    if (t_llvm_hold) llvm_unhold();
}

static bool pipeline_warm(const sj_plan *p) {
    const char *passes = passes_for(p);
    bool fast = sj_emit_fast_codegen(p);
    for (size_t i = 0; i < g_nwarm; i++)
        if (g_warm[i].passes == passes && g_warm[i].fast == fast) return true;
    return false;
}

/* Exclusive only. */
static void pipeline_add(const sj_plan *p) {
    if (g_nwarm == SJ_WARM_MAX || pipeline_warm(p)) return;
    g_warm[g_nwarm].passes = passes_for(p);
    g_warm[g_nwarm].fast = sj_emit_fast_codegen(p);
    if (!g_warm[g_nwarm].fast) g_full_codegen_warm = true;
    g_nwarm++;
}

/* build() inside LLVM (shared, or exclusive for a pipeline's first compile) under the jump
 * buffer of on_llvm_fatal. */
static int build_guarded(struct sj_jit_code *c, const sj_plan *p, char *why, size_t why_len) {
    bool stuck = g_test_stuck && atomic_fetch_add(&g_stuck_compiles, 1) + 1 == g_test_stuck;
    if (!llvm_hold(false)) return broken_decline(why, why_len);
    while (stuck) /* the test's guard left taken: waits inside LLVM for ever */
        pause();
    bool warm = pipeline_warm(p);
    if (!warm) {
        llvm_unhold();
        if (!llvm_hold(true)) return broken_decline(why, why_len);
    }
    jmp_buf jb;
    if (setjmp(jb) != 0) {
        llvm_jumped();
        return sj_jit_fail(why, why_len, SJ_DECLINE_LLVM,
                           "LLVM fatal error: %s (the JIT is off in this process from now on)",
                           t_fatal_why);
    }
    t_fatal_jmp = &jb;
    arm_new_handler();
    int rc = build(c, p, why, why_len);
    disarm_new_handler();
    t_fatal_jmp = NULL;
    /* warm only once its own code generation ran (not switched to full, full_codegen_pays) */
    if (!warm && rc == 0 && t_fast_ran == sj_emit_fast_codegen(p)) pipeline_add(p);
    llvm_unhold();
    return rc;
}

/* ---- Compiles on threads of their own ----
 * A jump out of LLVM can leave a one-time initialiser's guard taken; a compile beside it
 * that reaches the guard waits for ever. So compiles run on worker threads, and a caller
 * waits until its compile ends, or until the JIT is off and the compile has not ended
 * within JOB_GRACE_MS: then the caller declines and leaves the worker (docs/JIT.md, "When
 * LLVM fails"). A job owns a copy of the plan and a reference to the entry, so the caller
 * may go. Workers are made on demand, up to JOB_WORKERS, and kept (a new thread per
 * compile measured 1.5 ms slower per compile: it starts cold on another core). */
enum { JOB_GRACE_MS = 1000, JOB_STACK = 8 << 20, JOB_WORKERS = 16 };

typedef struct compile_job {
    struct compile_job *next; /* the queue */
    struct sj_jit_code *c;
    sj_plan plan; /* the caller's, with moves of its own and no layouts */
    char why[sizeof((struct sj_jit_code *)0)->why];
    int rc, refs; /* refs: the caller's and the worker's; all under g_cache_lock */
    bool done;
} compile_job;

static compile_job *g_jobs, **g_jobs_tail = &g_jobs; /* under g_cache_lock */
static pthread_cond_t g_jobs_cond = PTHREAD_COND_INITIALIZER;
static int g_njobs, g_workers, g_workers_idle;

static void job_unref_locked(compile_job *j) {
    if (--j->refs) return;
    free(j->plan.moves);
    free(j);
}

static void unref_locked(struct sj_jit_code *c, struct sj_jit_code **dead);
static void destroy_list(struct sj_jit_code *dead);

static void *worker_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&g_cache_lock);
    for (;;) {
        while (!g_jobs) {
            g_workers_idle++;
            pthread_cond_wait(&g_jobs_cond, &g_cache_lock);
            g_workers_idle--;
        }
        compile_job *j = g_jobs;
        if (!(g_jobs = j->next)) g_jobs_tail = &g_jobs;
        g_njobs--;
        pthread_mutex_unlock(&g_cache_lock);
        int rc = build_guarded(j->c, &j->plan, j->why, sizeof j->why);
        struct sj_jit_code *dead = NULL;
        pthread_mutex_lock(&g_cache_lock);
        j->rc = rc;
        j->done = true;
        unref_locked(j->c, &dead); /* the last one if the caller went: the entry failed then */
        job_unref_locked(j);
        pthread_cond_broadcast(&g_cache_cond);
        if (dead) {
            pthread_mutex_unlock(&g_cache_lock);
            destroy_list(dead);
            pthread_mutex_lock(&g_cache_lock);
        }
    }
    return NULL;
}

/* fork: only the forking thread lives on in the child, so it has no workers, and jobs
 * queued in the parent (other threads') are left. The core's one pthread_atfork handler
 * calls these (provider fork_*), after its own compile thread has left the JIT. */
enum { FORK_WAIT_MS = 200 };
static bool g_fork_held; /* the forking thread holds g_llvm_rw exclusively */

/* fork waits up to FORK_WAIT_MS for compiles inside LLVM to end (the LLVM lock first: no
 * thread takes it under g_cache_lock), so that the child finds LLVM and the locks at rest. */
static void jobs_before_fork(void) {
    g_fork_held = false;
    if (!atomic_load(&g_broken)) {
        struct timespec until = deadline_ms(FORK_WAIT_MS);
        g_fork_held = wr_timed(&g_llvm_rw, &until) == 0;
    }
    pthread_mutex_lock(&g_cache_lock);
}
static void jobs_after_fork_parent(void) {
    pthread_mutex_unlock(&g_cache_lock);
    if (g_fork_held) pthread_rwlock_unlock(&g_llvm_rw);
}
static void jobs_after_fork_child(void) {
    /* the parent's workers waited on these: their state names threads the child lacks */
    pthread_cond_init(&g_jobs_cond, NULL);
    pthread_cond_init(&g_cache_cond, NULL);
    /* A compile still inside LLVM may have left its state (and LLVM's own locks) mid-update:
     * no compile in this child then. The JIT's locks are made afresh either way (none is
     * held by this thread; a rwlock's owner is a thread id, which is new here). */
    int inside = atomic_load(&g_llvm_inside);
    if (!g_fork_held && atomic_load(&g_broken) == 0) {
        snprintf(g_broken_why, sizeof g_broken_why,
                 "the JIT is off in this child: the process forked while %d compile%s ran in "
                 "LLVM for over %d ms",
                 inside, inside == 1 ? "" : "s", FORK_WAIT_MS);
        g_broken_by_fork = true;
        atomic_store(&g_broken, 2);
    }
    g_fork_held = false;
    g_llvm_rw = (pthread_rwlock_t)SJ_LLVM_RW_INIT;
    g_jit_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
    g_tm_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
    atomic_store(&g_llvm_inside, 0);
    g_jobs = NULL;
    g_jobs_tail = &g_jobs;
    g_njobs = g_workers = g_workers_idle = 0;
    /* Entries the parent's threads were compiling: no thread here finishes them, and a
     * compile of their plan would wait for ever. Out of the table (left allocated: their
     * references belong to threads the child lacks), so that such a compile starts anew. */
    for (size_t i = 0; i < g_nbuckets; i++)
        for (struct sj_jit_code **p = &g_buckets[i]; *p;) {
            if ((*p)->state != ENTRY_PENDING) {
                p = &(*p)->next;
                continue;
            }
            (*p)->state = ENTRY_FAILED;
            *p = (*p)->next;
            g_nentries--;
        }
    pthread_mutex_unlock(&g_cache_lock);
}

/* Under g_cache_lock: a worker for a job just queued (false: none can be had); a new one
 * when the queued jobs outnumber the idle workers, so that compiles run in parallel. */
static bool worker_ensure_locked(void) {
    pthread_cond_signal(&g_jobs_cond);
    if (g_njobs <= g_workers_idle) return true;
    if (g_workers >= JOB_WORKERS) return g_workers > 0; /* queued for the next one free */
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return g_workers > 0;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, JOB_STACK);
    pthread_t t;
    sigset_t all, was; /* a worker takes none of the program's signals */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &was);
    bool made = pthread_create(&t, &attr, worker_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &was, NULL);
    pthread_attr_destroy(&attr);
    if (made) g_workers++;
    return made || g_workers > 0;
}

static compile_job *job_new(struct sj_jit_code *c, const sj_plan *p) {
    compile_job *j = calloc(1, sizeof *j);
    sj_move *moves = j && p->nmoves ? malloc(p->nmoves * sizeof *moves) : NULL;
    if (!j || (p->nmoves && !moves)) {
        free(j);
        return NULL;
    }
    j->c = c;
    j->plan = *p;
    if (moves) memcpy(moves, p->moves, p->nmoves * sizeof *moves);
    j->plan.moves = moves;
    j->plan.layouts[0] = j->plan.layouts[1] = NULL; /* messages only */
    j->plan.src.check_layout = j->plan.dst.check_layout = NULL;
    for (size_t i = 0; i < SJ_MAX_STREAMS; i++)
        j->plan.dsts[i].check_layout = NULL;
    j->refs = 2;
    return j;
}

/* build_guarded() on a worker; on this thread when no worker can be had. */
static int build_on_worker(struct sj_jit_code *c, const sj_plan *p, char *why, size_t why_len) {
    compile_job *j = job_new(c, p);
    if (!j) return build_guarded(c, p, why, why_len);
    pthread_mutex_lock(&g_cache_lock);
    *g_jobs_tail = j;
    g_jobs_tail = &j->next;
    g_njobs++;
    if (!worker_ensure_locked()) { /* no thread: take it back (it is the last queued) */
        compile_job **q = &g_jobs;
        while (*q != j)
            q = &(*q)->next;
        *q = NULL;
        g_jobs_tail = q;
        g_njobs--;
        pthread_mutex_unlock(&g_cache_lock);
        free(j->plan.moves);
        free(j);
        return build_guarded(c, p, why, why_len);
    }
    c->refs++; /* the worker's */
    uint64_t off_since = 0;
    while (!j->done) {
        if (atomic_load(&g_broken) == 2) {
            uint64_t now = now_ns();
            if (!off_since) off_since = now;
            if (now - off_since > (uint64_t)JOB_GRACE_MS * 1000000u) break;
        }
        struct timespec until = deadline_ms(50);
        cond_timed(&g_cache_cond, &g_cache_lock, &until);
    }
    int rc = j->done ? j->rc : broken_decline(why, why_len);
    if (j->done) snprintf(why, why_len, "%s", j->why);
    job_unref_locked(j);
    pthread_mutex_unlock(&g_cache_lock);
    return rc;
}

/* Once the JIT is off, code is leaked instead of removed (LLVM is not entered again). */
static void code_destroy(struct sj_jit_code *c) {
    if (c->rt && llvm_hold(false)) {
        jmp_buf jb;
        if (setjmp(jb) != 0) {
            llvm_jumped();
        } else {
            t_fatal_jmp = &jb;
            bool locked = lock_unless_broken(mutex_timed, &g_jit_lock);
            t_holds_jit_lock = locked;
            /* a link that jumped out meanwhile may have left ORC's lock held: leak */
            if (locked && !atomic_load(&g_broken)) {
                arm_new_handler();
                LLVMErrorRef err = LLVMOrcResourceTrackerRemove(c->rt);
                if (err) LLVMConsumeError(err); /* nothing to tell anyone: the code is gone */
                LLVMOrcReleaseResourceTracker(c->rt);
                LLVMOrcSymbolStringPoolClearDeadEntries(LLVMOrcExecutionSessionGetSymbolStringPool(
                    LLVMOrcLLJITGetExecutionSession(g_jit)));
                disarm_new_handler();
            }
            t_holds_jit_lock = false;
            if (locked) pthread_mutex_unlock(&g_jit_lock);
            t_fatal_jmp = NULL;
            llvm_unhold();
        }
    }
    free(c->image);
    free(c);
}

/* ---- Keeping code no kernel holds (under g_cache_lock) ---- */

static void lru_unlink(struct sj_jit_code *c) {
    if (c->older)
        c->older->newer = c->newer;
    else
        g_oldest = c->newer;
    if (c->newer)
        c->newer->older = c->older;
    else
        g_newest = c->older;
    c->older = c->newer = NULL;
    g_unref_bytes -= c->bytes;
}

static void lru_push_newest(struct sj_jit_code *c) {
    c->older = g_newest;
    c->newer = NULL;
    if (g_newest)
        g_newest->newer = c;
    else
        g_oldest = c;
    g_newest = c;
    g_unref_bytes += c->bytes;
}

/* Releases the least recently used unreferenced entries until their bytes are within the
 * limit: out of the table now, onto *dead for code_destroy after unlocking. */
static void evict_locked(struct sj_jit_code **dead) {
    while (g_unref_bytes > g_limit && g_oldest) {
        struct sj_jit_code *c = g_oldest;
        lru_unlink(c);
        cache_remove(c);
        g_ready_bytes -= c->bytes;
        g_ghosts[g_ghost_next] = c->hash | 1; /* never 0 */
        g_ghost_next = (g_ghost_next + 1) % SJ_GHOSTS;
        c->next = *dead;
        *dead = c;
        count(&st_evictions, 1);
    }
}

/* Whether h is the hash of an entry evicted recently (forgotten once asked). */
static bool ghost_take_locked(uint64_t h) {
    for (size_t i = 0; i < SJ_GHOSTS; i++)
        if (g_ghosts[i] == (h | 1)) {
            g_ghosts[i] = 0;
            return true;
        }
    return false;
}

/* Drops one reference. A ready entry that loses its last one stays in the table as the
 * newest unreferenced entry; a failed one (out of the table already) goes onto *dead. */
static void unref_locked(struct sj_jit_code *c, struct sj_jit_code **dead) {
    if (--c->refs) return;
    if (c->state != ENTRY_READY) {
        c->next = *dead;
        *dead = c;
        return;
    }
    lru_push_newest(c);
    evict_locked(dead);
}

static void destroy_list(struct sj_jit_code *dead) {
    while (dead) {
        struct sj_jit_code *next = dead->next;
        code_destroy(dead);
        dead = next;
    }
}

/* ---- The provider ---- */

static int decline(int reason) {
    count(&st_declines, 1);
    return reason;
}

static int jit_compile_report(const sj_plan *plan, sj_loop_fn *fn, sj_jit_code **code,
                              sj_jit_report *report, char *why, size_t why_len) {
    if (report) memset(report, 0, sizeof *report);
    if (!plan || !fn || !code)
        return decline(sj_jit_fail(why, why_len, SJ_DECLINE_PLAN, "no plan to compile"));
    if (sj_emit_check(plan, why, why_len)) return decline(SJ_DECLINE_PLAN);
    uint8_t kbuf[1024];
    uint8_t *key = kbuf;
    size_t klen = sj_plan_key(plan, kbuf, sizeof kbuf);
    if (klen > sizeof kbuf) {
        key = malloc(klen);
        if (!key)
            return decline(sj_jit_fail(why, why_len, SJ_DECLINE_NOMEM,
                                       "out of memory for a %zu-byte cache key", klen));
        sj_plan_key(plan, key, klen);
    }
    uint64_t h = hash_bytes(g_key_seed, key, klen);

    struct sj_jit_code *dead = NULL;
    pthread_mutex_lock(&g_cache_lock);
    struct sj_jit_code *c = cache_find(h, key, klen);
    if (c) { /* ready (held or kept), or being compiled by another thread: wait for it */
        if (c->refs == 0) lru_unlink(c);
        c->refs++;
        while (c->state == ENTRY_PENDING)
            pthread_cond_wait(&g_cache_cond, &g_cache_lock);
        if (key != kbuf) free(key);
        if (c->state == ENTRY_READY) {
            pthread_mutex_unlock(&g_cache_lock);
            count(&st_hits, 1);
            if (report) *report = (sj_jit_report){true, c->obj_bytes, c->ns_build};
            *fn = c->fn;
            *code = c;
            return 0;
        }
        int reason = sj_jit_fail(why, why_len, c->reason, "%s", c->why);
        unref_locked(c, &dead);
        pthread_mutex_unlock(&g_cache_lock);
        destroy_list(dead);
        return decline(reason);
    }
    if (ghost_take_locked(h)) count(&st_recompiles, 1);
    c = test_nomem() ? NULL : calloc(1, sizeof *c + klen);
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
    if (!c)
        return decline(
            sj_jit_fail(why, why_len, SJ_DECLINE_NOMEM, "out of memory for a cache entry"));
    count(&st_misses, 1);

    char reason[sizeof c->why] = "";
    int rc = build_on_worker(c, plan, reason, sizeof reason);
    pthread_mutex_lock(&g_cache_lock);
    if (rc == 0) {
        c->state = ENTRY_READY;
        g_ready_bytes += c->bytes;
    } else { /* waiters decline with the same reason; the next compile tries again */
        c->state = ENTRY_FAILED;
        c->reason = rc;
        memcpy(c->why, reason, sizeof reason);
        cache_remove(c);
        unref_locked(c, &dead);
    }
    pthread_cond_broadcast(&g_cache_cond);
    pthread_mutex_unlock(&g_cache_lock);
    if (rc) {
        destroy_list(dead);
        return decline(sj_jit_fail(why, why_len, rc, "%s", reason));
    }
    if (report) *report = (sj_jit_report){false, c->obj_bytes, c->ns_build};
    *fn = c->fn;
    *code = c;
    return 0;
}

static int jit_find(const sj_plan *plan, sj_loop_fn *fn, sj_jit_code **code,
                    sj_jit_report *report) {
    if (!plan || !fn || !code) return 1;
    uint8_t kbuf[1024];
    uint8_t *key = kbuf;
    size_t klen = sj_plan_key(plan, kbuf, sizeof kbuf);
    if (klen > sizeof kbuf) {
        if (!(key = malloc(klen))) return 1;
        sj_plan_key(plan, key, klen);
    }
    uint64_t h = hash_bytes(g_key_seed, key, klen);
    pthread_mutex_lock(&g_cache_lock);
    struct sj_jit_code *c = cache_find(h, key, klen);
    bool ready = c && c->state == ENTRY_READY;
    if (ready) {
        if (c->refs == 0) lru_unlink(c);
        c->refs++;
    }
    pthread_mutex_unlock(&g_cache_lock);
    if (key != kbuf) free(key);
    if (!ready) return 1;
    count(&st_hits, 1);
    if (report) *report = (sj_jit_report){true, c->obj_bytes, c->ns_build};
    *fn = c->fn;
    *code = c;
    return 0;
}

static int jit_compile(const sj_plan *plan, sj_loop_fn *fn, sj_jit_code **code, char *why,
                       size_t why_len) {
    return jit_compile_report(plan, fn, code, NULL, why, why_len);
}

static void jit_release(sj_jit_code *code) {
    if (!code) return;
    struct sj_jit_code *dead = NULL;
    pthread_mutex_lock(&g_cache_lock);
    unref_locked(code, &dead);
    pthread_mutex_unlock(&g_cache_lock);
    destroy_list(dead);
}

static void jit_set_cache_limit(uint64_t bytes) {
    struct sj_jit_code *dead = NULL;
    pthread_mutex_lock(&g_cache_lock);
    g_limit = bytes;
    evict_locked(&dead);
    pthread_mutex_unlock(&g_cache_lock);
    destroy_list(dead);
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
    out->evictions = atomic_load(&st_evictions);
    out->recompiles = atomic_load(&st_recompiles);
    pthread_mutex_lock(&g_cache_lock);
    out->entries = g_nentries;
    out->bytes = g_ready_bytes;
    out->bytes_unreferenced = g_unref_bytes;
    out->limit = g_limit;
    pthread_mutex_unlock(&g_cache_lock);
}

static const char *jit_describe(void) {
    return g_describe;
}

static bool jit_image(const sj_jit_code *code, const uint8_t **bytes, size_t *len,
                      const char **why) {
    if (!code || code->state != ENTRY_READY || !code->image) {
        if (why) *why = code && code->image_why[0] ? code->image_why : "no image";
        return false;
    }
    *bytes = code->image;
    *len = code->image_len;
    return true;
}

static const sj_jit_provider g_provider = {
    .api_version = SJ_JIT_API_VERSION,
    .compile = jit_compile,
    .release = jit_release,
    .stats = jit_stats,
    .describe = jit_describe,
    .compile_report = jit_compile_report,
    .set_cache_limit = jit_set_cache_limit,
    .image = jit_image,
    .find = jit_find,
    .build_id = SEGJIT_BUILD_ID,
    .llvm_version = SEGJIT_LLVM_VERSION,
#ifdef SEGJIT_LLVM_STATIC
    .exit_safe = true, /* __wrap___cxa_atexit below */
#endif
    .fork_prepare = jobs_before_fork,
    .fork_parent = jobs_after_fork_parent,
    .fork_child = jobs_after_fork_child,
};

#ifdef SEGJIT_LLVM_STATIC
/* With LLVM and libstdc++ linked into this object (-Wl,--wrap=__cxa_atexit), their static
 * objects are never destroyed: exit() on one thread then cannot pull a table from under a
 * compile on another (a background compile, docs/JIT.md). The process's end frees them. */
int __wrap___cxa_atexit(void (*fn)(void *), void *arg, void *dso);
int __wrap___cxa_atexit(void (*fn)(void *), void *arg, void *dso) {
    (void)fn, (void)arg, (void)dso;
    return 0;
}
#endif

SJ_EXPORT const sj_jit_provider *sj_jit_provider_init(char *why, size_t why_len) {
    pthread_once(&g_init_once, init_once);
    if (!g_init_ok) {
        sj_jit_fail(why, why_len, SJ_DECLINE_UNAVAILABLE, "%s", g_init_why);
        return NULL;
    }
    return &g_provider;
}
