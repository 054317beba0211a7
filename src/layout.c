/* src/layout.c: layout construction, validity rules (SEMANTICS 2.1-2.6), queries,
 * equality and the stable hash. Text forms live in text.c/cdecl.c, paths in path.c. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SJ_MAX_SIZE ((uint64_t)INT64_MAX)

static const struct {
    const char *name;
    unsigned size;
    bool is_float, is_signed;
} kinds[SJ_KIND_COUNT] = {
    [SJ_BOOL] = {"z1", 1, false, false}, [SJ_I8] = {"b1", 1, false, true},
    [SJ_U8] = {"ub1", 1, false, false},  [SJ_CHAR] = {"c2", 2, false, false},
    [SJ_I16] = {"s2", 2, false, true},   [SJ_U16] = {"us2", 2, false, false},
    [SJ_I32] = {"i4", 4, false, true},   [SJ_U32] = {"ui4", 4, false, false},
    [SJ_F32] = {"f4", 4, true, true},    [SJ_I64] = {"j8", 8, false, true},
    [SJ_U64] = {"uj8", 8, false, false}, [SJ_F64] = {"d8", 8, true, true},
    [SJ_ADDR] = {"a8", 8, false, false},
};

static bool kind_ok(sj_kind k) {
    return (unsigned)k < SJ_KIND_COUNT;
}
unsigned sj_kind_size(sj_kind k) {
    return kind_ok(k) ? kinds[k].size : 0;
}
const char *sj_kind_name(sj_kind k) {
    return kind_ok(k) ? kinds[k].name : "?";
}
bool sj_kind_is_float(sj_kind k) {
    return kind_ok(k) && kinds[k].is_float;
}
bool sj_kind_is_signed(sj_kind k) {
    return kind_ok(k) && kinds[k].is_signed;
}

sj_order sj_native_order(void) {
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first ? SJ_ORDER_LITTLE : SJ_ORDER_BIG;
}

const char *sj_tag_name(sj_tag t) {
    switch (t) {
        case SJ_VALUE:
            return "value";
        case SJ_STRUCT:
            return "struct";
        case SJ_UNION:
            return "union";
        case SJ_SEQUENCE:
            return "sequence";
        case SJ_PADDING:
            return "padding";
    }
    return "?";
}

/* ---- allocation and reference counting ---- */

static sj_layout *layout_new(sj_tag tag) {
    sj_layout *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    atomic_init(&l->refs, 1);
    l->tag = tag;
    return l;
}

sj_layout *sj_layout_ref(const sj_layout *cl) {
    sj_layout *l = (sj_layout *)cl;
    if (l) atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
    return l;
}

void sj_layout_unref(const sj_layout *cl) {
    sj_layout *l = (sj_layout *)cl;
    if (!l || atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1) return;
    for (size_t i = 0; i < l->nmembers; i++)
        sj_layout_unref(l->members[i]);
    free(l->members);
    free(l->offsets);
    sj_name_index_free(&l->names);
    sj_layout_unref(l->elem);
    free(l->name);
    free(l);
}

uint64_t sj_layout_natural_align(const sj_layout *l) {
    return l->natural;
}

static uint64_t natural_align(const sj_layout *l) {
    switch (l->tag) {
        case SJ_VALUE:
            return kinds[l->kind].size;
        case SJ_PADDING:
            return 1;
        case SJ_SEQUENCE:
            return l->elem->align;
        case SJ_STRUCT:
        case SJ_UNION: {
            uint64_t a = 1;
            for (size_t i = 0; i < l->nmembers; i++)
                if (l->members[i]->align > a) a = l->members[i]->align;
            return a;
        }
    }
    return 1;
}

static uint64_t compute_hash(const sj_layout *l) {
    uint64_t h = sj_hash_u64(SJ_HASH_SEED, (uint64_t)l->tag);
    h = sj_hash_u64(h, l->size);
    h = sj_hash_u64(h, l->align);
    if (l->name) {
        h = sj_hash_u64(h, 1);
        h = sj_hash_bytes(h, l->name, strlen(l->name));
    } else {
        h = sj_hash_u64(h, 0);
    }
    switch (l->tag) {
        case SJ_VALUE:
            h = sj_hash_u64(h, (uint64_t)l->kind);
            h = sj_hash_u64(h, (uint64_t)l->order);
            break;
        case SJ_STRUCT:
        case SJ_UNION:
            h = sj_hash_u64(h, l->nmembers);
            for (size_t i = 0; i < l->nmembers; i++)
                h = sj_hash_u64(h, l->members[i]->hash);
            break;
        case SJ_SEQUENCE:
            h = sj_hash_u64(h, l->count);
            h = sj_hash_u64(h, l->elem->hash);
            break;
        case SJ_PADDING:
            break;
    }
    return h;
}

static const char *member_name_at(const void *list, size_t i) {
    return ((const sj_layout *)list)->members[i]->name;
}

size_t sj_layout_member_index(const sj_layout *l, const char *name) {
    if (!l || !name || (l->tag != SJ_STRUCT && l->tag != SJ_UNION)) return SIZE_MAX;
    if (sj_name_index_ready(&l->names))
        return sj_name_index_find(&l->names, member_name_at, l, name);
    for (size_t i = 0; i < l->nmembers; i++)
        if (l->members[i]->name && strcmp(l->members[i]->name, name) == 0) return i;
    return SIZE_MAX;
}

static sj_status finish(sj_layout *l, sj_layout **out) {
    l->hash = compute_hash(l);
    l->natural = natural_align(l);
    /* wide groups: members by name (out of memory: no index, lookups scan) */
    if ((l->tag == SJ_STRUCT || l->tag == SJ_UNION) && l->nmembers > SJ_NAME_INDEX_MIN)
        for (size_t i = 0; i < l->nmembers; i++)
            if (sj_name_index_add(&l->names, member_name_at, l, i) == SIZE_MAX - 1) break;
    *out = l;
    return SJ_OK;
}

static sj_status nomem(sj_error *err, const char *what) {
    return sj_fail(err, SJ_E_NOMEM, "out of memory building %s layout", what);
}

/* ---- constructors ---- */

sj_status sj_layout_value(sj_kind kind, sj_layout **out, sj_error *err) {
    if (!out) return sj_fail(err, SJ_E_ARG, "value layout: out is NULL");
    if (!kind_ok(kind)) return sj_fail(err, SJ_E_ARG, "value layout: unknown kind %d", (int)kind);
    sj_layout *l = layout_new(SJ_VALUE);
    if (!l) return nomem(err, "value");
    l->kind = kind;
    l->order = sj_native_order();
    l->size = l->align = kinds[kind].size;
    return finish(l, out);
}

static sj_status group(sj_tag tag, const sj_layout *const *members, size_t n, sj_layout **out,
                       sj_error *err) {
    const char *what = sj_tag_name(tag);
    if (!out) return sj_fail(err, SJ_E_ARG, "%s layout: out is NULL", what);
    if (n && !members) return sj_fail(err, SJ_E_ARG, "%s layout: members is NULL", what);
    uint64_t size = 0, align = 1;
    for (size_t i = 0; i < n; i++) {
        const sj_layout *m = members[i];
        if (!m) return sj_fail(err, SJ_E_ARG, "%s layout: member #%zu is NULL", what, i);
        if (tag == SJ_STRUCT && size % m->align != 0)
            return sj_fail(err, SJ_E_ARG,
                           "struct layout: member #%zu%s%s%s at offset %llu is not aligned to "
                           "its alignment %llu",
                           i, m->name ? " '" : "", m->name ? m->name : "", m->name ? "'" : "",
                           (unsigned long long)size, (unsigned long long)m->align);
        if (m->align > align) align = m->align;
        if (tag == SJ_STRUCT) {
            if (!sj_add_u64(size, m->size, &size) || size > SJ_MAX_SIZE)
                return sj_fail(err, SJ_E_OVERFLOW,
                               "struct layout: size overflows 64 bits at member #%zu", i);
        } else if (m->size > size) {
            size = m->size;
        }
    }
    sj_layout *l = layout_new(tag);
    if (!l) return nomem(err, what);
    if (n) {
        l->members = malloc(n * sizeof *l->members);
        l->offsets = malloc(n * sizeof *l->offsets);
        if (!l->members || !l->offsets) {
            sj_layout_unref(l);
            return nomem(err, what);
        }
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        l->members[i] = sj_layout_ref(members[i]);
        l->offsets[i] = off;
        if (tag == SJ_STRUCT) off += members[i]->size;
    }
    l->nmembers = n;
    l->size = size;
    l->align = align;
    return finish(l, out);
}

sj_status sj_layout_struct(const sj_layout *const *members, size_t n, sj_layout **out,
                           sj_error *err) {
    return group(SJ_STRUCT, members, n, out, err);
}

sj_status sj_layout_union(const sj_layout *const *members, size_t n, sj_layout **out,
                          sj_error *err) {
    return group(SJ_UNION, members, n, out, err);
}

sj_status sj_layout_sequence(int64_t count, const sj_layout *elem, sj_layout **out, sj_error *err) {
    if (!out || !elem) return sj_fail(err, SJ_E_ARG, "sequence layout: NULL argument");
    if (count < 0)
        return sj_fail(err, SJ_E_ARG, "sequence layout: negative element count %lld",
                       (long long)count);
    if (elem->size % elem->align != 0)
        return sj_fail(err, SJ_E_ARG,
                       "sequence layout: element size %llu is not a multiple of its alignment "
                       "%llu",
                       (unsigned long long)elem->size, (unsigned long long)elem->align);
    uint64_t size;
    if (!sj_mul_u64((uint64_t)count, elem->size, &size) || size > SJ_MAX_SIZE)
        return sj_fail(err, SJ_E_OVERFLOW,
                       "sequence layout: %lld elements of %llu bytes overflow 64 bits",
                       (long long)count, (unsigned long long)elem->size);
    sj_layout *l = layout_new(SJ_SEQUENCE);
    if (!l) return nomem(err, "sequence");
    l->count = (uint64_t)count;
    l->elem = sj_layout_ref(elem);
    l->size = size;
    l->align = elem->align;
    return finish(l, out);
}

sj_status sj_layout_padding(int64_t size, sj_layout **out, sj_error *err) {
    if (!out) return sj_fail(err, SJ_E_ARG, "padding layout: out is NULL");
    if (size <= 0)
        return sj_fail(err, SJ_E_ARG, "padding layout: size %lld is not positive", (long long)size);
    sj_layout *l = layout_new(SJ_PADDING);
    if (!l) return nomem(err, "padding");
    l->size = (uint64_t)size;
    l->align = 1;
    return finish(l, out);
}

/* A shallow copy sharing members and element; the caller changes one property. */
static sj_layout *clone(const sj_layout *src) {
    sj_layout *l = layout_new(src->tag);
    if (!l) return NULL;
    l->kind = src->kind;
    l->order = src->order;
    l->size = src->size;
    l->align = src->align;
    l->count = src->count;
    l->elem = sj_layout_ref(src->elem);
    if (src->name && !(l->name = strdup(src->name))) goto fail;
    if (src->nmembers) {
        l->members = malloc(src->nmembers * sizeof *l->members);
        l->offsets = malloc(src->nmembers * sizeof *l->offsets);
        if (!l->members || !l->offsets) goto fail;
        for (size_t i = 0; i < src->nmembers; i++) {
            l->members[i] = sj_layout_ref(src->members[i]);
            l->offsets[i] = src->offsets[i];
            l->nmembers = i + 1;
        }
    }
    return l;
fail:
    sj_layout_unref(l);
    return NULL;
}

sj_status sj_layout_with_name(const sj_layout *src, const char *name, sj_layout **out,
                              sj_error *err) {
    if (!src || !out) return sj_fail(err, SJ_E_ARG, "with_name: NULL argument");
    sj_layout *l = clone(src);
    if (!l) return nomem(err, "named");
    free(l->name);
    l->name = NULL;
    if (name && !(l->name = strdup(name))) {
        sj_layout_unref(l);
        return nomem(err, "named");
    }
    return finish(l, out);
}

sj_status sj_layout_with_align(const sj_layout *src, int64_t align, sj_layout **out,
                               sj_error *err) {
    if (!src || !out) return sj_fail(err, SJ_E_ARG, "with_align: NULL argument");
    if (align <= 0 || !sj_is_pow2((uint64_t)align) || (uint64_t)align > (1ull << 62))
        return sj_fail(err, SJ_E_ARG, "with_align: alignment %lld is not a power of two",
                       (long long)align);
    if ((src->tag == SJ_STRUCT || src->tag == SJ_UNION || src->tag == SJ_SEQUENCE) &&
        (uint64_t)align < sj_layout_natural_align(src))
        return sj_fail(err, SJ_E_ARG,
                       "with_align: alignment %lld is less than the %s's member alignment %llu",
                       (long long)align, sj_tag_name(src->tag),
                       (unsigned long long)sj_layout_natural_align(src));
    sj_layout *l = clone(src);
    if (!l) return nomem(err, "aligned");
    l->align = (uint64_t)align;
    return finish(l, out);
}

sj_status sj_layout_with_order(const sj_layout *src, sj_order order, sj_layout **out,
                               sj_error *err) {
    if (!src || !out) return sj_fail(err, SJ_E_ARG, "with_order: NULL argument");
    if (src->tag != SJ_VALUE)
        return sj_fail(err, SJ_E_ARG, "with_order: a %s layout has no byte order",
                       sj_tag_name(src->tag));
    if (order != SJ_ORDER_NATIVE && order != SJ_ORDER_LITTLE && order != SJ_ORDER_BIG)
        return sj_fail(err, SJ_E_ARG, "with_order: unknown byte order %d", (int)order);
    sj_layout *l = clone(src);
    if (!l) return nomem(err, "value");
    l->order = order == SJ_ORDER_NATIVE ? sj_native_order() : order;
    return finish(l, out);
}

/* ---- queries ---- */

sj_tag sj_layout_tag(const sj_layout *l) {
    return l->tag;
}
uint64_t sj_layout_size(const sj_layout *l) {
    return l->size;
}
uint64_t sj_layout_align(const sj_layout *l) {
    return l->align;
}
const char *sj_layout_name(const sj_layout *l) {
    return l->name;
}
sj_kind sj_layout_kind(const sj_layout *l) {
    return l->kind;
}
sj_order sj_layout_order(const sj_layout *l) {
    return l->order;
}
size_t sj_layout_member_count(const sj_layout *l) {
    return l->nmembers;
}
uint64_t sj_layout_elem_count(const sj_layout *l) {
    return l->count;
}
const sj_layout *sj_layout_elem(const sj_layout *l) {
    return l->elem;
}

const sj_layout *sj_layout_member(const sj_layout *l, size_t i) {
    return i < l->nmembers ? l->members[i] : NULL;
}

uint64_t sj_layout_member_offset(const sj_layout *l, size_t i) {
    return i < l->nmembers ? l->offsets[i] : 0;
}

bool sj_layout_has_natural_align(const sj_layout *l) {
    return l->align == sj_layout_natural_align(l);
}

/* Pairs of groups and sequences found equal during one sj_layout_equal: layouts that
 * share parts (built as struct { s a; s b; } nested) are compared once per distinct pair
 * of parts, not once per path to them. Kept after EQ_MEMO_AFTER comparisons only. */
#define EQ_MEMO_AFTER 256
typedef struct eq_memo {
    sj_ptr_map pairs; /* (a, b) -> a */
    size_t visits;
} eq_memo;

static bool equal(const sj_layout *a, const sj_layout *b, eq_memo *m) {
    if (a == b) return true;
    if (!a || !b || a->hash != b->hash || a->tag != b->tag || a->size != b->size ||
        a->align != b->align)
        return false;
    if ((a->name == NULL) != (b->name == NULL)) return false;
    if (a->name && strcmp(a->name, b->name) != 0) return false;
    switch (a->tag) {
        case SJ_VALUE:
            return a->kind == b->kind && a->order == b->order;
        case SJ_PADDING:
            return true;
        case SJ_SEQUENCE:
        case SJ_STRUCT:
        case SJ_UNION:
            break;
    }
    if (a->tag != SJ_SEQUENCE && a->tag != SJ_STRUCT && a->tag != SJ_UNION) return false;
    if (sj_ptr_map_get(&m->pairs, a, b)) return true;
    m->visits++;
    if (a->tag == SJ_SEQUENCE) {
        if (a->count != b->count || !equal(a->elem, b->elem, m)) return false;
    } else {
        if (a->nmembers != b->nmembers) return false;
        for (size_t i = 0; i < a->nmembers; i++)
            if (!equal(a->members[i], b->members[i], m)) return false;
    }
    if (m->visits >= EQ_MEMO_AFTER) sj_ptr_map_put(&m->pairs, a, b, (void *)a);
    return true;
}

bool sj_layout_equal(const sj_layout *a, const sj_layout *b) {
    eq_memo m = {0};
    bool eq = equal(a, b, &m);
    sj_ptr_map_free(&m.pairs, NULL);
    return eq;
}

uint64_t sj_layout_hash(const sj_layout *l) {
    return l->hash;
}
