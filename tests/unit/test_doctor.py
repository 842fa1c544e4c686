"""The doctor's checks that need no MLX: HF cache resolution, problems and their fixes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from punie_tui.core import doctor
from punie_tui.core.accel import BlasStatus

STATUS = BlasStatus(
    linux=True,
    reference_blas=Path("/site/mlx_cpu.libs/libblas-x.so.3"),
    optimized=None,
    source=None,
    problem=None,
    disabled=False,
    already_preloaded=False,
)
MLX_OK = {"device": "cpu", "blas": "/site/mlx_cpu.libs/libblas-x.so.3", "blas_kind": "reference", "gflops": 2.7, "error": None}
CACHE_OK = {"path": "/c/hub", "source": "default", "exists": True}


@pytest.mark.parametrize(
    ("env", "source"),
    [
        ({"HF_HUB_CACHE": "/a/hub", "HF_HOME": "/b"}, "HF_HUB_CACHE"),
        ({"HF_HOME": "/b"}, "HF_HOME"),
        ({"XDG_CACHE_HOME": "/x"}, "XDG_CACHE_HOME"),
        ({}, "default"),
    ],
)
def test_hf_cache_resolves_like_huggingface_hub(env: dict[str, str], source: str) -> None:
    clean = {"PATH": "/usr/bin:/bin", "HOME": "/home/u", **env}
    expected = subprocess.run(
        [sys.executable, "-c", "import huggingface_hub.constants as c; print(c.HF_HUB_CACHE)"],
        env=clean, capture_output=True, text=True, check=True,
    ).stdout.strip()
    found = doctor.hf_cache(clean)
    assert (found["path"], found["source"]) == (expected, source)


def test_missing_library_is_a_problem_whose_fix_is_the_install_command() -> None:
    problems = doctor.find_problems(STATUS, MLX_OK, CACHE_OK)
    assert [(p.problem, p.fix) for p in problems] == [
        ("MLX uses the slow reference BLAS (2.7 GFLOPS) and no optimized BLAS was found", "sudo apt-get install libopenblas0-pthread")
    ]


def test_switched_off_preload_is_a_problem_whose_fix_is_to_unset_the_switch() -> None:
    status = STATUS._replace(optimized=Path("/usr/lib/libopenblas.so.0"), disabled=True)
    assert [p.fix for p in doctor.find_problems(status, MLX_OK, CACHE_OK)] == ["unset PUNIE_BLAS_PRELOAD"]


def test_preload_that_did_not_take_effect_is_a_problem() -> None:
    status = STATUS._replace(optimized=Path("/usr/lib/libopenblas.so.0"))
    problems = doctor.find_problems(status, MLX_OK, CACHE_OK)
    assert len(problems) == 1 and "still uses the reference BLAS" in problems[0].problem


def test_mlx_that_does_not_run_is_a_problem() -> None:
    failed = {"device": None, "blas": None, "blas_kind": None, "gflops": None, "error": "ImportError: libmlx.so"}
    problems = doctor.find_problems(STATUS._replace(reference_blas=None), failed, CACHE_OK)
    assert [p.problem for p in problems] == ["MLX does not run: ImportError: libmlx.so"]


@pytest.fixture()
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_demo_model_is_not_built_in_a_fresh_user_folder(fresh_cache: Path) -> None:
    assert doctor.demo_model_state()["state"] == "not built"


def test_demo_model_is_built_once_its_cache_folder_is_complete(fresh_cache: Path) -> None:
    from punie_tui.core.demo_model import WEIGHTS_FILE, demo_model_cache_dir

    folder = demo_model_cache_dir()
    assert doctor.demo_model_state() == {"state": "not built", "path": str(folder)}
    folder.mkdir(parents=True)
    for name in ("config.json", "tokenizer.json", WEIGHTS_FILE):
        (folder / name).write_text("{}")
    assert doctor.demo_model_state() == {"state": "built", "path": str(folder)}
