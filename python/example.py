# python/example.py: records read by name, whatever their order and byte order.
# README.md embeds this file verbatim; python/tests/test_readme.py runs it and checks both.
import numpy as np

import segjit

# Records as a C header declares them: big-endian on the wire, C padding.
wire = segjit.Layout.c("struct sample { be u32 id; be f64 t; be i16 level; }")
print(wire, wire.size, "bytes")  # canonical text; 24 bytes
print(wire.table())  # offsets, sizes and the holes

raw = np.zeros(3, wire.dtype)  # the dtype numpy would need for the same bytes
raw["id"], raw["t"], raw["level"] = [7, 8, 9], [0.5, 1.5, 2.5], [-1, 0, 1]
data = raw.tobytes()  # e.g. read from a socket or a file

# Convert by field name into the order and types the program wants (numpy's own
# astype of structured arrays goes by position, not by name).
mine = np.dtype([("level", "<i4"), ("id", "<u8"), ("t", "<f8")])
recs = segjit.convert(data, wire, mine)
print(recs["id"], recs["level"], recs["t"])

cols = segjit.to_columns(data, wire)  # one pass: a dict of native-order arrays
print(segjit.reduce(data, wire, "t", "max"), cols["level"].dtype)

try:
    segjit.convert(recs, mine, wire)  # u64 -> be u32 may lose values: an error
except segjit.ArgumentError as e:
    print(e.status, "-", e.message)
