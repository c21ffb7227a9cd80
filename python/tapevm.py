"""TapeVM from Python: a small ctypes wrapper over the C ABI (Sources/TapeVMC/include/tapevm.h).

    import numpy as np
    import tapevm

    tape = tapevm.Tape.from_expression("f(x, y; w) = w * x * y + sin(x)")
    program = tapevm.Program(tape)                      # every core, fastest SIMD path
    r = program.value_and_grad({"x": xs, "y": ys}, params={"w": 0.5})
    r.values[0], r.input_grads[0], r.param_grad_sum     # f, df/dx, d(sum f)/dw

The library is the dynamic product of the Swift package: build it with `swift build` (or
`swift build -c release`) at the repository root. It is found through the environment variable
TAPEVM_LIBRARY (a path to libTapeVMC.so / .dylib), else as .build/release or .build/debug of the
repository that holds this file (the most recently built of the two). Nothing is loaded until
first use, so importing this module never fails.

Arrays: inputs are converted with np.ascontiguousarray(a, dtype=np.float64), which copies nothing
when an array already is contiguous float64. Inputs may have any shape (all the same); results
have that shape. Programs may be run from several Python threads at once (the GIL is released
during runs).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from ctypes import POINTER, c_char_p, c_double, c_int, c_size_t, c_void_p
from typing import Mapping, NamedTuple, Sequence, Union

import numpy as np

__all__ = ["Tape", "Program", "ValueAndGrad", "TapeVMError", "LibraryNotFoundError", "load_library"]

_STATUS_NAMES = {
    0: "TVM_OK",
    1: "TVM_ERROR_NULL_ARGUMENT",
    2: "TVM_ERROR_INVALID_HANDLE",
    3: "TVM_ERROR_INVALID_ARGUMENT",
    4: "TVM_ERROR_PARSE",
    5: "TVM_ERROR_UNSUPPORTED",
}


class TapeVMError(Exception):
    """A failed C call: `status` is the TVM_ERROR_* code, `message` the library's message
    (function name, argument at fault; line:column for parse errors)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.status_name = _STATUS_NAMES.get(status, "TVM_UNKNOWN_STATUS")
        self.message = message


class LibraryNotFoundError(OSError):
    """libTapeVMC could not be found or loaded; the message says where it was looked for."""


_lib = None
_lib_lock = threading.Lock()
_PD = POINTER(c_double)
_PPD = POINTER(_PD)


def _candidates() -> list[str]:
    env = os.environ.get("TAPEVM_LIBRARY")
    if env:
        return [env]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    name = "libTapeVMC.dylib" if sys.platform == "darwin" else "libTapeVMC.so"
    paths = [os.path.join(root, ".build", config, name) for config in ("release", "debug")]
    existing = [p for p in paths if os.path.exists(p)]
    return sorted(existing, key=os.path.getmtime, reverse=True) or paths


def load_library() -> ctypes.CDLL:
    """Loads libTapeVMC once and declares its functions; raises LibraryNotFoundError."""
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        tried = _candidates()
        path = next((p for p in tried if os.path.exists(p)), None)
        if path is None:
            raise LibraryNotFoundError(
                "libTapeVMC not found (looked for " + ", ".join(tried)
                + "); build it with `swift build` at the repository root or set TAPEVM_LIBRARY")
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            raise LibraryNotFoundError(f"could not load {path}: {e}") from e
        _declare(lib)
        _lib = lib
        return lib


def _declare(lib: ctypes.CDLL) -> None:
    def f(name, restype, *argtypes):
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = list(argtypes)

    f("tvm_version", c_char_p)
    f("tvm_last_error", c_char_p)
    f("tvm_status_name", c_char_p, c_int)
    f("tvm_string_free", None, c_void_p)
    f("tvm_tape_from_expression", c_int, c_char_p, POINTER(c_void_p))
    f("tvm_tape_from_text", c_int, c_char_p, POINTER(c_void_p))
    f("tvm_tape_free", c_int, c_void_p)
    f("tvm_tape_to_text", c_int, c_void_p, POINTER(c_void_p))
    for kind in ("input", "parameter", "output"):
        f(f"tvm_tape_{kind}_count", c_int, c_void_p, POINTER(c_size_t))
        f(f"tvm_tape_{kind}_name", c_int, c_void_p, c_size_t, POINTER(c_char_p))
    f("tvm_program_new", c_int, c_void_p, c_size_t, c_size_t, c_char_p, POINTER(c_void_p))
    f("tvm_program_free", c_int, c_void_p)
    f("tvm_program_instruction_set", c_int, c_void_p, POINTER(c_char_p))
    f("tvm_evaluate", c_int, c_void_p, c_size_t, _PPD, c_size_t, _PD, c_size_t, _PPD, c_size_t)
    f("tvm_value_and_gradient", c_int, c_void_p, c_size_t, _PPD, c_size_t, _PD, c_size_t, c_size_t,
      _PPD, c_size_t, _PPD, c_size_t, _PD, _PPD, c_size_t)


def _check(lib: ctypes.CDLL, status: int) -> None:
    # The message is per thread and read right after the call, on the same thread.
    if status != 0:
        raise TapeVMError(status, lib.tvm_last_error().decode("utf-8", "replace"))


def version() -> str:
    """The library's version string."""
    return load_library().tvm_version().decode()


class Tape:
    """A validated, immutable computation with named inputs, parameters and outputs."""

    def __init__(self, _handle: int):
        # Use Tape.from_expression or Tape.from_text.
        self._lib = load_library()
        self._handle = _handle
        self.inputs = self._names("input")
        self.parameters = self._names("parameter")
        self.outputs = self._names("output")

    @classmethod
    def from_expression(cls, text: str) -> "Tape":
        """Compiles the expression language, e.g. "f(x, y; w) = w * (x + sigmoid(y))".
        Raises TapeVMError (status TVM_ERROR_PARSE, message with line:column) on bad text."""
        return cls._make("tvm_tape_from_expression", text)

    @classmethod
    def from_text(cls, text: str) -> "Tape":
        """Reads the tape text format (what `Tape.text` gives)."""
        return cls._make("tvm_tape_from_text", text)

    @classmethod
    def _make(cls, function: str, text: str) -> "Tape":
        lib = load_library()
        handle = c_void_p()
        _check(lib, getattr(lib, function)(text.encode("utf-8"), ctypes.byref(handle)))
        return cls(handle.value)

    def _names(self, kind: str) -> list[str]:
        count = c_size_t()
        _check(self._lib, getattr(self._lib, f"tvm_tape_{kind}_count")(self._handle, ctypes.byref(count)))
        names = []
        for i in range(count.value):
            name = c_char_p()
            _check(self._lib, getattr(self._lib, f"tvm_tape_{kind}_name")(self._handle, i, ctypes.byref(name)))
            names.append(name.value.decode("utf-8"))
        return names

    @property
    def text(self) -> str:
        """The tape in the text format (versioned; Tape.from_text reads it back)."""
        out = c_void_p()
        _check(self._lib, self._lib.tvm_tape_to_text(self._handle, ctypes.byref(out)))
        try:
            return ctypes.string_at(out.value).decode("utf-8")
        finally:
            self._lib.tvm_string_free(out)

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.tvm_tape_free(handle)

    def __repr__(self) -> str:
        return f"Tape(inputs={self.inputs}, parameters={self.parameters}, outputs={self.outputs})"


class ValueAndGrad(NamedTuple):
    """Results of Program.value_and_grad, each array shaped like the inputs."""
    values: list          # one array per output, in tape order
    input_grads: list     # d output / d input, one array per input, in tape order
    param_grad_sum: np.ndarray  # d (sum over points of output) / d parameter, one per parameter
    param_grads: list | None    # per-point parameter gradients (with per_point_params=True), else None


Columns = Union[Mapping[str, "np.typing.ArrayLike"], Sequence["np.typing.ArrayLike"]]
Params = Union[Mapping[str, float], Sequence[float], None]


class Program:
    """A tape optimized and planned for execution. Make one per tape and reuse it.

    threads: worker threads per run (None: every core). tile_size: points per tile (None:
    automatic). isa: "portable", "avx2", "avx512", "best" or None (preferred: the fastest
    supported, unless TAPEVM_ISA says otherwise)."""

    def __init__(self, tape: Tape, threads: int | None = None, tile_size: int | None = None,
                 isa: str | None = None):
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1 (or None for every core), got {threads}")
        if tile_size is not None and tile_size < 1:
            raise ValueError(f"tile_size must be at least 1 (or None for automatic), got {tile_size}")
        self._lib = load_library()
        self.tape = tape
        handle = c_void_p()
        _check(self._lib, self._lib.tvm_program_new(
            tape._handle, threads or 0, tile_size or 0, isa.encode() if isa else None, ctypes.byref(handle)))
        self._handle = handle.value

    @property
    def instruction_set(self) -> str:
        """The SIMD path the program runs."""
        name = c_char_p()
        _check(self._lib, self._lib.tvm_program_instruction_set(self._handle, ctypes.byref(name)))
        return name.value.decode()

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.tvm_program_free(handle)

    # -- arguments -------------------------------------------------------------------------

    def _inputs(self, inputs: Columns):
        names = self.tape.inputs
        if isinstance(inputs, Mapping):
            unknown = [k for k in inputs if k not in names]
            if unknown:
                raise KeyError(f"unknown input(s) {unknown}; the tape's inputs are {names}")
            missing = [k for k in names if k not in inputs]
            if missing:
                raise KeyError(f"missing input(s) {missing}; the tape's inputs are {names}")
            columns = [inputs[k] for k in names]
        else:
            columns = list(inputs)
            if len(columns) != len(names):
                raise ValueError(f"expected {len(names)} input array(s) ({', '.join(names)}), got {len(columns)}")
        # No copy when already contiguous float64 (reshape(-1) of a contiguous array is a view).
        arrays = [np.ascontiguousarray(c, dtype=np.float64) for c in columns]
        shape = arrays[0].shape if arrays else ()
        for name, a in zip(names, arrays):
            if a.shape != shape:
                raise ValueError(f"input '{name}' has shape {a.shape}, but '{names[0]}' has {shape}: all inputs need the same shape")
        n = int(np.prod(shape)) if arrays else 1
        flat = [a.reshape(-1) for a in arrays]
        pointers = (_PD * max(1, len(flat)))(*[a.ctypes.data_as(_PD) for a in flat])
        return shape, n, flat, pointers

    def _params(self, params: Params):
        names = self.tape.parameters
        if params is None:
            params = []
        if isinstance(params, Mapping):
            unknown = [k for k in params if k not in names]
            if unknown:
                raise KeyError(f"unknown parameter(s) {unknown}; the tape's parameters are {names}")
            missing = [k for k in names if k not in params]
            if missing:
                raise KeyError(f"missing parameter(s) {missing}; the tape's parameters are {names}")
            params = [params[k] for k in names]
        values = np.ascontiguousarray(np.asarray(params, dtype=np.float64).reshape(-1))
        if values.size != len(names):
            raise ValueError(f"expected {len(names)} parameter value(s) ({', '.join(names)}), got {values.size}")
        return values

    @staticmethod
    def _columns(count: int, n: int, shape):
        arrays = [np.empty(shape, dtype=np.float64) for _ in range(count)]
        pointers = (_PD * max(1, count))(*[a.ctypes.data_as(_PD) for a in arrays])
        return arrays, pointers

    # -- runs ------------------------------------------------------------------------------

    def evaluate(self, inputs: Columns, params: Params = None) -> list:
        """The outputs' values: one array per output, shaped like the inputs.

        inputs: a dict name -> array, or a list of arrays in input order. A tape without
        inputs is evaluated at one point. params: a dict name -> value or a list in order."""
        shape, n, flat, in_ptrs = self._inputs(inputs)
        p = self._params(params)
        values, out_ptrs = self._columns(len(self.tape.outputs), n, shape)
        _check(self._lib, self._lib.tvm_evaluate(
            self._handle, n, in_ptrs, len(flat), p.ctypes.data_as(_PD), p.size, out_ptrs, len(values)))
        return values

    def value_and_grad(self, inputs: Columns, params: Params = None, output: int | str = 0,
                       per_point_params: bool = False) -> ValueAndGrad:
        """Values of every output and the gradient of one output (index or name), at every point.

        Returns ValueAndGrad(values, input_grads, param_grad_sum, param_grads): arrays shaped
        like the inputs, except param_grad_sum (one number per parameter, summed over points).
        param_grads (per point, one array per parameter) only with per_point_params=True."""
        if isinstance(output, str):
            if output not in self.tape.outputs:
                raise KeyError(f"unknown output '{output}'; the tape's outputs are {self.tape.outputs}")
            output = self.tape.outputs.index(output)
        if not 0 <= output < len(self.tape.outputs):
            raise IndexError(f"output index {output} is out of range: the tape has {len(self.tape.outputs)} output(s)")
        shape, n, flat, in_ptrs = self._inputs(inputs)
        p = self._params(params)
        values, value_ptrs = self._columns(len(self.tape.outputs), n, shape)
        grads, grad_ptrs = self._columns(len(self.tape.inputs), n, shape)
        psum = np.zeros(len(self.tape.parameters), dtype=np.float64)
        if per_point_params:
            pgrads, pgrad_ptrs = self._columns(len(self.tape.parameters), n, shape)
        else:
            pgrads, pgrad_ptrs = None, None
        _check(self._lib, self._lib.tvm_value_and_gradient(
            self._handle, n, in_ptrs, len(flat), p.ctypes.data_as(_PD), p.size, output,
            value_ptrs, len(values), grad_ptrs, len(grads),
            psum.ctypes.data_as(_PD), pgrad_ptrs, len(pgrads) if pgrads is not None else 0))
        return ValueAndGrad(values, grads, psum, pgrads)
