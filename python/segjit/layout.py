"""segjit.layout: the Layout class (a wrapped sj_layout) and its numpy dtype conversions.

A Layout is immutable; it is made from canonical text, C-like text, or a numpy dtype, and
gives back its dtype where numpy can express it. Kernels and buffers live in ops.py.
"""
import operator
import sys

import numpy as np

from ._core import cbytes, check, new_error, take_string
from ._ffi import ffi, lib
from .errors import ArgumentError, ParseError, UnsupportedError

_KIND_NAMES = {
    lib.SJ_BOOL: "bool", lib.SJ_I8: "i8", lib.SJ_U8: "u8", lib.SJ_CHAR: "char",
    lib.SJ_I16: "i16", lib.SJ_U16: "u16", lib.SJ_I32: "i32", lib.SJ_U32: "u32",
    lib.SJ_F32: "f32", lib.SJ_I64: "i64", lib.SJ_U64: "u64", lib.SJ_F64: "f64",
    lib.SJ_ADDR: "addr",
}
# numpy kind character and itemsize -> segjit kind
_FROM_NUMPY = {
    ("b", 1): lib.SJ_BOOL, ("i", 1): lib.SJ_I8, ("u", 1): lib.SJ_U8,
    ("i", 2): lib.SJ_I16, ("u", 2): lib.SJ_U16, ("i", 4): lib.SJ_I32,
    ("u", 4): lib.SJ_U32, ("f", 4): lib.SJ_F32, ("i", 8): lib.SJ_I64,
    ("u", 8): lib.SJ_U64, ("f", 8): lib.SJ_F64,
}
_TO_NUMPY = {v: "%s%d" % k for k, v in _FROM_NUMPY.items()}
_TO_NUMPY[lib.SJ_BOOL] = "?"
_TAGS = {lib.SJ_VALUE: "value", lib.SJ_STRUCT: "struct", lib.SJ_UNION: "union",
         lib.SJ_SEQUENCE: "sequence", lib.SJ_PADDING: "padding"}
_NATIVE_BIG = sys.byteorder == "big"


def _out_layout():
    return ffi.new("sj_layout **")


class Layout:
    """A segjit memory layout (SEMANTICS.md section 2).

    Layout("[i4(a)x4d8(b)]")                 canonical text
    Layout.c("struct p { i32 x; f64 y; }")   C-like declarations (C padding rules)
    Layout.from_dtype(np.dtype(...))         a numpy dtype

    str(layout) is the canonical text; layout.dtype the numpy dtype; layout.table() the
    pahole-style table. Layouts compare equal when the library says so (names, byte
    orders and alignments included) and hash accordingly.
    """

    __slots__ = ("_ptr", "_text", "_dtype", "_size", "_members", "_fields", "__weakref__")

    def __init__(self, text):
        if isinstance(text, Layout):
            self._ptr, self._text, self._dtype = text._ptr, text._text, text._dtype
            self._size, self._members, self._fields = text._size, text._members, text._fields
            return
        err, out = new_error(), _out_layout()
        check(lib.sj_layout_parse(cbytes(text, "layout text"), out, err), err)
        self._set(out[0])

    def _set(self, ptr):
        self._ptr = ffi.gc(ptr, lib.sj_layout_unref)
        self._text = None
        self._dtype = None
        self._members = None  # members and fields, made on first use (a layout is immutable)
        self._fields = None
        # kept: each library call releases and retakes the GIL, which costs threads
        self._size = int(lib.sj_layout_size(ptr))

    @classmethod
    def _wrap(cls, ptr):
        """Takes a new reference (from a constructor) and owns it."""
        self = cls.__new__(cls)
        self._set(ptr)
        return self

    @classmethod
    def _borrow(cls, ptr):
        """Wraps a reference owned elsewhere (a member of another layout)."""
        return cls._wrap(lib.sj_layout_ref(ptr))

    @classmethod
    def c(cls, text):
        """A layout from the C-like description language (SEMANTICS 2.8)."""
        err, out = new_error(), _out_layout()
        check(lib.sj_layout_parse_c(cbytes(text, "layout text"), out, err), err)
        return cls._wrap(out[0])

    @classmethod
    def from_dtype(cls, dtype):
        """The layout of a numpy dtype: scalars, byte orders, structs (packed or aligned,
        nested, with gaps and tail padding as padding members), subarrays. Fields of a
        struct that numpy did not align (dtype.isalignedstruct false) get alignment 1, as
        numpy reads them; an aligned struct keeps natural alignments."""
        dt = np.dtype(dtype)
        key = _dtype_key(dt)
        lay = _MEMO.get(key)
        return lay if lay is not None else _from_dtype(dt, packed=False)

    # ---- building blocks ----
    @classmethod
    def value(cls, kind, order=None):
        """A value layout: kind one of bool i8 u8 char i16 u16 i32 u32 f32 i64 u64 f64
        addr; order "little", "big" or None (native)."""
        kinds = {v: k for k, v in _KIND_NAMES.items()}
        if kind not in kinds:
            raise ValueError("unknown kind %r (one of %s)" % (kind, " ".join(kinds)))
        err, out = new_error(), _out_layout()
        check(lib.sj_layout_value(kinds[kind], out, err), err)
        lay = cls._wrap(out[0])
        return lay.with_order(order) if order else lay

    @classmethod
    def struct(cls, members):
        """A struct of the given layouts, laid one after another (no padding inserted)."""
        members = [as_layout(m) for m in members]
        arr = ffi.new("const sj_layout *[]", [m._ptr for m in members] or 1)
        err, out = new_error(), _out_layout()
        check(lib.sj_layout_struct(arr, len(members), out, err), err)
        return cls._wrap(out[0])

    @classmethod
    def sequence(cls, count, elem):
        err, out = new_error(), _out_layout()
        check(lib.sj_layout_sequence(int(count), as_layout(elem)._ptr, out, err), err)
        return cls._wrap(out[0])

    @classmethod
    def padding(cls, size):
        err, out = new_error(), _out_layout()
        check(lib.sj_layout_padding(int(size), out, err), err)
        return cls._wrap(out[0])

    def with_name(self, name):
        err, out = new_error(), _out_layout()
        cname = ffi.NULL if name is None else cbytes(name, "name")
        check(lib.sj_layout_with_name(self._ptr, cname, out, err), err)
        return Layout._wrap(out[0])

    def with_align(self, align):
        err, out = new_error(), _out_layout()
        check(lib.sj_layout_with_align(self._ptr, int(align), out, err), err)
        return Layout._wrap(out[0])

    def with_order(self, order):
        """order: "little", "big", "native" (value layouts only)."""
        orders = {"native": lib.SJ_ORDER_NATIVE, "little": lib.SJ_ORDER_LITTLE,
                  "big": lib.SJ_ORDER_BIG}
        if order not in orders:
            raise ValueError("order must be 'little', 'big' or 'native', not %r" % (order,))
        err, out = new_error(), _out_layout()
        check(lib.sj_layout_with_order(self._ptr, orders[order], out, err), err)
        return Layout._wrap(out[0])

    # ---- queries ----
    @property
    def size(self):
        return self._size

    @property
    def alignment(self):
        return int(lib.sj_layout_align(self._ptr))

    @property
    def tag(self):
        """"value", "struct", "union", "sequence" or "padding"."""
        return _TAGS[lib.sj_layout_tag(self._ptr)]

    @property
    def name(self):
        n = lib.sj_layout_name(self._ptr)
        return None if n == ffi.NULL else ffi.string(n).decode()

    @property
    def kind(self):
        """The value kind ("i32", "f64", ...); None for other layouts."""
        if self.tag != "value":
            return None
        return _KIND_NAMES[lib.sj_layout_kind(self._ptr)]

    @property
    def byte_order(self):
        """"little" or "big" for value layouts; None for other layouts."""
        if self.tag != "value":
            return None
        return "big" if lib.sj_layout_order(self._ptr) == lib.SJ_ORDER_BIG else "little"

    @property
    def members(self):
        """[(offset, Layout)] of a struct or union (padding included); [] otherwise."""
        return list(self._member_list())

    @property
    def fields(self):
        """{name: (offset, Layout)} of the named members of a struct or union (the first
        of duplicate names, as lookups take)."""
        return dict(self._field_map())

    # Members and fields are read once per layout, then kept (reading them costs a struct
    # of W members W wrappers and 3W library calls). The properties hand out copies; the
    # binding's own code reads these, and never modifies them.
    def _member_list(self):
        m = self._members
        if m is None:
            if self.tag not in ("struct", "union"):
                m = ()
            else:
                p = self._ptr
                m = tuple((int(lib.sj_layout_member_offset(p, i)),
                           Layout._borrow(lib.sj_layout_member(p, i)))
                          for i in range(lib.sj_layout_member_count(p)))
            self._members = m
        return m

    def _field_map(self):
        f = self._fields
        if f is None:
            f = {}
            for off, m in self._member_list():
                name = m.name
                if name is not None and name not in f:
                    f[name] = (off, m)
            self._fields = f
        return f

    @property
    def count(self):
        """Element count of a sequence; None otherwise."""
        return int(lib.sj_layout_elem_count(self._ptr)) if self.tag == "sequence" else None

    @property
    def element(self):
        """Element layout of a sequence; None otherwise."""
        if self.tag != "sequence":
            return None
        return Layout._borrow(lib.sj_layout_elem(self._ptr))

    @property
    def dtype(self):
        """The numpy dtype with the same bytes; UnsupportedError where numpy has none
        (unions, char and address values, over-aligned values)."""
        if self._dtype is None:
            self._dtype = np.dtype(_to_dtype(self, "layout"))
        return self._dtype

    def table(self):
        """The pahole-style table: offset, size, alignment, name, holes."""
        err, out = new_error(), ffi.new("char **")
        check(lib.sj_layout_table(self._ptr, out, err), err)
        return take_string(out)

    def __str__(self):
        if self._text is None:
            err, out = new_error(), ffi.new("char **")
            check(lib.sj_layout_print(self._ptr, out, err), err)
            self._text = take_string(out)
        return self._text

    def __repr__(self):
        return "Layout(%r)" % str(self)

    def __eq__(self, other):
        if not isinstance(other, Layout):
            return NotImplemented
        return bool(lib.sj_layout_equal(self._ptr, other._ptr))

    def __hash__(self):
        return int(lib.sj_layout_hash(self._ptr))

    def __reduce__(self):
        return (Layout, (str(self),))


def _dtype_key(dt):
    """A memo key for a dtype: its full description, nested fields included. numpy's ==
    does not look at isalignedstruct (which changes the layout), and a dtype renamed in
    place (dt.names = ...), the field of another or not, keeps its object and its hash:
    the key holds every struct's flag, names and offsets itself."""
    if dt.subdtype is not None:
        return ("sub", _dtype_key(dt.subdtype[0]), dt.subdtype[1])
    if dt.names is None:
        return dt
    return ("struct", dt.itemsize, dt.isalignedstruct,
            tuple((n, dt.fields[n][1], _dtype_key(dt.fields[n][0])) for n in dt.names))


def _structs(dt, out):
    """The struct dtypes of dt, itself included (the objects whose names may change)."""
    if dt.subdtype is not None:
        _structs(dt.subdtype[0], out)
    elif dt.names is not None:
        out.append(dt)
        for n in dt.names:
            _structs(dt.fields[n][0], out)
    return out


_MEMO = {}
# id(dtype) -> (dtype, Layout, its struct dtypes, their names): a dtype object used again
# skips the key while no struct in it has been renamed
_BY_ID = {}
_MEMO_MAX = 1024
_NAMES = operator.attrgetter("names")


def as_layout(x):
    """as _as_layout, memoized for str and dtype inputs (layouts are immutable), so that
    a call that names its layouts by text or dtype builds them once."""
    if isinstance(x, Layout):
        return x
    if isinstance(x, str):
        key = x
    elif isinstance(x, np.dtype):
        hit = _BY_ID.get(id(x))
        # the very dtype object seen before, no struct in it renamed (dt.names may be
        # assigned, an inner struct's too)
        if hit is not None and hit[0] is x and list(map(_NAMES, hit[2])) == hit[3]:
            return hit[1]
        key = _dtype_key(x)
    else:
        if x is None:  # np.dtype(None) is float64: a layout left out is no d8
            raise TypeError("a layout must be a Layout, a numpy dtype or a str, not None")
        return _as_layout(x)
    lay = _MEMO.get(key)
    if lay is None:
        lay = _as_layout(x)
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()
            _BY_ID.clear()
        _MEMO[key] = lay
    if isinstance(x, np.dtype):
        if len(_BY_ID) >= _MEMO_MAX:  # equal dtypes made afresh for every call
            _BY_ID.clear()
        structs = _structs(x, [])
        # holds x, so its id stays its own
        _BY_ID[id(x)] = (x, lay, structs, list(map(_NAMES, structs)))
    return lay


def _as_layout(x):
    """A Layout from a Layout, a numpy dtype, or a str: C-like text when it holds
    struct/union/;/{, else canonical segjit text, else (when that does not parse) a numpy
    dtype string such as "<i2" or "f8". Segjit text wins where both read a string: "i4" and
    "d8" agree, "b1", "S2" and "a8" do not (segjit int8, big-endian int16, address)."""
    if isinstance(x, Layout):
        return x
    if isinstance(x, str):
        if any(t in x for t in ("struct", "union", ";", "{")):
            try:  # canonical text may hold such words in its names: [i4(instruction)]
                return Layout(x)
            except ParseError:
                return Layout.c(x)
        try:
            return Layout(x)
        except ParseError as pe:
            # not segjit text: a numpy dtype string ("<i2", "f8", "u4")?
            try:
                dt = np.dtype(x)
            except Exception:  # numpy raises TypeError, ValueError, even SyntaxError
                raise pe from None  # neither: the segjit error, with line and column
            return Layout.from_dtype(dt)
    return Layout.from_dtype(x)


def _value_from_dtype(dt, packed):
    key = (dt.kind, dt.itemsize)
    if key not in _FROM_NUMPY:
        raise UnsupportedError(
            "numpy dtype %s has no segjit value kind (supported: bool, signed and unsigned "
            "integers of 1-8 bytes, float32, float64)" % dt.str)
    err, out = new_error(), _out_layout()
    check(lib.sj_layout_value(_FROM_NUMPY[key], out, err), err)
    lay = Layout._wrap(out[0])
    big = dt.byteorder == ">" or (dt.byteorder == "=" and _NATIVE_BIG)
    if dt.itemsize > 1:
        lay = lay.with_order("big" if big else "little")
    if packed and dt.itemsize > 1:
        lay = lay.with_align(1)
    return lay


def _from_dtype(dt, packed):
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        lay = _from_dtype(base, packed)
        for n in reversed(shape):
            lay = Layout.sequence(n, lay)
        return lay
    if dt.names is not None:
        packed = packed or not dt.isalignedstruct
        items = sorted(((dt.fields[n][1], n, dt.fields[n][0]) for n in dt.names),
                       key=lambda t: t[0])
        members, pos = [], 0
        for off, name, fdt in items:
            if off < pos:
                raise UnsupportedError(
                    "numpy field %r at offset %d overlaps the previous field (ends at %d): "
                    "overlapping fields have no segjit struct" % (name, off, pos))
            if off > pos:
                members.append(Layout.padding(off - pos))
            members.append(_from_dtype(fdt, packed).with_name(name))
            pos = off + fdt.itemsize
        if dt.itemsize > pos:
            members.append(Layout.padding(dt.itemsize - pos))
        return Layout.struct(members)
    if dt.kind == "V" or dt.kind == "S":
        # raw bytes (void or byte strings): a sequence of unsigned bytes
        return Layout.sequence(dt.itemsize, Layout.value("u8"))
    return _value_from_dtype(dt, packed)


def _to_dtype(lay, where):
    tag = lay.tag
    if tag == "value":
        k = lib.sj_layout_kind(lay._ptr)
        if k not in _TO_NUMPY:
            raise UnsupportedError("%s: %s value %s has no numpy dtype" % (
                where, lay.kind, str(lay)))
        if lay.alignment > lay.size:
            raise UnsupportedError("%s: over-aligned value %s has no numpy dtype" % (
                where, str(lay)))
        order = "|" if lay.size == 1 else (">" if lay.byte_order == "big" else "<")
        return np.dtype(order + _TO_NUMPY[k])
    if tag == "sequence":
        shape, e = [], lay
        while e.tag == "sequence":
            shape.append(e.count)
            e = e.element
        return np.dtype((_to_dtype(e, where + "[]"), tuple(shape)))
    if tag == "struct":
        names, formats, offsets, seen = [], [], [], set()
        for off, m in lay._member_list():
            if m.tag == "padding":
                continue
            # unnamed: numpy's own f0, f1, ... by field (padding is no numpy field)
            name = m.name if m.name is not None else "f%d" % len(names)
            if name in seen:
                raise UnsupportedError("%s: duplicate member name %r: numpy field names "
                                       "are unique" % (where, name))
            seen.add(name)
            names.append(name)
            formats.append(_to_dtype(m, where + "." + name))
            offsets.append(off)
        spec = {"names": names, "formats": formats, "offsets": offsets,
                "itemsize": lay.size}
        aligned = lay.alignment > 1 and lay.size % lay.alignment == 0
        try:
            return np.dtype(spec, align=aligned)
        except ValueError:
            return np.dtype(spec)
    if tag == "padding":
        return np.dtype("V%d" % lay.size)
    raise UnsupportedError("%s: a union (%s) has no numpy dtype" % (where, str(lay)))


def native_value(lay):
    """The same value kind in native byte order and natural alignment."""
    k = lay.kind
    if k is None:
        raise ArgumentError("%s is not a value layout" % str(lay))
    return Layout.value(k)
