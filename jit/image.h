/* jit/image.h: the persistable image of one compiled kernel (image.c; format in
 * src/kimage.h). No LLVM here. */
#ifndef SEGJIT_JIT_IMAGE_H
#define SEGJIT_JIT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "kimage.h"

/* Builds the image (an sj_kimage_hdr and its bytes, malloc'd into *out) of the function
 * entry_name in the ELF relocatable object obj[0, len). Returns 0, or -1 with why when
 * the object holds a section, relocation or symbol the image cannot carry. */
int sj_image_build(const uint8_t *obj, size_t len, const char *entry_name, uint8_t **out,
                   size_t *out_len, char *why, size_t why_len);

#endif
