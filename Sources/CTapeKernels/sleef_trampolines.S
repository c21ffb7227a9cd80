// Trampolines from the kernels to SLEEF's AVX2 and AVX-512 functions.
//
// clang lowers calls by the translation unit's target, not the calling function's target
// attribute: a 256- or 512-bit vector passed by value from kernels.c (built with no CPU flags)
// goes through memory, while SLEEF expects it in ymm0/zmm0 and ymm1/zmm1. These routines take
// pointers instead and load the registers themselves, following the SysV x86-64 ABI.
//
//   tv_sleef8_<f>(const double *x, double *out)                  one AVX-512 call, 8 lanes
//   tv_sleef8_<f>2(const double *x, const double *y, double *out) two-argument form
//   tv_sleef4_<f>(const double *x, double *out)                  two AVX2 calls, 8 lanes
//   tv_sleef4_<f>2(const double *x, const double *y, double *out)
//   tv_sleef8p_<f>, tv_sleef4p_<f>(2)                            the same, portable mode
#include "tapevm_sleef_functions.h"

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

.macro BINARY8 name, fn
        .globl \name
        .hidden \name
        .type \name, @function
        .p2align 4
\name:
        push %rbx
        mov %rdx, %rbx
        vmovupd (%rdi), %zmm0
        vmovupd (%rsi), %zmm1
        call \fn@PLT
        vmovupd %zmm0, (%rbx)
        pop %rbx
        vzeroupper
        ret
        .size \name, . - \name
.endm

.macro UNARY4 name, fn
        .globl \name
        .hidden \name
        .type \name, @function
        .p2align 4
\name:
        push %rbx
        push %r12
        sub $8, %rsp                    // 16-byte alignment at the calls
        mov %rdi, %rbx
        mov %rsi, %r12
        vmovupd (%rbx), %ymm0
        call \fn@PLT
        vmovupd %ymm0, (%r12)
        vmovupd 32(%rbx), %ymm0
        call \fn@PLT
        vmovupd %ymm0, 32(%r12)
        add $8, %rsp
        pop %r12
        pop %rbx
        vzeroupper
        ret
        .size \name, . - \name
.endm

.macro BINARY4 name, fn
        .globl \name
        .hidden \name
        .type \name, @function
        .p2align 4
\name:
        push %rbx
        push %r12
        push %r13                       // three pushes: 16-byte alignment at the calls
        mov %rdi, %rbx
        mov %rsi, %r12
        mov %rdx, %r13
        vmovupd (%rbx), %ymm0
        vmovupd (%r12), %ymm1
        call \fn@PLT
        vmovupd %ymm0, (%r13)
        vmovupd 32(%rbx), %ymm0
        vmovupd 32(%r12), %ymm1
        call \fn@PLT
        vmovupd %ymm0, 32(%r13)
        pop %r13
        pop %r12
        pop %rbx
        vzeroupper
        ret
        .size \name, . - \name
.endm

// One trampoline per SLEEF function and width, from the list in sleef_functions.h.
#define TV_U8(name, acc) UNARY8 tv_sleef8_##name, Sleef_##name##d8##acc##avx512f ;
#define TV_U4(name, acc) UNARY4 tv_sleef4_##name, Sleef_##name##d4##acc##avx2 ;
#define TV_B8(name, acc) BINARY8 tv_sleef8_##name##2, Sleef_##name##d8##acc##avx512f ;
#define TV_B4(name, acc) BINARY4 tv_sleef4_##name##2, Sleef_##name##d4##acc##avx2 ;
        TV_SLEEF_UNARY(TV_U8)
        TV_SLEEF_UNARY(TV_U4)
        TV_SLEEF_BINARY(TV_B8)
        TV_SLEEF_BINARY(TV_B4)
// Portable mode (tv_math_portable): SLEEF's deterministic routines without FMA, whose bits do
// not depend on the CPU: AVX-512F without FMA and AVX (no AVX2 or FMA needed).
#define TV_U8P(name, acc) UNARY8 tv_sleef8p_##name, Sleef_cinz_##name##d8##acc##avx512fnofma ;
#define TV_U4P(name, acc) UNARY4 tv_sleef4p_##name, Sleef_cinz_##name##d4##acc##avx ;
#define TV_B8P(name, acc) BINARY8 tv_sleef8p_##name##2, Sleef_cinz_##name##d8##acc##avx512fnofma ;
#define TV_B4P(name, acc) BINARY4 tv_sleef4p_##name##2, Sleef_cinz_##name##d4##acc##avx ;
        TV_SLEEF_UNARY(TV_U8P)
        TV_SLEEF_UNARY(TV_U4P)
        TV_SLEEF_BINARY(TV_B8P)
        TV_SLEEF_BINARY(TV_B4P)
#endif

#if defined(__linux__) && defined(__ELF__)
        .section .note.GNU-stack, "", @progbits
#endif
