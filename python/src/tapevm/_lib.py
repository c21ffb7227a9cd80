"""Loading libTapeVMC and declaring its C functions (Sources/TapeVMC/include/tapevm.h).

The library is looked for, in order:
1. the file named by the environment variable TAPEVM_LIBRARY (an override: nothing else is tried);
2. the copy inside this package, put there by `pip install` (the build runs `swift build -c release
   --product TapeVMC`);
3. when this file sits in a checkout of the repository (python/src/tapevm), the repository's
   .build/release and .build/debug, the most recently built first.
Nothing is loaded until first use, so `import tapevm` never fails for want of the library.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import threading
from ctypes import POINTER, c_char_p, c_double, c_int, c_size_t, c_void_p
from typing import NamedTuple

LIBRARY_NAME = "libTapeVMC.dylib" if sys.platform == "darwin" else "libTapeVMC.so"

_STATUS_NAMES = {
    0: "TVM_OK",
    1: "TVM_ERROR_NULL_ARGUMENT",
    2: "TVM_ERROR_INVALID_HANDLE",
    3: "TVM_ERROR_INVALID_ARGUMENT",
    4: "TVM_ERROR_PARSE",
    5: "TVM_ERROR_UNSUPPORTED",
}


class TapeVMError(Exception):
    """A call into the library failed.

    `status` is the TVM_ERROR_* code and `status_name` its name; `message` (also `str(e)`) is the
    library's message: the C function, the argument at fault and, for text that does not parse,
    `line:column`, the line and a caret under the column (then `line` and `column` are set too)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.status_name = _STATUS_NAMES.get(status, "TVM_UNKNOWN_STATUS")
        self.message = message
        where = re.search(r"(\d+):(\d+): error", message)
        self.line = int(where.group(1)) if where else None
        self.column = int(where.group(2)) if where else None


class ParseError(TapeVMError, ValueError):
    """Expression or tape text that does not parse (TVM_ERROR_PARSE); `line` and `column` say where."""


class LibraryNotFoundError(OSError):
    """libTapeVMC could not be found or loaded; the message says where it was looked for."""


def _candidates() -> list[str]:
    override = os.environ.get("TAPEVM_LIBRARY")
    if override:
        return [override]
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, LIBRARY_NAME)]
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    if os.path.exists(os.path.join(root, "Package.swift")):
        builds = [os.path.join(root, ".build", config, LIBRARY_NAME) for config in ("release", "debug")]
        existing = sorted((p for p in builds if os.path.exists(p)), key=os.path.getmtime, reverse=True)
        paths += existing or builds
    return paths


_lib = None
_lock = threading.Lock()


def library() -> ctypes.CDLL:
    """The loaded libTapeVMC (loaded and declared on first use); raises LibraryNotFoundError.

    It is a ctypes.CDLL, so every call releases the GIL while the library computes."""
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            tried = _candidates()
            path = next((p for p in tried if os.path.exists(p)), None)
            if path is None:
                raise LibraryNotFoundError(
                    "libTapeVMC not found (looked for " + ", ".join(tried) + "): install the package with "
                    "`pip install ./python`, or build it with `swift build --product TapeVMC` in the repository, "
                    "or set TAPEVM_LIBRARY to the library's path")
            try:
                lib = ctypes.CDLL(path)
                _declare(lib)
            except (OSError, AttributeError) as e:
                raise LibraryNotFoundError(f"could not load {path}: {e}") from e
            lib.path = path
            _lib = lib
    return _lib


_P = c_void_p   # every pointer argument is passed as an address (an int): the fastest ctypes conversion


def _declare(lib: ctypes.CDLL) -> None:
    def f(name, restype, *argtypes):
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = list(argtypes)

    f("tvm_version", c_char_p)
    f("tvm_last_error", c_char_p)
    f("tvm_status_name", c_char_p, c_int)
    f("tvm_string_free", None, c_void_p)
    f("tvm_tape_from_expression", c_int, c_char_p, POINTER(c_void_p))
    f("tvm_tape_from_text", c_int, c_char_p, POINTER(c_void_p))
    f("tvm_tape_free", c_int, c_void_p)
    f("tvm_tape_to_text", c_int, c_void_p, POINTER(c_void_p))
    for kind in ("input", "parameter", "output"):
        f(f"tvm_tape_{kind}_count", c_int, c_void_p, POINTER(c_size_t))
        f(f"tvm_tape_{kind}_name", c_int, c_void_p, c_size_t, POINTER(c_char_p))
    f("tvm_program_new", c_int, c_void_p, c_size_t, c_size_t, c_char_p, POINTER(c_void_p))
    f("tvm_program_free", c_int, c_void_p)
    f("tvm_program_instruction_set", c_int, c_void_p, POINTER(c_char_p))
    f("tvm_evaluate", c_int, c_void_p, c_size_t, _P, c_size_t, _P, c_size_t, _P, c_size_t)
    f("tvm_value_and_gradient", c_int, c_void_p, c_size_t, _P, c_size_t, _P, c_size_t, c_size_t,
      _P, c_size_t, _P, c_size_t, _P, _P, c_size_t)
    f("tvm_function_count", c_int, POINTER(c_size_t))
    f("tvm_function_info", c_int, c_size_t, POINTER(c_char_p), POINTER(c_char_p), POINTER(c_size_t),
      POINTER(c_int), POINTER(c_char_p))
    f("tvm_gradients", c_int, c_void_p, c_size_t, _P, c_size_t, _P, c_size_t, _P, c_size_t,
      _P, c_size_t, _P, c_size_t, _P, _P, c_size_t)
    f("tvm_jvp", c_int, c_void_p, c_size_t, _P, c_size_t, _P, c_size_t, _P, _P, _P, c_size_t, _P, c_size_t)
    f("tvm_hvp", c_int, c_void_p, c_size_t, _P, c_size_t, _P, c_size_t, c_size_t, _P, _P,
      _P, c_size_t, _P, c_size_t)
    f("tvm_hessian", c_int, c_void_p, c_size_t, _P, c_size_t, _P, c_size_t, c_size_t, _P)
    f("tvm_param_hessian_sum", c_int, c_void_p, c_size_t, _P, c_size_t, _P, c_size_t, c_size_t, _P)
    f("tvm_run_block", c_int, _P)
    f("tvm_population_evaluate", c_int, c_size_t, _P, c_size_t, _P, _P, c_size_t, _P, _P, c_size_t, ctypes.c_uint,
      _P, _P, _P, _P, _P)


def check(status: int) -> None:
    """Raises TapeVMError (ParseError for TVM_ERROR_PARSE) with the calling thread's message."""
    if status != 0:
        # The message is per thread and read right after the call, on the same thread.
        message = _lib.tvm_last_error().decode("utf-8", "replace")
        raise (ParseError if status == 4 else TapeVMError)(status, message)


def version() -> str:
    """The library's version, e.g. "TapeVM C ABI 1, tape text format 1"."""
    return library().tvm_version().decode()


class FunctionInfo(NamedTuple):
    """A function of the expression language, as the library describes it."""
    name: str               # the name calls use ("sigmoid", "where")
    mnemonic: str           # the instruction it records, in tape text ("select" for "where")
    argument_count: int     # arguments of a call, the integer exponent of powi included
    integer_exponent: bool  # the last argument is an integer written into the instruction (powi)
    summary: str            # one line: what it computes and its derivative


_functions: dict[str, FunctionInfo] | None = None


def functions() -> dict[str, FunctionInfo]:
    """Every function the library's expression language can call, by name."""
    global _functions
    if _functions is None:
        lib = library()
        count = c_size_t()
        check(lib.tvm_function_count(ctypes.byref(count)))
        table = {}
        for i in range(count.value):
            name, mnemonic, summary = c_char_p(), c_char_p(), c_char_p()
            arguments, exponent = c_size_t(), c_int()
            check(lib.tvm_function_info(i, ctypes.byref(name), ctypes.byref(mnemonic), ctypes.byref(arguments),
                                        ctypes.byref(exponent), ctypes.byref(summary)))
            info = FunctionInfo(name.value.decode(), mnemonic.value.decode(), arguments.value,
                                bool(exponent.value), summary.value.decode())
            table[info.name] = info
        _functions = table
    return _functions
