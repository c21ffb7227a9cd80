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

// A global, hidden function's head.
.macro FUNCTION name
        .globl \name
        .hidden \name
        .type \name, @function
        .p2align 4
\name:
.endm

.macro UNARY8 name, fn
        FUNCTION \name
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
        FUNCTION \name
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
        FUNCTION \name
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
        FUNCTION \name
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

// Register forms for the Swift interpreter's lane table (tv_lanes in tapevm_kernels.h): the 8
// lanes of x (and y) arrive as four 2-lane vectors in xmm0-3 (and xmm4-7), are joined here, and
// the result is stored to out (rdi).
//
//   tv_sleef8r_<f>(x0, x1, x2, x3, double *out)                  one AVX-512 call
//   tv_sleef8r_<f>(x0, ..., x3, y0, ..., y3, double *out)        two-argument form
//   tv_sleef4r_<f>(...)                                          two AVX2 calls
//   tv_sleef8pr_<f>, tv_sleef4pr_<f>                             the same, portable mode

// zmm<out> = the 2-lane vectors xmm<a>, xmm<b>, xmm<c>, xmm<d> joined (ymm<a>, ymm<c> used).
.macro JOIN8 a, b, c, d, out
        vinsertf128 $1, %xmm\b, %ymm\a, %ymm\a
        vinsertf128 $1, %xmm\d, %ymm\c, %ymm\c
        vinsertf64x4 $1, %ymm\c, %zmm\a, %zmm\out
.endm

// The head and tail of a register form: rbx = out, and `frame` bytes of stack (a multiple of
// 16: rsp is 16-byte aligned at the calls).
.macro ENTER_R name, frame
        FUNCTION \name
        push %rbx
.if \frame
        sub $\frame, %rsp
.endif
        mov %rdi, %rbx
.endm

.macro LEAVE_R name, frame
.if \frame
        add $\frame, %rsp
.endif
        pop %rbx
        vzeroupper
        ret
        .size \name, . - \name
.endm

// One AVX-512 call, its result stored.
.macro CALL8R fn
        call \fn@PLT
        vmovupd %zmm0, (%rbx)
.endm

.macro UNARY8R name, fn
        ENTER_R \name, 0
        JOIN8 0, 1, 2, 3, 0
        CALL8R \fn
        LEAVE_R \name, 0
.endm

.macro BINARY8R name, fn
        ENTER_R \name, 0
        JOIN8 0, 1, 2, 3, 0
        JOIN8 4, 5, 6, 7, 1
        CALL8R \fn
        LEAVE_R \name, 0
.endm

// Two AVX2 calls: lanes 4-7 wait on the stack across the first.
.macro UNARY4R name, fn
        ENTER_R \name, 32
        vinsertf128 $1, %xmm3, %ymm2, %ymm2
        vmovupd %ymm2, (%rsp)
        vinsertf128 $1, %xmm1, %ymm0, %ymm0
        call \fn@PLT
        vmovupd %ymm0, (%rbx)
        vmovupd (%rsp), %ymm0
        call \fn@PLT
        vmovupd %ymm0, 32(%rbx)
        LEAVE_R \name, 32
.endm

.macro BINARY4R name, fn
        ENTER_R \name, 64
        vinsertf128 $1, %xmm3, %ymm2, %ymm2
        vmovupd %ymm2, (%rsp)
        vinsertf128 $1, %xmm7, %ymm6, %ymm6
        vmovupd %ymm6, 32(%rsp)
        vinsertf128 $1, %xmm1, %ymm0, %ymm0
        vinsertf128 $1, %xmm5, %ymm4, %ymm1
        call \fn@PLT
        vmovupd %ymm0, (%rbx)
        vmovupd (%rsp), %ymm0
        vmovupd 32(%rsp), %ymm1
        call \fn@PLT
        vmovupd %ymm0, 32(%rbx)
        LEAVE_R \name, 64
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
#define TV_U8R(name, acc) UNARY8R tv_sleef8r_##name, Sleef_##name##d8##acc##avx512f ;
#define TV_U4R(name, acc) UNARY4R tv_sleef4r_##name, Sleef_##name##d4##acc##avx2 ;
#define TV_B8R(name, acc) BINARY8R tv_sleef8r_##name, Sleef_##name##d8##acc##avx512f ;
#define TV_B4R(name, acc) BINARY4R tv_sleef4r_##name, Sleef_##name##d4##acc##avx2 ;
        TV_SLEEF_UNARY(TV_U8R)
        TV_SLEEF_UNARY(TV_U4R)
        TV_SLEEF_BINARY(TV_B8R)
        TV_SLEEF_BINARY(TV_B4R)
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
#define TV_U8PR(name, acc) UNARY8R tv_sleef8pr_##name, Sleef_cinz_##name##d8##acc##avx512fnofma ;
#define TV_U4PR(name, acc) UNARY4R tv_sleef4pr_##name, Sleef_cinz_##name##d4##acc##avx ;
#define TV_B8PR(name, acc) BINARY8R tv_sleef8pr_##name, Sleef_cinz_##name##d8##acc##avx512fnofma ;
#define TV_B4PR(name, acc) BINARY4R tv_sleef4pr_##name, Sleef_cinz_##name##d4##acc##avx ;
        TV_SLEEF_UNARY(TV_U8PR)
        TV_SLEEF_UNARY(TV_U4PR)
        TV_SLEEF_BINARY(TV_B8PR)
        TV_SLEEF_BINARY(TV_B4PR)
#endif

#if defined(__linux__) && defined(__ELF__)
        .section .note.GNU-stack, "", @progbits
#endif
