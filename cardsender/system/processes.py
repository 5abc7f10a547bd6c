"""Which process is which: the name a process claims work under, and whether a named process still runs."""

from __future__ import annotations

import os
import socket
import sys


def worker_name() -> str:
    """Return this process's name as the claimant of what it works on: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_exists(pid: int) -> bool:
    """Return whether a process of this machine runs with this id (True when that cannot be known)."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill would end the process there; leases and timeouts decide instead
        return True
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_is_gone(worker: str) -> bool:
    """Return whether a named claimant was a process on this machine that is no longer running."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    return not process_exists(int(pid))
