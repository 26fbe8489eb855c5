"""The wire between the grader's process and the student's (rustsync/grading/wire.py).

Messages: length-framed JSON objects over a socket, and what a reader refuses (frames too
long, not JSON, not an object, a peer gone, no answer in time). Values: the forms `encode`
writes and `decode` reads back, exact built-in types only, handles and references left to
the caller, and every malformed form refused.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time

import pytest

from rustsync.grading import wire


@pytest.fixture
def pair():
    left, right = socket.socketpair()
    a, b = wire.Endpoint(left), wire.Endpoint(right)
    yield a, b
    a.close()
    b.close()


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


# --- messages ------------------------------------------------------------------------------------------


def test_messages_sent_back_to_back_arrive_whole_and_in_order(pair):
    a, b = pair
    messages = [{"t": "req", "lane": 1, "args": [["int", 3]]}, {"t": "reply", "text": "é" * 300_000}, {}]
    sender = threading.Thread(target=lambda: [a.send(message) for message in messages])  # more than a buffer holds
    sender.start()
    try:
        assert [b.receive(deadline=time.monotonic() + 10) for _ in messages] == messages
    finally:
        sender.join(10)


def test_a_frame_that_arrives_in_pieces_is_put_back_together(pair):
    a, b = pair
    data = frame(json.dumps({"t": "done", "lane": 2}).encode())
    for piece in (data[:2], data[2:7], data[7:]):
        a.sock.sendall(piece)
    assert b.receive(deadline=time.monotonic() + 5) == {"t": "done", "lane": 2}


def test_sending_refuses_a_message_longer_than_the_limit_and_not_a_number(pair, monkeypatch):
    a, b = pair
    monkeypatch.setattr(wire, "MAX_MESSAGE", 32)
    with pytest.raises(wire.ProtocolError, match="too long"):
        a.send({"text": "x" * 40})
    with pytest.raises(ValueError):
        a.send({"value": float("nan")})
    a.send({"ok": 1})  # nothing of the refused ones went out
    assert b.receive(deadline=time.monotonic() + 5) == {"ok": 1}


def test_a_frame_announcing_more_than_the_limit_is_refused_before_it_is_read(pair, monkeypatch):
    a, b = pair
    monkeypatch.setattr(wire, "MAX_MESSAGE", 1024)
    a.sock.sendall(struct.pack(">I", 1025))  # no body follows: the reader must not wait for it
    with pytest.raises(wire.ProtocolError, match="1,025 bytes is too long"):
        b.receive(deadline=time.monotonic() + 5)
    assert b.closed


@pytest.mark.parametrize("payload, why", [
    (b"{not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'"text"', "not a JSON object"),
])
def test_a_garbled_frame_breaks_the_protocol_and_closes_the_endpoint(pair, payload, why):
    a, b = pair
    a.sock.sendall(frame(payload))
    with pytest.raises(wire.ProtocolError, match=why):
        b.receive(deadline=time.monotonic() + 5)
    with pytest.raises(wire.Closed):
        b.receive()


def test_a_peer_that_goes_away_mid_frame_is_closed_not_waited_for(pair):
    a, b = pair
    a.sock.sendall(frame(b'{"t": "done"}')[:6])
    a.close()
    with pytest.raises(wire.Closed, match="went away"):
        b.receive(deadline=time.monotonic() + 5)
    with pytest.raises(wire.Closed):
        b.send({"t": "late"})


def test_no_answer_by_the_deadline_times_out_and_a_late_answer_is_still_read(pair):
    a, b = pair
    with pytest.raises(wire.TimedOut):
        b.receive(deadline=time.monotonic() + 0.05, poll=0.01)
    assert issubclass(wire.TimedOut, wire.ProtocolError) and not b.closed
    a.send({"t": "late"})
    assert b.receive(deadline=time.monotonic() + 5) == {"t": "late"}


# --- values ----------------------------------------------------------------------------------------------


def no_other(value):
    raise AssertionError(f"{value!r} is plain data")


def never(*_):
    raise AssertionError("not a handle or a reference")


def round_trip(value):
    """The value after crossing: encoded, sent as JSON, decoded."""
    return wire.decode(json.loads(json.dumps(wire.encode(value, no_other))), never, never)


def test_plain_values_cross_with_their_exact_types():
    value = {"n": 1, "b": True, "f": 0.1, "s": "x", "none": None, "t": (1, [2, 3]), "set": {1, 2},
             "fs": frozenset({"a"}), (1, "k"): [False, 1.0, -0.0]}
    back = round_trip(value)
    assert back == value
    assert type(back["b"]) is bool and type(back["n"]) is int and type(back["f"]) is float
    assert type(back["t"]) is tuple and type(back["t"][1]) is list
    assert type(back["set"]) is set and type(back["fs"]) is frozenset
    assert [type(v) for v in back[(1, "k")]] == [bool, float, float] and str(back[(1, "k")][2]) == "-0.0"
    assert round_trip(float("inf")) == float("inf")


def test_equal_sets_make_the_same_message_whatever_their_order():
    one, two = {3, "a", (1, 2), None}, set()
    for item in (None, (1, 2), "a", 3):
        two.add(item)
    assert wire.encode(one, no_other) == wire.encode(two, no_other)


def test_anything_not_exactly_plain_is_left_to_the_caller():
    class Count(int):
        pass

    left = []

    def other(value):
        left.append(value)
        return ["h", len(left), {}]

    marker = object()
    wire.encode([Count(3), marker, print], other)
    assert type(left[0]) is Count and left[1] is marker and left[2] is print and len(left) == 3

    levels = [[]]  # levels[i] lies i lists deep in levels[0]
    for _ in range(wire.MAX_DEPTH + 2):
        levels[-1].append([])
        levels.append(levels[-1][0])
    left.clear()
    wire.encode(levels[0], other)
    assert len(left) == 1 and left[0] is levels[wire.MAX_DEPTH]  # copied down to the limit, not past it


def test_handles_and_references_are_decoded_by_the_callers_functions():
    handles, references = [], []

    def handle(hid, info):
        handles.append((hid, info))
        return f"handle {hid}"

    def reference(rid, info):
        references.append((rid, info))
        return f"reference {rid}"

    got = wire.decode(["list", [["h", 4, {"kind": "object"}], ["r", 9, "not a dict"]]], handle, reference)
    assert got == ["handle 4", "reference 9"]
    assert handles == [(4, {"kind": "object"})] and references == [(9, {})]


@pytest.mark.parametrize("data", [
    "int", ["int"], ["int", "3"], ["int", True], ["bool", 1], ["None", 0], ["str", 3], ["float", "one"],
    ["float", 1.5], ["list", "abc"], ["dict", [["x"]]], ["dict", [[["str", "k"]]]], ["h", "1", {}], ["h", True, {}],
    ["x", 1, {}], ["object", 1], [3, 1], ["int", 1, {}, 4],
])
def test_decode_refuses_a_form_it_did_not_write(data):
    with pytest.raises(wire.ProtocolError):
        wire.decode(data, never, never)


def test_decode_refuses_unhashable_members_and_keys_and_nesting_too_deep():
    with pytest.raises(wire.ProtocolError, match="unhashable value in a set"):
        wire.decode(["set", [["list", []]]], never, never)
    with pytest.raises(wire.ProtocolError, match="unhashable dict key"):
        wire.decode(["dict", [[["list", []], ["int", 1]]]], never, never)
    nested = ["int", 1]
    for _ in range(wire.MAX_DEPTH + 3):
        nested = ["list", [nested]]
    with pytest.raises(wire.ProtocolError, match="not a value"):
        wire.decode(nested, never, never)
