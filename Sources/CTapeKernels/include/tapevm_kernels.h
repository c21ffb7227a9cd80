// TapeVM's AVX2 and AVX-512 sweep kernels, and SLEEF's entry points for the Swift paths.
//
// A tile holds `tile` points (a multiple of 8). Plane r of a tile is `planes[r]`, `tile`
// doubles, 64-byte aligned in the workspace, or the caller's own input, output or gradient
// column for the tile's points (so full tiles read and write the caller's arrays directly). The
// forward sweep runs each instruction over the whole tile before the next; the reverse sweep runs
// them backwards and adds each instruction's contributions into its operands' adjoint planes.
// Decode and dispatch happen once per instruction per tile; the inner loops run over 8-lane blocks.
//
// The same plans run on TapeVM's Swift interpreter (SIMD8<Double>, the `swift` path). Here the
// loops (sweep_template.h) are compiled twice, for AVX2 + FMA and for AVX-512, with per-function
// target attributes, and chosen at run time; their per-opcode code is generated from the Swift
// rules (generated/*.h, tapevm_opcodes.h). No build flags are needed.
#ifndef TAPEVM_KERNELS_H
#define TAPEVM_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "tapevm_opcodes.h"
#include "tapevm_sleef_functions.h"
#include "tapevm_lane_functions.h"

/// One forward instruction: `dst = op(a, b, c; imm)`; the fields are value-plane numbers.
typedef struct {
    int32_t op;
    int32_t dst;
    int32_t a, b, c;
    /// Tangent sweeps only (0 elsewhere): bit k set when operand k (a, b, c) carries a tangent.
    int32_t active;
    double imm;
} tv_instr;

/// One reverse instruction. Value planes (v*) hold what the forward sweep computed; adjoint
/// planes (g*) are numbered separately, since the two are allocated by different liveness.
typedef struct {
    int32_t op;
    /// Bit 0/1/2: this is the sweep's first contribution to a's/b's/c's adjoint (store 0 + d
    /// instead of adding), so adjoint planes need no zeroing.
    int32_t first;
    int32_t vdst, va, vb;
    int32_t gdst, ga, gb, gc;
    /// Value plane of operand c (read by reverse rules that need it).
    int32_t vc;
    double imm;
} tv_rinstr;

/// Code paths. `TV_ISA_SWIFT` is TapeVM's Swift interpreter (no C kernels); the others are the
/// C kernels compiled for AVX2 + FMA and AVX-512 on x86-64.
typedef enum {
    TV_ISA_SWIFT = 0,
    TV_ISA_AVX2 = 1,
    TV_ISA_AVX512 = 2,
} tv_isa;

/// 1 when this CPU (and OS) can run the path, else 0.
int tv_isa_supported(int isa);
/// The fastest path this CPU can run.
int tv_isa_best(void);
/// 1 when SLEEF's functions run in portable mode, else 0; read once from the environment
/// variable `TAPEVM_MATH` (`portable`; unset, empty or `native` for the default). In portable mode
/// every form of every SLEEF function below (the reference, every lane width, every path) runs
/// SLEEF's deterministic routine without FMA (`Sleef_cinz_*`), so results are the same bits on
/// every x86-64 CPU, SSE2 to AVX-512; by default they run SLEEF's fastest routine for the CPU,
/// which uses FMA where the CPU has it and so may differ in the last place between CPUs with and
/// without FMA (every path still agrees with the reference on one CPU, in either mode).
int tv_math_portable(void);
/// 1 when `TAPEVM_MATH` is set to something other than the names above (it is then ignored).
int tv_math_unrecognized(void);
/// The mnemonic of an opcode number, or NULL when out of range.
const char *tv_opcode_name(int op);

/// Forward sweep of `count` instructions over one tile; `values[r]` is value plane r.
/// Returns 0, or -1 without running when `isa` has no C kernels or this CPU cannot run them.
int tv_forward(int isa, const tv_instr *code, long count, double *const *values, long tile);
/// Reverse sweep of `count` instructions (run last to first) over one tile; `adjoints[r]` is
/// adjoint plane r. Returns 0, or -1 without running (as tv_forward).
int tv_reverse(int isa, const tv_rinstr *code, long count, double *const *values, double *const *adjoints, long tile);

/// Tangent sweep (forward mode) of `count` instructions over one tile along `directions` (D ≥ 1)
/// directions at once: each instruction's value into `values[dst]` and, where `active` is
/// non-zero, its tangent along direction d, `Σₖ reverse(x, y, g: tangents[operand k · D + d])[k]`
/// over the active operands, into `tangents[dst · D + d]` (the values computed once for all).
/// Returns 0, or -1 without running (as tv_forward).
int tv_tangent(int isa, const tv_instr *code, long count, double *const *values, double *const *tangents, long tile,
               long directions);

/// Adds plane[i] into acc[i % 8] for i < n: a lane-parallel sum whose order depends only on
/// n, so sums over a batch are the same on every path and for every thread count.
void tv_accumulate_lanes(const double *plane, long n, double *acc);

/// CPUs this process may run on (its affinity mask on Linux), at least 1.
int tv_cpu_count(void);

/// SLEEF's functions, one pair per entry of tapevm_sleef_functions.h:
/// - `double tv_scalar_<name>(double x [, double y])`: the scalar form, computed by the same SLEEF
///   routine (2-lane, FMA where the CPU has it, or the portable one, see tv_math_portable) as the
///   vector forms, so the reference agrees bit for bit with every path;
/// - `void tv_lane_<name>(const void *x, [const void *y,] void *out)`: 8 lanes, memory to memory,
///   at the widest vector width this CPU has (one AVX-512 call, two AVX2 calls, or four 2-lane
///   calls), chosen once: the entry of the lane table below (`tv_lanes`), whose register forms
///   are the math of the Swift interpreter's SIMD8<Double> lane (Swift, built for the baseline
///   ISA, cannot call SLEEF's AVX-512 forms itself).
#define TV_SCALAR_DECL1(name, acc) double tv_scalar_##name(double x); \
    void tv_lane_##name(const void *x, void *y);
#define TV_SCALAR_DECL2(name, acc) double tv_scalar_##name(double x, double y); \
    void tv_lane_##name(const void *x, const void *y, void *z);
TV_SLEEF_UNARY(TV_SCALAR_DECL1)
TV_SLEEF_BINARY(TV_SCALAR_DECL2)
#undef TV_SCALAR_DECL1
#undef TV_SCALAR_DECL2

/// `void tv_lane_<name>(const void *x, void *out)` for the lane math functions that Lane defines
/// through other operations (tanh, sigmoid; tapevm_lane_functions.h): 8 lanes, memory to memory,
/// at the widest vector width this CPU has, with the bits of the one Swift definition they are
/// generated from.
#define TV_LANE_DECL(name) void tv_lane_##name(const void *x, void *y);
TV_LANE_FUNCTIONS(TV_LANE_DECL)
#undef TV_LANE_DECL

/// Two lanes of a `SIMD8<Double>` (imported into Swift as `SIMD2<Double>`).
typedef double tv_v2d __attribute__((vector_size(16)));
/// The correctly rounded square root of two lanes (`sqrtpd` on x86-64, `fsqrt` on arm64; no
/// `errno`), inline: the Swift lane's `sqrt`, whose standard-library forms are libm calls or a
/// scalar root with a libm fallback per lane on this toolchain.
static inline tv_v2d tv_sqrt2(tv_v2d x) { return __builtin_elementwise_sqrt(x); }

/// An 8-lane math function in the form the Swift interpreter calls: the lanes arrive as four
/// 2-lane vectors in registers, which is how baseline x86-64 code holds a `SIMD8<Double>` (handed
/// over through memory, the callee's one wide load would wait for the caller's four narrow
/// stores: a store-forwarding stall per call), and the result is stored to `out` (the caller's
/// 16-byte loads of it are forwarded from the wider store).
typedef void (*tv_lane1_fn)(tv_v2d x0, tv_v2d x1, tv_v2d x2, tv_v2d x3, double *out);
/// The two-argument form: `x` in the first four vectors, `y` in the next four.
typedef void (*tv_lane2_fn)(tv_v2d x0, tv_v2d x1, tv_v2d x2, tv_v2d x3,
                            tv_v2d y0, tv_v2d y1, tv_v2d y2, tv_v2d y3, double *out);
/// Every lane function (SLEEF's and the generated ones), each at the widest vector width this
/// CPU has and in the math mode's routine. The table starts with stubs that fill it at the first
/// call; after that a call is one load and an indirect call, with no switch per call.
typedef struct {
#define TV_LANE_FIELD1(name, acc) tv_lane1_fn name;
#define TV_LANE_FIELD2(name, acc) tv_lane2_fn name;
#define TV_LANE_FIELD(name) tv_lane1_fn name;
    TV_SLEEF_UNARY(TV_LANE_FIELD1)
    TV_SLEEF_BINARY(TV_LANE_FIELD2)
    TV_LANE_FUNCTIONS(TV_LANE_FIELD)
#undef TV_LANE_FIELD1
#undef TV_LANE_FIELD2
#undef TV_LANE_FIELD
} tv_lane_table;
/// The table, read only through `tv_lane8_<name>` below (the C side fills it once, atomically).
extern tv_lane_table tv_lanes;
/// Fills the table with path `isa`'s forms (TV_ISA_SWIFT: the 2-lane forms that CPUs without
/// AVX2 and arm64 run), for tests of every width on one machine: all forms give the same bits
/// where the CPU has FMA, so calls running meanwhile are unaffected. Returns -1 (and changes
/// nothing) when this CPU cannot run `isa`. Programs never need it: the table picks the widest.
int tv_lanes_select(int isa);

/// `tv_lane8_<name>(x0, x1, x2, x3, [y0, ..., y3,] out)`: the lane function `name` through the
/// table (inline, so the Swift interpreter's loops call the resolved function directly).
#define TV_LANE8_CALL1(name, acc) \
    static inline void tv_lane8_##name(tv_v2d x0, tv_v2d x1, tv_v2d x2, tv_v2d x3, double *out) { \
        __atomic_load_n(&tv_lanes.name, __ATOMIC_RELAXED)(x0, x1, x2, x3, out); }
#define TV_LANE8_CALL2(name, acc) \
    static inline void tv_lane8_##name(tv_v2d x0, tv_v2d x1, tv_v2d x2, tv_v2d x3, \
                                       tv_v2d y0, tv_v2d y1, tv_v2d y2, tv_v2d y3, double *out) { \
        __atomic_load_n(&tv_lanes.name, __ATOMIC_RELAXED)(x0, x1, x2, x3, y0, y1, y2, y3, out); }
#define TV_LANE8_CALL(name) TV_LANE8_CALL1(name, )
TV_SLEEF_UNARY(TV_LANE8_CALL1)
TV_SLEEF_BINARY(TV_LANE8_CALL2)
TV_LANE_FUNCTIONS(TV_LANE8_CALL)
#undef TV_LANE8_CALL1
#undef TV_LANE8_CALL2
#undef TV_LANE8_CALL

#ifdef __cplusplus
}
#endif
#endif
