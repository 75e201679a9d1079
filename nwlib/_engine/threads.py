"""Worker threads: blocks of queries shared among torch's CPU threads.

Each worker runs torch single-threaded and takes blocks from a shared queue (the
GIL is released inside torch operations), so there is no fork-join barrier per
operation; :func:`run_blocks` falls back to the caller alone for a few seconds
when other processes hold the cores.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import torch

Tensor = torch.Tensor

_POOL: dict = {"pool": None, "pid": None, "n": 0}


_POOL_LOCK = threading.Lock()


_HELPERS = {"off_until": 0.0, "pause_s": 5.0}


def worker_count(device: torch.device) -> int:
    """Threads that process blocks side by side: torch's threads on CPU, 1 elsewhere."""
    return max(1, torch.get_num_threads()) if device.type == "cpu" else 1


def _pool(n: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if _POOL["pool"] is None or _POOL["pid"] != os.getpid() or _POOL["n"] != n:
            if _POOL["pool"] is not None and _POOL["pid"] == os.getpid():
                _POOL["pool"].shutdown(wait=False)
            # each worker runs torch single-threaded: no fork-join barrier per
            # operation, which stalls badly when another process holds a core
            _POOL.update(
                pool=ThreadPoolExecutor(
                    n,
                    thread_name_prefix="nwlib",
                    initializer=torch.set_num_threads,
                    initargs=(1,),
                ),
                pid=os.getpid(),
                n=n,
            )
        return _POOL["pool"]


class single_threaded:
    """Run torch single-threaded in this thread (CPU): small operations otherwise pay a
    fork-join barrier each, which stalls when another process holds a core."""

    def __init__(self, device: torch.device):
        self.cpu = device.type == "cpu"

    def __enter__(self) -> None:
        if self.cpu:
            self.threads = torch.get_num_threads()
            torch.set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        if self.cpu:
            torch.set_num_threads(self.threads)


def run_blocks(
    tasks: list[Callable[[list[Tensor]], None]],
    n_buffers: int,
    numel: int,
    dtype: torch.dtype,
    device: torch.device,
    workers: int | None = None,
) -> None:
    """Run ``task(buffers)`` for every task; each worker owns ``n_buffers`` buffers.

    On a CPU with several torch threads the caller and ``workers - 1`` helper
    threads take blocks from a shared queue, each running torch single-threaded
    (the GIL is released inside torch operations), so there is no fork-join
    barrier per operation. If a worker got much less CPU time than wall time
    (other processes hold the cores), or the helpers did little of the work, the
    caller works alone for the next few seconds: threads that share one core
    only slow each other down.
    Peak scratch memory: workers x n_buffers x numel elements.
    """
    n = min(worker_count(device) if workers is None else workers, len(tasks))
    if time.monotonic() < _HELPERS["off_until"]:
        n = 1

    def alloc() -> list[Tensor]:
        return [
            torch.empty(max(numel, 1), dtype=dtype, device=device)
            for _ in range(n_buffers)
        ]

    todo = iter(tasks)
    lock = threading.Lock()
    done = [0] * n
    cpu_share = [1.0] * n

    def drain(bufs: list[Tensor], who: int) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        with torch.no_grad():
            while True:
                with lock:
                    t = next(todo, None)
                if t is None:
                    break
                t(bufs)
                done[who] += 1
        wall = time.perf_counter() - wall
        if wall > 1e-3:
            cpu_share[who] = (time.thread_time() - cpu) / wall

    helpers = [_pool(n - 1).submit(drain, alloc(), w) for w in range(1, n)]
    try:
        with single_threaded(device):
            drain(alloc(), 0)
    finally:
        for f in helpers:
            if (
                not f.cancel()
            ):  # a helper that never started (pool busy elsewhere) is dropped
                f.result()
    if (
        n > 1
        and len(tasks) >= 2 * n
        and (min(cpu_share) < 0.6 or sum(done[1:]) < 0.25 * len(tasks) * (n - 1) / n)
    ):
        _HELPERS["off_until"] = time.monotonic() + _HELPERS["pause_s"]
