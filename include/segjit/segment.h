/* segjit/segment.h: arenas, native and heap segments, and checked single access.
 * Segments are small values: copying one is free and never copies memory. Their
 * lifetime is their arena's; after the arena closes every access is SJ_E_CLOSED.
 * Rules: SEMANTICS.md sections 3 and 4.1. */
#ifndef SEGJIT_SEGMENT_H
#define SEGJIT_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segjit/layout.h"
#include "segjit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sj_scope;

/* An arena handle is a value: a scope and the key it was opened with (its generation and
 * kind; opaque). A stale handle (closed, even if its scope was reused) is recognised and
 * answers CLOSED. */
typedef struct sj_arena {
    struct sj_scope *scope; /* NULL: the global arena */
    uint64_t key;
} sj_arena;

typedef enum sj_arena_kind {
    SJ_ARENA_CONFINED, /* owner thread only; others get SJ_E_THREAD */
    SJ_ARENA_SHARED    /* any thread */
} sj_arena_kind;

/* Element kinds of a heap segment's backing array. */
typedef enum sj_heap_kind {
    SJ_HEAP_I8,
    SJ_HEAP_I16,
    SJ_HEAP_U16,
    SJ_HEAP_I32,
    SJ_HEAP_F32,
    SJ_HEAP_I64,
    SJ_HEAP_F64
} sj_heap_kind;

/* Returns the current base of the owner's array (it may move between calls). */
typedef void *(*sj_heap_resolve_fn)(void *owner);

/* Holds the owner's array still (pin) or lets it move again (unpin); calls nest. */
typedef void (*sj_heap_pin_fn)(void *owner);

enum { SJ_SEG_READONLY = 1u, SJ_SEG_HEAP = 2u, SJ_SEG_MAPPED = 4u, SJ_SEG_PINNABLE = 8u };

/* Fields are the library's; read them through the functions below. */
typedef struct sj_segment {
    uint8_t *base;  /* native: first byte; heap: NULL */
    uint64_t size;  /* bytes */
    uint64_t vaddr; /* heap: virtual address (byte offset into the array) */
    sj_arena arena; /* lifetime */
    void *owner;    /* heap: owner handle given to resolve */
    sj_heap_resolve_fn resolve;
    uint32_t flags;
    uint32_t elem_size; /* heap: element size of the array (its max alignment) */
    sj_heap_pin_fn pin; /* heap: NULL, or holds the array still until unpin */
    sj_heap_pin_fn unpin;
} sj_segment;

/* Arenas. Allocation is zeroed and aligned to max(align, 16). Closing twice, or
 * closing through a stale handle, is SJ_E_CLOSED; the global arena cannot be closed
 * (SJ_E_UNSUPPORTED); a confined arena closes on its owner thread only. */
SJ_API sj_status sj_arena_open(sj_arena_kind kind, sj_arena *out, sj_error *err);
SJ_API sj_arena sj_arena_global(void);
SJ_API sj_status sj_arena_close(sj_arena arena, sj_error *err);
SJ_API bool sj_arena_is_alive(sj_arena arena);
SJ_API sj_status sj_arena_allocate(sj_arena arena, int64_t size, int64_t align, sj_segment *out,
                                   sj_error *err);
SJ_API sj_status sj_arena_allocate_layout(sj_arena arena, const sj_layout *layout, sj_segment *out,
                                          sj_error *err);
/* Maps [offset, offset + size) of a file; size -1 maps to the end of the file.
 * Unmapped when the arena closes. Read-only unless writable. A writable mapping that
 * reaches past the end of the file (or starts past it) grows the file first (zero bytes,
 * disk blocks allocated: a full disk is SJ_E_NOMEM here), as the JDK's FileChannel.map
 * does in READ_WRITE mode; a call that fails after that cuts the file back. A read-only
 * one is SJ_E_BOUNDS. */
SJ_API sj_status sj_arena_map_file(sj_arena arena, const char *path, int64_t offset, int64_t size,
                                   bool writable, sj_segment *out, sj_error *err);

/* Native segment over a caller's memory, alive as long as the caller says (global). */
SJ_API sj_status sj_segment_native(void *addr, int64_t size, sj_segment *out, sj_error *err);
/* Heap segment over `count` elements of an array reached through resolve(owner). */
SJ_API sj_status sj_segment_heap(sj_heap_kind kind, int64_t count, void *owner,
                                 sj_heap_resolve_fn resolve, sj_segment *out, sj_error *err);
/* Heap segment whose array can be held still: a kernel run pins it (pin(owner), then
 * resolve once) for the call and may run compiled code on it; a view pins it while open.
 * Every pin is matched by one unpin, failed calls included. Alignment is still rule 3.3
 * (the array's element size bounds it), wherever the array lies. */
SJ_API sj_status sj_segment_heap_pinned(sj_heap_kind kind, int64_t count, void *owner,
                                        sj_heap_resolve_fn resolve, sj_heap_pin_fn pin,
                                        sj_heap_pin_fn unpin, sj_segment *out, sj_error *err);
/* Heap segment over a plain C array that does not move (still a heap segment: kernels on
 * it run on the interpreter; use sj_segment_native for compiled code over C memory). */
SJ_API sj_status sj_segment_of_array(sj_heap_kind kind, void *array, int64_t count, sj_segment *out,
                                     sj_error *err);

SJ_API sj_status sj_segment_slice(const sj_segment *s, int64_t offset, int64_t size,
                                  sj_segment *out, sj_error *err);
SJ_API sj_segment sj_segment_readonly(const sj_segment *s);
SJ_API bool sj_segment_is_readonly(const sj_segment *s);
SJ_API bool sj_segment_is_native(const sj_segment *s);
SJ_API uint64_t sj_segment_size(const sj_segment *s);
/* Real address for native segments, virtual address for heap segments. */
SJ_API uint64_t sj_segment_address(const sj_segment *s);
/* The largest power of two dividing the address (1 << 62 for address 0, as the JDK answers
 * for MemorySegment.NULL); for heap segments the virtual address, capped at the element
 * size (an i64 array sliced at byte 12: 4). */
SJ_API uint64_t sj_segment_max_align(const sj_segment *s);
/* The overlapping part of a and b as a slice of a; false when they do not overlap (an
 * empty segment overlaps nothing; the JDK's asOverlappingSlice answers an empty slice for
 * one strictly inside the other, and a too long slice when b lies inside a: not followed). */
SJ_API bool sj_segment_overlap(const sj_segment *a, const sj_segment *b, sj_segment *out);
/* Rule 3.3: is an access of alignment `align` at `offset` aligned? */
SJ_API bool sj_segment_is_aligned(const sj_segment *s, int64_t offset, uint64_t align);
/* Lifetime and thread check alone: SJ_OK, SJ_E_CLOSED or SJ_E_THREAD. */
SJ_API sj_status sj_segment_check_alive(const sj_segment *s, sj_error *err);

/* ---- Checked single access (SEMANTICS 4.1) ---- */

typedef union sj_value {
    bool z;
    int8_t i8;
    uint8_t u8;
    uint16_t c16;
    int16_t i16;
    uint16_t u16;
    int32_t i32;
    uint32_t u32;
    float f32;
    int64_t i64;
    uint64_t u64;
    double f64;
    uint64_t addr;
} sj_value;

/* Access of a value layout at a byte offset. Check order: read-only (set) -> bounds ->
 * alignment -> closed/thread. The member of sj_value used is the layout's kind. */
SJ_API sj_status sj_get(const sj_segment *s, const sj_layout *value, int64_t offset, sj_value *out,
                        sj_error *err);
SJ_API sj_status sj_set(const sj_segment *s, const sj_layout *value, int64_t offset, sj_value v,
                        sj_error *err);
/* Access through a path whose leaf is a value: free indices first (SJ_E_BOUNDS), then
 * the checks above for the root layout at `base`. */
SJ_API sj_status sj_get_path(const sj_segment *s, const sj_path *p, int64_t base,
                             const int64_t *indices, size_t count, sj_value *out, sj_error *err);
SJ_API sj_status sj_set_path(const sj_segment *s, const sj_path *p, int64_t base,
                             const int64_t *indices, size_t count, sj_value v, sj_error *err);

#ifdef __cplusplus
}
#endif
#endif
