"""Tests of the tapevm package against a built libTapeVMC.

Run from the repository: `scripts/test` (which sets TAPEVM_LIBRARY to its build), or
`PYTHONPATH=python/src python3 -m pytest python/tests` after `swift build --product TapeVMC`
(the package finds the repository's .build itself), or against an installed package.
"""

import os
import sys

import numpy as np
import pytest

try:
    import tapevm  # noqa: F401  (an installed package, or PYTHONPATH=python/src)
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
