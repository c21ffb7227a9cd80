"""Tests of python/tapevm.py against a built libTapeVMC (run: python3 -m pytest python/).

Builds nothing: set TAPEVM_LIBRARY to the library, or build it first with `swift build` at the
repository root; without it every test is skipped with a message saying so.
"""

import os
import sys
import threading

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapevm  # noqa: E402

try:
    tapevm.load_library()
except tapevm.LibraryNotFoundError as e:
    pytest.skip(f"TapeVM C library not available: {e}", allow_module_level=True)

EXPRESSION = "f(x, y; w) = w * x * y + sin(x)\ng(x, y; w) = x / (1 + y^2)"


def points(n, seed):
    return np.random.default_rng(seed).uniform(-2, 2, n)


def test_version():
    assert "C ABI 1" in tapevm.version()


def test_tape_names_and_text_round_trip():
    tape = tapevm.Tape.from_expression(EXPRESSION)
    assert tape.inputs == ["x", "y"]
    assert tape.parameters == ["w"]
    assert tape.outputs == ["f", "g"]
    text = tape.text
    assert text.startswith("tapevm 1\n")
    assert tapevm.Tape.from_text(text).text == text


def test_value_and_grad_matches_numpy():
    tape = tapevm.Tape.from_expression(EXPRESSION)
    program = tapevm.Program(tape, threads=2)
    x, y, w = points(10_001, 1), points(10_001, 2), 0.75
    r = program.value_and_grad({"x": x, "y": y}, params={"w": w}, per_point_params=True)
    np.testing.assert_allclose(r.values[0], w * x * y + np.sin(x), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(r.values[1], x / (1 + y**2), rtol=1e-14)
    np.testing.assert_allclose(r.input_grads[0], w * y + np.cos(x), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(r.input_grads[1], w * x, rtol=1e-14)
    np.testing.assert_allclose(r.param_grads[0], x * y, rtol=1e-14)
    np.testing.assert_allclose(r.param_grad_sum, [np.sum(x * y)], rtol=1e-12)
    # The second output, by name; lists of arrays in input order work too.
    g = program.value_and_grad([x, y], [w], output="g")
    np.testing.assert_allclose(g.input_grads[0], 1 / (1 + y**2), rtol=1e-14)
    np.testing.assert_allclose(g.input_grads[1], -2 * x * y / (1 + y**2) ** 2, rtol=1e-13)
    assert g.param_grad_sum[0] == 0 and g.param_grads is None
    # evaluate agrees with value_and_grad, bit for bit; results do not depend on threads.
    values = program.evaluate([x, y], [w])
    for a, b in zip(values, r.values):
        assert np.array_equal(a, b)
    one = tapevm.Program(tape, threads=1).value_and_grad([x, y], [w])
    assert np.array_equal(one.input_grads[0], r.input_grads[0])
    assert one.param_grad_sum[0] == r.param_grad_sum[0]


def test_shapes_dtypes_and_copies():
    program = tapevm.Program(tapevm.Tape.from_expression("h(u, v) = u * v"))
    u = np.linspace(-1, 1, 12).reshape(3, 4)
    v = np.arange(12, dtype=np.int32).reshape(3, 4)         # converted to float64
    r = program.value_and_grad({"u": u, "v": v})
    assert r.values[0].shape == (3, 4) and r.values[0].dtype == np.float64
    np.testing.assert_array_equal(r.values[0], u * v)
    np.testing.assert_array_equal(r.input_grads[0], v.astype(np.float64))
    # Non-contiguous views are copied; contiguous float64 arrays are passed as they are.
    strided = np.linspace(0, 1, 20)[::2]
    np.testing.assert_array_equal(program.evaluate([strided, strided])[0], strided * strided)
    contiguous = np.linspace(0, 1, 10)
    assert np.ascontiguousarray(contiguous, dtype=np.float64) is contiguous
    # No points at all, and a tape of parameters only (one point).
    empty = program.value_and_grad([np.empty(0), np.empty(0)])
    assert empty.values[0].shape == (0,)
    c = tapevm.Program(tapevm.Tape.from_expression("c(; k) = k^2")).value_and_grad({}, {"k": 3.0})
    assert c.values[0] == 9.0 and c.param_grad_sum[0] == 6.0


def test_errors():
    with pytest.raises(tapevm.TapeVMError) as e:
        tapevm.Tape.from_expression("f(x, y) = x + z")
    assert e.value.status_name == "TVM_ERROR_PARSE"
    assert "1:15: error: unknown name 'z'" in e.value.message
    with pytest.raises(tapevm.TapeVMError) as e:
        tapevm.Tape.from_text("tapevm 1\ninput x\nr0 = input x\nr1 = ad r0 r0\noutput f r1\n")
    assert "4:6" in e.value.message and "unknown mnemonic 'ad'" in e.value.message
    tape = tapevm.Tape.from_expression(EXPRESSION)
    with pytest.raises(tapevm.TapeVMError) as e:
        tapevm.Program(tape, isa="sse9")
    assert e.value.status_name == "TVM_ERROR_INVALID_ARGUMENT" and "isa 'sse9'" in e.value.message
    program = tapevm.Program(tape)
    x = points(5, 3)
    with pytest.raises(ValueError, match=r"expected 2 input array\(s\) \(x, y\), got 1"):
        program.evaluate([x], [1.0])
    with pytest.raises(KeyError, match="unknown input"):
        program.evaluate({"x": x, "z": x}, [1.0])
    with pytest.raises(ValueError, match=r"expected 1 parameter value\(s\) \(w\), got 0"):
        program.value_and_grad([x, x])
    with pytest.raises(ValueError, match="same shape"):
        program.evaluate([x, x[:3]], [1.0])
    with pytest.raises(KeyError, match="unknown output 'h'"):
        program.value_and_grad([x, x], [1.0], output="h")
    # Straight to the C function: a count that does not match the tape.
    lib = tapevm.load_library()
    status = lib.tvm_evaluate(program._handle, 5, None, 0, None, 0, None, 0)
    assert status == 3
    assert lib.tvm_last_error().decode() == "tvm_evaluate: input_count is 0, but the tape has 2 input(s) (x, y)"
    assert lib.tvm_evaluate(None, 0, None, 0, None, 0, None, 0) == 1
    assert lib.tvm_last_error().decode() == "tvm_evaluate: program is NULL"


def test_threads_share_a_program():
    program = tapevm.Program(tapevm.Tape.from_expression(EXPRESSION), threads=1)
    x, y = points(50_000, 4), points(50_000, 5)
    expected = program.value_and_grad([x, y], [0.5])
    results = [None] * 4

    def work(k):
        results[k] = program.value_and_grad([x, y], [0.5])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert np.array_equal(r.values[0], expected.values[0])
        assert np.array_equal(r.input_grads[1], expected.input_grads[1])
        assert r.param_grad_sum[0] == expected.param_grad_sum[0]
