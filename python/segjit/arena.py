"""segjit.arena: arenas and the segments they own, for users who want memory with an
explicit lifetime. A closed arena's segments answer ClosedError on every use, never a
stale read: they are reached only through library calls, which check the lifetime."""
import operator

import numpy as np

from ._core import check, new_error
from ._ffi import ffi, lib
from .errors import ArgumentError, BoundsError, SizeOverflowError


class Arena:
    """An arena (SEMANTICS 3.5): confined to the thread that opened it (other threads get
    ThreadError), or shared=True for any thread. Use as a context manager:

        with segjit.Arena() as a:
            seg = a.allocate(1024)

    Closing twice, or using a segment after close, raises ClosedError."""

    def __init__(self, shared=False):
        self._arena = ffi.new("sj_arena *")
        err = new_error()
        kind = lib.SJ_ARENA_SHARED if shared else lib.SJ_ARENA_CONFINED
        check(lib.sj_arena_open(kind, self._arena, err), err)
        self.shared = bool(shared)

    @property
    def alive(self):
        return bool(lib.sj_arena_is_alive(self._arena[0]))

    def allocate(self, size, align=1):
        """A zeroed Segment of `size` bytes (or of a Layout's size and alignment)."""
        from .layout import Layout, as_layout

        if not isinstance(size, int):
            lay = as_layout(size) if not isinstance(size, Layout) else size
            size, align = lay.size, max(align, lay.alignment)
        seg, err = ffi.new("sj_segment *"), new_error()
        size, align = _int64(size, "allocate: size"), _int64(align, "allocate: alignment")
        check(lib.sj_arena_allocate(self._arena[0], size, align, seg, err), err)
        return Segment(seg, self)

    def close(self):
        """Frees every segment of the arena; ClosedError when already closed."""
        err = new_error()
        check(lib.sj_arena_close(self._arena[0], err), err)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.alive:
            self.close()

    def __del__(self):
        # an arena left open is closed when collected (its owner thread permitting)
        try:
            if self.alive:
                lib.sj_arena_close(self._arena[0], ffi.NULL)
        except Exception:
            pass


def _int64(x, what):
    """x as a C int64_t: an integer (no float truncated), else SizeOverflowError."""
    x = operator.index(x)
    if not -(1 << 63) <= x < 1 << 63:
        raise SizeOverflowError("%s %d does not fit 64 bits" % (what, x), "SJ_E_OVERFLOW")
    return x


class Segment:
    """A segment of arena memory. Pass it to any operation in place of a buffer; read and
    write its bytes with read(), write() and to_numpy(). Every access to its bytes checks
    the arena's lifetime (ClosedError), thread (ThreadError) and bounds (BoundsError);
    size, slice() and readonly() only describe it (as the JDK's asSlice does after close)."""

    def __init__(self, seg, arena):
        self._seg = seg  # sj_segment * owned by this object
        self.arena = arena

    @property
    def size(self):
        return int(lib.sj_segment_size(self._seg))

    def slice(self, offset, size=None):
        offset = _int64(offset, "slice: offset")
        size = self.size - offset if size is None else _int64(size, "slice: size")
        out, err = ffi.new("sj_segment *"), new_error()
        check(lib.sj_segment_slice(self._seg, offset, size, out, err), err)
        return Segment(out, self.arena)

    def readonly(self):
        out = ffi.new("sj_segment *")
        out[0] = lib.sj_segment_readonly(self._seg)
        return Segment(out, self.arena)

    def read(self, offset=0, size=None):
        """A copy of bytes [offset, offset + size) as a bytearray."""
        from .ops import _Held

        offset = operator.index(offset)
        size = self.size - offset if size is None else operator.index(size)
        if size < 0:
            raise ArgumentError("read: negative size %d" % size, "SJ_E_ARG")
        if offset < 0 or offset > self.size or size > self.size - offset:
            # before the buffer is made: a huge size is this error, not a MemoryError
            raise BoundsError("read: %d bytes at offset %d are out of bounds for a segment "
                              "of %d bytes" % (size, offset, self.size), "SJ_E_BOUNDS")
        buf = bytearray(size)
        with _Held(buf, True, "read: destination") as d:
            err = new_error()
            check(lib.sj_copy_bytes(self._seg, int(offset), d.seg, 0, size, err), err)
        return buf

    def write(self, data, offset=0):
        """Copies the bytes of `data` (any buffer) to the segment at offset."""
        from .ops import _Held

        offset = _int64(offset, "write: offset")  # an integer: 1.5 is no offset 1
        with _Held(data, False, "write: source") as s:
            err = new_error()
            check(lib.sj_copy_bytes(s.seg, 0, self._seg, offset, s.nbytes, err), err)

    def to_numpy(self, dtype):
        """A copy of the segment as a numpy array of dtype (the whole elements it holds)."""
        dt = np.dtype(dtype)
        n = self.size // dt.itemsize if dt.itemsize else 0
        # bytearray, not bytes: the array owns writable memory holding every byte read
        # (numpy's copy of a structured dtype with padding leaves the padding unset)
        return np.frombuffer(bytearray(self.read(0, n * dt.itemsize)), dtype=dt)

    def __repr__(self):
        return "<segjit.Segment of %d bytes>" % self.size
