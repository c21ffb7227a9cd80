#ifndef TAPEVM_GRID_STATISTICS_H
#define TAPEVM_GRID_STATISTICS_H

#include <stddef.h>

/// What `tapevm grid` prints per column: the smallest, largest and sum of the finite values,
/// and the counts of finite, NaN and infinite values.
typedef struct {
    double minimum;
    double maximum;
    double sum;
    long finite;
    long nan;
    long infinite;
} tvg_summary;

/// Summarizes `n` values into `*out` (overwritten). The sum is taken in a fixed order (16
/// running sums, then the tail), so the bits do not depend on the CPU path; a vector pass when
/// every value is finite, a scalar one counting NaN and infinities otherwise.
void tvg_summarize(const double *values, long n, tvg_summary *out);

/// The largest finite `sqrt(Σⱼ columns[j][i]²)` over points `i < n` (0 when none is finite).
double tvg_largest_finite_norm(const double *const *columns, long column_count, long n);

#endif
