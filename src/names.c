/* src/names.c: the name index of wide structs, unions and C field lists, and the pointer
 * map of memos over shared parts (internal.h). */
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

static size_t pair_slot(const sj_ptr_map *m, const void *a, const void *b) {
    uint64_t x = (uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)b;
    x ^= x >> 31;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 29;
    size_t k = (size_t)x & m->mask;
    while (m->slot[k].a && (m->slot[k].a != a || m->slot[k].b != b))
        k = (k + 1) & m->mask;
    return k;
}

void *sj_ptr_map_get(const sj_ptr_map *m, const void *a, const void *b) {
    return m->slot ? m->slot[pair_slot(m, a, b)].v : NULL;
}

bool sj_ptr_map_put(sj_ptr_map *m, const void *a, const void *b, void *v) {
    if (!m->slot || 2 * (m->count + 1) > m->mask + 1) {
        size_t cap = m->slot ? 2 * (m->mask + 1) : 64;
        sj_ptr_map g = {calloc(cap, sizeof *g.slot), cap - 1, 0};
        if (!g.slot) return false;
        for (size_t k = 0; m->slot && k <= m->mask; k++)
            if (m->slot[k].a) g.slot[pair_slot(&g, m->slot[k].a, m->slot[k].b)] = m->slot[k];
        g.count = m->count;
        free(m->slot);
        *m = g;
    }
    size_t k = pair_slot(m, a, b);
    if (m->slot[k].a) return false;
    m->slot[k] = (sj_ptr_entry){a, b, v};
    m->count++;
    return true;
}

void sj_ptr_map_free(sj_ptr_map *m, void (*drop)(void *v)) {
    for (size_t k = 0; drop && m->slot && k <= m->mask; k++)
        if (m->slot[k].a) drop(m->slot[k].v);
    free(m->slot);
    *m = (sj_ptr_map){0};
}
