/* src/scope.h: the private lifetime API of segments, for src/ files that touch segment
 * memory (single access, kernels): leases and pins around every touch, and the current
 * data pointer of a segment. Arena and segment construction live in src/segment.c. */
#ifndef SEGJIT_SCOPE_H
#define SEGJIT_SCOPE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "segjit/segment.h"
#include "segjit/status.h"

/* How lifetimes are enforced (the correctness argument: docs/CONCURRENCY.md section 7).
 *
 * Every arena handle names a scope and a generation. Scopes are pooled and never freed,
 * so dereferencing a scope pointer is always safe; closing an arena bumps the scope's
 * generation, so a stale handle (even one whose scope has been reused by a new arena)
 * is recognised and answers SJ_E_CLOSED. The scope's word packs gen << 3 | confined << 2
 * | state; a handle is live when the word, confined bit aside, is gen << 3 | OPEN.
 *
 * Two ways to hold an arena while touching its memory:
 *
 * - A *lease* (single access: sj_get, sj_set, path access, accessors): plain loads and
 *   stores, no read-modify-write, nothing written that another thread writes. A confined
 *   arena's owner only loads the word and the owner (only it can close). For a shared
 *   arena the thread announces the scope in its own reader slot (a cache line no other
 *   thread writes), then loads the word again; close marks the scope CLOSING, runs a
 *   process-wide memory barrier (membarrier) and waits until no reader slot names it.
 *
 *       sj_reader *slot;
 *       if (!sj_lease_enter(seg->arena, &slot) &&
 *           (st = sj_lease_fail(seg->arena, "segment", &slot, err)) != SJ_OK) return st;
 *       ... touch seg memory (a few instructions, never a callback) ...
 *       sj_lease_exit(slot);
 *
 * - A *pin* (kernel runs, allocation, mapping: calls that may take long or hold several
 *   arenas): sj_scope_acquire increments the scope's in-flight counter, then checks the
 *   word (seq_cst on both sides: either the caller sees CLOSING or close sees the count);
 *   close waits until the counter drops to zero.
 *
 *       if ((st = sj_scope_acquire(seg, err)) != SJ_OK) return st;
 *       ... touch seg memory ...
 *       sj_scope_release(seg);
 *
 * Never close an arena while holding it on the same thread: close would wait for itself.
 * CLOSED is decided before THREAD: a closed arena answers CLOSED on every thread (the
 * JDK says WrongThread for a closed confined arena used from another thread, but a stale
 * handle no longer knows its owner once the scope is reused).
 *
 * Segments of the global arena, native segments over caller memory and heap segments
 * have no scope: leases and pins always succeed and release nothing.
 *
 * Both check lifetime only; callers run their read-only, bounds and alignment checks
 * first (SEMANTICS 4.1 check order). */

enum { SCOPE_OPEN = 0, SCOPE_CLOSING = 1, SCOPE_FREE = 2 };
#define SCOPE_CONFINED UINT64_C(4)

static inline uint64_t sj_scope_word(uint64_t gen, uint64_t state) {
    return gen << 3 | state;
}

struct sj_alloc;

struct sj_scope {
    /* Read by every access; written only by open and close. */
    _Alignas(64) _Atomic uint64_t word; /* gen << 3 | confined << 2 | state */
    _Atomic uint64_t owner;             /* owner thread id (confined), 0 for shared */
    /* Written by pins, allocation and the pool: kept off the readers' cache line. */
    _Alignas(64) atomic_long inflight; /* pins between acquire and release */
    _Atomic(struct sj_alloc *) allocs; /* memory to free on close */
    _Atomic uint64_t views;            /* open views, | SCOPE_VIEWS_CLOSING while a close decides */
    struct sj_scope *next_free;        /* pool link, under the pool lock */
};

/* One per thread that has made a single access; never freed (reused after the thread
 * exits). Only its thread writes `scope`; closers read it. */
typedef struct sj_reader {
    _Alignas(128) _Atomic(struct sj_scope *) scope; /* the scope of the access in progress */
    atomic_bool in_use;
    struct sj_reader *next; /* registry link, set once */
} sj_reader;

typedef struct sj_thread_state {
    uint64_t id;    /* sj_thread_id(), 0 until assigned */
    sj_reader *rec; /* NULL until the first lease */
} sj_thread_state;

extern _Thread_local sj_thread_state sj_self SJ_TLS_FAST SJ_HIDDEN;
/* True when closers run membarrier(PRIVATE_EXPEDITED): readers need only a compiler
 * barrier between their announcement and their load of the word; false, a full fence. */
extern atomic_bool sj_asym_fence SJ_HIDDEN;

/* Registers the calling thread's reader slot (and id); NULL when out of memory. */
sj_reader *sj_reader_register(void) SJ_HIDDEN;

/* Takes a lease on `a`: true when the arena is open and usable from this thread, with
 * *slot set to what sj_lease_exit must clear (NULL when nothing was announced). On false
 * nothing is held; sj_lease_fail says why. Not async-signal-safe. */
static inline bool sj_lease_enter(sj_arena a, sj_reader **slot) {
    *slot = NULL;
    struct sj_scope *sc = a.scope;
    if (!sc) return true;
    uint64_t open = sj_scope_word(a.gen, SCOPE_OPEN);
    uint64_t w = atomic_load_explicit(&sc->word, memory_order_acquire);
    /* Confined to this thread: only the owner closes it, so no close can overlap and
     * nothing needs announcing. (An owner read from a later generation is never this
     * thread's: it would have had to open that arena during this call.) */
    if (w == (open | SCOPE_CONFINED))
        return atomic_load_explicit(&sc->owner, memory_order_relaxed) == sj_self.id;
    sj_reader *r = sj_self.rec;
    if (SJ_UNLIKELY(!r || w != open)) return false; /* unregistered thread, or not live */
    atomic_store_explicit(&r->scope, sc, memory_order_relaxed);
    if (SJ_LIKELY(atomic_load_explicit(&sj_asym_fence, memory_order_relaxed)))
        atomic_signal_fence(memory_order_seq_cst); /* closer's membarrier makes it a fence */
    else
        atomic_thread_fence(memory_order_seq_cst);
    if (SJ_LIKELY(atomic_load_explicit(&sc->word, memory_order_acquire) == open)) {
        *slot = r;
        return true;
    }
    atomic_store_explicit(&r->scope, NULL, memory_order_release);
    return false;
}

/* Ends a lease: clears the slot sj_lease_enter announced, if any. */
static inline void sj_lease_exit(sj_reader *slot) {
    if (slot) atomic_store_explicit(&slot->scope, NULL, memory_order_release);
}

/* After sj_lease_enter failed: registers the thread when needed and retries; returns
 * SJ_OK with the lease held, or SJ_E_CLOSED / SJ_E_THREAD / SJ_E_NOMEM with the message
 * "<what>: its arena is closed" etc. */
sj_status sj_lease_fail(sj_arena a, const char *what, sj_reader **slot,
                        sj_error *err) SJ_COLD SJ_HIDDEN;

/* Pins (see above). */
sj_status sj_scope_acquire(const sj_segment *s, sj_error *err);
void sj_scope_release(const sj_segment *s);

/* Views (segjit/view.h): while any is open, closing the arena fails with SJ_E_BUSY. Enter
 * checks closed and thread as a pin does; a close deciding at the same time is waited for. */
#define SCOPE_VIEWS_CLOSING (UINT64_C(1) << 63)
sj_status sj_scope_view_enter(sj_arena a, sj_error *err) SJ_HIDDEN;
void sj_scope_view_exit(sj_arena a) SJ_HIDDEN;

/* Heap segments whose storage can be held still (SJ_SEG_PINNABLE): pin (if the segment
 * has callbacks) and resolve once; the pointer stays valid until sj_segment_unpin. NULL,
 * with nothing held, when resolve returns NULL. Native segments: their base. */
uint8_t *sj_segment_pin(const sj_segment *s) SJ_HIDDEN;
/* Storage that stays put while pinned: native, pin callbacks, or sj_segment_of_array. */
bool sj_segment_still(const sj_segment *s) SJ_HIDDEN;
void sj_segment_unpin(const sj_segment *s) SJ_HIDDEN;

/* The current address of a segment's first byte: base for native segments,
 * resolve(owner) + vaddr for heap segments (re-resolved at every call; never cache it
 * beyond the current lease or pin). NULL when a heap resolve returns NULL. */
uint8_t *sj_segment_data(const sj_segment *s);

/* Element size for heap segments, 0 for native ones: the `maxalignbits` of rule 3.3. */
static inline uint64_t sj_segment_align_bits(const sj_segment *s) {
    return (s->flags & SJ_SEG_HEAP) ? s->elem_size : 0;
}

/* A small unique id of the calling thread (never 0), stable for the thread's life. */
uint64_t sj_thread_id(void);

#endif
