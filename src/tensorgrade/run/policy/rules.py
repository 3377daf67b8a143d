"""What submissions may use: the policy's data, in one place.

Everything here is a plain constant read by `compiler` (at compile time) and
`guards` (while student code runs). A course may widen the module allowlist in
course.yml (`grading.allowed_imports`); nothing else is configurable, because
each entry below closes a route from student code to the grader.
"""

from __future__ import annotations

# Modules a submission may import (and reach as attributes of each other).
DEFAULT_IMPORTS = (
    "torch", "torch.autograd", "torch.autograd.functional", "torch.func", "torch.nn", "torch.nn.functional",
    "torch.linalg", "math", "numpy", "typing", "functools", "itertools", "collections", "dataclasses",
)
# Always importable: compile-time only, or needed for type hints.
ALWAYS_IMPORTS = ("__future__",)

# Dunder methods a submission's own classes may define (nothing that changes how
# Python or torch treats an object behind the grader's back: no __del__,
# __torch_function__, __getattribute__, __array_interface__, __reduce__, ...).
ALLOWED_DUNDER_DEFS = frozenset({
    "__init__", "__call__", "__repr__", "__str__", "__len__", "__iter__", "__next__", "__getitem__",
    "__setitem__", "__contains__", "__enter__", "__exit__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
    "__ge__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__neg__", "__pow__", "__matmul__", "__rmatmul__",
})
# Dunder names a submission may read, and dunder attributes (plain strings) it may read on any object.
READABLE_DUNDERS = frozenset({"__name__", "__file__"})
READABLE_ATTRIBUTES = frozenset({"__name__", "__qualname__", "__doc__", "__version__"})

# Attribute names refused on every object, whatever it is: they reach frames,
# code, memory or files, or redefine types.
DENIED_ATTRIBUTES = frozenset({
    # frames, code and generators (beyond RestrictedPython's own list)
    "tb_frame", "tb_next", "f_back", "f_builtins", "f_code", "f_globals", "f_locals", "f_trace", "f_generator",
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "cr_origin", "ag_frame", "ag_code",
    "ag_await", "co_code", "mro",
    # raw memory and files through numpy and torch objects
    "ctypes", "tofile", "dump", "from_file", "share_memory_",
})

# Per allowed module, the attributes a submission may not use: file and pickle
# I/O, global settings that outlive a call, compilers and code generators.
DENIED_MODULE_ATTRIBUTES: dict[str, frozenset[str]] = {
    "torch": frozenset({
        "load", "save", "from_file", "compile", "export", "set_default_dtype", "set_default_device",
        "set_default_tensor_type", "set_num_threads", "set_num_interop_threads", "use_deterministic_algorithms",
        "set_deterministic_debug_mode", "set_flush_denormal", "set_float32_matmul_precision", "set_warn_always",
        "set_printoptions", "inference_mode", "set_anomaly_enabled", "frombuffer", "cond", "vmap_impl",
        "autocast", "set_autocast_enabled", "set_autocast_cpu_enabled", "set_autocast_gpu_dtype",
    }),
    "torch.autograd": frozenset({"set_detect_anomaly", "detect_anomaly", "inference_mode", "set_multithreading_enabled"}),
    "numpy": frozenset({
        "load", "save", "savez", "savez_compressed", "savetxt", "loadtxt", "genfromtxt", "fromfile", "memmap",
        "seterr", "seterrcall", "setbufsize", "set_printoptions", "frombuffer", "DataSource", "load_library",
        "fromregex", "lib", "ctypeslib",
    }),
    "typing": frozenset({"get_type_hints", "ForwardRef", "evaluate_forward_ref"}),
    "dataclasses": frozenset({"make_dataclass"}),
    "functools": frozenset({"update_wrapper", "wraps"}),  # they copy attributes onto objects of torch's
}

# Tensor attributes a submission may assign (the autograd API it is taught).
WRITABLE_TENSOR_ATTRIBUTES = frozenset({"grad", "requires_grad", "data", "retains_grad", "names"})

# CPython audit events student code may cause (everything else is refused by the
# audit hook, the second net behind the compiler and guards).
# "sys.setprofile" is raised by CPython itself when a profile hook (the runtime ban's) raises: student
# code cannot call sys.setprofile (sys is not importable), and the ban notices being switched off.
ALLOWED_EVENTS = frozenset({"builtins.id", "import", "os.listdir", "os.scandir", "open", "sys.setprofile",
                            "sys.excepthook", "sys.unraisablehook"})  # the last two: the interpreter reporting
# Events allowed only when raised by these standard-library files (code generators
# that `collections.namedtuple`, `dataclasses` and `typing` use internally).
TRUSTED_EVENT_CALLERS = ("collections", "dataclasses", "typing", "inspect", "traceback", "linecache", "enum",
                         "functools", "abc", "warnings")
TRUSTED_CALLER_EVENTS = frozenset({"compile", "exec", "sys._getframe", "object.__getattr__", "object.__setattr__"})
