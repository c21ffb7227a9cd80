#include "bench_kernels.h"

#if defined(__x86_64__) && defined(__linux__)
#include <immintrin.h>
#include <string.h>

#define TB_TARGET __attribute__((target("avx512f,avx512dq,fma")))
#define TB_INLINE static inline __attribute__((always_inline)) TB_TARGET

extern void tb_sleef8_exp(const double *x, double *out);
extern void tb_sleef8_tanh(const double *x, double *out);

int tb_avx512_supported(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("fma");
}

TB_INLINE __m512d exp8(__m512d x) {
    double a[8] __attribute__((aligned(64)));
    _mm512_store_pd(a, x);
    tb_sleef8_exp(a, a);
    return _mm512_load_pd(a);
}

TB_INLINE __m512d tanh8(__m512d x) {
    double a[8] __attribute__((aligned(64)));
    _mm512_store_pd(a, x);
    tb_sleef8_tanh(a, a);
    return _mm512_load_pd(a);
}

TB_INLINE __m512d sigmoid8(__m512d x) {
    const __m512d one = _mm512_set1_pd(1.0);
    return _mm512_div_pd(one, _mm512_add_pd(one, exp8(_mm512_sub_pd(_mm512_setzero_pd(), x))));
}

/// Points [i, i+8) when whole; the tail is padded through local buffers and masked.
#define TB_MASK(i, n) ((__mmask8)((n) - (i) >= 8 ? 0xFF : ((1u << ((n) - (i))) - 1)))

TB_INLINE __m512d load(const double *p, long i, __mmask8 m) { return _mm512_maskz_loadu_pd(m, p + i); }
TB_INLINE void store(double *p, long i, __mmask8 m, __m512d v) { _mm512_mask_storeu_pd(p + i, m, v); }

TB_TARGET static void staged512(long n, const double *x, const double *y, double *f, double *gx, double *gy) {
    const __m512d one = _mm512_set1_pd(1.0), two = _mm512_set1_pd(2.0);
    for (long i = 0; i < n; i += 8) {
        __mmask8 m = TB_MASK(i, n);
        __m512d xv = load(x, i, m), yv = load(y, i, m);
        __m512d sy = sigmoid8(yv), sx = sigmoid8(xv);
        __m512d s = _mm512_add_pd(xv, yv);
        __m512d num = _mm512_add_pd(xv, sy), den = _mm512_fmadd_pd(s, s, sx);
        __m512d fv = _mm512_div_pd(num, den);
        __m512d gNum = _mm512_div_pd(one, den);
        __m512d gDen = _mm512_sub_pd(_mm512_setzero_pd(), _mm512_mul_pd(fv, gNum));
        __m512d gS = _mm512_mul_pd(gDen, _mm512_mul_pd(two, s));
        __m512d dsx = _mm512_mul_pd(sx, _mm512_sub_pd(one, sx)), dsy = _mm512_mul_pd(sy, _mm512_sub_pd(one, sy));
        store(f, i, m, fv);
        store(gx, i, m, _mm512_add_pd(_mm512_fmadd_pd(gDen, dsx, gNum), gS));
        store(gy, i, m, _mm512_fmadd_pd(gNum, dsy, gS));
    }
}

int tb_staged(long n, const double *x, const double *y, double *f, double *gx, double *gy) {
    if (!tb_avx512_supported()) return 0;
    staged512(n, x, y, f, gx, gy);
    return 1;
}

TB_TARGET static void neuron512(long n, const double *x0, const double *x1, const double *w,
                                double *f, double *g0, double *g1, double *gw) {
    const __m512d one = _mm512_set1_pd(1.0);
    const __m512d w0 = _mm512_set1_pd(w[0]), w1 = _mm512_set1_pd(w[1]), w2 = _mm512_set1_pd(w[2]);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd(), s2 = _mm512_setzero_pd();
    for (long i = 0; i < n; i += 8) {
        __mmask8 m = TB_MASK(i, n);
        __m512d a = load(x0, i, m), b = load(x1, i, m);
        __m512d fv = sigmoid8(_mm512_fmadd_pd(w0, a, _mm512_fmadd_pd(w1, b, w2)));
        __m512d gz = _mm512_maskz_mov_pd(m, _mm512_mul_pd(fv, _mm512_sub_pd(one, fv)));
        store(f, i, m, fv);
        store(g0, i, m, _mm512_mul_pd(gz, w0));
        store(g1, i, m, _mm512_mul_pd(gz, w1));
        s0 = _mm512_fmadd_pd(gz, a, s0);
        s1 = _mm512_fmadd_pd(gz, b, s1);
        s2 = _mm512_add_pd(gz, s2);
    }
    gw[0] = _mm512_reduce_add_pd(s0);
    gw[1] = _mm512_reduce_add_pd(s1);
    gw[2] = _mm512_reduce_add_pd(s2);
}

int tb_neuron(long n, const double *x0, const double *x1, const double *w,
              double *f, double *g0, double *g1, double *gw) {
    if (!tb_avx512_supported()) return 0;
    neuron512(n, x0, x1, w, f, g0, g1, gw);
    return 1;
}

TB_TARGET static void rosenbrock512(long n, const double *const *x, double *f, double *const *g) {
    const __m512d one = _mm512_set1_pd(1.0), hundred = _mm512_set1_pd(100.0);
    const __m512d m400 = _mm512_set1_pd(-400.0), m2 = _mm512_set1_pd(-2.0), c200 = _mm512_set1_pd(200.0);
    for (long i = 0; i < n; i += 8) {
        __mmask8 m = TB_MASK(i, n);
        __m512d a = load(x[0], i, m);
        __m512d fv = _mm512_setzero_pd(), gPrev = _mm512_setzero_pd();
        for (int k = 0; k < 7; k++) {
            __m512d b = load(x[k + 1], i, m);
            __m512d t = _mm512_fnmadd_pd(a, a, b);          // b - a²
            __m512d u = _mm512_sub_pd(one, a);
            fv = _mm512_add_pd(fv, _mm512_fmadd_pd(hundred, _mm512_mul_pd(t, t), _mm512_mul_pd(u, u)));
            // d/da = -400·t·a - 2u (+ 200·t_prev from the previous term)
            __m512d ga = _mm512_fmadd_pd(_mm512_mul_pd(m400, t), a, _mm512_fmadd_pd(m2, u, gPrev));
            store(g[k], i, m, ga);
            gPrev = _mm512_mul_pd(c200, t);
            a = b;
        }
        store(g[7], i, m, gPrev);
        store(f, i, m, fv);
    }
}

int tb_rosenbrock(long n, const double *const *x, double *f, double *const *g) {
    if (!tb_avx512_supported()) return 0;
    rosenbrock512(n, x, f, g);
    return 1;
}

TB_TARGET static void mlp512(long n, const double *const *x, const double *p, double *f, double *const *g, double *gp) {
    enum { H = 16, P = 6 * H + 1 };
    const double *W1 = p, *b1 = p + 4 * H, *W2 = p + 5 * H;
    const __m512d one = _mm512_set1_pd(1.0);
    __m512d acc[P];                                   // per-lane parameter gradient sums
    for (int k = 0; k < P; k++) acc[k] = _mm512_setzero_pd();
    for (long i = 0; i < n; i += 8) {
        __mmask8 m = TB_MASK(i, n);
        __m512d xv[4] = { load(x[0], i, m), load(x[1], i, m), load(x[2], i, m), load(x[3], i, m) };
        __m512d h[H];
        __m512d out = _mm512_set1_pd(p[6 * H]);
        for (int j = 0; j < H; j++) {
            __m512d a = _mm512_set1_pd(b1[j]);
            for (int k = 0; k < 4; k++) a = _mm512_fmadd_pd(_mm512_set1_pd(W1[4 * j + k]), xv[k], a);
            h[j] = tanh8(a);
            out = _mm512_fmadd_pd(_mm512_set1_pd(W2[j]), h[j], out);
        }
        __m512d fv = sigmoid8(out);
        store(f, i, m, fv);
        __m512d gOut = _mm512_maskz_mov_pd(m, _mm512_mul_pd(fv, _mm512_sub_pd(one, fv)));
        acc[6 * H] = _mm512_add_pd(acc[6 * H], gOut);
        __m512d d[4] = { _mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd() };
        for (int j = 0; j < H; j++) {
            acc[5 * H + j] = _mm512_fmadd_pd(gOut, h[j], acc[5 * H + j]);
            __m512d ga = _mm512_mul_pd(_mm512_mul_pd(gOut, _mm512_set1_pd(W2[j])),
                                       _mm512_fnmadd_pd(h[j], h[j], one));
            acc[4 * H + j] = _mm512_add_pd(acc[4 * H + j], ga);
            for (int k = 0; k < 4; k++) {
                acc[4 * j + k] = _mm512_fmadd_pd(ga, xv[k], acc[4 * j + k]);
                d[k] = _mm512_fmadd_pd(ga, _mm512_set1_pd(W1[4 * j + k]), d[k]);
            }
        }
        for (int k = 0; k < 4; k++) store(g[k], i, m, d[k]);
    }
    for (int k = 0; k < P; k++) gp[k] = _mm512_reduce_add_pd(acc[k]);
}

int tb_mlp(long n, const double *const *x, const double *p, double *f, double *const *g, double *gp) {
    if (!tb_avx512_supported()) return 0;
    mlp512(n, x, p, f, g, gp);
    return 1;
}

// Values alone and values + one JVP along a per-point direction, for the floor of a JVP's cost
// relative to a values sweep (tapevm-bench --second-order): what straight-line, register-allocated
// code pays for reading a direction column per input and computing a tangent beside each value.
TB_TARGET static void rosenbrockValues512(long n, const double *const *x, double *f) {
    const __m512d one = _mm512_set1_pd(1.0), hundred = _mm512_set1_pd(100.0);
    for (long i = 0; i < n; i += 8) {
        __mmask8 m = TB_MASK(i, n);
        __m512d a = load(x[0], i, m), fv = _mm512_setzero_pd();
        for (int k = 0; k < 7; k++) {
            __m512d b = load(x[k + 1], i, m);
            __m512d t = _mm512_fnmadd_pd(a, a, b), u = _mm512_sub_pd(one, a);
            fv = _mm512_add_pd(fv, _mm512_fmadd_pd(hundred, _mm512_mul_pd(t, t), _mm512_mul_pd(u, u)));
            a = b;
        }
        store(f, i, m, fv);
    }
}

TB_TARGET static void rosenbrockJVP512(long n, const double *const *x, const double *const *v, double *f, double *df) {
    const __m512d one = _mm512_set1_pd(1.0), hundred = _mm512_set1_pd(100.0);
    const __m512d two = _mm512_set1_pd(2.0), c200 = _mm512_set1_pd(200.0);
    for (long i = 0; i < n; i += 8) {
        __mmask8 m = TB_MASK(i, n);
        __m512d a = load(x[0], i, m), da = load(v[0], i, m), fv = _mm512_setzero_pd(), dfv = _mm512_setzero_pd();
        for (int k = 0; k < 7; k++) {
            __m512d b = load(x[k + 1], i, m), db = load(v[k + 1], i, m);
            __m512d t = _mm512_fnmadd_pd(a, a, b), u = _mm512_sub_pd(one, a);
            __m512d dt = _mm512_fnmadd_pd(_mm512_mul_pd(two, a), da, db);   // db - 2a·da
            fv = _mm512_add_pd(fv, _mm512_fmadd_pd(hundred, _mm512_mul_pd(t, t), _mm512_mul_pd(u, u)));
            // d(100t² + u²) = 200t·dt + 2u·du, du = -da
            dfv = _mm512_add_pd(dfv, _mm512_fmsub_pd(_mm512_mul_pd(c200, t), dt, _mm512_mul_pd(_mm512_mul_pd(two, u), da)));
            a = b;
            da = db;
        }
        store(f, i, m, fv);
        store(df, i, m, dfv);
    }
}

TB_TARGET static void circuitValues512(long n, const double *const *x, double *f) {
    for (long i = 0; i < n; i += 8) {
        __mmask8 m = TB_MASK(i, n);
        store(f, i, m, _mm512_mul_pd(_mm512_add_pd(load(x[0], i, m), load(x[1], i, m)), load(x[2], i, m)));
    }
}

TB_TARGET static void circuitJVP512(long n, const double *const *x, const double *const *v, double *f, double *df) {
    for (long i = 0; i < n; i += 8) {
        __mmask8 m = TB_MASK(i, n);
        __m512d s = _mm512_add_pd(load(x[0], i, m), load(x[1], i, m)), z = load(x[2], i, m);
        __m512d ds = _mm512_add_pd(load(v[0], i, m), load(v[1], i, m)), dz = load(v[2], i, m);
        store(f, i, m, _mm512_mul_pd(s, z));
        store(df, i, m, _mm512_fmadd_pd(ds, z, _mm512_mul_pd(s, dz)));
    }
}

int tb_values_jvp(int kernel, long n, const double *const *x, const double *const *v, double *f, double *df) {
    if (!tb_avx512_supported()) return 0;
    switch (kernel) {
    case 0: if (v) rosenbrockJVP512(n, x, v, f, df); else rosenbrockValues512(n, x, f); return 1;
    case 1: if (v) circuitJVP512(n, x, v, f, df); else circuitValues512(n, x, f); return 1;
    default: return 0;
    }
}

#else
int tb_avx512_supported(void) { return 0; }
int tb_staged(long n, const double *x, const double *y, double *f, double *gx, double *gy) {
    (void)n; (void)x; (void)y; (void)f; (void)gx; (void)gy; return 0;
}
int tb_neuron(long n, const double *x0, const double *x1, const double *w,
              double *f, double *g0, double *g1, double *gw) {
    (void)n; (void)x0; (void)x1; (void)w; (void)f; (void)g0; (void)g1; (void)gw; return 0;
}
int tb_rosenbrock(long n, const double *const *x, double *f, double *const *g) {
    (void)n; (void)x; (void)f; (void)g; return 0;
}
int tb_mlp(long n, const double *const *x, const double *p, double *f, double *const *g, double *gp) {
    (void)n; (void)x; (void)p; (void)f; (void)g; (void)gp; return 0;
}
int tb_values_jvp(int kernel, long n, const double *const *x, const double *const *v, double *f, double *df) {
    (void)kernel; (void)n; (void)x; (void)v; (void)f; (void)df; return 0;
}
#endif
