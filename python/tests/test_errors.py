"""Errors are exceptions with the status name and the library's message; bad input never
crashes the interpreter."""
import os
import threading

import numpy as np
import pytest

import segjit
from segjit import ops

DT = np.dtype([("a", "<i4"), ("b", ">f8")])
DD = np.dtype([("b", "<f8"), ("a", "<i8")])


def _src(n=8):
    a = np.zeros(n, DT)
    a["a"] = np.arange(n)
    return a


def test_error_hierarchy():
    assert issubclass(segjit.BoundsError, IndexError)
    assert issubclass(segjit.ParseError, ValueError)
    assert issubclass(segjit.ReadOnlyError, segjit.Error)
    for c in (segjit.BoundsError, segjit.ParseError, segjit.AlignmentError,
              segjit.ReadOnlyError, segjit.ClosedError, segjit.PathError,
              segjit.ArgumentError, segjit.ThreadError):
        assert issubclass(c, segjit.Error)


@pytest.mark.parametrize("dst", [lambda n: bytes(n), lambda n: memoryview(bytes(n)),
                                 lambda n: _readonly(np.zeros(n, "u1"))])
def test_readonly_destination(dst):
    out = dst(DD.itemsize * 8)
    with pytest.raises(segjit.ReadOnlyError) as e:
        segjit.convert(_src(), DT, DD, out=out)
    assert e.value.status == "SJ_E_READONLY" and "read-only" in e.value.message
    assert bytes(out) == bytes(len(bytes(out)))  # nothing written
    assert isinstance(e.value, TypeError)


def _readonly(a):
    a.flags.writeable = False
    return a


def test_bounds():
    out = np.zeros(7, DD)  # one record short
    with pytest.raises(segjit.BoundsError) as e:
        segjit.convert(_src(8), DT, DD, out=out)
    assert isinstance(e.value, IndexError) and e.value.status == "SJ_E_BOUNDS"
    assert "out of bounds" in e.value.message or "bounds" in str(e.value)
    assert not out.view("u1").any()  # a failed call writes nothing


def test_parse_error_position():
    with pytest.raises(segjit.ParseError) as e:
        segjit.Layout("[i4(a)d8")
    assert (e.value.line, e.value.column) == (1, 9) and isinstance(e.value, ValueError)
    assert e.value.status == "SJ_E_PARSE" and "expected" in e.value.message
    with pytest.raises(segjit.ParseError) as e:
        segjit.Layout.c("struct p {\n  i32 x;\n  f64 y\n}")
    assert e.value.line in (3, 4)


def test_misaligned_member_and_path():
    with pytest.raises(segjit.ArgumentError, match="not aligned"):
        segjit.Layout("[i4(a)d8(b)]")
    with pytest.raises(segjit.PathError) as e:
        segjit.gather(_src(), None, "nope")
    assert e.value.status == "SJ_E_PATH" and "nope" in e.value.message


def test_alignment():
    lay = segjit.Layout("[i4(a)x4d8(b)]")  # natural alignment 8
    buf = bytearray(16 * 4 + 1)
    mv = memoryview(buf)[1:]  # one byte off an allocation aligned to at least 8
    with pytest.raises(segjit.AlignmentError) as e:
        segjit.convert(mv, lay, np.dtype([("a", "<i4")]), zero_unmatched=True)
    assert e.value.status == "SJ_E_ALIGN"


def test_not_whole_records_and_bad_types():
    with pytest.raises(segjit.ArgumentError, match="whole number"):
        segjit.convert(b"\0" * 13, DT, DD)
    with pytest.raises(TypeError, match="buffer protocol"):
        segjit.convert(12345, DT, DD)
    with pytest.raises(TypeError):
        segjit.convert(_src(), None, None)
    with pytest.raises(segjit.ArgumentError, match="C-contiguous"):
        segjit.convert(_src(8), DT, DD, out=np.zeros(16, DD)[::2])
    with pytest.raises(ValueError):
        segjit.reduce(_src(), None, "a", "mean")
    with pytest.raises(KeyError):
        segjit.to_columns(_src(), fields=["zz"])


def test_closed_arena():
    arena = segjit.Arena()
    seg = arena.allocate(DT.itemsize * 8)
    seg.write(_src().tobytes())
    out = segjit.convert(seg, DT, DD)
    assert list(out["a"]) == list(range(8))
    arena.close()
    assert not arena.alive
    with pytest.raises(segjit.ClosedError) as e:
        segjit.convert(seg, DT, DD)
    assert e.value.status == "SJ_E_CLOSED" and isinstance(e.value, RuntimeError)
    with pytest.raises(segjit.ClosedError):
        seg.read()
    with pytest.raises(segjit.ClosedError):
        segjit.fill(seg, "i4", 1)
    with pytest.raises(segjit.ClosedError, match="already closed"):
        arena.close()


def test_arena_context_and_bounds():
    with segjit.Arena() as a:
        seg = a.allocate(segjit.Layout("[4:i4]"))
        assert seg.size == 16 and seg.read() == bytearray(16)  # zeroed
        segjit.fill(seg, "i4", 7)
        assert list(seg.to_numpy("<i4")) == [7] * 4
        with pytest.raises(segjit.BoundsError):
            seg.write(b"12345", offset=12)
        with pytest.raises(segjit.ReadOnlyError):
            seg.readonly().write(b"1")
        assert seg.slice(4, 8).to_numpy("<i4").tolist() == [7, 7]
    with pytest.raises(segjit.ClosedError):
        seg.read()


def test_confined_arena_from_another_thread():
    with segjit.Arena() as a:
        seg = a.allocate(64)
        caught = []

        def other():
            try:
                seg.read()
            except segjit.Error as e:
                caught.append(e)

        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert len(caught) == 1 and isinstance(caught[0], segjit.ThreadError)
    with segjit.Arena(shared=True) as a:
        seg = a.allocate(64)
        seg.write(b"x")
        t = threading.Thread(target=seg.read)
        t.start()
        t.join()


def test_garbage_never_crashes():
    rng = np.random.default_rng(99)
    alphabet = list("[]():%*|xijdfbszcuIJDF0123456789 .#;{}structunionbe")
    for _ in range(2000):
        text = "".join(rng.choice(alphabet, size=int(rng.integers(0, 24))))
        for make in (segjit.Layout, segjit.Layout.c, segjit.as_layout):
            try:
                lay = make(text)
            except (segjit.Error, ValueError, TypeError):
                continue
            str(lay), lay.size, lay.table()
            try:
                lay.dtype
            except segjit.UnsupportedError:
                pass
    lay = segjit.Layout("[i4(a)x4d8(b)[3:s2](c)x2]")
    for _ in range(500):
        path = "".join(rng.choice(list("[]*:.#abc0123-"), size=int(rng.integers(0, 10))))
        try:
            segjit.gather(np.zeros(4 * lay.size, "u1"), lay, path)
        except (segjit.Error, TypeError):
            pass
    with pytest.raises(ValueError, match="NUL"):
        segjit.Layout("i4\0")
    with pytest.raises(TypeError):
        segjit.Layout(42)


def test_buffer_held_for_exactly_one_call():
    ba = bytearray(DT.itemsize * 4)
    with ops._Held(ba, True, "test") as h:
        assert h.nbytes == len(ba)
        with pytest.raises(BufferError):
            ba.extend(b"x" * 100)  # exported: cannot be resized under a call
    ba.extend(b"\0" * DT.itemsize)  # released when the call ends
    segjit.convert(ba, DT, DD)
    ba.extend(b"\0" * DT.itemsize)  # and after a real call too
    assert len(ba) == DT.itemsize * 6


def test_bytearray_resize_during_a_running_call():
    """A thread resizes a bytearray while another converts it: every resize attempt made
    while the call holds the buffer fails with BufferError, none corrupts the call."""
    n = 2_000_000
    src = bytearray(np.zeros(n, DT).tobytes())
    failures, stop = [], threading.Event()

    def resize():
        while not stop.is_set():
            try:
                src.extend(b"\0" * DT.itemsize)
            except BufferError:
                failures.append(1)
                continue
            while True:  # shrink back, as soon as no call holds it
                try:
                    del src[-DT.itemsize:]
                    break
                except BufferError:
                    failures.append(1)

    t = threading.Thread(target=resize)
    t.start()
    try:
        for _ in range(5):
            try:
                out = segjit.convert(src, DT, DD)
            except segjit.ArgumentError:
                continue  # caught the array one record long between two resizes
            assert len(out) in (n, n + 1)
    finally:
        stop.set()
        t.join()
    assert len(src) == n * DT.itemsize


def test_clear_errors_for_odd_requests():
    with pytest.raises(segjit.UnsupportedError, match="union"):
        segjit.to_columns(np.zeros(4, [("u", "i4")]), "[[i4(x)|f4(y)](u)]")
    with pytest.raises(TypeError, match="kind i32"):
        segjit.fill(np.zeros(8, "i4"), None, 1.5)
    with pytest.raises(segjit.PathError, match="does not end on a value"):
        segjit.gather(np.zeros(8, "u1"), "[i4(a)]", "[*]")
    with pytest.raises(segjit.ArgumentError, match="differ in size"):
        segjit.copy(np.zeros(8, "i4"), "i4", "j8")
    a = segjit.Arena()
    a.close()
    with pytest.raises(segjit.ClosedError):
        a.allocate(8)
    with pytest.raises(segjit.ArgumentError, match="power of two"):
        segjit.Arena().allocate(8, 3)


def test_buffers_of_python_objects_are_refused():
    """Object arrays (and structured ones with object fields, their multi-field views,
    memoryviews of them) hold PyObject pointers: written over, the interpreter crashed at
    the next use. Run apart, so that a regression fails this test, not the whole run."""
    import subprocess
    import sys

    code = r'''
import ctypes
import numpy as np
import segjit

objs = np.array([object(), "x", 3], dtype=object)
rec = np.empty(2, [("o", "O"), ("x", "<i8")])
rec["o"] = ["keep", "me"]
src = np.array([(1, 2), (3, 4)], [("o", "<i8"), ("x", "<i8")])
calls = [
    lambda: segjit.fill(objs, "j8", 1),
    lambda: segjit.copy(np.arange(3, dtype="<i8"), "<i8", "<i8", out=objs),
    lambda: segjit.copy(objs, "<u8", "<u8"),  # reading gives out addresses
    lambda: segjit.convert(src, None, segjit.Layout.c("struct r { i64 o; i64 x; }"), out=rec),
    lambda: segjit.convert(rec, "[j8(o)j8(x)]", np.dtype([("x", "<i8")])),
    lambda: segjit.fill(rec[["x"]], "j8", 1),  # the view's other bytes are objects
    lambda: segjit.scatter(np.array([1, 2, 3], "<i8"), memoryview(objs), "[j8(x)]", "x"),
    lambda: segjit.fill(memoryview(objs).cast("B"), "j8", 1),
    lambda: segjit.gather(np.frombuffer(memoryview(objs), "u8"), "[uj8(x)]", "x"),
    lambda: segjit.mismatch(objs, bytes(24)),
    lambda: segjit.fill((ctypes.py_object * 2)(1, 2), "j8", 1),
    lambda: segjit.Arena().allocate(24).write(objs),
]
for i, call in enumerate(calls):
    try:
        call()
        print("call", i, "not refused")
    except TypeError as e:
        assert "Python objects" in str(e), e
print(objs[1], list(rec["o"]), "ok")
'''
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "x ['keep', 'me'] ok\n", r.stdout


def test_segment_write_takes_an_integer_offset():
    s = segjit.Arena().allocate(16)
    with pytest.raises(TypeError):
        s.write(b"ab", 1.5)  # was written at 1
    with pytest.raises(segjit.SizeOverflowError):
        s.write(b"ab", 1 << 63)  # was cffi's OverflowError
    assert s.read() == bytearray(16)
    s.write(b"ab", np.int64(1))
    assert s.read(0, 3) == bytearray(b"\0ab")


def test_to_numpy_keeps_every_byte():
    # a dtype with padding: the array holds the segment's bytes, padding included, and is
    # writable without touching the segment
    dt = np.dtype({"names": ["a", "b"], "formats": ["u1", "<i4"], "offsets": [0, 4], "itemsize": 8})
    with segjit.Arena() as a:
        seg = a.allocate(segjit.Layout("[4:j8]"))
        seg.write(bytes(range(1, 33)))
        arr = seg.to_numpy(dt)
        assert arr.tobytes() == bytes(range(1, 33))
        arr["a"][0] = 99
        assert seg.read()[0] == 1
