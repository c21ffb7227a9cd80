// The SLEEF functions the opcode rules call, as X-macros: X(name, accuracy suffix). One line per
// function gives its scalar reference form (tv_scalar_<name>), its 8-lane form for the Swift
// interpreter (tv_lane_<name>), and its AVX2 and AVX-512 trampolines (sleef_trampolines.S),
// each in two math modes (tv_math_portable): SLEEF's dispatched routines (FMA where the CPU has
// it), and SLEEF's deterministic `Sleef_cinz_` routines (no FMA, the same bits on every CPU).
// Included by C, by Swift (through tapevm_kernels.h) and by the assembler (through the C preprocessor).
#ifndef TAPEVM_SLEEF_FUNCTIONS_H
#define TAPEVM_SLEEF_FUNCTIONS_H

#define TV_SLEEF_UNARY(X) \
    X(exp, _u10) X(exp2, _u10) X(expm1, _u10) X(log, _u10) X(log2, _u10) X(log10, _u10) \
    X(log1p, _u10) X(cbrt, _u10) X(sin, _u10) X(cos, _u10) X(tan, _u10) X(asin, _u10) \
    X(acos, _u10) X(atan, _u10) X(sinh, _u10) X(cosh, _u10) X(asinh, _u10) X(acosh, _u10) \
    X(atanh, _u10) X(erf, _u10) X(erfc, _u15)

#define TV_SLEEF_BINARY(X) X(pow, _u10) X(atan2, _u10) X(hypot, _u05)

#endif
