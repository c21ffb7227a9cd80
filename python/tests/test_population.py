"""tapevm.population: many functions over one data set in one call, against each Function run alone
and NumPy's own arithmetic; its errors."""

import numpy as np
import pytest

import tapevm

EXPRESSIONS = [
    "f(x0, x1; a, b) = a * x0^2 + b * sin(x1)",
    "f(x1; c) = exp(-c * x1^2)",
    "f(x0) = tanh(x0) + 1",
    "f(x1, x0; a, b, c) = a * x1 + b * x0 + c",
]
PARAMS = [{"a": 1.5, "b": -0.8}, [0.7], None, {"c": 0.25, "a": 2.0, "b": -1.0}]


@pytest.fixture
def data(rng):
    n = 257
    return {"x0": rng.uniform(-2, 2, n), "x1": rng.uniform(-2, 2, n), "unused": rng.uniform(-2, 2, n)}


def alone(expression, params, data):
    """The function run by itself: its values and its per-point parameter gradient as (p, N)."""
    f = tapevm.compile(expression)
    columns = {name: data[name] for name in f.inputs}
    n = data["x0"].shape[0]
    if not f.params:
        return f, f(columns), np.empty((0, n))
    value, _, per_point = f.value_and_grad(columns, params, per_point_params=True)
    rows = [per_point[name] for name in f.params] if isinstance(per_point, dict) else list(per_point.T)
    return f, value, np.array(rows)


@pytest.mark.parametrize("threads", [1, 2, None])
def test_matches_each_function_alone(data, rng, threads):
    y = rng.uniform(-1, 1, data["x0"].shape[0])
    r = tapevm.population(EXPRESSIONS, data, params=PARAMS, target=y, jacobian=True, threads=threads)
    assert isinstance(r, tapevm.PopulationResult)
    for k, (text, params) in enumerate(zip(EXPRESSIONS, PARAMS)):
        f, value, jac = alone(text, params, data)
        np.testing.assert_allclose(r.value[k], value, rtol=1e-14, atol=1e-14)
        assert r.jacobian[k].shape == (data["x0"].shape[0], len(f.params))
        np.testing.assert_allclose(r.jacobian[k], jac.T, rtol=1e-14, atol=1e-14)
        residual = value - y
        assert r.loss[k] == pytest.approx(np.sum(residual**2), rel=1e-12)
        np.testing.assert_allclose(r.param_grad[k], 2 * jac @ residual, rtol=1e-10, atol=1e-10)
    assert r.nonfinite_rows.tolist() == [0, 0, 0, 0]


def test_bits_do_not_depend_on_threads(data):
    one = tapevm.population(EXPRESSIONS, data, params=PARAMS, jacobian=True, threads=1)
    two = tapevm.population(EXPRESSIONS, data, params=PARAMS, jacobian=True, threads=2)
    for field in ("value", "param_grad", "jacobian"):
        for a, b in zip(getattr(one, field), getattr(two, field)):
            assert np.array_equal(a, b)


def test_without_a_target_the_gradient_is_of_the_sum(data):
    r = tapevm.population(EXPRESSIONS[:1], data, params=PARAMS[:1])
    x0, x1 = data["x0"], data["x1"]
    np.testing.assert_allclose(r.param_grad[0], [np.sum(x0**2), np.sum(np.sin(x1))], rtol=1e-12)
    np.testing.assert_allclose(r.value[0], 1.5 * x0**2 - 0.8 * np.sin(x1), rtol=1e-14)
    assert r.loss is None and r.jacobian is None


def test_functions_tapes_and_text_mix(data):
    f = tapevm.compile(EXPRESSIONS[0])
    r = tapevm.population([f, f.tape, EXPRESSIONS[0]], data, params=[PARAMS[0]] * 3, grad=False)
    assert r.param_grad is None
    assert np.array_equal(r.value[0], r.value[1]) and np.array_equal(r.value[0], r.value[2])


def test_nonfinite_rows_and_early_stop(data):
    r = tapevm.population(["f(x0) = log(x0)"], data)
    assert r.nonfinite_rows[0] == np.sum(data["x0"] <= 0) > 0
    stopped = tapevm.population(["f(x0) = log(x0)"], data, target=np.zeros(data["x0"].shape[0]),
                                stop_on_nonfinite=True)
    assert np.isnan(stopped.loss[0]) and np.isnan(stopped.param_grad[0]).all()


def test_empty_population_and_no_rows():
    r = tapevm.population([], {"x0": np.empty(0)})
    assert r.value == [] and r.param_grad == [] and r.nonfinite_rows.shape == (0,)
    r = tapevm.population(["f(x0; a) = a * x0"], {"x0": np.empty(0)}, params=[[2.0]], target=np.empty(0))
    assert r.value[0].shape == (0,) and r.param_grad[0].tolist() == [0.0] and r.loss[0] == 0.0


def test_errors(data):
    with pytest.raises(tapevm.TapeVMError, match="tapes\\[0\\].*2 outputs|output"):
        tapevm.population(["f(x0) = x0\ng(x0) = 2 * x0"], data)
    with pytest.raises(tapevm.TapeVMError, match="z"):
        tapevm.population(["f(z) = z"], data)
    with pytest.raises(TypeError, match="params\\[0\\] is missing"):
        tapevm.population(EXPRESSIONS[:1], data)
    with pytest.raises(ValueError, match="params\\[0\\]: missing parameter\\(s\\) \\['b'\\]"):
        tapevm.population(EXPRESSIONS[:1], data, params=[{"a": 1.0}])
    with pytest.raises(ValueError, match="params has 2 entries; expected one per function \\(1\\)"):
        tapevm.population(EXPRESSIONS[:1], data, params=[PARAMS[0]] * 2)
    with pytest.raises(TypeError, match="data column 'x0' has dtype float32"):
        tapevm.population(["f(x0) = x0"], {"x0": np.ones(3, dtype=np.float32)})
    with pytest.raises(ValueError, match="data column 'x1' has 2 row\\(s\\), but the data set has 3"):
        tapevm.population(["f(x0) = x0"], {"x0": np.ones(3), "x1": np.ones(2)})
    with pytest.raises(ValueError, match="target has 2 row"):
        tapevm.population(["f(x0) = x0"], {"x0": np.ones(3)}, target=np.ones(2))
    with pytest.raises(TypeError, match="functions\\[1\\] is a int"):
        tapevm.population(["f(x0) = x0", 3], data)
    with pytest.raises(TypeError, match="must be a sequence"):
        tapevm.population("f(x0) = x0", data)
    with pytest.raises(tapevm.ParseError):
        tapevm.population(["f(x0) = (x0 +* 2"], data)
