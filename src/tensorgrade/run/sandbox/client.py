"""The client's side: start a zygote, hand it jobs, read the results straight from the child.

Per job the client makes three pipes (job in, results out, stdout/stderr out),
passes the child's ends to the zygote over the control socket (SCM_RIGHTS) and
closes its copies: the zygote forks and forwards them without reading. The
client writes the job, verifies every result frame (framing.FrameReader:
hello first, then authenticated frames in sequence, nothing after done), keeps
at most `output_bytes` of output, and asks the zygote to kill the child at the
first invalid frame. The zygote's reply says how the child ended.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import select
import socket
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Callable, Mapping, Sequence

from tensorgrade.run.sandbox import framing, layers, namespaces
from tensorgrade.run.sandbox.limits import Limits, Outcome

_START_TIMEOUT = 180.0  # importing torch + prepare() on a cold machine
_REPLY_GRACE = 30.0  # the client waits total_seconds + this for the zygote
_MAX_TOTAL_RESULT_BYTES = 64 * 1024**2
_BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
             **{v: "1" for v in namespaces.THREAD_VARS}}
_ENTRY = Path(__file__).with_name("zygote.py")

# PR_SET_PDEATHSIG fires when the *thread* that forked the zygote exits, so
# all zygotes are spawned from one long-lived thread, not the caller's.
_spawner = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tg-zygote-spawner")


def _caller_sys_path() -> list[str]:
    return [os.path.abspath(p or os.getcwd()) for p in sys.path]


def _stop(proc: subprocess.Popen, sock: socket.socket) -> None:
    """Close the control socket (the zygote exits on EOF), then make sure it is gone."""
    try:
        sock.close()
    except OSError:
        pass
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class _Output:
    """Keeps the first `limit` bytes of the child's stdout+stderr and counts the rest."""

    def __init__(self, limit: int):
        self.limit, self.kept, self.dropped = limit, bytearray(), 0

    def add(self, data: bytes) -> None:
        room = max(self.limit - len(self.kept), 0)
        self.kept += data[:room]
        self.dropped += max(len(data) - room, 0)

    def text(self) -> str:
        text = self.kept.decode(errors="replace")
        return text + (f"\n[... {self.dropped} bytes truncated]" if self.dropped else "")


class Zygote:
    """A warm, sandboxing fork server for one payload module.

    `run` is blocking; calls on one Zygote are serialised by a lock. If the
    zygote dies, `run` reports status "crashed" and the next call starts a fresh one.
    """

    def __init__(self, payload: str, init: dict, *, hide: Sequence[str | Path] = (),
                 env: Mapping[str, str] | None = None, pid_namespace: bool = True, huge_pages: bool = False):
        hidden = [os.path.realpath(p) for p in hide]
        missing = [p for p in hidden if not os.path.exists(p)]
        if missing:
            raise FileNotFoundError(f"hide: create these before starting the zygote: {missing}")
        self._spec = {
            "payload": payload, "init": init, "hide": hidden, "sys_path": _caller_sys_path(),
            "pid_namespace": pid_namespace, "parent_pid": os.getpid(), "huge_pages": huge_pages,
            "child_env": {**_BASE_ENV, **dict(env or {}), "HOME": layers.WORKDIR, "TMPDIR": "/tmp"},
        }
        framing.dumps(self._spec)  # fail here, not in the zygote, if init is not JSON
        self._env = {**_BASE_ENV, "HOME": "/", **dict(env or {})}
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._ready: dict = {}
        self._finalizer: Callable | None = None
        self._start()

    # -- life cycle ---------------------------------------------------------
    def _start(self) -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        argv = [sys.executable, "-I", "-u", str(_ENTRY)]
        try:
            proc = _spawner.submit(subprocess.Popen, argv, stdin=theirs, env=self._env, cwd="/", close_fds=True,
                                   start_new_session=True).result()
        finally:
            theirs.close()
        self._proc, self._sock = proc, mine
        self._finalizer = weakref.finalize(self, _stop, proc, mine)
        try:
            framing.send_control(mine, self._spec)
            reply, _ = framing.recv_control(mine, time.monotonic() + _START_TIMEOUT)
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
        self._proc = self._sock = None

    def close(self) -> None:
        """Stop the zygote; it kills any running child (and its namespace) on exit."""
        with self._lock:
            self._discard()

    def __enter__(self) -> "Zygote":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def isolation(self) -> dict:
        """Which protections are active; keys listed under "measured" were measured inside a contained child."""
        return dict(self._ready.get("isolation", {}))

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def sandbox_uid(self) -> int | None:
        return self._ready.get("sandbox_uid")

    # -- jobs -----------------------------------------------------------------
    def run(self, job: dict, limits: Limits = Limits()) -> Outcome:
        """Run one job in a fresh contained child; never raises for child misbehaviour."""
        body = framing.dumps(job)  # a non-JSON job is the caller's bug: raise before sending
        with self._lock:
            started = time.monotonic()
            try:
                if self._proc is None:
                    self._start()
                return self._run(body, limits, started)
            except (OSError, EOFError, TimeoutError, ValueError, KeyError, TypeError, RuntimeError) as exc:
                self._discard()
                return Outcome([], "crashed", f"sandbox zygote failed: {exc!r}", "", time.monotonic() - started)

    def _run(self, body: bytes, limits: Limits, started: float) -> Outcome:
        job_r, job_w = os.pipe()
        chan_r, chan_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            framing.send_control(self._sock, {"op": "run", "limits": dataclasses.asdict(limits)}, [job_r, chan_w, out_w])
        finally:
            for fd in (job_r, chan_w, out_w):
                os.close(fd)
        reader = framing.FrameReader(limits.message_bytes, _MAX_TOTAL_RESULT_BYTES)
        output = _Output(limits.output_bytes)
        messages: list[dict] = []
        error: dict | None = None
        fault = ""
        reply = None
        pending = memoryview(body)
        os.set_blocking(job_w, False)
        open_fds = {chan_r, out_r}
        deadline = started + limits.total_seconds + limits.start_seconds + _REPLY_GRACE
        try:
            while reply is None or open_fds:
                if time.monotonic() > deadline:
                    raise TimeoutError("no reply from the sandbox zygote")
                wanted = [*open_fds] + ([self._sock] if reply is None else [])
                writable = [job_w] if pending is not None else []
                ready_r, ready_w, _ = select.select(wanted, writable, [], 1.0 if reply is None else 0.2)
                if reply is not None and not ready_r:
                    break  # the child is gone; whatever it left unread is not coming
                if ready_w:
                    try:
                        pending = pending[os.write(job_w, pending[:1 << 16]):]
                    except BlockingIOError:
                        pass
                    except BrokenPipeError:  # the child died before reading its job: the reply says why
                        pending = pending[len(pending):]
                    if not len(pending):
                        os.close(job_w)
                        job_w, pending = -1, None
                for fd in ready_r:
                    if fd is self._sock:
                        reply, _ = framing.recv_control(self._sock, time.monotonic() + 5)
                        continue
                    data = os.read(fd, 1 << 16)
                    if not data:
                        open_fds.discard(fd)
                    elif fd == out_r:
                        output.add(data)
                    elif not fault:
                        try:
                            for kind, value in reader.feed(data):
                                if kind == framing.MESSAGE:
                                    messages.append(value)
                                elif kind == framing.ERROR:
                                    error = value
                        except framing.ProtocolError as exc:
                            fault = str(exc)
                            if reply is None:
                                framing.send_control(self._sock, {"op": "kill", "why": fault, "status": "protocol"})
        finally:
            for fd in (chan_r, out_r, job_w):
                if fd >= 0:
                    os.close(fd)
        if reader.leftover() and not fault and reply.get("status") == "ok":
            fault = "an incomplete frame on the result channel"
        status, detail = _status(reply, reader, error, fault)
        return Outcome(messages, status, detail, output.text(), time.monotonic() - started, dict(reply.get("stopped", {})),
                       lean=bool(reply.get("lean")))


CHILD_FAILURES = ("memory", "crashed")  # what sandbox/child.py reports in its ERROR frame


def _status(reply: dict, reader: framing.FrameReader, error: dict | None, fault: str) -> tuple[str, str]:
    """Combine the zygote's view (how the child ended) with the client's (what the child said)."""
    if fault:
        return "protocol", fault
    status, detail = str(reply.get("status", "crashed")), str(reply.get("detail", ""))
    if error is not None and status in ("ok", "exit"):  # the child reported its own failure, then exited
        said = error.get("status")  # the child may only say how it failed, in the zygote's own vocabulary
        return (said if said in CHILD_FAILURES else "crashed"), str(error.get("detail", ""))
    if status != "ok":
        return status, detail
    if reader.key is None:
        return "crashed", "the sandboxed child ended before it could start"
    if not reader.done:
        return "exit", "exit code 0 before grading finished"
    return "ok", ""
