"""Wire formats of the sandbox. JSON only: nothing is ever unpickled.

* client <-> zygote (control): a Unix socket; frames of a 4-byte big-endian
  length and UTF-8 JSON. A "run" request carries the job's three pipe ends as
  SCM_RIGHTS file descriptors, so the job and the results never pass through
  the zygote.
* child -> client (results): a pipe; authenticated frames. The child's first
  frame, written before any payload code runs, is HELLO carrying a fresh
  random key (os.urandom, made after fork); every later frame is
  type (1 byte) + sequence number (4) + length (4) + HMAC-SHA256 over those and
  the body (32) + JSON body. The client accepts frames only in sequence, with a
  valid MAC, up to one DONE, and nothing after it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import os
import select
import socket
import struct
import time
from typing import Any

LENGTH = struct.Struct(">I")
HELLO, MESSAGE, DONE, ERROR = b"H", b"M", b"D", b"E"
_HEAD = struct.Struct(">cII")  # type, sequence, body length
_MAC_BYTES = 32
KEY_BYTES = 32


class ProtocolError(Exception):
    """Bytes on a channel that are not a valid frame in sequence."""


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, allow_nan=True, separators=(",", ":")).encode()


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# -- control frames (client <-> zygote) -------------------------------------------
def send_control(sock: socket.socket, obj: Any, fds: list[int] = ()) -> None:
    body = dumps(obj)
    data = LENGTH.pack(len(body)) + body
    if fds:
        sent = socket.send_fds(sock, [data], list(fds))
        data = data[sent:]
    if data:
        sock.sendall(data)


def recv_control(sock: socket.socket, deadline: float | None = None, max_bytes: int = 1 << 24,
                 want_fds: int = 0) -> tuple[Any, list[int]]:
    """One control frame (and the fds sent with it); EOFError on close, TimeoutError past the deadline."""
    fds: list[int] = []
    head = b""
    while len(head) < LENGTH.size:
        _wait(sock, deadline)
        if want_fds and not head:
            chunk, got, _, _ = socket.recv_fds(sock, LENGTH.size, want_fds)
            fds += got
        else:
            chunk = sock.recv(LENGTH.size - len(head))
        if not chunk:
            raise EOFError("the other side closed the control socket")
        head += chunk
    (n,) = LENGTH.unpack(head)
    if n > max_bytes:
        raise ValueError(f"control frame of {n} bytes exceeds {max_bytes}")
    body = bytearray()
    while len(body) < n:
        _wait(sock, deadline)
        chunk = sock.recv(min(n - len(body), 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the control socket")
        body += chunk
    return json.loads(body), fds


def _wait(sock: socket.socket, deadline: float | None) -> None:
    if deadline is None:
        return
    left = deadline - time.monotonic()
    if left <= 0 or not select.select([sock], [], [], left)[0]:
        raise TimeoutError("no reply from the sandbox zygote")


# -- result frames (child -> client) ------------------------------------------
class FrameWriter:
    """The child's side: HELLO with a fresh key, then authenticated frames. Holds the key; nothing else does."""

    def __init__(self, fd: int, max_bytes: int):
        self._fd, self._max = fd, max_bytes
        self._key = os.urandom(KEY_BYTES)
        self._seq = 0
        self._encode = json.JSONEncoder(allow_nan=True, separators=(",", ":")).encode
        write_all(fd, _HEAD.pack(HELLO, 0, KEY_BYTES) + self._key)

    def frame(self, kind: bytes, obj: dict) -> None:
        body = self._encode(obj).encode()
        if len(body) > self._max:
            raise ValueError(f"message of {len(body)} bytes exceeds the {self._max}-byte limit")
        self._seq += 1
        head = _HEAD.pack(kind, self._seq, len(body))
        write_all(self._fd, head + hmac.digest(self._key, head + body, hashlib.sha256) + body)


class FrameReader:
    """The client's side: splits and verifies the child's frames incrementally."""

    def __init__(self, max_bytes: int, max_total: int):
        self.max_bytes, self.max_total = max_bytes, max_total
        self.buf = bytearray()
        self.total = 0
        self.key: bytes | None = None
        self.seq = 0
        self.done = False

    def feed(self, data: bytes) -> list[tuple[bytes, dict]]:
        self.buf += data
        self.total += len(data)
        if self.total > self.max_total:
            raise ProtocolError(f"more than {self.max_total} bytes on the result channel")
        frames = []
        while len(self.buf) >= _HEAD.size:
            kind, seq, n = _HEAD.unpack_from(self.buf)
            if self.key is None:
                if kind != HELLO or seq != 0 or n != KEY_BYTES:
                    raise ProtocolError("the result channel did not start with the sandbox's hello")
                if len(self.buf) < _HEAD.size + n:
                    break
                self.key = bytes(self.buf[_HEAD.size:_HEAD.size + n])
                del self.buf[:_HEAD.size + n]
                continue
            if self.done:
                raise ProtocolError("bytes after the done frame")
            if kind not in (MESSAGE, DONE, ERROR) or seq != self.seq + 1:
                raise ProtocolError(f"unexpected frame {kind!r} #{seq} (expected #{self.seq + 1})")
            if n > self.max_bytes:
                raise ProtocolError(f"message of {n} bytes exceeds the {self.max_bytes}-byte limit")
            end = _HEAD.size + _MAC_BYTES + n
            if len(self.buf) < end:
                break
            head = bytes(self.buf[:_HEAD.size])
            mac = bytes(self.buf[_HEAD.size:_HEAD.size + _MAC_BYTES])
            body = bytes(self.buf[_HEAD.size + _MAC_BYTES:end])
            if not hmac.compare_digest(mac, hmac.digest(self.key, head + body, hashlib.sha256)):
                raise ProtocolError(f"frame #{seq} is not authentic")
            del self.buf[:end]
            self.seq = seq
            try:
                value = json.loads(body)
            except (ValueError, UnicodeDecodeError, RecursionError) as exc:
                raise ProtocolError(f"invalid JSON in frame #{seq}: {type(exc).__name__}") from None
            if not isinstance(value, dict):
                raise ProtocolError(f"frame #{seq} is not a JSON object")
            if _SURROGATE_ESCAPE.search(body):
                value = valid_text(value)
            self.done = self.done or kind in (DONE, ERROR)
            frames.append((kind, value))
        return frames

    def leftover(self) -> int:
        return len(self.buf)


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def valid_text(value):
    """`value` with lone surrogates (a JSON "\\udc80" from the child) replaced, pairs joined: every later
    stage (reports, JSON, CSV, the terminal) can encode what a frame carried."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [valid_text(v) for v in value]
    if isinstance(value, dict):
        return {valid_text(k): valid_text(v) for k, v in value.items()}
    return value
