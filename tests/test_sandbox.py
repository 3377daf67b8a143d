"""Tests for tensorgrade.run.sandbox: every isolation promise, asserted exactly.

Student code is given as source in ``job["code"]`` and run by
``tests/sandbox_payload.py``, which emits ``{"result": ...}`` or
``{"error": "..."}``.  Tests that need root/Linux namespaces skip elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"
for _p in (str(SRC), str(TESTS)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from tensorgrade.run.sandbox import Limits, Outcome, Zygote  # noqa: E402

psutil = pytest.importorskip("psutil")

LINUX_ROOT = sys.platform.startswith("linux") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not LINUX_ROOT, reason="needs root on Linux (namespaces, uid drop)")
SECRET = "tg-secret-value-4711"
FAST = Limits(idle_seconds=2.0, total_seconds=10.0, cpu_seconds=10.0)


def _scratch_parent() -> str:
    """A place for hidden test dirs that is NOT /tmp (which the sandbox replaces anyway)."""
    for cand in ("/srv", "/var/lib", str(Path.home())):
        if os.access(cand, os.W_OK):
            return cand
    return tempfile.gettempdir()


@pytest.fixture(scope="module")
def dirs():
    """hidden/: a course dir with a secret; open/: world-writable but not hidden."""
    base = Path(tempfile.mkdtemp(prefix="tg-sandbox-test-", dir=_scratch_parent()))
    base.chmod(0o755)
    hidden, open_dir = base / "hidden", base / "open"
    for d in (hidden, open_dir):
        d.mkdir()
        d.chmod(0o777)  # only the sandbox, not permissions, may stop the child
    (hidden / "answers.txt").write_text("expected answer 42")
    (hidden / "answers.txt").chmod(0o666)
    yield {"hidden": hidden, "open": open_dir}
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def zygote(dirs):
    os.environ["TG_SECRET"] = SECRET  # the caller has a secret in its environment
    z = Zygote("sandbox_payload", {"warm": True}, hide=[dirs["hidden"]])
    yield z
    z.close()
    os.environ.pop("TG_SECRET", None)


def run(z: Zygote, code: str, limits: Limits = FAST) -> Outcome:
    return z.run({"code": textwrap.dedent(code)}, limits)


def result(outcome: Outcome):
    assert outcome.status == "ok", outcome
    assert outcome.messages and "result" in outcome.messages[-1], outcome
    return outcome.messages[-1]["result"]


def error(outcome: Outcome) -> str:
    assert outcome.status == "ok", outcome
    assert outcome.messages and "error" in outcome.messages[-1], outcome
    return outcome.messages[-1]["error"]


def sandbox_processes(uid: int | None) -> list:
    if uid is None:
        return []
    procs = []
    for p in psutil.process_iter(["uids"]):
        uids = p.info["uids"]
        if uids and uid in (uids.real, uids.effective, uids.saved):
            procs.append(p)
    return procs


def assert_serves(z: Zygote) -> None:
    """The zygote still works after whatever the previous job did."""
    assert result(run(z, "result = 6 * 7")) == 42


# -- basics ------------------------------------------------------------------


def test_normal_run_returns_messages(zygote):
    out = run(zygote, """
        emit({"step": 1, "nan": float("nan")})
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (x ** 2).sum().backward()
        print("hello")
        result = x.grad.tolist()
    """)
    assert out.status == "ok" and out.detail == ""
    assert out.messages[0]["step"] == 1 and out.messages[0]["nan"] != out.messages[0]["nan"]
    assert out.messages[1] == {"result": [2.0, 4.0]}
    assert out.output == "hello\n"
    assert 0 < out.seconds < 5


@needs_root
def test_isolation_report_as_root(zygote):
    iso = zygote.isolation
    for key in ("pid_namespace", "mount_namespace", "network_namespace", "uid_drop", "rlimits"):
        assert iso[key] is True, key
    uid, pid = result(run(zygote, "import os; result = [os.getuid(), os.getpid()]"))
    assert uid == zygote.sandbox_uid != 0
    assert pid == 1  # PID 1 of a fresh PID namespace


def test_emit_survives_closed_stdio(zygote):
    out = run(zygote, """
        import os, sys
        for fd in (0, 1, 2):
            os.close(fd)
        sys.stdout = None
        emit({"still": "here"})
        result = 1
    """)
    assert out.messages == [{"still": "here"}, {"result": 1}]
    assert out.status == "ok"


def test_student_exception_is_a_result(zygote):
    assert error(run(zygote, "raise ValueError('bad')")) == "ValueError: bad"


# -- time, CPU, memory ------------------------------------------------------------


def test_infinite_loop_times_out(zygote):
    out = run(zygote, "while True: pass", Limits(idle_seconds=1.0, total_seconds=10))
    assert out.status == "timeout"
    assert out.detail == "killed after 1 s without progress"
    assert out.seconds < 2.5
    assert_serves(zygote)


def test_sleep_times_out(zygote):
    out = run(zygote, "import time; time.sleep(1e9)", Limits(idle_seconds=1.0))
    assert (out.status, out.detail) == ("timeout", "killed after 1 s without progress")
    assert out.seconds < 2.5


def test_messages_never_extend_a_deadline(zygote):
    """Deadlines are per step of the progress page, on the zygote's clock: chatter on the channel moves nothing."""
    out = run(zygote, """
        import time
        while True:
            emit({"tick": 1})
            time.sleep(0.1)
    """, Limits(idle_seconds=0.5, total_seconds=10))
    assert out.status == "timeout"
    assert out.detail == "killed after 0.5 s without progress"
    assert 2 <= len(out.messages) <= 8
    assert out.seconds < 2


def test_each_step_has_its_own_deadline(zygote):
    """A new step (the next student call) starts a new deadline; the total limit still holds."""
    out = run(zygote, """
        import time
        for i in range(100):
            progress.step(2, 0, i, f"call{i}")
            time.sleep(0.3)
    """, Limits(idle_seconds=0.5, total_seconds=1.5))
    assert out.status == "timeout" and out.detail == "killed after 1.5 s (total time limit)"
    assert out.stopped["function"].startswith("call") and out.stopped["phase"] == "calling"


def test_cpu_limit(zygote):
    out = run(zygote, "while True: pass", Limits(cpu_seconds=1, idle_seconds=10))
    assert out.status == "cpu", out
    assert out.seconds < 3
    assert_serves(zygote)


@pytest.mark.parametrize("bomb", [
    "x = bytearray(10**11)",
    "x = torch.empty(10**11)",
    "chunks = []\nwhile True: chunks.append(bytearray(50 * 2**20))",
])
def test_memory_bomb(zygote, bomb):
    out = run(zygote, bomb, Limits(memory_bytes=512 * 2**20, idle_seconds=10))
    assert out.status == "memory", out
    assert "MemoryError" in out.detail or "can't allocate memory" in out.detail
    assert_serves(zygote)


# -- exits and crashes ------------------------------------------------------------


def test_os_exit(zygote):
    out = run(zygote, "import os; os._exit(3)")
    assert (out.status, out.detail) == ("exit", "exit code 3")


def test_sys_exit_at_top_level(zygote):
    out = run(zygote, "import sys; sys.exit(4)")
    assert (out.status, out.detail) == ("exit", "exit code 4")


def test_segfault(zygote):
    out = run(zygote, "import ctypes; ctypes.string_at(0)")
    assert out.status == "crashed"
    assert out.detail == "segmentation fault (SIGSEGV)"
    assert_serves(zygote)


# -- output -----------------------------------------------------------------


def test_megabytes_of_output_are_truncated(zygote):
    t0 = time.monotonic()
    out = run(zygote, """
        import os, sys
        for _ in range(100):
            sys.stdout.write("x" * 50_000)
            os.write(2, b"y" * 50_000)
        result = "done"
    """)
    assert result(out) == "done"
    assert time.monotonic() - t0 < 5
    kept = 64 * 1024
    assert out.output.startswith("x" * 1000)
    assert out.output.endswith(f"\n[... {10_000_000 - kept} bytes truncated]")
    assert len(out.output) < kept + 100


# -- processes ---------------------------------------------------------------------


@needs_root
def test_fork_flood_is_contained(zygote):
    out = run(zygote, """
        import os, time
        n = 0
        while n < 10_000:
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(100)
                os._exit(0)
            n += 1
        result = n
    """, Limits(idle_seconds=20, total_seconds=60))  # 64 forks of a torch process take seconds under load
    assert result(out) < 64  # RLIMIT_NPROC
    assert sandbox_processes(zygote.sandbox_uid) == []
    assert_serves(zygote)


DAEMON = """
    import os, signal, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(1.0)
            try:
                os.kill({victim}, signal.SIGKILL)
            except OSError:
                pass
            try:
                open("{target}", "w").write("escaped")
            except OSError:
                pass
            os._exit(0)
        os._exit(0)
    time.sleep(0.2)
    result = "daemon started"
"""


def _check_daemon_gone(z: Zygote, dirs) -> None:
    victim = subprocess.Popen(["sleep", "30"])
    target = dirs["hidden"] / "escaped.txt"
    try:
        out = run(z, DAEMON.format(victim=victim.pid, target=target))
        assert result(out) == "daemon started"
        assert sandbox_processes(z.sandbox_uid) == []
        time.sleep(1.5)  # past the daemon's wake-up time
        assert victim.poll() is None, "the daemon killed a process outside the sandbox"
        assert not target.exists()
    finally:
        victim.kill()
        victim.wait()


@needs_root
def test_setsid_daemon_dies_with_job(zygote, dirs):
    _check_daemon_gone(zygote, dirs)


@needs_root
def test_setsid_daemon_dies_without_pid_namespace(dirs):
    """Fallback: process-group kill + kill(-1) as the sandbox uid."""
    with Zygote("sandbox_payload", {}, hide=[dirs["hidden"]], pid_namespace=False) as z:
        assert z.isolation["pid_namespace"] is False
        _check_daemon_gone(z, dirs)


# -- file system ----------------------------------------------------------------


@needs_root
def test_hidden_dir_cannot_be_read(zygote, dirs):
    msg = error(run(zygote, f"result = open('{dirs['hidden'] / 'answers.txt'}').read()"))
    assert msg.startswith(("FileNotFoundError", "PermissionError"))
    msg = error(run(zygote, f"import os; result = os.listdir('{dirs['hidden']}')"))
    # hidden behind an empty mode-000 tmpfs, or gone with everything outside the system dirs
    assert msg.startswith(("PermissionError", "FileNotFoundError"))


@needs_root
def test_only_system_dirs_and_the_interpreter_stay_visible(zygote, dirs):
    """Whitelist confinement: a folder outside /usr, /etc, ... that nobody hid is gone too."""
    assert zygote.isolation["confined_fs"] is True
    msg = error(run(zygote, f"import os; result = os.listdir('{dirs['open']}')"))
    assert msg.startswith("FileNotFoundError"), msg
    assert result(run(zygote, "import torch, sys; result = sys.version_info[0]")) == 3


@needs_root
def test_hidden_and_other_dirs_cannot_be_written(zygote, dirs):
    for d in (dirs["hidden"], dirs["open"]):  # both are mode 0777 on the host
        msg = error(run(zygote, f"open('{d / 'planted.py'}', 'w').write('x')"))
        assert msg.startswith(("PermissionError", "OSError", "FileNotFoundError")), msg
        assert not (d / "planted.py").exists()


@needs_root
def test_tmp_is_empty_for_every_job(zygote):
    result(run(zygote, """
        import os
        for path in ("/tmp/left.txt", "/dev/shm/left", "/var/tmp/left", "left_in_workdir"):
            open(path, "w").write("for the next student")
        result = 1
    """))
    listing = result(run(zygote, """
        import os
        result = [sorted(os.listdir(p)) for p in ("/tmp", "/dev/shm", "/var/tmp", ".")]
    """))
    assert listing == [["work"], [], [], []]


@needs_root
def test_file_size_limit(zygote):
    msg = error(run(zygote, "open('big', 'wb').write(b'x' * (20 * 2**20))"))
    assert "File too large" in msg


# -- network, environment, protocol --------------------------------------------------


@needs_root
def test_no_network(zygote):
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        msg = error(run(zygote, f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=1)"))
        assert msg.startswith("OSError") or "refused" in msg or "unreachable" in msg
        server.settimeout(0.2)
        with pytest.raises(TimeoutError):
            server.accept()


def test_environment_is_scrubbed(zygote):
    assert os.environ["TG_SECRET"] == SECRET
    env = result(run(zygote, "import os; result = dict(os.environ)"))
    assert "TG_SECRET" not in env
    assert SECRET not in repr(env)
    assert set(env) <= {"PATH", "HOME", "LANG", "TMPDIR", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                        "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"}


@needs_root
def test_caller_environ_unreadable_via_proc(zygote):
    msg = error(run(zygote, f"result = open('/proc/{os.getpid()}/environ').read()"))
    assert msg.startswith(("FileNotFoundError", "PermissionError"))


@pytest.mark.parametrize("junk", [
    "os.write(3, b'garbage that is not a frame' * 100)",
    "import struct; os.write(3, struct.pack('>cI', b'M', 2**31))",  # oversized frame
    "import struct; os.write(3, struct.pack('>cI', b'M', 5) + b'{bad}')",  # invalid JSON
    "import struct; os.write(3, struct.pack('>cI', b'M', 3) + b'[1]')",  # not an object
    "import struct; os.write(3, struct.pack('>cI', b'M', 100) + b'{'); os._exit(0)",  # truncated
])
def test_junk_on_channel_is_protocol_error(zygote, junk):
    out = run(zygote, "import os\n" + junk + "\nimport time; time.sleep(0.5)")
    assert out.status == "protocol", out
    assert out.detail
    assert_serves(zygote)


# -- life cycle ----------------------------------------------------------------------


def test_close_leaves_no_processes():
    z = Zygote("sandbox_payload", {})
    pid, uid = z.pid, z.sandbox_uid
    out = run(z, "import time; time.sleep(0.1); result = 1")
    assert out.status == "ok"
    z.close()
    assert not _alive(pid)
    assert sandbox_processes(uid) == []


def test_killed_caller_leaves_no_zygote(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path[:0] = [{str(SRC)!r}, {str(TESTS)!r}]
        from tensorgrade.run.sandbox import Zygote
        z = Zygote("sandbox_payload", {{}})
        print(z.pid, flush=True)
        z.run({{"code": "import time; time.sleep(60)"}})
    """)
    caller = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    zygote_pid = int(caller.stdout.readline())
    time.sleep(0.3)  # let the job start
    caller.kill()
    caller.wait()
    deadline = time.monotonic() + 5
    while _alive(zygote_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(zygote_pid)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a non-reaping init does not count)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _memory_of(pid: int) -> bytes:
    """The readable, writable memory of a process (we are root: /proc/PID/mem)."""
    chunks = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            addresses, perms = line.split()[:2]
            if not perms.startswith("rw"):
                continue
            start, end = (int(a, 16) for a in addresses.split("-"))
            try:
                mem.seek(start)
                chunks.append(mem.read(end - start))
            except (OSError, ValueError, OverflowError):
                pass
    return b"".join(chunks)


@pytest.mark.skipif(os.geteuid() != 0 or not sys.platform.startswith("linux"), reason="reads /proc/PID/mem as root")
def test_the_zygote_never_holds_a_job_or_its_results(zygote):
    """Jobs and results pass between the client and the child only: a later child forked from the
    zygote inherits nothing of an earlier student."""
    marker = "TG-JOB-MARKER-" + os.urandom(6).hex()
    printed = "TG-RESULT-MARKER-" + os.urandom(6).hex()
    out = run(zygote, f"""
        source_text = {marker!r} * 50
        print({printed!r})
        result = {printed!r}
    """)
    assert result(out) == printed and printed in out.output
    memory = _memory_of(zygote.pid)
    assert marker.encode() not in memory
    assert printed.encode() not in memory


WRITER = "writer = emit.__closure__[0].cell_contents\n"  # the child's own frame writer (test payload only)


def test_an_authentic_but_100000_deep_frame_is_a_protocol_fault_and_the_zygote_serves_on(zygote):
    out = run(zygote, WRITER + "writer._encode = lambda obj: '[' * 100000 + ']' * 100000\nemit({})")
    assert out.status == "protocol" and "frame" in out.detail, out
    assert_serves(zygote)


@pytest.mark.parametrize("said", ["ok", "=HYPERLINK(1)", 5, None])
def test_a_child_cannot_choose_its_status(zygote, said):
    out = run(zygote, "import os\nfrom tensorgrade.run.sandbox import framing\n" + WRITER
              + f"writer.frame(framing.ERROR, {{'status': {said!r}, 'detail': 'x'}})\nos._exit(0)")
    assert out.status == "crashed", out


def _huge_pages_on() -> bool:
    try:
        mode = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return False
    return "[never]" not in mode and tuple(map(int, os.uname().release.split(".")[:2])) >= (6, 1)


@pytest.mark.skipif(not _huge_pages_on(), reason="needs transparent huge pages and MADV_COLLAPSE (Linux 6.1+)")
def test_a_zygote_of_many_children_backs_its_heap_with_huge_pages_and_its_children_still_work(dirs):
    def huge_kb(pid: int) -> int:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        return int(next(line.split()[1] for line in rollup.splitlines() if line.startswith("AnonHugePages")))

    with Zygote("sandbox_payload", {"warm": True}, hide=[dirs["hidden"]], huge_pages=True) as many, \
            Zygote("sandbox_payload", {"warm": True}, hide=[dirs["hidden"]]) as one:
        for zygote in (many, one):  # the collapse comes after the first child, which does not wait for it
            assert result(run(zygote, "result = 1")) == 1
        assert huge_kb(many.pid) >= 2048 and huge_kb(one.pid) < huge_kb(many.pid)
        for _ in range(3):  # children forked from huge pages copy on write as before: each starts clean
            assert result(run(many, "import torch; x = torch.ones(3, requires_grad=True); (x * x).sum().backward(); "
                                    "result = x.grad.tolist()")) == [2.0, 2.0, 2.0]
