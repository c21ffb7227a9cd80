// One switch over a 3-bit flag word, included inside the sweeps of sweep_template.h (no include
// guard): each of the eight combinations becomes three compile-time constants and runs the
// opcode cases of TV_CASES compiled for it, so no block loop tests a flag. The includer defines
//   TV_FLAGS                    the flag word (bit 0: operand a, bit 1: b, bit 2: c)
//   TV_FLAG_A, TV_FLAG_B, TV_FLAG_C  the names the cases read the three flags by
//   TV_CASES                    the generated cases to include, as a string
// and it undefines them again at the end.
switch ((TV_FLAGS) & 7) {
case 0: { enum { TV_FLAG_A = 0, TV_FLAG_B = 0, TV_FLAG_C = 0 }; switch ((tv_opcode)in.op) {
#include TV_CASES
    default: break; } } break;
case 1: { enum { TV_FLAG_A = 1, TV_FLAG_B = 0, TV_FLAG_C = 0 }; switch ((tv_opcode)in.op) {
#include TV_CASES
    default: break; } } break;
case 2: { enum { TV_FLAG_A = 0, TV_FLAG_B = 1, TV_FLAG_C = 0 }; switch ((tv_opcode)in.op) {
#include TV_CASES
    default: break; } } break;
case 3: { enum { TV_FLAG_A = 1, TV_FLAG_B = 1, TV_FLAG_C = 0 }; switch ((tv_opcode)in.op) {
#include TV_CASES
    default: break; } } break;
case 4: { enum { TV_FLAG_A = 0, TV_FLAG_B = 0, TV_FLAG_C = 1 }; switch ((tv_opcode)in.op) {
#include TV_CASES
    default: break; } } break;
case 5: { enum { TV_FLAG_A = 1, TV_FLAG_B = 0, TV_FLAG_C = 1 }; switch ((tv_opcode)in.op) {
#include TV_CASES
    default: break; } } break;
case 6: { enum { TV_FLAG_A = 0, TV_FLAG_B = 1, TV_FLAG_C = 1 }; switch ((tv_opcode)in.op) {
#include TV_CASES
    default: break; } } break;
default: { enum { TV_FLAG_A = 1, TV_FLAG_B = 1, TV_FLAG_C = 1 }; switch ((tv_opcode)in.op) {
#include TV_CASES
    default: break; } } break;
}
#undef TV_FLAGS
#undef TV_FLAG_A
#undef TV_FLAG_B
#undef TV_FLAG_C
#undef TV_CASES
