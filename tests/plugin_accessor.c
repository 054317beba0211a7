/* tests/plugin_accessor.c: a module that makes inline accessor calls, loaded and unloaded by
 * test_accessor (test_unloaded_module): the restartable sequence's descriptor lives in this
 * module, so nothing may point at it once the module is gone. Built optimised, so that the
 * inline calls are restartable sequences where the platform has them. */
#include "segjit/accessor.h"

__attribute__((visibility("default"))) sj_status
plugin_sum(const sj_accessor *acc, const sj_segment *s, int64_t n, int64_t *sum);

sj_status plugin_sum(const sj_accessor *acc, const sj_segment *s, int64_t n, int64_t *sum) {
    sj_error err = {0};
    *sum = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t x = 0;
        sj_status st = sj_accessor_get_i64(acc, s, 0, &i, 1, &x, &err);
        if (st != SJ_OK) return st;
        *sum += x;
    }
    return SJ_OK;
}
