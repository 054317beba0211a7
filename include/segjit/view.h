/* segjit/view.h: checked views, for loops the user writes. A view checks a range of a
 * segment once (read-only, bounds, lifetime, thread) and holds it open: while any view of
 * an arena is open, closing the arena fails with SJ_E_BUSY (as the JDK refuses to close
 * an arena a critical section holds), so the memory cannot go away under the loop. A field
 * binds an accessor to a view (layout checks and the alignment of the view's base, once);
 * its typed functions below are static inline and check only the index, the kind and,
 * for writes, that the view was opened for writing: in a loop to the field's count the
 * caller's compiler removes or hoists them, and the loop compiles as the unchecked one
 * (gcc also splits a loop with a bound of its own at the count; clang keeps the test).
 * Rules: SEMANTICS.md 3.7 and 4.1; docs/ACCESS.md section 5. */
#ifndef SEGJIT_VIEW_H
#define SEGJIT_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "segjit/accessor.h"
#include "segjit/layout.h"
#include "segjit/segment.h"
#include "segjit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SJ_VIEW_READ = 0u, SJ_VIEW_WRITE = 1u };

/* An open view. Fields are the library's; a view is not copied (it is closed through the
 * same object it was opened in: closing a copy is SJ_E_ARG and changes nothing) and is
 * used from the thread that opened it when its arena is confined. */
typedef struct sj_view {
    uint8_t *data;     /* first byte of the range (a heap segment's pinned storage) */
    uint64_t size;     /* bytes */
    uint32_t flags;    /* SJ_VIEW_* */
    uint32_t state;    /* open or closed (library's) */
    sj_segment seg;    /* the range as a slice of the segment it was opened on */
    uint8_t *pinned;   /* heap: the storage pin returned, NULL otherwise */
    uint64_t reserved; /* library's */
} sj_view;

/* Opens a view of `size` bytes (-1: to the end) at `offset` of `s`. Checks, in SEMANTICS
 * 4.1 order: read-only (with SJ_VIEW_WRITE), bounds, closed, thread. A heap segment is
 * viewable only when its storage can be held still (sj_segment_of_array, or pin callbacks:
 * sj_segment_heap_pinned): the view pins it once and resolves it once for its whole life;
 * a heap segment that may move is SJ_E_UNSUPPORTED. A failed open holds nothing. */
SJ_API sj_status sj_view_open(const sj_segment *s, int64_t offset, int64_t size, unsigned flags,
                              sj_view *out, sj_error *err);
/* Closes the view: unpins, and lets the arena close. Closing twice, or a view never
 * opened, is SJ_E_CLOSED; closing a view of a confined arena from another thread is
 * SJ_E_THREAD (the view stays open). Every field of the view is then dead (do not use it; builds
 * without NDEBUG make their accesses fail with SJ_E_CLOSED). */
SJ_API sj_status sj_view_close(sj_view *v, sj_error *err);

/* One value per element: element i at data + base + i * stride, i in [0, count). */
typedef struct sj_field {
    uint8_t *base;
    int64_t count;
    int64_t stride;
    uint8_t kind;     /* sj_kind of the value */
    uint8_t swap;     /* byte order is not the host's */
    uint8_t writable; /* the view was opened with SJ_VIEW_WRITE */
    uint8_t bad_op;   /* first failed access (library's): 0 none, else kind + 1 | write */
    int64_t bad_index;
    const sj_view *view;
} sj_field;

/* Binds accessor `a` to the view: its first free index (records, for an open path
 * `[*]...`) runs over the field's elements; `fixed` gives the other free indices (each in
 * its bound). Checks, in order: the free index count (SJ_E_ARG), that the view is open
 * (SJ_E_CLOSED; a closed view has no bytes, so this comes before any bound), fixed indices
 * (SJ_E_BOUNDS), that the accessor's root fits the view at its start (SJ_E_BOUNDS; an open
 * path counts the whole records that fit), the root's alignment at the view's base
 * (SJ_E_ALIGN, rule 3.3). An accessor without free indices gives one element. Messages
 * name the path. */
SJ_API sj_status sj_view_field(const sj_view *v, const sj_accessor *a, const int64_t *fixed,
                               size_t nfixed, sj_field *out, sj_error *err);

static inline int64_t sj_field_count(const sj_field *f) {
    return f->count;
}

/* The first failed access through the field (index outside [0, count): SJ_E_BOUNDS; a
 * typed function of another kind: SJ_E_ARG; a set through a read view: SJ_E_READONLY;
 * use after close: SJ_E_CLOSED), with its message; SJ_OK when none failed. Failed
 * accesses read 0 and write nothing. */
SJ_API sj_status sj_field_status(const sj_field *f, sj_error *err);

/* ---- inline access ---- */

enum { SJ__FIELD_WRITE = 0x80u };

/* The index test is two signed compares (not one unsigned): gcc then splits a loop whose
 * bound is not the count into the unchecked loop and a failing tail. */
static inline bool sj__field_ok(sj_field *f, int64_t i, unsigned kind, bool write) {
    bool ok = i >= 0 && i < f->count && f->kind == kind && (!write || f->writable);
#ifndef NDEBUG
    ok = ok && f->view->state == 1u;
#endif
    if (__builtin_expect(!ok, 0) && f->bad_op == 0) {
        f->bad_op = (uint8_t)((kind + 1u) | (write ? (unsigned)SJ__FIELD_WRITE : 0u));
        f->bad_index = i;
    }
    return ok;
}

#define SJ__FIELD_ACCESS(name, kind, type, bits)                                                   \
    static inline type sj_field_get_##name(sj_field *f, int64_t i) {                               \
        type v;                                                                                    \
        uint##bits##_t x = 0;                                                                      \
        if (__builtin_expect(sj__field_ok(f, i, kind, false), 1)) {                                \
            memcpy(&x, f->base + i * f->stride, sizeof x);                                         \
            if (bits > 8 && f->swap) x = (uint##bits##_t)sj__bswap##bits(x);                       \
        }                                                                                          \
        memcpy(&v, &x, sizeof v);                                                                  \
        return v;                                                                                  \
    }                                                                                              \
    static inline void sj_field_set_##name(sj_field *f, int64_t i, type v) {                       \
        uint##bits##_t x;                                                                          \
        memcpy(&x, &v, sizeof x);                                                                  \
        if (bits > 8 && f->swap) x = (uint##bits##_t)sj__bswap##bits(x);                           \
        if (__builtin_expect(sj__field_ok(f, i, kind, true), 1))                                   \
            memcpy(f->base + i * f->stride, &x, sizeof x);                                         \
    }

static inline uint8_t sj__bswap8(uint8_t x) {
    return x;
}
static inline uint16_t sj__bswap16(uint16_t x) {
    return __builtin_bswap16(x);
}
static inline uint32_t sj__bswap32(uint32_t x) {
    return __builtin_bswap32(x);
}
static inline uint64_t sj__bswap64(uint64_t x) {
    return __builtin_bswap64(x);
}

SJ__FIELD_ACCESS(i8, SJ_I8, int8_t, 8)
SJ__FIELD_ACCESS(u8, SJ_U8, uint8_t, 8)
SJ__FIELD_ACCESS(char, SJ_CHAR, uint16_t, 16)
SJ__FIELD_ACCESS(i16, SJ_I16, int16_t, 16)
SJ__FIELD_ACCESS(u16, SJ_U16, uint16_t, 16)
SJ__FIELD_ACCESS(i32, SJ_I32, int32_t, 32)
SJ__FIELD_ACCESS(u32, SJ_U32, uint32_t, 32)
SJ__FIELD_ACCESS(f32, SJ_F32, float, 32)
SJ__FIELD_ACCESS(i64, SJ_I64, int64_t, 64)
SJ__FIELD_ACCESS(u64, SJ_U64, uint64_t, 64)
SJ__FIELD_ACCESS(f64, SJ_F64, double, 64)
SJ__FIELD_ACCESS(addr, SJ_ADDR, uint64_t, 64)

/* bool: reads any nonzero byte as true, writes 0 or 1 */
static inline bool sj_field_get_bool(sj_field *f, int64_t i) {
    return sj__field_ok(f, i, SJ_BOOL, false) && f->base[i * f->stride] != 0;
}
static inline void sj_field_set_bool(sj_field *f, int64_t i, bool v) {
    if (sj__field_ok(f, i, SJ_BOOL, true)) f->base[i * f->stride] = v ? 1 : 0;
}

#undef SJ__FIELD_ACCESS

#ifdef __cplusplus
}
#endif
#endif
