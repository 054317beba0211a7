"""segjit: run-time memory layouts for Python and numpy, on libsegjit (cffi, ABI mode).

    import numpy as np, segjit
    rec = segjit.Layout.c("struct p { i32 id; be f64 x; }")
    dst = segjit.convert(src, src.dtype, np.dtype([("x", "<f8"), ("id", "<i8")]), lossy=True)

Layout: layouts from text, C-like text or numpy dtypes, and dtypes back.
convert, to_columns, from_columns, gather, scatter, reduce, copy, fill, mismatch: kernels
over anything with the buffer protocol (and Arena segments), built once and cached.
Arena / Segment: memory with a lifetime. Errors: segjit.Error and its subclasses.
"""
from .errors import (AlignmentError, ArgumentError, BoundsError, ClosedError, Error,
                     OutOfMemoryError, ParseError, PathError, ReadOnlyError,
                     SizeOverflowError, ThreadError, UnsupportedError)
from .layout import Layout, as_layout
from ._ffi import library_path as _library_path


def library_path():
    """The libsegjit.so this process loaded."""
    return _library_path

__all__ = ["library_path", "Layout", "as_layout", "Error", "ArgumentError", "PathError", "ParseError",
           "BoundsError", "AlignmentError", "ReadOnlyError", "ClosedError", "ThreadError",
           "UnsupportedError", "SizeOverflowError", "OutOfMemoryError"]
from .ops import (clear_cache, convert, copy, fill, from_columns, gather, mismatch, reduce,
                  scatter, to_columns)

__all__ += ["convert", "to_columns", "from_columns", "gather", "scatter", "reduce", "copy",
            "fill", "mismatch", "clear_cache"]
from .arena import Arena, Segment

__all__ += ["Arena", "Segment"]
