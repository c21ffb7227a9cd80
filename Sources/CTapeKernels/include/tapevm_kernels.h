// TapeVM's per-tile sweep kernels.
//
// A tile holds `tile` points (a multiple of 8). Plane r of a tile is `planes[r]`, `tile`
// doubles, 64-byte aligned in the workspace, or the caller's own input, output or gradient
// column for the tile's points (so full tiles read and write the caller's arrays directly). The forward sweep runs each instruction over the whole
// tile before the next; the reverse sweep runs them backwards and adds each instruction's
// contributions into its operands' adjoint planes. Decode and dispatch happen once per
// instruction per tile; the inner loops run over 8-lane blocks (the C form of SIMD8<Double>).
//
// The kernels are compiled three times from one template (sweep_template.h): for AVX-512, for
// AVX2 + FMA and for the portable baseline (SSE2 on x86-64, NEON on arm64), with per-function
// target attributes, and chosen at run time. No build flags are needed.
#ifndef TAPEVM_KERNELS_H
#define TAPEVM_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "tapevm_opcodes.h"

/// One forward instruction: `dst = op(a, b, c; imm)`; the fields are value-plane numbers.
typedef struct {
    int32_t op;
    int32_t dst;
    int32_t a, b, c;
    int32_t reserved;
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
/// The mnemonic of an opcode number, or NULL when out of range.
const char *tv_opcode_name(int op);

/// Forward sweep of `count` instructions over one tile; `values[r]` is value plane r.
/// Returns 0, or -1 without running when `isa` has no C kernels or this CPU cannot run them.
int tv_forward(int isa, const tv_instr *code, long count, double *const *values, long tile);
/// Reverse sweep of `count` instructions (run last to first) over one tile; `adjoints[r]` is
/// adjoint plane r. Returns 0, or -1 without running (as tv_forward).
int tv_reverse(int isa, const tv_rinstr *code, long count, double *const *values, double *const *adjoints, long tile);

/// Adds plane[i] into acc[i % 8] for i < n: a lane-parallel sum whose order depends only on
/// n, so sums over a batch are the same on every path and for every thread count.
void tv_accumulate_lanes(const double *plane, long n, double *acc);

/// CPUs this process may run on (its affinity mask on Linux), at least 1.
int tv_cpu_count(void);

/// Scalar forms of the transcendental functions, computed by the same SLEEF routine as the
/// portable path's vector form (so the Swift reference interpreter agrees bit for bit).
double tv_scalar_exp(double x);
double tv_scalar_log(double x);
double tv_scalar_sin(double x);
double tv_scalar_cos(double x);
double tv_scalar_log1p(double x);
double tv_scalar_expm1(double x);
double tv_scalar_pow(double x, double y);

/// SLEEF's functions on 8 lanes, memory to memory (`x`, `y`, `z` each 8 doubles), at the widest
/// vector width this CPU has: the transcendental functions of the Swift interpreter's
/// SIMD8<Double> lane (Swift itself is built for the baseline ISA, so it cannot call SLEEF's
/// AVX-512 forms directly).
void tv_lane_exp(const void *x, void *y);
void tv_lane_log(const void *x, void *y);
void tv_lane_sin(const void *x, void *y);
void tv_lane_cos(const void *x, void *y);
void tv_lane_log1p(const void *x, void *y);
void tv_lane_expm1(const void *x, void *y);
void tv_lane_pow(const void *x, const void *y, void *z);

#ifdef __cplusplus
}
#endif
#endif
