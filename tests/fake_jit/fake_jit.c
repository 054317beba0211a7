/* tests/fake_jit/fake_jit.c: stand-ins for libsegjit-jit.so that the loader must refuse
 * before running anything in them (FAKE: 1 another build, 2 other structures, 3 no
 * identity at all). Their init aborts, so a loader that calls it fails the test. */
#include <stdlib.h>

#include "jit_api.h"

#define EXPORT __attribute__((visibility("default")))

#if FAKE == 1
EXPORT const sj_jit_identity sj_jit_build_identity = SJ_JIT_IDENTITY_INIT("segjit-0.0.0-another");
#elif FAKE == 2
EXPORT const sj_jit_identity sj_jit_build_identity = {
    SEGJIT_BUILD_ID, SJ_JIT_API_VERSION,      sizeof(sj_plan) + 8,   sizeof(sj_side),
    sizeof(sj_move), sizeof(sj_jit_provider), sizeof(sj_jit_report), sizeof(sj_jit_stats)};
#endif

EXPORT const sj_jit_provider *sj_jit_provider_init(char *why, size_t why_len);
const sj_jit_provider *sj_jit_provider_init(char *why, size_t why_len) {
    (void)why;
    (void)why_len;
    abort();
}
