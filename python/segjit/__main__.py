"""python -m segjit: the `segjit` command-line tool's commands from Python.

layout and convert run on the binding (convert through np.memmap, so files larger than
memory are paged by the system); dtype prints a layout's numpy dtype; offset, dump and
stats are handed to the C tool (`segjit` on PATH, or the source tree's build/tools/segjit).
Exit status as the tool's: 0 success, 1 failed operation, 2 bad usage; errors are one line
on stderr: the status name, then the message.
"""
import argparse
import os
import shutil
import sys

import numpy as np

from . import Error, as_layout, convert


def _read_layout(text):
    if text.startswith("@"):
        text = sys.stdin.read() if text == "@-" else open(text[1:], encoding="utf-8").read()
    return as_layout(text)


def _tool():
    here = os.path.dirname(os.path.abspath(__file__))
    local = os.path.join(os.path.dirname(os.path.dirname(here)), "build", "tools", "segjit")
    return shutil.which("segjit") or (local if os.access(local, os.X_OK) else None)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("offset", "dump", "stats"):
        tool = _tool()
        if tool is None:
            print("python -m segjit: '%s' is the C tool's command, and no segjit tool was "
                  "found (build it: tools/segjit)" % argv[0], file=sys.stderr)
            return 2
        os.execv(tool, [tool] + argv)
    ap = argparse.ArgumentParser(prog="python -m segjit", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("layout", help="canonical form, size, alignment and field table")
    p.add_argument("layout")
    p = sub.add_parser("dtype", help="the numpy dtype of a layout")
    p.add_argument("layout")
    p = sub.add_parser("convert", help="convert a file of records between layouts, by name")
    p.add_argument("--from", dest="src", required=True)
    p.add_argument("--to", dest="dst", required=True)
    p.add_argument("--lossy", action="store_true")
    p.add_argument("--zero-unmatched", action="store_true")
    p.add_argument("--force", action="store_true", help="replace a read-only output")
    p.add_argument("input")
    p.add_argument("output")
    for name in ("offset", "dump", "stats"):
        sub.add_parser(name, help="run by the C segjit tool")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "layout":
            lay = _read_layout(args.layout)
            print(lay, lay.size, lay.alignment)
            print(lay.table(), end="")
        elif args.cmd == "dtype":
            print(repr(_read_layout(args.layout).dtype))
        else:
            src, dst = _read_layout(args.src), _read_layout(args.dst)
            size = os.path.getsize(args.input)
            if size % src.size if src.size else size:
                raise Error("%s: %d bytes is not a whole number of %d-byte records"
                            % (args.input, size, src.size), "SJ_E_ARG")
            n = size // src.size if src.size else 0
            mode = None
            if os.path.exists(args.output):  # as the C tool: a read-only one needs --force
                mode = os.stat(args.output).st_mode & 0o7777
                ro = not os.access(args.output, os.W_OK) or not mode & 0o222
                if ro and not args.force:
                    raise Error("OUT: '%s' is read-only (mode %o); pass --force to replace it"
                                % (args.output, mode), "SJ_E_READONLY")
            tmp = args.output + ".part"
            try:
                if n == 0:
                    open(tmp, "wb").close()
                else:
                    inp = np.memmap(args.input, dtype=np.uint8, mode="r")
                    out = np.memmap(tmp, dtype=np.uint8, mode="w+", shape=(n * dst.size,))
                    convert(inp, src, dst, lossy=args.lossy,
                            zero_unmatched=args.zero_unmatched, out=out)
                    out.flush()
                    del out
                if mode is not None:
                    os.chmod(tmp, mode)  # the replaced file's mode is kept
                os.replace(tmp, args.output)  # into place only on success
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
    except Error as e:
        print("%s: %s" % (e.status, e.message), file=sys.stderr)
        return 1
    except OSError as e:
        print("python -m segjit: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
