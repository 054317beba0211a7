/* tests/fuzz/replay.c: a main for the fuzz targets without libFuzzer: runs every file named
 * on the command line (directories: every regular file in them, in name order) through
 * LLVMFuzzerTestOneInput once. Used by the ctest test fuzz_regressions in every build; a
 * violated property aborts. The properties themselves belong in the targets. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Reads the whole file into an allocation of exactly its size (1 byte for an empty file),
 * so that a sanitized build catches a target reading past the input. */
static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) abort();
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) abort();
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        return -1;
    }
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) abort();
    if (n) memcpy(exact, buf, n);
    free(buf);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 1;
}

static int name_order(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Number of inputs replayed from path, -1 on an error. */
static int replay_path(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) return replay_file(path);
    struct dirent **names = NULL;
    int count = scandir(path, &names, NULL, name_order);
    if (count < 0) {
        fprintf(stderr, "replay: cannot list %s: %s\n", path, strerror(errno));
        return -1;
    }
    int done = 0;
    for (int i = 0; i < count; i++) {
        if (done >= 0 && names[i]->d_name[0] != '.') {
            size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
            char *full = malloc(len);
            if (!full) abort();
            snprintf(full, len, "%s/%s", path, names[i]->d_name);
            if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode)) {
                int r = replay_file(full);
                done = r < 0 ? -1 : done + r;
            }
            free(full);
        }
        free(names[i]);
    }
    free(names);
    return done;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    int total = 0;
    for (int i = 1; i < argc; i++) {
        int r = replay_path(argv[i]);
        if (r < 0) return 1;
        total += r;
    }
    printf("%s: %d inputs replayed, all properties held\n", argv[0], total);
    return 0;
}
