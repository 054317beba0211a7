/* bench/gen_wide.c: writes hand_wide.c, W9's records of many distinct fields: for
 * n = 256, 1024 and 4096, a record of n fields of mixed kinds (C padding) converted to the
 * fields in reverse order, big-endian, padding zeroed; the loop a C programmer would write
 * for that exact struct (each field assigned at its constant offset) and the two layouts
 * as segjit text, generated together so that they agree; a record of 600 short arrays
 * [3:f4] converted to [3:d8]; and a record of 16 arrays [16:i4] reversed and made
 * big-endian. Fixed seed: the same file every build. Usage: gen_wide OUT.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int k_fields[] = {256, 1024, 4096};
#define NSHAPES (sizeof k_fields / sizeof k_fields[0])

typedef struct kind {
    const char *le, *be, *ctype;
    unsigned size;
} kind;
static const kind k_kinds[] = {
    {"b1", "b1", "uint8_t", 1},    {"ub1", "ub1", "uint8_t", 1}, {"s2", "S2", "uint16_t", 2},
    {"us2", "uS2", "uint16_t", 2}, {"i4", "I4", "uint32_t", 4},  {"f4", "F4", "uint32_t", 4},
    {"j8", "J8", "uint64_t", 8},   {"d8", "D8", "uint64_t", 8},
};
#define NKINDS (sizeof k_kinds / sizeof k_kinds[0])

static uint64_t g_rng = 0x5EED0F1E1D5ull;
static unsigned pick(unsigned n) {
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((g_rng >> 33) % n);
}

/* Lays out fields order[0..n) with C padding: offsets into off[], the size returned. */
static unsigned lay_out(const unsigned *kinds, const unsigned *order, unsigned n, unsigned *off) {
    unsigned at = 0, align = 1;
    for (unsigned i = 0; i < n; i++) {
        unsigned sz = k_kinds[kinds[order[i]]].size;
        at = (at + sz - 1) / sz * sz;
        off[order[i]] = at;
        at += sz;
        if (sz > align) align = sz;
    }
    return (at + align - 1) / align * align;
}

/* The layout's text as an array of C string literals, to be joined (ISO C bounds one
 * literal's length), with its padding as x<bytes>. */
static void text(FILE *o, const char *name, const unsigned *kinds, const unsigned *order,
                 unsigned n, const unsigned *off, unsigned size, int big) {
    unsigned at = 0;
    fprintf(o, "static const char *const %s[] = {\n    \"[", name);
    for (unsigned i = 0; i < n; i++) {
        unsigned f = order[i];
        if (off[f] > at) fprintf(o, "x%u", off[f] - at);
        fprintf(o, "%s(f%u)", big ? k_kinds[kinds[f]].be : k_kinds[kinds[f]].le, f);
        at = off[f] + k_kinds[kinds[f]].size;
        if (i % 16 == 15) fprintf(o, "\",\n    \"");
    }
    if (size > at) fprintf(o, "x%u", size - at);
    fprintf(o, "]\",\n    NULL,\n};\n");
}

/* A shape's descriptor (its layouts src_NAME and dst_NAME) and its loop's first lines: one
 * record per iteration, s and d stepped by the records' sizes. */
static void shape_open(FILE *o, const char *name, const char *label, unsigned fields,
                       unsigned values, unsigned ssize, unsigned dsize) {
    fprintf(o,
            "const hand_wide_shape hand_wide_%s = {\"%s\", %u, %u, %u, %u, src_%s, dst_%s, "
            "hand_wide_%s_loop};\n\n",
            name, label, fields, values, ssize, dsize, name, name, name);
    fprintf(o,
            "void hand_wide_%s_loop(const uint8_t *restrict s, uint8_t *restrict d, "
            "int64_t recs) {\n    for (int64_t r = 0; r < recs; r++, s += %u, d += %u) {\n",
            name, ssize, dsize);
}

/* A record of 600 fields [3:f4] converted to [3:d8] in the same order (a mesh's vectors
 * widened): the C loop over the record's values, as one writes it for float a[600][3]. */
static void arrays(FILE *o) {
    enum { N = 600, K = 3 };
    for (int side = 0; side < 2; side++) {
        fprintf(o, "static const char *const %s_arrays[] = {\n    \"[", side ? "dst" : "src");
        for (unsigned f = 0; f < N; f++) {
            fprintf(o, "[%u:%s](f%u)", K, side ? "d8" : "f4", f);
            if (f % 16 == 15) fprintf(o, "\",\n    \"");
        }
        fprintf(o, "]\",\n    NULL,\n};\n");
    }
    char label[64];
    snprintf(label, sizeof label, "%u [%u:f4] to [%u:d8]", N, K, K);
    shape_open(o, "arrays", label, N, N * K, N * K * 4, N * K * 8);
    fprintf(o,
            "        for (unsigned v = 0; v < %u; v++) {\n"
            "            float x;\n            memcpy(&x, s + 4 * v, 4);\n"
            "            double y = x;\n            memcpy(d + 8 * v, &y, 8);\n        }\n",
            N * K);
    fprintf(o, "    }\n}\n");
}

/* A record of 16 fields [16:i4] to the fields reversed and big-endian (a wire format's
 * arrays): the C loop reads the fields in order and swaps each value. */
static void swaps(FILE *o) {
    enum { N = 16, K = 16 };
    for (int side = 0; side < 2; side++) {
        fprintf(o, "static const char *const %s_swaps[] = {\n    \"[", side ? "dst" : "src");
        for (unsigned i = 0; i < N; i++) {
            unsigned f = side ? N - 1 - i : i;
            fprintf(o, "[%u:%s](f%u)", K, side ? "I4" : "i4", f);
        }
        fprintf(o, "]\",\n    NULL,\n};\n");
    }
    char label[64];
    snprintf(label, sizeof label, "%u [%u:i4] to [%u:I4] rev", N, K, K);
    shape_open(o, "swaps", label, N, N * K, N * K * 4, N * K * 4);
    for (unsigned f = 0; f < N; f++)
        fprintf(
            o,
            "        for (unsigned v = 0; v < %u; v++) {\n"
            "            uint32_t x;\n            memcpy(&x, s + %u + 4 * v, 4);\n"
            "            x = __builtin_bswap32(x);\n            memcpy(d + %u + 4 * v, &x, 4);\n"
            "        }\n",
            K, f * K * 4, (N - 1 - f) * K * 4);
    fprintf(o, "    }\n}\n");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: gen_wide OUT.c\n");
        return 2;
    }
    FILE *o = fopen(argv[1], "w");
    if (!o) {
        perror(argv[1]);
        return 1;
    }
    fprintf(o, "/* Generated by bench/gen_wide.c: do not edit. */\n"
               "#include <stdint.h>\n#include <string.h>\n\n#include \"hand.h\"\n\n");
    for (size_t s = 0; s < NSHAPES; s++) {
        unsigned n = (unsigned)k_fields[s];
        unsigned *kinds = malloc(n * sizeof *kinds), *fwd = malloc(n * sizeof *fwd);
        unsigned *rev = malloc(n * sizeof *rev), *so = malloc(n * sizeof *so);
        unsigned *dof = malloc(n * sizeof *dof);
        unsigned char *used = NULL;
        if (!kinds || !fwd || !rev || !so || !dof) return 1;
        for (unsigned i = 0; i < n; i++) {
            kinds[i] = pick(NKINDS);
            fwd[i] = i;
            rev[i] = n - 1 - i;
        }
        unsigned ssize = lay_out(kinds, fwd, n, so), dsize = lay_out(kinds, rev, n, dof);
        char sname[32], dname[32];
        snprintf(sname, sizeof sname, "src_%u", n);
        snprintf(dname, sizeof dname, "dst_%u", n);
        text(o, sname, kinds, fwd, n, so, ssize, 0);
        text(o, dname, kinds, rev, n, dof, dsize, 1);
        char name[16], label[32];
        snprintf(name, sizeof name, "%u", n);
        snprintf(label, sizeof label, "%u distinct fields", n);
        shape_open(o, name, label, n, n, ssize, dsize);
        used = calloc(dsize, 1);
        if (!used) return 1;
        for (unsigned f = 0; f < n; f++) { /* fields in source order, as a C loop reads */
            const kind *k = &k_kinds[kinds[f]];
            memset(used + dof[f], 1, k->size);
            if (k->size == 1) {
                fprintf(o, "        d[%u] = s[%u];\n", dof[f], so[f]);
                continue;
            }
            fprintf(o,
                    "        { %s v; memcpy(&v, s + %u, %u); v = __builtin_bswap%u(v); "
                    "memcpy(d + %u, &v, %u); }\n",
                    k->ctype, so[f], k->size, 8 * k->size, dof[f], k->size);
        }
        for (unsigned i = 0; i < dsize;) { /* the padding, zeroed */
            unsigned j = i;
            while (j < dsize && !used[j])
                j++;
            if (j > i) fprintf(o, "        memset(d + %u, 0, %u);\n", i, j - i);
            i = j > i ? j : i + 1;
        }
        fprintf(o, "    }\n}\n\n");
        free(kinds), free(fwd), free(rev), free(so), free(dof), free(used);
    }
    arrays(o);
    swaps(o);
    return fclose(o) == 0 ? 0 : 1;
}
