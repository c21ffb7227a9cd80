// The statistics loops of `tapevm grid`: one pass per column over a chunk that the evaluation
// has just written (still in cache). Each loop is compiled twice from one body, for AVX2 (a
// function target attribute, no build flag) and for the baseline, and chosen at run time; both
// take the same operations in the same order, so the results are the same bits.
#include "grid_statistics.h"
#include <math.h>

#define LANES 16

// Min, max and sum of x[0 ..< n - n % LANES] in LANES running lanes; returns the number done.
#define SUMMARIZE_BODY                                                                  \
    double lo[LANES], hi[LANES], s[LANES];                                              \
    for (int k = 0; k < LANES; k++) { lo[k] = INFINITY; hi[k] = -INFINITY; s[k] = 0; }  \
    long i = 0;                                                                         \
    for (; i + LANES <= n; i += LANES) {                                                \
        for (int k = 0; k < LANES; k++) {                                               \
            double v = x[i + k];                                                        \
            s[k] += v;                                                                  \
            lo[k] = v < lo[k] ? v : lo[k];                                              \
            hi[k] = v > hi[k] ? v : hi[k];                                              \
        }                                                                               \
    }                                                                                   \
    double l = INFINITY, h = -INFINITY, t = 0;                                          \
    for (int k = 0; k < LANES; k++) {                                                   \
        t += s[k];                                                                      \
        l = lo[k] < l ? lo[k] : l;                                                      \
        h = hi[k] > h ? hi[k] : h;                                                      \
    }                                                                                   \
    out[0] = l; out[1] = h; out[2] = t;                                                 \
    return i;

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
__attribute__((target("avx2")))
static long lanes_avx2(const double *restrict x, long n, double *restrict out) { SUMMARIZE_BODY }
#define HAVE_AVX2_PATH 1
#endif

static long lanes_base(const double *restrict x, long n, double *restrict out) { SUMMARIZE_BODY }

static long lanes(const double *x, long n, double *out) {
#ifdef HAVE_AVX2_PATH
    if (__builtin_cpu_supports("avx2")) return lanes_avx2(x, n, out);
#endif
    return lanes_base(x, n, out);
}

void tvg_summarize(const double *x, long n, tvg_summary *out) {
    double r[3];
    long i = lanes(x, n, r);
    double lo = r[0], hi = r[1], sum = r[2];
    for (; i < n; i++) {
        double v = x[i];
        sum += v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    if (isfinite(sum)) {
        // Every value is finite: a NaN or an infinity would have made the sum one.
        *out = (tvg_summary){lo, hi, sum, n, 0, 0};
        return;
    }
    tvg_summary s = {INFINITY, -INFINITY, 0, 0, 0, 0};
    for (long k = 0; k < n; k++) {
        double v = x[k];
        if (isfinite(v)) {
            s.minimum = v < s.minimum ? v : s.minimum;
            s.maximum = v > s.maximum ? v : s.maximum;
            s.sum += v;
            s.finite++;
        } else if (isnan(v)) {
            s.nan++;
        } else {
            s.infinite++;
        }
    }
    *out = s;
}

#define NORM_LANES 8

// The largest finite squared norm over points [0, n - n % NORM_LANES); *done gets that count.
#define NORM_BODY                                                                       \
    double top[NORM_LANES];                                                             \
    for (int k = 0; k < NORM_LANES; k++) top[k] = 0;                                    \
    long i = 0;                                                                         \
    for (; i + NORM_LANES <= n; i += NORM_LANES) {                                      \
        double sq[NORM_LANES];                                                          \
        for (int k = 0; k < NORM_LANES; k++) sq[k] = 0;                                 \
        for (long j = 0; j < m; j++) {                                                  \
            const double *c = g[j] + i;                                                 \
            for (int k = 0; k < NORM_LANES; k++) sq[k] += c[k] * c[k];                  \
        }                                                                               \
        for (int k = 0; k < NORM_LANES; k++)                                            \
            top[k] = (sq[k] > top[k] && sq[k] < INFINITY) ? sq[k] : top[k];             \
    }                                                                                   \
    double best = 0;                                                                    \
    for (int k = 0; k < NORM_LANES; k++) best = top[k] > best ? top[k] : best;          \
    *done = i;                                                                          \
    return best;

#ifdef HAVE_AVX2_PATH
__attribute__((target("avx2")))
static double norm_avx2(const double *const *g, long m, long n, long *done) { NORM_BODY }
#endif

static double norm_base(const double *const *g, long m, long n, long *done) { NORM_BODY }

double tvg_largest_finite_norm(const double *const *g, long m, long n) {
    long i;
    double best;
#ifdef HAVE_AVX2_PATH
    best = __builtin_cpu_supports("avx2") ? norm_avx2(g, m, n, &i) : norm_base(g, m, n, &i);
#else
    best = norm_base(g, m, n, &i);
#endif
    for (; i < n; i++) {
        double sq = 0;
        for (long j = 0; j < m; j++) sq += g[j][i] * g[j][i];
        if (sq > best && sq < INFINITY) best = sq;
    }
    return sqrt(best);
}
