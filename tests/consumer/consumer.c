/* tests/consumer/consumer.c: the smallest program using an installed segjit, built
 * once through find_package and once through pkg-config. Library behaviour is tested
 * elsewhere; this only proves the headers and the library are found and link. */
#include <stdio.h>
#include <string.h>

#include <segjit/status.h>

int main(void) {
    const char *name = sj_status_name(SJ_E_ARG);
    if (name == NULL || strcmp(name, "SJ_E_ARG") != 0) {
        fprintf(stderr, "consumer: sj_status_name(SJ_E_ARG) gave \"%s\"\n", name ? name : "(null)");
        return 1;
    }
    printf("consumer: sj_status_name(SJ_E_ARG) = %s\n", name);
    return 0;
}
