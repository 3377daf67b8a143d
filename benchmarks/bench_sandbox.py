"""Benchmark the sandbox: per-job latency and throughput of warm zygotes.

Run:  python benchmarks/bench_sandbox.py [--jobs 300]

Starts 2 zygotes with a trivial payload (this module: a few tiny autograd
ops per job), runs the jobs across 2 threads (one per zygote), and prints
median/p95 job latency, jobs/s, peak zygote RSS and the active isolation
features -- once with per-job PID namespaces and once without, to show what
the namespace trick costs.  A single-zygote serial run gives the per-job
overhead without CPU contention.

This file doubles as the payload module (``prepare``/``run`` below); the
zygote imports it by name with this directory on sys.path.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_torch = None


# -- payload (runs in the zygote / sandboxed child) ------------------------------


def prepare(init: dict) -> None:
    """Import torch and warm autograd up once, before any fork."""
    global _torch
    import torch

    _torch = torch
    for _ in range(3):
        run({"n": 3}, lambda msg: None)


def run(job: dict, emit) -> None:
    """A few tiny autograd ops: roughly what one exercise check costs."""
    torch = _torch
    x = torch.linspace(-1, 1, job.get("n", 3), dtype=torch.float64, requires_grad=True)
    y = (x.sin() * x ** 2).sum()
    (g,) = torch.autograd.grad(y, x)
    emit({"grad": g.tolist(), "value": y.item()})


# -- benchmark (runs in the caller) -------------------------------------------------


class RssSampler(threading.Thread):
    """Samples the RSS of the zygote processes every 5 ms and keeps the peak."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        import psutil

        self.procs = [psutil.Process(p) for p in pids]
        self.peak = {p.pid: 0 for p in self.procs}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for p in self.procs:
                try:
                    self.peak[p.pid] = max(self.peak[p.pid], p.memory_info().rss)
                except Exception:  # noqa: BLE001 - process gone
                    pass
            time.sleep(0.005)


def _worker(zygote, n: int, latencies: list[float], statuses: list[str]) -> None:
    for i in range(n):
        t0 = time.perf_counter()
        out = zygote.run({"n": 3 + i % 5})
        latencies.append(time.perf_counter() - t0)
        statuses.append(out.status)


def bench(pid_namespace: bool, jobs: int, zygotes: int) -> dict:
    from tensorgrade.run.sandbox import Zygote

    t0 = time.perf_counter()
    pool = [Zygote("bench_sandbox", {}, pid_namespace=pid_namespace) for _ in range(zygotes)]
    startup = time.perf_counter() - t0
    try:
        for z in pool:  # warm the job path (first fork touches pages)
            for _ in range(5):
                assert z.run({"n": 3}).status == "ok"
        sampler = RssSampler([z.pid for z in pool])
        sampler.start()
        latencies: list[float] = []
        statuses: list[str] = []
        threads = [threading.Thread(target=_worker, args=(z, jobs // zygotes, latencies, statuses)) for z in pool]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        sampler.stop.set()
        sampler.join()
        bad = [s for s in statuses if s != "ok"]
        assert not bad, f"non-ok statuses: {bad[:5]}"
        return {
            "pid_namespace": pid_namespace,
            "zygotes": zygotes,
            "jobs": len(latencies),
            "startup_s": startup,
            "median_ms": statistics.median(latencies) * 1000,
            "p95_ms": sorted(latencies)[int(0.95 * len(latencies)) - 1] * 1000,
            "jobs_per_s": len(latencies) / wall,
            "peak_rss_mib": {pid: rss / 2**20 for pid, rss in sampler.peak.items()},
            "isolation": pool[0].isolation,
        }
    finally:
        for z in pool:
            z.close()


def _print(r: dict) -> None:
    mode = "with PID namespace   " if r["pid_namespace"] else "without PID namespace"
    rss = ", ".join(f"{v:.0f}" for v in r["peak_rss_mib"].values())
    print(f"{mode} | {r['zygotes']} zygote(s) x {r['jobs']} jobs: median {r['median_ms']:.1f} ms, "
          f"p95 {r['p95_ms']:.1f} ms, {r['jobs_per_s']:.0f} jobs/s, peak zygote RSS [{rss}] MiB, "
          f"start-up {r['startup_s']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "src"), str(HERE)]

    results = []
    for pidns in (True, False):
        results.append(bench(pidns, args.jobs, zygotes=2))
        results.append(bench(pidns, args.jobs // 2, zygotes=1))
    active = [k for k, v in results[0]["isolation"].items() if v]
    inactive = [k for k, v in results[0]["isolation"].items() if not v]
    print(f"isolation active:   {', '.join(active)}")
    print(f"isolation inactive: {', '.join(inactive) or '-'}")
    for r in results:
        _print(r)


if __name__ == "__main__":
    main()
