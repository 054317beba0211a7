/* src/checks.c: the checks of a kernel call, in the order of SEMANTICS 4.2, evaluated once
 * before any byte moves, with their messages: count, path bounds, alignment, bounds (with
 * the extents the call touches), read-only, destinations that share bytes. Lifetime and
 * thread come after, when kernel.c holds the arenas (sj_name_side names the side). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "internal.h"

static bool is_heap(const sj_segment *s) {
    return (s->flags & SJ_SEG_HEAP) != 0;
}

/* ", layout X" for messages (X cut to fit: sj_layout_cut), or "" (also when no message is
 * asked for: err NULL). */
static const char *layout_note(const sj_side *sd, const sj_error *err, char *buf, size_t cap) {
    char text[190];
    buf[0] = '\0';
    if (err && sd->check_layout && *sj_layout_cut(sd->check_layout, text, sizeof text))
        snprintf(buf, cap, ", layout %s", text);
    return buf;
}

static sj_status check_align(const sj_plan *p, const char *side, const sj_side *sd,
                             const sj_segment *s, int64_t off, sj_error *err) {
    if (sj_segment_is_aligned(s, off, sd->align)) return SJ_OK;
    char note[200];
    if (is_heap(s))
        return sj_fail(err, SJ_E_ALIGN,
                       "%s: %s offset %" PRId64 " is not aligned to %" PRIu64
                       " in a heap segment of maximum alignment %" PRIu32
                       " (virtual address %" PRIu64 ")%s",
                       p->what, side, off, sd->align, s->elem_size, s->vaddr + (uint64_t)off,
                       layout_note(sd, err, note, sizeof note));
    return sj_fail(err, SJ_E_ALIGN,
                   "%s: %s offset %" PRId64 " is not aligned to %" PRIu64 " (address 0x%" PRIx64
                   ")%s",
                   p->what, side, off, sd->align, (uint64_t)(uintptr_t)s->base + (uint64_t)off,
                   layout_note(sd, err, note, sizeof note));
}

/* Bytes the side touches from its offset: extent_fixed + count * extent_per. */
static sj_status side_extent(const sj_plan *p, const char *side, const sj_side *sd, int64_t count,
                             uint64_t *out, sj_error *err) {
    uint64_t per;
    if (!sj_mul_u64((uint64_t)count, sd->extent_per, &per) ||
        !sj_add_u64(per, sd->extent_fixed, out) || *out > (uint64_t)INT64_MAX)
        return sj_fail(err, SJ_E_BOUNDS, /* as the JDK's IndexOutOfBoundsException */
                       "%s: %s extent of %" PRId64 " elements of %" PRIu64
                       " bytes overflows 63 bits",
                       p->what, side, count, sd->extent_per);
    return SJ_OK;
}

static sj_status check_bounds(const sj_plan *p, const char *side, const sj_side *sd,
                              const sj_segment *s, int64_t off, int64_t count, uint64_t *extent,
                              sj_error *err) {
    sj_status st = side_extent(p, side, sd, count, extent, err);
    if (st != SJ_OK) return st;
    if (off >= 0 && (uint64_t)off <= s->size && *extent <= s->size - (uint64_t)off) return SJ_OK;
    char note[200];
    return sj_fail(err, SJ_E_BOUNDS,
                   "%s: %s range of %" PRIu64 " bytes at offset %" PRId64
                   " is out of bounds for a segment of size %" PRIu64 " (count %" PRId64 ")%s",
                   p->what, side, *extent, off, s->size, count,
                   layout_note(sd, err, note, sizeof note));
}

static sj_status check_count_bound(const sj_plan *p, const char *side, const sj_side *sd,
                                   int64_t count, sj_error *err) {
    if (!sd->used || sd->bound < 0 || count <= sd->bound) return SJ_OK;
    char note[200];
    return sj_fail(err, SJ_E_BOUNDS,
                   "%s: count %" PRId64 " exceeds the %s path's bound %" PRId64 "%s", p->what,
                   count, side, sd->bound, layout_note(sd, err, note, sizeof note));
}

/* Do the bytes [aoff, +alen) of a and [boff, +blen) of b share memory? */
static bool ranges_overlap(const sj_segment *a, int64_t aoff, uint64_t alen, const sj_segment *b,
                           int64_t boff, uint64_t blen) {
    if (alen == 0 || blen == 0 || !sj_segment_overlap(a, b, NULL)) return false;
    uint64_t a0 = sj_segment_address(a) + (uint64_t)aoff;
    uint64_t b0 = sj_segment_address(b) + (uint64_t)boff;
    return a0 < b0 + blen && b0 < a0 + alen;
}

/* The side of destination i: the plan's dst, or stream i of a multi-destination plan. */
const sj_side *sj_dst_side(const sj_plan *p, size_t i) {
    return p->ndst ? &p->dsts[i] : &p->dst;
}

/* "destination", or "destination #i" for a multi-destination plan. */
const char *sj_dst_name(const sj_plan *p, size_t i, char *buf, size_t cap) {
    if (!p->ndst) return "destination";
    snprintf(buf, cap, "destination #%zu", i);
    return buf;
}

/* A lifetime or thread failure ("segment: its arena is closed") named for the call and
 * the side: "copy: source segment: its arena is closed". */
sj_status sj_name_side(sj_error *err, sj_status st, const char *what, const char *side) {
    if (!err) return st;
    char msg[sizeof err->message];
    memcpy(msg, err->message, sizeof msg);
    msg[sizeof msg - 1] = '\0';
    return sj_fail(err, st, "%s: %s %s", what, side, msg);
}

sj_status sj_check_call(const sj_plan *p, const sj_segment *src, int64_t src_offset, size_t nd,
                        const sj_segment *const *dsts, const int64_t *doffs, int64_t count,
                        uint64_t *src_ext, uint64_t *dst_ext, sj_error *err) {
    char nm[48];
    if (count < 0)
        return sj_fail(err, SJ_E_BOUNDS, "%s: count %" PRId64 " is negative", p->what, count);
    sj_status st = check_count_bound(p, "source", &p->src, count, err);
    for (size_t i = 0; i < nd && st == SJ_OK; i++)
        st = check_count_bound(p, sj_dst_name(p, i, nm, sizeof nm), sj_dst_side(p, i), count, err);
    if (st == SJ_OK && src) st = check_align(p, "source", &p->src, src, src_offset, err);
    for (size_t i = 0; i < nd && st == SJ_OK; i++)
        st = check_align(p, sj_dst_name(p, i, nm, sizeof nm), sj_dst_side(p, i), dsts[i], doffs[i],
                         err);
    if (st == SJ_OK && src)
        st = check_bounds(p, "source", &p->src, src, src_offset, count, src_ext, err);
    for (size_t i = 0; i < nd && st == SJ_OK; i++)
        if (sj_dst_side(p, i)->writes && sj_segment_is_readonly(dsts[i]))
            st = sj_fail(err, SJ_E_READONLY,
                         "%s: %s segment is read-only (write at offset %" PRId64 ", count %" PRId64
                         ")",
                         p->what, sj_dst_name(p, i, nm, sizeof nm), doffs[i], count);
    for (size_t i = 0; i < nd && st == SJ_OK; i++)
        st = check_bounds(p, sj_dst_name(p, i, nm, sizeof nm), sj_dst_side(p, i), dsts[i], doffs[i],
                          count, &dst_ext[i], err);
    /* Streams are written in any order: two that share bytes are refused. */
    for (size_t i = 0; i < nd && st == SJ_OK && p->ndst; i++)
        for (size_t j = i + 1; j < nd && st == SJ_OK; j++)
            if (ranges_overlap(dsts[i], doffs[i], dst_ext[i], dsts[j], doffs[j], dst_ext[j]))
                st = sj_fail(err, SJ_E_ARG,
                             "%s: destinations #%zu and #%zu overlap (offsets %" PRId64
                             " and %" PRId64 ", %" PRIu64 " and %" PRIu64 " bytes)",
                             p->what, i, j, doffs[i], doffs[j], dst_ext[i], dst_ext[j]);
    return st;
}
