"""Shared fixtures: the official models from ../shared (never the network), a sim board on a pty."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MODELS_DIR = Path(os.environ.get("TINYPERF_MODELS", SHARED / "models")).resolve()  # CLI tests run elsewhere
TRANSCRIPT = REPO / "tests" / "fixtures" / "kws01-tflm-reference-api.json"  # copied from ../shared/transcripts
MODEL_FILES = {
    "kws01": "kws_ref_model.tflite",
    "vww01": "vww_96_int8.tflite",
    "ad01": "ad01_int8.tflite",
    "ic01": "pretrainedResnet_quant.tflite",
    "ic02": "pretrainedResnet_large_int8.tflite",
    "sww01": "str_ww_ref_model.tflite",
}


@pytest.fixture(autouse=True)
def _offline_model_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Models come from ../shared/models; the cache and the results store are temporary, so tests never
    share state (or write into the user's own store)."""
    if not (MODELS_DIR / MODEL_FILES["kws01"]).is_file():
        pytest.fail(f"official models not found in {MODELS_DIR}: set TINYPERF_MODELS to a folder holding them")
    monkeypatch.setenv("TINYPERF_MODELS", str(MODELS_DIR))
    monkeypatch.setenv("TINYPERF_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("TINYPERF_STORE", str(tmp_path_factory.mktemp("store") / "results.sqlite"))


def model_path(benchmark: str) -> Path:
    return MODELS_DIR / MODEL_FILES[benchmark]


def transcript() -> list[tuple[str, str]]:
    return [(d, text) for d, text in json.loads(TRANSCRIPT.read_text())]


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real console entry point in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "tinyperf.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=os.environ.copy())


@pytest.fixture
def sim_kws():
    from tinyperf.sim.launcher import start_sim_board

    # the transcript's firmware prints '%0.3f' (not the KWS reference submission's truncation)
    with start_sim_board("sim-nucleo-l4r5zi", "kws01", model_path("kws01"), results_format="printf3") as sim:
        yield sim
