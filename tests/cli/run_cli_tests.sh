#!/usr/bin/env bash
# tests/cli/run_cli_tests.sh: end-to-end tests of the built `segjit` binary (exit statuses,
# stdout/stderr contents, files written). Usage: run_cli_tests.sh SEGJIT SEGJIT_GEN WORKDIR.
# The multi-gigabyte bounded-memory test is tests/cli/run_big_test.sh (ctest -L big).
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 SEGJIT SEGJIT_GEN WORKDIR" >&2
    exit 2
fi
SEGJIT=$(realpath "$1")
GEN=$(realpath "$2")
WORK=$3
rm -rf "$WORK"
mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1
WORK=$(pwd)
# Stats go to a private cache; the tier follows each test's own choice.
export XDG_CACHE_HOME=$WORK/cache
unset SEGJIT_TIER SEGJIT_REPORT_RSS

pass=0
failed=0
failures=()

# sj ARGS...: runs segjit; sets RC, OUT (stdout) and ERR (stderr). Stdin is empty unless
# the caller redirects it.
sj() {
    "$SEGJIT" "$@" >"$WORK/.out" 2>"$WORK/.err"
    RC=$?
    OUT=$(tr -d '\0' <"$WORK/.out")
    ERR=$(cat "$WORK/.err")
}

# check NAME EXPR: EXPR is evaluated by bash; on failure the last command's output is shown.
check() {
    local name=$1 expr=$2
    if eval "$expr"; then
        pass=$((pass + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "FAIL $name"
        echo "     condition: $expr"
        echo "     exit status: ${RC:-}"
        echo "     stdout: $(printf '%s' "${OUT:-}" | head -c 2000)"
        echo "     stderr: $(printf '%s' "${ERR:-}" | head -c 2000)"
    fi
}

# Conditions used often.
one_line_err() { [[ -n $ERR && $(printf '%s\n' "$ERR" | wc -l) -eq 1 ]]; }
usage_err() { [[ $RC -eq 2 && -z $OUT ]] && one_line_err; }
# op_err STATUS: a failed operation reported as one line starting with STATUS.
op_err() { [[ $RC -eq 1 && -z $OUT && $ERR == "$1: "* ]] && one_line_err; }
no_temps() { ! compgen -G "$1/.*.segjit-*" >/dev/null; }
hex() { od -An -v -tx1 "$1" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }

# ---------------------------------------------------------------------------------------
# Help and usage

for args in "--help" "-h" "help"; do
    sj $args
    check "segjit $args" '[[ $RC -eq 0 && $OUT == "usage: segjit "* && -z $ERR ]]'
done
for c in layout offset convert dump stats; do
    sj "$c" --help
    check "segjit $c --help" '[[ $RC -eq 0 && $OUT == "usage: segjit $c"* && -z $ERR ]]'
    sj help "$c"
    check "segjit help $c" '[[ $RC -eq 0 && $OUT == "usage: segjit $c"* && -z $ERR ]]'
done
sj convert --help
check "segjit convert --help names --force and the read-only OUT it allows" \
    '[[ $RC -eq 0 && $OUT == *"--force"*"read-only"* ]]'
sj layout '[i4' --bogus --help
check "--help wins over other arguments" '[[ $RC -eq 0 && $OUT == "usage: segjit layout"* ]]'
sj --version
check "segjit --version" '[[ $RC -eq 0 && $OUT == "segjit "* ]]'

sj
check "no command: usage error" 'usage_err'
sj frobnicate
check "unknown command" 'usage_err && [[ $ERR == *"unknown command '"'"'frobnicate'"'"'"* ]]'
sj help frobnicate
check "help for an unknown command" 'usage_err'
sj --bogus layout i4
check "unknown global option" 'usage_err'
sj layout --bogus i4
check "unknown command option" 'usage_err && [[ $ERR == "segjit layout: unknown option '"'"'--bogus'"'"'"* ]]'
sj layout
check "layout: missing LAYOUT" 'usage_err'
sj layout i4 j8
check "layout: extra argument" 'usage_err'
sj layout --canonical --summary i4
check "layout: --canonical with --summary" 'usage_err'
sj offset '[i4(x)]'
check "offset: missing PATH" 'usage_err'
sj offset '[i4(x)]' x abc
check "offset: INDEX not a number" 'usage_err'
sj convert --from i4 in out
check "convert: missing --to" 'usage_err'
sj convert --from i4 --to i4 in
check "convert: missing OUT" 'usage_err'
sj convert --from i4 --to
check "convert: option without its argument" 'usage_err'
sj convert --from i4 --to i4 --window 0 in out
check "convert: bad --window" 'usage_err'
sj dump i4
check "dump: missing FILE" 'usage_err'
sj dump i4 f --limit x
check "dump: bad --limit" 'usage_err'
sj dump i4 f --csv --json
check "dump: --csv with --json" 'usage_err'
sj stats extra
check "stats: extra argument" 'usage_err'
sj --tier fast layout i4
check "--tier with a bad value (before the command)" 'usage_err'
sj layout --tier=fast i4
check "--tier with a bad value (after the command)" 'usage_err'
sj layout --lossy i4
check "an option of another command" 'usage_err'

# ---------------------------------------------------------------------------------------
# layout

sj layout --summary '[2:[j8i4x4]]'
check "layout --summary canonical" '[[ $RC -eq 0 && $OUT == "[2:[j8i4x4]] 32 8" && -z $ERR ]]'
sj layout --summary '16%[i4](s)'
check "layout --summary alignment prefix" '[[ $RC -eq 0 && $OUT == "16%[i4](s) 4 16" ]]'
sj layout --summary '[[5:b1]|i4]'
check "layout --summary union" '[[ $RC -eq 0 && $OUT == "[[5:b1]|i4] 5 4" ]]'
sj layout --canonical '[ i4(x) I4(y) ]'
check "layout --canonical normalises" '[[ $RC -eq 0 && $OUT == "[i4(x)I4(y)]" ]]'
sj layout --summary 'struct p { u32 id; f64 pos[3]; be i16 charge; }'
check "layout --summary description language" \
    '[[ $RC -eq 0 && $OUT == "[ui4(id)x4[3:d8](pos)S2(charge)x6](p) 40 8" ]]'
sj layout --summary 'packed struct wire { be u16 len; be u32 seq; u8 flags; }'
check "layout --summary packed struct" \
    '[[ $RC -eq 0 && $OUT == "[1%uS2(len)1%uI4(seq)ub1(flags)](wire) 7 1" ]]'
sj layout --canonical 'struct p { int32_t x; double w; }'
check "layout --canonical C names" '[[ $RC -eq 0 && $OUT == "[i4(x)x4d8(w)](p)" ]]'
sj layout '[2:[j8i4x4]]'
check "layout full output" '[[ $RC -eq 0 && -z $ERR && $OUT == "canonical: [2:[j8i4x4]]"$'"'"'\n'"'"'"size:      32"$'"'"'\n'"'"'"alignment: 8"$'"'"'\n\n'"'"'* ]]'
check "layout full output has the table" '[[ $OUT == *"hole"* && $OUT == *"offset"* ]]'

cat >particle.h <<'EOF'
/* a header pasted from C */
struct particle {
    u32   id;
    f64   pos[3];
    be i16 charge;
    f32   mass align(16);
};
EOF
sj layout --summary @particle.h
check "layout @FILE" '[[ $RC -eq 0 && $OUT == *"(particle) 64 16" ]]'
sj layout --summary @- <particle.h
check "layout @- reads stdin" '[[ $RC -eq 0 && $OUT == *"(particle) 64 16" ]]'
sj layout @missing.h
check "layout @FILE missing" 'op_err SJ_E_ARG && [[ $ERR == *"missing.h"* ]]'

# Bad layouts: one status line, then the line and a caret under the column.
sj layout '[i4(x)'
check "bad layout: exit 1, SJ_E_PARSE, empty stdout" '[[ $RC -eq 1 && -z $OUT && $ERR == "SJ_E_PARSE: 1:7: "* ]]'
check "bad layout: offending line and caret" \
    '[[ $(sed -n 2p .err) == "  [i4(x)" && $(sed -n 3p .err) == "        ^" && $(wc -l <.err) -eq 3 ]]'
sj layout '[i4(x)q8]'
check "bad layout: caret inside the line" \
    '[[ $RC -eq 1 && $ERR == "SJ_E_PARSE: 1:7: "* && $(sed -n 3p .err) == "        ^" ]]'
printf 'struct p {\n    u32 id;\n    f64 pos[3;\n}\n' >bad.h
sj layout @bad.h
check "bad layout on line 3" \
    '[[ $RC -eq 1 && -z $OUT && $ERR == "SJ_E_PARSE: 3:"* && $(sed -n 2p .err) == "      f64 pos[3;" && $(sed -n 3p .err) == "               ^" ]]'
sj layout 'struct s { /* ééééé */ u32 x y; }'
check "bad layout: the caret counts a UTF-8 character once" \
    '[[ $RC -eq 1 && $ERR == "SJ_E_PARSE: 1:35: "* && $(sed -n 3p .err) == "                               ^" ]]'
sj layout "struct s { /* $(printf 'é%.0s' $(seq 40)) */ u32 xx y; }"
check "bad layout: a long line's window does not cut a UTF-8 character" \
    '[[ $RC -eq 1 && $(sed -n 2p .err) == "  ..."*"é"* && $(sed -n 2p .err | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; echo $?) == 0 ]]'
sj layout 'void *'
check "bare type 'void *' is a layout" '[[ $RC -eq 0 && $OUT == *"a8"* ]]'
sj layout '[s2i4]'
check "misaligned member: exit 1, one status line, caret" \
    '[[ $RC -eq 1 && -z $OUT && $ERR == SJ_E_* && $(sed -n 3p .err) == *"^" ]]'
sj layout '[-1:i4]'
check "bad sequence count" '[[ $RC -eq 1 && -z $OUT && $ERR == SJ_E_* ]]'

# C-like conveniences: a bare type is a layout; an enum is its integer (int); bit-fields are
# refused with a message naming the field.
for pair in 'i32|i4 4 4' 'double|d8 8 8' 'be u32|uI4 4 4' 'enum e|i4 4 4' 'char[16]|[16:b1(char)] 16 1'; do
    sj layout --summary "${pair%%|*}"
    check "bare type '${pair%%|*}' is a layout" '[[ $RC -eq 0 && $OUT == "${pair#*|}" ]]'
done
sj layout --canonical 'enum color { RED, GREEN = 4, BLUE = -1 }; struct px { enum color c; u8 a; }'
check "enum as its integer" '[[ $RC -eq 0 && $OUT == "[i4(c)ub1(a)x3](px)" ]]'
sj layout 'struct b { u32 a : 3; u32 b : 5; }'
check "bit-fields refused clearly" '[[ $RC -eq 1 && $ERR == "SJ_E_PARSE: 1:18: bit-fields are not supported (field '"'"'a'"'"')"* ]]'
sj layout 'doubel'
check "an unknown bare type is named" '[[ $RC -eq 1 && $ERR == "SJ_E_PARSE: 1:1: unknown type '"'"'doubel'"'"'"* ]]'
printf '\x01\x00\x00\x00' >one4.bin
sj dump 'be u32' one4.bin
check "dump with a bare C type" '[[ $RC -eq 0 && $OUT == "value
16777216" ]]'

# Hostile input: a layout file is read up to a bound (16 MiB) and refused at the first NUL;
# a long line's error shows a window around the column; a misaligned member is pointed at.
sj layout @/dev/zero
check "layout @/dev/zero stops at the first NUL" 'op_err SJ_E_PARSE && [[ $ERR == *"NUL byte at offset 0"* ]]'
head -c $((17 << 20)) /dev/zero | tr '\0' ' ' >huge.txt
sj layout @huge.txt
check "layout @FILE longer than 16 MiB is refused" 'op_err SJ_E_ARG && [[ $ERR == *"longer than 16777216 bytes"* ]]'
sj layout @- < <(yes i4)
check "layout @- from an endless pipe stops" 'op_err SJ_E_ARG && [[ $ERR == *"longer than"* ]]'
rm -f huge.txt
long="[$(printf 'i4%.0s' $(seq 1000))q8]"
sj layout "$long"
check "a long layout's error shows a window around the column" \
    '[[ $RC -eq 1 && $ERR == "SJ_E_PARSE: 1:2002: "* && $(sed -n 2p .err) == "  ..."*"i4q8]" && $(sed -n 2p .err | wc -c) -lt 80 && $(sed -n 3p .err) == "                                                                 ^" ]]'
sj layout '[b1(a)s2(b)]'
check "a misaligned member is pointed at" \
    '[[ $RC -eq 1 && $ERR == "SJ_E_ARG: 1:7: struct layout: member #1 '"'"'b'"'"' at offset 1"* && $(sed -n 3p .err) == "        ^" ]]'

# ---------------------------------------------------------------------------------------
# offset

sj offset '[[10:[10:[i4(x)i4(y)]]](data)]' 'data[*][*].x' 1 0
check "offset example is 80" '[[ $RC -eq 0 && $OUT == 80 && -z $ERR ]]'
sj offset '[[10:[10:[i4(x)i4(y)]]](data)]' 'data[3][4].y'
check "offset without free indices" '[[ $RC -eq 0 && $OUT == 276 ]]'
sj offset '[[10:[10:[i4(x)i4(y)]]](data)]' 'data[1::2][*].y' 2 9
check "offset with a stepped range" '[[ $RC -eq 0 && $OUT == 476 ]]'
sj offset 'struct p { u32 id; f64 pos[3]; be i16 charge; }' 'pos[*]' 2
check "offset in a C layout" '[[ $RC -eq 0 && $OUT == 24 ]]'
sj offset '[[10:[10:[i4(x)i4(y)]]](data)]' 'data[*][*].z' 1 0
check "offset: unknown member is SJ_E_PATH" 'op_err SJ_E_PATH'
sj offset '[i4(x)]' '[0]'
check "offset: index into a struct is SJ_E_PATH" 'op_err SJ_E_PATH'
sj offset '[[10:[10:[i4(x)i4(y)]]](data)]' 'data[*][*.x' 1 0
check "offset: malformed path is SJ_E_PARSE" 'op_err SJ_E_PARSE'
sj offset '[[10:[10:[i4(x)i4(y)]]](data)]' 'data[*][*].x' 1
check "offset: too few indices is SJ_E_ARG" 'op_err SJ_E_ARG'
sj offset '[[10:[10:[i4(x)i4(y)]]](data)]' 'data[*][*].x' 1 -1
check "offset: negative index is SJ_E_BOUNDS" 'op_err SJ_E_BOUNDS'
sj offset '[[10:[10:[i4(x)i4(y)]]](data)]' 'data[*][*].x' 10 0
check "offset: index past the bound is SJ_E_BOUNDS" 'op_err SJ_E_BOUNDS'
sj offset '[i4(x)' x
check "offset: bad layout is SJ_E_PARSE, one line" 'op_err SJ_E_PARSE'

# ---------------------------------------------------------------------------------------
# dump

P='struct p { u32 id; f64 pos[3]; be i16 charge; }'
# Two records of P, written byte by byte: little-endian id and doubles, big-endian charge,
# padding bytes 0xAA (never shown).
{
    printf '\x01\x00\x00\x00\xaa\xaa\xaa\xaa'
    printf '\x00\x00\x00\x00\x00\x00\xf8\x3f' # 1.5
    printf '\x00\x00\x00\x00\x00\x00\x00\x40' # 2
    printf '\x00\x00\x00\x00\x00\x00\x08\x40' # 3
    printf '\xff\xf9\xaa\xaa\xaa\xaa\xaa\xaa' # -7
    printf '\x00\x28\x6b\xee\xaa\xaa\xaa\xaa' # 4000000000
    printf '\x00\x00\x00\x00\x00\x00\xd0\xbf' # -0.25
    printf '\x7d\xc3\x94\x25\xad\x49\xb2\x54' # 1e100
    printf '\x9a\x99\x99\x99\x99\x99\xb9\x3f' # 0.1
    printf '\x01\x2c\xaa\xaa\xaa\xaa\xaa\xaa' # 300
} >p.bin
sj dump "$P" p.bin
check "dump CSV" '[[ $RC -eq 0 && -z $ERR && $OUT == "id,pos[0],pos[1],pos[2],charge
1,1.5,2,3,-7
4000000000,-0.25,1e+100,0.1,300" ]]'
sj dump "$P" p.bin --csv --limit 1
check "dump CSV --limit 1" '[[ $RC -eq 0 && $OUT == "id,pos[0],pos[1],pos[2],charge
1,1.5,2,3,-7" ]]'
sj dump --limit 0 "$P" p.bin
check "dump CSV --limit 0: header only" '[[ $RC -eq 0 && $OUT == "id,pos[0],pos[1],pos[2],charge" ]]'
sj dump "$P" p.bin --json
check "dump JSON lines" '[[ $RC -eq 0 && -z $ERR && $OUT == "{\"id\":1,\"pos\":[1.5,2,3],\"charge\":-7}
{\"id\":4000000000,\"pos\":[-0.25,1e+100,0.1],\"charge\":300}" ]]'
sj dump "$P" - --json --limit 1 <p.bin
check "dump from stdin" '[[ $RC -eq 0 && $OUT == "{\"id\":1,\"pos\":[1.5,2,3],\"charge\":-7}" ]]'
# Every kind, in a C struct with nested members and a union.
K='struct k { bool z; i8 b; u8 ub; char c; i16 s; u16 us; i32 i; u32 ui; f32 f; i64 j; u64 uj; f64 d; struct { be u16 x; be f32 y; } n; union { i32 a; u8 q[4]; } u; }'
printf '\x01\xff\xff\x41\xfe\xff\xfe\xff\xfd\xff\xff\xff\xfd\xff\xff\xff\x00\x00\xc0\x3f\xaa\xaa\xaa\xaa\xfc\xff\xff\xff\xff\xff\xff\xff\xfc\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\xf0\x7f\x00\x07\xaa\xaa\xbf\x80\x00\x00\x01\x02\x03\x04\xaa\xaa\xaa\xaa' >k.bin
sj layout --summary "$K"
check "kinds layout" '[[ $RC -eq 0 && $OUT == *" 64 8" ]]'
sj dump "$K" k.bin
check "dump CSV of every kind" '[[ $RC -eq 0 && $OUT == "z,b,ub,c,s,us,i,ui,f,j,uj,d,n.x,n.y,u.a,u.q[0],u.q[1],u.q[2],u.q[3]
true,-1,255,65,-2,65534,-3,4294967293,1.5,-4,18446744073709551612,inf,7,-1,67305985,1,2,3,4" ]]'
sj dump "$K" k.bin --json
check "dump JSON of every kind" '[[ $RC -eq 0 && $OUT == "{\"z\":true,\"b\":-1,\"ub\":255,\"c\":65,\"s\":-2,\"us\":65534,\"i\":-3,\"ui\":4294967293,\"f\":1.5,\"j\":-4,\"uj\":18446744073709551612,\"d\":null,\"n\":{\"x\":7,\"y\":-1},\"u\":{\"a\":67305985,\"q\":[1,2,3,4]}}" ]]'
# A record whose size is not a multiple of its alignment cannot form a file of records
# (SEMANTICS 2.4): refused before anything is printed; packed, the same bytes dump.
printf '\x01\x00\x00\x00\x02\x03\x00\x00\x00\x04' >odd.bin
sj dump '[i4(a)b1(b)]' odd.bin
check "dump: record size 5, align 4 is refused" \
    'op_err SJ_E_ARG && [[ $ERR == *"size 5, not a multiple of its alignment 4"*"x3"* ]]'
sj dump 'packed struct { i32 a; i8 b; }' odd.bin
check "dump records of a packed layout of size 5" '[[ $RC -eq 0 && $OUT == "a,b
1,2
3,4" ]]'
# Exact floats: the shortest text that reads back to the same bits (f32 through strtof:
# 0x15ae43fe was 7.038531e-26, which reads back as 0x15ae43fd), NaN keeps its sign in CSV.
printf '\xfe\x43\xae\x15\x00\x00\xc0\xff\x00\x00\x80\x7f\x01\x00\x00\x00\x00\x00\x00\x80' >fl.bin
sj dump '[f4(a)f4(b)f4(c)f4(d)f4(e)]' fl.bin
check "dump f32: shortest exact text, -nan, inf, subnormal, -0" \
    '[[ $RC -eq 0 && $OUT == "a,b,c,d,e
7.0385313e-26,-nan,inf,1e-45,-0" ]]'
sj dump '[f4(a)f4(b)f4(c)f4(d)f4(e)]' fl.bin --json
check "dump f32 as JSON: NaN and infinities are null by default" \
    '[[ $RC -eq 0 && $OUT == "{\"a\":7.0385313e-26,\"b\":null,\"c\":null,\"d\":1e-45,\"e\":-0}" ]]'
# f64 against Python's repr (the shortest round-tripping digits): the same value and the
# same number of significant digits, for a few thousand bit patterns.
if command -v python3 >/dev/null 2>&1; then
    python3 - <<'PY' >d-expect.txt
import random, struct, math
random.seed(15)
vals = [0.1, 1e100, 5e-324, 2.0**-1074 * 3, 1.7976931348623157e308, 9007199254740993.0, 2.0**60]
while len(vals) < 4000:
    v = struct.unpack('<d', struct.pack('<Q', random.getrandbits(64)))[0]
    if math.isfinite(v):
        vals.append(v)
open('d.bin', 'wb').write(b''.join(struct.pack('<d', v) for v in vals))
for v in vals:
    print(repr(v))
PY
    sj dump 'd8' d.bin
    printf '%s\n' "$OUT" | tail -n +2 >d-got.txt
    check "dump f64 equals Python's shortest repr in value and digits" \
        '[[ $RC -eq 0 ]] && python3 -c "
import sys
def sig(t):
    m = t.lower().split(\"e\")[0].lstrip(\"-\").replace(\".\", \"\").strip(\"0\")
    return max(len(m), 1)
got = open(\"d-got.txt\").read().split()
exp = open(\"d-expect.txt\").read().split()
bad = [(g, e) for g, e in zip(got, exp) if float(g) != float(e) or sig(g) != sig(e)]
sys.exit(1 if bad or len(got) != len(exp) else 0)
"'
fi

head -c 50 p.bin >p-trunc.bin
sj dump "$P" p-trunc.bin
check "dump: trailing partial record" \
    'op_err SJ_E_BOUNDS && [[ $ERR == "SJ_E_BOUNDS: FILE: record 1 at byte offset 40 is partial: '"'"'p-trunc.bin'"'"' ends after 10 of its 40 bytes" ]]'
sj dump "$P" - < <(cat p-trunc.bin)
check "dump: trailing partial record from a pipe names record and offset" \
    '[[ $RC -eq 1 && $ERR == *"record 1 at byte offset 40 is partial"* ]]'
# From a stream the records before a partial one are written first, whatever the window.
printf '\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00' >w3.bin
sj dump '[i4(a)]' - < <(cat w3.bin)
check "dump: a stream's whole records come before its partial record's error" \
    '[[ $RC -eq 1 && $OUT == "a
1
2" && $ERR == "SJ_E_BOUNDS: FILE: record 2 at byte offset 8 is partial: '"'"'-'"'"' ends after 2 of its 4 bytes" ]]'
sj dump '[i4(a)]' - --limit 1 < <(cat w3.bin)
check "dump --limit: a stream's partial record after the limit is not reached" \
    '[[ $RC -eq 0 && $OUT == "a
1" ]]'
sj dump '[i4(a)]' w3.bin --count 3
check "dump --count: a regular file's record cut short is called partial" \
    'op_err SJ_E_BOUNDS && [[ $ERR == "SJ_E_BOUNDS: FILE: record 2 at byte offset 8 is partial: '"'"'w3.bin'"'"' ends after 2 of its 4 bytes: --count 3 asks for more records than it holds" ]]'
sj dump '[i4(a)]' - --count 3 < <(cat w3.bin)
check "dump --count: a stream's record cut short says the same" \
    '[[ $RC -eq 1 && $ERR == "SJ_E_BOUNDS: FILE: record 2 at byte offset 8 is partial: '"'"'-'"'"' ends after 2 of its 4 bytes: --count 3 asks for more records than it holds" ]]'
sj convert --from '[i4(a)]' --to '[I4(a)]' - - < <(cat w3.bin)
check "convert: a stream to standard output gets the whole records before the partial one" \
    '[[ $RC -eq 1 && $(hex "$WORK/.out") == "00 00 00 01 00 00 00 02" && $ERR == *"record 2 at byte offset 8 is partial"* ]]'
# From a pipe, records are written as they arrive: a read returning fewer bytes than asked
# is normal there, and its whole records (the CSV header first) go out before the next
# read waits. Each case writes its input in two parts through a FIFO, the first ending
# inside a record (or a gap); the second part is written only once the output of the first
# has appeared (waiting up to 60 s, so that a tool that holds records back fails, never
# hangs), then the whole output is checked.
if command -v mkfifo >/dev/null 2>&1; then
    # two_writes NAME FIRST REST WANT_FIRST WANT_ALL ARGS...: FIRST and REST are printf
    # formats; the output is compared as hexadecimal bytes (hex) when WANT_* start "hex:".
    two_writes() {
        local name=$1 first=$2 rest=$3 want_first=$4 want_all=$5 i got
        shift 5
        rm -f fifo.in tw.out tw.err
        mkfifo fifo.in || return
        "$SEGJIT" "$@" <fifo.in >tw.out 2>tw.err &
        local pid=$!
        exec 7>fifo.in
        printf "$first" >&7
        for ((i = 0; i < 600; i++)); do
            if [[ $want_first == hex:* ]]; then got=hex:$(hex tw.out); else got=$(cat tw.out); fi
            [[ $got == "$want_first" ]] && break
            sleep 0.1
        done
        local early=$got
        printf "$rest" >&7
        exec 7>&-
        wait $pid
        RC=$?
        if [[ $want_all == hex:* ]]; then OUT=hex:$(hex tw.out); else OUT=$(cat tw.out); fi
        ERR="$(cat tw.err) (before the second write: $early)"
        check "$name" '[[ $RC -eq 0 && $early == "$want_first" && $OUT == "$want_all" ]]'
    }
    two_writes "dump from a pipe: the header and whole records before the next write" \
        '\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00' '\x00\x00\x04\x00\x00\x00' \
        $'a\n1\n2' $'a\n1\n2\n3\n4' dump '[i4(a)]' -
    two_writes "dump --json from a pipe: whole records before the next write" \
        '\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00' '\x00\x00\x04\x00\x00\x00' \
        $'{"a":1}\n{"a":2}' $'{"a":1}\n{"a":2}\n{"a":3}\n{"a":4}' dump '[i4(a)]' - --json
    two_writes "dump from a pipe: the CSV header before any record arrives" \
        '\x01\x00' '\x00\x00\x02\x00\x00\x00' 'a' $'a\n1\n2' dump '[i4(a)]' -
    two_writes "dump --skip --stride from a pipe: a write ending inside a gap" \
        'HH\x01\x00\x00\x00\xee\xee\xee\xee\x02\x00\x00\x00\xee\xee' '\xee\xee\x03\x00\x00\x00' \
        $'a\n1\n2' $'a\n1\n2\n3' dump '[i4(a)]' - --skip 2 --stride 8
    two_writes "dump --stride from a pipe: a write ending inside a record after a gap" \
        '\x01\x00\x00\x00\xee\xee\xee\xee\x02\x00' '\x00\x00\xee\xee\xee\xee\x03\x00\x00\x00\xee' \
        $'a\n1' $'a\n1\n2\n3' dump '[i4(a)]' - --stride 8
    two_writes "convert from a pipe: whole records before the next write" \
        '\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00' '\x00\x00\x04\x00\x00\x00' \
        'hex:00 00 00 01 00 00 00 02' 'hex:00 00 00 01 00 00 00 02 00 00 00 03 00 00 00 04' \
        convert --from '[i4(a)]' --to '[I4(a)]' - -
    rm -f fifo.in
fi
sj dump "$P" nonexistent.bin
check "dump: missing FILE" 'op_err SJ_E_ARG && [[ $ERR == *"nonexistent.bin"* ]]'
sj dump '[i4(x)' p.bin
check "dump: bad layout" 'op_err SJ_E_PARSE'
: >empty.bin
sj dump "$P" empty.bin --json
check "dump: empty file" '[[ $RC -eq 0 && -z $OUT && -z $ERR ]]'

# Text fields: `char name[N]` (canonical [N:b1(char)]) dumps as one string, its bytes up to
# the first NUL; signed/unsigned char arrays stay numbers.
T='struct r { char name[8]; u8 k; char tag[7]; }'
sj layout --canonical "$T"
check "char[N] is marked as text in the canonical form" '[[ $RC -eq 0 && $OUT == "[[8:b1(char)](name)ub1(k)[7:b1(char)](tag)](r)" ]]'
sj layout --canonical 'struct s { signed char a[2]; unsigned char b[2]; char c; }'
check "signed/unsigned char arrays and a single char are not text" '[[ $OUT == "[[2:b1](a)[2:ub1](b)b1(c)](s)" ]]'
printf 'ab,"c\0zz\x07\x01\xff\xc3\xa9x\0\0plain\0\0\0\x08\x41\x42\x43\x44\x45\x46\x47' >txt.bin
sj dump "$T" txt.bin
check "dump text fields as CSV strings (quoted, NUL-terminated, unterminated)" \
    '[[ $RC -eq 0 && $OUT == "name,k,tag
\"ab,\"\"c\",7,"$'"'"'\x01\xff\xc3\xa9x'"'"'"
plain,8,ABCDEFG" ]]'
sj dump '[[8:b1(char)](name)ub1(k)[7:b1(char)](tag)]' txt.bin --json --limit 1
check "dump text from the canonical marker as JSON (escaped, non-UTF-8 as U+FFFD)" \
    '[[ $RC -eq 0 && $OUT == "{\"name\":\"ab,\\\"c\",\"k\":7,\"tag\":\"\\u0001\\ufffd'"$(printf '\xc3\xa9')"'x\"}" ]]'
sj dump "$T" txt.bin --json --lossless --limit 1
check "dump --json --lossless: non-UTF-8 bytes as \\udcXX" '[[ $RC -eq 0 && $OUT == *"\"tag\":\"\\u0001\\udcff"* ]]'
if command -v python3 >/dev/null 2>&1; then
    "$SEGJIT" dump "$T" txt.bin --json >txt.json
    check "dump --json is strict UTF-8 JSON" 'python3 -c "
import json
for line in open(\"txt.json\", \"rb\"):
    json.loads(line.decode(\"utf-8\", \"strict\"))
"'
    "$SEGJIT" dump "$T" txt.bin --json --lossless >txt-l.json
    check "dump --json --lossless gives the text bytes back (surrogateescape)" 'python3 -c "
import json, sys
d = json.loads(open(\"txt-l.json\").readline())
sys.exit(0 if d[\"tag\"].encode(\"utf-8\", \"surrogateescape\") == b\"\\x01\\xff\\xc3\\xa9x\" else 1)
"'
fi

# JSON is valid whatever the bytes: random records of every kind, text and a union, in
# both modes, each line strict UTF-8 and accepted by Python's json module (which refuses
# bare NaN only when asked: parse_constant makes it refuse).
if command -v python3 >/dev/null 2>&1; then
    R='struct r { char t[9]; u8 k; f32 f; f64 d; i64 j; u64 u; union { char s[8]; f64 x; } v; be u16 w; }'
    head -c $((56 * 500)) /dev/urandom >rand.bin
    for mode in "" --lossless; do
        "$SEGJIT" dump "$R" rand.bin --json $mode >rand.json 2>rand.err
        RC=$?
        check "dump --json $mode of random bytes is valid JSON" '[[ $RC -eq 0 && $(wc -l <rand.json) -eq 500 ]] && python3 -c "
import json
def bad(c):
    raise ValueError(c)
for line in open(\"rand.json\", \"rb\"):
    json.loads(line.decode(\"utf-8\", \"strict\"), parse_constant=bad)
"'
    done
fi

# Output choice: --fields (paths, order, groups), --hex, --int64-strings, --lossless, and
# unique names when members repeat.
sj dump "$P" p.bin --fields charge,pos,id
check "dump --fields selects and orders columns; a group path gives its fields" \
    '[[ $RC -eq 0 && $OUT == "charge,pos[0],pos[1],pos[2],id
-7,1.5,2,3,1
300,-0.25,1e+100,0.1,4000000000" ]]'
sj dump "$P" p.bin --fields 'pos[2],id' --json
check "dump --fields as JSON: a flat object keyed by path" \
    '[[ $RC -eq 0 && $OUT == "{\"pos[2]\":3,\"id\":1}
{\"pos[2]\":0.1,\"id\":4000000000}" ]]'
sj dump "$P" p.bin --fields id,id --limit 1
check "dump --fields with a repeated path: unique CSV header" '[[ $RC -eq 0 && $OUT == "id,id~2
1,1" ]]'
# A path given many times: each repeat gets the next free suffix (remembered per key, so
# the cost stays linear in the number of repeats).
sj dump "$P" p.bin --fields "$(printf 'id,%.0s' {1..2999})id" --limit 1
check "dump --fields with a path given 3000 times: id, id~2 ... id~3000" \
    '[[ $RC -eq 0 && $OUT == "id,$(seq -s , -f "id~%g" 2 3000)"$'"'"'\n'"'"'"$(printf '"'"'1,%.0s'"'"' {1..2999})1" ]]'
sj dump "$P" p.bin --fields id,nope
check "dump --fields with an unknown path" 'op_err SJ_E_PATH && [[ $ERR == *"--fields: "*"nope"* ]]'
sj dump "$P" p.bin --fields 'pos[*]'
check "dump --fields with an open index" 'op_err SJ_E_PATH && [[ $ERR == *"open index"* ]]'
printf '\x01\x00\x00\x00\x02\x00\x00\x00' >dup.bin
printf '\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x05\x00\x00\x00\x06\x00\x00\x00\x07\x00\x00\x00\x08\x00\x00\x00' >seq8.bin
sj dump '[i4(a)i4(a)]' dup.bin
check "dump: repeated member names are written by index (CSV)" '[[ $RC -eq 0 && $OUT == "a,#1
1,2" ]]'
sj dump '[i4(a)i4(a)]' dup.bin --json
check "dump: repeated member names are written by index (JSON keys)" '[[ $RC -eq 0 && $OUT == "{\"a\":1,\"#1\":2}" ]]'
# Every JSON object's keys are unique as a reader sees them: a key that would repeat an
# earlier one of its object gets the first free ~2, ~3 (as repeated CSV headers do).
printf '\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00' >dup3.bin
sj dump '[i4(a)i4(a)i4(#1)]' dup3.bin --json
check "dump --json: a member named #1 beside a repeated name gets #1~2" \
    '[[ $RC -eq 0 && $OUT == "{\"a\":1,\"#1\":2,\"#1~2\":3}" ]]'
sj dump '[i4(a)i4(a)i4(#1)]' dup3.bin
check "dump CSV: a member named #1 beside a repeated name is quoted" '[[ $RC -eq 0 && $OUT == "a,#1,'"'"'#1'"'"'
1,2,3" ]]'
sj dump $'[i4(\xff)i4(\xfe)]' dup.bin --json
check "dump --json: non-UTF-8 names that both read as U+FFFD get ~2" \
    '[[ $RC -eq 0 && $OUT == "{\"\\ufffd\":1,\"\\ufffd~2\":2}" ]]'
# The first free suffix, also when literal names hold some of them, before and after.
sj dump $'[i4(\xef\xbf\xbd~3)i4(\xff)i4(\xfe)i4(\xfd)i4(\xef\xbf\xbd~5)i4(\xfc)i4(\xfb)i4(\xef\xbf\xbd~2)]' seq8.bin --json
check "dump --json: repeated keys skip the suffixes literal names hold" \
    '[[ $RC -eq 0 && $OUT == $'"'"'{"\xef\xbf\xbd~3":1,"\\ufffd":2,"\\ufffd~2":3,"\\ufffd~4":4,"\xef\xbf\xbd~5":5,"\\ufffd~6":6,"\\ufffd~7":7,"\xef\xbf\xbd~2~2":8}'"'"' ]]'
sj dump $'[i4(\xff)i4(\xfe)]' dup.bin --json --lossless
check "dump --json --lossless: non-UTF-8 names are distinct keys as they are" \
    '[[ $RC -eq 0 && $OUT == "{\"\\udcff\":1,\"\\udcfe\":2}" ]]'
sj dump $'[i4(\xff)i4(\xfe)]' dup.bin --json --fields $'\'\xff\',\'\xfe\''
check "dump --json --fields: non-UTF-8 paths that read alike get ~2" \
    '[[ $RC -eq 0 && $OUT == "{\"'"'"'\\ufffd'"'"'\":1,\"'"'"'\\ufffd'"'"'~2\":2}" ]]'
if command -v python3 >/dev/null 2>&1; then
    # keys_match NAME LAYOUT FILE [OPTIONS...]: the first record as JSON (json.loads keeps
    # one value per distinct key, so a repeated key loses one) has as many values, nested
    # objects and arrays counted through, as its CSV header has columns; and the CSV header
    # (read as bytes) has no repeat. Both with the same OPTIONS (--fields) and the JSON also
    # with --lossless.
    keys_match() {
        local name=$1
        shift
        "$SEGJIT" dump "$@" --count 1 >km.csv 2>km.err &&
            "$SEGJIT" dump "$@" --count 1 --json >km.json 2>>km.err &&
            "$SEGJIT" dump "$@" --count 1 --json --lossless >km-l.json 2>>km.err
        RC=$?
        OUT=$(cat km.csv km.json km-l.json 2>/dev/null)
        ERR=$(cat km.err)
        check "$name" '[[ $RC -eq 0 ]] && python3 -c "
import csv, io, json
def count(v):
    if isinstance(v, dict): return sum(count(x) for x in v.values())
    if isinstance(v, list): return sum(count(x) for x in v)
    return 1
text = open(\"km.csv\", \"rb\").read().decode(\"utf-8\", \"surrogateescape\")
header = next(csv.reader(io.StringIO(text)))
assert len(set(header)) == len(header), header
for f in (\"km.json\", \"km-l.json\"):
    d = json.loads(open(f, \"rb\").readline().decode(\"utf-8\", \"strict\"))
    assert count(d) == len(header), (f, d, header)
"'
    }
    python3 -c "import struct, sys; sys.stdout.buffer.write(struct.pack('<32i', *range(1, 33)))" >seq.bin
    keys_match "dump: JSON keys unique, a member named #1 beside a repeated name" \
        '[i4(a)i4(a)i4(#1)i4 i4(#3)i4(#1~2)]' seq.bin
    keys_match "dump: JSON keys unique, non-UTF-8 names" $'[i4(\xff)i4(\xfe)i4(\xef\xbf\xbd)i4(\xfd~2)]' seq.bin
    keys_match "dump: JSON keys unique in nested groups" \
        $'[[i4(a)i4(a)i4(#1)](s)[2:[i4(\xff)i4(\xfe)]](t)[i4(\xff)|i4(\xfe)|i4(#0)](\xff)i4(\xfe)]' seq.bin
    keys_match "dump --fields: JSON keys unique, non-UTF-8 paths" \
        $'[i4(\xff)i4(\xfe)i4(a)]' seq.bin --fields $'\'\xff\',\'\xfe\',\'\xff\',a,a'
    keys_match "dump --fields: JSON keys unique, #1 paths" \
        '[i4(a)i4(a)i4(#1)[2:i4](v)]' seq.bin --fields "#1,'#1',#1,v,v"
fi
sj dump "$K" k.bin --hex --fields b,s,i,uj,z
check "dump --hex: two's complement of the width" '[[ $RC -eq 0 && $OUT == "b,s,i,uj,z
0xff,0xfffe,0xfffffffd,0xfffffffffffffffc,true" ]]'
sj dump "$K" k.bin --hex --json --fields b,d
check "dump --hex --json: hex as strings" '[[ $RC -eq 0 && $OUT == "{\"b\":\"0xff\",\"d\":null}" ]]'
sj dump "$K" k.bin --json --int64-strings --fields j,uj,i
check "dump --json --int64-strings" '[[ $RC -eq 0 && $OUT == "{\"j\":\"-4\",\"uj\":\"18446744073709551612\",\"i\":-3}" ]]'
printf '\x00\x00\xc0\xff\x00\x00\x80\x7f\x01\x00\xc0\x7f\x00\x00\x80\xff' >nan.bin
sj dump '[f4(a)f4(b)f4(c)f4(d)]' nan.bin --json --lossless
check "dump --json --lossless: NaN and infinities as strings, a NaN payload kept" \
    '[[ $RC -eq 0 && $OUT == "{\"a\":\"-nan\",\"b\":\"inf\",\"c\":\"nan:0x7fc00001\",\"d\":\"-inf\"}" ]]'
sj dump '[f4(a)f4(b)f4(c)f4(d)]' nan.bin
check "dump CSV: NaN keeps its sign" '[[ $RC -eq 0 && $OUT == "a,b,c,d
-nan,inf,nan,-inf" ]]'
sj dump '[f4(a)]' nan.bin --lossless
check "dump --lossless without --json is bad usage" 'usage_err'
printf '\x01\x00\x00\x00' >one.bin
sj dump '[s2(a"b)s2(c,d)]' one.bin --json
check "dump --json escapes member names" '[[ $RC -eq 0 && $OUT == "{\"a\\\"b\":1,\"c,d\":0}" ]]'
sj dump '[s2(a"b)s2(c,d)]' one.bin
check "dump CSV headers are paths (quoted names), CSV-quoted" '[[ $RC -eq 0 && $OUT == "\"'"'"'a\"\"b'"'"'\",\"'"'"'c,d'"'"'\"
1,0" ]]'

# Where records are: --skip (a header), --stride (records spaced wider), --count (exactly N).
# A WAV file from Python's wave module: 16-bit mono samples after a 44-byte header.
if command -v python3 >/dev/null 2>&1; then
    python3 - <<'PY'
import wave, struct
w = wave.open('tone.wav', 'wb')
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(struct.pack('<8h', 0, 1000, -1000, 32767, -32768, 7, -7, 12345))
w.close()
r = wave.open('tone.wav', 'rb')
open('tone.txt', 'w').write('\n'.join(str(v) for v in struct.unpack('<8h', r.readframes(8))) + '\n')
PY
    sj dump '[s2(sample)]' tone.wav --skip 44
    check "dump a WAV file's samples after its 44-byte header" \
        '[[ $RC -eq 0 && $OUT == "sample"$'"'"'\n'"'"'"$(cat tone.txt)" ]]'
    sj dump '[s2(sample)]' - --skip 44 < <(cat tone.wav)
    check "dump --skip from a pipe" '[[ $RC -eq 0 && $OUT == "sample"$'"'"'\n'"'"'"$(cat tone.txt)" ]]'
    sj dump --json --count 1 'struct riff { char id[4]; u32 size; char wave[4]; char fmt[4]; u32 fmt_size; u16 format; u16 channels; u32 rate; u32 byte_rate; u16 block_align; u16 bits; char data[4]; u32 data_size; }' tone.wav
    check "dump a WAV header (README): char[4] fields as text, --count 1 ignores the rest" \
        '[[ $RC -eq 0 && $OUT == "{\"id\":\"RIFF\",\"size\":52,\"wave\":\"WAVE\",\"fmt\":\"fmt \",\"fmt_size\":16,\"format\":1,\"channels\":1,\"rate\":8000,\"byte_rate\":16000,\"block_align\":2,\"bits\":16,\"data\":\"data\",\"data_size\":16}" ]]'
    sj dump '[s2(sample)]' tone.wav --skip 44 --count 3 --json
    check "dump --skip --count" '[[ $RC -eq 0 && $OUT == "{\"sample\":0}
{\"sample\":1000}
{\"sample\":-1000}" ]]'
fi
# Records [i4(a)i4(b)] read as [i4(a)] every 8 bytes; the last record's trailing gap may be
# missing.
printf '\x01\x00\x00\x00\xaa\xaa\xaa\xaa\x02\x00\x00\x00\xbb\xbb\xbb\xbb\x03\x00\x00\x00' >st.bin
for src in file pipe; do
    if [[ $src == file ]]; then sj dump '[i4(a)]' st.bin --stride 8; else sj dump '[i4(a)]' - --stride 8 < <(cat st.bin); fi
    check "dump --stride 8 ($src)" '[[ $RC -eq 0 && $OUT == "a
1
2
3" ]]'
    if [[ $src == file ]]; then sj dump '[i4(a)]' st.bin --stride 8 --skip 4; else sj dump '[i4(a)]' - --stride 8 --skip 4 < <(cat st.bin); fi
    check "dump --stride 8 --skip 4: the file ends in a gap ($src)" '[[ $RC -eq 0 && $OUT == "a
-1431655766
-1145324613" ]]'
    if [[ $src == file ]]; then sj dump '[i4(a)]' st.bin --stride 8 --skip 2; else sj dump '[i4(a)]' - --stride 8 --skip 2 < <(cat st.bin); fi
    check "dump --stride 8 --skip 2: a partial last record ($src)" \
        '[[ $RC -eq 1 && $ERR == "SJ_E_BOUNDS: FILE: record 2 at byte offset 18 is partial: "*" ends after 2 of its 4 bytes" ]]'
    if [[ $src == file ]]; then sj dump '[i4(a)]' st.bin --stride 8 --count 4; else sj dump '[i4(a)]' - --stride 8 --count 4 < <(cat st.bin); fi
    check "dump --count past the end names record and offset ($src)" \
        '[[ $RC -eq 1 && $ERR == "SJ_E_BOUNDS: FILE: record 3 at byte offset 24 is past the end of "* ]]'
    if [[ $src == file ]]; then sj dump '[i4(a)]' st.bin --skip 21; else sj dump '[i4(a)]' - --skip 21 < <(cat st.bin); fi
    check "dump --skip past the end ($src)" 'op_err SJ_E_BOUNDS && [[ $ERR == *"--skip 21 is past the end"* ]]'
done
sj dump '[i4(a)]' st.bin --stride 8 --count 2
check "dump --count: bytes after the records are ignored" '[[ $RC -eq 0 && $OUT == "a
1
2" ]]'
sj dump '[i4(a)i4(b)]' st.bin --stride 4
check "dump --stride below the record size" 'op_err SJ_E_ARG && [[ $ERR == *"--stride 4 is smaller than the LAYOUT record size 8"* ]]'
sj dump '[i4(a)]' st.bin --stride 0
check "dump --stride 0 is bad usage" 'usage_err'
sj dump '[i4(a)]' st.bin --count -1
check "dump --count -1 is bad usage" 'usage_err'
sj dump '[i4(a)]' st.bin --skip x
check "dump --skip x is bad usage" 'usage_err'
sj dump @- - <st.bin
check "dump @- -: both from standard input is bad usage" 'usage_err && [[ $ERR == *"standard input"* ]]'

# Spaced records are read a span (256 KiB) at a time, gaps and all, and moved together;
# gaps wider than 16 KiB in a regular file are seeked over. Records that cross spans,
# windows and batches, from a file and from a pipe, end to end and with a partial last
# record: the same records and messages either way.
if command -v python3 >/dev/null 2>&1; then
    python3 - <<'PY'
import struct
def make(name, n, skip, stride, tail):
    # n records [ui4(id)ui4(a)ui4(b)] at skip + i * stride, gaps of 0xEE, then `tail`
    # bytes of one more record; the expected CSV and big-endian conversion of the n.
    out = bytearray(b'\xee' * (skip + (n - 1) * stride + 12))
    csv, be = ['id,a,b'], bytearray()
    for i in range(n):
        v = (i, (i * 2654435761) & 0xffffffff, 0xffffffff - i)
        struct.pack_into('<3I', out, skip + i * stride, *v)
        csv.append('%d,%d,%d' % v)
        be += struct.pack('>3I', *v)
    if tail:
        out += b'\xee' * (stride - 12) + struct.pack('<3I', n, 1, 2)[:tail]
    open(name + '.bin', 'wb').write(out)
    open(name + '.csv', 'w').write('\n'.join(csv) + '\n')
    open(name + '.be', 'wb').write(be)
make('sp', 20011, 7, 28, 0)       # 560 KB: spans of 256 KiB, gaps of 16 bytes
make('sp-cut', 20011, 7, 28, 5)   # the same, and 5 bytes of record 20011
make('sp-far', 9, 3, 300001, 0)   # 2.4 MB: gaps wider than a span (seeked in a file)
make('sp-far-cut', 9, 3, 300001, 11)
PY
    R='[ui4(id)ui4(a)ui4(b)]'
    RB='[uI4(id)uI4(a)uI4(b)]'
    for f in sp sp-far; do
        [[ $f == sp ]] && place=(--skip 7 --stride 28) || place=(--skip 3 --stride 300001)
        for src in file pipe; do
            if [[ $src == file ]]; then sj dump "$R" $f.bin "${place[@]}"; else sj dump "$R" - "${place[@]}" < <(cat $f.bin); fi
            check "dump ${place[*]}: records across spans ($f, $src)" '[[ $RC -eq 0 && -z $ERR ]] && cmp -s .out $f.csv'
            if [[ $src == file ]]; then sj dump "$R" $f-cut.bin "${place[@]}"; else sj dump "$R" - "${place[@]}" < <(cat $f-cut.bin); fi
            n=$(($(wc -l <$f.csv) - 1))
            at=$((${place[1]} + n * ${place[3]}))
            if [[ $src == file ]]; then
                check "dump ${place[*]}: a partial last record, before any output ($f, file)" \
                    'op_err SJ_E_BOUNDS && [[ $ERR == "SJ_E_BOUNDS: FILE: record $n at byte offset $at is partial: '"'"'$f-cut.bin'"'"' ends after "*" of its 12 bytes" ]]'
            else
                check "dump ${place[*]}: a partial last record after the whole ones ($f, pipe)" \
                    '[[ $RC -eq 1 && $ERR == "SJ_E_BOUNDS: FILE: record $n at byte offset $at is partial: '"'"'-'"'"' ends after "*" of its 12 bytes" ]] && cmp -s .out $f.csv'
            fi
            for w in 1 100 4096 default; do
                wopt=()
                [[ $w == default ]] || wopt=(--window "$w")
                if [[ $src == file ]]; then sj convert "${wopt[@]}" "${place[@]}" --from "$R" --to "$RB" $f.bin -; else sj convert "${wopt[@]}" "${place[@]}" --from "$R" --to "$RB" - - < <(cat $f.bin); fi
                check "convert ${place[*]} --window $w: records across spans ($f, $src)" '[[ $RC -eq 0 && -z $ERR ]] && cmp -s .out $f.be'
                if [[ $src == file ]]; then sj convert "${wopt[@]}" "${place[@]}" --from "$R" --to "$RB" $f-cut.bin -; else sj convert "${wopt[@]}" "${place[@]}" --from "$R" --to "$RB" - - < <(cat $f-cut.bin); fi
                if [[ $src == file ]]; then
                    check "convert ${place[*]} --window $w: a partial last record ($f, file)" \
                        'op_err SJ_E_BOUNDS && [[ $ERR == "SJ_E_BOUNDS: IN: record $n at byte offset $at is partial: "* ]]'
                else
                    check "convert ${place[*]} --window $w: a partial last record after the whole ones ($f, pipe)" \
                        '[[ $RC -eq 1 && $ERR == "SJ_E_BOUNDS: IN: record $n at byte offset $at is partial: "* ]] && cmp -s .out $f.be'
                fi
            done
            # --count: exactly these records, the bytes after them not read
            if [[ $src == file ]]; then sj dump "$R" $f-cut.bin "${place[@]}" --count 5; else sj dump "$R" - "${place[@]}" --count 5 < <(cat $f-cut.bin); fi
            check "dump ${place[*]} --count 5 ($f, $src)" '[[ $RC -eq 0 && $OUT == "$(head -n 6 $f.csv)" ]]'
            if [[ $src == file ]]; then sj dump "$R" $f.bin "${place[@]}" --count $((n + 1)); else sj dump "$R" - "${place[@]}" --count $((n + 1)) < <(cat $f.bin); fi
            check "dump ${place[*]} --count past the end ($f, $src)" \
                '[[ $RC -eq 1 && $ERR == "SJ_E_BOUNDS: FILE: record $n at byte offset $at is past the end of "* ]]'
        done
    done
fi

# ---------------------------------------------------------------------------------------
# convert

A='struct rec { u32 id; f64 pos[3]; be i16 charge; u8 flags; }'
B='packed struct rec { be u64 id; be f64 pos[3]; i32 charge; u8 flags; }'
"$GEN" "$A" 1000 a.bin && "$GEN" "$B" 1000 b-expected.bin
check "segjit-gen wrote the inputs" '[[ $(stat -c %s a.bin) -eq 40000 && $(stat -c %s b-expected.bin) -eq 37000 ]]'

sj convert --from "$A" --to "$B" a.bin b.bin
check "convert: exit 0, quiet" '[[ $RC -eq 0 && -z $OUT && -z $ERR ]]'
check "convert: output equals the expected bytes" 'cmp -s b.bin b-expected.bin'
check "convert: no temporary file left" 'no_temps .'
rm -f b.bin
sj convert --window 1000 --from "$A" --to "$B" a.bin b.bin
check "convert in 25-record windows" '[[ $RC -eq 0 ]] && cmp -s b.bin b-expected.bin'
rm -f b.bin
sj convert --window 1 --from "$A" --to "$B" a.bin b.bin
check "convert one record per window" '[[ $RC -eq 0 ]] && cmp -s b.bin b-expected.bin'
sj convert --lossy --from "$B" --to "$A" b.bin a-back.bin
check "convert back gives the input" '[[ $RC -eq 0 ]] && cmp -s a-back.bin a.bin'
for tier in interp jit auto; do
    rm -f b.bin
    sj --tier "$tier" convert --from "$A" --to "$B" a.bin b.bin
    check "convert --tier $tier (before the command)" '[[ $RC -eq 0 ]] && cmp -s b.bin b-expected.bin'
    rm -f b.bin
    sj convert --from "$A" --to "$B" a.bin b.bin --tier "$tier"
    check "convert --tier $tier (after the command)" '[[ $RC -eq 0 ]] && cmp -s b.bin b-expected.bin'
done
sj convert --from "$A" --to "$B" a.bin -
check "convert to stdout (-)" '[[ $RC -eq 0 ]] && cmp -s .out b-expected.bin'
sj convert --from "$A" --to "$B" empty.bin b-empty.bin
check "convert an empty file" '[[ $RC -eq 0 && -f b-empty.bin && ! -s b-empty.bin ]]'

# The result does not depend on --window: a file is a sequence of records, decided once.
# A record of size 12 and alignment 8 cannot form one: the same error, before any output,
# whatever the window; a record that can gives the same bytes with every window.
"$GEN" '[j8(a)i4(b)x4]' 1000 w16.bin
"$GEN" 'packed struct { be i64 a; be i32 b; }' 1000 w12-expected.bin
head -c 12000 w16.bin >w12.bin
for w in 1 7 4096 default; do
    wopt=()
    [[ $w == default ]] || wopt=(--window "$w")
    sj convert "${wopt[@]}" --from '[j8(a)i4(b)]' --to '[J8(a)I4(b)]' w12.bin -
    check "convert --window $w: size 12 align 8 refused before any output" \
        'op_err SJ_E_ARG && [[ $ERR == "SJ_E_ARG: --from: the record layout has size 12, not a multiple of its alignment 8"* ]]'
    sj convert "${wopt[@]}" --from '[j8(a)i4(b)]' --to '[J8(a)I4(b)]' w12.bin w-out.bin
    check "convert --window $w: no OUT after the refusal" '[[ $RC -eq 1 && ! -e w-out.bin ]] && no_temps .'
    sj convert "${wopt[@]}" --from '[j8(a)i4(b)x4]' --to 'packed struct { be i64 a; be i32 b; }' w16.bin -
    check "convert --window $w: identical output" '[[ $RC -eq 0 && -z $ERR ]] && cmp -s .out w12-expected.bin'
    sj convert "${wopt[@]}" --from '[j8(a)i4(b)x4]' --to '[J8(a)I4(b)]' w16.bin -
    check "convert --window $w: --to of size 12 align 8 refused too" \
        'op_err SJ_E_ARG && [[ $ERR == "SJ_E_ARG: --to: "*"size 12"* ]]'
    sj convert "${wopt[@]}" --from 'packed struct { be i64 a; be i32 b; }' --to '[j8(a)i4(b)x4]' w12-expected.bin -
    check "convert --window $w: a packed source of size 12" '[[ $RC -eq 0 && $(stat -c %s .out) -eq 16000 ]]'
    cp .out w-back.bin
    sj convert "${wopt[@]}" --from '[j8(a)i4(b)x4]' --to 'packed struct { be i64 a; be i32 b; }' w-back.bin -
    check "convert --window $w: round trip through the padded layout" '[[ $RC -eq 0 ]] && cmp -s .out w12-expected.bin'
done

# convert reads standard input and pipes as dump does, and takes --skip, --stride, --count.
rm -f b.bin
sj convert --from "$A" --to "$B" - b.bin <a.bin
check "convert IN from standard input (a redirected file)" '[[ $RC -eq 0 && -z $ERR ]] && cmp -s b.bin b-expected.bin'
rm -f b.bin
sj convert --from "$A" --to "$B" - b.bin < <(cat a.bin)
check "convert IN from a pipe" '[[ $RC -eq 0 && -z $ERR ]] && cmp -s b.bin b-expected.bin'
sj convert --from "$A" --to "$B" - - < <(cat a.bin)
check "convert a pipe to standard output" '[[ $RC -eq 0 ]] && cmp -s .out b-expected.bin'
sj convert --from @- --to "$B" - b.bin <a.bin
check "convert: a layout and IN both from standard input is bad usage" 'usage_err'
# A 100-byte header, then records 5..14 of a.bin every 48 bytes (8 bytes of 0xEE between).
python3 -c "
import sys
a = open('a.bin', 'rb').read()
out = bytearray(b'H' * 100)
for i in range(5, 15):
    out += a[i * 40:(i + 1) * 40] + b'\xee' * 8
sys.stdout.buffer.write(bytes(out[:-8]) + b'\xee\xee')
" >hdr.bin
head -c $((15 * 37)) b-expected.bin | tail -c $((10 * 37)) >b-slice.bin
for w in 1 7 4096 default; do
    wopt=()
    [[ $w == default ]] || wopt=(--window "$w")
    sj convert "${wopt[@]}" --skip 100 --stride 48 --from "$A" --to "$B" hdr.bin -
    check "convert --skip --stride, --window $w" '[[ $RC -eq 0 && -z $ERR ]] && cmp -s .out b-slice.bin'
    sj convert "${wopt[@]}" --skip 100 --stride 48 --from "$A" --to "$B" - - < <(cat hdr.bin)
    check "convert --skip --stride from a pipe, --window $w" '[[ $RC -eq 0 && -z $ERR ]] && cmp -s .out b-slice.bin'
    sj convert "${wopt[@]}" --skip 100 --stride 48 --count 3 --from "$A" --to "$B" hdr.bin -
    check "convert --count 3, --window $w" '[[ $RC -eq 0 ]] && cmp -s .out <(head -c 111 b-slice.bin)'
    sj convert "${wopt[@]}" --skip 100 --stride 48 --count 11 --from "$A" --to "$B" hdr.bin -
    check "convert --count past the end: one error before any output, --window $w" \
        '[[ $RC -eq 1 && -z $OUT && $ERR == "SJ_E_BOUNDS: IN: record 10 at byte offset 580 is past the end of '"'"'hdr.bin'"'"' (574 bytes): --count 11 asks for more records than it holds" ]]'
done
sj convert --skip 100 --stride 44 --from "$A" --to "$B" hdr.bin -
check "convert --stride that does not fit the file: partial record named" \
    'op_err SJ_E_BOUNDS && [[ $ERR == "SJ_E_BOUNDS: IN: record 10 at byte offset 540 is partial: "* ]]'

# A progress bar only when stderr is a terminal (script(1) provides one, when ptys work).
if command -v script >/dev/null 2>&1 && script -qec true /dev/null </dev/null >/dev/null 2>&1; then
    rm -f b.bin
    script -qec "'$SEGJIT' convert --window 4K --from '$A' --to '$B' a.bin b.bin" /dev/null \
        </dev/null >tty.txt 2>&1
    RC=$?
    OUT=$(tr '\r' '\n' <tty.txt)
    ERR=
    check "convert on a terminal shows a progress bar" \
        '[[ $RC -eq 0 && $OUT == *"converting 100% [####"* ]] && cmp -s b.bin b-expected.bin'
fi

# Known bytes: fields reordered, byte order swapped, source padding (0xAA) not copied,
# destination padding zeroed.
printf '\x04\x03\x02\x01\xfe\xff\xaa\xaa\xff\xff\xff\xff\x34\x12\xaa\xaa' >s.bin
sj convert --from '[i4(a)s2(b)x2]' --to '[S2(b)x2I4(a)]' s.bin s-out.bin
check "convert known bytes" '[[ $RC -eq 0 && $(hex s-out.bin) == "ff fe 00 00 01 02 03 04 12 34 00 00 ff ff ff ff" ]]'
sj convert --from '[i4(a)s2(b)x2]' --to '[j8(a)s2(b)x6]' s.bin w.bin
check "convert widening" '[[ $RC -eq 0 && $(hex w.bin) == "04 03 02 01 00 00 00 00 fe ff 00 00 00 00 00 00 ff ff ff ff ff ff ff ff 34 12 00 00 00 00 00 00" ]]'

# Narrowing needs --lossy; unmatched fields need --zero-unmatched. Failures leave no OUT.
sj convert --from '[d8(v)]' --to '[f4(v)]' s.bin f.bin
check "convert: narrowing without --lossy fails" '[[ $RC -eq 1 && -z $OUT && $ERR == SJ_E_*"--lossy"* && ! -e f.bin ]] && one_line_err && no_temps .'
sj convert --lossy --from '[d8(v)]' --to '[f4(v)]' s.bin f.bin
check "convert --lossy" '[[ $RC -eq 0 && $(stat -c %s f.bin) -eq 8 ]]'
sj convert --from '[i4(a)s2(b)x2]' --to '[i4(a)s2(b)s2(c)]' s.bin u.bin
check "convert: unmatched field fails" '[[ $RC -eq 1 && $ERR == SJ_E_*"--zero-unmatched"* && ! -e u.bin ]] && one_line_err'
sj convert --zero-unmatched --from '[i4(a)s2(b)x2]' --to '[i4(a)s2(b)s2(c)]' s.bin u.bin
check "convert --zero-unmatched" '[[ $RC -eq 0 && $(hex u.bin) == "04 03 02 01 fe ff 00 00 ff ff ff ff 34 12 00 00" ]]'

# Trailing partial record: an error naming the offset, checked before anything is written.
head -c 100 a.bin >a-trunc.bin
sj convert --from "$A" --to "$B" a-trunc.bin t.bin
check "convert: trailing partial record" \
    '[[ $RC -eq 1 && -z $OUT && $ERR == "SJ_E_BOUNDS: IN: record 2 at byte offset 80 is partial: '"'"'a-trunc.bin'"'"' ends after 20 of its 40 bytes" ]]'
check "convert: trailing partial record creates no OUT" '[[ ! -e t.bin ]] && no_temps .'
echo "old content" >keep.bin
sj convert --from "$A" --to "$B" a-trunc.bin keep.bin
check "convert: a failure leaves an existing OUT alone" \
    '[[ $RC -eq 1 && $(cat keep.bin) == "old content" ]] && no_temps .'

sj convert --from "$A" --to "$B" missing-in.bin m.bin
check "convert: missing IN" 'op_err SJ_E_ARG && [[ $ERR == *"IN"*"missing-in.bin"* && ! -e m.bin ]]'
sj convert --from "$A" --to "$B" . m.bin
check "convert: IN is a directory" 'op_err SJ_E_ARG && [[ ! -e m.bin ]]'
sj convert --from '[i4(x)' --to "$B" a.bin m.bin
check "convert: bad --from layout" 'op_err SJ_E_PARSE && [[ $ERR == "SJ_E_PARSE: --from: "* ]]'

# Unwritable OUT (these fail even as root).
sj convert --from "$A" --to "$B" a.bin /dev/null/x.bin
check "convert: OUT under a file" 'op_err SJ_E_ARG && [[ $ERR == *"OUT"* ]]'
sj convert --from "$A" --to "$B" a.bin no-such-dir/x.bin
check "convert: OUT in a missing directory" 'op_err SJ_E_ARG && [[ ! -e no-such-dir ]]'
mkdir -p outdir
sj convert --from "$A" --to "$B" a.bin outdir
check "convert: OUT is a directory" 'op_err SJ_E_ARG && [[ -d outdir ]] && no_temps .'

# A read-only OUT is not replaced unless --force (the check uses the mode, so it holds for
# root too); its content and mode stay.
echo "read-only content" >ro.bin
chmod 444 ro.bin
sj convert --from "$A" --to "$B" a.bin ro.bin
check "convert: a read-only OUT is refused" \
    'op_err SJ_E_READONLY && [[ $ERR == *"read-only (mode 444); pass --force"* && $(cat ro.bin) == "read-only content" ]] && no_temps .'
sj convert --force --from "$A" --to "$B" a.bin ro.bin
check "convert --force replaces a read-only OUT, keeping its mode" \
    '[[ $RC -eq 0 ]] && cmp -s ro.bin b-expected.bin && [[ $(stat -c %a ro.bin) == 444 ]]'

# OUT through a symbolic link: the target is replaced, the link stays; modes are kept.
echo old >target.bin
chmod 640 target.bin
ln -sf target.bin link.bin
sj convert --from "$A" --to "$B" a.bin link.bin
check "convert through a symlink" '[[ $RC -eq 0 && -L link.bin ]] && cmp -s target.bin b-expected.bin'
check "convert keeps the mode of OUT" '[[ $(stat -c %a target.bin) == 640 ]]'
rm -f fresh.bin
(umask 022 && "$SEGJIT" convert --from "$A" --to "$B" a.bin fresh.bin)
check "convert: a new OUT gets 0666 & ~umask" '[[ $(stat -c %a fresh.bin) == 644 ]]'

# Interrupted conversions: OUT keeps its old content. SIGTERM removes the temporary file;
# kill -9 cannot be caught and may leave .OUT.segjit-XXXXXX behind (never a partial OUT).
"$GEN" "$A" 4M big.bin
mkdir -p killdir
# slow_convert ERRFILE: starts a slow conversion of big.bin into killdir/out.bin (old
# content "old content") in the background and waits up to 10 s for its temporary file;
# sets PID, and KSEEN to whether the conversion was seen midway.
slow_convert() {
    echo "old content" >killdir/out.bin
    "$SEGJIT" convert --window 1K --from "$A" --to "$B" big.bin killdir/out.bin 2>"$1" &
    PID=$!
    local i
    KSEEN=no
    for ((i = 0; i < 2000; i++)); do
        if compgen -G "killdir/.out.bin.segjit-*" >/dev/null; then
            KSEEN=yes
            break
        fi
        sleep 0.005
    done
}
# interrupt SIGNAL: slow_convert, then SIGNAL; sets KRC to the exit status.
interrupt() {
    slow_convert /dev/null
    local pid=$PID
    kill "-$1" "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    KRC=$?
}
interrupt KILL
check "kill -9 midway: the conversion was running" '[[ $KSEEN == yes && $KRC -eq 137 ]]'
check "kill -9 midway: OUT is the old content" '[[ $(cat killdir/out.bin) == "old content" ]]'
rm -f killdir/.out.bin.segjit-*
interrupt TERM
check "SIGTERM midway: the conversion was running" '[[ $KSEEN == yes && $KRC -eq 143 ]]'
check "SIGTERM midway: OUT is the old content" '[[ $(cat killdir/out.bin) == "old content" ]]'
check "SIGTERM midway: the temporary file is removed" 'no_temps killdir'
interrupt INT
check "SIGINT midway: OUT intact, no temporary file" \
    '[[ $KSEEN == yes && $KRC -eq 130 && $(cat killdir/out.bin) == "old content" ]] && no_temps killdir'

# IN truncated by another process while it is mapped: the access faults (SIGBUS); the tool
# reports it as a failed operation, one line, and leaves OUT and no temporary file behind.
slow_convert killdir/err
truncate -s 0 big.bin
wait "$PID"
RC=$?
OUT=""
ERR=$(cat killdir/err)
check "IN truncated midway: exit 1, one line SJ_E_BOUNDS" \
    '[[ $KSEEN == yes ]] && op_err SJ_E_BOUNDS && [[ $ERR == *"shrank while it was being read"* ]]'
check "IN truncated midway: OUT intact, no temporary file" \
    '[[ $(cat killdir/out.bin) == "old content" ]] && no_temps killdir'
rm -f big.bin

# ---------------------------------------------------------------------------------------
# stats

rm -rf "$XDG_CACHE_HOME"
sj stats
check "stats before any command" 'op_err SJ_E_ARG && [[ $ERR == *"no statistics"* ]]'
sj layout --summary i4
sj stats
check "stats: a command without --keep-stats writes none" 'op_err SJ_E_ARG && [[ $ERR == *"--keep-stats"* ]]'
sj --keep-stats layout --summary i4
sj stats
check "stats after a command" '[[ $RC -eq 0 && $OUT == "last command: segjit layout (exit status 0)"* && -z $ERR ]]'
sj convert --keep-stats --from "$A" --to "$B" a.bin b.bin
sj stats
check "stats after convert" '[[ $RC -eq 0 && $OUT == "last command: segjit convert (exit status 0)"* ]]'
check "stats shows counters" '[[ $(printf "%s\n" "$OUT" | wc -l) -gt 1 ]]'
check "stats shows declines by reason and the code cache" '[[ $OUT == *"declines "*"unavailable "*"plan "* && $OUT == *"code cache "* ]]'
check "stats shows the convert kernel" '[[ $OUT == *"kernel (convert)"*"runs 1 interpreter, 0 jit"* ]]'
sj --keep-stats --tier interp convert --from "$A" --to "$B" a.bin b.bin
sj stats
check "stats: the kernel's tier as set" '[[ $OUT == *"kernel (convert)   tier interp, last run interp"*"not compiled"* ]]'
sj stats
check "stats does not replace the last stats" '[[ $OUT == "last command: segjit convert"* ]]'
sj layout --summary '[i4' --keep-stats
sj stats
check "stats after a failed command" '[[ $OUT == "last command: segjit layout (exit status 1)"* ]]'
sj layout --summary --stats i4
check "--stats prints counters to stderr" '[[ $RC -eq 0 && $OUT == "i4 4 4" && -n $ERR ]]'
sj --stats convert --from "$A" --to "$B" a.bin b.bin
check "--stats before the command" '[[ $RC -eq 0 && -z $OUT && -n $ERR ]]'
sj --keep-stats layout --summary i4 &
sj --keep-stats convert --from "$A" --to "$B" a.bin b2.bin &
wait
sj stats
check "stats after two concurrent --keep-stats commands: one whole record" \
    '[[ $RC -eq 0 && $OUT == "last command: segjit "*"(exit status 0)"* && $(grep -c "^last command" <<<"$OUT") -eq 1 ]]'
(unset HOME XDG_CACHE_HOME && "$SEGJIT" --keep-stats layout --summary i4 >/dev/null 2>&1)
check "no HOME: commands still work" '[[ $? -eq 0 ]]'

# ---------------------------------------------------------------------------------------

echo
echo "$pass passed, $failed failed"
if [ "$failed" -ne 0 ]; then
    printf '  failed: %s\n' "${failures[@]}"
    exit 1
fi
rm -rf "$WORK"
exit 0
