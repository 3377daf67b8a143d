"""The zygote's view of the file system, set up once in its private mount namespace.

A whitelist: every top-level directory but the OS's is covered by an empty
tmpfs, the interpreter's import roots are bound back, the course and class
folders are hidden, everything is re-mounted read-only, /proc shows only our
own processes, and /tmp, /var/tmp, /dev/shm are fresh size-capped tmpfs,
re-created after every job. Standard library only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tensorgrade.run.sandbox import linux as _linux

SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
# Top-level directories the child keeps seeing (the OS); every other one is covered (see confine).
SYSTEM_DIRS = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "sys", "tmp", "usr", "var"}
SCRATCH_OPTS = "mode=1777,size=64m,nr_inodes=16384"


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


def expose_interpreter(paths: list[str]) -> None:
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


def import_roots() -> list[str]:
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


def confine(keep: list[str]) -> bool:
    """Cover every top-level directory except the system ones with an empty tmpfs, binding back only `keep`.

    A whitelist, not a blacklist: other copies of a course on the machine (a
    checkout under /work or /home, an old output folder) vanish from the child's
    view along with everything else that is not the OS or the interpreter.
    """
    ok = True
    for name in sorted(os.listdir("/")):
        top = "/" + name
        if name in SYSTEM_DIRS or os.path.islink(top) or not os.path.isdir(top):
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


def hide(paths: list[str]) -> bool:
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


def make_readonly() -> bool:
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


def mount_hidepid_proc() -> bool:
    """A fresh /proc showing non-root processes only their own uid's processes."""
    try:
        _linux.mount("proc", "/proc", "proc", _linux.MS_NOSUID | _linux.MS_NODEV | _linux.MS_NOEXEC, "hidepid=2")
        return True
    except OSError:
        return False


def scratch_keep(roots: list[str]) -> dict[str, int]:
    """O_PATH handles on import roots that live under a scratch dir (a virtualenv in /tmp, say)."""
    under = [r for r in roots if any(r.startswith(d + "/") for d in SCRATCH_DIRS)]
    return {r: os.open(r, os.O_PATH) for r in under if os.path.isdir(r)}


def _bind_back(keep: dict[str, int], scratch: str) -> None:
    """Re-attach kept import roots inside a freshly mounted scratch dir (read-only)."""
    for path, fd in keep.items():
        if path.startswith(scratch + "/"):
            os.makedirs(path, exist_ok=True)
            _linux.mount(f"/proc/self/fd/{fd}", path, None, _linux.MS_BIND | _linux.MS_REC)
            _linux.mount(None, path, None, _linux.MS_BIND | _linux.MS_REMOUNT | _linux.MS_RDONLY)


def reset_scratch(keep: dict[str, int] | None = None) -> bool:
    """Fresh, size-capped tmpfs on /tmp, /var/tmp, /dev/shm; nothing survives a job.

    Import roots under them (`keep`) are bound back read-only, so an interpreter or
    virtualenv installed in /tmp still works in the child.
    """
    ok = True
    for path in SCRATCH_DIRS:
        if not os.path.isdir(path):
            continue
        try:
            _linux.umount(path, _linux.MNT_DETACH)
        except OSError:
            pass  # first call: nothing of ours mounted yet
        try:
            _linux.mount("tmpfs", path, "tmpfs", _linux.MS_NOSUID | _linux.MS_NODEV, SCRATCH_OPTS)
            _bind_back(keep or {}, path)
        except OSError:
            ok = False
    return ok

