/* src/access.c: checked single access (sj_get/sj_set, their layout-path forms and
 * accessors), in the check order of SEMANTICS 4.1. Every form runs one engine: an inline
 * fast path that only answers success (a handful of compares, a lease, one load or store)
 * and an out-of-line slow path that runs every check in order, formats the message of the
 * first that fails, and also serves heap segments. Bulk operations belong to the kernels;
 * arenas, segment constructors and the alignment predicate live in src/segment.c. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "scope.h"
#include "segjit/accessor.h"
#include "segjit/view.h"

static sj_order host_order(void) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return SJ_ORDER_BIG;
#else
    return SJ_ORDER_LITTLE;
#endif
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

/* The prefix of an accessor's failure messages: the path and its root, or nothing for a
 * value layout (sj_get's messages); formatted only when a check fails. */
static const char *access_what(const sj_accessor *a, char *buf, size_t cap) {
    buf[0] = '\0';
    if (a && a->path) {
        const char *text = sj_path_text(a->path);
        snprintf(buf, cap, "path '%.60s' (root layout of %" PRIu64 " bytes): ", text ? text : "",
                 a->root_size);
    }
    return buf;
}

/* Read-only (writes), bounds and alignment of `size` bytes at `off` with alignment `align`,
 * in that order, prefixed by access_what. */
SJ_COLD static sj_status check_access_fail(const sj_segment *s, int64_t off, uint64_t size,
                                           uint64_t align, bool write, const sj_accessor *a,
                                           sj_error *err) {
    char buf[112];
    const char *what = access_what(a, buf, sizeof buf);
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
                           " for heap segment of max alignment %" PRIu64
                           " (virtual address %" PRIu64 ")",
                           what, off, align, sj_segment_max_align(s), s->vaddr + (uint64_t)off);
        return sj_fail(err, SJ_E_ALIGN,
                       "%soffset %" PRId64 " is not aligned to %" PRIu64
                       " for native segment (address 0x%" PRIx64 ")",
                       what, off, align, (uint64_t)(uintptr_t)s->base + (uint64_t)off);
    }
    return SJ_OK;
}

/* Read-only, bounds and alignment (SEMANTICS 4.1), the messages built only on failure. */
static sj_status check_access(const sj_segment *s, int64_t off, uint64_t size, uint64_t align,
                              bool write, const sj_accessor *a, sj_error *err) {
    if (SJ_LIKELY(!(write && (s->flags & SJ_SEG_READONLY)) && off >= 0 &&
                  (uint64_t)off <= s->size && size <= s->size - (uint64_t)off &&
                  sj_segment_is_aligned(s, off, align)))
        return SJ_OK;
    return check_access_fail(s, off, size, align, write, a, err);
}

/* ---- The engine ---- */

/* struct sj_accessor is in segjit/fast.h: the inline calls of accessor.h read it. A change
 * of these sizes, or of what the inline code may assume (revision 2: a thread has a slot in
 * sj__self only where closers run membarrier; 3: an arena handle carries its open word; 4:
 * keys are unique over all arenas and a thread remembers its open confined one; 5: `mine` may
 * hold a shared key, for restartable accesses only, and closers reset it; 6: a lease keeps
 * a shared key only while no close has begun, and the descriptor is cleared after each
 * access), is a
 * change of SJ__FAST_REVISION (and of the name sj__self is exported as). */
#if UINTPTR_MAX == UINT64_MAX /* the sizes of 64-bit targets */
_Static_assert(SJ__FAST_REVISION == 6 && sizeof(struct sj_accessor) == 216 &&
                   sizeof(struct sj_scope) == 128 && sizeof(sj_thread_state) == 24 &&
                   sizeof(sj_reader) == 128,
               "segjit/fast.h changed: bump SJ__FAST_REVISION and the exported name of sj__self");
#endif

enum { KIND_ANY = -1 };

/* Moves one value between memory at p and *val (a C object of the kind's type; for
 * KIND_ANY callers an sj_value, whose members all start at its first byte). */
static inline __attribute__((always_inline)) void move_value(int kind, bool swap, uint8_t *p,
                                                             void *val, bool write) {
    switch (kind) {
        case SJ_BOOL:
            if (write)
                *p = *(const bool *)val ? 1 : 0;
            else
                *(bool *)val = *p != 0;
            break;
        case SJ_I8:
        case SJ_U8:
            if (write)
                memcpy(p, val, 1);
            else
                memcpy(val, p, 1);
            break;
        case SJ_CHAR:
        case SJ_I16:
        case SJ_U16: {
            uint16_t x;
            memcpy(&x, write ? (const void *)val : (const void *)p, 2);
            if (swap) x = __builtin_bswap16(x);
            memcpy(write ? (void *)p : val, &x, 2);
            break;
        }
        case SJ_I32:
        case SJ_U32:
        case SJ_F32: {
            uint32_t x;
            memcpy(&x, write ? (const void *)val : (const void *)p, 4);
            if (swap) x = __builtin_bswap32(x);
            memcpy(write ? (void *)p : val, &x, 4);
            break;
        }
        default: { /* the 8-byte kinds: made accessors only hold valid kinds */
            uint64_t x;
            memcpy(&x, write ? (const void *)val : (const void *)p, 8);
            if (swap) x = __builtin_bswap64(x);
            memcpy(write ? (void *)p : val, &x, 8);
            break;
        }
    }
}

static const char *const kind_call_names[SJ_KIND_COUNT] = {
    [SJ_BOOL] = "bool", [SJ_I8] = "i8",   [SJ_U8] = "u8",     [SJ_CHAR] = "char", [SJ_I16] = "i16",
    [SJ_U16] = "u16",   [SJ_I32] = "i32", [SJ_U32] = "u32",   [SJ_F32] = "f32",   [SJ_I64] = "i64",
    [SJ_U64] = "u64",   [SJ_F64] = "f64", [SJ_ADDR] = "addr",
};

/* Every check in SEMANTICS 4.1 order with its message, then the access itself. The fast
 * path comes here whenever it cannot answer success, and for heap segments. */
SJ_COLD static sj_status access_slow(const sj_accessor *a, const sj_segment *s, int64_t off,
                                     const int64_t *idx, size_t n, int kind, bool write, void *val,
                                     sj_error *err) {
    const char *op = write ? "set" : "get";
    if (!a || !s || !val)
        return sj_fail(err, SJ_E_ARG, "accessor %s: accessor, segment or %s is NULL", op,
                       write ? "value" : "output");
    if (kind != KIND_ANY && kind != a->kind)
        return sj_fail(err, SJ_E_ARG,
                       "accessor %s: the accessor's value is %s, called through "
                       "sj_accessor_%s_%s (use sj_accessor_%s_%s)",
                       op, sj_kind_name((sj_kind)a->kind), op, kind_call_names[kind], op,
                       kind_call_names[a->kind]);
    int64_t rel = 0;
    sj_status st;
    if (a->open && n == a->nfree && idx) {
        /* Free index 0 against the records that fit from `off`; the others as usual. */
        uint64_t fit =
            off >= 0 && (uint64_t)off <= s->size ? (s->size - (uint64_t)off) / a->root_size : 0;
        if (idx[0] < 0 || (uint64_t)idx[0] >= fit)
            return sj_fail(err, SJ_E_BOUNDS,
                           "path '%.60s': free index 0 is %" PRId64 ", outside [0, %" PRIu64
                           ") (records of %" PRIu64 " bytes that fit from offset %" PRId64 ")",
                           sj_path_text(a->path), idx[0], fit, a->root_size, off);
        int64_t rest[SJ_PATH_MAX_FREE];
        memcpy(rest, idx, n * sizeof *idx);
        rest[0] = 0;
        if ((st = sj_path_offset(a->path, rest, n, &rel, err)) != SJ_OK) return st;
        rel += idx[0] * (int64_t)a->root_size; /* < the segment's size */
    } else if (a->path) {
        if ((st = sj_path_offset(a->path, idx, n, &rel, err)) != SJ_OK) return st;
    } else if (n != 0) {
        return sj_fail(err, SJ_E_ARG, "access: a value layout has no free indices, %zu given", n);
    }
    st = check_access(s, off, a->root_size, a->root_align, write, a, err);
    if (st != SJ_OK) return st;
    sj_reader *slot;
    if (!sj_lease_enter(s->arena, &slot) &&
        (st = sj_lease_fail(s->arena, write ? "set: segment" : "get: segment", &slot, err)) !=
            SJ_OK)
        return st;
    uint8_t *data = sj_segment_data(s);
    if (!data) {
        sj_lease_exit(slot);
        return sj_fail(err, SJ_E_ARG, "access: heap segment's resolve returned NULL");
    }
    move_value(a->kind, a->swap, data + off + rel, val, write);
    sj_lease_exit(slot);
    return SJ_OK;
}

/* The fast path (segjit/fast.h): true when every check passed for a native segment and the
 * value moved; false hands the call to access_slow, which decides again from scratch. `kind`
 * is a constant in every caller but the untyped ones, so the move folds to one load or store. */
static inline __attribute__((always_inline)) bool access_fast(const sj_accessor *a,
                                                              const sj_segment *s, int64_t off,
                                                              const int64_t *idx, size_t n,
                                                              int kind, bool write, void *val) {
    uint8_t *p;
    sj_reader *slot;
    if (SJ_UNLIKELY(!sj__access_enter(a, s, off, idx, n, kind, write, val, &p, &slot)))
        return false;
    move_value(kind == KIND_ANY ? a->kind : kind, a->swap, p, val, write);
    sj_lease_exit(slot);
    return true;
}

static inline __attribute__((always_inline)) sj_status
access_value(const sj_accessor *a, const sj_segment *s, int64_t off, const int64_t *idx, size_t n,
             int kind, bool write, void *val, sj_error *err) {
    if (SJ_LIKELY(access_fast(a, s, off, idx, n, kind, write, val))) return SJ_OK;
    return access_slow(a, s, off, idx, n, kind, write, val, err);
}

/* Fills the engine's form of a value layout (already checked by check_value_layout). */
static void prepare_value(const sj_layout *l, sj_accessor *a) {
    memset(a, 0, offsetof(sj_accessor, stride));
    a->kind = (uint8_t)l->kind;
    a->swap = l->size > 1 && l->order != host_order();
    a->root_size = l->size;
    a->root_align = l->align;
    a->root_mask = l->align - 1;
    a->path = NULL;
    a->leaf = l;
    a->owned = NULL;
    a->owned_leaf = NULL;
    a->open = false;
    a->open_step = 0;
    a->sig = (uint16_t)(a->kind | a->nfree << 8);
}

/* The same for a path whose leaf is a value: the checks sj_get_path makes before any
 * call-dependent one (NULL path, leaf not a value). */
static sj_status prepare_path(const sj_path *p, sj_accessor *a, sj_error *err) {
    const sj_layout *root, *leaf;
    int64_t base;
    size_t nfree;
    sj_path_resolved(p, &root, &leaf, &base, &nfree, a->stride, a->bound);
    if (!leaf || leaf->tag != SJ_VALUE) {
        const char *text = sj_path_text(p);
        return sj_fail(err, SJ_E_PATH, "path '%.60s' does not end on a value (it selects a %s)",
                       text ? text : "", leaf ? sj_tag_name(leaf->tag) : "nothing");
    }
    sj_status st = check_value_layout(leaf, err);
    if (st != SJ_OK) return st;
    prepare_value(leaf, a);
    a->root_size = root->size;
    a->root_align = root->align;
    a->root_mask = root->align - 1;
    a->path = p;
    a->base = base;
    a->nfree = (uint8_t)nfree;
    a->sig = (uint16_t)(a->kind | a->nfree << 8);
    /* A root that is the JDK's open sequence `[*:rec]` (the largest count) with the first
     * free index on its records: the records run open, their count from the segment (as
     * kernels over such a path and accessors made on it do; SEMANTICS 4.5). */
    uint64_t es = root->tag == SJ_SEQUENCE && root->elem ? root->elem->size : 0;
    if (es && root->count == (uint64_t)INT64_MAX / es && nfree > 0 && a->stride[0] == (int64_t)es &&
        a->bound[0] == (int64_t)root->count && base >= 0 && (uint64_t)base < es) {
        a->open = true;
        a->open_step = es;
        a->root_size = es;
        a->root_align = root->elem->align;
        a->root_mask = root->elem->align - 1;
    }
    return SJ_OK;
}

/* ---- sj_get, sj_set and the path forms ---- */

sj_status sj_get(const sj_segment *s, const sj_layout *l, int64_t offset, sj_value *out,
                 sj_error *err) {
    if (!s || !out) return sj_fail(err, SJ_E_ARG, "get: segment or output is NULL");
    sj_status st = check_value_layout(l, err);
    if (st != SJ_OK) return st;
    sj_accessor a;
    prepare_value(l, &a);
    sj_value v;
    memset(&v, 0, sizeof v);
    st = access_value(&a, s, offset, NULL, 0, KIND_ANY, false, &v, err);
    if (st == SJ_OK) *out = v;
    return st;
}

sj_status sj_set(const sj_segment *s, const sj_layout *l, int64_t offset, sj_value v,
                 sj_error *err) {
    if (!s) return sj_fail(err, SJ_E_ARG, "set: segment is NULL");
    sj_status st = check_value_layout(l, err);
    if (st != SJ_OK) return st;
    sj_accessor a;
    prepare_value(l, &a);
    return access_value(&a, s, offset, NULL, 0, KIND_ANY, true, &v, err);
}

sj_status sj_get_path(const sj_segment *s, const sj_path *p, int64_t base, const int64_t *indices,
                      size_t count, sj_value *out, sj_error *err) {
    if (!out) return sj_fail(err, SJ_E_ARG, "get: output is NULL");
    if (!s || !p) return sj_fail(err, SJ_E_ARG, "path access: segment or path is NULL");
    sj_accessor a;
    sj_status st = prepare_path(p, &a, err);
    if (st != SJ_OK) return st;
    sj_value v;
    memset(&v, 0, sizeof v);
    st = access_value(&a, s, base, indices, count, KIND_ANY, false, &v, err);
    if (st == SJ_OK) *out = v;
    return st;
}

sj_status sj_set_path(const sj_segment *s, const sj_path *p, int64_t base, const int64_t *indices,
                      size_t count, sj_value v, sj_error *err) {
    if (!s || !p) return sj_fail(err, SJ_E_ARG, "path access: segment or path is NULL");
    sj_accessor a;
    sj_status st = prepare_path(p, &a, err);
    if (st != SJ_OK) return st;
    return access_value(&a, s, base, indices, count, KIND_ANY, true, &v, err);
}

/* ---- Accessor objects ---- */

static sj_status accessor_finish(sj_path *owned, sj_accessor **out, sj_error *err) {
    sj_accessor *a = malloc(sizeof *a);
    if (!a) {
        sj_path_free(owned);
        return sj_fail(err, SJ_E_NOMEM, "accessor: out of memory");
    }
    sj_status st = prepare_path(owned, a, err);
    if (st != SJ_OK) {
        sj_path_free(owned);
        free(a);
        return st;
    }
    a->owned = owned;
    *out = a;
    return SJ_OK;
}

/* Does path text start with an open element `[*]` or `[]`? */
static bool leading_open(const char *t) {
    while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
        t++;
    if (*t++ != '[') return false;
    while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
        t++;
    if (*t == '*') t++;
    while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
        t++;
    return *t == ']';
}

/* The open sequence of records a leading `[*]` runs over (SEMANTICS 4.5): for a record
 * root, `[*:root]` (the largest count that fits 63 bits, as the JDK's); for a root that is
 * already such a sequence, the root. NULL (and *err unset) when the path is an ordinary
 * one; *st set on failure. */
static sj_layout *open_records_root(const sj_layout *root, const char *text, sj_status *st,
                                    sj_error *err) {
    *st = SJ_OK;
    if (!leading_open(text)) return NULL;
    if (root->tag == SJ_SEQUENCE) {
        uint64_t es = root->elem->size;
        if (es == 0 || root->count != (uint64_t)INT64_MAX / es) return NULL; /* [N:..]: usual */
        return sj_layout_ref(root);
    }
    if (root->size == 0) {
        *st =
            sj_fail(err, SJ_E_ARG,
                    "accessor: path '%.60s' opens records of 0 bytes (no count can follow)", text);
        return NULL;
    }
    sj_layout *seq = NULL;
    *st = sj_layout_sequence((int64_t)((uint64_t)INT64_MAX / root->size), root, &seq, err);
    return seq;
}

sj_status sj_accessor_new(const sj_layout *root, const char *path, sj_accessor **out,
                          sj_error *err) {
    if (!root || !path || !out)
        return sj_fail(err, SJ_E_ARG, "accessor: root, path or output is NULL");
    sj_status st;
    sj_layout *records = open_records_root(root, path, &st, err);
    if (st != SJ_OK) return st;
    sj_path *p = NULL;
    st = sj_path_parse(records ? records : root, path, &p, err);
    if (st == SJ_OK) st = accessor_finish(p, out, err);
    if (st == SJ_OK && records) {
        /* the root of every check is one record; index 0's bound is the segment's */
        sj_accessor *a = *out;
        const sj_layout *rec = records->elem;
        a->open = true;
        a->open_step = rec->size;
        a->root_size = rec->size;
        a->root_align = rec->align;
        a->root_mask = rec->align - 1;
    }
    sj_layout_unref(records);
    return st;
}

sj_status sj_accessor_of_path(const sj_path *p, sj_accessor **out, sj_error *err) {
    if (!p || !out) return sj_fail(err, SJ_E_ARG, "accessor: path or output is NULL");
    /* A path's text is its canonical rendering: parsing it again gives the same path. */
    sj_path *copy = NULL;
    sj_status st = sj_path_parse(sj_path_root(p), sj_path_text(p), &copy, err);
    if (st != SJ_OK) return st;
    return accessor_finish(copy, out, err);
}

sj_status sj_accessor_of_value(const sj_layout *value, sj_accessor **out, sj_error *err) {
    if (!out) return sj_fail(err, SJ_E_ARG, "accessor: output is NULL");
    sj_status st = check_value_layout(value, err);
    if (st != SJ_OK) return st;
    sj_accessor *a = malloc(sizeof *a);
    if (!a) return sj_fail(err, SJ_E_NOMEM, "accessor: out of memory");
    prepare_value(value, a);
    a->owned_leaf = sj_layout_ref(value);
    *out = a;
    return SJ_OK;
}

void sj_accessor_free(sj_accessor *a) {
    if (!a) return;
    sj_path_free(a->owned);
    sj_layout_unref(a->owned_leaf);
    free(a);
}

sj_kind sj_accessor_kind(const sj_accessor *a) {
    return a ? (sj_kind)a->kind : SJ_KIND_COUNT;
}

size_t sj_accessor_free_count(const sj_accessor *a) {
    return a ? a->nfree : 0;
}

/* Each typed function falls to a cold stub of its own signature, so that the fast path
 * ends in a tail jump and keeps no stack frame. */
#define ACCESSOR_DEFINE(name, kind, type)                                                          \
    SJ_COLD static sj_status slow_get_##name(const sj_accessor *a, const sj_segment *s,            \
                                             int64_t offset, const int64_t *indices, size_t count, \
                                             type *out, sj_error *err) {                           \
        return access_slow(a, s, offset, indices, count, kind, false, out, err);                   \
    }                                                                                              \
    SJ_COLD static sj_status slow_set_##name(const sj_accessor *a, const sj_segment *s,            \
                                             int64_t offset, const int64_t *indices, size_t count, \
                                             type v, sj_error *err) {                              \
        return access_slow(a, s, offset, indices, count, kind, true, &v, err);                     \
    }                                                                                              \
    sj_status sj_accessor_get_##name(const sj_accessor *a, const sj_segment *s, int64_t offset,    \
                                     const int64_t *indices, size_t count, type *out,              \
                                     sj_error *err) {                                              \
        if (SJ_LIKELY(access_fast(a, s, offset, indices, count, kind, false, out))) return SJ_OK;  \
        return slow_get_##name(a, s, offset, indices, count, out, err);                            \
    }                                                                                              \
    sj_status sj_accessor_set_##name(const sj_accessor *a, const sj_segment *s, int64_t offset,    \
                                     const int64_t *indices, size_t count, type v,                 \
                                     sj_error *err) {                                              \
        if (SJ_LIKELY(access_fast(a, s, offset, indices, count, kind, true, &v))) return SJ_OK;    \
        return slow_set_##name(a, s, offset, indices, count, v, err);                              \
    }
ACCESSOR_DEFINE(bool, SJ_BOOL, bool)
ACCESSOR_DEFINE(i8, SJ_I8, int8_t)
ACCESSOR_DEFINE(u8, SJ_U8, uint8_t)
ACCESSOR_DEFINE(char, SJ_CHAR, uint16_t)
ACCESSOR_DEFINE(i16, SJ_I16, int16_t)
ACCESSOR_DEFINE(u16, SJ_U16, uint16_t)
ACCESSOR_DEFINE(i32, SJ_I32, int32_t)
ACCESSOR_DEFINE(u32, SJ_U32, uint32_t)
ACCESSOR_DEFINE(f32, SJ_F32, float)
ACCESSOR_DEFINE(i64, SJ_I64, int64_t)
ACCESSOR_DEFINE(u64, SJ_U64, uint64_t)
ACCESSOR_DEFINE(f64, SJ_F64, double)
ACCESSOR_DEFINE(addr, SJ_ADDR, uint64_t)

sj_status sj_accessor_get(const sj_accessor *a, const sj_segment *s, int64_t offset,
                          const int64_t *indices, size_t count, sj_value *out, sj_error *err) {
    if (!out) return access_slow(a, s, offset, indices, count, KIND_ANY, false, NULL, err);
    sj_value v;
    memset(&v, 0, sizeof v);
    sj_status st = access_value(a, s, offset, indices, count, KIND_ANY, false, &v, err);
    if (st == SJ_OK) *out = v;
    return st;
}

sj_status sj_accessor_set(const sj_accessor *a, const sj_segment *s, int64_t offset,
                          const int64_t *indices, size_t count, sj_value v, sj_error *err) {
    return access_value(a, s, offset, indices, count, KIND_ANY, true, &v, err);
}

/* ---- Fields of a view (segjit/view.h) ---- */

sj_status sj_view_field(const sj_view *v, const sj_accessor *a, const int64_t *fixed, size_t nfixed,
                        sj_field *out, sj_error *err) {
    if (!v || !a || !out || (nfixed && !fixed))
        return sj_fail(err, SJ_E_ARG, "view field: view, accessor, output or indices is NULL");
    memset(out, 0, sizeof *out);
    out->kind = SJ_KIND_COUNT; /* every access through a field that failed to bind fails */
    out->view = v;
    const char *text = a->path ? sj_path_text(a->path) : NULL;
    if (!text) text = sj_kind_name((sj_kind)a->kind);
    size_t want = a->nfree ? a->nfree - 1u : 0u;
    if (nfixed != want)
        return sj_fail(err, SJ_E_ARG,
                       "view field '%.60s': %zu fixed indices given, the path has %u free (the "
                       "first runs over the field's elements)",
                       text, nfixed, (unsigned)a->nfree);
    if (v->state != 1u)
        return sj_fail(err, SJ_E_CLOSED, "view field '%.60s': the view is closed", text);
    uint64_t base = (uint64_t)a->base;
    for (size_t k = 0; k < nfixed; k++) {
        if ((uint64_t)fixed[k] >= (uint64_t)a->bound[k + 1])
            return sj_fail(err, SJ_E_BOUNDS,
                           "view field '%.60s': free index %zu is %" PRId64 ", outside [0, %" PRId64
                           ")",
                           text, k + 1, fixed[k], a->bound[k + 1]);
        base += (uint64_t)fixed[k] * (uint64_t)a->stride[k + 1];
    }
    int64_t count = a->nfree ? a->bound[0] : 1;
    if (a->open) {
        count = (int64_t)(v->size / a->root_size);
    } else if (a->root_size > v->size) {
        return sj_fail(err, SJ_E_BOUNDS,
                       "view field '%.60s': a root layout of %" PRIu64
                       " bytes does not fit a view of %" PRIu64 " bytes",
                       text, a->root_size, v->size);
    }
    if (!sj_segment_is_aligned(&v->seg, 0, a->root_align)) {
        bool heap = (v->seg.flags & SJ_SEG_HEAP) != 0; /* as the access messages write them */
        return sj_fail(err, SJ_E_ALIGN,
                       heap ? "view field '%.60s': the view's base (virtual address %" PRIu64
                              ") is not aligned to %" PRIu64 " for the root layout"
                            : "view field '%.60s': the view's base (address 0x%" PRIx64
                              ") is not aligned to %" PRIu64 " for the root layout",
                       text, sj_segment_address(&v->seg), a->root_align);
    }
    out->base = v->data ? v->data + base : NULL; /* an empty view may have no address */
    out->count = count;
    out->stride = a->open ? (int64_t)a->root_size : a->nfree ? a->stride[0] : 0;
    out->kind = a->kind;
    out->swap = a->swap;
    out->writable = (v->flags & SJ_VIEW_WRITE) != 0;
    return SJ_OK;
}
