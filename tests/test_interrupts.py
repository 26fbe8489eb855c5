"""Stopping a cell that runs too long, even one that swallows Ctrl-C (rustsync/interrupts.py).

`CellStopped` passes through `except Exception` and `except KeyboardInterrupt`;
`stop_cells_on_interrupt` makes ipykernel's own interrupt handling raise it; and a real
kernel started with the course's line (`sandbox.STOP_CELLS_ON_INTERRUPT`) stops a cell
that catches every KeyboardInterrupt when it is interrupted.
"""

from __future__ import annotations

import signal

import ipykernel.kernelbase as kernelbase
import pytest

from rustsync import interrupts, sandbox


def swallow_every_interrupt(rounds):
    """A cell's loop that catches KeyboardInterrupt and every Exception, and goes on; how many rounds it ran."""
    done = 0
    while done < rounds:
        try:
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                pass
        except Exception:  # noqa: BLE001 - what such a cell does
            pass
        done += 1
    return done


def test_cell_stopped_is_not_an_exception_nor_a_keyboard_interrupt():
    assert issubclass(interrupts.CellStopped, BaseException)
    assert not issubclass(interrupts.CellStopped, (Exception, KeyboardInterrupt))


def test_the_kernels_interrupt_raises_cell_stopped_with_the_reason(monkeypatch):
    monkeypatch.setattr(kernelbase, "default_int_handler", kernelbase.default_int_handler)  # put back afterwards
    interrupts.stop_cells_on_interrupt()
    assert kernelbase.default_int_handler is interrupts._stop_cell
    kernel = type("Kernel", (), {})()
    kernelbase.Kernel.pre_handler_hook(kernel)  # what ipykernel does around each request it handles
    try:
        with pytest.raises(interrupts.CellStopped, match="the grader stopped this cell: it ran past the time limit"):
            swallow_every_interrupt(3)
    finally:
        kernelbase.Kernel.post_handler_hook(kernel)
    assert signal.getsignal(signal.SIGINT) is kernel.saved_sigint_handler


def test_without_it_such_a_cell_swallows_every_interrupt():
    kernel = type("Kernel", (), {})()
    kernelbase.Kernel.pre_handler_hook(kernel)
    try:
        assert swallow_every_interrupt(3) == 3
    finally:
        kernelbase.Kernel.post_handler_hook(kernel)


STUBBORN_CELL = """\
import time
print('looping', flush=True)
while True:
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        pass
"""


def test_a_kernel_started_as_the_grader_starts_it_stops_a_cell_that_swallows_ctrl_c():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", extra_arguments=[sandbox.STOP_CELLS_ON_INTERRUPT],
                                       startup_timeout=60)
    try:
        sent = client.execute(STUBBORN_CELL)
        while client.get_iopub_msg(timeout=30)["content"].get("text") != "looping\n":
            pass  # the cell is in its loop
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=30)
        while reply["parent_header"].get("msg_id") != sent:  # a kernel_info reply may come first
            reply = client.get_shell_msg(timeout=30)
        reply = reply["content"]
        assert reply["status"] == "error" and reply["ename"] == "CellStopped", reply
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
