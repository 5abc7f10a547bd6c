"""Waiting for what a test can observe (a row's state, a message received) instead of sleeping a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable

POLL = 0.05
"""Seconds between two looks: short, so a test goes on as soon as the state is there."""
PATIENCE = 60.0
"""Seconds before a wait gives up: long enough that only a real hang fails it, however slow the machine."""


def wait_for(condition: Callable[[], object], seconds: float = PATIENCE, what: str = "the condition") -> float:
    """Wait until ``condition()`` is true, polling; return the seconds it took, or fail after ``seconds``."""
    start = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - start
        if time.monotonic() - start >= seconds:
            raise AssertionError(f"{what} did not happen within {seconds:.0f} s")
        time.sleep(POLL)
