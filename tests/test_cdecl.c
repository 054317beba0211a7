/* tests/test_cdecl.c: the C-like description language (SEMANTICS 2.8): the example of 2.8,
 * offsets and sizes checked against the same structs compiled by the C compiler, every
 * accepted type name against sizeof/_Alignof, packed and aligned rules, and errors with
 * line:column. The canonical form is tested in test_text.c. */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "segjit/layout.h"

#include "builders.h"

static sj_layout *parse_c(const char *text) {
    return parsed_by(sj_layout_parse_c, "parse_c", text);
}

/* parse_c(text) prints as `printed`, and that text parses back to the same layout. */
static void check_c(const char *text, const char *printed) {
    sj_layout *l = parse_c(text);
    char *s = print_ok(l);
    if (strcmp(s, printed) != 0) fail_msg("parse_c '%s' printed\n%s\nwant\n%s", text, s, printed);
    sj_layout *back = NULL;
    assert_int_equal(sj_layout_parse(s, &back, NULL), SJ_OK);
    assert_true(sj_layout_equal(l, back));
    sj_layout_unref(back);
    free(s);
    sj_layout_unref(l);
}

static void check_error(const char *text, sj_status status, const char *message) {
    parse_fails_with(sj_layout_parse_c, "parse_c", text, status, message);
}

/* Index of the first member called name; fails the test when there is none. */
static size_t member(const sj_layout *g, const char *name) {
    for (size_t i = 0; i < sj_layout_member_count(g); i++) {
        const char *n = sj_layout_name(sj_layout_member(g, i));
        if (n && strcmp(n, name) == 0) return i;
    }
    fail_msg("no member '%s'", name);
    return 0;
}

static uint64_t offset_of(const sj_layout *g, const char *name) {
    return sj_layout_member_offset(g, member(g, name));
}

static const sj_layout *field(const sj_layout *g, const char *name) {
    return sj_layout_member(g, member(g, name));
}

#define CHECK_FIELD(l, ctype, f)                                                                   \
    do {                                                                                           \
        assert_int_equal(offset_of(l, #f), offsetof(ctype, f));                                    \
        assert_int_equal(sj_layout_size(field(l, #f)), sizeof(((ctype *)0)->f));                   \
    } while (0)

#define CHECK_STRUCT(l, ctype)                                                                     \
    do {                                                                                           \
        assert_int_equal(sj_layout_size(l), sizeof(ctype));                                        \
        assert_int_equal(sj_layout_align(l), alignof(ctype));                                      \
    } while (0)

/* ---- the example of SEMANTICS 2.8 ---- */

static const char *const particle_text = "struct particle {          /* C rules */\n"
                                         "    u32   id;\n"
                                         "    f64   pos[3];\n"
                                         "    be i16 charge;         /* per-field byte order */\n"
                                         "    f32   mass align(16);  /* explicit alignment */\n"
                                         "}\n";

struct c_particle {
    uint32_t id;
    double pos[3];
    int16_t charge;
    _Alignas(16) float mass;
};

static void test_particle(void **state) {
    (void)state;
    sj_layout *l = parse_c(particle_text);
    assert_int_equal(sj_layout_tag(l), SJ_STRUCT);
    assert_string_equal(sj_layout_name(l), "particle");
    /* By C rules: id 0..4, hole 4, pos 8..32, charge 32..34, hole 14, mass 48..52, tail 12. */
    assert_int_equal(offset_of(l, "id"), 0);
    assert_int_equal(offset_of(l, "pos"), 8);
    assert_int_equal(offset_of(l, "charge"), 32);
    assert_int_equal(offset_of(l, "mass"), 48);
    assert_int_equal(sj_layout_size(l), 64);
    assert_int_equal(sj_layout_align(l), 16);
    CHECK_FIELD(l, struct c_particle, id);
    CHECK_FIELD(l, struct c_particle, pos);
    CHECK_FIELD(l, struct c_particle, charge);
    CHECK_FIELD(l, struct c_particle, mass);
    CHECK_STRUCT(l, struct c_particle);
    const sj_layout *charge = field(l, "charge");
    assert_int_equal(sj_layout_kind(charge), SJ_I16);
    assert_int_equal(sj_layout_order(charge), SJ_ORDER_BIG);
    assert_int_equal(sj_layout_align(field(l, "mass")), 16);
    const sj_layout *pos = field(l, "pos");
    assert_int_equal(sj_layout_tag(pos), SJ_SEQUENCE);
    assert_int_equal(sj_layout_elem_count(pos), 3);
    assert_int_equal(sj_layout_kind(sj_layout_elem(pos)), SJ_F64);
    sj_layout_unref(l);
    check_c(particle_text, "[ui4(id)x4[3:d8](pos)S2(charge)x14 16%f4(mass)x12](particle)");
}

struct __attribute__((packed)) c_wire {
    uint16_t len;
    uint32_t seq;
    uint8_t flags;
};

static void test_packed_wire(void **state) {
    (void)state;
    const char *text = "packed struct wire { be u16 len; be u32 seq; u8 flags; }";
    sj_layout *l = parse_c(text);
    assert_int_equal(sj_layout_size(l), 7);
    assert_int_equal(sj_layout_align(l), 1);
    CHECK_FIELD(l, struct c_wire, len);
    CHECK_FIELD(l, struct c_wire, seq);
    CHECK_FIELD(l, struct c_wire, flags);
    CHECK_STRUCT(l, struct c_wire);
    assert_int_equal(sj_layout_order(field(l, "seq")), SJ_ORDER_BIG);
    sj_layout_unref(l);
    check_c(text, "[1%uS2(len)1%uI4(seq)ub1(flags)](wire)");
    /* The GCC spellings give the same layout. */
    check_c("struct __attribute__((packed)) wire { be u16 len; be u32 seq; u8 flags; };",
            "[1%uS2(len)1%uI4(seq)ub1(flags)](wire)");
    check_c("struct wire { be u16 len; be u32 seq; u8 flags; } __attribute__((__packed__));",
            "[1%uS2(len)1%uI4(seq)ub1(flags)](wire)");
}

static void test_union_value(void **state) {
    (void)state;
    check_c("union value { i64 i; f64 d; }", "[j8(i)|d8(d)](value)");
    sj_layout *l = parse_c("union value { i64 i; f64 d; }");
    assert_int_equal(sj_layout_tag(l), SJ_UNION);
    assert_int_equal(sj_layout_size(l), 8);
    assert_int_equal(sj_layout_align(l), 8);
    sj_layout_unref(l);
}

union c_tail {
    uint8_t a[5];
    uint32_t b;
};

static void test_union_tail_padding(void **state) {
    (void)state;
    /* Largest member 5, alignment 4: a padding member of the rounded size 8. */
    check_c("union tail { u8 a[5]; u32 b; }", "[[5:ub1](a)|ui4(b)|x8](tail)");
    sj_layout *l = parse_c("union tail { u8 a[5]; u32 b; }");
    CHECK_STRUCT(l, union c_tail);
    sj_layout_unref(l);
    check_c("packed union tail { u8 a[5]; u32 b; }", "[[5:ub1](a)|1%ui4(b)](tail)");
    check_c("union e {}", "[|](e)");
}

static void test_whole_example(void **state) {
    (void)state;
    const char *text =
        "struct particle {          /* C rules: padding inserted as a C compiler would,   */\n"
        "    u32   id;              /* tail padded to the struct alignment                */\n"
        "    f64   pos[3];\n"
        "    be i16 charge;         /* per-field byte order                               */\n"
        "    f32   mass align(16);  /* explicit alignment                                 */\n"
        "}\n"
        "packed struct wire { be u16 len; be u32 seq; u8 flags; }   /* align 1, no padding */\n"
        "union value { i64 i; f64 d; }\n"
        "particle[1000]             /* a sequence of them                                 */\n";
    sj_layout *l = parse_c(text);
    assert_int_equal(sj_layout_tag(l), SJ_SEQUENCE);
    assert_int_equal(sj_layout_elem_count(l), 1000);
    assert_int_equal(sj_layout_size(l), 64000);
    assert_int_equal(sj_layout_align(l), 16);
    sj_layout *p = parse_c(particle_text);
    assert_true(sj_layout_equal(sj_layout_elem(l), p));
    sj_layout_unref(p);
    sj_layout_unref(l);
    check_c("struct particle { u32 id; } particle[2]", "[2:[ui4(id)](particle)]");
    check_c("struct particle { u32 id; } struct particle[2][3];", "[2:[3:[ui4(id)](particle)]]");
}

/* ---- type names against the C compiler ---- */

static void test_c_type_names(void **state) {
    (void)state;
    static const struct {
        const char *type;
        sj_kind kind;
        size_t size, align;
    } cases[] = {
        {"char", SJ_I8, sizeof(char), alignof(char)},
        {"signed char", SJ_I8, sizeof(signed char), alignof(signed char)},
        {"unsigned char", SJ_U8, sizeof(unsigned char), alignof(unsigned char)},
        {"short", SJ_I16, sizeof(short), alignof(short)},
        {"short int", SJ_I16, sizeof(short int), alignof(short int)},
        {"signed short", SJ_I16, sizeof(signed short), alignof(signed short)},
        {"signed short int", SJ_I16, sizeof(short), alignof(short)},
        {"unsigned short", SJ_U16, sizeof(unsigned short), alignof(unsigned short)},
        {"unsigned short int", SJ_U16, sizeof(unsigned short), alignof(unsigned short)},
        {"int", SJ_I32, sizeof(int), alignof(int)},
        {"signed", SJ_I32, sizeof(signed), alignof(signed)},
        {"signed int", SJ_I32, sizeof(signed int), alignof(signed int)},
        {"unsigned", SJ_U32, sizeof(unsigned), alignof(unsigned)},
        {"unsigned int", SJ_U32, sizeof(unsigned int), alignof(unsigned int)},
        {"long", SJ_I64, sizeof(long), alignof(long)},
        {"long int", SJ_I64, sizeof(long int), alignof(long int)},
        {"signed long", SJ_I64, sizeof(signed long), alignof(signed long)},
        {"long long", SJ_I64, sizeof(long long), alignof(long long)},
        {"long long int", SJ_I64, sizeof(long long int), alignof(long long int)},
        {"unsigned long", SJ_U64, sizeof(unsigned long), alignof(unsigned long)},
        {"unsigned long long", SJ_U64, sizeof(unsigned long long), alignof(unsigned long long)},
        {"unsigned long long int", SJ_U64, sizeof(unsigned long long), alignof(unsigned long long)},
        {"long unsigned", SJ_U64, sizeof(long unsigned), alignof(long unsigned)},
        {"float", SJ_F32, sizeof(float), alignof(float)},
        {"double", SJ_F64, sizeof(double), alignof(double)},
        {"_Bool", SJ_BOOL, sizeof(_Bool), alignof(_Bool)},
        {"bool", SJ_BOOL, sizeof(bool), alignof(bool)},
        {"char16_t", SJ_CHAR, sizeof(uint_least16_t), alignof(uint_least16_t)},
        {"size_t", SJ_U64, sizeof(size_t), alignof(size_t)},
        {"ssize_t", SJ_I64, sizeof(ptrdiff_t), alignof(ptrdiff_t)},
        {"intptr_t", SJ_I64, sizeof(intptr_t), alignof(intptr_t)},
        {"uintptr_t", SJ_U64, sizeof(uintptr_t), alignof(uintptr_t)},
        {"ptrdiff_t", SJ_I64, sizeof(ptrdiff_t), alignof(ptrdiff_t)},
        {"int8_t", SJ_I8, sizeof(int8_t), alignof(int8_t)},
        {"int16_t", SJ_I16, sizeof(int16_t), alignof(int16_t)},
        {"int32_t", SJ_I32, sizeof(int32_t), alignof(int32_t)},
        {"int64_t", SJ_I64, sizeof(int64_t), alignof(int64_t)},
        {"uint8_t", SJ_U8, sizeof(uint8_t), alignof(uint8_t)},
        {"uint16_t", SJ_U16, sizeof(uint16_t), alignof(uint16_t)},
        {"uint32_t", SJ_U32, sizeof(uint32_t), alignof(uint32_t)},
        {"uint64_t", SJ_U64, sizeof(uint64_t), alignof(uint64_t)},
        {"void *", SJ_ADDR, sizeof(void *), alignof(void *)},
        {"char *", SJ_ADDR, sizeof(char *), alignof(char *)},
        {"const char *const", SJ_ADDR, sizeof(char *), alignof(char *)},
        {"double **", SJ_ADDR, sizeof(double **), alignof(double **)},
        {"const int", SJ_I32, sizeof(const int), alignof(const int)},
        {"volatile unsigned", SJ_U32, sizeof(unsigned), alignof(unsigned)},
        {"int const", SJ_I32, sizeof(int), alignof(int)},
        /* The bit-width names. */
        {"i8", SJ_I8, 1, 1},
        {"i16", SJ_I16, 2, 2},
        {"i32", SJ_I32, 4, 4},
        {"i64", SJ_I64, 8, 8},
        {"u8", SJ_U8, 1, 1},
        {"u16", SJ_U16, 2, 2},
        {"u32", SJ_U32, 4, 4},
        {"u64", SJ_U64, 8, 8},
        {"f32", SJ_F32, 4, 4},
        {"f64", SJ_F64, 8, 8},
        {"ptr", SJ_ADDR, sizeof(void *), alignof(void *)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "struct t { char c; %s f; }", cases[i].type);
        sj_layout *l = parse_c(text);
        const sj_layout *f = field(l, "f");
        if (sj_layout_kind(f) != cases[i].kind || sj_layout_size(f) != cases[i].size ||
            sj_layout_align(f) != cases[i].align || offset_of(l, "f") != cases[i].align)
            fail_msg("%s: kind %d size %d align %d offset %d", cases[i].type,
                     (int)sj_layout_kind(f), (int)sj_layout_size(f), (int)sj_layout_align(f),
                     (int)offset_of(l, "f"));
        assert_int_equal(sj_layout_order(f), sj_native_order());
        sj_layout_unref(l);
    }
    /* As a final type too. */
    check_c("unsigned long long", sj_native_order() == SJ_ORDER_BIG ? "uJ8" : "uj8");
    const char *addr = sj_native_order() == SJ_ORDER_BIG ? "A8" : "a8";
    check_c("void *", addr);
    check_c("void*", addr);
    check_c("const char *const", addr);
    check_c("double **", addr);
    check_c("be void *", "A8");
    char two[16];
    snprintf(two, sizeof two, "[2:%s]", addr);
    check_c("void *[2]", two);
    check_c("be u32", "uI4");
    check_c("le i16[2]", "[2:s2]");
}

/* ---- C layout rules against the compiler ---- */

struct c_inner {
    uint16_t x;
    uint8_t y;
};

struct c_mixed {
    char a;
    struct c_inner in;
    double d;
    int16_t s[3];
    union {
        uint32_t q;
        float r;
    } u;
    uint8_t tail;
};

static const char *const inner_text = "struct inner { u16 x; u8 y; }\n";

static void test_mixed_struct(void **state) {
    (void)state;
    char text[512];
    snprintf(text, sizeof text,
             "%s struct mixed { char a; inner in; double d; i16 s[3];\n"
             "  union { u32 q; f32 r; } u; u8 tail; }",
             inner_text);
    sj_layout *l = parse_c(text);
    CHECK_FIELD(l, struct c_mixed, a);
    CHECK_FIELD(l, struct c_mixed, in);
    CHECK_FIELD(l, struct c_mixed, d);
    CHECK_FIELD(l, struct c_mixed, s);
    CHECK_FIELD(l, struct c_mixed, u);
    CHECK_FIELD(l, struct c_mixed, tail);
    CHECK_STRUCT(l, struct c_mixed);
    CHECK_STRUCT(field(l, "in"), struct c_inner);
    sj_layout_unref(l);
    check_c(text, "[b1(a)x1[us2(x)ub1(y)x1](in)x2d8(d)[3:s2](s)x2[ui4(q)|f4(r)](u)ub1(tail)x3]"
                  "(mixed)");
    /* `struct inner in;` means the same as `inner in;`. */
    snprintf(text, sizeof text, "%s struct o { struct inner in; }", inner_text);
    check_c(text, "[[us2(x)ub1(y)x1](in)](o)");
}

struct __attribute__((packed)) c_pk {
    uint8_t a;
    struct c_inner in;
    uint32_t z;
    uint16_t arr[2];
};

static void test_packed_nested(void **state) {
    (void)state;
    char text[256];
    snprintf(text, sizeof text, "%s packed struct pk { u8 a; inner in; u32 z; u16 arr[2]; }",
             inner_text);
    sj_layout *l = parse_c(text);
    CHECK_FIELD(l, struct c_pk, a);
    CHECK_FIELD(l, struct c_pk, in);
    CHECK_FIELD(l, struct c_pk, z);
    CHECK_FIELD(l, struct c_pk, arr);
    CHECK_STRUCT(l, struct c_pk);
    /* The nested struct is rebuilt with alignment 1; its padding stays. */
    assert_int_equal(sj_layout_align(field(l, "in")), 1);
    assert_int_equal(sj_layout_size(field(l, "in")), 4);
    sj_layout_unref(l);
    check_c(text, "[ub1(a)[1%us2(x)ub1(y)x1](in)1%ui4(z)[2:1%us2](arr)](pk)");
}

struct __attribute__((packed)) c_pa {
    uint8_t a;
    uint32_t b __attribute__((aligned(4)));
    uint8_t c;
};

struct __attribute__((aligned(32))) c_al {
    uint32_t a;
};

struct c_as {
    char a;
    _Alignas(8) int b;
    char c;
};

static void test_alignment_rules(void **state) {
    (void)state;
    /* align(N) still applies in a packed struct, with padding before the field. */
    sj_layout *l = parse_c("packed struct pa { u8 a; u32 b align(4); u8 c; }");
    CHECK_FIELD(l, struct c_pa, a);
    CHECK_FIELD(l, struct c_pa, b);
    CHECK_FIELD(l, struct c_pa, c);
    CHECK_STRUCT(l, struct c_pa);
    sj_layout_unref(l);
    check_c("packed struct pa { u8 a; u32 b align(4); u8 c; }", "[ub1(a)x3ui4(b)ub1(c)x3](pa)");
    check_c("packed struct pa { u8 a; u32 b __attribute__((aligned(4))); u8 c; }",
            "[ub1(a)x3ui4(b)ub1(c)x3](pa)");
    /* Alignment on the whole struct. */
    l = parse_c("struct al { u32 a; } __attribute__((aligned(32)))");
    CHECK_STRUCT(l, struct c_al);
    sj_layout_unref(l);
    check_c("struct al { u32 a; } align(32)", "32%[ui4(a)x28](al)");
    check_c("struct __attribute__((aligned(32))) al { u32 a; }", "32%[ui4(a)x28](al)");
    /* alignas before the type. */
    l = parse_c("struct as { char a; alignas(8) int b; char c; }");
    CHECK_FIELD(l, struct c_as, a);
    CHECK_FIELD(l, struct c_as, b);
    CHECK_FIELD(l, struct c_as, c);
    CHECK_STRUCT(l, struct c_as);
    sj_layout_unref(l);
    check_c("struct as { char a; _Alignas(8) int b; char c; }", "[b1(a)x7 8%i4(b)b1(c)x3](as)");
    /* An enum is its integer, int (i4); an enum definition alone declares no field. */
    check_c("enum e { A, B = -2, C = 1 << 3 }; struct s { enum e x; u8 y; enum { P } z; enum f { Q "
            "}; }",
            "[i4(x)ub1(y)x3i4(z)](s)");
    check_c("typedef enum { X, Y } col_t; struct s { col_t c; }", "[i4(c)](s)");
    /* `char name[N]` is text: the element is named "char"; signed and unsigned char are not. */
    check_c("struct t { char name[4]; signed char s[2]; unsigned char u[2]; char m[2][3]; }",
            "[[4:b1(char)](name)[2:b1](s)[2:ub1](u)[2:[3:b1(char)]](m)](t)");
    /* align(N) equal to the natural alignment changes nothing; larger ones add up. */
    check_c("struct e { u32 a align(4); }", "[ui4(a)](e)");
    check_c("struct e { alignas(4) u32 a align(8); }", "[8%ui4(a)x4](e)");
    /* align on an array field applies to the array. */
    check_c("struct e { u8 a; u16 b[2] align(8); }", "[ub1(a)x7 8%[2:us2](b)x4](e)");
    /* Empty struct. */
    check_c("struct e {}", "[](e)");
    check_c("struct e {} align(8)", "8%[](e)");
}

/* ---- declarations ---- */

struct c_node {
    struct c_node *next;
    uint32_t v;
};

static void test_declarations(void **state) {
    (void)state;
    /* Self reference through a pointer; forward declaration. */
    check_c("struct node { struct node *next; u32 v; }", "[a8(next)ui4(v)x4](node)");
    check_c("struct node; struct node { struct node *next; u32 v; };", "[a8(next)ui4(v)x4](node)");
    sj_layout *l = parse_c("struct node { struct node *next; u32 v; }");
    CHECK_STRUCT(l, struct c_node);
    sj_layout_unref(l);
    /* Several declarators, pointers among them. */
    check_c("struct md { u8 a, b; u32 *p, q; }", "[ub1(a)ub1(b)x6a8(p)ui4(q)x4](md)");
    /* Multi-dimensional arrays. */
    check_c("struct m { f64 m[3][4]; }", "[[3:[4:d8]](m)](m)");
    check_c("struct m { u8 z[0]; u32 a; }", "[[0:ub1](z)ui4(a)](m)");
    /* Byte order on arrays applies to the elements. */
    check_c("struct b { be u32 a[2]; le u16 c; be void *p; }", "[[2:uI4](a)us2(c)x6A8(p)](b)");
    /* Anonymous and inline nested groups. */
    check_c("struct s { u8 kind; union { u32 i; f32 f; }; }", "[ub1(kind)x3[ui4(i)|f4(f)]](s)");
    check_c("struct s { struct { u8 a; u16 b; } h; u8 c; }", "[[ub1(a)x1us2(b)](h)ub1(c)x1](s)");
    check_c("struct s { struct h { u8 a; } x; h y; }", "[[ub1(a)](x)[ub1(a)](y)](s)");
    check_c("struct s { struct h { u8 a; }; u8 b; }", "[ub1(b)](s)"); /* declares h only */
    check_c("struct s { packed struct { u8 a; u32 b; } h; u8 c; }",
            "[[ub1(a)1%ui4(b)](h)ub1(c)](s)");
    /* Types declared earlier, by name or with the keyword. */
    check_c("struct a { u8 x; } union b { a p; struct a q; u16 r; }",
            "[[ub1(x)](p)|[ub1(x)](q)|us2(r)](b)");
    /* Typedefs. */
    check_c("typedef struct { u8 a; u32 b; } pair_t;", "[ub1(a)x3ui4(b)](pair_t)");
    check_c("typedef struct pair { u8 a; u32 b; } pair;", "[ub1(a)x3ui4(b)](pair)");
    check_c("typedef u32 handle; typedef handle hs[2]; struct s { handle h; hs x; }",
            "[ui4(h)[2:ui4](x)](s)");
    check_c("typedef struct { u8 a; } t; struct s { t x; t *p; }", "[[ub1(a)](x)x7a8(p)](s)");
    /* Comments and line breaks anywhere. */
    check_c("// leading\nstruct /* c */ c { // x\n u8 /**/ a; /* b */ }\n// trailing",
            "[ub1(a)](c)");
    /* The result: the final type, else the last struct or union. */
    check_c("struct a { u8 x; } struct b { u16 y; }", "[us2(y)](b)");
    check_c("struct a { u8 x; } struct b { u16 y; } a", "[ub1(x)](a)");
    check_c("struct a { u8 x; }; a[2][3];", "[2:[3:[ub1(x)](a)]]");
    check_c("u32", sj_native_order() == SJ_ORDER_BIG ? "uI4" : "ui4");
    check_c("struct { u8 x; }", "[ub1(x)]");
    /* Field names that are words of the language elsewhere. */
    check_c("struct w { u8 be, le, packed, align, ptr; }",
            "[ub1(be)ub1(le)ub1(packed)ub1(align)ub1(ptr)](w)");
    check_c("struct hex { u8 a[0x10]; u8 b[0X0]; }", "[[16:ub1](a)[0:ub1](b)](hex)");
}

static void test_parse_auto_c(void **state) {
    (void)state;
    sj_layout *a = NULL, *c = NULL;
    assert_int_equal(sj_layout_parse_auto(particle_text, &a, NULL), SJ_OK);
    c = parse_c(particle_text);
    assert_true(sj_layout_equal(a, c));
    sj_layout_unref(a);
    sj_layout_unref(c);
}

/* ---- table ---- */

static void test_table(void **state) {
    (void)state;
    sj_layout *l = parse_c(particle_text);
    char *s = NULL;
    assert_int_equal(sj_layout_table(l, &s, NULL), SJ_OK);
    assert_string_equal(s, "struct particle: size 64, align 16\n"
                           "offset  size  align  name    type\n"
                           "     0     4      4  id      ui4\n"
                           "     4     4         /* XXX 4 bytes hole */\n"
                           "     8    24      8  pos     [3:d8]\n"
                           "    32     2      2  charge  S2\n"
                           "    34    14         /* XXX 14 bytes hole */\n"
                           "    48     4     16  mass    16%f4\n"
                           "    52    12         /* XXX 12 bytes hole */\n"
                           "size: 64, align: 16, members: 4, holes: 3, sum holes: 30\n");
    free(s);
    sj_layout_unref(l);

    l = parse_c("struct h { u8 a; struct { u16 x; u8 y; } in; union { u32 q; f32 r; }; u64 z;\n"
                "  u8 name_that_is_quite_long[3]; f64 m[100][100][100]; }");
    assert_int_equal(sj_layout_table(l, &s, NULL), SJ_OK);
    assert_string_equal(s, "struct h: size 8000032, align 8\n"
                           "offset     size  align  name                     type\n"
                           "     0        1      1  a                        ub1\n"
                           "     1        1         /* XXX 1 byte hole */\n"
                           "     2        4      2  in                       struct\n"
                           "     2        2      2    x                      us2\n"
                           "     4        1      1    y                      ub1\n"
                           "     5        1           /* XXX 1 byte hole */\n"
                           "     6        2         /* XXX 2 bytes hole */\n"
                           "     8        4      4  #4                       union\n"
                           "     8        4      4    q                      ui4\n"
                           "     8        4      4    r                      f4\n"
                           "    12        4         /* XXX 4 bytes hole */\n"
                           "    16        8      8  z                        uj8\n"
                           "    24        3      1  name_that_is_quite_long  [3:ub1]\n"
                           "    27        5         /* XXX 5 bytes hole */\n"
                           "    32  8000000      8  m                        [100:[100:[100:d8]]]\n"
                           "size: 8000032, align: 8, members: 6, holes: 4, sum holes: 12\n");
    free(s);
    sj_layout_unref(l);
}

/* ---- errors ---- */

/* Structs and unions of many fields (checked for duplicates through an index): every
 * field kept in order, an anonymous member among them no duplicate, a repeated name
 * found where it is written. */
static void test_wide_fields(void **state) {
    (void)state;
    enum { N = 60 };
    char text[N * 16 + 128], want[64];
    for (int is_union = 0; is_union < 2; is_union++) {
        size_t n = (size_t)sprintf(text, "%s w {", is_union ? "union" : "struct");
        for (int i = 0; i < N; i++) {
            if (i == 30) n += (size_t)sprintf(text + n, " struct { u8 a; u8 b; };");
            n += (size_t)sprintf(text + n, " u32 f%d;", i);
        }
        sprintf(text + n, " }");
        sj_layout *l = parse_c(text);
        size_t last = 0;
        for (int i = 0; i < N; i++) {
            char name[16];
            snprintf(name, sizeof name, "f%d", i);
            size_t k = member(l, name);
            if (i) assert_true(k > last); /* in order, the anonymous member (and padding) between */
            if (i == 30) assert_true(k >= last + 2);
            last = k;
        }
        sj_layout_unref(l);
        /* the same text with f17 written again at the end */
        sprintf(text + n, " u16 f17; }");
        const char *dup = strstr(text + n, "f17");
        snprintf(want, sizeof want, "1:%zu: duplicate field 'f17'", (size_t)(dup - text) + 1);
        check_error(text, SJ_E_PARSE, want);
    }
}

/* A packed struct over a type that shares its parts (each level two of the level below,
 * 40 deep: 2^40 paths to the innermost int) is packed once per distinct part. */
static void test_packed_shared(void **state) {
    (void)state;
    char text[4096];
    size_t n = (size_t)sprintf(text, "struct s0 { int v; };");
    for (int i = 1; i <= 40; i++)
        n += (size_t)sprintf(text + n, " struct s%d { struct s%d a; struct s%d b; };", i, i - 1,
                             i - 1);
    sprintf(text + n, " packed struct top { char c; struct s40 x; };");
    sj_layout *l = parse_c(text);
    assert_int_equal(sj_layout_size(l), 1 + (UINT64_C(4) << 40));
    assert_int_equal(sj_layout_align(l), 1);
    const sj_layout *x = sj_layout_member(l, member(l, "x"));
    assert_int_equal(sj_layout_member_offset(l, member(l, "x")), 1);
    for (int i = 0; i < 40; i++) { /* every level packed, its name kept */
        assert_int_equal(sj_layout_align(x), 1);
        assert_true(sj_layout_has_natural_align(x));
        x = sj_layout_member(x, 1);
        assert_string_equal(sj_layout_name(x), "b");
    }
    assert_int_equal(sj_layout_align(sj_layout_member(x, 0)), 1);
    sj_layout_unref(l);
}

/* Many declared types (looked up through an index): each found by its name, a chain of
 * typedefs resolved, a name declared again refused where it is written. */
static void test_many_types(void **state) {
    (void)state;
    enum { T = 300 };
    char *text = malloc(T * 64 + 256);
    size_t n = (size_t)sprintf(text, "struct s0 { i32 v; }; typedef struct s0 t0;");
    for (int i = 1; i < T; i++)
        n += (size_t)sprintf(text + n, " struct s%d { t%d p; u8 x; }; typedef struct s%d t%d;", i,
                             i - 1, i, i);
    sprintf(text + n, " struct top { t%d last; struct s0 first; t150 mid; }", T - 1);
    sj_layout *l = parse_c(text);
    assert_int_equal(sj_layout_member_count(l), 3);
    const sj_layout *mid = sj_layout_member(l, 2);
    for (int i = 150; i > 0; i--)
        mid = sj_layout_member(mid, 0); /* down the p chain to s0 */
    assert_string_equal(sj_layout_name(sj_layout_member(mid, 0)), "v");
    sj_layout_unref(l);
    sprintf(text + n, " union t7 { i32 a; }; struct top { t1 a; }");
    char want[64];
    snprintf(want, sizeof want, "1:%zu: type 't7' is already declared",
             (size_t)(strstr(text + n, "t7") - text) + 1);
    check_error(text, SJ_E_PARSE, want);
    free(text);
}

static void test_errors(void **state) {
    (void)state;
    check_error("", SJ_E_PARSE, "1:1: expected a declaration or a type, found end of text");
    check_error("  // nothing\n", SJ_E_PARSE,
                "2:1: expected a declaration or a type, found end of text");
    check_error("struct a;", SJ_E_PARSE,
                "1:10: expected a declaration or a type, found end of text");
    check_error("struct p { u32 id; f64 mass }", SJ_E_PARSE,
                "1:29: expected ';' after field 'mass', found '}'");
    check_error("struct p {\n  u32 id;\n  f64 mass\n}", SJ_E_PARSE,
                "4:1: expected ';' after field 'mass', found '}'");
    check_error("struct p {\n  u32 id;\n  foo x;\n}", SJ_E_PARSE, "3:3: unknown type 'foo'");
    check_error("struct p { struct q x; }", SJ_E_PARSE, "1:12: unknown type 'struct q'");
    check_error("struct p { u8 x; ", SJ_E_PARSE,
                "1:18: expected a field or '}', found end of text");
    check_error("struct p u8 x; }", SJ_E_PARSE, "1:1: unknown type 'struct p'");
    check_error("struct p { u8 a; } struct p u8 x; }", SJ_E_PARSE,
                "1:29: expected end of text after the final type 'struct p', found 'u8'");
    check_error("struct { u8 }", SJ_E_PARSE, "1:13: expected a field name, found '}'");
    check_error("struct { u8 int; }", SJ_E_PARSE, "1:13: expected a field name, found 'int'");
    check_error("struct { 5 x; }", SJ_E_PARSE, "1:10: expected a type, found '5'");
    check_error("struct a { u8 x; } struct a { u8 y; }", SJ_E_PARSE,
                "1:27: type 'a' is already declared");
    check_error("struct a { u8 x; } union a { u8 y; }", SJ_E_PARSE,
                "1:26: type 'a' is already declared");
    check_error("typedef u8 a; typedef u16 a;", SJ_E_PARSE,
                "1:27: type 'a' is already declared (as a typedef)");
    check_error("struct u32 { u8 x; }", SJ_E_PARSE,
                "1:8: 'u32' is a reserved word, not a type name");
    check_error("struct a { u8 x; } union a", SJ_E_PARSE, "1:26: 'a' is a struct, not a union");
    check_error("struct a { u8 x; } struct b { be a y; }", SJ_E_PARSE,
                "1:31: byte order applies to scalar fields, not to 'a'");
    check_error("struct b { be struct { u8 x; }; }", SJ_E_PARSE,
                "1:12: byte order applies to scalar fields, not to a struct");
    check_error("struct b { be le u8 x; }", SJ_E_PARSE, "1:15: byte order given twice");
    check_error("struct a { u32 x align(2); }", SJ_E_ARG,
                "1:24: align(2) is less than the natural alignment 4 of field 'x'");
    check_error("struct a { u32 x align(3); }", SJ_E_ARG,
                "1:24: align(3): not a power of two up to 2^62");
    check_error("struct a { u32 x align(0); }", SJ_E_ARG,
                "1:24: align(0): not a power of two up to 2^62");
    check_error("struct a { u32 x align 4; }", SJ_E_PARSE,
                "1:24: expected '(' after 'align', found '4'");
    check_error("struct a { u32 x; } align(2)", SJ_E_ARG,
                "1:27: align(2) is less than the natural alignment 4 of struct a");
    check_error("struct a { u8 x[-1]; }", SJ_E_PARSE, "1:17: expected an array size, found '-'");
    check_error("struct a { u8 x[]; }", SJ_E_PARSE, "1:17: expected an array size, found ']'");
    check_error("struct a { u8 x[n]; }", SJ_E_PARSE, "1:17: expected an array size, found 'n'");
    check_error("struct a { u8 x[2; }", SJ_E_PARSE,
                "1:18: expected ']' after the array size, found ';'");
    check_error("struct a { u8 x[12ab]; }", SJ_E_PARSE, "1:17: malformed number '12ab'");
    check_error("struct a { u8 x[99999999999999999999]; }", SJ_E_PARSE,
                "1:17: number 99999999999999999999 is too large");
    check_error("struct a { u32 x : 3; }", SJ_E_PARSE,
                "1:18: bit-fields are not supported (field 'x')");
    check_error("struct a { /* x }", SJ_E_PARSE, "1:12: comment opened here is not closed");
    check_error("struct a { long double x; }", SJ_E_PARSE, "1:12: unsupported type 'long double'");
    check_error("struct a { unsigned float x; }", SJ_E_PARSE,
                "1:12: invalid type 'unsigned float'");
    check_error("struct a { long long long x; }", SJ_E_PARSE,
                "1:12: invalid type 'long long long'");
    check_error("struct a { short char x; }", SJ_E_PARSE, "1:12: invalid type 'short char'");
    check_error("struct a { void x; }", SJ_E_PARSE, "1:12: 'void' is only allowed as 'void *'");
    check_error("void", SJ_E_PARSE, "1:1: 'void' is only allowed as 'void *'");
    check_error("void [2]", SJ_E_PARSE, "1:1: 'void' is only allowed as 'void *'");
    check_error("struct a { u8 x; u16 x; }", SJ_E_PARSE, "1:22: duplicate field 'x'");
    check_error("struct a { u8 x; } a a", SJ_E_PARSE,
                "1:22: expected end of text after the final type 'a', found 'a'");
    check_error("#include <x.h>\nstruct a { u8 x; }", SJ_E_PARSE, "1:1: unexpected character '#'");
    check_error("struct a { u8 x; } \x80", SJ_E_PARSE, "1:20: unexpected byte 0x80");
    check_error("packed u32", SJ_E_PARSE,
                "1:8: expected 'struct' or 'union' after 'packed', found 'u32'");
    check_error("packed struct a;", SJ_E_PARSE, "1:16: expected '{' after 'struct a', found ';'");
    check_error("struct a { enum { A x; }", SJ_E_PARSE,
                "1:22: expected an enumerator or '}', found ';'");
    check_error("enum { A", SJ_E_PARSE, "1:6: '{' of the enum is not closed");
    check_error("struct a { enum ; }", SJ_E_PARSE,
                "1:17: expected a name or '{' after 'enum', found ';'");
    check_error("struct a { u8 x; } __attribute__((foo))", SJ_E_PARSE,
                "1:35: unsupported attribute 'foo'");
    check_error("struct a { u8 x; } be a", SJ_E_PARSE,
                "1:20: byte order applies to scalar fields, not to 'a'");
    check_error("struct a { u8 x; }\n\n   struct", SJ_E_PARSE,
                "3:10: expected a name or '{' after 'struct', found end of text");
}

static void test_overflow(void **state) {
    (void)state;
    check_error("struct a { u64 x[4611686018427387904]; }", SJ_E_OVERFLOW,
                "1:16: sequence layout: 4611686018427387904 elements of 8 bytes overflow 64 bits");
    check_error("struct a { u8 x[9223372036854775807]; u8 y; }", SJ_E_OVERFLOW,
                "1:42: struct size exceeds 2^63-1 bytes at field 'y'");
    check_error("struct a { u8 x[9223372036854775807]; } align(2)", SJ_E_OVERFLOW,
                "1:10: struct size exceeds 2^63-1 bytes");
    check_error("struct a { u8 x[2][4611686018427387904]; }", SJ_E_OVERFLOW,
                "1:15: sequence layout: 2 elements of 4611686018427387904 bytes overflow 64 bits");
}

static void test_depth_limit(void **state) {
    (void)state;
    enum { DEPTH = 300 };
    size_t cap = DEPTH * 24 + 64, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < DEPTH; i++)
        n += (size_t)snprintf(text + n, cap - n, "struct { ");
    n += (size_t)snprintf(text + n, cap - n, "u8 x; ");
    for (int i = 0; i < DEPTH; i++)
        n += (size_t)snprintf(text + n, cap - n, "} f; ");
    text[n - 4] = 0; /* the outermost needs no declarator */
    check_error(text, SJ_E_PARSE, "1:2312: structs nested deeper than 256 levels");
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_particle),        cmocka_unit_test(test_packed_wire),
        cmocka_unit_test(test_union_value),     cmocka_unit_test(test_union_tail_padding),
        cmocka_unit_test(test_whole_example),   cmocka_unit_test(test_c_type_names),
        cmocka_unit_test(test_mixed_struct),    cmocka_unit_test(test_packed_nested),
        cmocka_unit_test(test_alignment_rules), cmocka_unit_test(test_declarations),
        cmocka_unit_test(test_parse_auto_c),    cmocka_unit_test(test_table),
        cmocka_unit_test(test_errors),          cmocka_unit_test(test_wide_fields),
        cmocka_unit_test(test_packed_shared),   cmocka_unit_test(test_many_types),
        cmocka_unit_test(test_overflow),        cmocka_unit_test(test_depth_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
