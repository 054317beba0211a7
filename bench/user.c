/* bench/user.c: W7's view loop (user.h). Plain user code: segjit's public headers only;
 * bench/CMakeLists.txt builds it a second time with clang, renamed user_clang_*. */
#include "user.h"

#ifndef USER
#define USER(name) user_##name
#endif

sj_status USER(w7_view_sum)(const sj_view *v, const sj_accessor *acc, int64_t n, double *out,
                            sj_error *err) {
    sj_field f;
    sj_status st = sj_view_field(v, acc, NULL, 0, &f, err);
    if (st != SJ_OK) return st;
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += sj_field_get_f64(&f, i);
    *out = s;
    return sj_field_status(&f, err);
}
