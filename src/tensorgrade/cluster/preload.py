"""Dask worker preload: `dask worker ... --preload tensorgrade.cluster.preload`.

Imports torch before the worker accepts tasks (the first task then does not pay
for it) and keeps torch to one thread per worker process: parallelism comes from
the worker processes (`--nworkers`), as in a local run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch  # noqa: E402

torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:  # already set (or parallel work already started)
    pass

import tensorgrade.cluster.worker  # noqa: E402,F401  (the task function, ready to use)


def dask_setup(worker) -> None:  # the hook Dask calls for a preload module
    pass
