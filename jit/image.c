/* jit/image.c: turns the ELF relocatable object LLVM emitted for one kernel into a
 * self-contained image (src/kimage.h) that the core's persistent cache can map anywhere:
 * .text and .rodata* copied into one buffer, their PC-relative relocations applied here,
 * memcpy/memmove/memset reached through a slot and a jump stub. Anything else (another
 * section or relocation kind, another symbol) is refused: that kernel is not persisted.
 * x86-64 ELF only; no LLVM here (the engine hands the object's bytes). */
#include "image.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#include <elf.h>

#define MAX_SECTIONS 4096

static int refuse(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(char *why, size_t len, const char *fmt, ...) {
    if (why && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The NUL-terminated string at off in section s of the object, or NULL. */
static const char *str_at(const uint8_t *obj, const Elf64_Shdr *s, uint64_t off) {
    if (off >= s->sh_size) return NULL;
    const char *p = (const char *)obj + s->sh_offset + off;
    return memchr(p, 0, (size_t)(s->sh_size - off)) ? p : NULL;
}

static bool starts(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ksym_of(const char *name) {
    static const char *const names[SJ_KSYM_COUNT] = {"memcpy", "memmove", "memset"};
    for (int i = 0; i < SJ_KSYM_COUNT; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

static void put32(uint8_t *p, uint32_t v) {
    memcpy(p, &v, 4); /* x86-64: little-endian, as the image */
}

int sj_image_build(const uint8_t *obj, size_t len, const char *entry_name, uint8_t **out,
                   size_t *out_len, char *why, size_t why_len) {
    *out = NULL;
    *out_len = 0;
    Elf64_Ehdr eh;
    if (len < sizeof eh) return refuse(why, why_len, "object smaller than an ELF header");
    memcpy(&eh, obj, sizeof eh);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64 || eh.e_type != ET_REL)
        return refuse(why, why_len, "not an x86-64 ELF relocatable object");
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > MAX_SECTIONS ||
        eh.e_shoff > len || (len - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum ||
        eh.e_shstrndx >= eh.e_shnum)
        return refuse(why, why_len, "malformed section table");
    size_t nsec = eh.e_shnum;
    Elf64_Shdr *sh = malloc(nsec * sizeof *sh);
    uint64_t *place = calloc(nsec, sizeof *place); /* image offset + 1 of copied sections */
    uint8_t *img = NULL, *base = NULL;             /* the allocation; the image after its header */
    int rc = -1;
    if (!sh || !place) {
        refuse(why, why_len, "out of memory");
        goto out;
    }
    memcpy(sh, obj + eh.e_shoff, nsec * sizeof *sh);
    for (size_t i = 0; i < nsec; i++)
        if (sh[i].sh_type != SHT_NOBITS &&
            (sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset)) {
            refuse(why, why_len, "section %zu lies outside the object", i);
            goto out;
        }
    const Elf64_Shdr *shstr = &sh[eh.e_shstrndx];

    /* Which sections go into the image, and where. */
    uint64_t size = 0;
    size_t symtab = 0;
    for (size_t i = 1; i < nsec; i++) {
        const char *name = str_at(obj, shstr, sh[i].sh_name);
        if (!name) {
            refuse(why, why_len, "section %zu has no name", i);
            goto out;
        }
        if (sh[i].sh_type == SHT_SYMTAB) {
            if (symtab) {
                refuse(why, why_len, "two symbol tables");
                goto out;
            }
            symtab = i;
        }
        if (!(sh[i].sh_flags & SHF_ALLOC) || sh[i].sh_size == 0) continue;
        if (sh[i].sh_type == SHT_X86_64_UNWIND || strcmp(name, ".eh_frame") == 0)
            continue; /* unwind tables: kernels never unwind */
        if (sh[i].sh_type != SHT_PROGBITS || (sh[i].sh_flags & SHF_WRITE) ||
            (sh[i].sh_flags & SHF_TLS) || !(starts(name, ".text") || starts(name, ".rodata"))) {
            refuse(why, why_len, "section %s is not persisted", name);
            goto out;
        }
        uint64_t align = sh[i].sh_addralign ? sh[i].sh_addralign : 1;
        if (align > 4096 || (align & (align - 1))) {
            refuse(why, why_len, "section %s aligned to %llu", name,
                   (unsigned long long)sh[i].sh_addralign);
            goto out;
        }
        size = (size + align - 1) & ~(align - 1);
        place[i] = size + 1;
        size += sh[i].sh_size;
        if (size > SJ_KIMAGE_MAX_BYTES) {
            refuse(why, why_len, "code larger than %u bytes", (unsigned)SJ_KIMAGE_MAX_BYTES);
            goto out;
        }
    }
    if (!symtab || sh[symtab].sh_entsize != sizeof(Elf64_Sym) || sh[symtab].sh_link >= nsec ||
        sh[sh[symtab].sh_link].sh_type != SHT_STRTAB) {
        refuse(why, why_len, "no usable symbol table");
        goto out;
    }
    const uint8_t *syms = obj + sh[symtab].sh_offset;
    size_t nsyms = (size_t)(sh[symtab].sh_size / sizeof(Elf64_Sym));
    const Elf64_Shdr *strtab = &sh[sh[symtab].sh_link];

    /* First pass over the relocations: every one known, every symbol resolvable; which C
     * library functions need a slot. */
    int slot_of[SJ_KSYM_COUNT] = {-1, -1, -1};
    int slot_sym[SJ_KIMAGE_MAX_SLOTS];
    unsigned nslots = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t r = 1; r < nsec; r++) {
            if (sh[r].sh_type == SHT_REL && sh[r].sh_info < nsec && place[sh[r].sh_info]) {
                refuse(why, why_len, "REL relocations (without addend)");
                goto out;
            }
            if (sh[r].sh_type != SHT_RELA || sh[r].sh_info >= nsec || !place[sh[r].sh_info])
                continue;
            if (sh[r].sh_entsize != sizeof(Elf64_Rela) || sh[r].sh_link != symtab) {
                refuse(why, why_len, "malformed relocation section");
                goto out;
            }
            const Elf64_Shdr *target = &sh[sh[r].sh_info];
            size_t nrel = (size_t)(sh[r].sh_size / sizeof(Elf64_Rela));
            for (size_t j = 0; j < nrel; j++) {
                Elf64_Rela rel;
                memcpy(&rel, obj + sh[r].sh_offset + j * sizeof rel, sizeof rel);
                uint32_t type = (uint32_t)ELF64_R_TYPE(rel.r_info);
                size_t si = (size_t)ELF64_R_SYM(rel.r_info);
                if (si == 0 || si >= nsyms || rel.r_offset > target->sh_size ||
                    target->sh_size - rel.r_offset < 4) {
                    refuse(why, why_len, "relocation out of range");
                    goto out;
                }
                bool got = type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX ||
                           type == R_X86_64_REX_GOTPCRELX;
                if (!got && type != R_X86_64_PC32 && type != R_X86_64_PLT32) {
                    refuse(why, why_len, "relocation type %u", type);
                    goto out;
                }
                Elf64_Sym sym;
                memcpy(&sym, syms + si * sizeof sym, sizeof sym);
                int64_t s_addr;
                if (sym.st_shndx == SHN_UNDEF) {
                    const char *name = str_at(obj, strtab, sym.st_name);
                    int k = name ? ksym_of(name) : -1;
                    if (k < 0) {
                        refuse(why, why_len, "call to %s", name ? name : "an unnamed symbol");
                        goto out;
                    }
                    if (pass == 0) {
                        if (slot_of[k] < 0) {
                            slot_sym[nslots] = k;
                            slot_of[k] = (int)nslots++;
                        }
                        continue;
                    }
                    /* slots after the stubs: stub i at stubs + 8i, slot i at slots + 8i */
                    uint64_t stubs = (size + 15) & ~(uint64_t)15;
                    uint64_t slots = stubs + 8u * nslots;
                    s_addr = (int64_t)((got ? slots : stubs) + 8u * (unsigned)slot_of[k]);
                } else if (sym.st_shndx < nsec && place[sym.st_shndx] && !got &&
                           sym.st_value <= sh[sym.st_shndx].sh_size) {
                    if (pass == 0) continue;
                    s_addr = (int64_t)(place[sym.st_shndx] - 1 + sym.st_value);
                } else {
                    refuse(why, why_len, "relocation against a symbol outside the image");
                    goto out;
                }
                int64_t p_addr = (int64_t)(place[sh[r].sh_info] - 1 + rel.r_offset);
                int64_t v = s_addr + rel.r_addend - p_addr;
                if (v < INT32_MIN || v > INT32_MAX) {
                    refuse(why, why_len, "PC-relative displacement out of range");
                    goto out;
                }
                put32(base + p_addr, (uint32_t)(int32_t)v);
            }
        }
        if (pass == 0) { /* copy the sections, then apply the relocations in pass 1 */
            uint64_t stubs = (size + 15) & ~(uint64_t)15;
            uint64_t total = stubs + 16u * nslots;
            img = malloc(sizeof(sj_kimage_hdr) + total);
            if (!img) {
                refuse(why, why_len, "out of memory");
                goto out;
            }
            sj_kimage_hdr hdr = {SJ_KIMAGE_MAGIC, (uint32_t)total, 0, nslots, {0}, {0}};
            base = img + sizeof hdr;
            memset(base, 0xcc, total); /* int3 between sections */
            for (size_t i = 1; i < nsec; i++)
                if (place[i]) memcpy(base + place[i] - 1, obj + sh[i].sh_offset, sh[i].sh_size);
            for (unsigned i = 0; i < nslots; i++) {
                uint64_t stub = stubs + 8u * i, slot = stubs + 8u * nslots + 8u * i;
                base[stub] = 0xff; /* jmp *rel32(%rip) */
                base[stub + 1] = 0x25;
                put32(base + stub + 2, (uint32_t)(int32_t)(int64_t)(slot - (stub + 6)));
                memset(base + slot, 0, 8);
                hdr.slot_off[i] = (uint32_t)slot;
                hdr.slot_sym[i] = (uint32_t)slot_sym[i];
            }
            memcpy(img, &hdr, sizeof hdr);
        }
    }

    /* The entry point: the kernel's function, defined in the image. */
    sj_kimage_hdr hdr;
    memcpy(&hdr, img, sizeof hdr);
    bool found = false;
    for (size_t si = 1; si < nsyms && !found; si++) {
        Elf64_Sym sym;
        memcpy(&sym, syms + si * sizeof sym, sizeof sym);
        const char *name = str_at(obj, strtab, sym.st_name);
        if (!name || strcmp(name, entry_name) != 0 || ELF64_ST_TYPE(sym.st_info) != STT_FUNC ||
            sym.st_shndx >= nsec || !place[sym.st_shndx] ||
            sym.st_value >= sh[sym.st_shndx].sh_size)
            continue;
        hdr.entry = (uint32_t)(place[sym.st_shndx] - 1 + sym.st_value);
        found = true;
    }
    if (!found) {
        refuse(why, why_len, "no function %s in the image", entry_name);
        goto out;
    }
    memcpy(img, &hdr, sizeof hdr);
    *out = img;
    *out_len = sizeof hdr + hdr.size;
    img = NULL;
    rc = 0;
out:
    free(img);
    free(sh);
    free(place);
    return rc;
}

#else

int sj_image_build(const uint8_t *obj, size_t len, const char *entry_name, uint8_t **out,
                   size_t *out_len, char *why, size_t why_len) {
    (void)obj;
    (void)len;
    (void)entry_name;
    *out = NULL;
    *out_len = 0;
    if (why && why_len) snprintf(why, why_len, "kernels are persisted on x86-64 Linux only");
    return -1;
}

#endif
