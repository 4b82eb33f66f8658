"""Where the CPU-heavy steps run: parse worker processes, or a thread of the daemon itself.

Every process that analyses text holds its own spaCy (about 100 MB), so the workers are few; on
a 2-core machine one worker plus the daemon's own thread keeps both cores busy in about half the
memory of two workers. Analysis always goes to the workers (the daemon does not load spaCy when
it has any); feed parsing goes to them too unless they already have a queue and a core is left
over, in which case it runs here, in one thread, while the event loop waits on the network.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
LOCAL_DEPTH = 4  # jobs the local thread holds: the one it runs and three waiting (2, 3, 6, 8 measured slower)


class Offload:
    """Runs blocking work off the event loop, in the worker processes or in a local thread."""

    def __init__(self, processes: Executor | None, workers: int, cores: int | None = None) -> None:
        self.processes = processes
        self.workers = workers if processes is not None else 0
        # With a worker per core there is no idle core for the local thread: it would only take
        # the interpreter lock from the event loop.
        self.spill = self.workers < (cores if cores is not None else os.cpu_count() or 1)
        self._local = ThreadPoolExecutor(1, "parse")
        self._local_queued = 0  # jobs given to the local thread and not finished yet
        self._queued = 0  # jobs handed to the workers and not finished yet

    async def in_workers(self, fn: Callable[..., T], *args: object) -> T:
        """Run in a worker process (required: the work needs state only the workers hold)."""
        if self.processes is None:
            raise RuntimeError("no worker processes")
        self._queued += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.processes, fn, *args)
        finally:
            self._queued -= 1

    async def anywhere(self, fn: Callable[..., T], *args: object) -> T:
        """Run where it will finish soonest: a worker with nothing queued, else the local thread.

        The local thread keeps a few jobs waiting behind the running one, so it never idles
        between jobs; the workers also analyse, and every job they take here delays an analysis.
        """
        if self.processes is not None and (self._queued < self.workers or self._local_queued >= LOCAL_DEPTH
                                           or not self.spill):
            return await self.in_workers(fn, *args)
        self._local_queued += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._local, fn, *args)
        finally:
            self._local_queued -= 1

    def shutdown(self) -> None:
        self._local.shutdown(wait=False)
        if self.processes is not None:
            self.processes.shutdown(wait=True, cancel_futures=True)
