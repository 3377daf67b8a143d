"""The child's side of a job: contain, say hello, read the job, run the payload, report, exit.

Runs in the forked child only. Between fork and the payload it applies
`layers.CHILD_LAYERS` in order; then it opens the authenticated result channel
(`framing.FrameWriter`, whose key is made here, after fork), reads the job
straight from the client's pipe and hands both to `payload.run`. The child
never returns to the zygote's code: it always ends in `os._exit`.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

from tensorgrade.run.sandbox import framing, layers


def child_main(ctx: "layers.ChildContext", progress, probe: bool = False) -> None:
    writer = None
    try:
        for _name, layer in layers.CHILD_LAYERS:
            layer(ctx)
        if probe:
            found = layers.probe(ctx.zygote.spec["hide"], ctx.zygote.spec.get("zygote_ipc", ""))
            framing.write_all(layers.CHANNEL_FD, framing.dumps(found))
            os._exit(0)
        writer = framing.FrameWriter(layers.CHANNEL_FD, ctx.limits.message_bytes)
        job = _read_job(layers.JOB_FD)
        ctx.zygote.payload.run(job, lambda msg: writer.frame(framing.MESSAGE, msg), progress)
        _flush_std()
        writer.frame(framing.DONE, {})
        os.close(layers.CHANNEL_FD)
        os._exit(0)
    except SystemExit as exc:
        _flush_std()
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        os._exit(code & 0xFF or 1)
    except BaseException as exc:  # noqa: BLE001 - report anything, then die
        status = "memory" if _is_memory_error(exc) else "crashed"
        try:
            if writer is not None:
                writer.frame(framing.ERROR, {"status": status, "detail": traceback.format_exc()[-65536:]})
        except BaseException:  # noqa: BLE001
            pass
        os._exit(70)


def _read_job(fd: int) -> dict:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    os.close(fd)
    return json.loads(b"".join(chunks))


def _is_memory_error(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc))


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
