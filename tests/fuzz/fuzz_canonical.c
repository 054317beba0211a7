/* tests/fuzz/fuzz_canonical.c: libFuzzer target for the canonical layout text (SEMANTICS
 * 2.7): any input either parses to a layout that round-trips through the printer, or fails
 * with PARSE (at a line:column in the text), ARG, OVERFLOW or NOMEM and writes nothing.
 * Shared checks are in fuzz.h; the description language has its own target. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fz_cstr(data, size);
    sj_layout *sentinel = (sj_layout *)&sentinel, *l = sentinel;
    sj_error err = {SJ_OK, ""};
    sj_status st = sj_layout_parse(text, &l, &err);
    if (st == SJ_OK) {
        FZ_CHECK(l != NULL && l != sentinel, "parse succeeded without a layout");
        fz_check_roundtrip(l, text);
        sj_layout_unref(l);
    } else {
        FZ_CHECK(l == sentinel, "failed parse (%s) wrote its output", sj_status_name(st));
        fz_check_failure("parse", text, st, &err,
                         FZ_BIT(SJ_E_PARSE) | FZ_BIT(SJ_E_ARG) | FZ_BIT(SJ_E_OVERFLOW) |
                             FZ_BIT(SJ_E_NOMEM));
    }
    /* Without an error value the same call gives the same status. */
    sj_layout *again = NULL;
    sj_status st2 = sj_layout_parse(text, &again, NULL);
    FZ_CHECK(st2 == st, "parse without err gives %s, with err %s", sj_status_name(st2),
             sj_status_name(st));
    sj_layout_unref(again);
    free(text);
    return 0;
}
