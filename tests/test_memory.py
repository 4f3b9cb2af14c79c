"""The heap settings of :mod:`app.memory`, in fresh processes on this machine's C library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app import memory

ROOT = Path(__file__).resolve().parent.parent

#: Forty arrays of 4 MiB, each with a small block allocated right after it, then the arrays
#: freed: once a big block was freed, glibc's moving threshold has every array come from the
#: heap, and each leaves a hole between two small blocks. Prints the growth of the resident
#: size in MiB, then again after ``give_back``.
HOLES = """
import os, sys
sys.path.insert(0, sys.argv[2])
import numpy as np
from app.memory import bound_heap, give_back

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

if sys.argv[1] == "bound":
    assert bound_heap()
np.ones(16 << 20, dtype=np.uint8)  # made and freed: glibc takes blocks up to 16 MiB from the heap
start = rss()
survivors, arrays = [], []
for i in range(40):
    arrays.append(np.ones(4 << 20, dtype=np.uint8))
    survivors.append(bytes(2000) + bytes([i]))
del arrays
grown = rss() - start
give_back()
print(round(grown), round(rss() - start))
"""

glibc = pytest.mark.skipif(memory._LIBC is None, reason="the C library is not glibc")


def holes(mode: str) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", HOLES, mode, str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    grown, after = out.stdout.split()
    return int(grown), int(after)


@glibc
def test_big_blocks_freed_leave_no_holes_once_the_heap_is_bound():
    grown, _ = holes("free")
    assert grown > 100  # glibc's own behaviour: the holes stay resident
    bound, _ = holes("bound")
    assert bound < 20


@glibc
def test_give_back_returns_the_holes():
    grown, after = holes("free")
    assert grown > 100 and after < 20


def test_without_glibc_both_say_they_could_not(monkeypatch):
    monkeypatch.setattr(memory, "_LIBC", None)
    assert memory.bound_heap() is False
    assert memory.give_back() is False
