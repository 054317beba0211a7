/* tests/check.h: CHECK(want, expr), a call's status against the expected one (the message
 * of a failure kept in E), and CHECK_MSG(text), a part of that message. For the tests of
 * single calls; include after cmocka.h. */
#ifndef SEGJIT_TESTS_CHECK_H
#define SEGJIT_TESTS_CHECK_H

#include <string.h>

#include "segjit/status.h"

static sj_error E;

#define CHECK(want, expr)                                                                          \
    do {                                                                                           \
        memset(&E, 0, sizeof E);                                                                   \
        sj_status got_ = (expr);                                                                   \
        if (got_ != (want))                                                                        \
            fail_msg("%s:%d: %s gave %s, expected %s (%s)", __FILE__, __LINE__, #expr,             \
                     sj_status_name(got_), sj_status_name(want), E.message);                       \
    } while (0)

#define CHECK_MSG(text)                                                                            \
    do {                                                                                           \
        if (!strstr(E.message, (text)))                                                            \
            fail_msg("%s:%d: message \"%s\" lacks \"%s\"", __FILE__, __LINE__, E.message, (text)); \
    } while (0)

#endif
