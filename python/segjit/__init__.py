"""segjit: run-time memory layouts for Python and numpy, on libsegjit (cffi, ABI mode).

    import numpy as np, segjit
    rec = segjit.Layout.c("struct p { i32 id; be f64 x; }")
    dst = segjit.convert(src, rec, np.dtype([("x", "<f8"), ("id", "<i8")]))

Layout: layouts from text, C-like text or numpy dtypes, and dtypes back.
convert, to_columns, from_columns, gather, scatter, reduce, copy, fill, mismatch: kernels
over anything with the buffer protocol (and Arena segments), built once and cached.
Arena / Segment: memory with a lifetime. Errors: segjit.Error and its subclasses.
`python -m segjit` runs the command-line tool's layout and convert.
"""
from ._ffi import library_path as _library_path
from .arena import Arena, Segment
from .errors import (AlignmentError, ArgumentError, BoundsError, BusyError, ClosedError, Error,
                     OutOfMemoryError, ParseError, PathError, ReadOnlyError,
                     SizeOverflowError, ThreadError, UnsupportedError)
from .layout import Layout, as_layout
from .ops import (clear_cache, convert, copy, fill, from_columns, gather, mismatch, reduce,
                  scatter, to_columns)

__version__ = "0.1.0"


def library_path():
    """The path of the libsegjit.so this process loaded."""
    return _library_path


__all__ = [
    "Layout", "as_layout",
    "convert", "to_columns", "from_columns", "gather", "scatter", "reduce", "copy", "fill",
    "mismatch", "clear_cache",
    "Arena", "Segment",
    "Error", "ArgumentError", "PathError", "ParseError", "BoundsError", "AlignmentError",
    "ReadOnlyError", "ClosedError", "ThreadError", "UnsupportedError", "SizeOverflowError",
    "OutOfMemoryError", "BusyError",
    "library_path",
]
