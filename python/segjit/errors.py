"""segjit.errors: the exceptions the binding raises, one per library status.

Every failing library call becomes an exception carrying the status name (`status`) and the
library's one-line message (`message`). Each class also derives from the Python exception a
user would expect (an out-of-bounds index is an IndexError, a parse error a ValueError).
"""
import re


class Error(Exception):
    """A segjit call failed. `status` is the library's status name ("SJ_E_BOUNDS", ...),
    `message` its one-line explanation."""

    status = "SJ_E_?"

    def __init__(self, message, status=None):
        if status is not None:
            self.status = status
        self.message = message
        super().__init__("%s: %s" % (self.status, message))


class ArgumentError(Error, ValueError):
    """SJ_E_ARG: bad size, count, alignment or malformed layout."""

    status = "SJ_E_ARG"


class PathError(Error, ValueError):
    """SJ_E_PATH: a layout path names no member, or does not end on a value."""

    status = "SJ_E_PATH"


class ParseError(Error, ValueError):
    """SJ_E_PARSE: layout or path text malformed; `line` and `column` say where (1-based,
    None when the message carries no position)."""

    status = "SJ_E_PARSE"

    def __init__(self, message, status=None):
        super().__init__(message, status)
        m = re.search(r"(\d+):(\d+)", message)
        self.line, self.column = (int(m.group(1)), int(m.group(2))) if m else (None, None)


class BoundsError(Error, IndexError):
    """SJ_E_BOUNDS: an offset, index or count outside the segment or the bound."""

    status = "SJ_E_BOUNDS"


class AlignmentError(Error, ValueError):
    """SJ_E_ALIGN: a misaligned access or copy."""

    status = "SJ_E_ALIGN"


class ReadOnlyError(Error, TypeError):
    """SJ_E_READONLY: a write through a read-only buffer (bytes, a read-only view)."""

    status = "SJ_E_READONLY"


class ClosedError(Error, RuntimeError):
    """SJ_E_CLOSED: the arena that owns the memory is closed."""

    status = "SJ_E_CLOSED"


class ThreadError(Error, RuntimeError):
    """SJ_E_THREAD: a confined arena's memory touched from another thread."""

    status = "SJ_E_THREAD"


class UnsupportedError(Error, NotImplementedError):
    """SJ_E_UNSUPPORTED: the operation is not defined for this layout or segment (also
    raised by the binding where numpy cannot express a layout)."""

    status = "SJ_E_UNSUPPORTED"


class SizeOverflowError(Error, OverflowError):
    """SJ_E_OVERFLOW: 64-bit overflow in size or offset arithmetic."""

    status = "SJ_E_OVERFLOW"


class OutOfMemoryError(Error, MemoryError):
    """SJ_E_NOMEM: an allocation failed."""

    status = "SJ_E_NOMEM"


class BusyError(Error, RuntimeError):
    """SJ_E_BUSY: an arena close refused while views of the arena are open."""

    status = "SJ_E_BUSY"


BY_STATUS = {
    c.status: c
    for c in (
        ArgumentError,
        PathError,
        ParseError,
        BoundsError,
        AlignmentError,
        ReadOnlyError,
        ClosedError,
        ThreadError,
        UnsupportedError,
        SizeOverflowError,
        OutOfMemoryError,
        BusyError,
    )
}
