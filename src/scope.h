/* src/scope.h: the private lifetime API of segments, for src/ files that touch segment
 * memory (single access, kernels): acquire/release around every touch, and the current
 * data pointer of a segment. Arena and segment construction live in src/segment.c. */
#ifndef SEGJIT_SCOPE_H
#define SEGJIT_SCOPE_H

#include <stdint.h>

#include "segjit/segment.h"
#include "segjit/status.h"

/* How lifetimes are enforced.
 *
 * Every arena handle names a scope and a generation. Scopes are pooled and never freed,
 * so dereferencing a scope pointer is always safe; closing an arena bumps the scope's
 * generation, so a stale handle (even one whose scope has been reused by a new arena)
 * is recognised and answers SJ_E_CLOSED.
 *
 * Any code that reads or writes a segment's memory must bracket the touch:
 *
 *     if ((st = sj_scope_acquire(seg, err)) != SJ_OK) return st;
 *     ... touch seg memory ...
 *     sj_scope_release(seg);
 *
 * acquire increments the scope's in-flight counter, then checks that the handle's
 * generation is current and the arena open (SJ_E_CLOSED otherwise) and, for a confined
 * arena, that the caller is the owner thread (SJ_E_THREAD); on failure it undoes the
 * increment. sj_arena_close marks the scope CLOSING, then WAITS until the in-flight
 * counter drops to zero before it frees any memory. Both sides use seq_cst atomics
 * (increment-then-check against mark-then-check), so either the caller sees CLOSING
 * and fails, or close sees the caller and waits: memory is never freed under a call
 * that passed acquire. Keep the bracket short (one call), and never close an arena
 * between acquire and release on the same thread: close would wait for itself.
 *
 * CLOSED is decided before THREAD: a closed arena answers CLOSED on every thread (the
 * JDK says WrongThread for a closed confined arena used from another thread, but a stale
 * handle no longer knows its owner once the scope is reused).
 *
 * Segments of the global arena, native segments over caller memory and heap segments
 * have no scope: acquire always succeeds and release does nothing.
 *
 * Acquire checks lifetime only; callers run their read-only, bounds and alignment checks
 * first (SEMANTICS 4.1 check order). */
sj_status sj_scope_acquire(const sj_segment *s, sj_error *err);
void sj_scope_release(const sj_segment *s);

/* The current address of a segment's first byte: base for native segments,
 * resolve(owner) + vaddr for heap segments (re-resolved at every call; never cache it
 * beyond the current acquire/release bracket). NULL when a heap resolve returns NULL. */
uint8_t *sj_segment_data(const sj_segment *s);

/* Element size for heap segments, 0 for native ones: the `maxalignbits` of rule 3.3. */
static inline uint64_t sj_segment_align_bits(const sj_segment *s) {
    return (s->flags & SJ_SEG_HEAP) ? s->elem_size : 0;
}

/* A small unique id of the calling thread (never 0), stable for the thread's life. */
uint64_t sj_thread_id(void);

#endif
