"""TapeVM from Python: values and exact gradients of a function at millions of points.

    import numpy as np, sympy as sp, tapevm

    f = tapevm.compile("f(x, y; w) = w * (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2)")
    value, grad, param_grad = f.value_and_grad({"x": xs, "y": ys}, params={"w": 0.5})

    x, y = sp.symbols("x y")
    g = tapevm.from_sympy(sp.exp(-x**2) * sp.sin(y), inputs=[x, y])
    J = g.jacobian(np.column_stack([xs, ys]))           # (N, outputs, inputs)

    @tapevm.trace
    def h(x, y):
        return tapevm.sigmoid(x * y) + np.exp(-y)         # NumPy ufuncs on traced values

A Function (from compile, from_sympy or trace) has value / __call__, value_and_grad, grad,
jacobian, and forward mode and second order: jvp, hvp, hessian, param_hessian_sum; see
tapevm.Function for the argument forms. tapevm.population evaluates many functions over one
data set in one call (losses, parameter gradients, Jacobians). Errors from the library raise
TapeVMError (ParseError for text, with line, column and a caret in the message).

Every function of the expression language is a tapevm function for traced code:
tapevm.sigmoid, tapevm.where (select), tapevm.logaddexp, ... (tapevm.function_names() lists
them), read from the library, so new TapeVM instructions appear here without a new release.
"""

from __future__ import annotations

from ._core import Function, GradAndHvp, Jvp, Tape, ValueAndGrad, compile
from ._lib import FunctionInfo, LibraryNotFoundError, ParseError, TapeVMError, functions, library, version
from ._population import PopulationResult, population
from ._sympy import SYMPY_NAMES, ConversionError, from_sympy
from ._trace import NUMPY_NAMES, Traced, trace
from ._trace import function as _function

# compile is left out of __all__ so that `from tapevm import *` keeps Python's builtin compile.
__all__ = ["from_sympy", "trace", "population", "PopulationResult", "Function", "Tape", "ValueAndGrad", "Jvp", "GradAndHvp", "Traced", "TapeVMError",
           "ParseError", "ConversionError", "LibraryNotFoundError", "FunctionInfo", "functions",
           "function_names", "version", "library", "SYMPY_NAMES", "NUMPY_NAMES"]

__version__ = "0.1.0"


def function_names() -> list[str]:
    """The names of the library's functions, each available as tapevm.<name> in traced code."""
    return sorted(functions())


def __getattr__(name: str):
    # tapevm.sigmoid, tapevm.exp, tapevm.where, ...: the library's functions, made on first use.
    if name.startswith("_"):
        raise AttributeError(f"module 'tapevm' has no attribute '{name}'")
    try:
        f = _function(name)
    except LibraryNotFoundError as e:
        raise AttributeError(f"module 'tapevm' has no attribute '{name}' (the library that defines its functions "
                             f"could not be loaded: {e})") from e
    globals()[name] = f
    return f


def __dir__():
    try:
        extra = function_names()
    except LibraryNotFoundError:
        extra = []
    return sorted(set(globals()) | set(extra))
