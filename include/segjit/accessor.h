/* segjit/accessor.h: accessors, a path (or a value layout) prepared once for single
 * access. Every layout check happens when the accessor is made; a call checks only what
 * depends on the call, in the order and with the statuses and messages of sj_get_path
 * (or sj_get for a value accessor). Rules: SEMANTICS.md 3.7 and 4.1. */
#ifndef SEGJIT_ACCESSOR_H
#define SEGJIT_ACCESSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "segjit/fast.h"
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
SJ_API sj_status sj_accessor_new(const sj_layout *root, const char *path, sj_accessor **out,
                                 sj_error *err);
/* The same from a resolved path (the accessor keeps its own copy). */
SJ_API sj_status sj_accessor_of_path(const sj_path *p, sj_accessor **out, sj_error *err);
/* An accessor for a value layout itself: a call's `offset` is the value's byte offset and
 * it takes no indices, as for sj_get and sj_set. */
SJ_API sj_status sj_accessor_of_value(const sj_layout *value, sj_accessor **out, sj_error *err);
SJ_API void sj_accessor_free(sj_accessor *a);

SJ_API sj_kind sj_accessor_kind(const sj_accessor *a);      /* the selected value's kind */
SJ_API size_t sj_accessor_free_count(const sj_accessor *a); /* indices a call must give */

/* Typed access: the function must match the accessor's kind (SJ_E_ARG otherwise):
 * bool z1, i8 b1, u8 ub1, char c2, i16 s2, u16 us2, i32 i4, u32 ui4, f32 f4, i64 j8,
 * u64 uj8, f64 d8, addr a8. Then: the count of indices (SJ_E_ARG), each index in its bound
 * (SJ_E_BOUNDS), read-only (set), the root's bounds and alignment at `offset`, closed,
 * thread. A failed call writes nothing (not even *out). */
SJ_API sj_status sj_accessor_get_bool(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                      const int64_t *indices, size_t count, bool *out,
                                      sj_error *err);
SJ_API sj_status sj_accessor_set_bool(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                      const int64_t *indices, size_t count, bool v, sj_error *err);
SJ_API sj_status sj_accessor_get_i8(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                    const int64_t *indices, size_t count, int8_t *out,
                                    sj_error *err);
SJ_API sj_status sj_accessor_set_i8(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                    const int64_t *indices, size_t count, int8_t v, sj_error *err);
SJ_API sj_status sj_accessor_get_u8(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                    const int64_t *indices, size_t count, uint8_t *out,
                                    sj_error *err);
SJ_API sj_status sj_accessor_set_u8(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                    const int64_t *indices, size_t count, uint8_t v, sj_error *err);
SJ_API sj_status sj_accessor_get_char(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                      const int64_t *indices, size_t count, uint16_t *out,
                                      sj_error *err);
SJ_API sj_status sj_accessor_set_char(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                      const int64_t *indices, size_t count, uint16_t v,
                                      sj_error *err);
SJ_API sj_status sj_accessor_get_i16(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, int16_t *out,
                                     sj_error *err);
SJ_API sj_status sj_accessor_set_i16(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, int16_t v,
                                     sj_error *err);
SJ_API sj_status sj_accessor_get_u16(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, uint16_t *out,
                                     sj_error *err);
SJ_API sj_status sj_accessor_set_u16(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, uint16_t v,
                                     sj_error *err);
SJ_API sj_status sj_accessor_get_i32(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, int32_t *out,
                                     sj_error *err);
SJ_API sj_status sj_accessor_set_i32(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, int32_t v,
                                     sj_error *err);
SJ_API sj_status sj_accessor_get_u32(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, uint32_t *out,
                                     sj_error *err);
SJ_API sj_status sj_accessor_set_u32(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, uint32_t v,
                                     sj_error *err);
SJ_API sj_status sj_accessor_get_f32(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, float *out,
                                     sj_error *err);
SJ_API sj_status sj_accessor_set_f32(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, float v, sj_error *err);
SJ_API sj_status sj_accessor_get_i64(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, int64_t *out,
                                     sj_error *err);
SJ_API sj_status sj_accessor_set_i64(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, int64_t v,
                                     sj_error *err);
SJ_API sj_status sj_accessor_get_u64(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, uint64_t *out,
                                     sj_error *err);
SJ_API sj_status sj_accessor_set_u64(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, uint64_t v,
                                     sj_error *err);
SJ_API sj_status sj_accessor_get_f64(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, double *out,
                                     sj_error *err);
SJ_API sj_status sj_accessor_set_f64(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                     const int64_t *indices, size_t count, double v, sj_error *err);
SJ_API sj_status sj_accessor_get_addr(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                      const int64_t *indices, size_t count, uint64_t *out,
                                      sj_error *err);
SJ_API sj_status sj_accessor_set_addr(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                      const int64_t *indices, size_t count, uint64_t v,
                                      sj_error *err);

/* Untyped access: the member of sj_value used is the accessor's kind. */
SJ_API sj_status sj_accessor_get(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                 const int64_t *indices, size_t count, sj_value *out,
                                 sj_error *err);
SJ_API sj_status sj_accessor_set(const sj_accessor *a, const sj_segment *s, int64_t offset,
                                 const int64_t *indices, size_t count, sj_value v, sj_error *err);

/* ---- Inline calls ----
 * In C compiled by gcc or clang, the typed get/set above are static inline: the checks
 * that answer success run in the caller's code (no call, no shared write; a few compares
 * the caller's compiler may hoist out of its loop), and anything else calls the library,
 * which decides again and reports. Statuses, messages and the check order are the same.
 * Define SJ_NO_INLINE before including segjit to call the library every time. */
#if SJ__FAST && !defined(SJ_NO_INLINE) && !defined(SEGJIT_BUILDING)
/* The library's call gets copies of the indices and the output: the caller's variables
 * never reach code its compiler cannot see, so a loop counter passed as &i stays in a
 * register (measured: the counter went through memory on every access). The library reads
 * no index when the count is not the accessor's, so only then are they copied. */
#define SJ__ACC_COPY_INDICES(ix, a, indices, count)                                                \
    int64_t ix[SJ_PATH_MAX_FREE];                                                                  \
    for (size_t k_ = 0, n_ = a && (count) == a->nfree ? (count) : 0;                               \
         indices && k_ < n_ && k_ < SJ_PATH_MAX_FREE; k_++)                                        \
    ix[k_] = (indices)[k_]
#define SJ__ACC_INLINE(name, kind, type, bits)                                                     \
    static inline __attribute__((always_inline)) sj_status sj__accessor_get_##name(                \
        const sj_accessor *a, const sj_segment *s, int64_t offset, const int64_t *indices,         \
        size_t count, type *out, sj_error *err) {                                                  \
        uint8_t *p;                                                                                \
        sj_reader *slot;                                                                           \
        if (__builtin_expect(sj__access_check(a, s, offset, indices, count, kind, false, out, &p), \
                             1)) {                                                                 \
            uint##bits##_t x;                                                                      \
            if (__builtin_expect(!SJ__CS_LOAD(x, p, s->arena.key), 0)) {                           \
                if (!sj__access_lease(s, &slot)) goto sj__slow;                                    \
                memcpy(&x, p, sizeof x);                                                           \
                sj__lease_exit(slot);                                                              \
            }                                                                                      \
            if (bits > 8 && a->swap) x = (uint##bits##_t)sj__acc_bswap##bits(x);                   \
            memcpy(out, &x, sizeof x);                                                             \
            return SJ_OK;                                                                          \
        }                                                                                          \
    sj__slow:;                                                                                     \
        SJ__ACC_COPY_INDICES(ix, a, indices, count);                                               \
        type got;                                                                                  \
        sj_status st = sj_accessor_get_##name(a, s, offset, indices ? ix : NULL, count,            \
                                              out ? &got : NULL, err);                             \
        if (st == SJ_OK) *out = got;                                                               \
        return st;                                                                                 \
    }                                                                                              \
    static inline __attribute__((always_inline)) sj_status sj__accessor_set_##name(                \
        const sj_accessor *a, const sj_segment *s, int64_t offset, const int64_t *indices,         \
        size_t count, type v, sj_error *err) {                                                     \
        uint8_t *p;                                                                                \
        sj_reader *slot;                                                                           \
        if (__builtin_expect(sj__access_check(a, s, offset, indices, count, kind, true, &v, &p),   \
                             1)) {                                                                 \
            uint##bits##_t x;                                                                      \
            memcpy(&x, &v, sizeof x);                                                              \
            if (bits > 8 && a->swap) x = (uint##bits##_t)sj__acc_bswap##bits(x);                   \
            if (__builtin_expect(SJ__CS_STORE(x, p, s->arena.key), 1)) return SJ_OK;               \
            if (!sj__access_lease(s, &slot)) goto sj__slow;                                        \
            memcpy(p, &x, sizeof x);                                                               \
            sj__lease_exit(slot);                                                                  \
            return SJ_OK;                                                                          \
        }                                                                                          \
    sj__slow:;                                                                                     \
        SJ__ACC_COPY_INDICES(ix, a, indices, count);                                               \
        return sj_accessor_set_##name(a, s, offset, indices ? ix : NULL, count, v, err);           \
    }

static inline uint8_t sj__acc_bswap8(uint8_t x) {
    return x;
}
static inline uint16_t sj__acc_bswap16(uint16_t x) {
    return __builtin_bswap16(x);
}
static inline uint32_t sj__acc_bswap32(uint32_t x) {
    return __builtin_bswap32(x);
}
static inline uint64_t sj__acc_bswap64(uint64_t x) {
    return __builtin_bswap64(x);
}

SJ__ACC_INLINE(i8, SJ_I8, int8_t, 8)
SJ__ACC_INLINE(u8, SJ_U8, uint8_t, 8)
SJ__ACC_INLINE(char, SJ_CHAR, uint16_t, 16)
SJ__ACC_INLINE(i16, SJ_I16, int16_t, 16)
SJ__ACC_INLINE(u16, SJ_U16, uint16_t, 16)
SJ__ACC_INLINE(i32, SJ_I32, int32_t, 32)
SJ__ACC_INLINE(u32, SJ_U32, uint32_t, 32)
SJ__ACC_INLINE(f32, SJ_F32, float, 32)
SJ__ACC_INLINE(i64, SJ_I64, int64_t, 64)
SJ__ACC_INLINE(u64, SJ_U64, uint64_t, 64)
SJ__ACC_INLINE(f64, SJ_F64, double, 64)
SJ__ACC_INLINE(addr, SJ_ADDR, uint64_t, 64)
#undef SJ__ACC_INLINE

/* bool reads any nonzero byte as true and writes 0 or 1 */
static inline __attribute__((always_inline)) sj_status
sj__accessor_get_bool(const sj_accessor *a, const sj_segment *s, int64_t offset,
                      const int64_t *indices, size_t count, bool *out, sj_error *err) {
    uint8_t *p;
    sj_reader *slot;
    if (__builtin_expect(sj__access_check(a, s, offset, indices, count, SJ_BOOL, false, out, &p),
                         1)) {
        uint8_t x;
        if (__builtin_expect(!SJ__CS_LOAD(x, p, s->arena.key), 0)) {
            if (!sj__access_lease(s, &slot)) goto sj__slow;
            x = *p;
            sj__lease_exit(slot);
        }
        *out = x != 0;
        return SJ_OK;
    }
sj__slow:;
    SJ__ACC_COPY_INDICES(ix, a, indices, count);
    bool got;
    sj_status st =
        sj_accessor_get_bool(a, s, offset, indices ? ix : NULL, count, out ? &got : NULL, err);
    if (st == SJ_OK) *out = got;
    return st;
}
static inline __attribute__((always_inline)) sj_status
sj__accessor_set_bool(const sj_accessor *a, const sj_segment *s, int64_t offset,
                      const int64_t *indices, size_t count, bool v, sj_error *err) {
    uint8_t *p;
    sj_reader *slot;
    if (__builtin_expect(sj__access_check(a, s, offset, indices, count, SJ_BOOL, true, &v, &p),
                         1)) {
        uint8_t x = v ? 1 : 0;
        if (__builtin_expect(SJ__CS_STORE(x, p, s->arena.key), 1)) return SJ_OK;
        if (!sj__access_lease(s, &slot)) goto sj__slow;
        *p = x;
        sj__lease_exit(slot);
        return SJ_OK;
    }
sj__slow:;
    SJ__ACC_COPY_INDICES(ix, a, indices, count);
    return sj_accessor_set_bool(a, s, offset, indices ? ix : NULL, count, v, err);
}

/* Defined after the functions above, which call the library's. */
#define sj_accessor_get_bool sj__accessor_get_bool
#define sj_accessor_set_bool sj__accessor_set_bool
#define sj_accessor_get_i8   sj__accessor_get_i8
#define sj_accessor_set_i8   sj__accessor_set_i8
#define sj_accessor_get_u8   sj__accessor_get_u8
#define sj_accessor_set_u8   sj__accessor_set_u8
#define sj_accessor_get_char sj__accessor_get_char
#define sj_accessor_set_char sj__accessor_set_char
#define sj_accessor_get_i16  sj__accessor_get_i16
#define sj_accessor_set_i16  sj__accessor_set_i16
#define sj_accessor_get_u16  sj__accessor_get_u16
#define sj_accessor_set_u16  sj__accessor_set_u16
#define sj_accessor_get_i32  sj__accessor_get_i32
#define sj_accessor_set_i32  sj__accessor_set_i32
#define sj_accessor_get_u32  sj__accessor_get_u32
#define sj_accessor_set_u32  sj__accessor_set_u32
#define sj_accessor_get_f32  sj__accessor_get_f32
#define sj_accessor_set_f32  sj__accessor_set_f32
#define sj_accessor_get_i64  sj__accessor_get_i64
#define sj_accessor_set_i64  sj__accessor_set_i64
#define sj_accessor_get_u64  sj__accessor_get_u64
#define sj_accessor_set_u64  sj__accessor_set_u64
#define sj_accessor_get_f64  sj__accessor_get_f64
#define sj_accessor_set_f64  sj__accessor_set_f64
#define sj_accessor_get_addr sj__accessor_get_addr
#define sj_accessor_set_addr sj__accessor_set_addr
#endif

#ifdef __cplusplus
}
#endif
#endif
