"""Fast MLX on Linux: run MLX with an optimized BLAS instead of the wheel's reference BLAS.

The `mlx-cpu` wheel links MLX against the reference BLAS it bundles (`mlx_cpu.libs/libblas-*.so`),
which is 30-40x slower at matrix products than OpenBLAS. Preloading an optimized library that
exports the same BLAS/CBLAS symbols makes the dynamic linker bind MLX's calls to it instead.

- `mlx_env()` is the environment for starting any MLX-heavy child process (training runner,
  `mlx_lm.server`) with the library preloaded.
- `reexec_with_blas()` re-executes the `punie-tui` process itself once with it preloaded; the
  re-executed process then drops the preload from `os.environ`, so that children which are not MLX
  processes (tools, shells) start as they would without punie (they keep only
  `OPENBLAS_THREAD_TIMEOUT`, which makes an OpenBLAS they load spin less when idle, nothing else).
- `preload_in_process()` loads it into a process that cannot re-execute (the test runner) before
  MLX is imported.

Nothing here imports MLX: the decision is made from the installed files, so start-up stays cheap.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

LIB_ENV = "PUNIE_BLAS_LIB"
SWITCH_ENV = "PUNIE_BLAS_PRELOAD"
# Set on the re-executed process (to the preloaded path): it must never re-execute again.
REEXEC_MARKER_ENV = "PUNIE_BLAS_REEXEC"

INSTALL_COMMAND = "sudo apt-get install libopenblas0-pthread"

# OpenBLAS reads this (a power of two, in cycles, 4 to 30) as how long its idle threads spin.
THREAD_TIMEOUT_ENV = "OPENBLAS_THREAD_TIMEOUT"
SHORT_THREAD_TIMEOUT = "4"

# Speed-ups measured by benchmarks/blas.py on a 2-core x86_64 machine, reference BLAS vs OpenBLAS:
# the low ends while other jobs shared the cores; training is the demo model's LoRA steps (4-7x)
# and those of a 4-layer, 256-wide Qwen2 (6-8x).
MEASURED_MATMUL_SPEEDUP = (10, 50)
MEASURED_TRAINING_SPEEDUP = (4, 8)

# Debian and Ubuntu put each OpenBLAS flavour in its own folder; the plain path is the
# alternatives-managed default. pthread first: it is the flavour that scales best for MLX.
_DEBIAN_FLAVOURS = ("openblas-pthread", "openblas-openmp", "openblas-serial")
SYSTEM_BLAS_PATHS: tuple[Path, ...] = tuple(
    Path(f"/usr/lib/{triplet}") / folder / "libopenblas.so.0"
    for triplet in ("x86_64-linux-gnu", "aarch64-linux-gnu")
    for folder in (*_DEBIAN_FLAVOURS, ".")
)

# What libmlx.so and the bundled LAPACK call: the CBLAS products and the Fortran BLAS kernels.
REQUIRED_SYMBOLS: tuple[str, ...] = ("cblas_sgemm", "cblas_dgemm", "cblas_cgemm", "sgemm_", "dgemm_", "sgemv_")

_ELF_MACHINES = {"x86_64": 62, "aarch64": 183}


# A NamedTuple rather than a dataclass: `dataclasses` alone costs the re-executing first process
# of every `punie-tui` start ~9 ms, as much as the rest of this module.
class BlasStatus(NamedTuple):
    """What punie knows about MLX's BLAS here, without loading MLX."""

    linux: bool
    reference_blas: Path | None  # the wheel's bundled reference BLAS, when this MLX links it
    optimized: Path | None  # the optimized library to preload, when one is usable
    source: str | None  # where `optimized` came from: "PUNIE_BLAS_LIB" or "system"
    problem: str | None  # why an explicitly configured library is not usable
    disabled: bool  # PUNIE_BLAS_PRELOAD=0
    already_preloaded: bool  # LD_PRELOAD already holds an optimized BLAS

    @property
    def wanted(self) -> bool:
        """Whether MLX would run faster with a preload: Linux, reference BLAS, user did not opt out."""
        return self.linux and self.reference_blas is not None and not self.disabled

    @property
    def should_preload(self) -> bool:
        return self.wanted and self.optimized is not None and not self.already_preloaded

    @property
    def missing(self) -> bool:
        """MLX runs on the reference BLAS and no optimized library is there to fix it."""
        return self.wanted and self.optimized is None and not self.already_preloaded


def reference_blas(search_path: list[str] | None = None) -> Path | None:
    """The `mlx-cpu` wheel's bundled reference BLAS next to the installed `mlx`, or None."""
    for entry in sys.path if search_path is None else search_path:
        base = Path(entry or ".")
        libs = base / "mlx_cpu.libs"
        if not (base / "mlx").is_dir() or not libs.is_dir():
            continue
        found = sorted(libs.glob("libblas-*.so*"))
        if found:
            return found[0]
    return None


def _machine() -> str:
    return os.uname().machine


def missing_symbols(path: Path, names: tuple[str, ...] = REQUIRED_SYMBOLS) -> list[str]:
    """The names a shared library does not define, read from its ELF dynamic symbol table.

    Reading the file instead of loading it keeps this cheap (no dlopen, no library start-up) and
    safe on a library for another architecture. Raises ValueError for a file that is not a
    64-bit little-endian ELF shared library for this machine.
    """
    with open(path, "rb") as handle:
        header = handle.read(64)
        if header[:4] != b"\x7fELF" or len(header) < 64:
            raise ValueError("not an ELF shared library")
        if header[4] != 2 or header[5] != 1:
            raise ValueError("not a 64-bit little-endian ELF library")
        machine = struct.unpack_from("<H", header, 18)[0]
        expected = _ELF_MACHINES.get(_machine())
        if expected is not None and machine != expected:
            raise ValueError(f"built for another architecture (ELF machine {machine}), not {_machine()}")
        shoff, = struct.unpack_from("<Q", header, 40)
        shentsize, shnum = struct.unpack_from("<HH", header, 58)
        handle.seek(shoff)
        sections = [struct.unpack_from("<IIQQQQIIQQ", handle.read(shentsize)) for _ in range(shnum)]
        dynsym = next((s for s in sections if s[1] == 11), None)  # SHT_DYNSYM
        if dynsym is None:
            raise ValueError("has no dynamic symbol table")
        strtab = sections[dynsym[6]]
        handle.seek(strtab[4])
        strings = handle.read(strtab[5])
        handle.seek(dynsym[4])
        symbols = handle.read(dynsym[5])
    # Offsets of the wanted names in the string table; then keep those a defined symbol uses.
    offsets: dict[int, str] = {}
    for name in names:
        at = strings.find(b"\0" + name.encode() + b"\0")
        if at >= 0:
            offsets[at + 1] = name
    defined = set()
    for st_name, _info, _other, shndx, _value, _size in struct.iter_unpack("<IBBHQQ", symbols):
        if shndx != 0 and st_name in offsets:
            defined.add(offsets[st_name])
    return [name for name in names if name not in defined]


def check_blas_library(path: Path) -> str | None:
    """Why `path` cannot stand in for MLX's BLAS, or None when it can."""
    if not path.is_file():
        return f"{path} does not exist"
    try:
        missing = missing_symbols(path)
    except (OSError, ValueError, struct.error) as exc:
        return f"{path}: {exc}"
    if missing:
        return f"{path} does not export {', '.join(missing)}"
    return None


def find_optimized_blas(env: Mapping[str, str] | None = None) -> tuple[Path | None, str | None, str | None]:
    """(library, source, problem): `PUNIE_BLAS_LIB` when set (only it), else the first system OpenBLAS."""
    env = os.environ if env is None else env
    explicit = env.get(LIB_ENV, "").strip()
    if explicit:
        path = Path(explicit).expanduser()
        problem = check_blas_library(path)
        return (None, None, f"{LIB_ENV}: {problem}") if problem else (path, LIB_ENV, None)
    for path in SYSTEM_BLAS_PATHS:
        if path.exists() and check_blas_library(path) is None:
            return path, "system", None
    return None, None, None


def _preload_entries(env: Mapping[str, str]) -> list[str]:
    # ld.so accepts both colons and spaces as separators in LD_PRELOAD.
    return env.get("LD_PRELOAD", "").replace(":", " ").split()


def _is_preloaded(env: Mapping[str, str], library: Path | None) -> bool:
    target = os.path.realpath(library) if library else None
    for entry in _preload_entries(env):
        if "blas" in Path(entry).name.lower() or (target and os.path.realpath(entry) == target):
            return True
    return False


def blas_status(env: Mapping[str, str] | None = None) -> BlasStatus:
    """Inspect the installed MLX and the optimized libraries on this machine."""
    env = os.environ if env is None else env
    linux = sys.platform.startswith("linux")
    reference = reference_blas() if linux else None
    optimized, source, problem = find_optimized_blas(env) if linux else (None, None, None)
    return BlasStatus(
        linux=linux,
        reference_blas=reference,
        optimized=optimized,
        source=source,
        problem=problem,
        disabled=env.get(SWITCH_ENV, "").strip() == "0",
        already_preloaded=_is_preloaded(env, optimized),
    )


def with_preload(env: Mapping[str, str], library: Path) -> dict[str, str]:
    """A copy of `env` whose LD_PRELOAD starts with `library`, with OpenBLAS's idle spin cut short.

    OpenBLAS's worker threads busy-wait for 2^28 cycles (about 0.1 s) before sleeping: once at load,
    and after every BLAS call. Measured here, that cost each start-up of punie about 110 ms of CPU
    on the other core (20 ms longer to draw on two cores) and demo training 6.1 instead of 3.9
    CPU-seconds for the same steps, at the same speed. 2^4 cycles lets them sleep at once; a value
    the user set is kept.
    """
    result = dict(env)
    result["LD_PRELOAD"] = " ".join([str(library), *_preload_entries(env)])
    result.setdefault(THREAD_TIMEOUT_ENV, SHORT_THREAD_TIMEOUT)
    return result


def without_preload(env: Mapping[str, str]) -> dict[str, str]:
    """A copy of `env` with every BLAS removed from LD_PRELOAD: MLX on the wheel's own BLAS."""
    result = dict(env)
    entries = [entry for entry in _preload_entries(env) if "blas" not in Path(entry).name.lower()]
    result.pop("LD_PRELOAD", None)
    if entries:
        result["LD_PRELOAD"] = " ".join(entries)
    return result


def mlx_env(base_env: Mapping[str, str] | None = None, status: BlasStatus | None = None) -> dict[str, str]:
    """The environment for starting an MLX-heavy child process: `base_env` (default: this process's)
    with the optimized BLAS preloaded when that makes MLX faster here; otherwise an unchanged copy."""
    base = dict(os.environ if base_env is None else base_env)
    base.pop(REEXEC_MARKER_ENV, None)
    status = status or blas_status(base)
    if status.should_preload and status.optimized is not None:
        return with_preload(base, status.optimized)
    return base


# The library this process was re-executed with, once `reexec_with_blas` has run in it.
_reexecuted_with: str | None = None


def _forget_own_preload(library: str) -> None:
    # The preload was for this process; children get it only through mlx_env().
    global _reexecuted_with
    _reexecuted_with = library
    entries = [entry for entry in _preload_entries(os.environ) if entry != library]
    if entries:
        os.environ["LD_PRELOAD"] = " ".join(entries)
    else:
        os.environ.pop("LD_PRELOAD", None)
    os.environ.pop(REEXEC_MARKER_ENV, None)


def reexec_with_blas() -> None:
    """Re-execute this Python process once with the optimized BLAS preloaded, when that helps.

    Returns (doing nothing) on macOS, when the library is missing or already preloaded, when
    `PUNIE_BLAS_PRELOAD=0`, and in the re-executed process itself (marked by an environment
    variable, so this can never loop). Otherwise it does not return: `os.execve` replaces the
    process, with the same interpreter, interpreter options and arguments (`sys.orig_argv`); the
    exit code is the new program's.
    """
    marker = os.environ.get(REEXEC_MARKER_ENV)
    if marker is not None:
        _forget_own_preload(marker)
        return
    status = blas_status()
    # An embedded interpreter has no executable to start again.
    if not status.should_preload or status.optimized is None or not sys.executable:
        return
    library = str(status.optimized)
    env = with_preload(os.environ, status.optimized)
    env[REEXEC_MARKER_ENV] = library
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
    except OSError:
        # Not being able to restart only costs speed: carry on with the reference BLAS.
        return


def preload_in_process(status: BlasStatus | None = None) -> Path | None:
    """Load the optimized BLAS into this process for a process that cannot re-execute (a test runner).

    A library loaded with RTLD_GLOBAL joins the global scope, which ld.so searches before MLX's own
    dependencies when MLX is loaded later. Returns the library loaded; None when there is nothing to
    do, it fails to load, or MLX is already imported (too late: its calls are bound).
    """
    if "mlx.core" in sys.modules:
        return None
    status = status or blas_status()
    if not status.should_preload or status.optimized is None:
        return None
    import ctypes

    # OpenBLAS reads its settings from the environment when it loads.
    os.environ.setdefault(THREAD_TIMEOUT_ENV, SHORT_THREAD_TIMEOUT)
    try:
        ctypes.CDLL(str(status.optimized), mode=os.RTLD_GLOBAL)
    except OSError:
        return None
    return status.optimized


def _speedup(measured: tuple[int, int]) -> str:
    low, high = measured
    return f"{low}-{high}x"


def install_notice(status: BlasStatus | None = None) -> str | None:
    """The one-time hint shown when MLX runs on the reference BLAS and nothing can speed it up."""
    if status is None and _reexecuted_with is not None:
        # This process runs with the optimized library: nothing to suggest, no files to read.
        return None
    status = status or blas_status()
    if not status.missing:
        return None
    why = f" ({status.problem})" if status.problem else ""
    return (
        f"MLX is using the slow reference BLAS on this machine{why}. With OpenBLAS, training runs "
        f"{_speedup(MEASURED_TRAINING_SPEEDUP)} faster (matrix products {_speedup(MEASURED_MATMUL_SPEEDUP)}). "
        f"Install it with: {INSTALL_COMMAND}"
    )
