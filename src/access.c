/* src/access.c: checked single access (sj_get/sj_set and their layout-path forms), in the
 * check order of SEMANTICS 4.1. Bulk operations belong to the kernels; arenas, segment
 * constructors and the alignment predicate live in src/segment.c. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "scope.h"

static sj_order host_order(void) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return SJ_ORDER_BIG;
#else
    return SJ_ORDER_LITTLE;
#endif
}

static void reverse_bytes(uint8_t *b, size_t n) {
    for (size_t i = 0, j = n - 1; i < j; i++, j--) {
        uint8_t t = b[i];
        b[i] = b[j];
        b[j] = t;
    }
}

static sj_status check_value_layout(const sj_layout *l, sj_error *err) {
    if (!l) return sj_fail(err, SJ_E_ARG, "access: layout is NULL");
    if (l->tag != SJ_VALUE)
        return sj_fail(err, SJ_E_ARG, "access: %s layout is not a value layout",
                       sj_tag_name(l->tag));
    if (l->size == 0 || l->size > 8)
        return sj_fail(err, SJ_E_ARG, "access: value layout of %" PRIu64 " bytes", l->size);
    return SJ_OK;
}

/* Read-only (writes), bounds and alignment of `size` bytes at `off` with alignment `align`,
 * in that order. `what` prefixes the message ("" for a plain access). */
static sj_status check_access(const sj_segment *s, int64_t off, uint64_t size, uint64_t align,
                              bool write, const char *what, sj_error *err) {
    if (write && (s->flags & SJ_SEG_READONLY))
        return sj_fail(err, SJ_E_READONLY,
                       "%swrite of %" PRIu64 " bytes at offset %" PRId64 " to a read-only segment",
                       what, size, off);
    if (off < 0 || (uint64_t)off > s->size || size > s->size - (uint64_t)off)
        return sj_fail(err, SJ_E_BOUNDS,
                       "%saccess of %" PRIu64 " bytes at offset %" PRId64
                       " is out of bounds for segment of size %" PRIu64,
                       what, size, off, s->size);
    if (!sj_segment_is_aligned(s, off, align)) {
        if (s->flags & SJ_SEG_HEAP)
            return sj_fail(err, SJ_E_ALIGN,
                           "%soffset %" PRId64 " is not aligned to %" PRIu64
                           " for heap segment of max alignment %" PRIu32
                           " (virtual address %" PRIu64 ")",
                           what, off, align, s->elem_size, s->vaddr + (uint64_t)off);
        return sj_fail(err, SJ_E_ALIGN,
                       "%soffset %" PRId64 " is not aligned to %" PRIu64
                       " for native segment (address 0x%" PRIx64 ")",
                       what, off, align, (uint64_t)(uintptr_t)s->base + (uint64_t)off);
    }
    return SJ_OK;
}

/* Lifetime check, then the memory touch itself (checks above already passed). */
static sj_status raw_get(const sj_segment *s, const sj_layout *l, int64_t off, sj_value *out,
                         sj_error *err) {
    sj_status st = sj_scope_acquire(s, err);
    if (st != SJ_OK) return st;
    uint8_t *data = sj_segment_data(s);
    if (!data) {
        sj_scope_release(s);
        return sj_fail(err, SJ_E_ARG, "access: heap segment's resolve returned NULL");
    }
    size_t n = (size_t)l->size;
    uint8_t b[8];
    memcpy(b, data + off, n);
    sj_scope_release(s);

    if (n > 1 && l->order != host_order()) reverse_bytes(b, n);
    sj_value v;
    memset(&v, 0, sizeof v);
    switch (l->kind) {
        case SJ_BOOL:
            v.z = b[0] != 0;
            break;
        case SJ_I8:
            memcpy(&v.i8, b, 1);
            break;
        case SJ_U8:
            memcpy(&v.u8, b, 1);
            break;
        case SJ_CHAR:
            memcpy(&v.c16, b, 2);
            break;
        case SJ_I16:
            memcpy(&v.i16, b, 2);
            break;
        case SJ_U16:
            memcpy(&v.u16, b, 2);
            break;
        case SJ_I32:
            memcpy(&v.i32, b, 4);
            break;
        case SJ_U32:
            memcpy(&v.u32, b, 4);
            break;
        case SJ_F32:
            memcpy(&v.f32, b, 4);
            break;
        case SJ_I64:
            memcpy(&v.i64, b, 8);
            break;
        case SJ_U64:
            memcpy(&v.u64, b, 8);
            break;
        case SJ_F64:
            memcpy(&v.f64, b, 8);
            break;
        case SJ_ADDR:
            memcpy(&v.addr, b, 8);
            break;
        default:
            return sj_fail(err, SJ_E_ARG, "access: unknown value kind %d", (int)l->kind);
    }
    *out = v;
    return SJ_OK;
}

static sj_status raw_set(const sj_segment *s, const sj_layout *l, int64_t off, sj_value v,
                         sj_error *err) {
    size_t n = (size_t)l->size;
    uint8_t b[8];
    switch (l->kind) {
        case SJ_BOOL:
            b[0] = v.z ? 1 : 0;
            break;
        case SJ_I8:
            memcpy(b, &v.i8, 1);
            break;
        case SJ_U8:
            memcpy(b, &v.u8, 1);
            break;
        case SJ_CHAR:
            memcpy(b, &v.c16, 2);
            break;
        case SJ_I16:
            memcpy(b, &v.i16, 2);
            break;
        case SJ_U16:
            memcpy(b, &v.u16, 2);
            break;
        case SJ_I32:
            memcpy(b, &v.i32, 4);
            break;
        case SJ_U32:
            memcpy(b, &v.u32, 4);
            break;
        case SJ_F32:
            memcpy(b, &v.f32, 4);
            break;
        case SJ_I64:
            memcpy(b, &v.i64, 8);
            break;
        case SJ_U64:
            memcpy(b, &v.u64, 8);
            break;
        case SJ_F64:
            memcpy(b, &v.f64, 8);
            break;
        case SJ_ADDR:
            memcpy(b, &v.addr, 8);
            break;
        default:
            return sj_fail(err, SJ_E_ARG, "access: unknown value kind %d", (int)l->kind);
    }
    if (n > 1 && l->order != host_order()) reverse_bytes(b, n);

    sj_status st = sj_scope_acquire(s, err);
    if (st != SJ_OK) return st;
    uint8_t *data = sj_segment_data(s);
    if (!data) {
        sj_scope_release(s);
        return sj_fail(err, SJ_E_ARG, "access: heap segment's resolve returned NULL");
    }
    memcpy(data + off, b, n);
    sj_scope_release(s);
    return SJ_OK;
}

sj_status sj_get(const sj_segment *s, const sj_layout *l, int64_t offset, sj_value *out,
                 sj_error *err) {
    if (!s || !out) return sj_fail(err, SJ_E_ARG, "get: segment or output is NULL");
    sj_status st = check_value_layout(l, err);
    if (st == SJ_OK) st = check_access(s, offset, l->size, l->align, false, "", err);
    if (st == SJ_OK) st = raw_get(s, l, offset, out, err);
    return st;
}

sj_status sj_set(const sj_segment *s, const sj_layout *l, int64_t offset, sj_value v,
                 sj_error *err) {
    if (!s) return sj_fail(err, SJ_E_ARG, "set: segment is NULL");
    sj_status st = check_value_layout(l, err);
    if (st == SJ_OK) st = check_access(s, offset, l->size, l->align, true, "", err);
    if (st == SJ_OK) st = raw_set(s, l, offset, v, err);
    return st;
}

/* Checks of a path access up to (not including) lifetime; gives the leaf and its offset.
 * The free-index checks (count, then each index in its bound) are sj_path_offset's. */
static sj_status path_prepare(const sj_segment *s, const sj_path *p, int64_t base,
                              const int64_t *indices, size_t count, bool write,
                              const sj_layout **leaf_out, int64_t *off_out, sj_error *err) {
    if (!s || !p) return sj_fail(err, SJ_E_ARG, "path access: segment or path is NULL");
    const char *text = sj_path_text(p);
    if (!text) text = "";
    const sj_layout *leaf = sj_path_leaf(p);
    if (!leaf || leaf->tag != SJ_VALUE)
        return sj_fail(err, SJ_E_PATH, "path '%.60s' does not end on a value (it selects a %s)",
                       text, leaf ? sj_tag_name(leaf->tag) : "nothing");
    sj_status st = check_value_layout(leaf, err);
    if (st != SJ_OK) return st;
    int64_t rel = 0;
    st = sj_path_offset(p, indices, count, &rel, err);
    if (st != SJ_OK) return st;
    const sj_layout *root = sj_path_root(p);
    char what[112];
    snprintf(what, sizeof what, "path '%.60s' (root layout of %" PRIu64 " bytes): ", text,
             root->size);
    st = check_access(s, base, root->size, root->align, write, what, err);
    if (st != SJ_OK) return st;
    *leaf_out = leaf;
    *off_out = base + rel; /* inside the root, which fits at base: no overflow */
    return SJ_OK;
}

sj_status sj_get_path(const sj_segment *s, const sj_path *p, int64_t base, const int64_t *indices,
                      size_t count, sj_value *out, sj_error *err) {
    if (!out) return sj_fail(err, SJ_E_ARG, "get: output is NULL");
    const sj_layout *leaf = NULL;
    int64_t off = 0;
    sj_status st = path_prepare(s, p, base, indices, count, false, &leaf, &off, err);
    if (st == SJ_OK) st = raw_get(s, leaf, off, out, err);
    return st;
}

sj_status sj_set_path(const sj_segment *s, const sj_path *p, int64_t base, const int64_t *indices,
                      size_t count, sj_value v, sj_error *err) {
    const sj_layout *leaf = NULL;
    int64_t off = 0;
    sj_status st = path_prepare(s, p, base, indices, count, true, &leaf, &off, err);
    if (st == SJ_OK) st = raw_set(s, leaf, off, v, err);
    return st;
}
