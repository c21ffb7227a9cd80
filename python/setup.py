"""The build step of the tapevm wheel: `swift build -c release --product TapeVMC` in the repository
that holds this directory, then libTapeVMC (.so, or .dylib on macOS) goes into the package.

Needs the Swift toolchain (6.1 or later; `swift` on PATH, or the SWIFT environment variable) and
SLEEF (Debian: libsleef-dev; scripts/ensure-deps installs it). Everything else is in pyproject.toml.
"""

import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:   # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIBRARY = "libTapeVMC.dylib" if sys.platform == "darwin" else "libTapeVMC.so"


def build_library() -> str:
    """Runs the Swift release build of the TapeVMC product; returns the library's path."""
    if not os.path.exists(os.path.join(ROOT, "Package.swift")):
        sys.exit(f"tapevm: {ROOT} is not the TapeVM repository (no Package.swift); install from a checkout "
                 f"with `pip install ./python` (source distributions are not supported)")
    swift = os.environ.get("SWIFT") or shutil.which("swift")
    if not swift:
        sys.exit("tapevm: the Swift toolchain (6.1 or later) is needed to build the library: "
                 "https://www.swift.org/install/ (or set SWIFT to the swift executable)")
    command = [swift, "build", "-c", "release", "--product", "TapeVMC"]
    print("tapevm: " + " ".join(command) + f"  (in {ROOT}; minutes the first time)", flush=True)
    if subprocess.call(command, cwd=ROOT) != 0:
        sys.exit("tapevm: the Swift build failed (see above). It needs SLEEF: on Debian, "
                 "`apt-get install libsleef-dev pkg-config` (scripts/ensure-deps does it)")
    bin_path = subprocess.check_output(command + ["--show-bin-path"], cwd=ROOT, text=True).strip()
    path = os.path.join(bin_path, LIBRARY)
    if not os.path.exists(path):
        sys.exit(f"tapevm: the Swift build succeeded but {path} is missing")
    return path


class BuildPy(build_py):
    """Copies the Python sources, then the freshly built library, into the wheel's tree."""

    def run(self):
        super().run()
        if not self.editable_mode:   # an editable install finds the repository's .build itself
            self.copy_file(build_library(), os.path.join(self.build_lib, "tapevm", LIBRARY))


class BdistWheel(bdist_wheel):
    """A platform wheel for any Python 3: the library is loaded with ctypes, not as an extension."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        return "py3", "none", super().get_tag()[2]


setup(cmdclass={"build_py": BuildPy, "bdist_wheel": BdistWheel})
