/* segjit/fast.h: the library's structures that inline access reads, and its fast path.
 * Library's: nothing here is an interface. The static inline accessor calls of accessor.h
 * read these structures in the caller's code, so a program must run with a libsegjit of
 * the same layout: the thread state's exported name carries SJ__FAST_REVISION, and a
 * library of another revision fails to load the program instead of answering wrong.
 * C only (C11 atomics); C++ and builds with SJ_NO_INLINE call the library instead.
 * How lifetimes work: docs/CONCURRENCY.md section 7. */
#ifndef SEGJIT_FAST_H
#define SEGJIT_FAST_H

#if !defined(__cplusplus) && defined(__GNUC__) && !defined(__STDC_NO_ATOMICS__)
#define SJ__FAST 1

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "segjit/layout.h"
#include "segjit/segment.h"
#include "segjit/status.h"

/* An arena's lifetime record. Scopes are pooled and never freed; closing bumps the
 * generation, so a stale handle is recognised. */
#define SJ__SCOPE_OPEN     UINT64_C(0)
#define SJ__SCOPE_CONFINED UINT64_C(4)

struct sj_alloc;
struct sj_scope {
    /* Read by every access; written only by open and close. */
    _Alignas(64) _Atomic uint64_t word; /* gen << 3 | confined << 2 | state */
    _Atomic uint64_t owner;             /* owner thread id (confined), else SJ__NO_OWNER */
    /* Written by pins, allocation and the pool: kept off the readers' cache line. */
    _Alignas(64) atomic_long inflight; /* pins between acquire and release */
    _Atomic(struct sj_alloc *) allocs; /* memory to free on close */
    _Atomic uint64_t views;            /* open views, | SJ__VIEWS_CLOSING while a close decides */
    struct sj_scope *next_free;        /* pool link, under the pool lock */
    _Atomic int64_t owner_tid;         /* the owner's OS thread id, for messages */
};

/* One per thread that has made a single access; only its thread writes `scope`. */
typedef struct sj_reader {
    _Alignas(128) _Atomic(struct sj_scope *) scope; /* the scope of the access in progress */
    atomic_bool in_use;
    bool rseq;              /* the thread may keep a shared key in `mine` (restartable accesses) */
    struct sj_reader *next; /* registry link, set once */
} sj_reader;

typedef struct sj_thread_state {
    uint64_t id;    /* the thread's id (never 0 once assigned) */
    sj_reader *rec; /* NULL until the first lease, and without membarrier */
    /* Key of the arena this thread last found open and usable: confined and its own, or
     * (with restartable accesses) shared, which a closer may reset from another thread. */
    uint64_t mine;
} sj_thread_state;
#define SJ__NO_KEY UINT64_MAX /* `mine` when none: no arena's key */
/* Set in a scope's `views` from the start of a close to its end: keep no shared key. */
#define SJ__VIEWS_CLOSING (UINT64_C(1) << 63)
/* The owner of a scope not open as confined: no thread's id, not even an unassigned 0. */
#define SJ__NO_OWNER UINT64_MAX

/* initial-exec: one %fs-relative load (libsegjit's TLS is static: it uses this model). */
/* Bumped whenever these structures change (the library checks their sizes against it). */
#define SJ__FAST_REVISION 6
#define sj__self          sj__self_r6
extern SJ_API _Thread_local sj_thread_state sj__self_r6 __attribute__((tls_model("initial-exec")));
/* `mine` is written by its thread and reset by closers of shared arenas: relaxed atomics
 * (plain moves on x86). */
static inline uint64_t sj__mine(void) {
    return __atomic_load_n(&sj__self.mine, __ATOMIC_RELAXED);
}
static inline void sj__set_mine(uint64_t key) {
    __atomic_store_n(&sj__self.mine, key, __ATOMIC_RELAXED);
}

/* A lease (single access): true when the arena is open and usable from this thread, with
 * *slot set to what sj__lease_exit clears. A confined arena's owner only loads; a shared
 * arena's reader announces the scope in its own slot, then loads the word. A thread has a
 * slot here only where closers run membarrier, which makes the compiler barrier below a
 * fence; elsewhere shared arenas go through the library, which fences.
 * A handle's key is the scope's word while that arena is open: one compare checks the
 * generation, the state and the kind. */
/* A shared arena's lease through reader slot r (NULL: none): announce the scope, then load
 * the word. Between the two a compiler barrier, which the closer's membarrier makes a
 * fence, or (full_fence, where membarrier is missing) a real fence. */
static inline __attribute__((always_inline)) bool sj__lease_shared(struct sj_scope *sc,
                                                                   uint64_t key, sj_reader *r,
                                                                   bool full_fence,
                                                                   sj_reader **slot) {
    if (__builtin_expect(!r, 0)) return false;
    atomic_store_explicit(&r->scope, sc, memory_order_relaxed);
    if (full_fence)
        atomic_thread_fence(memory_order_seq_cst);
    else
        atomic_signal_fence(memory_order_seq_cst);
    if (__builtin_expect(atomic_load_explicit(&sc->word, memory_order_acquire) == key, 1)) {
        *slot = r;
        if (r->rseq) { /* keep the key for restartable accesses, unless a close has begun */
            sj__set_mine(key);
            atomic_signal_fence(memory_order_seq_cst); /* a fence, by the closer's membarrier */
            if (atomic_load_explicit(&sc->views, memory_order_relaxed) & SJ__VIEWS_CLOSING)
                sj__set_mine(SJ__NO_KEY);
        }
        return true;
    }
    atomic_store_explicit(&r->scope, NULL, memory_order_release);
    return false;
}

static inline bool sj__lease_enter(sj_arena a, sj_reader **slot) {
    *slot = NULL;
    /* Keys are unique over all arenas ever opened, and only the owner closes a confined
     * arena (forgetting `mine` first): while the key is `mine`, the arena is open and ours.
     * A shared key in `mine` serves only restartable accesses (SJ__CS_LOAD). */
    if (__builtin_expect(a.key == sj__mine() && (a.key & SJ__SCOPE_CONFINED), 1)) return true;
    struct sj_scope *sc = a.scope;
    /* Only the owner opens or closes a confined arena, so no close can overlap the owner's
     * access. The word is loaded first (acquire, a plain load on x86): the owner then read
     * is this opening's or a later one's, never this thread (busy here) or, for a shared
     * or free scope, SJ__NO_OWNER. A confined key always has a scope (the global arena's
     * key is 0). */
    if (a.key & SJ__SCOPE_CONFINED) {
        if (atomic_load_explicit(&sc->word, memory_order_acquire) != a.key ||
            atomic_load_explicit(&sc->owner, memory_order_relaxed) != sj__self.id)
            return false;
        sj__set_mine(a.key);
        return true;
    }
    if (!sc) return true;
    return sj__lease_shared(sc, a.key, sj__self.rec, false, slot);
}

static inline void sj__lease_exit(sj_reader *slot) {
    if (slot) atomic_store_explicit(&slot->scope, NULL, memory_order_release);
}

/* A prepared accessor (accessor.h): what every call reads first, then what failures read. */
struct sj_accessor {
    uint16_t sig;       /* kind | nfree << 8: one compare checks both */
    uint64_t open_step; /* open path: the record's size (bytes past record 0), else 0 */
    uint8_t kind;       /* the leaf's sj_kind */
    bool swap;          /* the leaf's byte order is not the host's */
    uint8_t nfree;
    bool open; /* free index 0 runs over records; its bound comes from the segment */
    uint64_t root_size;
    uint64_t root_mask; /* root alignment - 1 */
    int64_t base;       /* the leaf's offset in the root with every index 0 */
    int64_t stride[SJ_PATH_MAX_FREE];
    int64_t bound[SJ_PATH_MAX_FREE];
    /* read on failure only */
    uint64_t root_align;
    const sj_path *path;   /* NULL: a value layout (messages of sj_get) */
    const sj_layout *leaf; /* its kind and order */
    sj_path *owned;        /* accessor objects own their path */
    sj_layout *owned_leaf; /* ... or their value layout */
};

/* Every check of an access on a native segment, answering only success: true with the
 * value's address in *p and a lease held in *slot (end it with sj__lease_exit after the
 * move). False means "decide again in the library", which runs every check in SEMANTICS
 * 4.1 order and says what failed (and serves heap segments). kind -1: any. */
static inline __attribute__((always_inline)) bool
sj__access_check(const struct sj_accessor *a, const sj_segment *s, int64_t off, const int64_t *idx,
                 size_t n, int kind, bool write, const void *val, uint8_t **p) {
    if (__builtin_expect(!a || !s || !val || (n && !idx), 0)) return false;
    if (kind >= 0) {
        if (__builtin_expect(a->sig != (uint16_t)((unsigned)kind | n << 8), 0) || n > 255)
            return false;
    } else if (__builtin_expect(n != a->nfree, 0)) {
        return false;
    }
    uint64_t rel = (uint64_t)a->base;
    for (size_t i = 0; i < n; i++) {
        if (__builtin_expect((uint64_t)idx[i] >= (uint64_t)a->bound[i], 0)) return false;
        /* in bounds, every term lies inside the root: the sum cannot overflow */
        rel += (uint64_t)idx[i] * (uint64_t)a->stride[i];
    }
    /* a read of a heap segment is sent to the library after the lease (SJ__CS_LOAD) */
    if (write && __builtin_expect(s->flags & (SJ_SEG_HEAP | SJ_SEG_READONLY), 0)) return false;
    /* The bytes the call may touch: the root, or records 0 to idx[0] of an open path
     * (idx[0] < bound[0], the most records that fit 63 bits: no overflow). */
    uint64_t span = a->root_size + (n ? (uint64_t)idx[0] * a->open_step : 0);
    if (__builtin_expect(span > s->size || (uint64_t)off > s->size - span, 0)) return false;
    if (__builtin_expect(((uint64_t)(uintptr_t)s->base + (uint64_t)off) & a->root_mask, 0))
        return false;
    /* before the lease: no reload after its compiler barrier; as integers, since a heap
     * segment's base is NULL (its reads are told apart after the compare) */
    *p = (uint8_t *)(uintptr_t)((uint64_t)(uintptr_t)s->base + (uint64_t)off + rel);
    return true;
}
/* The lease of an access that sj__access_check passed, without restart (the library's). */
static inline __attribute__((always_inline)) bool sj__access_lease(const sj_segment *s,
                                                                   sj_reader **slot) {
    *slot = NULL;
    return !(s->flags & SJ_SEG_HEAP) && sj__lease_enter(s->arena, slot);
}
static inline __attribute__((always_inline)) bool
sj__access_enter(const struct sj_accessor *a, const sj_segment *s, int64_t off, const int64_t *idx,
                 size_t n, int kind, bool write, const void *val, uint8_t **p, sj_reader **slot) {
    *slot = NULL;
    return sj__access_check(a, s, off, idx, n, kind, write, val, p) &&
           __builtin_expect(sj__access_lease(s, slot), 1);
}

/* Restartable accesses (Linux x86-64, glibc 2.35 or later: docs/CONCURRENCY.md 7.9). One
 * load or store of *p if `mine` is key, as a restartable sequence: a closer that resets
 * `mine` then runs membarrier(PRIVATE_EXPEDITED_RSEQ) restarts any such access in flight,
 * which then finds `mine` changed. True when done; false (always, where not compiled in)
 * when `mine` is not key. The sequence's descriptor goes in section __rseq_cs, its abort
 * handler (after the kernel's signature) in __rseq_failure; it restarts from the descriptor
 * store. The descriptor address is cleared after the move, so that unloading the code that
 * holds it (dlclose) leaves the kernel nothing to read. (Not asm goto: gcc 12 miscompiled
 * its output operands into a loop.)
 * A debugger cannot single-step through the sequence (each stop restarts it), so it is
 * compiled only into optimised code, and SJ_NO_RSEQ leaves it out. */
#if defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) &&                             \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define SJ__RSEQ 1 /* the platform has them: the library keeps shared keys */
#else
#define SJ__RSEQ 0
#endif
#if SJ__RSEQ && defined(__OPTIMIZE__) && !defined(SJ_NO_RSEQ)
extern const ptrdiff_t __rseq_offset; /* glibc's <sys/rseq.h> */
#define SJ__CS(move)                                                                               \
    ".pushsection __rseq_cs, \"aw\"\n\t.balign 32\n"                                               \
    "3:\n\t.long 0, 0\n\t.quad 1f, 2f - 1f, 4f\n\t.popsection\n\t"                                 \
    ".pushsection __rseq_failure, \"ax\"\n\t.byte 0x0f, 0xb9, 0x3d\n\t.long 0x53053053\n"          \
    "4:\n\tjmp 0f\n\t.popsection\n"                                                                \
    "0:\n\tleaq 3b(%%rip), %[t]\n\tmovq %[t], %%fs:8(%[rs])\n"                                     \
    "1:\n\tcmpq %[k], %[mine]\n\tjne 2f\n\t" move "\n2:\n\tmovq $0, %%fs:8(%[rs])\n"
#define SJ__CS_LOAD(v, p, key)                                                                     \
    __extension__({                                                                                \
        typedef __typeof__(v) __attribute__((may_alias)) sj__any_; /* the value's bytes */         \
        uint64_t t_;                                                                               \
        bool ok_;                                                                                  \
        __asm__ volatile(SJ__CS("mov %[mem], %[val]")                                              \
                         : [val] "=&r"(v), [t] "=&r"(t_), "=@ccz"(ok_)                             \
                         : [rs] "r"(__rseq_offset), [k] "r"(key), [mine] "m"(sj__self.mine),       \
                           [mem] "m"(*(const sj__any_ *)(const void *)(p)));                       \
        ok_;                                                                                       \
    })
#define SJ__CS_STORE(v, p, key)                                                                    \
    __extension__({                                                                                \
        typedef __typeof__(v) __attribute__((may_alias)) sj__any_;                                 \
        uint64_t t_;                                                                               \
        bool ok_;                                                                                  \
        __asm__ volatile(                                                                          \
            SJ__CS("mov %[val], %[mem]")                                                           \
            : [mem] "+m"(*(sj__any_ *)(void *)(p)), [t] "=&r"(t_), "=@ccz"(ok_)                    \
            : [rs] "r"(__rseq_offset), [k] "r"(key), [mine] "m"(sj__self.mine), [val] "r"(v));     \
        ok_;                                                                                       \
    })
#else
#define SJ__CS_LOAD(v, p, key)  ((void)(p), false)
#define SJ__CS_STORE(v, p, key) ((void)(p), false)
#endif

#else
#define SJ__FAST 0
#endif
#endif
