"""Results kept per process for as long as what they were computed from is unchanged.

A page that reads a file a job wrote (the day's worklist state tables, a stored duplicate queue) keeps what it
computed from it under a key that names everything the result depends on — the files' identities included: a job
replaces a file (new inode and time), never changes it in place. The least recently used entries go beyond
``keep``; the request threads of a worker share one memo.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any


class ProcessMemo(OrderedDict):
    def __init__(self, keep: int):
        super().__init__()
        self.keep = keep
        self._lock = threading.Lock()

    def get_or_make(self, key: tuple, make: Callable[[], Any]) -> Any:
        with self._lock:
            if (hit := self.get(key)) is not None:
                self.move_to_end(key)
                return hit
        value = make()  # outside the lock: two threads may both compute a first value, never block on each other
        with self._lock:
            self[key] = value
            while len(self) > self.keep:
                self.popitem(last=False)
        return value


def file_identity(path: Path) -> tuple:
    """What changes when a file is replaced or rewritten (OSError when it is not there)."""
    st = os.stat(path)
    return str(path), st.st_ino, st.st_mtime_ns, st.st_size
