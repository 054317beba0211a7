"""convert by name against numpy's by-name copy (dst[f] = src[f]) on random dtypes."""
import numpy as np
import pytest

import segjit
from helpers import assert_same, fill_random, rand_dtype, ref_convert, widenings


def _retarget(dt, rng, lossless=True):
    """A destination dtype for dt: the same field names shuffled, byte orders flipped at
    random, each scalar kind widened (exact conversions only), packing at random."""
    names = list(dt.names)
    rng.shuffle(names)
    fields = []
    for name in names:
        t = dt.fields[name][0]
        if t.names is not None:
            nt = _retarget(t, rng)
        else:
            base, shape = (t.subdtype if t.subdtype else (t, ()))
            choices = widenings(base) if lossless else [base.str[1:]]
            k = choices[rng.integers(len(choices))]
            nt = np.dtype(k)
            if nt.itemsize > 1:
                nt = nt.newbyteorder("<" if rng.integers(2) else ">")
            if shape:
                nt = np.dtype((nt, shape))
        fields.append((name, nt))
    return np.dtype(fields, align=bool(rng.integers(2)))


def _no_struct_subarrays(dt):
    for name in dt.names:
        t = dt.fields[name][0]
        if t.subdtype is not None and t.subdtype[0].names is not None:
            return False
        if t.names is not None and not _no_struct_subarrays(t):
            return False
    return True


@pytest.mark.parametrize("seed", range(60))
def test_convert_random_by_name(seed):
    rng = np.random.default_rng(1000 + seed)
    sd = rand_dtype(rng)
    while not _no_struct_subarrays(sd):
        sd = rand_dtype(rng)
    dd = _retarget(sd, rng)
    src = np.zeros(int(rng.integers(0, 300)), sd)
    fill_random(src, rng)
    got = segjit.convert(src, sd, dd)
    assert got.dtype == dd and len(got) == len(src)
    assert_same(got, ref_convert(src, dd))


def test_reordered_and_swapped():
    sd = np.dtype([("a", "<i4"), ("b", ">f8"), ("c", "<u2")])
    dd = np.dtype([("c", ">u2"), ("a", ">i4"), ("b", "<f8")])
    src = np.array([(1, 2.5, 3), (-7, np.nan, 65535), (2**31 - 1, -np.inf, 0)], sd)
    got = segjit.convert(src, sd, dd)
    assert_same(got, ref_convert(src, dd))
    # numpy's own structured assignment goes by position: a different answer
    with np.errstate(invalid="ignore"):
        by_position = src.astype(dd)
    assert not np.array_equal(by_position["c"], got["c"])


def test_widening_and_lossy():
    src = np.array([(300, 2.75), (-1, -1e300)], [("i", "<i4"), ("d", "<f8")])
    dd = np.dtype([("i", "<u1"), ("d", "<f4")])
    with pytest.raises(segjit.ArgumentError, match="lossy"):
        segjit.convert(src, None, dd)
    got = segjit.convert(src, None, dd, lossy=True)
    assert list(got["i"]) == [300 & 255, 255]  # C narrowing: modulo 2^8
    assert got["d"][0] == np.float32(2.75) and np.isneginf(got["d"][1])


def test_unmatched_and_zero_unmatched():
    src = np.array([(1,), (2,)], [("a", "<i4")])
    dd = np.dtype([("a", "<i8"), ("extra", "<f8")])
    with pytest.raises(segjit.ArgumentError, match="extra"):
        segjit.convert(src, None, dd)
    out = np.full(2, 0xFF, "u1").repeat(dd.itemsize).view(dd)
    got = segjit.convert(src, None, dd, zero_unmatched=True, out=out)
    assert got is out and list(out["a"]) == [1, 2] and list(out["extra"]) == [0.0, 0.0]


def test_nested_by_path():
    sd = np.dtype([("id", "<u4"), ("pos", [("x", ">f4"), ("y", ">f4")])])
    dd = np.dtype([("pos", [("y", "<f8"), ("x", "<f8")]), ("id", "<u8")])
    src = np.array([(1, (1.5, -2.0)), (2, (np.inf, 0.25))], sd)
    assert_same(segjit.convert(src, sd, dd), ref_convert(src, dd))


def test_sources_of_every_buffer_kind(tmp_path):
    sd = np.dtype([("a", "<i4"), ("b", ">f8")])
    dd = np.dtype([("b", "<f8"), ("a", "<i8")])
    src = np.zeros(50, sd)
    fill_random(src, np.random.default_rng(5))
    want = ref_convert(src, dd)
    path = tmp_path / "recs.bin"
    src.tofile(path)
    mm = np.memmap(path, dtype=sd, mode="r")
    for buf in (src, src.tobytes(), bytearray(src.tobytes()), memoryview(src.tobytes()), mm):
        assert_same(segjit.convert(buf, sd, dd), want)
    # into a memmap opened for writing, and a bytearray
    out_path = tmp_path / "out.bin"
    out = np.memmap(out_path, dtype=dd, mode="w+", shape=(50,))
    segjit.convert(src, sd, dd, out=out)
    out.flush()
    assert_same(np.fromfile(out_path, dtype=dd), want)
    ba = bytearray(dd.itemsize * 50)
    segjit.convert(src, sd, dd, out=ba)
    assert_same(np.frombuffer(ba, dd), want)
    # a non-contiguous source is copied first
    assert_same(segjit.convert(src[::2], sd, dd), want[::2])


def test_layouts_as_text():
    src = np.array([(1, 2.0)], [("x", "<i4"), ("y", "<f8")])
    got = segjit.convert(src, "[1%i4(x)1%d8(y)]", "struct p { f64 y; i64 x; }")
    assert got["x"][0] == 1 and got["y"][0] == 2.0


def test_kernels_are_cached():
    src = np.zeros(10, [("a", "<i4")])
    segjit.convert(src, None, np.dtype([("a", ">i4")]))
    before = dict(segjit.ops.stats)
    for _ in range(5):
        segjit.convert(src, None, np.dtype([("a", ">i4")]))
    assert segjit.ops.stats["hits"] == before["hits"] + 5
    assert segjit.ops.stats["misses"] == before["misses"]


def test_one_kernel_serves_every_count():
    dt = np.dtype([("a", "<i4"), ("b", "<f8")])
    for op in (lambda a: segjit.gather(a, None, "b"), lambda a: segjit.reduce(a, None, "a", "sum"),
               lambda a: segjit.to_columns(a)):
        op(np.zeros(3, dt))
        before = dict(segjit.ops.stats)
        for n in (0, 1, 7, 1000):
            a = np.zeros(n, dt)
            a["a"] = np.arange(n)
            op(a)
        assert segjit.ops.stats["misses"] == before["misses"], "a kernel was built per count"
    a = np.zeros(1000, dt)
    a["a"] = np.arange(1000)
    assert segjit.reduce(a, None, "a", "sum") == 999 * 1000 // 2
    assert segjit.gather(a, None, "a").tolist() == list(range(1000))


def test_every_declared_function_resolves_and_kernels_describe():
    import re

    from segjit import _ffi

    src = open(_ffi.__file__).read()
    names = set(re.findall(r"\b(sj_[a-z_0-9]+)\(", src))
    assert len(names) > 40
    for name in names:
        assert callable(getattr(_ffi.lib, name)), name
    a = np.zeros(3, [("a", "<i4")])
    segjit.convert(a, None, np.dtype([("a", ">i8")]))
    k = next(iter(segjit.ops._cache.values()))
    assert isinstance(k.describe(), str) and k.describe()
