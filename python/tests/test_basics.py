"""Tapes, compile, the argument forms, results against NumPy, errors and the C functions."""

import ctypes

import numpy as np
import pytest

import tapevm

EXPRESSION = "f(x, y; w) = w * x * y + sin(x)\ng(x, y; w) = x / (1 + y^2)"


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def test_version_and_functions():
    assert "C ABI 1" in tapevm.version()
    names = tapevm.function_names()
    for name in ("exp", "sigmoid", "where", "powi", "logaddexp", "max", "select"):
        assert name in names
    info = tapevm.functions()["where"]
    assert (info.mnemonic, info.argument_count, info.integer_exponent) == ("select", 3, False)
    assert tapevm.functions()["powi"].integer_exponent
    assert "sigmoid" in tapevm.sigmoid.__doc__ and "y(1-y)" in tapevm.sigmoid.__doc__
    assert "sigmoid" in dir(tapevm)
    with pytest.raises(AttributeError, match="no function of that name"):
        tapevm.no_such_function


def test_tape_names_and_text_round_trip():
    tape = tapevm.Tape.from_expression(EXPRESSION)
    assert (tape.inputs, tape.params, tape.outputs) == (("x", "y"), ("w",), ("f", "g"))
    text = tape.text
    assert text.startswith("tapevm 1\n")
    assert tapevm.Tape.from_text(text) == tape
    # compile takes tape text too (recognized by its header, after comments and blank lines).
    f = tapevm.compile("# a tape\n\n" + text)
    assert f.tape == tape and f.outputs == ("f", "g")
    assert repr(f) == "<tapevm.Function f, g(x, y; w)>"


def test_value_and_grad_matches_numpy(rng):
    f = tapevm.compile(EXPRESSION, threads=2)
    x, y, w = rng.uniform(-2, 2, 10_001), rng.uniform(-2, 2, 10_001), 0.75
    value, grad, pgrad = f.value_and_grad({"x": x, "y": y}, params={"w": w})
    np.testing.assert_allclose(value, w * x * y + np.sin(x), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(grad["x"], w * y + np.cos(x), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grad["y"], w * x, rtol=1e-14)
    assert set(pgrad) == {"w"} and isinstance(pgrad["w"], float)
    np.testing.assert_allclose(pgrad["w"], np.sum(x * y), rtol=1e-12)
    # The second output by name; per-point parameter gradients.
    r = f.value_and_grad({"x": x, "y": y}, {"w": w}, output="g", per_point_params=True)
    np.testing.assert_allclose(r.value, x / (1 + y**2), rtol=1e-14)
    np.testing.assert_allclose(r.grad["y"], -2 * x * y / (1 + y**2) ** 2, rtol=1e-13)
    np.testing.assert_array_equal(r.param_grad["w"], np.zeros_like(x))
    # value: a dict of outputs for dict inputs, (N, m) for an (N, n) array; bit-identical to value_and_grad.
    values = f.value({"x": x, "y": y}, {"w": w})
    assert np.array_equal(values["f"], value)
    X = np.column_stack([x, y])
    V = f(X, [w])
    assert V.shape == (10_001, 2) and np.array_equal(V[:, 0], value) and np.array_equal(V[:, 1], r.value)
    # Results do not depend on the thread count.
    one = f.with_options(threads=1).value_and_grad(X, [w])
    assert np.array_equal(one.grad[:, 0], grad["x"]) and one.param_grad[0] == pgrad["w"]


def test_array_forms_and_copies(rng):
    f = tapevm.compile("h(u, v; a, b) = a * u * v + b * u")
    X = rng.normal(size=(1000, 2))
    u, v = X[:, 0], X[:, 1]
    value, grad, pgrad = f.value_and_grad(X, [2.0, 3.0])
    assert grad.shape == (1000, 2) and pgrad.shape == (2,)
    np.testing.assert_allclose(grad, np.column_stack([2 * v + 3, 2 * u]), rtol=1e-14)
    np.testing.assert_allclose(pgrad, [np.sum(u * v), np.sum(u)], rtol=1e-12)
    _, _, per_point = f.value_and_grad(X, [2.0, 3.0], per_point_params=True)
    assert per_point.shape == (1000, 2)
    np.testing.assert_allclose(per_point, np.column_stack([u * v, u]), rtol=1e-14)
    # Zero copies: Fortran-ordered (N, n) arrays and contiguous 1-D arrays are passed as they are;
    # a C-ordered (N, n) array is transposed once; non-contiguous columns are copied.
    F = np.asfortranarray(X)
    assert np.shares_memory(f._inputs(F)[1][0], F)
    assert not np.shares_memory(f._inputs(X)[1][0], X)
    assert f._inputs({"u": u.copy(), "v": F[:, 1]})[1][1].flags.c_contiguous
    cu = np.ascontiguousarray(u)
    assert f._inputs({"u": cu, "v": cu})[1][0] is cu
    assert np.array_equal(f.value(F, [2.0, 3.0]), value)
    assert np.array_equal(f.value({"u": u, "v": v}, {"a": 2.0, "b": 3.0}), value)   # strided views: copied
    # One input: a 1-D array, gradient 1-D; lists are converted.
    g = tapevm.compile("g(x) = x^3")
    assert np.array_equal(g.grad(np.array([1.0, 2.0])), [3.0, 12.0])
    assert np.array_equal(g([1, 2]), [1.0, 8.0])
    # No points; a function of parameters only (one point).
    empty = f.value_and_grad(np.empty((0, 2)), [1.0, 1.0])
    assert empty.grad.shape == (0, 2) and empty.value.shape == (0,) and empty.param_grad.tolist() == [0.0, 0.0]
    assert f.jacobian(np.empty((0, 2)), [1.0, 1.0], wrt="params").shape == (0, 1, 2)
    # Read-only arrays are read in place too.
    frozen = F.copy(order="F")
    frozen.flags.writeable = False
    assert np.array_equal(f.value(frozen, [2.0, 3.0]), value)
    c = tapevm.compile("c(; k) = k^2").value_and_grad(params={"k": 3.0})
    assert c.value[0] == 9.0 and c.param_grad == {"k": 6.0}


def test_jacobian_and_vjp(rng):
    f = tapevm.compile("f(x, y; w) = (w * x * y, exp(x) - y, sigmoid(x + y))")
    assert f.outputs == ("f[0]", "f[1]", "f[2]")
    X = rng.uniform(-1, 1, size=(500, 2))
    x, y = X[:, 0], X[:, 1]
    J = f.jacobian(X, [0.5])
    assert J.shape == (500, 3, 2)
    s = sigmoid(x + y)
    expected = np.stack([np.column_stack([0.5 * y, 0.5 * x]), np.column_stack([np.exp(x), -np.ones_like(y)]),
                         np.column_stack([s * (1 - s), s * (1 - s)])], axis=1)
    np.testing.assert_allclose(J, expected, rtol=1e-13, atol=1e-16)
    # Each row is bit for bit value_and_grad of that output.
    for k in range(3):
        assert np.array_equal(J[:, k, :], f.value_and_grad(X, [0.5], output=k).grad)
    Jd = f.jacobian({"x": x, "y": y}, {"w": 0.5})
    assert np.array_equal(Jd["f[1]"]["x"], J[:, 1, 0])
    Jp = f.jacobian(X, [0.5], wrt="params")
    assert Jp.shape == (500, 3, 1)
    np.testing.assert_allclose(Jp[:, 0, 0], x * y, rtol=1e-15)
    assert np.all(Jp[:, 1:, 0] == 0)
    assert np.array_equal(f.jacobian({"x": x, "y": y}, {"w": 0.5}, wrt="params")["f[0]"]["w"], Jp[:, 0, 0])
    # A vector-Jacobian product: the gradient of a weighted sum of the outputs.
    seeds = [2.0, -1.0, 0.5]
    r = f.value_and_grad(X, [0.5], seeds=seeds)
    np.testing.assert_allclose(r.grad, np.einsum("k,nkj->nj", seeds, J), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(r.value, f(X, [0.5]) @ seeds, rtol=1e-15)


def test_parse_errors_point_at_the_column():
    with pytest.raises(tapevm.ParseError) as e:
        tapevm.compile("f(x) = (x +* 2")
    err = e.value
    assert isinstance(err, ValueError) and isinstance(err, tapevm.TapeVMError)
    assert err.status_name == "TVM_ERROR_PARSE" and (err.line, err.column) == (1, 12)
    assert str(err) == "tvm_tape_from_expression: 1:12: error: unexpected '*'; expected an expression\n" \
                       "f(x) = (x +* 2\n           ^"
    with pytest.raises(tapevm.ParseError, match="1:15: error: unknown name 'z'"):
        tapevm.compile("f(x, y) = x + z")
    with pytest.raises(tapevm.ParseError, match="unknown mnemonic 'ad'") as e:
        tapevm.compile("tapevm 1\ninput x\nr0 = input x\nr1 = ad r0 r0\noutput f r1\n")
    assert (e.value.line, e.value.column) == (4, 6)


def test_argument_errors(rng):
    f = tapevm.compile(EXPRESSION)
    x = rng.normal(size=5)
    with pytest.raises(tapevm.TapeVMError, match="isa 'sse9'") as e:
        f.with_options(isa="sse9")
    assert e.value.status_name == "TVM_ERROR_INVALID_ARGUMENT"
    with pytest.raises(ValueError, match="threads must be a positive int"):
        f.with_options(threads=0)
    with pytest.raises(TypeError, match=r"input 'y' has dtype float32; .* \.astype\(np\.float64\)"):
        f.value({"x": x, "y": x.astype(np.float32)}, [1.0])
    with pytest.raises(TypeError, match="inputs has dtype int64"):
        f.value(np.zeros((5, 2), dtype=np.int64), [1.0])
    with pytest.raises(ValueError, match=r"unknown input\(s\) \['z'\], missing input\(s\) \['y'\]"):
        f.value({"x": x, "z": x}, [1.0])
    with pytest.raises(ValueError, match=r"inputs has shape \(5,\); expected \(N, 2\)"):
        f.value(x, [1.0])
    with pytest.raises(ValueError, match=r"inputs has shape \(5, 3\); expected \(N, 2\)"):
        f.value(np.zeros((5, 3)), [1.0])
    with pytest.raises(ValueError, match=r"input 'y' has shape \(5, 1\); expected a 1-D array"):
        f.value({"x": x, "y": x[:, None]}, [1.0])
    with pytest.raises(ValueError, match="input 'y' has 3 point"):
        f.value({"x": x, "y": x[:3]}, [1.0])
    with pytest.raises(TypeError, match=r"missing the parameters \(w\)"):
        f.value({"x": x, "y": x})
    with pytest.raises(ValueError, match=r"params has shape \(2,\); expected \(1,\)"):
        f.value({"x": x, "y": x}, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['v'\]"):
        f.value({"x": x, "y": x}, {"v": 1.0})
    with pytest.raises(TypeError, match="missing the inputs"):
        f.value(None, [1.0])
    with pytest.raises(TypeError, match="not an array of numbers"):
        f.value({"x": ["a", "b"], "y": x[:2]}, [1.0])
    with pytest.raises(ValueError, match="unknown output 'h'"):
        f.value_and_grad({"x": x, "y": x}, [1.0], output="h")
    with pytest.raises(ValueError, match="output 2 is out of range"):
        f.value_and_grad({"x": x, "y": x}, [1.0], output=2)
    with pytest.raises(ValueError, match="seeds has 3 weight"):
        f.value_and_grad({"x": x, "y": x}, [1.0], seeds=[1, 2, 3])
    with pytest.raises(ValueError, match="wrt must be"):
        f.jacobian({"x": x, "y": x}, [1.0], wrt="x")
    with pytest.raises(TypeError, match="needs a Tape"):
        tapevm.Function("f(x) = x")


def test_c_functions_directly():
    """The C ABI additions the package relies on, through ctypes: counts, NULLs, ranges."""
    lib = tapevm.library()
    f = tapevm.compile(EXPRESSION)
    P = ctypes.c_void_p
    assert lib.tvm_evaluate(f._handle, 5, None, 0, None, 0, None, 0) == 3
    assert lib.tvm_last_error().decode() == "tvm_evaluate: input_count is 0, but the tape has 2 input(s) (x, y)"
    x = np.linspace(-1, 1, 8)
    cols = (P * 2)(x.ctypes.data, x.ctypes.data)
    w = np.array([0.5])
    assert lib.tvm_gradients(f._handle, 8, ctypes.addressof(cols), 2, w.ctypes.data, 1, None, 1,
                             None, 0, None, 0, None, None, 0) == 1
    assert "seeds is NULL, but request_count is 1" in lib.tvm_last_error().decode()
    seeds = np.eye(2)
    out = np.empty((2, 8))
    rows = (P * 2)(out.ctypes.data, out.ctypes.data + 64)
    assert lib.tvm_gradients(f._handle, 8, ctypes.addressof(cols), 2, w.ctypes.data, 1, seeds.ctypes.data, 2,
                             None, 0, ctypes.addressof(rows), 2, None, None, 0) == 3
    assert "input_gradient_count is 2, but 2 request(s) × 2 input(s) (x, y) need 4" in lib.tvm_last_error().decode()
    # Overlapping destinations are refused, naming both.
    rows4 = (P * 4)(out.ctypes.data, out.ctypes.data, out.ctypes.data + 64, 0)
    assert lib.tvm_gradients(f._handle, 8, ctypes.addressof(cols), 2, w.ctypes.data, 1, seeds.ctypes.data, 2,
                             None, 0, ctypes.addressof(rows4), 4, None, None, 0) == 3
    assert "input_gradients[1] (request 0, input 'y') overlaps input_gradients[0]" in lib.tvm_last_error().decode()
    count = ctypes.c_size_t()
    assert lib.tvm_function_count(ctypes.byref(count)) == 0 and count.value == len(tapevm.functions())
    s = ctypes.c_char_p()
    n = ctypes.c_size_t()
    i = ctypes.c_int()
    assert lib.tvm_function_info(count.value, ctypes.byref(s), ctypes.byref(s), ctypes.byref(n), ctypes.byref(i),
                                 ctypes.byref(s)) == 3
    assert "out of range" in lib.tvm_last_error().decode()
    assert lib.tvm_function_info(0, None, ctypes.byref(s), ctypes.byref(n), ctypes.byref(i), ctypes.byref(s)) == 1
    assert lib.tvm_function_count(None) == 1


def test_read_only_arrays_and_pickling(rng):
    import pickle

    f = tapevm.compile("f(x, y; w) = w * x * exp(-y)", threads=1)
    X = rng.normal(size=(100, 2))
    X.flags.writeable = False
    params = np.array([0.5])
    params.flags.writeable = False
    value = f(X, params)
    np.testing.assert_allclose(value, 0.5 * X[:, 0] * np.exp(-X[:, 1]), rtol=1e-15)
    g = pickle.loads(pickle.dumps(f))
    assert g.tape == f.tape and g._options == {"threads": 1, "tile_size": None, "isa": None}
    assert np.array_equal(g(X, params), value)
