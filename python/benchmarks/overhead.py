"""The Python package's cost on top of the library, and threads in parallel (release build).

    swift build -c release --product TapeVMC
    PYTHONPATH=python/src TAPEVM_LIBRARY=.build/release/libTapeVMC.so taskset -c 1 python3 python/benchmarks/overhead.py --parallel-points 0   # 1 to 10^6 points
    PYTHONPATH=python/src TAPEVM_LIBRARY=.build/release/libTapeVMC.so python3 python/benchmarks/overhead.py --sizes 1000000          # and two threads

For each batch size it times, in interleaved batches in one process:
- api: Function.value_and_grad on an (N, 2) Fortran-ordered array (no input copy), which
  allocates its results and converts arguments on every call;
- raw: the same C function (tvm_run_block) called through ctypes with its record and result
  block prepared in advance: the library's own time plus one foreign call of one argument;
and reports the overhead (api - raw) per call and as a share of api, in CPU time of the
calling thread (with --threads 1 the whole run happens on it; insensitive to other processes
taking the cores) and in wall-clock time (the minimum: the least disturbed batch). Then two Python threads,
each running a one-worker Function, against one thread doing both calls: the speed-up shows
whether the GIL is released while the library computes. It is set beside the speed-up of the
library's own two workers on the same calls, which says what the two cores give right now (on
a shared machine, about 2x only when nothing else runs). Run it without taskset.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import threading
import time

import numpy as np

import tapevm

EXPRESSION = "f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2)"


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def raw_call(f, X):
    """A closure calling tvm_run_block with its record and result block prepared in advance."""
    lib = tapevm.library()
    n = X.shape[0]
    cols = np.asfortranarray(X)
    block = np.empty(3 * n)
    seeds = np.ones(1)
    record = (ctypes.c_size_t * 10)(f._handle, n, 0, cols.ctypes.data, n, 0, seeds.ctypes.data, 1, 1,
                                    block.ctypes.data)
    at = ctypes.addressof(record)
    keep = (cols, block, seeds, record)

    def call():
        assert lib.tvm_run_block(at) == 0, keep
    return call


def overhead(sizes, threads):
    f = tapevm.compile(EXPRESSION, threads=threads)
    print(f"library {tapevm.library().path}, {f.instruction_set}, threads={threads or 'all'}")
    print("per call, best and median of interleaved batches; CPU time of the calling thread (what the call")
    print("costs whatever else the machine runs; complete only with threads=1) and wall-clock time:")
    print(f"{'points':>16} | {'api cpu':>11} {'raw cpu':>11} {'overhead':>11} {'share':>7} |"
          f" {'api wall':>11} {'raw wall':>11} {'overhead':>11} {'share':>7}")
    for n in sizes:
        X = np.asfortranarray(np.random.default_rng(0).uniform(-3, 3, size=(n, 2)))
        raw = raw_call(f, X)
        api = lambda: f.value_and_grad(X)
        api(), raw()
        batch = max(1, int(2000 / (1 + n / 100)))
        rounds = max(40, min(200, int(2e7 / (batch * (200 + 20 * n)))))
        cpu = {api: [], raw: []}
        wall = {api: [], raw: []}
        for _ in range(rounds):          # interleaved: both see the same machine
            for fn in (api, raw):
                c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
                for _ in range(batch):
                    fn()
                cpu[fn].append((time.thread_time_ns() - c0) / batch * 1e-9)
                wall[fn].append((time.perf_counter_ns() - w0) / batch * 1e-9)

        def us(t):
            return f"{t * 1e6:>8.2f} us" if abs(t) < 1e-2 else f"{t * 1e3:>8.2f} ms"

        for label, pick in (("best", min), ("median", statistics.median)):
            line = f"{n:>9} {label:>6} |"
            for table in (cpu, wall):
                a, r = pick(table[api]), pick(table[raw])
                line += f" {us(a)} {us(r)} {us(a - r)} {100 * (a - r) / a:>6.1f}% |"
            print(line.rstrip(" |"))


def parallel(n, rounds=9):
    """2r calls of n points (r such that a round takes some 20 ms or more): one after the other in
    one Python thread on a one-worker Function (serial), r in each of two Python threads
    (python), and one after the other on a two-worker Function (library: what two cores give the
    library's own threads right now, the yardstick on a shared machine). Interleaved rounds,
    wall-clock time."""
    f = tapevm.compile(EXPRESSION, threads=1)
    g = tapevm.compile(EXPRESSION, threads=2)
    X = np.asfortranarray(np.random.default_rng(1).uniform(-3, 3, size=(n, 2)))
    r = max(1, 2_000_000 // n)

    def calls(function):
        for _ in range(r):
            function.value_and_grad(X)

    def serial():
        calls(f)
        calls(f)

    def python_threads():
        ts = [threading.Thread(target=calls, args=(f,)) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    def library_workers():
        calls(g)
        calls(g)

    cases = (serial, python_threads, library_workers)
    for case in cases:
        case()
    times = {case: [] for case in cases}
    for _ in range(rounds):
        for case in cases:
            times[case].append(median_time(case, 1))
    t = {case: statistics.median(times[case]) for case in cases}
    py = [a / b for a, b in zip(times[serial], times[python_threads])]
    lib = [a / b for a, b in zip(times[serial], times[library_workers])]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{2 * r} calls of {n} points: one Python thread {t[serial] * 1e3:.1f} ms, two Python threads "
          f"{t[python_threads] * 1e3:.1f} ms, two library workers {t[library_workers] * 1e3:.1f} ms")
    print(f"  speed-up of two Python threads: median {statistics.median(py):.2f}x (best {max(py):.2f}x); of two "
          f"library workers: median {statistics.median(lib):.2f}x (best {max(lib):.2f}x); {rounds} rounds, load average {load}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,1000,1000000")
    parser.add_argument("--threads", type=int, default=1, help="workers per run (0: every core)")
    parser.add_argument("--parallel-points", default="100000,1000000")
    a = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    overhead([int(s) for s in a.sizes.split(",")], a.threads or None)
    for n in a.parallel_points.split(","):
        if int(n):
            parallel(int(n))
