/* bench/user.h: W7's loop over a view as a user writes it, in a file of its own so that
 * it is built by the bench's compiler (user_*) and again by clang (user_clang_*). */
#ifndef SEGJIT_BENCH_USER_H
#define SEGJIT_BENCH_USER_H

#include <stdint.h>

#include <segjit/accessor.h>
#include <segjit/status.h>
#include <segjit/view.h>

/* Binds `acc` to the open view `v`, sums the field's first n values through
 * sj_field_get_f64 into *out, and returns the field's status (its message in err). */
sj_status user_w7_view_sum(const sj_view *v, const sj_accessor *acc, int64_t n, double *out,
                           sj_error *err);
sj_status user_clang_w7_view_sum(const sj_view *v, const sj_accessor *acc, int64_t n, double *out,
                                 sj_error *err);

#endif
