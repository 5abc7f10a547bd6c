"""Check each email domain once per import instead of once per address.

``fields.parse_email`` calls ``email_validator.validate_email``, whose domain
check (IDNA and UTS-46 rules, character by character) was 60% of an address's
cost and half of a 100,000-customer import (bench/bench_import.py).  Customers
share a handful of domains, and the check is a pure function of its arguments,
so while an import runs its results are memoized.  Every address still goes
through ``validate_email`` in full; nothing is skipped or weakened.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

_NAME = "validate_email_domain_name"
# The module, not the function of the same name that email_validator re-exports.
_module = importlib.import_module("email_validator.validate_email")
_original: Callable[..., object] | None = getattr(_module, _NAME, None)
_lock = threading.Lock()
_active = [0]


@contextmanager
def memoized_domain_checks() -> Iterator[None]:
    """Memoize email_validator's domain check while the block runs; restore it afterwards.

    The cache lives for one import only, so a change to the library's settings
    (such as ``SPECIAL_USE_DOMAIN_NAMES``) between imports is always seen.
    """
    if _original is None:  # another email_validator layout: validate without the cache
        yield
        return
    with _lock:
        if _active[0] == 0:
            setattr(_module, _NAME, lru_cache(maxsize=4096)(_original))
        _active[0] += 1
    try:
        yield
    finally:
        with _lock:
            _active[0] -= 1
            if _active[0] == 0:
                setattr(_module, _NAME, _original)
