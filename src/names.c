/* src/names.c: the name index of wide structs, unions and C field lists (internal.h). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint32_t name_hash(const char *name, size_t len) {
    return (uint32_t)(sj_hash_bytes(SJ_HASH_SEED, name, len) >> 32);
}

/* The slot where name[0..len) (of hash h) is, or the empty slot where it would go. */
static size_t probe(const sj_name_index *ix, sj_name_at at, const void *list, const char *name,
                    size_t len, uint32_t h) {
    size_t k = h & ix->mask;
    for (; ix->slot[k]; k = (k + 1) & ix->mask) {
        const char *o = at(list, (uint32_t)ix->slot[k] - 1);
        if ((uint32_t)(ix->slot[k] >> 32) == h && strncmp(o, name, len) == 0 && o[len] == 0) break;
    }
    return k;
}

static bool grow(sj_name_index *ix) {
    size_t cap = ix->slot ? 2 * (ix->mask + 1) : 64;
    uint64_t *slot = calloc(cap, sizeof *slot);
    if (!slot) return false;
    for (size_t k = 0; ix->slot && k <= ix->mask; k++) {
        if (!ix->slot[k]) continue;
        size_t j = (size_t)(ix->slot[k] >> 32) & (cap - 1);
        while (slot[j])
            j = (j + 1) & (cap - 1);
        slot[j] = ix->slot[k];
    }
    free(ix->slot);
    ix->slot = slot;
    ix->mask = cap - 1;
    return true;
}

size_t sj_name_index_add(sj_name_index *ix, sj_name_at at, const void *list, size_t i) {
    const char *name = at(list, i);
    if (!name) return SIZE_MAX;
    if (i >= UINT32_MAX || ((!ix->slot || 2 * (ix->count + 1) > ix->mask + 1) && !grow(ix))) {
        sj_name_index_free(ix);
        return SIZE_MAX - 1;
    }
    size_t len = strlen(name);
    uint32_t h = name_hash(name, len);
    size_t k = probe(ix, at, list, name, len, h);
    if (ix->slot[k]) return (uint32_t)ix->slot[k] - 1;
    ix->slot[k] = (uint64_t)h << 32 | (uint64_t)(i + 1);
    ix->count++;
    return SIZE_MAX;
}

size_t sj_name_index_find_n(const sj_name_index *ix, sj_name_at at, const void *list,
                            const char *name, size_t len) {
    size_t k = probe(ix, at, list, name, len, name_hash(name, len));
    return ix->slot[k] ? (uint32_t)ix->slot[k] - 1 : SIZE_MAX;
}

size_t sj_name_index_find(const sj_name_index *ix, sj_name_at at, const void *list,
                          const char *name) {
    return sj_name_index_find_n(ix, at, list, name, strlen(name));
}

void sj_name_index_free(sj_name_index *ix) {
    free(ix->slot);
    *ix = (sj_name_index){0};
}
