"""What the kernel cache and the record plans keep, checked by structure (what is built,
shared and kept), never by time: path kernels share one open root per record layout,
to_columns/from_columns keep one plan per record, and every cache stays within its bound."""
import numpy as np
import pytest

import segjit
from segjit import Layout, ops


@pytest.fixture(autouse=True)
def fresh_cache():
    segjit.clear_cache()
    yield
    segjit.clear_cache()


def _wide(w, kind="<i4"):
    return np.dtype([("f%d" % i, kind) for i in range(w)])


def _roots_of(kernels):
    """The open root of every path in the kernels (gather_many keeps a list of paths)."""
    roots = []
    for k in kernels:
        keep = k.keep[0]
        for p in keep if isinstance(keep, list) else [keep]:
            if isinstance(p, ops._Path):
                roots.append(p.root)
    return roots


def _count_calls(monkeypatch, owner, name):
    """Counts calls of owner.name (a function, a class, or a classmethod of a class): the
    list of their positional arguments (a method's first is self)."""
    calls = []
    raw = owner.__dict__[name]
    if isinstance(raw, classmethod):
        fn = raw.__func__

        def counted(cls, *a, **kw):
            calls.append(a)
            return fn(cls, *a, **kw)

        monkeypatch.setattr(owner, name, classmethod(counted))
    else:
        def counted(*a, **kw):
            calls.append(a)
            return raw(*a, **kw)

        monkeypatch.setattr(owner, name, counted)
    return calls


def test_kernels_of_one_record_share_one_open_root(monkeypatch):
    dt = _wide(300)
    rec = segjit.as_layout(dt)
    a = np.zeros(5, dt)
    a["f7"] = np.arange(5)
    sequences = _count_calls(monkeypatch, Layout, "sequence")
    parses = _count_calls(monkeypatch, Layout, "__init__")
    cols = segjit.to_columns(a)
    back = segjit.from_columns(cols, dt)
    assert (back == a).all()
    for i in range(0, 300, 7):
        segjit.gather(a, None, "f%d" % i)
        segjit.scatter(np.ones(5, "i2"), back, None, "f%d" % i)
        segjit.reduce(a, None, "f%d" % i, "max")
    # 38 gather_many, 300 scatter and 129 kernels of gather, scatter and reduce: one root,
    # made once from the record's own nodes, no text of it parsed
    root_counts = [args[0] for args in sequences]
    assert root_counts == [(2**63 - 1) // rec.size]
    assert not any(isinstance(args[1], str) and "[*:" in args[1] for args in parses)
    plan = ops._plans[str(rec)]
    kernels = list(plan.kernels.values()) + list(ops._cache.values())
    assert len(kernels) == 38 + 300 + 3 * 43
    roots = _roots_of(kernels)
    assert len(roots) == 300 + 300 + 3 * 43
    assert all(r is roots[0] for r in roots)
    root = roots[0]
    assert root.count == (2**63 - 1) // rec.size and root.element == rec
    assert str(root) == "[*:%s]" % rec  # the open records the text used to give


def test_subarray_leaves_are_looked_up_once(monkeypatch):
    dt = np.dtype([("a", "<i8"), ("v", "<i4", (6,)), ("m", "<f4", (3, 2))])
    a = np.zeros(4, dt)
    a["v"] = np.arange(24).reshape(4, 6)
    a["m"] = 1.5
    cols = segjit.to_columns(a)
    paths = _count_calls(monkeypatch, ops, "_Path")
    for _ in range(3):
        assert segjit.from_columns(cols, dt).tobytes() == a.tobytes()
    # first call: v, m, m[0..2] looked up and 1 + 6 + 6 scatter kernels built; then none
    assert len(paths) == 5 + 13
    assert ops._path_kernel_leaf(segjit.as_layout(dt), "m[1]").count == 2
    assert ops._path_kernel_leaf(segjit.as_layout(dt), "zz") is None
    assert len(paths) == 5 + 13 + 1  # zz: one try, kept as None
    assert ops._path_kernel_leaf(segjit.as_layout(dt), "zz") is None
    assert len(paths) == 5 + 13 + 1


def test_a_wide_record_is_one_plan_and_is_not_rebuilt():
    w = 2 * ops.CACHE_SIZE + 5  # wider than the kernel cache
    dt = _wide(w)
    a = np.zeros(3, dt)
    a["f1"], a["f%d" % (w - 1)] = 4, 9
    cols = segjit.to_columns(a)
    back = segjit.from_columns(cols, dt)
    assert len(ops._cache) == 0 and len(ops._plans) == 1
    plan = next(iter(ops._plans.values()))
    assert len(plan.kernels) == (w + 7) // 8 + w
    before = dict(ops.stats)
    for _ in range(2):
        cols = segjit.to_columns(a)
        back = segjit.from_columns(cols, dt)
        segjit.from_columns({"f3": cols["f3"]}, dt, out=back)
    assert ops.stats["misses"] == before["misses"], "a wide record's kernels were rebuilt"
    assert (back == a).all()


def test_from_columns_of_one_column_reads_no_other_field(monkeypatch):
    dt = _wide(3000)
    out = np.zeros(2, dt)
    col = {"f2999": np.array([5, 6], "i4")}
    segjit.from_columns(col, dt, out=out)
    borrows = _count_calls(monkeypatch, Layout, "_borrow")
    paths = _count_calls(monkeypatch, ops, "_Path")
    segjit.from_columns(col, dt, out=out)
    assert borrows == [] and paths == []
    assert out["f2999"].tolist() == [5, 6] and not out["f0"].any()


def test_fields_and_members_are_read_once_and_handed_out_as_copies(monkeypatch):
    lay = Layout("[i4(a)x4d8(b)[s2(c)](s)]")
    first = lay.fields
    borrows = _count_calls(monkeypatch, Layout, "_borrow")
    second = lay.fields
    assert second == first and second is not first
    assert [off for off, _ in lay.members] == [0, 4, 8, 16] and lay.members is not lay.members
    assert borrows == []
    second["zz"] = None
    lay.members.clear()
    assert "zz" not in lay.fields and len(lay.members) == 4
    assert Layout(lay).fields == first  # the copy constructor keeps them


def test_plans_stay_within_their_bounds(monkeypatch):
    monkeypatch.setattr(ops, "PLAN_CACHE_SIZE", 3)
    monkeypatch.setattr(ops, "PLAN_KERNELS", 40)
    for r in range(8):
        dt = np.dtype([("r%d_%d" % (r, i), "<i4") for i in range(12 + r)])
        a = np.zeros(2, dt)
        a[dt.names[-1]] = r
        back = segjit.from_columns(segjit.to_columns(a), dt)
        assert (back == a).all()
        plan = ops._plans[str(segjit.as_layout(dt))]  # the plan in use is kept
        assert len(ops._plans) <= 3
        total = sum(len(p.kernels) for p in ops._plans.values())
        assert total <= max(40, len(plan.kernels))
        others = [p for p in ops._plans.values() if p is not plan]
        assert sum(len(p.kernels) for p in others) <= 40


def test_a_plan_keeps_at_most_its_cap(monkeypatch):
    monkeypatch.setattr(ops, "CACHE_SIZE", 0)  # cap = 2 L
    dt = np.dtype([("a", "<i4"), ("v", "<i2", (3,))])
    lay = segjit.as_layout(dt)
    a = np.zeros(4, dt)
    a["a"], a["v"] = 3, 2
    plan = ops._record_plan(lay)
    assert plan.cap == 2 * 4
    for kind in ("i1", "i2", "i4", "i8", "u2", "f4", "f8"):
        cols = {f: c.astype(kind) for f, c in segjit.to_columns(a).items()}
        assert segjit.from_columns(cols, dt, lossy=True).tobytes() == a.tobytes()
        assert len(plan.kernels) <= plan.cap
    assert ops._value_leaves(Layout("[[3:[2:[s2(x)x6d8(y)]]](v)[b1(p)|j8(q)](u)i4(a)]")) == 15


def test_open_roots_live_while_a_kernel_uses_them():
    import gc

    dt = _wide(20)
    rec = segjit.as_layout(dt)
    segjit.gather(np.zeros(2, dt), None, "f3")
    assert str(rec) in ops._roots
    segjit.clear_cache()
    gc.collect()
    assert str(rec) not in ops._roots


def test_refused_open_root_gives_the_texts_error():
    rec = Layout.struct([Layout.value("i32").with_name("a"), Layout.value("u8").with_name("b")])
    msg = "SJ_E_ARG: 1:1: sequence layout: element size 5 is not a multiple of its alignment 4"
    for call in (lambda: segjit.gather(bytes(10), rec, "a"),
                 lambda: segjit.to_columns(bytes(10), rec),
                 lambda: segjit.from_columns({"a": np.zeros(2, "i4")}, rec)):
        with pytest.raises(segjit.ArgumentError) as e:
            call()
        assert str(e.value) == msg


def test_copy_keeps_the_swapped_layout(monkeypatch):
    a = np.arange(6, dtype="<i4")
    first = segjit.copy(a)
    swaps = _count_calls(monkeypatch, Layout, "with_order")
    second = segjit.copy(a)
    assert swaps == []
    assert second.dtype == first.dtype == np.dtype(">i4") and (second == a).all()
    assert segjit.copy(np.arange(3, dtype=">f8")).dtype == np.dtype("<f8")
