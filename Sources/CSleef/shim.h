// SLEEF, the vectorized math library (Debian: libsleef-dev).
// TapeVM never calls SLEEF's vector functions from Swift (their AVX-512 forms are only
// visible to Swift built with CPU flags); the C kernels in CTapeKernels do, and this
// system-library target exists to find the header and link -lsleef.
#include <sleef.h>
