"""tapevm.from_sympy: SymPy expressions to tapes, by tracing them (the same recorder as
tapevm.trace, in the order SymPy prints the expression)."""

from __future__ import annotations

from typing import Mapping, Sequence

from ._core import Function
from ._lib import functions
from ._trace import Traced, _current, _op, _power, call, record

# SymPy functions whose TapeVM function has another name, one line each. A SymPy function
# whose name is a TapeVM function (exp, log, sin, cos, tanh, sigmoid, atan2, erf, asinh, sign,
# floor, hypot, log1p, expm1, ..., and any sympy.Function("softplus")-style undefined function)
# needs no line: its name is looked up in the library's function list.
SYMPY_NAMES = {
    "Abs": "abs",
    "Max": "max",
    "Min": "min",
    "ceiling": "ceil",
    "Cbrt": "cbrt",       # sympy.codegen.cfunctions
    "Sqrt": "sqrt",       # sympy.codegen.cfunctions
}

# SymPy functions of any number of arguments that TapeVM computes as a left fold of a binary one.
_VARIADIC = {"Max", "Min"}


class ConversionError(ValueError):
    """A SymPy expression uses something TapeVM cannot compute; `unsupported` names it."""

    def __init__(self, message: str, unsupported: Sequence[str] = ()):
        super().__init__(message)
        self.unsupported = list(unsupported)


def _tapevm_name(expr) -> str | None:
    """The TapeVM function a SymPy function application maps to, or None."""
    name = type(expr).__name__
    target = SYMPY_NAMES.get(name, name)
    info = functions().get(target)
    if info is None or info.integer_exponent:
        return None
    return target


class _Converter:
    def __init__(self, sp, symbols: Mapping):
        self.sp = sp
        self.symbols = symbols        # SymPy symbol -> traced leaf
        self.memo: dict = {}          # equal subexpressions share one register

    def unsupported(self, expr) -> list[str]:
        sp = self.sp
        found = set()
        for node in sp.preorder_traversal(expr):
            if isinstance(node, (sp.Add, sp.Mul, sp.Pow, sp.Symbol, sp.Number, sp.NumberSymbol, sp.Piecewise,
                                 sp.logic.boolalg.BooleanAtom, sp.Rel, sp.And, sp.Or, sp.Not,
                                 sp.functions.elementary.piecewise.ExprCondPair, sp.Tuple)):
                continue
            if node is sp.I or isinstance(node, sp.core.numbers.ImaginaryUnit):
                found.add("I (complex numbers)")
            elif isinstance(node, sp.core.function.Application):
                name = type(node).__name__
                if _tapevm_name(node) is None:
                    found.add(name)
                elif name not in _VARIADIC:
                    expected = functions()[SYMPY_NAMES.get(name, name)].argument_count
                    if len(node.args) != expected:
                        found.add(f"{name} with {len(node.args)} argument(s) (TapeVM's takes {expected})")
            else:
                found.add(type(node).__name__)
        return sorted(found)

    def convert(self, expr):
        hit = self.memo.get(expr)
        if hit is None:
            hit = self.memo[expr] = self._convert(expr)
        return hit

    def _convert(self, expr):
        sp = self.sp
        if isinstance(expr, sp.Symbol):
            if expr not in self.symbols:
                raise ConversionError(f"symbol {expr} is neither an input nor a parameter")
            return self.symbols[expr]
        if expr.is_Number or isinstance(expr, sp.NumberSymbol):
            return float(expr)
        if isinstance(expr, sp.logic.boolalg.BooleanAtom):
            return 1.0 if expr else 0.0
        if isinstance(expr, sp.Add):
            return self._add(expr)
        if isinstance(expr, sp.Mul):
            return self._mul(expr)
        if isinstance(expr, sp.Pow):
            return self._pow(expr)
        if isinstance(expr, sp.Piecewise):
            return self._piecewise(list(expr.args))
        if isinstance(expr, sp.Rel):
            op = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}[expr.rel_op]
            return self._record(op, self.convert(expr.lhs), self.convert(expr.rhs))
        if isinstance(expr, (sp.And, sp.Or)):     # of 0/1 conditions: both (product) or either (max)
            args = [self.convert(a) for a in expr.args]
            acc = args[0]
            for a in args[1:]:
                acc = self._record("mul" if isinstance(expr, sp.And) else "max", acc, a)
            return acc
        if isinstance(expr, sp.Not):
            return self._record("eq", self.convert(expr.args[0]), 0.0)
        name = _tapevm_name(expr)
        args = [self.convert(a) for a in expr.args]
        if type(expr).__name__ in _VARIADIC:
            acc = args[0]
            for a in args[1:]:
                acc = self._record(name, acc, a)
            return acc
        return self._record(name, *args)

    def _record(self, name, *args):
        # Constants alone would not know the trace: record on the running one.
        if not any(isinstance(a, Traced) for a in args):
            _current(())
        return call(name, *args)

    def _add(self, expr):
        # As SymPy prints it: terms in order, "- t" for a term with a negative sign.
        acc = None
        for term in expr.as_ordered_terms():
            negative = term.could_extract_minus_sign()
            value = self.convert(-term if negative and acc is not None else term)
            if acc is None:
                acc = value
            else:
                acc = self._record("sub" if negative else "add", acc, value)
        return acc

    def _mul(self, expr):
        # As SymPy prints it: sign, numerator factors, then "/" the denominator factors.
        sp = self.sp
        coefficient, rest = expr.as_coeff_Mul()
        negative = coefficient < 0
        if negative:
            coefficient = -coefficient
        numerator, denominator = [], []
        if coefficient != 1:
            if coefficient.is_Rational:
                if coefficient.p != 1:
                    numerator.append(float(coefficient.p))
                if coefficient.q != 1:
                    denominator.append(float(coefficient.q))
            else:
                numerator.append(float(coefficient))
        factors = rest.as_ordered_factors() if isinstance(rest, sp.Mul) else [rest]
        for f in factors:
            if f == 1:
                continue
            if isinstance(f, sp.Pow) and f.exp.is_Rational and f.exp.is_negative:
                denominator.append(self.convert(sp.Pow(f.base, -f.exp)))
            else:
                numerator.append(self.convert(f))
        if not numerator:
            numerator = [1.0]
        if negative:
            numerator[0] = -numerator[0] if isinstance(numerator[0], float) else self._record("neg", numerator[0])
        acc = numerator[0]
        for f in numerator[1:]:
            acc = self._record("mul", acc, f)
        if denominator:
            below = denominator[0]
            for f in denominator[1:]:
                below = self._record("mul", below, f)
            acc = self._record("div", acc, below)
        if isinstance(acc, float):
            raise ConversionError(f"{expr} has no symbol")    # SymPy folds numbers; not reached
        return acc

    def _pow(self, expr):
        sp = self.sp
        base, exponent = expr.base, expr.exp
        if exponent == sp.Rational(1, 2):
            return self._record("sqrt", self.convert(base))
        if exponent == sp.Rational(-1, 2):
            return self._record("div", 1.0, self._record("sqrt", self.convert(base)))
        if exponent == -1:
            return self._record("div", 1.0, self.convert(base))
        b = self.convert(base)
        if exponent.is_Integer:
            if isinstance(b, float):
                _current(())
            return _power(b, int(exponent))
        return self._record("pow", b, self.convert(exponent))

    def _piecewise(self, pairs):
        (value, condition), rest = pairs[0], pairs[1:]
        sp = self.sp
        if condition == sp.true:
            return self.convert(value)
        c = self.convert(condition)
        v = self.convert(value)
        otherwise = self._piecewise(rest) if rest else float("nan")   # no condition holds: undefined
        return self._record("select", c, v, otherwise)


def from_sympy(expr, inputs: Sequence | None = None, params: Sequence = (), *, name: str = "f",
               outputs: Sequence[str] | None = None, threads: int | None = None, tile_size: int | None = None,
               isa: str | None = None) -> Function:
    """A Function computing a SymPy expression (or a list of them, or a dict name -> expression).

    inputs: the symbols that vary per point, in slot order (default: the free symbols that are
    not parameters, sorted by name). params: the symbols shared by every point.

    Maps +, -, *, /, Pow (integer exponents to powi, 1/2 to sqrt, others to pow), Piecewise (to
    select, with the comparisons <, <=, >, >=, Eq, Ne and And, Or, Not of them), Max, Min, Abs,
    numbers and constants (pi, E), and every SymPy function whose name is a TapeVM function
    (exp, log, sin, cos, tanh, log1p, expm1, ... and sympy.Function("sigmoid") style undefined
    functions such as sigmoid, softplus, relu, logaddexp). Raises ConversionError naming every
    function it cannot map. The tape is the one tapevm.trace records for the expression written
    as SymPy prints it."""
    import sympy as sp

    if isinstance(expr, Mapping):
        exprs, names = list(expr.values()), [str(k) for k in expr.keys()]
    elif isinstance(expr, (list, tuple)):
        exprs, names = list(expr), [f"{name}[{k}]" for k in range(len(expr))]
    else:
        exprs, names = [expr], [name]
    exprs = [sp.sympify(e) for e in exprs]
    params = list(params)
    free = set().union(*(e.free_symbols for e in exprs))
    if inputs is None:
        inputs = sorted((s for s in free if s not in params), key=lambda s: s.name)
    inputs = list(inputs)
    for s in inputs + params:
        if not isinstance(s, sp.Symbol):
            raise TypeError(f"inputs and params must be SymPy symbols, got {s!r}")
    unknown = sorted((s.name for s in free if s not in inputs and s not in params))
    if unknown:
        raise ConversionError(f"symbol(s) {', '.join(unknown)} are neither inputs nor params")

    converter = _Converter(sp, {})
    unsupported = sorted(set().union(*(converter.unsupported(e) for e in exprs)))
    if unsupported:
        raise ConversionError(
            f"cannot map to TapeVM: {', '.join(unsupported)}. TapeVM's functions: {', '.join(sorted(functions()))}; "
            f"a SymPy function named like one of them maps to it (add a line to SYMPY_NAMES in tapevm/_sympy.py "
            f"for one named differently)", unsupported)

    def body(*leaves):
        converter.symbols = dict(zip(inputs + params, leaves))
        return [converter.convert(e) for e in exprs]

    tape = record(body, [s.name for s in inputs], [s.name for s in params], outputs or names)
    return Function(tape, threads=threads, tile_size=tile_size, isa=isa)
