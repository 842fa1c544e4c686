"""Memory probe: system and process memory from psutil, MLX allocator figures from mx.

`PUNIE_TUI_FAKE_AVAILABLE_GB` pins the system-available figure, to rehearse the memory guard
on a machine with plenty of memory (the guard's tests use it; so can a user checking a setup).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil

GB = 1e9
FAKE_AVAILABLE_ENV = "PUNIE_TUI_FAKE_AVAILABLE_GB"


@dataclass(frozen=True)
class SystemMemory:
    total_gb: float
    available_gb: float
    forced: bool = False


def system_memory() -> SystemMemory:
    """Total and available memory of the machine (available as the kernel estimates it)."""
    vm = psutil.virtual_memory()
    fake = os.environ.get(FAKE_AVAILABLE_ENV)
    if fake:
        return SystemMemory(total_gb=vm.total / GB, available_gb=float(fake), forced=True)
    return SystemMemory(total_gb=vm.total / GB, available_gb=vm.available / GB)


def process_rss_gb(pid: int | None = None) -> float | None:
    """Resident memory of a process (this one by default); None once it has exited."""
    try:
        return psutil.Process(pid).memory_info().rss / GB
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


@dataclass(frozen=True)
class MlxMemory:
    active_gb: float
    cache_gb: float
    peak_gb: float


def mlx_memory() -> MlxMemory:
    """MLX allocator figures of this process; importing mx is why this is only called in workers."""
    import mlx.core as mx

    return MlxMemory(
        active_gb=mx.get_active_memory() / GB,
        cache_gb=mx.get_cache_memory() / GB,
        peak_gb=mx.get_peak_memory() / GB,
    )
