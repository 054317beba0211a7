"""python/tests/venv_run.py: what the ctest `python_binding_venv` runs: makes a virtual
environment that sees the system's packages (numpy, cffi, pytest from Debian), installs the
binding into it offline, and runs the pytest suite against the installed package (not the
source tree). Exit 77 (skipped) when venv or the packages are missing.

    /usr/bin/python3 python/tests/venv_run.py VENV_DIR   (SEGJIT_LIBRARY set by ctest)
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)


def main():
    venv_dir = sys.argv[1]
    try:
        import venv  # noqa: F401
        import cffi  # noqa: F401
        import numpy  # noqa: F401
        import pytest  # noqa: F401
    except ImportError as e:
        print("python_binding_venv: SKIPPED: %s lacks %s (run.sh installs python3-venv, "
              "python3-numpy, python3-cffi, python3-pytest)" % (sys.executable, e.name))
        return 77
    shutil.rmtree(venv_dir, ignore_errors=True)
    r = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv_dir])
    if r.returncode != 0:
        print("python_binding_venv: SKIPPED: python3 -m venv failed (python3-venv missing?)")
        return 77
    py = os.path.join(venv_dir, "bin", "python")
    # install from a copy, so that setuptools' build files stay out of the source tree
    src = os.path.join(venv_dir, "src")
    shutil.copytree(PYDIR, src, ignore=shutil.ignore_patterns(
        "__pycache__", "build", "*.egg-info", "tests"))
    subprocess.run([py, "-m", "pip", "install", "--no-build-isolation", "--no-index",
                    "--quiet", "--disable-pip-version-check", src], check=True,
                   env=dict(os.environ, TMPDIR=venv_dir))
    env = dict(os.environ, SEGJIT_TEST_INSTALLED=venv_dir, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    return subprocess.run([py, os.path.join(HERE, "ctest_run.py")], cwd=venv_dir,
                          env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
