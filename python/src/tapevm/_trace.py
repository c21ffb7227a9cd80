"""Recording Python code into a tape: Traced values, the recorder, tapevm.trace and the
functions of the expression language as Python functions (tapevm.sigmoid, tapevm.where, ...)."""

from __future__ import annotations

import inspect
import math
import numbers
import re
import struct
import threading
from typing import Callable, Mapping, Sequence

import numpy as np

from ._core import Function, Tape
from ._lib import FunctionInfo, functions

# NumPy ufuncs whose TapeVM function has another name. A ufunc whose name is a TapeVM function
# (exp, log, sqrt, sin, cos, tanh, log1p, expm1, square, logaddexp, hypot, cbrt, sign, floor,
# tan, sinh, cosh, ...) needs no line here; one line maps a new name.
NUMPY_NAMES = {
    "add": "add", "subtract": "sub", "multiply": "mul", "true_divide": "div", "divide": "div",
    "negative": "neg", "absolute": "abs", "fabs": "abs", "reciprocal": "recip",
    "maximum": "max", "minimum": "min",
    "less": "lt", "less_equal": "le", "greater": "gt", "greater_equal": "ge", "equal": "eq", "not_equal": "ne",
    "arctan2": "atan2", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "ceil": "ceil",
}

MAX_EXPONENT = 1_000_000   # the largest |k| of powi, checked here to fail at the call; the library checks it too
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.\[\]]*\Z")


def spell_name(name: str) -> str:
    """A name as tape text writes it: bare if an identifier, else quoted with escapes."""
    if _IDENTIFIER.match(name):
        return name
    out = ['"']
    for ch in name:
        code = ord(ch)
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F or code in (0x85, 0x2028, 0x2029):
            out.append("\\u{%x}" % code)
        else:
            out.append(ch)
    return "".join(out) + '"'


def spell_number(value: float) -> str:
    """A constant as tape text writes it: the shortest round-trip decimal, or a NaN's exact bits."""
    if value != value:
        return "nan:0x%016x" % struct.unpack("<Q", struct.pack("<d", value))[0]
    return repr(float(value))


class Recorder:
    """Instructions recorded so far, in tape text; inputs, parameters and constants are made
    once per name (or value, bit for bit) and reused, as TapeBuilder does in Swift."""

    def __init__(self, inputs: Sequence[str], params: Sequence[str]):
        names = list(inputs) + list(params)
        for name in names:
            if not isinstance(name, str) or not name:
                raise ValueError(f"input and parameter names must be non-empty strings, got {name!r}")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"{', '.join(map(repr, repeated))} named twice among the inputs and parameters")
        self.inputs, self.params = list(inputs), list(params)
        self.lines: list[str] = []
        self._constants: dict[bytes, int] = {}
        self.leaves = [Traced(self, self._emit("input " + spell_name(n))) for n in self.inputs] + \
                      [Traced(self, self._emit("param " + spell_name(n))) for n in self.params]

    def _emit(self, body: str) -> int:
        register = len(self.lines)
        self.lines.append(f"r{register} = {body}")
        return register

    def constant(self, value: float) -> int:
        key = struct.pack("<d", value)
        register = self._constants.get(key)
        if register is None:
            register = self._constants[key] = self._emit("const " + spell_number(value))
        return register

    def apply(self, mnemonic: str, operands: Sequence, exponent: int | None = None) -> "Traced":
        registers = " ".join(f"r{self.register(x)}" for x in operands)
        tail = "" if exponent is None else f" {exponent}"
        return Traced(self, self._emit(f"{mnemonic} {registers}{tail}"))

    def register(self, value) -> int:
        """The register of a Traced value of this trace, or of a constant (recorded once)."""
        if isinstance(value, Traced):
            if value._recorder is not self:
                raise ValueError("a traced value from another trace was used here: values of two traces cannot be mixed")
            return value._register
        return self.constant(_number(value))

    def text(self, outputs: Sequence[tuple[str, int]]) -> str:
        head = ["tapevm 1"]
        if self.inputs:
            head.append("input " + " ".join(map(spell_name, self.inputs)))
        if self.params:
            head.append("param " + " ".join(map(spell_name, self.params)))
        tail = [f"output {spell_name(name)} r{register}" for name, register in outputs]
        return "\n".join(head + self.lines + tail) + "\n"


def _number(value) -> float:
    if isinstance(value, (bool, np.bool_)):
        return 1.0 if value else 0.0
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "biuf":
        return float(value)
    raise TypeError(f"cannot use a {type(value).__name__} in a traced computation: only traced values and "
                    f"real numbers (arrays of traced values elementwise, through NumPy)")


_active = threading.local()


def _current(operands) -> Recorder:
    for x in operands:
        if isinstance(x, Traced):
            return x._recorder
    stack = getattr(_active, "stack", None)
    if stack:
        return stack[-1]
    raise TypeError("no traced value among the arguments and no trace running: TapeVM functions record "
                    "instructions inside tapevm.trace (use NumPy to compute with plain numbers)")


def call(name: str, *args) -> "Traced":
    """Records a call of the expression-language function `name` (e.g. "sigmoid")."""
    info = functions().get(name)
    if info is None:
        raise AttributeError(f"TapeVM has no function '{name}' (its functions: {', '.join(sorted(functions()))})")
    return _call(info, args)


def _call(info: FunctionInfo, args) -> "Traced":
    if len(args) != info.argument_count:
        raise TypeError(f"{info.name} takes {info.argument_count} argument(s), got {len(args)}")
    if info.integer_exponent:
        *operands, k = args
        if isinstance(k, Traced) or not isinstance(k, (numbers.Integral, np.integer)) or isinstance(k, bool):
            raise TypeError(f"the last argument of {info.name} must be an int (an integer exponent), got {k!r}")
        if abs(int(k)) > MAX_EXPONENT:
            raise ValueError(f"the exponent of {info.name} must be between -{MAX_EXPONENT} and {MAX_EXPONENT}, got {k}")
        return _current(operands).apply(info.mnemonic, operands, int(k))
    return _current(args).apply(info.mnemonic, args)


def _op(name: str, *args) -> "Traced":
    return _call(functions()[name], args)


def _power(base, exponent) -> "Traced":
    if isinstance(exponent, (numbers.Integral, np.integer)) and not isinstance(exponent, (bool, np.bool_)):
        return _op("powi", base, int(exponent))
    return _op("pow", base, exponent)


class Traced:
    """A value being recorded by tapevm.trace: arithmetic and comparison operators, abs(),
    `**`, NumPy ufuncs that map to TapeVM functions (np.exp, np.maximum, ...) and tapevm's own
    functions (tapevm.sigmoid, tapevm.where, ...) each record one instruction.

    `x ** 2` (an int exponent) records powi, `x ** 0.5` records pow. Comparisons record 0/1
    values and cannot steer Python `if`: branch with tapevm.where(condition, a, b)."""

    __slots__ = ("_recorder", "_register")
    __array_priority__ = 1000

    def __init__(self, recorder: Recorder, register: int):
        self._recorder = recorder
        self._register = register

    def __repr__(self):
        return f"<tapevm.Traced r{self._register}>"

    def __bool__(self):
        raise TypeError("a traced value has no truth value while tracing (it is only known when the tape runs): "
                        "use tapevm.where(condition, a, b) instead of if/and/or/max/min on traced values")

    def __float__(self):
        raise TypeError("a traced value cannot become a float while tracing; keep it traced")

    __hash__ = object.__hash__

    def __add__(self, other): return _op("add", self, other)
    def __radd__(self, other): return _op("add", other, self)
    def __sub__(self, other): return _op("sub", self, other)
    def __rsub__(self, other): return _op("sub", other, self)
    def __mul__(self, other): return _op("mul", self, other)
    def __rmul__(self, other): return _op("mul", other, self)
    def __truediv__(self, other): return _op("div", self, other)
    def __rtruediv__(self, other): return _op("div", other, self)
    def __pow__(self, other): return _power(self, other)
    def __rpow__(self, other): return _op("pow", other, self)
    def __neg__(self): return _op("neg", self)
    def __pos__(self): return self
    def __abs__(self): return _op("abs", self)
    def __lt__(self, other): return _op("lt", self, other)
    def __le__(self, other): return _op("le", self, other)
    def __gt__(self, other): return _op("gt", self, other)
    def __ge__(self, other): return _op("ge", self, other)
    def __eq__(self, other): return _op("eq", self, other)
    def __ne__(self, other): return _op("ne", self, other)

    def __array_ufunc__(self, ufunc, method, *args, **kwargs):
        if method != "__call__" or kwargs:
            return NotImplemented
        if ufunc is np.positive:
            return args[0]
        if ufunc in (np.power, np.float_power):
            return _power(*args) if ufunc is np.power else _op("pow", *args)
        name = NUMPY_NAMES.get(ufunc.__name__, ufunc.__name__)
        info = functions().get(name)
        if info is None or info.integer_exponent:
            raise TypeError(f"numpy.{ufunc.__name__} has no TapeVM function (TapeVM's functions: "
                            f"{', '.join(sorted(functions()))}); add a line to NUMPY_NAMES in tapevm/_trace.py "
                            f"if one computes it")
        return _call(info, args)


def _output_name(f) -> str:
    name = getattr(f, "__name__", "f")
    return name if name.isidentifier() else "f"


def record(f: Callable, inputs: Sequence[str], params: Sequence[str], outputs=None, name: str = "f") -> Tape:
    """Runs `f(*inputs, *params)` on traced values and returns the tape it records."""
    recorder = Recorder(inputs, params)
    stack = _active.__dict__.setdefault("stack", [])
    stack.append(recorder)
    try:
        result = f(*recorder.leaves)
    finally:
        stack.pop()
    if isinstance(result, Mapping):
        names, values = list(result.keys()), list(result.values())
        if not all(isinstance(k, str) for k in names):
            raise TypeError("a dict of outputs needs str keys (the output names)")
    elif isinstance(result, (tuple, list)) or (isinstance(result, np.ndarray) and result.ndim == 1):
        values = list(result)
        names = [f"{name}[{k}]" for k in range(len(values))]
    else:
        values, names = [result], [name]
    if outputs is not None:
        outputs = [outputs] if isinstance(outputs, str) else list(outputs)
        if len(outputs) != len(values):
            raise ValueError(f"{len(outputs)} output name(s) given, but the function returned {len(values)} value(s)")
        names = outputs
    if not values:
        raise ValueError("the function returned no outputs")
    registers = []
    for out, value in zip(names, values):
        try:
            registers.append((out, recorder.register(value)))
        except TypeError:
            raise TypeError(f"output '{out}' is a {type(value).__name__}; expected a traced value or a number") from None
    return Tape.from_text(recorder.text(registers))


def trace(f: Callable | None = None, *, inputs: Sequence[str] | None = None, params: Sequence[str] = (),
          outputs: Sequence[str] | str | None = None, threads: int | None = None, tile_size: int | None = None,
          isa: str | None = None):
    """Records a Python function into a Function, as Tape.trace does in Swift.

    The function is called once, with one traced value per input and then one per parameter,
    as positional arguments; every operator, tapevm function (tapevm.exp, tapevm.sigmoid,
    tapevm.where, ...) and NumPy ufunc that maps to one is recorded. It returns one value (an
    output named after the function, "f" for a lambda), a tuple or list (outputs "name[0]",
    "name[1]", ...) or a dict name -> value; `outputs` renames them.

    inputs: the input names (default: the function's positional parameters that are not in
    `params`). params: the parameter names (values shared by every point).

    Used as a decorator, with or without arguments:

        @tapevm.trace(params=["w"])
        def f(x, y, w):
            return w * (x + tapevm.sigmoid(y))

    Python control flow runs once, at trace time: loops over plain numbers are unrolled, and
    `if` on a traced value raises TypeError (use tapevm.where)."""
    if f is None:
        return lambda g: trace(g, inputs=inputs, params=params, outputs=outputs, threads=threads,
                               tile_size=tile_size, isa=isa)
    if not callable(f):
        raise TypeError(f"trace needs a function, got {type(f).__name__}")
    params = [params] if isinstance(params, str) else list(params)
    if inputs is None:
        signature = inspect.signature(f)
        positional = [p.name for p in signature.parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        inputs = [p for p in positional if p not in params]
        if any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values()):
            raise TypeError("a function with *args needs inputs=[...] (the input names)")
    else:
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
    tape = record(f, inputs, params, outputs, _output_name(f))
    return Function(tape, threads=threads, tile_size=tile_size, isa=isa)


def function(name: str) -> Callable:
    """The expression-language function `name` as a Python function on traced values."""
    info = functions().get(name)
    if info is None:
        raise AttributeError(f"module 'tapevm' has no attribute '{name}' (and TapeVM has no function of that name)")

    def apply(*args):
        return _call(info, args)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"tapevm.{name}: records the instruction {info.mnemonic} ({info.argument_count} argument(s)): {info.summary}"
    return apply
