"""Per-student CPU breakdown of `tensorgrade grade`, adding up to the measured CPU (issue 13, item 3).

Grades a realistic class (benchmarks/bench_speed.realistic_class: 3 in 4 hand in solutions/, 1 in 4 one
mistake from graders/mistakes/) twice with `tensorgrade grade SUBS -o OUT --no-pdf --workers W`:

  1. plain run       the CLI in a subprocess, nothing added. Measured: os.times() children of this script
                     (CLI + zygotes + sandboxed children, all reaped), split by /proc/<pid>/stat into the
                     grading process, the zygotes (utime+stime) and their children (the zygotes' cutime+cstime).
  2. profiled run    the same CLI (tensorgrade.cli.main) in a driver process that attributes CPU to code:
       grading process  a sampler thread reads every thread's CPU clock (time.pthread_getcpuclockid) every
                        ~2 ms and charges the CPU used since the last look to that thread's current stack
                        (CPU-weighted sampling: the charges add up to the threads' CPU by construction);
       zygote           its Server methods (fork, supervise, reap, sweep, scratch reset) timed with
                        time.process_time; the rest of its serve loop is the control frames;
       children         a SIGPROF timer (setitimer ITIMER_PROF, 2 ms) in each forked child charges the
                        process CPU used since the last signal to the interrupted stack; CPU before the timer
                        starts (fork return) and after the last sample (exit teardown) comes from wait4's
                        rusage. The payload module is a thin wrapper around tensorgrade.run.child (same
                        prepare, same run) that installs these probes; samples travel back through a shared
                        anonymous mmap, never through the result channel.
     Then every stack is put in one row of the table (first matching rule, see GRADING_RULES / CHILD_RULES).

The table: ms of CPU per student, each row from the profiled run, the total of the rows against both
runs' measured totals (the profiled run costs a few per cent more: the probes). One-off start-up (imports,
torch warm-up in the zygotes) is shown on its own rows, spread over the class, as bench_speed counts it.

py-spy is not needed. With --py-spy FILE (if py-spy is installed) a third run records the grading process
and zygotes as a raw flamegraph for browsing; py-spy --subprocesses sees only part of the short-lived
children (it finds a new process after it started: first milliseconds missed, some children missed
entirely) and slows the run several-fold, which is why the children are measured from inside here.

    python benchmarks/bench_breakdown.py [--n 160] [--workers 2] [--keep DIR] [--py-spy FILE] [--top 0]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_speed import realistic_class  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


# -- totals from /proc ------------------------------------------------------------------------------
def _stat(pid: int) -> tuple[float, float] | None:
    """(self, reaped children) CPU seconds of a process, from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime) / TICK, (cutime + cstime) / TICK


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return kids


def run_measured(cmd: list[str], env: dict) -> dict:
    """Run cmd; total CPU from os.times (children), zygotes' self and children CPU from /proc polled at 20 Hz."""
    before = os.times()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    zygotes: dict[int, tuple[float, float]] = {}
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            for kid in _children(proc.pid):
                if "zygote.py" in _cmdline(kid):
                    st = _stat(kid)
                    if st is not None:
                        zygotes[kid] = st
            time.sleep(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    out, err = proc.communicate()
    ended = time.time()
    done.set()
    poller.join()
    after = os.times()
    if proc.returncode:
        raise SystemExit(f"{cmd[:4]}... failed ({proc.returncode}):\n{err[-3000:]}")
    total = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    zyg_self = sum(s for s, _ in zygotes.values())
    zyg_kids = sum(c for _, c in zygotes.values())
    return {"total": total, "zygote": zyg_self, "children": zyg_kids, "grading": total - zyg_self - zyg_kids,
            "zygotes": len(zygotes), "stdout": out, "ended": ended}


# -- the probes (run in the zygote and its children) ---------------------------------------------------
PROBE = r'''
"""Bench-only payload: tensorgrade.run.child with CPU probes in the zygote and in every forked child."""
import json, mmap, os, resource, signal, struct, time
import tensorgrade.run.child as _real
from tensorgrade.run.sandbox import child as _schild, server as _server

OUT = @OUT@
SHM = mmap.mmap(-1, 1 << 23)  # MAP_SHARED, anonymous: written by a child, read by the zygote after wait4
_fd = None
_zyg = {"start": 0.0, "jobs": 0, "fork": 0.0, "workdir": 0.0, "supervise": 0.0, "reap": 0.0, "sweep": 0.0,
        "scratch_reset": 0.0}
_stacks = {}
_cpu = [0.0, 0.0]  # process CPU at the last sample, the handler's own CPU


def _key(frame):
    parts = []
    while frame is not None:
        code = frame.f_code
        parts.append(f"{code.co_filename}:{code.co_name}")
        frame = frame.f_back
    return ";".join(reversed(parts))


def _on_prof(sig, frame):
    t0 = time.process_time()
    try:
        key = _key(frame)
        _stacks[key] = _stacks.get(key, 0.0) + (t0 - _cpu[0])
    except BaseException:
        pass
    t1 = time.process_time()
    _cpu[0] = t1
    _cpu[1] += t1 - t0


class _Os:
    """os for tensorgrade.run.sandbox.child: _exit first stops the timer and leaves the samples in SHM."""
    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def _exit(code):
        signal.setitimer(signal.ITIMER_PROF, 0)
        now = time.process_time()
        try:
            key = _key(__import__("sys")._getframe(1)) + ";<after last sample>"
        except BaseException:
            key = "<after last sample>"
        _stacks[key] = _stacks.get(key, 0.0) + (now - _cpu[0])
        data = json.dumps({"stacks": _stacks, "handler": _cpu[1], "dump_at": now, "start": _START[0]}).encode()
        if len(data) + 4 <= len(SHM):
            SHM[:4 + len(data)] = struct.pack("<I", len(data)) + data
        os._exit(code)


_START = [0.0]


def _child_main(ctx, progress, probe=False):
    SHM[:4] = b"\0\0\0\0"
    _START[0] = _cpu[0] = time.process_time()  # fork return up to here
    signal.signal(signal.SIGPROF, _on_prof)
    signal.setitimer(signal.ITIMER_PROF, 0.002, 0.002)
    _schild.os = _Os()
    _schild.child_main(ctx, progress, probe)


def _timed(name, fn):
    def wrapper(*a, **k):
        t0 = time.process_time()
        try:
            return fn(*a, **k)
        finally:
            _zyg[name] += time.process_time() - t0
    return wrapper


def _patch():
    S = _server.Server
    S._workdir = _timed("workdir", S._workdir)
    S._supervise = _timed("supervise", S._supervise)
    S._sweep = _timed("sweep", S._sweep)
    S._cleanup = _timed("scratch_reset", S._cleanup)
    fork = S._fork

    def _fork(self):
        t0 = time.process_time()
        pid = fork(self)
        if pid:
            _zyg["fork"] += time.process_time() - t0
        return pid
    S._fork = _fork
    reap = S._kill_and_reap

    def _kill_and_reap(self, pid, job):
        t0 = time.process_time()
        reap(self, pid, job)
        _zyg["reap"] += time.process_time() - t0
        ru = job.rusage
        (n,) = struct.unpack("<I", SHM[:4])
        sample = json.loads(SHM[4:4 + n]) if n else {}
        sample["rusage"] = ru.ru_utime + ru.ru_stime
        sample["probe_job"] = _zyg["jobs"] == 0  # the isolation probe the zygote runs at start
        _zyg["jobs"] += 1
        os.write(_fd, (json.dumps({"child": sample}) + "\n").encode())
    S._kill_and_reap = _kill_and_reap
    serve = S.serve

    def _serve(self):
        _zyg["start"] = time.process_time()  # torch import, prepare, layers, the isolation probe
        try:
            serve(self)
        finally:
            _zyg["total"] = time.process_time()
            os.write(_fd, (json.dumps({"zygote": _zyg}) + "\n").encode())
    S.serve = _serve
    _server.child_main = _child_main


def prepare(init):
    global _fd
    _fd = os.open(OUT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)  # before the file system is confined
    _patch()
    _real.prepare(init)


run = _real.run
'''

DRIVER = r'''
import json, os, resource, sys, threading, time
root, subs, out, probe_dir, data, workers = sys.argv[1:7]
sys.path.insert(0, probe_dir)  # the zygote gets this process's sys.path
from tensorgrade.run.sandbox import client
init = client.Zygote.__init__
def patched(self, payload, *a, **k):
    init(self, "tg_breakdown_probe" if payload == "tensorgrade.run.child" else payload, *a, **k)
client.Zygote.__init__ = patched

stacks, done, me = {}, threading.Event(), threading.get_ident()
sampler_cpu = [0.0]
def sample():
    last = {}
    while not done.is_set():
        frames = sys._current_frames()
        owners = {th.ident: th for th in threading.enumerate()}  # an id is reused by a later thread
        for tid, frame in frames.items():
            if tid == me_sampler[0]:
                continue
            try:
                cpu = time.clock_gettime(time.pthread_getcpuclockid(tid))  # not cached: thread ids are reused
            except OSError:
                continue
            seen = last.get(tid)
            delta = cpu - (seen[1] if seen and seen[0] is owners.get(tid) else 0.0)
            last[tid] = (owners.get(tid), cpu)
            if delta <= 0:
                continue
            parts = []
            f = frame
            while f is not None:
                parts.append(f"{f.f_code.co_filename}:{f.f_code.co_name}")
                f = f.f_back
            key = ";".join(reversed(parts))
            stacks[key] = stacks.get(key, 0.0) + delta
        del frames
        time.sleep(0.002)
    sampler_cpu[0] = time.thread_time()
me_sampler = [None]
t = threading.Thread(target=lambda: (me_sampler.__setitem__(0, threading.get_ident()), sample()), daemon=True)
t.start()
from tensorgrade.cli import main
code = main(["grade", subs, "-o", out, "--no-pdf", "--workers", workers])
done.set(); t.join()
ru = resource.getrusage(resource.RUSAGE_SELF)
python_tids = {th.native_id for th in threading.enumerate()}
native = 0.0
for task in os.listdir("/proc/self/task"):
    if int(task) not in python_tids:
        with open(f"/proc/self/task/{task}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        native += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
with open(os.path.join(data, "grading.json"), "w") as f:
    json.dump({"stacks": stacks, "self": ru.ru_utime + ru.ru_stime, "sampler": sampler_cpu[0], "native": native, "code": code,
               "dumped_at": time.time()}, f)
sys.exit(code)
'''


# -- classification -------------------------------------------------------------------------------
def _frames(stack: str) -> list[str]:
    return stack.split(";")


def _has(stack: str, *needles: str) -> bool:
    return any(n in stack for n in needles)


GRADING_RULES = [  # (row, needles): the first row with a needle anywhere in the stack wins
    ("startup: imports (torch, pydantic, ...; lazy ones too)", ["<frozen importlib._bootstrap>:_find_and_load"]),
    ("startup: Zygote start + wait (client side)", ["client.py:_start"]),
    ("reference runs (run/reference.py)", ["run/reference.py:"]),
    ("judging (judge/)", ["/judge/"]),
    ("similarity (similarity/)", ["/similarity/"]),
    ("gradebook (results/gradebook.py)", ["gradebook.py:"]),
    ("summary.html (render/summary.py)", ["render/summary.py:"]),
    ("per student: results.json, report.html, record.json", ["batch.py:write_student", "/render/", "results/store.py:",
                                                              "results/otter.py:"]),
    ("framing/client (run/sandbox/client.py, framing.py)", ["sandbox/client.py:", "sandbox/framing.py:"]),
    ("absorb + wire schema (grading._absorb, wire.py)", ["grading.py:_absorb", "tensorgrade/wire.py:"]),
    ("intake + suspicious scan (intake/)", ["/intake/"]),
    ("term/standing, other grading.py/batch.py", ["/term/", "grading.py:", "batch.py:"]),
    ("pool/threads (concurrent.futures, threading)", ["concurrent/futures/", "threading.py:"]),
]

CHILD_TRIAL_LEAF = [  # inside run_trial: the leaf-most frame that matches decides
    ("ban profile hook (rubric/ban.py)", "rubric/ban.py:hook"),
    ("Guard snapshot/restore (run/policy/torch_state.py)", "policy/torch_state.py:"),
    ("encode (rubric/encode.py)", "rubric/encode.py:"),
    ("facts (rubric/facts.py)", "rubric/facts.py:"),
    ("policy guards at run time (run/policy/guards.py)", "policy/guards.py:"),
    ("audit hook (run/policy/audit.py)", "policy/audit.py:"),
    ("input draws (rubric/draw.py)", "rubric/draw.py:"),
    ("torch Python code (torch/*.py)", "/torch/"),
    ("Trial recording (rubric/trial.py, safe.py)", "rubric/trial.py:"),
    ("Trial recording (rubric/trial.py, safe.py)", "rubric/safe.py:"),
    ("Trial recording (rubric/trial.py, safe.py)", "tensorgrade/rubric/"),  # graders' own check code: their files
    ("Trial recording (rubric/trial.py, safe.py)", "/graders/"),
]


def classify_grading(stack: str) -> str:
    for row, needles in GRADING_RULES:
        if _has(stack, *needles):
            return row
    return "other (grading process)"


def classify_child(stack: str) -> str:
    frames = _frames(stack)
    if "run/child.py:run" in stack:
        if _has(stack, "loader.py:__init__", "policy/compiler.py:"):
            return "child: compile under the policy (loader/compiler)"
        if "audit.py:install" in stack:
            return "child: audit hook install"
        if "run/child.py:prepare" in stack:
            return "child: other"
        if "run_trial" in stack and "FrameWriter" not in stack:
            for frame in reversed(frames):
                if frame.endswith(":<module>") or frame.startswith("<"):
                    continue
                for row, needle in CHILD_TRIAL_LEAF:
                    if needle in frame:
                        return "trials: " + row
                if "/" not in frame.split(":", 1)[0]:  # a student file (the loader names them ex1_....py)
                    return "trials: student frames (the torch C ops they call)"
                if "run/child.py:" in frame:
                    return "trials: per-step bookkeeping (run/child.py on_call/after_call)"
            return "trials: other"
        if "loader.py:load" in stack:
            return "child: load student modules (top level, under the policy)"
        if _has(stack, "framing.py:", "wire.py:", "child.py:_sendable", "child.py:news"):
            return "child: encode + send frames (wire, JSON, HMAC)"
        if "policy/torch_state.py:" in stack:
            return "trials: Guard snapshot/restore (run/policy/torch_state.py)"
        return "child: payload run, other"
    if "layers.py:" in stack:
        name = next((f.split(":", 1)[1] for f in reversed(frames) if "layers.py:" in f), "?")
        return f"child: set-up layer {name}"
    if _has(stack, "framing.py:", "child.py:_read_job"):
        return "child: hello, read job, DONE frame"
    return "child: other"


# -- the table ------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=160, help="students (default 160)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="keep the class, outputs and raw samples in this folder")
    ap.add_argument("--py-spy", type=Path, help="also record the run with py-spy (raw flamegraph to this file)")
    ap.add_argument("--top", type=int, default=0, help="also print the top N leaf frames per process kind")
    args = ap.parse_args()
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="tg-breakdown-"))
    tmp.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    try:
        subs = tmp / "class"
        shutil.rmtree(subs, ignore_errors=True)
        subs.mkdir()
        realistic_class(subs, args.n)
        n = args.n
        cli = [sys.executable, "-m", "tensorgrade.cli", "grade", str(subs), "--no-pdf", "--workers", str(args.workers)]
        shutil.rmtree(tmp / "out_plain", ignore_errors=True)
        plain = run_measured([*cli, "-o", str(tmp / "out_plain")], env)

        probe_dir, data = tmp / "probe", tmp / "data"
        for d in (probe_dir, data, tmp / "out_prof"):
            shutil.rmtree(d, ignore_errors=True)
        probe_dir.mkdir()
        data.mkdir()
        (probe_dir / "tg_breakdown_probe.py").write_text(PROBE.replace("@OUT@", repr(str(data / "zygote.jsonl"))))
        prof = run_measured([sys.executable, "-c", DRIVER, str(ROOT), str(subs), str(tmp / "out_prof"), str(probe_dir),
                             str(data), str(args.workers)], env)
        report(n, args, plain, prof, data)
        same = (tmp / "out_plain" / "grades.csv").read_bytes() == (tmp / "out_prof" / "grades.csv").read_bytes()
        print(f"\ngrades.csv of the two runs identical: {same}")
        if args.py_spy:
            spy(cli + ["-o", str(tmp / "out_spy")], env, args.py_spy)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def report(n: int, args, plain: dict, prof: dict, data: Path) -> None:
    g = json.loads((data / "grading.json").read_text())
    zrows, children = [], []
    for line in (data / "zygote.jsonl").read_text().splitlines():
        item = json.loads(line)
        (zrows if "zygote" in item else children).append(item.get("zygote") or item.get("child"))
    rows: dict[str, float] = collections.defaultdict(float)
    sections: dict[str, str] = {}
    leaves: dict[str, collections.Counter] = {"grading": collections.Counter(), "child": collections.Counter()}

    def add(section: str, row: str, seconds: float, one_off: bool = False) -> None:
        key = ("one-off, spread: " if one_off else "") + row
        rows[key] += seconds
        sections[key] = section

    # (a) grading process
    sampled = 0.0
    for stack, sec in g["stacks"].items():
        sampled += sec
        row = classify_grading(stack)
        add("grading", row, sec, one_off=row.startswith("startup"))
        leaves["grading"][stack.rsplit(";", 1)[-1]] += sec
    add("grading", "native threads (torch/OpenMP, not Python threads)", g["native"])
    add("grading", "not sampled (before the sampler started, threads' last slice)",
        max(g["self"] - sampled - g["sampler"] - g["native"], 0.0))
    add("grading", "profiler: the sampler thread (not in the plain run)", g["sampler"])
    exit_wall = prof["ended"] - g["dumped_at"]
    # (b) zygotes
    for z in zrows:
        add("zygote", "startup: torch import, prepare/warm-up, layers, isolation probe", z["start"], one_off=True)
        per_job = 0.0
        for k in ("fork", "workdir", "supervise", "reap", "sweep", "scratch_reset"):
            add("zygote", {"fork": "fork (parent side: page tables of a ~1 GB image)", "workdir": "workdir",
                           "supervise": "supervise loop (progress page, 20 ms polls)", "reap": "kill + wait4",
                           "sweep": "sweep", "scratch_reset": "scratch tmpfs reset (umount/mount x3)"}[k], z[k])
            per_job += z[k]
        add("zygote", "serve loop rest: control frames (SCM_RIGHTS)", z["total"] - z["start"] - per_job)
    # (c) children
    handler = 0.0
    for c in children:
        if not c.get("stacks"):
            add("child", "child: no samples (killed or crashed child)", c["rusage"], one_off=c.get("probe_job", False))
            continue
        one_off = c.get("probe_job", False)
        handler += c["handler"]
        add("child", "child: fork return, COW faults before the probe", c["start"], one_off)
        for stack, sec in c["stacks"].items():
            row = classify_child(stack)
            add("child", row, sec, one_off)
            if not one_off:
                leaves["child"][stack.rsplit(";", 1)[-1].replace(";<after last sample>", "")] += sec
        add("child", "child: exit teardown (after os._exit: unmapping, namespace)", max(c["rusage"] - c["dump_at"], 0), one_off)
    if handler:
        add("child", "profiler: SIGPROF handler (not in the plain run)", handler)

    ms = lambda s: 1000 * s / n  # noqa: E731
    print(f"CPU per student, {n} students, {args.workers} workers, no PDFs "
          f"(`tensorgrade grade --no-pdf --workers {args.workers}`)\n")
    order = ["grading", "zygote", "child"]
    titles = {"grading": "(a) grading process", "zygote": "(b) zygotes", "child": "(c) sandboxed children"}
    total = 0.0
    measured_key = {"grading": "grading", "zygote": "zygote", "child": "children"}
    for sec_name in order:
        keys = [k for k in rows if sections[k] == sec_name]
        keys.sort(key=lambda k: (k.startswith("one-off"), k.startswith("profiler"), -rows[k]))
        subtotal = sum(rows[k] for k in keys)
        total += subtotal
        print(f"{titles[sec_name]:<76} {ms(subtotal):7.1f} ms   (measured: plain {ms(plain[measured_key[sec_name]]):6.1f},"
              f" profiled {ms(prof[measured_key[sec_name]]):6.1f})")
        for k in keys:
            if ms(rows[k]) >= 0.05:
                print(f"    {k:<72} {ms(rows[k]):7.2f}")
    print(f"    (not in the rows: the grading process's interpreter exit after the profile was written, "
          f"{exit_wall:.1f} s wall = {ms(exit_wall):.0f} ms/student if all CPU)")
    probe_cost = sum(v for k, v in rows.items() if k.startswith("profiler"))
    print(f"\n{'sum of the rows':<76} {ms(total):7.1f} ms")
    print(f"{'measured, profiled run (os.times children)':<76} {ms(prof['total']):7.1f} ms   "
          f"(rows / measured = {total / prof['total']:.3f})")
    print(f"{'measured, plain run (os.times children)':<76} {ms(plain['total']):7.1f} ms   "
          f"(rows without the probes' own CPU / plain = {(total - probe_cost) / plain['total']:.3f})")
    steady = sum(v for k, v in rows.items() if not k.startswith("one-off"))
    print(f"{'  of which per student (not one-off start-up)':<76} {ms(steady):7.1f} ms")
    print(f"children: {len([c for c in children if not c.get('probe_job')])} jobs for {n} students")
    if args.top:
        for kind, counter in leaves.items():
            print(f"\ntop {args.top} leaf frames, {kind} (ms/student)")
            for leaf, sec in counter.most_common(args.top):
                print(f"    {ms(sec):6.2f}  {leaf}")


def spy(cmd: list[str], env: dict, out: Path) -> None:
    exe = shutil.which("py-spy")
    if exe is None:
        print("\n--py-spy: py-spy is not installed (pip install py-spy); skipped")
        return
    proc = subprocess.run([exe, "record", "-r", "200", "--subprocesses", "--nonblocking", "--format", "raw", "-o",
                           str(out), "--", *cmd], cwd=ROOT, env=env, capture_output=True, text=True)
    print(f"\npy-spy raw flamegraph: {out} (exit {proc.returncode}; children only partly sampled, see docstring)")


if __name__ == "__main__":
    main()
