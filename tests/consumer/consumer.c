/* tests/consumer/consumer.c: the smallest program using an installed segjit, built
 * once through find_package and once through pkg-config. Library behaviour is tested
 * elsewhere; this only proves the headers and the library are found and link. */
#include <stdio.h>
#include <string.h>

#include <segjit/segjit.h>

int main(void) {
    const char *name = sj_status_name(SJ_E_ARG);
    if (name == NULL || strcmp(name, "SJ_E_ARG") != 0) {
        fprintf(stderr, "consumer: sj_status_name(SJ_E_ARG) gave \"%s\"\n", name ? name : "(null)");
        return 1;
    }
    printf("consumer: sj_status_name(SJ_E_ARG) = %s\n", name);
    /* every public header is installed: an accessor, from the newest one */
    int32_t word = 41;
    sj_layout *i4 = NULL;
    sj_accessor *acc = NULL;
    sj_segment seg;
    int32_t got = 0;
    if (sj_layout_value(SJ_I32, &i4, NULL) != SJ_OK ||
        sj_accessor_of_value(i4, &acc, NULL) != SJ_OK ||
        sj_segment_native(&word, sizeof word, &seg, NULL) != SJ_OK ||
        sj_accessor_set_i32(acc, &seg, 0, NULL, 0, word + 1, NULL) != SJ_OK ||
        sj_accessor_get_i32(acc, &seg, 0, NULL, 0, &got, NULL) != SJ_OK || got != 42) {
        fprintf(stderr, "consumer: an accessor on a native segment failed\n");
        return 1;
    }
    sj_accessor_free(acc);
    sj_layout_unref(i4);
    return 0;
}
