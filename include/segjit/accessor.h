/* segjit/accessor.h: accessors, a path (or a value layout) prepared once for single
 * access. Every layout check happens when the accessor is made; a call checks only what
 * depends on the call, in the order and with the statuses and messages of sj_get_path
 * (or sj_get for a value accessor). Rules: SEMANTICS.md 3.7 and 4.1. */
#ifndef SEGJIT_ACCESSOR_H
#define SEGJIT_ACCESSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segjit/layout.h"
#include "segjit/segment.h"
#include "segjit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Immutable once made: one accessor may be used from many threads at once. */
typedef struct sj_accessor sj_accessor;

/* An accessor for the value that `path` (text, SEMANTICS 4.5) selects in `root`. The path
 * must end on a value (SJ_E_PATH otherwise); parse and path errors as sj_path_parse. A
 * call's `offset` is the root's base offset in the segment and its indices are the path's
 * free indices, as for sj_get_path.
 * Open records: when `root` is not a sequence (or is the JDK's open sequence `[*:rec]`, the
 * largest count that fits) and the path starts with `[*]` or `[]`, that first free index
 * runs over records laid one after another from `offset`: record i at offset + i * size of
 * the record, its bound the count of whole records that fit in the segment from `offset`
 * (checked first, SJ_E_BOUNDS), never a layout count; the record is the root of the other
 * checks. One accessor serves every count. The record's size must be a multiple of its
 * alignment (SJ_E_ARG). */
sj_status sj_accessor_new(const sj_layout *root, const char *path, sj_accessor **out,
                          sj_error *err);
/* The same from a resolved path (the accessor keeps its own copy). */
sj_status sj_accessor_of_path(const sj_path *p, sj_accessor **out, sj_error *err);
/* An accessor for a value layout itself: a call's `offset` is the value's byte offset and
 * it takes no indices, as for sj_get and sj_set. */
sj_status sj_accessor_of_value(const sj_layout *value, sj_accessor **out, sj_error *err);
void sj_accessor_free(sj_accessor *a);

sj_kind sj_accessor_kind(const sj_accessor *a);      /* the selected value's kind */
size_t sj_accessor_free_count(const sj_accessor *a); /* indices a call must give */

/* Typed access: the function must match the accessor's kind (SJ_E_ARG otherwise):
 * bool z1, i8 b1, u8 ub1, char c2, i16 s2, u16 us2, i32 i4, u32 ui4, f32 f4, i64 j8,
 * u64 uj8, f64 d8, addr a8. Then: the count of indices (SJ_E_ARG), each index in its bound
 * (SJ_E_BOUNDS), read-only (set), the root's bounds and alignment at `offset`, closed,
 * thread. A failed call writes nothing (not even *out). */
sj_status sj_accessor_get_bool(const sj_accessor *a, const sj_segment *s, int64_t offset,
                               const int64_t *indices, size_t count, bool *out, sj_error *err);
sj_status sj_accessor_set_bool(const sj_accessor *a, const sj_segment *s, int64_t offset,
                               const int64_t *indices, size_t count, bool v, sj_error *err);
sj_status sj_accessor_get_i8(const sj_accessor *a, const sj_segment *s, int64_t offset,
                             const int64_t *indices, size_t count, int8_t *out, sj_error *err);
sj_status sj_accessor_set_i8(const sj_accessor *a, const sj_segment *s, int64_t offset,
                             const int64_t *indices, size_t count, int8_t v, sj_error *err);
sj_status sj_accessor_get_u8(const sj_accessor *a, const sj_segment *s, int64_t offset,
                             const int64_t *indices, size_t count, uint8_t *out, sj_error *err);
sj_status sj_accessor_set_u8(const sj_accessor *a, const sj_segment *s, int64_t offset,
                             const int64_t *indices, size_t count, uint8_t v, sj_error *err);
sj_status sj_accessor_get_char(const sj_accessor *a, const sj_segment *s, int64_t offset,
                               const int64_t *indices, size_t count, uint16_t *out, sj_error *err);
sj_status sj_accessor_set_char(const sj_accessor *a, const sj_segment *s, int64_t offset,
                               const int64_t *indices, size_t count, uint16_t v, sj_error *err);
sj_status sj_accessor_get_i16(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, int16_t *out, sj_error *err);
sj_status sj_accessor_set_i16(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, int16_t v, sj_error *err);
sj_status sj_accessor_get_u16(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, uint16_t *out, sj_error *err);
sj_status sj_accessor_set_u16(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, uint16_t v, sj_error *err);
sj_status sj_accessor_get_i32(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, int32_t *out, sj_error *err);
sj_status sj_accessor_set_i32(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, int32_t v, sj_error *err);
sj_status sj_accessor_get_u32(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, uint32_t *out, sj_error *err);
sj_status sj_accessor_set_u32(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, uint32_t v, sj_error *err);
sj_status sj_accessor_get_f32(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, float *out, sj_error *err);
sj_status sj_accessor_set_f32(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, float v, sj_error *err);
sj_status sj_accessor_get_i64(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, int64_t *out, sj_error *err);
sj_status sj_accessor_set_i64(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, int64_t v, sj_error *err);
sj_status sj_accessor_get_u64(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, uint64_t *out, sj_error *err);
sj_status sj_accessor_set_u64(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, uint64_t v, sj_error *err);
sj_status sj_accessor_get_f64(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, double *out, sj_error *err);
sj_status sj_accessor_set_f64(const sj_accessor *a, const sj_segment *s, int64_t offset,
                              const int64_t *indices, size_t count, double v, sj_error *err);
sj_status sj_accessor_get_addr(const sj_accessor *a, const sj_segment *s, int64_t offset,
                               const int64_t *indices, size_t count, uint64_t *out, sj_error *err);
sj_status sj_accessor_set_addr(const sj_accessor *a, const sj_segment *s, int64_t offset,
                               const int64_t *indices, size_t count, uint64_t v, sj_error *err);

/* Untyped access: the member of sj_value used is the accessor's kind. */
sj_status sj_accessor_get(const sj_accessor *a, const sj_segment *s, int64_t offset,
                          const int64_t *indices, size_t count, sj_value *out, sj_error *err);
sj_status sj_accessor_set(const sj_accessor *a, const sj_segment *s, int64_t offset,
                          const int64_t *indices, size_t count, sj_value v, sj_error *err);

#ifdef __cplusplus
}
#endif
#endif
