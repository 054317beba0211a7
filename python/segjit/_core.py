"""segjit._core: calling the library: status checking, owned pointers, text in and out.
Everything that turns a status into an exception lives here."""
from ._ffi import ffi, lib
from .errors import BY_STATUS, Error


_ERROR_T = ffi.typeof("sj_error *")


def new_error():
    return ffi.new(_ERROR_T)


def raise_status(st, err):
    name = ffi.string(lib.sj_status_name(st)).decode()
    msg = ffi.string(err.message).decode("utf-8", "replace")
    # the C flags' names, as a Python caller spells them
    for flag, kw in (("SJ_CONVERT_LOSSY", "lossy=True"),
                     ("SJ_CONVERT_ZERO_UNMATCHED", "zero_unmatched=True")):
        if flag in msg:
            msg += " (in Python: %s)" % kw
    raise BY_STATUS.get(name, Error)(msg, name)


def check(st, err):
    if st != lib.SJ_OK:
        raise_status(st, err)


def take_string(ptr):
    """A malloc'd C string the caller owns: copied into Python and freed."""
    try:
        return ffi.string(ptr[0]).decode()
    finally:
        lib.free(ptr[0])


def cbytes(text, what):
    if not isinstance(text, str):
        raise TypeError("%s must be a str, not %s" % (what, type(text).__name__))
    if "\0" in text:
        raise ValueError("%s contains a NUL character" % what)
    return text.encode()
