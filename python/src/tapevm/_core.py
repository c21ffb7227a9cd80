"""Tapes and compiled functions: the NumPy-facing API over the C ABI."""

from __future__ import annotations

import ctypes
import re
import struct
from ctypes import c_char_p, c_size_t, c_void_p
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from . import _lib
from ._lib import check, library

_F64 = np.dtype(np.float64)


# tvm_run_block's record (tapevm.h's tvm_block_run): program, n, inputs, input_block,
# input_stride, params, seeds, request_count, flags, block; ten machine words. Each call packs it
# into the tail of its own result block, so one foreign call takes one argument, and threads
# share nothing.
_RECORD = "PNPPNPPNNP"
_RECORD_WORDS = 10
_INPUT_GRADIENTS = 1            # TVM_BLOCK_INPUT_GRADIENTS
_PER_POINT_PARAMS = 2           # TVM_BLOCK_PER_POINT_PARAM_GRADIENTS
_char_from_buffer = ctypes.c_char.from_buffer
_addressof = ctypes.addressof


def _address(a: np.ndarray) -> int:
    """The address of a C-contiguous array's data. `a.ctypes.data` costs a few µs per call
    (it builds a helper object); a ctypes view of the buffer costs well under one."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))
    except (TypeError, ValueError, BufferError):   # read-only or empty arrays
        return a.ctypes.data
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


def _columns(a: np.ndarray) -> np.ndarray:
    """The columns of an (N, n) array as the rows of a new C-ordered (n, N) array. Column by
    column for a few columns (measured ~25% faster than one transposing copy at N = 10^6, n = 2)."""
    if a.shape[1] > 8:
        return np.ascontiguousarray(a.T)
    out = np.empty(a.shape[::-1])
    for j in range(a.shape[1]):
        out[j] = a[:, j]
    return out


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


class Jvp(NamedTuple):
    """What Function.jvp returns (unpack it: `value, tangent = ...`).

    value: the outputs at every point, in the form Function.value gives them.
    tangent: every output's derivative along the direction, grad f_k(x_i) . v_i, in the same form."""
    value: Any
    tangent: Any


class GradAndHvp(NamedTuple):
    """What Function.hvp returns (unpack it: `grad, hvp = ...`): the gradient of the output with
    respect to the inputs and its Hessian-vector product H(x_i) v_i, both in the form the inputs
    came in (as ValueAndGrad.grad)."""
    grad: Any
    hvp: Any


# Arguments, checked and converted, as plain tuples (cheaper to make than named ones):
# inputs: (n, arrays kept alive during the call, where, form), form "dict", "array" (N, n) or
# "vector" (N,); where is, for "array", the address of a (n, N) block of columns (column j at
# where + 8*N*j), else a list of the columns' addresses; parameters: (array kept alive, its
# address, form), form "dict" or "array".


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
    one Function may be used by many threads at once. Functions pickle (as their tape text and
    options), so multiprocessing can send them to workers. Results are identical, bit for bit,
    whatever the number of threads.

    threads: worker threads per run (None: every core). tile_size: points per tile (None:
    automatic). isa: "swift", "avx2", "avx512", "best" or None (the fastest the CPU has,
    unless the environment variable TAPEVM_ISA names another).

    Forward mode and second order: jvp, hvp, hessian and param_hessian_sum (same argument
    conventions; a direction over the inputs is a dict name -> float, the same at every point, or
    name -> (N,) array, one per point). Many functions over one data set: tapevm.population."""

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
        self._m, self._k, self._q = len(self.outputs), len(self.inputs), len(self.params)
        self._run_block = self._lib.tvm_run_block
        # The record alone (inputs as one block of columns), and followed by a table of the
        # input columns' addresses (inputs as separate arrays).
        self._pack_record = struct.Struct(_RECORD).pack_into
        self._pack_record_table = struct.Struct(_RECORD + "P" * self._k).pack_into
        self._layouts = {}   # (requests, flags, inputs as a table) -> (result rows, sums, doubles past the results)
        self._input_index = {name: j for j, name in enumerate(self.inputs)}
        self._param_index = {name: j for j, name in enumerate(self.params)}
        handle = c_void_p()
        check(self._lib.tvm_program_new(tape._handle, threads or 0, tile_size or 0,
                                        isa.encode() if isa else None, ctypes.byref(handle)))
        self._handle = handle.value
        # Reused per call: the identity seed rows (one-hot rows for value_and_grad, all of them
        # for jacobian) and an empty parameter vector, with their addresses.
        self._identity = np.eye(len(self.outputs))
        self._identity_address = self._identity.ctypes.data
        self._no_params = np.zeros(1)
        self._no_params_address = self._no_params.ctypes.data
        self._none = (self._no_params, self._no_params_address, "dict")

    @property
    def text(self) -> str:
        """The tape text of the function (before optimization)."""
        return self.tape.text

    @property
    def instruction_set(self) -> str:
        """The code path this function runs: "swift", "avx2" or "avx512"."""
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

    def __reduce__(self):
        # Pickles as its tape text and options (for multiprocessing); unpickling plans it again.
        return _function_from_text, (self.tape.text, self._options)

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

    def _inputs(self, inputs) -> tuple:
        k = self._k
        if inputs.__class__ is np.ndarray and inputs.dtype is _F64 and inputs.ndim == 2 and inputs.shape[1] == k:
            # The fast path: an (N, n) float64 array.
            columns = inputs.T if inputs.flags.f_contiguous else _columns(inputs)   # (k, N), rows N apart
            try:
                return (inputs.shape[0], (columns,), _addressof(_char_from_buffer(columns)), "array")
            except (TypeError, ValueError, BufferError):   # read-only or empty
                return (inputs.shape[0], (columns,), _address(columns), "array")
        names = self.inputs
        if inputs is None:
            if k:
                raise TypeError(f"missing the inputs ({', '.join(names)}): pass a dict of arrays or an (N, {k}) array")
            return (1, (), [], "dict")
        if not isinstance(inputs, np.ndarray) and isinstance(inputs, Mapping):   # (ndarray first: ABC checks are slow)
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
            return (n, tuple(columns), [_address(a) for a in columns], "dict")
        a = self._column(inputs, "inputs")
        if a.ndim == 1 and k == 1:
            a = a if a.flags.c_contiguous else np.ascontiguousarray(a)
            return (a.shape[0], (a,), [_address(a)], "vector")
        if a.ndim != 2 or a.shape[1] != k:
            one = " or (N,)" if k == 1 else ""
            raise ValueError(f"inputs has shape {a.shape}; expected (N, {k}){one}: one column per input "
                             f"({', '.join(names)}), or pass a dict of 1-D arrays")
        n = a.shape[0]
        columns = a.T if a.flags.f_contiguous else _columns(a)   # (k, N), rows N apart
        return (n, (columns,), _address(columns), "array")

    def _params(self, params) -> tuple:
        names = self.params
        if params is None:
            if self._q:
                raise TypeError(f"missing the parameters ({', '.join(names)}): pass params={{name: value}} or a sequence")
            return self._none
        if isinstance(params, dict) or (not isinstance(params, np.ndarray) and isinstance(params, Mapping)):
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
            return (values, _address(values), "dict")
        values = self._column(params, "params")
        if values.ndim != 1 or values.shape[0] != len(names):
            raise ValueError(f"params has shape {values.shape}; expected ({len(names)},): one value per parameter "
                             f"({', '.join(names)}) in order, or a dict")
        values = np.ascontiguousarray(values)
        return (values, _address(values), "array")

    def _output_index(self, output) -> int:
        if isinstance(output, str):
            if output not in self.outputs:
                raise ValueError(f"unknown output '{output}'; the outputs are {list(self.outputs)}")
            return self.outputs.index(output)
        if not isinstance(output, (int, np.integer)) or not 0 <= output < len(self.outputs):
            raise ValueError(f"output {output!r} is out of range: the function has {len(self.outputs)} output(s) "
                             f"{list(self.outputs)}")
        return int(output)

    def _run(self, n: int, where, params: int, seeds: int = 0, requests: int = 0,
             flags: int = _INPUT_GRADIENTS) -> tuple:
        """One call of the library (tvm_run_block): values, and with `requests` seed rows at
        address `seeds` the gradients the flags ask for. Returns (block, flat): the block is a new
        (rows, N) array whose rows are the result columns (values, then per request its input
        gradients and per-point parameter gradients), flat the same memory as one 1-D array,
        with the summed parameter gradients (requests × p) at flat[rows * N:]."""
        table = where.__class__ is list
        layout = self._layouts.get((requests, flags, table))
        if layout is None:
            m, q = self._m, self._q
            rows = m + requests * ((self._k if flags & _INPUT_GRADIENTS else 0) + (q if flags & _PER_POINT_PARAMS else 0))
            sums = 0 if flags & _PER_POINT_PARAMS else requests * q
            tail = sums + _RECORD_WORDS + (self._k if table else 0)   # sums, the record (and the table)
            layout = self._layouts[(requests, flags, table)] = (rows, sums, tail)
        rows, sums, tail = layout
        width = n or 1
        block = np.empty((rows + -(-tail // width), width))
        base = _addressof(_char_from_buffer(block))
        at = (rows * n + sums) * 8                                  # the record's offset
        if table:
            self._pack_record_table(block, at, self._handle, n, base + at + 8 * _RECORD_WORDS, 0, 0, params, seeds,
                                    requests, flags, base, *where)
        else:
            self._pack_record(block, at, self._handle, n, 0, where, n, params, seeds, requests, flags, base)
        status = self._run_block(base + at)
        if status:
            check(status)
        if n == 0:
            return np.empty((rows, 0)), block.reshape(-1)
        return block, (block.reshape(-1) if sums else None)

    def _shape_grad(self, grad: np.ndarray, form: str):
        """A gradient (k, N) in the caller's input form."""
        if form == "array":
            return grad.T
        if form == "vector":
            return grad[0]
        return {name: grad[j] for j, name in enumerate(self.inputs)}

    def _shape_param_grad(self, sums, pgrads, form: str):
        """A parameter gradient, summed (p,) or per point (p, N), in the caller's parameter form."""
        if pgrads is not None:
            return {name: pgrads[j] for j, name in enumerate(self.params)} if form == "dict" else pgrads.T
        return {name: float(sums[j]) for j, name in enumerate(self.params)} if form == "dict" else sums

    # -- runs ------------------------------------------------------------------------------

    def value(self, inputs=None, params=None):
        """The outputs at every point: an (N,) array for a function of one output; for several,
        an (N, m) array, or a dict output name -> (N,) array when the inputs are a dict."""
        n, keep, where, form = self._inputs(inputs)     # keep: the arrays stay alive through the call
        pvalues, paddress, _ = self._params(params)      # pvalues: alive through the call
        values = self._run(n, where, paddress)[0][:self._m]
        if self._m == 1:
            return values[0]
        if form == "dict":
            return {name: values[k] for k, name in enumerate(self.outputs)}
        return values.T

    __call__ = value

    def value_and_grad(self, inputs=None, params=None, *, output=0, seeds=None,
                       per_point_params: bool = False) -> ValueAndGrad:
        """An output's value and its gradient at every point, from one forward and one reverse
        sweep: ValueAndGrad(value, grad, param_grad) (see ValueAndGrad for the forms).

        output: which output to differentiate (index or name; default the first).
        seeds: instead of `output`, one weight per output: the gradient of sum_k seeds[k] * output_k
            (a vector-Jacobian product); `value` is then that weighted sum.
        per_point_params: the parameter gradient at every point instead of summed over them."""
        n, keep, where, form = self._inputs(inputs)     # keep: the arrays stay alive through the call
        if params is None and not self._q:
            paddress, pform = 0, "dict"
        else:
            pvalues, paddress, pform = self._params(params)
        m, k, q = self._m, self._k, self._q
        flags = _INPUT_GRADIENTS | _PER_POINT_PARAMS if per_point_params else _INPUT_GRADIENTS
        if seeds is None:
            out = output if output.__class__ is int and 0 <= output < m else self._output_index(output)
            block, flat = self._run(n, where, paddress, self._identity_address + 8 * m * out, 1, flags)
            value = block[out]
        else:
            row = np.array(seeds, dtype=np.float64).reshape(-1)
            if row.shape[0] != m:
                raise ValueError(f"seeds has {row.shape[0]} weight(s); expected one per output ({m}: {list(self.outputs)})")
            block, flat = self._run(n, where, paddress, _address(row), 1, flags)
            value = row @ block[:m]
        grad = block[m:m + k].T if form == "array" else self._shape_grad(block[m:m + k], form)
        if per_point_params:
            param_grad = self._shape_param_grad(None, block[m + k:m + k + q], pform)
        elif q:
            param_grad = self._shape_param_grad(flat[(m + k) * n:(m + k) * n + q], None, pform)
        else:
            param_grad = {} if pform == "dict" else np.empty(0)
        return ValueAndGrad(value, grad, param_grad)

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
        n, keep, where, form = self._inputs(inputs)     # keep: the arrays stay alive through the call
        pvalues, paddress, pform = self._params(params)
        m, k, q = self._m, self._k, self._q
        if wrt == "inputs":
            grads = self._run(n, where, paddress, self._identity_address, m)[0][m:m + m * k].reshape(m, k, n)
            if form == "dict":
                return {out: self._shape_grad(grads[r], "dict") for r, out in enumerate(self.outputs)}
            return grads.transpose(2, 0, 1)
        pgrads = self._run(n, where, paddress, self._identity_address, m, _PER_POINT_PARAMS)[0][m:m + m * q].reshape(m, q, n)
        if pform == "dict":
            return {out: self._shape_param_grad(None, pgrads[r], "dict") for r, out in enumerate(self.outputs)}
        return pgrads.transpose(2, 0, 1)


    # -- forward mode and second order -----------------------------------------------------

    def _direction(self, direction, n: int) -> tuple:
        """A direction over the inputs as (arrays kept alive, address of the column table or None,
        address of the shared vector or None). A dict name -> float (or a sequence of n floats, or
        a float for a function of one input) is shared by every point; a dict name -> (N,) array
        (a float entry is then repeated at every point) or an (N, n) array is per point."""
        names, k = self.inputs, self._k
        if direction is None:
            if k:
                raise TypeError(f"missing the direction: pass a dict with one entry per input ({', '.join(names)})")
            return ((), None, None)
        if not isinstance(direction, np.ndarray) and isinstance(direction, Mapping):
            if len(direction) != k or any(key not in self._input_index for key in direction):
                unknown = [key for key in direction if key not in self._input_index]
                missing = [name for name in names if name not in direction]
                raise ValueError(", ".join(filter(None, [
                    f"unknown input(s) {unknown} in the direction" if unknown else "",
                    f"missing input(s) {missing} in the direction (give 0.0 for none)" if missing else ""]))
                    + f"; the inputs are {list(names)}")
            entries = [self._column(direction[name], f"direction '{name}'") for name in names]
            for name, a in zip(names, entries):
                if a.ndim > 1 or (a.ndim == 1 and a.shape[0] != n):
                    raise ValueError(f"direction '{name}' has shape {a.shape}; expected a float (the same at every "
                                     f"point) or a 1-D array of the {n} point(s)")
            if all(a.ndim == 0 for a in entries):
                shared = np.array([float(a) for a in entries], dtype=np.float64)
                return ((shared,), None, _address(shared))
            columns = np.empty((k, n))
            for j, a in enumerate(entries):
                columns[j] = a
            return (columns,), self._table(columns), None
        a = self._column(direction, "direction")
        if a.ndim == 0 and k == 1:
            a = a.reshape(1)
        if a.ndim == 1 and a.shape[0] == k:
            shared = np.ascontiguousarray(a)
            return ((shared,), None, _address(shared))
        if a.ndim == 1 and k == 1 and a.shape[0] == n:
            a = a.reshape(n, 1)
        if a.ndim != 2 or a.shape != (n, k):
            raise ValueError(f"direction has shape {a.shape}; expected ({k},) (the same at every point) or ({n}, {k}) "
                             f"(one per point), or a dict name -> float or (N,) array")
        columns = np.ascontiguousarray(a.T)
        return (columns,), self._table(columns), None

    @staticmethod
    def _table(rows: np.ndarray):
        """A ctypes array of the addresses of the rows of a C-ordered 2-D array (None if no rows)."""
        if rows.shape[0] == 0:
            return None
        base, stride = _address(rows), rows.strides[0]
        return (c_void_p * rows.shape[0])(*[base + j * stride for j in range(rows.shape[0])])

    def _pointers(self, where, n: int):
        """A ctypes array of the input columns' addresses (None without inputs), from _inputs' where."""
        k = self._k
        if not k:
            return None
        if where.__class__ is list:
            return (c_void_p * k)(*where)
        return (c_void_p * k)(*[where + 8 * n * j for j in range(k)])

    def jvp(self, inputs=None, direction=None, params=None) -> Jvp:
        """Values and every output's derivative along a direction v over the inputs at every point
        (forward mode, one sweep): Jvp(value, tangent), tangent = grad f_k(x_i) . v_i, both in the
        form `value` gives (an (N,) array for one output; (N, m), or a dict by output name for dict
        inputs, for several).

        direction: a dict name -> float (the same at every point; its zeros cost nothing) or
        name -> (N,) array (one per point); or a sequence of n floats, or an (N, n) array."""
        n, keep, where, form = self._inputs(inputs)     # keep: alive through the call
        pvalues, paddress, _ = self._params(params)
        dkeep, dcolumns, dshared = self._direction(direction, n)
        m = self._m
        block = np.empty((2 * m, n))
        outs = self._table(block)
        status = self._lib.tvm_jvp(self._handle, n, self._pointers(where, n), self._k, paddress, self._q,
                                   dcolumns, dshared, outs, m, ctypes.addressof(outs) + 8 * m if m else None, m)
        if status:
            check(status)
        values, tangents = block[:m], block[m:]
        if m == 1:
            return Jvp(values[0], tangents[0])
        if form == "dict":
            return Jvp({name: values[r] for r, name in enumerate(self.outputs)},
                       {name: tangents[r] for r, name in enumerate(self.outputs)})
        return Jvp(values.T, tangents.T)

    def hvp(self, inputs=None, direction=None, params=None, *, output=0) -> GradAndHvp:
        """The gradient of an output and its Hessian-vector product at every point (forward over
        reverse: one tangent sweep of the gradient): GradAndHvp(grad, hvp), hvp_j = sum_l
        d2f/dx_j dx_l * v_l, both in the form the inputs came in (as value_and_grad's grad).

        direction: as for jvp. output: which output (index or name; default the first)."""
        n, keep, where, form = self._inputs(inputs)
        pvalues, paddress, _ = self._params(params)
        out = self._output_index(output)
        dkeep, dcolumns, dshared = self._direction(direction, n)
        k = self._k
        block = np.empty((2 * k, n))
        outs = self._table(block)
        status = self._lib.tvm_hvp(self._handle, n, self._pointers(where, n), k, paddress, self._q, out,
                                   dcolumns, dshared, outs, k, ctypes.addressof(outs) + 8 * k if k else None, k)
        if status:
            check(status)
        return GradAndHvp(self._shape_grad(block[:k], form), self._shape_grad(block[k:], form))

    def hessian(self, inputs=None, params=None, *, output=0) -> np.ndarray:
        """The Hessian of an output with respect to the inputs at every point: an (N, n, n) array,
        H[i, r, c] = d2f/dx_r dx_c at point i, inputs in slot order (`.inputs`) whatever form
        they came in. Row r is the derivative of df/dx_r, so H[i, r, c] and H[i, c, r] agree up to
        rounding. Meant for up to ~32 inputs. output: index or name (default the first)."""
        n, keep, where, form = self._inputs(inputs)
        pvalues, paddress, _ = self._params(params)
        out = self._output_index(output)
        k = self._k
        h = np.empty((n, k, k))
        status = self._lib.tvm_hessian(self._handle, n, self._pointers(where, n), k, paddress, self._q, out,
                                       h.ctypes.data)
        if status:
            check(status)
        return h

    def param_hessian_sum(self, inputs=None, params=None, *, output=0) -> np.ndarray:
        """The Hessian of an output with respect to the parameters, summed over the points (data
        fixed, weights variable; the training case): a (p, p) array, H[a, b] = sum_i
        d2f(x_i)/dw_a dw_b, parameters in slot order (`.params`). Bit for bit the same for any
        thread count. output: index or name (default the first)."""
        n, keep, where, form = self._inputs(inputs)
        pvalues, paddress, _ = self._params(params)
        out = self._output_index(output)
        q = self._q
        h = np.empty((q, q))
        status = self._lib.tvm_param_hessian_sum(self._handle, n, self._pointers(where, n), self._k, paddress, q,
                                                 out, h.ctypes.data)
        if status:
            check(status)
        return h


def _function_from_text(text: str, options: dict) -> Function:
    return Function(Tape.from_text(text), **options)
