"""Sandboxes started ahead of need: zygotes import torch and warm up (seconds) while this process
does its own slow work (importing torch, running the reference, reading a class folder).

`check` starts one before it runs the reference; `grade` starts its first before it imports the
grading engine and reads the submissions (the local pool starts the others once the class is read).
Standard library only (plus run/init, run/sandbox):
importing this module must not import torch, or the overlap is lost.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from tensorgrade.run.init import WARM_AFTER_FIRST, grader_init
from tensorgrade.run.sandbox import Zygote

if TYPE_CHECKING:
    from tensorgrade.spec.course import Course

PAYLOAD = "tensorgrade.run.child"


class Starting:
    """`count` zygotes for `course`, each starting on its own thread from the moment this is made.

    `many_children` (a class): back the zygote's heap with huge pages once its first child is answered
    (about 0.3 s, repaid over many children); `check` runs one child and skips it. `warm_func`: when the
    zygote warms torch.func up (run/init.WARM_FUNC); a class's after its first child.

    `take(n)` hands over n of them as futures (starting the missing ones then); `discard()` closes
    the ones not taken once they are up, without waiting for them."""

    def __init__(self, course: "Course", count: int, *, hide: Iterable[Path | str] = (), many_children: bool = True,
                 warm_func: str = WARM_AFTER_FIRST):
        self._init = grader_init(course, warm_func=warm_func)
        self._huge_pages = many_children
        self._hide = [str(course.root), *map(str, hide)]
        self._futures: list[Future] = [self._start() for _ in range(count)]

    def _start(self) -> Future:
        """A zygote starting on a daemon thread: a command that ends while one is still coming up does not
        wait for it (the zygote dies with this process: its parent-death signal)."""
        future: Future = Future()
        future.set_running_or_notify_cancel()

        def start() -> None:
            try:
                future.set_result(Zygote(PAYLOAD, self._init, hide=self._hide, huge_pages=self._huge_pages))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever takes it
                future.set_exception(exc)

        threading.Thread(target=start, name="tg-zygote-start", daemon=True).start()
        return future

    def take(self, n: int) -> list[Future]:
        """n zygotes on their way up (Future[Zygote]: the caller's to close); any others are discarded."""
        while len(self._futures) < n:
            self._futures.append(self._start())
        taken, self._futures = self._futures[:n], self._futures[n:]
        self.discard()
        return taken

    def discard(self) -> None:
        """Close every zygote not taken, as each comes up (a start in progress is not waited for)."""
        close_when_up(self._futures)
        self._futures = []


def close_when_up(futures: Iterable[Future]) -> None:
    for future in futures:
        future.add_done_callback(lambda f: f.exception() is None and f.result().close())
