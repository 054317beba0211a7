"""Random dtypes and values, and numpy references, for the binding's tests."""
import numpy as np

INTS = ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8"]
FLOATS = ["f4", "f8"]
SCALARS = INTS + FLOATS + ["?"]


def scalar(rng, kinds=SCALARS):
    s = kinds[rng.integers(len(kinds))]
    if s in ("i1", "u1", "?"):
        return np.dtype(s)
    return np.dtype(("<" if rng.integers(2) else ">") + s)


def rand_dtype(rng, depth=0, subarrays=True, nested=True, names=None, prefix="f"):
    """A random structured dtype: 1-5 fields of random kinds and byte orders, nested
    structs, subarrays, packed or aligned, sometimes with gaps and tail padding."""
    n = int(rng.integers(1, 6))
    fields = []
    for i in range(n):
        if nested and depth < 2 and rng.random() < 0.2:
            t = rand_dtype(rng, depth + 1, subarrays, nested, prefix=prefix + "n")
        else:
            t = scalar(rng)
        if subarrays and rng.random() < 0.2:
            t = np.dtype((t, (int(rng.integers(1, 4)),)))
        fields.append(("%s%d_%d" % (prefix, depth, i), t))
    aligned = bool(rng.integers(2))
    dt = np.dtype(fields, align=aligned)
    if rng.random() < 0.35:  # gaps between fields and tail padding
        unit = dt.alignment if aligned else 1
        offsets, pos = [], 0
        for _, t in fields:
            pos += unit * int(rng.integers(0, 3))
            if aligned:
                a = np.dtype(t).alignment
                pos = (pos + a - 1) // a * a
            offsets.append(pos)
            pos += np.dtype(t).itemsize
        size = pos + unit * int(rng.integers(0, 3))
        if aligned:
            size = (size + dt.alignment - 1) // dt.alignment * dt.alignment
        dt = np.dtype({"names": [f for f, _ in fields], "formats": [t for _, t in fields],
                       "offsets": offsets, "itemsize": size}, align=aligned)
    return dt


SPECIAL_F = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1.0, -1.5]


def fill_random(view, rng):
    """Random values in every field of view (extremes, NaN, infinities included)."""
    dt = view.dtype
    if dt.names is not None:
        for name in dt.names:
            fill_random(view[name], rng)
        return
    shape = view.shape
    if dt.kind == "b":
        view[...] = rng.integers(0, 2, size=shape).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        v = rng.integers(info.min, info.max, size=shape, dtype=dt.newbyteorder("="),
                         endpoint=True)
        flat = v.reshape(-1)
        specials = [info.min, info.max, 0, 1]
        for j in range(min(len(flat), len(specials))):
            flat[j] = specials[j]
        view[...] = v
    else:
        v = (rng.standard_normal(size=shape) * 1e3).astype(dt.newbyteorder("="))
        flat = v.reshape(-1)
        extra = SPECIAL_F + [np.finfo(dt).max, np.finfo(dt).tiny]
        for j in range(min(len(flat), len(extra))):
            flat[j] = extra[j]
        view[...] = v


def ref_convert(src, dst_dtype):
    """numpy by name: dst[f] = src[f] for each field, recursing into nested structs (a
    numpy struct assignment would go by position)."""
    out = np.zeros(len(src), dst_dtype)
    _assign(out, src)
    return out


def _assign(out, src):
    for name in out.dtype.names:
        if out.dtype[name].names is not None:
            _assign(out[name], src[name])
        else:
            out[name] = src[name]


def assert_same(a, b):
    """Field by field equality, NaN equal to NaN."""
    assert a.dtype.names == b.dtype.names or a.dtype.names is None
    if a.dtype.names is None:
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(a, b)  # treats NaN as equal
        else:
            assert np.array_equal(a, b)
        return
    for name in a.dtype.names:
        assert_same(a[name], b[name])


# Conversions the library does without lossy=True (exact for every value)
def widenings(dt):
    k, n = dt.kind, dt.itemsize
    out = []
    if k == "b":
        out = ["?"] + INTS + FLOATS
    elif k == "i":
        out = ["i%d" % m for m in (1, 2, 4, 8) if m >= n] + (["f8"] if n <= 4 else []) + \
            (["f4"] if n <= 2 else [])
    elif k == "u":
        out = ["u%d" % m for m in (1, 2, 4, 8) if m >= n] + \
            ["i%d" % m for m in (2, 4, 8) if m > n] + (["f8"] if n <= 4 else []) + \
            (["f4"] if n <= 2 else [])
    elif k == "f":
        out = ["f8"] + (["f4"] if n == 4 else [])
    return out
