/* segjit/layout.h: memory layouts (value, struct, union, sequence, padding), their
 * text forms and layout paths. Layouts are immutable and reference counted; every
 * constructor returns a new reference through `out` and leaves its inputs' references
 * with the caller. Rules: SEMANTICS.md sections 2 and 4.5. */
#ifndef SEGJIT_LAYOUT_H
#define SEGJIT_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segjit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sj_layout sj_layout;

/* Value kinds, with their canonical carrier letter and size. */
typedef enum sj_kind {
    SJ_BOOL, /* z1 */
    SJ_I8,   /* b1 */
    SJ_U8,   /* ub1 */
    SJ_CHAR, /* c2: unsigned 16-bit character */
    SJ_I16,  /* s2 */
    SJ_U16,  /* us2 */
    SJ_I32,  /* i4 */
    SJ_U32,  /* ui4 */
    SJ_F32,  /* f4 */
    SJ_I64,  /* j8 */
    SJ_U64,  /* uj8 */
    SJ_F64,  /* d8 */
    SJ_ADDR, /* a8 */
    SJ_KIND_COUNT
} sj_kind;

typedef enum sj_tag { SJ_VALUE, SJ_STRUCT, SJ_UNION, SJ_SEQUENCE, SJ_PADDING } sj_tag;

/* NATIVE is resolved at construction: a layout always reports LITTLE or BIG. */
typedef enum sj_order { SJ_ORDER_NATIVE, SJ_ORDER_LITTLE, SJ_ORDER_BIG } sj_order;

/* Size in bytes of a value kind (0 for an invalid kind). */
SJ_API unsigned sj_kind_size(sj_kind kind);
/* "i4", "ub1", ... (little-endian spelling); "?" for an invalid kind. */
SJ_API const char *sj_kind_name(sj_kind kind);
SJ_API bool sj_kind_is_float(sj_kind kind);
SJ_API bool sj_kind_is_signed(sj_kind kind);
SJ_API sj_order sj_native_order(void);

/* Constructors. Members and elements are referenced, not consumed. */
SJ_API sj_status sj_layout_value(sj_kind kind, sj_layout **out, sj_error *err);
SJ_API sj_status sj_layout_struct(const sj_layout *const *members, size_t count, sj_layout **out,
                                  sj_error *err);
SJ_API sj_status sj_layout_union(const sj_layout *const *members, size_t count, sj_layout **out,
                                 sj_error *err);
SJ_API sj_status sj_layout_sequence(int64_t count, const sj_layout *elem, sj_layout **out,
                                    sj_error *err);
SJ_API sj_status sj_layout_padding(int64_t size, sj_layout **out, sj_error *err);

/* Derived layouts: a copy with one property changed. name NULL removes the name.
 * with_order applies to value layouts only (SJ_E_ARG otherwise). */
SJ_API sj_status sj_layout_with_name(const sj_layout *l, const char *name, sj_layout **out,
                                     sj_error *err);
SJ_API sj_status sj_layout_with_align(const sj_layout *l, int64_t align, sj_layout **out,
                                      sj_error *err);
SJ_API sj_status sj_layout_with_order(const sj_layout *l, sj_order order, sj_layout **out,
                                      sj_error *err);

SJ_API sj_layout *sj_layout_ref(const sj_layout *l);
SJ_API void sj_layout_unref(const sj_layout *l);

/* Queries. */
SJ_API sj_tag sj_layout_tag(const sj_layout *l);
SJ_API uint64_t sj_layout_size(const sj_layout *l);
SJ_API uint64_t sj_layout_align(const sj_layout *l);
SJ_API const char *sj_layout_name(const sj_layout *l);    /* NULL when unnamed */
SJ_API sj_kind sj_layout_kind(const sj_layout *l);        /* value layouts */
SJ_API sj_order sj_layout_order(const sj_layout *l);      /* value layouts: LITTLE or BIG */
SJ_API size_t sj_layout_member_count(const sj_layout *l); /* struct, union */
SJ_API const sj_layout *sj_layout_member(const sj_layout *l, size_t i);
SJ_API uint64_t sj_layout_member_offset(const sj_layout *l, size_t i); /* 0 in a union */
/* The first member of l (a struct or union) named `name`, as a path's name step finds it:
 * its index, or SIZE_MAX when there is none (or l is not a struct or union). Groups of
 * more than 16 members keep an index of their names, so this takes constant time. */
SJ_API size_t sj_layout_member_index(const sj_layout *l, const char *name);
SJ_API uint64_t sj_layout_elem_count(const sj_layout *l);   /* sequence */
SJ_API const sj_layout *sj_layout_elem(const sj_layout *l); /* sequence */
/* True when the alignment is the natural one: a value's size, padding 1, a group's largest
 * member alignment, a sequence's element alignment. */
SJ_API bool sj_layout_has_natural_align(const sj_layout *l);

/* Structural equality (names, orders and alignments included) and a stable hash
 * (the same layout gives the same hash in every process and on every run). */
SJ_API bool sj_layout_equal(const sj_layout *a, const sj_layout *b);
SJ_API uint64_t sj_layout_hash(const sj_layout *l);

/* Text forms.
 * Canonical (SEMANTICS 2.7): `[2:[j8(x)i4x4]]`, `16%[i4](s)`, `[i4|j8]`.
 * Description language (2.8): C-like declarations with C padding rules.
 * parse_auto tries the description language when the text contains `struct`,
 * `union`, `;` or `{`, the canonical form otherwise.
 * Printing returns a malloc'd string the caller frees. */
SJ_API sj_status sj_layout_parse(const char *text, sj_layout **out, sj_error *err);
SJ_API sj_status sj_layout_parse_c(const char *text, sj_layout **out, sj_error *err);
SJ_API sj_status sj_layout_parse_auto(const char *text, sj_layout **out, sj_error *err);
SJ_API sj_status sj_layout_print(const sj_layout *l, char **out, sj_error *err);
/* pahole-style table: offset, size, alignment, name, holes. */
SJ_API sj_status sj_layout_table(const sj_layout *l, char **out, sj_error *err);

/* ---- Layout paths (SEMANTICS 4.5) ---- */

typedef struct sj_path sj_path;

typedef enum sj_step_kind {
    SJ_STEP_NAME,   /* member by name: `x` or `.x` */
    SJ_STEP_MEMBER, /* member by index: `#k` */
    SJ_STEP_INDEX,  /* sequence element: `[i]` */
    SJ_STEP_OPEN,   /* open sequence element: `[]` or `[*]` */
    SJ_STEP_RANGE   /* open element from start with step: `[s::k]` */
} sj_step_kind;

typedef struct sj_path_step {
    sj_step_kind kind;
    const char *name; /* SJ_STEP_NAME */
    int64_t index;    /* SJ_STEP_MEMBER, SJ_STEP_INDEX, start of SJ_STEP_RANGE */
    int64_t step;     /* SJ_STEP_RANGE */
} sj_path_step;

#define SJ_PATH_MAX_FREE 8

SJ_API sj_status sj_path_parse(const sj_layout *root, const char *text, sj_path **out,
                               sj_error *err);
SJ_API sj_status sj_path_resolve(const sj_layout *root, const sj_path_step *steps, size_t count,
                                 sj_path **out, sj_error *err);
SJ_API void sj_path_free(sj_path *p);

SJ_API const sj_layout *sj_path_root(const sj_path *p);
SJ_API const sj_layout *sj_path_leaf(const sj_path *p);
SJ_API int64_t sj_path_base_offset(const sj_path *p); /* offset with every free index 0 */
SJ_API size_t sj_path_free_count(const sj_path *p);
SJ_API int64_t sj_path_stride(const sj_path *p, size_t i); /* bytes per step of free index i */
SJ_API int64_t sj_path_bound(const sj_path *p, size_t i);  /* free index i ranges over [0, bound) */
/* Byte offset for the given free indices: SJ_E_ARG when count differs from the free
 * count, SJ_E_BOUNDS when an index is outside [0, bound). */
SJ_API sj_status sj_path_offset(const sj_path *p, const int64_t *indices, size_t count,
                                int64_t *out, sj_error *err);
/* Text of the path as parsed or resolved, e.g. `data[*][*].x`; owned by the path. */
SJ_API const char *sj_path_text(const sj_path *p);

#ifdef __cplusplus
}
#endif
#endif
