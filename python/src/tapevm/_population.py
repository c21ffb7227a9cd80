"""Many functions over one data set in one call (the C ABI's tvm_population_evaluate): the
evaluation step of a symbolic-regression engine."""

from __future__ import annotations

import ctypes
from ctypes import c_char_p, c_void_p
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from ._core import Function, Tape, _address
from ._lib import check, library

_STOP_ON_NONFINITE = 1   # TVM_POPULATION_STOP_ON_NONFINITE
_EXACT = 2               # TVM_POPULATION_EXACT


class PopulationResult(NamedTuple):
    """What tapevm.population returns; one entry per function, in order (None where not asked).

    value: the function's value at every row, a list of (N,) arrays (rows of one (K, N) array).
    param_grad: the gradient with respect to its parameters summed over the rows, of the loss
        sum_i (f(x_i) - y_i)^2 with a target, of sum_i f(x_i) without: a list of (P_k,) arrays.
    jacobian: d f(x_i) / d theta_p per row, a list of (N, P_k) arrays (what Levenberg-Marquardt needs).
    loss: sum_i (f(x_i) - y_i)^2 per function, a (K,) array (with a target only).
    nonfinite_rows: per function, how many rows had a NaN or infinite value (or, when gradients
        are asked for, parameter gradient): a (K,) integer array. With stop_on_nonfinite, a
        function stops at the first chunk of rows holding one: its loss and gradient are then NaN."""
    value: Any
    param_grad: Any
    jacobian: Any
    loss: Any
    nonfinite_rows: np.ndarray


def _tape_of(f, index: int) -> Tape:
    if isinstance(f, Function):
        return f.tape
    if isinstance(f, Tape):
        return f
    if isinstance(f, str):
        from ._core import compile as compile_text
        return compile_text(f).tape
    raise TypeError(f"functions[{index}] is a {type(f).__name__}; expected a tapevm.Function, a tapevm.Tape or "
                    f"expression text")


def _params_of(tape: Tape, value, index: int) -> np.ndarray | None:
    names = tape.params
    if value is None:
        if names:
            raise TypeError(f"params[{index}] is missing: functions[{index}] has parameter(s) {list(names)}")
        return None
    if isinstance(value, Mapping):
        unknown = [key for key in value if key not in names]
        missing = [name for name in names if name not in value]
        if unknown or missing:
            raise ValueError(f"params[{index}]: " + ", ".join(filter(None, [
                f"unknown parameter(s) {unknown}" if unknown else "",
                f"missing parameter(s) {missing}" if missing else ""])) + f"; functions[{index}] has {list(names)}")
        values = [value[name] for name in names]
    else:
        values = value
    try:
        a = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise TypeError(f"params[{index}] is not a sequence of numbers: {e}") from None
    if a.shape[0] != len(names):
        raise ValueError(f"params[{index}] has {a.shape[0]} value(s); functions[{index}] has {len(names)} "
                         f"parameter(s) {list(names)}")
    return a


def _column(value, what: str, n: int | None) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.dtype != np.float64:
        raise TypeError(f"{what} has dtype {value.dtype}; TapeVM computes in float64: pass it as .astype(np.float64)")
    try:
        a = np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} is not an array of numbers: {e}") from None
    if a.ndim != 1:
        raise ValueError(f"{what} has shape {a.shape}; expected a 1-D array of N rows")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{what} has {a.shape[0]} row(s), but the data set has {n}")
    return a


def population(functions: Sequence, data: Mapping[str, Any], *, params: Sequence | None = None, target=None,
               value: bool = True, grad: bool = True, jacobian: bool = False, threads: int | None = None,
               stop_on_nonfinite: bool = False, exact: bool = False) -> PopulationResult:
    """Evaluates many one-output functions over one data set in one call (the library makes,
    runs and releases each function's program; threads run whole functions): a symbolic-
    regression engine's scoring step.

    functions: Functions, Tapes or expression text, each with one output, reading inputs named
        after columns of `data` (any subset, any order).
    data: a dict column name -> (N,) float64 array.
    params: one entry per function: a dict name -> float or a sequence in slot order (None for a
        function without parameters); None when no function has any.
    target: (N,) array y: then each function's loss sum_i (f(x_i) - y_i)^2 is returned and its
        param_grad is the loss's gradient.
    value, grad, jacobian: which results to compute (see PopulationResult).
    threads: worker threads (None: every core). Results are bit for bit the same for any count.
    stop_on_nonfinite: stop a function at the first chunk of rows with a non-finite value or gradient.
    exact: optimize with the passes that keep gradients bit-identical to the reference only."""
    if isinstance(functions, (str, Function, Tape)):
        raise TypeError("functions must be a sequence (a list of Functions, Tapes or expression text)")
    tapes = [_tape_of(f, i) for i, f in enumerate(functions)]
    k = len(tapes)
    if params is None:
        params = [None] * k
    elif len(params) != k:
        raise ValueError(f"params has {len(params)} entries; expected one per function ({k})")
    parameter_arrays = [_params_of(t, p, i) for i, (t, p) in enumerate(zip(tapes, params))]
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a dict column name -> (N,) array, got {type(data).__name__}")
    names = list(data)
    columns, n = [], None
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"data's column names must be str, got {name!r}")
        columns.append(_column(data[name], f"data column '{name}'", n))
        n = columns[-1].shape[0]
    if target is not None:
        target = _column(target, "target", n)
        n = target.shape[0] if n is None else n
    n = n or 0
    counts = [len(t.params) for t in tapes]
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")

    lib = library()
    P = c_void_p
    tape_table = (P * max(k, 1))(*[t._handle for t in tapes])
    name_table = (c_char_p * max(len(names), 1))(*[name.encode("utf-8") for name in names])
    column_table = (P * max(len(names), 1))(*[_address(c) if c.size else None for c in columns])
    param_table = (P * max(k, 1))(*[_address(a) if a is not None and a.size else None for a in parameter_arrays])

    values = np.empty((k, n)) if value else None
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(int)
    sums = np.empty(max(int(offsets[-1]), 1)) if grad else None
    jacobians = np.empty(max(int(offsets[-1]) * n, 1)) if jacobian else None
    losses = np.empty(max(k, 1)) if target is not None else None
    nonfinite = np.zeros(max(k, 1), dtype=np.uintp)

    def table(block, stride, sizes):
        if block is None:
            return None
        base = _address(block)
        return (P * max(k, 1))(*[base + 8 * stride * int(offsets[i]) if sizes[i] else None for i in range(k)])

    value_table = None if values is None else (P * max(k, 1))(
        *[_address(values) + 8 * n * i if n else None for i in range(k)])
    flags = (_STOP_ON_NONFINITE if stop_on_nonfinite else 0) | (_EXACT if exact else 0)
    status = lib.tvm_population_evaluate(
        k, tape_table, n, name_table, column_table, len(names),
        _address(target) if target is not None else None, param_table,
        threads or 0, flags, value_table, table(sums, 1, counts), table(jacobians, n, [c * n for c in counts]),
        _address(losses) if losses is not None else None, _address(nonfinite))
    if status:
        check(status)
    return PopulationResult(
        value=list(values) if values is not None else None,
        param_grad=[sums[offsets[i]:offsets[i + 1]] for i in range(k)] if sums is not None else None,
        jacobian=[jacobians[offsets[i] * n:offsets[i + 1] * n].reshape(counts[i], n).T for i in range(k)]
        if jacobians is not None else None,
        loss=losses[:k] if losses is not None else None,
        nonfinite_rows=nonfinite[:k].astype(np.int64))
