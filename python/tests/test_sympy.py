"""tapevm.from_sympy against NumPy and against SymPy's own derivatives."""

import numpy as np
import pytest

import tapevm

sp = pytest.importorskip("sympy")
x, y, z, w = sp.symbols("x y z w", real=True)
sigmoid = sp.Function("sigmoid")


def np_sigmoid(t):
    return 1 / (1 + np.exp(-t))


def test_done_case_values_and_gradients(rng):
    """The issue's example at 100,000 points, against NumPy to 1e-12."""
    f = tapevm.from_sympy((x + sigmoid(y)) / (sigmoid(x) + (x + y) ** 2), inputs=[x, y])
    X = rng.uniform(-3, 3, size=(100_000, 2))
    a, b = X[:, 0], X[:, 1]
    value, grad, _ = f.value_and_grad(X)
    sa, sb = np_sigmoid(a), np_sigmoid(b)
    num, den = a + sb, sa + (a + b) ** 2
    np.testing.assert_allclose(value, num / den, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad[:, 0], 1 / den - num * (sa * (1 - sa) + 2 * (a + b)) / den**2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad[:, 1], sb * (1 - sb) / den - num * 2 * (a + b) / den**2, rtol=1e-12, atol=1e-12)
    # The same tape as tracing the expression the way SymPy prints it, and the same numbers,
    # bit for bit, as the expression language and a trace written in the original order.
    assert str(f.tape.text).count("\n") == 12
    printed = tapevm.trace(lambda x, y: (x + tapevm.sigmoid(y)) / ((x + y) ** 2 + tapevm.sigmoid(x)))
    assert f.tape == printed.tape
    original = tapevm.trace(lambda x, y: (x + tapevm.sigmoid(y)) / (tapevm.sigmoid(x) + (x + y) ** 2))
    compiled = tapevm.compile("f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2)")
    assert original.tape == compiled.tape
    for g in (original, compiled):
        r = g.value_and_grad(X)
        assert np.array_equal(r.value, value) and np.array_equal(r.grad, grad)


EXPRESSIONS = [
    x**2 * y - 3 * x / y + 2,
    x**-3 + y**5 - x**7,
    sp.sqrt(x**2 + y**2) - 1 / sp.sqrt(x + 4),
    x**sp.Rational(1, 3) * y**2.5,
    (x + 2) ** y,
    sp.exp(-x**2) * sp.sin(y) + sp.cos(x * y) * sp.tanh(y) - sp.log(x**2 + 1),
    sp.Abs(x - y) + sp.Max(x, y, 0.25) - sp.Min(x, -y),
    sp.Piecewise((x**2, x < y), (sp.sin(x), x > 0.5), (y, True)),
    sp.Piecewise((x, sp.And(x > 0, y > 0)), (-y, sp.Or(x < -1, sp.Not(y < 1))), (x * y, True)),
    -x * y / (w * z),
    -(x - 2 * y) / 3 + sp.pi * x - sp.E,
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=[str(e) for e in EXPRESSIONS])
def test_against_sympy_derivatives(expr, rng):
    inputs = [x, y, z]
    f = tapevm.from_sympy(expr, inputs=inputs, params=[w])
    n = 2000
    X = np.column_stack([rng.uniform(0.2, 2, n), rng.uniform(0.2, 2, n), rng.uniform(0.5, 2, n)])
    wv = 1.3
    args = (X[:, 0], X[:, 1], X[:, 2], wv)
    reference = sp.lambdify([x, y, z, w], expr, "numpy")
    value, grad, pgrad = f.value_and_grad(X, {"w": wv}, per_point_params=True)
    expected = np.broadcast_to(reference(*args), (n,))
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-13)
    for j, s in enumerate(inputs + [w]):
        derivative = np.broadcast_to(sp.lambdify([x, y, z, w], sp.diff(expr, s), "numpy")(*args), (n,))
        got = grad[:, j] if j < 3 else pgrad["w"]
        # Kinks (Abs, Max, Min, Piecewise borders): SymPy's derivative there is a convention.
        np.testing.assert_allclose(got, derivative, rtol=1e-11, atol=1e-12, err_msg=str(s))


def test_codegen_functions_and_outputs(rng):
    from sympy.codegen.cfunctions import expm1, log1p

    f = tapevm.from_sympy({"a": log1p(x) * expm1(y), "b": x / y}, inputs=[x, y])
    assert f.outputs == ("a", "b")
    assert "log1p" in f.text and "expm1" in f.text
    X = rng.uniform(0.1, 1, size=(100, 2))
    np.testing.assert_allclose(f(X), np.column_stack([np.log1p(X[:, 0]) * np.expm1(X[:, 1]), X[:, 0] / X[:, 1]]),
                               rtol=1e-14)
    g = tapevm.from_sympy([x + 1, sp.Integer(2) * y], inputs=[x, y])
    assert g.outputs == ("f[0]", "f[1]")
    # Undefined functions named like TapeVM's map to them; the default inputs are sorted.
    h = tapevm.from_sympy(sp.Function("softplus")(y) + sp.Function("logaddexp")(x, y))
    assert h.inputs == ("x", "y")
    assert "softplus" in h.text and "logaddexp" in h.text
    # Shared subexpressions are recorded once.
    s = sp.exp(x * y)
    k = tapevm.from_sympy(s * sp.sin(s) + s, inputs=[x, y])
    assert k.text.count("exp") == 1


def test_what_cannot_be_mapped():
    with pytest.raises(tapevm.ConversionError) as e:
        tapevm.from_sympy(sp.besselj(0, x) + sp.Function("g")(y) + sp.Heaviside(x), inputs=[x, y])
    assert set(e.value.unsupported) >= {"besselj", "g", "Heaviside"}
    assert "cannot map to TapeVM: Heaviside, besselj, g" in str(e.value)
    assert "sigmoid" in str(e.value)     # the list of what TapeVM has
    with pytest.raises(tapevm.ConversionError, match="symbol\\(s\\) z are neither inputs nor params"):
        tapevm.from_sympy(x + z, inputs=[x])
    with pytest.raises(tapevm.ConversionError, match="sigmoid with 2 argument"):
        tapevm.from_sympy(sigmoid(x, y), inputs=[x, y])
    with pytest.raises(tapevm.ConversionError, match="complex"):
        tapevm.from_sympy(x + sp.I, inputs=[x])
    with pytest.raises(TypeError, match="must be SymPy symbols"):
        tapevm.from_sympy(x, inputs=["x"])
