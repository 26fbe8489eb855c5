"""The wire between the grader's process and the student's: framed JSON messages, and values.

Both sides import this module and nothing of each other. A message is a JSON object
sent with a 4-byte length in front. A value crosses in one of three forms:

- plain data (exact `bool`, `int`, `float`, `str`, `None`, `tuple`, `list`, `set`,
  `frozenset`, `dict`), copied: `["int", 3]`, `["list", [...]]`, as `plain.encode`
  writes it, with handles and references allowed inside containers;
- `["h", id, info]`: a *handle*, an object the grader holds (a `Mutex`, a guard, a
  function of a locked cell); the student's side gets a proxy that asks the grader
  for every operation on it;
- `["r", id, info]`: a *reference*, an object of the student's (a function, an
  instance of a class of theirs); the grader's side gets a proxy that asks the student's
  process to call it, and never looks inside it.

The reader of each side builds only exact built-in types, handles it issued itself and
proxies, so nothing the other side sends becomes an object with methods of its choosing.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import time

MAX_MESSAGE = 16 * 2**20  # bytes; a longer message breaks the protocol
MAX_DEPTH = 40

__all__ = ["Closed", "Endpoint", "ProtocolError", "TimedOut"]


class ProtocolError(RuntimeError):
    """The other side sent something this side never asked for, or could not read."""


class Closed(ProtocolError):
    """The other side went away (it ended, crashed or was killed)."""


class TimedOut(ProtocolError):
    """The other side did not answer within the time it was given."""


class Endpoint:
    """One side of a socket pair: send and receive whole messages."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.sock.setblocking(True)
        self.buffer = b""
        self.closed = False

    def send(self, message: dict) -> None:
        if self.closed:
            raise Closed("the connection is closed")
        data = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
        if len(data) > MAX_MESSAGE:
            raise ProtocolError(f"a message of {len(data):,} bytes is too long")
        try:
            self.sock.sendall(struct.pack(">I", len(data)) + data)
        except OSError as err:
            self.closed = True
            raise Closed(f"the other side went away ({err})") from None

    def _fill(self, size, deadline, poll):
        while len(self.buffer) < size:
            wait = poll
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimedOut("no answer in time")
                wait = min(wait, left)
            ready, _, _ = select.select([self.sock], [], [], wait)  # short waits: a stop reaches this thread
            if not ready:
                continue
            try:
                chunk = self.sock.recv(max(65536, size - len(self.buffer)))
            except OSError as err:
                chunk = b""
                reason = str(err)
            else:
                reason = "end of stream"
            if not chunk:
                self.closed = True
                raise Closed(f"the other side went away ({reason})")
            self.buffer += chunk

    def receive(self, deadline: float | None = None, poll: float = 0.05) -> dict:
        """The next message; `deadline` is a `time.monotonic()` time, or None to wait as long as it takes."""
        if self.closed:
            raise Closed("the connection is closed")
        self._fill(4, deadline, poll)
        (size,) = struct.unpack(">I", self.buffer[:4])
        if size > MAX_MESSAGE:
            self.closed = True
            raise ProtocolError(f"a message of {size:,} bytes is too long")
        self._fill(4 + size, deadline, poll)
        data, self.buffer = self.buffer[4 : 4 + size], self.buffer[4 + size :]
        try:
            message = json.loads(data)
        except ValueError:
            self.closed = True
            raise ProtocolError("a message that is not JSON") from None
        if type(message) is not dict:
            self.closed = True
            raise ProtocolError("a message that is not a JSON object")
        return message

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


# --- values -----------------------------------------------------------------------------------

SCALARS = {bool: "bool", int: "int", str: "str", type(None): "None"}
CONTAINERS = {tuple: "tuple", list: "list", set: "set", frozenset: "frozenset", dict: "dict"}


def encode(value, other, depth=0):
    """The wire form of `value`; `other(value)` gives the form of anything not plain (a handle or a reference)."""
    kind = type(value)
    if kind in SCALARS:
        return [SCALARS[kind], value]
    if kind is float:
        return ["float", repr(value)]
    if depth < MAX_DEPTH and kind in CONTAINERS:
        if kind is dict:
            return ["dict", [[encode(k, other, depth + 1), encode(v, other, depth + 1)] for k, v in value.items()]]
        items = [encode(v, other, depth + 1) for v in value]
        if kind is set or kind is frozenset:
            items.sort(key=repr)  # the same message for the same set, in every process
        return [CONTAINERS[kind], items]
    return other(value)


def decode(data, handle, reference, depth=0):
    """The value `encode` made `data` from: exact built-in types, `handle(id, info)` and `reference(id, info)`."""
    if type(data) is not list or len(data) not in (2, 3) or type(data[0]) is not str or depth > MAX_DEPTH + 1:
        raise ProtocolError(f"not a value: {str(data)[:80]}")
    kind, body = data[0], data[1]
    if len(data) == 3:
        info = data[2] if type(data[2]) is dict else {}
        if kind == "h" and type(body) is int:
            return handle(body, info)
        if kind == "r" and type(body) is int:
            return reference(body, info)
        raise ProtocolError(f"not a value: {str(data)[:80]}")
    if kind == "bool" and type(body) is bool:
        return body
    if kind == "int" and type(body) is int:
        return body
    if kind == "str" and type(body) is str:
        return body
    if kind == "None" and body is None:
        return None
    if kind == "float" and type(body) is str:
        try:
            return float(body)
        except ValueError:
            raise ProtocolError("not a float") from None
    if kind in ("tuple", "list", "set", "frozenset") and type(body) is list:
        items = [decode(v, handle, reference, depth + 1) for v in body]
        try:
            return {"tuple": tuple, "list": list, "set": set, "frozenset": frozenset}[kind](items)
        except TypeError:
            raise ProtocolError("an unhashable value in a set") from None
    if kind == "dict" and type(body) is list:
        out = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("not a dict item")
            try:
                out[decode(pair[0], handle, reference, depth + 1)] = decode(pair[1], handle, reference, depth + 1)
            except TypeError:
                raise ProtocolError("an unhashable dict key") from None
        return out
    raise ProtocolError(f"not a value: {str(data)[:80]}")
