// Trampolines to SLEEF's AVX-512 functions for bench_kernels.c, the approach of
// CTapeKernels/sleef_trampolines.S: clang lowers calls by the translation unit's target, not
// the calling function's target attribute, so a __m512d passed by value from a C file built
// without CPU flags would go through memory while SLEEF expects zmm0. These take pointers:
//   tb_sleef8_<f>(const double *x, double *out)   8 lanes, one AVX-512F call.
#if defined(__x86_64__) && defined(__linux__)
        .text

.macro UNARY8 name, fn
        .globl \name
        .hidden \name
        .type \name, @function
        .p2align 4
\name:
        push %rbx                       // rsp is now 16-byte aligned
        mov %rsi, %rbx
        vmovupd (%rdi), %zmm0
        call \fn@PLT
        vmovupd %zmm0, (%rbx)
        pop %rbx
        vzeroupper
        ret
        .size \name, . - \name
.endm

        UNARY8 tb_sleef8_exp, Sleef_expd8_u10avx512f
        UNARY8 tb_sleef8_tanh, Sleef_tanhd8_u10avx512f
#endif

#if defined(__linux__) && defined(__ELF__)
        .section .note.GNU-stack, "", @progbits
#endif
