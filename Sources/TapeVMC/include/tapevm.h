/*
 * tapevm.h — the C ABI of TapeVM (C ABI version 1).
 *
 * Values and exact gradients of a function at many points. A function written in the
 * expression language (or the tape text format) becomes a tape; a program optimizes and plans
 * the tape; runs evaluate it, with gradients, over columns of doubles.
 *
 *     tvm_tape *tape;
 *     if (tvm_tape_from_expression("f(x, y; w) = w * x * y + sin(x)", &tape) != TVM_OK) {
 *         fprintf(stderr, "%s\n", tvm_last_error());
 *         return 1;
 *     }
 *     tvm_program *program;
 *     tvm_program_new(tape, 0, 0, NULL, &program);        // every core, preferred SIMD path
 *     const double *inputs[] = {xs, ys};                   // n doubles each
 *     double w = 0.5, dw, *values[] = {f}, *grads[] = {dfdx, dfdy};
 *     tvm_value_and_gradient(program, n, inputs, 2, &w, 1, 0, values, 1, grads, 2, &dw, NULL, 0);
 *     tvm_program_free(program);
 *     tvm_tape_free(tape);
 *
 * The library is the dynamic product `TapeVMC` of the Swift package (`swift build` makes
 * `.build/debug/libTapeVMC.so`, or `.dylib` on macOS); link it with `-lTapeVMC`, or load it
 * with `dlopen` / Python's ctypes (see python/src/tapevm/_lib.py).
 *
 * Conventions, for every function below:
 *
 * - Status codes. Functions return `int`: TVM_OK (0) on success, one of the TVM_ERROR_*
 *   codes otherwise. The exceptions are tvm_version, tvm_last_error, tvm_status_name and
 *   tvm_string_free, which cannot fail.
 * - Error messages. A failing call leaves a message in the calling thread, read with
 *   tvm_last_error(): it starts with the function's name and names the argument at fault,
 *   e.g. "tvm_evaluate: input_count is 1, but the tape has 2 input(s) (x, y)". Parse errors
 *   carry `line:column` and the offending line with a caret. A successful call clears the
 *   message. Messages are per thread, so threads never see each other's errors.
 * - Robustness. No function crashes on NULL pointers, handles of the wrong kind, counts that
 *   do not match the tape, indices out of range or invalid text: each returns an error code.
 *   What cannot be checked is the caller's memory: a freed handle, a pointer to fewer doubles
 *   than stated, or a garbage pointer are undefined behavior.
 * - Out-parameters (`out_*`) must not be NULL. Handle and string out-parameters are set to
 *   NULL first, so they are NULL after any failure.
 * - Ownership. Handles (tvm_tape *, tvm_program *) are owned by the caller and released with
 *   their *_free function, exactly once. Strings returned through `char **` are owned by the
 *   caller and released with tvm_string_free. Strings returned through `const char **` or as
 *   `const char *` are borrowed: never free them; how long they live is stated per function.
 *   The library never keeps a pointer to caller memory after a call returns.
 * - Lengths. Counts and indices are size_t. A column is `n` contiguous doubles. Arrays of
 *   columns come with their length, which must match the tape exactly (or be 0 with a NULL
 *   array where the function allows "none").
 * - Threads. Tapes and programs are immutable once made: any number of threads may use the
 *   same handle at the same time (including running the same program concurrently), as long
 *   as no thread frees it meanwhile. A run itself uses up to `threads` worker threads (see
 *   tvm_program_new) and returns when they are done. Results are identical, bit for bit,
 *   whatever the number of threads.
 * - Strings passed in are NUL-terminated UTF-8.
 */
#ifndef TAPEVM_H
#define TAPEVM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The C ABI version this header describes; tvm_version() names the library's. */
#define TVM_ABI_VERSION 1

/* ---------------------------------------------------------------------------------------- */
/* Status codes                                                                             */
/* ---------------------------------------------------------------------------------------- */

/** Success. */
#define TVM_OK 0
/** A required pointer argument (a handle, a string, an array, an out-parameter) is NULL. */
#define TVM_ERROR_NULL_ARGUMENT 1
/** A handle of the wrong kind: a tvm_program where a tvm_tape is expected, or vice versa. */
#define TVM_ERROR_INVALID_HANDLE 2
/** An argument does not fit: a count that does not match the tape, an index out of range,
 *  an unknown instruction set name, overlapping destination columns, text that is not UTF-8. */
#define TVM_ERROR_INVALID_ARGUMENT 3
/** The expression or tape text is invalid; the message gives line:column and what is wrong. */
#define TVM_ERROR_PARSE 4
/** The requested SIMD path is not supported by this CPU. */
#define TVM_ERROR_UNSUPPORTED 5

/** A tape: a validated, immutable computation with named inputs, parameters and outputs. */
typedef struct tvm_tape tvm_tape;
/** A program: a tape optimized and planned for execution, with its execution options. */
typedef struct tvm_program tvm_program;

/* ---------------------------------------------------------------------------------------- */
/* Library                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/** The library's version, e.g. "TapeVM C ABI 1, tape text format 1". Static: valid for the
 *  life of the process; never free it. Thread-safe. */
const char *tvm_version(void);

/** The message of the calling thread's most recent failed call, or "" if its most recent
 *  status-returning call succeeded (or it made none). Borrowed: valid until the calling
 *  thread's next call of a status-returning function; copy it to keep it. Never NULL.
 *  Messages may span several lines (parse errors show the source line and a caret). */
const char *tvm_last_error(void);

/** The name of a status code ("TVM_OK", "TVM_ERROR_PARSE", ...; "TVM_UNKNOWN_STATUS" for
 *  other values). Static: never free it. Thread-safe. */
const char *tvm_status_name(int status);

/** Releases a string returned through a `char **` out-parameter (tvm_tape_to_text). NULL is a
 *  no-op. Do not pass borrowed strings. */
void tvm_string_free(char *string);

/* ---------------------------------------------------------------------------------------- */
/* Tapes                                                                                    */
/* ---------------------------------------------------------------------------------------- */

/** Compiles text in the expression language, e.g. "f(x, y; w) = w * (x + sigmoid(y))" (one
 *  or more definitions, one output each; see the README and `Tape(expression:)`).
 *  On success, *out_tape is a new handle the caller releases with tvm_tape_free.
 *  Errors: TVM_ERROR_NULL_ARGUMENT (text or out_tape NULL), TVM_ERROR_INVALID_ARGUMENT (text
 *  not UTF-8), TVM_ERROR_PARSE (message "tvm_tape_from_expression: LINE:COL: error: ..."). */
int tvm_tape_from_expression(const char *text, tvm_tape **out_tape);

/** Reads the tape text format, version 1 (as written by tvm_tape_to_text; see `Tape(text:)`).
 *  Ownership and errors as tvm_tape_from_expression, with every fault of the text, including
 *  the tape's own validation, reported as TVM_ERROR_PARSE at a line and column. */
int tvm_tape_from_text(const char *text, tvm_tape **out_tape);

/** Releases a tape handle. NULL is a no-op (TVM_OK). Programs made from the tape stay valid
 *  (they hold their own copy). Names borrowed from this handle become invalid.
 *  Errors: TVM_ERROR_INVALID_HANDLE if `tape` is a tvm_program (nothing is released). */
int tvm_tape_free(tvm_tape *tape);

/** The tape in the text format: *out_text is a new NUL-terminated UTF-8 string the caller
 *  releases with tvm_string_free. tvm_tape_from_text reads it back to the same tape.
 *  Errors: TVM_ERROR_NULL_ARGUMENT, TVM_ERROR_INVALID_HANDLE. */
int tvm_tape_to_text(const tvm_tape *tape, char **out_text);

/** The number of inputs (per-point columns), parameters (shared by every point) and outputs
 *  of the tape, stored in *out_count. Errors: TVM_ERROR_NULL_ARGUMENT, TVM_ERROR_INVALID_HANDLE. */
int tvm_tape_input_count(const tvm_tape *tape, size_t *out_count);
int tvm_tape_parameter_count(const tvm_tape *tape, size_t *out_count);
int tvm_tape_output_count(const tvm_tape *tape, size_t *out_count);

/** The name of input, parameter or output `index` (0-based, in slot order), stored in
 *  *out_name. Borrowed: valid as long as the tape handle lives; never free it. A name that
 *  contains a NUL character (possible only through quoted names in tape text) reads as cut
 *  short at it. Errors: TVM_ERROR_NULL_ARGUMENT, TVM_ERROR_INVALID_HANDLE,
 *  TVM_ERROR_INVALID_ARGUMENT (index out of range). */
int tvm_tape_input_name(const tvm_tape *tape, size_t index, const char **out_name);
int tvm_tape_parameter_name(const tvm_tape *tape, size_t index, const char **out_name);
int tvm_tape_output_name(const tvm_tape *tape, size_t index, const char **out_name);

/* ---------------------------------------------------------------------------------------- */
/* Programs                                                                                 */
/* ---------------------------------------------------------------------------------------- */

/** Optimizes and plans `tape` for execution. Make one program per tape and reuse it.
 *  - threads: worker threads per run; 0 uses every core available to the process (at most 4096).
 *  - tile_size: points per tile (rounded up to a multiple of 8, at most 1048576); 0 lets the
 *    program choose. Parameter gradient sums depend on it in the last bits (never on threads).
 *  - isa: the SIMD path: NULL or "" for the preferred one (the fastest the CPU supports, unless
 *    the environment variable TAPEVM_ISA names a supported one), "best" for the fastest,
 *    or "swift" (the Swift SIMD8 interpreter; "portable" is accepted as its former name), "avx2", "avx512".
 *  On success, *out_program is a new handle the caller releases with tvm_program_free; it
 *  does not depend on the tape handle, which may be freed at once.
 *  Errors: TVM_ERROR_NULL_ARGUMENT, TVM_ERROR_INVALID_HANDLE, TVM_ERROR_INVALID_ARGUMENT
 *  (unknown isa name, threads or tile_size too large), TVM_ERROR_UNSUPPORTED (isa not
 *  supported by this CPU; the message lists the supported ones). */
int tvm_program_new(const tvm_tape *tape, size_t threads, size_t tile_size, const char *isa,
                    tvm_program **out_program);

/** Releases a program handle. NULL is a no-op (TVM_OK). Must not be called while another
 *  thread runs the program. Errors: TVM_ERROR_INVALID_HANDLE if `program` is a tvm_tape. */
int tvm_program_free(tvm_program *program);

/** A new handle to the tape the program was made from (it defines the program's inputs,
 *  parameters and outputs); the caller releases it with tvm_tape_free.
 *  Errors: TVM_ERROR_NULL_ARGUMENT, TVM_ERROR_INVALID_HANDLE. */
int tvm_program_tape(const tvm_program *program, tvm_tape **out_tape);

/** The code path the program runs: "swift", "avx2" or "avx512", stored in *out_name.
 *  Static: never free it. Errors: TVM_ERROR_NULL_ARGUMENT, TVM_ERROR_INVALID_HANDLE. */
int tvm_program_instruction_set(const tvm_program *program, const char **out_name);

/* ---------------------------------------------------------------------------------------- */
/* Running                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/* Arguments shared by tvm_evaluate and tvm_value_and_gradient:
 *
 * - n: the number of points (0 is allowed and writes nothing but zero sums).
 * - inputs, input_count: one column of n doubles per input slot; input_count must equal the
 *   tape's input count. inputs may be NULL only when the tape has no inputs; entries may be
 *   NULL only when n is 0. Columns may overlap each other (they are only read).
 * - params, param_count: one double per parameter slot, shared by every point; param_count
 *   must equal the tape's parameter count; params may be NULL only when it is 0.
 * - Destination arrays (values, input_gradients, param_gradients) with their count: either
 *   NULL with count 0 (none of them), or exactly one entry per output / input / parameter, each
 *   entry a column of n doubles or NULL to skip it. Destinations must not overlap each other or
 *   any input column: the library checks this and returns TVM_ERROR_INVALID_ARGUMENT naming
 *   both columns.
 *
 * On any error nothing has been written. Errors: TVM_ERROR_NULL_ARGUMENT (program NULL, an array
 * NULL where it is required), TVM_ERROR_INVALID_HANDLE, TVM_ERROR_INVALID_ARGUMENT (a count
 * that does not match the tape, output_index out of range, overlapping columns, n too large).
 * Programs may be run from many threads at once.
 *
 * Calling in a loop: a call with the same n, output_index and table contents (the same column
 * pointers) as the previous call of the same function on the program skips checking and
 * preparing them again (they passed before); only the parameter values and the columns' data
 * are read anew. At one point, a 5-instruction tape's value and gradient then cost about
 * 0.15 µs per call, against 0.5 µs for a call with new pointers. */

/** The outputs' values at n points: values[k][i] is output k at point i. */
int tvm_evaluate(const tvm_program *program, size_t n,
                 const double *const *inputs, size_t input_count,
                 const double *params, size_t param_count,
                 double *const *values, size_t value_count);

/** Values and the gradient of output `output_index` at n points, in one forward and one
 *  reverse sweep per tile. Writes, for every non-NULL destination:
 *  - values[k][i]: output k at point i (every output, not just output_index);
 *  - input_gradients[j][i]: the derivative of output `output_index` with respect to input j
 *    at point i;
 *  - param_gradient_sum[p] (NULL to skip; else param_count doubles): the derivative with
 *    respect to parameter p, summed over the n points (the training case);
 *  - param_gradients[p][i]: the derivative with respect to parameter p at point i.
 *  Results are bit for bit those of the Swift `Program.run` with the same options. */
int tvm_value_and_gradient(const tvm_program *program, size_t n,
                           const double *const *inputs, size_t input_count,
                           const double *params, size_t param_count,
                           size_t output_index,
                           double *const *values, size_t value_count,
                           double *const *input_gradients, size_t input_gradient_count,
                           double *param_gradient_sum,
                           double *const *param_gradients, size_t param_gradient_count);

/* ---------------------------------------------------------------------------------------- */
/* Forward mode and second order                                                            */
/* ---------------------------------------------------------------------------------------- */

/* Arguments as for tvm_value_and_gradient, plus:
 * - A direction over the inputs, either per point or shared: direction_columns (input_count
 *   column pointers of n doubles each, like inputs) or direction (input_count doubles, the
 *   same at every point). Exactly one of the two is non-NULL (both may be NULL when the tape
 *   has no inputs); passing both or neither is an error.
 * Up to three directions run on the program's isa, one sweep each (AVX2 and AVX-512 have a
 * generated tangent sweep); more run in one sweep on the Swift SIMD8 path; every path gives the same bits, and results
 * are the same for any thread count.
 *
 * Conventions (as for the gradient): kinks take the gradient's subgradients (relu'(0) = 0,
 * |x|'(0) = 0, ties of max/min split 1/2 each), routing instructions (abs, relu, max, min,
 * select) pass a tangent or exactly 0, never 0*inf; a shared direction's zero components are
 * symbolic zeros (nothing is computed from them), per-point zeros are ordinary zeros. NaN
 * propagates. Second derivatives are the derivatives of those gradient rules: relu'' = |x|'' = 0. */

/** Values and every output's derivative along the direction v at n points (forward mode,
 *  one sweep): tangents[k][i] = grad f_k(x_i) . v_i. values / tangents: NULL with count 0 for
 *  none, else one column (or NULL) per output. */
int tvm_jvp(const tvm_program *program, size_t n,
            const double *const *inputs, size_t input_count,
            const double *params, size_t param_count,
            const double *const *direction_columns, const double *direction,
            double *const *values, size_t value_count,
            double *const *tangents, size_t tangent_count);

/** The gradient and a Hessian-vector product of output `output_index` at n points (forward
 *  over reverse: one tangent sweep of the gradient tape): input_gradients[j][i] = df/dx_j,
 *  hvp[j][i] = sum_l d2f/dx_j dx_l * v_l at point i. Each destination array: NULL with count 0
 *  for none, else one column (or NULL) per input. */
int tvm_hvp(const tvm_program *program, size_t n,
            const double *const *inputs, size_t input_count,
            const double *params, size_t param_count,
            size_t output_index,
            const double *const *direction_columns, const double *direction,
            double *const *input_gradients, size_t input_gradient_count,
            double *const *hvp, size_t hvp_count);

/** The full Hessian of output `output_index` with respect to the m = input_count inputs at
 *  every point: hessians (n*m*m doubles, point-major, each matrix row-major) gets
 *  hessians[(i*m + r)*m + c] = d2f/dx_r dx_c at point i. Row r is the derivative of df/dx_r,
 *  so (r, c) and (c, r) agree up to rounding (not averaged). Meant for up to ~32 inputs. */
int tvm_hessian(const tvm_program *program, size_t n,
                const double *const *inputs, size_t input_count,
                const double *params, size_t param_count,
                size_t output_index, double *hessians);

/** The Hessian of output `output_index` with respect to the parameters, summed over the n
 *  points (data fixed, weights variable): hessian[p*param_count + q] =
 *  sum_i d2f(x_i)/dw_p dw_q (param_count^2 doubles). Same bits for any thread count. */
int tvm_param_hessian_sum(const tvm_program *program, size_t n,
                          const double *const *inputs, size_t input_count,
                          const double *params, size_t param_count,
                          size_t output_index, double *hessian);

/* ---------------------------------------------------------------------------------------- */
/* Functions of the expression language                                                     */
/* ---------------------------------------------------------------------------------------- */

/** How many functions the expression language can call, stored in *out_count (for bindings
 *  that record calls themselves, such as Python's tapevm.trace and tapevm.from_sympy).
 *  Errors: TVM_ERROR_NULL_ARGUMENT. */
int tvm_function_count(size_t *out_count);

/** Function `index` (0-based; sorted by name) of the expression language:
 *  - *out_name: the name a call uses ("sigmoid", "where", ...);
 *  - *out_mnemonic: the tape text mnemonic of the instruction it records ("select" for "where");
 *  - *out_argument_count: how many arguments a call takes;
 *  - *out_integer_exponent: 1 if the last argument is an integer exponent written into the
 *    instruction (powi: "r1 = powi r0 3" in tape text), else 0;
 *  - *out_summary: a one-line description of the instruction ("y = 1/(1+e⁻ᵃ); ∂a = y(1-y)").
 *  Strings are static: never free them. No out-parameter may be NULL.
 *  Errors: TVM_ERROR_NULL_ARGUMENT, TVM_ERROR_INVALID_ARGUMENT (index out of range). */
int tvm_function_info(size_t index, const char **out_name, const char **out_mnemonic,
                      size_t *out_argument_count, int *out_integer_exponent,
                      const char **out_summary);

/* ---------------------------------------------------------------------------------------- */
/* Several gradients in one run                                                             */
/* ---------------------------------------------------------------------------------------- */

/** Values and request_count gradients at n points, from one forward sweep and one reverse
 *  sweep per request on each tile. Request r is the gradient of sum_k seeds[r][k] * output k
 *  (a vector-Jacobian product; identity rows give the Jacobian, one row per output).
 *  Arguments as for tvm_value_and_gradient, except:
 *  - seeds: request_count rows of output_count doubles, row after row (NULL only when
 *    request_count is 0); request_count at most 1048576;
 *  - input_gradients: NULL with count 0, or request_count * input_count entries, row after
 *    row: input_gradients[r * input_count + j][i] is request r's derivative with respect to
 *    input j at point i (entries may be NULL to skip them);
 *  - param_gradient_sums: NULL, or request_count * param_count doubles, row after row;
 *  - param_gradients: NULL with count 0, or request_count * param_count entries, row after row.
 *  Results are bit for bit those of tvm_value_and_gradient with the same seeds. */
int tvm_gradients(const tvm_program *program, size_t n,
                  const double *const *inputs, size_t input_count,
                  const double *params, size_t param_count,
                  const double *seeds, size_t request_count,
                  double *const *values, size_t value_count,
                  double *const *input_gradients, size_t input_gradient_count,
                  double *param_gradient_sums,
                  double *const *param_gradients, size_t param_gradient_count);

/* ---------------------------------------------------------------------------------------- */
/* One call, one block: for bindings                                                        */
/* ---------------------------------------------------------------------------------------- */

/** Flags of tvm_block_run. */
/** Write each request's input gradients into the block. */
#define TVM_BLOCK_INPUT_GRADIENTS 1u
/** Write each request's parameter gradients per point into the block, instead of their sums. */
#define TVM_BLOCK_PER_POINT_PARAM_GRADIENTS 2u

/** The arguments of tvm_run_block: ten pointer-sized fields, no padding (a binding may write
 *  it as ten machine words, e.g. Python's struct format "PNPPNPPNNP"). */
typedef struct tvm_block_run {
    const tvm_program *program;
    size_t n;                           /* points */
    const double *const *inputs;        /* input_count column pointers, as for tvm_evaluate; or NULL: */
    const double *input_block;          /* then input j is the column input_block + j * input_stride */
    size_t input_stride;                /* (in doubles; e.g. an (N, n) Fortran-ordered array: N) */
    const double *params;               /* param_count doubles (NULL when there are none) */
    const double *seeds;                /* request_count rows of output_count weights (as tvm_gradients) */
    size_t request_count;               /* 0: values only (tvm_evaluate) */
    size_t flags;                       /* TVM_BLOCK_INPUT_GRADIENTS | TVM_BLOCK_PER_POINT_PARAM_GRADIENTS */
    double *block;                      /* the results, laid out as below */
} tvm_block_run;
#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(tvm_block_run) == 10 * sizeof(size_t), "tvm_block_run is ten machine words");
#endif

/** tvm_gradients (or, with request_count 0, tvm_evaluate) with every result in one block, for
 *  bindings whose foreign calls cost per argument: one pointer in, one block out. With m
 *  outputs, k inputs, p parameters and r requests, the block holds columns of n doubles:
 *  - the values: output k at block[k*n + i] (m columns);
 *  - then per request, one after another: its input gradients (k columns, with
 *    TVM_BLOCK_INPUT_GRADIENTS) and its per-point parameter gradients (p columns, with
 *    TVM_BLOCK_PER_POINT_PARAM_GRADIENTS);
 *  - then, without TVM_BLOCK_PER_POINT_PARAM_GRADIENTS, the parameter gradient sums: r rows of
 *    p doubles.
 *  That is (m + r*(k' + p'))*n + r*p'' doubles (k' = k or 0, p' = p or 0, p'' = p - p'); block
 *  may be NULL only when that is 0. The record is read completely before anything is written,
 *  so it may lie inside the block (past the results, say). The block must not overlap an input
 *  column. Results and errors are those of tvm_gradients / tvm_evaluate with the same
 *  arguments, bit for bit; messages name the fields ("input_block[1] (input 'y')"). */
int tvm_run_block(const tvm_block_run *run);

/* ---------------------------------------------------------------------------------------- */
/* Populations: many tapes over one data set                                                */
/* ---------------------------------------------------------------------------------------- */

/** Flags of tvm_population_evaluate. */
/** Stop a tape at the first chunk of rows (at most 16 tiles, 8192 rows by default) in which a
 *  row's value or gradient is not finite: its loss and gradient become NaN, its values and
 *  Jacobian past that chunk NaN, and nonfinite_rows counts the rows evaluated. */
#define TVM_POPULATION_STOP_ON_NONFINITE 1u
/** Optimize with the passes that keep gradients bit-identical to the reference (`.exact`)
 *  instead of every pass (values are bit-identical either way). */
#define TVM_POPULATION_EXACT 2u

/** Evaluates tape_count tapes over one data set of n rows: the evaluation backend of a
 *  symbolic-regression engine. Each tape is optimized and planned, run, and released within
 *  the call (no tvm_program needed).
 *  - tapes: tape_count tape handles; each has exactly one output and reads inputs named in
 *    column_names (any subset of them, in any order).
 *  - column_names, columns, column_count: the data set, one named column of n doubles each.
 *  - target: NULL, or n doubles y: then each tape's loss is sum_i (f(x_i) - y_i)^2 and its
 *    parameter gradient is the loss's.
 *  - params: per tape, a pointer to its parameter values (one per parameter slot); the array
 *    and entries may be NULL for tapes without parameters.
 *  - threads: worker threads, 0 for every core. Threads run whole tapes; with fewer tapes
 *    than threads (and no early stop), each tape's rows are split instead. Results are the
 *    same, bit for bit, for any thread count.
 *  - flags: TVM_POPULATION_STOP_ON_NONFINITE, TVM_POPULATION_EXACT, or 0.
 *  Destinations (each array NULL to skip that result, else one entry per tape, an entry NULL
 *  to skip that tape):
 *  - values[k]: n doubles, tape k's value at every row;
 *  - param_gradients[k]: P_k doubles (P_k = tape k's parameter count), the parameter gradient
 *    summed over the rows (of the loss with a target, of f without);
 *  - jacobians[k]: P_k * n doubles, parameter-major: jacobians[k][p * n + i] is the derivative
 *    of f(x_i) with respect to parameter p (a numpy array of shape (P_k, n));
 *  - losses: tape_count doubles (only with a target);
 *  - nonfinite_rows: tape_count counts of rows whose value, or (with param_gradients or
 *    jacobians) whose parameter gradient, is NaN or infinite.
 *  Destinations must not overlap each other or the columns. On any error nothing has been
 *  written. Errors: TVM_ERROR_NULL_ARGUMENT, TVM_ERROR_INVALID_HANDLE (an entry of tapes is
 *  not a tvm_tape), TVM_ERROR_INVALID_ARGUMENT (a tape with several outputs, an input that is
 *  not a column, overlapping destinations, losses without a target, unknown flags; the
 *  message names the tape). */
int tvm_population_evaluate(size_t tape_count, const tvm_tape *const *tapes, size_t n,
                            const char *const *column_names, const double *const *columns, size_t column_count,
                            const double *target, const double *const *params,
                            size_t threads, unsigned int flags,
                            double *const *values, double *const *param_gradients, double *const *jacobians,
                            double *losses, size_t *nonfinite_rows);

#ifdef __cplusplus
}
#endif

#endif /* TAPEVM_H */
