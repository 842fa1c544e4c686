"""The machine check behind `punie-tui doctor`: versions, MLX's device and BLAS, memory, caches.

`diagnose()` returns a JSON-ready dict (its keys are the stable fields of `doctor --json`); each
problem found comes with the fix. MLX itself is only measured in a child process.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from punie_tui.core.accel import INSTALL_COMMAND, LIB_ENV, SWITCH_ENV, BlasStatus, blas_status, mlx_env
from punie_tui.core.accel_probe import ProbeError, run_probe

# Distribution names; a tuple lists alternatives that provide the same package.
PACKAGES: dict[str, tuple[str, ...]] = {
    "mlx": ("mlx",),
    "mlx-lm": ("mlx-lm",),
    "textual": ("textual",),
    "pydantic-ai": ("pydantic-ai", "pydantic-ai-slim"),
}


@dataclass(frozen=True)
class Problem:
    problem: str
    fix: str


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name, dists in PACKAGES.items():
        versions[name] = None
        for dist in dists:
            try:
                versions[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def hf_cache(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Where Hugging Face models are cached, resolved as huggingface_hub does, and which variable set it."""
    env = os.environ if env is None else env
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(name):
            path, source = Path(env[name]), name
            break
    else:
        if env.get("HF_HOME"):
            path, source = Path(env["HF_HOME"]) / "hub", "HF_HOME"
        elif env.get("XDG_CACHE_HOME"):
            path, source = Path(env["XDG_CACHE_HOME"]) / "huggingface" / "hub", "XDG_CACHE_HOME"
        else:
            path, source = Path(env.get("HOME") or Path.home()) / ".cache" / "huggingface" / "hub", "default"
    path = Path(os.path.expandvars(str(path.expanduser())))
    return {"path": str(path), "source": source, "exists": path.is_dir()}


def demo_model_state() -> dict[str, Any]:
    """Whether the demo model for the bundled tokenizer is built in the user cache (it is built on first use)."""
    from punie_tui.core.demo_model import demo_model_cache_dir, is_complete

    try:
        folder = demo_model_cache_dir()
    except (OSError, ValueError) as exc:
        return {"state": f"unknown: {exc}", "path": None}
    return {"state": "built" if is_complete(folder) else "not built", "path": str(folder)}


def memory() -> dict[str, int]:
    import psutil

    info = psutil.virtual_memory()
    return {"total_bytes": info.total, "available_bytes": info.available}


def _loaded_in_this_process(library: Path | None) -> bool:
    if library is None or not Path("/proc/self/maps").exists():
        return False
    target = os.path.realpath(library)
    with open("/proc/self/maps", encoding="utf-8") as maps:
        return any(line.rstrip("\n").endswith(target) for line in maps)


def blas_report(status: BlasStatus) -> dict[str, Any]:
    if not status.linux:
        preload = "not needed (not Linux)"
    elif status.reference_blas is None:
        preload = "not needed (MLX does not use the bundled reference BLAS)"
    elif status.disabled:
        preload = f"off ({SWITCH_ENV}=0)"
    elif status.optimized is None and not status.already_preloaded:
        preload = "missing"
    else:
        preload = "on"
    return {
        "reference": str(status.reference_blas) if status.reference_blas else None,
        "optimized": str(status.optimized) if status.optimized else None,
        "source": status.source,
        "preload": preload,
        "this_process": _loaded_in_this_process(status.optimized),
        "configured": os.environ.get(LIB_ENV),  # the PUNIE_BLAS_LIB setting, if any
    }


def mlx_report(status: BlasStatus, seconds: float) -> dict[str, Any]:
    """MLX's device, the BLAS it binds to and matmul GFLOPS, measured as punie's MLX children run."""
    try:
        result = run_probe(["matmul", "--seconds", str(seconds)], mlx_env(status=status), timeout=120)
    except (ProbeError, OSError, ValueError, subprocess.SubprocessError) as exc:
        return {"device": None, "blas": None, "blas_kind": None, "gflops": None, "error": str(exc)}
    blas = result["blas"]
    if blas and status.reference_blas and os.path.realpath(blas) == os.path.realpath(status.reference_blas):
        kind = "reference"
    elif blas and status.optimized and os.path.realpath(blas) == os.path.realpath(status.optimized):
        kind = "optimized"
    else:
        kind = "other"
    return {"device": result["device"], "blas": blas, "blas_kind": kind, "gflops": result["gflops"], "error": None}


def find_problems(status: BlasStatus, mlx: dict[str, Any], cache: dict[str, Any]) -> list[Problem]:
    problems = []
    if mlx["error"]:
        problems.append(Problem(f"MLX does not run: {mlx['error']}", "reinstall the environment: make clean-venv && make run"))
    speed = f" ({mlx['gflops']} GFLOPS)" if mlx["gflops"] else ""
    if status.problem:
        fix = f"point {LIB_ENV} at an optimized BLAS (for example OpenBLAS's libopenblas.so.0) or unset it"
        problems.append(Problem(f"{status.problem}, so MLX uses the slow reference BLAS{speed}", fix))
    elif status.missing:
        problems.append(Problem(f"MLX uses the slow reference BLAS{speed} and no optimized BLAS was found", INSTALL_COMMAND))
    if status.disabled and status.linux and status.reference_blas and status.optimized:
        problems.append(Problem(f"{SWITCH_ENV}=0 keeps MLX on the slow reference BLAS", f"unset {SWITCH_ENV}"))
    if status.should_preload and mlx["blas_kind"] == "reference":
        problems.append(Problem(f"{status.optimized} was preloaded but MLX still uses the reference BLAS", f"set {LIB_ENV} to a BLAS that exports cblas_sgemm"))
    if not cache["exists"]:
        problems.append(Problem(f"the Hugging Face cache folder {cache['path']} does not exist (mlx_lm.server needs it)", f"mkdir -p {cache['path']}"))
    return problems


def diagnose(matmul_seconds: float = 1.0) -> dict[str, Any]:
    """Everything `punie-tui doctor` reports, as a JSON-ready dict."""
    status = blas_status()
    mlx = mlx_report(status, matmul_seconds)
    cache = hf_cache()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "versions": package_versions(),
        "mlx": mlx,
        "blas": blas_report(status),
        "memory": memory(),
        "demo_model": demo_model_state(),
        "hf_cache": cache,
        "problems": [asdict(problem) for problem in find_problems(status, mlx, cache)],
    }
