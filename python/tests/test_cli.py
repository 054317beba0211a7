"""python -m segjit: layout, dtype and convert, with the tool's exit statuses."""
import numpy as np

from segjit.__main__ import main

from helpers import ref_convert


def test_layout_and_dtype(capsys):
    assert main(["layout", "struct p { u32 id; be f64 x; }"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[ui4(id)x4D8(x)](p) 16 8\n") and "hole" in out
    assert main(["dtype", "[i4(a)x4D8(b)]"]) == 0
    assert "'>f8'" in capsys.readouterr().out


def test_errors(capsys):
    assert main(["layout", "[i4(a"]) == 1
    assert capsys.readouterr().err.startswith("SJ_E_PARSE: 1:6:")


def test_convert_files(tmp_path):
    sd = np.dtype([("id", "<u4"), ("x", ">f8")], align=True)
    src = np.zeros(1000, sd)
    src["id"], src["x"] = np.arange(1000), np.linspace(0, 1, 1000)
    src.tofile(tmp_path / "in.bin")
    to = "packed struct r { f64 x; be u64 id; }"
    assert main(["convert", "--from", "struct r { u32 id; be f64 x; }", "--to", to,
                 str(tmp_path / "in.bin"), str(tmp_path / "out.bin")]) == 0
    dd = np.dtype([("x", "<f8"), ("id", ">u8")])
    got = np.fromfile(tmp_path / "out.bin", dtype=dd)
    assert got.tobytes() == ref_convert(src, dd).tobytes()
    # a failed conversion leaves no output file
    assert main(["convert", "--from", "struct r { u32 id; be f64 x; }", "--to",
                 "struct s { u16 id; }", str(tmp_path / "in.bin"),
                 str(tmp_path / "bad.bin")]) == 1
    assert not (tmp_path / "bad.bin").exists()
    assert not (tmp_path / "bad.bin.part").exists()
    # a read-only output is replaced only with --force, as the C tool does; its mode kept
    ro = tmp_path / "ro.bin"
    ro.write_bytes(b"old")
    ro.chmod(0o444)
    args = ["convert", "--from", "struct r { u32 id; be f64 x; }", "--to", to,
            str(tmp_path / "in.bin"), str(ro)]
    assert main(args) == 1 and ro.read_bytes() == b"old"
    assert main(args[:1] + ["--force"] + args[1:]) == 0
    assert ro.read_bytes() == (tmp_path / "out.bin").read_bytes()
    assert ro.stat().st_mode & 0o777 == 0o444
