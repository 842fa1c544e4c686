"""Finding an optimized BLAS for MLX and the environment MLX processes start with (core/accel.py)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from punie_tui.core import accel
from punie_tui.core.accel import BlasStatus

linux_mlx_cpu = pytest.mark.skipif(
    accel.reference_blas() is None, reason="needs the mlx-cpu wheel on Linux (bundled reference BLAS)"
)


def status(**changes) -> BlasStatus:
    base = dict(
        linux=True,
        reference_blas=Path("/site/mlx_cpu.libs/libblas-x.so.3"),
        optimized=Path("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"),
        source="system",
        problem=None,
        disabled=False,
        already_preloaded=False,
    )
    return BlasStatus(**{**base, **changes})


def test_reference_blas_is_found_in_mlx_cpu_libs_next_to_mlx(tmp_path: Path) -> None:
    (tmp_path / "mlx").mkdir()
    (tmp_path / "mlx_cpu.libs").mkdir()
    (tmp_path / "mlx_cpu.libs" / "libblas-bd8a282c.so.3.10.0").write_bytes(b"")
    assert accel.reference_blas([str(tmp_path)]) == tmp_path / "mlx_cpu.libs" / "libblas-bd8a282c.so.3.10.0"


def test_no_reference_blas_without_mlx_cpu_libs(tmp_path: Path) -> None:
    (tmp_path / "mlx").mkdir()
    assert accel.reference_blas([str(tmp_path)]) is None


@linux_mlx_cpu
def test_bundled_reference_blas_exports_every_symbol_mlx_calls() -> None:
    assert accel.missing_symbols(accel.reference_blas()) == []


@linux_mlx_cpu
def test_a_library_without_blas_symbols_is_rejected_naming_them() -> None:
    libmlx = accel.reference_blas().parent.parent / "mlx" / "lib" / "libmlx.so"
    # libmlx.so references cblas_sgemm (undefined) without defining it.
    problem = accel.check_blas_library(libmlx)
    assert problem is not None and "does not export cblas_sgemm" in problem


def test_a_file_that_is_not_a_shared_library_is_rejected(tmp_path: Path) -> None:
    text = tmp_path / "libfake.so"
    text.write_text("not a library")
    assert accel.check_blas_library(text) == f"{text}: not an ELF shared library"
    assert accel.check_blas_library(tmp_path / "missing.so") == f"{tmp_path / 'missing.so'} does not exist"


def test_a_library_for_another_architecture_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if accel.reference_blas() is None:
        pytest.skip("needs a real ELF library: the mlx-cpu wheel's reference BLAS")
    monkeypatch.setattr(accel, "_machine", lambda: "aarch64" if os.uname().machine != "aarch64" else "x86_64")
    problem = accel.check_blas_library(accel.reference_blas())
    assert problem is not None and "built for another architecture" in problem


def test_explicit_library_setting_is_the_only_candidate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    found, source, problem = accel.find_optimized_blas({accel.LIB_ENV: str(tmp_path / "nowhere.so")})
    assert (found, source) == (None, None)
    assert problem == f"PUNIE_BLAS_LIB: {tmp_path / 'nowhere.so'} does not exist"


@linux_mlx_cpu
def test_explicit_library_setting_accepts_any_library_exporting_the_symbols() -> None:
    library = accel.reference_blas()
    assert accel.find_optimized_blas({accel.LIB_ENV: str(library)}) == (library, accel.LIB_ENV, None)


@linux_mlx_cpu
def test_system_paths_are_searched_in_order_skipping_missing_and_unusable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = tmp_path / "broken" / "libopenblas.so.0"
    broken.parent.mkdir()
    broken.write_text("truncated")
    good = tmp_path / "good" / "libopenblas.so.0"
    good.parent.mkdir()
    shutil.copy(accel.reference_blas(), good)
    monkeypatch.setattr(accel, "SYSTEM_BLAS_PATHS", (tmp_path / "absent.so", broken, good))
    assert accel.find_optimized_blas({}) == (good, "system", None)


def test_status_without_any_library_reports_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accel, "SYSTEM_BLAS_PATHS", ())
    monkeypatch.setattr(accel, "reference_blas", lambda: Path("/site/mlx_cpu.libs/libblas-x.so.3"))
    monkeypatch.setattr(sys, "platform", "linux")
    found = accel.blas_status({})
    assert found.missing and not found.should_preload


def test_status_on_macos_wants_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    found = accel.blas_status({})
    assert not found.wanted and not found.missing and not found.should_preload


def test_mlx_env_puts_the_library_first_and_keeps_other_preloads() -> None:
    env = accel.mlx_env({"PATH": "/bin", "LD_PRELOAD": "/opt/libtrace.so"}, status())
    assert env["LD_PRELOAD"] == "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0 /opt/libtrace.so"
    assert env["PATH"] == "/bin"


def test_preloading_cuts_openblas_idle_spin_unless_the_user_chose_one() -> None:
    assert accel.mlx_env({"PATH": "/bin"}, status())["OPENBLAS_THREAD_TIMEOUT"] == "4"
    assert accel.mlx_env({"OPENBLAS_THREAD_TIMEOUT": "28"}, status())["OPENBLAS_THREAD_TIMEOUT"] == "28"


def test_mlx_env_is_an_unchanged_copy_when_preloading_does_not_help() -> None:
    base = {"PATH": "/bin"}
    for case in (status(disabled=True), status(optimized=None), status(linux=False), status(reference_blas=None), status(already_preloaded=True)):
        env = accel.mlx_env(base, case)
        assert env == base and env is not base


def test_a_blas_already_in_ld_preload_counts_as_preloaded() -> None:
    library = Path("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0")
    assert accel._is_preloaded({"LD_PRELOAD": "/opt/a.so:/opt/mkl/libmkl_rt_blas.so"}, None)
    assert accel._is_preloaded({"LD_PRELOAD": str(library)}, library)
    assert not accel._is_preloaded({"LD_PRELOAD": "/opt/a.so"}, library)


def test_without_preload_removes_only_blas_libraries() -> None:
    env = accel.without_preload({"LD_PRELOAD": "/usr/lib/libopenblas.so.0:/opt/libtrace.so", "X": "1"})
    assert env == {"LD_PRELOAD": "/opt/libtrace.so", "X": "1"}
    assert "LD_PRELOAD" not in accel.without_preload({"LD_PRELOAD": "/usr/lib/libopenblas.so.0"})


def test_reexecuted_process_drops_its_own_preload_and_marker(monkeypatch: pytest.MonkeyPatch) -> None:
    library = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"
    monkeypatch.setenv("LD_PRELOAD", f"{library} /opt/libtrace.so")
    monkeypatch.setenv(accel.REEXEC_MARKER_ENV, library)
    monkeypatch.setattr(os, "execve", lambda *args: pytest.fail("re-executed twice"))
    monkeypatch.setattr(accel, "_reexecuted_with", None)
    accel.reexec_with_blas()
    assert os.environ["LD_PRELOAD"] == "/opt/libtrace.so"
    assert accel.REEXEC_MARKER_ENV not in os.environ
    # It runs with the optimized library: no notice, and no status read to decide that.
    monkeypatch.setattr(accel, "blas_status", lambda env=None: pytest.fail("status read"))
    assert accel.install_notice() is None


def test_off_switch_means_no_reexec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(accel.SWITCH_ENV, "0")
    monkeypatch.delenv(accel.REEXEC_MARKER_ENV, raising=False)
    monkeypatch.setattr(os, "execve", lambda *args: pytest.fail("re-executed although switched off"))
    accel.reexec_with_blas()


def test_notice_names_the_measured_factor_and_the_install_command() -> None:
    text = accel.install_notice(status(optimized=None))
    assert "training runs 4-8x faster" in text
    assert "sudo apt-get install libopenblas0-pthread" in text


def test_notice_says_why_an_explicit_library_was_not_used() -> None:
    text = accel.install_notice(status(optimized=None, problem="PUNIE_BLAS_LIB: /x does not exist"))
    assert "(PUNIE_BLAS_LIB: /x does not exist)" in text


def test_no_notice_when_a_library_is_found_switched_off_or_not_linux() -> None:
    assert accel.install_notice(status()) is None
    assert accel.install_notice(status(optimized=None, disabled=True)) is None
    assert accel.install_notice(status(optimized=None, linux=False)) is None


def test_reexec_uses_the_same_interpreter_arguments_and_a_marked_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    library = Path("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0")
    monkeypatch.delenv(accel.REEXEC_MARKER_ENV, raising=False)
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    monkeypatch.setattr(accel, "blas_status", lambda env=None: status(optimized=library))
    monkeypatch.setattr(sys, "orig_argv", ["python3", "-X", "dev", "-m", "punie_tui", "open", "a b"])
    calls = []
    monkeypatch.setattr(os, "execve", lambda path, argv, env: calls.append((path, argv, env)))
    accel.reexec_with_blas()
    [(path, argv, env)] = calls
    assert path == sys.executable
    assert argv == [sys.executable, "-X", "dev", "-m", "punie_tui", "open", "a b"]
    assert env["LD_PRELOAD"] == str(library) and env[accel.REEXEC_MARKER_ENV] == str(library)


def test_failing_exec_carries_on_without_the_preload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(accel.REEXEC_MARKER_ENV, raising=False)
    monkeypatch.setattr(accel, "blas_status", lambda env=None: status())

    def refuse(*args) -> None:
        raise PermissionError("exec refused")

    monkeypatch.setattr(os, "execve", refuse)
    accel.reexec_with_blas()
    assert accel.REEXEC_MARKER_ENV not in os.environ
