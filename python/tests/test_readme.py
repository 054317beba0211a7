"""README.md's Python example is python/example.py verbatim, and it runs."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
ROOT = os.path.dirname(PYDIR)


def test_readme_embeds_example():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    example = open(os.path.join(PYDIR, "example.py"), encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert example in blocks, "README.md must embed python/example.py verbatim"


def test_example_runs():
    env = dict(os.environ)
    if not os.environ.get("SEGJIT_TEST_INSTALLED"):
        env["PYTHONPATH"] = PYDIR + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, os.path.join(PYDIR, "example.py")], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "[uI4(id)x4D8(t)S2(level)x6](sample) 24 bytes" in r.stdout
    assert "[7 8 9] [-1  0  1] [0.5 1.5 2.5]" in r.stdout
    assert "SJ_E_ARG - convert: field 'id'" in r.stdout


def test_the_package_under_test():
    import segjit

    venv = os.environ.get("SEGJIT_TEST_INSTALLED")
    where = os.path.realpath(segjit.__file__)
    if venv:
        assert where.startswith(os.path.realpath(venv)), where  # the installed copy
    else:
        assert where.startswith(os.path.realpath(PYDIR)), where
