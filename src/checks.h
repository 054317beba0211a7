/* src/checks.h: the ordered checks of a kernel call (checks.c) and the names of a call's
 * sides in messages. */
#ifndef SEGJIT_CHECKS_H
#define SEGJIT_CHECKS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "plan.h"

/* Every check before lifetime and thread, in SEMANTICS 4.2 order; on success the bytes
 * the call touches from each offset (src_ext, dst_ext[i]). */
sj_status sj_check_call(const sj_plan *p, const sj_segment *src, int64_t src_offset, size_t nd,
                        const sj_segment *const *dsts, const int64_t *doffs, int64_t count,
                        uint64_t *src_ext, uint64_t *dst_ext, sj_error *err) SJ_HIDDEN;
/* The side of destination i: the plan's dst, or stream i of a multi-destination plan. */
const sj_side *sj_dst_side(const sj_plan *p, size_t i) SJ_HIDDEN;
/* "destination", or "destination #i" for a multi-destination plan. */
const char *sj_dst_name(const sj_plan *p, size_t i, char *buf, size_t cap) SJ_HIDDEN;
/* A lifetime or thread failure named for the call and the side. */
sj_status sj_name_side(sj_error *err, sj_status st, const char *what, const char *side) SJ_HIDDEN;

#endif
