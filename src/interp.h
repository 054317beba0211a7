/* src/interp.h: the interpreter (interp.c), which runs a plan with a menu of precompiled
 * loops chosen once per kernel, and the plan builders (plan.c) that kernel.c calls.
 * Checks, tiers and segments are kernel.c's; nothing here touches a segment. */
#ifndef SEGJIT_INTERP_H
#define SEGJIT_INTERP_H

#include <stdint.h>

#include "plan.h"
#include "segjit/kernel.h"
#include "segjit/layout.h"
#include "segjit/status.h"

/* ---- Plan builders (plan.c) ----
 * Each builds a new plan into *out (free with sj_plan_free) and reports every layout
 * error here, so that a kernel's runs only check the call. SEMANTICS 4.2-4.4. */
sj_status sj_plan_copy(const sj_layout *src_elem, const sj_layout *dst_elem, sj_plan **out,
                       sj_error *err);
sj_status sj_plan_convert(const sj_layout *src_rec, const sj_layout *dst_rec, unsigned flags,
                          sj_plan **out, sj_error *err);
sj_status sj_plan_gather(const sj_path *src_path, const sj_layout *dst_elem, unsigned flags,
                         sj_plan **out, sj_error *err);
sj_status sj_plan_scatter(const sj_layout *src_elem, const sj_path *dst_path, unsigned flags,
                          sj_plan **out, sj_error *err);
sj_status sj_plan_fill(const sj_layout *elem, sj_value v, sj_plan **out, sj_error *err);
sj_status sj_plan_reduce(const sj_path *path, sj_reduce_op op, sj_plan **out, sj_error *err);
sj_status sj_plan_mismatch(sj_plan **out, sj_error *err);

/* ---- The interpreter ---- */

typedef struct sj_interp sj_interp;

/* Chooses the loops for a plan once; the plan must outlive the result. */
sj_status sj_interp_prepare(const sj_plan *p, sj_interp **out, sj_error *err);
void sj_interp_free(sj_interp *ip);

/* Runs the plan with the sj_loop_fn contract of plan.h: src and dst point at element 0,
 * aux receives a reduction's result; returns the mismatch index (or -1) for MISMATCH. */
int64_t sj_interp_run(const sj_interp *ip, const uint8_t *src, uint8_t *dst, int64_t count,
                      void *aux);

#endif
