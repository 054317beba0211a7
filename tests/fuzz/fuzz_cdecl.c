/* tests/fuzz/fuzz_cdecl.c: libFuzzer target for the C-like description language (SEMANTICS
 * 2.8): any input either parses to a layout whose canonical form round-trips, or fails with
 * PARSE (at a line:column in the text), ARG, OVERFLOW or NOMEM and writes nothing; and
 * parse_auto answers exactly as one of the two parsers. Shared checks are in fuzz.h. */
#include "fuzz.h"

/* Same outcome: status, message, and equal layouts on success. */
static bool same_outcome(sj_status a, const sj_layout *la, const sj_error *ea, sj_status b,
                         const sj_layout *lb, const sj_error *eb) {
    if (a != b) return false;
    if (a == SJ_OK) return sj_layout_equal(la, lb);
    return strcmp(ea->message, eb->message) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fz_cstr(data, size);
    sj_layout *sentinel = (sj_layout *)&sentinel, *l = sentinel;
    sj_error err = {SJ_OK, ""};
    sj_status st = sj_layout_parse_c(text, &l, &err);
    if (st == SJ_OK) {
        FZ_CHECK(l != NULL && l != sentinel, "parse_c succeeded without a layout");
        fz_check_roundtrip(l, text);
    } else {
        FZ_CHECK(l == sentinel, "failed parse_c (%s) wrote its output", sj_status_name(st));
        fz_check_failure("parse_c", text, st, &err,
                         FZ_BIT(SJ_E_PARSE) | FZ_BIT(SJ_E_ARG) | FZ_BIT(SJ_E_OVERFLOW) |
                             FZ_BIT(SJ_E_NOMEM));
        l = NULL;
    }

    /* parse_auto is one of the two parsers, chosen from the text alone. */
    sj_layout *lc = NULL, *la = NULL;
    sj_error ec = {SJ_OK, ""}, ea = {SJ_OK, ""};
    sj_status stc = sj_layout_parse(text, &lc, &ec);
    sj_status sta = sj_layout_parse_auto(text, &la, &ea);
    FZ_CHECK(same_outcome(sta, la, &ea, st, l, &err) || same_outcome(sta, la, &ea, stc, lc, &ec),
             "parse_auto gives %s '%s'; parse_c %s '%s'; parse %s '%s' (input '%.200s')",
             sj_status_name(sta), ea.message, sj_status_name(st), err.message, sj_status_name(stc),
             ec.message, text);

    sj_layout_unref(la);
    sj_layout_unref(lc);
    sj_layout_unref(l);
    free(text);
    return 0;
}
