"""to_columns / from_columns, gather, scatter, reduce, copy, fill, mismatch against numpy."""
import numpy as np
import pytest

import segjit
from helpers import assert_same, fill_random, rand_dtype, scalar


def _records(seed, n=None, **kw):
    rng = np.random.default_rng(seed)
    dt = rand_dtype(rng, **kw)
    a = np.zeros(int(rng.integers(0, 200)) if n is None else n, dt)
    fill_random(a, rng)
    return a


@pytest.mark.parametrize("seed", range(40))
def test_columns_round_trip(seed):
    a = _records(2000 + seed)
    cols = segjit.to_columns(a)
    assert list(cols) == list(a.dtype.names)
    for name, col in cols.items():
        assert len(col) == len(a)
        assert_same(col, a[name].astype(col.dtype))
        if a.dtype[name].names is None:  # value and subarray columns: native byte order
            assert col.dtype.isnative
    back = segjit.from_columns(cols, a.dtype)
    assert_same(back, a)


def test_many_fields_use_several_gathers():
    dt = np.dtype([("f%d" % i, ("<" if i % 2 else ">") + "i4") for i in range(19)])
    a = np.zeros(1000, dt)
    fill_random(a, np.random.default_rng(1))
    cols = segjit.to_columns(a)
    assert len(cols) == 19
    for name in dt.names:
        assert np.array_equal(cols[name], a[name]) and cols[name].dtype == np.dtype("=i4")
    sub = segjit.to_columns(a, fields=["f18", "f3"])
    assert list(sub) == ["f18", "f3"]
    back = segjit.from_columns(cols, dt)
    assert back.tobytes() == a.tobytes()


def test_from_columns_converts_each_column():
    dt = np.dtype([("a", ">i8"), ("b", "<f4")])
    out = segjit.from_columns({"a": np.arange(5, dtype="i2"), "b": np.ones(5)}, dt,
                              lossy=True)
    assert list(out["a"]) == list(range(5)) and list(out["b"]) == [1.0] * 5
    with pytest.raises(segjit.ArgumentError, match="different lengths"):
        segjit.from_columns({"a": np.arange(5), "b": np.ones(4)}, dt)


@pytest.mark.parametrize("seed", range(30))
def test_gather_scatter(seed):
    rng = np.random.default_rng(3000 + seed)
    t = scalar(rng)
    dt = np.dtype([("pad", "u1"), ("v", t), ("w", "<f8", (2,))], align=bool(seed % 2))
    a = np.zeros(int(rng.integers(1, 500)), dt)
    fill_random(a, rng)
    g = segjit.gather(a, None, "v")
    assert_same(g, a["v"].astype(t.newbyteorder("=")))
    assert_same(segjit.gather(a, None, "[*].w[1]"), a["w"][:, 1])
    b = np.zeros_like(a)
    segjit.scatter(g, b, None, "v")
    assert_same(b["v"], a["v"])
    assert not b["w"].any() and not b["pad"].any()  # other fields untouched


@pytest.mark.parametrize("kind", ["i1", "u1", "<i2", ">u2", "<i4", ">i4", "u4", "<i8", ">u8",
                                  "<f4", ">f8"])
@pytest.mark.parametrize("op", ["sum", "min", "max"])
def test_reduce_against_numpy(kind, op):
    rng = np.random.default_rng(7)
    dt = np.dtype([("x", kind), ("y", "<f8")])
    a = np.zeros(1001, dt)
    fill_random(a, rng)
    if a.dtype["x"].kind == "f":  # no NaN: numpy and segjit may disagree on NaN ordering
        a["x"] = np.where(np.isfinite(a["x"]), a["x"], 1.0)
    got = segjit.reduce(a, None, "x", op)
    x = a["x"].astype(a.dtype["x"].newbyteorder("="))
    if op == "sum":
        if x.dtype.kind == "f":
            assert got == pytest.approx(float(np.sum(x, dtype=np.float64)), rel=1e-9)
        elif x.dtype.kind == "u":
            assert got == int(np.sum(x, dtype=np.uint64))  # both wrap modulo 2^64
        else:
            assert got == int(np.sum(x, dtype=np.int64))
    else:
        want = getattr(np, op)(x)
        assert got == (float(want) if x.dtype.kind == "f" else int(want))


def test_reduce_float_nan_and_inf():
    a = np.array([(1.0,), (np.inf,), (2.0,)], [("x", "<f8")])
    assert segjit.reduce(a, None, "x") == np.inf
    assert segjit.reduce(a, None, "x", "max") == np.inf


@pytest.mark.parametrize("t", ["<i2", ">i2", "<i4", ">u4", "<f8", ">f8", "<f4", ">i8"])
def test_copy_byte_order(t):
    rng = np.random.default_rng(11)
    a = np.zeros(777, t)
    fill_random(a, rng)
    swapped = segjit.copy(a)
    other = np.dtype(t).newbyteorder()
    assert swapped.dtype == other
    assert swapped.tobytes() == a.astype(other).tobytes()
    out = np.zeros(777, t)
    segjit.copy(swapped, other, t, out=out)
    assert out.tobytes() == a.tobytes()
    assert segjit.copy(a, t, t).tobytes() == a.tobytes()


def test_fill():
    for t, v in [("<i4", -5), (">f8", 2.5), ("u1", 255), (">u8", 2**64 - 1), ("?", True),
                 ("<i2", -32768), (">f4", np.inf)]:
        a = np.zeros(100, t)
        segjit.fill(a, None, v)
        assert (a == v).all(), t
    ba = bytearray(8)
    segjit.fill(ba, "[1%I4]" if False else "I4", 1)
    assert bytes(ba) == b"\0\0\0\1" * 2
    with pytest.raises(OverflowError):
        segjit.fill(np.zeros(2, "u1"), None, 256)


def test_mismatch():
    assert segjit.mismatch(b"abcdef", b"abcdef") == -1
    assert segjit.mismatch(b"abcdef", b"abcxef") == 3
    assert segjit.mismatch(b"abc", b"abcdef") == 3
    assert segjit.mismatch(b"", b"") == -1
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, 100000, dtype="u1")
    b = a.copy()
    b[76543] ^= 1
    assert segjit.mismatch(a, b) == 76543


def test_empty_buffers():
    dt = np.dtype([("a", "<i4"), ("b", ">f8")])
    e = np.zeros(0, dt)
    assert len(segjit.convert(e, None, np.dtype([("b", "<f8")]), zero_unmatched=True)) == 0
    assert segjit.reduce(e, None, "a") == 0
    assert len(segjit.gather(e, None, "b")) == 0
    assert all(len(c) == 0 for c in segjit.to_columns(e).values())


def test_gather_into_out_takes_its_dtype_and_scatter_checks_length():
    a = np.zeros(10, [("x", ">i4"), ("y", "<f8")])
    a["x"] = np.arange(10)
    with pytest.raises(segjit.ArgumentError, match=r"lossy=True"):
        segjit.gather(a, None, "x", out=np.zeros(10, "<f4"))  # i32 -> f32 is inexact
    out = np.zeros(10, "<f8")
    assert segjit.gather(a, None, "x", out=out) is out
    assert list(out) == list(range(10))
    with pytest.raises(segjit.BoundsError):
        segjit.scatter(np.zeros(9, "i4"), a, None, "x")
    assert list(a["x"]) == list(range(10))  # nothing written
    with pytest.raises(segjit.ArgumentError, match="struct"):
        segjit.to_columns(np.zeros(4, "i4"))


def test_stdlib_mmap_and_pickle(tmp_path):
    import mmap
    import pickle

    dt = np.dtype([("a", "<i4"), ("b", ">i2")])
    src = np.zeros(64, dt)
    src["a"] = np.arange(64)
    path = tmp_path / "m.bin"
    src.tofile(path)
    with open(path, "r+b") as f:
        m = mmap.mmap(f.fileno(), 0)
        assert list(segjit.gather(m, dt, "a")) == list(range(64))
        segjit.fill(memoryview(m)[:4], "i4", 99)  # a writable mapping as destination
        assert np.frombuffer(m, dt)["a"][0] == 99
        m.close()
    lay = segjit.Layout.from_dtype(dt)
    assert pickle.loads(pickle.dumps(lay)) == lay


# ---- found by a user's audit (session 16) ----


def test_copy_refuses_records_that_differ_in_byte_order_only():
    a = np.array([(1, 2.0)], [("x", "<i4"), ("y", "<f8")])
    with pytest.raises(segjit.ArgumentError, match="convert"):
        segjit.copy(a, a.dtype, a.dtype.newbyteorder(">"))
    with pytest.raises(segjit.ArgumentError, match="convert"):
        segjit.copy(np.arange(4, dtype="<i4").tobytes(), "[2:i4]", "[2:I4]")
    assert list(segjit.copy(np.arange(4, dtype="<i4"), "i4", "I4")) == [0, 1, 2, 3]
    assert segjit.copy(a, a.dtype, a.dtype)[0]["y"] == 2.0  # the same records: moved


def test_fill_values_of_equal_repr_but_other_bits():
    b = np.zeros(2)
    segjit.fill(b, None, np.float32(0.1))
    segjit.fill(b, None, 0.1)
    assert b[0] == 0.1
    segjit.fill(b, None, float("nan"))
    segjit.fill(b, None, -float("nan"))
    assert np.signbit(b).all()


def test_canonical_text_whose_names_hold_c_words():
    recs = np.arange(3, dtype="<i4").tobytes()
    assert list(segjit.gather(recs, "[i4(instruction)]", "instruction")) == [0, 1, 2]
    assert segjit.as_layout("[i4(reunion)]").size == 4


def test_convert_into_a_multi_field_view_keeps_the_other_fields():
    arr = np.zeros(3, [("a", "<i4"), ("b", "<f8"), ("c", "<i2")])
    arr["b"] = 7
    segjit.convert(np.ones(3, [("a", "<i4"), ("c", "<i2")]), None, None, out=arr[["a", "c"]])
    assert list(arr["a"]) == [1, 1, 1] and list(arr["c"]) == [1, 1, 1]
    assert list(arr["b"]) == [7, 7, 7]
    with pytest.raises(segjit.ArgumentError, match="bytes for 3 elements"):
        segjit.convert(np.ones(3, [("a", "<i4")]), None, None, out=np.zeros(4, [("a", "<i4")]))


def test_convert_returns_the_dtype_asked_for():
    dt = np.dtype([("s", "S4")])
    assert segjit.convert(np.zeros(1, dt), None, dt).dtype == dt
    odd = np.dtype({"names": ["b", "a"], "formats": ["<i4", "<i4"], "offsets": [4, 0]})
    r = segjit.convert(np.array([(1, 2)], [("a", "<i4"), ("b", "<i4")]), None, odd)
    assert r.dtype == odd and (r["a"][0], r["b"][0]) == (1, 2)


def test_from_columns_that_fails_writes_nothing():
    o = np.zeros(2, [("a", "<i4"), ("b", "<f8")])
    cols = {"a": np.array([7, 7], "i4"), "b": np.array([1, 2])}  # int64 -> f8 is lossy
    with pytest.raises(segjit.ArgumentError, match="lossy"):
        segjit.from_columns(cols, o.dtype, out=o)
    assert not o.view("u1").any()
    with pytest.raises(segjit.ArgumentError, match="2 values per record"):
        segjit.from_columns({"v": np.ones((3, 2), "i2")}, np.dtype([("v", "<i2", (3,))]))


def test_scatter_refuses_more_values_than_records():
    d = np.zeros(3, [("a", "<i4")])
    with pytest.raises(segjit.ArgumentError, match="10 values for 3 records"):
        segjit.scatter(np.arange(10, dtype="<i4"), d, None, "a")
    with pytest.raises(segjit.ArgumentError, match="1-D"):
        segjit.scatter(np.zeros((3, 1), "<i4"), d, None, "a")
    assert not d.view("u1").any()


def test_read_checks_bounds_before_it_allocates():
    s = segjit.Arena().allocate(16)
    with pytest.raises(segjit.BoundsError, match="out of bounds"):
        s.read(0, 2**50)
    with pytest.raises(segjit.BoundsError):
        s.read(8, 9)
    assert s.read(8, 8) == bytearray(8)


def test_a_dtype_renamed_in_place_is_read_again():
    dt = np.dtype([("a", "<i4"), ("b", "<i4")])
    src = np.array([(1, 2)], dt)
    assert segjit.convert(src, dt, np.dtype([("a", "<i8")]))["a"][0] == 1
    dt.names = ("b", "a")
    assert segjit.convert(src, dt, np.dtype([("a", "<i8")]))["a"][0] == 2



def test_a_path_that_fixes_the_record_says_so():
    a = np.arange(12, dtype="<i4").view([("v", "<i4", (3,))])
    for p in ("[1].v[*]", "[0::2].v[0]"):
        with pytest.raises(segjit.ArgumentError, match=r"starts with their free index"):
            segjit.gather(a, None, p)
    assert list(segjit.gather(a, None, "[*].v[1]")) == [1, 4, 7, 10]



def test_unaligned_arrays_chars_and_sizes():
    a = np.ndarray(5, "<f8", buffer=bytearray(41), offset=1)  # numpy reads it unaligned
    a[:] = np.arange(5)
    assert not a.flags.aligned
    assert list(segjit.copy(a, None, ">f8")) == [0, 1, 2, 3, 4]
    assert segjit.reduce(a.view([("v", "<f8")]), None, "v") == 10
    c = np.zeros(2, "<u2")
    segjit.fill(c, "c2", "Z")
    assert list(c) == [90, 90]
    with pytest.raises(OverflowError):
        segjit.fill(c, "c2", "\U0001F600")  # beyond 16 bits, as Java's char
    s = segjit.Arena().allocate(16)
    with pytest.raises(segjit.SizeOverflowError):
        segjit.Arena().allocate(2**63)
    with pytest.raises(segjit.SizeOverflowError):
        s.slice(0, 2**63)
    with pytest.raises(TypeError):
        s.read(0.5, 1)


def test_unaligned_arrays_of_aligned_structs():
    # numpy reads an array of an align=True struct at any address; so does segjit (the
    # structs read unaligned), nested structs and subarrays included
    inner = np.dtype([("x", "<i2"), ("y", "<f8")], align=True)
    dt = np.dtype([("a", "<i4"), ("p", inner), ("v", "<f4", (2,))], align=True)
    a = np.ndarray(4, dt, buffer=bytearray(dt.itemsize * 4 + 1), offset=1)
    assert not a.flags.aligned
    a["a"] = [1, 2, 3, 4]
    a["p"]["y"] = [0.5, 1.5, 2.5, 3.5]
    a["v"] = [[1, 2], [3, 4], [5, 6], [7, 8]]
    cols = segjit.to_columns(a)
    assert list(cols["a"]) == [1, 2, 3, 4] and list(cols["p"]["y"]) == [0.5, 1.5, 2.5, 3.5]
    assert segjit.reduce(a, None, "p.y", "max") == 3.5
    out = segjit.convert(a, None, np.dtype([("a", "<i8"), ("v", "<f8", (2,))]))
    assert out["v"].tolist() == a["v"].tolist() and list(out["a"]) == [1, 2, 3, 4]


# ---- found by review B ----


def test_columns_go_by_field_name_whatever_the_name_holds():
    # names that read as path syntax: "a.b" is not field b of a, "v[1]" not v's element 1
    odd = ["a.b", "v[1]", "a)", "it's", "back\\slash", " sp", "é", "#0", "[*]", "0"]
    dt = np.dtype([(n, "<i4") for n in odd]
                  + [("a", [("b", "<i4")]), ("v", "<i4", (2,)),
                     ("s.t", [("u)", "<i2"), ("w'x", "<f8")], (2,))])
    x = np.zeros(3, dt)
    fill_random(x, np.random.default_rng(5))
    cols = segjit.to_columns(x)
    for n in dt.names:
        assert cols[n].tobytes() == x[n].tobytes(), n  # all native, as x
    assert segjit.from_columns(cols, dt).tobytes() == x.tobytes()
    y = segjit.from_columns({"a.b": np.array([7, 8, 9], "<i4")}, dt)
    assert list(y["a.b"]) == [7, 8, 9] and not y["a"]["b"].any()


def test_convert_into_a_multi_field_view_keeps_the_other_fields_with_a_layout_too():
    parent = np.zeros(3, [("a", "<i4"), ("b", "<i4"), ("c", "<f8")])
    view = parent[["a", "c"]]
    src = np.array([(1.5, 1), (2.5, 2), (3.5, 3)], [("c", "<f4"), ("a", ">i2")])
    lay = segjit.Layout.from_dtype(view.dtype)
    for dst in (view.dtype, lay, str(lay)):
        parent["b"] = [11, 22, 33]
        parent["a"], parent["c"] = 0, 0
        assert segjit.convert(src, None, dst, out=view) is view
        assert list(parent["a"]) == [1, 2, 3] and list(parent["c"]) == [1.5, 2.5, 3.5]
        assert list(parent["b"]) == [11, 22, 33]
    with pytest.raises(segjit.BoundsError):
        segjit.convert(src, None, view.dtype, out=view[:2])
    assert list(parent["a"]) == [1, 2, 3]  # nothing written


def test_empty_views_at_an_odd_address():
    # numpy calls an empty view aligned wherever it is: a call that touches no byte is not
    # refused for its address (an empty buffer is the segment of 0 bytes at address 0)
    rec = np.dtype([("p", "u1"), ("f", "<f4")])
    v = np.zeros(0, rec)["f"]
    assert v.flags.aligned and v.__array_interface__["data"][0] % 4 != 0
    assert len(segjit.copy(v)) == 0 and len(segjit.copy(v, None, ">f4")) == 0
    segjit.fill(v, None, 1.0)
    assert len(segjit.gather(np.zeros(0, [("s", rec)]), None, "s.f")) == 0
    outer = np.dtype([("s", rec)])
    e = segjit.from_columns(segjit.to_columns(np.zeros(0, outer)), outer)
    assert e.dtype == outer and len(e) == 0
    with pytest.raises(segjit.ReadOnlyError):  # the other checks still hold
        segjit.fill(b"", "i4", 1)


def test_segments_are_usable_as_convert_out():
    dt = np.dtype([("a", "<i4"), ("b", ">f8")], align=True)
    x = np.zeros(4, dt)
    x["a"], x["b"] = [1, 2, 3, 4], [.5, 1, 2, 3]
    with segjit.Arena() as ar:
        o = ar.allocate(x.nbytes, 8)
        assert segjit.convert(x, None, dt, out=o) is o
        assert o.read() == x.tobytes()
        with pytest.raises(segjit.ArgumentError, match="bytes for 4 elements"):
            segjit.convert(x, None, dt, out=ar.allocate(2 * x.nbytes, 8))
        with pytest.raises(segjit.BoundsError):
            segjit.convert(x, None, dt, out=o.slice(0, 16))


def test_gather_and_copy_refuse_an_out_longer_than_the_result():
    # as convert does: the tail would be returned unwritten
    x = np.zeros(3, [("a", "<i4")])
    x["a"] = [1, 2, 3]
    long = np.full(5, -1, "<i4")
    with pytest.raises(segjit.ArgumentError, match="20 bytes for 3 elements of 4 bytes"):
        segjit.gather(x, None, "a", out=long)
    with pytest.raises(segjit.ArgumentError, match="20 bytes for 3 elements of 4 bytes"):
        segjit.copy(np.array([1, 2, 3], "<i4"), None, ">i4", out=long)
    with pytest.raises(segjit.ArgumentError, match="for 3 elements"):
        segjit.gather(x, None, "a", out=segjit.Arena().allocate(16))
    assert list(long) == [-1] * 5  # nothing written
    with pytest.raises(segjit.BoundsError):  # a shorter one: the library's check
        segjit.copy(np.array([1, 2, 3], "<i4"), None, ">i4", out=long[:2])
    assert list(segjit.gather(x, None, "a", out=long[:3])) == [1, 2, 3]
    assert list(segjit.copy(x["a"], None, None, out=np.zeros(3, ">i4"))) == [1, 2, 3]
