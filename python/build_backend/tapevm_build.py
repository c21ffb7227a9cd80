"""The build backend of the tapevm wheel (PEP 517 and 660), standard library only, so that
`pip install ./python` needs no download: no setuptools, no wheel package, nothing from PyPI.

build_wheel runs `swift build -c release --product TapeVMC` in the repository that holds this
directory, checks that the library loads, and writes a wheel holding the package's Python files
and libTapeVMC (.so, or .dylib on macOS). build_editable writes a wheel whose .pth file points at
python/src (the package then finds the repository's .build itself; no Swift build is run).

Needs the Swift toolchain (6.1 or later; `swift` on PATH, or the SWIFT environment variable) and
SLEEF with pkg-config (Debian: libsleef-dev pkg-config; scripts/ensure-deps installs them). The
project's metadata is pyproject.toml's [project] table; the version is src/tapevm/__init__.py's
__version__.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # python/
ROOT = os.path.dirname(HERE)                                          # the repository
PACKAGE = os.path.join(HERE, "src", "tapevm")
LIBRARY = "libTapeVMC.dylib" if sys.platform == "darwin" else "libTapeVMC.so"


class BuildError(Exception):
    """A build step failed; the message says which and what to do."""


# -- metadata ---------------------------------------------------------------------------------

def _toml_value(text: str, where: str):
    """A value of the small TOML subset pyproject.toml uses: a string, or a list of strings."""
    text = text.strip()
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    if text.startswith("[") and text.endswith("]"):
        return re.findall(r'"([^"]*)"', text)
    raise BuildError(f"pyproject.toml, {where}: expected a string or a list of strings, got {text!r}")


def _project() -> dict:
    """pyproject.toml's [project] table and its optional-dependencies, read with tomllib when the
    Python has it (3.11+), else with a reader of the subset the file uses."""
    path = os.path.join(HERE, "pyproject.toml")
    with open(path, "rb") as f:
        data = f.read()
    try:
        import tomllib
    except ImportError:
        tomllib = None
    if tomllib is not None:
        return tomllib.loads(data.decode("utf-8"))["project"]
    project: dict = {}
    table = None
    pending = ""
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        code = line.split("#", 1)[0]              # (no string in the file holds a '#')
        line = f"{pending} {code}" if pending else code
        if line.count("[") > line.count("]"):        # a list continued on the next line
            pending = line
            continue
        pending = ""
        stripped = line.strip()
        if not stripped:
            continue
        header = re.fullmatch(r"\[([\w.-]+)\]", stripped)
        if header:
            table = header.group(1)
            continue
        if table not in ("project", "project.optional-dependencies"):
            continue
        key, _, value = stripped.partition("=")
        parsed = _toml_value(value, f"line {number}")
        if table == "project":
            project[key.strip()] = parsed
        else:
            project.setdefault("optional-dependencies", {})[key.strip()] = parsed
    return project


def _version() -> str:
    with open(os.path.join(PACKAGE, "__init__.py"), encoding="utf-8") as f:
        match = re.search(r'^__version__ = "([^"]+)"', f.read(), re.MULTILINE)
    if not match:
        raise BuildError("src/tapevm/__init__.py has no __version__ = \"...\" line")
    return match.group(1)


def _metadata() -> str:
    project = _project()
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {_version()}",
             f"Summary: {project['description']}", f"Requires-Python: {project['requires-python']}"]
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {r}; extra == "{extra}"' for r in requirements]
    readme = project.get("readme")
    if readme:
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(HERE, readme), encoding="utf-8") as f:
            return "\n".join(lines) + "\n\n" + f.read()
    return "\n".join(lines) + "\n"


# -- the Swift build --------------------------------------------------------------------------

def _run(command: list[str]) -> None:
    print("tapevm: " + " ".join(command) + f"  (in {ROOT})", file=sys.stderr, flush=True)
    if subprocess.call(command, cwd=ROOT, stdout=sys.stderr) != 0:
        raise BuildError("the Swift build failed (see above)")


def _loads(path: str) -> str | None:
    """None if the library loads and answers tvm_version in a fresh Python, else why not."""
    check = "import ctypes, sys; ctypes.CDLL(sys.argv[1]).tvm_version"
    result = subprocess.run([sys.executable, "-c", check, path], capture_output=True, text=True)
    return None if result.returncode == 0 else (result.stderr.strip().splitlines() or ["(no message)"])[-1]


def build_library() -> str:
    """Runs the Swift release build of the TapeVMC product; returns the library's path."""
    if not os.path.exists(os.path.join(ROOT, "Package.swift")):
        raise BuildError(f"{ROOT} is not the TapeVM repository (no Package.swift): install from a checkout "
                         f"with `pip install ./python` (source distributions are not supported)")
    swift = os.environ.get("SWIFT") or shutil.which("swift")
    if not swift:
        raise BuildError("the Swift toolchain (6.1 or later) is needed to build the library: "
                         "https://www.swift.org/install/ (or set SWIFT to the swift executable)")
    if sys.platform != "darwin":
        # Without pkg-config's answer SwiftPM links the library without -lsleef (a warning only),
        # and the library then fails to load: stop before building.
        pkg_config = shutil.which("pkg-config")
        if not pkg_config or subprocess.call([pkg_config, "--exists", "sleef"]) != 0:
            raise BuildError("SLEEF not found by pkg-config: the library needs it (Debian: `apt-get install "
                             "libsleef-dev pkg-config`; scripts/ensure-deps in the repository does it)")
    command = [swift, "build", "-c", "release", "--product", "TapeVMC"]
    _run(command)
    bin_path = subprocess.check_output(command + ["--show-bin-path"], cwd=ROOT, text=True).strip()
    path = os.path.join(bin_path, LIBRARY)
    if not os.path.exists(path):
        raise BuildError(f"the Swift build succeeded but {path} is missing")
    problem = _loads(path)
    if problem:
        # A build planned while pkg-config could not see SLEEF leaves a library linked without it;
        # building again re-plans the link.
        print(f"tapevm: {path} does not load ({problem}); building again", file=sys.stderr, flush=True)
        _run(command)
        problem = _loads(path)
        if problem:
            raise BuildError(f"{path} was built but does not load: {problem}")
    return path


# -- wheels -----------------------------------------------------------------------------------

def _tag() -> str:
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"py3-none-{platform}"


def _hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _dist_info(tag: str) -> tuple[str, list[tuple[str, bytes, int]]]:
    """The .dist-info directory's name and its files but RECORD."""
    dist_info = f"tapevm-{_version()}.dist-info"
    wheel = f"Wheel-Version: 1.0\nGenerator: tapevm_build\nRoot-Is-Purelib: false\nTag: {tag}\n"
    return dist_info, [(f"{dist_info}/METADATA", _metadata().encode(), 0o644),
                       (f"{dist_info}/WHEEL", wheel.encode(), 0o644),
                       (f"{dist_info}/top_level.txt", b"tapevm\n", 0o644)]


def _write_metadata(directory: str, tag: str) -> str:
    dist_info, files = _dist_info(tag)
    os.makedirs(os.path.join(directory, dist_info), exist_ok=True)
    for path, data, _ in files:
        with open(os.path.join(directory, path), "wb") as f:
            f.write(data)
    return dist_info


def _write_wheel(directory: str, files: list[tuple[str, bytes, int]], tag: str) -> str:
    """Writes the wheel (files: (path in the wheel, contents, mode)); returns its file name. The
    wheel is written under a temporary name and renamed when complete."""
    name, version = "tapevm", _version()
    dist_info, metadata = _dist_info(tag)
    files = files + metadata
    record = "".join(f"{path},{_hash(data)},{len(data)}\n" for path, data, _ in files) + f"{dist_info}/RECORD,,\n"
    files.append((f"{dist_info}/RECORD", record.encode(), 0o644))
    filename = f"{name}-{version}-{tag}.whl"
    partial = os.path.join(directory, filename + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data, mode in files:
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    os.replace(partial, os.path.join(directory, filename))
    return filename


def _package_files() -> list[tuple[str, bytes, int]]:
    files = []
    for entry in sorted(os.listdir(PACKAGE)):
        if entry.endswith(".py"):
            with open(os.path.join(PACKAGE, entry), "rb") as f:
                files.append((f"tapevm/{entry}", f.read(), 0o644))
    return files


def _fail(error: BuildError):
    print(f"tapevm: {error}", file=sys.stderr)
    raise SystemExit(1)


# -- PEP 517 and PEP 660 hooks ----------------------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    try:
        return _write_metadata(metadata_directory, _tag())
    except BuildError as e:
        _fail(e)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    try:
        return _write_metadata(metadata_directory, "py3-none-any")
    except BuildError as e:
        _fail(e)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    try:
        path = build_library()
        with open(path, "rb") as f:
            library = f.read()
        return _write_wheel(wheel_directory, _package_files() + [(f"tapevm/{LIBRARY}", library, 0o755)], _tag())
    except BuildError as e:
        _fail(e)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    try:
        pth = (os.path.join(HERE, "src") + "\n").encode()
        return _write_wheel(wheel_directory, [("tapevm_editable.pth", pth, 0o644)], "py3-none-any")
    except BuildError as e:
        _fail(e)
