"""Namespaces, the sandbox uid and torch's threads: the zygote's first set-up steps.

Entered before anything starts a thread (torch does): a user namespace is only
granted to a single-threaded process. Standard library only.
"""

from __future__ import annotations

import os
import signal

from tensorgrade.run.sandbox import linux as _linux

SANDBOX_UID_BASE = 1_900_000_000  # + zygote pid: one private uid per zygote
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def enter_namespaces(isolation: dict) -> None:
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
        isolation["zygote_pid_namespace"] = become_pid_namespace_init()
    _linux.mount(None, "/", None, _linux.MS_REC | _linux.MS_PRIVATE)  # or mounts leak to the host
    isolation["mount_namespace"] = isolation["network_namespace"] = True


def become_pid_namespace_init() -> bool:
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


def open_pid_namespace(wanted: bool) -> int | None:
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


def _id_mapped(ident: int, map_file: str) -> bool:
    """Is ident usable in our user namespace (always true outside containers)?"""
    try:
        with open(map_file) as f:
            ranges = [tuple(map(int, line.split())) for line in f if line.strip()]
    except OSError:
        return True
    return any(inside <= ident < inside + count for inside, _outside, count in ranges)


def pick_sandbox_uid() -> int | None:
    """A private uid (and equal gid) per zygote, so RLIMIT_NPROC and kill(-1)
    concern only this zygote's children; 65534 in containers that map few ids."""
    for uid in (SANDBOX_UID_BASE + os.getpid(), 65534):
        if _id_mapped(uid, "/proc/self/uid_map") and _id_mapped(uid, "/proc/self/gid_map"):
            return uid
    return None


def limit_threads() -> None:
    """One OpenMP/MKL thread: forking after a parallel region hangs children."""
    for var in THREAD_VARS:
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

