// zlib, the deflate library (Debian: zlib1g-dev): TapeVMIO compresses PNG image data with it.
#include <zlib.h>
