"""Run untrusted student code in forked, sandboxed children of a warm "zygote".

Why a zygote: importing torch costs ~3 s, forking a warm process ~10 ms.  The
zygote is a *fresh interpreter* (exec'd with ``subprocess``, never forked from
the grading process), so it has never held reference solutions or expected
answers that a student could dig out with ``gc.get_objects()``.  It imports
the payload module, calls ``payload.prepare(init)`` once, hides directories,
and then forks one child per job; the child calls ``payload.run(job, emit)``.

Layers (each reported in ``Zygote.isolation``), set up once in the zygote:

* mount + network (+ IPC) namespace, entered *before* torch starts threads;
  ``/`` made recursively private, every mount re-mounted read-only, an empty
  read-only tmpfs over each ``hide`` dir, fresh size-capped tmpfs over
  ``/tmp``, ``/var/tmp``, ``/dev/shm`` (re-created after every job), and
  ``/proc`` re-mounted with ``hidepid=2``;
* per job: a PID namespace (``unshare(CLONE_NEWPID)`` + fork + ``setns`` back),
  so every process the child started dies with it; unprivileged per-zygote
  uid, ``setgroups([])``, ``PR_SET_NO_NEW_PRIVS``, rlimits (CPU, DATA/AS,
  FSIZE, CORE, NPROC, NOFILE), scrubbed environment, private empty workdir.

Wire formats (JSON only; nothing is ever unpickled):

* caller <-> zygote: the zygote's stdin/stdout, frames of a 4-byte big-endian
  length followed by UTF-8 JSON;
* child -> zygote: a pipe created per job (fd 3 in the child), frames of one
  type byte (``M`` message, ``D`` done, ``E`` error) + 4-byte length + JSON.

This file is also the zygote's entry point (run by path with ``python -I``,
so that no package ``__init__`` can import torch before the namespaces are
set up).  It is stdlib-only and importable on non-Linux systems, where only
rlimits and process groups are used.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import fcntl
import gc
import importlib
import importlib.util
import json
import os
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

if __package__:
    from . import _linux
else:  # running as the zygote script: load the sibling without the package
    _spec = importlib.util.spec_from_file_location("_tg_linux", Path(__file__).with_name("_linux.py"))
    _linux = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_linux)

__all__ = ["Limits", "Outcome", "Zygote"]


@dataclass(frozen=True)
class Limits:
    """Per-job resource limits (see module docstring for how each is enforced)."""

    idle_seconds: float = 5.0
    cpu_seconds: float = 30.0
    memory_bytes: int = 2 * 1024**3
    output_bytes: int = 64 * 1024
    message_bytes: int = 4 * 1024**2
    total_seconds: float = 120.0


@dataclass
class Outcome:
    """What happened to one job.  ``status`` is one of STATUSES."""

    messages: list[dict] = field(default_factory=list)
    status: str = "ok"
    detail: str = ""
    output: str = ""
    seconds: float = 0.0


STATUSES = ("ok", "timeout", "cpu", "memory", "crashed", "exit", "protocol")

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

_LEN = struct.Struct(">I")  # caller <-> zygote frame header
_CHILD_HDR = struct.Struct(">cI")  # child -> zygote: type byte + length
_CHANNEL_FD = 3  # where the child finds its message pipe
_MAX_TOTAL_MESSAGE_BYTES = 64 * 1024**2  # all messages of one job together
_START_TIMEOUT = 180.0  # importing torch + prepare() on a cold machine
_REPLY_GRACE = 30.0  # caller waits total_seconds + this for the zygote
_SANDBOX_UID_BASE = 1_900_000_000  # + zygote pid: one private uid per zygote
_NPROC = 64
_NOFILE = 256
_FSIZE = 16 * 1024**2
_SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
# Top-level directories the child keeps seeing (the OS); every other one is covered (see _confine).
_SYSTEM_DIRS = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "sys", "tmp", "usr", "var"}
_SCRATCH_OPTS = "mode=1777,size=64m,nr_inodes=16384"
_WORKDIR = "/tmp/work"
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
_BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", **{v: "1" for v in _THREAD_VARS}}


# ---------------------------------------------------------------------------
# Framing helpers (shared by caller and zygote)
# ---------------------------------------------------------------------------


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, allow_nan=True, separators=(",", ":")).encode()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _send_frame(fd: int, obj: Any) -> None:
    body = _dumps(obj)
    _write_all(fd, _LEN.pack(len(body)) + body)


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    """Read exactly n bytes; EOFError on EOF, TimeoutError past the deadline."""
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no reply from sandbox zygote")
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("sandbox zygote closed its pipe")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _recv_frame(fd: int, deadline: float | None = None, max_bytes: int = 1 << 30) -> Any:
    (n,) = _LEN.unpack(_read_exact(fd, _LEN.size, deadline))
    if n > max_bytes:
        raise ValueError(f"frame of {n} bytes exceeds {max_bytes}")
    return json.loads(_read_exact(fd, n, deadline))


# ---------------------------------------------------------------------------
# Caller side
# ---------------------------------------------------------------------------

# PR_SET_PDEATHSIG fires when the *thread* that forked the zygote exits, so
# all zygotes are spawned from one long-lived thread, not the caller's.
_spawner = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tg-zygote-spawner")


def _caller_sys_path() -> list[str]:
    """The caller's import path, made absolute, for the zygote to import the payload."""
    return [os.path.abspath(p or os.getcwd()) for p in sys.path]


def _kill_process(proc: subprocess.Popen) -> None:
    """Close the zygote's stdin (it exits on EOF), then make sure it is gone."""
    for stream in (proc.stdin, proc.stdout):
        try:
            stream.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Zygote:
    """A warm, sandboxing fork server for one payload module.

    ``run`` is blocking; use one thread per Zygote (calls on one Zygote are
    serialised by a lock).  If the zygote itself dies, ``run`` reports
    ``status="crashed"`` and the next call starts a fresh zygote.
    """

    def __init__(
        self,
        payload: str,
        init: dict,
        *,
        hide: Sequence[str | Path] = (),
        env: Mapping[str, str] | None = None,
        pid_namespace: bool = True,
    ):
        hidden = [os.path.realpath(p) for p in hide]
        missing = [p for p in hidden if not os.path.exists(p)]
        if missing:
            raise FileNotFoundError(f"hide: create these before starting the zygote: {missing}")
        self._spec = {
            "payload": payload,
            "init": init,
            "hide": hidden,
            "env": dict(env or {}),
            "sys_path": _caller_sys_path(),
            "pid_namespace": pid_namespace,
            "parent_pid": os.getpid(),
        }
        _dumps(self._spec)  # fail here, not in the zygote, if init is not JSON
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._ready: dict = {}
        self._finalizer: Callable | None = None
        self._start()

    # -- life cycle ---------------------------------------------------------

    def _start(self) -> None:
        argv = [sys.executable, "-I", "-u", str(Path(__file__).resolve())]
        env = {**_BASE_ENV, "HOME": "/", **self._spec["env"]}
        proc = _spawner.submit(
            subprocess.Popen, argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=env, cwd="/", close_fds=True, start_new_session=True,
        ).result()
        self._proc = proc
        self._finalizer = weakref.finalize(self, _kill_process, proc)
        try:
            _send_frame(proc.stdin.fileno(), self._spec)
            reply = _recv_frame(proc.stdout.fileno(), time.monotonic() + _START_TIMEOUT)
        except (OSError, EOFError, TimeoutError, ValueError) as exc:
            self._discard()
            raise RuntimeError(f"sandbox zygote failed to start: {exc}") from exc
        if "error" in reply:
            self._discard()
            raise RuntimeError(f"sandbox zygote failed to start:\n{reply['error']}")
        self._ready = reply

    def _discard(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._proc = None

    def close(self) -> None:
        """Stop the zygote; it kills any running child (and its namespace) on exit."""
        with self._lock:
            self._discard()

    def __enter__(self) -> "Zygote":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- introspection ------------------------------------------------------

    @property
    def isolation(self) -> dict[str, bool]:
        """Which isolation layers are actually active (measured at start-up)."""
        return dict(self._ready.get("isolation", {}))

    @property
    def pid(self) -> int | None:
        """The zygote's process id (for monitoring)."""
        return self._proc.pid if self._proc else None

    @property
    def sandbox_uid(self) -> int | None:
        """The uid children run as, or None when no uid drop happens."""
        return self._ready.get("sandbox_uid")

    # -- jobs -----------------------------------------------------------------

    def run(self, job: dict, limits: Limits = Limits()) -> Outcome:
        """Run one job in a fresh sandboxed child; never raises for child misbehaviour."""
        request = {"job": job, "limits": dataclasses.asdict(limits)}
        _dumps(request)  # a non-JSON job is the caller's bug: raise before sending
        with self._lock:
            started = time.monotonic()
            try:
                if self._proc is None:
                    self._start()
                _send_frame(self._proc.stdin.fileno(), request)
                cap = _MAX_TOTAL_MESSAGE_BYTES * 2 + limits.output_bytes * 6 + (1 << 20)
                reply = _recv_frame(self._proc.stdout.fileno(), started + limits.total_seconds + _REPLY_GRACE, cap)
                return Outcome(**{k: reply[k] for k in ("messages", "status", "detail", "output", "seconds")})
            except (OSError, EOFError, TimeoutError, ValueError, KeyError, TypeError, RuntimeError) as exc:
                self._discard()
                return Outcome([], "crashed", f"sandbox zygote failed: {exc!r}", "", time.monotonic() - started)


# ---------------------------------------------------------------------------
# Zygote side: one-time set-up
# ---------------------------------------------------------------------------


def _enter_namespaces(isolation: dict) -> None:
    """Enter mount/net/IPC namespaces; must run before any thread exists.

    As root this is a plain unshare.  Otherwise a user namespace (own uid
    mapped to 0) is needed, which the kernel only grants to single-threaded
    processes -- hence "first thing in the zygote, before import torch".
    """
    flags = _linux.CLONE_NEWNS | _linux.CLONE_NEWNET | _linux.CLONE_NEWIPC
    if os.geteuid() == 0:
        try:
            _linux.unshare(flags)
        except OSError:
            return
    else:
        uid, gid = os.geteuid(), os.getegid()
        try:
            _linux.unshare(flags | _linux.CLONE_NEWUSER)
            _linux.write_file("/proc/self/setgroups", "deny")
            _linux.write_file("/proc/self/uid_map", f"0 {uid} 1")
            _linux.write_file("/proc/self/gid_map", f"0 {gid} 1")
        except OSError:
            return
        isolation["user_namespace"] = True
        # Without root we cannot setns() back per job, so the zygote itself
        # becomes init of a PID namespace: children cannot see or signal the
        # caller, and kill(-1) after each job clears the namespace.
        isolation["zygote_pid_namespace"] = _become_pid_namespace_init()
    _linux.mount(None, "/", None, _linux.MS_REC | _linux.MS_PRIVATE)  # or mounts leak to the host
    isolation["mount_namespace"] = isolation["network_namespace"] = True


def _become_pid_namespace_init() -> bool:
    """unshare(CLONE_NEWPID) and fork: the child continues as PID 1 of the
    namespace, the parent just waits and relays the exit status (it is what
    the caller sees as the zygote; PDEATHSIG ties the two together)."""
    try:
        _linux.unshare(_linux.CLONE_NEWPID)
    except OSError:
        return False
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    _linux.prctl(_linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    return True


def _open_pid_namespace(wanted: bool) -> int | None:
    """Keep an fd of our PID namespace if per-job PID namespaces will work.

    The per-job trick is unshare(CLONE_NEWPID) + fork + setns(back); setns to
    our own namespace is a no-op when permitted, so it doubles as the probe.
    """
    if not wanted or not _linux.AVAILABLE:
        return None
    try:
        fd = os.open("/proc/self/ns/pid", os.O_RDONLY)
    except OSError:
        return None
    try:
        _linux.setns(fd, _linux.CLONE_NEWPID)
        return fd
    except OSError:
        os.close(fd)
        return None


def _mountinfo() -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, per-mount options) for each mount, in mount order."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            parts = left.split()
            point = parts[4].encode().decode("unicode_escape")  # \040 etc.
            out.append((point, right.split()[0], set(parts[5].split(","))))
    return out


def _locked_flags(opts: set[str]) -> int:
    """Mount flags a bind-remount must keep (the kernel refuses to clear them in a userns)."""
    table = {"nosuid": _linux.MS_NOSUID, "nodev": _linux.MS_NODEV, "noexec": _linux.MS_NOEXEC,
             "noatime": _linux.MS_NOATIME, "nodiratime": _linux.MS_NODIRATIME, "relatime": _linux.MS_RELATIME}
    return sum(flag for name, flag in table.items() if name in opts)


def _expose_interpreter(paths: list[str]) -> None:
    """Make the interpreter and import path traversable for the sandbox uid.

    An interpreter under /root (mode 0700) is unreadable after the uid drop and
    lazy imports then fail.  In our private mount namespace we cover such a
    directory with a 0755 tmpfs and bind back only the entries on the way to
    the interpreter -- which also hides everything else in it.
    """
    for _ in range(32):
        blocked = _first_blocked(paths)
        if blocked is None:
            return
        parent, children = blocked
        fds = {c: os.open(os.path.join(parent, c), os.O_PATH) for c in children}
        try:
            _linux.mount("tmpfs", parent, "tmpfs", _linux.MS_NOSUID | _linux.MS_NODEV, "mode=0755,size=64k")
            for child, fd in fds.items():
                target = os.path.join(parent, child)
                if os.path.isdir(f"/proc/self/fd/{fd}"):
                    os.mkdir(target)
                else:
                    open(target, "w").close()
                _linux.mount(f"/proc/self/fd/{fd}", target, None, _linux.MS_BIND | _linux.MS_REC)
        finally:
            for fd in fds.values():
                os.close(fd)


def _import_roots() -> list[str]:
    """Where the interpreter finds its standard library and installed packages (nothing else).

    Other sys.path entries (the current folder, a source checkout) are left out on
    purpose: whatever the payload needs from them was imported before confinement,
    and a checkout may hold a course's solutions.
    """
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    roots = set(prefixes) | {os.path.realpath(os.path.dirname(sys.executable))}
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real and os.path.exists(real) and (
            "-packages" in real or any(real == q or real.startswith(q + "/") for q in prefixes)
        ):
            roots.add(real)
    return sorted(roots)


def _confine(keep: list[str]) -> bool:
    """Cover every top-level directory except the system ones with an empty tmpfs, binding back only `keep`.

    A whitelist, not a blacklist: other copies of a course on the machine (a
    checkout under /work or /home, an old output folder) vanish from the child's
    view along with everything else that is not the OS or the interpreter.
    """
    ok = True
    for name in sorted(os.listdir("/")):
        top = "/" + name
        if name in _SYSTEM_DIRS or os.path.islink(top) or not os.path.isdir(top):
            continue
        if any(p == top or top.startswith(p + "/") for p in keep):
            continue  # the interpreter lives right here: keep it whole
        inside = sorted(p for p in keep if p.startswith(top + "/"))
        inside = [p for p in inside if not any(p != q and p.startswith(q + "/") for q in inside)]
        fds = {p: os.open(p, os.O_PATH) for p in inside}
        try:
            _linux.mount("tmpfs", top, "tmpfs", _linux.MS_NOSUID | _linux.MS_NODEV, "mode=0755,size=64k")
            for path, fd in fds.items():
                if os.path.isdir(f"/proc/self/fd/{fd}"):
                    os.makedirs(path, exist_ok=True)
                else:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    open(path, "w").close()
                _linux.mount(f"/proc/self/fd/{fd}", path, None, _linux.MS_BIND | _linux.MS_REC)
        except OSError as exc:
            print(f"sandbox: cannot confine {top}: {exc}", file=sys.stderr)
            ok = False
        finally:
            for fd in fds.values():
                os.close(fd)
    return ok


def _first_blocked(paths: list[str]) -> tuple[str, set[str]] | None:
    """The shallowest directory on some path that others cannot traverse, with the needed entries."""
    found: dict[str, set[str]] = {}
    for path in paths:
        parts = Path(path).parts
        for depth in range(1, len(parts) - 1):
            ancestor = os.path.join(*parts[: depth + 1])
            try:
                mode = os.stat(ancestor).st_mode
            except OSError:
                break
            if not mode & 0o001:
                found.setdefault(ancestor, set()).add(parts[depth + 1])
                break
    if not found:
        return None
    parent = min(found, key=lambda p: p.count("/"))
    return parent, found[parent]


def _hide(paths: list[str]) -> bool:
    """Cover each hidden path with something empty and read-only."""
    ok = True
    for path in paths:
        try:
            if not os.path.lexists(path):
                continue  # already gone from our view (e.g. under a covered /root)
            if os.path.isdir(path):
                _linux.mount("tmpfs", path, "tmpfs", _linux.MS_RDONLY | _linux.MS_NOSUID | _linux.MS_NODEV
                             | _linux.MS_NOEXEC, "mode=000,size=4k")
            else:
                _linux.mount("/dev/null", path, None, _linux.MS_BIND)
                _linux.mount(None, path, None, _linux.MS_BIND | _linux.MS_REMOUNT | _linux.MS_RDONLY)
        except OSError as exc:
            print(f"sandbox: cannot hide {path}: {exc}", file=sys.stderr)
            ok = False
    return ok


def _make_readonly() -> bool:
    """Re-mount every file system read-only in our namespace (host unaffected).

    The child must not modify the caller's output or leave files for the next
    student anywhere; only the scratch tmpfs mounted afterwards is writable.
    /proc, /sys and /dev are left alone (device nodes and procfs need writes).
    """
    ok = True
    for point, _fstype, opts in _mountinfo():
        if point.startswith(("/proc", "/sys", "/dev")) or "ro" in opts:
            continue
        flags = _linux.MS_BIND | _linux.MS_REMOUNT | _linux.MS_RDONLY | _locked_flags(opts)
        try:
            _linux.mount(None, point, None, flags)
        except OSError:
            ok = False
    return ok


def _mount_hidepid_proc() -> bool:
    """A fresh /proc showing non-root processes only their own uid's processes."""
    try:
        _linux.mount("proc", "/proc", "proc", _linux.MS_NOSUID | _linux.MS_NODEV | _linux.MS_NOEXEC, "hidepid=2")
        return True
    except OSError:
        return False


def _scratch_keep(roots: list[str]) -> dict[str, int]:
    """O_PATH handles on import roots that live under a scratch dir (a virtualenv in /tmp, say)."""
    under = [r for r in roots if any(r.startswith(d + "/") for d in _SCRATCH_DIRS)]
    return {r: os.open(r, os.O_PATH) for r in under if os.path.isdir(r)}


def _bind_back(keep: dict[str, int], scratch: str) -> None:
    """Re-attach kept import roots inside a freshly mounted scratch dir (read-only)."""
    for path, fd in keep.items():
        if path.startswith(scratch + "/"):
            os.makedirs(path, exist_ok=True)
            _linux.mount(f"/proc/self/fd/{fd}", path, None, _linux.MS_BIND | _linux.MS_REC)
            _linux.mount(None, path, None, _linux.MS_BIND | _linux.MS_REMOUNT | _linux.MS_RDONLY)


def _reset_scratch(keep: dict[str, int] | None = None) -> bool:
    """Fresh, size-capped tmpfs on /tmp, /var/tmp, /dev/shm; nothing survives a job.

    Import roots under them (`keep`) are bound back read-only, so an interpreter or
    virtualenv installed in /tmp still works in the child.
    """
    ok = True
    for path in _SCRATCH_DIRS:
        if not os.path.isdir(path):
            continue
        try:
            _linux.umount(path, _linux.MNT_DETACH)
        except OSError:
            pass  # first call: nothing of ours mounted yet
        try:
            _linux.mount("tmpfs", path, "tmpfs", _linux.MS_NOSUID | _linux.MS_NODEV, _SCRATCH_OPTS)
            _bind_back(keep or {}, path)
        except OSError:
            ok = False
    return ok


def _id_mapped(ident: int, map_file: str) -> bool:
    """Is ident usable in our user namespace (always true outside containers)?"""
    try:
        with open(map_file) as f:
            ranges = [tuple(map(int, line.split())) for line in f if line.strip()]
    except OSError:
        return True
    return any(inside <= ident < inside + count for inside, _outside, count in ranges)


def _pick_sandbox_uid() -> int | None:
    """A private uid (and equal gid) per zygote, so RLIMIT_NPROC and kill(-1)
    concern only this zygote's children; 65534 in containers that map few ids."""
    for uid in (_SANDBOX_UID_BASE + os.getpid(), 65534):
        if _id_mapped(uid, "/proc/self/uid_map") and _id_mapped(uid, "/proc/self/gid_map"):
            return uid
    return None


def _limit_threads() -> None:
    """One OpenMP/MKL thread: forking after a parallel region hangs children."""
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set / parallel work has started


# ---------------------------------------------------------------------------
# Zygote side: the server
# ---------------------------------------------------------------------------


class _ProtocolError(Exception):
    """The child wrote something that is not a valid frame."""


class _FrameReader:
    """Incrementally splits the child's channel bytes into typed JSON frames."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.buf = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> list[tuple[bytes, Any]]:
        self.buf += data
        frames = []
        while len(self.buf) >= _CHILD_HDR.size:
            kind, n = _CHILD_HDR.unpack_from(self.buf)
            if kind not in (b"M", b"D", b"E"):
                raise _ProtocolError(f"invalid frame type {kind!r} on the message channel")
            if n > self.max_bytes:
                raise _ProtocolError(f"message of {n} bytes exceeds the {self.max_bytes}-byte limit")
            self.total += n
            if self.total > _MAX_TOTAL_MESSAGE_BYTES:
                raise _ProtocolError(f"more than {_MAX_TOTAL_MESSAGE_BYTES} bytes of messages")
            if len(self.buf) < _CHILD_HDR.size + n:
                self.total -= n  # counted again once complete
                break
            body = bytes(self.buf[_CHILD_HDR.size : _CHILD_HDR.size + n])
            del self.buf[: _CHILD_HDR.size + n]
            try:
                value = json.loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise _ProtocolError(f"invalid JSON in a message: {exc}") from None
            if not isinstance(value, dict):
                raise _ProtocolError(f"a message must be a JSON object, got {type(value).__name__}")
            frames.append((kind, value))
        return frames

    def leftover(self) -> int:
        return len(self.buf)


class _OutputBuffer:
    """Keeps the first ``limit`` bytes of stdout+stderr and counts the rest."""

    def __init__(self, limit: int):
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self.limit - len(self.kept)
        self.kept += data[: max(room, 0)]
        self.dropped += max(len(data) - max(room, 0), 0)

    def text(self) -> str:
        text = self.kept.decode(errors="replace")
        return text + (f"\n[... {self.dropped} bytes truncated]" if self.dropped else "")


@dataclass
class _JobState:
    """Everything the supervisor learns while a child runs."""

    messages: list = field(default_factory=list)
    done: bool = False
    error: dict | None = None
    killed: str | None = None  # detail, when *we* ended the job (deadline, bad frame)
    killed_status: str = ""  # the matching status: "timeout" or "protocol"
    wait_status: int = 0  # from wait4()
    rusage: Any = None  # resource.struct_rusage from wait4(), for "cpu"/"memory" detection


class _Server:
    """The zygote's job loop: fork, supervise, classify, clean up."""

    def __init__(self, spec: dict, proto_in: int, proto_out: int, isolation: dict):
        self.spec = spec
        self.proto_in = proto_in
        self.proto_out = proto_out
        self.isolation = isolation
        self.payload = None
        self.scratch_keep: dict[str, int] = {}
        self.pidns_fd: int | None = None
        self.uid: int | None = None
        self.env = {**_BASE_ENV, **spec["env"], "HOME": _WORKDIR, "TMPDIR": "/tmp"}
        self.pidfd_ok = hasattr(os, "pidfd_open")

    # -- set-up ---------------------------------------------------------------

    def prepare(self) -> None:
        """Import and warm the payload, then hide everything the child must not see."""
        iso = self.isolation
        sys.path[:] = self.spec["sys_path"]
        _limit_threads()
        self.payload = importlib.import_module(self.spec["payload"])
        if hasattr(self.payload, "prepare"):
            self.payload.prepare(self.spec["init"])
        _limit_threads()  # in case prepare imported torch itself
        if iso["mount_namespace"]:
            self.scratch_keep = _scratch_keep(_import_roots())
            iso["confined_fs"] = _confine(_import_roots())
            _expose_interpreter(self._needed_paths())
            iso["hidden_dirs"] = _hide(self.spec["hide"])
            iso["readonly_fs"] = _make_readonly()
            iso["proc_hidepid"] = _mount_hidepid_proc()
            iso["scratch_tmpfs"] = _reset_scratch(self.scratch_keep)
        self.pidns_fd = _open_pid_namespace(self.spec["pid_namespace"])
        iso["pid_namespace"] = self.pidns_fd is not None
        if self.pidns_fd is None and _linux.AVAILABLE:
            _linux.prctl(_linux.PR_SET_CHILD_SUBREAPER, 1)  # orphans come to us, see _sweep
        if os.geteuid() == 0 and _linux.AVAILABLE and not iso.get("user_namespace"):
            self.uid = _pick_sandbox_uid()
            iso["uid_drop"] = self.uid is not None
        gc.collect()
        gc.freeze()  # keep forked children from dirtying (copying) every page with refcounts

    def _needed_paths(self) -> list[str]:
        paths = [sys.executable, sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path]
        return sorted({os.path.realpath(p) for p in paths if p and os.path.exists(p)})

    # -- loop ---------------------------------------------------------------

    def serve(self) -> None:
        while True:
            try:
                request = _recv_frame(self.proto_in)
            except EOFError:
                return
            outcome = self.run_job(request["job"], Limits(**request["limits"]))
            _send_frame(self.proto_out, dataclasses.asdict(outcome))

    def run_job(self, job: dict, limits: Limits) -> Outcome:
        started = time.monotonic()
        workdir = self._make_workdir()
        chan_r, chan_w = os.pipe()
        out_r, out_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()
        pid = self._fork()
        if pid == 0:
            os.close(chan_r)
            os.close(out_r)
            _child_main(self, job, limits, chan_w, out_w, workdir)  # never returns
        os.close(chan_w)
        os.close(out_w)
        try:
            state, output = self._supervise(pid, chan_r, out_r, limits)
        finally:
            os.close(chan_r)
            os.close(out_r)
            self._cleanup(pid, workdir)
        status, detail = _classify(state, limits)
        return Outcome(state.messages, status, detail, output.text(), time.monotonic() - started)

    def _make_workdir(self) -> str:
        if self.isolation["mount_namespace"]:
            path = _WORKDIR  # on our private /tmp tmpfs, re-created every job
            os.makedirs(path, mode=0o700, exist_ok=True)
        else:
            import tempfile

            path = tempfile.mkdtemp(prefix="tg-job-")
        if self.uid is not None:
            os.chown(path, self.uid, self.uid)
        return path

    def _fork(self) -> int:
        """fork(), inside a fresh PID namespace when available (child = its PID 1)."""
        if self.pidns_fd is None:
            return os.fork()
        _linux.unshare(_linux.CLONE_NEWPID)
        pid = os.fork()
        if pid != 0:
            _linux.setns(self.pidns_fd, _linux.CLONE_NEWPID)  # so the next unshare works
        return pid

    # -- supervision --------------------------------------------------------

    def _supervise(self, pid: int, chan_r: int, out_r: int, limits: Limits) -> tuple[_JobState, _OutputBuffer]:
        """Pump both pipes until the child exits or a deadline passes."""
        state, output = _JobState(), _OutputBuffer(limits.output_bytes)
        reader = _FrameReader(limits.message_bytes)
        start = time.monotonic()
        total_deadline = start + limits.total_seconds
        idle_deadline = start + limits.idle_seconds
        pidfd = os.pidfd_open(pid) if self.pidfd_ok else None
        poller = select.poll()
        for fd in (chan_r, out_r):
            poller.register(fd, select.POLLIN)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        poller.register(self.proto_in, 0)  # only POLLHUP: the caller went away
        exited = False
        try:
            while not exited:
                now = time.monotonic()
                if now >= min(idle_deadline, total_deadline):
                    if now >= total_deadline:
                        why = f"killed after {limits.total_seconds:g} s (total time limit)"
                    else:
                        why = f"killed after {limits.idle_seconds:g} s without progress"
                    state.killed, state.killed_status = why, "timeout"
                    break
                wait_ms = (min(idle_deadline, total_deadline) - now) * 1000
                if pidfd is None:
                    wait_ms = min(wait_ms, 20)
                for fd, ev in poller.poll(max(1, int(wait_ms) + 1)):
                    if fd == self.proto_in:
                        os.kill(pid, signal.SIGKILL)
                        os._exit(0)  # caller is gone; the child dies with its PID namespace/PDEATHSIG
                    elif fd == pidfd:
                        exited = True
                    elif fd == out_r:
                        data = os.read(out_r, 1 << 16)
                        output.add(data) if data else poller.unregister(out_r)
                    elif fd == chan_r:
                        data = os.read(chan_r, 1 << 16)
                        if not data:
                            poller.unregister(chan_r)
                        elif self._absorb(reader, data, state):
                            idle_deadline = time.monotonic() + limits.idle_seconds
                if pidfd is None and not exited:
                    exited = _has_exited(pid)
        except _ProtocolError as exc:
            state.killed, state.killed_status = str(exc), "protocol"
        finally:
            if pidfd is not None:
                os.close(pidfd)
        self._kill_and_reap(pid, state)
        self._drain(chan_r, out_r, reader, state, output)
        return state, output

    def _absorb(self, reader: _FrameReader, data: bytes, state: _JobState) -> bool:
        """Feed channel bytes; True if at least one complete frame arrived."""
        frames = reader.feed(data)
        for kind, value in frames:
            if kind == b"M":
                state.messages.append(value)
            elif kind == b"D":
                state.done = True
            else:
                state.error = value
        return bool(frames)

    def _kill_and_reap(self, pid: int, state: _JobState) -> None:
        """SIGKILL the child (taking its PID namespace with it) and collect its status."""
        if state.killed:
            os.kill(pid, signal.SIGKILL)  # still unreaped, so the pid cannot have been reused
        if self.pidns_fd is None:
            try:  # fallback: the child's process group (still reserved by the unreaped child)
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        _, state.wait_status, state.rusage = os.wait4(pid, 0)

    def _drain(self, chan_r: int, out_r: int, reader: _FrameReader, state: _JobState, output: _OutputBuffer) -> None:
        """Read what is left in the pipes after the child is gone (without blocking)."""
        self._sweep(state)
        for fd in (chan_r, out_r):
            os.set_blocking(fd, False)
            while True:
                try:
                    data = os.read(fd, 1 << 16)
                except BlockingIOError:
                    break
                if not data:
                    break
                if fd == out_r:
                    output.add(data)
                elif not state.killed:
                    try:
                        self._absorb(reader, data, state)
                    except _ProtocolError as exc:
                        state.killed, state.killed_status = str(exc), "protocol"
        if reader.leftover() and not state.killed:
            state.killed, state.killed_status = "incomplete frame on the message channel", "protocol"

    def _sweep(self, state: _JobState) -> None:
        """Without a PID namespace: kill and reap whatever the child left behind.

        The zygote is a child subreaper, so orphaned (double-forked, setsid)
        processes become its children: kill them (all of the sandbox uid's
        processes when we have one, else our descendants) and reap them,
        repeating until none is left, since a process may fork mid-sweep.
        """
        if self.pidns_fd is not None:
            return  # the kernel already killed the whole namespace
        for _ in range(200):
            if self.isolation["zygote_pid_namespace"]:
                os.kill(-1, signal.SIGKILL)  # we are PID 1: everything but us
            elif self.uid is not None:
                _kill_all_of_uid(self.uid)
            else:
                for pid in _descendants():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            if not _reap_children():
                return
            time.sleep(0.002)
        print("sandbox: could not kill all leftover processes", file=sys.stderr)

    def _cleanup(self, pid: int, workdir: str) -> None:
        if self.isolation["mount_namespace"]:
            _reset_scratch(self.scratch_keep)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _kill_all_of_uid(uid: int) -> None:
    """kill(-1) as the sandbox uid reaches exactly its processes (and not us)."""
    os.setresuid(uid, uid, 0)  # saved uid 0: we can switch back
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    finally:
        os.setresuid(0, 0, 0)


def _descendants() -> list[int]:
    """All our descendants, via /proc/PID/task/TID/children (Linux only).

    Only valid when /proc shows our own PID namespace (not in zygote_pid_namespace mode).
    """
    found, todo = [], ["self"]
    while todo:
        parent = todo.pop()
        try:
            tids = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{parent}/task/{tid}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def _reap_children() -> bool:
    """Reap exited children; True if some child is still running."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def _has_exited(pid: int) -> bool:
    """Without pidfds (macOS): has the child exited?  Does not reap it (WNOWAIT)."""
    if hasattr(os, "waitid"):
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _classify(state: _JobState, limits: Limits) -> tuple[str, str]:
    """Map what happened to (status, detail)."""
    if state.killed:
        return state.killed_status, state.killed
    if state.error is not None:
        return state.error.get("status", "crashed"), state.error.get("detail", "")
    ws = state.wait_status
    if os.WIFSIGNALED(ws):
        sig = os.WTERMSIG(ws)
        ru = state.rusage
        if sig == signal.SIGKILL and ru is not None and ru.ru_utime + ru.ru_stime >= 0.95 * limits.cpu_seconds:
            return "cpu", f"killed after {ru.ru_utime + ru.ru_stime:.1f} s of CPU time (limit {limits.cpu_seconds:g} s)"
        if sig == signal.SIGKILL and ru is not None and ru.ru_maxrss * 1024 >= 0.9 * limits.memory_bytes:
            return "memory", f"killed at {ru.ru_maxrss >> 10} MiB resident (limit {limits.memory_bytes >> 20} MiB)"
        return "crashed", _signal_text(sig)
    code = os.WEXITSTATUS(ws) if os.WIFEXITED(ws) else -1
    if code == 0 and state.done:
        return "ok", ""
    return "exit", f"exit code {code}"


def _signal_text(sig: int) -> str:
    """E.g. 'segmentation fault (SIGSEGV)'."""
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    text = (signal.strsignal(sig) or name).lower()
    return f"{text} ({name})"


# ---------------------------------------------------------------------------
# Child side
# ---------------------------------------------------------------------------


class _Emitter:
    """The ``emit`` callable handed to ``payload.run``.

    Writes straight to the channel fd with os.write (no Python file objects),
    so it works even if student code closed or replaced fds 0-2 or sys.stdout.
    """

    def __init__(self, fd: int, max_bytes: int):
        self._fd = fd
        self._max = max_bytes
        self._encode = json.JSONEncoder(allow_nan=True, separators=(",", ":")).encode
        self._pack = _CHILD_HDR.pack
        self._write = _write_all

    def __call__(self, msg: dict) -> None:
        if not isinstance(msg, dict):
            raise TypeError("emit() takes a dict")
        self._frame(b"M", msg)

    def _frame(self, kind: bytes, obj: dict) -> None:
        body = self._encode(obj).encode()
        if len(body) > self._max:
            raise ValueError(f"message of {len(body)} bytes exceeds the {self._max}-byte limit")
        self._write(self._fd, self._pack(kind, len(body)) + body)


def _child_main(server: _Server, job: dict, limits: Limits, chan_w: int, out_w: int, workdir: str) -> None:
    """Set up the sandbox in the forked child, run the payload, and _exit."""
    emit = None
    try:
        _isolate_child(server, limits, chan_w, out_w, workdir)
        emit = _Emitter(_CHANNEL_FD, limits.message_bytes)
        server.payload.run(job, emit)
        _flush_std()
        emit._frame(b"D", {})
        os._exit(0)
    except SystemExit as exc:  # sys.exit() at the student's top level
        _flush_std()
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        os._exit(code & 0xFF)
    except BaseException as exc:  # noqa: BLE001 - report anything, then die
        status = "memory" if _is_memory_error(exc) else "crashed"
        detail = traceback.format_exc()
        try:
            (emit or _Emitter(_CHANNEL_FD, limits.message_bytes))._frame(b"E", {"status": status, "detail": detail[-65536:]})
        except BaseException:  # noqa: BLE001
            pass
        os._exit(70)


def _is_memory_error(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc))


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - student may have replaced or closed them
            pass


def _isolate_child(server: _Server, limits: Limits, chan_w: int, out_w: int, workdir: str) -> None:
    """Everything between fork and payload.run, in the order the kernel requires."""
    try:
        os.setsid()  # own process group: the fallback kill target
    except OSError:
        pass
    _redirect_fds(chan_w, out_w)
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(server.env)
    _set_rlimits(limits, server.uid is not None)
    _drop_privileges(server.uid, server.isolation)


def _redirect_fds(chan_w: int, out_w: int) -> None:
    """fd 0 = /dev/null, 1+2 = output pipe, 3 = channel; close everything else.

    This also closes the zygote's protocol pipes, so the child cannot talk to
    the caller directly.
    """
    chan, out = fcntl.fcntl(chan_w, fcntl.F_DUPFD, 1000), fcntl.fcntl(out_w, fcntl.F_DUPFD, 1000)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.dup2(chan, _CHANNEL_FD)
    os.closerange(_CHANNEL_FD + 1, _max_fd())
    os.set_inheritable(_CHANNEL_FD, False)  # student subprocesses do not get the channel by default


def _max_fd() -> int:
    """Upper bound for closerange (the soft RLIMIT_NOFILE, at most 2**20)."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return min(soft if soft > 0 else 1 << 20, 1 << 20)


def _set_rlimits(limits: Limits, nproc: bool) -> None:
    """CPU (hard = soft: SIGKILL), memory, file size, no cores, process and fd counts."""
    cpu = max(1, int(limits.cpu_seconds + 0.999))
    settings = [
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_FSIZE, _FSIZE),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NOFILE, _NOFILE),
    ]
    if hasattr(resource, "RLIMIT_DATA"):
        settings.append((resource.RLIMIT_DATA, limits.memory_bytes))
    if nproc and hasattr(resource, "RLIMIT_NPROC"):
        settings.append((resource.RLIMIT_NPROC, _NPROC))  # per uid: only meaningful after the uid drop
    for which, value in settings:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass
    _limit_address_space(limits.memory_bytes)


def _limit_address_space(memory_bytes: int) -> None:
    """RLIMIT_AS = what is mapped already (torch: ~640 MB) + the memory budget.

    RLIMIT_DATA alone misses file-backed and shared mappings; a plain
    RLIMIT_AS of the budget would break torch, which maps a lot up front.
    """
    try:
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return
    try:
        resource.setrlimit(resource.RLIMIT_AS, (mapped + memory_bytes, mapped + memory_bytes))
    except (ValueError, OSError):
        pass


def _drop_privileges(uid: int | None, isolation: dict) -> None:
    """Become the unprivileged sandbox uid, or shed namespace capabilities."""
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    elif isolation.get("user_namespace"):
        # We are "root" of our user namespace and could unmount the hiding
        # tmpfs; a nested user namespace leaves us without those capabilities.
        _linux.unshare(_linux.CLONE_NEWUSER)
    if _linux.AVAILABLE:
        _linux.prctl(_linux.PR_SET_NO_NEW_PRIVS, 1)
        _linux.prctl(_linux.PR_SET_PDEATHSIG, signal.SIGKILL)  # set after setuid, which clears it


# ---------------------------------------------------------------------------
# Zygote entry point
# ---------------------------------------------------------------------------


def _zygote_main() -> None:
    """Entry point of the zygote process (``python -I -u sandbox.py``)."""
    proto_in, proto_out = os.dup(0), os.dup(1)  # private copies; fds 0/1 get harmless targets
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)  # stray prints from prepare() go to stderr, never into the protocol
    spec = _recv_frame(proto_in)
    if _linux.AVAILABLE:
        _linux.prctl(_linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != spec["parent_pid"]:
        os._exit(0)  # the caller already died
    isolation = dict.fromkeys(
        ("pid_namespace", "mount_namespace", "network_namespace", "uid_drop", "rlimits", "user_namespace",
         "zygote_pid_namespace", "hidden_dirs", "readonly_fs", "proc_hidepid", "scratch_tmpfs"), False)
    isolation["rlimits"] = True
    if _linux.AVAILABLE:
        _enter_namespaces(isolation)  # before anything starts a thread
    server = _Server(spec, proto_in, proto_out, isolation)
    try:
        server.prepare()
    except BaseException:  # noqa: BLE001 - report to the caller, which raises
        _send_frame(proto_out, {"error": traceback.format_exc()})
        os._exit(1)
    _send_frame(proto_out, {"isolation": isolation, "sandbox_uid": server.uid, "pid": os.getpid()})
    server.serve()
    os._exit(0)


if __name__ == "__main__":
    _zygote_main()
