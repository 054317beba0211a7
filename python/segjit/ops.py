"""segjit.ops: the kernels (convert, to_columns, from_columns, gather, scatter, reduce,
copy, fill, mismatch) over Python buffers and arena segments, and the kernel cache.

A buffer is held through the buffer protocol for exactly one call (a bytearray cannot be
resized meanwhile) and released when the call returns. Record counts come from the buffer
size. cffi releases the GIL for the duration of each library call, so kernels run in
parallel in several Python threads.
"""
import collections
import platform
import re
import threading
import weakref

import numpy as np

from ._core import cbytes, check, new_error
from ._ffi import CONVERT_LOSSY, CONVERT_ZERO_UNMATCHED, ffi, lib
from .errors import ArgumentError, BoundsError, Error, UnsupportedError
from .layout import Layout, as_layout

# ---- buffers ----

_SEGMENT_T = ffi.typeof("sj_segment *")
_BYTES_T = ffi.typeof("uint8_t[]")
_ARGS_T = ffi.typeof("sj_args *")


_Segment = None


def _segment_class():
    global _Segment
    if _Segment is None:
        from .arena import Segment  # imported late: arena imports this module

        _Segment = Segment
    return _Segment


class _Held:
    """One operand of a call: a native segment over a Python buffer (held until close) or
    an arena Segment. `readonly` buffers become read-only segments, so that a write
    through them is the library's SJ_E_READONLY."""

    __slots__ = ("seg", "nbytes", "_cdata")

    def __init__(self, obj, writable, what):
        self._cdata = None
        if isinstance(obj, _segment_class()):
            self.seg = obj._seg
            self.nbytes = obj.size
            return
        if _holds_objects(obj):
            raise TypeError("%s: a buffer of Python objects (numpy dtype object, or with object "
                            "fields) holds references, not values: segjit neither reads nor "
                            "writes them" % what)
        if isinstance(obj, np.ndarray) and not obj.flags.c_contiguous:
            if writable:
                raise ArgumentError("%s: a numpy array that is not C-contiguous cannot be "
                                    "written in place" % what, "SJ_E_ARG")
            obj = np.ascontiguousarray(obj)
        readonly = False
        try:
            try:
                self._cdata = ffi.from_buffer(_BYTES_T, obj, require_writable=writable)
            except (BufferError, ValueError):
                # bytes raise BufferError, a read-only numpy array ValueError: take it
                # read-only, and let the library report the write (SJ_E_READONLY)
                if not writable:
                    raise
                self._cdata = ffi.from_buffer(_BYTES_T, obj)
                readonly = True
        except TypeError:
            raise TypeError("%s: %s does not support the buffer protocol"
                            % (what, type(obj).__name__)) from None
        except ValueError as e:  # e.g. a non-contiguous memoryview
            raise ArgumentError("%s: %s" % (what, e), "SJ_E_ARG") from None
        self.nbytes = len(self._cdata)
        self.seg = ffi.new(_SEGMENT_T)
        # an empty buffer is the segment of 0 bytes at address 0, which every alignment
        # accepts (SEMANTICS 3.2): where numpy put an empty view is no concern of a call
        # that touches no byte (a numpy view may sit at an odd address, yet be "aligned")
        addr = self._cdata if self.nbytes else ffi.NULL
        err = new_error()
        try:
            check(lib.sj_segment_native(addr, self.nbytes, self.seg, err), err)
        except BaseException:
            self.close()
            raise
        if readonly:
            self.seg[0] = lib.sj_segment_readonly(self.seg)

    def close(self):
        if self._cdata is not None:
            ffi.release(self._cdata)
            self._cdata = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_FORMAT_NAMES = re.compile(r":[^:]*:")  # the field names of a PEP 3118 struct format


def _holds_objects(obj):
    """True when a buffer's bytes are (or lie among) PyObject pointers: a numpy array whose
    dtype has objects (a multi-field view of one too), a view of such an array, a buffer
    whose format has 'O'. Writing values over them would crash the interpreter."""
    if isinstance(obj, (bytes, bytearray)):
        return False
    if not isinstance(obj, (np.ndarray, memoryview)):
        try:
            with memoryview(obj) as m:
                return _holds_objects(m)
        except (TypeError, ValueError, BufferError):
            return False  # not a buffer: from_buffer says so
    for _ in range(64):  # down the chain of views to the owner (numpy keeps it short)
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                return True
            obj = obj.base
        elif isinstance(obj, memoryview):
            try:
                fmt = obj.format
            except ValueError:
                return False  # released: from_buffer says so
            if "O" in _FORMAT_NAMES.sub("", fmt):
                return True
            obj = obj.obj
        else:
            return False
    return False


def _count(nbytes, size, what):
    if size == 0:
        raise ArgumentError("%s: a layout of 0 bytes has no element count" % what, "SJ_E_ARG")
    if nbytes % size:
        raise ArgumentError("%s: a buffer of %d bytes is not a whole number of %d-byte "
                            "elements" % (what, nbytes, size), "SJ_E_ARG")
    return nbytes // size


def _layout_of(buf, lay, what):
    if lay is not None:
        return as_layout(lay)
    dt = getattr(buf, "dtype", None)
    if dt is None:
        raise TypeError("%s: give a layout (or dtype) for a %s" % (what, type(buf).__name__))
    lay = as_layout(np.dtype(dt))
    flags = getattr(buf, "flags", None)
    if flags is not None and not flags.aligned and lay.alignment > 1:
        # numpy reads such an array unaligned: so does segjit, through the same dtype with
        # every struct unaligned (an aligned struct cannot be given alignment 1)
        lay = as_layout(_unaligned(np.dtype(dt)))
        return lay.with_align(1) if lay.alignment > 1 else lay
    return lay


def _unaligned(dt):
    """dt with the same offsets and sizes, no struct in it marked aligned (align=False)."""
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        return np.dtype((_unaligned(base), shape))
    if dt.names is None:
        return dt
    fields = [dt.fields[n] for n in dt.names]
    spec = {"names": list(dt.names), "formats": [_unaligned(f[0]) for f in fields],
            "offsets": [f[1] for f in fields], "itemsize": dt.itemsize}
    titles = [f[2] if len(f) > 2 else None for f in fields]
    if any(t is not None for t in titles):
        spec["titles"] = titles
    return np.dtype(spec, align=False)


def _new_array(lay, n):
    """An uninitialised array of n elements of lay (the kernels write every byte)."""
    try:
        dt = lay.dtype
    except Exception:
        dt = np.dtype("V%d" % lay.size) if lay.size else np.dtype("u1")
    return np.empty(n, dtype=dt)


# ---- the kernel cache ----


class _Kernel:
    __slots__ = ("ptr", "keep")

    def __init__(self, ptr, keep=()):
        self.ptr = ffi.gc(ptr, lib.sj_kernel_free)
        self.keep = keep  # layouts and paths the kernel was built from

    def describe(self):
        err, out = new_error(), ffi.new("char **")
        check(lib.sj_kernel_describe(self.ptr, out, err), err)
        from ._core import take_string

        return take_string(out)


class _Path:
    __slots__ = ("ptr", "root")

    def __init__(self, root, text):
        out, err = ffi.new("sj_path **"), new_error()
        check(lib.sj_path_parse(root._ptr, cbytes(text, "path"), out, err), err)
        self.ptr = ffi.gc(out[0], lib.sj_path_free)
        self.root = root

    @property
    def leaf(self):
        return Layout._borrow(lib.sj_path_leaf(self.ptr))


_INT64_MAX = (1 << 63) - 1
# str(record) -> its open root, while a kernel or a plan built on it lives
_roots = weakref.WeakValueDictionary()


def _open_root(rec):
    """The open records [*:rec] (the largest count that fits 63 bits), built once per record
    layout and shared by every path kernel over it: a sequence over rec's own nodes, as the
    C API builds one (sj_layout_sequence(INT64_MAX / size, rec)), not a parse of its text,
    which would copy the whole record into each kernel."""
    key = str(rec)
    with _cache_lock:
        root = _roots.get(key)
    if root is None:
        try:
            root = Layout.sequence(_INT64_MAX // (rec.size or 1), rec)
        except Error:
            # refused (an element size that is not a multiple of its alignment): the text
            # gives the error the binding has always given, with its position
            root = Layout("[*:%s]" % rec)
        with _cache_lock:
            root = _roots.setdefault(key, root)
    return root


CACHE_SIZE = 256
_cache = collections.OrderedDict()
_cache_lock = threading.Lock()
stats = {"hits": 0, "misses": 0}


def _cached(key, build):
    """The kernel for key, built by build() on a miss. Least recently used kernels beyond
    CACHE_SIZE are dropped (freed once no running call holds them)."""
    with _cache_lock:
        k = _cache.get(key)
        if k is not None:
            _cache.move_to_end(key)
            stats["hits"] += 1
            return k
    k = build()  # outside the lock: building may compile nothing yet, but may be slow
    with _cache_lock:
        stats["misses"] += 1
        _cache[key] = k
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return k


def clear_cache():
    """Drops every kept kernel (and the record plans of to_columns and from_columns)."""
    with _cache_lock:
        _cache.clear()
        _plans.clear()
        _swapped.clear()


def _build(fn, *args, keep=()):
    out, err = ffi.new("sj_kernel **"), new_error()
    check(fn(*args, out, err), err)
    return _Kernel(out[0], keep)


def _run(kernel, src, dst, count, result=None):
    args = ffi.new(_ARGS_T)
    args.src = src.seg if src is not None else ffi.NULL
    args.dst = dst.seg if dst is not None else ffi.NULL
    args.count = count
    err = new_error()
    check(lib.sj_kernel_run(kernel.ptr, args, result if result is not None else ffi.NULL,
                            err), err)


def _flags(lossy, zero_unmatched=False):
    return (CONVERT_LOSSY if lossy else 0) | (CONVERT_ZERO_UNMATCHED if zero_unmatched else 0)


def _record_path(path):
    """Path text over the records: "x" and ".x" become "[*].x"; "[*]..." is kept."""
    if not isinstance(path, str):
        raise TypeError("path must be a str, not %s" % type(path).__name__)
    if path.startswith("["):
        if not path.startswith("[*]"):  # the count comes from the buffer: records are [*]
            raise ArgumentError("path %r: a path over the records starts with their free "
                                "index, [*] (to take some records, slice the array: "
                                "a[1:2], a[::2])" % path, "SJ_E_ARG")
        return path
    return "[*]" + (path if path.startswith(".") else "." + path)


_IDENT = re.compile(r"[A-Za-z0-9_$]+")


def _path_name(name):
    """A field name as a path step (SEMANTICS 4.5): as it is when it is an identifier, else
    quoted, ' and \\ escaped ("a.b" is 'a.b', not field b of a), as the library renders it."""
    if _IDENT.fullmatch(name):
        return name
    return "'%s'" % name.replace("\\", "\\\\").replace("'", "\\'")


def _path_kernel(op, rec, n, path, build, extra=()):
    """Kernels over a path run over open records ([*:rec]): the count comes from each call
    and is checked against the buffer, so one kernel serves every count (`n` is unused)."""
    text = _record_path(path)

    def make():
        return build(_Path(_open_root(rec), text))

    return _cached((op, str(rec), text) + tuple(extra), make)


# ---- operations ----


def convert(src, src_layout=None, dst_layout=None, *, lossy=False, zero_unmatched=False,
            out=None):
    """Converts records by field name (nested by path), each for byte order and numeric
    kind: the records of `src` (its size / the source record size) into a new array of
    dst_layout's dtype, or into `out`. Layouts are Layout objects, numpy dtypes or text;
    src_layout defaults to src.dtype, dst_layout to out.dtype. lossy allows narrowing and
    float<->int; zero_unmatched zeroes destination fields with no source (otherwise they
    are an ArgumentError). Returns the destination."""
    srec = _layout_of(src, src_layout, "convert: source")
    if dst_layout is None and out is None:
        raise TypeError("convert: give dst_layout or out")
    drec = _layout_of(out, dst_layout, "convert: destination")
    flags = _flags(lossy, zero_unmatched)
    k = _cached(("convert", str(srec), str(drec), flags),
                lambda: _build(lib.sj_kernel_convert, srec._ptr, drec._ptr, flags,
                               keep=(srec, drec)))
    with _Held(src, False, "convert: source") as s:
        n = _count(s.nbytes, srec.size, "convert: source")
        if out is None:
            result = _new_array(drec, n)
            with _Held(result, True, "convert: out") as d:
                _run(k, s, d, n)
            if isinstance(dst_layout, np.dtype) and dst_layout.itemsize == result.itemsize:
                result = result.view(dst_layout)  # the dtype asked for, names and all
            return result
        odt = getattr(out, "dtype", None)
        if not _has_holes(odt) or odt.itemsize != drec.size:
            with _Held(out, True, "convert: out") as d:
                _check_len(d.nbytes, n, drec.size, "convert: out")
                _run(k, s, d, n)
            return out
        _check_len(out.nbytes, n, drec.size, "convert: out")
        # bytes of `out` outside its dtype's fields (a multi-field view's other fields,
        # padding) are not the kernel's to zero, whatever dst_layout says: converted apart,
        # assigned field by field
        if out.nbytes < n * drec.size:  # the library's check, which never sees `out` here
            raise BoundsError("convert: out: %d bytes for %d elements of %d bytes"
                              % (out.nbytes, n, drec.size), "SJ_E_BOUNDS")
        tmp = _new_array(drec, n)
        with _Held(tmp, True, "convert: out") as d:
            _run(k, s, d, n)
    tmp = tmp.view(out.dtype)
    for name in out.dtype.names:
        out[name] = tmp[name]
    return out


def _has_holes(dt):
    """True when some byte of a structured dtype belongs to no field (padding, or another
    field of the array a multi-field view selects from)."""
    if dt is None:
        return False
    if dt.names is None:
        return dt.subdtype is not None and _has_holes(dt.subdtype[0])
    pos = 0
    for off, fdt in sorted((dt.fields[n][1], dt.fields[n][0]) for n in dt.names):
        if off > pos or _has_holes(fdt):
            return True
        pos = max(pos, off + fdt.itemsize)
    return pos < dt.itemsize


def _check_len(nbytes, n, size, what):
    """An `out` of nbytes must not hold more than n elements of `size` bytes (numpy's
    assignment asks as much; a longer one would keep a tail the call never wrote)."""
    if nbytes > n * size:  # a shorter one is the library's SJ_E_BOUNDS
        raise ArgumentError("%s: %d bytes for %d elements of %d bytes" % (what, nbytes, n, size),
                            "SJ_E_ARG")


def gather(src, layout=None, path=None, dtype=None, *, lossy=False, out=None):
    """The value at `path` of every record of `src` into a dense array: path "x" (or
    "[*].x", "pos.x", "v[2]") over records of `layout` (default src.dtype); the element
    type `dtype` (a dtype or Layout; default out's dtype when out is given, else the
    field's kind in native byte order). Returns the array."""
    rec = _layout_of(src, layout, "gather: source")
    with _Held(src, False, "gather: source") as s:
        n = _count(s.nbytes, rec.size, "gather: source")
        if dtype is None and out is not None and hasattr(out, "dtype"):
            dtype = out.dtype  # the element type of the array given
        elem = None if dtype is None else as_layout(dtype)

        def build(p):
            e = elem if elem is not None else _native(p.leaf)
            return _build(lib.sj_kernel_gather, p.ptr, e._ptr, _flags(lossy), keep=(p, e))

        k = _path_kernel("gather", rec, n, path, build,
                         (None if elem is None else str(elem), lossy))
        e = k.keep[1]
        given, out = out is not None, out if out is not None else _new_array(e, n)
        with _Held(out, True, "gather: out") as d:
            if given:
                _check_len(d.nbytes, n, e.size, "gather: out")
            _run(k, s, d, n)
    return out


def scatter(values, dst, layout=None, path=None, *, lossy=False):
    """The reverse of gather: the dense array `values` into the value at `path` of every
    record of `dst` (records of `layout`, default dst.dtype), in place. The count is the
    number of records in dst; values must hold exactly that many elements."""
    rec = _layout_of(dst, layout, "scatter: destination")
    values, k = _scatter_kernel(values, rec, path, lossy)
    with _Held(dst, True, "scatter: destination") as d:
        n = _count(d.nbytes, rec.size, "scatter: destination")
        _scatter_run(k, values, d, n)


def _scatter_kernel(values, rec, path, lossy, plan=None):
    """(values as an array, the kernel scattering them to `path` of records `rec`), kept
    by `plan` (rec's _RecordPlan) when given, else by the kernel cache."""
    values = np.asarray(values) if not isinstance(values, (bytes, bytearray, memoryview)) \
        else values
    elem = _layout_of(values, None, "scatter: values") if hasattr(values, "dtype") else None
    if elem is None:
        raise TypeError("scatter: values must be a numpy array")
    if values.ndim != 1:
        raise ArgumentError("scatter: values must be 1-D, not of shape %s" % (values.shape,),
                            "SJ_E_ARG")

    def build(p):
        return _build(lib.sj_kernel_scatter, elem._ptr, p.ptr, _flags(lossy), keep=(p, elem))

    if plan is None:
        return values, _path_kernel("scatter", rec, 0, path, build, (str(elem), lossy))
    text = _record_path(path)
    return values, plan.kernel(("scatter", text, str(elem), lossy),
                               lambda: build(_Path(plan.root, text)))


def _scatter_run(k, values, d, n):
    if len(values) > n:  # fewer are the library's SJ_E_BOUNDS
        raise ArgumentError("scatter: %d values for %d records" % (len(values), n), "SJ_E_ARG")
    with _Held(values, False, "scatter: values") as s:
        _run(k, s, d, n)


_REDUCE = {"sum": lib.SJ_REDUCE_SUM, "min": lib.SJ_REDUCE_MIN, "max": lib.SJ_REDUCE_MAX}


def reduce(src, layout=None, path=None, op="sum"):
    """sum, min or max of the numeric value at `path` over every record of `src`. Sums of
    signed integers are int64 (wrapping), of unsigned ones uint64, of floats float64 in
    the library's fixed order (the same bits on every tier). An empty src gives the
    library's identity (0 for sum)."""
    if op not in _REDUCE:
        raise ValueError("reduce: op must be 'sum', 'min' or 'max', not %r" % (op,))
    rec = _layout_of(src, layout, "reduce: source")
    with _Held(src, False, "reduce: source") as s:
        n = _count(s.nbytes, rec.size, "reduce: source")
        k = _path_kernel("reduce", rec, n, path,
                         lambda p: _build(lib.sj_kernel_reduce, p.ptr, _REDUCE[op], keep=(p,)),
                         (op,))
        r = ffi.new("sj_value *")
        _run(k, s, None, n, r)
    kind = k.keep[0].leaf.kind
    if kind in ("f32", "f64"):
        return float(r.f64)
    if kind in ("i8", "i16", "i32", "i64"):
        return int(r.i64)
    return int(r.u64)


_swapped = {}  # str(value layout) -> it in the other byte order (its text, dtype kept)


def copy(src, src_elem=None, dst_elem=None, *, out=None):
    """Element copy (MemorySegment.copy): every element of src (src_elem, default
    src.dtype) into a new array of dst_elem (default: src_elem byte-swapped when wider
    than a byte) or into `out`. Sizes must be equal; value elements are byte-reversed where
    the byte orders differ; records (structs, subarrays) are moved as they are, so records
    that differ only in byte order are an ArgumentError (use convert)."""
    se = _layout_of(src, src_elem, "copy: source")
    if dst_elem is None and out is None:
        if se.kind is None:
            raise TypeError("copy: give dst_elem or out")
        de = _swapped.get(str(se))
        if de is None:
            de = se.with_order("little" if se.byte_order == "big" else "big")
            with _cache_lock:
                if len(_swapped) >= CACHE_SIZE:
                    _swapped.clear()
                _swapped[str(se)] = de
    else:
        de = _layout_of(out, dst_elem, "copy: destination")
    if (se.kind is None or de.kind is None) and se != de and _native(se) == _native(de):
        # the library swaps value elements only: records would come out with the wrong order
        raise ArgumentError("copy: %s and %s differ in byte order inside a record: copy moves "
                            "records as they are; convert swaps them field by field"
                            % (se, de), "SJ_E_ARG")
    k = _cached(("copy", str(se), str(de)),
                lambda: _build(lib.sj_kernel_copy, se._ptr, de._ptr, keep=(se, de)))
    with _Held(src, False, "copy: source") as s:
        n = _count(s.nbytes, se.size, "copy: source")
        given, out = out is not None, out if out is not None else _new_array(de, n)
        with _Held(out, True, "copy: out") as d:
            if given:
                _check_len(d.nbytes, n, de.size, "copy: out")
            _run(k, s, d, n)
    return out


_VALUE_MEMBER = {"bool": "z", "i8": "i8", "u8": "u8", "char": "c16", "i16": "i16",
                 "u16": "u16", "i32": "i32", "u32": "u32", "f32": "f32", "i64": "i64",
                 "u64": "u64", "f64": "f64", "addr": "addr"}


def _value_bits(kind, v):
    """The bits of an sj_value holding v as `kind` (see _ffi: passed as a uint64_t)."""
    val = ffi.new("sj_value *")
    if kind == "char" and isinstance(v, str) and len(v) == 1:
        v = ord(v)  # a 16-bit unsigned character, as Java's char: above U+FFFF overflows
    try:
        setattr(val, _VALUE_MEMBER[kind], v)
    except OverflowError:
        raise OverflowError("%r does not fit a %s" % (v, kind)) from None
    except TypeError:
        raise TypeError("%r is not a value of kind %s" % (v, kind)) from None
    return ffi.cast("uint64_t *", val)[0]


def fill(dst, elem=None, value=0):
    """Sets every element of dst (elements of the value layout `elem`, default dst.dtype)
    to value, in place."""
    e = _layout_of(dst, elem, "fill: destination")
    if e.kind is None:
        raise ArgumentError("fill: %s is not a value layout" % e, "SJ_E_ARG")
    if platform.machine() not in ("x86_64", "AMD64", "aarch64", "arm64"):
        raise UnsupportedError("fill: passing an sj_value in ABI mode is only known to be "
                               "right on x86-64 and AArch64, not %s" % platform.machine(),
                               "SJ_E_UNSUPPORTED")
    v = _value_bits(e.kind, value)
    k = _cached(("fill", str(e), v),  # the bits: 0.1 and float32(0.1), nan and -nan differ
                lambda: _build(lib.sj_kernel_fill, e._ptr, v, keep=(e,)))
    with _Held(dst, True, "fill: destination") as d:
        _run(k, None, d, _count(d.nbytes, e.size, "fill: destination"))


def mismatch(a, b):
    """Byte index of the first difference between buffers a and b; the shorter length
    when one is a prefix of the other; -1 when equal (MemorySegment.mismatch)."""
    with _Held(a, False, "mismatch: a") as sa, _Held(b, False, "mismatch: b") as sb:
        out, err = ffi.new("int64_t *"), new_error()
        check(lib.sj_mismatch(sa.seg, 0, sa.nbytes, sb.seg, 0, sb.nbytes, out, err), err)
        return int(out[0])


def _native(lay):
    """The same layout with every value in native byte order (names, padding kept)."""
    t = lay.tag
    if t == "value":
        n = lay.with_order("native")
        return n.with_name(lay.name) if lay.name is not None else n
    if t == "sequence":
        s = Layout.sequence(lay.count, _native(lay.element))
        return s.with_name(lay.name) if lay.name is not None else s
    if t == "struct":
        s = Layout.struct([_native(m) for _, m in lay._member_list()])
        return s.with_name(lay.name) if lay.name is not None else s
    return lay


def to_columns(src, layout=None, fields=None):
    """Array of structs to a dict of arrays: {field: array} for the named top-level fields
    of every record of src (default all). Value fields come out as 1-D arrays in native
    byte order, gathered up to 8 at a time in one pass (gather_many); a nested struct or
    subarray field comes out as converted by name (an (n,) structured or (n, k) array)."""
    rec = _layout_of(src, layout, "to_columns: source")
    plan = _record_plan(rec)
    names, groups, others, members = plan.selection(fields)
    cols = {}
    with _Held(src, False, "to_columns: source") as s:
        n = _count(s.nbytes, rec.size, "to_columns: source")
        for group in groups:
            _gather_many(s, plan, n, group, cols)
    for f in others:
        one = Layout.struct([_native(members[f][1])])
        one.dtype  # UnsupportedError here (a union has no dtype), not an odd numpy error
        cols[f] = convert(src, rec, one)[f]
    return {f: cols[f] for f in names}


# ---- record plans: what to_columns and from_columns keep per record layout ----

PLAN_CACHE_SIZE = 64  # record plans kept, least recently used dropped first
PLAN_KERNELS = 8192  # kernels kept in all plans together (the plan in use always stays)
_plans = collections.OrderedDict()  # str(record) -> _RecordPlan


class _RecordPlan:
    """One record layout's to_columns selections, subarray leaves and kernels (gather_many
    per group of 8 fields, scatter per leaf and element type), all built on first use over
    one shared open root, and kept as one entry of the plan cache: a record of W fields
    needs W kernels (from_columns), which in the kernel cache would push each other out.

    A plan keeps at most `cap` kernels, 256 + 2 L for a record of L value leaves (a (k,)
    subarray counts k): more than one call can use (a call uses at most one per leaf),
    room for a second set of element types; past it, the plan starts afresh."""

    __slots__ = ("rec", "_root", "_cap", "selections", "kernels", "leaves")

    def __init__(self, rec):
        self.rec = rec
        self._root = None  # built on the first kernel (it may fail: that call's error)
        self._cap = None
        self.selections = {}  # fields (tuple or None) -> (names, groups, others, members)
        self.kernels = {}
        self.leaves = {}  # path -> its Layout, or None

    @property
    def root(self):
        if self._root is None:
            self._root = _open_root(self.rec)
        return self._root

    @property
    def cap(self):
        if self._cap is None:
            self._cap = CACHE_SIZE + 2 * _value_leaves(self.rec)
        return self._cap

    def selection(self, fields):
        """Which fields a to_columns call takes, and how: (names, groups of up to 8 value
        fields, the other fields, the record's fields)."""
        key = None if fields is None else tuple(fields)
        sel = self.selections.get(key)
        if sel is not None:
            return sel
        rec = self.rec
        if rec.tag != "struct":
            raise ArgumentError("to_columns: records must be a struct layout, not %s" % rec,
                                "SJ_E_ARG")
        members = rec._field_map()
        names = list(members) if fields is None else list(fields)
        for f in names:
            if f not in members:
                raise KeyError("to_columns: no field %r in %s" % (f, rec))
        values = [f for f in names if members[f][1].tag == "value"]
        others = [f for f in names if members[f][1].tag != "value"]
        groups = [tuple(values[i:i + 8]) for i in range(0, len(values), 8)]
        sel = (names, groups, others, members)
        with _cache_lock:
            if len(self.selections) >= CACHE_SIZE:
                self.selections.clear()
            self.selections[key] = sel
        return sel

    def kernel(self, key, build):
        """The plan's kernel for key, built by build() on a miss."""
        with _cache_lock:
            k = self.kernels.get(key)
            if k is not None:
                stats["hits"] += 1
                return k
        k = build()  # outside the lock, as in _cached
        with _cache_lock:
            stats["misses"] += 1
            if len(self.kernels) >= self.cap:
                self.kernels.clear()  # this call's kernels are held by the call
            self.kernels[key] = k
            _trim_plans(self)
        return k

    def leaf(self, path):
        """The layout at `path` of the records (None when the path does not parse)."""
        try:
            return self.leaves[path]
        except KeyError:
            pass
        try:
            leaf = _Path(self.root, _record_path(path)).leaf
        except Exception:
            leaf = None
        with _cache_lock:
            if len(self.leaves) >= self.cap:
                self.leaves.clear()
            self.leaves[path] = leaf
        return leaf


def _value_leaves(lay):
    """The number of value leaves of a layout (a (k,) sequence counts its element's k
    times; union members add up)."""
    total, todo = 0, [(lay, 1)]
    while todo:
        lay, times = todo.pop()
        t = lay.tag
        if t == "value":
            total += times
        elif t == "sequence":
            if lay.count:
                todo.append((lay.element, times * lay.count))
        elif t in ("struct", "union"):
            todo.extend((m, times) for _, m in lay._member_list())
    return total


def _record_plan(rec):
    """The plan of records `rec` (one per canonical text), made on first use."""
    key = str(rec)
    with _cache_lock:
        plan = _plans.get(key)
        if plan is not None:
            _plans.move_to_end(key)
            return plan
        plan = _plans[key] = _RecordPlan(rec)
        _trim_plans(plan)
    return plan


def _trim_plans(keep):
    """Drops the least recently used plans but `keep` while there are more than
    PLAN_CACHE_SIZE or they hold more than PLAN_KERNELS kernels. Under _cache_lock."""
    total = sum(len(p.kernels) for p in _plans.values())
    for key in list(_plans):
        if len(_plans) <= PLAN_CACHE_SIZE and total <= PLAN_KERNELS:
            break
        p = _plans[key]
        if p is not keep:
            total -= len(p.kernels)
            del _plans[key]


def _path_kernel_leaf(rec, path):
    """The layout at `path` of records `rec` (None when the path does not parse), kept by
    the record's plan."""
    return _record_plan(rec).leaf(path)


def _gather_many(s, plan, n, group, cols):
    def make():
        root = plan.root  # open records: one kernel for every count
        paths = [_Path(root, _record_path("." + _path_name(f))) for f in group]
        elems = [_native(p.leaf).with_name(None) for p in paths]
        pa = ffi.new("const sj_path *[]", [p.ptr for p in paths])
        ea = ffi.new("const sj_layout *[]", [e._ptr for e in elems])
        return _build(lib.sj_kernel_gather_many, pa, ea, len(group), 0, keep=(paths, elems))

    k = plan.kernel(("gather_many",) + group, make)
    elems = k.keep[1]
    arrays = [_new_array(e, n) for e in elems]
    helds = []
    try:
        for a, f in zip(arrays, group):
            helds.append(_Held(a, True, "to_columns: column %r" % f))
        dsts = ffi.new("const sj_segment *[]", [h.seg for h in helds])
        offs = ffi.new("int64_t[]", len(group))
        args = ffi.new("sj_args_many *")
        args.src, args.dsts, args.dst_offsets = s.seg, dsts, offs
        args.ndst, args.count = len(group), n
        err = new_error()
        check(lib.sj_kernel_run_many(k.ptr, args, err), err)
    finally:
        for h in helds:
            h.close()
    for f, a in zip(group, arrays):
        cols[f] = a


def from_columns(columns, layout, *, out=None, lossy=False):
    """The reverse of to_columns: a dict {field: array} into records of `layout` (a new
    zeroed array of its dtype, or `out`), each value scattered by segjit and converted
    from its column's dtype: a structured column field by field (by name), a subarray
    column element by element. Fields absent from `columns` keep their bytes (zero in a
    new array)."""
    rec = as_layout(layout)
    members = rec._field_map()
    cols = {f: np.asarray(c) for f, c in columns.items()}
    lens = {len(c) for c in cols.values()}
    if len(lens) > 1:
        raise ArgumentError("from_columns: columns of different lengths %s" % sorted(lens),
                            "SJ_E_ARG")
    n = lens.pop() if lens else 0
    for f in cols:
        if f not in members:
            raise KeyError("from_columns: no field %r in %s" % (f, rec))
    if out is None:
        out = np.zeros(n, dtype=rec.dtype)
    # every column's kernels first (a lossy or unmatched one fails here): a call that
    # fails writes nothing
    plan = _record_plan(rec)
    leaves = []
    for f, c in cols.items():
        _column_leaves(c, plan, _path_name(f), lossy, leaves)
    with _Held(out, True, "from_columns: out") as d:
        m = _count(d.nbytes, rec.size, "from_columns: out")
        if m != n:
            raise ArgumentError("from_columns: out holds %d records for columns of %d" % (m, n),
                                "SJ_E_ARG")
        for values, k in leaves:
            _scatter_run(k, values, d, n)
    return out


def _column_leaves(col, plan, path, lossy, leaves):
    """A column as (values, scatter kernel) per leaf: a structured column by its field
    names, a subarray column element by element (its shape must be the field's). `path` is
    path text, its names quoted by _path_name."""
    if col.ndim > 1:  # subarray dimensions first: path[j] then .name
        field = plan.leaf(path)
        want = field.count if field is not None and field.tag == "sequence" else None
        if want != col.shape[1]:
            raise ArgumentError("from_columns: column %r has %d values per record, the field "
                                "holds %s" % (path, col.shape[1],
                                              want if want is not None else "one"), "SJ_E_ARG")
        for j in range(col.shape[1]):
            _column_leaves(col[:, j], plan, "%s[%d]" % (path, j), lossy, leaves)
    elif col.dtype.names is not None:
        for name in col.dtype.names:
            _column_leaves(col[name], plan, "%s.%s" % (path, _path_name(name)), lossy,
                           leaves)
    else:
        leaves.append(_scatter_kernel(col, plan.rec, path, lossy, plan))
