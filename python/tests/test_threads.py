"""The GIL is released while the library computes, so Python threads run functions in parallel.

The check is timing-free: while one thread is inside a run, the main thread keeps executing
Python code (with the GIL held through the call, as ctypes.PyDLL would, it fails: 0 iterations).
The parallel speed-up of two threads is measured by python/benchmarks/overhead.py, not here."""

import threading
import time

import numpy as np

import tapevm

EXPRESSION = "f(x, y) = sin(x) * exp(-y^2) + tanh(x * y) / (1 + x^2)"


def long_call(f, minimum_seconds=0.15):
    """Inputs for which one run of f takes at least minimum_seconds (debug or release build)."""
    n = 1 << 12
    while True:
        X = np.random.default_rng(1).uniform(-2, 2, size=(2, n)).T    # Fortran order: no copy
        start = time.perf_counter()
        f.value_and_grad(X)
        if time.perf_counter() - start >= minimum_seconds or n >= 1 << 24:
            return X
        n *= 2


def test_python_runs_while_a_thread_computes():
    f = tapevm.compile(EXPRESSION, threads=1)
    X = long_call(f)
    span = {}

    def work():
        span["start"] = time.perf_counter()
        f.value_and_grad(X)
        span["end"] = time.perf_counter()

    worker = threading.Thread(target=work)
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
    worker.join()
    start, end = span["start"], span["end"]
    middle = [t for t in ticks if start + 0.25 * (end - start) < t < end - 0.25 * (end - start)]
    # With the GIL held through the call, the main thread could not run during the middle half.
    assert len(middle) > 100, f"{len(middle)} Python iterations ran during the middle of a {end - start:.3f} s call"


def test_threads_share_a_function():
    f = tapevm.compile(EXPRESSION, threads=1)
    X = np.random.default_rng(2).uniform(-2, 2, size=(20_000, 2))
    expected = f.value_and_grad(X)
    results = [None] * 4

    def work(k):
        results[k] = f.value_and_grad(X)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert np.array_equal(r.value, expected.value) and np.array_equal(r.grad, expected.grad)
