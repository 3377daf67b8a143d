"""The zygote: set up once (layers.ZYGOTE_LAYERS), then fork one contained child per job.

The zygote never receives, parses or holds a job or a result: a "run" request
carries only limits and three file descriptors (the job's pipe, the result
channel, the output pipe) that go straight to the forked child and are closed
here right after fork. What the zygote does per job is supervision: it reads
the child's progress page on its own clock and kills a step that outlasts its
limit, kills on the client's request (a protocol fault it detected), reaps
everything the child started, resets the scratch file systems, and replies
with how the child ended.
"""

from __future__ import annotations

import dataclasses
import os
import select
import shutil
import signal
import socket
import sys
import time
import traceback

from tensorgrade.run.sandbox import framing, layers, linux, mounts
from tensorgrade.run.sandbox.child import child_main
from tensorgrade.run.sandbox.limits import Limits
from tensorgrade.run.sandbox.progress import CALLING, FINISHED, GRADER, IMPORTING, STARTING, Progress

POLL_SECONDS = 0.02  # how often the progress page is read while a child runs


@dataclasses.dataclass
class _Job:
    killed: str = ""  # detail, when we ended the job
    killed_status: str = ""  # "timeout" | "protocol"
    wait_status: int = 0
    rusage: object = None


class Server:
    def __init__(self, state: layers.ZygoteState, sock: socket.socket):
        self.z, self.sock = state, sock
        self.progress = Progress()
        self.pidfd_ok = hasattr(os, "pidfd_open")

    # -- the loop -----------------------------------------------------------
    def serve(self) -> None:
        after_first = list(layers.AFTER_FIRST_JOB)
        while True:
            try:
                request, fds = framing.recv_control(self.sock, want_fds=3)
            except (EOFError, ConnectionError):
                return
            if request.get("op") != "run" or len(fds) != 3:
                for fd in fds:
                    os.close(fd)
                framing.send_control(self.sock, {"status": "crashed", "detail": "malformed request to the zygote"})
                continue
            reply = self.run_job(Limits(**request["limits"]), *fds)
            framing.send_control(self.sock, reply)
            for _name, step in after_first:
                try:
                    step(self.z)
                except Exception:  # noqa: BLE001 - a speed-up that fails leaves the zygote as it was
                    traceback.print_exc()
            after_first = []

    def run_job(self, limits: Limits, job_r: int, chan_w: int, out_w: int, probe: bool = False) -> dict:
        started = time.monotonic()
        lean = layers.payload_lean(self.z)  # what the child inherits: it is forked from the zygote as it is now
        workdir = self._workdir()
        self.progress.reset()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = self._fork()
        if pid == 0:
            ctx = layers.ChildContext(self.z, limits, job_r, chan_w, out_w, workdir)
            child_main(ctx, self.progress, probe)  # never returns
        for fd in (job_r, chan_w, out_w):
            os.close(fd)  # nothing of the job passes through here
        job = _Job()
        try:
            self._supervise(pid, limits, job)
        finally:
            self._kill_and_reap(pid, job)
            self._sweep()
            self._cleanup(workdir)
        status, detail = _classify(job, limits)
        return {"status": status, "detail": detail, "stopped": self.progress.state(),
                "seconds": time.monotonic() - started, "lean": lean}

    def _workdir(self) -> str:
        if self.z.isolation.get("mount_namespace"):
            path = layers.WORKDIR  # on our private /tmp tmpfs, re-created every job
            os.makedirs(path, mode=0o700, exist_ok=True)
        else:
            import tempfile

            path = tempfile.mkdtemp(prefix="tg-job-")
        if self.z.uid is not None:
            os.chown(path, self.z.uid, self.z.uid)
        return path

    def _fork(self) -> int:
        """fork(), inside a fresh PID namespace when available (child = its PID 1)."""
        if self.z.pidns_fd is None:
            return os.fork()
        linux.unshare(linux.CLONE_NEWPID)
        pid = os.fork()
        if pid != 0:
            linux.setns(self.z.pidns_fd, linux.CLONE_NEWPID)  # so the next unshare works
        return pid

    # -- supervision ----------------------------------------------------------
    def _supervise(self, pid: int, limits: Limits, job: _Job) -> None:
        """Until the child exits: one deadline per step of the progress page, on this clock."""
        step_limit = {STARTING: limits.start_seconds, IMPORTING: limits.idle_seconds, CALLING: limits.idle_seconds,
                      GRADER: limits.idle_seconds, FINISHED: limits.idle_seconds}
        start = time.monotonic()
        total_deadline = start + limits.total_seconds
        seen_seq, step_start = -1, start
        pidfd = os.pidfd_open(pid) if self.pidfd_ok else None
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        try:
            while True:
                now = time.monotonic()
                seq, phase, *_ = self.progress.read()
                if seq != seen_seq:
                    seen_seq, step_start = seq, now
                limit = step_limit.get(phase, limits.idle_seconds)
                if now >= total_deadline:
                    job.killed, job.killed_status = f"killed after {limits.total_seconds:g} s (total time limit)", "timeout"
                    return
                if now >= step_start + limit:
                    job.killed, job.killed_status = f"killed after {limit:g} s without progress", "timeout"
                    return
                wait = min(POLL_SECONDS, total_deadline - now, step_start + limit - now)
                for fd, _ in poller.poll(max(1, int(wait * 1000))):
                    if fd == pidfd:
                        return
                    if fd == self.sock.fileno():
                        try:
                            request, fds = framing.recv_control(self.sock, time.monotonic() + 5, want_fds=3)
                        except (EOFError, ConnectionError, TimeoutError, ValueError):
                            os.kill(pid, signal.SIGKILL)
                            os._exit(0)  # the client is gone; the child dies with its PID namespace/PDEATHSIG
                        for extra in fds:
                            os.close(extra)
                        job.killed = str(request.get("why", "stopped by the grader"))[:500]
                        job.killed_status = str(request.get("status", "protocol"))[:20]
                        return
                if pidfd is None and _has_exited(pid):
                    return
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def _kill_and_reap(self, pid: int, job: _Job) -> None:
        """SIGKILL the child (taking its PID namespace with it) and collect its status."""
        if job.killed:
            os.kill(pid, signal.SIGKILL)  # still unreaped, so the pid cannot have been reused
        if self.z.pidns_fd is None:
            try:  # fallback: the child's process group (still reserved by the unreaped child)
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        _, job.wait_status, job.rusage = os.wait4(pid, 0)

    def _sweep(self) -> None:
        """Without a PID namespace: kill and reap whatever the child left behind (we are a subreaper)."""
        if self.z.pidns_fd is not None:
            return  # the kernel already killed the whole namespace
        for _ in range(200):
            if self.z.isolation.get("zygote_pid_namespace"):
                os.kill(-1, signal.SIGKILL)  # we are PID 1: everything but us
            elif self.z.uid is not None:
                _kill_all_of_uid(self.z.uid)
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

    def _cleanup(self, workdir: str) -> None:
        if self.z.isolation.get("mount_namespace"):
            mounts.reset_scratch(self.z.scratch_keep)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    # -- the isolation report --------------------------------------------------
    def measure(self) -> dict:
        """Run the probe in a contained child; what it measured overrides what the layers claimed."""
        job_r, job_w = os.pipe()
        chan_r, chan_w = os.pipe()
        out_r, out_w = os.pipe()
        os.close(job_w)
        reply = self.run_job(Limits(idle_seconds=10, start_seconds=10), job_r, chan_w, out_w, probe=True)
        os.close(out_r)
        data = b""
        os.set_blocking(chan_r, False)
        try:
            while chunk := os.read(chan_r, 1 << 16):
                data += chunk
        except BlockingIOError:
            pass
        os.close(chan_r)
        try:
            return dict(framing.json.loads(data or b"{}"))
        except ValueError:
            print(f"sandbox: the isolation probe failed: {reply}", file=sys.stderr)
            return {}


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
    """All our descendants, via /proc/PID/task/TID/children (Linux only)."""
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


def _classify(job: _Job, limits: Limits) -> tuple[str, str]:
    """How the child ended, as (status, detail); the client combines it with the frames it received."""
    if job.killed:
        return job.killed_status, job.killed
    ws = job.wait_status
    if os.WIFSIGNALED(ws):
        sig = os.WTERMSIG(ws)
        ru = job.rusage
        used = (ru.ru_utime + ru.ru_stime) if ru is not None else 0.0
        if sig == signal.SIGKILL and used >= 0.95 * limits.cpu_seconds:
            return "cpu", f"killed after {used:.1f} s of CPU time (limit {limits.cpu_seconds:g} s)"
        if sig == signal.SIGKILL and ru is not None and ru.ru_maxrss * 1024 >= 0.9 * limits.memory_bytes:
            return "memory", f"killed at {ru.ru_maxrss >> 10} MiB resident (limit {limits.memory_bytes >> 20} MiB)"
        return "crashed", _signal_text(sig)
    code = os.WEXITSTATUS(ws) if os.WIFEXITED(ws) else -1
    return ("ok", "") if code == 0 else ("exit", f"exit code {code}")


def _signal_text(sig: int) -> str:
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    return f"{(signal.strsignal(sig) or name).lower()} ({name})"


def main() -> None:
    """Entry point of the zygote process (`python -I -u zygote.py`, fd 0 = the control socket)."""
    sock = socket.socket(fileno=os.dup(0))
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)  # stray prints from prepare() go to stderr, never into the protocol
    spec, _ = framing.recv_control(sock)
    if linux.AVAILABLE:
        linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != spec["parent_pid"]:
        os._exit(0)  # the client already died
    state = layers.ZygoteState(spec=spec, isolation={"user_namespace": False, "zygote_pid_namespace": False})
    try:
        for name, layer in layers.ZYGOTE_LAYERS:
            state.isolation[name] = bool(layer(state))
    except BaseException:  # noqa: BLE001 - report to the client, which raises
        framing.send_control(sock, {"error": traceback.format_exc()})
        os._exit(1)
    try:
        state.spec["zygote_ipc"] = os.readlink("/proc/self/ns/ipc")
    except OSError:
        state.spec["zygote_ipc"] = ""
    server = Server(state, sock)
    claimed = dict(state.isolation)
    measured = server.measure()
    isolation = {**claimed, **measured, "measured": sorted(measured)}
    framing.send_control(sock, {"isolation": isolation, "sandbox_uid": state.uid, "pid": os.getpid()})
    server.serve()
    os._exit(0)
