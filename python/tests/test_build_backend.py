"""The in-tree build backend (python/build_backend/tapevm_build.py) without the Swift build: its
metadata, its wheels' RECORD, and its reader of pyproject.toml on Pythons without tomllib."""

import base64
import builtins
import hashlib
import importlib
import os
import sys
import zipfile

import pytest

BACKEND = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build_backend")


@pytest.fixture
def backend():
    sys.path.insert(0, BACKEND)
    try:
        yield importlib.import_module("tapevm_build")
    finally:
        sys.path.remove(BACKEND)


def test_metadata(backend, tmp_path):
    import tapevm
    name = backend.prepare_metadata_for_build_wheel(str(tmp_path))
    assert name == f"tapevm-{tapevm.__version__}.dist-info"
    metadata = (tmp_path / name / "METADATA").read_text()
    assert f"Version: {tapevm.__version__}\n" in metadata
    assert "Requires-Dist: numpy>=1.22\n" in metadata and 'Requires-Dist: sympy>=1.10; extra == "sympy"' in metadata
    wheel = (tmp_path / name / "WHEEL").read_text()
    assert "Root-Is-Purelib: false" in wheel and "Tag: py3-none-" in wheel
    assert backend.get_requires_for_build_wheel() == []


def test_editable_wheel_record(backend, tmp_path):
    filename = backend.build_editable(str(tmp_path))
    with zipfile.ZipFile(tmp_path / filename) as z:
        assert z.read("tapevm_editable.pth").decode().strip() == os.path.join(os.path.dirname(BACKEND), "src")
        record = [line.split(",") for line in z.read(f"{filename.split('-py3')[0]}.dist-info/RECORD").decode().splitlines()]
        for path, digest, size in record:
            if not digest:
                continue
            data = z.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == "sha256=" + expected and int(size) == len(data), path
        assert sorted(r[0] for r in record) == sorted(z.namelist())
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".partial")]


def test_pyproject_reader_without_tomllib(backend, monkeypatch):
    if sys.version_info < (3, 11):
        pytest.skip("tomllib (the reference) is Python 3.11+")
    expected = backend._project()
    real_import = builtins.__import__

    def no_tomllib(name, *args, **kwargs):
        if name == "tomllib":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tomllib)
    assert backend._project() == expected
