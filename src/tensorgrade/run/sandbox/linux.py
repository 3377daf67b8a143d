"""Thin ctypes wrappers for the Linux syscalls the sandbox needs.

Python 3.11 has no ``os.unshare``/``os.setns`` and no ``mount``; these helpers
call libc directly and raise ``OSError`` with the real errno, so the caller can
decide whether a failure means "feature unavailable" (degrade) or a bug.

This module is stdlib-only and safe to import on any platform: on non-Linux
systems ``AVAILABLE`` is False and every helper raises ``OSError(ENOSYS)``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import sys

AVAILABLE = sys.platform.startswith("linux")

# <sched.h>
CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# <sys/mount.h>
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MNT_DETACH = 2

# <sys/prctl.h>
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

_libc = None


def _lib() -> ctypes.CDLL:
    """Load libc lazily (with errno support) so importing this module is free."""
    global _libc
    if not AVAILABLE:
        raise OSError(errno.ENOSYS, "not Linux")
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def _check(result: int, what: str) -> int:
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def unshare(flags: int) -> None:
    """Move the calling process into new namespaces (see unshare(2))."""
    _check(_lib().unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int) -> None:
    """Join the namespace referred to by ``fd`` (see setns(2))."""
    _check(_lib().setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    """mount(2); ``None`` arguments become NULL pointers."""
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _check(
        _lib().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {target}",
    )


def umount(target: str, flags: int = 0) -> None:
    """umount2(2)."""
    _check(_lib().umount2(os.fsencode(target), ctypes.c_int(flags)), f"umount {target}")


def prctl(option: int, arg: int = 0) -> None:
    """prctl(2) with one argument (the others zero)."""
    _check(
        _lib().prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)),
        "prctl",
    )


def write_file(path: str, text: str) -> None:
    """Write a small /proc control file (uid_map, setgroups) in one write(2)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# <sys/mman.h>
MADV_COLLAPSE = 25  # Linux 6.1+
HUGE_PAGE = 2 * 1024 * 1024


def collapse_heap() -> int:
    """Back this process's private anonymous memory with 2 MiB pages where the kernel can (MADV_COLLAPSE);
    returns how many. A fork then copies one page-table entry per 2 MiB instead of 512, and the child's
    exit unmaps as few; a child's write still copies only the 4 KiB page it touches. Kernels without
    the call (or with transparent huge pages off) refuse it: nothing changes, nothing fails."""
    if not AVAILABLE:
        return 0
    madvise = _lib().madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    collapsed = 0
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    for fields in regions:
        perms, path = fields[1], fields[5] if len(fields) > 5 else ""
        if not (perms.startswith("rw") and perms.endswith("p")) or path not in ("", "[heap]"):
            continue
        low, high = (int(v, 16) for v in fields[0].split("-"))
        start = -(-low // HUGE_PAGE) * HUGE_PAGE
        for address in range(start, high - HUGE_PAGE + 1, HUGE_PAGE):
            collapsed += madvise(address, HUGE_PAGE, MADV_COLLAPSE) == 0
    return collapsed
