/* src/kimage.h: the self-contained kernel image the JIT makes from a compiled object
 * (jit/image.c) and the core's persistent cache stores and loads (kcache.c): code and
 * read-only data already relocated against each other, plus a slot and a jump stub per C
 * library function the code calls. Plain C, shared by both sides; no LLVM, no file I/O. */
#ifndef SEGJIT_KIMAGE_H
#define SEGJIT_KIMAGE_H

#include <stdint.h>

#define SJ_KIMAGE_MAGIC     UINT32_C(0x494b4a53) /* "SJKI" */
#define SJ_KIMAGE_MAX_SLOTS 3u
#define SJ_KIMAGE_MAX_BYTES (UINT32_C(16) << 20) /* larger code is not persisted */

/* The functions a slot may hold: the only symbols generated code may call. */
enum { SJ_KSYM_MEMCPY, SJ_KSYM_MEMMOVE, SJ_KSYM_MEMSET, SJ_KSYM_COUNT };

/* Followed by `size` bytes: the image as it is mapped (slots zero until loaded). Every
 * field is checked by the loader before use. */
typedef struct sj_kimage_hdr {
    uint32_t magic;
    uint32_t size;                          /* bytes of image after the header */
    uint32_t entry;                         /* offset of the kernel's function (sj_loop_fn) */
    uint32_t nslots;                        /* <= SJ_KIMAGE_MAX_SLOTS */
    uint32_t slot_off[SJ_KIMAGE_MAX_SLOTS]; /* 8-aligned offsets of 8-byte slots */
    uint32_t slot_sym[SJ_KIMAGE_MAX_SLOTS]; /* SJ_KSYM_* */
} sj_kimage_hdr;

#endif
