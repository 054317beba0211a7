"""segjit._ffi: the C declarations the binding uses and the loaded libsegjit.

cffi in ABI mode: the declarations below are copied from include/segjit/*.h (only what
the binding calls) and the shared library is opened with dlopen, so importing segjit needs
no C compiler. Nothing else in the package talks to cffi's loader.
"""
import os

from cffi import FFI

ffi = FFI()
ffi.cdef(
    """
typedef enum sj_status {
    SJ_OK = 0, SJ_E_ARG, SJ_E_PATH, SJ_E_PARSE, SJ_E_BOUNDS, SJ_E_ALIGN, SJ_E_READONLY,
    SJ_E_CLOSED, SJ_E_THREAD, SJ_E_UNSUPPORTED, SJ_E_OVERFLOW, SJ_E_NOMEM, SJ_E_BUSY, SJ_STATUS_COUNT
} sj_status;
typedef struct sj_error { sj_status status; char message[320]; } sj_error;
const char *sj_status_name(sj_status status);

typedef struct sj_layout sj_layout;
typedef enum sj_kind {
    SJ_BOOL, SJ_I8, SJ_U8, SJ_CHAR, SJ_I16, SJ_U16, SJ_I32, SJ_U32, SJ_F32, SJ_I64, SJ_U64,
    SJ_F64, SJ_ADDR, SJ_KIND_COUNT
} sj_kind;
typedef enum sj_tag { SJ_VALUE, SJ_STRUCT, SJ_UNION, SJ_SEQUENCE, SJ_PADDING } sj_tag;
typedef enum sj_order { SJ_ORDER_NATIVE, SJ_ORDER_LITTLE, SJ_ORDER_BIG } sj_order;

sj_status sj_layout_value(sj_kind kind, sj_layout **out, sj_error *err);
sj_status sj_layout_struct(const sj_layout *const *members, size_t count, sj_layout **out,
                           sj_error *err);
sj_status sj_layout_sequence(int64_t count, const sj_layout *elem, sj_layout **out,
                             sj_error *err);
sj_status sj_layout_padding(int64_t size, sj_layout **out, sj_error *err);
sj_status sj_layout_with_name(const sj_layout *l, const char *name, sj_layout **out,
                              sj_error *err);
sj_status sj_layout_with_align(const sj_layout *l, int64_t align, sj_layout **out,
                               sj_error *err);
sj_status sj_layout_with_order(const sj_layout *l, sj_order order, sj_layout **out,
                               sj_error *err);
sj_layout *sj_layout_ref(const sj_layout *l);
void sj_layout_unref(const sj_layout *l);
sj_tag sj_layout_tag(const sj_layout *l);
uint64_t sj_layout_size(const sj_layout *l);
uint64_t sj_layout_align(const sj_layout *l);
const char *sj_layout_name(const sj_layout *l);
sj_kind sj_layout_kind(const sj_layout *l);
sj_order sj_layout_order(const sj_layout *l);
size_t sj_layout_member_count(const sj_layout *l);
const sj_layout *sj_layout_member(const sj_layout *l, size_t i);
uint64_t sj_layout_member_offset(const sj_layout *l, size_t i);
uint64_t sj_layout_elem_count(const sj_layout *l);
const sj_layout *sj_layout_elem(const sj_layout *l);
bool sj_layout_equal(const sj_layout *a, const sj_layout *b);
uint64_t sj_layout_hash(const sj_layout *l);
sj_status sj_layout_parse(const char *text, sj_layout **out, sj_error *err);
sj_status sj_layout_parse_c(const char *text, sj_layout **out, sj_error *err);
sj_status sj_layout_print(const sj_layout *l, char **out, sj_error *err);
sj_status sj_layout_table(const sj_layout *l, char **out, sj_error *err);

typedef struct sj_path sj_path;
sj_status sj_path_parse(const sj_layout *root, const char *text, sj_path **out, sj_error *err);
void sj_path_free(sj_path *p);
const sj_layout *sj_path_leaf(const sj_path *p);

struct sj_scope;
typedef struct sj_arena { struct sj_scope *scope; uint64_t key; } sj_arena;
typedef enum sj_arena_kind { SJ_ARENA_CONFINED, SJ_ARENA_SHARED } sj_arena_kind;
typedef void *(*sj_heap_resolve_fn)(void *owner);
typedef void (*sj_heap_pin_fn)(void *owner);
typedef struct sj_segment {
    uint8_t *base; uint64_t size; uint64_t vaddr; sj_arena arena; void *owner;
    sj_heap_resolve_fn resolve; uint32_t flags; uint32_t elem_size;
    sj_heap_pin_fn pin; sj_heap_pin_fn unpin;
} sj_segment;
sj_status sj_arena_open(sj_arena_kind kind, sj_arena *out, sj_error *err);
sj_status sj_arena_close(sj_arena arena, sj_error *err);
bool sj_arena_is_alive(sj_arena arena);
sj_status sj_arena_allocate(sj_arena arena, int64_t size, int64_t align, sj_segment *out,
                            sj_error *err);
sj_status sj_segment_native(void *addr, int64_t size, sj_segment *out, sj_error *err);
sj_status sj_segment_slice(const sj_segment *s, int64_t offset, int64_t size, sj_segment *out,
                           sj_error *err);
sj_segment sj_segment_readonly(const sj_segment *s);
uint64_t sj_segment_size(const sj_segment *s);

typedef union sj_value {
    bool z; int8_t i8; uint8_t u8; uint16_t c16; int16_t i16; uint16_t u16; int32_t i32;
    uint32_t u32; float f32; int64_t i64; uint64_t u64; double f64; uint64_t addr;
} sj_value;

typedef struct sj_kernel sj_kernel;
typedef enum sj_reduce_op { SJ_REDUCE_SUM, SJ_REDUCE_MIN, SJ_REDUCE_MAX } sj_reduce_op;
typedef struct sj_args {
    const sj_segment *src; int64_t src_offset; const sj_segment *dst; int64_t dst_offset;
    int64_t count;
} sj_args;
typedef struct sj_args_many {
    const sj_segment *src; int64_t src_offset; const sj_segment *const *dsts;
    const int64_t *dst_offsets; size_t ndst; int64_t count;
} sj_args_many;
sj_status sj_kernel_copy(const sj_layout *src_elem, const sj_layout *dst_elem,
                         sj_kernel **out, sj_error *err);
sj_status sj_kernel_convert(const sj_layout *src_rec, const sj_layout *dst_rec,
                            unsigned flags, sj_kernel **out, sj_error *err);
sj_status sj_kernel_gather(const sj_path *src_path, const sj_layout *dst_elem, unsigned flags,
                           sj_kernel **out, sj_error *err);
sj_status sj_kernel_gather_many(const sj_path *const *src_paths,
                                const sj_layout *const *dst_elems, size_t k, unsigned flags,
                                sj_kernel **out, sj_error *err);
sj_status sj_kernel_scatter(const sj_layout *src_elem, const sj_path *dst_path,
                            unsigned flags, sj_kernel **out, sj_error *err);
/* sj_value by value: libffi (ABI mode) passes no unions, so the 8-byte union goes as its
 * bits in a uint64_t, which both x86-64 SysV and AArch64 pass the same way (one general
 * register: a union with an integer member is class INTEGER; a non-HFA composite of 8
 * bytes goes in an X register). */
sj_status sj_kernel_fill(const sj_layout *elem, uint64_t v_bits, sj_kernel **out,
                         sj_error *err);
sj_status sj_kernel_reduce(const sj_path *path, sj_reduce_op op, sj_kernel **out,
                           sj_error *err);
void sj_kernel_free(sj_kernel *k);
sj_status sj_kernel_run(const sj_kernel *k, const sj_args *args, sj_value *result,
                        sj_error *err);
sj_status sj_kernel_run_many(const sj_kernel *k, const sj_args_many *args, sj_error *err);
sj_status sj_kernel_describe(const sj_kernel *k, char **out, sj_error *err);
sj_status sj_copy_bytes(const sj_segment *src, int64_t src_offset, const sj_segment *dst,
                        int64_t dst_offset, int64_t bytes, sj_error *err);
sj_status sj_mismatch(const sj_segment *a, int64_t a_from, int64_t a_to, const sj_segment *b,
                      int64_t b_from, int64_t b_to, int64_t *out, sj_error *err);
void free(void *p);
"""
)

CONVERT_LOSSY = 1
CONVERT_ZERO_UNMATCHED = 2


def _candidates():
    """Where libsegjit.so is looked for, in order (the first that exists is opened)."""
    env = os.environ.get("SEGJIT_LIBRARY")
    if env:
        return [env]  # named explicitly: no fallback hides a wrong path
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    return [
        os.path.join(here, "libsegjit.so"),  # installed next to the package
        os.path.join(repo, "build", "libsegjit.so"),  # the source tree's build
        "libsegjit.so.0",  # the system loader (ldconfig, LD_LIBRARY_PATH)
        "libsegjit.so",
    ]


def _open():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (absent)")
            continue
        try:
            return ffi.dlopen(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError(
        "segjit: cannot load libsegjit.so; set SEGJIT_LIBRARY to the built library. Tried: "
        + "; ".join(tried)
    )


lib, library_path = _open()
