/* src/view.c: checked views (segjit/view.h): open checks a range once and holds its arena
 * (close answers SJ_E_BUSY meanwhile) and a heap segment's pinned storage; close lets go.
 * Fields are bound in src/access.c, which knows accessors. */
#include <inttypes.h>
#include <string.h>

#include "internal.h"
#include "scope.h"
#include "segjit/view.h"

enum { VIEW_OPEN = 1u, VIEW_CLOSED = 2u };

static const char *const call_names[SJ_KIND_COUNT] = {
    [SJ_BOOL] = "bool", [SJ_I8] = "i8",   [SJ_U8] = "u8",     [SJ_CHAR] = "char", [SJ_I16] = "i16",
    [SJ_U16] = "u16",   [SJ_I32] = "i32", [SJ_U32] = "u32",   [SJ_F32] = "f32",   [SJ_I64] = "i64",
    [SJ_U64] = "u64",   [SJ_F64] = "f64", [SJ_ADDR] = "addr",
};

sj_status sj_view_open(const sj_segment *s, int64_t offset, int64_t size, unsigned flags,
                       sj_view *out, sj_error *err) {
    if (!s || !out) return sj_fail(err, SJ_E_ARG, "view open: segment or output is NULL");
    if (flags & ~(unsigned)SJ_VIEW_WRITE)
        return sj_fail(err, SJ_E_ARG, "view open: unknown flags 0x%x", flags);
    bool write = (flags & SJ_VIEW_WRITE) != 0;
    if (size < -1) return sj_fail(err, SJ_E_ARG, "view open: size %" PRId64 " is negative", size);
    if (write && (s->flags & SJ_SEG_READONLY))
        return sj_fail(err, SJ_E_READONLY,
                       "view open: a writable view at offset %" PRId64 " of a read-only segment",
                       offset);
    if (offset < 0 || (uint64_t)offset > s->size ||
        (size >= 0 && (uint64_t)size > s->size - (uint64_t)offset))
        return sj_fail(err, SJ_E_BOUNDS,
                       "view open: %" PRId64 " bytes at offset %" PRId64
                       " are out of bounds for a segment of size %" PRIu64,
                       size, offset, s->size);
    uint64_t len = size < 0 ? s->size - (uint64_t)offset : (uint64_t)size;
    if (!sj_segment_still(s))
        return sj_fail(err, SJ_E_UNSUPPORTED,
                       "view open: a heap segment without pin callbacks may move (make it with "
                       "sj_segment_heap_pinned or sj_segment_of_array)");
    sj_status st = sj_scope_view_enter(s->arena, err);
    if (st != SJ_OK) return st;
    sj_view v;
    memset(&v, 0, sizeof v);
    v.seg = *s;
    v.seg.size = len;
    if (s->flags & SJ_SEG_HEAP)
        v.seg.vaddr += (uint64_t)offset;
    else if (offset) /* an empty segment's base may be NULL */
        v.seg.base += offset;
    uint8_t *p = sj_segment_pin(&v.seg);
    /* a segment of 0 bytes may be at 0 (native, or an empty array resolved to NULL) */
    if (!p && (s->flags & SJ_SEG_HEAP) && s->size > 0) {
        sj_scope_view_exit(s->arena);
        return sj_fail(err, SJ_E_ARG, "view open: the heap segment's resolve returned NULL");
    }
    v.data = p;
    v.pinned = (s->flags & SJ_SEG_HEAP) ? p : NULL;
    v.size = len;
    v.flags = flags;
    v.state = VIEW_OPEN;
    v.reserved = (uint64_t)(uintptr_t)out; /* where it lives: a copy cannot close it */
    *out = v;
    return SJ_OK;
}

sj_status sj_view_close(sj_view *v, sj_error *err) {
    if (!v) return sj_fail(err, SJ_E_ARG, "view close: view is NULL");
    if (v->state != VIEW_OPEN) return sj_fail(err, SJ_E_CLOSED, "view close: the view is not open");
    if (v->reserved != (uint64_t)(uintptr_t)v) /* its copy would count the close twice */
        return sj_fail(err, SJ_E_ARG,
                       "view close: this is a copy of a view; close it through the object it "
                       "was opened in");
    sj_status st = sj_scope_view_owner(v->seg.arena, err); /* a confined arena's owner only */
    if (st != SJ_OK) return st;
    if (v->pinned) sj_segment_unpin(&v->seg);
    sj_scope_view_exit(v->seg.arena);
    v->state = VIEW_CLOSED;
    v->data = NULL;
    v->size = 0;
    v->pinned = NULL;
    return SJ_OK;
}

sj_status sj_field_status(const sj_field *f, sj_error *err) {
    if (!f) return sj_fail(err, SJ_E_ARG, "field: NULL field");
    if (f->bad_op == 0) return SJ_OK;
    bool write = (f->bad_op & SJ__FIELD_WRITE) != 0;
    unsigned kind = (f->bad_op & ~(unsigned)SJ__FIELD_WRITE) - 1u;
    const char *op = write ? "set" : "get";
    /* kind, count and writability never change: when none of them failed the access, the
     * view was closed at the time (it may have been closed since: not the reason) */
    if (kind != f->kind) {
        if (f->kind >= SJ_KIND_COUNT)
            return sj_fail(err, SJ_E_ARG, "field %s of element %" PRId64 ": the field is not bound",
                           op, f->bad_index);
        return sj_fail(err, SJ_E_ARG,
                       "field %s of element %" PRId64
                       ": the field's value is %s, called through sj_field_%s_%s (use "
                       "sj_field_%s_%s)",
                       op, f->bad_index, sj_kind_name((sj_kind)f->kind), op, call_names[kind], op,
                       call_names[f->kind]);
    }
    if ((uint64_t)f->bad_index >= (uint64_t)f->count)
        return sj_fail(err, SJ_E_BOUNDS,
                       "field %s: element %" PRId64 " is outside [0, %" PRId64 ")", op,
                       f->bad_index, f->count);
    if (write && !f->writable)
        return sj_fail(err, SJ_E_READONLY,
                       "field set of element %" PRId64 ": the view was opened read-only",
                       f->bad_index);
    return sj_fail(err, SJ_E_CLOSED, "field %s of element %" PRId64 ": its view is closed", op,
                   f->bad_index);
}
