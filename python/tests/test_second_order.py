"""Forward mode and second order: jvp, hvp, hessian and param_hessian_sum against known values
and NumPy finite differences of value_and_grad."""

import numpy as np
import pytest

import tapevm

ROSENBROCK = "f(x, y) = 100 * (y - x^2)^2 + (1 - x)^2"
# At (1.5, 0.5): f = 100 * 1.75^2 + 0.25 = 306.5, grad = (400 * 1.5 * 1.75 + 1, 200 * (0.5 - 2.25)) = (1051, -350).
POINT = {"x": np.array([1.5]), "y": np.array([0.5])}
HESSIAN = np.array([[2502.0, -600.0], [-600.0, 200.0]])


def test_rosenbrock_hessian_jvp_hvp():
    f = tapevm.compile(ROSENBROCK)
    h = f.hessian(POINT)
    assert h.shape == (1, 2, 2)
    np.testing.assert_allclose(h[0], HESSIAN, rtol=1e-13)
    value, tangent = f.jvp(POINT, {"x": 1.0, "y": 2.0})
    np.testing.assert_allclose(value, [306.5], rtol=1e-14)
    np.testing.assert_allclose(tangent, [1051.0 + 2 * -350.0], rtol=1e-13)   # 351
    grad, hvp = f.hvp(POINT, {"x": 1.0, "y": 2.0})
    np.testing.assert_allclose(grad["x"], [1051.0], rtol=1e-13)
    np.testing.assert_allclose(grad["y"], [-350.0], rtol=1e-13)
    np.testing.assert_allclose(hvp["x"], [1302.0], rtol=1e-13)
    np.testing.assert_allclose(hvp["y"], [-200.0], rtol=1e-13)
    # The same through the array forms: an (N, 2) input, a shared direction as a sequence, and
    # a per-point direction as an (N, 2) array or a dict of columns.
    X = np.array([[1.5, 0.5], [1.5, 0.5]])
    assert f.jvp(X, [1.0, 2.0]).tangent.tolist() == [351.0, 351.0]
    grad, hvp = f.hvp(X, np.array([[1.0, 2.0], [0.0, 1.0]]))
    assert hvp.shape == (2, 2)
    np.testing.assert_allclose(hvp, [[1302.0, -200.0], [-600.0, 200.0]], rtol=1e-13)
    _, tangent = f.jvp(X, {"x": np.array([1.0, 0.0]), "y": 2.0})
    np.testing.assert_allclose(tangent, [351.0, -700.0], rtol=1e-13)
    np.testing.assert_allclose(f.hessian(X), np.stack([HESSIAN, HESSIAN]), rtol=1e-13)


SMOOTH = "f(x, y, z; a, b) = a * sin(x * y) + exp(b * z) / (1 + x^2) + log1p(y^2) * z\ng(x, y, z; a, b) = tanh(x + a * y - z)"
PARAMS = {"a": 0.7, "b": -0.3}


def smooth_points(rng, n=5):
    return rng.uniform(-1, 1, size=(n, 3))


def test_against_finite_differences_of_the_gradient(rng):
    f = tapevm.compile(SMOOTH)
    X = smooth_points(rng)
    V = rng.uniform(-1, 1, size=X.shape)
    eps = 1e-6

    def grad(Y, output=0):
        return f.value_and_grad(Y, PARAMS, output=output).grad

    for output in (0, "g"):
        # Hessian column c: central difference of the gradient along input c.
        h = f.hessian(X, PARAMS, output=output)
        for c in range(3):
            e = np.zeros(3)
            e[c] = eps
            np.testing.assert_allclose(h[:, :, c], (grad(X + e, output) - grad(X - e, output)) / (2 * eps),
                                       rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(h, h.transpose(0, 2, 1), rtol=1e-12, atol=1e-12)
        # hvp with a per-point direction, and it equals H v.
        g, hv = f.hvp(X, V, PARAMS, output=output)
        np.testing.assert_allclose(g, grad(X, output), rtol=1e-14)
        np.testing.assert_allclose(hv, (grad(X + eps * V, output) - grad(X - eps * V, output)) / (2 * eps),
                                   rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(hv, np.einsum("irc,ic->ir", h, V), rtol=1e-12, atol=1e-12)
    # jvp: every output's gradient dotted with the direction.
    value, tangent = f.jvp(X, V, PARAMS)
    assert value.shape == tangent.shape == (5, 2)
    np.testing.assert_array_equal(value, f(X, PARAMS))
    J = f.jacobian(X, PARAMS)                                   # (N, m, n)
    np.testing.assert_allclose(tangent, np.einsum("imn,in->im", J, V), rtol=1e-12, atol=1e-14)
    # Dict inputs give dicts by output name.
    columns = {name: X[:, j].copy() for j, name in enumerate(f.inputs)}
    value, tangent = f.jvp(columns, {"x": 1.0, "y": 0.0, "z": 0.0}, PARAMS)
    np.testing.assert_allclose(tangent["g"], J[:, 1, 0], rtol=1e-12)


def test_param_hessian_sum_against_finite_differences(rng):
    f = tapevm.compile(SMOOTH)
    X = smooth_points(rng)
    eps = 1e-6
    h = f.param_hessian_sum(X, PARAMS)
    assert h.shape == (2, 2)
    w = np.array([PARAMS["a"], PARAMS["b"]])
    for c in range(2):
        e = np.zeros(2)
        e[c] = eps
        diff = (f.value_and_grad(X, w + e).param_grad - f.value_and_grad(X, w - e).param_grad) / (2 * eps)
        np.testing.assert_allclose(h[:, c], diff, rtol=1e-6, atol=1e-7)


def test_errors():
    f = tapevm.compile(ROSENBROCK)
    with pytest.raises(ValueError, match=r"missing input\(s\) \['y'\] in the direction"):
        f.jvp(POINT, {"x": 1.0})
    with pytest.raises(ValueError, match="direction 'y' has shape"):
        f.hvp(POINT, {"x": 1.0, "y": np.zeros(3)})
    with pytest.raises(TypeError, match="missing the direction"):
        f.jvp(POINT)
    with pytest.raises(ValueError, match="unknown output 'h'"):
        f.hessian(POINT, output="h")
    # The library's message reaches the exception (a count the tape does not have, which the
    # Python layer never passes, so call the C function directly).
    with pytest.raises(tapevm.TapeVMError, match="tvm_hessian") as e:
        tapevm._lib.check(f._lib.tvm_hessian(f._handle, 1, None, 0, None, 0, 0, None))
    assert e.value.status_name in ("TVM_ERROR_INVALID_ARGUMENT", "TVM_ERROR_NULL_ARGUMENT")
