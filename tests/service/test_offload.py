"""Offload: work reaches the worker process first and the daemon's own thread when it is busy."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

from monitor.service.offload import Offload


def _busy_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


async def test_parsing_spills_to_the_local_thread_only_when_the_worker_is_busy() -> None:
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    offload = Offload(pool, workers=1, cores=2)
    try:
        worker_pid = await offload.in_workers(_busy_pid, 0.0)
        assert worker_pid != os.getpid()
        alone = await offload.anywhere(_busy_pid, 0.0)
        assert alone == worker_pid  # an idle worker takes the job
        pids = await asyncio.gather(*(offload.anywhere(_busy_pid, 0.2) for _ in range(4)))
        assert worker_pid in pids and os.getpid() in pids  # both places worked at once
    finally:
        offload.shutdown()


async def test_with_a_worker_per_core_parsing_stays_in_the_workers() -> None:
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    offload = Offload(pool, workers=1, cores=1)
    try:
        pids = await asyncio.gather(*(offload.anywhere(_busy_pid, 0.1) for _ in range(3)))
        assert os.getpid() not in pids
    finally:
        offload.shutdown()


async def test_without_workers_everything_runs_here_and_worker_only_jobs_are_refused() -> None:
    offload = Offload(None, workers=0)
    try:
        assert await offload.anywhere(_busy_pid, 0.0) == os.getpid()
        with pytest.raises(RuntimeError, match="no worker processes"):
            await offload.in_workers(_busy_pid, 0.0)
    finally:
        offload.shutdown()
