/* src/interp.h: the interpreter (interp.c), which runs a plan with a menu of precompiled
 * loops chosen once per kernel (plan builders are declared in plan.h).
 * Checks, tiers and segments are kernel.c's; nothing here touches a segment. */
#ifndef SEGJIT_INTERP_H
#define SEGJIT_INTERP_H

#include <stdint.h>

#include "plan.h"
#include "segjit/kernel.h"
#include "segjit/layout.h"
#include "segjit/status.h"

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
