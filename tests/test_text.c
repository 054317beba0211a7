/* tests/test_text.c: the canonical text form (SEMANTICS 2.7): printing of every layout kind,
 * names, alignment prefixes, the examples of 2.7, parse errors with line:column, and
 * sj_layout_parse_auto's dispatch. The description language is tested in test_cdecl.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "segjit/layout.h"

#include "builders.h"

/* ---- helpers (the builders are tests/builders.h's) ---- */

/* print(l) == text, parse(text) equals l with the same hash; consumes l. */
static void check_text(sj_layout *l, const char *text) {
    char *s = print_ok(l);
    assert_string_equal(s, text);
    free(s);
    sj_layout *back = parse_ok(text);
    assert_true(sj_layout_equal(l, back));
    assert_int_equal(sj_layout_hash(l), sj_layout_hash(back));
    sj_layout_unref(back);
    sj_layout_unref(l);
}

/* parse(text) prints as `printed` (whitespace dropped, canonical spelling). */
static void check_reprint(const char *text, const char *printed) {
    sj_layout *l = parse_ok(text);
    char *s = print_ok(l);
    assert_string_equal(s, printed);
    free(s);
    sj_layout_unref(l);
}

static void check_error(const char *text, sj_status status, const char *message) {
    parse_fails_with(sj_layout_parse, "parse", text, status, message);
}

/* ---- printing ---- */

static void test_values_both_orders(void **state) {
    (void)state;
    static const struct {
        sj_kind kind;
        const char *le, *be;
    } cases[] = {
        {SJ_BOOL, "z1", "Z1"}, {SJ_I8, "b1", "B1"},    {SJ_U8, "ub1", "uB1"},
        {SJ_CHAR, "c2", "C2"}, {SJ_I16, "s2", "S2"},   {SJ_U16, "us2", "uS2"},
        {SJ_I32, "i4", "I4"},  {SJ_U32, "ui4", "uI4"}, {SJ_F32, "f4", "F4"},
        {SJ_I64, "j8", "J8"},  {SJ_U64, "uj8", "uJ8"}, {SJ_F64, "d8", "D8"},
        {SJ_ADDR, "a8", "A8"},
    };
    assert_int_equal(sizeof cases / sizeof cases[0], SJ_KIND_COUNT);
    for (size_t i = 0; i < SJ_KIND_COUNT; i++) {
        check_text(ORD(VAL(cases[i].kind), SJ_ORDER_LITTLE), cases[i].le);
        check_text(ORD(VAL(cases[i].kind), SJ_ORDER_BIG), cases[i].be);
        sj_layout *l = parse_ok(cases[i].be);
        assert_int_equal(sj_layout_tag(l), SJ_VALUE);
        assert_int_equal(sj_layout_kind(l), cases[i].kind);
        assert_int_equal(sj_layout_order(l), SJ_ORDER_BIG);
        assert_int_equal(sj_layout_size(l), sj_kind_size(cases[i].kind));
        sj_layout_unref(l);
        l = parse_ok(cases[i].le);
        assert_int_equal(sj_layout_order(l), SJ_ORDER_LITTLE);
        sj_layout_unref(l);
    }
    /* Native order resolves to a concrete spelling. */
    check_text(VAL(SJ_I32), sj_native_order() == SJ_ORDER_BIG ? "I4" : "i4");
}

static void test_padding(void **state) {
    (void)state;
    check_text(PAD(1), "x1");
    check_text(PAD(4096), "x4096");
    check_text(PAD(INT64_MAX), "x9223372036854775807");
    sj_layout *l = parse_ok("x3");
    assert_int_equal(sj_layout_tag(l), SJ_PADDING);
    assert_int_equal(sj_layout_size(l), 3);
    assert_int_equal(sj_layout_align(l), 1);
    sj_layout_unref(l);
}

static void test_names(void **state) {
    (void)state;
    check_text(NAME(VAL(SJ_I64), "x"), sj_native_order() == SJ_ORDER_BIG ? "J8(x)" : "j8(x)");
    check_text(NAME(PAD(4), "gap"), "x4(gap)");
    check_text(NAME(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), "a)b\\c"), "i4(a\\)b\\\\c)");
    check_text(NAME(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), ")"), "i4(\\))");
    check_text(NAME(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), "\\"), "i4(\\\\)");
    check_text(NAME(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), "(("), "i4((()");
    check_text(NAME(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), " a b |%:[]\t\n"), "i4( a b |%:[]\t\n)");
    check_text(NAME(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), "struct union ; {"), "i4(struct union ; {)");
    check_text(NAME(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), "caf\xc3\xa9"), "i4(caf\xc3\xa9)");
    /* The empty name is a name, distinct from none. */
    sj_layout *empty = parse_ok("i4()"), *none = parse_ok("i4");
    assert_non_null(sj_layout_name(empty));
    assert_string_equal(sj_layout_name(empty), "");
    assert_null(sj_layout_name(none));
    assert_false(sj_layout_equal(empty, none));
    sj_layout_unref(empty);
    sj_layout_unref(none);
    check_text(NAME(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), ""), "i4()");
    /* Names on groups and sequences. */
    check_text(NAME(S(2, NAME(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), "a"),
                      NAME(ORD(VAL(SJ_I32), SJ_ORDER_BIG), "b")),
                    "pair"),
               "[i4(a)I4(b)](pair)");
    check_text(NAME(SEQ(3, NAME(ORD(VAL(SJ_F64), SJ_ORDER_LITTLE), "e")), "v"), "[3:d8(e)](v)");
    check_text(
        NAME(U(2, ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), ORD(VAL(SJ_F32), SJ_ORDER_LITTLE)), "u"),
        "[i4|f4](u)");
}

static void test_alignment_prefix(void **state) {
    (void)state;
    check_text(ALIGN(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), 16), "16%i4");
    check_text(ALIGN(ORD(VAL(SJ_I64), SJ_ORDER_LITTLE), 1), "1%j8");
    check_text(ALIGN(ORD(VAL(SJ_U16), SJ_ORDER_BIG), 1), "1%uS2");
    check_text(ALIGN(NAME(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), "x"), 8), "8%i4(x)");
    check_text(ALIGN(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), 4), "i4"); /* natural: no prefix */
    check_text(ALIGN(PAD(3), 2), "2%x3");
    check_text(ALIGN(PAD(1), 1), "x1");
    check_text(ALIGN(NAME(S(1, ORD(VAL(SJ_I32), SJ_ORDER_LITTLE)), "s"), 16), "16%[i4](s)");
    check_text(ALIGN(S(0), 8), "8%[]");
    check_text(ALIGN(U(0), 2), "2%[|]");
    check_text(ALIGN(SEQ(2, ORD(VAL(SJ_I32), SJ_ORDER_LITTLE)), 8), "8%[2:i4]");
    check_text(ALIGN(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), (int64_t)1 << 62),
               "4611686018427387904%i4");
    /* Prefixes inside groups, and on a sequence element. */
    check_text(S(2, ALIGN(ORD(VAL(SJ_I64), SJ_ORDER_LITTLE), 1),
                 ALIGN(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), 1)),
               "[1%j8 1%i4]");
    check_text(SEQ(2, ALIGN(ORD(VAL(SJ_I64), SJ_ORDER_LITTLE), 4)), "[2:4%j8]");
    check_text(U(2, ALIGN(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), 16), ALIGN(PAD(2), 8)),
               "[16%i4|8%x2]");
    /* A group's alignment is natural when it equals the largest member alignment. */
    check_text(
        S(2, ALIGN(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), 16), ORD(VAL(SJ_I32), SJ_ORDER_LITTLE)),
        "[16%i4i4]");
}

static void test_member_separation(void **state) {
    (void)state;
    /* A member ending in a digit followed by one with an alignment prefix: a space keeps the
     * numbers apart; without the space `x1416%f4` would read as x1416 and then '%'. */
    check_text(S(3, PAD(14), ALIGN(ORD(VAL(SJ_F32), SJ_ORDER_LITTLE), 2), PAD(2)), "[x14 2%f4x2]");
    check_text(S(2, ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), ALIGN(ORD(VAL(SJ_I16), SJ_ORDER_LITTLE), 4)),
               "[i4 4%s2]");
    check_text(S(2, NAME(PAD(4), "p"), ALIGN(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), 1)), "[x4(p)1%i4]");
    check_text(S(2, S(0), ALIGN(ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), 1)), "[[]1%i4]");
    /* Without the space (the JDK's toString): the padding that reaches the alignment, and
     * when no split aligns the member, the struct's error (test_jdk_padding_split). */
    check_reprint("[x1616%f4]", "[x16 16%f4]");
    check_error("[x1416%f4]", SJ_E_ARG,
                "1:5: struct layout: member #1 at offset 14 is not aligned to its alignment 16");
}

/* The JDK's own toString: alignments written right after a size, `*` for the largest
 * sequence (SEMANTICS 2.7). */
static void test_jdk_notation(void **state) {
    (void)state;
    check_reprint("[s22%i4]", "[s2 2%i4]");
    check_reprint("[x11%i4]", "[x1 1%i4]");
    check_reprint("[x88%j8]", "[x8j8]"); /* natural alignment: no prefix printed */
    check_reprint("[b11%s21%i4]", "[b1 1%s2 1%i4]");
    check_reprint("[i4(a)4%i4(b)]", "[i4(a)i4(b)]");
    check_reprint("[*:j8]", "[*:j8]");
    check_reprint("[*:[i4(a)i4(b)]]", "[*:[i4(a)i4(b)]]");
    /* the JDK prints `*` whenever the count is the largest that fits, 1 included */
    check_reprint("[1:x9223372036854775807]", "[*:x9223372036854775807]");
    check_reprint("[1:x4611686018427387904]", "[*:x4611686018427387904]");
    check_reprint("[1:x2305843009213693952]", "[1:x2305843009213693952]");
    check_reprint("[2:x2305843009213693952]", "[2:x2305843009213693952]");
    check_reprint("[9223372036854775807:[0:i4]]", "[*:[0:i4]]");
    sj_layout *l = parse_ok("[*:j8]");
    assert_int_equal(sj_layout_elem_count(l), INT64_MAX / 8);
    sj_layout_unref(l);
    /* a size that is neither the carrier's nor followed by an alignment */
    check_error("[i44]", SJ_E_PARSE, "1:3: expected size 4 after 'i', found 44");
    check_error("[s23%i4]", SJ_E_PARSE, "1:3: expected size 2 after 's', found 23");
    check_error("[*i4]", SJ_E_PARSE, "1:3: expected ':' after '[*', found 'i'");
}

/* The JDK's toString `text` (JDK 25) reads as the layout the JDK printed: parse prints it as
 * `printed`, with the JDK's size and alignment and, for a group, its members' offsets
 * (`offsets`, space separated; NULL for a sequence). */
static void check_jdk(const char *text, const char *printed, uint64_t size, uint64_t align,
                      const char *offsets) {
    check_reprint(text, printed);
    sj_layout *l = parse_ok(text);
    assert_int_equal(sj_layout_size(l), size);
    assert_int_equal(sj_layout_align(l), align);
    size_t n = 0;
    for (const char *o = offsets; o && *o; n++) {
        char *end;
        unsigned long long want = strtoull(o, &end, 10);
        assert_true(end > o && n < sj_layout_member_count(l));
        assert_int_equal(sj_layout_member_offset(l, n), want);
        o = end;
    }
    if (offsets) assert_int_equal(sj_layout_member_count(l), n);
    sj_layout_unref(l);
}

/* Padding then an alignment prefix, unseparated: the digits split where the padding reaches
 * the next member's alignment (README, "The JDK's unseparated notation"). Each text is what
 * JDK 25's MemoryLayout.toString printed, with the JDK's byteSize and byteAlignment. */
static void test_jdk_padding_split(void **state) {
    (void)state;
    /* structLayout(JAVA_INT.withByteAlignment(A), paddingLayout(A - 4), same int) */
    check_jdk("[128%i4x124128%i4]", "[128%i4x124 128%i4]", 132, 128, "0 4 128");
    check_jdk("[32%i4x2832%i4]", "[32%i4x28 32%i4]", 36, 32, "0 4 32");
    check_jdk("[64%i4x6064%i4]", "[64%i4x60 64%i4]", 68, 64, "0 4 64");
    check_jdk("[256%b1x255256%i4]", "[256%b1x255 256%i4]", 260, 256, "0 1 256");
    /* a C struct as jextract writes it: `char c; ...; alignas(16) int x;` */
    check_jdk("[c2x6j8b1x1516%i4]", "[c2x6j8b1x15 16%i4]", 36, 16, "0 2 8 16 17 32");
    /* #pragma pack(2): under-aligned members after exact padding */
    check_jdk("[b1x12%d8b1x12%j8]", "[b1x1 2%d8b1x1 2%j8]", 20, 2, "0 1 2 10 11 12");
    /* names between the tokens; the struct's own name after it */
    check_jdk("[i4(a)x124(p)128%i4(b)]", "[i4(a)x124(p)128%i4(b)]", 132, 128, "0 4 128");
    check_jdk("[i4x124128%i4(v)](s)", "[i4x124 128%i4(v)](s)", 132, 128, "0 4 128");
    /* the only split that aligns the member, though not the least padding (x124 + 64%i4) */
    check_jdk("[i4x12464%i4]", "[i4x124 64%i4]", 132, 64, "0 4 128");
    /* groups with an alignment prefix after padding */
    check_jdk("[i4x124128%[i4i4]]", "[i4x124 128%[i4i4]]", 136, 128, "0 4 128");
    check_jdk("[i4x6064%[2:i4]]", "[i4x60 64%[2:i4]]", 72, 64, "0 4 64");
    /* nested: offsets count from the start of the innermost struct */
    check_jdk("[i4x124[i4x124128%i4]]", "[i4x124[i4x124 128%i4]]", 260, 128, "0 4 128");
    check_jdk("[2:[128%i4x124128%i4x124]]", "[2:[128%i4x124 128%i4x124]]", 512, 128, NULL);
    check_jdk("[3:[i4x1216%i4x12]]", "[3:[i4x12 16%i4x12]]", 96, 16, NULL);
    /* unions: every member at offset 0, a struct member's padding counts from its own start */
    check_jdk("[[i4x124128%i4]|j8]", "[[i4x124 128%i4]|j8]", 132, 128, "0 0");
    check_jdk("[j8|[s2x3032%s2]|[b1x11%s2]]", "[j8|[s2x30 32%s2]|[b1x1 1%s2]]", 34, 32, "0 0 0");
    check_jdk("[x124|128%i4]", "[x124|128%i4]", 124, 128, "0 0");
    sj_layout *u = parse_ok("[[i4x124128%i4]|j8]");
    const sj_layout *s = sj_layout_member(u, 0);
    assert_int_equal(sj_layout_member_offset(s, 1), 4);
    assert_int_equal(sj_layout_size(sj_layout_member(s, 1)), 124);
    assert_int_equal(sj_layout_member_offset(s, 2), 128);
    sj_layout_unref(u);
    /* The text is ambiguous in itself: structLayout(128%i4, x12412, 8%i4) prints as
     * `[128%i4x124128%i4]` too (size 12420) and reads back as the first row; written
     * with the printer's space it reads as itself. */
    check_jdk("[128%i4x12412 8%i4]", "[128%i4x12412 8%i4]", 12420, 128, "0 4 12416");
    /* No split reaches the alignment exactly: the longest padding that aligns the member
     * (b1 x633 2%i4, not b1 x63 32%i4; the JDK prints both as `[b1x6332%i4]`). */
    check_jdk("[b1x6332%i4]", "[b1x633 2%i4]", 638, 2, "0 1 634");
    /* No split aligns the member: the longest padding that leaves an alignment, and the
     * struct's error. */
    check_error("[i4x1416%f4]", SJ_E_ARG,
                "1:7: struct layout: member #2 at offset 18 is not aligned to its alignment 16");
}

static void test_groups(void **state) {
    (void)state;
    check_text(S(0), "[]");
    check_text(U(0), "[|]");
    check_text(U(1, ORD(VAL(SJ_I32), SJ_ORDER_LITTLE)), "[i4|]");
    check_text(S(1, ORD(VAL(SJ_I32), SJ_ORDER_LITTLE)), "[i4]");
    check_text(U(3, ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), ORD(VAL(SJ_I64), SJ_ORDER_LITTLE), PAD(3)),
               "[i4|j8|x3]");
    check_text(S(3, ORD(VAL(SJ_I16), SJ_ORDER_LITTLE), PAD(2), ORD(VAL(SJ_I32), SJ_ORDER_LITTLE)),
               "[s2x2i4]");
    check_text(S(2, U(0), S(0)), "[[|][]]");
    check_text(U(2, S(0), U(1, S(0))), "[[]|[[]|]]");
    sj_layout *e = parse_ok("[|]"), *s = parse_ok("[]"), *u1 = parse_ok("[i4|]"),
              *s1 = parse_ok("[i4]");
    assert_int_equal(sj_layout_tag(e), SJ_UNION);
    assert_int_equal(sj_layout_tag(s), SJ_STRUCT);
    assert_int_equal(sj_layout_tag(u1), SJ_UNION);
    assert_int_equal(sj_layout_tag(s1), SJ_STRUCT);
    assert_int_equal(sj_layout_member_count(u1), 1);
    assert_false(sj_layout_equal(e, s));
    assert_false(sj_layout_equal(u1, s1));
    sj_layout_unref(e);
    sj_layout_unref(s);
    sj_layout_unref(u1);
    sj_layout_unref(s1);
}

static void test_sequences(void **state) {
    (void)state;
    check_text(SEQ(2, SEQ(3, SEQ(4, ORD(VAL(SJ_I16), SJ_ORDER_BIG)))), "[2:[3:[4:S2]]]");
    sj_layout *l = parse_ok("[2:[3:[4:S2]]]");
    assert_int_equal(sj_layout_size(l), 48);
    assert_int_equal(sj_layout_align(l), 2);
    assert_int_equal(sj_layout_elem_count(l), 2);
    assert_int_equal(sj_layout_elem_count(sj_layout_elem(l)), 3);
    sj_layout_unref(l);
    check_text(SEQ(0, ORD(VAL(SJ_I32), SJ_ORDER_LITTLE)), "[0:i4]");
    check_text(SEQ(5, S(2, ORD(VAL(SJ_I32), SJ_ORDER_LITTLE), PAD(4))), "[5:[i4x4]]");
    check_text(SEQ(1, U(0)), "[1:[|]]");
}

/* ---- the examples of SEMANTICS 2.7 ---- */

static void test_semantics_examples(void **state) {
    (void)state;
    sj_layout *l = parse_ok("[2:[j8i4x4]]");
    assert_int_equal(sj_layout_size(l), 32);
    assert_int_equal(sj_layout_align(l), 8);
    sj_layout_unref(l);

    l = parse_ok("16%[i4](s)");
    assert_int_equal(sj_layout_tag(l), SJ_STRUCT);
    assert_int_equal(sj_layout_size(l), 4);
    assert_int_equal(sj_layout_align(l), 16);
    assert_string_equal(sj_layout_name(l), "s");
    sj_layout_unref(l);

    l = parse_ok("[[5:b1]|i4]");
    assert_int_equal(sj_layout_tag(l), SJ_UNION);
    assert_int_equal(sj_layout_size(l), 5);
    assert_int_equal(sj_layout_align(l), 4);
    sj_layout_unref(l);

    check_error("[s2i4]", SJ_E_ARG,
                "1:4: struct layout: member #1 at offset 2 is not aligned to its alignment 4");

    l = parse_ok("[2:[j8(x)i4x4]]");
    assert_string_equal(sj_layout_name(sj_layout_member(sj_layout_elem(l), 0)), "x");
    sj_layout_unref(l);
    l = parse_ok("[i4|j8]");
    assert_int_equal(sj_layout_size(l), 8);
    sj_layout_unref(l);
    l = parse_ok("[s2x2i4]");
    assert_int_equal(sj_layout_size(l), 8);
    assert_int_equal(sj_layout_member_offset(l, 2), 4);
    sj_layout_unref(l);
    l = parse_ok("[10:i4]");
    assert_int_equal(sj_layout_size(l), 40);
    sj_layout_unref(l);
    l = parse_ok("[i4b1]"); /* size need not be a multiple of the alignment */
    assert_int_equal(sj_layout_size(l), 5);
    assert_int_equal(sj_layout_align(l), 4);
    sj_layout_unref(l);
}

/* ---- parsing ---- */

static void test_whitespace(void **state) {
    (void)state;
    check_reprint(" [ 2 : [ j8 i4 x4 ] ] ", "[2:[j8i4x4]]");
    check_reprint("\n\t16 %\n[ i4 ] (s)\r\n", "16%[i4](s)");
    check_reprint("[ i4 | j8 | x3 ]", "[i4|j8|x3]");
    check_reprint("[ i4 | ]", "[i4|]");
    check_reprint("[ | ]", "[|]");
    check_reprint("[ ]", "[]");
    check_reprint("[x14 2%f4 x2]", "[x14 2%f4x2]");
    /* Spaces inside a name are part of it. */
    check_reprint("i4( a )", "i4( a )");
    /* Leading zeros are read as decimal. */
    check_reprint("[002:i04]", "[2:i4]");
}

static void test_parse_errors(void **state) {
    (void)state;
    check_error("", SJ_E_PARSE, "1:1: expected a layout, found end of text");
    check_error("   ", SJ_E_PARSE, "1:4: expected a layout, found end of text");
    check_error("q4", SJ_E_PARSE, "1:1: expected a layout, found 'q'");
    check_error("i8", SJ_E_PARSE, "1:2: expected size 4 after 'i', found 8");
    check_error("ub2", SJ_E_PARSE, "1:3: expected size 1 after 'ub', found 2");
    check_error("i", SJ_E_PARSE, "1:2: expected the size of the value, found end of text");
    check_error("uz1", SJ_E_PARSE,
                "1:2: expected one of 'b', 's', 'i', 'j' (or upper case) after 'u', found 'z'");
    check_error("Ui4", SJ_E_PARSE, "1:1: expected a layout, found 'U'");
    check_error("X4", SJ_E_PARSE, "1:1: expected a layout, found 'X'");
    check_error("x", SJ_E_PARSE, "1:2: expected the padding size after 'x', found end of text");
    check_error("[", SJ_E_PARSE, "1:2: expected a member or ']', found end of text");
    check_error("[i4", SJ_E_PARSE, "1:4: expected a member or ']', found end of text");
    check_error("[i4|", SJ_E_PARSE, "1:5: expected a layout, found end of text");
    check_error("[i4|j8", SJ_E_PARSE, "1:7: expected '|' or ']', found end of text");
    check_error("[i4|j8|]", SJ_E_PARSE, "1:8: expected a layout, found ']'");
    check_error("[i4j8|f4]", SJ_E_PARSE, "1:6: expected a layout, found '|'");
    check_error("[|i4]", SJ_E_PARSE, "1:3: expected ']' after '[|', found 'i'");
    check_error("[2]", SJ_E_PARSE, "1:3: expected ':' or '%' after a number, found ']'");
    check_error("[2:]", SJ_E_PARSE, "1:4: expected a layout, found ']'");
    check_error("[2:i4 i4]", SJ_E_PARSE, "1:7: expected ']' after the sequence element, found 'i'");
    check_error("[-1:i4]", SJ_E_PARSE, "1:2: expected a layout, found '-'");
    check_error("16i4", SJ_E_PARSE, "1:3: expected '%' after an alignment, found 'i'");
    check_error("16%", SJ_E_PARSE, "1:4: expected a layout, found end of text");
    check_error("%i4", SJ_E_PARSE, "1:1: expected a layout, found '%'");
    check_error("i4(abc", SJ_E_PARSE,
                "1:7: expected ')' to close the name opened at 1:3, found end of text");
    { /* a backslash before anything but ')' or '\\' is itself, as the JDK prints it */
        sj_layout *l = NULL;
        sj_error err;
        assert_int_equal(sj_layout_parse("i4(a\\b)", &l, &err), SJ_OK);
        assert_string_equal(sj_layout_name(l), "a\\b");
        sj_layout_unref(l);
    }
    check_error("i4(a)(b)", SJ_E_PARSE, "1:6: expected end of text, found '('");
    check_error("i4\x01", SJ_E_PARSE, "1:3: expected end of text, found byte 0x01");
}

static void test_trailing_garbage(void **state) {
    (void)state;
    check_error("i4 i4", SJ_E_PARSE, "1:4: expected end of text, found 'i'");
    check_error("[i4]]", SJ_E_PARSE, "1:5: expected end of text, found ']'");
    check_error("[i4] x", SJ_E_PARSE, "1:6: expected end of text, found 'x'");
    check_error("i4;", SJ_E_PARSE, "1:3: expected end of text, found ';'");
}

static void test_multiline_positions(void **state) {
    (void)state;
    check_error("[\n  i4\n  q8\n]", SJ_E_PARSE, "3:3: expected a layout, found 'q'");
    check_error("[\n  i4(a\nb)\n  i8\n]", SJ_E_PARSE, "4:4: expected size 4 after 'i', found 8");
    check_error("[\n\n", SJ_E_PARSE, "3:1: expected a member or ']', found end of text");
    check_error("[2:[j8\n   s2 i4]]", SJ_E_ARG,
                "2:7: struct layout: member #2 at offset 10 is not aligned to its alignment 4");
    check_error("[i4\n\t 3%j8]", SJ_E_ARG, "2:3: with_align: alignment 3 is not a power of two");
}

static void test_constructor_errors(void **state) {
    (void)state;
    check_error("x0", SJ_E_ARG, "1:1: padding layout: size 0 is not positive");
    check_error("0%i4", SJ_E_ARG, "1:1: with_align: alignment 0 is not a power of two");
    check_error("[2:16%i4]", SJ_E_ARG,
                "1:1: sequence layout: element size 4 is not a multiple of its alignment 16");
    check_error("2%[j8]", SJ_E_ARG,
                "1:1: with_align: alignment 2 is less than the struct's member alignment 8");
    check_error("[i4 | 1%[j8]]", SJ_E_ARG,
                "1:7: with_align: alignment 1 is less than the struct's member alignment 8");
    check_error("[b1 s2]", SJ_E_ARG,
                "1:5: struct layout: member #1 at offset 1 is not aligned to its alignment 2");
}

static void test_overflow(void **state) {
    (void)state;
    check_error("[9223372036854775808:i4]", SJ_E_PARSE,
                "1:2: number 9223372036854775808 is too large");
    check_error("x99999999999999999999999", SJ_E_PARSE,
                "1:2: number 99999999999999999999999 is too large");
    check_error("99999999999999999999%i4", SJ_E_PARSE,
                "1:1: number 99999999999999999999 is too large");
    check_error("[4611686018427387904:[4:i4]]", SJ_E_OVERFLOW,
                "1:1: sequence layout: 4611686018427387904 elements of 16 bytes overflow 64 bits");
    check_error("[x9223372036854775807 x1]", SJ_E_OVERFLOW,
                "1:23: struct layout: size overflows 64 bits at member #1");
    sj_layout *l = parse_ok("[9223372036854775807:b1]");
    assert_int_equal(sj_layout_size(l), INT64_MAX);
    sj_layout_unref(l);
}

static void test_depth_limit(void **state) {
    (void)state;
    enum { OK_DEPTH = 256, BAD_DEPTH = 257 };
    char text[2 * BAD_DEPTH + 8];
    size_t n = 0;
    for (int i = 0; i < OK_DEPTH; i++)
        text[n++] = '[';
    for (int i = 0; i < OK_DEPTH; i++)
        text[n++] = ']';
    text[n] = 0;
    sj_layout *l = parse_ok(text);
    sj_layout_unref(l);
    n = 0;
    for (int i = 0; i < BAD_DEPTH; i++)
        text[n++] = '[';
    for (int i = 0; i < BAD_DEPTH; i++)
        text[n++] = ']';
    text[n] = 0;
    check_error(text, SJ_E_PARSE, "1:257: layout nested deeper than 256 brackets");
}

static void test_null_arguments(void **state) {
    (void)state;
    sj_layout *l = NULL;
    char *s = NULL;
    sj_error err = {0};
    assert_int_equal(sj_layout_parse(NULL, &l, &err), SJ_E_ARG);
    assert_int_equal(sj_layout_parse("i4", NULL, &err), SJ_E_ARG);
    assert_int_equal(sj_layout_parse_auto(NULL, &l, &err), SJ_E_ARG);
    assert_int_equal(sj_layout_print(NULL, &s, &err), SJ_E_ARG);
    assert_int_equal(sj_layout_table(NULL, &s, &err), SJ_E_ARG);
    assert_null(l);
    assert_null(s);
    /* err may be NULL. */
    assert_int_equal(sj_layout_parse("[s2i4]", &l, NULL), SJ_E_ARG);
    assert_int_equal(sj_layout_parse("[", &l, NULL), SJ_E_PARSE);
}

/* ---- parse_auto ---- */

static void auto_is(const char *text, const char *printed) {
    sj_layout *l = NULL;
    sj_error err = {0};
    sj_status st = sj_layout_parse_auto(text, &l, &err);
    if (st != SJ_OK) fail_msg("parse_auto '%s': %s", text, err.message);
    char *s;
    assert_int_equal(sj_layout_print(l, &s, NULL), SJ_OK);
    assert_string_equal(s, printed);
    free(s);
    sj_layout_unref(l);
}

static void test_parse_auto(void **state) {
    (void)state;
    auto_is("[2:[j8i4x4]]", "[2:[j8i4x4]]");
    auto_is("struct s { u32 a; u8 b; }", "[ui4(a)ub1(b)x3](s)");
    auto_is("union u { u32 a; u8 b; }", "[ui4(a)|ub1(b)](u)");
    auto_is("u64;", "uj8"); /* a ';' means C */
    /* Names are skipped when looking for C words: these stay canonical. */
    auto_is("i4(struct)", "i4(struct)");
    auto_is("[i4(a;b)|j8(union {)]", "[i4(a;b)|j8(union {)]");
    auto_is("i4(x\\)struct)", "i4(x\\)struct)");
    /* A '(' without a closing ')' is not a name: the C words after it count. */
    auto_is("/* ( */ struct s { u8 a; }", "[ub1(a)](s)");
    /* Without C words: canonical, and its errors. */
    sj_layout *l = NULL;
    sj_error err = {0};
    assert_int_equal(sj_layout_parse_auto("u32", &l, &err), SJ_E_PARSE);
    assert_string_equal(
        err.message,
        "1:2: expected one of 'b', 's', 'i', 'j' (or upper case) after 'u', found '3'");
    assert_int_equal(sj_layout_parse_auto("struct { u32 x }", &l, &err), SJ_E_PARSE);
    assert_string_equal(err.message, "1:16: expected ';' after field 'x', found '}'");
    assert_null(l);
    /* A million unclosed '(' (each once made a scan to the end): the C word after them is
     * still found, and in a comment the text parses as C. */
    enum { N = 1000000 };
    char *many = malloc(N + 64);
    strcpy(many, "/* ");
    memset(many + 3, '(', N);
    strcpy(many + 3 + N, " */ struct s { u8 a; }");
    auto_is(many, "[ub1(a)](s)");
    free(many);
}

/* ---- table ---- */

static void check_table(const char *text, const char *want) {
    sj_layout *l = NULL;
    sj_error err = {0};
    if (sj_layout_parse_auto(text, &l, &err) != SJ_OK) fail_msg("%s", err.message);
    char *s = NULL;
    assert_int_equal(sj_layout_table(l, &s, NULL), SJ_OK);
    if (strcmp(s, want) != 0) fail_msg("table of %s:\n%s\nwant:\n%s", text, s, want);
    free(s);
    sj_layout_unref(l);
}

static void test_table_canonical(void **state) {
    (void)state;
    check_table("[s2(a)x2i4(b)[2:j8](c)x8(named)](t)",
                "struct t: size 32, align 8\n"
                "offset  size  align  name   type\n"
                "     0     2      2  a      s2\n"
                "     2     2         /* XXX 2 bytes hole */\n"
                "     4     4      4  b      i4\n"
                "     8    16      8  c      [2:j8]\n"
                "    24     8      1  named  x8\n"
                "size: 32, align: 8, members: 4, holes: 1, sum holes: 2\n");
}

static void test_table_values(void **state) {
    (void)state;
    check_table("16%i4(x)", "value x: 16%i4, size 4, align 16\n");
    check_table("x3", "padding: x3, size 3, align 1\n");
    check_table("[3:[i4(a)|x1(p)|j8(b\nc)]]",
                "sequence: [3:[i4(a)|x1(p)|j8(b\\x0ac)]], size 24, align 8\n"
                "element union\n"
                "offset  size  align  name    type\n"
                "     0     4      4  a       i4\n"
                "     0     1      1  p       x1\n"
                "     0     8      8  b\\x0ac  j8\n"
                "element size: 8, align: 8, members: 3, holes: 0, sum holes: 0\n");
}

/* Type columns longer than 40 bytes end in "..." after 37 (cut on a UTF-8 boundary), also
 * for a member whose text runs to 50 KB (printed only as far as the cut needs). */
static void test_table_cut(void **state) {
    (void)state;
    check_table("[[2:[i4(aa)i4(bb)i4(cc)i4(dd)i4(ee)i4(ff)i4(gg)]](m)"
                "[2:[i4(\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9)]](u)]",
                "struct: size 64, align 4\n"
                "offset  size  align  name  type\n"
                "     0    56      4  m     [2:[i4(aa)i4(bb)i4(cc)i4(dd)i4(ee)i4(...\n"
                "    56     8      4  u     [2:[i4(\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                "\xc3\xa9...\n"
                "size: 64, align: 4, members: 2, holes: 0, sum holes: 0\n");
    char *text = malloc(5000 * 12 + 16), *s = NULL;
    size_t n = (size_t)sprintf(text, "[[2:[");
    for (int i = 0; i < 5000; i++)
        n += (size_t)sprintf(text + n, "i4(f%d)", i);
    sprintf(text + n, "]](w)]");
    sj_layout *l = NULL;
    assert_int_equal(sj_layout_parse(text, &l, NULL), SJ_OK);
    assert_int_equal(sj_layout_table(l, &s, NULL), SJ_OK);
    assert_non_null(strstr(s, "  w     [2:[i4(f0)i4(f1)i4(f2)i4(f3)i4(f4)i4(...\n"));
    free(s);
    free(text);
    sj_layout_unref(l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_both_orders),
        cmocka_unit_test(test_padding),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_alignment_prefix),
        cmocka_unit_test(test_member_separation),
        cmocka_unit_test(test_jdk_notation),
        cmocka_unit_test(test_jdk_padding_split),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_sequences),
        cmocka_unit_test(test_semantics_examples),
        cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_table_cut),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_multiline_positions),
        cmocka_unit_test(test_constructor_errors),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_parse_auto),
        cmocka_unit_test(test_table_canonical),
        cmocka_unit_test(test_table_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
