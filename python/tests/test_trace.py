"""tapevm.trace: Python functions recorded into tapes."""

import numpy as np
import pytest

import tapevm

DONE = "f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2)"


def test_trace_gives_the_tape_of_the_expression():
    traced = tapevm.trace(lambda x, y: (x + tapevm.sigmoid(y)) / (tapevm.sigmoid(x) + (x + y) ** 2))
    assert traced.tape == tapevm.compile(DONE).tape
    assert traced.inputs == ("x", "y") and traced.outputs == ("f",)

    @tapevm.trace
    def f(x, y):
        return (x + tapevm.sigmoid(y)) / (tapevm.sigmoid(x) + (x + y) ** 2)

    assert f.text == traced.text


def test_operators_ufuncs_and_constants(rng):
    @tapevm.trace(params=["w"])
    def g(x, y, w):
        a = 2 * x - y / 3 + 1.5 ** y + x ** 0.5 - x ** -2 + abs(y) + (-x)
        b = np.exp(-x) * np.sin(y) + np.maximum(x, y) - np.minimum(x, 0.5) + np.sqrt(np.square(y) + 1)
        c = np.log1p(np.abs(x)) + np.expm1(y / 4) + np.tanh(x) * np.cos(y) + np.logaddexp(x, y) + 1 / y
        d = tapevm.where(x < y, x, y) + tapevm.relu(y) + tapevm.softplus(x) + (x >= 0.75) + (y != x)
        return w * (a + b + c + d) + np.power(x, 3) + np.float64(2.0) * y

    assert g.inputs == ("x", "y") and g.params == ("w",) and g.outputs == ("g",)
    text = g.text
    for mnemonic in ("powi r0 -2", "powi r0 3", "pow", "sqrt", "select", "lt", "ge", "ne", "logaddexp", "relu"):
        assert mnemonic in text
    x, y, w = rng.uniform(0.1, 2, 2000), rng.uniform(0.1, 2, 2000), 0.7
    a = 2 * x - y / 3 + 1.5 ** y + x ** 0.5 - x ** -2.0 + abs(y) + (-x)
    b = np.exp(-x) * np.sin(y) + np.maximum(x, y) - np.minimum(x, 0.5) + np.sqrt(np.square(y) + 1)
    c = np.log1p(np.abs(x)) + np.expm1(y / 4) + np.tanh(x) * np.cos(y) + np.logaddexp(x, y) + 1 / y
    d = np.where(x < y, x, y) + np.maximum(y, 0) + np.logaddexp(0, x) + (x >= 0.75) + (y != x)
    np.testing.assert_allclose(g({"x": x, "y": y}, {"w": w}), w * (a + b + c + d) + x**3 + 2 * y, rtol=1e-13)
    # Gradient against central differences (the function is smooth away from x = y, x = 0.5).
    away = (np.abs(x - y) > 1e-3) & (np.abs(x - 0.5) > 1e-3) & (np.abs(x - 0.75) > 1e-3)
    x, y = x[away], y[away]
    grad = g.grad({"x": x, "y": y}, {"w": w})
    h = 1e-6
    for name in ("x", "y"):
        up = {"x": x + h * (name == "x"), "y": y + h * (name == "y")}
        down = {"x": x - h * (name == "x"), "y": y - h * (name == "y")}
        numeric = (g(up, {"w": w}) - g(down, {"w": w})) / (2 * h)
        np.testing.assert_allclose(grad[name], numeric, rtol=1e-5, atol=1e-5)


def test_outputs_names_and_constants():
    f = tapevm.trace(lambda x, y: (x * y, x + y, 3.0))
    assert f.outputs == ("f[0]", "f[1]", "f[2]")
    assert np.array_equal(f(np.array([[2.0, 5.0]])), [[10.0, 7.0, 3.0]])
    assert tapevm.compile("f(x, y) = (x * y, x + y, 3)").tape == tapevm.trace(lambda x, y: (x * y, x + y, 3)).tape
    d = tapevm.trace(lambda u: {"sq": u * u, "cube": u ** 3})
    assert d.outputs == ("sq", "cube")
    r = tapevm.trace(lambda u: [u, 2 * u], outputs=["a", "b"])
    assert r.outputs == ("a", "b")
    # Explicit names, parameters only used by some outputs, unusual names quoted in tape text.
    q = tapevm.trace(lambda *v: v[0] * v[2], inputs=["x 1", "y"], params=["w"])
    assert q.inputs == ("x 1", "y") and 'input "x 1" y' in q.text
    # Dynamic functions: every library function is a tapevm attribute.
    s = tapevm.trace(lambda a, b: tapevm.logsumexp(a, b) + tapevm.powi(a, 4) + tapevm.muladd(a, b, 1.0))
    assert "logaddexp" in s.text and "powi r0 4" in s.text and "muladd" in s.text


def test_trace_errors():
    with pytest.raises(TypeError, match="no truth value while tracing"):
        tapevm.trace(lambda x: x if x > 0 else -x)
    with pytest.raises(TypeError, match="no truth value"):
        tapevm.trace(lambda x, y: max(x, y))
    with pytest.raises(TypeError, match="numpy.arccosh has no TapeVM function|numpy.rint has no TapeVM function"):
        tapevm.trace(lambda x: np.rint(x) if "acosh" in tapevm.function_names() else np.arccosh(x))
    with pytest.raises(TypeError, match="sigmoid takes 1 argument"):
        tapevm.trace(lambda x: tapevm.sigmoid(x, x))
    with pytest.raises(TypeError, match="last argument of powi must be an int"):
        tapevm.trace(lambda x: tapevm.powi(x, 2.5))
    with pytest.raises(ValueError, match="exponent of powi must be between"):
        tapevm.trace(lambda x: x ** 10_000_000)
    with pytest.raises(TypeError, match="cannot use a str"):
        tapevm.trace(lambda x: x + "1")
    with pytest.raises(ValueError, match="'x' named twice"):
        tapevm.trace(lambda x, y: x, inputs=["x", "x"])
    with pytest.raises(ValueError, match="2 output name"):
        tapevm.trace(lambda x: x, outputs=["a", "b"])
    with pytest.raises(TypeError, match="needs inputs="):
        tapevm.trace(lambda *v: v[0])
    with pytest.raises(TypeError, match="output 'f' is a str"):
        tapevm.trace(lambda x: "x")
    with pytest.raises(TypeError, match="no trace running"):
        tapevm.exp(1.0)
    kept = []
    tapevm.trace(lambda x: kept.append(x) or x)
    with pytest.raises(ValueError, match="values of two traces cannot be mixed"):
        tapevm.trace(lambda y: y + kept[0])
    with pytest.raises(TypeError, match="cannot become a float"):
        tapevm.trace(lambda x: float(x))


def test_constants_inside_a_trace():
    # A tapevm function of constants alone records on the running trace (the optimizer folds it).
    f = tapevm.trace(lambda x: x * tapevm.exp(1.0))
    assert "exp" in f.text
    np.testing.assert_allclose(f(np.array([2.0])), [2 * np.e], rtol=1e-15)
    nan = tapevm.trace(lambda x: x + float("nan") + float("-inf"))
    assert "const nan\n" in nan.text and "const -inf\n" in nan.text   # recorded as nan:0x7ff8000000000000


def test_numpy_object_arrays_of_traced_values(rng):
    weights = np.array([0.5, -1.25, 2.0])

    def neuron(*xs):
        return tapevm.sigmoid(np.array(xs) @ weights + 0.1)

    f = tapevm.trace(neuron, inputs=["x0", "x1", "x2"])
    X = rng.normal(size=(50, 3))
    np.testing.assert_allclose(f(X), 1 / (1 + np.exp(-(X @ weights + 0.1))), rtol=1e-14)
