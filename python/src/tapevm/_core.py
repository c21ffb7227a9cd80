"""Tapes and compiled functions: the NumPy-facing API over the C ABI."""

from __future__ import annotations

import ctypes
import re
from ctypes import c_char_p, c_size_t, c_void_p
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from . import _lib
from ._lib import check, library

_F64 = np.dtype(np.float64)
_TAPE_TEXT = re.compile(r"\A(?:[ \t\r\n]|#[^\n]*)*tapevm[ \t]")


class Tape:
    """A validated, immutable computation with named inputs, parameters and outputs.

    Made by `Tape.from_expression`, `Tape.from_text`, or as the `.tape` of a Function. Two tapes
    are equal when their texts are (same names, same instructions in the same order)."""

    __slots__ = ("_handle", "_lib", "inputs", "params", "outputs", "__weakref__")

    def __init__(self, _handle: int):
        self._lib = library()
        self._handle = _handle
        self.inputs = self._names("input")
        self.params = self._names("parameter")
        self.outputs = self._names("output")

    @classmethod
    def from_expression(cls, text: str) -> "Tape":
        """Compiles the expression language, e.g. "f(x, y; w) = w * (x + sigmoid(y))".

        Raises ParseError (with `line`, `column` and a message showing the line and a caret)."""
        return cls._make("tvm_tape_from_expression", text)

    @classmethod
    def from_text(cls, text: str) -> "Tape":
        """Reads the tape text format (what `.text` gives); ParseError as from_expression."""
        return cls._make("tvm_tape_from_text", text)

    @classmethod
    def _make(cls, function: str, text: str) -> "Tape":
        if not isinstance(text, str):
            raise TypeError(f"expected the text as a str, got {type(text).__name__}")
        lib = library()
        handle = c_void_p()
        check(getattr(lib, function)(text.encode("utf-8", "surrogatepass"), ctypes.byref(handle)))
        return cls(handle.value)

    def _names(self, kind: str) -> tuple[str, ...]:
        lib = self._lib
        count = c_size_t()
        check(getattr(lib, f"tvm_tape_{kind}_count")(self._handle, ctypes.byref(count)))
        names = []
        for i in range(count.value):
            name = c_char_p()
            check(getattr(lib, f"tvm_tape_{kind}_name")(self._handle, i, ctypes.byref(name)))
            names.append(name.value.decode("utf-8"))
        return tuple(names)

    @property
    def text(self) -> str:
        """The tape in the text format (versioned; Tape.from_text reads it back)."""
        out = c_void_p()
        check(self._lib.tvm_tape_to_text(self._handle, ctypes.byref(out)))
        try:
            return ctypes.string_at(out.value).decode("utf-8")
        finally:
            self._lib.tvm_string_free(out)

    def __eq__(self, other):
        return isinstance(other, Tape) and self.text == other.text

    def __hash__(self):
        return hash(self.text)

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.tvm_tape_free(handle)

    def __repr__(self) -> str:
        return f"Tape(inputs={list(self.inputs)}, params={list(self.params)}, outputs={list(self.outputs)})"


def compile(text: str, *, threads: int | None = None, tile_size: int | None = None,
            isa: str | None = None) -> "Function":
    """A Function from expression-language text ("f(x, y; w) = w * x + sin(y)") or tape text
    (starting with the header "tapevm 1").

    Raises ParseError, whose message gives line:column, the line and a caret under the column."""
    tape = Tape.from_text(text) if _TAPE_TEXT.match(text) else Tape.from_expression(text)
    return Function(tape, threads=threads, tile_size=tile_size, isa=isa)


class ValueAndGrad(NamedTuple):
    """What Function.value_and_grad returns (unpack it: `value, grad, param_grad = ...`).

    value: the differentiated output at every point, shape (N,).
    grad: its gradient with respect to the inputs, in the form the inputs came in: an (N, n)
        array for an (N, n) array, an (N,) array for one 1-D array, a dict name -> (N,) array
        for a dict.
    param_grad: its gradient with respect to the parameters, summed over the points (or per
        point with per_point_params=True), in the form the parameters came in: a dict name ->
        float (or (N,) array) for a dict or None, an array (p,) (or (N, p)) for a sequence."""
    value: Any
    grad: Any
    param_grad: Any


class _Inputs(NamedTuple):
    n: int
    keep: tuple           # arrays that must stay alive during the call
    pointers: Any         # the column addresses, as a ctypes array (or None)
    form: str             # "dict", "array" (N, n) or "vector" (N,)


class _Params(NamedTuple):
    values: np.ndarray
    form: str             # "dict" or "array"


class Function:
    """A compiled function: a tape optimized and planned once, run many times over NumPy arrays.

    Make one with tapevm.compile, tapevm.from_sympy or tapevm.trace (or Function(tape)).
    `inputs`, `params` and `outputs` are the names, in slot order; `.tape` the tape.

    Inputs are given as a dict name -> 1-D array, or as one (N, n) array (column j is input j),
    or, for a function of one input, as one 1-D array. Arrays must be float64 (a TypeError names
    any other dtype: convert with .astype(np.float64)); lists are converted. Nothing is copied
    for contiguous float64 columns: 1-D arrays, and (N, n) arrays in Fortran order (such as
    `a.T` of a C-ordered (n, N) array); a C-ordered (N, n) array is transposed once. Parameters
    are a dict name -> float, or a sequence in slot order. Results come back in the form the
    arguments came in (see ValueAndGrad).

    Runs release the GIL while they compute, so Python threads run programs in parallel, and
    one Function may be used by many threads at once. Results are identical, bit for bit,
    whatever the number of threads.

    threads: worker threads per run (None: every core). tile_size: points per tile (None:
    automatic). isa: "portable", "avx2", "avx512", "best" or None (the fastest the CPU has,
    unless the environment variable TAPEVM_ISA names another).

    Still to come, with the same argument conventions: jvp, hvp and hessian (forward mode) and
    evaluating a population of functions in one call."""

    def __init__(self, tape: Tape, *, threads: int | None = None, tile_size: int | None = None,
                 isa: str | None = None):
        if not isinstance(tape, Tape):
            raise TypeError(f"Function needs a Tape, got {type(tape).__name__} (use tapevm.compile for text)")
        for name, value in (("threads", threads), ("tile_size", tile_size)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive int or None, got {value!r}")
        self._lib = library()
        self.tape = tape
        self.inputs, self.params, self.outputs = tape.inputs, tape.params, tape.outputs
        self._options = dict(threads=threads, tile_size=tile_size, isa=isa)
        self._input_index = {name: j for j, name in enumerate(self.inputs)}
        self._param_index = {name: j for j, name in enumerate(self.params)}
        handle = c_void_p()
        check(self._lib.tvm_program_new(tape._handle, threads or 0, tile_size or 0,
                                        isa.encode() if isa else None, ctypes.byref(handle)))
        self._handle = handle.value
        # Reused per call: the identity seed rows of jacobian, and an empty parameter vector.
        self._identity = np.eye(len(self.outputs))
        self._no_params = np.zeros(0)

    @property
    def text(self) -> str:
        """The tape text of the function (before optimization)."""
        return self.tape.text

    @property
    def instruction_set(self) -> str:
        """The SIMD path this function runs: "portable", "avx2" or "avx512"."""
        name = c_char_p()
        check(self._lib.tvm_program_instruction_set(self._handle, ctypes.byref(name)))
        return name.value.decode()

    def with_options(self, *, threads: int | None = None, tile_size: int | None = None,
                     isa: str | None = None) -> "Function":
        """The same tape, planned with other execution options."""
        return Function(self.tape, threads=threads, tile_size=tile_size, isa=isa)

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.tvm_program_free(handle)

    def __repr__(self) -> str:
        params = f"; {', '.join(self.params)}" if self.params else ""
        return f"<tapevm.Function {', '.join(self.outputs)}({', '.join(self.inputs)}{params})>"

    # -- arguments -------------------------------------------------------------------------

    def _column(self, value, what: str) -> np.ndarray:
        if isinstance(value, np.ndarray):
            if value.dtype != _F64:
                raise TypeError(f"{what} has dtype {value.dtype}; TapeVM computes in float64: "
                                f"pass it as .astype(np.float64)")
            return value
        try:
            a = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{what} is not an array of numbers ({type(value).__name__}): {e}") from None
        return a

    def _inputs(self, inputs) -> _Inputs:
        names = self.inputs
        k = len(names)
        if inputs is None:
            if k:
                raise TypeError(f"missing the inputs ({', '.join(names)}): pass a dict of arrays or an (N, {k}) array")
            return _Inputs(1, (), None, "dict")
        if isinstance(inputs, Mapping):
            if len(inputs) != k or any(key not in self._input_index for key in inputs):
                unknown = [key for key in inputs if key not in self._input_index]
                missing = [name for name in names if name not in inputs]
                raise ValueError(", ".join(filter(None, [
                    f"unknown input(s) {unknown}" if unknown else "",
                    f"missing input(s) {missing}" if missing else ""])) + f"; the inputs are {list(names)}")
            columns = []
            for name in names:
                a = self._column(inputs[name], f"input '{name}'")
                if a.ndim != 1:
                    raise ValueError(f"input '{name}' has shape {a.shape}; expected a 1-D array of N points")
                columns.append(a if a.flags.c_contiguous else np.ascontiguousarray(a))
            n = columns[0].shape[0] if columns else 1
            for name, a in zip(names, columns):
                if a.shape[0] != n:
                    raise ValueError(f"input '{name}' has {a.shape[0]} point(s), but '{names[0]}' has {n}: "
                                     f"every input needs the same number of points")
            pointers = (c_void_p * max(k, 1))(*[a.ctypes.data for a in columns])
            return _Inputs(n, tuple(columns), pointers, "dict")
        a = self._column(inputs, "inputs")
        if a.ndim == 1 and k == 1:
            a = a if a.flags.c_contiguous else np.ascontiguousarray(a)
            return _Inputs(a.shape[0], (a,), (c_void_p * 1)(a.ctypes.data), "vector")
        if a.ndim != 2 or a.shape[1] != k:
            one = " or (N,)" if k == 1 else ""
            raise ValueError(f"inputs has shape {a.shape}; expected (N, {k}){one}: one column per input "
                             f"({', '.join(names)}), or pass a dict of 1-D arrays")
        n = a.shape[0]
        columns = a.T if a.flags.f_contiguous else np.ascontiguousarray(a.T)   # (k, N), rows contiguous
        base, stride = columns.ctypes.data, columns.strides[0]
        pointers = (c_void_p * max(k, 1))(*[base + j * stride for j in range(k)])
        return _Inputs(n, (columns,), pointers, "array")

    def _params(self, params) -> _Params:
        names = self.params
        if params is None:
            if names:
                raise TypeError(f"missing the parameters ({', '.join(names)}): pass params={{name: value}} or a sequence")
            return _Params(self._no_params, "dict")
        if isinstance(params, Mapping):
            if len(params) != len(names) or any(key not in self._param_index for key in params):
                unknown = [key for key in params if key not in self._param_index]
                missing = [name for name in names if name not in params]
                raise ValueError(", ".join(filter(None, [
                    f"unknown parameter(s) {unknown}" if unknown else "",
                    f"missing parameter(s) {missing}" if missing else ""])) + f"; the parameters are {list(names)}")
            try:
                values = np.array([float(params[name]) for name in names], dtype=np.float64)
            except (TypeError, ValueError) as e:
                raise TypeError(f"parameter values must be numbers: {e}") from None
            return _Params(values, "dict")
        values = self._column(params, "params")
        if values.ndim != 1 or values.shape[0] != len(names):
            raise ValueError(f"params has shape {values.shape}; expected ({len(names)},): one value per parameter "
                             f"({', '.join(names)}) in order, or a dict")
        return _Params(np.ascontiguousarray(values), "array")

    def _output_index(self, output) -> int:
        if isinstance(output, str):
            if output not in self.outputs:
                raise ValueError(f"unknown output '{output}'; the outputs are {list(self.outputs)}")
            return self.outputs.index(output)
        if not isinstance(output, (int, np.integer)) or not 0 <= output < len(self.outputs):
            raise ValueError(f"output {output!r} is out of range: the function has {len(self.outputs)} output(s) "
                             f"{list(self.outputs)}")
        return int(output)

    @staticmethod
    def _rows(block: np.ndarray) -> Any:
        """The addresses of the rows of a C-ordered 2-D block, as a ctypes array."""
        count = max(block.shape[0], 1)
        base, stride = block.ctypes.data, block.strides[0]
        return (c_void_p * count)(*[base + j * stride for j in range(block.shape[0])])

    def _shape_values(self, block: np.ndarray, form: str):
        """Values (m, N) in the caller's form: (N,) for one output, else (N, m) or a dict."""
        if len(self.outputs) == 1:
            return block[0]
        if form == "dict":
            return {name: block[k] for k, name in enumerate(self.outputs)}
        return block.T

    # -- runs ------------------------------------------------------------------------------

    def value(self, inputs=None, params=None):
        """The outputs at every point: an (N,) array for a function of one output; for several,
        an (N, m) array, or a dict output name -> (N,) array when the inputs are a dict."""
        ins = self._inputs(inputs)
        p = self._params(params)
        m = len(self.outputs)
        values = np.empty((m, ins.n))
        value_rows = self._rows(values)     # kept alive until the call returns, as every pointer array
        check(self._lib.tvm_evaluate(self._handle, ins.n, ctypes.addressof(ins.pointers) if ins.pointers else None,
                                     len(self.inputs), p.values.ctypes.data, p.values.shape[0],
                                     ctypes.addressof(value_rows), m))
        return self._shape_values(values, ins.form)

    __call__ = value

    def _gradients(self, ins: _Inputs, p: _Params, seeds: np.ndarray, per_point_params: bool, want_inputs: bool = True):
        """One run: values (m, N), input gradients (r, k, N), parameter sums (r, p) or per point (r, p, N)."""
        m, k, np_ = len(self.outputs), len(self.inputs), len(self.params)
        r = seeds.shape[0]
        values = np.empty((m, ins.n))
        grads = np.empty((r, k, ins.n)) if want_inputs else None
        sums = np.zeros((r, np_))
        pgrads = np.empty((r, np_, ins.n)) if per_point_params else None
        value_rows = self._rows(values)
        grad_rows = self._rows(grads.reshape(r * k, ins.n)) if want_inputs and r * k else None
        pgrad_rows = self._rows(pgrads.reshape(r * np_, ins.n)) if per_point_params and r * np_ else None
        check(self._lib.tvm_gradients(
            self._handle, ins.n, ctypes.addressof(ins.pointers) if ins.pointers else None, k,
            p.values.ctypes.data, np_, seeds.ctypes.data, r,
            ctypes.addressof(value_rows), m,
            ctypes.addressof(grad_rows) if grad_rows else None, r * k if grad_rows else 0,
            sums.ctypes.data if not per_point_params else None,
            ctypes.addressof(pgrad_rows) if pgrad_rows else None, r * np_ if pgrad_rows else 0))
        return values, grads, sums, pgrads

    def _shape_grad(self, grad: np.ndarray, form: str):
        """A gradient (k, N) in the caller's input form."""
        if form == "dict":
            return {name: grad[j] for j, name in enumerate(self.inputs)}
        if form == "vector":
            return grad[0]
        return grad.T

    def _shape_param_grad(self, sums, pgrads, form: str):
        """A parameter gradient, summed (p,) or per point (p, N), in the caller's parameter form."""
        if pgrads is not None:
            return {name: pgrads[j] for j, name in enumerate(self.params)} if form == "dict" else pgrads.T
        return {name: float(sums[j]) for j, name in enumerate(self.params)} if form == "dict" else sums

    def value_and_grad(self, inputs=None, params=None, *, output=0, seeds=None,
                       per_point_params: bool = False) -> ValueAndGrad:
        """An output's value and its gradient at every point, from one forward and one reverse
        sweep: ValueAndGrad(value, grad, param_grad) (see ValueAndGrad for the forms).

        output: which output to differentiate (index or name; default the first).
        seeds: instead of `output`, one weight per output: the gradient of sum_k seeds[k] * output_k
            (a vector-Jacobian product); `value` is then that weighted sum.
        per_point_params: the parameter gradient at every point instead of summed over them."""
        ins = self._inputs(inputs)
        p = self._params(params)
        m = len(self.outputs)
        if seeds is None:
            k = self._output_index(output)
            row = np.zeros((1, m))
            row[0, k] = 1.0
        else:
            row = np.array(seeds, dtype=np.float64).reshape(1, -1)
            if row.shape[1] != m:
                raise ValueError(f"seeds has {row.shape[1]} weight(s); expected one per output ({m}: {list(self.outputs)})")
        values, grads, sums, pgrads = self._gradients(ins, p, row, per_point_params)
        value = values[k] if seeds is None else row[0] @ values
        return ValueAndGrad(value, self._shape_grad(grads[0], ins.form),
                            self._shape_param_grad(sums[0], None if pgrads is None else pgrads[0], p.form))

    def grad(self, inputs=None, params=None, *, output=0):
        """The gradient of an output with respect to the inputs (value_and_grad(...).grad)."""
        return self.value_and_grad(inputs, params, output=output).grad

    def jacobian(self, inputs=None, params=None, *, wrt: str = "inputs"):
        """Every output's gradient at every point, from one forward sweep and one reverse sweep
        per output.

        wrt="inputs": an (N, m, n) array (J[i, k, j] = d output k / d input j at point i) for
        array inputs, a dict output -> {input -> (N,) array} for dict inputs.
        wrt="params": per point, with respect to the parameters: (N, m, p), or a dict
        output -> {parameter -> (N,) array} when the parameters are a dict."""
        if wrt not in ("inputs", "params"):
            raise ValueError(f"wrt must be 'inputs' or 'params', got {wrt!r}")
        ins = self._inputs(inputs)
        p = self._params(params)
        if wrt == "inputs":
            _, grads, _, _ = self._gradients(ins, p, self._identity, False)
            if ins.form == "dict":
                return {out: self._shape_grad(grads[r], "dict") for r, out in enumerate(self.outputs)}
            return grads.transpose(2, 0, 1)
        _, _, _, pgrads = self._gradients(ins, p, self._identity, True, want_inputs=False)
        if p.form == "dict":
            return {out: self._shape_param_grad(None, pgrads[r], "dict") for r, out in enumerate(self.outputs)}
        return pgrads.transpose(2, 0, 1)
