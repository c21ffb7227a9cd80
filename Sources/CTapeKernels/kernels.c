// Instantiates the sweep template for each instruction-set path and picks one at run time.
#include "tapevm_kernels.h"
#include "tapevm_sleef_functions.h"
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

// Keep a*b+c as two roundings: the Swift reference never fuses, and every path must agree.
#pragma clang fp contract(off)

typedef double v8d __attribute__((vector_size(64)));
typedef long long v8l __attribute__((vector_size(64)));
typedef double v4d __attribute__((vector_size(32)));
typedef double v2d __attribute__((vector_size(16)));

// The helpers are macros, not inline functions: clang rejects passing a 64-byte vector to any
// function (even an inlined one) from code not compiled for AVX-512.
#define ld(p) ({ v8d _v; __builtin_memcpy(&_v, (p), sizeof _v); _v; })
#define st(p, v) do { v8d _s = (v); __builtin_memcpy((p), &_s, sizeof _s); } while (0)
#define splat(s) ({ double _k = (s); (v8d){_k, _k, _k, _k, _k, _k, _k, _k}; })
/// Lanes of x where the mask m is set, else lanes of y.
#define sel(m, x, y) ((v8d)(((v8l)(x) & (m)) | ((v8l)(y) & ~(m))))
#define vabs(x) ((v8d)((v8l)(x) & (v8l){TV_MAGNITUDE_BITS, TV_MAGNITUDE_BITS, TV_MAGNITUDE_BITS, TV_MAGNITUDE_BITS, \
                                          TV_MAGNITUDE_BITS, TV_MAGNITUDE_BITS, TV_MAGNITUDE_BITS, TV_MAGNITUDE_BITS}))
#define TV_MAGNITUDE_BITS 0x7fffffffffffffffLL
/// The magnitude of x with the sign bit of s.
#define vcopysign(x, s) ((v8d)(((v8l)vabs(x)) | ((v8l)(s) & ~(v8l){TV_MAGNITUDE_BITS, TV_MAGNITUDE_BITS, \
    TV_MAGNITUDE_BITS, TV_MAGNITUDE_BITS, TV_MAGNITUDE_BITS, TV_MAGNITUDE_BITS, TV_MAGNITUDE_BITS, TV_MAGNITUDE_BITS})))
/// Lanes i and i+1 of an 8-lane vector, and four 2-lane vectors joined into one.
#define TV_HALF(x, i) __builtin_shufflevector(x, x, i, i + 1)
#define TV_JOIN(_0, _1, _2, _3) __builtin_shufflevector(__builtin_shufflevector(_0, _1, 0, 1, 2, 3), \
                                                        __builtin_shufflevector(_2, _3, 0, 1, 2, 3), 0, 1, 2, 3, 4, 5, 6, 7)
#define vsqrt(x) __builtin_elementwise_sqrt(x)
#define vfloor(x) __builtin_elementwise_floor(x)
#define vceil(x) __builtin_elementwise_ceil(x)
/// x to the integer power n by binary exponentiation: the same multiplications as the Lane
/// default `powi` (Sources/TapeVM/Rules/Lane.swift) that the Swift paths run.
#define vpowi(x, n) ({ int _n = (n); unsigned _m = _n < 0 ? 0u - (unsigned)_n : (unsigned)_n; \
    v8d _r = splat(1.0), _b = (x); \
    while (_m > 0) { if (_m & 1u) _r = _r * _b; _b = _b * _b; _m >>= 1; } \
    _n < 0 ? splat(1.0) / _r : _r; })

/// The register form (tv_lane1_fn) of the generated lane function `name` of path W, for the
/// Swift interpreter's table (tv_lanes).
#define TV_LANE_REGISTER_FORM(name, W) \
    static TV_TARGET void tv_lane_##name##_##W##_r(v2d x0, v2d x1, v2d x2, v2d x3, double *out) { \
        const v8d _x = TV_JOIN(x0, x1, x2, x3); v8d _y; \
        tv_lane_##name##_##W((const double *)&_x, (double *)&_y); \
        st(out, _y); }
#define TV_LANE_REGISTER_FORM_avx2(name) TV_LANE_REGISTER_FORM(name, avx2)
#define TV_LANE_REGISTER_FORM_avx512(name) TV_LANE_REGISTER_FORM(name, avx512)
#define TV_LANE_REGISTER_FORM_base(name) TV_LANE_REGISTER_FORM(name, base)

// ---- Math mode (tv_math_portable): TAPEVM_MATH read once. 0 native, 1 portable, 2 unrecognized
// (native). Every SLEEF call below picks its routine by it: one predictable branch per 8 lanes.
static int tv_math_mode(void) {
    static int mode = -1;
    int m = __atomic_load_n(&mode, __ATOMIC_RELAXED);
    if (m < 0) {
        const char *s = getenv("TAPEVM_MATH");
        m = !s || !*s || !strcmp(s, "native") ? 0 : !strcmp(s, "portable") ? 1 : 2;
        __atomic_store_n(&mode, m, __ATOMIC_RELAXED);
    }
    return m;
}
int tv_math_portable(void) { return tv_math_mode() == 1; }
int tv_math_unrecognized(void) { return tv_math_mode() == 2; }
#define TV_PORTABLE() __builtin_expect(tv_math_mode() == 1, 0)

// SLEEF, declared here rather than through sleef.h: sleef.h shows the AVX and AVX-512 forms only
// to translation units built with those CPU flags, and this one is built without any.
#define TV_SLEEF1(T, name) extern T Sleef_##name(T);
#define TV_SLEEF2(T, name) extern T Sleef_##name(T, T);

// ---- SLEEF's 2-lane functions (SSE2/SSE4/AVX2-128 dispatch on x86-64, NEON on arm64), scalar
// SLEEF elsewhere: the scalar reference (tv_scalar_*) and the lane functions' baseline form.
// Portable mode: SLEEF's deterministic 2-lane SSE2 routine on x86-64, its pure C one elsewhere.
#if defined(__x86_64__)
#define TV_DECLARE_PORTABLE1(name, acc) TV_SLEEF1(v2d, cinz_##name##d2##acc##sse2)
#define TV_DECLARE_PORTABLE2(name, acc) TV_SLEEF2(v2d, cinz_##name##d2##acc##sse2)
#define TV_PORTABLE_D2_1(name, acc, x) Sleef_cinz_##name##d2##acc##sse2(x)
#define TV_PORTABLE_D2_2(name, acc, x, y) Sleef_cinz_##name##d2##acc##sse2(x, y)
#else
#define TV_DECLARE_PORTABLE1(name, acc) TV_SLEEF1(double, cinz_##name##d1##acc##purec)
#define TV_DECLARE_PORTABLE2(name, acc) TV_SLEEF2(double, cinz_##name##d1##acc##purec)
#define TV_PORTABLE_D2_1(name, acc, x) ({ v2d _p = (x); \
    (v2d){Sleef_cinz_##name##d1##acc##purec(_p[0]), Sleef_cinz_##name##d1##acc##purec(_p[1])}; })
#define TV_PORTABLE_D2_2(name, acc, x, y) ({ v2d _p = (x), _q = (y); \
    (v2d){Sleef_cinz_##name##d1##acc##purec(_p[0], _q[0]), Sleef_cinz_##name##d1##acc##purec(_p[1], _q[1])}; })
#endif
TV_SLEEF_UNARY(TV_DECLARE_PORTABLE1)
TV_SLEEF_BINARY(TV_DECLARE_PORTABLE2)
#if defined(__x86_64__) || defined(__aarch64__)
#define TV_DECLARE1(name, acc) TV_SLEEF1(v2d, name##d2##acc)
#define TV_DECLARE2(name, acc) TV_SLEEF2(v2d, name##d2##acc)
TV_SLEEF_UNARY(TV_DECLARE1)
TV_SLEEF_BINARY(TV_DECLARE2)
/// The 2-lane routine of the current math mode.
#define TV_D2_1(name, acc, x) (TV_PORTABLE() ? TV_PORTABLE_D2_1(name, acc, x) : Sleef_##name##d2##acc(x))
#define TV_D2_2(name, acc, x, y) (TV_PORTABLE() ? TV_PORTABLE_D2_2(name, acc, x, y) : Sleef_##name##d2##acc(x, y))
#define TV_P1(f, x) ({ v8d _x = (x); TV_JOIN(f(TV_HALF(_x, 0)), f(TV_HALF(_x, 2)), f(TV_HALF(_x, 4)), f(TV_HALF(_x, 6))); })
#define TV_P2(f, x, y) ({ v8d _x = (x), _y = (y); \
    TV_JOIN(f(TV_HALF(_x, 0), TV_HALF(_y, 0)), f(TV_HALF(_x, 2), TV_HALF(_y, 2)), \
            f(TV_HALF(_x, 4), TV_HALF(_y, 4)), f(TV_HALF(_x, 6), TV_HALF(_y, 6))); })
#define TV_SCALAR_FN1(name, acc) double tv_scalar_##name(double x) { return TV_D2_1(name, acc, ((v2d){x, x}))[0]; }
#define TV_SCALAR_FN2(name, acc) double tv_scalar_##name(double x, double y) { \
    return TV_D2_2(name, acc, ((v2d){x, x}), ((v2d){y, y}))[0]; }
#define TV_D2_FN1(name, acc) static v2d tv_d2_##name(v2d x) { return TV_D2_1(name, acc, x); }
#define TV_D2_FN2(name, acc) static v2d tv_d2_##name(v2d x, v2d y) { return TV_D2_2(name, acc, x, y); }
TV_SLEEF_UNARY(TV_D2_FN1)
TV_SLEEF_BINARY(TV_D2_FN2)
#define TV_BASE1(name, acc, x) TV_P1(tv_d2_##name, x)
#define TV_BASE2(name, acc, x, y) TV_P2(tv_d2_##name, x, y)
#else
#define TV_DECLARE1(name, acc) extern double Sleef_##name##acc(double);
#define TV_DECLARE2(name, acc) extern double Sleef_##name##acc(double, double);
TV_SLEEF_UNARY(TV_DECLARE1)
TV_SLEEF_BINARY(TV_DECLARE2)
#define TV_SCALAR_FN1(name, acc) double tv_scalar_##name(double x) { \
    return TV_PORTABLE() ? Sleef_cinz_##name##d1##acc##purec(x) : Sleef_##name##acc(x); }
#define TV_SCALAR_FN2(name, acc) double tv_scalar_##name(double x, double y) { \
    return TV_PORTABLE() ? Sleef_cinz_##name##d1##acc##purec(x, y) : Sleef_##name##acc(x, y); }
#define TV_BASE1(name, acc, x) ({ v8d _x = (x), _r; for (int _l = 0; _l < 8; ++_l) _r[_l] = tv_scalar_##name(_x[_l]); _r; })
#define TV_BASE2(name, acc, x, y) ({ v8d _x = (x), _y = (y), _r; \
    for (int _l = 0; _l < 8; ++_l) _r[_l] = tv_scalar_##name(_x[_l], _y[_l]); _r; })
#endif
TV_SLEEF_UNARY(TV_SCALAR_FN1)
TV_SLEEF_BINARY(TV_SCALAR_FN2)

#if defined(__x86_64__) && defined(__linux__)
#define TV_AVX2 __attribute__((target("avx2,fma")))
#define TV_AVX512 __attribute__((target("avx512f,avx512dq,fma")))
// ---- AVX2 + FMA path: SLEEF's AVX2 4-lane functions, two per block, through the trampolines
// in sleef_trampolines.S (a vector passed by value from this file would not arrive in ymm0).
// W is 8 or 4 (AVX-512 or AVX2, with FMA), 8p or 4p (their portable forms, see the .S file).
#define TV_SLEEF_EXTERN1(name, acc) extern void tv_sleef8_##name(const double *, double *); \
    extern void tv_sleef4_##name(const double *, double *); \
    extern void tv_sleef8p_##name(const double *, double *); \
    extern void tv_sleef4p_##name(const double *, double *);
#define TV_SLEEF_EXTERN2(name, acc) extern void tv_sleef8_##name##2(const double *, const double *, double *); \
    extern void tv_sleef4_##name##2(const double *, const double *, double *); \
    extern void tv_sleef8p_##name##2(const double *, const double *, double *); \
    extern void tv_sleef4p_##name##2(const double *, const double *, double *);
TV_SLEEF_UNARY(TV_SLEEF_EXTERN1)
TV_SLEEF_BINARY(TV_SLEEF_EXTERN2)
// Their register forms for the Swift interpreter's table (tv_lane1_fn, tv_lane2_fn).
#define TV_SLEEF_EXTERN_R1(name, acc) extern void tv_sleef8r_##name(v2d, v2d, v2d, v2d, double *); \
    extern void tv_sleef4r_##name(v2d, v2d, v2d, v2d, double *); \
    extern void tv_sleef8pr_##name(v2d, v2d, v2d, v2d, double *); \
    extern void tv_sleef4pr_##name(v2d, v2d, v2d, v2d, double *);
#define TV_SLEEF_EXTERN_R2(name, acc) extern void tv_sleef8r_##name(v2d, v2d, v2d, v2d, v2d, v2d, v2d, v2d, double *); \
    extern void tv_sleef4r_##name(v2d, v2d, v2d, v2d, v2d, v2d, v2d, v2d, double *); \
    extern void tv_sleef8pr_##name(v2d, v2d, v2d, v2d, v2d, v2d, v2d, v2d, double *); \
    extern void tv_sleef4pr_##name(v2d, v2d, v2d, v2d, v2d, v2d, v2d, v2d, double *);
TV_SLEEF_UNARY(TV_SLEEF_EXTERN_R1)
TV_SLEEF_BINARY(TV_SLEEF_EXTERN_R2)
#define TV_T1(W, fn, x) ({ v8d _in = (x), _out; \
    (TV_PORTABLE() ? tv_sleef##W##p_##fn : tv_sleef##W##_##fn)((const double *)&_in, (double *)&_out); _out; })
#define TV_T2(W, fn, x, y) ({ v8d _in = (x), _in2 = (y), _out; \
    (TV_PORTABLE() ? tv_sleef##W##p_##fn##2 : tv_sleef##W##_##fn##2)((const double *)&_in, (const double *)&_in2, \
                                                                  (double *)&_out); _out; })
#define TV_FORWARD forward_avx2
#define TV_REVERSE reverse_avx2
#define TV_FORWARD_MODE tangent_avx2
#define TV_FORWARD_MODE_DIRECTIONS tangents_avx2
#define TV_FORWARD_MODE_BODY tangent_body_avx2
#define TV_TARGET TV_AVX2
#define VMATH1(fn, x) TV_T1(4, fn, x)
#define VMATH2(fn, x, y) TV_T2(4, fn, x, y)
#define TV_LANE_FUNCTION(name) static TV_TARGET void tv_lane_##name##_avx2(const double *px, double *py)
#include "generated/lane_functions.h"
#undef TV_LANE_FUNCTION
TV_LANE_FUNCTIONS(TV_LANE_REGISTER_FORM_avx2)
#define LANEFN(name, x) ({ v8d _li = (x), _lo; tv_lane_##name##_avx2((const double *)&_li, (double *)&_lo); _lo; })
#include "sweep_template.h"
#undef LANEFN
#undef TV_FORWARD
#undef TV_REVERSE
#undef TV_FORWARD_MODE
#undef TV_FORWARD_MODE_DIRECTIONS
#undef TV_FORWARD_MODE_BODY
#undef TV_TARGET
#undef VMATH1
#undef VMATH2

// ---- AVX-512 path: SLEEF's AVX-512F 8-lane functions, one per block, through the trampolines.
#define TV_FORWARD forward_avx512
#define TV_REVERSE reverse_avx512
#define TV_FORWARD_MODE tangent_avx512
#define TV_FORWARD_MODE_DIRECTIONS tangents_avx512
#define TV_FORWARD_MODE_BODY tangent_body_avx512
#define TV_TARGET TV_AVX512
#define VMATH1(fn, x) TV_T1(8, fn, x)
#define VMATH2(fn, x, y) TV_T2(8, fn, x, y)
#define TV_LANE_FUNCTION(name) static TV_TARGET void tv_lane_##name##_avx512(const double *px, double *py)
#include "generated/lane_functions.h"
#undef TV_LANE_FUNCTION
TV_LANE_FUNCTIONS(TV_LANE_REGISTER_FORM_avx512)
#define LANEFN(name, x) ({ v8d _li = (x), _lo; tv_lane_##name##_avx512((const double *)&_li, (double *)&_lo); _lo; })
#include "sweep_template.h"
#undef LANEFN
#undef VMATH1
#undef VMATH2

int tv_isa_supported(int isa) {
    __builtin_cpu_init();
    switch (isa) {
    case TV_ISA_SWIFT: return 1;
    case TV_ISA_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case TV_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("fma");
    default: return 0;
    }
}
#else
int tv_isa_supported(int isa) { return isa == TV_ISA_SWIFT; }
#endif

int tv_isa_best(void) {
    if (tv_isa_supported(TV_ISA_AVX512)) return TV_ISA_AVX512;
    if (tv_isa_supported(TV_ISA_AVX2)) return TV_ISA_AVX2;
    return TV_ISA_SWIFT;
}

/// Whether this CPU runs `isa` (cached): the last guard against an illegal instruction (the
/// Swift side already resolves unsupported requests).
static int tv_checked(int isa) {
    static int supported[3] = {-1, -1, -1};
    if (isa < 0 || isa > 2) return 0;
    int s = __atomic_load_n(&supported[isa], __ATOMIC_RELAXED);
    if (s < 0) {
        s = tv_isa_supported(isa);
        __atomic_store_n(&supported[isa], s, __ATOMIC_RELAXED);
    }
    return s;
}

int tv_forward(int isa, const tv_instr *code, long count, double *const *values, long tile) {
    if (!tv_checked(isa)) return -1;
    switch (isa) {
#if defined(__x86_64__) && defined(__linux__)
    case TV_ISA_AVX512: forward_avx512(code, count, values, tile); return 0;
    case TV_ISA_AVX2: forward_avx2(code, count, values, tile); return 0;
#endif
    default: return -1;
    }
}

int tv_tangent(int isa, const tv_instr *code, long count, double *const *values, double *const *tangents, long tile,
               long directions) {
    if (!tv_checked(isa) || directions < 1) return -1;
    switch (isa) {
#if defined(__x86_64__) && defined(__linux__)
    case TV_ISA_AVX512:
        if (directions == 1) tangent_avx512(code, count, values, tangents, tile);
        else tangents_avx512(code, count, values, tangents, tile, directions);
        return 0;
    case TV_ISA_AVX2:
        if (directions == 1) tangent_avx2(code, count, values, tangents, tile);
        else tangents_avx2(code, count, values, tangents, tile, directions);
        return 0;
#endif
    default: return -1;
    }
}

int tv_reverse(int isa, const tv_rinstr *code, long count, double *const *values, double *const *adjoints, long tile) {
    if (!tv_checked(isa)) return -1;
    switch (isa) {
#if defined(__x86_64__) && defined(__linux__)
    case TV_ISA_AVX512: reverse_avx512(code, count, values, adjoints, tile); return 0;
    case TV_ISA_AVX2: reverse_avx2(code, count, values, adjoints, tile); return 0;
#endif
    default: return -1;
    }
}

// ---- Lane functions for the Swift interpreter (tv_lanes, tapevm_kernels.h): 8 lanes in four
// 2-lane registers, the result stored to memory, at the widest SLEEF width this CPU has
// (AVX-512: one d8 call; AVX2: two d4 calls; else four d2 calls), resolved once into the table.
#define TV_LANE_D2_1(name, acc) static void tv_lane_##name##_d2(v2d x0, v2d x1, v2d x2, v2d x3, double *out) { \
    st(out, TV_BASE1(name, acc, TV_JOIN(x0, x1, x2, x3))); }
#define TV_LANE_D2_2(name, acc) static void tv_lane_##name##_d2(v2d x0, v2d x1, v2d x2, v2d x3, \
                                                            v2d y0, v2d y1, v2d y2, v2d y3, double *out) { \
    st(out, TV_BASE2(name, acc, TV_JOIN(x0, x1, x2, x3), TV_JOIN(y0, y1, y2, y3))); }
TV_SLEEF_UNARY(TV_LANE_D2_1)
TV_SLEEF_BINARY(TV_LANE_D2_2)

// The memory-to-memory forms (tv_lane_<name>), through the table.
#define TV_LANE_MEM1(name, acc) void tv_lane_##name(const void *x, void *y) { \
    const v8d _x = ld((const double *)x); \
    tv_lane8_##name(TV_HALF(_x, 0), TV_HALF(_x, 2), TV_HALF(_x, 4), TV_HALF(_x, 6), (double *)y); }
#define TV_LANE_MEM2(name, acc) void tv_lane_##name(const void *x, const void *y, void *z) { \
    const v8d _x = ld((const double *)x), _y = ld((const double *)y); \
    tv_lane8_##name(TV_HALF(_x, 0), TV_HALF(_x, 2), TV_HALF(_x, 4), TV_HALF(_x, 6), \
                    TV_HALF(_y, 0), TV_HALF(_y, 2), TV_HALF(_y, 4), TV_HALF(_y, 6), (double *)z); }
#define TV_LANE_MEM(name) TV_LANE_MEM1(name, )
TV_SLEEF_UNARY(TV_LANE_MEM1)
TV_SLEEF_BINARY(TV_LANE_MEM2)
TV_LANE_FUNCTIONS(TV_LANE_MEM)

// ---- Lane math functions that Lane defines through other operations (tanh, sigmoid), printed
// from that one Swift definition into generated/lane_functions.h and compiled here per code path,
// so the Swift interpreter runs them at the widest vector width, as it runs SLEEF's functions.
// The baseline form reaches SLEEF through the lane functions above.
#define VMATH1(fn, x) ({ v8d _in = (x), _out; tv_lane_##fn(&_in, &_out); _out; })
#define TV_LANE_FUNCTION(name) static void tv_lane_##name##_base(const double *px, double *py)
#include "generated/lane_functions.h"
#undef TV_LANE_FUNCTION
#undef VMATH1
#undef TV_TARGET
#define TV_TARGET
TV_LANE_FUNCTIONS(TV_LANE_REGISTER_FORM_base)
#undef TV_TARGET

// ---- The table: stubs that resolve it at the first call of any entry, then call the entry.
static void tv_lanes_resolve(void);
#define TV_LANE_FIRST1(name, acc) static void tv_lane_first_##name(v2d x0, v2d x1, v2d x2, v2d x3, double *out) { \
    tv_lanes_resolve(); tv_lane8_##name(x0, x1, x2, x3, out); }
#define TV_LANE_FIRST2(name, acc) static void tv_lane_first_##name(v2d x0, v2d x1, v2d x2, v2d x3, \
                                                               v2d y0, v2d y1, v2d y2, v2d y3, double *out) { \
    tv_lanes_resolve(); tv_lane8_##name(x0, x1, x2, x3, y0, y1, y2, y3, out); }
#define TV_LANE_FIRST(name) TV_LANE_FIRST1(name, )
TV_SLEEF_UNARY(TV_LANE_FIRST1)
TV_SLEEF_BINARY(TV_LANE_FIRST2)
TV_LANE_FUNCTIONS(TV_LANE_FIRST)

#define TV_LANE_INIT2(name, acc) .name = tv_lane_first_##name,
#define TV_LANE_INIT(name) TV_LANE_INIT2(name, )
tv_lane_table tv_lanes = { TV_SLEEF_UNARY(TV_LANE_INIT2) TV_SLEEF_BINARY(TV_LANE_INIT2) TV_LANE_FUNCTIONS(TV_LANE_INIT) };

static void tv_lanes_fill(int isa);
static void tv_lanes_resolve(void) { tv_lanes_fill(tv_isa_best()); }

int tv_lanes_select(int isa) {
    if (!tv_isa_supported(isa)) return -1;
    tv_lanes_fill(isa);
    return 0;
}

static void tv_lanes_fill(int isa) {
    const int portable = tv_math_portable();
    (void)isa; (void)portable;
#if defined(__x86_64__) && defined(__linux__)
#define TV_PICK2(name, acc) isa == TV_ISA_AVX512 ? (portable ? tv_sleef8pr_##name : tv_sleef8r_##name) \
    : isa == TV_ISA_AVX2 ? (portable ? tv_sleef4pr_##name : tv_sleef4r_##name) : tv_lane_##name##_d2
#define TV_PICK(name) isa == TV_ISA_AVX512 ? tv_lane_##name##_avx512_r \
    : isa == TV_ISA_AVX2 ? tv_lane_##name##_avx2_r : tv_lane_##name##_base_r
#else
#define TV_PICK2(name, acc) tv_lane_##name##_d2
#define TV_PICK(name) tv_lane_##name##_base_r
#endif
#define TV_LANE_SET2(name, acc) __atomic_store_n(&tv_lanes.name, TV_PICK2(name, acc), __ATOMIC_RELAXED);
#define TV_LANE_SET(name) __atomic_store_n(&tv_lanes.name, TV_PICK(name), __ATOMIC_RELAXED);
    TV_SLEEF_UNARY(TV_LANE_SET2)
    TV_SLEEF_BINARY(TV_LANE_SET2)
    TV_LANE_FUNCTIONS(TV_LANE_SET)
}

void tv_accumulate_lanes(const double *plane, long n, double *acc) {
    v8d sum = ld(acc);
    long i = 0;
    for (; i + 8 <= n; i += 8) sum = sum + ld(plane + i);
    st(acc, sum);
    for (; i < n; ++i) acc[i % 8] += plane[i];
}

static const char *const tv_names[TV_OPCODE_COUNT] = { TV_OPCODE_NAMES };

const char *tv_opcode_name(int op) { return op >= 0 && op < TV_OPCODE_COUNT ? tv_names[op] : NULL; }
