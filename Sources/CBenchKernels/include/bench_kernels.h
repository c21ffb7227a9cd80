// Hand-written AVX-512 value + gradient kernels for tapevm-bench: the "best case" a person
// writes in C for one fixed function, with SLEEF's 8-lane exp and tanh.
//
// Each function computes, for n points given as columns, the value and the gradient with
// respect to every input (and, where the case has parameters, the gradient summed over the
// points). It returns 1, or 0 without touching anything when the CPU lacks AVX-512F/DQ + FMA.
#ifndef TAPEVM_BENCH_KERNELS_H
#define TAPEVM_BENCH_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU can run the kernels below.
int tb_avx512_supported(void);

/// f = (x + sigmoid(y)) / (sigmoid(x) + (x+y)^2).
int tb_staged(long n, const double *x, const double *y, double *f, double *gx, double *gy);

/// f = sigmoid(w0*x0 + w1*x1 + w2); gw[3] receives the gradient summed over the points.
int tb_neuron(long n, const double *x0, const double *x1, const double *w,
              double *f, double *g0, double *g1, double *gw);

/// f = Σ_{i<7} 100(x[i+1] - x[i]²)² + (1 - x[i])²; x and g are 8 columns.
int tb_rosenbrock(long n, const double *const *x, double *f, double *const *g);

/// f = sigmoid(b2 + W2·tanh(W1·x + b1)), 4-16-1; p holds W1 (16×4 row-major), b1, W2, b2
/// (97 values); gp[97] receives the parameter gradient summed over the points.
int tb_mlp(long n, const double *const *x, const double *p, double *f, double *const *g, double *gp);

/// Values only (v == NULL: f) or values and the JVP along per-point directions v (f and df), of
/// kernel 0: Rosenbrock-8 (x, v: 8 columns) or 1: the seed circuit (x + y)·z (3 columns).
int tb_values_jvp(int kernel, long n, const double *const *x, const double *const *v, double *f, double *df);

#ifdef __cplusplus
}
#endif
#endif
