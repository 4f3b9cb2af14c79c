"""Keeping the process's memory near what it uses, through a big sync.

Reading and storing an account of a million followers makes and drops millions of objects
and thousands of multi-megabyte arrays. The C library keeps the memory they freed for later
use, so the process would stay as big as its busiest moment, and a later stage would add to
that rather than reuse it. Where the C library is glibc (Linux, Heroku), two settings keep
the resident size close to what is live; elsewhere both do nothing.

* :func:`bound_heap` (at startup, :func:`app.app.create_app`): blocks of 128 KiB or more are
  always mapped on their own and returned when freed. glibc otherwise raises that threshold
  each time such a block is freed (up to 32 MiB), after which the sync's temporary arrays
  are carved from the heap and leave holes in it (at a million followers the sync peaked
  about 80 MB higher).
* :func:`give_back` (between the sync's stages): returns the heap's free pages
  (``malloc_trim``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

#: glibc's ``M_MMAP_THRESHOLD`` option of ``mallopt``, and the threshold set (its default).
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024


def _glibc() -> Any | None:
    """The C library when it is glibc (it has ``malloc_trim`` and ``mallopt``), else ``None``."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        library = ctypes.CDLL(name)
    except OSError:
        return None
    return library if hasattr(library, "malloc_trim") and hasattr(library, "mallopt") else None


_LIBC = _glibc()


def bound_heap() -> bool:
    """Map big blocks on their own at any size of the process; whether it could (glibc)."""
    return _LIBC is not None and _LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1


def give_back() -> bool:
    """Return the heap's free pages to the system (a few milliseconds); whether the C library
    could (glibc)."""
    if _LIBC is None:
        return False
    _LIBC.malloc_trim(0)
    return True
