/* src/scope.h: the private lifetime API of segments, for src/ files that touch segment
 * memory (single access, kernels): leases and pins around every touch, and the current
 * data pointer of a segment. Arena and segment construction live in src/segment.c. */
#ifndef SEGJIT_SCOPE_H
#define SEGJIT_SCOPE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "segjit/fast.h"
#include "segjit/segment.h"
#include "segjit/status.h"

#if !SJ__FAST
#error "segjit is built with gcc or clang as C11 with atomics"
#endif

/* How lifetimes are enforced (the correctness argument: docs/CONCURRENCY.md section 7).
 *
 * Every arena handle names a scope and a key. Scopes are pooled and never freed, so
 * dereferencing a scope pointer is always safe; every opening takes a new generation
 * from one process-wide counter, so a stale handle (even one whose scope has been reused
 * by a new arena) is recognised and answers SJ_E_CLOSED. The scope's word packs gen << 3 | confined
 * << 2 | state; a handle's key is that word while its arena is open, and the handle is live exactly
 * when the word equals its key.
 *
 * Two ways to hold an arena while touching its memory:
 *
 * - A *lease* (single access: sj_get, sj_set, path access, accessors): plain loads and
 *   stores, no read-modify-write, nothing written that another thread writes. A confined
 *   arena's owner only loads the word and the owner (only it can close), and not even that
 *   for the one confined arena whose key it keeps in sj_self.mine. For a shared
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
 * - A *hold* (kernel runs: calls that may take long, hold several arenas and call a heap
 *   segment's callbacks): the thread names the scope in its own hold stack (again a cache
 *   line no other thread writes), then loads the word; close waits as for leases. A close
 *   of an arena that a call on the same thread holds (from one of its callbacks) is
 *   SJ_E_BUSY, never a wait for itself.
 *
 * - A *pin* (allocation, mapping, and holds that found no room in the stack):
 *   sj_scope_acquire increments the scope's in-flight counter, then checks the word
 *   (seq_cst on both sides: either the caller sees CLOSING or close sees the count);
 *   close waits until the counter drops to zero.
 *
 *       if ((st = sj_scope_acquire(seg, err)) != SJ_OK) return st;
 *       ... touch seg memory ...
 *       sj_scope_release(seg);
 *
 * Never close an arena while pinning it on the same thread: close would wait for itself.
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
_Static_assert(SCOPE_CONFINED == SJ__SCOPE_CONFINED && SCOPE_OPEN == SJ__SCOPE_OPEN,
               "segjit/fast.h and scope.h agree");

static inline uint64_t sj_scope_word(uint64_t gen, uint64_t state) {
    return gen << 3 | state;
}

/* struct sj_scope, sj_reader and the lease itself are in segjit/fast.h, where the inline
 * accessor calls compiled into user code read them. */
#define sj_self        sj__self
#define sj_lease_enter sj__lease_enter
#define sj_lease_exit  sj__lease_exit
#define sj_mine        sj__mine
#define sj_set_mine    sj__set_mine

/* Registers the calling thread's reader slot (and id); NULL when out of memory. */
sj_reader *sj_reader_register(void) SJ_HIDDEN;

/* After sj_lease_enter failed: registers the thread when needed and retries; returns
 * SJ_OK with the lease held, or SJ_E_CLOSED / SJ_E_THREAD / SJ_E_NOMEM with the message
 * "<what>: its arena is closed" etc. */
sj_status sj_lease_fail(sj_arena a, const char *what, sj_reader **slot,
                        sj_error *err) SJ_COLD SJ_HIDDEN;

/* Pins (see above; allocation and mapping). */
sj_status sj_scope_acquire(const sj_segment *s, sj_error *err);
void sj_scope_release(const sj_segment *s);

/* A *hold* (kernel runs): a pin that writes nothing another thread writes. The thread
 * names the scope in its own hold stack, beside its reader slot, then loads the word, as a
 * lease does; a shared arena's closer waits until no hold stack names the scope, and a
 * close on a thread that holds the arena itself (from a callback of the call) is
 * SJ_E_BUSY instead of waiting for itself. Falls back to the in-flight counter where the
 * thread has no slot (out of memory) or already holds SJ_HOLD_MAX arenas (such holds are
 * listed per thread, so that the close from a callback is SJ_E_BUSY too). Status and
 * messages as sj_scope_acquire. Not async-signal-safe. */
#define SJ_HOLD_MAX 16
typedef struct sj_hold {
    struct sj_scope *sc;
    int slot;             /* in the hold stack, or HOLD_NONE / HOLD_INFLIGHT (segment.c) */
    struct sj_hold *prev; /* HOLD_INFLIGHT: the thread's pinned holds, newest first */
} sj_hold;
sj_status sj_scope_hold(const sj_segment *s, sj_hold *h, sj_error *err) SJ_HIDDEN;
void sj_scope_unhold(sj_hold *h) SJ_HIDDEN;

/* A thread's reader slot, its hold stack and its per-call counts (internal.h SJ_TC_*), made
 * together; every sj_reader in the registry is the first member of one. Only the thread
 * writes them; a slot is reused by a later thread once its thread exits (counts kept). */
typedef struct sj_reader_ext {
    sj_reader r;
    _Alignas(64) _Atomic(struct sj_scope *) held[SJ_HOLD_MAX];
    _Alignas(64) _Atomic uint64_t counts[SJ_TC_COUNT];
    unsigned index; /* order of creation: the thread's shard of a kernel's counts */
    /* &sj_self.mine of the thread using the slot when r.rseq (closers reset shared keys in
     * it), else NULL; written and read under the library's mine lock */
    uint64_t *mine_at;
} sj_reader_ext;
static inline sj_reader_ext *sj_ext_of(sj_reader *r) {
    return (sj_reader_ext *)(void *)r;
}
/* The thread's slot where closers run a full fence themselves (no membarrier). */
extern _Thread_local sj_reader *sj_fenced_rec SJ_HIDDEN SJ_TLS_FAST;
/* The calling thread's slot, registered on first need; NULL when out of memory. */
static inline sj_reader *sj_my_reader(void) {
    sj_reader *r = sj_self.rec ? sj_self.rec : sj_fenced_rec;
    return r ? r : sj_reader_register();
}
/* Adds every slot's counts (threads that exited included) to sum. */
void sj_thread_counts_sum(uint64_t sum[SJ_TC_COUNT]) SJ_HIDDEN;

/* Views (segjit/view.h): while any is open, closing the arena fails with SJ_E_BUSY. Enter
 * checks closed and thread as a pin does; a close deciding at the same time is waited for. */
#define SCOPE_VIEWS_CLOSING SJ__VIEWS_CLOSING
sj_status sj_scope_view_enter(sj_arena a, sj_error *err) SJ_HIDDEN;
void sj_scope_view_exit(sj_arena a) SJ_HIDDEN;
/* SJ_OK when this thread may close a view of the arena: shared, or confined to this thread
 * (a view holds the arena open, so the arena is live). */
sj_status sj_scope_view_owner(sj_arena a, sj_error *err) SJ_HIDDEN;

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
