"""Layouts: text forms, queries, and numpy dtype round trips."""
import numpy as np
import pytest

import segjit
from helpers import rand_dtype

DTYPES = [
    "<i4", ">i4", "|u1", "?", "<f8", ">f4", ">u8", "<i2", ">i2",
    [("a", "<i4"), ("b", ">f8")],  # packed, mixed byte orders
    np.dtype([("a", "u1"), ("b", "<i4"), ("c", ">f8")], align=True),  # aligned, padded
    [("a", "u1"), ("b", [("x", ">u2"), ("y", "<f4", (2, 3))])],  # nested, 2-d subarray
    np.dtype([("p", [("x", "f8"), ("y", "f8")], (4,)), ("n", "i4")]),  # subarray of structs
    ("f4", (3,)),
    {"names": ["a", "b"], "formats": ["<i2", ">f8"], "offsets": [4, 16], "itemsize": 40},
    np.dtype({"names": ["a", "b"], "formats": ["u1", "<i8"], "offsets": [0, 8],
              "itemsize": 24}, align=True),
]


@pytest.mark.parametrize("dt", DTYPES, ids=[str(i) for i in range(len(DTYPES))])
def test_dtype_round_trip(dt):
    dt = np.dtype(dt)
    lay = segjit.Layout.from_dtype(dt)
    assert lay.size == dt.itemsize
    assert lay.dtype == dt
    assert segjit.Layout(str(lay)) == lay  # the canonical text parses back


@pytest.mark.parametrize("seed", range(60))
def test_random_dtype_round_trip(seed):
    dt = rand_dtype(np.random.default_rng(seed))
    lay = segjit.Layout.from_dtype(dt)
    assert lay.size == dt.itemsize
    back = lay.dtype
    assert back == dt, (dt, str(lay), back)
    assert segjit.Layout.from_dtype(back) == lay or back.isalignedstruct != dt.isalignedstruct


def test_byte_orders_and_alignment():
    lay = segjit.Layout.from_dtype(np.dtype([("a", "<i4"), ("b", ">f8")]))
    assert str(lay) == "[1%i4(a)1%D8(b)]"  # packed numpy struct: alignment 1
    f = lay.fields
    assert f["b"][0] == 4 and f["b"][1].byte_order == "big" and f["b"][1].kind == "f64"
    assert lay.alignment == 1
    al = segjit.Layout.from_dtype(np.dtype([("a", "u1"), ("b", "<i4")], align=True))
    assert str(al) == "[ub1(a)x3i4(b)]" and al.alignment == 4 and al.size == 8


def test_text_and_c():
    lay = segjit.Layout("[i4(a)x4d8(b)]")
    assert (lay.size, lay.alignment, str(lay)) == (16, 8, "[i4(a)x4d8(b)]")
    assert list(lay.fields) == ["a", "b"]
    c = segjit.Layout.c("struct p { i32 x; f64 y; be i16 z[3]; }")
    assert c.size == 24 and c.name == "p"
    assert c.dtype == np.dtype({"names": ["x", "y", "z"],
                                "formats": ["<i4", "<f8", (">i2", (3,))],
                                "offsets": [0, 8, 16], "itemsize": 24})
    table = c.table()
    assert "hole" in table and "z" in table
    assert segjit.as_layout("struct q { u8 a; }") == segjit.Layout.c("struct q { u8 a; }")
    assert hash(segjit.Layout("[i4(a)]")) == hash(segjit.Layout("[i4(a)]"))
    assert segjit.Layout("[i4(a)]") != segjit.Layout("[i4(b)]")
    assert repr(lay) == "Layout('[i4(a)x4d8(b)]')"


def test_unnamed_members_get_numpy_names():
    assert segjit.Layout("[i4i4]").dtype == np.dtype([("f0", "<i4"), ("f1", "<i4")])
    # numpy counts fields, not padding: the field after a hole is f1, as np.dtype names it
    dt = segjit.Layout("[i4x4d8]").dtype
    assert dt.names == ("f0", "f1") and dt.fields["f1"][1] == 8
    assert dt.names == np.dtype([("", "<i4"), ("", "<f8")]).names  # numpy's own naming


def test_bytes_fields_become_byte_sequences():
    lay = segjit.Layout.from_dtype(np.dtype([("s", "S5"), ("i", "<i4")]))
    assert str(lay) == "[[5:ub1](s)1%i4(i)]"


@pytest.mark.parametrize("text,what", [
    ("[i4|j8]", "union"),
    ("[c2(c)]", "char"),
    ("[a8(p)]", "addr"),
    ("[i4(a)i4(a)]", "duplicate"),
])
def test_no_numpy_dtype(text, what):
    with pytest.raises(segjit.UnsupportedError, match=what):
        segjit.Layout(text).dtype


@pytest.mark.parametrize("dt", ["f2", "c8", "U3", "O", "M8[s]"])
def test_dtype_without_layout(dt):
    with pytest.raises(segjit.UnsupportedError):
        segjit.Layout.from_dtype(dt)


def test_overlapping_fields_rejected():
    dt = np.dtype({"names": ["a", "b"], "formats": ["<i4", "<i4"], "offsets": [0, 2]})
    with pytest.raises(segjit.UnsupportedError, match="overlaps"):
        segjit.Layout.from_dtype(dt)


def test_equal_dtypes_of_different_alignment_are_not_confused():
    packed = np.dtype([("a", "<i4"), ("b", "<i4")])
    aligned = np.dtype([("a", "<i4"), ("b", "<i4")], align=True)
    assert packed == aligned  # numpy's == ignores the flag ...
    outer_p = np.dtype([("s", packed)], align=True)
    outer_a = np.dtype([("s", aligned)], align=True)
    lp, la = segjit.as_layout(outer_p), segjit.as_layout(outer_a)  # memoized by dtype
    assert str(lp) == "[[1%i4(a)1%i4(b)](s)]" and str(la) == "[[i4(a)i4(b)](s)]"
    assert segjit.as_layout(outer_p) is lp and segjit.Layout.from_dtype(outer_a) is la


def test_memo_stays_bounded():
    from segjit import layout

    for i in range(3 * layout._MEMO_MAX):
        segjit.as_layout(np.dtype([("a", "<i4"), ("b", "<f8")]))  # a new object each time
        segjit.as_layout("[%d:i4]" % i)
    assert len(layout._BY_ID) <= layout._MEMO_MAX and len(layout._MEMO) <= layout._MEMO_MAX


def test_a_nested_dtype_renamed_in_place_is_read_again():
    inner = np.dtype([("x", "<i4"), ("y", "<i4")])
    outer = np.dtype([("p", inner)])
    sub = np.dtype([("q", inner, (2,))])
    a = np.zeros(2, outer)
    a["p"]["x"], a["p"]["y"] = [1, 2], [100, 200]
    assert list(segjit.gather(a, None, "p.x")) == [1, 2]
    assert str(segjit.as_layout(sub)) == "[[2:[1%i4(x)1%i4(y)]](q)]"
    inner.names = ("y", "x")  # the struct inside `outer` and `sub` is renamed too
    assert list(segjit.gather(a, None, "p.x")) == [100, 200]
    assert str(segjit.Layout.from_dtype(outer)) == "[[1%i4(y)1%i4(x)](p)]"
    assert str(segjit.as_layout(sub)) == "[[2:[1%i4(y)1%i4(x)]](q)]"
    # a new dtype object equal to the renamed one finds the same layout
    assert segjit.as_layout(np.dtype([("p", [("y", "<i4"), ("x", "<i4")])])) is \
        segjit.as_layout(outer)


def test_none_is_no_layout():
    # np.dtype(None) is float64: as_layout(None) used to be d8
    with pytest.raises(TypeError, match="not None"):
        segjit.as_layout(None)
    with pytest.raises(TypeError, match="not None"):
        segjit.from_columns({}, None)
    with pytest.raises(TypeError, match="not None"):
        segjit.Layout.struct([segjit.Layout("i4"), None])
    assert str(segjit.as_layout(np.dtype("<f8"))) == "d8"  # a dtype asked for is kept
