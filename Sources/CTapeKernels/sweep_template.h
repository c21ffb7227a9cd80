// The forward, reverse and tangent (forward-mode) sweep loops, included by kernels.c once per C code path (AVX2 + FMA,
// AVX-512). The includer defines:
//   TV_FORWARD, TV_REVERSE, TV_FORWARD_MODE, TV_FORWARD_MODE_DIRECTIONS: the names of this path's
//                           sweeps (the tangent sweep along one direction and along D), and
//   TV_FORWARD_MODE_BODY    the name of the inlined body the two tangent sweeps share
//   TV_TARGET               the function attribute selecting the ISA
//   VMATH1(name, x), VMATH2(name, x, y): SLEEF's function `name` at this path's width
//   LANEFN(name, x)         the lane function `name` of generated/lane_functions.h (tanh, sigmoid)
//
// The per-opcode bodies are not written here: they are generated from the Swift rules
// (Sources/TapeVM/Rules/Rules.swift) into generated/forward_cases.h and generated/reverse_cases.h,
// with the same operations in the same order as every other path (contraction to FMA is off in
// kernels.c), so each path agrees bit for bit with the reference interpreter.

#define TV_BLOCKS(i, n) for (long i = 0; i < (n); i += 8)
#define PLANE(table, r) ((table)[(r)])
/// The planes of an instruction's result and operands in the table T, named by prefix P
/// (`py, pa, pb, pc` for values, `ty, ta, tb, tc` for tangents).
#define TV_PLANES(T, P, in) \
    double *P##y = PLANE(T, (in).dst); \
    const double *P##a = PLANE(T, (in).a); \
    const double *P##b = PLANE(T, (in).b); \
    const double *P##c = PLANE(T, (in).c)

// Every block of every operand is loaded before the block of the result is stored, so the
// result may share a plane with an operand.
static TV_TARGET void TV_FORWARD(const tv_instr *code, long count, double *const *V, long tile) {
    for (long k = 0; k < count; ++k) {
        const tv_instr in = code[k];
        TV_PLANES(V, p, in);
        switch ((tv_opcode)in.op) {
#include "generated/forward_cases.h"
        default: break;
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

// Reverse rules read every block they need before writing any adjoint block (planes may be shared).
static TV_TARGET void TV_REVERSE(const tv_rinstr *code, long count, double *const *V, double *const *A, long tile) {
    for (long k = count - 1; k >= 0; --k) {
        const tv_rinstr in = code[k];
        const double *py = PLANE(V, in.vdst);
        const double *gy = PLANE(A, in.gdst);
        const double *pa = PLANE(V, in.va);
        const double *pb = PLANE(V, in.vb);
        const double *pc = PLANE(V, in.vc);
        double *da = PLANE(A, in.ga);
        double *db = PLANE(A, in.gb);
        double *dc = PLANE(A, in.gc);
        (void)pc; (void)db; (void)dc;
        // The first-contribution flags as compile-time constants: the reverse cases are
        // compiled once per flag combination, so no block loop tests a flag.
#define TV_FLAGS in.first
#define TV_FLAG_A first_da
#define TV_FLAG_B first_db
#define TV_FLAG_C first_dc
#define TV_CASES "generated/reverse_cases.h"
#include "flag_switch.h"
    }
}

// Forward mode along D directions: each instruction's value and, from its reverse rule with the
// operands' tangents as adjoints, its tangent along each direction (operand tangents read before
// the result's is stored, so planes may be shared). The tangent of value plane p along direction
// d is tangent plane p·D + d. Instructions with no active operand run their forward case.
// Inlined into a one-direction sweep (D = 1: the direction loop disappears) and a D-direction one.
#define TV_DIRECTIONS(d) for (long d = 0; d < D; ++d)
// One direction's planes: with D = 1 the ones read before the instruction's block loop (a load
// per block would not be hoisted out of it), else entry d of the instruction's D consecutive ones.
#define TV_DIRECTION_PLANES(d) \
    double *ty = D == 1 ? ty1 : Ty[d]; \
    const double *ta = D == 1 ? ta1 : Ta[d]; \
    const double *tb = D == 1 ? tb1 : Tb[d]; \
    const double *tc = D == 1 ? tc1 : Tc[d]; \
    (void)ta; (void)tb; (void)tc
static inline __attribute__((always_inline)) TV_TARGET void
TV_FORWARD_MODE_BODY(const tv_instr *code, long count, double *const *V, double *const *T, long tile, long D) {
    for (long k = 0; k < count; ++k) {
        const tv_instr in = code[k];
        TV_PLANES(V, p, in);
        double *const *Ty = T + (long)in.dst * D, *const *Ta = T + (long)in.a * D;
        double *const *Tb = T + (long)in.b * D, *const *Tc = T + (long)in.c * D;
        double *ty1 = Ty[0];
        const double *ta1 = Ta[0], *tb1 = Tb[0], *tc1 = Tc[0];
        (void)ty1; (void)ta1; (void)tb1; (void)tc1;
        if ((in.active & 7) == 0) {
            switch ((tv_opcode)in.op) {
#include "generated/forward_cases.h"
            default: break;
            }
            continue;
        }
        // The active-operand flags as compile-time constants, as the first-contribution flags above.
#define TV_FLAGS in.active
#define TV_FLAG_A active_a
#define TV_FLAG_B active_b
#define TV_FLAG_C active_c
#define TV_CASES "generated/tangent_cases.h"
#include "flag_switch.h"
    }
}

static TV_TARGET void TV_FORWARD_MODE(const tv_instr *code, long count, double *const *V, double *const *T, long tile) {
    TV_FORWARD_MODE_BODY(code, count, V, T, tile, 1);
}

static TV_TARGET void TV_FORWARD_MODE_DIRECTIONS(const tv_instr *code, long count, double *const *V, double *const *T,
                                                 long tile, long D) {
    TV_FORWARD_MODE_BODY(code, count, V, T, tile, D);
}

#undef TV_DIRECTIONS
#undef TV_DIRECTION_PLANES
#undef ACC
#undef PLANE
#undef TV_PLANES
#undef TV_BLOCKS
