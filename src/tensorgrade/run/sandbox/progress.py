"""The progress page: what the child is doing now, for the zygote's deadlines.

A page of shared memory, mapped before fork. The child writes (sequence,
phase, exercise, check, function) at each step; the zygote reads it on its own
clock and kills the child when one step outlasts its limit. No frame, message
or output can move a deadline: only a new step does, and the trusted payload
code is the only writer (student code cannot reach memory).
"""

from __future__ import annotations

import mmap
import struct

STARTING, IMPORTING, CALLING, GRADER, FINISHED = range(5)
PHASES = ("starting", "importing", "calling", "grader", "finished")
_LAYOUT = struct.Struct(">QBhh64s")


class Progress:
    def __init__(self) -> None:
        self.page = mmap.mmap(-1, mmap.PAGESIZE)  # MAP_SHARED | MAP_ANONYMOUS: shared with the forked child
        self._seq = 0
        self._pack = _LAYOUT.pack_into

    def step(self, phase: int, exercise: int = -1, check: int = -1, function: str = "") -> None:
        """Child side: enter a new step (its deadline starts now)."""
        self._seq += 1
        self._pack(self.page, 0, self._seq, phase, exercise, check, function.encode()[:64])

    def read(self) -> tuple[int, int, int, int, str]:
        """Zygote side: (sequence, phase, exercise, check, function)."""
        seq, phase, exercise, check, fn = _LAYOUT.unpack_from(self.page, 0)
        return seq, phase, exercise, check, fn.rstrip(b"\0").decode(errors="replace")

    def reset(self) -> None:
        self.page[:_LAYOUT.size] = bytes(_LAYOUT.size)
        self._seq = 0

    def state(self) -> dict:
        _, phase, exercise, check, fn = self.read()
        return {"phase": PHASES[phase] if phase < len(PHASES) else "?", "exercise": exercise, "check": check,
                "function": fn}
