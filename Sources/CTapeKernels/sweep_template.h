// The forward and reverse sweep kernels, written once and included by kernels.c once per
// instruction-set path. The includer defines:
//   TV_FORWARD, TV_REVERSE  the names of this path's two functions
//   TV_TARGET               the function attribute selecting the ISA (may be empty)
//   VEXP VLOG VTANH VSIN VCOS VLOG1P VEXPM1 (v8d -> v8d), VPOW (v8d, v8d -> v8d)
//
// Every rule here mirrors the row of TapeVM's opcode table (Opcode.swift) with the same
// operations in the same order, so each path agrees bit for bit with the Swift reference
// interpreter (contraction to FMA is off in kernels.c).

#define TV_BLOCKS(i, n) for (long i = 0; i < (n); i += 8)
#define PLANE(table, r) ((table)[(r)])

static TV_TARGET void TV_FORWARD(const tv_instr *code, long count, double *const *V, long tile) {
    for (long k = 0; k < count; ++k) {
        const tv_instr in = code[k];
        double *y = PLANE(V, in.dst);
        const double *pa = PLANE(V, in.a);
        const double *pb = PLANE(V, in.b);
        const double *pc = PLANE(V, in.c);
        const v8d one = splat(1.0), zero = splat(0.0);
        switch ((tv_opcode)in.op) {
        case TV_INPUT: case TV_PARAM: case TV_OPCODE_COUNT:
            break;
        case TV_CONST: { const v8d v = splat(in.imm); TV_BLOCKS(i, tile) st(y + i, v); break; }
        case TV_NEG:    TV_BLOCKS(i, tile) st(y + i, -ld(pa + i)); break;
        case TV_RECIP:  TV_BLOCKS(i, tile) st(y + i, one / ld(pa + i)); break;
        case TV_SQUARE: TV_BLOCKS(i, tile) { v8d a = ld(pa + i); st(y + i, a * a); } break;
        case TV_SQRT:   TV_BLOCKS(i, tile) st(y + i, vsqrt(ld(pa + i))); break;
        case TV_EXP:    TV_BLOCKS(i, tile) st(y + i, VEXP(ld(pa + i))); break;
        case TV_LOG:    TV_BLOCKS(i, tile) st(y + i, VLOG(ld(pa + i))); break;
        case TV_SIGMOID: TV_BLOCKS(i, tile) st(y + i, one / (one + VEXP(-ld(pa + i)))); break;
        case TV_TANH:   TV_BLOCKS(i, tile) st(y + i, VTANH(ld(pa + i))); break;
        case TV_SIN:    TV_BLOCKS(i, tile) st(y + i, VSIN(ld(pa + i))); break;
        case TV_COS:    TV_BLOCKS(i, tile) st(y + i, VCOS(ld(pa + i))); break;
        case TV_ABS:    TV_BLOCKS(i, tile) st(y + i, vabs(ld(pa + i))); break;
        case TV_RELU:   TV_BLOCKS(i, tile) {
                v8d a = ld(pa + i);
                st(y + i, sel(a > zero, a, sel(a == a, zero, a)));
            } break;
        case TV_SOFTPLUS: TV_BLOCKS(i, tile) {
                v8d a = ld(pa + i);
                st(y + i, sel(a > zero, a, zero) + VLOG1P(VEXP(-vabs(a))));
            } break;
        case TV_LOG1P:  TV_BLOCKS(i, tile) st(y + i, VLOG1P(ld(pa + i))); break;
        case TV_EXPM1:  TV_BLOCKS(i, tile) st(y + i, VEXPM1(ld(pa + i))); break;
        case TV_POWI: { const int n = (int)in.imm;
                TV_BLOCKS(i, tile) st(y + i, vpowi(ld(pa + i), n)); break; }
        case TV_ADD: TV_BLOCKS(i, tile) st(y + i, ld(pa + i) + ld(pb + i)); break;
        case TV_SUB: TV_BLOCKS(i, tile) st(y + i, ld(pa + i) - ld(pb + i)); break;
        case TV_MUL: TV_BLOCKS(i, tile) st(y + i, ld(pa + i) * ld(pb + i)); break;
        case TV_DIV: TV_BLOCKS(i, tile) st(y + i, ld(pa + i) / ld(pb + i)); break;
        case TV_POW: TV_BLOCKS(i, tile) st(y + i, VPOW(ld(pa + i), ld(pb + i))); break;
        case TV_MAX: TV_BLOCKS(i, tile) st(y + i, vmax(ld(pa + i), ld(pb + i))); break;
        case TV_MIN: TV_BLOCKS(i, tile) {
                v8d a = ld(pa + i), b = ld(pb + i);
                st(y + i, sel((a < b) | (a != a), a, b));
            } break;
        case TV_LOGADDEXP: TV_BLOCKS(i, tile) {
                v8d a = ld(pa + i), b = ld(pb + i);
                v8d general = vmax(a, b) + VLOG1P(VEXP(-vabs(a - b)));
                st(y + i, sel(a == b, a + splat(TV_LN2), general));
            } break;
        case TV_LT: TV_BLOCKS(i, tile) st(y + i, sel(ld(pa + i) <  ld(pb + i), one, zero)); break;
        case TV_LE: TV_BLOCKS(i, tile) st(y + i, sel(ld(pa + i) <= ld(pb + i), one, zero)); break;
        case TV_GT: TV_BLOCKS(i, tile) st(y + i, sel(ld(pa + i) >  ld(pb + i), one, zero)); break;
        case TV_GE: TV_BLOCKS(i, tile) st(y + i, sel(ld(pa + i) >= ld(pb + i), one, zero)); break;
        case TV_EQ: TV_BLOCKS(i, tile) st(y + i, sel(ld(pa + i) == ld(pb + i), one, zero)); break;
        case TV_NE: TV_BLOCKS(i, tile) st(y + i, sel(ld(pa + i) != ld(pb + i), one, zero)); break;
        case TV_SELECT: TV_BLOCKS(i, tile) {
                v8d a = ld(pa + i);
                st(y + i, sel(a != a, a, sel(a != zero, ld(pb + i), ld(pc + i))));
            } break;
        case TV_MULADD: TV_BLOCKS(i, tile) st(y + i, ld(pa + i) * ld(pb + i) + ld(pc + i)); break;
        case TV_ADDK: { const v8d k = splat(in.imm); TV_BLOCKS(i, tile) st(y + i, ld(pa + i) + k); break; }
        case TV_MULK: { const v8d k = splat(in.imm); TV_BLOCKS(i, tile) st(y + i, ld(pa + i) * k); break; }
        case TV_RSUBK: { const v8d k = splat(in.imm); TV_BLOCKS(i, tile) st(y + i, k - ld(pa + i)); break; }
        case TV_DIVK: { const v8d k = splat(in.imm); TV_BLOCKS(i, tile) st(y + i, ld(pa + i) / k); break; }
        case TV_RDIVK: { const v8d k = splat(in.imm); TV_BLOCKS(i, tile) st(y + i, k / ld(pa + i)); break; }
        case TV_SQDIFF: TV_BLOCKS(i, tile) { v8d d = ld(pa + i) - ld(pb + i); st(y + i, d * d); } break;
        case TV_MULKADD: { const v8d k = splat(in.imm);
                TV_BLOCKS(i, tile) st(y + i, ld(pa + i) * k + ld(pb + i)); break; }
        case TV_SQDIFFK: { const v8d k = splat(in.imm);
                TV_BLOCKS(i, tile) { v8d d = k - ld(pa + i); st(y + i, d * d); } break; }
        }
    }
}

// Adds `d` into an operand's adjoint plane (load, add, store: correct when two operands alias).
// The first contribution a plane receives in a sweep is stored as it is (first_da, first_db,
// first_dc), so adjoint planes need no zeroing per tile: an adjoint is its first contribution
// plus the later ones, as in the reference interpreter (and JAX's symbolic zeros).
#define ACC(p, i, d) do { \
        v8d _d = (d); \
        st((p) + (i), first_##p ? _d : ld((p) + (i)) + _d); \
    } while (0)

static TV_TARGET void TV_REVERSE(const tv_rinstr *code, long count, double *const *V, double *const *A, long tile) {
    for (long k = count - 1; k >= 0; --k) {
        const tv_rinstr in = code[k];
        const double *py = PLANE(V, in.vdst);
        const double *gy = PLANE(A, in.gdst);
        const double *pa = PLANE(V, in.va);
        const double *pb = PLANE(V, in.vb);
        double *da = PLANE(A, in.ga);
        double *db = PLANE(A, in.gb);
        double *dc = PLANE(A, in.gc);
        const v8d one = splat(1.0), zero = splat(0.0), half = splat(0.5);
        // The first-contribution flags as compile-time constants: the reverse cases are
        // compiled once per flag combination, so no block loop tests a flag.
        switch (in.first & 7) {
        case 0: { enum { first_da = 0, first_db = 0, first_dc = 0 };
#include "reverse_cases.h"
        } break;
        case 1: { enum { first_da = 1, first_db = 0, first_dc = 0 };
#include "reverse_cases.h"
        } break;
        case 2: { enum { first_da = 0, first_db = 1, first_dc = 0 };
#include "reverse_cases.h"
        } break;
        case 3: { enum { first_da = 1, first_db = 1, first_dc = 0 };
#include "reverse_cases.h"
        } break;
        case 4: { enum { first_da = 0, first_db = 0, first_dc = 1 };
#include "reverse_cases.h"
        } break;
        case 5: { enum { first_da = 1, first_db = 0, first_dc = 1 };
#include "reverse_cases.h"
        } break;
        case 6: { enum { first_da = 0, first_db = 1, first_dc = 1 };
#include "reverse_cases.h"
        } break;
        default: { enum { first_da = 1, first_db = 1, first_dc = 1 };
#include "reverse_cases.h"
        } break;
        }
    }
}

#undef ACC
#undef PLANE
#undef TV_BLOCKS
